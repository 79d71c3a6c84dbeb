//! The lanes (one single-writer ring per worker; every worker reads every lane), from the
//! `chain` crate: the medium the progress adapter's intra-process leg is to use.
//!
//! As for the chain, a send copies the worker's consolidated batch into the endpoint's
//! reusable [`Batch`] scratch buffer (`extend_sorted`) and hands it to
//! `LaneEndpoint::send_from`, which moves it into the lane's next slot and hands back the
//! cleared buffer of the atom it overwrites, so sends allocate nothing once the ring has gone
//! round (unless a reader lags a whole ring behind: then the send first drains that reader's
//! unread atoms of its lane into the reader's backlog, cloning their updates). A receive folds
//! every lane's new atoms, and the backlog, into the endpoint's own [`Batch`] under the
//! endpoint's lock (where a +1 and its -1 from another lane cancel), then moves its updates into
//! the reader's accumulator, counting it as one atom as the chain's receive does.

use chain::{Batch, LaneEndpoint, Lanes};

use crate::acc::Acc;
use crate::key::Key;
use crate::media::chain::hand_over;
use crate::medium::{Endpoint, Folded, Medium};

/// Slots in each worker's lane: a reader more than this many atoms behind on a lane has that
/// lane's unread atoms drained into its backlog by the lane's writer. At most `LANE_SLOTS` atoms
/// per lane plus one backlog per reader are live (the report's backlog bound, `LANE_SLOTS * N +
/// N`); 8 is what the pingpong example runs the lanes with.
pub const LANE_SLOTS: usize = 8;

/// One lane per worker, [`LANE_SLOTS`] atoms each.
#[derive(Debug)]
pub struct LanesMedium<K: Key> {
    /// A handle kept to inspect the lanes.
    lanes: Lanes<Batch<K>>,
}

/// A worker's lanes handle: the writer of its lane and a reader of all lanes.
#[derive(Debug)]
pub struct LanesEndpoint<K: Key> {
    /// This worker's endpoint.
    endpoint: LaneEndpoint<Batch<K>>,
    /// Reused send buffer.
    scratch: Batch<K>,
    /// Reused receive buffer.
    received: Batch<K>,
}

impl<K: Key> Medium<K> for LanesMedium<K> {
    const NAME: &'static str = "lanes";
    type Endpoint = LanesEndpoint<K>;

    fn build(workers: usize) -> (Self, Vec<Self::Endpoint>) {
        let (lanes, endpoints) = Lanes::new(workers, LANE_SLOTS);
        let endpoints = endpoints
            .into_iter()
            .map(|endpoint| LanesEndpoint {
                endpoint,
                scratch: Batch::new(),
                received: Batch::new(),
            })
            .collect();
        (LanesMedium { lanes }, endpoints)
    }

    /// Atoms some reader has yet to fold, over all lanes, plus non-empty backlogs.
    fn live_nodes(&self) -> usize {
        self.lanes.stats().live_atoms
    }
}

impl<K: Key> Endpoint<K> for LanesEndpoint<K> {
    fn send(&mut self, batch: &mut Vec<(K, i64)>) {
        self.scratch.extend_sorted(batch.drain(..));
        self.endpoint.send_from(&mut self.scratch);
    }

    fn recv(&mut self, acc: &mut Acc<K>) -> Folded {
        self.endpoint.recv(&mut self.received);
        hand_over(&mut self.received, acc)
    }
}

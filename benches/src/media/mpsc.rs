//! The MPSC baseline, mirroring timely 0.32's intra-process progress leg.
//!
//! timely's `Progcaster` pushes each batch through a `Broadcaster`: a defensive clone to
//! every pusher after the first, the batch itself to the first; one channel per
//! receiving worker; the receiver pulls every message and drains it into its
//! `ChangeBatch`. The batch buffer is moved away, so the sender starts a fresh one.
//! Here the channels are crossbeam's unbounded channels (std's mpsc, which timely's
//! typed process allocator uses, is the same algorithm).

use crossbeam_channel::{unbounded, Receiver, Sender};

use crate::acc::Acc;
use crate::key::Key;
use crate::medium::{Endpoint, Folded, Medium};

/// A batch in flight.
type Msg<K> = Vec<(K, i64)>;

/// The MPSC medium: one unbounded channel per reader.
#[derive(Debug)]
pub struct Mpsc<K> {
    /// A sender per reader, kept to count queued messages.
    senders: Vec<Sender<Msg<K>>>,
}

/// A worker's MPSC handle.
#[derive(Debug)]
pub struct MpscEndpoint<K> {
    /// This worker's index (its own channel).
    index: usize,
    /// A sender to every worker's channel.
    senders: Vec<Sender<Msg<K>>>,
    /// This worker's channel.
    receiver: Receiver<Msg<K>>,
}

impl<K: Key> Medium<K> for Mpsc<K> {
    const NAME: &'static str = "mpsc";
    type Endpoint = MpscEndpoint<K>;

    fn build(workers: usize) -> (Self, Vec<Self::Endpoint>) {
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..workers).map(|_| unbounded()).unzip();
        let endpoints = receivers
            .into_iter()
            .enumerate()
            .map(|(index, receiver)| MpscEndpoint {
                index,
                senders: senders.clone(),
                receiver,
            })
            .collect();
        (Mpsc { senders }, endpoints)
    }

    /// Messages queued in all channels.
    fn live_nodes(&self) -> usize {
        self.senders.iter().map(|s| s.len()).sum()
    }
}

impl<K: Key> Endpoint<K> for MpscEndpoint<K> {
    fn send(&mut self, batch: &mut Vec<(K, i64)>) {
        let cap = batch.capacity();
        for (i, s) in self.senders.iter().enumerate() {
            if i != self.index {
                s.send(batch.clone()).expect("receiver alive");
            }
        }
        // The original goes to our own channel; like timely, we start a fresh buffer.
        let own = std::mem::replace(batch, Vec::with_capacity(cap));
        self.senders[self.index].send(own).expect("receiver alive");
    }

    fn recv(&mut self, acc: &mut Acc<K>) -> Folded {
        let mut f = Folded::default();
        for mut msg in self.receiver.try_iter() {
            f.atoms += 1;
            f.updates += msg.len() as u64;
            acc.extend(msg.drain(..));
        }
        f.scanned = f.updates;
        f
    }
}

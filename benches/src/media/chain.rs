//! The chain (one shared chain; every worker writes and reads) and the mesh (one chain
//! per writer; readers sweep all), both from the `chain` crate.
//!
//! A send copies the worker's consolidated batch into the endpoint's reusable [`Batch`]
//! scratch buffer without sorting it again (`extend_sorted`, as the progress adapter's
//! `send_consolidated` does with timely's compacted batches), and hands it to
//! `Chain::send_from`, which keeps it (merging in place) or swaps in a spare buffer
//! (appending), so sends allocate nothing once warm. A receive folds what is new into the
//! endpoint's own [`Batch`] under the chain's lock (`Reader::recv`: one merged atom per
//! receive) and then moves its updates into the reader's accumulator (readers share atoms, so
//! the fold clones each update once).

use chain::{Batch, Chain, Mesh, MeshReader, Reader};

use crate::acc::Acc;
use crate::key::Key;
use crate::medium::{Endpoint, Folded, Medium};

/// One shared chain of consolidated batches.
#[derive(Debug)]
pub struct ChainMedium<K: Key> {
    /// A handle kept to inspect the chain.
    chain: Chain<Batch<K>>,
}

/// A worker's chain handle: a writer handle and its reader.
#[derive(Debug)]
pub struct ChainEndpoint<K: Key> {
    /// Writer handle (a clone of the one chain).
    chain: Chain<Batch<K>>,
    /// This worker's reader.
    reader: Reader<Batch<K>>,
    /// Reused send buffer.
    scratch: Batch<K>,
    /// Reused receive buffer.
    received: Batch<K>,
}

impl<K: Key> Medium<K> for ChainMedium<K> {
    const NAME: &'static str = "chain";
    type Endpoint = ChainEndpoint<K>;

    fn build(workers: usize) -> (Self, Vec<Self::Endpoint>) {
        let (chain, readers) = Chain::with_readers(workers);
        let endpoints = readers
            .into_iter()
            .map(|reader| ChainEndpoint {
                chain: chain.clone(),
                reader,
                scratch: Batch::new(),
                received: Batch::new(),
            })
            .collect();
        (ChainMedium { chain }, endpoints)
    }

    /// The chain's live nodes.
    fn live_nodes(&self) -> usize {
        self.chain.live_nodes()
    }
}

/// Moves what a receive folded into `received` on to `acc`, counting it as one atom.
pub(super) fn hand_over<K: Key>(received: &mut Batch<K>, acc: &mut Acc<K>) -> Folded {
    let updates = received.len() as u64;
    let atoms = u64::from(updates > 0);
    acc.extend(received.drain());
    Folded {
        atoms,
        updates,
        scanned: updates,
    }
}

impl<K: Key> Endpoint<K> for ChainEndpoint<K> {
    fn send(&mut self, batch: &mut Vec<(K, i64)>) {
        self.scratch.extend_sorted(batch.drain(..));
        self.chain.send_from(&mut self.scratch);
    }

    fn recv(&mut self, acc: &mut Acc<K>) -> Folded {
        self.reader.recv(&mut self.received);
        hand_over(&mut self.received, acc)
    }
}

/// One chain per writer; every reader sweeps every chain.
#[derive(Debug)]
pub struct MeshMedium<K: Key> {
    /// Every writer's chain, kept to inspect them.
    chains: Vec<Chain<Batch<K>>>,
}

/// A worker's mesh handle: its own chain and a reader of all chains.
#[derive(Debug)]
pub struct MeshEndpoint<K: Key> {
    /// This worker's chain.
    chain: Chain<Batch<K>>,
    /// This worker's sweeping reader.
    reader: MeshReader<Batch<K>>,
    /// Reused send buffer.
    scratch: Batch<K>,
    /// Reused receive buffer.
    received: Batch<K>,
}

impl<K: Key> Medium<K> for MeshMedium<K> {
    const NAME: &'static str = "mesh";
    type Endpoint = MeshEndpoint<K>;

    fn build(workers: usize) -> (Self, Vec<Self::Endpoint>) {
        let (chains, readers) = Mesh::new(workers, workers);
        let endpoints = chains
            .iter()
            .cloned()
            .zip(readers)
            .map(|(chain, reader)| MeshEndpoint {
                chain,
                reader,
                scratch: Batch::new(),
                received: Batch::new(),
            })
            .collect();
        (MeshMedium { chains }, endpoints)
    }

    /// Live nodes summed over all chains.
    fn live_nodes(&self) -> usize {
        self.chains.iter().map(|c| c.live_nodes()).sum()
    }
}

impl<K: Key> Endpoint<K> for MeshEndpoint<K> {
    fn send(&mut self, batch: &mut Vec<(K, i64)>) {
        self.scratch.extend_sorted(batch.drain(..));
        self.chain.send_from(&mut self.scratch);
    }

    fn recv(&mut self, acc: &mut Acc<K>) -> Folded {
        self.reader.recv(&mut self.received);
        hand_over(&mut self.received, acc)
    }
}

//! The chain (one shared chain; every worker writes and reads) and the mesh (one chain
//! per writer; readers sweep all), both from the `chain` crate.
//!
//! A send copies the worker's consolidated batch into the endpoint's reusable [`Batch`]
//! scratch buffer without sorting it again (`extend_sorted`, as the progress adapter's
//! `send_consolidated` does with timely's compacted batches), and hands it to
//! `Chain::send_from`, which keeps it (merging in place) or swaps in a spare buffer
//! (appending), so sends allocate nothing once warm. A receive takes what is new with
//! `recv_with`, which merges the new atoms into one under the chain's lock and hands it over
//! after the unlock (so a receive counts one atom), and clones each update into the reader's
//! accumulator (readers share atoms, so they cannot take them).

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
            })
            .collect();
        (ChainMedium { chain }, endpoints)
    }

    /// The chain's live nodes.
    fn live_nodes(&self) -> usize {
        self.chain.live_nodes()
    }
}

/// Folds atoms handed out by `recv_with` into `acc`, counting them.
fn fold_into<'a, K: Key>(acc: &'a mut Acc<K>, f: &'a mut Folded) -> impl FnMut(&Batch<K>) + 'a {
    move |atom: &Batch<K>| {
        f.atoms += 1;
        f.updates += atom.len() as u64;
        acc.extend(atom.updates().iter().cloned());
    }
}

impl<K: Key> Endpoint<K> for ChainEndpoint<K> {
    fn send(&mut self, batch: &mut Vec<(K, i64)>) {
        self.scratch.extend_sorted(batch.drain(..));
        self.chain.send_from(&mut self.scratch);
    }

    fn recv(&mut self, acc: &mut Acc<K>) -> Folded {
        let mut f = Folded::default();
        self.reader.recv_with(fold_into(acc, &mut f));
        f.scanned = f.updates;
        f
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
        let mut f = Folded::default();
        self.reader.recv_with(fold_into(acc, &mut f));
        f.scanned = f.updates;
        f
    }
}

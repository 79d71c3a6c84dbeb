//! The media under test, behind one small trait so each scenario is written once.

use crate::acc::Acc;
use crate::key::Key;

/// Work a reader did in one receive.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    /// Atoms (messages, nodes, cells) folded.
    pub atoms: u64,
    /// Updates folded into the accumulator.
    pub updates: u64,
    /// Entries the reader examined to find them (equals `updates` except for the
    /// ledger, which scans its change log or diffs its snapshot).
    pub scanned: u64,
}

impl std::ops::AddAssign for Folded {
    fn add_assign(&mut self, o: Folded) {
        self.atoms += o.atoms;
        self.updates += o.updates;
        self.scanned += o.scanned;
    }
}

/// One worker's handle on a medium: it both writes and reads.
pub trait Endpoint<K>: Send {
    /// Sends a consolidated batch, draining `batch` (its buffer may be kept or replaced).
    fn send(&mut self, batch: &mut Vec<(K, i64)>);
    /// Folds every change this worker has not yet seen into `acc`.
    fn recv(&mut self, acc: &mut Acc<K>) -> Folded;
}

/// A progress exchange medium among `workers` threads.
pub trait Medium<K: Key>: Sized + Send + Sync {
    /// The medium's name in reports.
    const NAME: &'static str;
    /// A worker's handle.
    type Endpoint: Endpoint<K>;
    /// Builds the medium and one endpoint per worker; every endpoint's reader is owed
    /// every batch sent from now on.
    fn build(workers: usize) -> (Self, Vec<Self::Endpoint>);
    /// Units of storage holding state not yet delivered to every reader (see the
    /// report for each medium's definition).
    fn live_nodes(&self) -> usize;
}

/// The media the runner knows, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MediumKind {
    /// One shared chain: all workers write and read.
    Chain,
    /// One single-writer lane per worker; readers read all lanes.
    Lanes,
    /// One chain per writer; readers sweep all.
    Mesh,
    /// Total merge into one shared consolidated map.
    Ledger,
    /// Per-reader in-place accumulators.
    Cells,
    /// timely 0.32's intra-process leg: one channel per reader, batches cloned.
    Mpsc,
}

impl MediumKind {
    /// Every medium, MPSC (the baseline) last.
    pub const ALL: [MediumKind; 6] = [
        MediumKind::Chain,
        MediumKind::Lanes,
        MediumKind::Mesh,
        MediumKind::Ledger,
        MediumKind::Cells,
        MediumKind::Mpsc,
    ];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            MediumKind::Chain => "chain",
            MediumKind::Lanes => "lanes",
            MediumKind::Mesh => "mesh",
            MediumKind::Ledger => "ledger",
            MediumKind::Cells => "cells",
            MediumKind::Mpsc => "mpsc",
        }
    }

    /// Parses a name produced by [`MediumKind::name`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }
}

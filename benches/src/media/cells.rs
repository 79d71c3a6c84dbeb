//! Cells: per-reader in-place accumulators.
//!
//! Every send merges the batch into every reader's cell (a clone for each other reader,
//! the batch itself for the sender's own cell); a reader takes its cell whole. State is
//! always consolidated per reader, so a laggard's cell holds exactly its net change;
//! the price is N lock acquisitions and N - 1 clones per send.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_utils::CachePadded;

use crate::acc::Acc;
use crate::key::Key;
use crate::medium::{Endpoint, Folded, Medium};

/// One reader's cell.
#[derive(Debug)]
struct Cell<K> {
    /// Pending changes for the reader.
    pending: Mutex<Acc<K>>,
    /// True when `pending` may be non-empty; lets an idle `recv` skip the lock.
    dirty: AtomicBool,
}

/// The cells medium.
#[derive(Debug)]
pub struct Cells<K> {
    /// One cell per reader.
    cells: Arc<Vec<CachePadded<Cell<K>>>>,
}

/// A worker's cells handle.
#[derive(Debug)]
pub struct CellsEndpoint<K> {
    /// This worker's index (its own cell).
    index: usize,
    /// Every cell.
    cells: Arc<Vec<CachePadded<Cell<K>>>>,
    /// An empty buffer swapped with the cell on `recv`, so allocations are recycled.
    spare: Vec<(K, i64)>,
}

impl<K: Key> Medium<K> for Cells<K> {
    const NAME: &'static str = "cells";
    type Endpoint = CellsEndpoint<K>;

    fn build(workers: usize) -> (Self, Vec<Self::Endpoint>) {
        let cells: Arc<Vec<_>> = Arc::new(
            (0..workers)
                .map(|_| {
                    CachePadded::new(Cell {
                        pending: Mutex::new(Acc::new()),
                        dirty: AtomicBool::new(false),
                    })
                })
                .collect(),
        );
        let endpoints = (0..workers)
            .map(|index| CellsEndpoint {
                index,
                cells: Arc::clone(&cells),
                spare: Vec::new(),
            })
            .collect();
        (Cells { cells }, endpoints)
    }

    /// Non-empty cells.
    fn live_nodes(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| c.pending.lock().expect("cell lock").raw_len() > 0)
            .count()
    }
}

impl<K: Key> Endpoint<K> for CellsEndpoint<K> {
    fn send(&mut self, batch: &mut Vec<(K, i64)>) {
        for (i, cell) in self.cells.iter().enumerate() {
            if i != self.index {
                let mut p = cell.pending.lock().expect("cell lock");
                p.extend(batch.iter().cloned());
                // Release: pairs with the Acquire swap in `recv`; set under the lock, so
                // a reader that clears it afterwards also sees our updates.
                cell.dirty.store(true, Ordering::Release);
            }
        }
        let own = &self.cells[self.index];
        let mut p = own.pending.lock().expect("cell lock");
        p.extend(batch.drain(..));
        // Release: as above.
        own.dirty.store(true, Ordering::Release);
    }

    fn recv(&mut self, acc: &mut Acc<K>) -> Folded {
        let cell = &self.cells[self.index];
        // Relaxed peek: a stale `false` only delays us to the next recv, and a `true`
        // is confirmed under the lock.
        if !cell.dirty.load(Ordering::Relaxed) {
            return Folded::default();
        }
        {
            let mut p = cell.pending.lock().expect("cell lock");
            // Cleared under the lock: a sender's next store happens after we unlock.
            cell.dirty.store(false, Ordering::Relaxed);
            p.compact();
            p.swap_out(&mut self.spare);
        }
        let n = self.spare.len() as u64;
        acc.extend(self.spare.drain(..));
        Folded {
            atoms: 1,
            updates: n,
            scanned: n,
        }
    }
}

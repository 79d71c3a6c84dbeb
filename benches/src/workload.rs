//! Deterministic, seeded workloads shaped like timely progress traffic.
//!
//! Worker `w` in round `r` sends one small batch: `batch` fresh updates `(t, +1)` at
//! timestamps that increase with `r` (and are unique across workers), plus `(t', -1)`
//! for each update of its predecessor worker `(w + N - 1) % N` from round `r - 1` that
//! was chosen for cancellation. The choice is a seeded hash of `t`, so a fraction
//! `cancel` of all updates is cancelled, by another worker when `N > 1`: "+1 at t from
//! one worker, -1 at t from another". In the last round each worker also cancels its
//! predecessor's updates of that same round, so with `cancel = 1` the net is exactly zero.

use std::collections::BTreeMap;

use crate::acc::consolidate;
use crate::key::Key;

/// A workload: who sends what, in which round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Workload {
    /// Seed of the cancellation choice.
    pub seed: u64,
    /// Number of worker threads (writers and readers).
    pub workers: usize,
    /// Rounds; each worker sends one batch per round.
    pub rounds: usize,
    /// Fresh updates per batch.
    pub batch: usize,
    /// Fraction of updates cancelled later by another worker, in `0.0..=1.0`.
    pub cancel: f64,
}

/// SplitMix64: a fast, well-mixed hash of one word.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Workload {
    /// Logical time of fresh update `j` of worker `w` in round `r`.
    fn ts(&self, r: usize, w: usize, j: usize) -> u64 {
        ((r * self.workers + w) * self.batch + j) as u64
    }

    /// Whether the update at time `t` is cancelled later.
    pub fn is_cancelled(&self, t: u64) -> bool {
        if self.cancel >= 1.0 {
            true
        } else if self.cancel <= 0.0 {
            false
        } else {
            let u = (splitmix64(self.seed ^ splitmix64(t)) >> 11) as f64 / (1u64 << 53) as f64;
            u < self.cancel
        }
    }

    /// Pushes the cancellations worker `w` owes for its predecessor's round `r`.
    fn push_cancels<K: Key>(&self, w: usize, r: usize, out: &mut Vec<(K, i64)>) {
        let p = (w + self.workers - 1) % self.workers;
        for j in 0..self.batch {
            let t = self.ts(r, p, j);
            if self.is_cancelled(t) {
                out.push((K::from_ts(t), -1));
            }
        }
    }

    /// Fills `out` (cleared first) with worker `w`'s consolidated batch for round `r`.
    ///
    /// # Examples
    /// ```
    /// let wl = benches::Workload { seed: 1, workers: 2, rounds: 3, batch: 1, cancel: 1.0 };
    /// let mut b = Vec::new();
    /// wl.fill::<u64>(1, 1, &mut b);
    /// // worker 1 cancels worker 0's update of round 0 (t = 0) and adds its own (t = 3).
    /// assert_eq!(b, vec![(0, -1), (3, 1)]);
    /// ```
    pub fn fill<K: Key>(&self, w: usize, r: usize, out: &mut Vec<(K, i64)>) {
        out.clear();
        if r > 0 {
            self.push_cancels(w, r - 1, out);
        }
        for j in 0..self.batch {
            out.push((K::from_ts(self.ts(r, w, j)), 1));
        }
        if r + 1 == self.rounds {
            self.push_cancels(w, r, out);
        }
        consolidate(out);
    }

    /// Calls `f` with every batch of every worker, round by round (one reused buffer).
    fn for_each_batch<K: Key>(&self, mut f: impl FnMut(&mut Vec<(K, i64)>)) {
        let mut buf = Vec::new();
        for r in 0..self.rounds {
            for w in 0..self.workers {
                self.fill(w, r, &mut buf);
                f(&mut buf);
            }
        }
    }

    /// Total number of updates in all batches (after per-batch consolidation).
    pub fn updates_sent(&self) -> u64 {
        let mut n = 0;
        self.for_each_batch::<u64>(|batch| n += batch.len() as u64);
        n
    }

    /// The net total of every batch of every worker: what each reader is owed.
    ///
    /// Computed by folding every generated batch into an ordered map, independently of
    /// any medium, so it is a reference model for the answer check.
    pub fn expected<K: Key>(&self) -> Vec<(K, i64)> {
        let mut total = BTreeMap::<K, i64>::new();
        self.for_each_batch::<K>(|batch| {
            for (k, d) in batch.drain(..) {
                *total.entry(k).or_default() += d;
            }
        });
        total.retain(|_, d| *d != 0);
        total.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::BoxKey;

    fn wl(workers: usize, rounds: usize, cancel: f64) -> Workload {
        Workload {
            seed: 42,
            workers,
            rounds,
            batch: 2,
            cancel,
        }
    }

    #[test]
    fn full_cancellation_nets_to_zero() {
        for n in [1, 2, 3, 8] {
            assert!(wl(n, 50, 1.0).expected::<u64>().is_empty(), "n = {n}");
            assert!(wl(n, 50, 1.0).expected::<BoxKey>().is_empty(), "n = {n}");
        }
    }

    #[test]
    fn no_cancellation_keeps_everything() {
        let w = wl(4, 25, 0.0);
        let e = w.expected::<u64>();
        assert_eq!(e.len(), 4 * 25 * 2);
        assert!(e.iter().all(|(_, d)| *d == 1));
        assert_eq!(w.updates_sent(), 200);
    }

    #[test]
    fn partial_cancellation_is_near_the_fraction() {
        let w = wl(4, 2500, 0.5);
        let kept = w.expected::<u64>().len() as f64 / (4.0 * 2500.0 * 2.0);
        assert!((0.45..0.55).contains(&kept), "kept {kept}");
        assert!(w.expected::<u64>().iter().all(|(_, d)| *d == 1));
    }

    #[test]
    fn cancellations_come_from_another_worker() {
        let w = wl(3, 10, 1.0);
        let mut b = Vec::<(u64, i64)>::new();
        for r in 0..10 {
            for wk in 0..3 {
                w.fill(wk, r, &mut b);
                for (t, d) in &b {
                    let owner = (*t as usize / 2) % 3;
                    if *d < 0 {
                        assert_ne!(owner, wk, "worker {wk} cancelled its own t = {t}");
                    } else {
                        assert_eq!(owner, wk);
                    }
                }
            }
        }
    }

    #[test]
    fn deterministic_per_seed() {
        let a = wl(2, 100, 0.3).expected::<u64>();
        let b = wl(2, 100, 0.3).expected::<u64>();
        let mut c = wl(2, 100, 0.3);
        c.seed = 7;
        assert_eq!(a, b);
        assert_ne!(a, c.expected::<u64>());
    }
}

//! A reader's accumulator: a lazily consolidated list of `(key, diff)` updates.
//!
//! Shaped like timely's `ChangeBatch`: updates are pushed, and the list is consolidated
//! (sorted, equal keys added, zeros dropped) once it has doubled since the last
//! consolidation, so folding costs amortized O(log n) per update whatever the medium.

/// Sorts `updates` by key, adds the diffs of equal keys and drops zero diffs, in place.
///
/// # Examples
/// ```
/// let mut v = vec![(3u64, 1), (1, 2), (3, -1), (2, 5), (1, 1)];
/// benches::consolidate(&mut v);
/// assert_eq!(v, vec![(1, 3), (2, 5)]);
/// ```
pub fn consolidate<K: Ord>(updates: &mut Vec<(K, i64)>) {
    if updates.len() <= 1 {
        updates.retain(|(_, d)| *d != 0);
        return;
    }
    updates.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // `w` is the length of the consolidated prefix; the group at `w - 1` is still open.
    let mut w = 0;
    for r in 0..updates.len() {
        if w > 0 && updates[w - 1].0 == updates[r].0 {
            let d = updates[r].1;
            updates[w - 1].1 += d;
        } else {
            // The previous group is complete: overwrite it if it summed to zero.
            if w > 0 && updates[w - 1].1 == 0 {
                w -= 1;
            }
            updates.swap(w, r);
            w += 1;
        }
    }
    if w > 0 && updates[w - 1].1 == 0 {
        w -= 1;
    }
    updates.truncate(w);
}

/// A lazily consolidated accumulator of `(key, diff)` updates.
///
/// # Examples
/// ```
/// let mut acc = benches::Acc::new();
/// acc.update(7u64, 1);
/// acc.extend([(7, -1), (9, 2)]);
/// assert_eq!(acc.sorted(), &[(9, 2)]);
/// ```
#[derive(Debug, Clone)]
pub struct Acc<K> {
    /// Updates; the first `clean` are consolidated.
    updates: Vec<(K, i64)>,
    /// Length of the consolidated prefix.
    clean: usize,
}

impl<K> Default for Acc<K> {
    fn default() -> Self {
        Acc {
            updates: Vec::new(),
            clean: 0,
        }
    }
}

impl<K: Ord> Acc<K> {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one update.
    pub fn update(&mut self, key: K, diff: i64) {
        self.updates.push((key, diff));
        self.maintain();
    }

    /// Adds many updates.
    pub fn extend<I: IntoIterator<Item = (K, i64)>>(&mut self, iter: I) {
        self.updates.extend(iter);
        self.maintain();
    }

    /// Consolidates once the list has doubled since the last consolidation.
    fn maintain(&mut self) {
        if self.updates.len() > 32 && self.updates.len() / 2 >= self.clean {
            self.compact();
        }
    }

    /// Consolidates all updates.
    pub fn compact(&mut self) {
        if self.clean < self.updates.len() {
            consolidate(&mut self.updates);
        }
        self.clean = self.updates.len();
    }

    /// The consolidated total.
    pub fn sorted(&mut self) -> &[(K, i64)] {
        self.compact();
        &self.updates
    }

    /// Swaps the contents out into `spare` (which must be empty), leaving this empty
    /// but with `spare`'s allocation, so that no allocation changes hands needlessly.
    pub fn swap_out(&mut self, spare: &mut Vec<(K, i64)>) {
        debug_assert!(spare.is_empty());
        std::mem::swap(&mut self.updates, spare);
        self.clean = 0;
    }

    /// Number of updates held, consolidated or not.
    pub fn raw_len(&self) -> usize {
        self.updates.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consolidate_table() {
        type Case = (Vec<(u64, i64)>, Vec<(u64, i64)>);
        let cases: Vec<Case> = vec![
            (vec![], vec![]),
            (vec![(1, 0)], vec![]),
            (vec![(1, 2)], vec![(1, 2)]),
            (vec![(1, 1), (1, -1)], vec![]),
            (vec![(2, 1), (1, 1), (2, -1)], vec![(1, 1)]),
            (vec![(1, 1), (1, -1), (2, 3)], vec![(2, 3)]),
            (vec![(1, 1), (2, 1), (2, -1), (3, 1), (3, -1)], vec![(1, 1)]),
            (
                vec![(5, 1), (4, 1), (3, 1), (5, 1)],
                vec![(3, 1), (4, 1), (5, 2)],
            ),
        ];
        for (input, want) in cases {
            let mut v = input.clone();
            consolidate(&mut v);
            assert_eq!(v, want, "consolidate({input:?})");
        }
    }

    #[test]
    fn acc_matches_model() {
        let mut acc = Acc::new();
        let mut model = std::collections::BTreeMap::<u64, i64>::new();
        let mut x = 1u64;
        for i in 0..5000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = (x >> 33) % 97;
            let d = if i % 3 == 0 { -1 } else { 1 };
            acc.update(k, d);
            *model.entry(k).or_default() += d;
        }
        model.retain(|_, d| *d != 0);
        let want: Vec<_> = model.into_iter().collect();
        assert_eq!(acc.sorted(), &want[..]);
    }
}

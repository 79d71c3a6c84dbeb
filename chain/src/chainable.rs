//! The atom contract ([`Chainable`]) and its implementations: integer sums and [`Batch`].

use std::cmp::Ordering;

/// An atom of a chain: an element of a commutative monoid.
///
/// A chain stores a sequence of atoms and is free to merge adjacent atoms at any time
/// (never to split one), so the only thing a reader may rely on is the merged value of
/// the atoms it folds. That is sound exactly when merging is a commutative monoid:
///
/// * **Identity**: `T::default()` is the identity; `a.merge_ref(&T::default())` leaves `a`
///   unchanged, and `is_empty` is true exactly for values equal to the identity.
/// * **Associativity**: merging `b` then `c` into `a` equals merging into `a` the result of
///   merging `c` into `b`.
/// * **Commutativity**: merging `b` into `a` equals merging `a` into `b`.
/// * **Agreement**: `merge_from` and `merge_ref` compute the same value; `merge_from` may
///   additionally steal `other`'s allocations, and must leave `other` empty.
///
/// Implementations should be cheap to merge in place: a writer merges its update into the
/// newest atom while holding that atom's lock, and a panic inside a merge poisons the
/// chain (every other thread then panics with a message naming the cause).
///
/// # Examples
///
/// ```
/// use chain::Chainable;
///
/// let mut a = 5i64;
/// let mut b = -2i64;
/// a.merge_from(&mut b);
/// assert_eq!((a, b), (3, 0));
/// a.merge_ref(&-3);
/// assert!(a.is_empty());
/// ```
pub trait Chainable: Default + Send + Sync {
    /// Merges `other` into `self`, leaving `other` equal to the identity.
    ///
    /// `other`'s allocations may be kept (by either side) for reuse.
    fn merge_from(&mut self, other: &mut Self);

    /// Merges a copy of `other` into `self`; `other` is unchanged. Readers fold with this.
    fn merge_ref(&mut self, other: &Self);

    /// True exactly when `self` equals the identity `Self::default()`.
    fn is_empty(&self) -> bool;

    /// Resets `self` to the identity. Implementations may keep allocations for reuse: the
    /// chain clears the atoms it retires and hands them back to writers as send buffers.
    fn clear(&mut self) {
        *self = Self::default();
    }
}

macro_rules! chainable_sum {
    ($($t:ty)*) => {$(
        /// Addition (wrapping, so the monoid laws hold for every value).
        impl Chainable for $t {
            #[inline]
            fn merge_from(&mut self, other: &mut Self) {
                *self = self.wrapping_add(std::mem::take(other));
            }
            #[inline]
            fn merge_ref(&mut self, other: &Self) {
                *self = self.wrapping_add(*other);
            }
            #[inline]
            fn is_empty(&self) -> bool {
                *self == 0
            }
        }
    )*};
}

chainable_sum!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize);

/// A consolidated batch of `(key, diff)` updates: the atom of progress traffic.
///
/// Invariant: updates are sorted by key, keys are unique, and no diff is zero. Merging adds
/// the diffs of equal keys and drops the keys whose diffs cancel, so a batch is the net
/// effect of everything merged into it. Diffs add with wrapping arithmetic.
///
/// Cost model: merging `m` updates into a batch of `n` costs `O(m log n)` comparisons, and
/// allocates nothing when every key is already present; `k` new keys are merged in place with
/// at most `n + k^2` moves (none when they all sort after the existing keys) and may grow the
/// buffer. A merge always lets the larger buffer absorb the smaller.
///
/// # Examples
///
/// ```
/// use chain::{Batch, Chainable};
///
/// let mut a: Batch<u64> = [(3, 1), (1, 1)].into_iter().collect();
/// let mut b: Batch<u64> = [(1, -1), (2, 5)].into_iter().collect();
/// a.merge_from(&mut b);
/// assert_eq!(a.updates(), &[(2, 5), (3, 1)]);
/// assert!(b.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Batch<K> {
    /// Sorted by key, unique keys, non-zero diffs.
    updates: Vec<(K, i64)>,
}

impl<K> Default for Batch<K> {
    fn default() -> Self {
        Batch {
            updates: Vec::new(),
        }
    }
}

impl<K: Ord> Batch<K> {
    /// An empty batch.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(chain::Batch::<u64>::new().updates().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `capacity` updates.
    ///
    /// # Examples
    ///
    /// ```
    /// let batch = chain::Batch::<u64>::with_capacity(8);
    /// assert_eq!(batch.len(), 0);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Batch {
            updates: Vec::with_capacity(capacity),
        }
    }

    /// Adds `diff` to `key`, keeping the batch consolidated.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = chain::Batch::new();
    /// batch.update("a", 2);
    /// batch.update("a", -2);
    /// assert_eq!(batch.len(), 0);
    /// ```
    pub fn update(&mut self, key: K, diff: i64) {
        match self.position(&key) {
            Ok(i) => {
                let sum = self.updates[i].1.wrapping_add(diff);
                if sum == 0 {
                    self.updates.remove(i);
                } else {
                    self.updates[i].1 = sum;
                }
            }
            Err(i) if diff != 0 => self.updates.insert(i, (key, diff)),
            Err(_) => {}
        }
    }

    /// Adds every update of `iter`, then consolidates once.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = chain::Batch::new();
    /// batch.extend([(2, 1), (1, 1), (2, -1)]);
    /// assert_eq!(batch.updates(), &[(1, 1)]);
    /// ```
    pub fn extend<I: IntoIterator<Item = (K, i64)>>(&mut self, iter: I) {
        self.updates.extend(iter);
        self.consolidate();
    }

    /// Appends updates that are already sorted, as a compacted timely `ChangeBatch` is:
    /// sorted by key, keys distinct and greater than every key already here. Zero diffs are
    /// dropped (a compacted `ChangeBatch` of one update may hold one). Skips the sort and
    /// fold that [`extend`](Self::extend) runs. The order is checked in debug builds only;
    /// in release builds input that breaks it breaks the batch's invariant.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = chain::Batch::new();
    /// batch.extend_sorted([(1u8, 2), (3, 0), (4, -1)]);
    /// assert_eq!(batch.updates(), &[(1, 2), (4, -1)]);
    /// ```
    pub fn extend_sorted<I: IntoIterator<Item = (K, i64)>>(&mut self, iter: I) {
        let start = self.updates.len();
        self.updates
            .extend(iter.into_iter().filter(|update| update.1 != 0));
        debug_assert!(
            self.updates[start.saturating_sub(1)..]
                .windows(2)
                .all(|pair| pair[0].0 < pair[1].0),
            "Batch::extend_sorted: the updates are not sorted by distinct keys"
        );
    }

    /// The updates, sorted by key, with unique keys and non-zero diffs.
    ///
    /// # Examples
    ///
    /// ```
    /// let batch: chain::Batch<u8> = [(1, 1)].into_iter().collect();
    /// assert_eq!(batch.updates(), &[(1, 1)]);
    /// ```
    pub fn updates(&self) -> &[(K, i64)] {
        &self.updates
    }

    /// The number of (distinct, non-zero) updates.
    ///
    /// # Examples
    ///
    /// ```
    /// let batch: chain::Batch<u8> = [(1, 1), (2, 0)].into_iter().collect();
    /// assert_eq!(batch.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.updates.len()
    }

    /// True if the batch holds no update (it is the identity).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch = chain::Batch::new();
    /// batch.update(1u8, 1);
    /// batch.update(1u8, -1);
    /// assert!(batch.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.updates.is_empty()
    }

    /// Removes every update, keeping the allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch: chain::Batch<u8> = [(1, 1)].into_iter().collect();
    /// batch.clear();
    /// assert_eq!(batch.len(), 0);
    /// ```
    pub fn clear(&mut self) {
        self.updates.clear();
    }

    /// Removes and yields every update in key order, keeping the allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut batch: chain::Batch<u8> = [(2, 1), (1, 1)].into_iter().collect();
    /// assert_eq!(batch.drain().collect::<Vec<_>>(), vec![(1, 1), (2, 1)]);
    /// assert_eq!(batch.len(), 0);
    /// ```
    pub fn drain(&mut self) -> std::vec::Drain<'_, (K, i64)> {
        self.updates.drain(..)
    }

    fn position(&self, key: &K) -> Result<usize, usize> {
        self.updates.binary_search_by(|(k, _)| k.cmp(key))
    }

    /// Restores the invariant after arbitrary pushes: sort, add equal keys, drop zeros.
    fn consolidate(&mut self) {
        self.updates.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept = 0;
        for index in 0..self.updates.len() {
            if kept > 0 && self.updates[kept - 1].0 == self.updates[index].0 {
                let diff = self.updates[index].1;
                self.updates[kept - 1].1 = self.updates[kept - 1].1.wrapping_add(diff);
            } else {
                if kept > 0 && self.updates[kept - 1].1 == 0 {
                    kept -= 1;
                }
                self.updates.swap(kept, index);
                kept += 1;
            }
        }
        if kept > 0 && self.updates[kept - 1].1 == 0 {
            kept -= 1;
        }
        self.updates.truncate(kept);
    }

    /// Merges updates known to have unique keys and non-zero diffs; `keyed` turns one into
    /// an owned update for appending. The fast path (every key present) never allocates.
    fn merge_unique<I>(&mut self, others: I, mut keyed: impl FnMut(I::Item) -> (K, i64))
    where
        I: IntoIterator,
        I::Item: KeyDiff<K>,
    {
        let present = self.updates.len();
        let (mut appended, mut cancelled) = (false, false);
        for other in others {
            let probe = self.updates[..present].binary_search_by(|(k, _)| k.cmp(other.key()));
            match probe {
                Ok(i) => {
                    let sum = self.updates[i].1.wrapping_add(other.diff());
                    self.updates[i].1 = sum;
                    cancelled |= sum == 0;
                }
                Err(_) => {
                    self.updates.push(keyed(other));
                    appended = true;
                }
            }
        }
        if appended {
            // The appended keys are sorted, unique and absent from the prefix.
            merge_sorted_tail(&mut self.updates, present);
        }
        if cancelled {
            self.updates.retain(|(_, diff)| *diff != 0);
        }
    }
}

/// Merges the sorted runs `updates[..split]` and `updates[split..]` (disjoint keys) in place.
///
/// Takes the tail's elements largest first, and rotates the prefix elements that belong after
/// each one into place behind it: every prefix element moves once, and a tail whose keys all
/// exceed the prefix's (new timestamps, the common case of progress traffic) moves nothing.
/// `O(n + k^2)` moves and `O(k log n)` comparisons for `k` tail elements; no allocation.
fn merge_sorted_tail<K: Ord>(updates: &mut [(K, i64)], split: usize) {
    let (mut prefix, mut tail) = (split, updates.len() - split);
    while tail > 0 && prefix > 0 {
        let last = prefix + tail - 1;
        let key = &updates[last].0;
        let position = updates[..prefix].partition_point(|(k, _)| k < key);
        // [..position] [position..prefix] [tail before last] [last] -> move the middle run
        // of prefix elements, all greater than `last`'s key, behind it.
        updates[position..=last].rotate_left(prefix - position);
        prefix = position;
        tail -= 1;
    }
}

/// Borrowed view of one update, so owned and borrowed merges share [`Batch::merge_unique`].
trait KeyDiff<K> {
    fn key(&self) -> &K;
    fn diff(&self) -> i64;
}

impl<K> KeyDiff<K> for (K, i64) {
    fn key(&self) -> &K {
        &self.0
    }
    fn diff(&self) -> i64 {
        self.1
    }
}

impl<K> KeyDiff<K> for &(K, i64) {
    fn key(&self) -> &K {
        &self.0
    }
    fn diff(&self) -> i64 {
        self.1
    }
}

impl<K: Ord> FromIterator<(K, i64)> for Batch<K> {
    fn from_iter<I: IntoIterator<Item = (K, i64)>>(iter: I) -> Self {
        let mut batch = Batch::new();
        batch.extend(iter);
        batch
    }
}

impl<K: Ord + Clone + Send + Sync> Chainable for Batch<K> {
    fn merge_from(&mut self, other: &mut Self) {
        if other.updates.len() > self.updates.len() {
            std::mem::swap(&mut self.updates, &mut other.updates);
        }
        if !other.updates.is_empty() {
            self.merge_unique(other.updates.drain(..), |update| update);
        }
    }

    fn merge_ref(&mut self, other: &Self) {
        self.merge_unique(other.updates.iter(), |(key, diff)| (key.clone(), *diff));
    }

    fn is_empty(&self) -> bool {
        self.updates.is_empty()
    }

    fn clear(&mut self) {
        self.updates.clear();
    }
}

impl<K: Ord> PartialOrd for Batch<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord> Ord for Batch<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.updates.cmp(&other.updates)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    type Updates = &'static [(u32, i64)];

    /// Table-driven: (left, right, merged).
    #[test]
    fn merge_table() {
        let cases: &[(Updates, Updates, Updates)] = &[
            (&[], &[], &[]),
            (&[(1, 1)], &[], &[(1, 1)]),
            (&[], &[(1, 1)], &[(1, 1)]),
            (&[(1, 1)], &[(1, -1)], &[]),
            (&[(1, 1), (3, 1)], &[(2, 1)], &[(1, 1), (2, 1), (3, 1)]),
            (
                &[(1, 1), (2, 2)],
                &[(2, -2), (4, 4), (0, 7)],
                &[(0, 7), (1, 1), (4, 4)],
            ),
            (&[(5, i64::MAX)], &[(5, 1)], &[(5, i64::MIN)]),
        ];
        for (left, right, merged) in cases {
            let batch = |s: &[(u32, i64)]| s.iter().copied().collect::<Batch<u32>>();
            let mut a = batch(left);
            let mut b = batch(right);
            a.merge_from(&mut b);
            assert_eq!(a.updates(), *merged, "merge_from {left:?} {right:?}");
            assert!(b.is_empty());
            let mut c = batch(right);
            c.merge_ref(&batch(left));
            assert_eq!(c.updates(), *merged, "merge_ref {right:?} {left:?}");
        }
    }

    #[test]
    fn merge_sorted_tail_table() {
        let cases: &[(&[u32], &[u32])] = &[
            (&[], &[]),
            (&[1, 2], &[]),
            (&[], &[1, 2]),
            (&[1, 3], &[4, 5]),
            (&[4, 5], &[1, 3]),
            (&[1, 4, 7], &[2, 5, 8]),
            (&[2, 3, 9], &[1, 5]),
            (&[10], &[1, 2, 3, 11]),
        ];
        for (prefix, tail) in cases {
            let mut updates: Vec<(u32, i64)> =
                prefix.iter().chain(*tail).map(|&k| (k, 1)).collect();
            merge_sorted_tail(&mut updates, prefix.len());
            let mut expected = updates.clone();
            expected.sort();
            assert_eq!(updates, expected, "{prefix:?} + {tail:?}");
        }
    }

    #[test]
    fn extend_consolidates() {
        let mut batch = Batch::new();
        batch.extend([(3, 1), (1, 2), (3, -1), (2, 0), (1, 1), (4, 1), (4, -1)]);
        assert_eq!(batch.updates(), &[(1, 3)]);
        batch.update(0, 1);
        batch.update(1, -3);
        batch.update(9, 0);
        assert_eq!(batch.updates(), &[(0, 1)]);
    }

    #[test]
    fn integer_sums() {
        let mut a = u8::MAX;
        a.merge_ref(&2);
        assert_eq!(a, 1);
        let mut b = 7i32;
        b.merge_from(&mut -7);
        assert!(b.is_empty());
    }
}

//! Order-independent digests of dataflow output.

use std::hash::{Hash, Hasher};

/// Hashes `item` with a fixed-key hasher: the same value gets the same hash in every run of
/// the same binary, on every worker.
///
/// # Examples
///
/// ```
/// assert_eq!(examples::hash64(&(1u32, 2u32)), examples::hash64(&(1u32, 2u32)));
/// assert_ne!(examples::hash64(&(1u32, 2u32)), examples::hash64(&(2u32, 1u32)));
/// ```
pub fn hash64<T: Hash + ?Sized>(item: &T) -> u64 {
    // `DefaultHasher::new` always starts from the same keys, unlike `RandomState`.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    item.hash(&mut hasher);
    hasher.finish()
}

/// A digest of a multiset of updates, linear in their multiplicities.
///
/// Adding `(x, +1)` and later `(x, -1)` leaves the digest unchanged, and adding `(x, +2)` is the
/// same as adding `(x, +1)` twice, so the digest of a differential update stream depends only on
/// its consolidated content.
///
/// # Examples
///
/// ```
/// use examples::Checksum;
///
/// let mut split = Checksum::default();
/// split.add(&("a", 3u64), 1);
/// split.add(&("b", 3u64), 1);
/// split.add(&("a", 3u64), 1);
///
/// let mut whole = Checksum::default();
/// whole.add(&("b", 3u64), 1);
/// whole.add(&("a", 3u64), 2);
/// assert_eq!(split, whole);
///
/// whole.add(&("a", 3u64), -2);
/// whole.add(&("b", 3u64), -1);
/// assert_eq!(whole, Checksum::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checksum(u64);

impl Checksum {
    /// Adds `diff` copies of `item` (a negative `diff` removes copies).
    pub fn add<T: Hash + ?Sized>(&mut self, item: &T, diff: i64) {
        self.0 = self.0.wrapping_add(hash64(item).wrapping_mul(diff as u64));
    }

    /// Folds another digest (for example another worker's) into this one.
    pub fn merge(&mut self, other: Checksum) {
        self.0 = self.0.wrapping_add(other.0);
    }

    /// The digest's value.
    pub fn value(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_of_parts_equals_whole() {
        let items: Vec<(u32, u64, i64)> = (0..100)
            .map(|i| (i % 7, i as u64 / 3, (i % 5) as i64 - 2))
            .collect();
        let mut whole = Checksum::default();
        for (x, t, d) in &items {
            whole.add(&(x, t), *d);
        }
        let mut parts = [Checksum::default(); 3];
        for (i, (x, t, d)) in items.iter().enumerate().rev() {
            parts[i % 3].add(&(x, t), *d);
        }
        let mut merged = Checksum::default();
        for p in parts {
            merged.merge(p);
        }
        assert_eq!(merged, whole);
    }

    #[test]
    fn distinguishes_time_and_sign() {
        let mut a = Checksum::default();
        a.add(&(1u32, 0u64), 1);
        let mut b = Checksum::default();
        b.add(&(1u32, 1u64), 1);
        let mut c = Checksum::default();
        c.add(&(1u32, 0u64), -1);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(a.value(), 0);
    }
}

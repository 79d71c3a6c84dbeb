//! The chain's atoms: a ring buffer whose free slots keep retired values, cleared, for reuse.

use crate::Chainable;

/// One atom of the chain.
pub(crate) struct Atom<T> {
    /// Increasing along the chain, never reused: readers name their pin by it.
    pub(crate) seq: u64,
    pub(crate) value: T,
    /// Readers whose last folded atom this is.
    pub(crate) pins: usize,
}

/// The live atoms, oldest first, in `slots[head..]` and then `slots[..]` (wrapping around);
/// the other slots are free and hold cleared values, the spares that appends hand to writers.
///
/// Kept small (32 bytes) so that the chain's mutex and everything it guards share one cache
/// line: a hop moves that line, the ring slot of the atom, and the atom's data.
pub(crate) struct Ring<T> {
    slots: Vec<Atom<T>>,
    head: u32,
    len: u32,
}

impl<T: Chainable> Ring<T> {
    /// A ring holding `first`, with free slots for `spare` more atoms.
    pub(crate) fn new(first: Atom<T>, spare: usize) -> Self {
        let mut slots = Vec::with_capacity(spare + 1);
        slots.push(first);
        slots.extend((0..spare).map(|_| Atom {
            seq: 0,
            value: T::default(),
            pins: 0,
        }));
        Ring {
            slots,
            head: 0,
            len: 1,
        }
    }

    /// The number of live atoms (at least one).
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// The slot of the `i`-th live atom.
    fn slot(&self, i: usize) -> usize {
        let j = self.head as usize + i;
        if j >= self.slots.len() {
            j - self.slots.len()
        } else {
            j
        }
    }

    pub(crate) fn get(&self, i: usize) -> &Atom<T> {
        debug_assert!(i < self.len());
        &self.slots[self.slot(i)]
    }

    pub(crate) fn get_mut(&mut self, i: usize) -> &mut Atom<T> {
        debug_assert!(i < self.len());
        let slot = self.slot(i);
        &mut self.slots[slot]
    }

    /// The newest atom.
    pub(crate) fn newest(&mut self) -> &mut Atom<T> {
        self.get_mut(self.len() - 1)
    }

    /// The position of the atom numbered `seq`, if it is live.
    pub(crate) fn position(&self, seq: u64) -> Option<usize> {
        // Numbers increase along the ring: binary search over positions.
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = (low + high) / 2;
            match self.get(mid).seq.cmp(&seq) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Appends an atom numbered `seq` holding the contents of `value`, leaving a spare (a
    /// cleared value, with whatever allocation it kept) or `T::default()` in `value`.
    pub(crate) fn push(&mut self, seq: u64, value: &mut T) {
        if self.len() == self.slots.len() {
            // Full: make the live atoms contiguous, then grow by one slot at the end.
            self.slots.rotate_left(self.head as usize);
            self.head = 0;
            self.slots.push(Atom {
                seq,
                value: std::mem::take(value),
                pins: 0,
            });
        } else {
            let slot = self.slot(self.len());
            let atom = &mut self.slots[slot];
            atom.seq = seq;
            atom.pins = 0;
            std::mem::swap(&mut atom.value, value);
        }
        self.len = u32::try_from(self.len() + 1).expect("fewer than 2^32 atoms");
    }

    /// Removes the oldest atom (never the last one), clearing its value for reuse.
    pub(crate) fn pop_front(&mut self) {
        debug_assert!(self.len() > 1);
        let head = self.head as usize;
        self.slots[head].value.clear();
        self.head = self.slot(1) as u32;
        self.len -= 1;
    }

    /// Removes the `i`-th atom, whose value the caller has drained: the older atoms move up
    /// one position, so the order of sequence numbers is kept.
    fn remove_drained(&mut self, i: usize) {
        debug_assert!(0 < i && i < self.len());
        for k in (0..i).rev() {
            let (a, b) = (self.slot(k), self.slot(k + 1));
            self.slots.swap(a, b);
        }
        // The drained atom is now the oldest: free its slot.
        self.head = self.slot(1) as u32;
        self.len -= 1;
    }

    /// Absorbs the `i`-th atom (interior) into its successor, and removes it.
    pub(crate) fn absorb(&mut self, i: usize) {
        debug_assert!(0 < i && i + 1 < self.len());
        let (from, into) = (self.slot(i), self.slot(i + 1));
        // Borrow two distinct slots mutably.
        let (from, into) = if from < into {
            let (left, right) = self.slots.split_at_mut(into);
            (&mut left[from], &mut right[0])
        } else {
            let (left, right) = self.slots.split_at_mut(from);
            (&mut right[0], &mut left[into])
        };
        into.value.merge_from(&mut from.value);
        debug_assert!(
            from.value.is_empty(),
            "merge_from must leave its argument empty"
        );
        self.remove_drained(i);
    }

    /// The live atoms from position `from` on, oldest first.
    pub(crate) fn range(&self, from: usize) -> impl Iterator<Item = &Atom<T>> {
        (from..self.len()).map(move |i| self.get(i))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn seqs(ring: &Ring<u64>) -> Vec<(u64, u64)> {
        ring.range(0).map(|a| (a.seq, a.value)).collect()
    }

    #[test]
    fn push_pop_absorb_keep_order_and_reuse_slots() {
        let mut ring = Ring::new(
            Atom {
                seq: 0,
                value: 0u64,
                pins: 1,
            },
            1,
        );
        for seq in 1..=4 {
            let mut value = seq * 10;
            ring.push(seq, &mut value);
            assert_eq!(value, 0, "a spare (or the identity) comes back");
        }
        assert_eq!(
            seqs(&ring),
            vec![(0, 0), (1, 10), (2, 20), (3, 30), (4, 40)]
        );
        ring.pop_front();
        ring.absorb(1); // 20 into 30
        assert_eq!(seqs(&ring), vec![(1, 10), (3, 50), (4, 40)]);
        assert_eq!(ring.position(3), Some(1));
        assert_eq!(ring.position(2), None);
        // Wrap around the freed slots.
        for seq in 5..=6 {
            ring.push(seq, &mut (seq * 10));
        }
        ring.pop_front();
        ring.absorb(1); // 40 into 50
        assert_eq!(seqs(&ring), vec![(3, 50), (5, 90), (6, 60)]);
        assert_eq!(ring.position(6), Some(2));
        assert_eq!(ring.slots.len(), 5, "no growth while free slots remain");
    }
}

//! Doorbells: tell a chain's readers that they have news, waking each only when it may not know.

use crossbeam_utils::CachePadded;

use crate::sync::{fence, AtomicBool, Ordering};

/// One "you may have news" flag per reader of a chain, and the protocol that keeps senders
/// from waking readers that already know, without losing a wakeup.
///
/// A sender calls [`ring_others`](Self::ring_others) after its send; a reader calls
/// [`answer`](Self::answer) before it reads the chain. A bell rings from the first send the
/// reader may not have seen until the reader answers it; only the sender that starts it
/// ringing wakes the reader.
///
/// # Why no wakeup is lost
///
/// A sender's send, a `SeqCst` fence, then its load of a bell; a reader's clear of its bell,
/// a `SeqCst` fence, then its read of the chain. The fences are totally ordered. If the
/// sender's comes first, the reader's read sees the send. If the reader's comes first, the
/// sender's load sees the clear (or a later ring) and the bell is not left ringing by a
/// sender that skipped it: the sender that finds it clear rings it and wakes the reader.
///
/// # Cost
///
/// A sender whose readers' bells already ring (they have not answered yet) writes nothing:
/// one fence and one load per reader. A reader whose bell is silent writes nothing.
///
/// # Examples
///
/// ```
/// use chain::{Chain, Doorbells};
///
/// let (chain, mut readers) = Chain::<u64>::with_readers(2);
/// let bells = Doorbells::new(2);
/// let mut woken = Vec::new();
/// chain.send(1);
/// bells.ring_others(0, |reader| woken.push(reader));
/// chain.send(2);
/// bells.ring_others(0, |reader| woken.push(reader));
/// assert_eq!(woken, vec![1]); // the second send found reader 1's bell ringing
/// assert!(bells.answer(1));
/// let mut total = 0;
/// readers[1].recv(&mut total);
/// assert_eq!(total, 3);
/// ```
#[derive(Debug)]
pub struct Doorbells {
    /// Indexed by reader; padded, as each is written by every sender and by its reader.
    bells: Box<[CachePadded<AtomicBool>]>,
}

impl Doorbells {
    /// Silent doorbells for `readers` readers.
    pub fn new(readers: usize) -> Self {
        Doorbells {
            bells: (0..readers)
                .map(|_| CachePadded::new(AtomicBool::new(false)))
                .collect(),
        }
    }

    /// After a send by reader `me`: rings every other reader's bell that is silent, calling
    /// `wake` with the index of each reader whose bell it started.
    pub fn ring_others(&self, me: usize, mut wake: impl FnMut(usize)) {
        // SeqCst: orders the caller's send before the loads below (see the type's docs).
        fence(Ordering::SeqCst);
        for (reader, bell) in self.bells.iter().enumerate() {
            // A bell that rings already needs no write: its reader will answer it and then
            // read the chain. AcqRel on the swap: releases the send to the answer that clears
            // it, and acquires what `publish` released.
            if reader != me && !bell.load(Ordering::Acquire) && !bell.swap(true, Ordering::AcqRel) {
                wake(reader);
            }
        }
    }

    /// Whether reader `reader`'s bell rings: some send since its last answer may be new to
    /// it. Writes nothing.
    pub fn rings(&self, reader: usize) -> bool {
        self.bells[reader].load(Ordering::Acquire)
    }

    /// Before reader `me` reads the chain: silences its bell if it rings; true if it rang.
    pub fn answer(&self, me: usize) -> bool {
        let bell = &self.bells[me];
        if !bell.load(Ordering::Acquire) {
            // A sender that finds it silent rings it and wakes us.
            return false;
        }
        bell.swap(false, Ordering::AcqRel);
        // SeqCst: orders the clear before the caller's read of the chain.
        fence(Ordering::SeqCst);
        true
    }

    /// Leaves reader `me`'s bell ringing for good: no sender wakes a reader that left.
    pub fn retire(&self, me: usize) {
        self.bells[me].store(true, Ordering::Release);
    }
}

//! The forwarder: one reader of a chain, driven by the chain's writers, that hands successive
//! prefix deltas of the chain on, numbered, without a thread of its own.

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicBool, AtomicUsize, Mutex, Ordering};
use crate::{Chainable, Reader};

/// A reader of a chain whose folded deltas are handed on by whichever writer drives it.
///
/// Every writer calls [`forward`](Self::forward) after each send. One call at a time does
/// the work: it folds everything new (a delta of a prefix of the chain's total order, since
/// the previous delta) and hands it to its `send` callback with the next sequence number
/// (0, 1, 2, ...), on the calling thread. A call that finds another call working leaves the
/// work to it, and returns at once.
///
/// # Why nothing committed stays unforwarded
///
/// `requests` counts the calls not yet served. A call increments it; the call that
/// incremented it from 0 becomes the forwarder, and loops: remember the count `r`, fold and
/// hand on everything new, then swap the count from `r` back to 0. If the swap fails, some
/// call incremented the count after the forwarder loaded `r`, so its send may be newer than
/// the fold: the forwarder loops with the new count. A call that increments a non-zero
/// count committed its send before the increment; every read-modify-write of the count is
/// ordered, so either the increment precedes the forwarder's load of `r` (the load acquires
/// it, hence the send, and the fold after it sees the send), or it follows the load and
/// precedes the swap (the swap fails), or it follows the swap (the count was 0: the call is
/// the forwarder itself). No committed send is left unfolded after its own `forward`
/// returns and the forwarder of the moment has finished: it is handed on, or, with
/// [`forward_when`](Self::forward_when), held in the delta until a call finds it ready. Loom checks this
/// (`tests/loom.rs`, `forwarder_forwards_every_send`).
///
/// The forwarder's reader and sequence number sit behind a mutex that only the forwarder of
/// the moment takes (so it is never contended); it makes the exclusive access explicit.
///
/// # Examples
///
/// ```
/// use chain::{Chain, Forwarder};
///
/// let (chain, mut readers) = Chain::<i64>::with_readers(1);
/// let forwarder = Forwarder::new(readers.pop().unwrap());
/// let mut sent = Vec::new();
/// chain.send(3);
/// forwarder.forward(|seq, delta| sent.push((seq, *delta)));
/// chain.send(-1);
/// chain.send(2);
/// forwarder.forward(|seq, delta| sent.push((seq, *delta)));
/// assert_eq!(sent, vec![(0, 3), (1, 1)]);
/// ```
pub struct Forwarder<T: Chainable> {
    /// Calls of `forward` not yet served; non-zero while a forwarder works.
    requests: CachePadded<AtomicUsize>,
    /// Taken only by the forwarder of the moment.
    state: Mutex<Forwarding<T>>,
    /// Set when a `send` callback panicked: the count is left non-zero, so every later call
    /// must panic rather than return as if another call were forwarding.
    poisoned: AtomicBool,
}

/// Sets the forwarder's `poisoned` flag if dropped while unwinding from a `send` callback.
struct Unwinding<'a>(&'a AtomicBool);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Release: pairs with the acquire load at the start of `forward`.
            self.0.store(true, Ordering::Release);
        }
    }
}

/// What the forwarder of the moment works with.
struct Forwarding<T: Chainable> {
    reader: Reader<T>,
    /// The sequence number of the next delta handed on.
    next: u64,
    /// Folded and not handed on yet (held back while `ready` says so); its allocation is
    /// reused.
    delta: T,
}

impl<T: Chainable> std::fmt::Debug for Forwarder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder").finish_non_exhaustive()
    }
}

impl<T: Chainable> Forwarder<T> {
    /// A forwarder that hands on what `reader` is owed, starting at sequence number 0.
    pub fn new(reader: Reader<T>) -> Self {
        Forwarder {
            requests: CachePadded::new(AtomicUsize::new(0)),
            state: Mutex::new(Forwarding {
                reader,
                next: 0,
                delta: T::default(),
            }),
            poisoned: AtomicBool::new(false),
        }
    }

    /// After a send: hands everything new in the chain to `send`, numbered, unless another
    /// call is doing so (it then hands on this caller's send too, before it returns).
    ///
    /// `send(seq, delta)` runs on this thread, once per non-empty delta, with increasing
    /// `seq`; deltas that cancel to the identity are skipped and take no number. The deltas
    /// are consecutive: together, `0..=seq` are exactly the chain's sends up to some point of
    /// its total order. If `send` panics, the forwarder is poisoned.
    ///
    /// # Panics
    /// If a `send` callback of an earlier call panicked (`forwarder poisoned`).
    pub fn forward(&self, send: impl FnMut(u64, &T)) {
        self.forward_when(|_| true, send);
    }

    /// As [`forward`](Self::forward), but the folded delta is handed on only if `ready`
    /// says so; otherwise it is held, and later deltas are folded into it, until a call
    /// finds it ready. The deltas handed on are still consecutive prefix deltas.
    ///
    /// `ready` sees the whole delta held so far (never part of it). A caller that holds a
    /// delta back must argue that holding it loses nothing: no committed send is *lost*, but
    /// one is handed on only by the first call that finds the delta ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use chain::{Chain, Forwarder};
    ///
    /// let (chain, mut readers) = Chain::<i64>::with_readers(1);
    /// let forwarder = Forwarder::new(readers.pop().unwrap());
    /// let mut sent = Vec::new();
    /// chain.send(3);
    /// forwarder.forward_when(|delta| *delta < 0, |seq, delta| sent.push((seq, *delta)));
    /// assert!(sent.is_empty()); // held: not ready
    /// chain.send(-5);
    /// forwarder.forward_when(|delta| *delta < 0, |seq, delta| sent.push((seq, *delta)));
    /// assert_eq!(sent, vec![(0, -2)]);
    /// ```
    ///
    /// # Panics
    /// If a callback of an earlier call panicked (`forwarder poisoned`).
    pub fn forward_when(&self, mut ready: impl FnMut(&T) -> bool, mut send: impl FnMut(u64, &T)) {
        // Acquire: pairs with the release in `Unwinding::drop`.
        assert!(
            !self.poisoned.load(Ordering::Acquire),
            "forwarder poisoned: a forward panicked in another thread"
        );
        // AcqRel: releases this caller's committed send to the forwarder that reads the count.
        if self.requests.fetch_add(1, Ordering::AcqRel) != 0 {
            return;
        }
        let mut requests = 1;
        loop {
            {
                let mut state = self.state.lock().expect("forwarder poisoned");
                let Forwarding {
                    reader,
                    next,
                    delta,
                } = &mut *state;
                reader.recv(delta);
                let unwinding = Unwinding(&self.poisoned);
                if !delta.is_empty() && ready(delta) {
                    send(*next, delta);
                    *next += 1;
                    delta.clear();
                }
                drop(unwinding);
            }
            // AcqRel: a failure acquires the sends of the calls counted since the last load.
            match self
                .requests
                .compare_exchange(requests, 0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(now) => requests = now,
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{Batch, Chain, Forwarder};
    use std::sync::{Arc, Mutex};

    /// Several writers send and forward at once; the numbered deltas, applied in order, are
    /// prefixes: no running total ever holds a `-1` before its `+1`.
    #[test]
    fn concurrent_writers_forward_consecutive_prefixes() {
        let (chain, mut readers) = Chain::<Batch<u64>>::with_readers(1);
        let forwarder = Arc::new(Forwarder::new(readers.pop().unwrap()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let writers: Vec<_> = (0..4u64)
            .map(|writer| {
                let (chain, forwarder, sent) =
                    (chain.clone(), Arc::clone(&forwarder), Arc::clone(&sent));
                std::thread::spawn(move || {
                    let mut batch = Batch::new();
                    for round in 0..2000u64 {
                        // Each writer's batch moves its token from `round` to `round + 1`.
                        let key = writer * 1_000_000 + round;
                        batch.update(key, -1);
                        batch.update(key + 1, 1);
                        chain.send_from(&mut batch);
                        forwarder.forward(|seq, delta: &Batch<u64>| {
                            sent.lock().unwrap().push((seq, delta.updates().to_vec()))
                        });
                    }
                })
            })
            .collect();
        writers.into_iter().for_each(|w| w.join().unwrap());
        let mut sent = std::mem::take(&mut *sent.lock().unwrap());
        sent.sort_by_key(|(seq, _)| *seq);
        let mut totals = std::collections::BTreeMap::new();
        for writer in 0..4u64 {
            totals.insert(writer * 1_000_000, 1i64);
        }
        for (expected, (seq, delta)) in sent.iter().enumerate() {
            assert_eq!(*seq, expected as u64);
            for (key, diff) in delta {
                *totals.entry(*key).or_insert(0) += diff;
            }
            totals.retain(|_, count| *count != 0);
            // Each writer holds exactly one token at every prefix.
            assert_eq!(totals.len(), 4, "after delta {seq}: {totals:?}");
            assert!(totals.values().all(|&count| count == 1));
        }
        let ends: Vec<_> = totals.keys().copied().collect();
        assert_eq!(
            ends,
            (0..4).map(|w| w * 1_000_000 + 2000).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_panicking_send_poisons_the_forwarder() {
        let (chain, mut readers) = Chain::<u64>::with_readers(1);
        let forwarder = Forwarder::new(readers.pop().unwrap());
        chain.send(1);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            forwarder.forward(|_, _| panic!("push failed"))
        }));
        assert!(panicked.is_err());
        chain.send(1);
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            forwarder.forward(|_, _| {})
        }));
        let message = again.unwrap_err();
        let message = message.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.starts_with("forwarder poisoned"), "{message}");
    }
}

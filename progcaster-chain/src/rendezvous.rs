//! The per-computation rendezvous and the endpoints of its chains.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use chain::{Batch, Chain, Reader};
use crossbeam_utils::CachePadded;

use crate::trace;

/// Number of chains alive in this process (created by a [`Rendezvous`], not yet freed).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The number of progress chains alive in this process.
///
/// A chain is counted from its creation, when the first local worker joins its progress
/// channel, until it is freed, after the last local worker's [`Endpoint`] is dropped (or the
/// computation ends). A computation that has finished, or whose dataflows were all dropped,
/// leaves this count where it found it.
///
/// # Examples
/// ```
/// use progcaster_chain::{live_chains, Rendezvous};
/// let before = live_chains();
/// let rendezvous = Rendezvous::new(2);
/// let a = rendezvous.join::<u64>(0, 0, || ());
/// let b = rendezvous.join::<u64>(0, 1, || ());
/// assert!(live_chains() >= before + 1);
/// drop((a, b));
/// # assert_eq!(rendezvous.channels(), 0);
/// ```
pub fn live_chains() -> usize {
    // Relaxed: a statistic; callers that need it exact join the threads that changed it.
    LIVE.load(Ordering::Relaxed)
}

/// How to make a parked worker look at its chains again.
type Wake = Box<dyn Fn() + Send + Sync>;

/// What the other workers know about one local worker of one chain.
struct Peer {
    /// "The chain may hold something this worker has not read."
    ///
    /// Set (swap to `true`) by senders after their send; cleared (swap to `false`) by the
    /// worker before it reads, when it finds it set. Both are `AcqRel` read-modify-writes:
    /// the clear acquires the sends released by the sets it observes. The worker's `wake`
    /// registration is released by a no-op read-modify-write right after it, in `join`, so
    /// every set after that acquires it.
    pending: AtomicBool,
    /// The worker's wake function, set once when it joins.
    wake: OnceLock<Wake>,
}

/// One progress channel's chain, shared by the local workers.
struct Slot<K: Ord + Clone + Send + Sync> {
    chain: Chain<Batch<K>>,
    /// Readers registered when the chain was created, taken by each worker as it joins.
    readers: Mutex<Vec<Option<Reader<Batch<K>>>>>,
    /// Indexed by local worker; padded, as each flag is written by every sender.
    peers: Box<[CachePadded<Peer>]>,
}

impl<K: Ord + Clone + Send + Sync> Slot<K> {
    fn new(threads: usize) -> Self {
        let (chain, readers) = Chain::with_readers(threads);
        // Relaxed: see `live_chains`.
        LIVE.fetch_add(1, Ordering::Relaxed);
        trace::chain_created(threads);
        Slot {
            chain,
            readers: Mutex::new(readers.into_iter().map(Some).collect()),
            peers: (0..threads)
                .map(|_| {
                    CachePadded::new(Peer {
                        pending: AtomicBool::new(false),
                        wake: OnceLock::new(),
                    })
                })
                .collect(),
        }
    }
}

impl<K: Ord + Clone + Send + Sync> Drop for Slot<K> {
    fn drop(&mut self) {
        trace::chain_freed(|| self.chain.stats());
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A rendezvous entry: the type-erased `Arc<Slot<K>>` and how many workers left it.
struct Entry {
    slot: Arc<dyn Any + Send + Sync>,
    left: usize,
}

/// Where the workers of one process find the chains of a computation's progress channels.
///
/// One rendezvous serves one timely computation (`timely::execute` creates it and hands a
/// clone of the `Arc` to each local worker). Workers are numbered as timely numbers them:
/// process `p` of a cluster with `threads` workers per process holds the workers
/// `p * threads .. (p + 1) * threads`, so a worker's local index is `worker % threads`.
pub struct Rendezvous {
    threads: usize,
    slots: Mutex<HashMap<usize, Entry>>,
}

impl fmt::Debug for Rendezvous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendezvous")
            .field("threads", &self.threads)
            .field("channels", &self.channels())
            .finish()
    }
}

impl Rendezvous {
    /// A rendezvous for a process with `threads` local workers.
    ///
    /// # Panics
    /// If `threads` is zero.
    pub fn new(threads: usize) -> Arc<Self> {
        assert!(threads > 0, "a process has at least one worker");
        Arc::new(Rendezvous {
            threads,
            slots: Mutex::new(HashMap::new()),
        })
    }

    /// The number of workers in this process.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The number of progress channels whose chain some local worker may still use.
    pub fn channels(&self) -> usize {
        self.lock().len()
    }

    /// Joins the chain of progress channel `channel` as worker `worker` (a global index).
    ///
    /// The first local worker to join creates the chain, with one reader for every local
    /// worker: a worker that joins later still receives everything sent since the creation.
    /// `wake` is called, from another worker's thread, when this worker has something new to
    /// read and is not already known to be about to look; it should schedule a call to
    /// [`Endpoint::recv`] and unpark the worker's thread.
    ///
    /// # Panics
    /// If the worker already joined this channel, or if the channel was joined with another
    /// key type.
    pub fn join<K>(
        self: &Arc<Self>,
        channel: usize,
        worker: usize,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Endpoint<K>
    where
        K: Ord + Clone + Send + Sync + 'static,
    {
        let local = worker % self.threads;
        let slot = Arc::clone(
            &self
                .lock()
                .entry(channel)
                .or_insert_with(|| Entry {
                    slot: Arc::new(Slot::<K>::new(self.threads)),
                    left: 0,
                })
                .slot,
        );
        // The checks below panic only on misuse, and never while a lock is held.
        let slot = slot
            .downcast::<Slot<K>>()
            .unwrap_or_else(|_| panic!("progress channel {channel} joined at two key types"));
        let reader = slot.readers.lock().expect("progress readers poisoned")[local].take();
        let reader = reader
            .unwrap_or_else(|| panic!("worker {worker} joined progress channel {channel} twice"));
        if slot.peers[local].wake.set(Box::new(wake)).is_err() {
            unreachable!("the reader was still there, so nobody registered a wake function");
        }
        // AcqRel read-modify-write that leaves the flag as it is: releases the registration
        // above to every sender whose swap comes later in the flag's modification order.
        // `recv` skips its clear when the flag reads clear, so it cannot be the one to.
        slot.peers[local].pending.fetch_or(false, Ordering::AcqRel);
        Endpoint {
            reader,
            slot,
            local,
            channel,
            rendezvous: Arc::clone(self),
            scratch: Batch::new(),
        }
    }

    /// Records that a local worker dropped its endpoint of `channel`; the last one frees it.
    fn leave(&self, channel: usize) {
        let mut slots = self.lock();
        if let Some(entry) = slots.get_mut(&channel) {
            entry.left += 1;
            if entry.left == self.threads {
                slots.remove(&channel);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<usize, Entry>> {
        // Nothing panics while holding this lock (see `join`), so poison means a bug here.
        self.slots.lock().expect("progress rendezvous poisoned")
    }
}

/// One local worker's handle on the chain of one progress channel.
///
/// Dropping it releases the worker's place in the chain; once every local worker has dropped
/// its endpoint, the chain is freed.
pub struct Endpoint<K: Ord + Clone + Send + Sync + 'static> {
    /// Dropped after `Drop::drop` has left the rendezvous and before `slot`: its sweep is
    /// part of what the chain did when the slot's trace records it.
    reader: Reader<Batch<K>>,
    slot: Arc<Slot<K>>,
    local: usize,
    channel: usize,
    rendezvous: Arc<Rendezvous>,
    /// Reused for every send; the chain leaves its allocation with us when it merges in place.
    scratch: Batch<K>,
}

impl<K: Ord + Clone + Send + Sync + 'static> Endpoint<K> {
    /// Sends `updates` to every local worker, this one included.
    ///
    /// The updates are consolidated, merged into the chain, and the other local workers are
    /// woken if they had nothing pending. Nothing happens if they consolidate to nothing.
    /// The caller must arrange for its own worker to call [`recv`](Self::recv) later.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    /// use std::sync::Arc;
    /// let rendezvous = progcaster_chain::Rendezvous::new(2);
    /// let woken = Arc::new(AtomicUsize::new(0));
    /// let mut a = rendezvous.join::<&str>(7, 0, || ());
    /// let counter = Arc::clone(&woken);
    /// let mut b = rendezvous.join::<&str>(7, 1, move || { counter.fetch_add(1, SeqCst); });
    /// a.send([("x", 1), ("y", 2)]);
    /// a.send([("x", -1)]);
    /// assert_eq!(woken.load(SeqCst), 1); // woken once: the second send found it pending
    /// let mut seen = Vec::new();
    /// assert!(b.recv(|updates| seen.extend_from_slice(updates)));
    /// assert_eq!(seen, vec![("y", 2)]); // the two sends merged and cancelled in the chain
    /// ```
    pub fn send<I: IntoIterator<Item = (K, i64)>>(&mut self, updates: I) {
        self.scratch.extend(updates);
        self.publish();
    }

    /// Sends `updates` that are already sorted by key with keys distinct, as a compacted
    /// timely `ChangeBatch` is, without consolidating them again. Zero diffs are dropped: a
    /// compacted `ChangeBatch` of one update may hold one, and stock timely sends it.
    ///
    /// Otherwise as [`send`](Self::send). Debug builds check the order and panic if it is
    /// broken.
    ///
    /// # Examples
    /// ```
    /// let rendezvous = progcaster_chain::Rendezvous::new(1);
    /// let mut a = rendezvous.join::<u32>(0, 0, || ());
    /// a.send_consolidated([(1, 1), (5, -1)]);
    /// let mut seen = Vec::new();
    /// a.recv(|updates| seen.extend_from_slice(updates));
    /// assert_eq!(seen, vec![(1, 1), (5, -1)]);
    /// ```
    pub fn send_consolidated<I: IntoIterator<Item = (K, i64)>>(&mut self, updates: I) {
        self.scratch.extend_sorted(updates);
        self.publish();
    }

    /// Sends the consolidated `scratch` (leaving it empty) and wakes the other workers.
    fn publish(&mut self) {
        if self.scratch.updates().is_empty() {
            return;
        }
        self.slot.chain.send_from(&mut self.scratch);
        for (index, peer) in self.slot.peers.iter().enumerate() {
            // AcqRel: releases the send above to the clear that observes this set; acquires
            // the wake registration released by a clear this set observes.
            if index != self.local && !peer.pending.swap(true, Ordering::AcqRel) {
                if let Some(wake) = peer.wake.get() {
                    wake();
                }
            }
        }
    }

    /// Hands each new atom of the chain, as a consolidated slice of updates, to `logic`.
    ///
    /// Returns true if there was anything new. Every update sent by any local worker since
    /// the chain was created is handed over exactly once, though updates sent by different
    /// workers (or in different sends) may arrive merged and cancelled against one another.
    pub fn recv(&mut self, mut logic: impl FnMut(&[(K, i64)])) -> bool {
        // AcqRel: see `Peer::pending`. Clear before reading, so that a send we do not see
        // finds the flag clear and wakes us. A flag that reads clear (acquire, pairing with
        // the sets as the swap would) needs no write: most receives find nothing new, and
        // the write would pull the line away from the senders.
        let pending = &self.slot.peers[self.local].pending;
        if pending.load(Ordering::Acquire) {
            pending.swap(false, Ordering::AcqRel);
        }
        self.reader.recv_with(|batch| logic(batch.updates()))
    }
}

impl<K: Ord + Clone + Send + Sync + 'static> Drop for Endpoint<K> {
    fn drop(&mut self) {
        // Leave the flag set forever, so that senders never call our wake function again.
        self.slot.peers[self.local]
            .pending
            .store(true, Ordering::Release);
        self.rendezvous.leave(self.channel);
    }
}

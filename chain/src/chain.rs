//! The chain: a shared, consolidating log of atoms with many writers and many readers.
//!
//! # Design
//!
//! The chain is a singly linked list of nodes, oldest to newest, each holding one atom
//! (a [`Chainable`] value). A writer merges its update into the newest atom in place,
//! unless a reader *pins* that node, in which case it appends a fresh node. A reader pins
//! the last node it has folded; to receive, it walks forward from its pin, pinning each
//! node before folding it and releasing the previous one, and stops at the newest.
//!
//! Compaction keeps the list short: an unpinned node that has both a predecessor and a
//! successor is *absorbed* into its successor (its atom is merged forward and the node is
//! unlinked), and unpinned nodes at the front, behind every reader, are *trimmed*. After a
//! sweep every live node is pinned except possibly the newest, so with `R` readers at most
//! `R + 1` nodes are live, and `R + 2` once a send appends after the sweep.
//!
//! Atoms only ever move *forward*, one live node at a time, and only out of unpinned nodes.
//! Pins are always on live nodes (a walker never pins a node compaction has unlinked), so
//! each pin is a barrier: a reader has folded exactly the atoms at or behind its pin, what
//! it has folded can never move ahead of it, and what it has not folded can never move
//! behind it. It folds every atom exactly once. `DESIGN.md` gives the full argument.
//!
//! # Synchronization
//!
//! * `Node::payload` (`RwLock`): the atom and the `next` link. Walkers read-lock one node at
//!   a time; writers and the compactor write-lock.
//! * `Node::holders` (atomic): the number of readers pinning the node. It is incremented
//!   only under the node's read lock (walkers) or, for the newest node, under the newest
//!   mutex (registration); every check that acts on `holders == 0` holds the node's write
//!   lock, and for the newest node also the newest mutex, so no pin can appear between the
//!   check and the act. Decrements happen without locks; a stale non-zero read only delays
//!   compaction to the next sweep, which the reader that unpinned the node last runs
//!   itself (a walk sweeps exactly when it left a node no reader pins any more).
//! * `Published::poisoned` (atomic): set (release) when a merge unwinds under the chain's
//!   locks; every operation checks it (acquire) first and panics with `chain poisoned`.
//! * `Published::version` (atomic): the count of committed sends, stored (release) after
//!   each one under the newest mutex. A reader whose last walk started at the version it now loads (acquire)
//!   has nothing new and returns without touching a lock.
//! * `Shared::newest` (mutex): the newest node and the send counters; serializes writers.
//! * `Shared::oldest` (mutex): the front of the live list and the compaction counters;
//!   serializes compaction sweeps.
//!
//! # Lock order
//!
//! `oldest` mutex, then `newest` mutex, then node payloads older before newer. Walkers hold
//! one payload lock at a time; a writer holds the newest mutex and the newest payload; the
//! only place that holds several payload locks, [`Shared::absorb_after`], takes them in list
//! order. No code holds `newest` while taking `oldest`.
//!
//! # Memory reclamation
//!
//! Nodes are reference counted. The list owns its nodes through `oldest` and the `next`
//! links; readers own their pins. Trimming advances `oldest`, so the prefix behind every
//! reader is freed as soon as no walker still holds it. `Drop` for a node unlinks its
//! successors iteratively, so dropping a long chain does not recurse.
//!
//! # Trade-offs
//!
//! Writers serialize on one mutex: the price of merging concurrent sends into one atom,
//! which is what makes cancellation across writers free for readers. Walks take a read
//! lock per node, and a reader that has caught up makes the next send allocate one node.

use crossbeam_utils::CachePadded;

use crate::sync::{
    lock, read, write, Arc, AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering, RwLock, POISONED,
};
use crate::Chainable;

/// One atom of the chain and the link to the next one.
struct Node<T> {
    payload: RwLock<Payload<T>>,
    /// Readers pinning this node (see the module docs for who may change it when).
    holders: AtomicUsize,
    /// The owning chain's count of allocated nodes.
    live: Arc<AtomicUsize>,
}

struct Payload<T> {
    value: T,
    next: Option<Arc<Node<T>>>,
    /// Set when compaction unlinked this node; its atom has moved to `next`.
    absorbed: bool,
}

impl<T> Node<T> {
    fn new(value: T, holders: usize, live: &Arc<AtomicUsize>) -> Arc<Self> {
        // Relaxed: a statistic; readers of it synchronize through other means.
        live.fetch_add(1, Ordering::Relaxed);
        Arc::new(Node {
            payload: RwLock::new(Payload {
                value,
                next: None,
                absorbed: false,
            }),
            holders: AtomicUsize::new(holders),
            live: live.clone(),
        })
    }

    /// The successor, read under this node's read lock.
    fn next(&self) -> Option<Arc<Node<T>>> {
        read(&self.payload).next.clone()
    }

    /// Detaches the successor link without locking (we own `self` exclusively).
    fn take_next(&mut self) -> Option<Arc<Node<T>>> {
        match self.payload.get_mut() {
            Ok(payload) => payload.next.take(),
            Err(poisoned) => poisoned.into_inner().next.take(),
        }
    }
}

impl<T> Drop for Node<T> {
    fn drop(&mut self) {
        // Relaxed: see `Node::new`.
        self.live.fetch_sub(1, Ordering::Relaxed);
        // Unlink successors one at a time, so a long chain does not drop recursively.
        let mut next = self.take_next();
        while let Some(node) = next {
            next = match Arc::try_unwrap(node) {
                Ok(mut node) => node.take_next(),
                Err(_) => None,
            };
        }
    }
}

/// The newest node and the writers' counters, behind the newest mutex.
struct Newest<T> {
    node: Arc<Node<T>>,
    merged_in_place: u64,
    appended: u64,
}

impl<T> Newest<T> {
    /// Sends committed so far: the version every committed send publishes.
    fn committed(&self) -> u64 {
        self.merged_in_place + self.appended
    }
}

/// The front of the live list and the compactor's counters, behind the oldest mutex.
struct Oldest<T> {
    node: Arc<Node<T>>,
    absorbed: u64,
    trimmed: u64,
}

/// The state shared by every handle and reader of one chain.
struct Shared<T> {
    newest: CachePadded<Mutex<Newest<T>>>,
    /// Committed sends so far, and the poison flag: read together by every receive.
    published: CachePadded<Published>,
    oldest: Mutex<Oldest<T>>,
    live: Arc<AtomicUsize>,
}

/// The words every receive reads, on one cache line.
struct Published {
    /// Committed sends so far (`Newest::committed`); stored after each one, under the newest
    /// mutex.
    version: AtomicU64,
    /// Set when a merge panicked under the chain's locks; never cleared.
    poisoned: AtomicBool,
}

/// Poisons the chain if dropped, i.e. if the merge it guards unwinds; forgotten on success.
struct PoisonOnUnwind<'a>(&'a AtomicBool);

impl PoisonOnUnwind<'_> {
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for PoisonOnUnwind<'_> {
    fn drop(&mut self) {
        // Release: pairs with the acquire in `Shared::check`.
        self.0.store(true, Ordering::Release);
    }
}

/// What one absorption step found after a node.
enum Step<T> {
    /// The successor was unpinned and was absorbed into its own successor.
    Absorbed,
    /// The successor is pinned: continue after it.
    Advance(Arc<Node<T>>),
    /// The successor is the newest node, or there is none.
    End,
}

impl<T> Shared<T> {
    /// Whether a merge ever panicked under the chain's locks.
    fn is_poisoned(&self) -> bool {
        // Acquire: pairs with the release in `PoisonOnUnwind::drop`.
        self.published.poisoned.load(Ordering::Acquire)
    }

    /// Panics with the documented message if a merge ever panicked under the chain's locks.
    #[track_caller]
    fn check(&self) {
        if self.is_poisoned() {
            panic!("{POISONED}");
        }
    }

    fn version(&self, order: Ordering) -> u64 {
        self.published.version.load(order)
    }
}

impl<T: Chainable> Shared<T> {
    /// Trims the unpinned front and absorbs every unpinned interior node into its successor.
    fn compact(&self) {
        self.check();
        let mut oldest = lock(&self.oldest);
        loop {
            // Relaxed, unlocked: a pinned front stays; a stale non-zero value only leaves
            // the trim to the sweep that the unpinning reader runs after its decrement.
            if oldest.node.holders.load(Ordering::Relaxed) != 0 {
                break;
            }
            let next = {
                let payload = write(&oldest.node.payload);
                // The front has a successor only if it is not the newest, so pins can only
                // appear under its read lock, which the write lock excludes.
                // Relaxed: increments happen under that lock, which orders them before us.
                if oldest.node.holders.load(Ordering::Relaxed) != 0 {
                    break;
                }
                match &payload.next {
                    Some(next) => next.clone(),
                    None => break,
                }
            };
            // NOTE: a trimmed node keeps its atom and its link; no walker can reach it
            // (it had no reader behind it), so nothing else needs to know.
            oldest.node = next;
            oldest.trimmed += 1;
        }
        let mut pred = oldest.node.clone();
        loop {
            match self.absorb_after(&pred) {
                Step::Absorbed => oldest.absorbed += 1,
                Step::Advance(next) => pred = next,
                Step::End => break,
            }
        }
    }

    /// Merges `from` into `into`, an atom under one of the chain's write locks; poisons the
    /// chain if the merge panics.
    fn merge(&self, into: &mut T, from: &mut T) {
        let guard = PoisonOnUnwind(&self.published.poisoned);
        into.merge_from(from);
        guard.disarm();
    }

    /// Absorbs `pred`'s successor into the successor's successor if no reader pins it.
    ///
    /// This is the only function that holds more than one payload lock; it takes them in
    /// list order (`pred`, then its successor, then that one's), which is the lock order.
    fn absorb_after(&self, pred: &Node<T>) -> Step<T> {
        // Pinned nodes, the common case, need only a look at the link.
        let Some(node) = pred.next() else {
            return Step::End;
        };
        // Relaxed, unlocked: skipping a node that was just unpinned is safe, as its reader
        // sweeps after the decrement; acting on zero is re-checked under locks.
        if node.holders.load(Ordering::Relaxed) != 0 {
            return Step::Advance(node);
        }
        let mut pred_payload = write(&pred.payload);
        let Some(node) = pred_payload.next.clone() else {
            return Step::End;
        };
        let mut node_payload = write(&node.payload);
        let Some(succ) = node_payload.next.clone() else {
            // `node` is the newest: writers merge into it, it is never absorbed.
            return Step::End;
        };
        // Relaxed: pins of a non-newest node happen under its read lock, excluded here.
        if node.holders.load(Ordering::Relaxed) != 0 {
            drop(node_payload);
            return Step::Advance(node);
        }
        let mut succ_payload = write(&succ.payload);
        // NOTE: the atom moves forward, to a node every reader that has not folded `node`
        // will still reach; readers pinned at or after `succ` have folded it already.
        self.merge(&mut succ_payload.value, &mut node_payload.value);
        // NOTE: a walker that read `pred.next` before this point must not pin `node`: its
        // frozen link would be a side entrance to `succ`, ahead of nodes (`pred` among them)
        // whose atoms may later move into `succ`. The flag sends it back to `pred.next`.
        node_payload.absorbed = true;
        pred_payload.next = Some(succ.clone());
        Step::Absorbed
    }
}

/// A cloneable multi-writer handle to a chain.
///
/// Every clone writes to the same chain. Readers come from [`Chain::with_readers`] (which
/// see every atom ever sent) or [`Chain::reader`] (which see the atoms sent after they
/// registered).
///
/// # Examples
///
/// ```
/// use chain::Chain;
///
/// let (chain, mut readers) = Chain::<i64>::with_readers(2);
/// let other = chain.clone();
/// chain.send(3);
/// other.send(-1);
/// for reader in &mut readers {
///     let mut total = 0;
///     assert!(reader.recv(&mut total));
///     assert_eq!(total, 2);
/// }
/// ```
pub struct Chain<T: Chainable> {
    shared: Arc<Shared<T>>,
}

impl<T: Chainable> Clone for Chain<T> {
    fn clone(&self) -> Self {
        Chain {
            shared: self.shared.clone(),
        }
    }
}

impl<T: Chainable> Default for Chain<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Chainable> std::fmt::Debug for Chain<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("live_nodes", &self.live_nodes())
            .finish_non_exhaustive()
    }
}

/// Counters describing what a chain has done, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Sends merged into the newest atom in place.
    pub merged_in_place: u64,
    /// Sends that appended a node because a reader pinned the newest one.
    pub appended: u64,
    /// Interior nodes merged into their successor by compaction.
    pub absorbed: u64,
    /// Front nodes released because every reader had passed them.
    pub trimmed: u64,
    /// Nodes currently allocated (the live list plus any a walker still holds).
    pub live_nodes: usize,
}

impl<T: Chainable> Chain<T> {
    /// A chain with no readers yet; register them with [`Chain::reader`].
    ///
    /// # Examples
    ///
    /// ```
    /// let chain = chain::Chain::<u64>::new();
    /// chain.send(1); // nobody will ever see this one
    /// let mut reader = chain.reader();
    /// chain.send(2);
    /// let mut total = 0;
    /// reader.recv(&mut total);
    /// assert_eq!(total, 2);
    /// ```
    pub fn new() -> Self {
        Self::with_readers(0).0
    }

    /// A chain together with `readers` readers that will see every atom ever sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, readers) = chain::Chain::<u64>::with_readers(3);
    /// assert_eq!(readers.len(), 3);
    /// assert_eq!(chain.live_nodes(), 1);
    /// ```
    pub fn with_readers(readers: usize) -> (Self, Vec<Reader<T>>) {
        let live = Arc::new(AtomicUsize::new(0));
        let sentinel = Node::new(T::default(), readers, &live);
        let shared = Arc::new(Shared {
            newest: CachePadded::new(Mutex::new(Newest {
                node: sentinel.clone(),
                merged_in_place: 0,
                appended: 0,
            })),
            published: CachePadded::new(Published {
                version: AtomicU64::new(0),
                poisoned: AtomicBool::new(false),
            }),
            oldest: Mutex::new(Oldest {
                node: sentinel.clone(),
                absorbed: 0,
                trimmed: 0,
            }),
            live,
        });
        let readers = (0..readers)
            .map(|_| Reader {
                shared: shared.clone(),
                pin: sentinel.clone(),
                seen: 0,
            })
            .collect();
        (Chain { shared }, readers)
    }

    /// Registers a reader that will see every atom sent after this call returns.
    ///
    /// # Examples
    ///
    /// ```
    /// let chain = chain::Chain::<i64>::new();
    /// chain.send(5);
    /// let mut late = chain.reader();
    /// let mut total = 0;
    /// assert!(!late.recv(&mut total));
    /// chain.send(7);
    /// assert!(late.recv(&mut total));
    /// assert_eq!(total, 7);
    /// ```
    pub fn reader(&self) -> Reader<T> {
        self.shared.check();
        let newest = lock(&self.shared.newest);
        // Relaxed: writers check `holders` under this same mutex.
        newest.node.holders.fetch_add(1, Ordering::Relaxed);
        // Every committed send stored the version under this mutex: start from here.
        let seen = newest.committed();
        Reader {
            shared: self.shared.clone(),
            pin: newest.node.clone(),
            seen,
        }
    }

    /// Sends `value`: merges it into the newest atom, or appends it as a new atom.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, _readers) = chain::Chain::<u64>::with_readers(1);
    /// chain.send(1); // appends: the reader pins the sentinel
    /// chain.send(2); // merges in place
    /// let stats = chain.stats();
    /// assert_eq!((stats.appended, stats.merged_in_place), (1, 1));
    /// ```
    pub fn send(&self, mut value: T) {
        self.send_from(&mut value);
    }

    /// Sends the contents of `value`, leaving it empty.
    ///
    /// When the send merges in place, `value` keeps (or swaps in) a buffer the caller can
    /// reuse, so a caller that sends from one buffer repeatedly allocates nothing. Sending
    /// an empty value does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use chain::{Batch, Chain};
    ///
    /// let (chain, mut readers) = Chain::<Batch<u64>>::with_readers(1);
    /// let mut buffer = Batch::new();
    /// buffer.update(7, 1);
    /// chain.send_from(&mut buffer);
    /// assert_eq!(buffer.len(), 0);
    /// let mut seen = Batch::new();
    /// readers[0].recv(&mut seen);
    /// assert_eq!(seen.updates(), &[(7, 1)]);
    /// ```
    pub fn send_from(&self, value: &mut T) {
        self.shared.check();
        if value.is_empty() {
            return;
        }
        let mut newest = lock(&self.shared.newest);
        let mut payload = write(&newest.node.payload);
        // Relaxed: pins of the newest node happen under its read lock or under the newest
        // mutex, and we hold both its write lock and that mutex.
        if newest.node.holders.load(Ordering::Relaxed) == 0 {
            self.shared.merge(&mut payload.value, value);
            drop(payload);
            newest.merged_in_place += 1;
        } else {
            let node = Node::new(std::mem::take(value), 0, &self.shared.live);
            payload.next = Some(node.clone());
            drop(payload);
            newest.node = node;
            newest.appended += 1;
        }
        // Release: a reader that sees this version (acquire) then locks the node and finds
        // the atom. Only senders holding the newest mutex write it, so a store suffices.
        self.shared
            .published
            .version
            .store(newest.committed(), Ordering::Release);
    }

    /// Runs a compaction sweep now: trims what every reader has passed and absorbs every
    /// node no reader pins into its successor.
    ///
    /// Readers sweep by themselves whenever a walk leaves a node no reader pins; this is for
    /// callers that want to be sure, e.g. after readers were dropped while unwinding.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(2);
    /// chain.send(1);
    /// readers.iter_mut().for_each(|r| { r.recv(&mut 0); });
    /// chain.compact();
    /// assert_eq!(chain.live_nodes(), 1); // both readers pin the newest node
    /// ```
    pub fn compact(&self) {
        self.shared.compact();
    }

    /// The number of nodes currently allocated for this chain.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(1);
    /// for i in 0..1000 {
    ///     chain.send(i);
    ///     readers[0].recv(&mut 0);
    /// }
    /// assert!(chain.live_nodes() <= 1 + 2);
    /// ```
    pub fn live_nodes(&self) -> usize {
        self.shared.live.load(Ordering::Relaxed)
    }

    /// A snapshot of the chain's counters.
    ///
    /// # Examples
    ///
    /// ```
    /// let chain = chain::Chain::<u64>::new();
    /// chain.send(1);
    /// assert_eq!(chain.stats().merged_in_place, 1);
    /// ```
    pub fn stats(&self) -> Stats {
        // Lock order: oldest, then newest; neither is held while taking the other here.
        let (absorbed, trimmed) = {
            let oldest = lock(&self.shared.oldest);
            (oldest.absorbed, oldest.trimmed)
        };
        let newest = lock(&self.shared.newest);
        Stats {
            merged_in_place: newest.merged_in_place,
            appended: newest.appended,
            absorbed,
            trimmed,
            live_nodes: self.live_nodes(),
        }
    }
}

/// A reader of a chain: folds every atom it is owed exactly once.
///
/// A reader pins the last node it folded. Dropping it releases the pin and lets the chain
/// compact what it held apart.
///
/// # Examples
///
/// ```
/// let (chain, mut readers) = chain::Chain::<i64>::with_readers(1);
/// let reader = &mut readers[0];
/// chain.send(1);
/// chain.send(-1);
/// let mut atoms = 0;
/// reader.recv_with(|_| atoms += 1);
/// assert_eq!(atoms, 0); // the two sends cancelled in place
/// ```
pub struct Reader<T: Chainable> {
    shared: Arc<Shared<T>>,
    /// The last node folded; its `holders` counts this reader.
    pin: Arc<Node<T>>,
    /// The version loaded before the last walk.
    seen: u64,
}

impl<T: Chainable> std::fmt::Debug for Reader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl<T: Chainable> Reader<T> {
    /// True if sends have committed since this reader last looked. Takes no lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(1);
    /// assert!(!readers[0].has_news());
    /// chain.send(1);
    /// assert!(readers[0].has_news());
    /// ```
    pub fn has_news(&self) -> bool {
        // Acquire: pairs with the release bump in `send_from`.
        self.shared.check();
        self.shared.version(Ordering::Acquire) != self.seen
    }

    /// Folds every new atom into `acc`; true if any non-empty atom was folded.
    ///
    /// With nothing new this takes no lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(1);
    /// chain.send(2);
    /// chain.send(3);
    /// let mut total = 0;
    /// assert!(readers[0].recv(&mut total));
    /// assert!(!readers[0].recv(&mut total));
    /// assert_eq!(total, 5);
    /// ```
    pub fn recv(&mut self, acc: &mut T) -> bool {
        self.recv_with(|atom| acc.merge_ref(atom))
    }

    /// Hands every new non-empty atom, oldest first, to `f`; true if it was called.
    ///
    /// `f` runs while the atom's read lock is held: it must not use the same chain in any
    /// way (send, register, receive or drop a reader of it), or it may deadlock. If `f`
    /// panics, the atom it was handed counts as delivered; the next receive hands over the
    /// atoms after it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(1);
    /// chain.send(2);
    /// let mut atoms = Vec::new();
    /// readers[0].recv_with(|atom| atoms.push(*atom));
    /// assert_eq!(atoms, vec![2]);
    /// ```
    pub fn recv_with(&mut self, mut f: impl FnMut(&T)) -> bool {
        // Acquire: pairs with the release bump in `send_from`.
        self.shared.check();
        let version = self.shared.version(Ordering::Acquire);
        if version == self.seen {
            return false;
        }
        // Whether this walk left a node that no reader pins any more: only then can a sweep
        // find something to trim or absorb.
        let (mut released, mut folded) = (false, false);
        let mut link = self.pin.next();
        while let Some(next) = link {
            let payload = read(&next.payload);
            if payload.absorbed {
                // Compaction unlinked `next` after we read the link to it; our pin (which
                // cannot be absorbed while we hold it) now links past it. Read it again.
                drop(payload);
                link = self.pin.next();
                continue;
            }
            // Pin before folding, under the read lock: a writer or compactor that would
            // merge into or absorb `next` checks `holders` under the write lock.
            // Relaxed: ordered by the lock.
            next.holders.fetch_add(1, Ordering::Relaxed);
            link = payload.next.clone();
            let previous = std::mem::replace(&mut self.pin, next.clone());
            // Relaxed: we read `previous`'s atom under its read lock, which a compactor's
            // write lock orders before any move of it; a compactor that reads this count
            // stale only skips the node, and we sweep after it.
            released |= previous.holders.fetch_sub(1, Ordering::Relaxed) == 1;
            if !payload.value.is_empty() {
                folded = true;
                f(&payload.value);
            }
        }
        // Only now: if `f` panicked, the next receive walks again for the atoms after it.
        self.seen = version;
        if released {
            self.shared.compact();
        }
        folded
    }
}

impl<T: Chainable> Drop for Reader<T> {
    fn drop(&mut self) {
        // Relaxed: as in `recv_with`.
        self.pin.holders.fetch_sub(1, Ordering::Relaxed);
        // A reader dropped while its thread unwinds, or of a poisoned chain, skips its sweep
        // (and so cannot panic); what it held apart is compacted by the next sweep. Otherwise
        // the sweep may absorb atoms, and a merge that panics there panics this drop too.
        if !std::thread::panicking() && !self.shared.is_poisoned() {
            self.shared.compact();
        }
    }
}

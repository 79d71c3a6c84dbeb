//! The chain: a shared, consolidating log of atoms with many writers and many readers.
//!
//! # Design
//!
//! The chain is a sequence of atoms, oldest to newest, each a [`Chainable`] value with a
//! sequence number. A reader *pins* the last atom it has folded: a count on the atom, and the
//! atom's number in the reader. A writer merges its update into the newest atom in place,
//! unless a reader pins it, in which case it appends a fresh atom. To receive, a reader folds
//! every atom after its pin, then moves its pin to the newest atom.
//!
//! Compaction keeps the sequence short, and it is exact: after every operation, every atom
//! but the newest is pinned. When a reader's move leaves its old atom unpinned, that atom is
//! *trimmed* if it is the oldest (every reader has folded it) or else *absorbed* into its
//! successor (its value merged forward; readers at or after the successor have folded both,
//! readers before it have folded neither). So with `R` readers at most `R + 1` atoms exist.
//!
//! Retired atoms' values are cleared and kept in their free ring slots as spares; a send that
//! appends takes the caller's buffer into the chain and hands back a spare, so steady traffic
//! allocates nothing.
//!
//! # Synchronization
//!
//! * `Shared::state` (one mutex, sharing one cache line with all it guards): the ring of
//!   atoms, their pins and the counters. Every operation that reads or changes atoms holds it, briefly: a send
//!   merges one update; a receive folds the atoms after its pin into a buffer the reader owns
//!   and moves the pin. No user callback runs under it: [`Reader::recv_with`] hands the
//!   folded value to its callback after unlocking.
//! * `Published::version` (atomic, on another cache line): the count of committed sends,
//!   stored (release) by each send as the last thing it does under the mutex: a plain store,
//!   since sends commit one at a time, and no read-modify-write on the send path beyond the
//!   lock and unlock. A reader whose last receive saw at least
//!   the count it now loads (acquire) has nothing new and returns without touching the mutex:
//!   spinning readers leave the writers' line alone.
//! * `Published::poisoned` (atomic, next to `version`): set (release) when code under the
//!   mutex unwinds; every operation checks it (acquire) first and panics with
//!   `chain poisoned`.
//!
//! # Lock order
//!
//! There is one lock. No code takes it while holding it, and nothing waits for anything
//! while holding it, so there is no deadlock.
//!
//! # Memory reclamation
//!
//! Atoms live in a ring buffer owned by the state; a trimmed or absorbed atom's slot is free
//! (holding its cleared value, for the next append) when the mutex is released. No reader
//! holds a reference into the chain between operations, only a sequence number, so nothing
//! needs deferred reclamation, reference counts or `unsafe`.
//!
//! # Trade-offs
//!
//! Writers and readers with news serialize on one mutex: two uncontended read-modify-writes
//! per operation, the least any shared log can cost, against the per-node locks, reference
//! counts and holder counts of a linked chain (about ten read-modify-writes per receive).
//! Under heavy contention every thread queues on the one line; the operations it guards are
//! short and allocation-free, and readers with nothing new never touch it.

use crossbeam_utils::CachePadded;

use crate::poison::{Guarded, Poison};
use crate::ring::{Atom, Ring};
use crate::sync::{Arc, AtomicBool, AtomicU64, Mutex, MutexGuard, Ordering, POISONED};
use crate::Chainable;

/// Everything the mutex guards: 56 bytes, so that with the mutex's own word it fills one cache
/// line.
struct State<T> {
    /// The atoms, oldest first; never empty. Invariant between operations: every atom but the
    /// newest has `pins > 0` (unless `Published::unswept`).
    atoms: Ring<T>,
    merged_in_place: u64,
    /// Also the sequence number of the newest appended atom (the first atom is number 0).
    appended: u64,
    absorbed: u64,
}

impl<T: Chainable> State<T> {
    /// A chain holding one empty atom that `readers` readers pin.
    fn new(readers: usize) -> Self {
        let first = Atom {
            seq: 0,
            value: T::default(),
            pins: readers,
        };
        State {
            // Room for the bound (`readers + 1` atoms) and one more, so no send allocates a
            // slot once the readers are registered.
            atoms: Ring::new(first, readers + 1),
            merged_in_place: 0,
            appended: 0,
            absorbed: 0,
        }
    }

    /// Sends committed so far: the version every committed send publishes.
    fn committed(&self) -> u64 {
        self.merged_in_place + self.appended
    }

    /// Atoms retired because every reader had passed them: every atom ever made is live,
    /// absorbed or trimmed.
    fn trimmed(&self) -> u64 {
        self.appended + 1 - self.atoms.len() as u64 - self.absorbed
    }

    /// The position of the atom numbered `seq`, which a reader pins.
    fn position(&self, seq: u64) -> usize {
        // A pinned atom is never retired: losing it would be a broken invariant, not a race.
        self.atoms
            .position(seq)
            .unwrap_or_else(|| panic!("chain: pinned atom {seq} is gone"))
    }

    /// Merges `value` into the newest atom if no reader pins it; otherwise appends it.
    fn send(&mut self, value: &mut T) {
        let newest = self.atoms.newest();
        if newest.pins == 0 {
            // No reader has folded the newest atom, so every reader that is owed any of it
            // will fold all of it, this update included.
            newest.value.merge_from(value);
            self.merged_in_place += 1;
        } else {
            // NOTE: the caller's buffer becomes the atom; a spare becomes the caller's.
            self.appended += 1;
            self.atoms.push(self.appended, value);
        }
    }

    /// A send by the reader pinned at `pin`, then its walk, folding into `acc`.
    fn send_and_walk(&mut self, value: &mut T, pin: &mut u64, acc: &mut T) -> bool {
        let newest = self.atoms.newest();
        if newest.seq == *pin && newest.pins == 1 {
            // Only this reader pins the newest atom, and it folds `value` right here: to it
            // the merged atom is folded whole, and to every other reader it is new whole.
            acc.merge_ref(value);
            newest.value.merge_from(value);
            self.merged_in_place += 1;
            return true;
        }
        self.send(value);
        self.walk(pin, |atom| acc.merge_ref(atom))
    }

    /// Hands every non-empty atom after the one `pin` names to `fold`, moves the pin to the
    /// newest atom, and compacts what the move released; true if `fold` was called.
    fn walk(&mut self, pin: &mut u64, mut fold: impl FnMut(&T)) -> bool {
        let from = self.position(*pin);
        let newest = self.atoms.len() - 1;
        if from == newest {
            return false;
        }
        let mut folded = false;
        for atom in self.atoms.range(from + 1) {
            if !atom.value.is_empty() {
                folded = true;
                fold(&atom.value);
            }
        }
        let atom = self.atoms.newest();
        atom.pins += 1;
        *pin = atom.seq;
        self.unpin(from);
        folded
    }

    /// Removes one pin from the atom at `index`, and retires the atom if that was its last.
    fn unpin(&mut self, index: usize) {
        let atom = self.atoms.get_mut(index);
        atom.pins -= 1;
        if atom.pins == 0 && index + 1 < self.atoms.len() {
            self.retire(index);
        }
    }

    /// Retires the unpinned atom at `index`, which has a successor: trims it if it is the
    /// oldest, else absorbs it into its successor. Its slot keeps the cleared value.
    fn retire(&mut self, index: usize) {
        if index == 0 {
            // Every reader pins a later atom, so every reader has folded this one.
            self.atoms.pop_front();
        } else {
            // NOTE: the value moves forward. Readers pinned at or after the successor have
            // folded both atoms; readers pinned before `index` have folded neither and will
            // fold the successor. No reader pins `index` itself.
            self.atoms.absorb(index);
            self.absorbed += 1;
        }
    }

    /// Retires every unpinned atom but the newest: restores the invariant after a reader
    /// skipped its compaction.
    fn sweep(&mut self) {
        let mut index = 0;
        while index + 1 < self.atoms.len() {
            if self.atoms.get(index).pins == 0 {
                // The successor takes this position (older atoms keep theirs): look at it.
                self.retire(index);
            } else {
                index += 1;
            }
        }
    }
}

/// The mutex guard of the state, which poisons the chain if the code under it unwinds.
type Critical<'a, T> = Guarded<'a, MutexGuard<'a, State<T>>>;

/// The state shared by every handle and reader of one chain.
struct Shared<T> {
    state: CachePadded<Mutex<State<T>>>,
    /// Committed sends so far, and the poison flag: read together by every receive.
    published: CachePadded<Published>,
}

/// The words every receive reads, on one cache line that only committing sends write.
struct Published {
    /// Committed sends so far (`State::committed`), stored by each send under the mutex, just
    /// before the unlock.
    version: AtomicU64,
    /// Set when code under the mutex panicked.
    poisoned: Poison,
    /// A reader was dropped while its thread unwound and skipped its compaction (which may
    /// run user code): the next critical section sweeps the whole chain first. Written and
    /// read only under the mutex (relaxed); it lives here to keep the mutex's line small.
    unswept: AtomicBool,
}

impl<T: Chainable> Shared<T> {
    fn new(readers: usize) -> Self {
        Shared {
            state: CachePadded::new(Mutex::new(State::new(readers))),
            published: CachePadded::new(Published {
                version: AtomicU64::new(0),
                poisoned: Poison::new(),
                unswept: AtomicBool::new(false),
            }),
        }
    }

    /// Whether code under the mutex ever panicked.
    fn is_poisoned(&self) -> bool {
        self.published.poisoned.is_set()
    }

    /// Panics with the documented message if code under the mutex ever panicked.
    #[track_caller]
    fn check(&self) {
        self.published.poisoned.check();
    }

    /// Locks the state, or `None` if a previous holder panicked.
    fn try_lock(&self) -> Option<Critical<'_, T>> {
        let mut critical = self.published.poisoned.guard(self.state.lock().ok()?);
        // Relaxed: written only under the mutex, which we hold.
        if !critical.unwinding() && self.published.unswept.load(Ordering::Relaxed) {
            critical.sweep();
            self.published.unswept.store(false, Ordering::Relaxed);
        }
        Some(critical)
    }

    /// Locks the state, panicking with the documented message if a previous holder panicked.
    #[track_caller]
    fn lock(&self) -> Critical<'_, T> {
        self.try_lock().unwrap_or_else(|| panic!("{POISONED}"))
    }

    /// Whether sends committed since a look that saw `seen` of them. Takes no lock; panics
    /// with the documented message on a poisoned chain.
    #[track_caller]
    fn has_news(&self, seen: u64) -> bool {
        self.check();
        // Acquire: pairs with the release in `Shared::publish`. A reader's `seen` is the version
        // it read under the mutex, so the version is never below it: news when it is ahead.
        self.published.version.load(Ordering::Acquire) > seen
    }

    /// Publishes the count of sends committed so far, and returns it; called under the mutex
    /// (`state`), by the send that made the count, so versions are stored in the order sends
    /// commit.
    fn publish(&self, state: &Critical<'_, T>) -> u64 {
        let committed = state.committed();
        // A store, not a read-modify-write: only the mutex holder writes the version. (Stored
        // after the unlock, two senders could store in the other order than they committed
        // and move the version back, losing news; under the mutex they cannot.) Release: a
        // reader that loads this version (acquire) and then locks the state finds the atom (the
        // mutex orders it anyway).
        self.published.version.store(committed, Ordering::Release);
        committed
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
    /// Sends that appended an atom because a reader pinned the newest one.
    pub appended: u64,
    /// Interior atoms merged into their successor by compaction.
    pub absorbed: u64,
    /// Oldest atoms released because every reader had passed them.
    pub trimmed: u64,
    /// Atoms currently in the chain.
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
        let shared = Arc::new(Shared::new(readers));
        let readers = (0..readers)
            .map(|_| Reader::new(shared.clone(), 0, 0))
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
        let mut state = self.shared.lock();
        // Pinning the newest atom makes the next send append: what it holds is not owed.
        let newest = state.atoms.newest();
        newest.pins += 1;
        let pin = newest.seq;
        let seen = state.committed();
        drop(state);
        Reader::new(self.shared.clone(), pin, seen)
    }

    /// Sends `value`: merges it into the newest atom, or appends it as a new atom.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, _readers) = chain::Chain::<u64>::with_readers(1);
    /// chain.send(1); // appends: the reader pins the first atom
    /// chain.send(2); // merges in place
    /// let stats = chain.stats();
    /// assert_eq!((stats.appended, stats.merged_in_place), (1, 1));
    /// ```
    pub fn send(&self, mut value: T) {
        self.send_from(&mut value);
    }

    /// Sends the contents of `value`, leaving it empty.
    ///
    /// `value` keeps, or receives in exchange, a buffer the caller can reuse, so a caller
    /// that sends from one buffer repeatedly allocates nothing once the chain has spares.
    /// Sending an empty value does nothing.
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
        let mut state = self.shared.lock();
        state.send(value);
        self.shared.publish(&state);
        drop(state);
    }

    /// True if sends have committed since `version` of them had (a reader's
    /// [`version`](Reader::version)). Takes no lock and writes nothing: a thread that polls
    /// its readers' chains this way leaves the writers' lines alone until a send changes one.
    ///
    /// # Panics
    ///
    /// With the documented message, if the chain is poisoned.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(1);
    /// let seen = readers[0].version();
    /// assert!(!chain.has_news_since(seen));
    /// chain.send(1);
    /// assert!(chain.has_news_since(seen));
    /// readers[0].recv(&mut 0);
    /// assert!(!chain.has_news_since(readers[0].version()));
    /// ```
    #[track_caller]
    pub fn has_news_since(&self, version: u64) -> bool {
        self.shared.has_news(version)
    }

    /// Runs a compaction sweep now: retires every atom no reader pins but the newest.
    ///
    /// Receives and reader drops compact as they go; this is for callers that want to be
    /// sure, e.g. after readers were dropped while unwinding.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(2);
    /// chain.send(1);
    /// readers.iter_mut().for_each(|r| { r.recv(&mut 0); });
    /// chain.compact();
    /// assert_eq!(chain.live_nodes(), 1); // both readers pin the newest atom
    /// ```
    pub fn compact(&self) {
        self.shared.check();
        self.shared.lock().sweep();
    }

    /// The number of atoms currently in the chain.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(1);
    /// for i in 0..1000 {
    ///     chain.send(i);
    ///     readers[0].recv(&mut 0);
    /// }
    /// assert!(chain.live_nodes() <= 1 + 1);
    /// ```
    pub fn live_nodes(&self) -> usize {
        self.stats().live_nodes
    }

    /// A snapshot of the chain's counters. Works on a poisoned chain too.
    ///
    /// # Examples
    ///
    /// ```
    /// let chain = chain::Chain::<u64>::new();
    /// chain.send(1);
    /// assert_eq!(chain.stats().merged_in_place, 1);
    /// ```
    pub fn stats(&self) -> Stats {
        // A statistic: read it even from a state a panic left behind (no user code runs).
        let state = self
            .shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Stats {
            merged_in_place: state.merged_in_place,
            appended: state.appended,
            absorbed: state.absorbed,
            trimmed: state.trimmed(),
            live_nodes: state.atoms.len(),
        }
    }
}

/// A reader of a chain: folds every atom it is owed exactly once.
///
/// A reader pins the last atom it folded. Dropping it releases the pin and lets the chain
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
    /// The sequence number of the last atom folded, which this reader pins.
    pin: u64,
    /// The version committed when the last receive looked.
    seen: u64,
    /// What `recv_with` folded under the lock, handed to its callback after unlocking.
    scratch: T,
}

impl<T: Chainable> std::fmt::Debug for Reader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("pin", &self.pin)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl<T: Chainable> Reader<T> {
    fn new(shared: Arc<Shared<T>>, pin: u64, seen: u64) -> Self {
        Reader {
            shared,
            pin,
            seen,
            scratch: T::default(),
        }
    }

    /// The number of sends committed to the chain when this reader last looked (received, or
    /// registered): of the first `version` sends, it has folded exactly those it is owed.
    ///
    /// # Examples
    ///
    /// ```
    /// let chain = chain::Chain::<u64>::new();
    /// chain.send(1);
    /// let mut reader = chain.reader();
    /// assert_eq!(reader.version(), 1);
    /// chain.send(2);
    /// reader.recv(&mut 0);
    /// assert_eq!(reader.version(), 2);
    /// ```
    pub fn version(&self) -> u64 {
        self.seen
    }

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
        self.shared.has_news(self.seen)
    }

    /// Folds every new atom into `acc`; true if any non-empty atom was folded.
    ///
    /// With nothing new this takes no lock. The fold runs under the chain's lock, so
    /// `acc`'s merge should be cheap; a panic in it poisons the chain.
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
        Self::fold_new(&self.shared, &mut self.pin, &mut self.seen, acc)
    }

    /// `recv`, on the reader's fields, so that `recv_with` can fold into its own buffer.
    fn fold_new(shared: &Shared<T>, pin: &mut u64, seen: &mut u64, acc: &mut T) -> bool {
        if !shared.has_news(*seen) {
            return false;
        }
        let mut state = shared.lock();
        let folded = state.walk(pin, |atom| acc.merge_ref(atom));
        // Every send committed so far is in an atom at or before the one now pinned.
        *seen = state.committed();
        folded
    }

    /// Sends the contents of `value` (leaving it empty), then folds every new atom, this
    /// send included, into `acc`; true if any non-empty atom was folded.
    ///
    /// The same as [`Chain::send_from`] followed by [`recv`](Self::recv), in one critical
    /// section: a worker that sends and then reads its own update back takes the chain's
    /// lock once, and never races its peers for it to read what it just wrote.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(2);
    /// chain.send(1);
    /// let mut own = 0;
    /// assert!(readers[0].send_and_recv(&mut 2, &mut own));
    /// assert_eq!(own, 3); // the earlier send, and its own
    /// let mut other = 0;
    /// readers[1].recv(&mut other);
    /// assert_eq!(other, 3);
    /// ```
    pub fn send_and_recv(&mut self, value: &mut T, acc: &mut T) -> bool {
        self.shared.check();
        if value.is_empty() {
            return self.recv(acc);
        }
        let mut state = self.shared.lock();
        let folded = state.send_and_walk(value, &mut self.pin, acc);
        self.seen = self.shared.publish(&state);
        drop(state);
        folded
    }

    /// Hands everything new, merged into one atom, to `f`; true if it was called.
    ///
    /// The new atoms are merged (never split) into a buffer the reader owns while the chain
    /// is locked; `f` runs after the lock is released, so it may take its time and may use
    /// the chain. If `f` panics, what it was handed counts as delivered. Nothing is handed
    /// over when the new atoms cancel out.
    ///
    /// # Examples
    ///
    /// ```
    /// let (chain, mut readers) = chain::Chain::<u64>::with_readers(1);
    /// chain.send(2);
    /// chain.send(5);
    /// let mut atoms = Vec::new();
    /// readers[0].recv_with(|atom| atoms.push(*atom));
    /// assert_eq!(atoms, vec![7]);
    /// ```
    pub fn recv_with(&mut self, f: impl FnOnce(&T)) -> bool {
        let Reader {
            shared,
            pin,
            seen,
            scratch,
        } = self;
        // A previous callback may have panicked before the clear below; the buffer (and its
        // allocation) stays with the reader either way.
        scratch.clear();
        Self::fold_new(shared, pin, seen, scratch);
        if scratch.is_empty() {
            return false;
        }
        f(scratch);
        scratch.clear();
        true
    }
}

impl<T: Chainable> Drop for Reader<T> {
    fn drop(&mut self) {
        // Never panic here: a poisoned chain (or lock) is left as it is.
        if self.shared.is_poisoned() {
            return;
        }
        let Some(mut state) = self.shared.try_lock() else {
            return;
        };
        let index = state.position(self.pin);
        if std::thread::panicking() {
            // Compaction may run user code (a merge, a clear), which must not panic while
            // this thread unwinds: leave it to the next operation.
            state.atoms.get_mut(index).pins -= 1;
            // Relaxed: read only under the mutex, which we hold.
            self.shared.published.unswept.store(true, Ordering::Relaxed);
        } else {
            state.unpin(index);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The mutex and everything it guards share one cache line (see `State`).
    #[test]
    #[cfg(all(target_pointer_width = "64", target_os = "linux"))]
    fn the_lock_and_its_state_fill_one_cache_line() {
        assert_eq!(std::mem::size_of::<State<crate::Batch<u64>>>(), 56);
        assert!(std::mem::size_of::<Mutex<State<crate::Batch<u64>>>>() <= 64);
    }
}

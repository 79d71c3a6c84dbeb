//! Lanes: the chain with one lane per writer, so that a hop moves the atom and nothing else.
//!
//! # Design
//!
//! A fixed set of endpoints (a progress channel's workers) each write a *lane* and read every
//! lane. A lane is a ring of `slots` atoms that only its endpoint writes: a send puts the
//! caller's buffer into the next slot and stamps the slot with the atom's number (1, 2, ...
//! per lane), and a reader folds the atoms after its *cursor* (the number of the last atom of
//! that lane it folded), one cursor per lane, kept in the reader's own cell.
//!
//! A writer reuses a slot only when every reader's cursor has passed the atom in it. A reader
//! that lags (its cursor a whole ring behind) does not stop the writer: the writer *drains*
//! the atoms that reader has not folded into the reader's *backlog*, one atom per reader
//! that every lane drains into, and moves the reader's cursor past them. In the backlog the
//! updates of all writers merge, so a `+1` one worker sent and the `-1` another sent for it
//! cancel there, and a laggard folds the net change of what it missed, plus at most a ring of
//! atoms per lane.
//!
//! # Synchronization
//!
//! * `Slot::stamp` (one per slot, on the slot's own cache line): written (release) by the
//!   lane's writer after it filled the slot's value; a reader that loads the number it
//!   expects (acquire) may read the value. A reader polls the slot it will read next, so a hop
//!   moves that line and the atom's data, and nothing else.
//! * `Cell::cursors` (one per lane, in the reader's cell): stored (release) by the reader at
//!   the end of a receive, and by a writer that drains into the reader's backlog, both under
//!   the cell's mutex; loaded (acquire) by the lane's writer before it reuses a slot, which
//!   pairs with the release: the reader's reads of the slot happened before.
//! * `Cell::backlog` (a mutex per reader): held by the reader while it folds, and by a writer
//!   while it drains into the backlog. It is the reader's own line; a writer takes it only
//!   when the reader is a ring behind.
//! * `Cell::active`: cleared (release) when the endpoint is dropped; a writer that loads it
//!   cleared (acquire) ignores that reader's cursor, as its reads are over.
//! * `Shared::poisoned`: set (release) when user code under a cell's mutex unwinds; every
//!   operation checks it (acquire) first.
//!
//! # Lock order
//!
//! A thread holds at most one cell mutex, and waits for nothing while holding it.
//!
//! # Memory reclamation
//!
//! Slots are allocated once and reused; a send hands the caller the value of the atom it
//! overwrites (cleared), so steady traffic allocates nothing.
//!
//! # Trade-offs
//!
//! A reader folds every writer's atoms separately (at most `slots` per lane per receive), and
//! updates of different writers cancel only in a laggard's backlog; the shared [`Chain`]
//! cancels them at send time. What a reader folds is, per writer, a prefix of its sends (not a
//! prefix of one total order): timely's progress protocol needs no more (DESIGN.md section 8).
//!
//! [`Chain`]: crate::Chain

use crossbeam_utils::CachePadded;

use crate::poison::{Guarded, Poison};
use crate::sync::{Arc, AtomicBool, AtomicU64, Mutex, MutexGuard, Ordering, UnsafeCell, POISONED};
use crate::Chainable;

/// One atom of a lane.
struct Slot<T> {
    /// The number of the atom in `value` (0: never written).
    stamp: AtomicU64,
    value: UnsafeCell<T>,
}

// SAFETY: a slot's value is written only by its lane's writer, while no reader may read it
// (every active reader's cursor has passed the atom in it, see `LaneEndpoint::make_room`), and
// read by readers only after they loaded its stamp (acquire) and before they store a cursor past
// it (release); every access goes through the `UnsafeCell` shim, which loom checks in the
// `lanes_*` models. `T: Send + Sync` as `Chainable` requires.
unsafe impl<T: Send + Sync> Sync for Slot<T> {}

/// A reader's part of the shared state.
struct Cell<T> {
    /// The number of the last atom of each lane this reader folded (or had drained into its
    /// backlog). Written only under `backlog`.
    cursors: Box<[AtomicU64]>,
    /// What writers drained for this reader; also the lock the reader holds while it folds.
    backlog: Mutex<T>,
    /// False once the endpoint is dropped: writers no longer wait for its cursors.
    active: AtomicBool,
}

/// A lane: its slots, each on its own cache line.
type Lane<T> = Box<[CachePadded<Slot<T>>]>;

struct Shared<T> {
    lanes: Box<[Lane<T>]>,
    cells: Box<[CachePadded<Cell<T>>]>,
    poisoned: CachePadded<Poison>,
    /// Atoms drained into backlogs (a statistic).
    drained: AtomicU64,
}

impl<T: Chainable> Shared<T> {
    #[track_caller]
    fn check(&self) {
        self.poisoned.check();
    }

    /// Locks reader `index`'s cell, panicking with the documented message if a holder
    /// panicked.
    #[track_caller]
    fn lock(&self, index: usize) -> Guarded<'_, MutexGuard<'_, T>> {
        let backlog = self.cells[index]
            .backlog
            .lock()
            .unwrap_or_else(|_| panic!("{POISONED}"));
        self.poisoned.guard(backlog)
    }

    fn slot(&self, lane: usize, atom: u64) -> &Slot<T> {
        let slots = &self.lanes[lane];
        &slots[(atom % slots.len() as u64) as usize]
    }

    /// Whether atoms of some lane wait for reader `index`. Takes no lock, writes nothing.
    fn has_news(&self, index: usize) -> bool {
        self.check();
        let cell = &self.cells[index];
        (0..self.lanes.len()).any(|lane| {
            // Acquire: pairs with the release of a drain that moved the cursor.
            let cursor = cell.cursors[lane].load(Ordering::Acquire);
            // The slot of the next atom holds it, or (if a drain moved the cursor since we
            // loaded it) a later one: either way news. An older atom's stamp is lower.
            self.slot(lane, cursor + 1).stamp.load(Ordering::Acquire) > cursor
        })
    }
}

/// A handle on a set of lanes, for looking at them from outside an endpoint: news for an
/// endpoint, statistics.
///
/// # Examples
///
/// ```
/// use chain::Lanes;
///
/// let (lanes, mut endpoints) = Lanes::<i64>::new(2, 4);
/// endpoints[0].send(3);
/// assert!(lanes.has_news_for(1));
/// let mut total = 0;
/// endpoints[1].recv(&mut total);
/// assert_eq!(total, 3);
/// assert!(!lanes.has_news_for(1));
/// ```
pub struct Lanes<T: Chainable> {
    shared: Arc<Shared<T>>,
}

impl<T: Chainable> Clone for Lanes<T> {
    fn clone(&self) -> Self {
        Lanes {
            shared: self.shared.clone(),
        }
    }
}

impl<T: Chainable> std::fmt::Debug for Lanes<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanes")
            .field("endpoints", &self.shared.cells.len())
            .finish_non_exhaustive()
    }
}

/// Counters describing what a set of lanes has done, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LanesStats {
    /// Atoms sent, over all lanes.
    pub sent: u64,
    /// Atoms drained into a lagging reader's backlog.
    pub drained: u64,
    /// Atoms some active reader has yet to fold, over all lanes, plus non-empty backlogs: at
    /// most `slots` per lane and one per endpoint.
    pub live_atoms: usize,
}

impl<T: Chainable> Lanes<T> {
    /// Lanes for `endpoints` endpoints, each a ring of `slots` atoms (at least 2), and the
    /// endpoints, which are owed every atom ever sent.
    ///
    /// # Panics
    ///
    /// If `slots < 2`.
    pub fn new(endpoints: usize, slots: usize) -> (Self, Vec<LaneEndpoint<T>>) {
        assert!(slots >= 2, "lanes need at least 2 slots, got {slots}");
        let shared = Arc::new(Shared {
            lanes: (0..endpoints)
                .map(|_| {
                    (0..slots)
                        .map(|_| {
                            CachePadded::new(Slot {
                                stamp: AtomicU64::new(0),
                                value: UnsafeCell::new(T::default()),
                            })
                        })
                        .collect()
                })
                .collect(),
            cells: (0..endpoints)
                .map(|_| {
                    CachePadded::new(Cell {
                        cursors: (0..endpoints).map(|_| AtomicU64::new(0)).collect(),
                        backlog: Mutex::new(T::default()),
                        active: AtomicBool::new(true),
                    })
                })
                .collect(),
            poisoned: CachePadded::new(Poison::new()),
            drained: AtomicU64::new(0),
        });
        let endpoints = (0..endpoints)
            .map(|index| LaneEndpoint {
                shared: shared.clone(),
                index,
                tail: 0,
                floor: 0,
                scratch: T::default(),
                gathered: T::default(),
            })
            .collect();
        (Lanes { shared }, endpoints)
    }

    /// True if atoms wait for endpoint `index`. Takes no lock and writes nothing.
    ///
    /// # Panics
    ///
    /// With the documented message, if the lanes are poisoned.
    #[track_caller]
    pub fn has_news_for(&self, index: usize) -> bool {
        self.shared.has_news(index)
    }

    /// A snapshot of the counters. Works on poisoned lanes too.
    ///
    /// # Examples
    ///
    /// ```
    /// let (lanes, mut endpoints) = chain::Lanes::<u64>::new(2, 2);
    /// for i in 1..=5 {
    ///     endpoints[0].send(i);
    /// }
    /// let stats = lanes.stats();
    /// // Endpoint 1 never read: everything beyond a ring went to its backlog.
    /// assert_eq!(stats.sent, 5);
    /// assert!(stats.drained > 0);
    /// assert!(stats.live_atoms <= 2 * 2 + 2);
    /// let mut total = 0;
    /// endpoints[1].recv(&mut total);
    /// assert_eq!(total, 15);
    /// ```
    pub fn stats(&self) -> LanesStats {
        let shared = &*self.shared;
        let mut stats = LanesStats {
            drained: shared.drained.load(Ordering::Relaxed),
            ..LanesStats::default()
        };
        for (lane, slots) in shared.lanes.iter().enumerate() {
            let newest = slots
                .iter()
                .map(|slot| slot.stamp.load(Ordering::Acquire))
                .max()
                .unwrap_or(0);
            stats.sent += newest;
            let oldest_cursor = shared
                .cells
                .iter()
                .filter(|cell| cell.active.load(Ordering::Acquire))
                .map(|cell| cell.cursors[lane].load(Ordering::Acquire))
                .min()
                .unwrap_or(newest);
            stats.live_atoms += newest.saturating_sub(oldest_cursor) as usize;
        }
        for cell in shared.cells.iter() {
            // A statistic: read it even from a backlog a panic left behind.
            let backlog = cell
                .backlog
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            stats.live_atoms += usize::from(!backlog.is_empty());
        }
        stats
    }
}

/// One endpoint of a set of lanes: the only writer of its lane, and a reader of every lane
/// (its own included) that folds each atom exactly once.
///
/// # Examples
///
/// ```
/// let (_, mut endpoints) = chain::Lanes::<i64>::new(2, 8);
/// let mut totals = [0, 0];
/// endpoints[0].send_and_recv(&mut 5, &mut totals[0]);
/// endpoints[1].send_and_recv(&mut -2, &mut totals[1]);
/// endpoints[0].recv(&mut totals[0]);
/// assert_eq!(totals, [3, 3]);
/// ```
pub struct LaneEndpoint<T: Chainable> {
    shared: Arc<Shared<T>>,
    index: usize,
    /// The number of the newest atom of this endpoint's lane.
    tail: u64,
    /// No active reader's cursor on this lane is below it (a lower bound, refreshed when a
    /// send needs a slot beyond it).
    floor: u64,
    /// What `recv_with` folded under the cell's lock, handed to its callback after unlocking.
    scratch: T,
    /// Where a drain merges a lagging reader's atoms before it takes the reader's lock.
    gathered: T,
}

impl<T: Chainable> std::fmt::Debug for LaneEndpoint<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaneEndpoint")
            .field("index", &self.index)
            .field("tail", &self.tail)
            .finish_non_exhaustive()
    }
}

impl<T: Chainable> LaneEndpoint<T> {
    /// This endpoint's number, which [`Lanes::has_news_for`] takes.
    pub fn index(&self) -> usize {
        self.index
    }

    /// True if atoms wait for this endpoint. Takes no lock and writes nothing.
    pub fn has_news(&self) -> bool {
        self.shared.has_news(self.index)
    }

    /// Sends `value` on this endpoint's lane.
    pub fn send(&mut self, mut value: T) {
        self.send_from(&mut value);
    }

    /// Sends the contents of `value`, leaving it empty: `value` receives the cleared value of
    /// the atom the send overwrites, so a caller that sends from one buffer allocates nothing
    /// once the ring has gone round. Sending an empty value does nothing.
    ///
    /// Takes no lock, unless some reader is a whole ring behind on this lane: then its
    /// unread atoms move to its backlog first, under its lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use chain::{Batch, Lanes};
    ///
    /// let (_, mut endpoints) = Lanes::<Batch<u64>>::new(2, 4);
    /// let mut buffer = Batch::new();
    /// buffer.update(7, 1);
    /// endpoints[0].send_from(&mut buffer);
    /// assert_eq!(buffer.len(), 0);
    /// let mut seen = Batch::new();
    /// endpoints[1].recv(&mut seen);
    /// assert_eq!(seen.updates(), &[(7, 1)]);
    /// ```
    pub fn send_from(&mut self, value: &mut T) {
        self.shared.check();
        if value.is_empty() {
            return;
        }
        let atom = self.tail + 1;
        let slots = self.shared.lanes[self.index].len() as u64;
        if atom > self.floor + slots {
            self.make_room(atom);
        }
        let slot = self.shared.slot(self.index, atom);
        slot.value.with_mut(|old| {
            // SAFETY: the slot holds atom `atom - slots` (or nothing), which every active
            // reader has folded or had drained (`make_room`: each cursor on this lane is at
            // least `atom - slots`, loaded with acquire after the reader's last read of the
            // slot, or the reader was dropped, its `active` cleared with release after its
            // reads). Readers read the slot again only after loading the stamp stored below.
            // We are this lane's only writer (`&mut self`). Loom (a relaxed cursor or `active`
            // ordering fails them): `lanes_wrapping_writer_races_reader`,
            // `lanes_send_and_recv_races_send_and_recv`,
            // `lanes_reader_drop_races_wrapping_writer`.
            unsafe { std::ptr::swap(old, value) }
        });
        // Release: a reader that loads this stamp (acquire) sees the value.
        slot.stamp.store(atom, Ordering::Release);
        self.tail = atom;
        // The overwritten atom's content, which nobody reads any more: the caller's spare.
        value.clear();
    }

    /// Makes the slot of `atom` free: every active reader's cursor on this lane must reach
    /// `atom - slots`. A reader short of it has every unread atom of this lane drained into
    /// its backlog.
    #[cold]
    fn make_room(&mut self, atom: u64) {
        let shared = &*self.shared;
        let lane = self.index;
        let slots = shared.lanes[lane].len() as u64;
        // Acquire: pairs with the release in `LaneEndpoint::drop`: its reads are over.
        let active = |cell: &Cell<T>| cell.active.load(Ordering::Acquire);
        // The last lagging reader, if no reader that does not lag is still short of `atom - 1`:
        // once the other laggards are drained, what it lacks is its alone (`drain` checks).
        let mut last_lagging = None;
        for (reader, cell) in shared.cells.iter().enumerate().filter(|(_, c)| active(c)) {
            // Acquire: pairs with the reader's release after its last read of a slot.
            let cursor = cell.cursors[lane].load(Ordering::Acquire);
            if cursor + slots < atom {
                last_lagging = Some(reader);
            } else if cursor + 1 < atom {
                last_lagging = None;
                break;
            }
        }
        let mut floor = atom - 1;
        for (reader, cell) in shared.cells.iter().enumerate().filter(|(_, c)| active(c)) {
            let mut cursor = cell.cursors[lane].load(Ordering::Acquire);
            if cursor + slots < atom {
                let last = last_lagging == Some(reader);
                cursor = Self::drain(shared, lane, &mut self.gathered, reader, cursor, atom, last);
            }
            floor = floor.min(cursor);
        }
        self.floor = floor;
    }

    /// Drains the atoms of `lane` after `reader`'s cursor and before `atom` into its backlog,
    /// and moves its cursor past them, unless the reader has meanwhile folded far enough for
    /// the slot of `atom`; returns the cursor. `seen` is the cursor as loaded before.
    ///
    /// Where every other active reader has folded these atoms (`may_take` asks to check), the
    /// drain takes their values out of the slots, under the reader's lock: nothing is copied.
    /// Otherwise it copies them into `gathered` (the writer's own buffer) before taking the
    /// reader's lock, so that the lock is held for one merge into the backlog, however many
    /// atoms. Either way the backlog takes `gathered` by move.
    fn drain(
        shared: &Shared<T>,
        lane: usize,
        gathered: &mut T,
        reader: usize,
        seen: u64,
        atom: u64,
        may_take: bool,
    ) -> u64 {
        let slots = shared.lanes[lane].len() as u64;
        let last = atom - 1;
        let copy = |gathered: &mut T, first: u64| {
            gathered.clear();
            for atom in first..=last {
                shared.slot(lane, atom).value.with(|value| {
                    // SAFETY: we wrote atom `atom` (it is at most our tail) and have not
                    // overwritten it (`make_room` runs before the next write); only reads,
                    // ours and readers', touch it until then. Loom:
                    // `lanes_wrapping_writer_races_reader` (a drain racing the reader's reads).
                    gathered.merge_ref(unsafe { &*value })
                });
            }
        };
        if !may_take {
            // Cursors only move forward, and on this lane only this writer drains: the atoms
            // after `seen` are the ones to drain unless the reader moves meanwhile.
            copy(gathered, seen + 1);
        }
        let mut guard = shared.lock(reader);
        let cursor = &shared.cells[reader].cursors[lane];
        // Relaxed: cursors are stored only under this lock, which we hold.
        let now = cursor.load(Ordering::Relaxed);
        if now + slots >= atom {
            return now;
        }
        // Acquire: pairs with each reader's release after its last read of a slot (and with
        // the release of a drop): a reader at or past `last` never reads these atoms again.
        let alone = may_take
            && shared.cells.iter().enumerate().all(|(other, cell)| {
                other == reader
                    || !cell.active.load(Ordering::Acquire)
                    || cell.cursors[lane].load(Ordering::Acquire) >= last
            });
        if alone {
            gathered.clear();
            for atom in now + 1..=last {
                // NOTE: the guard poisons the lanes if this merge panics.
                shared.slot(lane, atom).value.with_mut(|value| {
                    // SAFETY: every other active reader has folded this atom (`alone`, loaded
                    // with acquire) and cursors only move forward, `reader` reads slots only
                    // under the lock we hold, and we are the only writer: nobody else touches
                    // this value until we overwrite it. Loom:
                    // `lanes_drain_takes_only_what_no_one_else_reads` (a weakened `alone`
                    // check fails it).
                    gathered.merge_from(unsafe { &mut *value })
                });
            }
        } else if may_take || now != seen {
            // Not taken, or the reader folded some of them meanwhile: copy (rare).
            copy(gathered, now + 1);
        }
        // NOTE: the guard poisons the lanes if this merge panics. `merge_from` moves the
        // gathered updates (no second copy) and leaves `gathered` empty.
        guard.merge_from(gathered);
        // Release: pairs with the acquire in `make_room` and `has_news`.
        cursor.store(last, Ordering::Release);
        drop(guard);
        shared.drained.fetch_add(last - now, Ordering::Relaxed);
        last
    }

    /// Folds every atom waiting for this endpoint into `acc`; true if any non-empty atom
    /// (or backlog) was folded.
    ///
    /// Holds this endpoint's own lock while folding (a writer takes it only to drain into a
    /// lagging reader's backlog). A panic in `acc`'s merge poisons the lanes.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_, mut endpoints) = chain::Lanes::<u64>::new(2, 4);
    /// endpoints[0].send(2);
    /// endpoints[1].send(3);
    /// let mut total = 0;
    /// assert!(endpoints[0].recv(&mut total));
    /// assert!(!endpoints[0].recv(&mut total));
    /// assert_eq!(total, 5);
    /// ```
    pub fn recv(&mut self, acc: &mut T) -> bool {
        Self::fold_new(&self.shared, self.index, acc)
    }

    fn fold_new(shared: &Shared<T>, index: usize, acc: &mut T) -> bool {
        shared.check();
        let cell = &shared.cells[index];
        let mut guard = shared.lock(index);
        let mut folded = false;
        if !guard.is_empty() {
            // The backlog is this reader's alone: moved, not copied (and left empty).
            acc.merge_from(&mut guard);
            folded = true;
        }
        for (lane, cursor) in cell.cursors.iter().enumerate() {
            // Relaxed: stored only under the lock we hold.
            let start = cursor.load(Ordering::Relaxed);
            let mut last = start;
            loop {
                let slot = shared.slot(lane, last + 1);
                // Acquire: pairs with the writer's release; the value is then complete.
                if slot.stamp.load(Ordering::Acquire) != last + 1 {
                    break;
                }
                slot.value.with(|value| {
                    // SAFETY: the stamp (acquire) says the slot holds atom `last + 1`, complete,
                    // which our cursor (`last`, or less) has not passed, so its writer does not
                    // overwrite it before we store the cursor below (`make_room`), and no drain
                    // moves our cursor while we hold the lock. Loom (a relaxed stamp store or
                    // load fails them): `lanes_wrapping_writer_races_reader`,
                    // `lanes_send_and_recv_races_send_and_recv`.
                    let value = unsafe { &*value };
                    if !value.is_empty() {
                        acc.merge_ref(value);
                        folded = true;
                    }
                });
                last += 1;
            }
            if last != start {
                // Release: the writer that loads it (acquire) may reuse the slots we read.
                cursor.store(last, Ordering::Release);
            }
        }
        drop(guard);
        folded
    }

    /// Sends the contents of `value` (leaving it empty), then folds everything waiting,
    /// this send included, into `acc`; true if any non-empty atom was folded.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_, mut endpoints) = chain::Lanes::<u64>::new(2, 4);
    /// endpoints[1].send(1);
    /// let mut own = 0;
    /// assert!(endpoints[0].send_and_recv(&mut 2, &mut own));
    /// assert_eq!(own, 3);
    /// ```
    pub fn send_and_recv(&mut self, value: &mut T, acc: &mut T) -> bool {
        self.send_from(value);
        self.recv(acc)
    }

    /// Hands everything waiting, merged into one value, to `f`; true if it was called.
    ///
    /// The atoms are merged into a buffer the endpoint owns under its lock; `f` runs after
    /// the lock is released. Nothing is handed over when they cancel out. If `f` panics,
    /// what it was handed counts as delivered.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_, mut endpoints) = chain::Lanes::<u64>::new(2, 4);
    /// endpoints[0].send(2);
    /// endpoints[1].send(5);
    /// let mut seen = Vec::new();
    /// endpoints[1].recv_with(|atom| seen.push(*atom));
    /// assert_eq!(seen, vec![7]);
    /// ```
    pub fn recv_with(&mut self, f: impl FnOnce(&T)) -> bool {
        // A previous callback may have panicked before the clear below.
        self.scratch.clear();
        Self::fold_new(&self.shared, self.index, &mut self.scratch);
        if self.scratch.is_empty() {
            return false;
        }
        f(&self.scratch);
        self.scratch.clear();
        true
    }
}

impl<T: Chainable> Drop for LaneEndpoint<T> {
    fn drop(&mut self) {
        // Release: pairs with the acquire in `make_room`: writers stop waiting for our
        // cursors, and our reads are over.
        self.shared.cells[self.index]
            .active
            .store(false, Ordering::Release);
    }
}

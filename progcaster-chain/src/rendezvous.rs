//! The per-computation rendezvous and the endpoints of its chains.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use chain::{Batch, Chain, Forwarder, LaneEndpoint, Lanes, Reader, Sleepers};
use crossbeam_utils::CachePadded;

use crate::{fault, trace};

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
/// let a = rendezvous.join::<u64>(0, 0);
/// let b = rendezvous.join::<u64>(0, 1);
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

/// The channels a worker joined, each with its chain, for its polls.
type Joined = Mutex<Vec<(usize, Arc<dyn Watched>)>>;

/// A channel's medium seen from a worker's poll, whatever its key type.
trait Watched: Send + Sync {
    /// Whether something was sent that local worker `local` has not received.
    fn has_news(&self, local: usize) -> bool;
}

/// Slots per lane: sends a worker may make before a peer that has not received since costs
/// it a drain (see [`Lanes`]).
const LANE_SLOTS: usize = 8;

/// What one progress channel's local workers share.
enum Medium<K: Ord + Clone + Send + Sync> {
    /// One lane per worker ([`Lanes`]): a send touches only the sender's lane, and a hop
    /// moves the atom's lines and nothing else.
    Lanes(Lanes<Batch<K>>),
    /// One chain for all, for a process that forwards: the forwarder's deltas are prefixes of
    /// the chain's total order of sends.
    Chain {
        chain: Chain<Batch<K>>,
        /// Indexed by local worker: the chain's version when the worker last looked at it
        /// ([`Reader::version`]), written and read only by that worker's thread.
        seen: Box<[CachePadded<AtomicU64>]>,
        /// One more reader of the chain, driven by the workers' sends, whose deltas go to
        /// the other processes (boxed: it is large, and there is one per channel).
        forwarder: Box<Forwarder<Batch<K>>>,
    },
}

/// A local worker's end of a channel's medium.
enum Local<K: Ord + Clone + Send + Sync> {
    Lanes(LaneEndpoint<Batch<K>>),
    Chain(Reader<Batch<K>>),
}

/// One progress channel's medium, shared by the local workers.
struct Slot<K: Ord + Clone + Send + Sync> {
    medium: Medium<K>,
    /// Each worker's end, made with the medium and taken by the worker as it joins.
    locals: Mutex<Vec<Option<Local<K>>>>,
    /// The deliberately broken forwarder's `+1`s, held back to the next delta (tests only).
    held: Mutex<Batch<K>>,
    /// The counts at capability keys of everything forwarded so far (see [`Endpoint::forward`]);
    /// used only by the forwarder of the moment.
    forwarded: Mutex<Batch<K>>,
}

impl<K: Ord + Clone + Send + Sync> Watched for Slot<K> {
    fn has_news(&self, local: usize) -> bool {
        match &self.medium {
            Medium::Lanes(lanes) => lanes.has_news_for(local),
            // Relaxed: only this worker's thread writes it.
            Medium::Chain { chain, seen, .. } => {
                chain.has_news_since(seen[local].load(Ordering::Relaxed))
            }
        }
    }
}

impl<K: Ord + Clone + Send + Sync> Slot<K> {
    fn new(threads: usize, forwarding: bool) -> Self {
        let (medium, locals) = if forwarding {
            let (chain, mut readers) = Chain::with_readers(threads + 1);
            let forwarder = Box::new(Forwarder::new(readers.pop().expect("a reader")));
            let seen = (0..threads)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect();
            let locals = readers.into_iter().map(|r| Some(Local::Chain(r)));
            let medium = Medium::Chain {
                chain,
                seen,
                forwarder,
            };
            (medium, locals.collect())
        } else {
            let (lanes, endpoints) = Lanes::new(threads, LANE_SLOTS);
            let locals = endpoints.into_iter().map(|e| Some(Local::Lanes(e)));
            (Medium::Lanes(lanes), locals.collect())
        };
        // Relaxed: see `live_chains`.
        LIVE.fetch_add(1, Ordering::Relaxed);
        trace::chain_created(threads);
        Slot {
            medium,
            locals: Mutex::new(locals),
            held: Mutex::new(Batch::new()),
            forwarded: Mutex::new(Batch::new()),
        }
    }
}

impl<K: Ord + Clone + Send + Sync> Drop for Slot<K> {
    fn drop(&mut self) {
        trace::chain_freed(|| match &self.medium {
            Medium::Lanes(lanes) => {
                let s = lanes.stats();
                format!("lanes sent={} drained={}", s.sent, s.drained)
            }
            Medium::Chain { chain, .. } => {
                let s = chain.stats();
                format!(
                    "appended={} merged_in_place={} absorbed={} trimmed={}",
                    s.appended, s.merged_in_place, s.absorbed, s.trimmed
                )
            }
        });
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
    /// Indexed by local worker: how to make it poll (unpark its thread), set once.
    wakes: Box<[OnceLock<Wake>]>,
    /// Indexed by local worker: whether it is about to park, so that senders wake it.
    sleepers: Sleepers,
    /// Indexed by local worker: the channels it joined, to poll.
    joined: Box<[Joined]>,
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
            wakes: (0..threads).map(|_| OnceLock::new()).collect(),
            sleepers: Sleepers::new(threads),
            joined: (0..threads).map(|_| Mutex::new(Vec::new())).collect(),
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

    /// Registers how to wake worker `worker` (a global index) from [`park`](Self::park),
    /// typically by unparking its thread. Only the first registration of a worker counts.
    ///
    /// `wake` is called from other workers' threads after a send, only while the worker is
    /// parking. Register it before the worker first parks (timely does so when it builds
    /// its first progress channel, on the worker's thread).
    pub fn set_wake(&self, worker: usize, wake: impl Fn() + Send + Sync + 'static) {
        let _ = self.wakes[worker % self.threads].set(Box::new(wake));
    }

    /// Appends to `news` the channels on which worker `worker` has something new to
    /// [`recv`](Endpoint::recv): those whose chain has committed sends since the worker last
    /// looked; true if it listed any.
    ///
    /// Writes nothing shared: a load of each joined chain's version, which stays in the
    /// worker's cache until a sender changes it. A worker should poll whenever it looks for
    /// work, and receive on every channel listed.
    ///
    /// # Examples
    /// ```
    /// let rendezvous = progcaster_chain::Rendezvous::new(2);
    /// let mut a = rendezvous.join::<u8>(7, 0);
    /// let mut b = rendezvous.join::<u8>(7, 1);
    /// let mut news = Vec::new();
    /// assert!(!rendezvous.poll(1, &mut news));
    /// a.send([(1, 1)]);
    /// assert!(rendezvous.poll(1, &mut news));
    /// assert_eq!(news, vec![7]);
    /// b.recv(|_| ());
    /// news.clear();
    /// assert!(!rendezvous.poll(1, &mut news));
    /// ```
    pub fn poll(&self, worker: usize, news: &mut Vec<usize>) -> bool {
        let local = worker % self.threads;
        let before = news.len();
        // Only this worker's thread takes this lock (its joins, leaves and polls): it costs no
        // shared line.
        let joined = self.joined[local].lock().expect("joined channels poisoned");
        news.extend(
            joined
                .iter()
                .filter(|(_, chain)| chain.has_news(local))
                .map(|&(channel, _)| channel),
        );
        news.len() > before
    }

    /// Parks worker `worker` by calling `park` (which must return when the worker's wake
    /// function is called, also if that happened first, as `std::thread::park` does), unless
    /// a chain it joined has news. Senders wake the worker while this runs, and only then.
    ///
    /// # Examples
    /// ```
    /// let rendezvous = progcaster_chain::Rendezvous::new(2);
    /// let mut a = rendezvous.join::<u8>(7, 0);
    /// let _b = rendezvous.join::<u8>(7, 1);
    /// a.send([(1, 1)]);
    /// rendezvous.park(1, || unreachable!("worker 1 has news: it does not park"));
    /// ```
    pub fn park(&self, worker: usize, park: impl FnOnce()) {
        let local = worker % self.threads;
        let has_news = || {
            let joined = self.joined[local].lock().expect("joined channels poisoned");
            joined.iter().any(|(_, chain)| chain.has_news(local))
        };
        self.sleepers.park(local, has_news, park);
    }

    /// Wakes the workers, other than `local`, that park, after a send by `local`.
    fn wake_others(&self, local: usize) {
        self.sleepers.wake_others(local, |worker| {
            if let Some(wake) = self.wakes[worker].get() {
                wake();
            }
        });
    }

    /// Joins the chain of progress channel `channel` as worker `worker` (a global index).
    ///
    /// The first local worker to join creates the chain, with one reader for every local
    /// worker: a worker that joins later still receives everything sent since the creation.
    /// From now on [`poll`](Self::poll) lists `channel` for this worker when another worker
    /// sent on it since this worker's last [`Endpoint::recv`].
    ///
    /// # Panics
    /// If the worker already joined this channel, or if the channel was joined with another
    /// key type.
    pub fn join<K>(self: &Arc<Self>, channel: usize, worker: usize) -> Endpoint<K>
    where
        K: Ord + Clone + Send + Sync + 'static,
    {
        self.join_as(channel, worker, false)
    }

    /// Joins the chain of progress channel `channel` as [`join`](Self::join) does, for a
    /// process that forwards the chain to other processes: the chain gets one more reader, a
    /// [`Forwarder`], which every worker drives with [`Endpoint::forward`] after its sends.
    ///
    /// # Panics
    /// As [`join`](Self::join), and if another worker joined the channel without forwarding.
    ///
    /// # Examples
    /// ```
    /// let rendezvous = progcaster_chain::Rendezvous::new(2);
    /// let mut a = rendezvous.join_forwarding::<u8>(7, 0);
    /// let mut b = rendezvous.join_forwarding::<u8>(7, 1);
    /// let mut forwarded = Vec::new();
    /// a.send([(1, 1), (2, -1)]);
    /// b.send([(1, -1), (3, 1)]);
    /// b.forward(|_| None, |seq, delta| forwarded.push((seq, delta.to_vec())));
    /// assert_eq!(forwarded, vec![(0, vec![(2, -1), (3, 1)])]);
    /// ```
    pub fn join_forwarding<K>(self: &Arc<Self>, channel: usize, worker: usize) -> Endpoint<K>
    where
        K: Ord + Clone + Send + Sync + 'static,
    {
        self.join_as(channel, worker, true)
    }

    fn join_as<K>(self: &Arc<Self>, channel: usize, worker: usize, forwarding: bool) -> Endpoint<K>
    where
        K: Ord + Clone + Send + Sync + 'static,
    {
        let local = worker % self.threads;
        let slot = Arc::clone(
            &self
                .lock()
                .entry(channel)
                .or_insert_with(|| Entry {
                    slot: Arc::new(Slot::<K>::new(self.threads, forwarding)),
                    left: 0,
                })
                .slot,
        );
        // The checks below panic only on misuse, and never while a lock is held.
        let slot = slot
            .downcast::<Slot<K>>()
            .unwrap_or_else(|_| panic!("progress channel {channel} joined at two key types"));
        assert_eq!(
            matches!(slot.medium, Medium::Chain { .. }),
            forwarding,
            "progress channel {channel} joined both with and without forwarding"
        );
        let end = slot.locals.lock().expect("progress ends poisoned")[local].take();
        let end = end
            .unwrap_or_else(|| panic!("worker {worker} joined progress channel {channel} twice"));
        self.joined[local]
            .lock()
            .expect("joined channels poisoned")
            .push((channel, Arc::clone(&slot) as Arc<dyn Watched>));
        // A peer may have sent before we joined: the chain's version is past the reader's (the
        // chain was created with it), so the next poll lists the channel.
        Endpoint {
            end,
            slot,
            local,
            channel,
            rendezvous: Arc::clone(self),
            scratch: Batch::new(),
            received: Batch::new(),
        }
    }

    /// Records that local worker `local` dropped its endpoint of `channel`; the last local
    /// worker to leave frees the chain.
    fn leave(&self, channel: usize, local: usize) {
        self.joined[local]
            .lock()
            .expect("joined channels poisoned")
            .retain(|(joined, _)| *joined != channel);
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
    end: Local<K>,
    slot: Arc<Slot<K>>,
    local: usize,
    channel: usize,
    rendezvous: Arc<Rendezvous>,
    /// Reused for every send; the chain leaves an allocation with us in exchange.
    scratch: Batch<K>,
    /// What this worker has folded and not yet handed to `recv`'s caller: a send reads
    /// back what is new (its own updates included) in the same critical section.
    received: Batch<K>,
}

impl<K: Ord + Clone + Send + Sync + 'static> Endpoint<K> {
    /// Sends `updates` to every local worker, this one included.
    ///
    /// The updates are consolidated, merged into the chain (and what is new read back for
    /// this worker's next [`recv`](Self::recv)), and the other local workers that
    /// [`park`](Rendezvous::park) are woken. Nothing happens if the updates consolidate to
    /// nothing. The caller must arrange for its own worker to call [`recv`](Self::recv) later.
    ///
    /// # Examples
    /// ```
    /// let rendezvous = progcaster_chain::Rendezvous::new(2);
    /// let mut a = rendezvous.join::<&str>(7, 0);
    /// let mut b = rendezvous.join::<&str>(7, 1);
    /// a.send([("x", 1), ("y", 2)]);
    /// a.send([("x", -1)]);
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
    /// let mut a = rendezvous.join::<u32>(0, 0);
    /// a.send_consolidated([(1, 1), (5, -1)]);
    /// let mut seen = Vec::new();
    /// a.recv(|updates| seen.extend_from_slice(updates));
    /// assert_eq!(seen, vec![(1, 1), (5, -1)]);
    /// ```
    pub fn send_consolidated<I: IntoIterator<Item = (K, i64)>>(&mut self, updates: I) {
        self.scratch.extend_sorted(updates);
        self.publish();
    }

    /// Sends the consolidated `scratch` (leaving it empty), reads back what is new, and
    /// wakes the other workers that park.
    fn publish(&mut self) {
        if self.scratch.updates().is_empty() {
            return;
        }
        match &mut self.end {
            Local::Lanes(end) => {
                end.send_and_recv(&mut self.scratch, &mut self.received);
            }
            Local::Chain(reader) => {
                reader.send_and_recv(&mut self.scratch, &mut self.received);
            }
        }
        self.looked();
        self.rendezvous.wake_others(self.local);
    }

    /// Records the version this worker's reader has now looked at, for its polls.
    fn looked(&self) {
        if let (Local::Chain(reader), Medium::Chain { seen, .. }) = (&self.end, &self.slot.medium) {
            // Relaxed: read only by this worker's thread.
            seen[self.local].store(reader.version(), Ordering::Relaxed);
        }
    }

    /// Hands everything new, as one consolidated slice of updates, to `logic`.
    ///
    /// Returns true if there was anything new. Every update sent by any local worker since
    /// the chain was created is handed over exactly once, though updates sent by different
    /// workers (or in different sends) may arrive merged and cancelled against one another.
    /// What this worker sent is read back by its send; it arrives here with the rest.
    /// `logic` runs after the chain's lock is released.
    pub fn recv(&mut self, logic: impl FnOnce(&[(K, i64)])) -> bool {
        match &mut self.end {
            Local::Lanes(end) => end.recv(&mut self.received),
            Local::Chain(reader) => reader.recv(&mut self.received),
        };
        self.looked();
        if self.received.updates().is_empty() {
            return false;
        }
        // NOTE: after the chain's lock is released: `logic` may take its time.
        logic(self.received.updates());
        self.received.clear();
        true
    }
}

impl<K: Ord + Clone + Send + Sync + 'static> Endpoint<K> {
    /// After a send: hands to `send` what the process's workers sent on this channel and the
    /// forwarder has not handed on yet, as numbered net changes, once it may move a frontier
    /// elsewhere; unless another worker's call is doing so (which then covers this worker's
    /// sends too).
    ///
    /// `send(seq, delta)` runs on this thread, for each delta handed on, with `seq` counting
    /// 0, 1, 2, ... per channel and process: the deltas `0..=seq` are together the net change
    /// of a prefix of the chain's total order of sends. Receivers must apply them in `seq`
    /// order (see [`Sequencer`](crate::Sequencer)). Does nothing for an endpoint that joined
    /// without forwarding.
    ///
    /// # When a delta is held back
    ///
    /// `capability(key)` classifies keys: `Some(initial)` for a key that counts capabilities
    /// (timely: a pointstamp at an output port of an operator, node 0 excepted), where each
    /// worker starts with `initial` capabilities that it never sends (timely: 1 at the minimum
    /// time, 0 elsewhere); `None` for any other key (messages in flight, records entering the
    /// scope), whose count in one process may be negative, as a message produced by one
    /// process is consumed by another. The delta folded so far is held while every `-1` in it
    /// is at a capability key whose count, everything forwarded plus the delta (initial
    /// capabilities left out), stays positive. The premise, proven in `chain/DESIGN.md`
    /// (section 8.1) and checked here in debug builds: a process's forwarded count at a
    /// capability key is never below `-initial` times its workers, because it is the number
    /// of capabilities its workers hold there, less their initial ones. Then each such key
    /// is positive in every receiver's view whether or not the delta is applied, so holding
    /// it leaves every frontier at least as far advanced as applying it would. Safety never
    /// rests on this: what the receivers see is a prefix of this process's sends either way.
    /// A worker's retired capability whose time other local workers still hold (a barrier
    /// round that only some workers have left) is then told to other processes once, with
    /// the last worker's `-1`.
    ///
    /// # Examples
    /// ```
    /// let rendezvous = progcaster_chain::Rendezvous::new(2);
    /// let mut a = rendezvous.join_forwarding::<(bool, u64)>(7, 0);
    /// let mut b = rendezvous.join_forwarding::<(bool, u64)>(7, 1);
    /// // Keys are (counts capabilities, time); both workers hold a capability at time 0 from
    /// // the start (timely's initial capabilities, which no one sends), and move it on.
    /// let capability = |key: &(bool, u64)| key.0.then_some(i64::from(key.1 == 0));
    /// let mut out = Vec::new();
    /// for time in 0..2 {
    ///     for worker in [&mut a, &mut b] {
    ///         worker.send([((true, time), -1), ((true, time + 1), 1)]);
    ///         worker.forward(capability, |seq, delta| out.push((seq, delta.to_vec())));
    ///     }
    /// }
    /// assert_eq!(out, vec![
    ///     // Time 0 was never forwarded: its count here is unknown, each -1 goes at once.
    ///     (0, vec![((true, 0), -1), ((true, 1), 1)]),
    ///     (1, vec![((true, 0), -1), ((true, 1), 1)]),
    ///     // Time 1 counts 2 here: worker 0's -1 is held until worker 1's.
    ///     (2, vec![((true, 1), -2), ((true, 2), 2)]),
    /// ]);
    /// ```
    ///
    /// # Panics
    /// In debug builds, if a forwarded count at a capability key falls below `-initial`
    /// times the process's workers (the premise of the hold-back rule is broken).
    pub fn forward(
        &mut self,
        capability: impl Fn(&K) -> Option<i64>,
        mut send: impl FnMut(u64, &[(K, i64)]),
    ) {
        let Medium::Chain { forwarder, .. } = &self.slot.medium else {
            return;
        };
        let forwarded = &self.slot.forwarded;
        let held = &self.slot.held;
        // NOTE: both closures run only in the forwarder of the moment: the locks are never
        // contended.
        let ready = |delta: &Batch<K>| {
            let forwarded = forwarded.lock().expect("forwarded counts poisoned");
            needs_forwarding(delta.updates(), forwarded.updates(), &capability)
        };
        let threads = self.rendezvous.threads;
        forwarder.forward_when(ready, |seq, delta| {
            let mut counts = forwarded.lock().expect("forwarded counts poisoned");
            counts.extend(
                delta
                    .updates()
                    .iter()
                    .filter(|(key, _)| capability(key).is_some())
                    .cloned(),
            );
            if cfg!(debug_assertions) {
                check_premise(delta.updates(), counts.updates(), &capability, threads);
            }
            if fault::split_forward() {
                // Deliberately broken (tests only): each delta's `+1`s go out with the next
                // delta, after its `-1`s (the last delta's `+1`s never go).
                let mut held = held.lock().expect("held updates poisoned");
                let mut out = std::mem::take(&mut *held);
                for (key, diff) in delta.updates() {
                    if *diff < 0 {
                        out.update(key.clone(), *diff);
                    } else {
                        held.update(key.clone(), *diff);
                    }
                }
                send(seq, out.updates());
            } else {
                send(seq, delta.updates());
            }
        });
    }
}

/// Whether a held `delta` may move a frontier in another process (see [`Endpoint::forward`]):
/// it has a `-1` at a key that does not count capabilities, or at one whose count, the
/// `forwarded` counts plus the delta, is no longer positive. Both slices are sorted by key.
fn needs_forwarding<K: Ord>(
    delta: &[(K, i64)],
    forwarded: &[(K, i64)],
    capability: impl Fn(&K) -> Option<i64>,
) -> bool {
    delta.iter().any(|(key, diff)| {
        *diff < 0 && (capability(key).is_none() || count_at(forwarded, key) + diff <= 0)
    })
}

/// The count at `key` in consolidated `updates` (sorted by key), 0 where it has none.
fn count_at<K: Ord>(updates: &[(K, i64)], key: &K) -> i64 {
    updates
        .binary_search_by(|(k, _)| k.cmp(key))
        .map_or(0, |i| updates[i].1)
}

/// The premise of the hold-back rule (`chain/DESIGN.md`, section 8.1): after a forward, the
/// process's `forwarded` count at each capability key of the `delta` is at least `-initial`
/// times its `threads` workers (it is the capabilities its workers hold there, less the
/// initial ones they never send).
///
/// # Panics
/// If a count is lower.
fn check_premise<K: Ord>(
    delta: &[(K, i64)],
    forwarded: &[(K, i64)],
    capability: impl Fn(&K) -> Option<i64>,
    threads: usize,
) {
    for (key, _) in delta {
        if let Some(initial) = capability(key) {
            let count = count_at(forwarded, key);
            let floor = -initial * threads as i64;
            assert!(
                count >= floor,
                "progress premise broken: this process's forwarded count at a capability is \
                 {count}, below {floor} (minus its workers' initial capabilities); holding \
                 deltas back (chain/DESIGN.md, section 8.1) would be unsound"
            );
        }
    }
}

impl<K: Ord + Clone + Send + Sync + 'static> Drop for Endpoint<K> {
    fn drop(&mut self) {
        self.rendezvous.leave(self.channel, self.local);
    }
}

#[cfg(test)]
mod tests {
    use super::{check_premise, needs_forwarding};

    /// Keys are `(is a capability, time)`; each worker starts with one capability at time 0.
    fn capability(key: &(bool, u64)) -> Option<i64> {
        key.0.then_some(i64::from(key.1 == 0))
    }

    /// A delta of `(key, diff)` updates.
    type Delta = &'static [((bool, u64), i64)];

    #[test]
    fn which_deltas_are_held() {
        let forwarded = [((true, 0), 2), ((true, 3), 1)];
        let cases: &[(Delta, bool)] = &[
            // Only `+1`s: never needed.
            (&[((true, 5), 1), ((false, 5), 1)], false),
            // A capability `-1` that leaves a count: held.
            (&[((true, 0), -1), ((true, 1), 1)], false),
            // The last capability at a time: needed.
            (&[((true, 3), -1), ((true, 4), 1)], true),
            (&[((true, 0), -2)], true),
            // A capability the process never forwarded (its `+1` is in the delta): needed.
            (&[((true, 7), -1)], true),
            // A message consumed: always needed.
            (&[((false, 0), -1), ((true, 0), 1)], true),
        ];
        for (delta, expected) in cases {
            assert_eq!(
                needs_forwarding(delta, &forwarded, capability),
                *expected,
                "{delta:?}"
            );
        }
    }

    /// The premise check passes counts down to minus the initial capabilities, and fails
    /// below: a capability count that a process could not have (a worker's `-1` at a time
    /// where no worker of the process held a capability).
    #[test]
    fn the_premise_check_fails_on_a_count_no_process_can_have() {
        // Two workers: at time 0 the floor is -2 (their initial capabilities), elsewhere 0.
        let delta = [((true, 0), -1), ((true, 1), -1), ((false, 1), -5)];
        check_premise(&delta, &[((true, 0), -2), ((false, 1), -5)], capability, 2);
        for forwarded in [&[((true, 0), -3)][..], &[((true, 1), -1)][..]] {
            let broken = std::panic::catch_unwind(|| {
                check_premise(&delta, forwarded, capability, 2);
            });
            let message = broken.expect_err("a count below the floor");
            let message = message
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            assert!(message.starts_with("progress premise broken"), "{message}");
        }
    }
}

//! Sleepers: which threads of a group are about to park, so that a sender wakes only those.

use crossbeam_utils::CachePadded;

use crate::sync::{fence, AtomicBool, Ordering};

/// One "parking" flag per thread of a group (the workers reading a set of chains), and the
/// protocol that lets a sender skip every thread that is not parked without losing a wakeup.
///
/// A thread that finds nothing to do calls [`park`](Self::park): it raises its flag, looks
/// for news once more, and parks only if there is none. A sender calls
/// [`wake_others`](Self::wake_others) after its send, and wakes the threads whose flag is up.
/// A thread that is running, or spinning before it parks, finds news by looking at the chains'
/// versions ([`Chain::has_news_since`](crate::Chain::has_news_since)): nothing is written on
/// its behalf.
///
/// # Why no wakeup is lost
///
/// A sender's send (its version store), a `SeqCst` fence, then its load of a flag; a parking
/// thread's raise of its flag, a `SeqCst` fence, then its look at the versions. The fences
/// are totally ordered. If the sender's comes first, the look sees the send and the thread
/// does not park. If the thread's comes first, the sender's load sees the flag up (or lowered
/// again after the park ended, when the thread looks anyway) and wakes it; a wake that comes
/// before the park makes the park return at once, as `std::thread::park` does.
///
/// # Cost
///
/// While nobody parks, a sender reads one flag per other thread and writes nothing: the flags
/// are written only around parks, so they stay in every sender's cache. A parking thread
/// writes its own flag twice.
///
/// # Examples
///
/// ```
/// use chain::{Chain, Sleepers};
///
/// let (chain, mut readers) = Chain::<u64>::with_readers(2);
/// let sleepers = Sleepers::new(2);
/// let mut woken = Vec::new();
/// chain.send(1);
/// sleepers.wake_others(0, |thread| woken.push(thread));
/// assert!(woken.is_empty()); // nobody parks
/// // Thread 1 does not park: it has news.
/// let seen = readers[1].version();
/// sleepers.park(1, || chain.has_news_since(seen), || unreachable!());
/// ```
#[derive(Debug)]
pub struct Sleepers {
    /// Indexed by thread; padded, as each is written by its thread and read by every sender.
    parking: Box<[CachePadded<AtomicBool>]>,
}

impl Sleepers {
    /// Flags for `threads` threads, none parking.
    pub fn new(threads: usize) -> Self {
        Sleepers {
            parking: (0..threads)
                .map(|_| CachePadded::new(AtomicBool::new(false)))
                .collect(),
        }
    }

    /// After a send by thread `me`: calls `wake` with the index of every other thread that
    /// parks or is about to.
    pub fn wake_others(&self, me: usize, mut wake: impl FnMut(usize)) {
        // SeqCst: orders the caller's send before the loads below (see the type's docs).
        fence(Ordering::SeqCst);
        for (thread, parking) in self.parking.iter().enumerate() {
            // Relaxed: the fences order it; a stale `true` only wakes a thread for nothing.
            if thread != me && parking.load(Ordering::Relaxed) {
                wake(thread);
            }
        }
    }

    /// Parks thread `me` by calling `park`, unless `has_news` (a look at the chains, after
    /// the flag is raised) finds something to receive. `park` must return when woken, also
    /// when the wake came first (as `std::thread::park` does with its token).
    pub fn park(&self, me: usize, has_news: impl FnOnce() -> bool, park: impl FnOnce()) {
        let parking = &self.parking[me];
        parking.store(true, Ordering::Relaxed);
        // SeqCst: orders the raise before the look (see the type's docs).
        fence(Ordering::SeqCst);
        if !has_news() {
            park();
        }
        // Relaxed: a sender that still sees the flag up wakes us for nothing; the next park
        // returns at once and we look again.
        parking.store(false, Ordering::Relaxed);
    }
}

//! A counting global allocator: live bytes across all threads, allocations per thread.
//!
//! The allocator is a thin wrapper around [`System`]. It is installed only by the bench
//! binary (and the tests that need it) with `#[global_allocator]`; the library itself
//! never installs it, so linking the library changes nothing.
//!
//! Live bytes are kept in [`SLOTS`] cache-padded per-thread slots rather than in one
//! shared word, so that counting does not add a contended cache line to every
//! allocation of the media under test. A thread picks its slot once, round-robin; two
//! threads that share a slot stay correct because every update is an atomic add.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use crossbeam_utils::CachePadded;

/// Number of per-thread counter slots.
const SLOTS: usize = 64;

/// Per-slot live byte counts (may be negative: a thread can free another's memory).
static LIVE: [CachePadded<AtomicI64>; SLOTS] =
    [const { CachePadded::new(AtomicI64::new(0)) }; SLOTS];
/// Next slot to hand out.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's slot, `usize::MAX` until first use. Const-initialized and without
    /// a destructor, so touching it never allocates and never fails during teardown.
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
    /// Allocations made by this thread (read by [`thread_allocs`]).
    static THREAD_ALLOCS: Cell<u64> = const { Cell::new(0) };
}

/// The slot of the calling thread.
fn slot() -> usize {
    SLOT.try_with(|s| {
        let mut v = s.get();
        if v == usize::MAX {
            // Relaxed: the slot number only spreads threads over slots; any value is correct.
            v = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
            s.set(v);
        }
        v
    })
    .unwrap_or(0)
}

/// Records an allocation of `bytes` by the calling thread.
fn on_alloc(bytes: usize) {
    let s = slot();
    // Relaxed: counters are read only after the measured threads have synchronized
    // (joined or passed a barrier), which orders these adds before the read.
    LIVE[s].fetch_add(bytes as i64, Ordering::Relaxed);
    let _ = THREAD_ALLOCS.try_with(|c| c.set(c.get() + 1));
}

/// Records a deallocation of `bytes` by the calling thread.
fn on_dealloc(bytes: usize) {
    // Relaxed: see `on_alloc`.
    LIVE[slot()].fetch_sub(bytes as i64, Ordering::Relaxed);
}

/// A global allocator that counts live bytes and allocations, delegating to [`System`].
///
/// Install it in a binary with
/// `#[global_allocator] static A: benches::CountingAlloc = benches::CountingAlloc;`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees carry over; the counting touches only atomics and const-initialized
// thread-locals, which never allocate (no re-entrancy).
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            on_alloc(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            on_alloc(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) };
        on_dealloc(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from `System`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            on_dealloc(layout.size());
            on_alloc(new_size);
        }
        p
    }
}

/// Bytes currently allocated through [`CountingAlloc`], summed over all threads.
///
/// Zero when [`CountingAlloc`] is not the global allocator. Exact only while no other
/// thread is allocating.
pub fn live_bytes() -> i64 {
    LIVE.iter().map(|c| c.load(Ordering::Relaxed)).sum()
}

/// Allocations (including reallocations) made so far by the calling thread.
///
/// Cheap (a thread-local read), so it can bracket a single operation.
pub fn thread_allocs() -> u64 {
    THREAD_ALLOCS.try_with(|c| c.get()).unwrap_or(0)
}

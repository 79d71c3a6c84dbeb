//! The in-place fast path allocates nothing: counted by a global allocator.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chain::{Batch, Chain, Lanes};

/// Counts the allocations made by threads that opted in.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// Test instrumentation on `std`'s allocator, outside the chain: no loom model covers it, and
// loom builds (`cfg(loom)`) do not compile this file.
// SAFETY: every method forwards its arguments unchanged to `System`, which upholds
// `GlobalAlloc`'s contract; counting touches only destructor-free thread-local `Cell`s (usable
// at any point of a thread's life) and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn in_place_sends_allocate_nothing() {
    const SENDS: u64 = 10_000;
    // Batches: after the catch-up, the first send appends; the rest change existing keys.
    let (chain, mut readers) = Chain::<Batch<u64>>::with_readers(2);
    let mut buffer = Batch::with_capacity(4);
    let mut seen = Batch::with_capacity(4);
    buffer.extend([(1, 1), (2, 1)]);
    chain.send_from(&mut buffer);
    readers[0].recv(&mut seen);
    buffer.extend([(1, 1), (2, 1)]);
    chain.send_from(&mut buffer); // appends: reader 0 pins the newest node
                                  // The append took the caller's buffer; its first refill allocates, once.
    buffer.extend([(1, 1), (2, -1)]);
    chain.send_from(&mut buffer);
    let before = chain.stats();
    let counted = allocations(|| {
        for i in 0..SENDS {
            let diff = if i % 2 == 0 { 1 } else { -1 };
            buffer.update(1, diff);
            buffer.update(2, -diff);
            chain.send_from(&mut buffer);
        }
    });
    let after = chain.stats();
    assert_eq!(after.merged_in_place - before.merged_in_place, SENDS);
    assert_eq!(
        counted, 0,
        "{counted} allocations in {SENDS} in-place sends"
    );
    // The reader that keeps up, folding into an accumulator with the same keys: each
    // round's send appends (the reader pinned the newest atom) and takes a spare buffer in
    // exchange for the caller's, and the reader's move retires an atom into the spares.
    let mut round = || {
        buffer.update(1, 1);
        chain.send_from(&mut buffer);
        readers[0].recv(&mut seen);
        readers[1].recv(&mut seen);
    };
    // Warm-up: the spares and the ring of atoms reach their working size.
    (0..10).for_each(|_| round());
    let counted = allocations(|| (0..1000).for_each(|_| round()));
    assert_eq!(counted, 0, "{counted} allocations in 1000 send+recv rounds");
    // Integer atoms: nothing to allocate at all.
    let (sums, _sum_readers) = Chain::<u64>::with_readers(1);
    sums.send(1);
    assert_eq!(allocations(|| (0..SENDS).for_each(|i| sums.send(i))), 0);
}

/// The progress pattern of two timely workers in a barrier: each in turn reads the other's
/// update, then sends its own and reads it back. Every send appends (the other worker pins
/// the newest atom), and every read retires one: once warm, nothing is allocated.
#[test]
fn barrier_rounds_allocate_nothing() {
    let (_chain, mut readers) = Chain::<Batch<u64>>::with_readers(2);
    let mut buffers = [Batch::with_capacity(4), Batch::with_capacity(4)];
    let mut folded = [Batch::with_capacity(8), Batch::with_capacity(8)];
    let mut round = |r: u64| {
        for w in 0..2 {
            readers[w].recv(&mut folded[w]);
            buffers[w].update(2 * r + w as u64, -1);
            buffers[w].update(2 * (r + 1) + w as u64, 1);
            readers[w].send_and_recv(&mut buffers[w], &mut folded[w]);
            folded[w].clear();
        }
    };
    for r in 0..10 {
        round(r);
    }
    let counted = allocations(|| (10..10_010).for_each(&mut round));
    assert_eq!(counted, 0, "{counted} allocations in 10,000 barrier rounds");
}

/// Lanes in steady state: two endpoints in turn send a batch (retiring one key, announcing
/// the next) and fold both lanes with `send_and_recv`. A send hands the caller the buffer of
/// the atom it overwrites, so once the rings have gone round and the buffers reached their
/// working size, 10,000 rounds allocate nothing (and nobody lags, so nothing is drained).
#[test]
fn lanes_send_and_recv_allocate_nothing() {
    const ROUNDS: u64 = 10_000;
    let (lanes, mut endpoints) = Lanes::<Batch<u64>>::new(2, 4);
    let mut buffers = [Batch::with_capacity(4), Batch::with_capacity(4)];
    let mut folded = [Batch::with_capacity(8), Batch::with_capacity(8)];
    let mut round = |r: u64| {
        for w in 0..2 {
            buffers[w].update(2 * r + w as u64, -1);
            buffers[w].update(2 * (r + 1) + w as u64, 1);
            assert!(endpoints[w].send_and_recv(&mut buffers[w], &mut folded[w]));
            folded[w].clear();
        }
    };
    // Warm-up: the slots' buffers, empty at first, go round and grow to two updates.
    (0..10).for_each(&mut round);
    let counted = allocations(|| (10..10 + ROUNDS).for_each(&mut round));
    assert_eq!(
        counted, 0,
        "{counted} allocations in {ROUNDS} lanes send_and_recv rounds"
    );
    let stats = lanes.stats();
    assert_eq!(stats.sent, 2 * (10 + ROUNDS));
    assert_eq!(stats.drained, 0);
}

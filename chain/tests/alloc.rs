//! The in-place fast path allocates nothing: counted by a global allocator.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chain::{Batch, Chain};

/// Counts the allocations made by threads that opted in.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

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
    // The reader that keeps up, folding into an accumulator with the same keys, allocates
    // nothing either once its accumulator holds them.
    let counted = allocations(|| {
        for _ in 0..100 {
            buffer.update(1, 1);
            chain.send_from(&mut buffer);
            readers[0].recv(&mut seen);
        }
    });
    // Each round's send appends (the reader pinned the newest): the node, and the refill
    // of the caller's buffer that the new node took. Nothing else.
    assert!(
        counted <= 200,
        "{counted} allocations in 100 send+recv rounds"
    );
    // Integer atoms: nothing to allocate at all.
    let (sums, _sum_readers) = Chain::<u64>::with_readers(1);
    sums.send(1);
    assert_eq!(allocations(|| (0..SENDS).for_each(|i| sums.send(i))), 0);
}

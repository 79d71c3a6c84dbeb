//! Behaviour of `Chain`, `Reader` and `Mesh` on one thread and on several.
#![cfg(not(loom))]

use std::sync::Barrier;
use std::thread;

use chain::{Batch, Chain, Chainable, Mesh, Reader};

/// Drains `reader` into a fresh `u64` total.
fn total(reader: &mut Reader<u64>) -> u64 {
    let mut acc = 0;
    reader.recv(&mut acc);
    acc
}

#[test]
fn single_reader_sees_every_send() {
    let (chain, mut readers) = Chain::<u64>::with_readers(1);
    for i in 1..=10 {
        chain.send(i);
    }
    assert_eq!(total(&mut readers[0]), 55);
    chain.send(100);
    assert_eq!(total(&mut readers[0]), 100);
}

#[test]
fn multiple_readers_each_see_everything_once() {
    let (chain, mut readers) = Chain::<u64>::with_readers(4);
    let mut totals = [0u64; 4];
    for round in 0..50u64 {
        chain.send(round);
        // Reader r reads every r+1 rounds.
        for (r, reader) in readers.iter_mut().enumerate() {
            if round % (r as u64 + 1) == 0 {
                totals[r] += total(reader);
            }
        }
    }
    for (r, reader) in readers.iter_mut().enumerate() {
        totals[r] += total(reader);
        assert_eq!(totals[r], (0..50).sum::<u64>(), "reader {r}");
    }
}

#[test]
fn late_reader_sees_only_later_sends() {
    let (chain, mut early) = Chain::<u64>::with_readers(1);
    chain.send(1);
    let mut late = chain.reader();
    chain.send(10);
    let mut later = chain.reader();
    chain.send(100);
    assert_eq!(total(&mut early[0]), 111);
    assert_eq!(total(&mut late), 110);
    assert_eq!(total(&mut later), 100);
}

#[test]
fn late_reader_after_in_place_merges_misses_nothing_owed() {
    // The newest node is unpinned and absorbing sends when the late reader registers.
    let chain = Chain::<u64>::new();
    chain.send(1);
    chain.send(2);
    let mut late = chain.reader();
    chain.send(4);
    chain.send(8);
    assert_eq!(total(&mut late), 12);
}

#[test]
fn repeated_and_empty_recvs() {
    let (chain, mut readers) = Chain::<u64>::with_readers(1);
    let reader = &mut readers[0];
    assert!(!reader.recv(&mut 0));
    assert!(!reader.has_news());
    chain.send(3);
    assert!(reader.has_news());
    let mut acc = 0;
    assert!(reader.recv(&mut acc));
    assert!(!reader.recv(&mut acc));
    assert!(!reader.recv(&mut acc));
    assert_eq!(acc, 3);
    // Sending the identity is not news.
    chain.send(0);
    assert!(!reader.has_news());
}

#[test]
fn cancelled_atoms_are_not_handed_out() {
    let (chain, mut readers) = Chain::<i64>::with_readers(1);
    chain.send(5);
    chain.send(-5);
    let mut calls = 0;
    assert!(!readers[0].recv_with(|_| calls += 1));
    assert_eq!(calls, 0);
}

#[test]
fn laggard_compaction_bound() {
    // One laggard never reads; another reader keeps up. State stays bounded and the laggard
    // folds a bounded number of atoms holding the net total.
    let (chain, mut readers) = Chain::<u64>::with_readers(2);
    let (laggard, rest) = readers.split_at_mut(1);
    for i in 0..10_000u64 {
        chain.send(i);
        total(&mut rest[0]);
        assert!(
            chain.live_nodes() <= 2 + 1,
            "live {} at {i}",
            chain.live_nodes()
        );
    }
    let mut atoms = 0;
    let mut sum = 0;
    laggard[0].recv_with(|atom| {
        atoms += 1;
        sum += atom;
    });
    assert_eq!(sum, (0..10_000).sum::<u64>());
    assert!(atoms <= 2, "laggard folded {atoms} atoms");
}

#[test]
fn many_readers_at_distinct_positions_stay_within_bound() {
    // Readers catch up in a rotating pattern that leaves a reader-free node between pinned
    // ones: only forward absorption keeps this within R + 1 (see DESIGN.md).
    for readers in 1..=6usize {
        let (chain, mut rs) = Chain::<u64>::with_readers(readers);
        let mut totals = vec![0; readers];
        let mut sent = 0;
        for round in 0..500usize {
            chain.send(1);
            sent += 1;
            let r = (round * 7 + round / 3) % readers;
            totals[r] += total(&mut rs[r]);
            assert!(
                chain.live_nodes() <= readers + 1,
                "R={readers} live={} round {round}",
                chain.live_nodes()
            );
        }
        for (r, reader) in rs.iter_mut().enumerate() {
            totals[r] += total(reader);
            assert_eq!(totals[r], sent);
        }
    }
}

#[test]
fn schedule_that_defeats_backward_compaction_stays_within_bound() {
    // DESIGN.md section 6: with the seed's rule (absorb an unpinned successor into an
    // unpinned node) this schedule leaves 7 nodes for 4 readers.
    let (chain, mut rs) = Chain::<u64>::with_readers(4);
    let (a, b, c, d) = (0, 1, 2, 3);
    for reader in [d, b, d, c, d] {
        chain.send(1);
        total(&mut rs[reader]);
    }
    chain.send(1);
    assert!(
        chain.live_nodes() <= 4 + 1,
        "{} live nodes",
        chain.live_nodes()
    );
    assert_eq!(total(&mut rs[a]), 6);
}

#[test]
fn reader_drop_heals() {
    let (chain, mut readers) = Chain::<u64>::with_readers(2);
    let laggard = readers.pop().unwrap();
    let mut keeper = readers.pop().unwrap();
    for i in 1..=100 {
        chain.send(i);
        total(&mut keeper);
    }
    chain.send(1);
    // The laggard's sentinel, the keeper's pin, and the newest node taking sends.
    assert_eq!(chain.live_nodes(), 3);
    let before = chain.stats();
    drop(laggard);
    assert_eq!(chain.live_nodes(), 2);
    drop(keeper);
    assert_eq!(chain.live_nodes(), 1);
    let after = chain.stats();
    assert_eq!(after.trimmed - before.trimmed, 2, "{after:?}");
    assert!(after.absorbed >= 98, "{after:?}");
}

#[test]
fn in_place_fast_path_after_catch_up() {
    let (chain, mut readers) = Chain::<u64>::with_readers(1);
    chain.send(1);
    total(&mut readers[0]);
    let before = chain.stats();
    for i in 1..=1000 {
        chain.send(i);
    }
    let after = chain.stats();
    assert_eq!(chain.live_nodes(), 2);
    assert_eq!(after.appended - before.appended, 1);
    assert_eq!(after.merged_in_place - before.merged_in_place, 999);
    assert_eq!(total(&mut readers[0]), (1..=1000).sum::<u64>());
}

#[test]
fn mesh_delivers_every_writer() {
    let (writers, mut readers) = Mesh::<u64>::new(3, 2);
    for (w, writer) in writers.iter().enumerate() {
        writer.send(10u64.pow(w as u32));
    }
    for reader in &mut readers {
        let mut acc = 0;
        assert!(reader.recv(&mut acc));
        assert_eq!(acc, 111);
        assert!(!reader.has_news());
    }
}

#[test]
fn mesh_cannot_cancel_across_writers() {
    // The documented pathology: +1/-1 pairs across writers never consolidate.
    let (writers, mut readers) = Mesh::<Batch<u64>>::new(2, 2);
    let (laggard, keeper) = readers.split_at_mut(1);
    for t in 0..100u64 {
        writers[0].send([(t, 1)].into_iter().collect());
        writers[1].send([(t, -1)].into_iter().collect());
        keeper[0].recv(&mut Batch::new());
    }
    let mut updates = 0;
    let mut net = Batch::new();
    laggard[0].recv_with(|atom| {
        updates += atom.len();
        net.merge_ref(atom);
    });
    assert!(net.is_empty());
    assert_eq!(updates, 200);
}

#[test]
fn sequential_writer_handles() {
    let (chain, mut readers) = Chain::<u64>::with_readers(1);
    let a = chain.clone();
    let b = chain.clone();
    a.send(1);
    b.send(2);
    drop(a);
    b.send(4);
    assert_eq!(total(&mut readers[0]), 7);
}

#[test]
fn cross_writer_cancellation_keeps_state_bounded() {
    let (chain, mut readers) = Chain::<Batch<u64>>::with_readers(2);
    let (laggard, keeper) = readers.split_at_mut(1);
    let (a, b) = (chain.clone(), chain.clone());
    for t in 0..10_000u64 {
        a.send([(t, 1)].into_iter().collect());
        b.send([(t, -1)].into_iter().collect());
        keeper[0].recv(&mut Batch::new());
        assert!(chain.live_nodes() <= 4);
    }
    let mut updates = 0;
    laggard[0].recv_with(|atom| updates += atom.len());
    assert_eq!(
        updates, 0,
        "everything cancelled, the laggard folds nothing"
    );
}

#[test]
fn concurrent_writers_one_reader() {
    const WRITERS: u64 = 4;
    const SENDS: u64 = 5_000;
    let (chain, mut readers) = Chain::<u64>::with_readers(1);
    let mut acc = 0;
    thread::scope(|s| {
        for w in 0..WRITERS {
            let chain = chain.clone();
            s.spawn(move || (0..SENDS).for_each(|i| chain.send(w * SENDS + i)));
        }
        for _ in 0..1000 {
            readers[0].recv(&mut acc);
            thread::yield_now();
        }
    });
    readers[0].recv(&mut acc);
    assert_eq!(acc, (0..WRITERS * SENDS).sum::<u64>());
    assert!(chain.live_nodes() <= 3);
}

#[test]
fn concurrent_writers_many_readers() {
    const WORKERS: usize = 4;
    const SENDS: u64 = 3_000;
    let (chain, readers) = Chain::<u64>::with_readers(WORKERS);
    let start = Barrier::new(WORKERS);
    let totals: Vec<u64> = thread::scope(|s| {
        let handles: Vec<_> = readers
            .into_iter()
            .map(|mut reader| {
                let (chain, start) = (chain.clone(), &start);
                s.spawn(move || {
                    start.wait();
                    let mut acc = 0;
                    for i in 1..=SENDS {
                        chain.send(i);
                        reader.recv(&mut acc);
                    }
                    start.wait();
                    reader.recv(&mut acc);
                    acc
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let expected = WORKERS as u64 * (1..=SENDS).sum::<u64>();
    assert!(totals.iter().all(|&t| t == expected), "{totals:?}");
    assert!(chain.live_nodes() <= 1, "all readers dropped");
}

#[test]
fn long_chain_drops_without_recursion() {
    // One never-reading reader per atom holds a long chain apart. Readers dropped while
    // panicking skip compaction, so the whole chain is still there when the last handle
    // goes, on a small stack. (The atoms live in a ring buffer, so dropping them cannot
    // recurse; this guards against a return to linked nodes, which the first design had.)
    const NODES: usize = 100_000;
    let worker = thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(|| {
            let chain = Chain::<u64>::new();
            let readers: Vec<_> = (0..NODES)
                .map(|i| {
                    let reader = chain.reader();
                    chain.send(i as u64 + 1);
                    reader
                })
                .collect();
            assert_eq!(chain.live_nodes(), NODES + 1);
            let _owned = (chain, readers);
            panic!("unwind with the chain still long");
        })
        .unwrap();
    let message = worker.join().expect_err("the worker panics on purpose");
    assert_eq!(
        message.downcast_ref::<&str>(),
        Some(&"unwind with the chain still long")
    );
}

/// An atom whose owned merge panics on 13: the stand-in for a user's buggy merge.
#[derive(Default)]
struct Touchy(u32);

impl Chainable for Touchy {
    fn merge_from(&mut self, other: &mut Self) {
        assert!(other.0 != 13, "unlucky merge");
        self.0 += std::mem::take(&mut other.0);
    }
    fn merge_ref(&mut self, other: &Self) {
        self.0 += other.0;
    }
    fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

/// Runs `f`, expecting the documented poison panic.
fn assert_poisoned(what: &str, f: impl FnOnce()) {
    let message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("a poisoned chain must panic");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| message.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(text.starts_with("chain poisoned"), "{what}: {text}");
}

#[test]
fn panic_in_merge_poisons_with_clear_message() {
    let (chain, mut readers) = Chain::<Touchy>::with_readers(1);
    chain.send(Touchy(1));
    chain.send(Touchy(2)); // the second send merges in place
    let writer = chain.clone();
    let died = thread::spawn(move || writer.send(Touchy(13))).join();
    assert!(died.is_err());
    assert_poisoned("send", || chain.send(Touchy(1)));
    assert_poisoned("register", || drop(chain.reader()));
    assert_poisoned("has_news", || {
        readers[0].has_news();
    });
    assert_poisoned("recv", || {
        readers[0].recv(&mut Touchy(0));
    });
    drop(readers); // dropping never panics
}

#[test]
fn panic_in_compaction_merge_poisons_too() {
    let (chain, mut readers) = Chain::<Touchy>::with_readers(2);
    let mut stays = readers.pop().unwrap();
    let mut moves = readers.pop().unwrap();
    chain.send(Touchy(13)); // appended: nothing merges it yet
    moves.recv(&mut Touchy(0));
    chain.send(Touchy(2)); // appended after the moving reader's pin
                           // The walk unpins the node holding 13; its sweep absorbs it forward, and the merge panics.
    let walker = thread::spawn(move || {
        moves.recv(&mut Touchy(0));
    });
    assert!(walker.join().is_err());
    assert_poisoned("send", || chain.send(Touchy(1)));
    assert_poisoned("recv", || {
        stays.recv(&mut Touchy(0));
    });
    assert_poisoned("compact", || chain.compact());
}

#[test]
fn panic_in_receive_callback_withholds_nothing() {
    let (chain, mut readers) = Chain::<u64>::with_readers(2);
    let (reader, other) = readers.split_at_mut(1);
    chain.send(1);
    total(&mut other[0]);
    chain.send(2); // a second atom: the reader is owed two
    let mut handed = Vec::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        reader[0].recv_with(|atom| {
            handed.push(*atom);
            panic!("the user's fold fails");
        });
    }));
    assert!(caught.is_err());
    // Both atoms, merged, were handed over, and count as delivered.
    assert_eq!(handed, vec![3]);
    assert!(!reader[0].has_news());
    chain.send(4);
    assert_eq!(
        total(&mut reader[0]),
        4,
        "the next receive starts after them"
    );
}

#[test]
fn always_panicking_callback_does_not_grow_the_chain() {
    let (chain, mut readers) = Chain::<u64>::with_readers(1);
    for round in 1..=1000 {
        chain.send(round);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            readers[0].recv_with(|_| panic!("the user's fold always fails"));
        }));
        assert!(caught.is_err());
        assert!(
            chain.live_nodes() <= 1 + 1,
            "round {round}: {}",
            chain.live_nodes()
        );
    }
}

#[test]
fn receive_callback_runs_outside_the_lock() {
    let (chain, mut readers) = Chain::<u64>::with_readers(1);
    chain.send(1);
    let mut inside = 0;
    // The callback may use the chain: it would deadlock if it ran under the chain's lock.
    readers[0].recv_with(|atom| {
        chain.send(*atom + 1);
        inside = chain.live_nodes();
    });
    assert_eq!(inside, 2);
    assert_eq!(total(&mut readers[0]), 2);
    // A writer does not wait for a slow callback of another thread.
    chain.send(3);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let mut reader = readers.pop().unwrap();
    let slow = thread::spawn(move || {
        reader.recv_with(|_| {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        reader
    });
    started_rx.recv().unwrap();
    chain.send(5); // would block until `release_tx` if the callback held the lock
    release_tx.send(()).unwrap();
    let mut reader = slow.join().unwrap();
    assert_eq!(total(&mut reader), 5);
}

/// An atom whose `Default` panics once armed: the stand-in for a user's buggy constructor.
struct Fragile(u32);

static FRAGILE_ARMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Default for Fragile {
    fn default() -> Self {
        assert!(
            !FRAGILE_ARMED.load(std::sync::atomic::Ordering::SeqCst),
            "unlucky default"
        );
        Fragile(0)
    }
}

impl Chainable for Fragile {
    fn merge_from(&mut self, other: &mut Self) {
        self.0 += std::mem::replace(&mut other.0, 0);
    }
    fn merge_ref(&mut self, other: &Self) {
        self.0 += other.0;
    }
    fn is_empty(&self) -> bool {
        self.0 == 0
    }
    fn clear(&mut self) {
        self.0 = 0;
    }
}

#[test]
fn panic_in_default_poisons_too() {
    let chain = Chain::<Fragile>::new();
    let _first = chain.reader();
    chain.send(Fragile(1)); // appends into the chain's one free slot
    let mut reader = chain.reader(); // pins the newest atom: the next send appends
                                     // No free slot is left, so the ring grows, and the caller gets `Default` in exchange.
    FRAGILE_ARMED.store(true, std::sync::atomic::Ordering::SeqCst);
    let writer = chain.clone();
    let died = thread::spawn(move || writer.send_from(&mut Fragile(1))).join();
    FRAGILE_ARMED.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(died.is_err());
    assert_poisoned("has_news", || {
        reader.has_news();
    });
    assert_poisoned("recv", || {
        reader.recv(&mut Fragile(0));
    });
    assert_poisoned("send", || chain.send(Fragile(1)));
    drop(reader); // dropping never panics
}

#[test]
fn reader_dropped_while_unwinding_neither_poisons_nor_leaks() {
    let (chain, mut readers) = Chain::<u64>::with_readers(2);
    let mut keeper = readers.pop().unwrap();
    let laggard = readers.pop().unwrap();
    chain.send(1);
    keeper.recv(&mut 0);
    chain.send(2);
    keeper.recv(&mut 0);
    chain.send(4); // the laggard pins the first atom, the keeper the third; a fourth is new
    assert_eq!(chain.live_nodes(), 3);
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _held = laggard;
        panic!("user code fails while its thread holds a reader");
    }));
    assert!(unwound.is_err());
    // The drop skipped its compaction and did not poison the chain ...
    assert_eq!(chain.live_nodes(), 3, "nothing compacted while unwinding");
    let mut acc = 0;
    keeper.recv(&mut acc);
    assert_eq!(acc, 4);
    // ... and the next critical section swept first: back within the bound for one reader.
    assert!(chain.live_nodes() <= 1 + 1, "{}", chain.live_nodes());
    chain.send(8);
    assert!(chain.live_nodes() <= 1 + 1, "{}", chain.live_nodes());
}

/// An atom whose `merge_ref` can block on a barrier: holds the chain's lock as long as the
/// test wants.
#[derive(Default)]
struct Slow(u64, Option<std::sync::Arc<std::sync::Barrier>>);

impl Chainable for Slow {
    fn merge_from(&mut self, other: &mut Self) {
        self.0 += std::mem::take(&mut other.0);
    }
    fn merge_ref(&mut self, other: &Self) {
        if let Some(barrier) = &self.1 {
            barrier.wait();
            barrier.wait();
        }
        self.0 += other.0;
    }
    fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

#[test]
fn receive_with_nothing_new_takes_no_lock() {
    let (chain, mut readers) = Chain::<Slow>::with_readers(2);
    let mut idle = readers.pop().unwrap();
    let mut busy = readers.pop().unwrap();
    chain.send(Slow(1, None));
    idle.recv(&mut Slow::default());
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let inside = std::sync::Arc::clone(&barrier);
    let holder = thread::spawn(move || {
        busy.recv(&mut Slow(0, Some(inside)));
    });
    barrier.wait(); // the busy reader folds under the chain's lock now
    let (tx, rx) = std::sync::mpsc::channel();
    let looker = thread::spawn(move || tx.send(idle.recv(&mut Slow::default())).unwrap());
    let answer = rx.recv_timeout(std::time::Duration::from_secs(5));
    barrier.wait();
    holder.join().unwrap();
    looker.join().unwrap();
    assert_eq!(
        answer,
        Ok(false),
        "a receive with nothing new waited for the lock"
    );
}

/// An atom whose borrowed merge (a reader's fold) or `clear` (a retirement) panics on 13.
#[derive(Default)]
struct Brittle(u32);

impl Chainable for Brittle {
    fn merge_from(&mut self, other: &mut Self) {
        self.0 += std::mem::take(&mut other.0);
    }
    fn merge_ref(&mut self, other: &Self) {
        assert!(other.0 != 13, "unlucky fold");
        self.0 += other.0;
    }
    fn is_empty(&self) -> bool {
        self.0 == 0
    }
    fn clear(&mut self) {
        assert!(self.0 != 7, "unlucky clear");
        self.0 = 0;
    }
}

#[test]
fn panic_in_a_receive_fold_or_a_clear_poisons_too() {
    // A reader's fold into its accumulator runs under the lock.
    let (chain, mut readers) = Chain::<Brittle>::with_readers(2);
    chain.send(Brittle(13));
    let mut reader = readers.pop().unwrap();
    let died = thread::spawn(move || reader.recv(&mut Brittle(0))).join();
    assert!(died.is_err());
    assert_poisoned("send after a fold panicked", || chain.send(Brittle(1)));
    assert_poisoned("recv after a fold panicked", || {
        readers[0].recv(&mut Brittle(0));
    });
    // Retiring the oldest atom clears its value under the lock.
    let (chain, mut readers) = Chain::<Brittle>::with_readers(2);
    chain.send(Brittle(7));
    let mut first = readers.pop().unwrap();
    first.recv(&mut Brittle(0));
    chain.send(Brittle(1));
    let mut last = readers.pop().unwrap();
    // The last reader's move unpins the first atom (empty: it clears fine) and then, on the
    // next move, the atom holding 7, which is trimmed and cleared.
    last.recv(&mut Brittle(0));
    let died = thread::spawn(move || {
        first.recv(&mut Brittle(0));
    })
    .join();
    assert!(died.is_err());
    assert_poisoned("send after a clear panicked", || chain.send(Brittle(1)));
}

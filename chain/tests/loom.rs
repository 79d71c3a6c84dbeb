//! Loom models of the chain's races. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p chain --release --test loom`.
#![cfg(loom)]

use chain::{Chain, Reader};
use loom::thread;

fn total(reader: &mut Reader<u64>) -> u64 {
    let mut acc = 0;
    reader.recv(&mut acc);
    acc
}

/// A thread that sends `values`, in order, through its own clone of `chain`.
fn spawn_sends(chain: &Chain<u64>, values: &'static [u64]) -> thread::JoinHandle<()> {
    let writer = chain.clone();
    thread::spawn(move || values.iter().for_each(|&value| writer.send(value)))
}

/// A writer's two sends race a reader's walk; the reader ends with both, exactly once.
#[test]
fn send_races_recv() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(1);
        let sender = spawn_sends(&chain, &[1, 2]);
        let mut acc = total(&mut readers[0]);
        sender.join().unwrap();
        acc += total(&mut readers[0]);
        assert_eq!(acc, 3);
        assert!(chain.live_nodes() <= 1 + 2);
    });
}

/// A send races a reader whose walk ends in a compaction that absorbs into the newest node,
/// while a laggard walks the same nodes.
#[test]
fn send_races_compaction() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(2);
        let mut laggard = readers.pop().unwrap();
        let mut keeper = readers.pop().unwrap();
        chain.send(1);
        let mut kept = total(&mut keeper);
        chain.send(2); // appends: the keeper pins the newest node
        let sender = spawn_sends(&chain, &[4]);
        let walker = thread::spawn(move || {
            kept += total(&mut keeper);
            (keeper, kept)
        });
        let mut lagged = total(&mut laggard);
        sender.join().unwrap();
        let (mut keeper, mut kept) = walker.join().unwrap();
        kept += total(&mut keeper);
        lagged += total(&mut laggard);
        assert_eq!((kept, lagged), (7, 7));
        assert_eq!(chain.live_nodes(), 1, "both caught up");
    });
}

/// A reader is dropped (unpin + compaction) while a writer sends and another reader walks.
#[test]
fn reader_drop_races_send() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(2);
        let mut stayer = readers.pop().unwrap();
        let mut leaver = readers.pop().unwrap();
        chain.send(1);
        total(&mut leaver);
        let sender = spawn_sends(&chain, &[2]);
        let dropper = thread::spawn(move || drop(leaver));
        let mut acc = total(&mut stayer);
        sender.join().unwrap();
        dropper.join().unwrap();
        acc += total(&mut stayer);
        assert_eq!(acc, 3);
        assert_eq!(chain.live_nodes(), 1);
    });
}

/// Two writers race for the in-place fast path of the newest node while a reader pins it.
#[test]
fn two_writers_race_fast_path() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(1);
        chain.send(1);
        let mut acc = total(&mut readers[0]);
        let senders = [spawn_sends(&chain, &[2]), spawn_sends(&chain, &[4])];
        acc += total(&mut readers[0]);
        for sender in senders {
            sender.join().unwrap();
        }
        acc += total(&mut readers[0]);
        assert_eq!(acc, 7);
        let stats = chain.stats();
        assert_eq!(stats.merged_in_place + stats.appended, 3);
        // The reader pins the first node: the first racing send must append after it.
        assert!(stats.appended >= 2, "a writer merged into a pinned node");
        assert!(stats.live_nodes <= 1 + 2);
    });
}

/// A late registration races two sends: it sees a suffix of them, never a part of one.
#[test]
fn registration_races_send() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(1);
        let sender = spawn_sends(&chain, &[1, 2]);
        let mut late = chain.reader();
        sender.join().unwrap();
        let seen = total(&mut late);
        assert!([0, 2, 3].contains(&seen), "late reader saw {seen}");
        assert_eq!(total(&mut readers[0]), 3);
    });
}

/// A walker reads a link to a node that a concurrent compaction absorbs: it must not pin
/// the unlinked node, whose frozen link is a side entrance past its old pin, which a third
/// thread's compaction may then absorb forward, into atoms the walker has yet to fold.
#[test]
fn walker_races_absorption() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(4);
        let mut laggard = readers.pop().unwrap();
        let dropper = readers.pop().unwrap();
        let mut middle = readers.pop().unwrap();
        let mut front = readers.pop().unwrap();
        chain.send(1);
        let mut front_total = total(&mut front);
        let mut middle_total = total(&mut middle);
        chain.send(2);
        front_total += total(&mut front);
        chain.send(4);
        // laggard and dropper @ sentinel, middle @ n1, front @ n2, newest n3 unpinned.
        let mover = thread::spawn(move || {
            front_total += total(&mut front);
            (front, front_total)
        });
        // Dropping a reader compacts, with the laggard still holding the front.
        let compactor = thread::spawn(move || drop(dropper));
        middle_total += total(&mut middle);
        let (mut front, mut front_total) = mover.join().unwrap();
        compactor.join().unwrap();
        front_total += total(&mut front);
        middle_total += total(&mut middle);
        assert_eq!((front_total, middle_total, total(&mut laggard)), (7, 7, 7));
    });
}

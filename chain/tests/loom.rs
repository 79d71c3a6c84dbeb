//! Loom models of the chain's races. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p chain --release --test loom`.
#![cfg(loom)]

use chain::{Chain, Lanes, Reader, Sleepers};
use loom::sync::{Arc, Condvar, Mutex};
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
        assert!(
            [0, 1, 3].contains(&acc),
            "a look saw {acc}: not a prefix of the sends"
        );
        sender.join().unwrap();
        acc += total(&mut readers[0]);
        assert_eq!(acc, 3);
        assert!(chain.live_nodes() <= 1 + 1);
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

/// Two writers race a reader that pins the newest atom: neither may merge into it.
#[test]
fn two_writers_race_fast_path() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(1);
        chain.send(1);
        let mut acc = total(&mut readers[0]);
        let senders = [spawn_sends(&chain, &[2]), spawn_sends(&chain, &[4])];
        let middle = total(&mut readers[0]);
        for sender in senders {
            sender.join().unwrap();
        }
        let last = total(&mut readers[0]);
        acc += middle + last;
        assert_eq!(acc, 7);
        // The reader's middle look split the racing sends (or came before or after both).
        assert!(
            [0, 2, 4, 6].contains(&middle),
            "middle receive saw {middle}"
        );
        let stats = chain.stats();
        // The reader pinned the first atom: the first racing send must append after it.
        assert!(stats.appended >= 2, "a writer merged into a pinned atom");
        // The second merges in place exactly when the reader did not look in between.
        assert_eq!(stats.merged_in_place == 1, middle == 0 || middle == 6);
        assert!(stats.live_nodes <= 1 + 1);
    });
}

/// A late registration races two sends: it is owed exactly the sends after it.
#[test]
fn registration_races_send() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(1);
        let sender = spawn_sends(&chain, &[1, 2]);
        let mut late = chain.reader();
        let registered_at = late.version();
        sender.join().unwrap();
        let seen = total(&mut late);
        let owed = [3, 2, 0][registered_at as usize];
        assert_eq!(seen, owed, "registered after {registered_at} sends");
        assert_eq!(total(&mut readers[0]), 3);
    });
}

/// Two workers each send and read back in one critical section while the other does the
/// same: each folds every send exactly once, and an in-place merge never hides one.
#[test]
fn send_and_recv_races_send_and_recv() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(2);
        let mut other = readers.pop().unwrap();
        let mut own = readers.pop().unwrap();
        let worker = thread::spawn(move || {
            let mut acc = 0;
            other.send_and_recv(&mut 1, &mut acc);
            other.send_and_recv(&mut 2, &mut acc);
            (other, acc)
        });
        let mut acc = 0;
        own.send_and_recv(&mut 4, &mut acc);
        acc += total(&mut own);
        let (mut other, mut other_acc) = worker.join().unwrap();
        acc += total(&mut own);
        other_acc += total(&mut other);
        assert_eq!((acc, other_acc), (7, 7));
        assert!(chain.live_nodes() <= 2 + 1);
    });
}

/// `std::thread::park`'s contract, from loom's mutex and condition variable: a token that
/// `unpark` sets and `park` waits for and takes. (loom's own `unpark` may end a wait on a
/// mutex or a join, which no std thread does.)
#[derive(Default)]
struct Token {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Token {
    fn park(&self) {
        let mut set = self.set.lock().unwrap();
        while !*set {
            set = self.changed.wait(set).unwrap();
        }
        *set = false;
    }

    fn unpark(&self) {
        *self.set.lock().unwrap() = true;
        self.changed.notify_one();
    }
}

/// Receives until `receiver` has folded `expected`, parking as thread `me` of `sleepers`
/// (through `token`) whenever the chain has nothing new, as the progress adapter's worker does.
fn receive_until(
    expected: u64,
    chain: &Chain<u64>,
    receiver: &mut Reader<u64>,
    (sleepers, me): (&Sleepers, usize),
    token: &Token,
) {
    let mut seen = 0;
    loop {
        seen += total(receiver);
        if seen == expected {
            return;
        }
        let version = receiver.version();
        sleepers.park(me, || chain.has_news_since(version), || token.park());
    }
}

/// The progress adapter's wake protocol: a worker receives until it has every send, and
/// whenever its chain has nothing new it parks through `Sleepers::park` (which looks at the
/// chain's version after raising its flag); a sender wakes it only if it sees the flag up. A
/// lost wakeup leaves the worker parked for ever, which loom reports as a deadlock.
#[test]
fn parking_loses_no_wakeup() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(2);
        let mut receiver = readers.pop().unwrap();
        let mut sender = readers.pop().unwrap();
        let sleepers = Arc::new(Sleepers::new(2));
        let token = Arc::new(Token::default());
        let sending = {
            let (sleepers, token) = (sleepers.clone(), token.clone());
            thread::spawn(move || {
                for value in [1, 2] {
                    sender.send_and_recv(&mut { value }, &mut 0);
                    sleepers.wake_others(0, |_| token.unpark());
                }
            })
        };
        receive_until(3, &chain, &mut receiver, (&sleepers, 1), &token);
        sending.join().unwrap();
    });
}

/// Two senders against a parking worker: the version must never go back (a late, smaller
/// publish would hide the other send from a worker that then parks, and its sender may have
/// found no flag up). Versions are stored under the mutex, so they are stored in commit order.
#[test]
fn parking_with_two_senders_loses_no_wakeup() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(1);
        let mut receiver = readers.pop().unwrap();
        let sleepers = Arc::new(Sleepers::new(3));
        let token = Arc::new(Token::default());
        let senders: Vec<_> = [(1, 1), (2, 2)]
            .into_iter()
            .map(|(me, value)| {
                let (chain, sleepers, token) = (chain.clone(), sleepers.clone(), token.clone());
                thread::spawn(move || {
                    chain.send(value);
                    sleepers.wake_others(me, |_| token.unpark());
                })
            })
            .collect();
        receive_until(3, &chain, &mut receiver, (&sleepers, 0), &token);
        senders.into_iter().for_each(|s| s.join().unwrap());
    });
}

/// Readers at four positions while a walk and a reader's drop retire atoms concurrently
/// (absorption moves older atoms within the ring): every reader still folds every send once.
/// (In the first, linked design this schedule exposed a walker pinning a node compaction had
/// just unlinked; the ring has no such side entrance, but the schedule still drives
/// retirement from two threads at once.)
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

/// Prefix of a total order: every total a reader observes is a union of per-writer prefixes
/// (writer A sends 1 then 2, writer B, which also reads, sends 4 then 8).
#[test]
fn reader_sees_per_writer_prefixes() {
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(2);
        let mut reader = readers.pop().unwrap();
        let mut b_reader = readers.pop().unwrap();
        let a = spawn_sends(&chain, &[1, 2]);
        let b = thread::spawn(move || {
            let mut acc = 0;
            b_reader.send_and_recv(&mut 4, &mut acc);
            b_reader.send_and_recv(&mut 8, &mut acc);
            acc
        });
        let prefixes = |t: u64| [0, 1, 3].contains(&(t & 3)) && [0, 4, 12].contains(&(t & 12));
        let mut acc = total(&mut reader);
        assert!(prefixes(acc), "first look {acc}");
        acc += total(&mut reader);
        assert!(prefixes(acc), "second look {acc}");
        a.join().unwrap();
        let b_acc = b.join().unwrap();
        assert!(prefixes(b_acc), "the writing reader saw {b_acc}");
        acc += total(&mut reader);
        assert_eq!(acc, 15);
    });
}

/// Two writers send and drive the forwarder concurrently; whichever forwards, the deltas
/// handed on are numbered 0, 1, ... and add up to both sends once both calls have returned.
#[test]
fn forwarder_forwards_every_send() {
    use chain::Forwarder;
    loom::model(|| {
        let (chain, mut readers) = Chain::<u64>::with_readers(1);
        let forwarder = Arc::new(Forwarder::new(readers.pop().unwrap()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let writers: Vec<_> = [1u64, 2]
            .into_iter()
            .map(|value| {
                let (chain, forwarder, sent) =
                    (chain.clone(), Arc::clone(&forwarder), Arc::clone(&sent));
                thread::spawn(move || {
                    chain.send(value);
                    forwarder.forward(|seq, delta| sent.lock().unwrap().push((seq, *delta)));
                })
            })
            .collect();
        writers.into_iter().for_each(|w| w.join().unwrap());
        let sent = sent.lock().unwrap();
        let total: u64 = sent.iter().map(|(_, delta)| delta).sum();
        assert_eq!(total, 3, "a committed send was left unforwarded: {sent:?}");
        for (expected, (seq, _)) in sent.iter().enumerate() {
            assert_eq!(*seq, expected as u64);
        }
    });
}

/// Whether `total`, of sends that are distinct bits, holds per lane a prefix of that lane's
/// sends: `lanes[l]` lists lane `l`'s values in the order sent.
fn lane_prefixes(total: u64, lanes: &[&[u64]]) -> bool {
    let mut every_lane = 0;
    let prefixes = lanes.iter().all(|lane| {
        let mask: u64 = lane.iter().sum();
        every_lane |= mask;
        let mut prefix = 0;
        let mut prefixes = std::iter::once(0).chain(lane.iter().map(|value| {
            prefix += value;
            prefix
        }));
        prefixes.any(|prefix| prefix == total & mask)
    });
    prefixes && total & !every_lane == 0
}

/// Lanes: a writer sends 1, 2, 4 on a ring of two slots (its third send reuses the first
/// slot, so it drains every reader that has not read it, itself included) while a reader
/// receives twice. Each look folds a prefix of the sends, and a last receive after the join
/// folds the rest: every send exactly once, for the reader and for the writer.
#[test]
fn lanes_wrapping_writer_races_reader() {
    loom::model(|| {
        let (lanes, mut endpoints) = Lanes::<u64>::new(2, 2);
        let mut reader = endpoints.pop().unwrap();
        let mut writer = endpoints.pop().unwrap();
        let sender = thread::spawn(move || {
            [1, 2, 4].into_iter().for_each(|value| writer.send(value));
            writer
        });
        let mut acc = 0;
        reader.recv(&mut acc);
        assert!(lane_prefixes(acc, &[&[1, 2, 4], &[]]), "first look {acc}");
        reader.recv(&mut acc);
        assert!(lane_prefixes(acc, &[&[1, 2, 4], &[]]), "second look {acc}");
        let mut writer = sender.join().unwrap();
        reader.recv(&mut acc);
        let mut own = 0;
        writer.recv(&mut own);
        assert_eq!((acc, own), (7, 7));
        assert_eq!(lanes.stats().live_atoms, 0);
    });
}

/// Lanes: two endpoints send and read back at once, racing (one sends 1, 2, 4 on a ring of
/// two slots, so its third send may drain the other; the other sends 8, 16): each look folds
/// per-lane prefixes, including the endpoint's own sends so far, and final receives fold
/// every send exactly once.
#[test]
fn lanes_send_and_recv_races_send_and_recv() {
    loom::model(|| {
        let (lanes, mut endpoints) = Lanes::<u64>::new(2, 2);
        let mut other = endpoints.pop().unwrap();
        let mut own = endpoints.pop().unwrap();
        let sends: [&[u64]; 2] = [&[8, 16], &[1, 2, 4]];
        let worker = thread::spawn(move || {
            let mut acc = 0;
            for (sent, value) in [1, 2, 4].into_iter().enumerate() {
                other.send_and_recv(&mut { value }, &mut acc);
                assert!(lane_prefixes(acc, &sends), "other's look {acc}");
                assert_eq!(acc & 7, (1 << (sent + 1)) - 1, "other's own sends");
            }
            (other, acc)
        });
        let mut acc = 0;
        for value in [8, 16] {
            own.send_and_recv(&mut { value }, &mut acc);
            assert!(lane_prefixes(acc, &sends), "own look {acc}");
            assert_eq!(acc & 24, (value << 1) - 8, "own sends");
        }
        let (mut other, mut other_acc) = worker.join().unwrap();
        own.recv(&mut acc);
        other.recv(&mut other_acc);
        assert_eq!((acc, other_acc), (31, 31));
        assert_eq!(lanes.stats().live_atoms, 0);
    });
}

/// Lanes: a writer that reads its own sends back sends 1, 2, 4 on a ring of two slots while
/// one reader receives and another never does until the end. The third send drains the
/// laggard; where every other reader has folded the atoms, the drain takes their values out of
/// the slots instead of copying them, and the reader racing it must then be past them (loom
/// reports a read racing the take). Every look folds a prefix; every reader ends with every
/// send exactly once.
#[test]
fn lanes_drain_takes_only_what_no_one_else_reads() {
    loom::model(|| {
        let (lanes, mut endpoints) = Lanes::<u64>::new(3, 2);
        let mut laggard = endpoints.pop().unwrap();
        let mut reader = endpoints.pop().unwrap();
        let mut writer = endpoints.pop().unwrap();
        let sends: [&[u64]; 3] = [&[1, 2, 4], &[], &[]];
        let sender = thread::spawn(move || {
            let mut own = 0;
            for value in [1, 2, 4] {
                writer.send_and_recv(&mut { value }, &mut own);
            }
            assert_eq!(own, 7);
        });
        let mut acc = 0;
        reader.recv(&mut acc);
        assert!(lane_prefixes(acc, &sends), "reader's look {acc}");
        sender.join().unwrap();
        reader.recv(&mut acc);
        let mut lagged = 0;
        laggard.recv(&mut lagged);
        assert_eq!((acc, lagged), (7, 7));
        assert!(lanes.stats().drained >= 2, "the laggard was drained");
    });
}

/// Lanes: an endpoint is dropped without ever reading while the other sends 1, 2, 4 on a ring
/// of two slots: nothing panics, the sender never waits for ever (loom reports a deadlock),
/// the dropped endpoint is drained at most once (a ring, if the third send saw it still
/// active), and once the drop is seen, sends drain nothing more into it.
#[test]
fn lanes_drop_races_sends() {
    loom::model(|| {
        let (lanes, mut endpoints) = Lanes::<u64>::new(2, 2);
        let dropped = endpoints.pop().unwrap();
        let mut sender = endpoints.pop().unwrap();
        let dropper = thread::spawn(move || drop(dropped));
        let mut acc = 0;
        for value in [1, 2, 4] {
            sender.send_and_recv(&mut { value }, &mut acc);
        }
        dropper.join().unwrap();
        let drained = lanes.stats().drained;
        assert!([0, 2].contains(&drained), "drained {drained}");
        for value in [8, 16] {
            sender.send_and_recv(&mut { value }, &mut acc);
        }
        assert_eq!(acc, 31);
        let stats = lanes.stats();
        assert_eq!(
            stats.drained, drained,
            "a send drained into a dropped endpoint"
        );
        // The sender is caught up: only the dropped endpoint's backlog may be left.
        assert_eq!(stats.live_atoms, usize::from(drained > 0));
    });
}

/// The wake protocol with lanes: as `parking_loses_no_wakeup`, but the worker receives from
/// lanes and looks for news with `Lanes::has_news_for`; the sender sends 1, 2, 4 on a ring of
/// two slots, so a send may drain the worker's unread atoms into its backlog first.
#[test]
fn lanes_parking_loses_no_wakeup() {
    loom::model(|| {
        let (lanes, mut endpoints) = Lanes::<u64>::new(2, 2);
        let mut receiver = endpoints.pop().unwrap();
        let mut sender = endpoints.pop().unwrap();
        let sleepers = Arc::new(Sleepers::new(2));
        let token = Arc::new(Token::default());
        let sending = {
            let (sleepers, token) = (sleepers.clone(), token.clone());
            thread::spawn(move || {
                for value in [1, 2, 4] {
                    sender.send_and_recv(&mut { value }, &mut 0);
                    sleepers.wake_others(0, |_| token.unpark());
                }
            })
        };
        let mut seen = 0;
        loop {
            receiver.recv(&mut seen);
            if seen == 7 {
                break;
            }
            sleepers.park(1, || lanes.has_news_for(1), || token.park());
        }
        sending.join().unwrap();
    });
}

/// Lanes: an endpoint receives (racing the other's sends of 1, 2, 4 on a ring of two slots)
/// and is then dropped, while the writer's third send needs the slot of the first. A writer
/// that sees the endpoint dropped skips its cursor, so the drop must order the endpoint's
/// reads of the slots before the writer's reuse (loom reports the race otherwise); the look
/// it had was a prefix, and the writer folds every send once.
#[test]
fn lanes_reader_drop_races_wrapping_writer() {
    loom::model(|| {
        let (lanes, mut endpoints) = Lanes::<u64>::new(2, 2);
        let mut leaver = endpoints.pop().unwrap();
        let mut writer = endpoints.pop().unwrap();
        let sender = thread::spawn(move || {
            let mut acc = 0;
            for value in [1, 2, 4] {
                writer.send_and_recv(&mut { value }, &mut acc);
            }
            acc
        });
        let mut acc = 0;
        leaver.recv(&mut acc);
        assert!(lane_prefixes(acc, &[&[1, 2, 4], &[]]), "the look {acc}");
        drop(leaver);
        assert_eq!(sender.join().unwrap(), 7);
        assert!(lanes.stats().live_atoms <= 1, "{:?}", lanes.stats());
    });
}

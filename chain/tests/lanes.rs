//! Behaviour of `Lanes` and `LaneEndpoint`: exactly-once delivery, per-lane prefixes, bounded
//! state, poisoning and dropped endpoints, on one thread and on several; a property test
//! against a sequential model; a randomized multi-threaded stress test.
#![cfg(not(loom))]

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex, PoisonError};
use std::thread;

use chain::{Batch, Chainable, LaneEndpoint, Lanes};
use proptest::prelude::*;

/// The key of lane `lane`'s send number `seq` (1, 2, ...): lanes' keys never collide.
fn key(lane: usize, seq: u64) -> u64 {
    ((lane as u64) << 32) | seq
}

/// Checks that `delta`, what one receive folded, continues every lane's prefix: per lane it
/// holds sends `counts[lane] + 1 ..= n` for some `n`, each exactly once (diff 1) and nothing
/// else; then moves `counts[lane]` to `n`. `delta` holds only keys made by [`key`].
#[track_caller]
fn advance(counts: &mut [u64], delta: &Batch<u64>) {
    // A batch is sorted by key: per lane, by send number.
    for &(key, diff) in delta.updates() {
        let (lane, seq) = ((key >> 32) as usize, key & 0xFFFF_FFFF);
        assert_eq!(diff, 1, "lane {lane}: send {seq} folded {diff} times");
        assert_eq!(
            seq,
            counts[lane] + 1,
            "lane {lane}: send {seq} folded after sends 1..={} (a gap or a repeat)",
            counts[lane]
        );
        counts[lane] = seq;
    }
}

/// `stats().live_atoms` is within the documented bound for `endpoints` endpoints.
#[track_caller]
fn assert_bounded<T: Chainable>(lanes: &Lanes<T>, endpoints: usize, slots: usize, when: &str) {
    let live = lanes.stats().live_atoms;
    assert!(
        live <= slots * endpoints + endpoints,
        "{when}: {live} live atoms with {endpoints} endpoints of {slots} slots"
    );
}

/// Every endpoint folds every atom exactly once over its lifetime, however often it reads:
/// four endpoints on rings of two slots, each sending every round (by `send`, `send_and_recv`
/// or `send` then `recv_with`) and receiving every 1, 2, 5 rounds or only at the end, so
/// writers keep draining the slow ones. Each receive must fold exactly the sends since the
/// last (on one thread, every send so far), and the live atoms stay within the bound after
/// every operation.
#[test]
fn every_endpoint_folds_every_send_exactly_once() {
    const ENDPOINTS: usize = 4;
    const SLOTS: usize = 2;
    const ROUNDS: u64 = 500;
    let (lanes, mut endpoints) = Lanes::<Batch<u64>>::new(ENDPOINTS, SLOTS);
    let mut counts = [[0u64; ENDPOINTS]; ENDPOINTS];
    let periods = [1, 2, 5, u64::MAX];
    let mut buffer = Batch::new();
    for round in 1..=ROUNDS {
        for (e, endpoint) in endpoints.iter_mut().enumerate() {
            buffer.update(key(e, round), 1);
            let reads = round % periods[e] == 0;
            let mut delta = Batch::new();
            match (reads, round % 3) {
                (true, 0) => {
                    assert!(endpoint.send_and_recv(&mut buffer, &mut delta));
                }
                (true, 1) => {
                    endpoint.send_from(&mut buffer);
                    assert!(endpoint.recv_with(|atom| delta.merge_ref(atom)));
                }
                _ => {
                    endpoint.send_from(&mut buffer);
                    if reads {
                        assert!(endpoint.recv(&mut delta));
                    }
                }
            }
            assert!(buffer.is_empty(), "a send leaves the caller's buffer empty");
            advance(&mut counts[e], &delta);
            if reads {
                // One thread: a receive folds every send so far.
                let sent: Vec<u64> = (0..ENDPOINTS)
                    .map(|lane| round - u64::from(lane > e))
                    .collect();
                assert_eq!(counts[e].to_vec(), sent, "endpoint {e} in round {round}");
                assert!(!endpoint.has_news());
            }
            assert_bounded(&lanes, ENDPOINTS, SLOTS, &format!("round {round}"));
        }
    }
    assert!(lanes.stats().drained > 0, "the slow endpoints were drained");
    for (e, endpoint) in endpoints.iter_mut().enumerate() {
        let mut delta = Batch::new();
        endpoint.recv(&mut delta);
        advance(&mut counts[e], &delta);
        assert_eq!(counts[e], [ROUNDS; ENDPOINTS], "endpoint {e} at the end");
        assert!(!endpoint.recv(&mut delta), "nothing is folded twice");
    }
    assert_eq!(lanes.stats().sent, ROUNDS * ENDPOINTS as u64);
    assert_eq!(lanes.stats().live_atoms, 0, "everyone caught up");
}

/// Integer atoms: after every endpoint's last receive, each endpoint's total is the sum of
/// all sends (distinct powers of two, so a missing or a repeated send shows).
#[test]
fn totals_equal_the_sum_of_all_sends() {
    let (lanes, mut endpoints) = Lanes::<u64>::new(3, 2);
    let mut totals = [0u64; 3];
    for bit in 0..60 {
        let e = (bit * 7 + bit / 4) % 3;
        endpoints[e].send(1 << bit);
        let reader = (bit * 5 + 1) % 3;
        endpoints[reader].recv(&mut totals[reader]);
    }
    for (endpoint, total) in endpoints.iter_mut().zip(&mut totals) {
        endpoint.recv(total);
    }
    assert_eq!(totals, [(1 << 60) - 1; 3]);
    assert_eq!(lanes.stats().sent, 60);
}

/// Three writers race a reader that receives in a loop, on rings of two slots so that
/// writers drain the reader's lanes while it reads: after every receive what the reader has
/// folded is, per lane, that lane's sends `1..=n` (each once) for an `n` that never goes
/// back. The writers, which read back their own sends, see the same; in the end everyone has
/// every send.
#[test]
fn concurrent_receives_fold_per_lane_prefixes() {
    const WRITERS: usize = 3;
    const SENDS: u64 = 2_000;
    let (lanes, mut endpoints) = Lanes::<Batch<u64>>::new(WRITERS + 1, 2);
    let mut reader = endpoints.pop().unwrap();
    let writers: Vec<_> = endpoints
        .into_iter()
        .enumerate()
        .map(|(lane, mut endpoint)| {
            thread::spawn(move || {
                let mut counts = [0u64; WRITERS + 1];
                let mut buffer = Batch::new();
                for seq in 1..=SENDS {
                    buffer.update(key(lane, seq), 1);
                    if seq % 3 == 0 {
                        let mut delta = Batch::new();
                        endpoint.send_and_recv(&mut buffer, &mut delta);
                        advance(&mut counts, &delta);
                        assert_eq!(counts[lane], seq, "a writer folds its own sends");
                    } else {
                        endpoint.send_from(&mut buffer);
                    }
                }
                (endpoint, counts)
            })
        })
        .collect();
    let mut counts = [0u64; WRITERS + 1];
    let mut receives = 0;
    while counts[..WRITERS].iter().any(|&n| n < SENDS) {
        let mut delta = Batch::new();
        reader.recv(&mut delta);
        advance(&mut counts, &delta);
        receives += 1;
        assert!(
            receives < 10_000_000,
            "the reader never caught up: {counts:?}"
        );
    }
    let all = [SENDS, SENDS, SENDS, 0];
    assert_eq!(counts, all);
    for writer in writers {
        let (mut endpoint, mut counts) = writer.join().unwrap();
        let mut delta = Batch::new();
        endpoint.recv(&mut delta);
        advance(&mut counts, &delta);
        assert_eq!(counts, all);
    }
    assert_bounded(&lanes, WRITERS + 1, 2, "at the end");
}

/// A `Batch<u64>` that counts the updates merged into it by `merge_ref`: how much a reader
/// folded.
#[derive(Default)]
struct Counted {
    batch: Batch<u64>,
    folded_updates: usize,
}

impl Chainable for Counted {
    fn merge_from(&mut self, other: &mut Self) {
        self.folded_updates += other.batch.len();
        self.batch.merge_from(&mut other.batch);
    }
    fn merge_ref(&mut self, other: &Self) {
        self.folded_updates += other.batch.len();
        self.batch.merge_ref(&other.batch);
    }
    fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }
    fn clear(&mut self) {
        self.batch.clear();
        self.folded_updates = 0;
    }
}

/// Bounded state: two endpoints send 10,000 times each (+1s from one, the matching -1s from
/// the other, two keys a send) and keep up, while a laggard never reads. The live atoms stay
/// within the bound after every send, the laggard is drained, and when it finally reads it
/// folds the net change (nothing: everything cancelled in its backlog) after merging at most
/// a ring of atoms per lane plus its backlog: at most `slots * endpoints * batch_len`
/// updates, not 40,000.
#[test]
fn laggard_folds_the_net_change_and_at_most_a_ring_per_lane() {
    const ENDPOINTS: usize = 3;
    const BATCH_LEN: usize = 2;
    const ROUNDS: u64 = 10_000;
    for slots in [2, 3, 8] {
        let (lanes, mut endpoints) = Lanes::<Counted>::new(ENDPOINTS, slots);
        let mut laggard = endpoints.pop().unwrap();
        let mut folded = [Counted::default(), Counted::default()];
        let mut buffer = Counted::default();
        for round in 0..ROUNDS {
            for (w, endpoint) in endpoints.iter_mut().enumerate() {
                let diff = if w == 0 { 1 } else { -1 };
                buffer.batch.update(2 * round, diff);
                buffer.batch.update(2 * round + 1, diff);
                endpoint.send_and_recv(&mut buffer, &mut folded[w]);
                assert_bounded(&lanes, ENDPOINTS, slots, &format!("round {round}"));
            }
        }
        for (w, (endpoint, folded)) in endpoints.iter_mut().zip(&mut folded).enumerate() {
            endpoint.recv(folded);
            assert!(
                folded.batch.is_empty(),
                "slots {slots}: endpoint {w} folded {:?}",
                folded.batch.updates()
            );
        }
        assert!(
            lanes.stats().drained > 0,
            "slots {slots}: the laggard was drained"
        );
        let mut late = Counted::default();
        laggard.recv(&mut late);
        assert!(
            late.batch.is_empty(),
            "slots {slots}: the laggard folded {:?}, not the net change",
            late.batch.updates()
        );
        assert!(
            late.folded_updates <= slots * ENDPOINTS * BATCH_LEN,
            "slots {slots}: the laggard merged {} updates",
            late.folded_updates
        );
        // A laggard of integer sums folds the exact total.
        let (_, mut sums) = Lanes::<u64>::new(2, slots);
        let mut kept = 0;
        for i in 1..=ROUNDS {
            sums[0].send_and_recv(&mut { i }, &mut kept);
        }
        let mut late = 0;
        sums[1].recv(&mut late);
        assert_eq!((kept, late), (ROUNDS * (ROUNDS + 1) / 2, kept));
    }
}

/// A dropped endpoint stops holding writers: once endpoint 1 is dropped without reading,
/// endpoint 0's 1,000 further sends (read back at once, so its own cursor keeps up) drain
/// nothing more into endpoint 1's backlog, and only that backlog stays live.
#[test]
fn dropped_endpoint_holds_no_writer() {
    const SLOTS: usize = 2;
    let (lanes, mut endpoints) = Lanes::<u64>::new(2, SLOTS);
    let dropped = endpoints.pop().unwrap();
    let mut sender = endpoints.pop().unwrap();
    let mut total = 0;
    for i in 1..=5 {
        sender.send_and_recv(&mut { i }, &mut total);
    }
    let at_drop = lanes.stats().drained;
    assert!(
        at_drop > 0,
        "the lagging endpoint was drained while it lived"
    );
    drop(dropped);
    for i in 6..=1_005 {
        sender.send_and_recv(&mut { i }, &mut total);
        assert_eq!(
            lanes.stats().drained,
            at_drop,
            "send {i} drained into the dropped endpoint"
        );
    }
    assert_eq!(total, 1_005 * 1_006 / 2);
    let stats = lanes.stats();
    assert_eq!(stats.sent, 1_005);
    // The sender is caught up; the dropped endpoint's backlog is all that is left.
    assert_eq!(stats.live_atoms, 1);
    // Plain sends still drain into the sender's own backlog (it reads its own lane), and only
    // there: one ring's worth per ring of sends, never more.
    for i in 0..100 {
        sender.send(i);
    }
    assert!(lanes.stats().drained - at_drop <= 100);
    assert!(lanes.stats().live_atoms <= SLOTS + 2);
    let mut rest = 0;
    sender.recv(&mut rest);
    assert_eq!(rest, (0..100).sum::<u64>());
}

/// Sending the identity is no atom, and the lanes need at least two slots.
#[test]
fn empty_sends_are_no_atoms() {
    let (lanes, mut endpoints) = Lanes::<Batch<u64>>::new(2, 2);
    for _ in 0..10 {
        endpoints[0].send(Batch::new());
    }
    assert_eq!(lanes.stats().sent, 0);
    assert!(!lanes.has_news_for(1));
    assert!(!endpoints[1].recv_with(|_| unreachable!()));
    let minimum = catch_unwind(|| Lanes::<u64>::new(2, 1));
    assert!(minimum.is_err(), "one slot is refused");
}

/// A sum whose borrowed merge panics on 13 unless the accumulator is `tolerant`: the
/// stand-in for a user's buggy fold. A backlog starts as `Default`, never tolerant, so a 13
/// drained into it panics, while a reader's accumulator chooses.
#[derive(Default)]
struct Brittle {
    value: u32,
    tolerant: bool,
}

impl Brittle {
    fn new(value: u32) -> Self {
        Brittle {
            value,
            tolerant: false,
        }
    }
    fn tolerant() -> Self {
        Brittle {
            value: 0,
            tolerant: true,
        }
    }
}

impl Chainable for Brittle {
    fn merge_from(&mut self, other: &mut Self) {
        self.merge_ref(other);
        other.value = 0;
    }
    fn merge_ref(&mut self, other: &Self) {
        assert!(self.tolerant || other.value != 13, "unlucky fold");
        self.value += other.value;
    }
    fn is_empty(&self) -> bool {
        self.value == 0
    }
    fn clear(&mut self) {
        self.value = 0;
    }
}

/// The message of a caught panic.
fn message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Runs `f`, expecting the documented poison panic.
#[track_caller]
fn assert_poisoned(what: &str, f: impl FnOnce()) {
    let panic = catch_unwind(AssertUnwindSafe(f)).expect_err("poisoned lanes must panic");
    let text = message(&*panic);
    assert!(text.starts_with("chain poisoned"), "{what}: {text}");
}

/// Every operation of `endpoint` and `lanes` panics with the poison message; `stats()` does
/// not.
#[track_caller]
fn assert_all_poisoned(lanes: &Lanes<Brittle>, endpoint: &mut LaneEndpoint<Brittle>) {
    assert_poisoned("send", || endpoint.send(Brittle::new(1)));
    assert_poisoned("send_and_recv", || {
        endpoint.send_and_recv(&mut Brittle::new(1), &mut Brittle::tolerant());
    });
    assert_poisoned("recv", || {
        endpoint.recv(&mut Brittle::tolerant());
    });
    assert_poisoned("recv_with", || {
        endpoint.recv_with(|_| ());
    });
    assert_poisoned("has_news", || {
        endpoint.has_news();
    });
    for index in 0..2 {
        assert_poisoned("has_news_for", || {
            lanes.has_news_for(index);
        });
    }
    let _ = lanes.stats(); // never panics
}

/// A reader's fold that panics (on another thread) poisons the lanes: every later operation
/// on any endpoint panics with `chain poisoned`; `stats()` still answers; dropping the
/// endpoints and the handle does not panic.
#[test]
fn panic_in_a_receive_fold_poisons_every_endpoint() {
    let (lanes, mut endpoints) = Lanes::<Brittle>::new(2, 4);
    let mut reader = endpoints.pop().unwrap();
    let mut writer = endpoints.pop().unwrap();
    writer.send(Brittle::new(13));
    let died = thread::spawn(move || reader.recv(&mut Brittle::default())).join();
    assert_eq!(
        message(&*died.expect_err("the fold panics")),
        "unlucky fold"
    );
    assert_all_poisoned(&lanes, &mut writer);
    assert_eq!(lanes.stats().sent, 1);
    drop(writer);
    drop(lanes);
}

/// A drain whose merge into the lagging reader's backlog panics (the writer gathers the
/// laggard's unread 6 and 7 into its own buffer, then merges the 13 into the backlog under the
/// laggard's lock, on rings of two slots) poisons the lanes; the send that drained publishes
/// nothing.
#[test]
fn panic_in_a_drain_poisons_too() {
    let (lanes, mut endpoints) = Lanes::<Brittle>::new(2, 2);
    let mut laggard = endpoints.pop().unwrap();
    let mut writer = endpoints.pop().unwrap();
    // The writer reads its own sends (tolerantly), so only the laggard needs draining.
    let mut own = Brittle::tolerant();
    writer.send_and_recv(&mut Brittle::new(6), &mut own);
    writer.send_and_recv(&mut Brittle::new(7), &mut own);
    assert_eq!(own.value, 13);
    assert_eq!(lanes.stats().drained, 0);
    // The third atom needs the slot of the first, which the laggard has not read.
    let died = thread::spawn(move || writer.send_and_recv(&mut Brittle::new(1), &mut own)).join();
    assert_eq!(
        message(&*died.expect_err("the drain panics")),
        "unlucky fold"
    );
    assert_all_poisoned(&lanes, &mut laggard);
    assert_eq!(lanes.stats().sent, 2, "the draining send published nothing");
    drop(laggard);
    drop(lanes);
}

/// A drain whose copying panics (the writer copying the unread 13 of the first of two laggards
/// into its own buffer, before it takes any lock: with a second laggard still to drain, the
/// atoms are not the first one's alone, so they are copied, not taken) leaves the lanes as they
/// were: not poisoned, nothing drained or sent, and both laggards still fold every atom they
/// are owed.
#[test]
fn panic_while_gathering_a_drain_loses_nothing() {
    let (lanes, mut endpoints) = Lanes::<Brittle>::new(3, 2);
    let mut second = endpoints.pop().unwrap();
    let mut first = endpoints.pop().unwrap();
    let mut writer = endpoints.pop().unwrap();
    let mut own = Brittle::tolerant();
    writer.send_and_recv(&mut Brittle::new(13), &mut own);
    writer.send_and_recv(&mut Brittle::new(1), &mut own);
    let died = thread::spawn(move || writer.send_and_recv(&mut Brittle::new(1), &mut own)).join();
    assert_eq!(
        message(&*died.expect_err("the gathering panics")),
        "unlucky fold"
    );
    assert!(
        lanes.has_news_for(1),
        "not poisoned, and the laggard is owed"
    );
    assert_eq!(lanes.stats().sent, 2);
    assert_eq!(lanes.stats().drained, 0);
    for laggard in [&mut first, &mut second] {
        let mut total = Brittle::tolerant();
        assert!(laggard.recv(&mut total));
        assert_eq!(total.value, 14);
        assert!(!laggard.recv(&mut total));
    }
}

/// A sole laggard's drain takes the atoms out of their slots (every other reader has folded
/// them) instead of copying them (copies counted by the atom type): with keys whose clone
/// allocates, the draining send allocates nothing for them, and the laggard still folds each
/// atom exactly once.
#[test]
fn a_sole_laggards_drain_copies_nothing() {
    #[derive(Default)]
    struct Counted(Vec<u64>);
    static CLONES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    impl Chainable for Counted {
        fn merge_from(&mut self, other: &mut Self) {
            self.0.append(&mut other.0);
        }
        fn merge_ref(&mut self, other: &Self) {
            CLONES.fetch_add(other.0.len(), std::sync::atomic::Ordering::Relaxed);
            self.0.extend(other.0.iter().cloned());
        }
        fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        fn clear(&mut self) {
            self.0.clear();
        }
    }
    let (lanes, mut endpoints) = Lanes::<Counted>::new(2, 2);
    let mut laggard = endpoints.pop().unwrap();
    let mut writer = endpoints.pop().unwrap();
    let mut own = Counted::default();
    for value in 0..10 {
        writer.send_from(&mut Counted(vec![value]));
        // The writer reads its own sends back: only the laggard lags.
        writer.recv(&mut own);
    }
    let reads = CLONES.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(reads, 10, "the writer's own reads copy each atom once");
    assert!(lanes.stats().drained >= 8, "the laggard was drained");
    let mut folded = Counted::default();
    laggard.recv(&mut folded);
    let mut values = folded.0.clone();
    values.sort_unstable();
    assert_eq!(
        values,
        (0..10).collect::<Vec<_>>(),
        "each atom exactly once"
    );
    assert_eq!(
        CLONES.load(std::sync::atomic::Ordering::Relaxed) - reads,
        folded.0.len() - lanes_drained_into(&lanes),
        "the laggard's own read copies only the atoms still in their slots"
    );
}

/// The atoms drained so far (a statistic).
fn lanes_drained_into<T: Chainable>(lanes: &Lanes<T>) -> usize {
    lanes.stats().drained as usize
}

/// A `recv_with` callback that panics: what it was handed counts as delivered (the next
/// receive does not hand it again), and the lanes are not poisoned.
#[test]
fn panicking_callback_counts_as_delivered() {
    let (lanes, mut endpoints) = Lanes::<u64>::new(2, 4);
    endpoints[0].send(1);
    endpoints[0].send(2);
    let mut handed = Vec::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        endpoints[1].recv_with(|atom| {
            handed.push(*atom);
            panic!("the user's fold fails");
        });
    }));
    assert!(caught.is_err());
    assert_eq!(handed, vec![3]);
    assert!(!endpoints[1].has_news());
    assert!(!lanes.has_news_for(1));
    endpoints[0].send(4);
    let mut seen = Vec::new();
    assert!(endpoints[1].recv_with(|atom| seen.push(*atom)));
    assert_eq!(
        seen,
        vec![4],
        "the next receive starts after what was handed"
    );
}

/// A callback that always panics, 1,000 rounds long: each round hands over exactly the new
/// send, the reader is never a ring behind (nothing is drained), and the live atoms stay
/// within the bound.
#[test]
fn always_panicking_callback_keeps_the_lanes_bounded() {
    const SLOTS: usize = 2;
    let (lanes, mut endpoints) = Lanes::<u64>::new(2, SLOTS);
    let mut own = 0;
    for round in 1..=1_000 {
        endpoints[0].send_and_recv(&mut { round }, &mut own);
        let mut handed = 0;
        let caught = catch_unwind(AssertUnwindSafe(|| {
            endpoints[1].recv_with(|atom| {
                handed = *atom;
                panic!("the user's fold always fails");
            });
        }));
        assert!(caught.is_err());
        assert_eq!(handed, round, "round {round}");
        assert_bounded(&lanes, 2, SLOTS, &format!("round {round}"));
    }
    assert_eq!(
        lanes.stats().drained,
        0,
        "the panicking reader never lagged"
    );
    assert_eq!(lanes.stats().live_atoms, 0);
}

#[derive(Clone, Debug)]
enum Op {
    /// Endpoint `endpoint % n` sends a batch of `parts` updates (none: an empty send).
    Send { endpoint: usize, parts: u64 },
    /// The same, read back with `send_and_recv`.
    SendAndRecv { endpoint: usize, parts: u64 },
    /// Endpoint `endpoint % n` receives, with `recv` or `recv_with`.
    Recv { endpoint: usize, with: bool },
    /// Endpoint `endpoint % n` is dropped.
    Drop { endpoint: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (any::<usize>(), 0u64..4).prop_map(|(endpoint, parts)| Op::Send { endpoint, parts }),
        3 => (any::<usize>(), 0u64..4)
            .prop_map(|(endpoint, parts)| Op::SendAndRecv { endpoint, parts }),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(endpoint, with)| Op::Recv { endpoint, with }),
        1 => any::<usize>().prop_map(|endpoint| Op::Drop { endpoint }),
    ]
}

/// An endpoint and what it has folded.
struct Modelled {
    endpoint: LaneEndpoint<Batch<u64>>,
    folded: Batch<u64>,
    /// Sends on its lane so far.
    seq: u64,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Against a sequential model, for any interleaving of sends, receives and drops on 2-4
    /// endpoints with rings of 2-4 slots: each receive folds exactly the atoms sent since the
    /// endpoint's last one, each once and whole (part `p` of lane `l`'s send `s` is key
    /// `l << 32 | s << 8 | p`: on one thread the per-lane prefix is every send so far);
    /// `has_news` and the receives' answers say whether anything was owed; the live atoms
    /// stay within the bound and `stats().sent` counts the non-empty sends.
    #[test]
    fn lanes_match_sequential_model(
        n in 2usize..=4,
        slots in 2usize..=4,
        ops in prop::collection::vec(op(), 0..150),
    ) {
        let (lanes, endpoints) = Lanes::<Batch<u64>>::new(n, slots);
        let mut endpoints: Vec<Option<Modelled>> = endpoints
            .into_iter()
            .map(|endpoint| Some(Modelled { endpoint, folded: Batch::new(), seq: 0 }))
            .collect();
        // Everything sent: every endpoint is owed all of it.
        let mut sent = Batch::new();
        let mut atoms = 0;
        for op in ops {
            match op {
                Op::Send { endpoint, parts } | Op::SendAndRecv { endpoint, parts } => {
                    let lane = endpoint % n;
                    let Some(Modelled { endpoint, folded, seq }) = &mut endpoints[lane] else {
                        continue;
                    };
                    let mut batch: Batch<u64> = (0..parts)
                        .map(|part| ((lane as u64) << 32 | (*seq + 1) << 8 | part, 1))
                        .collect();
                    if parts > 0 {
                        *seq += 1;
                        atoms += 1;
                        sent.merge_ref(&batch);
                    }
                    if matches!(op, Op::Send { .. }) {
                        endpoint.send_from(&mut batch);
                    } else {
                        let owed = *folded != sent;
                        prop_assert_eq!(endpoint.send_and_recv(&mut batch, folded), owed);
                        prop_assert_eq!(folded.updates(), sent.updates());
                        prop_assert!(!endpoint.has_news());
                    }
                    prop_assert!(batch.is_empty());
                }
                Op::Recv { endpoint, with } => {
                    let index = endpoint % n;
                    let Some(Modelled { endpoint, folded, .. }) = &mut endpoints[index] else {
                        continue;
                    };
                    let owed = *folded != sent;
                    prop_assert_eq!(endpoint.has_news(), owed);
                    prop_assert_eq!(lanes.has_news_for(index), owed);
                    let folded_any = if with {
                        endpoint.recv_with(|delta| {
                            assert!(!delta.is_empty());
                            folded.merge_ref(delta);
                        })
                    } else {
                        endpoint.recv(folded)
                    };
                    prop_assert_eq!(folded_any, owed);
                    prop_assert_eq!(folded.updates(), sent.updates());
                    prop_assert!(!endpoint.has_news());
                }
                Op::Drop { endpoint } => endpoints[endpoint % n] = None,
            }
            let stats = lanes.stats();
            prop_assert_eq!(stats.sent, atoms);
            prop_assert!(
                stats.live_atoms <= slots * n + n,
                "{} live atoms, {} endpoints of {} slots", stats.live_atoms, n, slots
            );
        }
        for Modelled { endpoint, folded, .. } in endpoints.iter_mut().flatten() {
            endpoint.recv(folded);
            prop_assert_eq!(folded.updates(), sent.updates());
        }
    }
}

mod common;
use common::Rng;

/// Keys at or above this are the stress test's random noise; below, its per-lane counters.
const NOISE: u64 = 1 << 48;

/// One stress worker's endpoint and what it has folded and sent.
struct Worker {
    endpoint: LaneEndpoint<Batch<u64>>,
    folded: Batch<u64>,
    /// Per lane, the newest send this worker has folded.
    seen: Vec<u64>,
    /// Sends on its own lane.
    seq: u64,
    /// The noise it sent.
    noise: Batch<u64>,
}

impl Worker {
    /// After a receive: per lane, the folded counter updates telescope to `-1` at send 0 and
    /// `+1` at the newest send folded, `n`, exactly when the folded sends are `1..=n`, each
    /// once (a gap leaves a `-1` inside, a repeat a `+2` or a second `+1`). Checks that and
    /// that `n` never goes back, and records it.
    #[track_caller]
    fn check_prefixes(&mut self, context: &str) {
        let lanes = self.seen.len();
        let counters = self.folded.updates().iter().filter(|(k, _)| *k < NOISE);
        let mut folded = vec![Vec::new(); lanes];
        for &(key, diff) in counters {
            folded[(key >> 32) as usize].push((key & 0xFFFF_FFFF, diff));
        }
        for (lane, updates) in folded.iter().enumerate() {
            let n = match updates[..] {
                [] => 0,
                [(0, -1), (n, 1)] if n > 0 => n,
                _ => panic!("{context}: lane {lane} folded {updates:?}: not a prefix"),
            };
            assert!(
                n >= self.seen[lane],
                "{context}: lane {lane} went back from {} to {n}",
                self.seen[lane]
            );
            self.seen[lane] = n;
        }
    }
}

/// Randomized multi-threaded stress: four threads, each owning an endpoint, send random
/// batches (by `send_from` or `send_and_recv`) and receive (by `recv` or `recv_with`) in
/// random order, some phases without reading at all so they are drained, on rings of 2, 3 or
/// 5 slots. Every send also carries its lane's counter, telescoped, so each thread checks
/// after every receive that it folded a per-lane prefix; threads check the live-atom bound
/// concurrently. Between phases (quiescent: every thread waits), each endpoint's total must
/// equal the net of all sends, and once all have received no atom is live.
#[test]
fn stress_totals_and_prefixes() {
    const THREADS: usize = 4;
    const PHASES: usize = 15;
    const OPS: usize = 600;
    for (seed, slots) in [(1u64, 2usize), (0x9E37_79B9_7F4A_7C15, 3), (42, 5)] {
        let (lanes, endpoints) = Lanes::<Batch<u64>>::new(THREADS, slots);
        let workers: Vec<Mutex<Worker>> = endpoints
            .into_iter()
            .map(|endpoint| {
                Mutex::new(Worker {
                    endpoint,
                    folded: Batch::new(),
                    seen: vec![0; THREADS],
                    seq: 0,
                    noise: Batch::new(),
                })
            })
            .collect();
        let barrier = Barrier::new(THREADS + 1);
        let failed = AtomicBool::new(false);
        let first_panic = Mutex::new(None);
        // Runs `f` unless something failed; records the first panic instead of unwinding,
        // so no thread is left waiting at the barrier.
        let guarded = |f: &mut dyn FnMut()| {
            if failed.load(Ordering::SeqCst) {
                return;
            }
            if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
                failed.store(true, Ordering::SeqCst);
                first_panic
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert(panic);
            }
        };
        thread::scope(|s| {
            for t in 0..THREADS {
                let (lanes, workers, barrier, guarded) = (&lanes, &workers, &barrier, &guarded);
                s.spawn(move || {
                    let mut rng = Rng(seed ^ (t as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
                    let mut buffer = Batch::new();
                    for phase in 0..PHASES {
                        barrier.wait();
                        guarded(&mut || {
                            let mut worker = workers[t].lock().unwrap();
                            let lagging = rng.below(4) == 0;
                            for op in 0..OPS {
                                let context =
                                    format!("seed {seed} thread {t} phase {phase} op {op}");
                                match rng.below(10) {
                                    0..=4 => {
                                        for _ in 0..=rng.below(3) {
                                            let diff = rng.below(5) as i64 - 2;
                                            buffer.update(NOISE + rng.below(16), diff);
                                        }
                                        worker.noise.merge_ref(&buffer);
                                        worker.seq += 1;
                                        buffer.update(key(t, worker.seq), 1);
                                        buffer.update(key(t, worker.seq - 1), -1);
                                        let Worker {
                                            endpoint, folded, ..
                                        } = &mut *worker;
                                        if lagging || rng.below(2) == 0 {
                                            endpoint.send_from(&mut buffer);
                                        } else {
                                            endpoint.send_and_recv(&mut buffer, folded);
                                            worker.check_prefixes(&context);
                                            assert_eq!(worker.seen[t], worker.seq, "{context}");
                                        }
                                        assert!(buffer.is_empty());
                                    }
                                    5 | 6 if !lagging => {
                                        let Worker {
                                            endpoint, folded, ..
                                        } = &mut *worker;
                                        endpoint.recv(folded);
                                        worker.check_prefixes(&context);
                                    }
                                    7 if !lagging => {
                                        let Worker {
                                            endpoint, folded, ..
                                        } = &mut *worker;
                                        endpoint.recv_with(|delta| folded.merge_ref(delta));
                                        worker.check_prefixes(&context);
                                    }
                                    8 => assert_bounded(lanes, THREADS, slots, &context),
                                    _ => thread::yield_now(),
                                }
                            }
                        });
                        barrier.wait();
                    }
                });
            }
            // The checker: runs between phases, while every worker waits.
            for phase in 0..PHASES {
                barrier.wait();
                barrier.wait();
                guarded(&mut || {
                    let context = format!("seed {seed} phase {phase}");
                    let mut workers: Vec<_> = workers.iter().map(|w| w.lock().unwrap()).collect();
                    assert_bounded(&lanes, THREADS, slots, &context);
                    let mut noise = Batch::new();
                    for worker in &workers {
                        noise.merge_ref(&worker.noise);
                    }
                    let seqs: Vec<u64> = workers.iter().map(|w| w.seq).collect();
                    for (w, worker) in workers.iter_mut().enumerate() {
                        let Worker {
                            endpoint, folded, ..
                        } = &mut **worker;
                        endpoint.recv(folded);
                        worker.check_prefixes(&context);
                        assert_eq!(worker.seen, seqs, "{context}: worker {w}'s counters");
                        let folded_noise: Vec<_> = worker
                            .folded
                            .updates()
                            .iter()
                            .filter(|(k, _)| *k >= NOISE)
                            .copied()
                            .collect();
                        assert_eq!(folded_noise, noise.updates(), "{context}: worker {w}'s net");
                    }
                    let stats = lanes.stats();
                    assert_eq!(stats.sent, seqs.iter().sum::<u64>(), "{context}");
                    assert_eq!(stats.live_atoms, 0, "{context}: everyone caught up");
                });
            }
        });
        if let Some(panic) = first_panic
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
        {
            resume_unwind(panic);
        }
        assert!(
            lanes.stats().drained > 0,
            "seed {seed}: the lagging phases were drained"
        );
    }
}

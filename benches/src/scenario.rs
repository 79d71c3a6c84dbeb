//! The three scenarios, each run once over any medium, with their metrics and the
//! answer check.
//!
//! - **keepup**: every worker sends, then receives, in a tight loop.
//! - **laggard**: worker 0 sends every round but reads only at the end (or every
//!   `laggard_every` rounds) while the others keep up; once every send is done the
//!   others read what is left (they are current), then the laggard's catch-up is measured.
//! - **backlog**: every worker sends with no reads; then the live state is measured and
//!   every reader catches up once.
//!
//! Each worker thread owns its endpoint, accumulator and histograms (allocated before
//! the live-byte baseline is taken, so live bytes are the medium's). Every run ends
//! with the answer check: each reader's folded total must equal the workload's net
//! total, computed by a reference fold that involves no medium.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use hdrhistogram::Histogram;

use crate::acc::{consolidate, Acc};
use crate::alloc::{live_bytes, thread_allocs};
use crate::key::{BoxKey, Key, KeyKind};
use crate::media::{Cells, ChainMedium, LanesMedium, Ledger, MeshMedium, Mpsc};
use crate::medium::{Endpoint, Folded, Medium, MediumKind};
use crate::workload::Workload;

/// The scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// All workers keep up.
    Keepup,
    /// One laggard reader.
    Laggard,
    /// Unread backlog, then one catch-up.
    Backlog,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 3] = [Scenario::Keepup, Scenario::Laggard, Scenario::Backlog];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Keepup => "keepup",
            Scenario::Laggard => "laggard",
            Scenario::Backlog => "backlog",
        }
    }

    /// Parses a name produced by [`Scenario::name`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// One run: a medium, a scenario and a workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSpec {
    /// The medium under test.
    pub medium: MediumKind,
    /// The scenario.
    pub scenario: Scenario,
    /// Worker threads; each writes and reads.
    pub workers: usize,
    /// Cancellation fraction.
    pub cancel: f64,
    /// Key type.
    pub key: KeyKind,
    /// Total sends over all workers (rounds = sends / workers, at least 1).
    pub sends: usize,
    /// Fresh updates per batch.
    pub batch: usize,
    /// Workload seed.
    pub seed: u64,
    /// Laggard scenario: the laggard also reads every this many rounds (0: only at the end).
    pub laggard_every: usize,
}

impl RunSpec {
    /// The workload this run sends.
    pub fn workload(&self) -> Workload {
        Workload {
            seed: self.seed,
            workers: self.workers,
            rounds: (self.sends / self.workers.max(1)).max(1),
            batch: self.batch,
            cancel: self.cancel,
        }
    }

    /// A one-line description for messages.
    pub fn describe(&self) -> String {
        format!(
            "medium={} scenario={} workers={} cancel={} key={} sends={}",
            self.medium.name(),
            self.scenario.name(),
            self.workers,
            self.cancel,
            self.key.name(),
            self.sends
        )
    }
}

/// Named metric values of one run.
pub type Metrics = Vec<(&'static str, f64)>;

/// Runs one spec: spawns the workers, measures, and checks every reader's answer.
///
/// Returns an error naming the run and the first wrong reader if any answer is wrong,
/// or if a worker panicked.
pub fn run(spec: &RunSpec) -> Result<Metrics, String> {
    match spec.key {
        KeyKind::U64 => run_key::<u64>(spec),
        KeyKind::Box3 => run_key::<BoxKey>(spec),
    }
}

/// [`run`] for one key type.
fn run_key<K: Key>(spec: &RunSpec) -> Result<Metrics, String> {
    match spec.medium {
        MediumKind::Chain => run_medium::<K, ChainMedium<K>>(spec),
        MediumKind::Lanes => run_medium::<K, LanesMedium<K>>(spec),
        MediumKind::Mesh => run_medium::<K, MeshMedium<K>>(spec),
        MediumKind::Ledger => run_medium::<K, Ledger<K>>(spec),
        MediumKind::Cells => run_medium::<K, Cells<K>>(spec),
        MediumKind::Mpsc => run_medium::<K, Mpsc<K>>(spec),
    }
}

/// A new latency histogram (1 ns to 100 s, 2 significant digits), allocated up front.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 2).expect("valid histogram bounds")
}

/// Nanoseconds since `t`, at least 1 (histograms start at 1).
fn ns_since(t: Instant) -> u64 {
    (t.elapsed().as_nanos() as u64).max(1)
}

/// Everything one worker thread owns and reports.
struct WorkerState<K> {
    /// The worker's folded total.
    acc: Acc<K>,
    /// Batch buffer.
    buf: Vec<(K, i64)>,
    /// Send latencies.
    send_hist: Histogram<u64>,
    /// Receive latencies (in-loop receives).
    recv_hist: Histogram<u64>,
    /// Sends made.
    sends: u64,
    /// Allocations during sends.
    send_allocs: u64,
    /// In-loop receives made.
    recvs: u64,
    /// Allocations during in-loop receives.
    recv_allocs: u64,
    /// Work of in-loop receives.
    folded: Folded,
    /// Wall time of the send/receive loop.
    loop_ns: u64,
    /// Live nodes before the catch-up (laggard: worker 0; backlog: worker 0).
    live_nodes: usize,
    /// Live bytes before the catch-up, relative to the baseline.
    live_bytes: i64,
    /// Catch-up receive: time and work.
    catchup: Option<(u64, Folded)>,
    /// The laggard's total before its catch-up.
    before: Vec<(K, i64)>,
}

impl<K: Key> WorkerState<K> {
    /// Fresh state.
    fn new() -> Self {
        WorkerState {
            acc: Acc::new(),
            buf: Vec::with_capacity(64),
            send_hist: histogram(),
            recv_hist: histogram(),
            sends: 0,
            send_allocs: 0,
            recvs: 0,
            recv_allocs: 0,
            folded: Folded::default(),
            loop_ns: 0,
            live_nodes: 0,
            live_bytes: 0,
            catchup: None,
            before: Vec::new(),
        }
    }
}

/// A reusable barrier that a panicking worker poisons, so the others fail instead of
/// waiting forever.
#[derive(Debug)]
struct PhaseBarrier {
    /// (arrived in this phase, phase number, the first panic's message once poisoned).
    state: Mutex<(usize, u64, Option<String>)>,
    /// Wakes waiters at the end of a phase or on poisoning.
    cv: Condvar,
    /// Parties per phase.
    n: usize,
}

impl PhaseBarrier {
    /// A barrier for `n` threads.
    fn new(n: usize) -> Self {
        PhaseBarrier {
            state: Mutex::new((0, 0, None)),
            cv: Condvar::new(),
            n,
        }
    }

    /// Waits until all `n` threads arrive; panics if another worker panicked.
    fn wait(&self) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let phase = st.1;
        st.0 += 1;
        if st.0 == self.n {
            st.0 = 0;
            st.1 += 1;
            self.cv.notify_all();
        }
        while st.1 == phase && st.2.is_none() {
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        if st.2.is_some() {
            panic!("another worker panicked");
        }
    }

    /// Marks the barrier poisoned, keeping the first panic's message, and wakes every
    /// waiter.
    fn poison(&self, msg: String) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .2
            .get_or_insert(msg);
        self.cv.notify_all();
    }

    /// The message of the first worker panic, if any.
    fn first_panic(&self) -> Option<String> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .2
            .clone()
    }
}

/// Shared, read-only context of one run's workers.
struct Ctx<'a, M> {
    /// The run.
    spec: &'a RunSpec,
    /// Its workload.
    wl: Workload,
    /// The medium (for live-node probes).
    medium: &'a M,
    /// Phase barrier.
    barrier: PhaseBarrier,
    /// Live bytes before the medium was built.
    base_bytes: i64,
}

/// Receives once, timing it.
fn timed_recv<K: Key, E: Endpoint<K>>(ep: &mut E, acc: &mut Acc<K>) -> (u64, Folded) {
    let t0 = Instant::now();
    let f = ep.recv(acc);
    (ns_since(t0), f)
}

/// One worker thread's body.
fn worker<K: Key, M: Medium<K>>(
    ctx: &Ctx<'_, M>,
    w: usize,
    ep: &mut M::Endpoint,
    st: &mut WorkerState<K>,
) {
    let spec = ctx.spec;
    let every = spec.laggard_every;
    ctx.barrier.wait();
    let start = Instant::now();
    for r in 0..ctx.wl.rounds {
        ctx.wl.fill(w, r, &mut st.buf);
        if !st.buf.is_empty() {
            let a0 = thread_allocs();
            let t0 = Instant::now();
            ep.send(&mut st.buf);
            let ns = ns_since(t0);
            st.send_allocs += thread_allocs() - a0;
            st.send_hist.saturating_record(ns);
            st.sends += 1;
        }
        let reads = match spec.scenario {
            Scenario::Keepup => true,
            Scenario::Laggard => w != 0 || (every > 0 && (r + 1) % every == 0),
            Scenario::Backlog => false,
        };
        if reads {
            let a0 = thread_allocs();
            let (ns, f) = timed_recv(ep, &mut st.acc);
            st.recv_allocs += thread_allocs() - a0;
            st.recv_hist.saturating_record(ns);
            st.recvs += 1;
            st.folded += f;
        }
    }
    st.loop_ns = ns_since(start);
    // Every send is done once all workers pass this barrier.
    ctx.barrier.wait();
    let probe = |st: &mut WorkerState<K>| {
        st.live_nodes = ctx.medium.live_nodes();
        st.live_bytes = live_bytes() - ctx.base_bytes;
    };
    match spec.scenario {
        Scenario::Keepup => {
            ep.recv(&mut st.acc);
        }
        Scenario::Laggard => {
            // The others keep up: they are current before the laggard arrives.
            if w != 0 {
                ep.recv(&mut st.acc);
            }
            ctx.barrier.wait();
            if w == 0 {
                probe(st);
                st.before = st.acc.sorted().to_vec();
                st.catchup = Some(timed_recv(ep, &mut st.acc));
            }
        }
        Scenario::Backlog => {
            if w == 0 {
                probe(st);
            }
            ctx.barrier.wait();
            st.catchup = Some(timed_recv(ep, &mut st.acc));
        }
    }
}

/// The size of the net change from `before` to `after` (both consolidated).
fn net_change<K: Key>(before: &[(K, i64)], after: &[(K, i64)]) -> usize {
    let mut d: Vec<(K, i64)> = after.to_vec();
    d.extend(before.iter().map(|(k, v)| (k.clone(), -v)));
    consolidate(&mut d);
    d.len()
}

/// Checks a reader's total against the expected one.
fn check_answer<K: Key>(
    spec: &RunSpec,
    reader: usize,
    got: &[(K, i64)],
    want: &[(K, i64)],
) -> Result<(), String> {
    if got == want {
        return Ok(());
    }
    let first = got
        .iter()
        .zip(want.iter())
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    Err(format!(
        "answer check failed: {}: reader {reader} folded a total of {} updates, expected {}; \
         first difference at index {first}: got {:?}, expected {:?}",
        spec.describe(),
        got.len(),
        want.len(),
        got.get(first),
        want.get(first)
    ))
}

/// Runs one spec over medium `M`.
pub fn run_medium<K: Key, M: Medium<K>>(spec: &RunSpec) -> Result<Metrics, String> {
    let n = spec.workers.max(1);
    let wl = spec.workload();
    let mut states: Vec<WorkerState<K>> = (0..n).map(|_| WorkerState::new()).collect();
    let base_bytes = live_bytes();
    let (medium, endpoints) = M::build(n);
    let ctx = Ctx {
        spec,
        wl,
        medium: &medium,
        barrier: PhaseBarrier::new(n),
        base_bytes,
    };
    let joined: Vec<Option<WorkerState<K>>> = std::thread::scope(|s| {
        let handles: Vec<_> = endpoints
            .into_iter()
            .zip(states.drain(..))
            .enumerate()
            .map(|(w, (mut ep, mut st))| {
                let ctx = &ctx;
                s.spawn(move || {
                    let r = catch_unwind(AssertUnwindSafe(|| {
                        worker::<K, M>(ctx, w, &mut ep, &mut st)
                    }));
                    if let Err(e) = r {
                        // Recorded before this worker's endpoint drops: the others'
                        // follow-on panics (a closed channel, a poisoned barrier) come later
                        // and cannot take the root cause's place.
                        ctx.barrier.poison(panic_message(&*e));
                        resume_unwind(e);
                    }
                    st
                })
            })
            .collect();
        // Join every worker; a failure is reported as the first panic recorded.
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    if let Some(msg) = ctx.barrier.first_panic() {
        return Err(format!("worker panicked: {}: {msg}", spec.describe()));
    }
    let mut states: Vec<WorkerState<K>> = joined
        .into_iter()
        .map(|j| j.expect("a worker that panicked poisoned the barrier"))
        .collect();
    drop(medium);

    let want = wl.expected::<K>();
    for (r, st) in states.iter_mut().enumerate() {
        check_answer(spec, r, st.acc.sorted(), &want)?;
    }
    Ok(metrics(spec, &wl, &mut states, &want))
}

/// The message a panic carried (`panic!` with a literal or a formatted string).
fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// Computes a run's metrics from its workers' states.
fn metrics<K: Key>(
    spec: &RunSpec,
    wl: &Workload,
    states: &mut [WorkerState<K>],
    want: &[(K, i64)],
) -> Metrics {
    let n = states.len() as f64;
    let mut send = histogram();
    let mut recv = histogram();
    let (mut sends, mut send_allocs, mut recvs, mut recv_allocs) = (0u64, 0u64, 0u64, 0u64);
    let mut folded = Folded::default();
    let mut loop_ns = 0u64;
    for st in states.iter() {
        send.add(&st.send_hist).expect("same bounds");
        recv.add(&st.recv_hist).expect("same bounds");
        sends += st.sends;
        send_allocs += st.send_allocs;
        recvs += st.recvs;
        recv_allocs += st.recv_allocs;
        folded += st.folded;
        loop_ns = loop_ns.max(st.loop_ns);
    }
    let per = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let mut m: Metrics = vec![
        ("sends", sends as f64),
        ("updates_sent", wl.updates_sent() as f64),
        ("send_ns_median", send.value_at_quantile(0.5) as f64),
        ("send_ns_p99", send.value_at_quantile(0.99) as f64),
        ("send_ns_mean", send.mean()),
        ("allocs_per_send", per(send_allocs, sends)),
        ("round_ns", per(loop_ns, wl.rounds as u64)),
    ];
    match spec.scenario {
        Scenario::Keepup => {
            m.extend([
                ("recv_ns_median", recv.value_at_quantile(0.5) as f64),
                ("recv_ns_p99", recv.value_at_quantile(0.99) as f64),
                ("allocs_per_recv", per(recv_allocs, recvs)),
                ("atoms_per_recv", per(folded.atoms, recvs)),
                ("updates_per_recv", per(folded.updates, recvs)),
                ("updates_folded", folded.updates as f64 / n),
            ]);
        }
        Scenario::Laggard => {
            let st = &mut states[0];
            let (ns, f) = st.catchup.expect("laggard caught up");
            let after = st.acc.sorted().to_vec();
            m.extend([
                ("laggard_catchup_ns", ns as f64),
                ("laggard_atoms_folded", f.atoms as f64),
                ("laggard_updates_folded", f.updates as f64),
                ("laggard_scanned", f.scanned as f64),
                ("laggard_net_updates", net_change(&st.before, &after) as f64),
                ("laggard_live_nodes", st.live_nodes as f64),
                ("laggard_live_bytes", st.live_bytes as f64),
            ]);
        }
        Scenario::Backlog => {
            let mut catch: Vec<(u64, Folded)> = states
                .iter()
                .map(|s| s.catchup.expect("caught up"))
                .collect();
            catch.sort_by_key(|c| c.0);
            let (ns, _) = catch[catch.len() / 2];
            let upd = catch.iter().map(|c| c.1.updates).sum::<u64>() as f64 / n;
            m.extend([
                ("backlog_live_nodes", states[0].live_nodes as f64),
                ("backlog_live_bytes", states[0].live_bytes as f64),
                ("backlog_catchup_ns", ns as f64),
                ("backlog_updates_folded", upd),
                ("backlog_net_updates", want.len() as f64),
            ]);
        }
    }
    m
}

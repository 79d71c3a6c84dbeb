//! Recovery after a stall: every so often one worker stops inside an operator for a few
//! milliseconds while the others keep ingesting epochs and exchanging progress; when it returns
//! it must fold the progress it missed before its frontier can catch up.
//!
//! Records are released at a fixed rate, one epoch per tick: the records of tick `t` carry
//! timestamp `t`, and record `i` is sent by worker `i % workers` once its tick has started.
//! Every record crosses an exchange. Every `--every` ticks one worker (rotating, or the one
//! `--stalled` names) sleeps for a stall length inside the operator after the exchange, when it
//! first sees a record of the stall's tick; stall lengths cycle through `--stall-ms`.
//!
//! Measured per stall, on the stalled worker, from timely's own progress log
//! (`timely/progress/u64` receive events; with the chain each event is one chain atom, with
//! stock timely one message):
//!
//! - `updates`, `atoms`: the progress updates, and the events carrying them, that it folds on
//!   return (in its first step after the stall);
//! - `net`: the size of the net change those updates amount to (consolidated);
//! - `recovery`: the time from the end of the stall until its probe's frontier has passed every
//!   tick that had started by the end of the stall (the others' position when it returned).
//!
//! Latencies (from a tick's start to the sending worker's probe passing it) are kept apart for
//! the records of the ticks during and just after each stall (as many ticks again).
//!
//! ```text
//! cargo run --release -p examples --example stall --features chain-progress -- -w 2 --stall-ms 5,20,50
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::{Exchange, Input, Inspect, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::logging::{TimelyProgressEvent, TimelyProgressEventBuilder};

use examples::{
    emit_checksum, emit_metric, emit_run_info, fail, hash64, medium, Checksum, Summary, WorkerArgs,
};

/// Recovery after a worker stalls, with steady fixed-rate input.
#[derive(Parser, Debug)]
#[command(name = "stall")]
struct Cli {
    /// Records released per second, across all workers.
    #[arg(long, default_value_t = 20_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    rate: u64,

    /// Microseconds per tick (one epoch per tick).
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..=1_000_000))]
    tick_us: u64,

    /// Ticks from one stall to the next (and before the first).
    #[arg(long, default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    every: u64,

    /// Stall lengths in milliseconds; stall k lasts the k-th, cycling.
    #[arg(long, value_delimiter = ',', default_value = "5,20,50")]
    stall_ms: Vec<u64>,

    /// Number of stalls.
    #[arg(long, default_value_t = 6,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    stalls: u64,

    /// The worker that stalls (default: each in turn).
    #[arg(long)]
    stalled: Option<usize>,

    /// timely's progress mode: `demand` (its default) holds back updates that cannot move the
    /// global frontier, `eager` sends every update at once.
    #[arg(long, default_value = "demand", value_parser = ["demand", "eager"])]
    progress_mode: String,

    #[command(flatten)]
    workers: WorkerArgs,
}

/// Latencies in nanoseconds, from 1 ns to an hour, at 3 significant digits.
fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid histogram bounds")
}

/// What the stalled worker saw of one stall.
#[derive(Clone, Debug, Default)]
struct Stall {
    /// Stall length asked for, in milliseconds.
    ms: u64,
    /// Progress updates folded on return: in the first step after the stall.
    updates: usize,
    /// Receive events (messages, or chain atoms) that carried them.
    atoms: usize,
    /// Size of the net change they amount to.
    net: usize,
    /// Milliseconds from the end of the stall until the frontier caught up.
    recovery_ms: f64,
}

/// One progress receive event: when (since the worker's timer), and its updates.
type Received = (Duration, Vec<((usize, usize, u64), i64)>);

fn main() {
    let cli = Cli::parse();
    emit_run_info();
    let peers = cli.workers.count();
    if cli.stall_ms.is_empty() || cli.stall_ms.iter().any(|&d| d == 0 || d > 60_000) {
        fail("--stall-ms needs stall lengths from 1 to 60000 milliseconds");
    }
    if cli.stalled.is_some_and(|w| w >= peers) {
        fail(format!("--stalled must name one of the {peers} workers"));
    }
    let tick_ns = cli.tick_us * 1000;
    let per_tick = (cli.rate * cli.tick_us).div_ceil(1_000_000);
    let ticks = cli.every * (cli.stalls + 1);
    println!(
        "stall: {ticks} ticks of {} us, {per_tick} records a tick, a stall of {:?} ms every {} ticks, {peers} workers, progress mode {}, medium {}",
        cli.tick_us,
        cli.stall_ms,
        cli.every,
        cli.progress_mode,
        medium()
    );
    let (every, stall_ms, stalled) = (cli.every, cli.stall_ms.clone(), cli.stalled);
    // Stall k (from 1) starts at tick k * every, on this worker, for this long.
    let stall_of = move |k: u64| {
        let who = stalled.unwrap_or(((k - 1) % peers as u64) as usize);
        (
            k * every,
            who,
            stall_ms[((k - 1) % stall_ms.len() as u64) as usize],
        )
    };
    let stalls = cli.stalls;

    let mut config = cli.workers.config();
    let mode = cli.progress_mode.parse().unwrap_or_else(|e| fail(e));
    config.worker = config.worker.progress_mode(mode);
    let guards = timely::execute(config, move |worker| {
        let index = worker.index();
        let timer = worker.timer().unwrap_or_else(Instant::now);
        // This worker's progress receive events.
        let received = Rc::new(RefCell::new(Vec::<Received>::new()));
        let sink = Rc::clone(&received);
        worker
            .log_register()
            .expect("a worker has a log registry")
            .insert::<TimelyProgressEventBuilder<u64>, _>("timely/progress/u64", move |_, data| {
                let Some(data) = data else { return };
                for (time, event) in data.iter() {
                    let event: &TimelyProgressEvent<u64> = event;
                    if !event.is_send {
                        let all = event.messages.iter().chain(event.internal.iter());
                        let updates = all.map(|(n, p, t, d)| ((*n, *p, *t), *d)).collect();
                        sink.borrow_mut().push((*time, updates));
                    }
                }
            });

        let mut input = InputHandle::<u64, CapacityContainerBuilder<Vec<u64>>>::new();
        let probe = ProbeHandle::new();
        // (stall number, end of its sleep) for each stall this worker took.
        let slept = Rc::new(RefCell::new(Vec::<(u64, Instant)>::new()));
        let seen = Rc::new(RefCell::new(Checksum::default()));
        let (slept_in, seen_in) = (Rc::clone(&slept), Rc::clone(&seen));
        let mut next_stall = 1;
        let stall_of = stall_of.clone();
        let stall_at = stall_of.clone();
        worker.dataflow(|scope| {
            scope
                .input_from(&mut input)
                .exchange(|id: &u64| id.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32)
                .inspect_core(move |event| {
                    let Ok((stamp, ids)) = event else { return };
                    let time = stamp.least().expect("records travel under a time");
                    for id in ids {
                        seen_in.borrow_mut().add(&(*id, *time), 1);
                    }
                    while next_stall <= stalls && stall_at(next_stall).0 <= *time {
                        let (_, who, ms) = stall_at(next_stall);
                        if who == index {
                            std::thread::sleep(Duration::from_millis(ms));
                            slept_in.borrow_mut().push((next_stall, Instant::now()));
                        }
                        next_stall += 1;
                    }
                })
                .probe_with(&probe);
        });

        let mut all = latency_histogram();
        let mut around = latency_histogram();
        let mut input = Some(input);
        let mut next_tick = 0;
        // Ticks this worker sent records in and has not seen complete yet.
        let mut in_flight = VecDeque::<u64>::new();
        // Stalls taken and not yet recovered from: (stall, end of stall, end of the first
        // step after it, tick to pass).
        let mut recovering = VecDeque::<(u64, Instant, Option<Instant>, u64)>::new();
        let mut recovered = Vec::<(u64, Instant, Instant, Instant)>::new();
        let records_of = |tick: u64| {
            (tick * per_tick..(tick + 1) * per_tick).filter(|i| i % peers as u64 == index as u64)
        };

        timely::synchronization::Barrier::new(worker).wait();
        let start = Instant::now();
        while next_tick < ticks || !in_flight.is_empty() || !recovering.is_empty() {
            let now_tick = start.elapsed().as_nanos() as u64 / tick_ns;
            if let Some(handle) = input.as_mut() {
                while next_tick < ticks && next_tick <= now_tick {
                    handle.advance_to(next_tick);
                    records_of(next_tick).for_each(|id| handle.send(id));
                    in_flight.push_back(next_tick);
                    next_tick += 1;
                }
                if next_tick < ticks {
                    handle.advance_to(next_tick);
                } else {
                    input = None;
                }
            }
            worker.step();
            // The step after a stall's is the one that folds the progress missed in it.
            for r in recovering.iter_mut().filter(|r| r.2.is_none()) {
                r.2 = Some(Instant::now());
            }
            for (k, end) in slept.borrow_mut().drain(..) {
                let started = (end - start).as_nanos() as u64 / tick_ns + 1;
                recovering.push_back((k, end, None, started.min(ticks)));
            }
            let complete = probe.with_frontier(|f| f.first().copied().unwrap_or(u64::MAX));
            let now = start.elapsed().as_nanos() as u64;
            while let Some(&tick) = in_flight.front().filter(|&&t| t < complete) {
                let latency = now.saturating_sub(tick * tick_ns).max(1);
                let n = records_of(tick).count() as u64;
                all.saturating_record_n(latency, n);
                let stall = (1..=stalls)
                    .map(&stall_of)
                    .find(|s| s.0 <= tick && tick < s.0 + 2 * s.2 * 1_000_000 / tick_ns);
                if stall.is_some() {
                    around.saturating_record_n(latency, n);
                }
                in_flight.pop_front();
            }
            while let Some(&(k, end, Some(folded), _)) =
                recovering.front().filter(|r| r.3 <= complete)
            {
                recovered.push((k, end, folded, Instant::now()));
                recovering.pop_front();
            }
        }
        while worker.step() {}
        worker
            .log_register()
            .expect("a worker has a log registry")
            .remove("timely/progress/u64");

        // What this worker folded from each of its stalls' ends until it recovered.
        let received = received.borrow();
        let stalls: Vec<Stall> = recovered
            .iter()
            .map(|&(k, end, folded, done)| {
                let (from, to) = (end - timer, folded - timer);
                let window: Vec<&Received> = received
                    .iter()
                    .filter(|(t, _)| from <= *t && *t <= to)
                    .collect();
                let mut net = BTreeMap::<(usize, usize, u64), i64>::new();
                for (key, diff) in window.iter().flat_map(|(_, u)| u.iter()) {
                    *net.entry(*key).or_default() += diff;
                }
                Stall {
                    ms: stall_of(k).2,
                    updates: window.iter().map(|(_, u)| u.len()).sum(),
                    atoms: window.len(),
                    net: net.values().filter(|d| **d != 0).count(),
                    recovery_ms: (done - end).as_secs_f64() * 1e3,
                }
            })
            .collect();
        (all, around, stalls, seen.take())
    })
    .unwrap_or_else(|e| fail(format!("could not start the workers: {e}")));

    let (mut all, mut around) = (latency_histogram(), latency_histogram());
    let mut stalls = Vec::new();
    let mut checksum = Checksum::default();
    for result in guards.join() {
        let (a, b, s, c) = result.unwrap_or_else(|e| fail(format!("a worker failed: {e}")));
        all.add(&a)
            .and_then(|_| around.add(&b))
            .unwrap_or_else(|e| fail(format!("histograms do not merge: {e}")));
        stalls.extend(s);
        checksum.merge(c);
    }
    let mut expected = Checksum::default();
    for tick in 0..ticks {
        for id in tick * per_tick..(tick + 1) * per_tick {
            expected.add(&(id, tick), 1);
        }
    }
    if checksum != expected {
        fail("the records that reached the probe are not the records released");
    }
    if stalls.len() as u64 != cli.stalls {
        fail(format!(
            "{} of {} stalls were measured",
            stalls.len(),
            cli.stalls
        ));
    }

    for s in &stalls {
        println!(
            "stall {} ms: folded {} updates in {} atoms (net {}), recovered in {:.3} ms",
            s.ms, s.updates, s.atoms, s.net, s.recovery_ms
        );
    }
    let mut lengths: Vec<u64> = stalls.iter().map(|s| s.ms).collect();
    lengths.sort_unstable();
    lengths.dedup();
    for ms in lengths {
        let of = |f: fn(&Stall) -> f64| {
            Summary::of(
                &stalls
                    .iter()
                    .filter(|s| s.ms == ms)
                    .map(f)
                    .collect::<Vec<_>>(),
            )
            .p50
        };
        emit_metric(&format!("d{ms}_updates"), of(|s| s.updates as f64));
        emit_metric(&format!("d{ms}_atoms"), of(|s| s.atoms as f64));
        emit_metric(&format!("d{ms}_net"), of(|s| s.net as f64));
        emit_metric(&format!("d{ms}_recovery_ms"), of(|s| s.recovery_ms));
    }
    let us = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e3;
    println!(
        "latency around stalls over {} records: p50 {:.1} us, p99 {:.1} us, max {:.1} us; all {} records: p99 {:.1} us",
        around.len(),
        us(&around, 0.5),
        us(&around, 0.99),
        around.max() as f64 / 1e3,
        all.len(),
        us(&all, 0.99)
    );
    emit_metric("around_p50_us", us(&around, 0.5));
    emit_metric("around_p99_us", us(&around, 0.99));
    emit_metric("around_max_us", around.max() as f64 / 1e3);
    emit_metric("p99_us", us(&all, 0.99));
    emit_checksum(hash64(&(ticks, per_tick, checksum.value())));
}

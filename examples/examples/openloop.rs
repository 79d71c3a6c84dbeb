//! Open-loop latency: records are released on a fixed schedule, whatever the dataflow's speed,
//! and each record's latency runs from its scheduled release time until the probe at the end of
//! the dataflow has passed its timestamp.
//!
//! Record `i` is released at `i * 1e9 / rate` nanoseconds after the start, by worker
//! `i % workers`. Each time round its loop, a worker sends every record of its own released
//! since it last looked, all stamped with the release time of the first of them (the time its
//! input was holding), then moves its input to the release time of its next record. A worker
//! that keeps up thus sends one record per timestamp; one that falls behind batches the
//! backlog under one timestamp instead of paying a progress round per record. Every record
//! crosses an exchange, so completing a timestamp requires a round of progress among all
//! workers. Latencies (from release, not from the earlier stamp) go into an HDR histogram per
//! worker; the histograms are merged at the end.
//!
//! ```text
//! cargo run --release -p examples --example openloop --features chain-progress -- --rate 200000 --seconds 2 -w 2
//! ```

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use clap::Parser;
use hdrhistogram::Histogram;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::operators::{Exchange, Input, Inspect, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};

use examples::{
    emit_checksum, emit_metric, emit_run_info, fail, hash64, medium, Checksum, WorkerArgs,
};

/// Open-loop latency harness: fixed-rate releases, latency to the probe.
#[derive(Parser, Debug)]
#[command(name = "openloop")]
struct Cli {
    /// Records released per second, across all workers.
    #[arg(long, default_value_t = 200_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    rate: u64,

    /// Seconds during which records are released.
    #[arg(long, default_value_t = 2.0, value_parser = positive_seconds)]
    seconds: f64,

    /// Seconds at the start whose records are not counted in the histogram.
    #[arg(long, default_value_t = 0.2, value_parser = non_negative_seconds)]
    warmup: f64,

    #[command(flatten)]
    workers: WorkerArgs,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 3600.0 => Ok(x),
        Ok(_) => Err("must be more than 0 and at most 3600".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn non_negative_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=3600.0).contains(&x) => Ok(x),
        Ok(_) => Err("must be between 0 and 3600".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Latencies in nanoseconds, from 1 ns to an hour, at 3 significant digits.
fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid histogram bounds")
}

fn main() {
    let cli = Cli::parse();
    emit_run_info();
    if cli.warmup >= cli.seconds {
        fail("--warmup must be shorter than --seconds");
    }
    let rate = cli.rate;
    let duration_ns = (cli.seconds * 1e9) as u64;
    let warmup_ns = (cli.warmup * 1e9) as u64;
    // Release time of record `i`, in nanoseconds since the start.
    let release = move |i: u64| ((i as u128 * 1_000_000_000) / rate as u128) as u64;
    // Records released before `duration_ns`.
    let total = ((duration_ns as u128 * rate as u128).div_ceil(1_000_000_000)) as u64;
    println!(
        "openloop: {rate} records/s for {} s ({total} records), {} workers, medium {}",
        cli.seconds,
        cli.workers.count(),
        medium()
    );

    let guards = timely::execute(cli.workers.config(), move |worker| {
        let index = worker.index() as u64;
        let peers = worker.peers() as u64;
        let mut input = InputHandle::<u64, CapacityContainerBuilder<Vec<u64>>>::new();
        let probe = ProbeHandle::new();
        let seen = Rc::new(Cell::new(Checksum::default()));
        let seen_in = Rc::clone(&seen);

        worker.dataflow(|scope| {
            scope
                .input_from(&mut input)
                .exchange(|id: &u64| id.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32)
                .inspect(move |id: &u64| {
                    let mut c = seen_in.get();
                    c.add(id, 1);
                    seen_in.set(c);
                })
                .probe_with(&probe);
        });

        let mut histogram = latency_histogram();
        let mut input = Some(input);
        let mut next_send = index;
        let mut next_retire = index;
        // Batches sent and not yet complete: (timestamp, first record after the batch).
        let mut in_flight = std::collections::VecDeque::<(u64, u64)>::new();

        timely::synchronization::Barrier::new(worker).wait();
        let start = Instant::now();
        while next_retire < total {
            let now = start.elapsed().as_nanos() as u64;
            if let Some(handle) = input.as_mut() {
                if next_send < total && release(next_send) <= now {
                    // The input holds `release(next_send)`: the batch's timestamp.
                    let stamp = *handle.time();
                    while next_send < total && release(next_send) <= now {
                        handle.send(next_send);
                        next_send += peers;
                    }
                    in_flight.push_back((stamp, next_send));
                }
                if next_send < total {
                    // Promise nothing earlier than our next release.
                    handle.advance_to(release(next_send));
                } else {
                    input = None;
                }
            }
            // Never park: the next release is at most microseconds away.
            worker.step();
            let complete = probe.with_frontier(|f| f.first().copied().unwrap_or(u64::MAX));
            let now = start.elapsed().as_nanos() as u64;
            while let Some(&(stamp, end)) = in_flight.front() {
                if stamp >= complete {
                    break;
                }
                while next_retire < end {
                    let released = release(next_retire);
                    if released >= warmup_ns {
                        histogram.saturating_record(now.saturating_sub(released).max(1));
                    }
                    next_retire += peers;
                }
                in_flight.pop_front();
            }
        }
        while worker.step() {}
        (histogram, seen.get())
    })
    .unwrap_or_else(|e| fail(format!("could not start the workers: {e}")));

    let mut histogram = latency_histogram();
    let mut checksum = Checksum::default();
    for result in guards.join() {
        let (h, c) = result.unwrap_or_else(|e| fail(format!("a worker failed: {e}")));
        histogram
            .add(&h)
            .unwrap_or_else(|e| fail(format!("histograms do not merge: {e}")));
        checksum.merge(c);
    }
    let mut expected = Checksum::default();
    for id in 0..total {
        expected.add(&id, 1);
    }
    if checksum != expected {
        fail("the records that reached the probe are not the records released");
    }

    let us = |q: f64| histogram.value_at_quantile(q) as f64 / 1e3;
    println!(
        "latency over {} records: p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us, max {:.1} us",
        histogram.len(),
        us(0.5),
        us(0.99),
        us(0.999),
        histogram.max() as f64 / 1e3
    );
    emit_metric("p50_us", us(0.5));
    emit_metric("p99_us", us(0.99));
    emit_metric("p999_us", us(0.999));
    emit_metric("max_us", histogram.max() as f64 / 1e3);
    emit_checksum(hash64(&(total, checksum.value())));
}

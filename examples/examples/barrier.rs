//! Pure progress round-trip: every worker holds a capability on a feedback loop and moves it
//! one round forward only once every worker's capability has reached the current round.
//!
//! No data moves; each round is one full exchange of progress among all workers, so the time
//! per round is the latency of the progress medium.
//!
//! ```text
//! cargo run --release -p examples --example barrier --features chain-progress -- --rounds 200000 -w 2
//! ```

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use clap::Parser;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{ConnectLoop, Feedback};

use examples::{
    emit_checksum, emit_metric, emit_run_info, fail, medium, thread_context_switches, WorkerArgs,
};

/// Pure progress round-trip among all workers (a barrier per round).
#[derive(Parser, Debug)]
#[command(name = "barrier")]
struct Cli {
    /// Number of rounds every worker completes.
    #[arg(long, default_value_t = 200_000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    rounds: u64,

    #[command(flatten)]
    workers: WorkerArgs,
}

fn main() {
    let cli = Cli::parse();
    emit_run_info();
    let rounds = cli.rounds;
    println!(
        "barrier: {} rounds, {} workers, medium {}",
        rounds,
        cli.workers.count(),
        medium()
    );

    let guards = timely::execute(cli.workers.config(), move |worker| {
        // How many times this worker moved its capability forward.
        let advanced = Rc::new(Cell::new(0u64));
        let counter = Rc::clone(&advanced);

        worker.dataflow::<u64, _, _>(move |scope| {
            let (handle, cycle) = scope.feedback::<Vec<()>>(1);
            cycle
                .unary_frontier::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
                    Pipeline,
                    "Relay",
                    move |capability, _info| {
                        let mut held = Some(capability);
                        move |(input, frontier), _output| {
                            input.for_each(|_, _| {});
                            // The loop adds one to every time, so the input frontier stays at or
                            // below our own round until every worker holds a later round.
                            let passed = match &held {
                                Some(cap) => !frontier.less_equal(cap.time()),
                                None => false,
                            };
                            if passed {
                                let next = *held.as_ref().map(|c| c.time()).unwrap() + 1;
                                if next < rounds {
                                    held.as_mut().unwrap().downgrade(&next);
                                } else {
                                    held = None;
                                }
                                counter.set(counter.get() + 1);
                            }
                        }
                    },
                )
                .connect_loop(handle);
        });

        timely::synchronization::Barrier::new(worker).wait();
        let switches = thread_context_switches();
        let start = Instant::now();
        // As timely's own worker loop does: poll for `idle_spin`, then park until woken.
        while worker.step_or_park(None) {}
        let seconds = start.elapsed().as_secs_f64();
        let switches = thread_context_switches()
            .zip(switches)
            .map(|(end, start)| end - start);
        (seconds, advanced.get(), switches)
    })
    .unwrap_or_else(|e| fail(format!("could not start the workers: {e}")));

    let mut seconds = 0.0f64;
    let mut total_rounds = 0u64;
    let mut switches = Some(0u64);
    for result in guards.join() {
        let (s, r, c) = result.unwrap_or_else(|e| fail(format!("a worker failed: {e}")));
        seconds = seconds.max(s);
        total_rounds += r;
        switches = switches.zip(c).map(|(a, b)| a + b);
    }
    if total_rounds != rounds * cli.workers.count() as u64 {
        fail(format!(
            "workers completed {total_rounds} rounds in all, expected {}",
            rounds * cli.workers.count() as u64
        ));
    }

    let us_per_round = seconds * 1e6 / rounds as f64;
    println!(
        "{rounds} rounds in {seconds:.3} s: {:.0} rounds/s, {us_per_round:.3} us/round",
        rounds as f64 / seconds
    );
    emit_metric("us_per_round", us_per_round);
    emit_metric("rounds_per_s", rounds as f64 / seconds);
    if let Some(switches) = switches {
        // Parks and preemptions of all workers: near zero while workers poll between rounds.
        println!("{switches} worker context switches");
        emit_metric(
            "switches_per_1k_rounds",
            switches as f64 * 1000.0 / rounds as f64,
        );
    }
    emit_checksum(examples::hash64(&(rounds, total_rounds)));
}

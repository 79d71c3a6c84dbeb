//! Pure progress round-trip: every worker holds a capability on a feedback loop and moves it
//! one round forward only once every worker's capability has reached the current round.
//!
//! No data moves; each round is one full exchange of progress among all workers, so the time
//! per round is the latency of the progress medium.
//!
//! ```text
//! cargo run --release -p examples --example barrier --features chain-progress -- --rounds 200000 -w 2
//! ```
//!
//! Besides the time, every run counts the heap allocations (and bytes) its worker threads make
//! while the rounds run, with a counting global allocator (per-thread counters: no shared line,
//! the same small cost for both media). `--count-folds` also counts, through timely's progress
//! log, the progress receipts ("atoms": one per message with stock, one per chain receive) and
//! the updates each worker folds; logging costs time, so such a run's time is not comparable.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use clap::Parser;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Pipeline;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::{ConnectLoop, Feedback};
use timely::logging::{TimelyProgressEvent, TimelyProgressEventBuilder};

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

    /// Also count the progress receipts and updates each worker folds (slows the run).
    #[arg(long)]
    count_folds: bool,

    /// Also count the progress messages (and their bytes on the wire) this process receives
    /// from other processes (slows the run).
    #[arg(long)]
    count_remote: bool,

    #[command(flatten)]
    workers: WorkerArgs,
}

/// Counts the allocations, and bytes allocated, of each thread.
struct Counting;

thread_local! {
    /// (allocations, bytes) made by this thread; no destructor, so usable at any time.
    static ALLOCATED: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

fn count_allocation(bytes: usize) {
    ALLOCATED.with(|c| {
        let (n, b) = c.get();
        c.set((n + 1, b + bytes as u64));
    });
}

// SAFETY: every method forwards its arguments unchanged to the system allocator, which
// upholds `GlobalAlloc`'s contract; the counting touches only a thread-local `Cell`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation(layout.size());
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation(layout.size());
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation(new_size);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// What one worker counted while the rounds ran.
#[derive(Default, Clone, Copy)]
struct Counts {
    allocations: u64,
    bytes: u64,
    receipts: u64,
    updates: u64,
    remote_messages: u64,
    remote_bytes: u64,
}

/// The bytes a progress message with these updates takes on the wire between processes: the
/// networking header (six `usize` fields) and the `Bincode` payload `(source, seq, batch)`.
fn wire_bytes(event: &TimelyProgressEvent<u64>) -> u64 {
    use timely::communication::Bytesable;
    use timely::progress::{ChangeBatch, Location, Port};
    let mut batch = ChangeBatch::<(Location, u64)>::new();
    for (node, port, time, diff) in event.messages.iter() {
        let location = Location {
            node: *node,
            port: Port::Target(*port),
        };
        batch.update((location, *time), *diff);
    }
    for (node, port, time, diff) in event.internal.iter() {
        let location = Location {
            node: *node,
            port: Port::Source(*port),
        };
        batch.update((location, *time), *diff);
    }
    let message = timely::Bincode {
        payload: (event.source, event.seq_no, batch),
    };
    (6 * std::mem::size_of::<usize>() + message.length_in_bytes()) as u64
}

/// Calls `f` with every progress receipt (not send) that `worker`'s progress log records. One
/// callback a worker: a second registration replaces the first.
fn on_receipts(
    worker: &timely::worker::Worker,
    mut f: impl FnMut(&TimelyProgressEvent<u64>) + 'static,
) {
    worker
        .log_register()
        .expect("workers log")
        .insert::<TimelyProgressEventBuilder<u64>, _>(
            &format!("timely/progress/{}", std::any::type_name::<u64>()),
            move |_time, batch| {
                for (_, event) in batch.iter().flatten().filter(|(_, e)| !e.is_send) {
                    f(event);
                }
            },
        );
}

fn main() {
    let cli = Cli::parse();
    emit_run_info();
    let rounds = cli.rounds;
    let count_folds = cli.count_folds;
    let count_remote = cli.count_remote;
    let threads = cli.workers.count();
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
        // (receipts, updates) this worker's progress log saw it receive.
        let folds = Rc::new(Cell::new((0u64, 0u64)));
        // (messages, bytes) from other processes, counted by one worker per process: a process
        // receives each message once, and its networking hands it to every local worker.
        let remote = Rc::new(Cell::new((0u64, 0u64)));
        let (index, peers) = (worker.index(), worker.peers());
        if count_remote && index % threads == 0 {
            let remote = Rc::clone(&remote);
            on_receipts(worker, move |event| {
                // A forwarded delta's source is `peers + process`; a stock batch's is its
                // worker; chain receipts name the receiving worker.
                if event.source >= peers || event.source / threads != index / threads {
                    let (messages, bytes) = remote.get();
                    remote.set((messages + 1, bytes + wire_bytes(event)));
                }
            });
        }
        if count_folds {
            let folds = Rc::clone(&folds);
            on_receipts(worker, move |event| {
                let (receipts, updates) = folds.get();
                let n = (event.messages.len() + event.internal.len()) as u64;
                folds.set((receipts + 1, updates + n));
            });
        }

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
        let (allocations, bytes) = ALLOCATED.with(Cell::get);
        let folded = folds.get();
        let remoted = remote.get();
        let start = Instant::now();
        // As timely's own worker loop does: poll for `idle_spin`, then park until woken.
        while worker.step_or_park(None) {}
        let seconds = start.elapsed().as_secs_f64();
        let (allocations_end, bytes_end) = ALLOCATED.with(Cell::get);
        let switches = thread_context_switches()
            .zip(switches)
            .map(|(end, start)| end - start);
        if let Some(mut register) = worker.log_register() {
            // Flushes the progress log into `folds`.
            register.remove(&format!("timely/progress/{}", std::any::type_name::<u64>()));
        }
        let counts = Counts {
            allocations: allocations_end - allocations,
            bytes: bytes_end - bytes,
            receipts: folds.get().0 - folded.0,
            updates: folds.get().1 - folded.1,
            remote_messages: remote.get().0 - remoted.0,
            remote_bytes: remote.get().1 - remoted.1,
        };
        (seconds, advanced.get(), switches, counts)
    })
    .unwrap_or_else(|e| fail(format!("could not start the workers: {e}")));

    let mut seconds = 0.0f64;
    let mut total_rounds = 0u64;
    let mut switches = Some(0u64);
    let mut counts = Counts::default();
    for result in guards.join() {
        let (s, r, c, n) = result.unwrap_or_else(|e| fail(format!("a worker failed: {e}")));
        seconds = seconds.max(s);
        total_rounds += r;
        switches = switches.zip(c).map(|(a, b)| a + b);
        counts.allocations += n.allocations;
        counts.bytes += n.bytes;
        counts.receipts += n.receipts;
        counts.updates += n.updates;
        counts.remote_messages += n.remote_messages;
        counts.remote_bytes += n.remote_bytes;
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
    // Totals over all workers, while the rounds ran; per round they include warm-up, so
    // `scripts/counts` takes differences between two round counts.
    emit_metric("worker_allocations", counts.allocations as f64);
    emit_metric("worker_bytes_allocated", counts.bytes as f64);
    if count_folds {
        emit_metric("progress_receipts", counts.receipts as f64);
        emit_metric("progress_updates_folded", counts.updates as f64);
    }
    if count_remote {
        // Received by this process from all others while the rounds ran.
        emit_metric("remote_progress_messages", counts.remote_messages as f64);
        emit_metric("remote_progress_bytes", counts.remote_bytes as f64);
    }
    emit_checksum(examples::hash64(&(rounds, total_rounds)));
}

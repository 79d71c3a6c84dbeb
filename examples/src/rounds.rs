//! The round driver shared by the differential-dataflow examples: load a random graph, then
//! apply many small rounds of edge changes, timing each round until the output is complete.

use std::cell::Cell;
use std::hash::Hash;
use std::rc::Rc;
use std::time::Instant;

use clap::Args;
use differential_dataflow::input::Input;
use differential_dataflow::{ExchangeData, VecCollection};
use timely::dataflow::ProbeHandle;

use crate::{
    emit_checksum, emit_metric, emit_run_info, fail, medium, Checksum, Edge, GraphChanges, Summary,
    WorkerArgs,
};

/// Options of the graph-change workload.
#[derive(Args, Clone, Debug)]
pub struct GraphArgs {
    /// Number of nodes in the random graph.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(2..=100_000_000))]
    pub nodes: u32,

    /// Number of edges in the random graph.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub edges: u64,

    /// Edges replaced (one removed, one added) in each round.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub changes: u64,

    /// Number of rounds of changes after the initial load.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub rounds: u64,

    /// Seed of the random graph and its changes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Print only the summary, not one line per round.
    #[arg(long)]
    pub summary_only: bool,
}

/// The computation a graph example runs: from the edge collection to an output collection.
pub type GraphLogic<D> =
    for<'s> fn(VecCollection<'s, u64, Edge, isize>) -> VecCollection<'s, u64, D, isize>;

/// What one run of a graph workload measured.
#[derive(Clone, Debug)]
pub struct GraphRun {
    /// Worker 0's time per round in microseconds; entry 0 is the initial load.
    pub round_us: Vec<f64>,
    /// The digest of the output's updates `((data, round), diff)` over all workers.
    pub checksum: Checksum,
}

/// Runs `logic` over the changing graph described by `graph` on the workers `config` describes
/// and returns what it measured; prints nothing.
///
/// Round 0 loads the initial edges at time 0; round `r` applies the `r`-th batch of changes at
/// time `r`. Every worker feeds the edge slots it owns; the times are worker 0's, from the
/// moment its input moved past the round until its probe passed it.
pub fn graph_rounds<D>(
    graph: &GraphArgs,
    config: timely::Config,
    logic: GraphLogic<D>,
) -> Result<GraphRun, String>
where
    D: ExchangeData + Hash,
{
    let args = graph.clone();
    let guards = timely::execute(config, move |worker| {
        let index = worker.index();
        let peers = worker.peers();
        let probe = ProbeHandle::new();
        let digest = Rc::new(Cell::new(Checksum::default()));
        let digest_in = Rc::clone(&digest);

        let mut input = worker.dataflow::<u64, _, _>(|scope| {
            let (input, edges) = scope.new_collection::<Edge, isize>();
            logic(edges)
                .inspect(move |(data, time, diff)| {
                    let mut c = digest_in.get();
                    c.add(&(data, time), *diff as i64);
                    digest_in.set(c);
                })
                .probe_with(&probe);
            input
        });

        let mut changes = GraphChanges::new(
            args.nodes,
            args.edges as usize,
            args.changes as usize,
            args.seed,
        );
        let mut times = Vec::with_capacity(args.rounds as usize + 1);

        for (slot, edge) in changes.edges().iter().enumerate() {
            if slot % peers == index {
                input.insert(*edge);
            }
        }
        let mut batch = Vec::new();
        for round in 0..=args.rounds {
            if round > 0 {
                changes.next_round(&mut batch);
                for (slot, old, new) in batch.iter() {
                    if slot % peers == index {
                        input.remove(*old);
                        input.insert(*new);
                    }
                }
            }
            input.advance_to(round + 1);
            input.flush();
            let start = Instant::now();
            // Poll for `idle_spin`, then park until woken, as timely's own worker loop does.
            worker.step_or_park_while(None, || probe.less_than(input.time()));
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
        drop(input);
        while worker.step_or_park(None) {}
        (times, digest.get())
    })?;

    let mut run = GraphRun {
        round_us: Vec::new(),
        checksum: Checksum::default(),
    };
    for (index, result) in guards.join().into_iter().enumerate() {
        let (times, checksum) = result?;
        run.checksum.merge(checksum);
        if index == 0 {
            run.round_us = times;
        }
    }
    Ok(run)
}

/// Runs `logic` as [`graph_rounds`] does on `workers` workers, prints the time of every round
/// (round 0 is the initial load) and a summary, and emits the metrics `round_p50_us`,
/// `round_p99_us`, `load_ms` and `total_s` and the output's checksum. Exits with a message on
/// failure.
pub fn run_graph_rounds<D>(
    title: &str,
    graph: &GraphArgs,
    workers: &WorkerArgs,
    logic: GraphLogic<D>,
) where
    D: ExchangeData + Hash,
{
    emit_run_info();
    println!(
        "{title}: {} nodes, {} edges, {} rounds of {} changes, {} workers, medium {}",
        graph.nodes,
        graph.edges,
        graph.rounds,
        graph.changes,
        workers.count(),
        medium()
    );
    let run = graph_rounds(graph, workers.config(), logic)
        .unwrap_or_else(|e| fail(format!("the workers failed: {e}")));
    let times = run.round_us;
    let checksum = run.checksum;
    if !graph.summary_only {
        for (round, us) in times.iter().enumerate() {
            println!("round {round}: {us:.1} us");
        }
    }
    let summary = Summary::of(&times[1..]);
    println!(
        "load {:.3} ms; {} rounds: median {:.1} us, p99 {:.1} us, max {:.1} us, total {:.3} s; checksum {:016x}",
        times[0] / 1e3,
        summary.count,
        summary.p50,
        summary.p99,
        summary.max,
        summary.total / 1e6,
        checksum.value()
    );
    emit_metric("round_p50_us", summary.p50);
    emit_metric("round_p99_us", summary.p99);
    emit_metric("load_ms", times[0] / 1e3);
    emit_metric("total_s", summary.total / 1e6);
    emit_checksum(checksum.value());
}

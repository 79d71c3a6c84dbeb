//! Strongly connected components of a random directed graph under a stream of small rounds of
//! edge changes: the edges whose two ends lie in the same component, maintained by differential
//! dataflow with two levels of nested iterative scopes (see [`examples::scc_edges`]).
//!
//! ```text
//! cargo run --release -p examples --example scc --features chain-progress -- --nodes 1000 --edges 1200 --changes 2 --rounds 100 -w 2
//! ```

use clap::Parser;

use examples::{run_graph_rounds, scc_edges, GraphArgs, WorkerArgs};

/// Edges inside strongly connected components, under a stream of edge changes.
#[derive(Parser, Debug)]
#[command(name = "scc")]
struct Cli {
    #[command(flatten)]
    graph: GraphArgs,

    #[command(flatten)]
    workers: WorkerArgs,
}

fn main() {
    let cli = Cli::parse();
    run_graph_rounds("scc", &cli.graph, &cli.workers, scc_edges);
}

//! Breadth-first distances from node 0 in a random directed graph, kept up to date by
//! differential dataflow while a stream of small rounds replaces a few edges each.
//!
//! Each round is one pass through an iterative scope whose depth is the number of BFS levels
//! that changed, so a round costs several progress exchanges and little data. The computation
//! is [`examples::bfs_distances`].
//!
//! ```text
//! cargo run --release -p examples --example reach --features chain-progress -- --rounds 500 -w 2
//! ```

use clap::Parser;

use examples::{bfs_distances, run_graph_rounds, GraphArgs, WorkerArgs};

/// BFS distances from node 0 under a stream of edge changes.
#[derive(Parser, Debug)]
#[command(name = "reach")]
struct Cli {
    #[command(flatten)]
    graph: GraphArgs,

    #[command(flatten)]
    workers: WorkerArgs,
}

fn main() {
    let cli = Cli::parse();
    run_graph_rounds("reach", &cli.graph, &cli.workers, bfs_distances);
}

//! Breadth-first distances from node 0 in a random directed graph, kept up to date by
//! differential dataflow while a stream of small rounds replaces a few edges each.
//!
//! Each round is one pass through an iterative scope whose depth is the graph's BFS depth, so a
//! round costs many progress exchanges and little data.
//!
//! ```text
//! cargo run --release -p examples --example reach --features chain-progress -- --rounds 500 -w 2
//! ```

use clap::Parser;
use differential_dataflow::operators::Iterate;
use differential_dataflow::VecCollection;

use examples::{run_graph_rounds, Edge, GraphArgs, WorkerArgs};

/// BFS distances from node 0 under a stream of edge changes.
#[derive(Parser, Debug)]
#[command(name = "reach")]
struct Cli {
    #[command(flatten)]
    graph: GraphArgs,

    #[command(flatten)]
    workers: WorkerArgs,
}

/// `(node, distance)` for every node reachable from node 0, with the fewest hops.
fn distances(edges: VecCollection<'_, u64, Edge, isize>) -> VecCollection<'_, u64, (u32, u32), isize> {
    let root = root_collection(&edges);
    root.clone().iterate(|scope, reached| {
        let edges = edges.enter(scope);
        let root = root.enter(scope);
        reached
            .join_map(edges, |_source, dist, target| (*target, dist + 1))
            .concat(root)
            .reduce(|_node, dists, shortest| shortest.push((*dists[0].0, 1)))
    })
}

/// The single record `(0, 0)` at time 0, in the scope of `edges`.
fn root_collection<'s>(edges: &VecCollection<'s, u64, Edge, isize>) -> VecCollection<'s, u64, (u32, u32), isize> {
    use differential_dataflow::AsCollection;
    use timely::dataflow::operators::ToStream;
    // Only worker 0 contributes the root, so that it appears once.
    let scope = edges.scope();
    let first = scope.index() == 0;
    let records: Vec<((u32, u32), u64, isize)> = if first { vec![((0, 0), 0, 1)] } else { Vec::new() };
    records.to_stream(scope).as_collection()
}

fn main() {
    let cli = Cli::parse();
    run_graph_rounds("reach", &cli.graph, &cli.workers, distances);
}

//! Strongly connected components of a random directed graph under a stream of small rounds of
//! edge changes: the edges whose two ends lie in the same component, maintained by differential
//! dataflow with two levels of nested iterative scopes.
//!
//! The outer loop repeatedly trims edges, forward and then backward: an edge survives a trim
//! when its two ends receive the same label from a label propagation along the surviving
//! edges, where each node starts with its own id as label and keeps the smallest label that
//! reaches it. Each propagation is itself an iterative scope inside the outer one. At the fixed
//! point exactly the edges inside strongly connected components remain.
//!
//! ```text
//! cargo run --release -p examples --example scc --features chain-progress -- --nodes 2000 --edges 3000 --rounds 200 -w 2
//! ```

use clap::Parser;
use differential_dataflow::lattice::Lattice;
use differential_dataflow::operators::Iterate;
use differential_dataflow::VecCollection;
use timely::progress::Timestamp;

use examples::{run_graph_rounds, Edge, GraphArgs, WorkerArgs};

/// Edges inside strongly connected components, under a stream of edge changes.
#[derive(Parser, Debug)]
#[command(name = "scc")]
struct Cli {
    #[command(flatten)]
    graph: GraphArgs,

    #[command(flatten)]
    workers: WorkerArgs,
}

/// For each node that is the target of an edge, the smallest node id from which it is
/// reachable along `edges` (every such node starts labelled with its own id).
fn smallest_reaching<'s, T>(edges: VecCollection<'s, T, Edge, isize>) -> VecCollection<'s, T, (u32, u32), isize>
where
    T: Timestamp + Lattice,
{
    let seeds = edges.clone().map(|(_, target)| (target, target)).distinct();
    seeds.clone().iterate(|scope, labels| {
        let edges = edges.enter(scope);
        let seeds = seeds.enter(scope);
        labels
            .join_map(edges, |_source, label, target| (*target, *label))
            .concat(seeds)
            .reduce(|_node, labels, smallest| smallest.push((*labels[0].0, 1)))
    })
}

/// The edges of `edges` whose source and target get the same label from
/// [`smallest_reaching`].
fn trim<'s, T>(edges: VecCollection<'s, T, Edge, isize>) -> VecCollection<'s, T, Edge, isize>
where
    T: Timestamp + Lattice,
{
    let labels = smallest_reaching(edges.clone());
    edges
        .join_map(labels.clone(), |source, target, source_label| (*target, (*source, *source_label)))
        .join_map(labels, |target, (source, source_label), target_label| {
            ((*source, *target), source_label == target_label)
        })
        .filter(|(_, same)| *same)
        .map(|(edge, _)| edge)
}

/// Edges whose two ends are in the same strongly connected component.
fn components(edges: VecCollection<'_, u64, Edge, isize>) -> VecCollection<'_, u64, Edge, isize> {
    let edges = edges.distinct();
    edges.iterate(|_scope, surviving| {
        let forward = trim(surviving);
        let backward = trim(forward.map(|(s, t)| (t, s)));
        backward.map(|(s, t)| (t, s)).consolidate()
    })
}

fn main() {
    let cli = Cli::parse();
    run_graph_rounds("scc", &cli.graph, &cli.workers, components);
}

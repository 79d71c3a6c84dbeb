//! The differential-dataflow computations of the `reach` and `scc` examples, kept here so that
//! tests can check them against sequential reference implementations.

use differential_dataflow::lattice::Lattice;
use differential_dataflow::operators::Iterate;
use differential_dataflow::{AsCollection, VecCollection};
use timely::dataflow::operators::ToStream;
use timely::progress::Timestamp;

use crate::Edge;

/// `(node, hops)` for every node reachable from node 0, with the fewest hops (node 0 itself
/// at 0). One iterative scope; a round costs one loop iteration per BFS level that changed.
pub fn bfs_distances(
    edges: VecCollection<'_, u64, Edge, isize>,
) -> VecCollection<'_, u64, (u32, u32), isize> {
    // Only worker 0 contributes the root, so that it appears once.
    let scope = edges.scope();
    let root: Vec<((u32, u32), u64, isize)> = if scope.index() == 0 {
        vec![((0, 0), 0, 1)]
    } else {
        Vec::new()
    };
    let root = root.to_stream(scope).as_collection();
    root.clone().iterate(|scope, reached| {
        let edges = edges.enter(scope);
        let root = root.enter(scope);
        reached
            .join_map(edges, |_source, hops, target| (*target, hops + 1))
            .concat(root)
            .reduce(|_node, hops, fewest| fewest.push((*hops[0].0, 1)))
    })
}

/// For each node that is the target of an edge, the smallest node id from which it is
/// reachable along `edges` (every such node starts labelled with its own id).
fn smallest_reaching<'s, T>(
    edges: VecCollection<'s, T, Edge, isize>,
) -> VecCollection<'s, T, (u32, u32), isize>
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
        .join_map(labels.clone(), |source, target, source_label| {
            (*target, (*source, *source_label))
        })
        .join_map(labels, |target, (source, source_label), target_label| {
            ((*source, *target), source_label == target_label)
        })
        .filter(|(_, same)| *same)
        .map(|(edge, _)| edge)
}

/// The distinct edges whose two ends lie in the same strongly connected component.
///
/// The outer loop repeatedly trims edges, forward and then backward: an edge survives a trim
/// when its two ends receive the same label from a label propagation along the surviving
/// edges, in which each node starts with its own id and keeps the smallest label that reaches
/// it. Each propagation is an iterative scope inside the outer one, so a round crosses two
/// levels of nested scopes. At the fixed point exactly the edges inside strongly connected
/// components remain.
pub fn scc_edges(
    edges: VecCollection<'_, u64, Edge, isize>,
) -> VecCollection<'_, u64, Edge, isize> {
    edges.distinct().iterate(|_scope, surviving| {
        let forward = trim(surviving);
        let backward = trim(forward.map(|(s, t)| (t, s)));
        backward.map(|(s, t)| (t, s)).consolidate()
    })
}

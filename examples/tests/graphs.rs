//! The differential computations of `reach` and `scc` against sequential reference
//! implementations, round by round, at several worker counts and through both allocators.
//!
//! The dataflow's checksum digests its whole output update stream (`((data, round), diff)`);
//! the reference recomputes the answer from scratch after every round and digests the
//! differences between consecutive answers. They agree only if every round's output is right.

use std::collections::{BTreeSet, VecDeque};

use examples::{
    bfs_distances, graph_rounds, scc_edges, Checksum, Edge, GraphArgs, GraphChanges, WorkerArgs,
};

fn args(nodes: u32, edges: u64, changes: u64, rounds: u64, seed: u64) -> GraphArgs {
    GraphArgs {
        nodes,
        edges,
        changes,
        rounds,
        seed,
        summary_only: true,
    }
}

fn config(workers: usize) -> timely::Config {
    let workers = u16::try_from(workers).expect("a test's worker count fits");
    WorkerArgs {
        workers,
        idle_spin: None,
        processes: 1,
        process: 0,
        hostfile: None,
    }
    .config()
}

/// Digest of the differences between consecutive answers, the answer of round `r` at time `r`.
fn reference<D: std::hash::Hash + Ord + Clone>(
    graph: &GraphArgs,
    answer: impl Fn(&[Edge]) -> BTreeSet<D>,
) -> Checksum {
    let mut changes = GraphChanges::new(
        graph.nodes,
        graph.edges as usize,
        graph.changes as usize,
        graph.seed,
    );
    let mut digest = Checksum::default();
    let mut previous = BTreeSet::new();
    let mut batch = Vec::new();
    for round in 0..=graph.rounds {
        if round > 0 {
            changes.next_round(&mut batch);
        }
        let current = answer(changes.edges());
        for added in current.difference(&previous) {
            digest.add(&(added, round), 1);
        }
        for removed in previous.difference(&current) {
            digest.add(&(removed, round), -1);
        }
        previous = current;
    }
    digest
}

fn reachable(nodes: u32, edges: &[Edge], from: u32) -> Vec<Option<u32>> {
    let mut adjacency = vec![Vec::new(); nodes as usize];
    for (s, t) in edges {
        adjacency[*s as usize].push(*t);
    }
    let mut hops = vec![None; nodes as usize];
    hops[from as usize] = Some(0);
    let mut queue = VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        let next = hops[node as usize].unwrap() + 1;
        for t in &adjacency[node as usize] {
            if hops[*t as usize].is_none() {
                hops[*t as usize] = Some(next);
                queue.push_back(*t);
            }
        }
    }
    hops
}

fn bfs_reference(nodes: u32, edges: &[Edge]) -> BTreeSet<(u32, u32)> {
    reachable(nodes, edges, 0)
        .into_iter()
        .enumerate()
        .filter_map(|(n, h)| h.map(|h| (n as u32, h)))
        .collect()
}

fn scc_reference(nodes: u32, edges: &[Edge]) -> BTreeSet<Edge> {
    let reach: Vec<Vec<Option<u32>>> = (0..nodes).map(|n| reachable(nodes, edges, n)).collect();
    edges
        .iter()
        .filter(|(s, t)| reach[*t as usize][*s as usize].is_some())
        .copied()
        .collect()
}

#[test]
fn bfs_matches_sequential_reference() {
    for (graph, workers) in [
        (args(60, 90, 3, 25, 1), 1),
        (args(60, 90, 3, 25, 1), 2),
        (args(60, 90, 3, 25, 1), 3),
        (args(200, 220, 5, 15, 9), 4),
    ] {
        let expect = reference(&graph, |edges| bfs_reference(graph.nodes, edges));
        let run = graph_rounds(&graph, config(workers), bfs_distances).expect("workers run");
        assert_eq!(run.round_us.len(), graph.rounds as usize + 1);
        assert_eq!(run.checksum, expect, "bfs, {workers} workers, {graph:?}");
    }
}

#[test]
fn scc_matches_sequential_reference() {
    for (graph, workers) in [
        (args(40, 60, 2, 12, 3), 1),
        (args(40, 60, 2, 12, 3), 2),
        (args(40, 70, 3, 8, 5), 3),
    ] {
        let expect = reference(&graph, |edges| scc_reference(graph.nodes, edges));
        // The reference must have something to check: some rounds have cycles.
        assert_ne!(expect, Checksum::default());
        let run = graph_rounds(&graph, config(workers), scc_edges).expect("workers run");
        assert_eq!(run.checksum, expect, "scc, {workers} workers, {graph:?}");
    }
}

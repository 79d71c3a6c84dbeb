//! A deterministic random graph and a stream of small changes to it, split among workers.

/// A directed edge `(source, target)`.
pub type Edge = (u32, u32);

/// A random graph on `nodes` nodes with a fixed number of edge slots, and a stream of rounds in
/// each of which a few slots get a fresh random edge (the old one is removed).
///
/// Every worker builds the same `GraphChanges` from the same seed and feeds only the slots it
/// owns (`slot % peers == index`) into its input, so that the union over workers is the whole
/// graph and the whole change stream, whatever the number of workers.
///
/// # Examples
///
/// ```
/// use examples::GraphChanges;
///
/// let mut a = GraphChanges::new(100, 50, 3, 7);
/// let mut b = GraphChanges::new(100, 50, 3, 7);
/// assert_eq!(a.edges(), b.edges());
/// let (mut ca, mut cb) = (Vec::new(), Vec::new());
/// a.next_round(&mut ca);
/// b.next_round(&mut cb);
/// assert_eq!(ca, cb);
/// assert_eq!(ca.len(), 3);
/// for (slot, old, new) in ca {
///     assert_ne!(old, new);
///     assert_eq!(a.edges()[slot], new);
/// }
/// ```
#[derive(Clone, Debug)]
pub struct GraphChanges {
    nodes: u32,
    edges: Vec<Edge>,
    changes: usize,
    state: u64,
}

impl GraphChanges {
    /// A random graph with `edges` edges among `nodes` nodes (`nodes >= 2`, `edges >= 1`) and
    /// `changes` slot replacements per round, generated from `seed`.
    pub fn new(nodes: u32, edges: usize, changes: usize, seed: u64) -> Self {
        assert!(nodes >= 2 && edges >= 1, "need at least 2 nodes and 1 edge");
        let mut graph = GraphChanges {
            nodes,
            edges: Vec::with_capacity(edges),
            changes,
            state: seed,
        };
        for _ in 0..edges {
            let edge = graph.random_edge();
            graph.edges.push(edge);
        }
        graph
    }

    /// The current edges, indexed by slot.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Advances to the next round, replacing `changes` random slots; pushes
    /// `(slot, removed edge, inserted edge)` for each into `out` (which is cleared first).
    pub fn next_round(&mut self, out: &mut Vec<(usize, Edge, Edge)>) {
        out.clear();
        for _ in 0..self.changes {
            let slot = (self.next_u64() % self.edges.len() as u64) as usize;
            let old = self.edges[slot];
            let mut new = self.random_edge();
            while new == old {
                new = self.random_edge();
            }
            self.edges[slot] = new;
            out.push((slot, old, new));
        }
    }

    fn random_edge(&mut self) -> Edge {
        let n = self.nodes as u64;
        loop {
            let source = (self.next_u64() % n) as u32;
            let target = (self.next_u64() % n) as u32;
            if source != target {
                return (source, target);
            }
        }
    }

    /// SplitMix64: small, fast, and the same sequence everywhere.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_track_the_edge_multiset() {
        let mut graph = GraphChanges::new(50, 200, 7, 42);
        let mut multiset = std::collections::BTreeMap::<Edge, i64>::new();
        for e in graph.edges() {
            *multiset.entry(*e).or_default() += 1;
        }
        let mut changes = Vec::new();
        for _ in 0..100 {
            graph.next_round(&mut changes);
            for (_, old, new) in &changes {
                *multiset.entry(*old).or_default() -= 1;
                *multiset.entry(*new).or_default() += 1;
            }
        }
        multiset.retain(|_, c| *c != 0);
        let mut expect = std::collections::BTreeMap::<Edge, i64>::new();
        for e in graph.edges() {
            *expect.entry(*e).or_default() += 1;
        }
        assert_eq!(multiset, expect);
        assert!(multiset.values().all(|c| *c > 0));
        assert!(graph
            .edges()
            .iter()
            .all(|(s, t)| s != t && *s < 50 && *t < 50));
    }

    #[test]
    fn seeds_differ() {
        let a = GraphChanges::new(1000, 10, 1, 1);
        let b = GraphChanges::new(1000, 10, 1, 2);
        assert_ne!(a.edges(), b.edges());
    }
}

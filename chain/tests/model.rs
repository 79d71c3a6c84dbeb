//! Property tests against a sequential model: for any sequence of sends, receives,
//! registrations and drops, every reader's folded net equals what it is owed, and the
//! live-node bound holds after every step.
#![cfg(not(loom))]

use std::collections::BTreeMap;

use chain::{Batch, Chain, Chainable, Reader};
use proptest::prelude::*;

type Net = BTreeMap<u8, i64>;

#[derive(Clone, Debug)]
enum Op {
    /// Send a batch through writer handle `writer % handles`.
    Send {
        writer: usize,
        updates: Vec<(u8, i64)>,
    },
    /// Receive on reader `reader % readers` (no-op without readers).
    Recv { reader: usize, per_atom: bool },
    /// Send a batch through reader `reader % readers` and read back (a send without readers).
    SendAndRecv {
        reader: usize,
        updates: Vec<(u8, i64)>,
    },
    /// Register a late reader.
    Register,
    /// Drop reader `reader % readers`.
    Drop { reader: usize },
    /// Clone a writer handle.
    CloneHandle,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<usize>(), prop::collection::vec((0u8..8, -3i64..=3), 0..4))
            .prop_map(|(writer, updates)| Op::Send { writer, updates }),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(reader, per_atom)| Op::Recv { reader, per_atom }),
        3 => (any::<usize>(), prop::collection::vec((0u8..8, -3i64..=3), 0..4))
            .prop_map(|(reader, updates)| Op::SendAndRecv { reader, updates }),
        1 => Just(Op::Register),
        1 => any::<usize>().prop_map(|reader| Op::Drop { reader }),
        1 => Just(Op::CloneHandle),
    ]
}

fn net_of(batch: &Batch<u8>) -> Net {
    batch.updates().iter().copied().collect()
}

fn add(net: &mut Net, updates: &[(u8, i64)]) {
    for (key, diff) in updates {
        *net.entry(*key).or_default() += diff;
    }
    net.retain(|_, diff| *diff != 0);
}

/// A reader and the model of what it is owed.
struct Modelled {
    reader: Reader<Batch<u8>>,
    folded: Batch<u8>,
    owed: Net,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chain_matches_sequential_model(initial in 0usize..4, ops in prop::collection::vec(op(), 0..120)) {
        let (chain, readers) = Chain::<Batch<u8>>::with_readers(initial);
        let mut handles = vec![chain.clone()];
        let mut readers: Vec<Modelled> = readers
            .into_iter()
            .map(|reader| Modelled { reader, folded: Batch::new(), owed: Net::new() })
            .collect();
        for op in ops {
            match op {
                Op::Send { writer, updates } => {
                    for reader in &mut readers {
                        add(&mut reader.owed, &updates);
                    }
                    let mut batch: Batch<u8> = updates.into_iter().collect();
                    handles[writer % handles.len()].send_from(&mut batch);
                    prop_assert!(batch.is_empty());
                }
                Op::Recv { reader, per_atom } if !readers.is_empty() => {
                    let index = reader % readers.len();
                    let Modelled { reader, folded, owed } = &mut readers[index];
                    if per_atom {
                        reader.recv_with(|atom| {
                            assert!(!atom.is_empty());
                            folded.merge_ref(atom);
                        });
                    } else {
                        reader.recv(folded);
                    }
                    prop_assert_eq!(&net_of(folded), owed);
                    prop_assert!(!reader.has_news());
                }
                Op::Recv { .. } => {}
                Op::SendAndRecv { reader, updates } => {
                    for reader in &mut readers {
                        add(&mut reader.owed, &updates);
                    }
                    let mut batch: Batch<u8> = updates.into_iter().collect();
                    if readers.is_empty() {
                        chain.send_from(&mut batch);
                    } else {
                        let index = reader % readers.len();
                        let Modelled { reader, folded, owed } = &mut readers[index];
                        reader.send_and_recv(&mut batch, folded);
                        prop_assert_eq!(&net_of(folded), owed);
                        prop_assert!(!reader.has_news());
                    }
                    prop_assert!(batch.is_empty());
                }
                Op::Register => readers.push(Modelled {
                    reader: chain.reader(),
                    folded: Batch::new(),
                    owed: Net::new(),
                }),
                Op::Drop { reader } if !readers.is_empty() => {
                    let index = reader % readers.len();
                    readers.swap_remove(index);
                }
                Op::Drop { .. } => {}
                Op::CloneHandle => handles.push(chain.clone()),
            }
            prop_assert!(
                chain.live_nodes() <= readers.len() + 1,
                "{} live nodes with {} readers", chain.live_nodes(), readers.len()
            );
        }
        for Modelled { reader, folded, owed } in &mut readers {
            reader.recv(folded);
            prop_assert_eq!(&net_of(folded), &*owed);
        }
        // Everyone caught up: at most the newest node, shared by all pins.
        prop_assert!(chain.live_nodes() <= 1);
    }

    /// The monoid laws of `Batch`, against a map model.
    #[test]
    fn batch_laws(
        a in prop::collection::vec((0u8..6, -2i64..=2), 0..8),
        b in prop::collection::vec((0u8..6, -2i64..=2), 0..8),
        c in prop::collection::vec((0u8..6, -2i64..=2), 0..8),
    ) {
        let batch = |v: &Vec<(u8, i64)>| v.iter().copied().collect::<Batch<u8>>();
        let mut model = Net::new();
        for v in [&a, &b, &c] {
            add(&mut model, v);
        }
        // (a + b) + c, owned merges
        let mut left = batch(&a);
        left.merge_from(&mut batch(&b));
        left.merge_from(&mut batch(&c));
        // a + (c + b), borrowed merges
        let mut inner = batch(&c);
        inner.merge_ref(&batch(&b));
        let mut right = batch(&a);
        right.merge_ref(&inner);
        prop_assert_eq!(&left, &right);
        prop_assert_eq!(net_of(&left), model.clone());
        prop_assert_eq!(left.is_empty(), model.is_empty());
        // Identity, and the consolidation invariant.
        left.merge_ref(&Batch::default());
        prop_assert_eq!(net_of(&left), model);
        prop_assert!(left.updates().windows(2).all(|w| w[0].0 < w[1].0));
        prop_assert!(left.updates().iter().all(|(_, d)| *d != 0));
    }
}

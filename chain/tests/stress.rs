//! Randomized multi-threaded stress: every reader's total and the live-node bound are
//! checked at quiescent checkpoints, with readers re-registering between phases.
#![cfg(not(loom))]

use std::collections::BTreeMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;

use chain::{Batch, Chain, Chainable, Reader};

type Net = BTreeMap<u8, i64>;

mod common;
use common::Rng;

/// Adds `sign` times `updates` to `net`, dropping keys that reach zero.
fn add(net: &mut Net, updates: impl IntoIterator<Item = (u8, i64)>, sign: i64) {
    for (key, diff) in updates {
        *net.entry(key).or_default() += sign * diff;
    }
    net.retain(|_, diff| *diff != 0);
}

/// A batch as a map (a `Batch` is already consolidated).
fn as_net(batch: &Batch<u8>) -> Net {
    batch.updates().iter().copied().collect()
}

/// One worker: a writer handle, a reader, its accumulator, and what it is owed.
struct Worker {
    reader: Reader<Batch<u8>>,
    folded: Batch<u8>,
    /// Everything sent before this reader registered, to subtract from the global net.
    registered_at: Net,
}

#[test]
fn stress_totals_and_bound_at_checkpoints() {
    const THREADS: usize = 4;
    const PHASES: usize = 30;
    const OPS: usize = 1_500;
    for seed in [1u64, 0x9E37_79B9_7F4A_7C15, 42] {
        let (chain, readers) = Chain::<Batch<u8>>::with_readers(THREADS);
        let workers: Vec<Mutex<Worker>> = readers
            .into_iter()
            .map(|reader| {
                Mutex::new(Worker {
                    reader,
                    folded: Batch::new(),
                    registered_at: Net::new(),
                })
            })
            .collect();
        let sent: Vec<Mutex<Batch<u8>>> = (0..THREADS).map(|_| Mutex::default()).collect();
        let barrier = Barrier::new(THREADS + 1);
        let failed = AtomicBool::new(false);
        thread::scope(|s| {
            for t in 0..THREADS {
                let (chain, workers, sent, barrier) = (chain.clone(), &workers, &sent, &barrier);
                let failed = &failed;
                s.spawn(move || {
                    let mut rng = Rng(seed ^ (t as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
                    let mut buffer = Batch::new();
                    for _ in 0..PHASES {
                        barrier.wait();
                        if failed.load(Ordering::SeqCst) {
                            return;
                        }
                        let mut worker = workers[t].lock().unwrap();
                        let mut mine = sent[t].lock().unwrap();
                        for _ in 0..OPS {
                            match rng.below(8) {
                                0..=4 => {
                                    for _ in 0..=rng.below(3) {
                                        let diff = rng.below(5) as i64 - 2;
                                        buffer.update(rng.below(16) as u8, diff);
                                    }
                                    mine.merge_ref(&buffer);
                                    if rng.below(2) == 0 {
                                        chain.send_from(&mut buffer);
                                    } else {
                                        // As the progress adapter sends: read back at once.
                                        let Worker { reader, folded, .. } = &mut *worker;
                                        reader.send_and_recv(&mut buffer, folded);
                                    }
                                }
                                5 | 6 => {
                                    let Worker { reader, folded, .. } = &mut *worker;
                                    reader.recv(folded);
                                }
                                _ => thread::yield_now(),
                            }
                        }
                        drop((worker, mine));
                        barrier.wait();
                    }
                });
            }
            // The checker: runs between phases, while every worker waits.
            let mut rng = Rng(seed);
            for phase in 0..PHASES {
                barrier.wait();
                barrier.wait();
                // A failed check must not leave the workers waiting at the barrier.
                let check = catch_unwind(AssertUnwindSafe(|| {
                    let mut net = Net::new();
                    for batch in &sent {
                        add(&mut net, batch.lock().unwrap().updates().iter().copied(), 1);
                    }
                    let live = chain.live_nodes();
                    assert!(
                        live <= THREADS + 1,
                        "seed {seed} phase {phase}: {live} live nodes"
                    );
                    for worker in &workers {
                        let mut worker = worker.lock().unwrap();
                        let Worker {
                            reader,
                            folded,
                            registered_at,
                        } = &mut *worker;
                        reader.recv(folded);
                        let mut owed = net.clone();
                        add(&mut owed, registered_at.iter().map(|(&k, &d)| (k, d)), -1);
                        assert_eq!(as_net(folded), owed, "seed {seed} phase {phase}");
                        // Sometimes re-register: the new reader is owed what is sent from now on.
                        if rng.below(4) == 0 {
                            *reader = chain.reader();
                            *folded = Batch::new();
                            *registered_at = net.clone();
                        }
                    }
                    // Everyone caught up: only the newest node is left.
                    assert_eq!(chain.live_nodes(), 1, "seed {seed} phase {phase}");
                }));
                if let Err(panic) = check {
                    failed.store(true, Ordering::SeqCst);
                    barrier.wait();
                    resume_unwind(panic);
                }
            }
        });
    }
}

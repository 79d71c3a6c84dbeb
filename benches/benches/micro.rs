//! Criterion microbenches of the single-thread costs, chain beside MPSC:
//!
//! - `send_in_place`: a send that merges into the unpinned newest atom (no allocation);
//! - `send_append`: a send right after a reader caught up, so it appends a node;
//! - `recv_nothing_new`: a caught-up reader's receive (a version check, no lock);
//! - `recv_k_atoms/k`: a reader folding k atoms (k other readers pin them apart, so
//!   compaction cannot merge them) against an MPSC receiver folding k messages.
//!
//! Every send carries the two updates of a capability step: `(t + 1, +1), (t, -1)`.

use std::time::{Duration, Instant};

use benches::{Acc, Endpoint, Medium, Mpsc};
use chain::{Batch, Chain, Reader};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};

/// A chain, its readers and the measured reader's accumulator.
type Fixture = (Chain<Batch<u64>>, Vec<Reader<Batch<u64>>>, Acc<u64>);

/// Fills `b` with one capability step at time `t`.
fn step(b: &mut Batch<u64>, t: u64) {
    b.update(t, -1);
    b.update(t + 1, 1);
}

/// Fills `v` with one capability step at time `t`.
fn step_vec(v: &mut Vec<(u64, i64)>, t: u64) {
    v.push((t, -1));
    v.push((t + 1, 1));
}

fn send(c: &mut Criterion) {
    let mut g = c.benchmark_group("send_in_place");
    g.bench_function("chain", |bench| {
        let (chain, _readers) = Chain::<Batch<u64>>::with_readers(1);
        let mut scratch = Batch::with_capacity(8);
        let mut t = 0;
        bench.iter(|| {
            step(&mut scratch, t);
            chain.send_from(&mut scratch);
            t += 1;
        });
        assert!(
            chain.stats().appended <= 1,
            "the reader never reads: every send after the first merges in place"
        );
    });
    g.bench_function("mpsc_2_workers", |bench| {
        let (_m, mut eps) = <Mpsc<u64> as Medium<u64>>::build(2);
        let mut buf = Vec::with_capacity(8);
        let mut acc = Acc::new();
        let mut t = 0;
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for n in 1..=iters {
                step_vec(&mut buf, t);
                t += 1;
                let start = Instant::now();
                eps[0].send(&mut buf);
                total += start.elapsed();
                // Untimed: keep the queues short.
                if n % 1024 == 0 {
                    eps[0].recv(&mut acc);
                    eps[1].recv(&mut acc);
                }
            }
            total
        });
    });
    g.finish();

    let mut g = c.benchmark_group("send_append");
    g.bench_function("chain", |bench| {
        let (chain, mut readers) = Chain::<Batch<u64>>::with_readers(1);
        let mut scratch = Batch::with_capacity(8);
        let mut acc = Batch::new();
        let mut t = 0;
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // Untimed: catch up, which pins the newest node.
                readers[0].recv(&mut acc);
                step(&mut scratch, t);
                t += 1;
                let start = Instant::now();
                chain.send_from(&mut scratch);
                total += start.elapsed();
            }
            total
        });
    });
    g.finish();
}

fn recv(c: &mut Criterion) {
    let mut g = c.benchmark_group("recv_nothing_new");
    g.bench_function("chain", |bench| {
        let (chain, mut readers) = Chain::<Batch<u64>>::with_readers(1);
        chain.send(Batch::from_iter([(1u64, 1i64)]));
        let mut acc = Batch::new();
        readers[0].recv(&mut acc);
        bench.iter(|| black_box(readers[0].recv(&mut acc)));
    });
    g.bench_function("mpsc", |bench| {
        let (_m, mut eps) = <Mpsc<u64> as Medium<u64>>::build(2);
        let mut acc = Acc::new();
        bench.iter(|| black_box(eps[0].recv(&mut acc)));
    });
    g.finish();

    let mut g = c.benchmark_group("recv_k_atoms");
    for k in [1usize, 16, 256] {
        g.bench_with_input(BenchmarkId::new("chain", k), &k, |bench, &k| {
            bench.iter_batched(
                || {
                    // Reader 0 is measured; readers 1..=k each pin one appended node.
                    let (chain, mut readers) = Chain::<Batch<u64>>::with_readers(k + 1);
                    let mut scratch = Batch::new();
                    for (t, r) in readers.iter_mut().skip(1).enumerate() {
                        step(&mut scratch, t as u64 * 2);
                        chain.send_from(&mut scratch);
                        r.recv(&mut Batch::new());
                    }
                    (chain, readers, Acc::<u64>::new())
                },
                |(chain, mut readers, mut acc): Fixture| {
                    let mut atoms = 0;
                    readers[0].recv_with(|a| {
                        atoms += 1;
                        acc.extend(a.updates().iter().cloned());
                    });
                    assert_eq!(atoms, k, "one atom per pinned node");
                    (chain, readers, acc)
                },
                BatchSize::SmallInput,
            );
        });
        g.bench_with_input(BenchmarkId::new("mpsc", k), &k, |bench, &k| {
            bench.iter_batched(
                || {
                    let (m, mut eps) = <Mpsc<u64> as Medium<u64>>::build(2);
                    let mut buf = Vec::new();
                    for t in 0..k {
                        step_vec(&mut buf, t as u64 * 2);
                        eps[1].send(&mut buf);
                    }
                    (m, eps, Acc::<u64>::new())
                },
                |(m, mut eps, mut acc)| {
                    eps[0].recv(&mut acc);
                    (m, eps, acc)
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, send, recv);
criterion_main!(benches);

//! Two threads take turns, as two timely workers do in a barrier: each waits for the other's
//! latest update, then sends its own `(t, -1), (t + 2, +1)` and reads it back. The time per
//! round is two one-way latencies of the medium, measured with no timely around it: the chain
//! (one shared chain, both threads read every atom) against std's MPSC channels, which timely
//! 0.32's intra-process leg uses (each batch cloned to the other thread's channel, the original
//! to one's own). "chain send+recv" is the shared chain with the send and its read-back taking
//! the lock separately, to show what `send_and_recv` saves; "chain split" gives each thread its
//! own chain that only the other thread reads, to show what two readers of one chain cost.
//! Both threads spin; nothing parks.
//!
//! ```text
//! cargo run --release -p benches --example pingpong -- [ROUNDS] [REPETITIONS]
//! ```
//!
//! Prints each repetition's µs per round for every medium, then the medians, and the medians of
//! each repetition's ratio to MPSC.
//! Every run checks its answer: each thread's folded total must be the net of all sends.

use std::sync::mpsc;
use std::time::Instant;

use chain::{Batch, Chain, Chainable, LaneEndpoint, Lanes, Reader};
use report::median;

/// The key of thread `me`'s capability at round `r`: the threads' keys never collide.
fn key(me: u64, r: u64) -> u64 {
    2 * r + me
}

/// The key of the other thread's update that thread `me` waits for before its round `r`
/// (thread 1 waits for thread 0's round `r`, thread 0 for thread 1's round `r - 1`).
fn awaited(me: u64, r: u64) -> u64 {
    if me == 0 {
        key(1, r)
    } else {
        key(0, r + 1)
    }
}

/// What every thread must have folded after `rounds` rounds: each capability moved from its
/// first key to its last.
fn expected(rounds: u64) -> Vec<(u64, i64)> {
    let mut net = vec![
        (key(0, 0), -1),
        (key(1, 0), -1),
        (key(0, rounds), 1),
        (key(1, rounds), 1),
    ];
    net.sort_unstable();
    net
}

/// Checks one thread's folded total against the net of all sends.
fn check(medium: &str, me: u64, folded: &Batch<u64>, rounds: u64) {
    assert_eq!(
        folded.updates(),
        &expected(rounds)[..],
        "{medium}: thread {me} folded a wrong total"
    );
}

/// How the threads share chains.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// One chain that both threads write and read; each reads its own send back in the
    /// send's critical section (`Reader::send_and_recv`), as the progress adapter does.
    Shared,
    /// One chain as above, but each send and its read-back take the lock separately
    /// (`Chain::send_from`, then the next `recv`): what `send_and_recv` saves.
    SharedSeparate,
    /// One chain per thread, read only by the other thread; each folds its own sends itself.
    /// Not a medium for timely (two writers' +1 and -1 would never cancel), but it shows what
    /// two readers pinning the same nodes cost.
    Split,
}

/// µs per round with each thread holding one of `ends`: it waits for the other's latest update
/// by `recv` (false: nothing new), then sends its own by `send(end, batch, folded)`, which
/// leaves the batch empty and its own update folded (now or at a later `recv`).
fn spin_round<E: Send>(
    medium: &str,
    rounds: u64,
    ends: Vec<E>,
    recv: impl Fn(&mut E, &mut Batch<u64>) -> bool + Sync,
    send: impl Fn(&mut E, &mut Batch<u64>, &mut Batch<u64>) + Sync,
) -> f64 {
    let (recv, send) = (&recv, &send);
    let start = Instant::now();
    std::thread::scope(|s| {
        for (me, mut end) in (0u64..).zip(ends) {
            s.spawn(move || {
                let mut buffer = Batch::new();
                let mut folded = Batch::new();
                for r in 0..rounds {
                    let want = awaited(me, r);
                    // The other thread's +1 at `want` is in the folded total from its arrival
                    // until our own send lets the other thread retire it.
                    let arrived = |folded: &Batch<u64>| {
                        let updates = folded.updates();
                        updates
                            .binary_search_by_key(&want, |&(k, _)| k)
                            .is_ok_and(|i| updates[i].1 > 0)
                    };
                    if !(me == 0 && r == 0) {
                        while !arrived(&folded) {
                            if !recv(&mut end, &mut folded) {
                                std::hint::spin_loop();
                            }
                        }
                    }
                    buffer.update(key(me, r), -1);
                    buffer.update(key(me, r + 1), 1);
                    send(&mut end, &mut buffer, &mut folded);
                }
                // The other thread's last send, and our own.
                while recv(&mut end, &mut folded) || folded.updates() != &expected(rounds)[..] {
                    std::hint::spin_loop();
                }
                check(medium, me, &folded, rounds);
            });
        }
    });
    start.elapsed().as_secs_f64() * 1e6 / rounds as f64
}

/// µs per round through chains laid out as `layout` says.
fn chain_round(rounds: u64, layout: Layout) -> f64 {
    // Thread `i` writes `chains[i]` and reads through `readers[i]`.
    let (chains, readers) = match layout {
        Layout::Shared | Layout::SharedSeparate => {
            let (chain, readers) = Chain::<Batch<u64>>::with_readers(2);
            (vec![chain.clone(), chain], readers)
        }
        Layout::Split => {
            let (c0, r0) = Chain::<Batch<u64>>::with_readers(1);
            let (c1, r1) = Chain::<Batch<u64>>::with_readers(1);
            (vec![c0, c1], r1.into_iter().chain(r0).collect())
        }
    };
    let ends = chains.into_iter().zip(readers).collect();
    let recv = |(_, reader): &mut (Chain<_>, Reader<_>), folded: &mut _| reader.recv(folded);
    spin_round(
        "chain",
        rounds,
        ends,
        recv,
        |(chain, reader), buffer, folded| {
            match layout {
                // Send, and read it back (with anything new) in the same critical section, as the
                // progress adapter does.
                Layout::Shared => {
                    reader.send_and_recv(buffer, folded);
                }
                Layout::SharedSeparate => chain.send_from(buffer),
                Layout::Split => {
                    folded.merge_ref(buffer);
                    chain.send_from(buffer);
                }
            }
        },
    )
}

/// µs per round through lanes: each thread writes its own lane and reads both, and sends with
/// `send_and_recv`, as the progress adapter does.
fn lanes_round(rounds: u64) -> f64 {
    let (_, ends) = Lanes::<Batch<u64>>::new(2, 8);
    let recv = |end: &mut LaneEndpoint<_>, folded: &mut _| end.recv(folded);
    spin_round("lanes", rounds, ends, recv, |end, buffer, folded| {
        end.send_and_recv(buffer, folded);
    })
}

/// µs per round through one MPSC channel per thread.
fn mpsc_round(rounds: u64) -> f64 {
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..2).map(|_| mpsc::channel::<Vec<(u64, i64)>>()).unzip();
    let start = Instant::now();
    std::thread::scope(|s| {
        for (me, receiver) in (0u64..).zip(receivers) {
            let senders = senders.clone();
            s.spawn(move || {
                let mut folded = Batch::new();
                let fold = |message: Vec<(u64, i64)>, folded: &mut Batch<u64>| {
                    for (k, d) in message {
                        folded.update(k, d);
                    }
                };
                for r in 0..rounds {
                    let want = awaited(me, r);
                    let mut seen = me == 0 && r == 0;
                    while !seen {
                        match receiver.try_recv() {
                            Ok(message) => {
                                seen |= message.iter().any(|&(k, d)| k == want && d > 0);
                                fold(message, &mut folded);
                            }
                            Err(_) => std::hint::spin_loop(),
                        }
                    }
                    let message = vec![(key(me, r), -1), (key(me, r + 1), 1)];
                    senders[1 - me as usize]
                        .send(message.clone())
                        .expect("the other thread receives until it has everything");
                    senders[me as usize]
                        .send(message)
                        .expect("we hold our own receiver");
                }
                while folded.updates() != &expected(rounds)[..] {
                    match receiver.try_recv() {
                        Ok(message) => fold(message, &mut folded),
                        Err(_) => std::hint::spin_loop(),
                    }
                }
                check("mpsc", me, &folded, rounds);
            });
        }
    });
    start.elapsed().as_secs_f64() * 1e6 / rounds as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut number = |name: &str, default: u64| match args.next() {
        None => default,
        Some(a) => match a.parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("error: {name} must be a positive integer, got '{a}'");
                eprintln!("usage: pingpong [ROUNDS] [REPETITIONS]");
                std::process::exit(2);
            }
        },
    };
    let rounds = number("ROUNDS", 200_000);
    let reps = number("REPETITIONS", 7);
    // The media, each with its µs per round in every repetition; MPSC, the baseline, last.
    let media: [(&str, &dyn Fn() -> f64); 5] = [
        ("lanes", &|| lanes_round(rounds)),
        ("chain", &|| chain_round(rounds, Layout::Shared)),
        ("chain send+recv", &|| {
            chain_round(rounds, Layout::SharedSeparate)
        }),
        ("chain split", &|| chain_round(rounds, Layout::Split)),
        ("mpsc", &|| mpsc_round(rounds)),
    ];
    let mut times = vec![Vec::new(); media.len()];
    for rep in 1..=reps {
        // Interleaved, so that a noisy moment of the machine hits every medium.
        let line: Vec<String> = media
            .iter()
            .zip(&mut times)
            .map(|((name, run), times)| {
                times.push(run());
                format!("{name} {:.3}", times[times.len() - 1])
            })
            .collect();
        println!("rep {rep}: {} us/round", line.join(", "));
    }
    // Each repetition's ratios to MPSC, then their medians: a noisy moment of the machine
    // that slows every medium of one repetition moves that repetition's times, not its ratios.
    let mpsc = &times[media.len() - 1];
    let median = |v: Vec<f64>| median(v).expect("at least one repetition");
    let (mut medians, mut ratios) = (Vec::new(), Vec::new());
    for ((name, _), times) in media.iter().zip(&times) {
        medians.push(format!("{name} {:.3}", median(times.clone())));
        let ratio = median(times.iter().zip(mpsc).map(|(t, m)| t / m).collect());
        if *name != "mpsc" {
            ratios.push(format!("{name} {ratio:.2}"));
        }
    }
    println!(
        "median over {reps} (us/round): {}; medians of the same-repetition ratios to mpsc: {}",
        medians.join(", "),
        ratios.join(", ")
    );
}

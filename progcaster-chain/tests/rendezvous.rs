//! The rendezvous and its endpoints: late joiners, wakeups, reclamation, the medium.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use progcaster_chain::{live_chains, Medium, Rendezvous};

/// Serializes the tests that watch the process-wide chain count.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn collect<K: Ord + Clone + Send + Sync>(
    endpoint: &mut progcaster_chain::Endpoint<K>,
) -> Vec<(K, i64)> {
    let mut all = progcaster_chain::Batch::new();
    endpoint.recv(|updates| all.extend(updates.iter().cloned()));
    all.updates().to_vec()
}

#[test]
fn medium_values() {
    let table: &[(Option<&str>, Option<Medium>)] = &[
        (None, Some(Medium::Chain)),
        (Some("chain"), Some(Medium::Chain)),
        (Some("stock"), Some(Medium::Stock)),
        (Some(""), None),
        (Some("Stock"), None),
        (Some("chain "), None),
        (Some("mpsc"), None),
    ];
    for (value, expected) in table {
        match (Medium::parse(*value), expected) {
            (Ok(medium), Some(expected)) => assert_eq!(medium, *expected, "{value:?}"),
            (Err(error), None) => {
                let message = error.to_string();
                assert!(message.contains("TIMELY_PROGRESS_MEDIUM"), "{message}");
                assert!(
                    message.contains("`chain`, `stock` and `aggregate`"),
                    "{message}"
                );
                assert!(
                    message.contains(&format!("{:?}", value.unwrap())),
                    "{message}"
                );
            }
            (got, _) => panic!("{value:?}: got {got:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn late_joiner_sees_everything_sent_before() {
    let _serial = serial();
    let rendezvous = Rendezvous::new(3);
    let mut first = rendezvous.join::<u32>(5, 0);
    first.send([(1, 1), (2, 1)]);
    first.send([(1, -1), (3, 4)]);
    // Workers 1 and 2 arrive only now.
    let mut second = rendezvous.join::<u32>(5, 1);
    first.send([(4, 1)]);
    let mut third = rendezvous.join::<u32>(5, 2);
    let expected = vec![(2, 1), (3, 4), (4, 1)];
    assert_eq!(collect(&mut second), expected);
    assert_eq!(collect(&mut third), expected);
    assert_eq!(
        collect(&mut first),
        expected,
        "the sender reads its own sends"
    );
    assert!(collect(&mut first).is_empty(), "nothing is received twice");
}

#[test]
fn polls_list_news_and_sends_wake_only_parked_workers() {
    let _serial = serial();
    let rendezvous = Rendezvous::new(2);
    let woken = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&woken);
    rendezvous.set_wake(3, move || {
        counter.fetch_add(1, SeqCst);
    });
    let mut sender = rendezvous.join::<u8>(0, 2); // worker 2 is local index 0
    let mut receiver = rendezvous.join::<u8>(0, 3);
    let mut other_sender = rendezvous.join::<u8>(1, 2);
    let mut other_receiver = rendezvous.join::<u8>(1, 3);
    let mut news = Vec::new();
    for round in 0..5 {
        sender.send([(round, 1)]);
        sender.send([(round, 1)]);
        other_sender.send([(round, 1)]);
        assert!(rendezvous.poll(3, &mut news));
        assert_eq!(news, vec![0, 1], "both channels listed");
        news.clear();
        assert_eq!(collect(&mut receiver), vec![(round, 2)]);
        assert!(rendezvous.poll(3, &mut news), "channel 1 still has news");
        assert_eq!(news, vec![1]);
        news.clear();
        assert_eq!(collect(&mut other_receiver), vec![(round, 1)]);
        assert!(!rendezvous.poll(3, &mut news), "everything received");
        // A worker with news does not park.
        sender.send([(round, -1)]);
        rendezvous.park(3, || panic!("parked with news"));
        collect(&mut receiver);
        // An empty send is no send.
        sender.send([]);
        assert!(!rendezvous.poll(3, &mut news));
    }
    assert_eq!(woken.load(SeqCst), 0, "nobody parked, so nobody was woken");
    // A worker's own sends are no news to its polls; the caller schedules itself.
    receiver.send([(9, 1)]);
    assert!(!rendezvous.poll(3, &mut news));
    // A channel the worker left is no longer listed.
    drop(other_receiver);
    other_sender.send([(1, 1)]);
    assert!(!rendezvous.poll(3, &mut news));
}

#[test]
fn a_send_wakes_a_parked_worker() {
    let _serial = serial();
    let rendezvous = Arc::new(Rendezvous::new(2));
    let mut sender = rendezvous.join::<u8>(0, 0);
    let mut receiver = rendezvous.join::<u8>(0, 1);
    let (parking, parked) = std::sync::mpsc::channel();
    let (waking, woke) = std::sync::mpsc::channel();
    let worker = {
        let rendezvous = Arc::clone(&rendezvous);
        std::thread::spawn(move || {
            let thread = std::thread::current();
            rendezvous.set_wake(1, move || thread.unpark());
            for _ in 0..2 {
                let mut slept = false;
                rendezvous.park(1, || {
                    slept = true;
                    parking.send(()).unwrap();
                    std::thread::park();
                });
                waking.send(slept).unwrap();
                collect(&mut receiver);
            }
        })
    };
    for _ in 0..2 {
        parked
            .recv_timeout(Duration::from_secs(60))
            .expect("the worker parks");
        sender.send([(1, 1)]);
        assert_eq!(
            woke.recv_timeout(Duration::from_secs(60)),
            Ok(true),
            "the send woke it"
        );
    }
    worker.join().unwrap();
}

#[test]
fn chains_reclaimed_after_last_local_worker_leaves() {
    let _serial = serial();
    let before = live_chains();
    let rendezvous = Rendezvous::new(2);
    let a0 = rendezvous.join::<u64>(0, 0);
    let a1 = rendezvous.join::<u64>(1, 0);
    let b0 = rendezvous.join::<u64>(0, 1);
    assert_eq!(live_chains(), before + 2);
    assert_eq!(rendezvous.channels(), 2);
    drop(a0);
    assert_eq!(live_chains(), before + 2, "worker 1 still uses channel 0");
    drop(b0);
    assert_eq!(live_chains(), before + 1);
    assert_eq!(rendezvous.channels(), 1);
    // Channel 1 was never joined by worker 1: it goes with the rendezvous.
    drop(a1);
    assert_eq!(rendezvous.channels(), 1);
    drop(rendezvous);
    assert_eq!(live_chains(), before);
}

/// Threads that park until woken, exchanging a known total through one chain: a lost
/// wakeup leaves a thread parked with updates it never reads, and the test times out.
#[test]
fn no_lost_wakeups_under_contention() {
    const THREADS: usize = 4;
    const SENDS: i64 = 2_000;
    let _serial = serial();
    let rendezvous = Rendezvous::new(THREADS);
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|index| {
            let rendezvous = Arc::clone(&rendezvous);
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let me = std::thread::current();
                rendezvous.set_wake(index, move || me.unpark());
                // Two channels: a send on either must wake the worker.
                let mut endpoints = [
                    rendezvous.join::<u64>(11, index),
                    rendezvous.join::<u64>(12, index),
                ];
                start.wait();
                let total = std::cell::Cell::new(0i64);
                let add = |updates: &[(u64, i64)]| {
                    total.set(total.get() + updates.iter().map(|(_, d)| d).sum::<i64>());
                };
                let mut news = Vec::new();
                for round in 0..SENDS {
                    // Only additions, so that a reader's running total never overshoots.
                    let endpoint = &mut endpoints[round as usize % 2];
                    endpoint.send([(index as u64, 1), (100 + round as u64 % 3, 1)]);
                    endpoint.send([(index as u64, 1)]);
                    // A worker schedules itself after a send, as timely does.
                    endpoint.recv(add);
                    // Others' news only through the poll, as timely's worker loop does.
                    if round % 7 == 0 && rendezvous.poll(index, &mut news) {
                        for channel in news.drain(..) {
                            endpoints[channel - 11].recv(add);
                        }
                    }
                }
                let expected = 3 * SENDS * THREADS as i64;
                loop {
                    if rendezvous.poll(index, &mut news) {
                        for channel in news.drain(..) {
                            endpoints[channel - 11].recv(add);
                        }
                        continue;
                    }
                    if total.get() == expected {
                        break;
                    }
                    // Only a wake (or a rare spurious unpark) ends this park early; a lost
                    // wakeup shows as a park that runs to its timeout.
                    let parked = Instant::now();
                    rendezvous.park(index, || std::thread::park_timeout(Duration::from_secs(10)));
                    assert!(
                        parked.elapsed() < Duration::from_secs(9),
                        "lost wakeup: a worker slept with news it was never told of"
                    );
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("thread");
    }
}

#[test]
fn misuse_panics_without_poisoning_the_rendezvous() {
    let _serial = serial();
    let rendezvous = Rendezvous::new(2);
    let _first = rendezvous.join::<u8>(3, 0);
    let twice = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rendezvous.join::<u8>(3, 0);
    }));
    assert!(twice.is_err(), "joining twice must panic");
    let other_type = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rendezvous.join::<u16>(3, 1);
    }));
    assert!(
        other_type.is_err(),
        "joining at another key type must panic"
    );
    // The rendezvous still works.
    let mut second = rendezvous.join::<u8>(3, 1);
    assert!(!second.recv(|_| ()));
    assert_eq!(rendezvous.channels(), 1);
}

#[test]
fn send_consolidated_delivers_like_send() {
    let _serial = serial();
    let rendezvous = Rendezvous::new(2);
    let mut a = rendezvous.join::<u32>(4, 0);
    let mut b = rendezvous.join::<u32>(4, 1);
    a.send_consolidated([(1, 1), (3, 2)]);
    a.send([(3, -2), (7, 1)]);
    assert_eq!(collect(&mut b), vec![(1, 1), (7, 1)]);
}

#[test]
fn send_consolidated_drops_zero_diffs() {
    // What timely's `Progcaster::send` can be handed in Eager mode: a compacted `ChangeBatch`
    // of one update whose diff is zero (`ChangeBatch::compact` only cleans longer batches).
    let _serial = serial();
    let rendezvous = Rendezvous::new(2);
    let mut a = rendezvous.join::<u32>(5, 0);
    let mut b = rendezvous.join::<u32>(5, 1);
    a.send_consolidated([(1, 0)]);
    assert!(!b.recv(|_| ()), "a zero diff is not an update");
    a.send_consolidated([(1, 0), (2, 1), (3, 0)]);
    assert_eq!(collect(&mut b), vec![(2, 1)]);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "not sorted")]
fn send_consolidated_checks_its_input_in_debug_builds() {
    let rendezvous = Rendezvous::new(1);
    let mut a = rendezvous.join::<u32>(0, 0);
    a.send_consolidated([(3, 1), (1, 1)]);
}

/// A worker joins a channel after a peer sent on it, then the peer sends again: the worker's
/// poll lists the channel (the chain, and the worker's reader, exist from the first join).
#[test]
fn late_joiner_is_polled() {
    let _serial = serial();
    let rendezvous = Rendezvous::new(2);
    let mut a = rendezvous.join::<u32>(5, 0);
    a.send([(1, 1)]);
    let mut news = Vec::new();
    // Worker 1 polls before it joins (busy building another dataflow): nothing to list yet.
    rendezvous.poll(1, &mut news);
    assert!(news.is_empty());
    let mut b = rendezvous.join::<u32>(5, 1);
    a.send([(2, 1)]);
    assert!(
        rendezvous.poll(1, &mut news),
        "worker 1 has news on channel 5"
    );
    assert_eq!(news, vec![5]);
    assert_eq!(collect(&mut b), vec![(1, 1), (2, 1)]);
}

/// A poll lists the channels whose chains have news for the worker, and only those.
#[test]
fn poll_lists_only_channels_with_news() {
    let _serial = serial();
    let rendezvous = Rendezvous::new(2);
    let mut sender = [
        rendezvous.join::<u8>(1, 0),
        rendezvous.join::<u8>(2, 0),
        rendezvous.join::<u8>(3, 0),
    ];
    let _receiver: Vec<_> = (1..=3).map(|c| rendezvous.join::<u8>(c, 1)).collect();
    let mut news = Vec::new();
    rendezvous.poll(1, &mut news);
    news.clear();
    sender[1].send([(7, 1)]);
    assert!(rendezvous.poll(1, &mut news));
    assert_eq!(news, vec![2]);
    drop(sender);
}

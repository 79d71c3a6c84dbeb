//! Dropping dataflows mid-run, and workers that start and finish at different times,
//! neither hang nor leak: the number of live progress chains returns to zero.
//!
//! These tests run timely in this process, so they need the chain medium (the default):
//! do not set `TIMELY_PROGRESS_MEDIUM=stock` for them. They share the process-wide count of
//! live chains, so they run one at a time.

use std::sync::mpsc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use progcaster_chain::{live_chains, medium, Medium};
use timely::{CommunicationConfig, Config, WorkerConfig};
use wiring_tests::workloads::{build_nested, nested, nested_model};

/// Serializes the tests of this file, which all watch the process-wide chain count.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `test` on another thread, failing if it does not finish within `deadline`.
fn within<F: FnOnce() + Send + 'static>(deadline: Duration, test: F) {
    let (done, finished) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        test();
        let _ = done.send(());
    });
    match wiring_tests::child::recv_within(&finished, deadline) {
        Ok(()) => handle.join().expect("test thread"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The test panicked: surface its panic.
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hung for {deadline:?}"),
    }
}

fn process(workers: usize, zerocopy: bool) -> Config {
    Config {
        communication: if zerocopy {
            CommunicationConfig::ProcessBinary(workers)
        } else {
            CommunicationConfig::Process(workers)
        },
        worker: WorkerConfig::default(),
    }
}

fn start() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|poison| poison.into_inner());
    assert_eq!(
        medium(),
        Ok(Medium::Chain),
        "these tests need TIMELY_PROGRESS_MEDIUM unset or `chain`"
    );
    assert_eq!(live_chains(), 0, "chains leaked by an earlier test");
    guard
}

#[test]
fn drop_dataflow_mid_run_reclaims_chains() {
    let _serial = start();
    for (workers, zerocopy) in [(2, false), (4, false), (2, true)] {
        within(Duration::from_secs(60), move || {
            let barrier = Arc::new(Barrier::new(workers));
            let results = timely::execute(process(workers, zerocopy), move |worker| {
                let dataflow = worker.next_dataflow_index();
                let (mut input, probe, _results) = build_nested(worker);
                // Run a while, with epochs in flight, and never close the input.
                for epoch in 0..20u64 {
                    input.send(10 + epoch * 3 + worker.index() as u64);
                    input.advance_to(epoch + 1);
                    worker.step();
                }
                worker.step_while(|| probe.less_than(&5));
                assert_eq!(live_chains(), 3, "one chain per scope while running");
                // Workers drop the dataflow at different moments.
                for _ in 0..worker.index() * 50 {
                    worker.step();
                }
                worker.drop_dataflow(dataflow);
                drop(input);
                barrier.wait();
                assert_eq!(live_chains(), 0, "chains outlived the dropped dataflow");
                // Nobody builds the next dataflow before everyone has looked.
                barrier.wait();
                // The worker goes on to build and finish another dataflow.
                let mine = nested(worker, 3, 5);
                barrier.wait();
                mine
            })
            .expect("execute")
            .join();
            let mut records = Vec::new();
            for result in results {
                records.extend(result.expect("worker"));
            }
            records.sort();
            assert_eq!(
                records,
                nested_model(3, workers, 5),
                "the dataflow built after the drop"
            );
            assert_eq!(live_chains(), 0);
        });
    }
}

#[test]
fn workers_starting_and_finishing_at_different_times() {
    let _serial = start();
    for workers in [2, 4] {
        within(Duration::from_secs(60), move || {
            let results = timely::execute(process(workers, false), move |worker| {
                let index = worker.index();
                let mut all = Vec::new();
                for round in 0..3 {
                    // A different worker arrives late to each dataflow ...
                    if index == round % worker.peers() {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    all.push(nested(worker, 4, 10));
                    // ... and another leaves late.
                    if index == (round + 1) % worker.peers() {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
                all
            })
            .expect("execute")
            .join();
            let mut rounds = vec![Vec::new(); 3];
            for result in results {
                for (round, records) in result.expect("worker").into_iter().enumerate() {
                    rounds[round].extend(records);
                }
            }
            for mut records in rounds {
                records.sort();
                assert_eq!(records, nested_model(4, workers, 10));
            }
            assert_eq!(live_chains(), 0);
        });
    }
}

#[test]
fn progress_logging_reports_sends_and_receives() {
    use timely::logging::{TimelyProgressEvent, TimelyProgressEventBuilder};
    let _serial = start();
    within(Duration::from_secs(60), || {
        let results = timely::execute(process(2, false), |worker| {
            // (is_send, number of updates) of the events of the dataflow's own scope.
            let events = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
            let sink = std::rc::Rc::clone(&events);
            worker
                .log_register()
                .expect("logging")
                .insert::<TimelyProgressEventBuilder<u64>, _>(
                    "timely/progress/u64",
                    move |_time, data| {
                        if let Some(data) = data {
                            for (_, event) in data.iter() {
                                let event: &TimelyProgressEvent<u64> = event;
                                let updates = event.messages.len() + event.internal.len();
                                sink.borrow_mut().push((event.is_send, updates));
                            }
                        }
                    },
                );
            let records = nested(worker, 3, 10);
            worker
                .log_register()
                .expect("logging")
                .remove("timely/progress/u64");
            let events = events.borrow().clone();
            (records, events)
        })
        .expect("execute")
        .join();
        for result in results {
            let (_records, events) = result.expect("worker");
            let sends = events.iter().filter(|(send, _)| *send).count();
            let receives = events.iter().filter(|(send, n)| !*send && *n > 0).count();
            assert!(sends > 0, "no send events: {events:?}");
            assert!(receives > 0, "no receive events with updates: {events:?}");
        }
        assert_eq!(live_chains(), 0);
    });
}

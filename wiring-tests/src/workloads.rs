//! Dataflows whose results depend on progress tracking being right.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange as ExchangePact;
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::vec::{Filter, Map};
use timely::dataflow::operators::{
    Concat, ConnectLoop, Enter, Exchange, Input, Inspect, Leave, LoopVariable, Probe,
};
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;

/// One output record of [`nested`]: `(epoch, value, count)`.
pub type Count = (u64, u64, u64);

/// The values worker `index` of `peers` introduces at `epoch`.
pub fn inputs(epoch: u64, index: usize, peers: usize, per_epoch: u64) -> Vec<u64> {
    (0..per_epoch)
        .map(|k| 3 + epoch * 7 + (k * peers as u64 + index as u64) * 5)
        .collect()
}

/// What [`nested`] must produce, computed sequentially.
pub fn nested_model(epochs: u64, peers: usize, per_epoch: u64) -> Vec<Count> {
    let mut counts = BTreeMap::new();
    for epoch in 0..epochs {
        for index in 0..peers {
            for mut x in inputs(epoch, index, peers, per_epoch) {
                loop {
                    // The inner loop counts down to a multiple of four ...
                    x -= x % 4;
                    *counts.entry((epoch, x)).or_insert(0) += 1;
                    // ... and the outer loop halves what leaves it, while positive.
                    x /= 2;
                    if x == 0 {
                        break;
                    }
                }
            }
        }
    }
    counts.into_iter().map(|((e, v), c)| (e, v, c)).collect()
}

/// Two nested iterative scopes, exchanging records at every step, then a count per epoch
/// that is released only once the frontier has passed the epoch.
///
/// The counting operator panics if a record arrives for an epoch it has already released:
/// that would mean some worker saw the frontier pass an epoch that still had work. Returns
/// this worker's released counts (each `(epoch, value)` appears at exactly one worker).
pub fn nested(worker: &mut Worker, epochs: u64, per_epoch: u64) -> Vec<Count> {
    nested_sampled(worker, epochs, per_epoch).0
}

/// [`nested`], plus the number of live progress chains in the process right after this
/// worker built the dataflow (three per process when the chain carries progress, one per
/// scope; zero otherwise).
pub fn nested_sampled(worker: &mut Worker, epochs: u64, per_epoch: u64) -> (Vec<Count>, usize) {
    let (mut input, probe, results) = build_nested(worker);
    let chains = progcaster_chain::live_chains();
    let index = worker.index();
    let peers = worker.peers();

    for epoch in 0..epochs {
        for x in inputs(epoch, index, peers, per_epoch) {
            input.send(x);
        }
        input.advance_to(epoch + 1);
        // Keep a few epochs in flight at once.
        if epoch % 3 == 2 {
            worker.step_while(|| probe.less_than(&(epoch - 1)));
        }
    }
    drop(input);
    while worker.step_or_park(None) {}
    let mut results = results.borrow().clone();
    results.sort();
    (results, chains)
}

/// The input, probe and output of [`nested`]'s dataflow, built in `worker`.
#[allow(clippy::type_complexity)]
pub fn build_nested(
    worker: &mut Worker,
) -> (
    InputHandle<u64, CapacityContainerBuilder<Vec<u64>>>,
    ProbeHandle<u64>,
    Rc<RefCell<Vec<Count>>>,
) {
    let results = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&results);

    let (input, probe) = worker.dataflow::<u64, _, _>(|scope| {
        let (input, stream) = scope.new_input::<Vec<u64>>();
        let visited = scope.iterative::<u64, _, _>(|outer| {
            let (again, cycle) = outer.loop_variable::<Vec<u64>>(1);
            let entered = stream.enter(outer).concat(cycle);
            let multiples = outer.iterative::<u64, _, _>(|inner| {
                let (down, back) = inner.loop_variable::<Vec<u64>>(1);
                let current = entered.enter(inner).concat(back).exchange(|x| *x);
                current
                    .clone()
                    .filter(|x| x % 4 != 0)
                    .map(|x| x - 1)
                    .connect_loop(down);
                current.filter(|x| x % 4 == 0).leave(outer)
            });
            multiples
                .clone()
                .map(|x| x / 2)
                .filter(|x| *x > 0)
                .connect_loop(again);
            multiples.leave(scope)
        });
        let counted = visited
            .unary_frontier::<CapacityContainerBuilder<Vec<Count>>, _, _, _>(
                ExchangePact::new(|x: &u64| *x),
                "CountPerEpoch",
                |_capability, _info| {
                    let mut pending = BTreeMap::new();
                    let mut released = 0u64; // epochs below this one are complete
                    move |(input, frontier), output| {
                        input.for_each(|stamp, data| {
                            let epoch = *stamp.least().expect("records carry capabilities");
                            assert!(epoch >= released, "record at released epoch {epoch}");
                            let (_, counts) = pending.entry(epoch).or_insert_with(|| {
                                (stamp.retain_least(0).expect("a time"), BTreeMap::new())
                            });
                            for x in data.drain(..) {
                                *counts.entry(x).or_insert(0u64) += 1;
                            }
                        });
                        while let Some(entry) = pending.first_entry() {
                            if frontier.less_equal(entry.key()) {
                                break;
                            }
                            let (epoch, (capability, counts)) = entry.remove_entry();
                            released = epoch + 1;
                            let mut session = output.session(&capability);
                            for (value, count) in counts {
                                session.give((epoch, value, count));
                            }
                        }
                    }
                },
            )
            .inspect(move |record| sink.borrow_mut().push(*record));
        (input, counted.probe().0)
    });
    (input, probe, results)
}

/// What one worker saw in [`soak`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Soak {
    /// The process's resident memory in bytes after the first `first` dataflows were dropped.
    pub resident_after_first: u64,
    /// The process's resident memory in bytes after the last dataflow was dropped.
    pub resident_after_last: u64,
    /// The live progress chains once every local worker had dropped its last dataflow.
    pub chains_after: usize,
    /// The dataflows still installed in this worker at the end.
    pub installed_after: usize,
}

/// Builds `dataflows` small dataflows one after another (an input, an exchange, a probe), runs
/// each until its frontier passes the first epoch, and drops it with its input still open.
///
/// Every worker of the computation must run it with the same arguments. Resident memory is
/// sampled after dataflow `first` and after the last. A worker's chains are freed once every
/// local worker has dropped its endpoints; this waits (up to ten seconds) for the count to come
/// back to zero, as the other local workers finish their last dataflow.
pub fn soak(worker: &mut Worker, dataflows: usize, first: usize) -> Soak {
    let mut resident_after_first = 0;
    for round in 0..dataflows {
        let index = worker.next_dataflow_index();
        let (mut input, probe) = worker.dataflow::<u64, _, _>(|scope| {
            let (input, stream) = scope.new_input::<Vec<u64>>();
            (input, stream.exchange(|x| *x).probe().0)
        });
        input.send(round as u64);
        input.advance_to(1);
        worker.step_while(|| probe.less_than(&1));
        worker.drop_dataflow(index);
        drop(input);
        if round + 1 == first {
            resident_after_first = resident_bytes();
        }
    }
    let resident_after_last = resident_bytes();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while progcaster_chain::live_chains() != 0 && std::time::Instant::now() < deadline {
        worker.step();
        std::thread::yield_now();
    }
    Soak {
        resident_after_first,
        resident_after_last,
        chains_after: progcaster_chain::live_chains(),
        installed_after: worker.installed_dataflows().len(),
    }
}

/// This process's resident memory in bytes (Linux: `/proc/self/statm`; 0 elsewhere).
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// A record of [`hops`]: `(id, the worker it is addressed to, hops left)`.
pub type Hop = (u64, u64, u32);

/// Records hop between workers of different processes, each hop at a later time (by 1 to 3,
/// plus the loop's 1), and every receipt is checked against the frontier its receiver has
/// observed: a record must never arrive at a time its receiver's frontier already passed, a
/// frontier must never go back, and a frontier must never pass a time at which its worker is
/// still owed a record (every record's path is known in advance: see [`hops_owed`]), nor may a
/// worker finish while owed one. Returns the number of records that finished at this worker.
///
/// The last two catch a frontier that passes too early even when the record it skipped never
/// arrives: a worker whose dataflow completes early drops what is sent to it afterwards, and
/// its peers would otherwise wait forever for its progress.
///
/// `threads` is the number of workers per process; with more than one process, every hop
/// crosses to another process. Few records are in flight, so frontiers move with them: a
/// receiver that applied another process's `-1` for a consumed record before the `+1` of the
/// record it became would see its frontier pass that record.
///
/// # Panics
/// If a receipt or a frontier breaks the rule, naming the worker, the times and the record.
pub fn hops(worker: &mut Worker, threads: usize, records: u64, hops: u32) -> u64 {
    use timely::dataflow::operators::{Feedback, ToStream};
    let index = worker.index();
    let peers = worker.peers();
    let done = Rc::new(std::cell::Cell::new(0u64));
    let finished = Rc::clone(&done);
    let owed = Rc::new(RefCell::new(hops_owed(
        index, peers, threads, records, hops,
    )));
    let due = Rc::clone(&owed);
    worker.dataflow::<u64, _, _>(|scope| {
        let (handle, cycle) = scope.feedback::<Vec<Hop>>(1);
        (0..records)
            .filter(move |id| *id as usize % peers == index)
            .map(move |id| (id, index as u64, hops))
            .to_stream(scope)
            .concat(cycle)
            .unary_frontier::<CapacityContainerBuilder<Vec<Hop>>, _, _, _>(
                ExchangePact::new(|hop: &Hop| hop.1),
                "Hop",
                move |_capability, _info| {
                    // The highest frontier this worker has observed on its input.
                    let mut passed = 0u64;
                    move |(input, frontier), output| {
                        let now = frontier.frontier().first().copied().unwrap_or(u64::MAX);
                        assert!(
                            now >= passed,
                            "worker {index}: frontier went back from {passed} to {now}"
                        );
                        passed = now;
                        input.for_each(|stamp, data| {
                            let time = *stamp.least().expect("records carry capabilities");
                            for (id, _, left) in data.drain(..) {
                                assert!(
                                    time >= passed,
                                    "worker {index}: record {id} arrived at {time}, after the \
                                     frontier had passed {passed}"
                                );
                                assert!(
                                    due.borrow_mut().remove(&(time, id)),
                                    "worker {index}: record {id} arrived at {time}, unexpected"
                                );
                                if left == 0 {
                                    finished.set(finished.get() + 1);
                                    continue;
                                }
                                let later = time + 1 + (id + u64::from(left)) % 3;
                                let step = threads + id as usize % threads.max(1);
                                let target = ((index + step) % peers) as u64;
                                output.session(&stamp.delayed(&later, 0)).give((
                                    id,
                                    target,
                                    left - 1,
                                ));
                            }
                        });
                        // Every receipt before the frontier this activation started from has
                        // been pulled by now (in a correct run, by an earlier activation: the
                        // frontier passes a record's time only after its receiver's `-1`).
                        if let Some(&(time, id)) = due.borrow().first() {
                            assert!(
                                time >= now,
                                "worker {index}: the frontier passed {time} (it is at {now}), \
                                 but record {id} is still owed here at {time}"
                            );
                        }
                    }
                },
            )
            .connect_loop(handle);
    });
    while worker.step_or_park(None) {}
    if let Some(&(time, id)) = owed.borrow().first() {
        panic!(
            "worker {index}: the frontier passed {time} (the dataflow completed), but record \
             {id} is still owed here at {time}"
        );
    }
    done.get()
}

/// The receipts `(time, id)` that worker `index` of `peers` (`threads` per process) gets in
/// [`hops`] with `records` records of `hops` hops: each record's path, computed in advance.
pub fn hops_owed(
    index: usize,
    peers: usize,
    threads: usize,
    records: u64,
    hops: u32,
) -> std::collections::BTreeSet<(u64, u64)> {
    let mut owed = std::collections::BTreeSet::new();
    for id in 0..records {
        // A record starts at its worker, at time 0, and each hop goes as `hops` sends it.
        let (mut at, mut time) = (id as usize % peers, 0u64);
        for left in (0..=hops).rev() {
            if at == index {
                owed.insert((time, id));
            }
            if left == 0 {
                break;
            }
            let later = time + 1 + (id + u64::from(left)) % 3;
            at = (at + threads + id as usize % threads.max(1)) % peers;
            time = later + 1; // the loop's summary
        }
    }
    owed
}

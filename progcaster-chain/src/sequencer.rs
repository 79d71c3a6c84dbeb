//! The receiving end of forwarded progress: each remote process's deltas, in their order.

use std::collections::VecDeque;

/// The `source` field of the progress messages that process `process` forwards, in a
/// computation of `peers` workers: `peers + process`, a value no worker index takes, so that a
/// receiver can tell a forwarded delta from a per-worker batch (and a mismatched peer).
///
/// # Examples
/// ```
/// assert_eq!(progcaster_chain::forwarded_source(4, 1), 5);
/// ```
pub fn forwarded_source(peers: usize, process: usize) -> usize {
    peers + process
}

/// The clear error of a process that aggregates progress receiving a per-worker batch, or
/// the other way around.
fn mismatch(source: usize, peers: usize, threads: usize) -> String {
    if source >= peers {
        format!(
            "progress medium mismatch: process {} forwards aggregated progress \
             (--progress-medium aggregate) but this process does not; every process of a \
             computation must use `aggregate`, or none",
            source - peers
        )
    } else {
        format!(
            "progress medium mismatch: worker {source} (process {}) sends progress per worker \
             but this process aggregates it (--progress-medium aggregate); every process of \
             a computation must use `aggregate`, or none",
            source / threads
        )
    }
}

/// Checks, in a process that does not aggregate progress, the `source` of a progress message
/// that came from another process.
///
/// # Panics
/// With a message that names the mismatch, if the message is a forwarded delta.
///
/// # Examples
/// ```
/// progcaster_chain::check_per_worker(3, 4);
/// let error = std::panic::catch_unwind(|| progcaster_chain::check_per_worker(5, 4));
/// assert!(error.is_err());
/// ```
pub fn check_per_worker(source: usize, peers: usize) {
    if source >= peers {
        panic!("{}", mismatch(source, peers, 1));
    }
}

/// Puts the forwarded deltas of other processes back in each process's order.
///
/// A process forwards the deltas of a progress channel through whichever of its workers drove
/// the forward, and timely's networking keeps order per pair of workers, not per pair of
/// processes: deltas may arrive out of order. Each carries its process's sequence number;
/// [`accept`](Self::accept) takes them as they come and [`pop`](Self::pop) hands them out
/// in order, per process, holding back any delta whose predecessors have not arrived.
///
/// Steady in-order traffic allocates nothing: a delta that arrives in order passes through a
/// slot of a ring buffer that keeps its allocation.
///
/// # Examples
/// ```
/// use progcaster_chain::{forwarded_source, Sequencer};
/// // Two processes of two workers; we are process 0, process 1 forwards.
/// let mut sequencer = Sequencer::new(4, 2);
/// sequencer.accept(forwarded_source(4, 1), 1, "second");
/// assert_eq!(sequencer.pop(), None);
/// sequencer.accept(forwarded_source(4, 1), 0, "first");
/// assert_eq!(sequencer.pop(), Some("first"));
/// assert_eq!(sequencer.pop(), Some("second"));
/// assert_eq!(sequencer.pop(), None);
/// ```
#[derive(Debug)]
pub struct Sequencer<M> {
    peers: usize,
    threads: usize,
    /// Indexed by process: the sequence number of its next delta to hand out.
    next: Vec<u64>,
    /// Indexed by process: its deltas from `next` on, `None` where one has not arrived.
    held: Vec<VecDeque<Option<M>>>,
    /// Processes whose next delta may have arrived: checked first by `pop`.
    ready: Vec<usize>,
}

impl<M> Sequencer<M> {
    /// A sequencer for a computation of `peers` workers, `threads` per process.
    ///
    /// # Panics
    /// If `threads` is zero or does not divide `peers`.
    pub fn new(peers: usize, threads: usize) -> Self {
        assert!(threads > 0 && peers % threads == 0, "uneven processes");
        let processes = peers / threads;
        Sequencer {
            peers,
            threads,
            next: vec![0; processes],
            held: (0..processes).map(|_| VecDeque::new()).collect(),
            ready: Vec::new(),
        }
    }

    /// Takes `message`, which another process forwarded with source field `source` (see
    /// [`forwarded_source`]) and sequence number `seq`.
    ///
    /// # Panics
    /// If `source` is a worker's index (the sending process does not aggregate: a clear
    /// mismatch error), or if the process already delivered `seq`.
    pub fn accept(&mut self, source: usize, seq: u64, message: M) {
        if source < self.peers || source >= self.peers + self.next.len() {
            panic!("{}", mismatch(source, self.peers, self.threads));
        }
        let process = source - self.peers;
        let offset = seq
            .checked_sub(self.next[process])
            .unwrap_or_else(|| panic!("process {process} forwarded delta {seq} twice"));
        let offset = usize::try_from(offset).expect("a delta within reach");
        let held = &mut self.held[process];
        if held.len() <= offset {
            held.resize_with(offset + 1, || None);
        }
        assert!(
            held[offset].is_none(),
            "process {process} forwarded delta {seq} twice"
        );
        held[offset] = Some(message);
        if offset == 0 {
            self.ready.push(process);
        }
    }

    /// The next delta, in its process's order, if one has arrived.
    pub fn pop(&mut self) -> Option<M> {
        while let Some(&process) = self.ready.last() {
            let held = &mut self.held[process];
            if let Some(Some(_)) = held.front() {
                self.next[process] += 1;
                let message = held.pop_front().flatten();
                if !matches!(held.front(), Some(Some(_))) {
                    self.ready.pop();
                }
                return message;
            }
            self.ready.pop();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_processes_come_out_in_order_each() {
        // Three processes of two workers; deltas of processes 1 and 2 arrive shuffled.
        let mut sequencer = Sequencer::new(6, 2);
        let arrivals = [(1, 2), (2, 0), (1, 0), (2, 2), (1, 1), (2, 1), (1, 3)];
        let mut out = Vec::new();
        for (process, seq) in arrivals {
            sequencer.accept(forwarded_source(6, process), seq, (process, seq));
            while let Some(message) = sequencer.pop() {
                out.push(message);
            }
        }
        for process in [1, 2] {
            let seqs: Vec<_> = out.iter().filter(|m| m.0 == process).map(|m| m.1).collect();
            let expected: Vec<u64> = if process == 1 {
                vec![0, 1, 2, 3]
            } else {
                vec![0, 1, 2]
            };
            assert_eq!(seqs, expected);
        }
    }

    #[test]
    fn a_per_worker_batch_is_a_clear_mismatch() {
        // (peers, workers per process, a per-worker batch's source, what the error names); one
        // worker per process is the sequencer of timely's one-worker `aggregate` path.
        for (peers, threads, source, named) in [
            (4, 2, 3, "worker 3 (process 1)"),
            (2, 1, 1, "worker 1 (process 1)"),
        ] {
            let mut sequencer = Sequencer::new(peers, threads);
            let error = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sequencer.accept(source, 0, ())
            }))
            .unwrap_err();
            let message = error.downcast_ref::<String>().cloned().unwrap_or_default();
            assert!(
                message.contains(&format!("{named} sends progress per worker")),
                "{message}"
            );
            assert!(message.starts_with("progress medium mismatch"), "{message}");
        }
    }
}

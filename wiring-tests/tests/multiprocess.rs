//! Processes of several workers each, on 127.0.0.1, give the same output with and without
//! the chain, with and without aggregation across processes (and the sequential model's
//! output); processes that disagree on aggregation fail at startup with a clear error.

use std::time::Duration;

use wiring_tests::child::{self, records, wiring, Outcome};
use wiring_tests::workloads::nested_model;

const WIRING: &str = env!("CARGO_BIN_EXE_wiring");

/// Runs `wiring nested` as `processes` processes of `workers` workers, process `p` under
/// `media[p % media.len()]`; returns each process's outcome.
fn run_cluster(media: &[&str], processes: usize, workers: usize, zerocopy: bool) -> Vec<Outcome> {
    let (n, w) = (processes.to_string(), workers.to_string());
    child::run_cluster(
        media[0],
        processes,
        Duration::from_secs(120),
        |process, hosts| {
            let p = process.to_string();
            let mut args = vec![
                "nested", "10", "25", "-w", &w, "-n", &n, "-p", &p, "-h", hosts,
            ];
            if zerocopy {
                args.push("--zerocopy");
            }
            wiring(WIRING, Some(media[process % media.len()]), &args)
        },
    )
}

fn cluster(medium: &str, processes: usize, workers: usize, zerocopy: bool) -> Vec<(u64, u64, u64)> {
    let mut all = Vec::new();
    for outcome in run_cluster(&[medium], processes, workers, zerocopy) {
        all.extend(records(&outcome, medium, workers));
    }
    all.sort();
    all
}

#[test]
fn two_processes_of_two_workers() {
    let model = nested_model(10, 4, 25);
    for zerocopy in [false, true] {
        for medium in ["stock", "chain", "aggregate"] {
            let records = cluster(medium, 2, 2, zerocopy);
            assert_eq!(records, model, "{medium}, zerocopy {zerocopy}");
        }
    }
}

#[test]
fn aggregation_across_process_shapes() {
    for (processes, workers) in [(2, 1), (3, 2)] {
        let model = nested_model(10, processes * workers, 25);
        for medium in ["stock", "aggregate"] {
            let records = cluster(medium, processes, workers, true);
            assert_eq!(records, model, "{medium}, {processes}x{workers}");
        }
    }
}

#[test]
fn aggregating_and_per_worker_processes_refuse_each_other() {
    // With one worker per process, `aggregate` sends that worker's batches as they are, marked
    // as its process's deltas: the mismatch is still caught.
    for (other, workers) in [("stock", 2), ("chain", 2), ("stock", 1), ("chain", 1)] {
        let outcomes = run_cluster(&["aggregate", other], 2, workers, true);
        assert!(
            outcomes.iter().all(|outcome| outcome.code != Some(0)),
            "a mixed run (aggregate and {other}, {workers} workers) succeeded"
        );
        // Whichever process receives the other's first progress message names the mismatch;
        // its peer may instead report the connection the first one closed when it stopped.
        let stderr: String = outcomes.iter().map(|o| o.stderr.as_str()).collect();
        let aggregating = "(process 1) sends progress per worker but this process aggregates it";
        let other_side = "progress medium mismatch: process 0 forwards aggregated progress \
                          (--progress-medium aggregate) but this process does not";
        assert!(
            stderr.contains(aggregating) || stderr.contains(other_side),
            "aggregate with {other}, {workers} workers: {stderr}"
        );
    }
}

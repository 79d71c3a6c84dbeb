//! A long-running process that builds and drops many dataflows leaks nothing: chains, the
//! rendezvous's entries, installed dataflows, and memory all come back to where they were.
//!
//! `SOAK_DATAFLOWS` sets the number of dataflows (default 10,000; a fiftieth of it in the
//! multi-process runs, whose processes pay for TCP connections). The rendezvous holds each
//! entry's chain alive, so `live_chains()` back at zero while the workers still run also means
//! the rendezvous holds no entries.

use std::time::{Duration, Instant};

use progcaster_chain::live_chains;
use wiring_tests::child::{run_cluster, wiring};
use wiring_tests::workloads::{soak, Soak};

const WIRING: &str = env!("CARGO_BIN_EXE_wiring");

fn dataflows() -> usize {
    std::env::var("SOAK_DATAFLOWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

/// Memory after the last dataflow within 10% of memory after the first tenth.
fn check(soaks: &[Soak]) {
    for s in soaks {
        assert_eq!(s.chains_after, 0, "chains outlived their dataflows: {s:?}");
        assert_eq!(s.installed_after, 0, "dataflows left installed: {s:?}");
        assert!(
            s.resident_after_last * 10 <= s.resident_after_first * 11,
            "resident memory grew by more than 10%: {s:?}"
        );
    }
}

#[test]
fn build_and_drop_many_dataflows_in_two_workers() {
    assert_eq!(live_chains(), 0);
    let n = dataflows();
    let start = Instant::now();
    let soaks: Vec<Soak> = timely::execute(timely::Config::process(2), move |worker| {
        soak(worker, n, n / 10)
    })
    .expect("execute")
    .join()
    .into_iter()
    .map(|result| result.expect("worker"))
    .collect();
    eprintln!(
        "soak: {n} dataflows, 2 workers, {:?}: {soaks:?}",
        start.elapsed()
    );
    check(&soaks);
    assert_eq!(live_chains(), 0);
}

/// Two processes of `workers` workers each, on 127.0.0.1, through timely's networking; with
/// two workers per process, progress also goes through the chain.
fn cluster(workers: &str, dataflows: usize) {
    let dataflows = dataflows.to_string();
    let start = Instant::now();
    let outcomes = run_cluster(
        &format!("soak{workers}"),
        2,
        Duration::from_secs(300),
        |process, hosts| {
            let p = process.to_string();
            let args = [
                "soak", &dataflows, "-w", workers, "-n", "2", "-p", &p, "-h", hosts,
            ];
            wiring(WIRING, None, &args)
        },
    );
    let mut soaks = Vec::new();
    for outcome in outcomes {
        assert!(
            !outcome.timed_out,
            "ran past 300 s; stderr:\n{}",
            outcome.stderr
        );
        assert_eq!(outcome.code, Some(0), "stderr:\n{}", outcome.stderr);
        for line in outcome.stdout.lines() {
            if let Some(fields) = line.strip_prefix("soak ") {
                let f: Vec<u64> = fields
                    .split(' ')
                    .map(|f| f.parse().expect("a number"))
                    .collect();
                soaks.push(Soak {
                    resident_after_first: f[0],
                    resident_after_last: f[1],
                    chains_after: f[2] as usize,
                    installed_after: f[3] as usize,
                });
            }
        }
    }
    eprintln!(
        "soak: {dataflows} dataflows, 2x{workers}, {:?}: {soaks:?}",
        start.elapsed()
    );
    assert_eq!(soaks.len(), 2 * workers.parse::<usize>().expect("count"));
    check(&soaks);
}

#[test]
fn build_and_drop_dataflows_in_two_processes() {
    let n = (dataflows() / 50).max(10);
    cluster("1", n);
    cluster("2", n);
}

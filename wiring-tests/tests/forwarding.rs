//! Records hop between workers of different processes at later and later times, and every
//! receipt is checked against the frontier its receiver observed (`workloads::hops`): under
//! every medium the runs pass, and a deliberately broken forwarder (one that sends each
//! delta's `+1`s a message after its `-1`s) is caught.

use std::time::Duration;

use wiring_tests::child::{run_cluster, wiring, Outcome};

const WIRING: &str = env!("CARGO_BIN_EXE_wiring");

/// Running time allowed to one cluster run (about 1.5 s on 2 loaded cores; time this process
/// spends stopped is not counted, see `child::Deadline`).
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs `wiring hops` as `processes` processes of `workers` workers under `medium`, with the
/// broken forwarder if `broken`.
fn hops(medium: &str, processes: usize, workers: usize, broken: bool) -> Vec<Outcome> {
    let (n, w) = (processes.to_string(), workers.to_string());
    let records = (processes * workers).to_string();
    run_cluster(
        &format!("hops-{medium}"),
        processes,
        DEADLINE,
        |process, hosts| {
            let p = process.to_string();
            let args = [
                "hops", &records, "300", "-w", &w, "-n", &n, "-p", &p, "-h", hosts,
            ];
            let mut command = wiring(WIRING, Some(medium), &args);
            if broken {
                command.env(progcaster_chain::FAULT_VAR, "split-forward");
            } else {
                command.env_remove(progcaster_chain::FAULT_VAR);
            }
            command
        },
    )
}

#[test]
fn receipts_never_fall_behind_a_frontier_in_any_medium() {
    for (processes, workers) in [(2, 2), (3, 2), (2, 1)] {
        for medium in ["stock", "chain", "aggregate"] {
            let outcomes = hops(medium, processes, workers, false);
            let mut finished = 0;
            for outcome in &outcomes {
                assert!(
                    !outcome.timed_out,
                    "{medium} {processes}x{workers}: ran past {DEADLINE:?} of running time; \
                     every process's stdout and stderr: {outcomes:#?}"
                );
                assert_eq!(
                    outcome.code,
                    Some(0),
                    "{medium} {processes}x{workers} (no code: killed after another process \
                     failed); every process's stdout and stderr: {outcomes:#?}"
                );
                finished += outcome
                    .stdout
                    .lines()
                    .find_map(|line| line.strip_prefix("finished "))
                    .and_then(|n| n.parse::<usize>().ok())
                    .expect("a `finished` line");
            }
            assert_eq!(
                finished,
                processes * workers,
                "{medium} {processes}x{workers}"
            );
        }
    }
}

#[test]
fn a_forwarder_that_sends_minus_before_plus_is_caught() {
    let outcomes = hops("aggregate", 2, 2, true);
    let stderr: String = outcomes.iter().map(|o| o.stderr.as_str()).collect();
    assert!(
        outcomes.iter().any(|outcome| outcome.code != Some(0)),
        "the broken forwarder went unnoticed"
    );
    assert!(
        stderr.contains("after the frontier had passed")
            || stderr.contains("frontier went back")
            || stderr.contains("still owed here"),
        "the broken forwarder failed the run, but not by the frontier check: {stderr}"
    );
}

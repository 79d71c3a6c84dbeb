//! Choosing the progress medium: timely's `--progress-medium` option (a `WorkerConfig`
//! setting), the `TIMELY_PROGRESS_MEDIUM` override, and the same clear error for an invalid
//! value from every entry point.

use std::time::Duration;

use wiring_tests::child::{records, run, wiring};
use wiring_tests::workloads::nested_model;

const WIRING: &str = env!("CARGO_BIN_EXE_wiring");

fn expected_error(source: &str, value: &str) -> String {
    format!("invalid {source}={value:?}: valid values are `chain`, `stock` and `aggregate`")
}

#[test]
fn invalid_override_fails_every_entry_point_alike() {
    for (value, workers) in [("bogus", "2"), ("Chain", "1"), ("", "4"), ("mpsc", "2")] {
        let expected = expected_error("TIMELY_PROGRESS_MEDIUM", value);
        // execute_from_args (with a valid option: the override is checked all the same),
        // execute, and execute_directly, which has no error to return and panics with it.
        let nested = [
            "nested",
            "1",
            "1",
            "-w",
            workers,
            "--progress-medium",
            "chain",
        ];
        for args in [&nested[..], &["execute"], &["directly"]] {
            let outcome = run(wiring(WIRING, Some(value), args), Duration::from_secs(60));
            assert_ne!(outcome.code, Some(0), "{value:?} accepted by {args:?}");
            assert!(
                !outcome.stdout.contains("medium") && !outcome.stdout.contains("ok"),
                "no output expected from {args:?}: {}",
                outcome.stdout
            );
            assert!(
                outcome.stderr.contains(&expected),
                "{args:?}: stderr lacks {expected:?}: {}",
                outcome.stderr
            );
        }
    }
}

#[test]
fn invalid_option_fails_with_the_same_message() {
    for value in ["bogus", "Stock", ""] {
        let outcome = run(
            wiring(
                WIRING,
                None,
                &["nested", "1", "1", "-w", "2", "--progress-medium", value],
            ),
            Duration::from_secs(60),
        );
        assert_eq!(outcome.code, Some(2), "{value:?} accepted");
        let expected = expected_error("--progress-medium", value);
        assert!(
            outcome.stderr.contains(&expected),
            "stderr lacks {expected:?}: {}",
            outcome.stderr
        );
    }
}

#[test]
fn option_selects_and_override_wins() {
    // (override, option, the medium that carries progress)
    for (value, option, medium) in [
        (None, Some("stock"), "stock"),
        (None, Some("chain"), "chain"),
        (Some("stock"), None, "stock"),
        (Some("chain"), None, "chain"),
        (Some("stock"), Some("chain"), "stock"),
        (Some("chain"), Some("stock"), "chain"),
    ] {
        let mut args = vec!["nested", "2", "3", "-w", "2"];
        if let Some(option) = option {
            args.extend(["--progress-medium", option]);
        }
        let outcome = run(wiring(WIRING, value, &args), Duration::from_secs(60));
        // `records` checks that chains carried progress exactly under `chain`.
        assert_eq!(
            records(&outcome, medium, 2),
            nested_model(2, 2, 3),
            "override {value:?}, option {option:?}"
        );
    }
}

#[test]
fn valid_overrides_accepted_by_every_entry_point() {
    for value in ["chain", "stock"] {
        for args in [&["execute"][..], &["directly"]] {
            let outcome = run(wiring(WIRING, Some(value), args), Duration::from_secs(60));
            assert_eq!(
                outcome.code,
                Some(0),
                "{value} {args:?}: {}",
                outcome.stderr
            );
            assert_eq!(outcome.stdout, "ok\n");
        }
    }
}

#[test]
fn option_in_timelys_usage_text() {
    let mut options = getopts::Options::new();
    timely::Config::install_options(&mut options);
    let usage = options.usage("usage: program [options]");
    assert!(
        usage.contains("--progress-medium MEDIUM")
            && usage.contains("progress medium (chain, stock or aggregate)"),
        "{usage}"
    );
    // Parsed into the worker configuration, with the same error as the override's.
    let config = timely::Config::from_args(
        ["-w", "2", "--progress-medium", "stock"]
            .into_iter()
            .map(String::from),
    );
    assert!(config.is_ok());
    let error = timely::Config::from_args(["--progress-medium", "x"].into_iter().map(String::from))
        .expect_err("an invalid medium");
    assert_eq!(error, expected_error("--progress-medium", "x"));
}

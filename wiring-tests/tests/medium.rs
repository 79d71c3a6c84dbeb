//! An invalid `TIMELY_PROGRESS_MEDIUM` stops the program at startup with a clear error.

use std::time::Duration;

use wiring_tests::child::{run, wiring};

const WIRING: &str = env!("CARGO_BIN_EXE_wiring");

#[test]
fn invalid_medium_fails_at_startup() {
    for (value, workers) in [("bogus", "2"), ("Chain", "1"), ("", "4"), ("mpsc", "2")] {
        let outcome = run(
            wiring(WIRING, Some(value), &["nested", "1", "1", "-w", workers]),
            Duration::from_secs(60),
        );
        assert_ne!(outcome.code, Some(0), "{value:?} accepted");
        assert!(
            !outcome.stdout.contains("medium"),
            "no output expected: {}",
            outcome.stdout
        );
        let expected = format!(
            "invalid TIMELY_PROGRESS_MEDIUM={value:?}: valid values are `chain` and `stock`"
        );
        assert!(
            outcome.stderr.contains(&expected),
            "stderr lacks {expected:?}: {}",
            outcome.stderr
        );
    }
}

#[test]
fn valid_media_accepted() {
    for value in ["chain", "stock"] {
        let outcome = run(
            wiring(WIRING, Some(value), &["nested", "1", "1", "-w", "2"]),
            Duration::from_secs(60),
        );
        assert_eq!(outcome.code, Some(0), "{value}: {}", outcome.stderr);
        assert!(outcome.stdout.starts_with(&format!("medium {value}\n")));
    }
}

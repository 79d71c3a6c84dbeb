//! Nested iterative scopes give identical output stock vs chain, at 1, 2 and 4 workers, with
//! both intra-process allocator flavors, and both match a sequential model.

use std::time::Duration;

use wiring_tests::child::{records, run, wiring};
use wiring_tests::workloads::nested_model;

const WIRING: &str = env!("CARGO_BIN_EXE_wiring");
const EPOCHS: u64 = 12;
const PER_EPOCH: u64 = 40;

fn nested(medium: &str, workers: usize, zerocopy: bool) -> Vec<(u64, u64, u64)> {
    let workers = workers.to_string();
    let epochs = EPOCHS.to_string();
    let per_epoch = PER_EPOCH.to_string();
    let mut args = vec!["nested", &epochs, &per_epoch, "-w", &workers];
    if zerocopy {
        args.push("--zerocopy");
    }
    let outcome = run(
        wiring(WIRING, Some(medium), &args),
        Duration::from_secs(120),
    );
    records(&outcome, medium, workers.parse().expect("count"))
}

#[test]
fn nested_scopes_identical_stock_and_chain() {
    for workers in [1, 2, 4] {
        for zerocopy in [false, true] {
            let model = nested_model(EPOCHS, workers, PER_EPOCH);
            assert!(model.len() > 100, "the model exercises many values");
            let stock = nested("stock", workers, zerocopy);
            let chain = nested("chain", workers, zerocopy);
            assert_eq!(
                stock, model,
                "stock, {workers} workers, zerocopy {zerocopy}"
            );
            assert_eq!(
                chain, model,
                "chain, {workers} workers, zerocopy {zerocopy}"
            );
        }
    }
}

#[test]
fn default_medium_is_chain() {
    let outcome = run(
        wiring(WIRING, None, &["nested", "2", "3", "-w", "2"]),
        Duration::from_secs(60),
    );
    assert_eq!(records(&outcome, "chain", 2), nested_model(2, 2, 3));
}

//! Two processes of two workers each, on 127.0.0.1, give the same output with and without
//! the chain (and the sequential model's output).

use std::time::{Duration, Instant};

use wiring_tests::child::{hostfile, records, spawn, wait, wiring};
use wiring_tests::workloads::nested_model;

const WIRING: &str = env!("CARGO_BIN_EXE_wiring");

fn cluster(medium: &str, zerocopy: bool) -> Vec<(u64, u64, u64)> {
    let hostfile = hostfile(medium, 2);
    let hosts = hostfile.to_str().expect("utf-8 path");
    let start = Instant::now();
    let deadline = Duration::from_secs(120);
    let children: Vec<_> = ["0", "1"]
        .iter()
        .map(|process| {
            let mut args = vec![
                "nested", "10", "25", "-w", "2", "-n", "2", "-p", process, "-h", hosts,
            ];
            if zerocopy {
                args.push("--zerocopy");
            }
            spawn(wiring(WIRING, Some(medium), &args))
        })
        .collect();
    let mut all = Vec::new();
    for child in children {
        all.extend(records(&wait(child, start, deadline), medium, 2));
    }
    let _ = std::fs::remove_file(&hostfile);
    all.sort();
    all
}

#[test]
fn two_processes_of_two_workers() {
    let model = nested_model(10, 4, 25);
    for zerocopy in [false, true] {
        let stock = cluster("stock", zerocopy);
        let chain = cluster("chain", zerocopy);
        assert_eq!(stock, model, "stock, zerocopy {zerocopy}");
        assert_eq!(chain, model, "chain, zerocopy {zerocopy}");
    }
}

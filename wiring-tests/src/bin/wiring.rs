//! Runs one workload of `wiring_tests::workloads` under timely's usual arguments.
//!
//! ```text
//! wiring nested <epochs> <per_epoch> [timely args: -w, -n, -p, -h, ...]
//! ```
//!
//! It prints `medium <chain|stock>` first, then `chains <n>` (the live progress chains a
//! worker saw after building its dataflow) and one `epoch value count` line per record
//! released by this process's workers.

use wiring_tests::workloads;

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args.next().expect("usage: wiring nested ...");
    let medium = match progcaster_chain::medium() {
        Ok(progcaster_chain::Medium::Chain) => "chain",
        Ok(progcaster_chain::Medium::Stock) => "stock",
        // timely reports the error at startup; keep going to show that it does.
        Err(_) => "invalid",
    };
    match workload.as_str() {
        "nested" => {
            let epochs: u64 = args.next().and_then(|a| a.parse().ok()).expect("epochs");
            let per_epoch: u64 = args.next().and_then(|a| a.parse().ok()).expect("per_epoch");
            let guards = timely::execute_from_args(args, move |worker| {
                workloads::nested_sampled(worker, epochs, per_epoch)
            })
            .unwrap_or_else(|error| fail(&error));
            println!("medium {medium}");
            let mut all = Vec::new();
            let mut chains = 0;
            for result in guards.join() {
                let (records, sampled) = result.expect("worker panicked");
                all.extend(records);
                chains = chains.max(sampled);
            }
            println!("chains {chains}");
            all.sort();
            for (epoch, value, count) in all {
                println!("{epoch} {value} {count}");
            }
        }
        other => fail(&format!("unknown workload {other:?}")),
    }
}

fn fail(error: &str) -> ! {
    eprintln!("wiring: {error}");
    std::process::exit(2);
}

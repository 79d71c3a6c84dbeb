//! Runs one workload of `wiring_tests::workloads` under timely's usual arguments.
//!
//! ```text
//! wiring nested <epochs> <per_epoch> [timely args: -w, -n, -p, -h, ...]
//! wiring barrier <rounds> [timely args]
//! ```
//!
//! Both print `medium <chain|stock>` first. `nested` then prints `chains <n>` (the live
//! progress chains a worker saw after building its dataflow) and one `epoch value count`
//! line per record released by this process's workers; `barrier` prints the elapsed seconds.

use std::time::Instant;

use wiring_tests::workloads;

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args.next().expect("usage: wiring <nested|barrier> ...");
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
        "barrier" => {
            let rounds: u64 = args.next().and_then(|a| a.parse().ok()).expect("rounds");
            let start = Instant::now();
            timely::execute_from_args(args, move |worker| workloads::barrier(worker, rounds))
                .unwrap_or_else(|error| fail(&error))
                .join()
                .into_iter()
                .for_each(|r| r.expect("worker panicked"));
            println!("medium {medium}");
            println!("seconds {:.6}", start.elapsed().as_secs_f64());
        }
        other => fail(&format!("unknown workload {other:?}")),
    }
}

fn fail(error: &str) -> ! {
    eprintln!("wiring: {error}");
    std::process::exit(2);
}

//! Runs one workload of `wiring_tests::workloads` under timely's usual arguments.
//!
//! ```text
//! wiring nested <epochs> <per_epoch> [timely args: -w, -n, -p, -h, --progress-medium, ...]
//! wiring execute      (timely::execute, two workers, default configuration)
//! wiring directly     (timely::execute_directly)
//! wiring soak <dataflows> [timely args]
//! wiring hops <records> <hops> [timely args]
//! ```
//!
//! `nested` prints `medium <chain|stock|aggregate>` first (the medium the run asked for: the
//! `TIMELY_PROGRESS_MEDIUM` override if set, else `--progress-medium`, else `chain`), then
//! `chains <n>` (the live progress chains a worker saw after building its dataflow) and one
//! `epoch value count` line per record released by this process's workers. `execute` and
//! `directly` print `ok` after running a small dataflow: they show how each entry point
//! treats the medium. `soak` prints one `soak <resident after the first tenth> <resident after
//! the last> <chains after> <installed after>` line per local worker (see `workloads::soak`).
//! `hops` prints `finished <n>`: the records whose hops ended at this process's workers (see
//! `workloads::hops`, which panics on a receipt behind its receiver's frontier).

use wiring_tests::workloads;

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args
        .next()
        .expect("usage: wiring nested|execute|directly ...");
    match workload.as_str() {
        "nested" => {
            let epochs: u64 = args.next().and_then(|a| a.parse().ok()).expect("epochs");
            let per_epoch: u64 = args.next().and_then(|a| a.parse().ok()).expect("per_epoch");
            let args: Vec<String> = args.collect();
            let medium = requested_medium(&args);
            let guards = timely::execute_from_args(args.into_iter(), move |worker| {
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
        "hops" => {
            let records: u64 = args.next().and_then(|a| a.parse().ok()).expect("records");
            let hops: u32 = args.next().and_then(|a| a.parse().ok()).expect("hops");
            let args: Vec<String> = args.collect();
            let threads = args
                .iter()
                .position(|arg| arg == "-w")
                .and_then(|i| args.get(i + 1)?.parse().ok())
                .unwrap_or(1);
            // A worker that finds a receipt behind its frontier stops the process at once: its
            // peers would wait for it forever.
            let report = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                report(info);
                std::process::exit(101);
            }));
            let guards = timely::execute_from_args(args.into_iter(), move |worker| {
                workloads::hops(worker, threads, records, hops)
            })
            .unwrap_or_else(|error| fail(&error));
            let finished: u64 = guards
                .join()
                .into_iter()
                .map(|r| r.expect("worker panicked"))
                .sum();
            println!("finished {finished}");
        }
        "soak" => {
            let dataflows: usize = args.next().and_then(|a| a.parse().ok()).expect("dataflows");
            let guards = timely::execute_from_args(args, move |worker| {
                workloads::soak(worker, dataflows, dataflows / 10)
            })
            .unwrap_or_else(|error| fail(&error));
            for result in guards.join() {
                let s = result.expect("worker panicked");
                println!(
                    "soak {} {} {} {}",
                    s.resident_after_first,
                    s.resident_after_last,
                    s.chains_after,
                    s.installed_after
                );
            }
        }
        "execute" => {
            let guards = timely::execute(timely::Config::process(2), |worker| {
                workloads::nested(worker, 1, 1)
            })
            .unwrap_or_else(|error| fail(&error));
            for result in guards.join() {
                result.expect("worker panicked");
            }
            println!("ok");
        }
        "directly" => {
            timely::execute_directly(|worker| workloads::nested(worker, 1, 1));
            println!("ok");
        }
        other => fail(&format!("unknown workload {other:?}")),
    }
}

/// The medium `args` ask for, as the patched timely resolves it; `invalid` where timely will
/// report the error.
fn requested_medium(args: &[String]) -> &'static str {
    let option = args
        .iter()
        .position(|arg| arg == progcaster_chain::MEDIUM_OPTION)
        .and_then(|i| args.get(i + 1))
        .map(|value| value.parse::<progcaster_chain::Medium>());
    let medium = match progcaster_chain::medium_override() {
        Ok(Some(medium)) => Ok(medium),
        Ok(None) => option.unwrap_or(Ok(progcaster_chain::Medium::Chain)),
        Err(error) => Err(error),
    };
    match medium {
        Ok(progcaster_chain::Medium::Chain) => "chain",
        Ok(progcaster_chain::Medium::Stock) => "stock",
        Ok(progcaster_chain::Medium::Aggregate) => "aggregate",
        // timely reports the error at startup; keep going to show that it does.
        Err(_) => "invalid",
    }
}

fn fail(error: &str) -> ! {
    eprintln!("wiring: {error}");
    std::process::exit(2);
}

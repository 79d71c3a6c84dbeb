//! `chain-bench`: runs the synthetic benchmark sweep and writes the CSV, plots and report.
//!
//! `scripts/bench` is the usual entry point; run `chain-bench --help` for the knobs.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use benches::report::{write_report, Meta, Row};
use benches::{run, KeyKind, MediumKind, RunSpec, Scenario};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use report::{median, meta_path, read_with_meta, write_rows};

#[global_allocator]
static ALLOC: benches::CountingAlloc = benches::CountingAlloc;

/// Synthetic benchmark sweep: lanes and chain vs MPSC, mesh, ledger and cells.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Quick mode: a small grid that finishes in well under a minute; writes only the CSV.
    #[arg(long)]
    quick: bool,
    /// Media (comma-separated): chain, lanes, mesh, ledger, cells, mpsc [all].
    #[arg(long, value_delimiter = ',')]
    media: Option<Vec<String>>,
    /// Scenarios (comma-separated): keepup, laggard, backlog.
    #[arg(long, value_delimiter = ',')]
    scenarios: Option<Vec<String>>,
    /// Worker thread counts [quick: 1,2,4; full: 1,2,4,8,16].
    #[arg(long, value_delimiter = ',')]
    workers: Option<Vec<usize>>,
    /// Cancellation fractions [quick: 0,1; full: 0,0.5,1].
    #[arg(long, value_delimiter = ',')]
    cancel: Option<Vec<f64>>,
    /// Key types: u64, box3 [both].
    #[arg(long, value_delimiter = ',')]
    keys: Option<Vec<String>>,
    /// Total sends per keep-up run [quick: 4000; full: 10000].
    #[arg(long)]
    keepup_sends: Option<usize>,
    /// Total sends per laggard run [quick: 10000; full: 100000].
    #[arg(long)]
    laggard_sends: Option<usize>,
    /// Total sends per backlog run, one run per value [quick: 10000; full: 1000,10000,30000].
    #[arg(long, value_delimiter = ',')]
    backlog_sends: Option<Vec<usize>>,
    /// Runs with cancel < 1 send at most this many batches in all [quick: no cap; full: 10000].
    /// Without full cancellation the net total grows with the sends, and merging into a
    /// growing atom makes the chain's (and ledger's) sends cost O(net) each, so such runs
    /// are kept short enough for the sweep to finish.
    #[arg(long)]
    partial_cap: Option<usize>,
    /// Fresh updates per batch.
    #[arg(long, default_value_t = 2)]
    batch: usize,
    /// Workload seed.
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
    /// The laggard also reads every this many rounds (0: only at the end).
    #[arg(long, default_value_t = 0)]
    laggard_every: usize,
    /// Repetitions per configuration (figures are medians) [quick: 1; full: 3].
    #[arg(long)]
    reps: Option<usize>,
    /// CSV output [quick: target/bench/quick.csv; full: benches/results.csv]; the full sweep
    /// also writes its run description beside it (`results-meta.csv` for `results.csv`).
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Directory for RESULTS.md and plots/ (full mode only) [benches].
    #[arg(long)]
    report: Option<PathBuf>,
    /// File holding the machine description for the report (e.g. lscpu output).
    #[arg(long)]
    machine_file: Option<PathBuf>,
    /// Regenerate the report from this full CSV (and the run description beside it) instead
    /// of running.
    #[arg(long)]
    from_csv: Option<PathBuf>,
    /// The command line to quote in the report.
    #[arg(long, default_value = "scripts/bench")]
    command_name: String,
}

/// Parses a list of names with `parse`, or returns `default`.
fn names<T: Copy>(
    v: &Option<Vec<String>>,
    parse: fn(&str) -> Option<T>,
    default: &[T],
) -> Result<Vec<T>, String> {
    match v {
        None => Ok(default.to_vec()),
        Some(v) => v
            .iter()
            .map(|s| parse(s).ok_or_else(|| format!("unknown name {s:?}")))
            .collect(),
    }
}

/// The current UTC date and time, from `date` (no time crate needed).
fn now_utc() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chain-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<(), String> {
    let a = Args::parse();
    let q = a.quick;
    let report_dir = a.report.clone().unwrap_or_else(|| PathBuf::from("benches"));
    let machine = match &a.machine_file {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => String::from("(not given)"),
    };
    let reps = a.reps.unwrap_or(if q { 1 } else { 3 }).max(1);
    if let Some(p) = &a.from_csv {
        let (rows, meta) = read_with_meta::<Row, Meta>(p)?;
        write_report(&report_dir, &rows, &meta)?;
        eprintln!("wrote {}", report_dir.join("RESULTS.md").display());
        return Ok(());
    }

    let media = names(&a.media, MediumKind::parse, &MediumKind::ALL)?;
    let scenarios = names(&a.scenarios, Scenario::parse, &Scenario::ALL)?;
    let keys = names(&a.keys, KeyKind::parse, &KeyKind::ALL)?;
    let workers = a.workers.clone().unwrap_or(if q {
        vec![1, 2, 4]
    } else {
        vec![1, 2, 4, 8, 16]
    });
    let cancels = a.cancel.clone().unwrap_or(if q {
        vec![0.0, 1.0]
    } else {
        vec![0.0, 0.5, 1.0]
    });
    let keepup = a.keepup_sends.unwrap_or(if q { 4_000 } else { 10_000 });
    let laggard = a.laggard_sends.unwrap_or(if q { 10_000 } else { 100_000 });
    let backlog = a.backlog_sends.clone().unwrap_or(if q {
        vec![10_000]
    } else {
        vec![1_000, 10_000, 30_000]
    });
    let cap = a.partial_cap.unwrap_or(if q { usize::MAX } else { 10_000 });
    if cancels.iter().any(|c| !(0.0..=1.0).contains(c)) || workers.contains(&0) {
        return Err("cancel must be in 0..=1 and workers >= 1".into());
    }

    // Configurations, each run `reps` times with the media interleaved.
    let mut configs = Vec::new();
    for &scenario in &scenarios {
        let sends_list = match scenario {
            Scenario::Keepup => vec![keepup],
            Scenario::Laggard => vec![laggard],
            Scenario::Backlog => backlog.clone(),
        };
        for &key in &keys {
            for &cancel in &cancels {
                for &n in &workers {
                    let mut list: Vec<usize> = sends_list
                        .iter()
                        .map(|&s| if cancel < 1.0 { s.min(cap) } else { s })
                        .collect();
                    list.dedup();
                    for sends in list {
                        configs.push((scenario, key, cancel, n, sends));
                    }
                }
            }
        }
    }
    let total = (configs.len() * media.len() * reps) as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} eta {eta} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let started = Instant::now();
    // Without a terminal the bar is hidden: print a line every 5% instead.
    let tty = std::io::stderr().is_terminal();
    let step = (total / 20).max(1);
    let mut done = 0u64;
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (scenario, key, cancel, n, sends) in configs {
        // per medium: metric name -> values over reps
        let mut acc: Vec<Vec<(&'static str, Vec<f64>)>> = vec![Vec::new(); media.len()];
        for _ in 0..reps {
            for (mi, &medium) in media.iter().enumerate() {
                let spec = RunSpec {
                    medium,
                    scenario,
                    workers: n,
                    cancel,
                    key,
                    sends,
                    batch: a.batch,
                    seed: a.seed,
                    laggard_every: a.laggard_every,
                };
                bar.set_message(spec.describe());
                done += 1;
                if !tty && (done % step == 0 || done == 1) {
                    eprintln!(
                        "[{done}/{total}] {:.0} s: {}",
                        started.elapsed().as_secs_f64(),
                        spec.describe()
                    );
                }
                let m = match run(&spec) {
                    Ok(m) => m,
                    Err(e) => {
                        bar.println(format!("FAILED: {e}"));
                        failures.push(e);
                        bar.inc(1);
                        continue;
                    }
                };
                for (name, v) in m {
                    match acc[mi].iter_mut().find(|(k, _)| *k == name) {
                        Some((_, vs)) => vs.push(v),
                        None => acc[mi].push((name, vec![v])),
                    }
                }
                bar.inc(1);
            }
        }
        for (mi, &medium) in media.iter().enumerate() {
            for (name, vs) in acc[mi].drain(..) {
                rows.push(Row {
                    medium: medium.name().into(),
                    scenario: scenario.name().into(),
                    workers: n,
                    cancel,
                    key: key.name().into(),
                    sends,
                    metric: name.into(),
                    value: median(vs).expect("every configuration ran at least once"),
                });
            }
        }
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let csv = a.csv.clone().unwrap_or_else(|| {
        PathBuf::from(if q {
            "target/bench/quick.csv"
        } else {
            "benches/results.csv"
        })
    });
    write_rows(&csv, &rows)?;
    eprintln!(
        "{} of {total} runs passed their answer checks in {secs:.1} s; wrote {}",
        total - failures.len() as u64,
        csv.display()
    );
    if !q {
        let meta = Meta {
            command: a.command_name.clone(),
            date: now_utc(),
            seconds: secs,
            reps,
            machine,
            batch: a.batch,
            failures: failures.join("\n"),
        };
        write_rows(&meta_path(&csv), &[&meta])?;
        write_report(&report_dir, &rows, &meta)?;
        eprintln!("wrote {}", report_dir.join("RESULTS.md").display());
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} run(s) failed (their figures are left out):\n{}",
            failures.len(),
            failures.join("\n")
        ))
    }
}

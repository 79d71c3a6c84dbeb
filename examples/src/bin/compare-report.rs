//! `compare-report`: the stock-vs-chain comparison's medians, paired ratios, checksum check,
//! markdown report and plot.
//!
//! `--raw RUNS.csv` reads what `scripts/compare` collected, one row a reported value (header
//! `example,workers,mode,rep,key,value`; `key` is a metric, `checksum`, `chain-feature`,
//! `medium`, `busy` or `others`), summarizes it into one row an example, worker count and
//! metric, and writes that summary (`--csv`, default the markdown's path with `.csv`) and its
//! run description (`latency-meta.csv`). `--from-csv SUMMARY.csv` rebuilds the report from
//! those two files alone. Exits with status 1 (after writing the report) when two runs of the
//! same example and worker count disagree on their checksum.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Parser;
use examples::fail;
use report::{
    fill, markdown_table, median, meta_path, read_rows, svg_panels, write_rows, Figures, Panel,
};
use serde::{Deserialize, Serialize};

/// Summarize a stock-vs-chain comparison.
#[derive(Parser, Debug)]
#[command(name = "compare-report")]
struct Cli {
    /// The raw measurements (CSV, one row a reported value).
    #[arg(
        long,
        required_unless_present = "from_csv",
        conflicts_with = "from_csv"
    )]
    raw: Option<PathBuf>,
    /// Rebuild the report from this summary CSV (and the run description beside it).
    #[arg(long)]
    from_csv: Option<PathBuf>,
    /// Where to write the summary of `--raw` [the markdown's path with `.csv`].
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Where to write the markdown report; text after its notes marker is kept.
    #[arg(long)]
    markdown: PathBuf,
    /// Where to write the SVG plot.
    #[arg(long)]
    svg: PathBuf,
    /// A description of the machine the runs were made on.
    #[arg(long, default_value = "unknown machine")]
    machine: String,
    /// The command that produced the measurements.
    #[arg(long, default_value = "scripts/compare")]
    command: String,
    /// When the measurements were made.
    #[arg(long, default_value = "")]
    date: String,
    /// The commit the binaries were built from.
    #[arg(long, default_value = "")]
    commit: String,
    /// A pair of runs is clean when other processes used at most this percentage of the
    /// machine's CPU time during each of its runs; medians and ratios use clean pairs only,
    /// where an example and worker count has any.
    #[arg(long, default_value_t = 10.0)]
    clean: f64,
    /// The worker count whose barrier ratio the last line reports.
    #[arg(long, default_value_t = 2)]
    ratio_workers: usize,
}

/// The report's text, with `{name}` placeholders.
const TEMPLATE: &str = include_str!("compare-report.md");

/// What each example measures and the metric its plot panel shows, one a line: name,
/// description, plotted metric and the plot's y-axis title.
const EXAMPLES: &str = "\
barrier | pure progress round-trip (a barrier per round) | us_per_round | µs per round
openloop | open-loop latency, fixed release rate | p99_us | p99 latency (µs)
reach | differential BFS under edge changes (one nested scope) | round_p50_us | median round (µs)
scc | differential SCC under edge changes (two nested scopes) | round_p50_us | median round (µs)
stall | recovery after one worker stalls (timely's default progress mode, demand) | d50_updates | updates folded after a 50 ms stall
stall-eager | recovery after one worker stalls (eager progress mode) | d50_updates | updates folded after a 50 ms stall";

/// The rows of [`EXAMPLES`].
fn examples() -> impl Iterator<Item = [&'static str; 4]> {
    let fields = |line: &'static str| {
        let mut f = line.split(" | ");
        [(); 4].map(|_| f.next().unwrap_or_default())
    };
    EXAMPLES.lines().map(fields)
}

/// Metrics for which a larger value is better (their ratio above 1 favours the chain).
const HIGHER_IS_BETTER: &[&str] = &["rounds_per_s"];

/// One reported value of one run, as `scripts/compare` collects it.
#[derive(Debug, Deserialize)]
struct Run {
    example: String,
    workers: usize,
    mode: String,
    rep: usize,
    key: String,
    value: String,
}

/// One example, worker count and metric: medians over the repetitions used, and the median of
/// the back-to-back pairs' chain/stock ratios.
#[derive(Debug, Serialize, Deserialize)]
struct Summary {
    example: String,
    workers: usize,
    metric: String,
    stock: f64,
    chain: f64,
    ratio: f64,
    /// `agree`, `MISMATCH` or `-` (no checksum reported).
    checksums: String,
    pairs_used: usize,
    pairs_run: usize,
    /// Whether the pairs used are the clean ones (otherwise all, none being clean).
    clean: bool,
}

/// How the comparison ran: the report's preamble.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    command: String,
    date: String,
    commit: String,
    machine: String,
    feature: String,
    reps: usize,
    clean: f64,
    busy_median: Option<f64>,
    busy_max: Option<f64>,
    mismatches: String,
}

/// Values by repetition, per medium.
#[derive(Default)]
struct Pairs {
    stock: BTreeMap<usize, f64>,
    chain: BTreeMap<usize, f64>,
}

/// The position of `name` in `names`, added at the end if new.
fn index<'a>(names: &mut Vec<&'a str>, name: &'a str) -> usize {
    names.iter().position(|n| *n == name).unwrap_or_else(|| {
        names.push(name);
        names.len() - 1
    })
}

/// Summarizes the runs: clean pairs only where an example and worker count has any.
fn summarize(runs: &[Run], cli: &Cli) -> (Vec<Summary>, Meta) {
    let mut order: Vec<&str> = examples().map(|e| e[0]).collect();
    let mut metrics: Vec<&str> = Vec::new();
    let mut series: BTreeMap<(usize, usize, usize), Pairs> = BTreeMap::new();
    let mut checksums: BTreeMap<(&str, usize), BTreeSet<&str>> = BTreeMap::new();
    let (mut features, mut reps, mut busy) = (BTreeSet::new(), BTreeSet::new(), Vec::new());
    let mut others: BTreeMap<(&str, usize, usize), f64> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        let number = || {
            let bad = || format!("row {}: bad value {:?}", i + 2, r.value);
            r.value.parse::<f64>().unwrap_or_else(|_| fail(bad()))
        };
        reps.insert(r.rep);
        match r.key.as_str() {
            "checksum" => {
                _ = checksums
                    .entry((&r.example, r.workers))
                    .or_default()
                    .insert(&r.value)
            }
            "chain-feature" => _ = features.insert(r.value.as_str()),
            "medium" => {}
            "busy" => busy.push(number()),
            "others" => {
                let o = others.entry((&r.example, r.workers, r.rep)).or_insert(0.0);
                *o = o.max(number());
            }
            metric => {
                let ex = index(&mut order, r.example.as_str());
                let m = index(&mut metrics, metric);
                let pairs = series.entry((ex, r.workers, m)).or_default();
                match r.mode.as_str() {
                    "stock" => pairs.stock.insert(r.rep, number()),
                    "chain" => pairs.chain.insert(r.rep, number()),
                    other => fail(format!("row {}: unknown mode {other:?}", i + 2)),
                };
            }
        }
    }
    let agree = |ex: &str, w| match checksums.get(&(ex, w)).map(|s| s.len()) {
        Some(1) => "agree",
        Some(_) => "MISMATCH",
        None => "-",
    };
    let mut rows = Vec::new();
    for ((ex, w, m), pairs) in &series {
        let all: BTreeSet<usize> = series
            .iter()
            .filter(|((e, x, _), _)| (e, x) == (ex, w))
            .flat_map(|(_, p)| p.stock.keys().chain(p.chain.keys()).copied())
            .collect();
        let is_clean = |rep: &usize| {
            others
                .get(&(order[*ex], *w, *rep))
                .is_none_or(|o| *o <= cli.clean)
        };
        let clean: BTreeSet<usize> = all.iter().copied().filter(is_clean).collect();
        let used = if clean.is_empty() { &all } else { &clean };
        let pick = |v: &BTreeMap<usize, f64>| {
            v.iter()
                .filter(|(r, _)| used.contains(r))
                .map(|(_, x)| *x)
                .collect()
        };
        let ratios = pairs.stock.iter().filter(|(r, _)| used.contains(r));
        let ratios = ratios.filter_map(|(r, s)| pairs.chain.get(r).map(|c| c / s));
        rows.push(Summary {
            example: order[*ex].to_string(),
            workers: *w,
            metric: metrics[*m].to_string(),
            stock: median(pick(&pairs.stock)).unwrap_or(f64::NAN),
            chain: median(pick(&pairs.chain)).unwrap_or(f64::NAN),
            ratio: median(ratios.filter(|r| r.is_finite()).collect()).unwrap_or(f64::NAN),
            checksums: agree(order[*ex], *w).to_string(),
            pairs_used: used.len(),
            pairs_run: all.len(),
            clean: !clean.is_empty(),
        });
    }
    let mismatches = checksums.iter().filter(|(_, s)| s.len() > 1);
    let mismatches = mismatches.map(|((ex, w), s)| {
        format!(
            "{ex} w={w}: {}",
            Vec::from_iter(s.iter().copied()).join(" ")
        )
    });
    let feature = match (features.contains("on"), features.contains("off")) {
        (true, false) => "on: TIMELY_PROGRESS_MEDIUM selected the medium of each run",
        (false, true) => {
            "OFF: timely was built without chain-progress, so both columns ran stock timely"
        }
        (true, true) => "MIXED between runs (the results are not comparable)",
        (false, false) => "unknown",
    };
    let meta = Meta {
        command: cli.command.clone(),
        date: cli.date.clone(),
        commit: cli.commit.clone(),
        machine: cli.machine.clone(),
        feature: feature.to_string(),
        reps: reps.len(),
        clean: cli.clean,
        busy_median: median(busy.clone()),
        busy_max: busy.iter().copied().reduce(f64::max),
        mismatches: mismatches.collect::<Vec<_>>().join("; "),
    };
    (rows, meta)
}

/// The results tables, one an example, in the order of the rows.
fn tables(rows: &[Summary]) -> String {
    let mut s = String::new();
    let mut names: Vec<&str> = rows.iter().map(|r| r.example.as_str()).collect();
    names.dedup();
    for name in names {
        let what = examples().find(|e| e[0] == name).map_or("", |e| e[1]);
        let body = rows.iter().filter(|r| r.example == name).map(|r| {
            let better = if HIGHER_IS_BETTER.contains(&r.metric.as_str()) {
                " (higher is better)"
            } else {
                ""
            };
            let pairs = match r.clean {
                true => format!("{} of {} clean", r.pairs_used, r.pairs_run),
                false => format!("all {} (none clean)", r.pairs_run),
            };
            let f = |v| Figures::ALIGNED.format(v);
            let (w, m, ratio) = (
                r.workers.to_string(),
                format!("{}{better}", r.metric),
                format!("{:.3}", r.ratio),
            );
            vec![
                w,
                m,
                f(r.stock),
                f(r.chain),
                ratio,
                r.checksums.clone(),
                pairs,
            ]
        });
        let header = "workers | metric | stock (median) | chain (median) | ratio chain/stock | checksums | pairs";
        let _ = write!(
            s,
            "\n### {name}: {what}\n\n{}",
            markdown_table(header, "rlrrrll", body)
        );
    }
    s
}

/// One panel an example present: its headline metric's median against the worker count.
fn plot(path: &Path, rows: &[Summary], meta: &Meta) -> Result<(), String> {
    let present = examples().filter(|e| rows.iter().any(|r| r.example == e[0]));
    let panels: Vec<Panel> = present
        .map(|[name, what, metric, axis]| {
            let of = |r: &&Summary| r.example == name && r.metric == metric;
            let line = |pick: fn(&Summary) -> f64| {
                let points = rows.iter().filter(of).map(|r| (r.workers as f64, pick(r)));
                points.filter(|p| p.1.is_finite()).collect()
            };
            let series = vec![
                ("stock".into(), line(|r| r.stock)),
                ("chain".into(), line(|r| r.chain)),
            ];
            Panel {
                title: format!("{name}: {what}"),
                x_label: "workers".into(),
                y_label: axis.into(),
                series,
            }
        })
        .collect();
    let machine = meta.machine.split(';').next().unwrap_or_default();
    let title = format!("stock timely (blue) vs chain (red): medians (log scale), {machine}");
    svg_panels(
        path,
        (1200, 430 * panels.len().div_ceil(2) as u32),
        Some(&title),
        &panels,
    )
}

/// The stall examples' figures against the stall length: recovery time and updates folded on
/// return, a line a medium and worker count. `None` when no stall example ran.
fn stall_plot(path: &Path, rows: &[Summary]) -> Option<Result<(), String>> {
    let length = |metric: &str, what: &str| {
        metric
            .strip_prefix('d')?
            .strip_suffix(what)?
            .parse::<f64>()
            .ok()
    };
    let mut panels = Vec::new();
    for (example, mode) in [("stall", "demand"), ("stall-eager", "eager")] {
        for (what, axis) in [
            ("_recovery_ms", "recovery (ms)"),
            ("_updates", "updates folded on return"),
        ] {
            let mut series = BTreeMap::<String, Vec<(f64, f64)>>::new();
            for r in rows.iter().filter(|r| r.example == example) {
                let Some(d) = length(&r.metric, what) else {
                    continue;
                };
                for (medium, v) in [("stock", r.stock), ("chain", r.chain)] {
                    series
                        .entry(format!("{medium} w={}", r.workers))
                        .or_default()
                        .push((d, v));
                }
            }
            let title = format!("{example} ({mode} progress): {axis}");
            panels.push(Panel {
                title,
                x_label: "stall (ms)".into(),
                y_label: axis.into(),
                series: series.into_iter().collect(),
            });
        }
    }
    panels.retain(|p| !p.series.is_empty());
    (!panels.is_empty()).then(|| {
        svg_panels(
            path,
            (1200, 430 * panels.len().div_ceil(2) as u32),
            None,
            &panels,
        )
    })
}

fn main() {
    let cli = Cli::parse();
    let summary_csv = cli
        .csv
        .clone()
        .unwrap_or_else(|| cli.markdown.with_extension("csv"));
    let (rows, meta) = match (&cli.raw, &cli.from_csv) {
        (Some(raw), _) => {
            let (rows, meta) = summarize(&read_rows::<Run>(raw).unwrap_or_else(|e| fail(e)), &cli);
            write_rows(&summary_csv, &rows).unwrap_or_else(|e| fail(e));
            write_rows(&meta_path(&summary_csv), &[&meta]).unwrap_or_else(|e| fail(e));
            (rows, meta)
        }
        (None, Some(csv)) => {
            let rows = read_rows::<Summary>(csv).unwrap_or_else(|e| fail(e));
            let meta = read_rows::<Meta>(&meta_path(csv))
                .unwrap_or_else(|e| fail(e))
                .pop();
            (
                rows,
                meta.unwrap_or_else(|| fail(format!("{}: no row", meta_path(csv).display()))),
            )
        }
        (None, None) => unreachable!("clap requires --raw or --from-csv"),
    };
    if rows.is_empty() {
        fail("no measurements to report");
    }
    let results = tables(&rows);
    print!("{}", results.trim_start());
    let stall_svg = cli.svg.with_file_name("stall.svg");
    let stall = stall_plot(&stall_svg, &rows)
        .and_then(|r| r.inspect_err(|e| eprintln!("warning: {e}")).ok());
    let plotted = plot(&cli.svg, &rows, &meta)
        .inspect_err(|e| eprintln!("warning: could not draw the plot: {e}"));

    let busy = meta.busy_median.zip(meta.busy_max).map(|(median, max)| {
        format!("CPU busy (all processes) in the 0.3 s before each stock/chain pair: median {median:.0}%, max {max:.0}%; a busy machine deschedules spinning workers and inflates every figure")
    });
    if let Some(busy) = &busy {
        println!("{busy}");
    }
    let file = cli.svg.file_name().unwrap_or_default().to_string_lossy();
    let md = fill(TEMPLATE.trim_end(), |name| {
        let unless_empty = |pre: &str, v: &str| {
            if v.is_empty() {
                String::new()
            } else {
                format!("{pre}{v}")
            }
        };
        Some(match name {
            "command" => meta.command.clone(),
            "machine" => meta.machine.clone(),
            "feature" => meta.feature.clone(),
            "date" => unless_empty(" on ", &meta.date),
            "commit" => unless_empty(" at commit ", &meta.commit),
            "reps" => meta.reps.to_string(),
            "clean" => meta.clean.to_string(),
            "busy" => busy.as_ref().map_or(String::new(), |b| format!("- {b}.\n")),
            "mismatches" => {
                unless_empty("\n**Checksum mismatches:** ", &meta.mismatches)
                    + if meta.mismatches.is_empty() { "" } else { "\n" }
            }
            "results" => results.clone(),
            "plot" => {
                let main = plotted.as_ref().map_or(String::new(), |_| {
                    format!("\n## Plot\n\n![stock vs chain]({file})\n\n")
                });
                let stall = stall.map_or(String::new(), |_| {
                    "![recovery after a stall, against its length](stall.svg)\n\n".into()
                });
                main + &stall
            }
            _ => return None,
        })
    })
    .unwrap_or_else(|e| fail(e));
    report::write_keeping_notes(&cli.markdown, &md).unwrap_or_else(|e| fail(e));

    if !meta.mismatches.is_empty() {
        eprintln!("error: checksums disagree: {}", meta.mismatches);
        std::process::exit(1);
    }
    // The last line: the barrier ratio at the chosen worker count.
    let barrier = rows.iter().find(|r| {
        (&*r.example, r.workers, &*r.metric) == ("barrier", cli.ratio_workers, "us_per_round")
    });
    let ratio = barrier.map(|r| r.ratio).filter(|r| r.is_finite());
    let ratio = ratio.map_or_else(|| "n/a".to_string(), |r| format!("{r:.3}"));
    println!("ratio chain/stock barrier w={}: {ratio}", cli.ratio_workers);
}

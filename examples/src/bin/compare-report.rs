//! `compare-report`: the stock-vs-chain comparison's medians, paired ratios, checksum check,
//! markdown report and plot.
//!
//! `--raw RUNS.csv` reads what `scripts/compare` collected ([`Run`]: one row a reported value),
//! summarizes it into one row an example, worker count and metric ([`Summary`]), and writes
//! that summary (the markdown's path with `.csv`) and its run description ([`Meta`]) beside it;
//! `--from-csv SUMMARY.csv` rebuilds the report from those two files alone. Exits with status 1
//! (after writing the report) when two runs of the same example and worker count disagree on
//! their checksum.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::Parser;
use examples::fail;
use itertools::{iproduct, Itertools};
use report::{fill, markdown_table, median, meta_path, read_rows, read_with_meta, svg_panels};
use report::{write_keeping_notes, write_rows, Figures, Panel};
use serde::{Deserialize, Serialize};

/// Summarize a stock-vs-chain comparison.
#[derive(Parser, Debug)]
#[command(name = "compare-report")]
struct Cli {
    /// The raw measurements (CSV, one row a reported value).
    #[arg(long, required_unless_present = "from_csv")]
    raw: Option<PathBuf>,
    /// Rebuild the report from this summary CSV (and the run description beside it).
    #[arg(long, conflicts_with = "raw")]
    from_csv: Option<PathBuf>,
    /// The markdown report (notes after its marker kept); from `--raw`, the summary beside it.
    #[arg(long)]
    markdown: PathBuf,
    /// The SVG plot.
    #[arg(long)]
    svg: PathBuf,
    /// The machine the runs were made on.
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
    /// Most CPU % other processes may use in each run of a clean pair (medians use clean pairs).
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
    let fields = |line: &'static str| line.split(" | ").collect_array().expect("four fields");
    EXAMPLES.lines().map(fields)
}

/// The keys of raw rows that are not metrics.
const NOT_METRICS: [&str; 5] = ["checksum", "chain-feature", "medium", "busy", "others"];

/// One reported value of one run, as `scripts/compare` collects it.
#[derive(Debug, Deserialize)]
struct Run {
    example: String,
    workers: usize,
    mode: String,
    rep: usize,
    /// A metric, or one of [`NOT_METRICS`].
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

/// Values by repetition.
type Reps = BTreeMap<usize, f64>;

/// Summarizes the runs in `raw`, clean pairs only where an example and worker count has any,
/// and writes the summary and its run description beside the markdown.
fn summarize(raw: &Path, cli: &Cli) -> Result<(Vec<Summary>, Meta), String> {
    let runs = read_rows::<Run>(raw)?;
    let number = |i: usize, r: &Run| {
        let bad = || format!("row {}: bad value {:?}", i + 2, r.value);
        r.value.parse::<f64>().map_err(|_| bad())
    };
    let keyed = |key| runs.iter().enumerate().filter(move |(_, r)| r.key == key);
    let measured = runs.iter().enumerate();
    let measured = measured.filter(|(_, r)| !NOT_METRICS.contains(&&*r.key));
    let mut checksums = BTreeMap::<_, BTreeSet<_>>::new();
    for (_, r) in keyed("checksum") {
        let pair = (&*r.example, r.workers);
        checksums.entry(pair).or_default().insert(&*r.value);
    }
    // The most CPU time other processes took during a run of a pair.
    let mut others = BTreeMap::new();
    for (i, r) in keyed("others") {
        let o = others.entry((&*r.example, r.workers, r.rep)).or_insert(0.0);
        *o = number(i, r)?.max(*o);
    }
    // Examples in the order of EXAMPLES, then as they come; metrics as they come.
    let known = examples().map(|e| e[0]);
    let order = known.chain(measured.clone().map(|(_, r)| &*r.example));
    let order = order.unique().collect_vec();
    let metrics = measured.clone().map(|(_, r)| &*r.key);
    let metrics = metrics.unique().collect_vec();
    let rank = |names: &[&str], name| names.iter().position(|n| *n == name).unwrap_or_default();
    // Values by repetition, stock and chain, by (example, workers, metric); the repetitions
    // of each example and worker count.
    let mut series = BTreeMap::<_, [Reps; 2]>::new();
    let mut reps = BTreeMap::<_, BTreeSet<_>>::new();
    for (i, r) in measured {
        let Some(mode) = ["stock", "chain"].iter().position(|m| *m == r.mode) else {
            return Err(format!("row {}: unknown mode {:?}", i + 2, r.mode));
        };
        let at = (rank(&order, &r.example), r.workers, rank(&metrics, &r.key));
        series.entry(at).or_default()[mode].insert(r.rep, number(i, r)?);
        reps.entry((at.0, at.1)).or_default().insert(r.rep);
    }
    let row = |(&(ex, w, m), [stock, chain]): (&(usize, usize, usize), &[Reps; 2])| {
        let all = &reps[&(ex, w)];
        let others = |rep: &usize| others.get(&(order[ex], w, *rep));
        let is_clean = |rep: &&usize| others(rep).is_none_or(|o| *o <= cli.clean);
        let clean: BTreeSet<usize> = all.iter().filter(is_clean).copied().collect();
        let used = if clean.is_empty() { all } else { &clean };
        let ratio = |r| Some(chain.get(r)? / stock.get(r)?);
        let ratios = used.iter().filter_map(ratio);
        let median = |v: Vec<f64>| median(v).unwrap_or(f64::NAN);
        let values = |v: &Reps| median(used.iter().filter_map(|r| v.get(r).copied()).collect());
        // How many different checksums the pair's runs reported: `-` for none.
        let sums = checksums.get(&(order[ex], w)).map_or(0, |s| s.len().min(2));
        let checksums = ["-", "agree", "MISMATCH"][sums];
        Summary {
            example: order[ex].to_string(),
            workers: w,
            metric: metrics[m].to_string(),
            stock: values(stock),
            chain: values(chain),
            ratio: median(ratios.filter(|r| r.is_finite()).collect()),
            checksums: checksums.into(),
            pairs_used: used.len(),
            pairs_run: all.len(),
            clean: !clean.is_empty(),
        }
    };
    let mismatches = checksums.iter().filter(|(_, s)| s.len() > 1);
    let mut mismatches =
        mismatches.map(|((ex, w), s)| format!("{ex} w={w}: {}", s.iter().join(" ")));
    let features: BTreeSet<_> = keyed("chain-feature").map(|(_, r)| &*r.value).collect();
    let feature = match (features.contains("on"), features.contains("off")) {
        (true, false) => "on: TIMELY_PROGRESS_MEDIUM selected the medium of each run",
        (false, true) => "OFF: timely built without chain-progress; both columns ran stock timely",
        (true, true) => "MIXED between runs (the results are not comparable)",
        (false, false) => "unknown",
    };
    let busy: Vec<f64> = keyed("busy").map(|(i, r)| number(i, r)).try_collect()?;
    let meta = Meta {
        command: cli.command.clone(),
        date: cli.date.clone(),
        commit: cli.commit.clone(),
        machine: cli.machine.clone(),
        feature: feature.to_string(),
        reps: runs.iter().map(|r| r.rep).unique().count(),
        clean: cli.clean,
        busy_median: median(busy.clone()),
        busy_max: busy.into_iter().reduce(f64::max),
        mismatches: mismatches.join("; "),
    };
    let rows = series.iter().map(row).collect_vec();
    let csv = cli.markdown.with_extension("csv");
    write_rows(&csv, &rows)?;
    write_rows(&meta_path(&csv), &[&meta])?;
    Ok((rows, meta))
}

/// The results tables, one an example, in the order of the rows.
fn tables(rows: &[Summary]) -> String {
    let header = "workers | metric | stock (median) | chain (median) | ratio chain/stock | checksums | pairs";
    let row = |r: &Summary| {
        // For rounds per second, a larger value is better (a ratio above 1 favours the chain).
        let better = (r.metric == "rounds_per_s").then_some(" (higher is better)");
        let pairs = match r.clean {
            true => format!("{} of {} clean", r.pairs_used, r.pairs_run),
            false => format!("all {} (none clean)", r.pairs_run),
        };
        let metric = r.metric.clone() + better.unwrap_or_default();
        let f = |v| Figures::Aligned.format(v);
        let (stock, chain, ratio) = (f(r.stock), f(r.chain), format!("{:.3}", r.ratio));
        let (w, sums) = (r.workers.to_string(), r.checksums.clone());
        vec![w, metric, stock, chain, ratio, sums, pairs]
    };
    let table = |rows: &[Summary]| {
        let name = &rows[0].example;
        let what = examples().find(|e| e[0] == name).map_or("", |e| e[1]);
        let table = markdown_table(header, "rlrrrll", rows.iter().map(row));
        format!("\n### {name}: {what}\n\n{table}")
    };
    let examples = rows.chunk_by(|a, b| a.example == b.example);
    examples.map(table).collect()
}

/// One panel an example present: its headline metric's median against the worker count.
fn panels(rows: &[Summary]) -> Vec<Panel> {
    let present = examples().filter(|e| rows.iter().any(|r| r.example == e[0]));
    let panel = |[name, what, metric, axis]: [&str; 4]| {
        let of = |r: &&Summary| r.example == name && r.metric == metric;
        let line = |medium: &str, pick: fn(&Summary) -> f64| {
            let points = rows.iter().filter(of).map(|r| (r.workers as f64, pick(r)));
            (medium.into(), points.filter(|p| p.1.is_finite()).collect())
        };
        let series = vec![line("stock", |r| r.stock), line("chain", |r| r.chain)];
        let title = format!("{name}: {what}");
        (title, "workers".into(), axis.into(), series)
    };
    present.map(panel).collect()
}

/// The stall examples' figures against the stall length: recovery time and updates folded on
/// return, a line a medium and worker count; none when no stall example ran.
fn stall_panels(rows: &[Summary]) -> Vec<Panel> {
    let kinds = [
        ("_recovery_ms", "recovery (ms)"),
        ("_updates", "updates folded on return"),
    ];
    let all = iproduct!([("stall", "demand"), ("stall-eager", "eager")], kinds);
    let panels = all.map(|((example, mode), (what, axis))| {
        // The stall length of metrics `d{ms}{what}`.
        let length = |r: &Summary| r.metric.strip_prefix('d')?.strip_suffix(what)?.parse().ok();
        let mut series = BTreeMap::<String, Vec<(f64, f64)>>::new();
        for r in rows.iter().filter(|r| r.example == example) {
            let Some(d) = length(r) else { continue };
            for (medium, v) in [("stock", r.stock), ("chain", r.chain)] {
                let line = series.entry(format!("{medium} w={}", r.workers));
                line.or_default().push((d, v));
            }
        }
        let title = format!("{example} ({mode} progress): {axis}");
        let series = series.into_iter().collect_vec();
        (title, "stall (ms)".into(), axis.into(), series)
    });
    panels.filter(|p| !p.3.is_empty()).collect()
}

fn main() {
    let cli = Cli::parse();
    let from_csv = || read_with_meta(cli.from_csv.as_deref().expect("clap requires one"));
    let read = cli.raw.as_deref().map(|raw| summarize(raw, &cli));
    let (rows, meta) = read.unwrap_or_else(from_csv).unwrap_or_else(|e| fail(e));
    if rows.is_empty() {
        fail("no measurements to report");
    }
    let results = tables(&rows);
    print!("{}", results.trim_start());
    // Draws `panels` into `file` beside the SVG; the file's name if drawn (none with no panels).
    let svg = |file: &str, title: Option<&str>, panels: Vec<Panel>| {
        let path = cli.svg.with_file_name(file);
        let drawn = (!panels.is_empty()).then(|| svg_panels(&path, (1200, 430), title, &panels));
        let warn = |e| eprintln!("warning: could not draw {file}: {e}");
        drawn?.map_err(warn).ok().map(|()| file.to_string())
    };
    let machine = meta.machine.split(';').next().unwrap_or_default();
    let title = format!("stock timely (blue) vs chain (red): medians (log scale), {machine}");
    let file = cli.svg.file_name().unwrap_or_default().to_string_lossy();
    let plotted = svg(&file, Some(&title), panels(&rows));
    let stall = svg("stall.svg", None, stall_panels(&rows));
    let busy = meta.busy_median.zip(meta.busy_max).map(|(median, max)| {
        format!("CPU busy (all processes) in the 0.3 s before each stock/chain pair: median {median:.0}%, max {max:.0}%; a busy machine deschedules spinning workers and inflates every figure")
    });
    busy.iter().for_each(|b| println!("{b}"));
    let md = fill(TEMPLATE.trim_end(), |name| {
        Some(match name {
            "command" => meta.command.clone(),
            "machine" => meta.machine.clone(),
            "feature" => meta.feature.clone(),
            "date" => meta.date.clone(),
            "commit" => meta.commit.clone(),
            "reps" => meta.reps.to_string(),
            "clean" => meta.clean.to_string(),
            "busy" => busy.clone().unwrap_or_default(),
            "mismatches" => meta.mismatches.clone(),
            "results" => results.clone(),
            "plot" => plotted.clone().unwrap_or_default(),
            "stall" => stall.clone().unwrap_or_default(),
            _ => return None,
        })
    });
    md.and_then(|md| write_keeping_notes(&cli.markdown, &md))
        .unwrap_or_else(|e| fail(e));
    if !meta.mismatches.is_empty() {
        eprintln!("error: checksums disagree: {}", meta.mismatches);
        std::process::exit(1);
    }
    // The last line: the barrier ratio at the chosen worker count.
    let w = cli.ratio_workers;
    let barrier = ("barrier", w, "us_per_round");
    let barrier = |r: &&Summary| (&*r.example, r.workers, &*r.metric) == barrier;
    let ratio = rows.iter().find(|r| barrier(r) && r.ratio.is_finite());
    let ratio = ratio.map_or("n/a".into(), |r| format!("{:.3}", r.ratio));
    println!("ratio chain/stock barrier w={w}: {ratio}");
}

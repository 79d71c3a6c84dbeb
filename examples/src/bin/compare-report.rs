//! Turns the raw measurements `scripts/compare` collected into a table of medians with
//! chain/stock ratios (printed, and written as markdown) and an SVG plot.
//!
//! The raw file has one tab-separated line per reported value:
//! `example workers mode rep key value`, where `key` is a metric name, `checksum`,
//! `chain-feature` or `medium`. Exits with status 1 (after writing the report) when two runs of
//! the same example and worker count disagree on their checksum.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Parser;
use plotters::prelude::*;

use examples::{fail, percentile};

/// Summarize a stock-vs-chain comparison.
#[derive(Parser, Debug)]
#[command(name = "compare-report")]
struct Cli {
    /// The raw measurements (tab-separated).
    #[arg(long)]
    raw: PathBuf,
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

const NOTES_MARKER: &str =
    "<!-- notes: everything below this line is kept when the report is regenerated -->";

/// What each example measures and the metric its plot panel shows.
/// Each entry: name, description, plotted metric, the plot's y-axis title.
const EXAMPLES: &[(&str, &str, &str, &str)] = &[
    (
        "barrier",
        "pure progress round-trip (a barrier per round)",
        "us_per_round",
        "µs per round",
    ),
    (
        "openloop",
        "open-loop latency, fixed release rate",
        "p99_us",
        "p99 latency (µs)",
    ),
    (
        "reach",
        "differential BFS under edge changes (one nested scope)",
        "round_p50_us",
        "median round (µs)",
    ),
    (
        "scc",
        "differential SCC under edge changes (two nested scopes)",
        "round_p50_us",
        "median round (µs)",
    ),
];

/// Metrics for which a larger value is better (their ratio above 1 favours the chain).
const HIGHER_IS_BETTER: &[&str] = &["rounds_per_s"];

#[derive(Default)]
struct Series {
    /// Values by repetition.
    stock: BTreeMap<usize, f64>,
    chain: BTreeMap<usize, f64>,
}

impl Series {
    fn median(values: &BTreeMap<usize, f64>) -> f64 {
        let mut v: Vec<f64> = values.values().copied().collect();
        v.sort_by(f64::total_cmp);
        median_of_sorted(&v)
    }

    /// Median over repetitions of chain/stock for the pairs that ran back to back.
    fn ratio(&self) -> f64 {
        let mut ratios: Vec<f64> = self
            .stock
            .iter()
            .filter_map(|(rep, s)| self.chain.get(rep).map(|c| c / s))
            .filter(|r| r.is_finite())
            .collect();
        ratios.sort_by(f64::total_cmp);
        median_of_sorted(&ratios)
    }
}

fn median_of_sorted(v: &[f64]) -> f64 {
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[derive(Default)]
struct Data {
    /// (example, metric) -> workers -> series, metrics in order of first appearance.
    metrics: BTreeMap<(usize, usize), BTreeMap<usize, Series>>,
    metric_names: Vec<String>,
    example_names: Vec<String>,
    /// (example, workers) -> distinct checksums seen.
    checksums: BTreeMap<(usize, usize), BTreeSet<String>>,
    features: BTreeSet<String>,
    reps: BTreeSet<usize>,
    /// Percent of CPU time busy just before each pair (one value per run).
    busy: Vec<f64>,
    /// (example, workers, rep) -> the larger share of CPU time that other processes used
    /// during the pair's two runs.
    others: BTreeMap<(usize, usize, usize), f64>,
    /// (example, workers) -> (pairs used, pairs run, whether the used ones are clean).
    pairs: BTreeMap<(usize, usize), (usize, usize, bool)>,
}

impl Data {
    /// Keeps, for each example and worker count, only the clean pairs (if there are any).
    fn keep_clean(&mut self, threshold: f64) {
        let mut reps_of: BTreeMap<(usize, usize), BTreeSet<usize>> = BTreeMap::new();
        for ((ex, _), by_w) in self.metrics.iter() {
            for (w, series) in by_w {
                let reps = reps_of.entry((*ex, *w)).or_default();
                reps.extend(series.stock.keys().chain(series.chain.keys()).copied());
            }
        }
        for ((ex, w), reps) in reps_of {
            let clean: BTreeSet<usize> = reps
                .iter()
                .copied()
                .filter(|rep| {
                    self.others
                        .get(&(ex, w, *rep))
                        .is_none_or(|o| *o <= threshold)
                })
                .collect();
            if clean.is_empty() {
                self.pairs.insert((ex, w), (reps.len(), reps.len(), false));
                continue;
            }
            self.pairs.insert((ex, w), (clean.len(), reps.len(), true));
            for ((e, _), by_w) in self.metrics.iter_mut() {
                if *e != ex {
                    continue;
                }
                if let Some(series) = by_w.get_mut(&w) {
                    series.stock.retain(|rep, _| clean.contains(rep));
                    series.chain.retain(|rep, _| clean.contains(rep));
                }
            }
        }
    }

    /// "3 of 5 clean", or "all 5 (none clean)".
    fn pairs_used(&self, ex: usize, w: usize) -> String {
        match self.pairs.get(&(ex, w)) {
            Some((used, total, true)) => format!("{used} of {total} clean"),
            Some((_, total, false)) => format!("all {total} (none clean)"),
            None => "-".to_string(),
        }
    }
}

fn intern(names: &mut Vec<String>, name: &str) -> usize {
    match names.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            names.push(name.to_string());
            names.len() - 1
        }
    }
}

fn parse(text: &str) -> Data {
    let mut data = Data::default();
    for &(name, _, _, _) in EXAMPLES {
        intern(&mut data.example_names, name);
    }
    for (lineno, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [example, workers, mode, rep, key, value] = fields[..] else {
            fail(format!(
                "raw line {}: expected 6 tab-separated fields: {line:?}",
                lineno + 1
            ));
        };
        let workers: usize = workers.parse().unwrap_or_else(|_| {
            fail(format!(
                "raw line {}: bad worker count {workers:?}",
                lineno + 1
            ))
        });
        let rep: usize = rep
            .parse()
            .unwrap_or_else(|_| fail(format!("raw line {}: bad repetition {rep:?}", lineno + 1)));
        let ex = intern(&mut data.example_names, example);
        data.reps.insert(rep);
        match key {
            "checksum" => {
                data.checksums
                    .entry((ex, workers))
                    .or_default()
                    .insert(value.to_string());
            }
            "chain-feature" => {
                data.features.insert(value.to_string());
            }
            "medium" => {}
            "others" => {
                let others: f64 = value.parse().unwrap_or_else(|_| {
                    fail(format!("raw line {}: bad share {value:?}", lineno + 1))
                });
                let entry = data.others.entry((ex, workers, rep)).or_insert(0.0);
                *entry = entry.max(others);
            }
            "busy" => {
                let busy: f64 = value.parse().unwrap_or_else(|_| {
                    fail(format!("raw line {}: bad busy share {value:?}", lineno + 1))
                });
                data.busy.push(busy);
            }
            metric => {
                let value: f64 = value.parse().unwrap_or_else(|_| {
                    fail(format!("raw line {}: bad value {value:?}", lineno + 1))
                });
                let m = intern(&mut data.metric_names, metric);
                let series = data
                    .metrics
                    .entry((ex, m))
                    .or_default()
                    .entry(workers)
                    .or_default();
                match mode {
                    "stock" => series.stock.insert(rep, value),
                    "chain" => series.chain.insert(rep, value),
                    other => fail(format!("raw line {}: unknown mode {other:?}", lineno + 1)),
                };
            }
        }
    }
    data
}

fn fmt_value(x: f64) -> String {
    if x.is_nan() {
        "-".to_string()
    } else if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

fn main() {
    let cli = Cli::parse();
    let text = std::fs::read_to_string(&cli.raw)
        .unwrap_or_else(|e| fail(format!("cannot read {}: {e}", cli.raw.display())));
    let mut data = parse(&text);
    data.keep_clean(cli.clean);
    if data.metrics.is_empty() {
        fail(format!("{} holds no measurements", cli.raw.display()));
    }

    // Checksums: every run of one example at one worker count must agree.
    let mismatches: Vec<String> = data
        .checksums
        .iter()
        .filter(|(_, set)| set.len() > 1)
        .map(|((ex, w), set)| {
            format!(
                "{} w={w}: {}",
                data.example_names[*ex],
                set.iter().cloned().collect::<Vec<_>>().join(" ")
            )
        })
        .collect();
    let checks = |ex: usize, w: usize| match data.checksums.get(&(ex, w)) {
        Some(set) if set.len() == 1 => "agree",
        Some(_) => "MISMATCH",
        None => "-",
    };

    // The table, as aligned text and as markdown.
    let mut console = String::new();
    let mut table_md = String::new();
    writeln!(
        console,
        "{:<9} {:>3}  {:<14} {:>12} {:>12} {:>8}  {:<9} pairs",
        "example", "w", "metric", "stock", "chain", "ratio", "checksums"
    )
    .unwrap();
    for (ex, name) in data.example_names.iter().enumerate() {
        let rows: Vec<_> = data.metrics.iter().filter(|((e, _), _)| *e == ex).collect();
        if rows.is_empty() {
            continue;
        }
        let what = EXAMPLES
            .iter()
            .find(|e| e.0 == name)
            .map(|e| e.1)
            .unwrap_or("");
        writeln!(table_md, "\n### {name}: {what}\n").unwrap();
        writeln!(table_md, "| workers | metric | stock (median) | chain (median) | ratio chain/stock | checksums | pairs |").unwrap();
        writeln!(table_md, "|---:|---|---:|---:|---:|---|---|").unwrap();
        let workers: BTreeSet<usize> = rows
            .iter()
            .flat_map(|(_, by_w)| by_w.keys().copied())
            .collect();
        for w in workers {
            for ((_, m), by_w) in rows.iter() {
                let Some(series) = by_w.get(&w) else { continue };
                let metric = &data.metric_names[*m];
                let (s, c, r) = (
                    Series::median(&series.stock),
                    Series::median(&series.chain),
                    series.ratio(),
                );
                let better = if HIGHER_IS_BETTER.contains(&metric.as_str()) {
                    " (higher is better)"
                } else {
                    ""
                };
                writeln!(
                    console,
                    "{name:<9} {w:>3}  {metric:<14} {:>12} {:>12} {:>8}  {:<9} {}",
                    fmt_value(s),
                    fmt_value(c),
                    format!("{r:.3}"),
                    checks(ex, w),
                    data.pairs_used(ex, w)
                )
                .unwrap();
                writeln!(
                    table_md,
                    "| {w} | {metric}{better} | {} | {} | {r:.3} | {} | {} |",
                    fmt_value(s),
                    fmt_value(c),
                    checks(ex, w),
                    data.pairs_used(ex, w)
                )
                .unwrap();
            }
        }
    }
    print!("{console}");

    // The plot.
    let plot_result = plot(&cli, &data);
    if let Err(e) = &plot_result {
        eprintln!("warning: could not draw the plot: {e}");
    }

    // The markdown report, keeping any notes written below the marker.
    let notes = std::fs::read_to_string(&cli.markdown)
        .ok()
        .and_then(|old| old.split_once(NOTES_MARKER).map(|(_, n)| n.to_string()))
        .unwrap_or_else(|| "\n".to_string());
    let feature = match (data.features.contains("on"), data.features.contains("off")) {
        (true, false) => "on: TIMELY_PROGRESS_MEDIUM selected the medium of each run".to_string(),
        (false, true) => {
            "OFF: timely was built without chain-progress, so both columns ran stock timely"
                .to_string()
        }
        (true, true) => "MIXED between runs (the results are not comparable)".to_string(),
        (false, false) => "unknown".to_string(),
    };
    let mut md = String::new();
    writeln!(md, "# Progress latency: stock timely vs the chain\n").unwrap();
    writeln!(
        md,
        "Generated by `{}`{}{}.\n",
        cli.command,
        if cli.date.is_empty() {
            String::new()
        } else {
            format!(" on {}", cli.date)
        },
        if cli.commit.is_empty() {
            String::new()
        } else {
            format!(" at commit {}", cli.commit)
        }
    )
    .unwrap();
    writeln!(md, "- Machine: {}", cli.machine).unwrap();
    writeln!(md, "- Feature `chain-progress`: {feature}").unwrap();
    writeln!(md, "- Repetitions: {}; in each, every example ran with `TIMELY_PROGRESS_MEDIUM=stock` and then `=chain`, back to back, from the same binary.", data.reps.len()).unwrap();
    writeln!(md, "- stock and chain columns are medians over the repetitions; the ratio is the median over repetitions of chain/stock of the back-to-back pair (below 1: the chain is faster, except where higher is better).").unwrap();
    writeln!(md, "- Pairs: a stock/chain pair is clean when other processes used at most {}% of the machine's CPU time during each of its two runs (measured from /proc/stat minus the run's own CPU time); medians and ratios use the clean pairs where there are any, otherwise all pairs, as the pairs column says.", cli.clean).unwrap();
    writeln!(md, "- Checksums: the digest of each run's output; `agree` means every run of that example at that worker count, both media, gave the same one.").unwrap();
    if !data.busy.is_empty() {
        let mut busy = data.busy.clone();
        busy.sort_by(f64::total_cmp);
        let line = format!(
            "CPU busy (all processes) in the 0.3 s before each stock/chain pair: median {:.0}%, max {:.0}%; \
             a busy machine deschedules spinning workers and inflates every figure",
            median_of_sorted(&busy),
            busy[busy.len() - 1]
        );
        println!("{line}");
        writeln!(md, "- {line}.").unwrap();
    }
    if !mismatches.is_empty() {
        writeln!(md, "\n**Checksum mismatches:** {}", mismatches.join("; ")).unwrap();
    }
    writeln!(md, "\n## Results").unwrap();
    md.push_str(&table_md);
    if plot_result.is_ok() {
        let file = cli
            .svg
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        writeln!(md, "\n## Plot\n\n![stock vs chain]({file})\n").unwrap();
    }
    writeln!(md, "\n{NOTES_MARKER}").unwrap();
    md.push_str(notes.trim_start_matches('\n'));
    if !md.ends_with('\n') {
        md.push('\n');
    }
    std::fs::write(&cli.markdown, md)
        .unwrap_or_else(|e| fail(format!("cannot write {}: {e}", cli.markdown.display())));

    if !mismatches.is_empty() {
        eprintln!("error: checksums disagree: {}", mismatches.join("; "));
        std::process::exit(1);
    }

    // The last line: the barrier ratio at the chosen worker count.
    let barrier = data.example_names.iter().position(|n| n == "barrier");
    let metric = data.metric_names.iter().position(|n| n == "us_per_round");
    let ratio = barrier
        .zip(metric)
        .and_then(|key| data.metrics.get(&key))
        .and_then(|by_w| by_w.get(&cli.ratio_workers))
        .map(|s| s.ratio());
    match ratio {
        Some(r) if r.is_finite() => {
            println!("ratio chain/stock barrier w={}: {r:.3}", cli.ratio_workers)
        }
        _ => println!("ratio chain/stock barrier w={}: n/a", cli.ratio_workers),
    }
}

/// One panel per example: its headline metric's median against the worker count, both media.
fn plot(cli: &Cli, data: &Data) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(&cli.svg, (1200, 860)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(40);
    title.titled(
        &format!(
            "stock timely (blue) vs chain (red): medians (log scale), {}",
            cli.machine.split(';').next().unwrap_or_default()
        ),
        ("sans-serif", 18),
    )?;
    let panels = body.split_evenly((2, 2));
    for (panel, &(name, what, metric, axis)) in panels.iter().zip(EXAMPLES) {
        let key = data
            .example_names
            .iter()
            .position(|n| n == name)
            .zip(data.metric_names.iter().position(|n| n == metric));
        let Some(by_w) = key.and_then(|k| data.metrics.get(&k)) else {
            continue;
        };
        let points = |pick: fn(&Series) -> &BTreeMap<usize, f64>| -> Vec<(f64, f64)> {
            by_w.iter()
                .map(|(w, s)| (*w as f64, Series::median(pick(s))))
                .filter(|(_, y)| y.is_finite())
                .collect()
        };
        let stock = points(|s| &s.stock);
        let chain = points(|s| &s.chain);
        let all: Vec<f64> = stock.iter().chain(chain.iter()).map(|p| p.1).collect();
        let mut sorted = all.clone();
        sorted.sort_by(f64::total_cmp);
        let top = percentile(&sorted, 1.0).max(1e-9) * 1.5;
        let bottom = percentile(&sorted, 0.0).max(1e-9) / 1.5;
        let max_w = by_w.keys().copied().max().unwrap_or(1) as f64;
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{name}: {what}"), ("sans-serif", 15))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.5f64..max_w + 0.5, (bottom..top).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("workers")
            .y_desc(axis)
            .y_label_formatter(&|y| {
                if *y >= 10.0 {
                    format!("{y:.0}")
                } else {
                    format!("{y:.2}")
                }
            })
            .light_line_style(WHITE)
            .x_labels(by_w.len().max(2) + 1)
            .x_label_formatter(&|x| {
                if (x.round() - x).abs() < 1e-6 {
                    format!("{x:.0}")
                } else {
                    String::new()
                }
            })
            .draw()?;
        for (series, color, label) in [(&stock, BLUE, "stock"), (&chain, RED, "chain")] {
            chart
                .draw_series(LineSeries::new(
                    series.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart.draw_series(series.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

//! Result rows, CSV files, plots and the `RESULTS.md` report.
//!
//! A [`Row`] is one metric of one configuration: the median over the repetitions of a
//! run. The quick CSV has the header `medium,scenario,workers,cancel,key,metric,value`;
//! the full CSV adds `sends` after `key` (the backlog scenario sweeps it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use plotters::prelude::*;

use crate::medium::MediumKind;

/// One metric of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Medium name.
    pub medium: String,
    /// Scenario name.
    pub scenario: String,
    /// Worker threads.
    pub workers: usize,
    /// Cancellation fraction.
    pub cancel: f64,
    /// Key name.
    pub key: String,
    /// Total sends.
    pub sends: usize,
    /// Metric name.
    pub metric: String,
    /// Value (median over repetitions).
    pub value: f64,
}

/// Formats a float compactly for CSV and tables.
fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Formats a float for CSV: integers exactly, others to four decimals.
fn csv_num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Writes `rows` as CSV; with `with_sends` the `sends` column follows `key`.
pub fn write_csv(path: &Path, rows: &[Row], with_sends: bool) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    if with_sends {
        writeln!(out, "medium,scenario,workers,cancel,key,sends,metric,value")?;
    } else {
        writeln!(out, "medium,scenario,workers,cancel,key,metric,value")?;
    }
    for r in rows {
        if with_sends {
            writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                r.medium,
                r.scenario,
                r.workers,
                r.cancel,
                r.key,
                r.sends,
                r.metric,
                csv_num(r.value)
            )?;
        } else {
            writeln!(
                out,
                "{},{},{},{},{},{},{}",
                r.medium,
                r.scenario,
                r.workers,
                r.cancel,
                r.key,
                r.metric,
                csv_num(r.value)
            )?;
        }
    }
    out.flush()
}

/// Reads a CSV written by [`write_csv`] with `with_sends = true`.
pub fn read_csv(path: &Path) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let bad = || format!("{}:{}: malformed row {line:?}", path.display(), i + 1);
        if f.len() != 8 {
            return Err(bad());
        }
        rows.push(Row {
            medium: f[0].into(),
            scenario: f[1].into(),
            workers: f[2].parse().map_err(|_| bad())?,
            cancel: f[3].parse().map_err(|_| bad())?,
            key: f[4].into(),
            sends: f[5].parse().map_err(|_| bad())?,
            metric: f[6].into(),
            value: f[7].parse().map_err(|_| bad())?,
        });
    }
    Ok(rows)
}

/// (medium, scenario, workers, cancel in thousandths, key, sends, metric).
type RowKey = (String, String, usize, i64, String, usize, String);

/// Rows indexed for lookup.
#[derive(Debug, Default)]
pub struct Table {
    /// Values by configuration and metric.
    map: BTreeMap<RowKey, f64>,
    /// Worker counts present.
    pub workers: Vec<usize>,
    /// Cancellation fractions present.
    pub cancels: Vec<f64>,
    /// Keys present.
    pub keys: Vec<String>,
    /// Media present, in [`MediumKind::ALL`] order.
    pub media: Vec<String>,
}

/// A cancellation fraction as an exact map key.
fn milli(c: f64) -> i64 {
    (c * 1000.0).round() as i64
}

impl Table {
    /// Indexes `rows`.
    pub fn new(rows: &[Row]) -> Self {
        let mut t = Table::default();
        for r in rows {
            t.map.insert(
                (
                    r.medium.clone(),
                    r.scenario.clone(),
                    r.workers,
                    milli(r.cancel),
                    r.key.clone(),
                    r.sends,
                    r.metric.clone(),
                ),
                r.value,
            );
            if !t.workers.contains(&r.workers) {
                t.workers.push(r.workers);
            }
            if !t.cancels.iter().any(|c| milli(*c) == milli(r.cancel)) {
                t.cancels.push(r.cancel);
            }
            if !t.keys.contains(&r.key) {
                t.keys.push(r.key.clone());
            }
        }
        t.workers.sort_unstable();
        t.cancels.sort_by(|a, b| a.total_cmp(b));
        t.keys
            .sort_by_key(|k| crate::key::KeyKind::parse(k).map_or(usize::MAX, |k| k as usize));
        t.media = MediumKind::ALL
            .iter()
            .map(|m| m.name().to_string())
            .filter(|m| rows.iter().any(|r| &r.medium == m))
            .collect();
        t
    }

    /// Sends values present for a scenario.
    pub fn sends(&self, scenario: &str) -> Vec<usize> {
        let mut s: Vec<usize> = self
            .map
            .keys()
            .filter(|k| k.1 == scenario)
            .map(|k| k.5)
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    /// The largest sends measured for a configuration and metric.
    pub fn max_sends(
        &self,
        medium: &str,
        scenario: &str,
        workers: usize,
        cancel: f64,
        key: &str,
        metric: &str,
    ) -> Option<usize> {
        self.map
            .keys()
            .filter(|k| {
                k.0 == medium
                    && k.1 == scenario
                    && k.2 == workers
                    && k.3 == milli(cancel)
                    && k.4 == key
                    && k.6 == metric
            })
            .map(|k| k.5)
            .max()
    }

    /// One value, if measured. `sends = None` takes the largest sends measured for it.
    #[allow(clippy::too_many_arguments)]
    pub fn get(
        &self,
        medium: &str,
        scenario: &str,
        workers: usize,
        cancel: f64,
        key: &str,
        sends: Option<usize>,
        metric: &str,
    ) -> Option<f64> {
        let sends = match sends {
            Some(s) => s,
            None => self.max_sends(medium, scenario, workers, cancel, key, metric)?,
        };
        self.map
            .get(&(
                medium.into(),
                scenario.into(),
                workers,
                milli(cancel),
                key.into(),
                sends,
                metric.into(),
            ))
            .copied()
    }
}

/// Line colour of a medium in plots.
fn colour(medium: &str) -> RGBColor {
    match medium {
        "chain" => RGBColor(214, 39, 40),
        "mesh" => RGBColor(148, 103, 189),
        "ledger" => RGBColor(44, 160, 44),
        "cells" => RGBColor(255, 127, 14),
        _ => RGBColor(31, 119, 180),
    }
}

/// A series to plot: a name and its points.
pub type Series = (String, Vec<(f64, f64)>);

/// Draws a log-log line plot as SVG (text as `<text>` elements; no fonts needed).
pub fn plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<(), String> {
    // x is drawn on a linear axis of log2(x), so that every measured N (or S) gets a label.
    let series: Vec<Series> = series
        .iter()
        .map(|(n, p)| (n.clone(), p.iter().map(|&(x, y)| (x.log2(), y)).collect()))
        .collect();
    let pts = || series.iter().flat_map(|s| s.1.iter().copied());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in pts() {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return Err(format!("{}: nothing to plot", path.display()));
    }
    let mut ticks: Vec<f64> = pts().map(|p| p.0).collect();
    ticks.sort_by(|a, b| a.total_cmp(b));
    ticks.dedup();
    let (x0, x1) = (x0 - 0.3, x1 + 0.3);
    let (y0, y1) = ((y0 / 2.0).max(1e-3), y1 * 2.0);
    let root = SVGBackend::new(path, (760, 440)).into_drawing_area();
    let e = |e: DrawingAreaErrorKind<_>| format!("{}: {e:?}", path.display());
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels(0)
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(e)?;
    // Our own x ticks: one per measured value.
    for &t in &ticks {
        chart
            .draw_series(std::iter::once(Text::new(
                num(t.exp2().round()),
                (t, y0),
                ("sans-serif", 12).into_font().color(&BLACK),
            )))
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(t, y0), (t, y1)],
                BLACK.mix(0.15),
            )))
            .map_err(e)?;
    }
    for (name, points) in &series {
        let c = colour(name);
        chart
            .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))
            .map_err(e)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// What the report needs besides the rows.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// The command that produced the rows.
    pub command: String,
    /// When the sweep ran (UTC).
    pub date: String,
    /// Wall-clock seconds of the sweep.
    pub seconds: f64,
    /// Repetitions per configuration.
    pub reps: usize,
    /// `lscpu` / `nproc` output.
    pub machine: String,
    /// Fresh updates per batch.
    pub batch: usize,
    /// Runs that failed their answer check (or panicked), with their messages.
    pub failures: Vec<String>,
}

impl Meta {
    /// Cores of the machine that ran the sweep: the `$ nproc` line of [`Meta::machine`], or
    /// this machine's if the description has none.
    pub fn cores(&self) -> usize {
        let mut lines = self.machine.lines();
        lines
            .by_ref()
            .find(|line| line.trim() == "$ nproc")
            .and_then(|_| lines.next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

/// Ratio `a / b` formatted, or a dash.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        (Some(a), Some(b)) if a == b => "1x".into(),
        _ => "-".into(),
    }
}

/// A markdown table of one metric: rows (key, cancel, workers), a column per medium with
/// its value and ratio against MPSC from the same run.
fn metric_table(
    t: &Table,
    scenario: &str,
    metric: &str,
    sends: Option<usize>,
    cancels: &[f64],
) -> String {
    let mut s = String::new();
    let _ = write!(s, "| key | f | N | S |");
    for m in &t.media {
        let _ = write!(s, " {m} |");
    }
    s.push('\n');
    s.push_str(&"|---".repeat(4 + t.media.len()));
    s.push_str("|\n");
    for key in &t.keys {
        for &c in cancels {
            for &n in &t.workers {
                let sv = sends.or_else(|| t.max_sends("mpsc", scenario, n, c, key, metric));
                let base = t.get("mpsc", scenario, n, c, key, sv, metric);
                if t.media
                    .iter()
                    .all(|m| t.get(m, scenario, n, c, key, sends, metric).is_none())
                {
                    continue;
                }
                let _ = write!(
                    s,
                    "| {key} | {c} | {n} | {} |",
                    sv.map(|v| v.to_string()).unwrap_or_default()
                );
                for m in &t.media {
                    let v = t.get(m, scenario, n, c, key, sv, metric);
                    match v {
                        Some(v) if m != "mpsc" => {
                            let _ = write!(s, " {} ({}) |", num(v), ratio(Some(v), base));
                        }
                        Some(v) => {
                            let _ = write!(s, " {} |", num(v));
                        }
                        None => s.push_str(" - |"),
                    }
                }
                s.push('\n');
            }
        }
    }
    s
}

/// Series over workers for one (scenario, cancel, key, metric), one per medium.
fn over_workers(
    t: &Table,
    scenario: &str,
    cancel: f64,
    key: &str,
    metric: &str,
    offset: f64,
) -> Vec<Series> {
    t.media
        .iter()
        .map(|m| {
            let pts = t
                .workers
                .iter()
                .filter_map(|&n| {
                    t.get(m, scenario, n, cancel, key, None, metric)
                        .map(|v| (n as f64, v + offset))
                })
                .collect();
            (m.clone(), pts)
        })
        .collect()
}

/// Draws the report's plots into `dir/plots`; returns (file name, caption) pairs.
fn plots(t: &Table, dir: &Path) -> Result<Vec<(String, String)>, String> {
    let pdir = dir.join("plots");
    std::fs::create_dir_all(&pdir).map_err(|e| format!("{}: {e}", pdir.display()))?;
    let mut out = Vec::new();
    let top = t.cancels.last().copied().unwrap_or(1.0);
    for key in &t.keys {
        let name = format!("keepup-send-{key}.svg");
        plot(
            &pdir.join(&name),
            &format!("keepup: send ns (median), f = {top}, key {key}"),
            "workers N",
            "ns per send",
            &over_workers(t, "keepup", top, key, "send_ns_median", 0.0),
        )?;
        out.push((
            name,
            format!("Keep-up send cost (median ns) against N, f = {top}, key {key}."),
        ));
        let name = format!("keepup-round-{key}.svg");
        plot(
            &pdir.join(&name),
            &format!("keepup: wall ns per round, f = {top}, key {key}"),
            "workers N",
            "ns per round",
            &over_workers(t, "keepup", top, key, "round_ns", 0.0),
        )?;
        out.push((
            name,
            format!("Keep-up wall time per round (every worker sends and receives once), f = {top}, key {key}."),
        ));
    }
    let key = t.keys.first().cloned().unwrap_or_else(|| "u64".into());
    for &c in &t.cancels {
        let name = format!("laggard-updates-f{c}.svg");
        plot(
            &pdir.join(&name),
            &format!("laggard: updates folded at catch-up (+1), f = {c}, key {key}"),
            "workers N",
            "updates folded + 1",
            &over_workers(t, "laggard", c, &key, "laggard_updates_folded", 1.0),
        )?;
        out.push((
            name,
            format!("Updates the laggard folds at its catch-up (plus one, for the log axis), f = {c}, key {key}."),
        ));
    }
    let sends = t.sends("backlog");
    if sends.len() > 1 {
        let n = if t.workers.contains(&2) {
            2
        } else {
            t.workers[0]
        };
        for &c in &t.cancels {
            let series: Vec<Series> = t
                .media
                .iter()
                .map(|m| {
                    let pts = sends
                        .iter()
                        .filter_map(|&s| {
                            t.get(m, "backlog", n, c, &key, Some(s), "backlog_live_bytes")
                                .map(|v| (s as f64, v.max(1.0)))
                        })
                        .collect();
                    (m.clone(), pts)
                })
                .collect();
            let name = format!("backlog-bytes-f{c}.svg");
            plot(
                &pdir.join(&name),
                &format!("backlog: live bytes after S unread sends, N = {n}, f = {c}, key {key}"),
                "sends S",
                "live bytes",
                &series,
            )?;
            out.push((
                name,
                format!("Live bytes after S sends nobody read, N = {n}, f = {c}, key {key}."),
            ));
        }
    }
    Ok(out)
}

/// Writes `dir/RESULTS.md` and `dir/plots/*.svg` from the rows of a full sweep.
pub fn write_report(dir: &Path, rows: &[Row], meta: &Meta) -> Result<(), String> {
    let t = Table::new(rows);
    let figures = plots(&t, dir)?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Benchmark results: chain vs MPSC, mesh, ledger and cells\n"
    );
    let _ = writeln!(
        s,
        "Generated by `{}` on {} in {:.0} s ({} repetitions per configuration; every figure \
         is the median over them, and every ratio is against MPSC measured in the same sweep, \
         with the media interleaved run by run). Every run checks its answer: each reader's \
         folded total must equal the net total it was owed.\n",
        meta.command, meta.date, meta.seconds, meta.reps
    );
    if meta.failures.is_empty() {
        let _ = writeln!(s, "**All runs passed their answer checks.**\n");
    } else {
        let _ = writeln!(
            s,
            "**{} run(s) FAILED their answer check or panicked; their figures are left out of \
             the medians below:**\n",
            meta.failures.len()
        );
        for f in &meta.failures {
            let _ = writeln!(s, "- `{f}`");
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "## Machine and source\n\nThe machine, and the commit the binary was built from (with any \
         uncommitted change to `chain/` or `benches/` listed):\n\n```\n{}\n```\n",
        meta.machine.trim()
    );
    let maxn = t.workers.iter().copied().max().unwrap_or(1);
    let cores = meta.cores();
    if maxn > cores {
        let _ = writeln!(
            s,
            "**This machine has {cores} cores: runs with N > {cores} worker threads \
             oversubscribe it** (N = {maxn} puts {maxn} threads on {cores} cores), so for \
             N > {cores} the figures measure preemption and lock-holder descheduling as much as \
             the media. Read N <= {cores} as the contention-free and contended cases; read \
             larger N only as relative orderings under oversubscription, not as scaling.\n"
        );
    }
    s.push_str(&analysis(&t, meta));
    let _ = writeln!(s, "\n## Plots\n");
    for (f, cap) in &figures {
        let _ = writeln!(s, "![{cap}](plots/{f})\n\n*{cap}*\n");
    }
    let _ = writeln!(s, "## Tables\n");
    let _ = writeln!(
        s,
        "Each cell: the medium's median value and, in parentheses, its ratio to MPSC in the same \
         row (below 1x: fewer ns, updates, nodes or bytes than MPSC). f is the cancellation \
         fraction, N the number of worker threads (each writes and reads).\n"
    );
    let tables: [(&str, &str, &str); 18] = [
        ("keepup", "send_ns_median", "Keep-up: send cost, median ns"),
        ("keepup", "send_ns_p99", "Keep-up: send cost, p99 ns"),
        (
            "keepup",
            "recv_ns_median",
            "Keep-up: receive cost, median ns",
        ),
        (
            "keepup",
            "round_ns",
            "Keep-up: wall ns per round (all workers send and receive once)",
        ),
        (
            "keepup",
            "updates_per_recv",
            "Keep-up: updates folded per receive",
        ),
        ("keepup", "allocs_per_send", "Keep-up: allocations per send"),
        (
            "keepup",
            "allocs_per_recv",
            "Keep-up: allocations per receive",
        ),
        (
            "laggard",
            "laggard_updates_folded",
            "Laggard: updates folded at catch-up",
        ),
        (
            "laggard",
            "laggard_net_updates",
            "Laggard: size of the net change it was owed",
        ),
        (
            "laggard",
            "laggard_atoms_folded",
            "Laggard: atoms (messages, nodes) folded at catch-up",
        ),
        (
            "laggard",
            "laggard_catchup_ns",
            "Laggard: catch-up time, ns",
        ),
        (
            "laggard",
            "laggard_live_bytes",
            "Laggard: live bytes before the catch-up",
        ),
        ("laggard", "send_ns_median", "Laggard: send cost, median ns"),
        ("backlog", "send_ns_median", "Backlog: send cost, median ns"),
        ("backlog", "send_ns_mean", "Backlog: send cost, mean ns"),
        (
            "backlog",
            "backlog_live_nodes",
            "Backlog: live nodes before the catch-up",
        ),
        (
            "backlog",
            "backlog_live_bytes",
            "Backlog: live bytes before the catch-up",
        ),
        (
            "backlog",
            "backlog_catchup_ns",
            "Backlog: catch-up time per reader (median), ns",
        ),
    ];
    for (scenario, metric, title) in tables {
        if t.sends(scenario).is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "### {title}\n\n(`{scenario}`, `{metric}`; S: sends in all, the largest measured)\n"
        );
        s.push_str(&metric_table(&t, scenario, metric, None, &t.cancels));
        s.push('\n');
    }
    let bs = t.sends("backlog");
    if bs.len() > 1 {
        let _ = writeln!(
            s,
            "### Backlog across S (`backlog_live_nodes` / `backlog_live_bytes`)\n"
        );
        let _ = write!(s, "| key | f | N | S |");
        for m in &t.media {
            let _ = write!(s, " {m} nodes | {m} bytes |");
        }
        s.push('\n');
        s.push_str(&"|---".repeat(4 + 2 * t.media.len()));
        s.push_str("|\n");
        for key in &t.keys {
            for &c in &t.cancels {
                for &n in &t.workers {
                    for &sv in &bs {
                        if t.get("mpsc", "backlog", n, c, key, Some(sv), "backlog_live_nodes")
                            .is_none()
                        {
                            continue;
                        }
                        let _ = write!(s, "| {key} | {c} | {n} | {sv} |");
                        for m in &t.media {
                            for metric in ["backlog_live_nodes", "backlog_live_bytes"] {
                                let v = t.get(m, "backlog", n, c, key, Some(sv), metric);
                                let _ =
                                    write!(s, " {} |", v.map(num).unwrap_or_else(|| "-".into()));
                            }
                        }
                        s.push('\n');
                    }
                }
            }
        }
    }
    let path = dir.join("RESULTS.md");
    // Hand-written notes below the marker survive regeneration.
    let _ = write!(s, "\n{NOTES_MARKER}\n\n");
    if let Ok(old) = std::fs::read_to_string(&path) {
        if let Some((_, notes)) = old.split_once(NOTES_MARKER) {
            s.push_str(notes.trim_start_matches('\n'));
        }
    }
    std::fs::write(&path, s).map_err(|e| format!("{}: {e}", path.display()))
}

/// The line after which `RESULTS.md` holds hand-written notes that regeneration keeps.
const NOTES_MARKER: &str =
    "<!-- notes: everything below this line is kept when the report is regenerated -->";

/// Median of the values (the upper one of an even count), if any.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    Some(v[v.len() / 2])
}

/// The headline checks against the targets and the analysis, with numbers from `t`.
fn analysis(t: &Table, meta: &Meta) -> String {
    let mut s = String::new();
    let lag_sends = t.sends("laggard").last().copied().unwrap_or(0);
    let _ = writeln!(s, "## Targets\n");

    // 1. Laggard floor.
    let slack = 64.0;
    let mut worst: Option<(f64, String)> = None;
    let mut all_ok = true;
    let mut count = 0;
    for key in &t.keys {
        for &c in &t.cancels {
            for &n in &t.workers {
                let (Some(f), Some(net)) = (
                    t.get(
                        "chain",
                        "laggard",
                        n,
                        c,
                        key,
                        None,
                        "laggard_updates_folded",
                    ),
                    t.get("chain", "laggard", n, c, key, None, "laggard_net_updates"),
                ) else {
                    continue;
                };
                count += 1;
                let excess = f - 2.0 * net;
                if excess > slack {
                    all_ok = false;
                }
                if worst.as_ref().map_or(true, |w| excess > w.0) {
                    worst = Some((
                        excess,
                        format!("key {key}, f = {c}, N = {n}: {f} folded, net {net}"),
                    ));
                }
            }
        }
    }
    let _ = writeln!(
        s,
        "1. **Laggard work at the floor** (chain's laggard folds <= 2 x net change + {slack}, \
         S as in the laggard tables: {lag_sends} sends in all at f = 1, fewer at f < 1): {} over {count} configurations (every f, N and key). \
         Largest excess over 2 x net: {}. MPSC's laggard folds every update sent to it (its \
         `laggard_updates_folded` equals `updates_sent`).",
        if all_ok { "**met**" } else { "**missed**" },
        worst
            .map(|w| format!("{:.0} ({})", w.0, w.1))
            .unwrap_or_else(|| "-".into())
    );
    // 2. f = 1: >= 1000x fewer than MPSC, flat in N.
    let mut line = String::new();
    let mut ok1000 = true;
    for key in &t.keys {
        let _ = write!(line, " key {key}:");
        for &n in &t.workers {
            let c = t.get(
                "chain",
                "laggard",
                n,
                1.0,
                key,
                None,
                "laggard_updates_folded",
            );
            let m = t.get(
                "mpsc",
                "laggard",
                n,
                1.0,
                key,
                None,
                "laggard_updates_folded",
            );
            if let (Some(c), Some(m)) = (c, m) {
                let r = m / c.max(1.0);
                if r < 1000.0 {
                    ok1000 = false;
                }
                let _ = write!(
                    line,
                    " N={n}: chain {} vs MPSC {} ({}x{});",
                    num(c),
                    num(m),
                    num(r.round()),
                    if c == 0.0 {
                        ", chain folded nothing"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "2. **f = 1, after {lag_sends} sends: >= 1000x fewer updates folded than MPSC, flat in N**: {}.{line} \
         (ratios divide by max(chain, 1)).",
        if ok1000 { "**met**" } else { "**missed**" }
    );
    // 3. Backlog live nodes.
    let mut okb = true;
    let mut maxb = String::new();
    let mut maxexcess = f64::MIN;
    for key in &t.keys {
        for &c in &t.cancels {
            for &n in &t.workers {
                for sv in t.sends("backlog") {
                    if let Some(v) = t.get(
                        "chain",
                        "backlog",
                        n,
                        c,
                        key,
                        Some(sv),
                        "backlog_live_nodes",
                    ) {
                        let excess = v - (n as f64 + 2.0);
                        if excess > 0.0 {
                            okb = false;
                        }
                        if excess > maxexcess {
                            maxexcess = excess;
                            maxb = format!("{v} at N = {n}, S = {sv}, f = {c}, key {key}");
                        }
                    }
                }
            }
        }
    }
    let _ = writeln!(
        s,
        "3. **Backlog live nodes <= readers + 2 at every S** (S in {:?}): {}; the closest to the bound: {maxb}.",
        t.sends("backlog"),
        if okb { "**met**" } else { "**missed**" }
    );
    // 4. Allocations per in-place send.
    let mut al = String::new();
    for key in &t.keys {
        let v: Vec<f64> = t
            .workers
            .iter()
            .filter_map(|&n| t.get("chain", "backlog", n, 1.0, key, None, "allocs_per_send"))
            .collect();
        let max = v.iter().copied().fold(0.0, f64::max);
        let _ = write!(
            al,
            " key {key}: at most {max:.4} allocations per send over N;"
        );
    }
    let _ = writeln!(
        s,
        "4. **Allocations per in-place send: 0.** In the backlog scenario nobody reads, so every \
         chain send after the first merges in place (f = 1):{al} the only allocations are the \
         first node and rare growth of the head atom's buffer. In the keep-up scenario a reader \
         pins the head between sends, so most sends append a node (see the keep-up \
         allocation table); the criterion microbench `send_in_place` isolates the in-place path."
    );
    // 5. Send-path ratio.
    let top = t.cancels.last().copied().unwrap_or(1.0);
    let fmt = |v: Option<f64>| v.map(num).unwrap_or_else(|| "-".into());
    let mut sr = String::from(
        "\n\n   | key | N | send median chain / MPSC | send mean chain / MPSC | send p99 chain / MPSC | \
         recv median chain / MPSC | round chain / MPSC |\n   |---|---|---|---|---|---|---|\n",
    );
    for key in &t.keys {
        for &n in &t.workers {
            let g = |m: &str, metric: &str| t.get(m, "keepup", n, top, key, None, metric);
            let cell = |metric: &str| {
                let (c, m) = (g("chain", metric), g("mpsc", metric));
                format!("{} ({} / {})", ratio(c, m), fmt(c), fmt(m))
            };
            let _ = writeln!(
                sr,
                "   | {key} | {n} | {} | {} | {} | {} | {} |",
                cell("send_ns_median"),
                cell("send_ns_mean"),
                cell("send_ns_p99"),
                cell("recv_ns_median"),
                cell("round_ns")
            );
        }
    }
    let _ = writeln!(
        s,
        "5. **Send-path ratio chain / MPSC** (keep-up, f = {top}; ns; round = wall time per round in \
         which every worker sends and receives once):{sr}"
    );

    // Analysis.
    let _ = writeln!(s, "## Analysis\n");
    let k0 = t.keys.first().cloned().unwrap_or_else(|| "u64".into());
    let kb = t.keys.get(1).cloned();
    let get = |m: &str, sc: &str, n: usize, c: f64, key: &str, metric: &str| {
        t.get(m, sc, n, c, key, None, metric)
    };
    let r = |m: &str, n: usize, key: &str, metric: &str| {
        let a = get(m, "keepup", n, top, key, metric)?;
        let b = get("mpsc", "keepup", n, top, key, metric)?;
        Some(a / b)
    };
    let x = |v: Option<f64>| v.map(|v| format!("{v:.2}x")).unwrap_or_else(|| "-".into());
    let maxn = t.workers.iter().copied().max().unwrap_or(1);
    let _ = writeln!(
        s,
        "**Send path.** A chain send takes the head mutex, then the newest node's payload write \
         lock, and merges the batch into the head atom, or appends a node when a reader has \
         pinned the head; its cost does not depend on N. An MPSC send clones the batch N - 1 \
         times (each clone allocates, and with `box3` keys every key allocates too) and pushes \
         each clone onto a lock-free queue, so its cost grows with N. Median send, chain / MPSC, \
         key {k0}: {} at N = 1 (no contention, no clone: MPSC's single push is cheaper than two \
         locks), {} at N = 2, {} at N = {maxn}{}. The median hides the contended tail: when the \
         head mutex is contended a sender parks in the kernel, and where threads outnumber \
         cores a thread preempted while holding the head mutex stalls every other writer until \
         it runs again, which a lock-free push never does; the mean ratios in the table above \
         show it. In keep-up every reader pins the head at each receive, so nearly every chain \
         send appends a node (2 allocations per send, against N for MPSC).\n",
        x(r("chain", 1, &k0, "send_ns_median")),
        x(r("chain", 2, &k0, "send_ns_median")),
        x(r("chain", maxn, &k0, "send_ns_median")),
        kb.as_ref()
            .map(|kb| format!(
                "; with the allocating key {kb}: {} at N = 2 and {} at N = {maxn}",
                x(r("chain", 2, kb, "send_ns_median")),
                x(r("chain", maxn, kb, "send_ns_median"))
            ))
            .unwrap_or_default(),
    );
    let _ = writeln!(
        s,
        "**Where the keep-up time goes: the receive path.** The round ratio (chain {} MPSC's at \
         N = 2, key {k0}) is mostly the receive: median {} ns against MPSC's {} ns at N = 2. A \
         chain receive walks the new nodes under their read locks, pins each one and unpins the \
         last (atomic read-modify-writes on lines that every other reader and writer also \
         writes), then, if its walk left a node that no reader pins, runs a compaction sweep \
         under the oldest mutex; an MPSC receive pops its own queue. A merge sorts only the \
         incoming keys and merges them into place (`merge_sorted_tail`: O(n + k^2) moves, no \
         allocation, nothing moved when the new keys are all larger, the common case of \
         progress traffic); until commit 8a718f5 it re-sorted the whole target atom, which \
         dominated this scenario. The round time includes generating each batch and the \
         timers around send and receive, the same for every medium, so round ratios sit \
         closer to 1 than the medium's own. The same two-thread round trip with no timely and no workload generator around it is \
         `cargo run --release -p benches --example pingpong`: one chain shared by both threads \
         against std's MPSC channels, each thread waiting for the other's latest update.\n",
        x(r("chain", 2, &k0, "round_ns")),
        fmt(get("chain", "keepup", 2, top, &k0, "recv_ns_median")),
        fmt(get("mpsc", "keepup", 2, top, &k0, "recv_ns_median")),
    );
    let lag = |m: &str, c: f64| {
        median(
            t.workers
                .iter()
                .filter_map(|&n| get(m, "laggard", n, c, &k0, "laggard_updates_folded"))
                .collect(),
        )
    };
    let lag_small = t
        .workers
        .iter()
        .filter_map(|&n| t.max_sends("chain", "laggard", n, 0.0, &k0, "laggard_updates_folded"))
        .max();
    let _ = writeln!(
        s,
        "**Laggard.** MPSC queues every batch for the laggard, so it folds every update ever \
         sent (median over N at f = 1: {} updates). In the chain, the readers that keep up \
         move their pins forward and compaction absorbs everything between the laggard's pin \
         and theirs into one atom, where a +1 and the -1 another worker sent for it meet and \
         vanish: the laggard folds {} updates at f = 1 (median over N), and its net change \
         otherwise. (The keep-up readers read what is left after the last send before the \
         laggard's catch-up is measured; if they are still mid-way, their pins split the \
         chain into segments whose nets need not cancel, and the laggard folds the residue of \
         the drift window between them.) Cells deliver exactly the net change (they merge at \
         send time into every reader's cell) and the ledger too (it diffs totals), so both sit \
         at the floor; the mesh keeps one chain per writer, and since a +1 and its -1 come from \
         different workers they sit in different chains and never cancel: its laggard folds as \
         much as MPSC's ({}). Without full cancellation (f < 1) the net total grows with every \
         send, and so does the chain's head atom, which every send then merges into at O(net) \
         cost (see the laggard send table; the ledger's map grows likewise): those runs are \
         therefore capped at {} sends so the sweep finishes.\n",
        lag("mpsc", 1.0).map(num).unwrap_or_else(|| "-".into()),
        lag("chain", 1.0).map(num).unwrap_or_else(|| "-".into()),
        lag("mesh", 1.0).map(num).unwrap_or_else(|| "-".into()),
        lag_small
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into()),
    );
    let bb = |m: &str| get(m, "backlog", 2, top, &k0, "backlog_live_bytes");
    let _ = writeln!(
        s,
        "**Backlog.** With nobody reading, every chain send merges in place into one node, so \
         live state is the net total (N = 2, f = {top}, largest S, key {k0}: chain {} bytes, \
         MPSC {} bytes, mesh {}, ledger {}, cells {}). MPSC holds every clone of every batch \
         until it is read; the mesh holds one node per writer but, again, cannot cancel across \
         writers; the ledger holds its total plus a change log capped at a multiple of the \
         total; cells hold one consolidated accumulator per reader. With f = 1 the chain's net \
         total is not zero at every instant: it is the window of updates whose cancellation \
         another worker has not sent yet, which on this machine is set by how far preemption \
         lets one worker run ahead of another.\n",
        bb("chain").map(num).unwrap_or_else(|| "-".into()),
        bb("mpsc").map(num).unwrap_or_else(|| "-".into()),
        bb("mesh").map(num).unwrap_or_else(|| "-".into()),
        bb("ledger").map(num).unwrap_or_else(|| "-".into()),
        bb("cells").map(num).unwrap_or_else(|| "-".into()),
    );
    let bs = |m: &str, metric: &str| get(m, "backlog", 2, top, &k0, metric);
    let _ = writeln!(
        s,
        "**The chain's in-place send grows with its head atom.** With nobody reading \
         (backlog), every send merges into the head atom, which holds the whole live window: \
         the updates whose cancellation has not been sent yet (with f < 1, the whole net total, \
         without bound). A merge walks the atom to find the batch's keys (O(k log n) \
         comparisons) and moves the prefix elements that sort after new keys (none when, as \
         in progress traffic, the new timestamps are the largest). At N = 2, f = {top}, key \
         {k0}, largest S, the chain's median send is {} ns (mean {} ns) against MPSC's {} ns \
         (mean {} ns), and the mesh, whose per-writer atoms never cancel, {} ns (median). \
         MPSC's send does not depend on how much is queued; it pays instead in memory (see \
         Backlog) and in the reader's work.\n",
        fmt(bs("chain", "send_ns_median")),
        fmt(bs("chain", "send_ns_mean")),
        fmt(bs("mpsc", "send_ns_median")),
        fmt(bs("mpsc", "send_ns_mean")),
        fmt(bs("mesh", "send_ns_median")),
    );
    let _ = writeln!(
        s,
        "**Ledger and cells.** Both trade send cost for read cost: the ledger serializes every \
         send and read on one lock (and a read must diff totals against a private snapshot), \
         and cells make every send take N locks and clone the batch N - 1 times, which is \
         MPSC's clone traffic without its lock-free queues.\n\n\
         **Method.** Each configuration ran {} times; media were interleaved run by run so that \
         every ratio compares runs taken minutes apart at most. Send and receive costs are timed \
         per operation with `Instant::now` (part of each figure is the clock itself, the same for \
         every medium). Batches carry {} fresh updates plus the cancellations owed to \
         the previous worker. Live bytes come from a counting global allocator and include the \
         medium's fixed structures; allocations per send count the sending thread's allocations \
         inside `send` (for MPSC that includes the fresh buffer that replaces the one moved into \
         the channel, as in timely).",
        meta.reps, meta.batch
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(medium: &str, workers: usize, metric: &str, value: f64) -> Row {
        Row {
            medium: medium.into(),
            scenario: "laggard".into(),
            workers,
            cancel: 1.0,
            key: "u64".into(),
            sends: 100,
            metric: metric.into(),
            value,
        }
    }

    #[test]
    fn csv_round_trip_and_lookup() {
        let rows = vec![
            row("chain", 2, "laggard_updates_folded", 0.0),
            row("mpsc", 2, "laggard_updates_folded", 1234.5),
        ];
        let dir = std::env::temp_dir().join(format!("benches-report-{}", std::process::id()));
        let path = dir.join("t.csv");
        write_csv(&path, &rows, true).unwrap();
        let back = read_csv(&path).unwrap();
        assert_eq!(back, rows);
        let t = Table::new(&back);
        assert_eq!(
            t.get(
                "mpsc",
                "laggard",
                2,
                1.0,
                "u64",
                None,
                "laggard_updates_folded"
            ),
            Some(1234.5)
        );
        assert_eq!(
            t.get(
                "chain",
                "laggard",
                4,
                1.0,
                "u64",
                None,
                "laggard_updates_folded"
            ),
            None
        );
        assert_eq!(t.media, vec!["chain".to_string(), "mpsc".to_string()]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn svg_plot_has_text_without_fonts() {
        let dir = std::env::temp_dir().join(format!("benches-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.svg");
        plot(
            &path,
            "title here",
            "x",
            "y",
            &[("chain".into(), vec![(1.0, 10.0), (2.0, 100.0)])],
        )
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("<text") && svg.contains("title here"), "{svg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

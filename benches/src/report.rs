//! The sweep's report: its rows and run description, and `RESULTS.md` built from them.
//!
//! A [`Row`] is one metric of one configuration: the median over the repetitions of a run.
//! The CSV (header `medium,scenario,workers,cancel,key,sends,metric,value`) and a one-row
//! CSV of the [`Meta`] are all [`write_report`] needs, so `chain-bench --from-csv` rebuilds
//! the report without rerunning the sweep. The report's prose is the template `report.md`
//! beside this file; this file computes the figures its `{name}` placeholders stand for.
//! Reading, tables, plots and the kept notes are the shared `report` crate's.

use std::collections::BTreeMap;
use std::path::Path;

use report::{fill, markdown_table, median, svg_panels, write_keeping_notes, Figures, Panel};
use serde::{Deserialize, Serialize};

use crate::medium::MediumKind;

/// The report's text, with `{name}` placeholders for its figures.
const TEMPLATE: &str = include_str!("report.md");

/// One metric of one configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// What the report needs besides the rows: how the sweep ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// Runs that failed their answer check (or panicked), one message a line.
    pub failures: String,
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

/// A figure as the sweep's tables write it; `-` when missing.
fn num(v: Option<f64>) -> String {
    Figures::COMPACT.or_dash(v)
}

/// A cancellation fraction as an exact key.
fn milli(c: f64) -> i64 {
    (c * 1000.0).round() as i64
}

/// The rows, and the workers, cancellation fractions, keys and media they hold, in order.
#[derive(Debug, Default)]
pub struct Table {
    /// The rows.
    rows: Vec<Row>,
    /// Worker counts present.
    pub workers: Vec<usize>,
    /// Cancellation fractions present.
    pub cancels: Vec<f64>,
    /// Keys present.
    pub keys: Vec<String>,
    /// Media present, in [`MediumKind::ALL`] order.
    pub media: Vec<String>,
}

impl Table {
    /// Indexes `rows`.
    pub fn new(rows: &[Row]) -> Self {
        let mut t = Table {
            rows: rows.to_vec(),
            ..Table::default()
        };
        t.workers = rows.iter().map(|r| r.workers).collect();
        t.workers.sort_unstable();
        t.workers.dedup();
        t.cancels = rows.iter().map(|r| r.cancel).collect();
        t.cancels.sort_by(f64::total_cmp);
        t.cancels.dedup_by_key(|c| milli(*c));
        let rank = |k: &str| crate::key::KeyKind::parse(k).map_or(usize::MAX, |k| k as usize);
        t.keys = rows.iter().map(|r| r.key.clone()).collect();
        t.keys.sort_by_key(|k| (rank(k), k.clone()));
        t.keys.dedup();
        let all = MediumKind::ALL.iter().map(|m| m.name().to_string());
        t.media = all
            .filter(|m| rows.iter().any(|r| &r.medium == m))
            .collect();
        t
    }

    /// Sends values present for a scenario.
    pub fn sends(&self, scenario: &str) -> Vec<usize> {
        let mut s: Vec<usize> = self
            .rows
            .iter()
            .filter(|r| r.scenario == scenario)
            .map(|r| r.sends)
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    /// The rows of one configuration and metric, at every sends measured.
    fn find<'a>(
        &'a self,
        m: &'a str,
        sc: &'a str,
        n: usize,
        c: f64,
        key: &'a str,
        metric: &'a str,
    ) -> impl Iterator<Item = &'a Row> + 'a {
        let this = move |r: &&Row| {
            (
                &*r.medium,
                &*r.scenario,
                r.workers,
                milli(r.cancel),
                &*r.key,
                &*r.metric,
            ) == (m, sc, n, milli(c), key, metric)
        };
        self.rows.iter().filter(this)
    }

    /// The largest sends measured for a configuration and metric.
    pub fn max_sends(
        &self,
        m: &str,
        sc: &str,
        n: usize,
        c: f64,
        key: &str,
        metric: &str,
    ) -> Option<usize> {
        self.find(m, sc, n, c, key, metric).map(|r| r.sends).max()
    }

    /// One value, if measured. `sends = None` takes the largest sends measured for it.
    #[allow(clippy::too_many_arguments)]
    pub fn get(
        &self,
        m: &str,
        sc: &str,
        n: usize,
        c: f64,
        key: &str,
        sends: Option<usize>,
        metric: &str,
    ) -> Option<f64> {
        let sends = sends.or_else(|| self.max_sends(m, sc, n, c, key, metric))?;
        self.find(m, sc, n, c, key, metric)
            .find(|r| r.sends == sends)
            .map(|r| r.value)
    }

    /// One value at the largest sends measured for it.
    fn top(&self, m: &str, sc: &str, n: usize, c: f64, key: &str, metric: &str) -> Option<f64> {
        self.get(m, sc, n, c, key, None, metric)
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

/// Every (key, cancel, workers) in the table's order.
fn configs(t: &Table) -> impl Iterator<Item = (&String, f64, usize)> {
    let per_key = move |k| {
        t.cancels
            .iter()
            .flat_map(move |&c| t.workers.iter().map(move |&n| (k, c, n)))
    };
    t.keys.iter().flat_map(per_key)
}

/// A markdown table of one metric: rows (key, cancel, workers), a column per medium with its
/// value and ratio against MPSC from the same run.
fn metric_table(t: &Table, scenario: &str, metric: &str) -> String {
    let mut header = vec!["key", "f", "N", "S"];
    header.extend(t.media.iter().map(String::as_str));
    let mut rows = Vec::new();
    for (key, c, n) in configs(t) {
        let sv = t.max_sends("mpsc", scenario, n, c, key, metric);
        let base = t.get("mpsc", scenario, n, c, key, sv, metric);
        if t.media
            .iter()
            .all(|m| t.top(m, scenario, n, c, key, metric).is_none())
        {
            continue;
        }
        let mut row = vec![
            key.clone(),
            c.to_string(),
            n.to_string(),
            sv.map(|v| v.to_string()).unwrap_or_default(),
        ];
        row.extend(
            t.media
                .iter()
                .map(|m| match t.get(m, scenario, n, c, key, sv, metric) {
                    Some(v) if m != "mpsc" => {
                        format!("{} ({})", num(Some(v)), ratio(Some(v), base))
                    }
                    v => num(v),
                }),
        );
        rows.push(row);
    }
    markdown_table(&header, "", rows)
}

/// The table of backlog nodes and bytes across S, if more than one S was measured.
fn backlog_across(t: &Table) -> String {
    let sends = t.sends("backlog");
    if sends.len() < 2 {
        return String::new();
    }
    let metrics = ["backlog_live_nodes", "backlog_live_bytes"];
    let names: Vec<String> = t
        .media
        .iter()
        .flat_map(|m| [format!("{m} nodes"), format!("{m} bytes")])
        .collect();
    let mut header = vec!["key", "f", "N", "S"];
    header.extend(names.iter().map(String::as_str));
    let mut rows = Vec::new();
    for ((key, c, n), &sv) in configs(t).flat_map(|k| sends.iter().map(move |s| (k, s))) {
        if t.get("mpsc", "backlog", n, c, key, Some(sv), metrics[0])
            .is_some()
        {
            let cells = t
                .media
                .iter()
                .flat_map(|m| metrics.map(|x| num(t.get(m, "backlog", n, c, key, Some(sv), x))));
            rows.push(
                [key.clone(), c.to_string(), n.to_string(), sv.to_string()]
                    .into_iter()
                    .chain(cells)
                    .collect(),
            );
        }
    }
    let title = "### Backlog across S (`backlog_live_nodes` / `backlog_live_bytes`)";
    format!("{title}\n\n{}", markdown_table(&header, "", rows))
}

/// Draws the report's plots into `dir/plots`; returns the markdown that shows them.
fn plots(t: &Table, dir: &Path) -> Result<String, String> {
    let pdir = dir.join("plots");
    std::fs::create_dir_all(&pdir).map_err(|e| format!("{}: {e}", pdir.display()))?;
    let mut md = String::new();
    let mut plot = |name: String, title: String, y: &str, series, caption: String| {
        let x_label = if name.starts_with("backlog") {
            "sends S"
        } else {
            "workers N"
        };
        let panel = Panel {
            title,
            x_label: x_label.into(),
            y_label: y.into(),
            series,
        };
        md += &format!("![{caption}](plots/{name})\n\n*{caption}*\n\n");
        svg_panels(&pdir.join(name), (760, 440), None, &[panel])
    };
    // One series per medium over workers, of values shifted by `offset`.
    let over_workers = |sc: &str, c: f64, key: &str, metric: &str, offset: f64| {
        let points = |m: &str| {
            t.workers
                .iter()
                .filter_map(|&n| {
                    t.top(m, sc, n, c, key, metric)
                        .map(|v| (n as f64, v + offset))
                })
                .collect()
        };
        t.media.iter().map(|m| (m.clone(), points(m))).collect()
    };
    let top = t.cancels.last().copied().unwrap_or(1.0);
    for key in &t.keys {
        let (title, caption) = (
            format!("keepup: send ns (median), f = {top}, key {key}"),
            format!("Keep-up send cost (median ns) against N, f = {top}, key {key}."),
        );
        plot(
            format!("keepup-send-{key}.svg"),
            title,
            "ns per send",
            over_workers("keepup", top, key, "send_ns_median", 0.0),
            caption,
        )?;
        let (title, caption) = (format!("keepup: wall ns per round, f = {top}, key {key}"), format!("Keep-up wall time per round (every worker sends and receives once), f = {top}, key {key}."));
        plot(
            format!("keepup-round-{key}.svg"),
            title,
            "ns per round",
            over_workers("keepup", top, key, "round_ns", 0.0),
            caption,
        )?;
    }
    let key = t.keys.first().cloned().unwrap_or_else(|| "u64".into());
    for &c in &t.cancels {
        let (title, caption) = (format!("laggard: updates folded at catch-up (+1), f = {c}, key {key}"), format!("Updates the laggard folds at its catch-up (plus one, for the log axis), f = {c}, key {key}."));
        plot(
            format!("laggard-updates-f{c}.svg"),
            title,
            "updates folded + 1",
            over_workers("laggard", c, &key, "laggard_updates_folded", 1.0),
            caption,
        )?;
    }
    let sends = t.sends("backlog");
    let n = if t.workers.contains(&2) {
        2
    } else {
        t.workers[0]
    };
    for &c in t.cancels.iter().filter(|_| sends.len() > 1) {
        let points = |m: &str| {
            sends
                .iter()
                .filter_map(|&s| {
                    t.get(m, "backlog", n, c, &key, Some(s), "backlog_live_bytes")
                        .map(|v| (s as f64, v.max(1.0)))
                })
                .collect()
        };
        let series = t.media.iter().map(|m| (m.clone(), points(m))).collect();
        let (title, caption) = (
            format!("backlog: live bytes after S unread sends, N = {n}, f = {c}, key {key}"),
            format!("Live bytes after S sends nobody read, N = {n}, f = {c}, key {key}."),
        );
        plot(
            format!("backlog-bytes-f{c}.svg"),
            title,
            "live bytes",
            series,
            caption,
        )?;
    }
    Ok(md)
}

/// Writes `dir/RESULTS.md` and `dir/plots/*.svg` from the rows of a full sweep.
pub fn write_report(dir: &Path, rows: &[Row], meta: &Meta) -> Result<(), String> {
    let t = Table::new(rows);
    let mut v = figures(&t, meta);
    v.insert("plots", plots(&t, dir)?);
    let text = fill(TEMPLATE, |name| {
        match name.split(':').collect::<Vec<_>>()[..] {
            ["table", sc, _] if t.sends(sc).is_empty() => Some("(not measured)".into()),
            ["table", sc, metric] => Some(metric_table(&t, sc, metric).trim_end().into()),
            _ => v.get(name).cloned(),
        }
    })?;
    write_keeping_notes(&dir.join("RESULTS.md"), &text)
}

/// The values of the template's placeholders, but for the tables and plots.
fn figures(t: &Table, meta: &Meta) -> BTreeMap<&'static str, String> {
    let mut v = BTreeMap::new();
    let failures: Vec<&str> = meta.failures.lines().collect();
    v.insert("failures", match failures.len() {
        0 => "**All runs passed their answer checks.**\n\n".into(),
        n => format!("**{n} run(s) FAILED their answer check or panicked; their figures are left out of the medians below:**\n\n{}\n", failures.iter().map(|f| format!("- `{f}`\n")).collect::<String>()),
    });
    let (maxn, cores) = (t.workers.iter().copied().max().unwrap_or(1), meta.cores());
    v.insert("oversubscribed", if maxn <= cores { String::new() } else {
        format!("**This machine has {cores} cores: runs with N > {cores} worker threads oversubscribe it** (N = {maxn} puts {maxn} threads on {cores} cores), so for N > {cores} the figures measure preemption and lock-holder descheduling as much as the media. Read N <= {cores} as the contention-free and contended cases; read larger N only as relative orderings under oversubscription, not as scaling.\n\n")
    });
    let top = t.cancels.last().copied().unwrap_or(1.0);
    let k0 = t.keys.first().cloned().unwrap_or_else(|| "u64".into());
    let met = |ok: bool| if ok { "**met**" } else { "**missed**" }.to_string();
    // 1. The laggard folds at most twice its net change, plus a slack.
    let slack = 64.0;
    let mut worst: Option<(f64, String)> = None;
    let mut count = 0;
    for (key, c, n) in configs(t) {
        let get = |metric| t.top("chain", "laggard", n, c, key, metric);
        let (Some(f), Some(net)) = (get("laggard_updates_folded"), get("laggard_net_updates"))
        else {
            continue;
        };
        count += 1;
        if worst.as_ref().map_or(true, |w| f - 2.0 * net > w.0) {
            worst = Some((
                f - 2.0 * net,
                format!("key {key}, f = {c}, N = {n}: {f} folded, net {net}"),
            ));
        }
    }
    v.insert("t1_met", met(worst.as_ref().map_or(true, |w| w.0 <= slack)));
    v.insert(
        "t1_worst",
        worst.map_or_else(|| "-".into(), |w| format!("{:.0} ({})", w.0, w.1)),
    );
    v.insert("t1_count", count.to_string());
    v.insert("slack", slack.to_string());
    v.insert(
        "lag_sends",
        t.sends("laggard").last().copied().unwrap_or(0).to_string(),
    );
    // 2. At f = 1, 1000 times fewer updates folded than MPSC.
    let (mut line, mut ok) = (String::new(), true);
    for key in &t.keys {
        line += &format!(" key {key}:");
        for &n in &t.workers {
            let get = |m| t.top(m, "laggard", n, 1.0, key, "laggard_updates_folded");
            if let (Some(c), Some(m)) = (get("chain"), get("mpsc")) {
                ok &= m / c.max(1.0) >= 1000.0;
                let nothing = if c == 0.0 {
                    ", chain folded nothing"
                } else {
                    ""
                };
                line += &format!(
                    " N={n}: chain {} vs MPSC {} ({}x{nothing});",
                    num(Some(c)),
                    num(Some(m)),
                    num(Some((m / c.max(1.0)).round()))
                );
            }
        }
    }
    v.extend([("t2_met", met(ok)), ("t2_line", line)]);
    // 3. Backlog live nodes at most readers + 2.
    let (sends, mut ok, mut closest) = (t.sends("backlog"), true, (f64::MIN, String::new()));
    for ((key, c, n), &sv) in configs(t).flat_map(|k| sends.iter().map(move |s| (k, s))) {
        if let Some(x) = t.get(
            "chain",
            "backlog",
            n,
            c,
            key,
            Some(sv),
            "backlog_live_nodes",
        ) {
            ok &= x <= n as f64 + 2.0;
            if x - (n as f64 + 2.0) > closest.0 {
                closest = (
                    x - (n as f64 + 2.0),
                    format!("{x} at N = {n}, S = {sv}, f = {c}, key {key}"),
                );
            }
        }
    }
    v.extend([
        ("t3_sends", format!("{sends:?}")),
        ("t3_met", met(ok)),
        ("t3_closest", closest.1),
    ]);
    // 4. Allocations per in-place send.
    let most = |key: &str| {
        t.workers
            .iter()
            .filter_map(|&n| t.top("chain", "backlog", n, 1.0, key, "allocs_per_send"))
            .fold(0.0, f64::max)
    };
    v.insert(
        "t4_line",
        t.keys
            .iter()
            .map(|k| {
                format!(
                    " key {k}: at most {:.4} allocations per send over N;",
                    most(k)
                )
            })
            .collect(),
    );
    // 5. Send-path ratios.
    let mut rows = Vec::new();
    for (key, &n) in t
        .keys
        .iter()
        .flat_map(|k| t.workers.iter().map(move |n| (k, n)))
    {
        let cell = |metric: &str| {
            let (c, m) = (
                t.top("chain", "keepup", n, top, key, metric),
                t.top("mpsc", "keepup", n, top, key, metric),
            );
            format!("{} ({} / {})", ratio(c, m), num(c), num(m))
        };
        let metrics = [
            "send_ns_median",
            "send_ns_mean",
            "send_ns_p99",
            "recv_ns_median",
            "round_ns",
        ];
        rows.push(
            [key.clone(), n.to_string()]
                .into_iter()
                .chain(metrics.map(cell))
                .collect(),
        );
    }
    let header = [
        "key",
        "N",
        "send median chain / MPSC",
        "send mean chain / MPSC",
        "send p99 chain / MPSC",
        "recv median chain / MPSC",
        "round chain / MPSC",
    ];
    let table = markdown_table(&header, "", rows);
    v.insert(
        "t5_table",
        table
            .lines()
            .map(|l| format!("   {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    // The analysis.
    let x = |r: Option<f64>| r.map_or_else(|| "-".into(), |r| format!("{r:.2}x"));
    let r = |n: usize, key: &str, metric: &str| {
        let get = |m| t.top(m, "keepup", n, top, key, metric);
        x(get("chain").zip(get("mpsc")).map(|(c, m)| c / m))
    };
    v.extend([
        ("send_n1", r(1, &k0, "send_ns_median")),
        ("send_n2", r(2, &k0, "send_ns_median")),
        ("send_nmax", r(maxn, &k0, "send_ns_median")),
    ]);
    v.insert(
        "send_kb",
        t.keys.get(1).map_or_else(String::new, |kb| {
            format!(
                "; with the allocating key {kb}: {} at N = 2 and {} at N = {maxn}",
                r(2, kb, "send_ns_median"),
                r(maxn, kb, "send_ns_median")
            )
        }),
    );
    v.insert("round_n2", r(2, &k0, "round_ns"));
    v.insert(
        "recv_chain",
        num(t.top("chain", "keepup", 2, top, &k0, "recv_ns_median")),
    );
    v.insert(
        "recv_mpsc",
        num(t.top("mpsc", "keepup", 2, top, &k0, "recv_ns_median")),
    );
    let lag = |m: &str| {
        num(median(
            t.workers
                .iter()
                .filter_map(|&n| t.top(m, "laggard", n, 1.0, &k0, "laggard_updates_folded"))
                .collect(),
        ))
    };
    v.extend([
        ("lag_mpsc", lag("mpsc")),
        ("lag_chain", lag("chain")),
        ("lag_mesh", lag("mesh")),
    ]);
    let capped = t
        .workers
        .iter()
        .filter_map(|&n| t.max_sends("chain", "laggard", n, 0.0, &k0, "laggard_updates_folded"))
        .max();
    v.insert(
        "lag_cap",
        capped.map_or_else(|| "-".into(), |s| s.to_string()),
    );
    let b = |m: &str, metric: &str| num(t.top(m, "backlog", 2, top, &k0, metric));
    for (name, m) in [
        ("bytes_chain", "chain"),
        ("bytes_mpsc", "mpsc"),
        ("bytes_mesh", "mesh"),
        ("bytes_ledger", "ledger"),
        ("bytes_cells", "cells"),
    ] {
        v.insert(name, b(m, "backlog_live_bytes"));
    }
    v.extend([
        ("bsend_chain", b("chain", "send_ns_median")),
        ("bmean_chain", b("chain", "send_ns_mean")),
        ("bsend_mpsc", b("mpsc", "send_ns_median")),
        ("bmean_mpsc", b("mpsc", "send_ns_mean")),
        ("bsend_mesh", b("mesh", "send_ns_median")),
    ]);
    v.extend([
        ("command", meta.command.clone()),
        ("date", meta.date.clone()),
        ("seconds", format!("{:.0}", meta.seconds)),
        ("reps", meta.reps.to_string()),
    ]);
    v.extend([
        ("machine", meta.machine.trim().to_string()),
        ("batch", meta.batch.to_string()),
        ("top", top.to_string()),
        ("k0", k0),
        ("maxn", maxn.to_string()),
    ]);
    v.insert("backlog_across", backlog_across(t));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_takes_the_largest_sends() {
        let row = |medium: &str, sends, value| Row {
            medium: medium.into(),
            scenario: "laggard".into(),
            workers: 2,
            cancel: 1.0,
            key: "u64".into(),
            sends,
            metric: "laggard_updates_folded".into(),
            value,
        };
        let t = Table::new(&[
            row("mpsc", 100, 400.0),
            row("mpsc", 1000, 4000.0),
            row("chain", 100, 0.0),
        ]);
        assert_eq!(
            t.top("mpsc", "laggard", 2, 1.0, "u64", "laggard_updates_folded"),
            Some(4000.0)
        );
        assert_eq!(
            t.top("chain", "laggard", 4, 1.0, "u64", "laggard_updates_folded"),
            None
        );
        assert_eq!(t.media, vec!["chain".to_string(), "mpsc".to_string()]);
    }

    #[test]
    fn every_placeholder_of_the_template_has_a_value() {
        let t = Table::new(&[]);
        let v = figures(&t, &Meta::default());
        fill(TEMPLATE, |name| {
            if name.starts_with("table:") || name == "plots" {
                Some(String::new())
            } else {
                v.get(name).cloned()
            }
        })
        .unwrap();
    }
}

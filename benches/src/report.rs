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

/// A ratio as the report writes it: `1.23x`, or `-`.
fn times(r: Option<f64>) -> String {
    r.map_or_else(|| "-".into(), |r| format!("{r:.2}x"))
}

/// One configuration of the sweep: scenario, workers, cancellation fraction and key.
#[derive(Clone, Copy, Debug)]
pub struct At<'a>(pub &'a str, pub usize, pub f64, pub &'a str);

/// The lookup key of one medium's metric at one configuration.
fn id(m: &str, At(sc, n, c, key): At, metric: &str) -> String {
    format!("{m} {sc} {n} {} {key} {metric}", (c * 1000.0).round())
}

/// The rows indexed by configuration, and the workers, cancellation fractions, keys and media
/// they hold, in report order.
#[derive(Debug, Default)]
pub struct Table {
    /// (sends, value) pairs, by [`id`].
    values: BTreeMap<String, Vec<(usize, f64)>>,
    /// Sends measured, by scenario.
    sends: BTreeMap<String, Vec<usize>>,
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
        let mut t = Table::default();
        for r in rows {
            let at = At(&r.scenario, r.workers, r.cancel, &r.key);
            t.values
                .entry(id(&r.medium, at, &r.metric))
                .or_default()
                .push((r.sends, r.value));
            t.sends.entry(r.scenario.clone()).or_default().push(r.sends);
            t.workers.push(r.workers);
            t.cancels.push(r.cancel);
            t.keys.push(r.key.clone());
        }
        t.sends
            .values_mut()
            .for_each(|s| (s.sort_unstable(), s.dedup()).1);
        t.workers.sort_unstable();
        t.workers.dedup();
        t.cancels.sort_by(f64::total_cmp);
        t.cancels.dedup();
        let rank = |k: &str| crate::key::KeyKind::parse(k).map_or(usize::MAX, |k| k as usize);
        t.keys.sort_by_key(|k| (rank(k), k.clone()));
        t.keys.dedup();
        let present = |m: &String| rows.iter().any(|r| &r.medium == m);
        t.media = MediumKind::ALL
            .iter()
            .map(|m| m.name().to_string())
            .filter(present)
            .collect();
        t
    }

    /// Sends values present for a scenario.
    pub fn sends(&self, scenario: &str) -> &[usize] {
        self.sends.get(scenario).map_or(&[], |s| s)
    }

    /// The largest sends measured for a medium's metric at a configuration.
    pub fn max_sends(&self, m: &str, at: At, metric: &str) -> Option<usize> {
        self.values
            .get(&id(m, at, metric))?
            .iter()
            .map(|v| v.0)
            .max()
    }

    /// One value, if measured, at `sends` (`None`: the largest sends measured for it).
    pub fn get(&self, m: &str, at: At, sends: Option<usize>, metric: &str) -> Option<f64> {
        let sends = sends.or_else(|| self.max_sends(m, at, metric))?;
        let values = self.values.get(&id(m, at, metric))?;
        values.iter().find(|v| v.0 == sends).map(|v| v.1)
    }

    /// Chain / MPSC of one metric at a configuration, both at the largest sends measured.
    fn ratio(&self, at: At, metric: &str) -> Option<f64> {
        Some(self.get("chain", at, None, metric)? / self.get("mpsc", at, None, metric)?)
    }

    /// Every configuration of a scenario, in report order (key, then f, then N).
    fn configs<'a>(&'a self, sc: &'a str) -> impl Iterator<Item = At<'a>> + 'a {
        let per_c = move |k: &'a String, c: f64| self.workers.iter().map(move |&n| At(sc, n, c, k));
        let per_key = move |k| self.cancels.iter().flat_map(move |&c| per_c(k, c));
        self.keys.iter().flat_map(per_key)
    }
}

/// A markdown table: rows (key, f, N, S), then `cells` of each medium.
fn table<'a>(
    t: &Table,
    rows: impl Iterator<Item = (At<'a>, Option<usize>)>,
    cells: &[&str],
    value: impl Fn(&str, At, Option<usize>, &str) -> String,
) -> String {
    let names = t
        .media
        .iter()
        .flat_map(|m| cells.iter().map(move |c| format!(" | {m}{c}")));
    let header = format!("key | f | N | S{}", names.collect::<String>());
    let rows = rows.map(|(at, s)| {
        let cells = t
            .media
            .iter()
            .flat_map(|m| cells.iter().map(|&c| value(m, at, s, c)));
        let s = s.map_or(String::new(), |s| s.to_string());
        [at.3.to_string(), at.2.to_string(), at.1.to_string(), s]
            .into_iter()
            .chain(cells)
            .collect()
    });
    markdown_table(&header, "", rows)
}

/// The table of one metric: a row a configuration, a column a medium with its value and, but
/// for MPSC, its ratio to MPSC's.
fn metric_table(t: &Table, sc: &str, metric: &str) -> String {
    let present = |at: &At| {
        t.media
            .iter()
            .any(|m| t.get(m, *at, None, metric).is_some())
    };
    let rows = t
        .configs(sc)
        .filter(present)
        .map(|at| (at, t.max_sends("mpsc", at, metric)));
    table(t, rows, &[""], |m, at, _, _| {
        let (v, base) = (t.get(m, at, None, metric), t.get("mpsc", at, None, metric));
        match v.zip(base) {
            Some((v, b)) if m != "mpsc" && b > 0.0 => format!("{} ({:.2}x)", num(Some(v)), v / b),
            Some((v, b)) if m != "mpsc" && v == b => format!("{} (1x)", num(Some(v))),
            _ if m != "mpsc" && v.is_some() => format!("{} (-)", num(v)),
            _ => num(v),
        }
    })
}

/// The table of backlog nodes and bytes across S, if more than one S was measured.
fn backlog_across(t: &Table) -> String {
    let sends = t.sends("backlog");
    let rows = t
        .configs("backlog")
        .flat_map(|at| sends.iter().map(move |&s| (at, Some(s))));
    let rows = rows.filter(|&(at, s)| t.get("mpsc", at, s, "backlog_live_nodes").is_some());
    let metric = |c: &str| {
        if c == " nodes" {
            "backlog_live_nodes"
        } else {
            "backlog_live_bytes"
        }
    };
    let table = table(t, rows, &[" nodes", " bytes"], |m, at, s, c| {
        num(t.get(m, at, s, metric(c)))
    });
    let title = "### Backlog across S (`backlog_live_nodes` / `backlog_live_bytes`)";
    if sends.len() > 1 {
        format!("{title}\n\n{table}")
    } else {
        String::new()
    }
}

/// Draws the report's plots into `dir/plots`; returns the markdown that shows them.
fn plots(t: &Table, dir: &Path) -> Result<String, String> {
    let pdir = dir.join("plots");
    std::fs::create_dir_all(&pdir).map_err(|e| format!("{}: {e}", pdir.display()))?;
    let mut md = String::new();
    // Draws one plot, a line a medium through the points `point` gives for each x.
    let mut plot = |name: String,
                    title: String,
                    y: &str,
                    xs: &[usize],
                    point: &dyn Fn(&str, usize) -> Option<f64>,
                    caption: String| {
        let line = |m: &str| {
            xs.iter()
                .filter_map(|&x| Some((x as f64, point(m, x)?)))
                .collect()
        };
        let series = t.media.iter().map(|m| (m.clone(), line(m))).collect();
        let x = if name.starts_with("backlog") {
            "sends S"
        } else {
            "workers N"
        };
        let panel = Panel {
            title,
            x_label: x.into(),
            y_label: y.into(),
            series,
        };
        md += &format!("![{caption}](plots/{name})\n\n*{caption}*\n\n");
        svg_panels(&pdir.join(name), (760, 440), None, &[panel])
    };
    let top = t.cancels.last().copied().unwrap_or(1.0);
    for k in &t.keys {
        let send = |m: &str, n| t.get(m, At("keepup", n, top, k), None, "send_ns_median");
        let caption = format!("Keep-up send cost (median ns) against N, f = {top}, key {k}.");
        plot(
            format!("keepup-send-{k}.svg"),
            format!("keepup: send ns (median), f = {top}, key {k}"),
            "ns per send",
            &t.workers,
            &send,
            caption,
        )?;
        let round = |m: &str, n| t.get(m, At("keepup", n, top, k), None, "round_ns");
        let caption = format!("Keep-up wall time per round (every worker sends and receives once), f = {top}, key {k}.");
        plot(
            format!("keepup-round-{k}.svg"),
            format!("keepup: wall ns per round, f = {top}, key {k}"),
            "ns per round",
            &t.workers,
            &round,
            caption,
        )?;
    }
    let k = t.keys.first().map_or("u64", |k| k);
    for &c in &t.cancels {
        let folded = |m: &str, n| {
            Some(t.get(m, At("laggard", n, c, k), None, "laggard_updates_folded")? + 1.0)
        };
        let caption = format!("Updates the laggard folds at its catch-up (plus one, for the log axis), f = {c}, key {k}.");
        plot(
            format!("laggard-updates-f{c}.svg"),
            format!("laggard: updates folded at catch-up (+1), f = {c}, key {k}"),
            "updates folded + 1",
            &t.workers,
            &folded,
            caption,
        )?;
    }
    let n = if t.workers.contains(&2) {
        2
    } else {
        t.workers[0]
    };
    for &c in t.cancels.iter().filter(|_| t.sends("backlog").len() > 1) {
        let bytes = |m: &str, s| {
            Some(
                t.get(m, At("backlog", n, c, k), Some(s), "backlog_live_bytes")?
                    .max(1.0),
            )
        };
        let caption = format!("Live bytes after S sends nobody read, N = {n}, f = {c}, key {k}.");
        plot(
            format!("backlog-bytes-f{c}.svg"),
            format!("backlog: live bytes after S unread sends, N = {n}, f = {c}, key {k}"),
            "live bytes",
            t.sends("backlog"),
            &bytes,
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
    let text = fill(TEMPLATE, |name| value(&t, &v, name))?;
    write_keeping_notes(&dir.join("RESULTS.md"), &text)
}

/// The value of one placeholder: `table:SCENARIO:METRIC`, `v:MEDIUM:SCENARIO:N:METRIC` (at
/// the largest f, the first key and the largest sends; N may be `max`), `x:SCENARIO:N:METRIC`
/// (chain / MPSC there), or a name from `named`.
fn value(t: &Table, named: &BTreeMap<&str, String>, name: &str) -> Option<String> {
    let (top, k0) = (
        t.cancels.last().copied().unwrap_or(1.0),
        t.keys.first().map_or("u64", |k| k),
    );
    let at = |sc, n: &str| {
        Some(At(
            sc,
            if n == "max" {
                t.workers.last().copied().unwrap_or(0)
            } else {
                n.parse().ok()?
            },
            top,
            k0,
        ))
    };
    Some(match name.split(':').collect::<Vec<_>>()[..] {
        ["table", sc, _] if t.sends(sc).is_empty() => "(not measured)".into(),
        ["table", sc, metric] => metric_table(t, sc, metric).trim_end().into(),
        ["v", m, sc, n, metric] => num(t.get(m, at(sc, n)?, None, metric)),
        ["x", sc, n, metric] => times(t.ratio(at(sc, n)?, metric)),
        _ => named.get(name)?.clone(),
    })
}

/// The named values of the template's placeholders: the run, and the targets' checks.
fn figures(t: &Table, meta: &Meta) -> BTreeMap<&'static str, String> {
    let mut v = BTreeMap::new();
    let failures: Vec<String> = meta
        .failures
        .lines()
        .map(|f| format!("- `{f}`\n"))
        .collect();
    let failed = format!("**{} run(s) FAILED their answer check or panicked; their figures are left out of the medians below:**\n\n", failures.len());
    let passed = "**All runs passed their answer checks.**\n\n".to_string();
    v.insert(
        "failures",
        if failures.is_empty() {
            passed
        } else {
            failed + &failures.concat() + "\n"
        },
    );
    let (n, c) = (t.workers.last().copied().unwrap_or(1), meta.cores());
    let over = format!("**This machine has {c} cores: runs with N > {c} worker threads oversubscribe it** (N = {n} puts {n} threads on {c} cores), so for N > {c} the figures measure preemption and lock-holder descheduling as much as the media. Read N <= {c} as the contention-free and contended cases; read larger N only as relative orderings under oversubscription, not as scaling.\n\n");
    v.insert("oversubscribed", if n > c { over } else { String::new() });
    let top = t.cancels.last().copied().unwrap_or(1.0);
    let k0 = t.keys.first().map_or("u64", |k| k);
    let met = |ok: bool| if ok { "**met**" } else { "**missed**" }.to_string();
    // 1. The laggard folds at most twice its net change, plus a slack.
    let (slack, mut count, mut worst) = (64.0, 0, None::<(f64, String)>);
    for at in t.configs("laggard") {
        let get = |metric| t.get("chain", at, None, metric);
        let (Some(f), Some(net)) = (get("laggard_updates_folded"), get("laggard_net_updates"))
        else {
            continue;
        };
        count += 1;
        if worst.as_ref().map_or(true, |w| f - 2.0 * net > w.0) {
            let At(_, n, c, key) = at;
            worst = Some((
                f - 2.0 * net,
                format!("key {key}, f = {c}, N = {n}: {f} folded, net {net}"),
            ));
        }
    }
    v.insert("t1_met", met(worst.as_ref().map_or(true, |w| w.0 <= slack)));
    v.insert(
        "t1_worst",
        worst.map_or("-".into(), |w| format!("{:.0} ({})", w.0, w.1)),
    );
    v.extend([
        ("t1_count", count.to_string()),
        ("slack", slack.to_string()),
    ]);
    v.insert(
        "lag_sends",
        t.sends("laggard").last().unwrap_or(&0).to_string(),
    );
    // 2. At f = 1, 1000 times fewer updates folded than MPSC.
    let (mut line, mut ok) = (String::new(), true);
    for key in &t.keys {
        line += &format!(" key {key}:");
        for &n in &t.workers {
            let get = |m| {
                t.get(
                    m,
                    At("laggard", n, 1.0, key),
                    None,
                    "laggard_updates_folded",
                )
            };
            if let (Some(c), Some(m)) = (get("chain"), get("mpsc")) {
                let r = (m / c.max(1.0)).round();
                ok &= r >= 1000.0;
                let nothing = if c == 0.0 {
                    ", chain folded nothing"
                } else {
                    ""
                };
                let (c, m, r) = (num(Some(c)), num(Some(m)), num(Some(r)));
                line += &format!(" N={n}: chain {c} vs MPSC {m} ({r}x{nothing});");
            }
        }
    }
    v.extend([("t2_met", met(ok)), ("t2_line", line)]);
    // 3. Backlog live nodes at most readers + 2.
    let (sends, mut closest) = (t.sends("backlog"), (f64::MIN, String::new()));
    for (at, &s) in t
        .configs("backlog")
        .flat_map(|at| sends.iter().map(move |s| (at, s)))
    {
        let At(_, n, c, key) = at;
        let Some(x) = t.get("chain", at, Some(s), "backlog_live_nodes") else {
            continue;
        };
        if x - (n as f64 + 2.0) > closest.0 {
            closest = (
                x - (n as f64 + 2.0),
                format!("{x} at N = {n}, S = {s}, f = {c}, key {key}"),
            );
        }
    }
    v.extend([
        ("t3_sends", format!("{sends:?}")),
        ("t3_met", met(closest.0 <= 0.0)),
        ("t3_closest", closest.1),
    ]);
    // 4. Allocations per in-place send.
    let most = |k: &String| {
        let per_n = t
            .workers
            .iter()
            .filter_map(|&n| t.get("chain", At("backlog", n, 1.0, k), None, "allocs_per_send"));
        format!(
            " key {k}: at most {:.4} allocations per send over N;",
            per_n.fold(0.0, f64::max)
        )
    };
    v.insert("t4_line", t.keys.iter().map(most).collect());
    // 5. Send-path ratios.
    let metrics = [
        "send_ns_median",
        "send_ns_mean",
        "send_ns_p99",
        "recv_ns_median",
        "round_ns",
    ];
    let rows = t.configs("keepup").filter(|at| at.2 == top).map(|at| {
        let get = |m, metric| num(t.get(m, at, None, metric));
        let cell = |x| {
            format!(
                "{} ({} / {})",
                times(t.ratio(at, x)),
                get("chain", x),
                get("mpsc", x)
            )
        };
        [at.3.to_string(), at.1.to_string()]
            .into_iter()
            .chain(metrics.map(cell))
            .collect()
    });
    let header = "key | N | send median chain / MPSC | send mean chain / MPSC | send p99 chain / MPSC | recv median chain / MPSC | round chain / MPSC";
    let table = markdown_table(header, "", rows)
        .lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>();
    v.insert("t5_table", table.join("\n"));
    // The analysis.
    let maxn = t.workers.last().copied().unwrap_or(1);
    let kb = |kb: &String| {
        let r = |n| times(t.ratio(At("keepup", n, top, kb), "send_ns_median"));
        format!(
            "; with the allocating key {kb}: {} at N = 2 and {} at N = {maxn}",
            r(2),
            r(maxn)
        )
    };
    v.insert("send_kb", t.keys.get(1).map(kb).unwrap_or_default());
    let lag = |m| {
        let per_n = t
            .workers
            .iter()
            .filter_map(|&n| t.get(m, At("laggard", n, 1.0, k0), None, "laggard_updates_folded"));
        num(median(per_n.collect()))
    };
    v.extend([
        ("lag_mpsc", lag("mpsc")),
        ("lag_chain", lag("chain")),
        ("lag_mesh", lag("mesh")),
    ]);
    let capped = t
        .workers
        .iter()
        .filter_map(|&n| t.max_sends("chain", At("laggard", n, 0.0, k0), "laggard_updates_folded"));
    v.insert(
        "lag_cap",
        capped.max().map_or("-".into(), |s| s.to_string()),
    );
    v.extend([
        ("command", meta.command.clone()),
        ("date", meta.date.clone()),
        ("seconds", format!("{:.0}", meta.seconds)),
    ]);
    v.extend([
        ("reps", meta.reps.to_string()),
        ("machine", meta.machine.trim().into()),
        ("batch", meta.batch.to_string()),
    ]);
    v.extend([
        ("top", top.to_string()),
        ("k0", k0.to_string()),
        ("maxn", maxn.to_string()),
        ("backlog_across", backlog_across(t)),
    ]);
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
        let at = |n| At("laggard", n, 1.0, "u64");
        assert_eq!(
            t.get("mpsc", at(2), None, "laggard_updates_folded"),
            Some(4000.0)
        );
        assert_eq!(
            t.get("mpsc", at(2), Some(100), "laggard_updates_folded"),
            Some(400.0)
        );
        assert_eq!(t.get("chain", at(4), None, "laggard_updates_folded"), None);
        assert_eq!(t.media, vec!["chain".to_string(), "mpsc".to_string()]);
    }

    #[test]
    fn every_placeholder_of_the_template_has_a_value() {
        let t = Table::new(&[]);
        let mut v = figures(&t, &Meta::default());
        v.insert("plots", String::new());
        fill(TEMPLATE, |name| value(&t, &v, name)).unwrap();
    }
}

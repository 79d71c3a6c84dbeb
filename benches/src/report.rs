//! The sweep's report: its rows ([`Row`]) and run description ([`Meta`]), the CSV files that
//! are all [`write_report`] needs to write `RESULTS.md`, so that `chain-bench --from-csv`
//! rebuilds the report without rerunning the sweep. The prose is the template `report.md`
//! beside this file, whose `{name}` placeholders this file computes; reading, tables, plots and
//! the kept notes are the shared `report` crate's.

use std::collections::BTreeMap;
use std::path::Path;

use itertools::{iproduct, Itertools};
use report::{fill, markdown_table, median, svg_panels, write_keeping_notes, Figures};
use serde::{Deserialize, Serialize};

use crate::{KeyKind, MediumKind, LANE_SLOTS};

/// The metric of the laggard's work, which targets 1 and 2 bound.
const LAGGARD_FOLDED: &str = "laggard_updates_folded";

/// The medium the targets evaluate: the progress adapter's (the chain's rows stay beside it).
const TARGET: &str = "lanes";

/// The report's text, with `{name}` placeholders for its figures.
const TEMPLATE: &str = include_str!("report.md");

/// The report's plots, one kind a line: file name, title, caption, x- and y-axis titles,
/// scenario and metric, where `{c}` stands for f, `{k}` for the key and `{n}` for N. Keep-up
/// is drawn for each key at the largest f, the others for each f at the first key; the
/// backlog against S at N = 2 (bytes at least 1, for the log axis), the others against N (the
/// laggard's updates plus 1).
const PLOTS: &str = "\
keepup-send-{k}.svg | keepup: send ns (median), f = {c}, key {k} | Keep-up send cost (median ns) against N, f = {c}, key {k}. | workers N | ns per send | keepup | send_ns_median
keepup-round-{k}.svg | keepup: wall ns per round, f = {c}, key {k} | Keep-up wall time per round (every worker sends and receives once), f = {c}, key {k}. | workers N | ns per round | keepup | round_ns
laggard-updates-f{c}.svg | laggard: updates folded at catch-up (+1), f = {c}, key {k} | Updates the laggard folds at its catch-up (plus one, for the log axis), f = {c}, key {k}. | workers N | updates folded + 1 | laggard | laggard_updates_folded
backlog-bytes-f{c}.svg | backlog: live bytes after S unread sends, N = {n}, f = {c}, key {k} | Live bytes after S sends nobody read, N = {n}, f = {c}, key {k}. | sends S | live bytes | backlog | backlog_live_bytes";

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

/// A figure as the sweep's tables write it; `-` when missing.
fn num(v: impl Into<Option<f64>>) -> String {
    Figures::Compact.format(v)
}

/// One configuration of the sweep: scenario, workers, cancellation fraction, key, and sends
/// (`None`: the largest measured for each figure).
#[derive(Clone, Copy, Debug)]
struct At<'a>(&'a str, usize, f64, &'a str, Option<usize>);

/// The rows; the workers, cancellation fractions, keys (in [`KeyKind`] order) and media (in
/// [`MediumKind::ALL`] order) they hold; and the largest f, the first key and the largest N,
/// where the text quotes single figures.
struct Table<'a> {
    rows: &'a [Row],
    workers: Vec<usize>,
    cancels: Vec<f64>,
    keys: Vec<String>,
    media: Vec<String>,
    top: f64,
    k0: String,
    maxn: usize,
}

impl<'a> Table<'a> {
    /// Indexes `rows`.
    fn new(rows: &'a [Row]) -> Self {
        let rank = |k: &str| KeyKind::parse(k).map_or(usize::MAX, |k| k as usize);
        let keys = rows.iter().map(|r| r.key.clone()).unique();
        let keys = keys.sorted_by_key(|k| (rank(k), k.clone())).collect_vec();
        let workers = rows.iter().map(|r| r.workers).sorted();
        let workers = workers.dedup().collect_vec();
        let cancels = rows.iter().map(|r| r.cancel).sorted_by(f64::total_cmp);
        let cancels = cancels.dedup().collect_vec();
        let media = MediumKind::ALL.iter().map(|m| m.name().to_string());
        let media = media.filter(|m| rows.iter().any(|r| &r.medium == m));
        Table {
            rows,
            top: cancels.last().copied().unwrap_or(1.0),
            k0: keys.first().map_or("u64", |k| k).into(),
            maxn: workers.last().copied().unwrap_or(1),
            media: media.collect(),
            workers,
            cancels,
            keys,
        }
    }

    /// A medium's metric at a configuration, if measured: (sends, value) at the sends `at`
    /// names, or else at the largest sends measured for it.
    fn at(&self, m: &str, At(sc, n, c, key, s): At, metric: &str) -> Option<(usize, f64)> {
        let names = |r: &Row| [&r.medium, &r.scenario, &r.key, &r.metric] == [m, sc, key, metric];
        let sends = |r: &Row| s.map_or(true, |s| r.sends == s);
        let of = |r: &&Row| names(r) && sends(r) && (r.workers, r.cancel) == (n, c);
        let row = self.rows.iter().filter(of).max_by_key(|r| r.sends)?;
        Some((row.sends, row.value))
    }

    /// The value of [`Table::at`].
    fn get(&self, m: &str, at: At, metric: &str) -> Option<f64> {
        Some(self.at(m, at, metric)?.1)
    }

    /// Sends measured in a scenario, in increasing order.
    fn sends(&self, scenario: &str) -> Vec<usize> {
        let rows = self.rows.iter().filter(|r| r.scenario == scenario);
        rows.map(|r| r.sends).sorted().dedup().collect()
    }

    /// Every configuration of a scenario, in report order (key, then f, then N).
    fn configs<'b>(&'b self, sc: &'b str) -> impl Iterator<Item = At<'b>> + 'b {
        let all = iproduct!(&self.keys, &self.cancels, &self.workers);
        all.map(move |(k, &c, &n)| At(sc, n, c, k, None))
    }

    /// A medium's metric at each N, where measured (scenario `sc`, f = `c`, key `k`).
    fn across_n(&self, m: &str, sc: &str, c: f64, k: &str, metric: &str) -> Vec<f64> {
        let at = |n| At(sc, n, c, k, None);
        let all = self.workers.iter().map(|&n| self.get(m, at(n), metric));
        all.flatten().collect()
    }
}

/// A markdown table: a row (key, f, N, S) for each of `rows` at which some medium measured the
/// first of `cells` (header suffix, metric), then a column for each medium and each of `cells`,
/// holding the medium's value and, with `ratios`, but for MPSC, its ratio to MPSC's. S is the
/// sends the row names, or else the largest that MPSC measured.
fn table<'a>(
    t: &Table,
    rows: impl Iterator<Item = At<'a>>,
    cells: &[(&str, &str)],
    ratios: bool,
) -> String {
    let columns = t.media.iter().cartesian_product(cells);
    let header = columns.clone().map(|(m, c)| format!(" | {m}{}", c.0));
    let present = |at: &At| t.media.iter().any(|m| t.get(m, *at, cells[0].1).is_some());
    let rows = rows.filter(present).map(|at| {
        let s = at.4.or(t.at("mpsc", at, cells[0].1).map(|p| p.0));
        let s = s.map_or(String::new(), |s| s.to_string());
        let config = [at.3.to_string(), at.2.to_string(), at.1.to_string(), s];
        let cells = columns.clone().map(|(m, &(_, metric))| {
            let (v, base) = (t.get(m, at, metric), t.get("mpsc", at, metric));
            let ratio = match (v, base) {
                _ if !ratios || m == "mpsc" || v.is_none() => return num(v),
                (Some(v), Some(b)) if b > 0.0 => format!("{:.2}x", v / b),
                (Some(v), Some(b)) if v == b => "1x".into(),
                _ => "-".into(),
            };
            format!("{} ({ratio})", num(v))
        });
        config.into_iter().chain(cells).collect()
    });
    let header = format!("key | f | N | S{}", header.format(""));
    markdown_table(&header, "", rows).trim_end().into()
}

/// Every configuration of the backlog scenario at every S measured.
fn backlog<'a>(t: &'a Table) -> impl Iterator<Item = At<'a>> {
    let all = iproduct!(t.configs("backlog"), t.sends("backlog"));
    all.map(|(at, s)| At { 4: Some(s), ..at })
}

/// Draws the report's [`PLOTS`] into `dir/plots`; returns the markdown that shows them.
fn plots(t: &Table, dir: &Path) -> Result<String, String> {
    let pdir = dir.join("plots");
    std::fs::create_dir_all(&pdir).map_err(|e| format!("{}: {e}", pdir.display()))?;
    let two = t.workers.iter().find(|&&n| n == 2);
    let n = *two.or(t.workers.first()).unwrap_or(&2);
    let mut md = String::new();
    let mut plot = |spec: &str, c: f64, k: &str| {
        let vars = BTreeMap::from([("c", c.to_string()), ("k", k.into()), ("n", n.to_string())]);
        let spec = fill(spec, |name| vars.get(name).cloned())?;
        let fields = spec.split(" | ").collect_array();
        let [file, title, caption, x, y, sc, metric] = fields.expect("seven fields a plot");
        let point = |m: &str, x: usize| match sc {
            "backlog" => Some(t.get(m, At(sc, n, c, k, Some(x)), metric)?.max(1.0)),
            "laggard" => Some(t.get(m, At(sc, x, c, k, None), metric)? + 1.0),
            _ => t.get(m, At(sc, x, c, k, None), metric),
        };
        let sends = t.sends(sc);
        let xs = if sc == "backlog" { &sends } else { &t.workers };
        let series = t.media.iter().map(|m| {
            let points = xs.iter().filter_map(|&x| Some((x as f64, point(m, x)?)));
            (m.clone(), points.collect())
        });
        md += &format!("![{caption}](plots/{file})\n\n*{caption}*\n\n");
        let panel = (title.into(), x.into(), y.into(), series.collect());
        svg_panels(&pdir.join(file), (760, 440), None, &[panel])
    };
    let specs = PLOTS.lines().collect_vec();
    for (k, spec) in iproduct!(&t.keys, &specs[..2]) {
        plot(spec, t.top, k)?;
    }
    let across_s = t.sends("backlog").len() > 1;
    let rest = specs[2..].iter();
    for spec in rest.filter(|s| across_s || s.starts_with("laggard")) {
        t.cancels.iter().try_for_each(|&c| plot(spec, c, &t.k0))?;
    }
    Ok(md)
}

/// Writes `dir/RESULTS.md` and `dir/plots/*.svg` from the rows of a full sweep.
pub fn write_report(dir: &Path, rows: &[Row], meta: &Meta) -> Result<(), String> {
    let t = Table::new(rows);
    let text = fill(TEMPLATE, values(&t, meta, plots(&t, dir)?))?;
    write_keeping_notes(&dir.join("RESULTS.md"), &text)
}

/// The first of the largest excesses over a bound, with where it is; `None` if there are none.
fn largest(excess: impl Iterator<Item = (f64, String)>) -> Option<(f64, String)> {
    excess.min_by(|a, b| b.0.total_cmp(&a.0))
}

/// The value of each placeholder of the template: `table:SCENARIO:METRIC`,
/// `v:MEDIUM:SCENARIO:N:METRIC` (at the largest f, the first key and the largest sends; N may
/// be `max`), `x:MEDIUM:SCENARIO:N:METRIC[:KEY]` (MEDIUM / MPSC there, or at KEY),
/// `med:MEDIUM:SCENARIO:METRIC` (the median over N there), and the named values: the run, the
/// targets' checks and the `plots`.
fn values<'a>(t: &'a Table, meta: &Meta, plots: String) -> impl Fn(&str) -> Option<String> + 'a {
    let failures = meta.failures.lines().map(|f| format!("- `{f}`\n"));
    // The cores of the sweep's machine (the line after `$ nproc`), where N exceeds them.
    let mut after = meta.machine.lines().skip_while(|l| l.trim() != "$ nproc");
    let cores = after.nth(1).and_then(|n| n.trim().parse().ok());
    let cores = cores.filter(|&c: &usize| t.maxn > c);
    // A medium's metric over MPSC's at a configuration, where both are measured.
    let ratio = |m: &str, at: At, x: &str| Some(t.get(m, at, x)? / t.get("mpsc", at, x)?);
    let met = |o: Option<bool>| o.map_or("not measured", |o| ["missed", "met"][o as usize]);

    // 1. The laggard folds at most twice its net change, plus a slack.
    let slack = 64.0;
    let t1 = t.configs("laggard").filter_map(|at| {
        let get = |metric| t.get(TARGET, at, metric);
        let (f, net) = (get(LAGGARD_FOLDED)?, get("laggard_net_updates")?);
        let (key, c, n) = (at.3, at.2, at.1);
        let what = format!("key {key}, f = {c}, N = {n}: {f} folded, net {net}");
        Some((f - 2.0 * net, what))
    });
    let t1 = t1.collect_vec();
    let t1_worst = largest(t1.iter().cloned());
    let t1_met = met(t1_worst.as_ref().map(|w| w.0 <= slack));
    let t1_worst = t1_worst.map_or("-".into(), |w| format!("{:.0} ({})", w.0, w.1));

    // 2. At f = 1, 1000 times fewer updates folded than MPSC: the smallest ratio.
    let t2 = largest(iproduct!(&t.keys, &t.workers).filter_map(|(key, &n)| {
        let get = |m| t.get(m, At("laggard", n, 1.0, key, None), LAGGARD_FOLDED);
        let (c, m) = (get(TARGET)?, get("mpsc")?);
        let r = (m / c.max(1.0)).round();
        let nothing = ["", ", it folded nothing"][(c == 0.0) as usize];
        let (c, m, r, x) = (num(c), num(m), num(r), -r);
        let what = format!("{r}x (key {key}, N = {n}: {TARGET} {c} vs MPSC {m}{nothing})");
        Some((x, what))
    }));

    // 3. Backlog live nodes at most a ring per lane and a backlog per reader.
    let t3 = largest(backlog(t).filter_map(|at| {
        let x = t.get(TARGET, at, "backlog_live_nodes")?;
        let (n, s, c, key) = (at.1, at.4?, at.2, at.3);
        let what = format!("{x} at N = {n}, S = {s}, f = {c}, key {key}");
        Some((x - ((LANE_SLOTS + 1) * n) as f64, what))
    }));

    // 4. Allocations per send at f = 1, the most over N: keep-up, then backlog.
    let t4_line = t.keys.iter().map(|k| {
        let most = ["keepup", "backlog"].map(|s| t.across_n(TARGET, s, 1.0, k, "allocs_per_send"));
        let [up, back] = most.map(|v| num(v.into_iter().reduce(f64::max)));
        format!(" key {k}: at most {up} per send over N in keep-up, {back} in backlog;")
    });

    // 5. Keep-up send and receive medians no worse than MPSC's at N = 1 and 2 (f, key as quoted).
    let t5 = iproduct!([1, 2], ["send_ns_median", "recv_ns_median"]);
    let t5 = t5.filter_map(|(n, x)| ratio(TARGET, At("keepup", n, t.top, &t.k0, None), x));

    // The analysis.
    // Laggard runs with f < 1 send fewer (the sweep caps them): the smallest S, and the largest.
    let lag = t.sends("laggard");
    let across = [
        (" nodes", "backlog_live_nodes"),
        (" bytes", "backlog_live_bytes"),
    ];
    let across = (t.sends("backlog").len() > 1).then(|| table(t, backlog(t), &across, false));
    let named = BTreeMap::from([
        ("plots", plots),
        ("failed", meta.failures.lines().count().to_string()),
        ("failures", failures.collect()),
        ("cores", cores.map_or(String::new(), |c| c.to_string())),
        ("slack", slack.to_string()),
        ("lag_sends", lag.last().copied().unwrap_or(0).to_string()),
        ("t1_met", t1_met.into()),
        ("t1_count", t1.len().to_string()),
        ("t1_worst", t1_worst),
        ("t2_met", met(t2.as_ref().map(|r| -r.0 >= 1000.0)).into()),
        ("t2_smallest", t2.map_or("-".into(), |r| r.1)),
        ("t3_sends", format!("{:?}", t.sends("backlog"))),
        ("t3_met", met(t3.as_ref().map(|c| c.0 <= 0.0)).into()),
        ("t3_closest", t3.map_or(String::new(), |c| c.1)),
        ("t4_line", t4_line.collect()),
        ("t5_met", met(t5.reduce(f64::max).map(|r| r <= 1.0)).into()),
        ("slots", LANE_SLOTS.to_string()),
        ("lag_cap", lag.first().map_or("-".into(), |s| s.to_string())),
        ("command", meta.command.clone()),
        ("date", meta.date.clone()),
        ("seconds", format!("{:.0}", meta.seconds)),
        ("reps", meta.reps.to_string()),
        ("machine", meta.machine.trim().into()),
        ("batch", meta.batch.to_string()),
        ("top", t.top.to_string()),
        ("k0", t.k0.clone()),
        ("maxn", t.maxn.to_string()),
        ("backlog_across", across.unwrap_or_default()),
    ]);
    move |name| {
        let at = |sc, n: &str, key| {
            let n = if n == "max" { t.maxn } else { n.parse().ok()? };
            Some(At(sc, n, t.top, Option::unwrap_or(key, &t.k0), None))
        };
        // A medium / MPSC of a metric at a configuration: `1.23x`, or `-`.
        let x = |m, at, metric| ratio(m, at, metric).map_or("-".into(), |r| format!("{r:.2}x"));
        Some(match name.split(':').collect_vec()[..] {
            ["table", sc, _] if t.sends(sc).is_empty() => "(not measured)".into(),
            ["table", sc, metric] => table(t, t.configs(sc), &[("", metric)], true),
            ["med", m, sc, metric] => num(median(t.across_n(m, sc, t.top, &t.k0, metric))),
            ["v", m, sc, n, metric] => num(t.get(m, at(sc, n, None)?, metric)),
            ["x", m, sc, n, metric] => x(m, at(sc, n, None)?, metric),
            ["x", m, sc, n, metric, k] => x(m, at(sc, n, Some(k))?, metric),
            _ => named.get(name)?.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_takes_the_largest_sends() {
        // Each row's value is its sends.
        let row = |(medium, sends): (&str, usize)| Row {
            medium: medium.into(),
            scenario: "laggard".into(),
            workers: 2,
            cancel: 1.0,
            key: "u64".into(),
            sends,
            metric: LAGGARD_FOLDED.into(),
            value: sends as f64,
        };
        let rows = [("mpsc", 100), ("mpsc", 1000), ("chain", 100)].map(row);
        let t = Table::new(&rows);
        let get = |m, n, s| t.get(m, At("laggard", n, 1.0, "u64", s), LAGGARD_FOLDED);
        assert_eq!(get("mpsc", 2, None), Some(1000.0));
        assert_eq!(get("mpsc", 2, Some(100)), Some(100.0));
        assert_eq!(get("chain", 4, None), None);
        assert_eq!(t.media, ["chain", "mpsc"]);
    }

    #[test]
    fn every_placeholder_of_the_template_has_a_value() {
        let t = Table::new(&[]);
        let text = fill(TEMPLATE, values(&t, &Meta::default(), String::new())).unwrap();
        assert!(
            text.contains("**not measured**"),
            "no lanes rows: no target is met"
        );
    }
}

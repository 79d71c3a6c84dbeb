//! Medians, figure formatting, markdown tables, templates and the notes kept below the marker.

use std::path::Path;

use itertools::Itertools;
use regex::{Captures, Regex};

/// The line after which a report holds hand-written notes that regeneration keeps.
pub const NOTES_MARKER: &str =
    "<!-- notes: everything below this line is kept when the report is regenerated -->";

/// The median of `values` (the mean of the middle two for an even count), or `None` if empty.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    // The middle value, or the middle two.
    let middle = values.get(n.saturating_sub(1) / 2..=n / 2)?;
    Some(middle.iter().sum::<f64>() / middle.len() as f64)
}

/// How a report writes its figures: decimals chosen by magnitude.
#[derive(Clone, Copy, Debug)]
pub enum Figures {
    /// The sweep's: integers exact, `1234`, `12.35`, `0.123`.
    Compact,
    /// The comparison's: `1234`, `123.4`, `1.234`.
    Aligned,
}

impl Figures {
    /// `v` written in this style; `-` for a missing figure (NaN or `None`).
    pub fn format(self, v: impl Into<Option<f64>>) -> String {
        let Some(v) = v.into().filter(|v| !v.is_nan()) else {
            return "-".into();
        };
        let places = match (self, v.abs()) {
            (Figures::Compact, a) if v == v.trunc() && a < 1e15 => return format!("{}", v as i64),
            (Figures::Compact, a) if a >= 100.0 => 0,
            (Figures::Compact, a) if a >= 1.0 => 2,
            (Figures::Aligned, a) if a >= 1000.0 => 0,
            (Figures::Aligned, a) if a >= 10.0 => 1,
            _ => 3,
        };
        format!("{v:.places$}")
    }
}

/// A markdown table: the header (`"a | b"`), an alignment row (`align` holds one letter a
/// column, `r` for right-aligned, anything else for the default), then the rows.
pub fn markdown_table(
    header: &str,
    align: &str,
    rows: impl IntoIterator<Item = Vec<String>>,
) -> String {
    let right = |i| align.as_bytes().get(i) == Some(&b'r');
    let rule = (0..header.split(" | ").count()).map(|i| if right(i) { "---:" } else { "---" });
    let rows = rows
        .into_iter()
        .map(|row| format!("| {} |", row.join(" | ")) + "\n");
    format!("| {header} |\n|{}|\n{}", rule.format("|"), rows.format(""))
}

/// `template` with every `{name}` replaced by `value(name)` (names: letters, digits, `_`, `:`),
/// every `{?name}TEXT{/}` by TEXT where `value(name)` is not empty and `{!name}TEXT{/}` by TEXT
/// where it is, and other braces kept. A name that `value` does not know is an error.
pub fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let section = Regex::new(r"(?s)\{([?!])([A-Za-z0-9_:]+)\}(.*?)\{/\}").expect("a valid pattern");
    let placeholder = Regex::new(r"\{([A-Za-z0-9_:]+)\}").expect("a valid pattern");
    let mut missing = None;
    let mut get = |name: &str| {
        value(name).unwrap_or_else(|| {
            missing.get_or_insert(format!("{{{name}}}"));
            String::new()
        })
    };
    let kept = section.replace_all(template, |c: &Captures| {
        let keep = get(&c[2]).is_empty() == (&c[1] == "!");
        String::from(if keep { &c[3] } else { "" })
    });
    let filled = placeholder.replace_all(&kept, |c: &Captures| get(&c[1]));
    let no_value = |name| Err(format!("no value for {name}"));
    missing.map_or(Ok(filled.into_owned()), no_value)
}

/// Writes `generated`, the notes marker, and whatever followed the marker in the file
/// already at `path` (hand-written notes), so that regeneration keeps them.
pub fn write_keeping_notes(path: &Path, generated: &str) -> Result<(), String> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let notes = old.split_once(NOTES_MARKER).map_or("\n", |(_, n)| n);
    let notes = notes.strip_suffix('\n').unwrap_or(notes);
    let s = format!("{generated}\n{NOTES_MARKER}{notes}\n");
    std::fs::write(path, s).map_err(|e| format!("{}: {e}", path.display()))
}

//! Medians, figure formatting, markdown tables and the notes kept below the marker.

use std::path::Path;

/// The line after which a report holds hand-written notes that regeneration keeps.
pub const NOTES_MARKER: &str =
    "<!-- notes: everything below this line is kept when the report is regenerated -->";

/// The median of `values` (the mean of the middle two for an even count), or `None` if empty.
///
/// # Examples
///
/// ```
/// assert_eq!(report::median(vec![3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(report::median(vec![1.0, 1.4]), Some(1.2));
/// assert_eq!(report::median(vec![]), None);
/// ```
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// How a report writes its figures: decimals chosen by magnitude.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    /// Whole numbers are written without decimals, whatever their magnitude.
    pub exact_integers: bool,
    /// `(threshold, decimals)`, largest threshold first: the first threshold that `|v|`
    /// reaches gives the decimals.
    pub steps: &'static [(f64, usize)],
    /// Decimals below the last threshold.
    pub rest: usize,
}

impl Figures {
    /// The sweep's: integers exact, `1234`, `12.35`, `0.123`.
    pub const COMPACT: Figures = Figures {
        exact_integers: true,
        steps: &[(100.0, 0), (1.0, 2)],
        rest: 3,
    };
    /// The comparison's: `1234`, `123.4`, `1.234`.
    pub const ALIGNED: Figures = Figures {
        exact_integers: false,
        steps: &[(1000.0, 0), (10.0, 1)],
        rest: 3,
    };

    /// `v` written in this style; `-` for a missing figure (NaN).
    ///
    /// # Examples
    ///
    /// ```
    /// use report::Figures;
    /// assert_eq!(Figures::COMPACT.format(4.0), "4");
    /// assert_eq!(Figures::COMPACT.format(87.034), "87.03");
    /// assert_eq!(Figures::ALIGNED.format(4.0), "4.000");
    /// assert_eq!(Figures::ALIGNED.format(f64::NAN), "-");
    /// ```
    pub fn format(&self, v: f64) -> String {
        if v.is_nan() {
            return "-".into();
        }
        if self.exact_integers && v == v.trunc() && v.abs() < 1e15 {
            return format!("{}", v as i64);
        }
        let places = self
            .steps
            .iter()
            .find(|(threshold, _)| v.abs() >= *threshold)
            .map_or(self.rest, |s| s.1);
        format!("{v:.places$}")
    }

    /// [`Figures::format`] of a figure that may be missing.
    pub fn or_dash(&self, v: Option<f64>) -> String {
        self.format(v.unwrap_or(f64::NAN))
    }
}

/// A markdown table: the header (`"a | b"`), an alignment row (`align` holds one letter a
/// column, `r` for right-aligned, anything else for the default), then the rows.
pub fn markdown_table(
    header: &str,
    align: &str,
    rows: impl IntoIterator<Item = Vec<String>>,
) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut s = format!("| {header} |\n");
    let mut letters = align.chars();
    for _ in header.split(" | ") {
        s.push_str(if letters.next() == Some('r') {
            "|---:"
        } else {
            "|---"
        });
    }
    s.push_str("|\n");
    for row in rows {
        s.push_str(&line(&row));
    }
    s
}

/// `template` with every `{name}` replaced by `value(name)` (names: letters, digits, `_`, `:`);
/// other braces are kept. A name that `value` does not know is an error.
///
/// # Examples
///
/// ```
/// let v = |name: &str| (name == "n").then(|| "2".to_string());
/// assert_eq!(report::fill("N = {n}, {not a name}", v).unwrap(), "N = 2, {not a name}");
/// assert!(report::fill("{m}", v).is_err());
/// ```
pub fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'));
        match name_len.filter(|&n| n > 0 && after[n..].starts_with('}')) {
            Some(n) => {
                let name = &after[..n];
                out += &value(name).ok_or_else(|| format!("no value for {{{name}}}"))?;
                rest = &after[n + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Writes `generated`, the notes marker, and whatever followed the marker in the file
/// already at `path` (hand-written notes), so that regeneration keeps them.
pub fn write_keeping_notes(path: &Path, generated: &str) -> Result<(), String> {
    let notes = std::fs::read_to_string(path)
        .ok()
        .and_then(|old| old.split_once(NOTES_MARKER).map(|(_, n)| n.to_string()))
        .unwrap_or_else(|| "\n".into());
    let mut s = format!("{generated}\n{NOTES_MARKER}{notes}");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    std::fs::write(path, s).map_err(|e| format!("{}: {e}", path.display()))
}

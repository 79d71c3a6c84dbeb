//! CSV rows in and out through `serde`, with errors that name the line and column.

use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Serialize};

/// Reads every row of the CSV file at `path` (a header line, then one row a line).
///
/// A row with too few or too many fields, or a field that does not parse as its column's
/// type, is an error `PATH:LINE: column N (NAME): WHAT` for the first such row.
pub fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, String> {
    let at = |e: csv::Error| located(path, e);
    let mut reader = csv::Reader::from_path(path).map_err(at)?;
    let header = reader.headers().map_err(at)?.clone();
    let row = |row: Result<T, csv::Error>| {
        row.map_err(|e| match e.kind() {
            csv::ErrorKind::Deserialize { pos, err } => {
                let column = err.field().map_or(0, |f| f as usize);
                format!(
                    "{}:{}: column {} ({}): {}",
                    path.display(),
                    pos.as_ref().map_or(0, |p| p.line()),
                    column + 1,
                    header.get(column).unwrap_or("?"),
                    err.kind()
                )
            }
            _ => at(e),
        })
    };
    reader.deserialize().map(row).collect()
}

/// `PATH:LINE: WHAT` for an error that is not about one field.
fn located(path: &Path, e: csv::Error) -> String {
    match (e.position(), e.kind()) {
        (
            Some(pos),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            },
        ) => format!(
            "{}:{}: {len} fields where the header has {expected_len}",
            path.display(),
            pos.line()
        ),
        (Some(pos), _) => format!("{}:{}: {e}", path.display(), pos.line()),
        (None, _) => format!("{}: {e}", path.display()),
    }
}

/// Reads the rows of `csv` and the one-row run description beside it ([`meta_path`]).
pub fn read_with_meta<T: DeserializeOwned, M: DeserializeOwned>(
    csv: &Path,
) -> Result<(Vec<T>, M), String> {
    let rows = read_rows(csv)?;
    let meta = read_rows(&meta_path(csv))?.pop();
    Ok((
        rows,
        meta.ok_or_else(|| format!("{}: no row", meta_path(csv).display()))?,
    ))
}

/// Writes `rows` as CSV to `path` (creating its folder): a header from the field names, then
/// one row a line.
pub fn write_rows<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| at(&e))?;
    }
    let mut writer = csv::Writer::from_path(path).map_err(|e| at(&e))?;
    for row in rows {
        writer.serialize(row).map_err(|e| at(&e))?;
    }
    writer.flush().map_err(|e| at(&e))
}

/// Where the one-row run description of the rows in `csv` is kept: `latency-meta.csv` beside
/// `latency.csv`.
pub fn meta_path(csv: &Path) -> PathBuf {
    let stem = csv.file_stem().unwrap_or_default().to_string_lossy();
    csv.with_file_name(format!("{stem}-meta.csv"))
}

//! CSV rows in and out through `serde`, with errors that name the line and column.

use std::path::{Path, PathBuf};

use csv::{ErrorKind, StringRecord};
use serde::{de::DeserializeOwned, Serialize};

/// Reads every row of the CSV file at `path` (a header line, then one row a line).
///
/// A row with too few or too many fields, or a field that does not parse as its column's
/// type, is an error `PATH:LINE: column N (NAME): WHAT` for the first such row.
pub fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, String> {
    let at = |e| located(path, &StringRecord::new(), e);
    let mut reader = csv::Reader::from_path(path).map_err(at)?;
    let header = reader.headers().map_err(at)?.clone();
    let row = |row: Result<T, csv::Error>| row.map_err(|e| located(path, &header, e));
    reader.deserialize().map(row).collect()
}

/// `PATH:LINE: WHAT` for an error in the CSV file at `path` whose header is `header`.
fn located(path: &Path, header: &StringRecord, e: csv::Error) -> String {
    let line = e.position().map(|p| format!(":{}", p.line()));
    let what = match e.kind() {
        ErrorKind::Deserialize { err, .. } => {
            let column = err.field().map_or(0, |f| f as usize);
            let name = header.get(column).unwrap_or("?");
            format!("column {} ({name}): {}", column + 1, err.kind())
        }
        ErrorKind::UnequalLengths { len, .. } => {
            format!("{len} fields where the header has {}", header.len())
        }
        _ => e.to_string(),
    };
    format!("{}{}: {what}", path.display(), line.unwrap_or_default())
}

/// Reads the rows of `csv` and the one-row run description beside it ([`meta_path`]).
pub fn read_with_meta<T: DeserializeOwned, M: DeserializeOwned>(
    csv: &Path,
) -> Result<(Vec<T>, M), String> {
    let (rows, meta_csv) = (read_rows(csv)?, meta_path(csv));
    let no_row = || format!("{}: no row", meta_csv.display());
    Ok((rows, read_rows(&meta_csv)?.pop().ok_or_else(no_row)?))
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

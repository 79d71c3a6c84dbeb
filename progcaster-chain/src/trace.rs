//! An optional record of chain creations and of what each chain did, for proving that test
//! suites used the chain and for seeing how a run's sends went.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Names a file to which one line is appended whenever a progress chain is created or freed.
///
/// Read once per process. Lines are `chain <local workers>` at creation and
/// `freed lanes sent=<n> drained=<n>` when a channel's lanes are freed (their
/// [`chain::LanesStats`]), or `freed appended=<n> merged_in_place=<n> absorbed=<n> trimmed=<n>`
/// when a forwarding process's chain is (its [`chain::Stats`]); appends from several processes to one file are whole lines. Unset:
/// nothing is recorded, at the cost of one load per chain.
pub const TRACE_VAR: &str = "PROGCASTER_CHAIN_TRACE";

/// The trace file, if [`TRACE_VAR`] is set.
fn path() -> Option<&'static PathBuf> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| std::env::var_os(TRACE_VAR).map(PathBuf::from))
        .as_ref()
}

/// Appends `line` to `path`. A record, not a requirement: a failure to write is ignored.
fn append(path: &PathBuf, line: String) {
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = file.write_all(line.as_bytes());
    }
}

/// Records the creation of a chain shared by `threads` workers, if [`TRACE_VAR`] is set.
pub(crate) fn chain_created(threads: usize) {
    if let Some(path) = path() {
        append(path, format!("chain {threads}\n"));
    }
}

/// Records what a chain did, when it is freed, if [`TRACE_VAR`] is set (`stats` is only
/// called then: it takes the chain's locks).
pub(crate) fn chain_freed(stats: impl FnOnce() -> String) {
    if let Some(path) = path() {
        append(path, format!("freed {}\n", stats()));
    }
}

//! An optional record of chain creations, for proving that test suites used the chain.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Names a file to which one line is appended whenever a progress chain is created.
///
/// Read once per process. Lines are `chain <local workers>`; appends from several processes
/// to one file are whole lines. Unset: nothing is recorded, at the cost of one load per chain.
pub const TRACE_VAR: &str = "PROGCASTER_CHAIN_TRACE";

/// Records the creation of a chain shared by `threads` workers, if [`TRACE_VAR`] is set.
pub(crate) fn chain_created(threads: usize) {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    if let Some(path) = PATH.get_or_init(|| std::env::var_os(TRACE_VAR).map(PathBuf::from)) {
        // A record, not a requirement: a failure to write is ignored.
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = file.write_all(format!("chain {threads}\n").as_bytes());
        }
    }
}

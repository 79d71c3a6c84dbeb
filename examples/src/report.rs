//! The machine-readable output lines that `scripts/compare` collects.

/// Prints `@metric NAME VALUE`: one measured figure of this run.
pub fn emit_metric(name: &str, value: f64) {
    println!("@metric {name} {value:.6}");
}

/// Prints `@checksum HEX`: the digest of the run's output, equal across media and worker counts.
pub fn emit_checksum(value: u64) {
    println!("@checksum {value:016x}");
}

/// Prints `error: MESSAGE` to standard error and exits with status 1 (no backtrace).
pub fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

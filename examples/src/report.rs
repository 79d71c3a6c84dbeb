//! The machine-readable output lines that `scripts/compare` collects.

/// Prints `@metric NAME VALUE`: one measured figure of this run.
pub fn emit_metric(name: &str, value: f64) {
    println!("@metric {name} {value:.6}");
}

/// True when this build forwards the `chain-progress` feature to timely, so that
/// `TIMELY_PROGRESS_MEDIUM` selects the progress medium; without it every run uses stock timely.
pub fn chain_feature() -> bool {
    cfg!(feature = "chain-progress")
}

/// Prints the run's configuration lines: `@medium NAME` (the medium the environment asked for)
/// and `@chain-feature on|off` (whether this build can honour it).
pub fn emit_run_info() {
    println!("@medium {}", crate::medium());
    println!(
        "@chain-feature {}",
        if chain_feature() { "on" } else { "off" }
    );
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

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

/// Context switches of the calling thread so far (voluntary and involuntary), where the
/// platform reports them (Linux: `/proc/thread-self/status`); `None` elsewhere.
///
/// A worker that finds nothing to do polls for timely's `idle_spin` and then parks its thread;
/// every park and every preemption is a context switch, so their count per round tells a run
/// in which workers kept polling from one in which they slept between rounds.
pub fn thread_context_switches() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    let mut total = None;
    for line in status.lines() {
        let count = line
            .strip_prefix("voluntary_ctxt_switches:")
            .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"));
        if let Some(count) = count {
            *total.get_or_insert(0) += count.trim().parse::<u64>().ok()?;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn a_thread_that_sleeps_is_switched_out() {
        let before = super::thread_context_switches().expect("Linux reports context switches");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let after = super::thread_context_switches().expect("Linux reports context switches");
        assert!(after > before, "{before} -> {after}");
    }
}

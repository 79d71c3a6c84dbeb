//! Command-line options shared by every example.

use std::time::Duration;

use clap::Args;

/// Options every example takes: the number of worker threads and how long an idle worker
/// polls before it parks.
#[derive(Args, Clone, Debug)]
pub struct WorkerArgs {
    /// Number of worker threads in this process.
    #[arg(short = 'w', long = "workers", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: u16,

    /// Microseconds an idle worker polls for events before parking (timely's default if unset).
    #[arg(long = "idle-spin", value_name = "MICROS",
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub idle_spin: Option<u64>,
}

impl WorkerArgs {
    /// The timely configuration these options describe: one process with `workers` threads
    /// (a single worker uses timely's thread-local allocator, as `-w 1` does in timely).
    ///
    /// # Examples
    ///
    /// ```
    /// use clap::Parser;
    ///
    /// #[derive(Parser)]
    /// struct Cli {
    ///     #[command(flatten)]
    ///     workers: examples::WorkerArgs,
    /// }
    ///
    /// let cli = Cli::try_parse_from(["x", "-w", "3"]).unwrap();
    /// assert_eq!(cli.workers.workers, 3);
    /// assert!(Cli::try_parse_from(["x", "-w", "0"]).is_err());
    /// let config = cli.workers.config();
    /// # let _ = config;
    /// ```
    pub fn config(&self) -> timely::Config {
        let mut config = if self.workers == 1 {
            timely::Config::thread()
        } else {
            timely::Config::process(self.workers as usize)
        };
        if let Some(micros) = self.idle_spin {
            config.worker = config.worker.idle_spin(Duration::from_micros(micros));
        }
        config
    }

    /// The number of worker threads.
    pub fn count(&self) -> usize {
        self.workers as usize
    }
}

/// The progress medium this run asked for through `TIMELY_PROGRESS_MEDIUM`.
///
/// The patched timely validates the variable and selects the medium itself; this only echoes
/// the request so that every example's output records it. Unset means timely's default.
pub fn medium() -> String {
    std::env::var("TIMELY_PROGRESS_MEDIUM").unwrap_or_else(|_| "default".to_string())
}

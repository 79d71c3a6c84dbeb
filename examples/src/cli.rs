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

    /// Number of processes of the computation (each with `--workers` workers).
    #[arg(short = 'n', long = "processes", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub processes: u16,

    /// Identity of this process, from 0 to `--processes` - 1.
    #[arg(short = 'p', long = "process", default_value_t = 0)]
    pub process: u16,

    /// A file of `host:port` lines, one per process (default: localhost ports 2101, 2102, ...).
    #[arg(long = "hostfile", value_name = "FILE")]
    pub hostfile: Option<std::path::PathBuf>,
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
        let mut config = if self.processes > 1 {
            timely::Config {
                communication: timely::CommunicationConfig::Cluster {
                    threads: self.workers as usize,
                    process: self.process as usize,
                    addresses: self.addresses(),
                    report: false,
                    zerocopy: false,
                },
                worker: timely::WorkerConfig::default(),
            }
        } else if self.workers == 1 {
            timely::Config::thread()
        } else {
            timely::Config::process(self.workers as usize)
        };
        if let Some(micros) = self.idle_spin {
            config.worker = config.worker.idle_spin(Duration::from_micros(micros));
        }
        config
    }

    /// The number of worker threads of this process.
    pub fn count(&self) -> usize {
        self.workers as usize
    }

    /// The addresses of the processes: the hostfile's lines, or localhost ports from 2101.
    fn addresses(&self) -> Vec<String> {
        match &self.hostfile {
            Some(path) => std::fs::read_to_string(path)
                .unwrap_or_else(|e| crate::fail(format!("cannot read {}: {e}", path.display())))
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(String::from)
                .collect(),
            None => (0..self.processes)
                .map(|i| format!("localhost:{}", 2101 + i as u32))
                .collect(),
        }
    }
}

/// The progress medium this run asked for through `TIMELY_PROGRESS_MEDIUM`.
///
/// The patched timely validates the variable and selects the medium itself; this only echoes
/// the request so that every example's output records it. Unset means timely's default.
pub fn medium() -> String {
    std::env::var("TIMELY_PROGRESS_MEDIUM").unwrap_or_else(|_| "default".to_string())
}

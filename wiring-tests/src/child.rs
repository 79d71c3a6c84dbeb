//! Running the `wiring` program as a child process, with a deadline.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a child process left behind.
#[derive(Debug)]
pub struct Outcome {
    /// Its exit status code, `None` if killed by a signal.
    pub code: Option<i32>,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr.
    pub stderr: String,
    /// Whether it was still running when its deadline passed (and was killed then).
    pub timed_out: bool,
}

/// A deadline that counts only the time this process was running: a poll that returns much
/// later than it asked for means this process was stopped (`SIGSTOP`, a suspended shell, a
/// paused machine) or not scheduled for seconds, and that gap is not counted. Children that
/// were stopped with it would otherwise be killed as if hung: a pause longer than the deadline
/// in the middle of a cluster run used to fail the test.
#[derive(Debug)]
pub struct Deadline {
    left: Duration,
    last: Instant,
    /// The time not counted so far.
    pub uncounted: Duration,
}

impl Deadline {
    /// The longest gap between two polls that still counts (polls come every 20 ms).
    const GAP: Duration = Duration::from_secs(1);

    /// A deadline `limit` of running time after `start`. The time from `start` to the first
    /// poll all counts (a caller may have waited on something else since `start`).
    pub fn new(start: Instant, limit: Duration) -> Self {
        let mut deadline = Deadline {
            left: limit,
            last: Instant::now(),
            uncounted: Duration::ZERO,
        };
        deadline.left = deadline.left.saturating_sub(deadline.last - start);
        deadline
    }

    /// Counts the time since the last poll (unless it is a gap: more than a second); true
    /// once the deadline has passed.
    pub fn passed(&mut self) -> bool {
        let now = Instant::now();
        let step = now - self.last;
        self.last = now;
        if step > Self::GAP {
            self.uncounted += step;
        } else {
            self.left = self.left.saturating_sub(step);
        }
        self.left.is_zero()
    }
}

/// Starts `command` with piped output; pair with [`wait`], which enforces a deadline.
///
/// # Panics
/// If the child cannot be started.
pub fn spawn(mut command: Command) -> std::process::Child {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start child")
}

/// Reads `child`'s stdout and stderr to their ends on two threads, from now on, so that a
/// chatty child cannot block on a full pipe; joining them gives what it wrote.
fn drain(child: &mut std::process::Child) -> (JoinHandle<String>, JoinHandle<String>) {
    fn read_all(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    }
    let out = child.stdout.take().expect("piped stdout");
    let err = child.stderr.take().expect("piped stderr");
    (read_all(out), read_all(err))
}

/// Waits for `child` until `deadline` has passed since `start` (running time: see
/// [`Deadline`]), killing it then.
///
/// # Panics
/// If the child is still running at the deadline.
pub fn wait(mut child: std::process::Child, start: Instant, deadline: Duration) -> Outcome {
    let (out, err) = drain(&mut child);
    let mut clock = Deadline::new(start, deadline);
    loop {
        if let Some(status) = child.try_wait().expect("wait on child") {
            return Outcome {
                code: status.code(),
                stdout: out.join().expect("stdout reader"),
                stderr: err.join().expect("stderr reader"),
                timed_out: false,
            };
        }
        if clock.passed() {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            panic!(
                "child ran past {deadline:?} of running time (killed; {:?} more not counted, \
                 this process stopped); stderr:\n{stderr}",
                clock.uncounted
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `command` to completion within `deadline`.
///
/// # Panics
/// If the child cannot be started or runs past the deadline.
pub fn run(command: Command, deadline: Duration) -> Outcome {
    let start = Instant::now();
    let child = spawn(command);
    wait(child, start, deadline)
}

/// The `wiring` program with `TIMELY_PROGRESS_MEDIUM` set to `medium` (`None`: unset).
pub fn wiring(program: &str, medium: Option<&str>, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    match medium {
        Some(medium) => command.env(progcaster_chain::MEDIUM_VAR, medium),
        None => command.env_remove(progcaster_chain::MEDIUM_VAR),
    };
    command
}

/// The records a `wiring nested` run printed, after checking it ran under `medium` and
/// that progress went through chains exactly when it should have.
///
/// # Panics
/// If the run failed, reported another medium, or used chains when it should not have (or
/// the other way around).
pub fn records(
    outcome: &Outcome,
    medium: &str,
    workers_per_process: usize,
) -> Vec<(u64, u64, u64)> {
    assert_eq!(
        outcome.code,
        Some(0),
        "run failed; stderr:\n{}",
        outcome.stderr
    );
    let chains = outcome
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("chains "))
        .and_then(|n| n.parse::<usize>().ok())
        .expect("a `chains` line");
    if matches!(medium, "chain" | "aggregate") && workers_per_process > 1 {
        // One chain per scope: the dataflow and its two nested iterative scopes. A process of
        // one worker has no one to share with: it keeps timely's channels in both media.
        assert_eq!(chains, 3, "progress did not go through chains");
    } else {
        assert_eq!(chains, 0, "progress went through chains under {medium}");
    }
    // timely's networking may print connection reports before our output starts.
    let mut lines = outcome
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("medium "));
    assert_eq!(lines.next(), Some(format!("medium {medium}").as_str()));
    lines
        .filter(|line| !line.starts_with("chains "))
        .map(|line| {
            let mut fields = line.split(' ').map(|f| f.parse::<u64>().expect("a number"));
            let mut next = || fields.next().expect("three fields");
            (next(), next(), next())
        })
        .collect()
}

/// A timely hostfile for `processes` processes on 127.0.0.1, at ports that were free a moment
/// ago, in the temporary directory under a name that includes `tag`. The caller removes it.
///
/// # Panics
/// If no port can be bound or the file cannot be written.
pub fn hostfile(tag: &str, processes: usize) -> PathBuf {
    // Bind all before reading any port, so that the ports differ.
    let listeners: Vec<_> = (0..processes)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect();
    let path = std::env::temp_dir().join(format!(
        "wiring-hosts-{}-{tag}-{}",
        std::process::id(),
        ports[0]
    ));
    let mut file = std::fs::File::create(&path).expect("hostfile");
    for port in ports {
        writeln!(file, "127.0.0.1:{port}").expect("write hostfile");
    }
    path
}

/// Waits for every child of a cluster until `deadline` has passed since `start` (running time:
/// see [`Deadline`]); once one fails (or at the deadline), kills the others, which may be
/// waiting for it forever. A killed child's outcome has no exit code; those still running at
/// the deadline are marked `timed_out`.
///
/// # Panics
/// If a child cannot be waited on.
pub fn wait_cluster(
    mut children: Vec<std::process::Child>,
    start: Instant,
    deadline: Duration,
) -> Vec<Outcome> {
    let pipes: Vec<_> = children.iter_mut().map(drain).collect();
    let mut clock = Deadline::new(start, deadline);
    let mut timed_out = false;
    loop {
        let mut failed = false;
        let mut running = false;
        for child in &mut children {
            match child.try_wait().expect("wait on child") {
                Some(status) => failed |= !status.success(),
                None => running = true,
            }
        }
        if !running || failed {
            break;
        }
        if clock.passed() {
            timed_out = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    children
        .iter_mut()
        .zip(pipes)
        .map(|(child, (out, err))| {
            let running = matches!(child.try_wait(), Ok(None));
            let _ = child.kill();
            let status = child.wait().expect("wait on child");
            Outcome {
                code: status.code(),
                stdout: out.join().expect("stdout reader"),
                stderr: err.join().expect("stderr reader"),
                timed_out: timed_out && running,
            }
        })
        .collect()
}

/// Runs a cluster of `processes` processes on 127.0.0.1 ([`hostfile`], [`spawn`],
/// [`wait_cluster`]): `command(process, hostfile)` is process `process`'s command. The ports of
/// a hostfile were free a moment before the processes bind them, and another process may take
/// one in between (another test's cluster, anything binding an ephemeral port); the process
/// that finds its port taken fails at once (`failed to initialize networking: Address already
/// in use`), and the run is retried with fresh ports, up to five times in all.
///
/// # Panics
/// If no port can be bound, or a child cannot be started or waited on.
pub fn run_cluster(
    tag: &str,
    processes: usize,
    deadline: Duration,
    command: impl Fn(usize, &str) -> Command,
) -> Vec<Outcome> {
    let mut attempt = 1;
    loop {
        let hostfile = hostfile(tag, processes);
        let hosts = hostfile.to_str().expect("utf-8 path");
        let start = Instant::now();
        let children = (0..processes)
            .map(|process| spawn(command(process, hosts)))
            .collect();
        let outcomes = wait_cluster(children, start, deadline);
        let _ = std::fs::remove_file(&hostfile);
        if attempt == 5 || !outcomes.iter().any(port_taken) {
            return outcomes;
        }
        eprintln!("{tag}: a port of the hostfile was taken before its process bound it; again");
        attempt += 1;
    }
}

/// Whether `outcome` is a process that failed because its port was taken.
fn port_taken(outcome: &Outcome) -> bool {
    outcome.stderr.contains("failed to initialize networking")
        && outcome.stderr.contains("Address already in use")
}

/// `receiver.recv_timeout(limit)`, with `limit` counted in running time (see [`Deadline`]):
/// a pause of this process does not run the limit down.
///
/// # Errors
/// As `recv_timeout`: `Timeout` once the limit has passed, `Disconnected` if the sender is gone.
pub fn recv_within<T>(
    receiver: &std::sync::mpsc::Receiver<T>,
    limit: Duration,
) -> Result<T, std::sync::mpsc::RecvTimeoutError> {
    let mut clock = Deadline::new(Instant::now(), limit);
    loop {
        match receiver.recv_timeout(Duration::from_millis(20)) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if !clock.passed() => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{run_cluster, Deadline};
    use std::process::Command;
    use std::time::{Duration, Instant};

    #[test]
    fn a_cluster_whose_port_was_taken_runs_again() {
        let calls = std::cell::Cell::new(0);
        let outcomes = run_cluster("retry", 2, Duration::from_secs(30), |process, hosts| {
            calls.set(calls.get() + 1);
            assert!(std::fs::read_to_string(hosts).is_ok_and(|h| h.lines().count() == 2));
            let mut command = Command::new("sh");
            if calls.get() == 1 && process == 0 {
                // What timely reports when another process took the port first.
                command.args([
                    "-c",
                    "echo 'wiring: failed to initialize networking: Address already in use \
                     (os error 98)' >&2; exit 2",
                ]);
            } else {
                command.args(["-c", "echo ok"]);
            }
            command
        });
        assert_eq!(calls.get(), 4, "one run again, with fresh ports");
        assert!(outcomes.iter().all(|outcome| outcome.code == Some(0)));
    }

    #[test]
    fn a_deadline_counts_running_time_and_skips_gaps() {
        let mut deadline = Deadline::new(Instant::now(), Duration::from_millis(300));
        assert!(!deadline.passed());
        // A gap (this thread not running for more than a second) is not counted ...
        std::thread::sleep(Duration::from_millis(1100));
        assert!(!deadline.passed());
        assert!(deadline.uncounted >= Duration::from_millis(1100));
        // ... but polls that come as often as they should are.
        let start = Instant::now();
        while !deadline.passed() {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(start.elapsed() >= Duration::from_millis(250));
        // Time spent before the first poll counts.
        let start = Instant::now() - Duration::from_millis(500);
        assert!(Deadline::new(start, Duration::from_millis(300)).passed());
    }
}

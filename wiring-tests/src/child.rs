//! Running the `wiring` program as a child process, with a deadline.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
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

/// Waits for `child` until `deadline` has passed since `start`, killing it then.
///
/// # Panics
/// If the child is still running at the deadline.
pub fn wait(mut child: std::process::Child, start: Instant, deadline: Duration) -> Outcome {
    // Drain the pipes on threads so that a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    loop {
        if let Some(status) = child.try_wait().expect("wait on child") {
            return Outcome {
                code: status.code(),
                stdout: out.join().expect("stdout reader"),
                stderr: err.join().expect("stderr reader"),
            };
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err.join().unwrap_or_default();
            panic!("child ran past {deadline:?} (killed); stderr:\n{stderr}");
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
    if (medium == "chain" && workers_per_process > 1) || medium == "aggregate" {
        // One chain per scope: the dataflow and its two nested iterative scopes.
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

/// Waits for every child of a cluster until `deadline` has passed since `start`; once one
/// fails (or at the deadline), kills the others, which may be waiting for it forever. A
/// killed child's outcome has no exit code.
///
/// # Panics
/// If a child cannot be waited on.
pub fn wait_cluster(
    mut children: Vec<std::process::Child>,
    start: Instant,
    deadline: Duration,
) -> Vec<Outcome> {
    // Drain every pipe from the start, so that a chatty child cannot block on a full pipe.
    let pipes: Vec<_> = children
        .iter_mut()
        .map(|child| {
            let mut out = child.stdout.take().expect("piped stdout");
            let mut err = child.stderr.take().expect("piped stderr");
            let out = std::thread::spawn(move || {
                let mut s = String::new();
                let _ = out.read_to_string(&mut s);
                s
            });
            let err = std::thread::spawn(move || {
                let mut s = String::new();
                let _ = err.read_to_string(&mut s);
                s
            });
            (out, err)
        })
        .collect();
    loop {
        let mut failed = false;
        let mut running = false;
        for child in &mut children {
            match child.try_wait().expect("wait on child") {
                Some(status) => failed |= !status.success(),
                None => running = true,
            }
        }
        if !running || failed || start.elapsed() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    children
        .iter_mut()
        .zip(pipes)
        .map(|(child, (out, err))| {
            let _ = child.kill();
            let status = child.wait().expect("wait on child");
            Outcome {
                code: status.code(),
                stdout: out.join().expect("stdout reader"),
                stderr: err.join().expect("stderr reader"),
            }
        })
        .collect()
}

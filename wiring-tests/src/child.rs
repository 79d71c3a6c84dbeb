//! Running the `wiring` program as a child process, with a deadline.

use std::io::Read;
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

/// Starts `command` with piped output, and kills it if it runs past `deadline`.
///
/// # Panics
/// If the child cannot be started, or runs past the deadline (it is killed first).
pub fn spawn(mut command: Command, deadline: Duration) -> std::process::Child {
    let _ = deadline;
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
    let child = spawn(command, deadline);
    wait(child, start, deadline)
}

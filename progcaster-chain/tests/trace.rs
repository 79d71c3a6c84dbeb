//! The trace file: one line per channel's medium created, and what it did when it is freed.
//!
//! Alone in its test binary, because the trace file is read from the environment once per
//! process.

use progcaster_chain::{Rendezvous, TRACE_VAR};

#[test]
fn records_creation_and_what_the_chain_did() {
    let path = std::env::temp_dir().join(format!("progcaster-trace-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    std::env::set_var(TRACE_VAR, &path);

    let rendezvous = Rendezvous::new(2);
    let mut a = rendezvous.join::<u32>(0, 0);
    let mut b = rendezvous.join::<u32>(0, 1);
    a.send([(1, 1)]);
    a.send([(2, 1)]);
    assert!(b.recv(|_| ()));
    b.send([(3, 1)]);
    drop((a, b));

    let trace = std::fs::read_to_string(&path).expect("the trace file was written");
    let _ = std::fs::remove_file(&path);
    let lines: Vec<&str> = trace.lines().collect();
    assert_eq!(lines.len(), 2, "{trace}");
    assert_eq!(lines[0], "chain 2");
    assert!(lines[1] == "freed lanes sent=3 drained=0", "{trace}");
}

//! `compare-report`: medians, paired ratios, the checksum check, the kept notes, the last line,
//! and the report rebuilt from its summary CSV alone.

use std::path::Path;
use std::process::Command;

fn raw_line(example: &str, w: usize, mode: &str, rep: usize, key: &str, value: &str) -> String {
    format!("{example},{w},{mode},{rep},{key},{value}\n")
}

fn run(dir: &Path, raw: &str) -> (i32, String, String) {
    let raw = format!("example,workers,mode,rep,key,value\n{raw}");
    std::fs::write(dir.join("raw.csv"), raw).unwrap();
    report(dir, "--raw", &dir.join("raw.csv"))
}

fn report(dir: &Path, input: &str, path: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_compare-report"))
        .arg(input)
        .arg(path)
        .arg("--markdown")
        .arg(dir.join("latency.md"))
        .arg("--svg")
        .arg(dir.join("latency.svg"))
        .args(["--machine", "test machine"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("compare-report-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn ratio_line_is_the_median_of_paired_ratios() {
    let dir = tempdir("ratio");
    let mut raw = String::new();
    // Pairs (stock, chain): ratios 2.0, 0.5, 1.5 -> median 1.5; both medians are 2.0, so a
    // ratio of medians (1.0) would differ.
    for (rep, (s, c)) in [(1.0, 2.0), (4.0, 2.0), (2.0, 3.0)].into_iter().enumerate() {
        for (mode, v) in [("stock", s), ("chain", c)] {
            raw += &raw_line("barrier", 2, mode, rep + 1, "us_per_round", &v.to_string());
            raw += &raw_line("barrier", 2, mode, rep + 1, "checksum", "00ab");
            raw += &raw_line("barrier", 2, mode, rep + 1, "chain-feature", "on");
            raw += &raw_line("barrier", 1, mode, rep + 1, "us_per_round", "1.0");
            raw += &raw_line("barrier", 1, mode, rep + 1, "checksum", "00cd");
        }
    }
    let (code, stdout, stderr) = run(&dir, &raw);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.lines().last().unwrap(),
        "ratio chain/stock barrier w=2: 1.500"
    );
    let row = "| 2 | us_per_round | 2.000 | 2.000 | 1.500 | agree | 3 of 3 clean |";
    assert!(stdout.contains(row), "{stdout}");
    let md = std::fs::read_to_string(dir.join("latency.md")).unwrap();
    assert!(md.contains(row), "{md}");
    assert!(md.contains("test machine"));
    let svg = std::fs::read_to_string(dir.join("latency.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("barrier"));

    // The summary CSV alone rebuilds the same report.
    std::fs::remove_file(dir.join("latency.md")).unwrap();
    let (code, again, stderr) = report(&dir, "--from-csv", &dir.join("latency.csv"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(again, stdout);
    assert_eq!(std::fs::read_to_string(dir.join("latency.md")).unwrap(), md);
}

#[test]
fn notes_below_the_marker_survive_regeneration() {
    let dir = tempdir("notes");
    let raw = raw_line("barrier", 2, "stock", 1, "us_per_round", "1.0")
        + &raw_line("barrier", 2, "chain", 1, "us_per_round", "1.0");
    assert_eq!(run(&dir, &raw).0, 0);
    let md = std::fs::read_to_string(dir.join("latency.md")).unwrap();
    std::fs::write(
        dir.join("latency.md"),
        format!("{md}\nhand-written analysis\n"),
    )
    .unwrap();
    assert_eq!(run(&dir, &raw).0, 0);
    let md = std::fs::read_to_string(dir.join("latency.md")).unwrap();
    assert_eq!(md.matches("hand-written analysis").count(), 1, "{md}");
    assert_eq!(md.matches("<!-- notes").count(), 1);
}

#[test]
fn disagreeing_checksums_fail_the_report() {
    let dir = tempdir("mismatch");
    let mut raw = String::new();
    for (mode, sum) in [("stock", "0001"), ("chain", "0002")] {
        raw += &raw_line("reach", 2, mode, 1, "round_p50_us", "10");
        raw += &raw_line("reach", 2, mode, 1, "checksum", sum);
    }
    let (code, stdout, stderr) = run(&dir, &raw);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("checksums disagree") && stderr.contains("reach w=2"),
        "{stderr}"
    );
    assert!(stdout.contains("MISMATCH"));
    assert!(!stdout.contains("ratio chain/stock barrier"));
    let md = std::fs::read_to_string(dir.join("latency.md")).unwrap();
    assert!(md.contains("Checksum mismatches"));
}

#[test]
fn malformed_input_is_a_clear_error() {
    let dir = tempdir("malformed");
    let (code, _, stderr) = run(&dir, "barrier,2,stock\n");
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: ")
            && stderr.contains("raw.csv:2: 3 fields where the header has 6"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&dir, "barrier,two,stock,1,us_per_round,1\n");
    assert_eq!(code, 1);
    assert!(
        stderr.contains("raw.csv:2: column 2 (workers): invalid digit"),
        "{stderr}"
    );
    let (code, _, stderr) = run(
        &dir,
        &raw_line("barrier", 2, "other", 1, "us_per_round", "1"),
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("unknown mode"), "{stderr}");
}

#[test]
fn pairs_disturbed_by_other_processes_are_left_out() {
    let dir = tempdir("clean");
    let mut raw = String::new();
    // Rep 2 ran while other processes took 60% of the machine: its outlier must not count.
    for (rep, (s, c), others) in [
        (1, (1.0, 1.2), "0"),
        (2, (50.0, 10.0), "60"),
        (3, (1.0, 1.4), "3"),
    ] {
        for (mode, v) in [("stock", s), ("chain", c)] {
            raw += &raw_line("barrier", 2, mode, rep, "us_per_round", &v.to_string());
            raw += &raw_line("barrier", 2, mode, rep, "others", others);
        }
    }
    let (code, stdout, stderr) = run(&dir, &raw);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.lines().last().unwrap(),
        "ratio chain/stock barrier w=2: 1.300"
    );
    let md = std::fs::read_to_string(dir.join("latency.md")).unwrap();
    assert!(
        md.contains("| 2 | us_per_round | 1.000 | 1.300 | 1.300 | - | 2 of 3 clean |"),
        "{md}"
    );

    // When no pair is clean, all are used and the table says so.
    let noisy = raw
        .replace(",others,0\n", ",others,90\n")
        .replace(",others,3\n", ",others,90\n");
    let (code, stdout, _) = run(&dir, &noisy);
    assert_eq!(code, 0);
    assert!(stdout.contains("all 3 (none clean)"), "{stdout}");
    assert_eq!(
        stdout.lines().last().unwrap(),
        "ratio chain/stock barrier w=2: 1.200"
    );
}

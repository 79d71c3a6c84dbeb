//! The shared reporting path: malformed CSV rows are rejected with their line, plots need no fonts.

use report::{read_rows, svg_panels, write_rows, Panel};

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Row {
    medium: String,
    workers: usize,
    value: f64,
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("report-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn malformed_rows_are_rejected_with_their_line_number() {
    let path = temp("malformed.csv");
    let good = "medium,workers,value\nchain,2,1.5\nmpsc,2,3\n";
    std::fs::write(&path, good).unwrap();
    assert_eq!(read_rows::<Row>(&path).unwrap().len(), 2);
    // (text, the error's end): a bad number, a truncated row, an extra field, an empty value.
    let cases = [
        (
            "chain,2,1.5\nmpsc,2,3x\n",
            ":3: column 3 (value): invalid float literal",
        ),
        (
            "chain,2,1.5\nmpsc,2\n",
            ":3: 2 fields where the header has 3",
        ),
        ("chain,2,1.5,7\n", ":2: 4 fields where the header has 3"),
        (
            "chain,,1.5\n",
            ":2: column 2 (workers): cannot parse integer from empty string",
        ),
    ];
    for (body, expected) in cases {
        std::fs::write(&path, format!("medium,workers,value\n{body}")).unwrap();
        let err = read_rows::<Row>(&path).unwrap_err();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(err.ends_with(expected), "{body:?}: {err}");
    }
}

#[test]
fn rows_round_trip() {
    let path = temp("round.csv");
    let rows = vec![
        Row {
            medium: "chain".into(),
            workers: 2,
            value: 0.1 + 0.2,
        },
        Row {
            medium: "a, \"quoted\"\nname".into(),
            workers: 16,
            value: 1e-9,
        },
    ];
    write_rows(&path, &rows).unwrap();
    assert_eq!(read_rows::<Row>(&path).unwrap(), rows);
}

#[test]
fn svg_plot_has_text_without_fonts() {
    let path = temp("p.svg");
    let panel = |title: &str| Panel {
        title: title.into(),
        x_label: "x".into(),
        y_label: "y".into(),
        series: vec![("chain".into(), vec![(1.0, 10.0), (2.0, 100.0)])],
    };
    svg_panels(
        &path,
        (760, 440),
        Some("all"),
        &[panel("title here"), panel("two")],
    )
    .unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(
        svg.contains("<text") && svg.contains("title here") && svg.contains("two"),
        "{svg}"
    );
    let empty = Panel::default();
    assert!(svg_panels(&path, (100, 100), None, &[empty]).is_err());
}

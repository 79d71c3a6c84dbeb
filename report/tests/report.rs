//! The shared reporting path: malformed CSV rows are rejected with their line, figures and
//! tables are written by one rule, templates are filled, plots need no fonts.

use report::{fill, markdown_table, median, read_rows, svg_panels, write_rows, Figures, Panel};

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
    let series = vec![("chain".into(), vec![(1.0, 10.0), (2.0, 100.0)])];
    let panel = |title: &str| (title.into(), "x".into(), "y".into(), series.clone());
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

#[test]
fn medians_and_figures() {
    let medians = [
        (vec![3.0, 1.0, 2.0], Some(2.0)),
        (vec![1.0, 1.4], Some(1.2)),
        (vec![], None),
    ];
    for (values, expected) in medians {
        assert_eq!(median(values), expected);
    }
    let figures = [
        (Figures::Compact, Some(4.0), "4"),
        (Figures::Compact, Some(87.034), "87.03"),
        (Figures::Compact, Some(0.1234), "0.123"),
        (Figures::Compact, None, "-"),
        (Figures::Aligned, Some(4.0), "4.000"),
        (Figures::Aligned, Some(123.44), "123.4"),
        (Figures::Aligned, Some(1234.4), "1234"),
        (Figures::Aligned, Some(f64::NAN), "-"),
    ];
    for (style, v, expected) in figures {
        assert_eq!(style.format(v), expected, "{v:?}");
    }
}

#[test]
fn tables_and_templates() {
    let rows = [vec!["chain".into(), Figures::Compact.format(1.5)]];
    let table = markdown_table("medium | value", "lr", rows);
    assert_eq!(table, "| medium | value |\n|---|---:|\n| chain | 1.50 |\n");
    let v = |name: &str| (name == "n").then(|| "2".to_string());
    assert_eq!(
        fill("N = {n}, {not a name}", v).unwrap(),
        "N = 2, {not a name}"
    );
    assert_eq!(fill("{m}", v).unwrap_err(), "no value for {m}");
    // Sections: `{?name}` keeps its text where the value is not empty, `{!name}` where it is.
    let v = |name: &str| {
        ["n", "empty"]
            .contains(&name)
            .then(|| name.replace("empty", ""))
    };
    let sections = "{?n}[{n}]{/}{!n}no{/}{?empty}{m}{/}{!empty}\n(none){/}";
    assert_eq!(fill(sections, v).unwrap(), "[n]\n(none)");
    assert_eq!(fill("{?m}x{/}", v).unwrap_err(), "no value for {m}");
}

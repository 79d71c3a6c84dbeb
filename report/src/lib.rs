//! The one reporting path of `scripts/bench` and `scripts/compare`.
//!
//! Both reports follow the same steps, and this crate holds every step they share:
//!
//! 1. rows in and out as CSV through `serde` ([`read_rows`], [`write_rows`]): a bad or
//!    truncated row is an error naming its file, line and column, never a silent misparse;
//!    a report's run description (machine, command, date) is a one-row CSV beside its data
//!    ([`meta_path`]), so that a report can be rebuilt from its CSV files alone
//!    ([`read_with_meta`]);
//! 2. medians and paired ratios ([`median`]);
//! 3. markdown tables ([`markdown_table`]) with figures formatted by one rule ([`Figures`]);
//! 4. plots in one style ([`svg_panels`]): log y, one tick per measured x, one colour per
//!    medium wherever it appears;
//! 5. the report's prose kept as a markdown template whose `{name}` placeholders the generator
//!    fills ([`fill`]), written above the notes marker, with the hand-written notes below it
//!    kept ([`write_keeping_notes`]).
//!
//! What each report says (the sweep's targets and analysis, the comparison's pairing of
//! back-to-back runs) stays with its generator: `benches/src/report.rs` and
//! `examples/src/bin/compare-report.rs`.
//!
//! # Examples
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
//! struct Row { medium: String, workers: usize, value: f64 }
//!
//! let path = std::env::temp_dir().join(format!("report-doc-{}.csv", std::process::id()));
//! let rows = vec![Row { medium: "chain".into(), workers: 2, value: 1.5 }];
//! report::write_rows(&path, &rows).unwrap();
//! assert_eq!(report::read_rows::<Row>(&path).unwrap(), rows);
//!
//! std::fs::write(&path, "medium,workers,value\nchain,two,1.5\n").unwrap();
//! let err = report::read_rows::<Row>(&path).unwrap_err();
//! assert!(err.ends_with(":2: column 2 (workers): invalid digit found in string"), "{err}");
//!
//! let table = report::markdown_table("medium | value", "lr", [vec!["chain".into(), report::Figures::COMPACT.format(1.5)]]);
//! assert_eq!(table, "| medium | value |\n|---|---:|\n| chain | 1.50 |\n");
//! ```
#![deny(missing_docs, unreachable_pub)]
#![forbid(unsafe_code)]

mod io;
mod plot;
mod text;

pub use io::{meta_path, read_rows, read_with_meta, write_rows};
pub use plot::{svg_panels, Panel, Series};
pub use text::{fill, markdown_table, median, write_keeping_notes, Figures, NOTES_MARKER};

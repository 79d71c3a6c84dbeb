//! The one reporting path of `scripts/bench` and `scripts/compare`: every step both take.
//!
//! 1. Rows in and out as CSV through `serde` ([`read_rows`], [`write_rows`]), the run's
//!    description a one-row CSV beside them ([`meta_path`]), so that a report can be rebuilt
//!    from its CSV files alone ([`read_with_meta`]).
//! 2. Medians ([`median`]), markdown tables ([`markdown_table`]), figures by one rule
//!    ([`Figures`]), and plots in one style ([`svg_panels`]).
//! 3. The prose as a template ([`fill`]), written above the notes marker with the hand-written
//!    notes below it kept ([`write_keeping_notes`]).
//!
//! What each report says stays with its generator: `benches/src/report.rs` and
//! `examples/src/bin/compare-report.rs`. `tests/report.rs` shows each step at work.
#![deny(missing_docs, unreachable_pub)]
#![forbid(unsafe_code)]

mod io;
mod plot;
mod text;

pub use io::{meta_path, read_rows, read_with_meta, write_rows};
pub use plot::{svg_panels, Panel, Series};
pub use text::{fill, markdown_table, median, write_keeping_notes, Figures, NOTES_MARKER};

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

//! Integration tests of the `chain-progress` wiring of the patched timely.
//!
//! [`workloads`] holds the dataflows; `src/bin/wiring.rs` runs them as a program, so that
//! tests can start one process per configuration, each reading its own
//! `TIMELY_PROGRESS_MEDIUM` at startup. The tests live in `tests/`.
//!
//! # A timestamp that is not `Sync`
//!
//! With `chain-progress` on (as in this crate), timely requires timestamps to be `Sync`: the
//! workers of a process read one shared chain. A timestamp with interior mutability does not
//! compile, and the error names the feature: "timestamps must be `Sync` with timely's
//! `chain-progress` feature, and `Stamp` is not". Without the feature it compiles as before.
//!
//! ```compile_fail,E0277
//! use std::cell::Cell;
//! use timely::order::PartialOrder;
//! use timely::progress::timestamp::{PathSummary, Timestamp};
//!
//! #[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Stamp(u64, #[serde(skip)] Cell<u64>);
//!
//! impl PartialOrder for Stamp {
//!     fn less_equal(&self, other: &Self) -> bool { self.0 <= other.0 }
//! }
//! impl PathSummary<Stamp> for Stamp {
//!     fn results_in(&self, t: &Stamp) -> Option<Stamp> { Some(Stamp(t.0 + self.0, Cell::new(0))) }
//!     fn followed_by(&self, s: &Stamp) -> Option<Stamp> { Some(Stamp(s.0 + self.0, Cell::new(0))) }
//! }
//! impl Timestamp for Stamp {
//!     type Summary = Stamp;
//!     fn minimum() -> Self { Stamp::default() }
//! }
//! ```
//!
//! The same timestamp without the `Cell` compiles:
//!
//! ```
//! use timely::order::PartialOrder;
//! use timely::progress::timestamp::{PathSummary, Timestamp};
//!
//! #[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Stamp(u64);
//!
//! impl PartialOrder for Stamp {
//!     fn less_equal(&self, other: &Self) -> bool { self.0 <= other.0 }
//! }
//! impl PathSummary<Stamp> for Stamp {
//!     fn results_in(&self, t: &Stamp) -> Option<Stamp> { Some(Stamp(t.0 + self.0)) }
//!     fn followed_by(&self, s: &Stamp) -> Option<Stamp> { Some(Stamp(s.0 + self.0)) }
//! }
//! impl Timestamp for Stamp {
//!     type Summary = Stamp;
//!     fn minimum() -> Self { Stamp::default() }
//! }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]

pub mod child;
pub mod workloads;

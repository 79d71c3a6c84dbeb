//! Integration tests of the `chain-progress` wiring of the patched timely.
//!
//! [`workloads`] holds the dataflows; `src/bin/wiring.rs` runs them as a program, so that
//! tests can start one process per configuration, each reading its own
//! `TIMELY_PROGRESS_MEDIUM` at startup. The tests live in `tests/`.

#![forbid(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]

pub mod child;
pub mod workloads;

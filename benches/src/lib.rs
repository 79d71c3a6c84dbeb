//! Synthetic benchmark suite for the `chain` progress medium.
//!
//! The chain and the lanes are compared against four other ways for N worker threads to
//! exchange progress updates, all behind one [`Medium`] trait so that each scenario is
//! written once:
//!
//! - **chain**: one shared consolidating chain; every worker writes and reads it;
//! - **lanes**: one single-writer ring per worker, read by all; a reader a ring behind has
//!   its unread atoms drained into its backlog (the progress adapter's medium, which the
//!   report's targets evaluate);
//! - **mesh**: one chain per writer; readers sweep them all;
//! - **ledger**: total merge into one shared consolidated map; readers diff it;
//! - **cells**: per-reader accumulators; every send merges into every reader's cell;
//! - **mpsc**: the baseline, timely 0.32's intra-process leg: one channel per reader,
//!   each batch cloned to every other reader, receivers fold every message.
//!
//! Workloads ([`Workload`]) are seeded and deterministic: small batches of
//! `(timestamp, diff)` at increasing timestamps, a fraction of which another worker
//! cancels later, with `u64` or allocating `Box<[u64; 3]>` keys. The scenarios
//! ([`Scenario`]) are all-keep-up, one laggard, and an unread backlog; every run checks
//! each reader's folded total against a reference fold ([`run`] fails otherwise).
//!
//! The `chain-bench` binary sweeps the grid and writes the CSV, `RESULTS.md` and plots;
//! `scripts/bench` drives it.
//!
//! # Examples
//! ```
//! use benches::{run, KeyKind, MediumKind, RunSpec, Scenario};
//! let spec = RunSpec {
//!     medium: MediumKind::Chain,
//!     scenario: Scenario::Laggard,
//!     workers: 2,
//!     cancel: 1.0,
//!     key: KeyKind::U64,
//!     sends: 1000,
//!     batch: 2,
//!     seed: 1,
//!     laggard_every: 0,
//! };
//! let metrics = run(&spec).expect("answers check");
//! let get = |name| metrics.iter().find(|(m, _)| *m == name).unwrap().1;
//! assert_eq!(get("laggard_net_updates"), 0.0);
//! ```

#![deny(missing_docs, unreachable_pub)]
#![deny(unsafe_code)]

mod acc;
#[allow(unsafe_code)]
mod alloc;
mod key;
mod media;
mod medium;
pub mod report;
mod scenario;
mod workload;

pub use crate::acc::{consolidate, Acc};
pub use crate::alloc::{live_bytes, thread_allocs, CountingAlloc};
pub use crate::key::{BoxKey, Key, KeyKind};
pub use crate::media::{
    Cells, CellsEndpoint, ChainEndpoint, ChainMedium, LanesEndpoint, LanesMedium, Ledger,
    LedgerEndpoint, MeshEndpoint, MeshMedium, Mpsc, MpscEndpoint, LANE_SLOTS,
};
pub use crate::medium::{Endpoint, Folded, Medium, MediumKind};
pub use crate::scenario::{run, run_medium, Metrics, RunSpec, Scenario};
pub use crate::workload::Workload;

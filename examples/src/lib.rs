//! Shared plumbing for the progress-latency examples and the comparison report.
//!
//! Every example in `examples/examples/` runs a timely or differential dataflow whose cost is
//! dominated by progress tracking, and prints two kinds of lines:
//!
//! * human-readable lines (per-round times, summaries), and
//! * machine-readable lines starting with `@` that `scripts/compare` collects:
//!   `@metric NAME VALUE` for a measured figure and `@checksum HEX` for a digest of the
//!   dataflow's output, which must be identical whatever the progress medium and worker count.
//!
//! The same binary runs with timely's stock progress medium or with the chain, chosen by the
//! environment variable `TIMELY_PROGRESS_MEDIUM` (read by the patched timely when it is built
//! with the `chain-progress` feature); [`medium`] reports which one a run asked for.
//!
//! # Checksums
//!
//! A [`Checksum`] is linear in the multiplicity of updates: it adds `diff * hash(item)` with
//! wrapping arithmetic. The digest of a differential collection's update stream therefore does
//! not depend on how updates were split into batches, on which worker saw them or in what
//! order, only on the net change at each logical time.
#![deny(missing_docs, unreachable_pub)]
#![forbid(unsafe_code)]

mod checksum;
mod cli;
mod graph;
mod graphs;
mod report;
mod rounds;
mod stats;

pub use checksum::{hash64, Checksum};
pub use cli::{medium, WorkerArgs};
pub use graph::{Edge, GraphChanges};
pub use graphs::{bfs_distances, scc_edges};
pub use report::{
    chain_feature, emit_checksum, emit_metric, emit_run_info, fail, thread_context_switches,
};
pub use rounds::{graph_rounds, run_graph_rounds, GraphArgs, GraphLogic, GraphRun};
pub use stats::{percentile, Summary};

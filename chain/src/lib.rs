//! A consolidating multi-writer, multi-reader log: the intra-process progress medium.
//!
//! timely-dataflow's workers exchange progress updates (`+1`/`-1` counts at pointstamps)
//! by broadcasting every batch to every other worker, so every reader folds every message
//! and a worker that falls behind faces a backlog that grows with the number of sends,
//! even though most of it cancels. A [`Chain`] is the alternative: one shared log in which
//!
//! * writers merge their update into the newest atom in place (no allocation), unless a
//!   reader holds that atom, in which case they append one;
//! * adjacent atoms are compacted while no reader needs them apart;
//! * each reader folds only the net change since it last looked, each atom exactly once.
//!
//! Atoms are [`Chainable`]: commutative monoids, like integer sums or a consolidating
//! [`Batch`] of `(key, diff)` updates. With `R` live readers the chain holds at most
//! `R + 1` atoms however many sends happened. A [`Forwarder`] hands the chain's successive
//! prefix deltas on (to other processes), driven by the writers themselves. [`Lanes`] lay the
//! same idea out as one single-writer ring per endpoint, so that a hop moves the atom's cache
//! lines and nothing else: what the progress adapter uses within a process. [`Mesh`] (one
//! chain per writer) is kept for comparison. `DESIGN.md`, beside this crate's manifest, argues correctness.
//!
//! # Examples
//!
//! Two workers, each a writer and a reader of one chain of progress-like batches:
//!
//! ```
//! use chain::{Batch, Chain};
//!
//! let (chain, readers) = Chain::<Batch<u64>>::with_readers(2);
//! let handles: Vec<_> = readers
//!     .into_iter()
//!     .enumerate()
//!     .map(|(worker, mut reader)| {
//!         let chain = chain.clone();
//!         std::thread::spawn(move || {
//!             let mut buffer = Batch::new();
//!             for time in 0..100u64 {
//!                 // worker 0 announces `time`, worker 1 retires it
//!                 buffer.update(time, if worker == 0 { 1 } else { -1 });
//!                 chain.send_from(&mut buffer);
//!             }
//!             reader
//!         })
//!     })
//!     .collect();
//! let readers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
//! for mut reader in readers {
//!     let mut net = Batch::new();
//!     reader.recv(&mut net);
//!     assert!(net.updates().is_empty()); // everything cancelled
//! }
//! assert!(chain.live_nodes() <= 2 + 1);
//! ```
//!
//! # Panics
//!
//! A panic inside [`Chainable`] code that runs under the chain's lock (a merge, a `clear`,
//! a `Default`) poisons the chain: every later send, registration, receive or compaction, on
//! any thread, panics with a message that starts with `chain poisoned`, rather than
//! deadlocking or reading a half-merged atom. Dropping handles and readers never panics on a
//! poisoned chain.

#![deny(unsafe_code)]
#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod chain;
mod chainable;
mod forwarder;
#[allow(unsafe_code)] // the slots of a lane: see the `// SAFETY:` comments
mod lanes;
mod mesh;
mod poison;
mod ring;
mod sleepers;
mod sync;

pub use crate::chain::{Chain, Reader, Stats};
pub use crate::chainable::{Batch, Chainable};
pub use crate::forwarder::Forwarder;
pub use crate::lanes::{LaneEndpoint, Lanes, LanesStats};
pub use crate::mesh::{Mesh, MeshReader};
pub use crate::sleepers::Sleepers;

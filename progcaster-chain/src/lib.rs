//! Carries the intra-process leg of timely's progress traffic over a [`chain::Chain`].
//!
//! timely's `Progcaster` broadcasts every batch of pointstamp updates to every worker: one
//! MPSC send per peer, each peer folding every batch it receives. With the `chain-progress`
//! feature of the patched timely, the workers of one process instead share one chain per
//! progress channel: a sender merges its batch into the chain (consolidating with what other
//! workers sent and nobody has read yet), and each worker's reader folds what is new.
//!
//! This crate holds everything that is not timely's business, and depends on no timely type:
//!
//! * [`Medium`] is what timely's `--progress-medium` option parses, and [`medium_override`]
//!   reads the `TIMELY_PROGRESS_MEDIUM` override once per process;
//! * [`Rendezvous`] is created once per timely computation (by `execute_from`) and hands each
//!   local worker an [`Endpoint`] of the chain for a progress channel, creating the chain
//!   with one reader per local worker when the first worker arrives;
//! * [`Endpoint`] sends consolidated batches, receives what is new, and wakes the other
//!   workers through a caller-supplied function, only when their view goes from "nothing new"
//!   to "something new";
//! * [`live_chains`] counts the chains alive in the process, so tests can prove reclamation;
//!   [`TRACE_VAR`] names a file to which each chain's creation is appended, so that test
//!   suites one cannot edit (timely's and differential's own) can prove the chain was used,
//!   and each chain's counters when it is freed (appends, in-place merges, compaction).
//!
//! # Wakeups
//!
//! Each local worker has a `pending` flag per chain. A sender merges its batch into the chain,
//! then sets every other worker's flag; it calls that worker's wake function only when the
//! flag was clear. A receiver that finds its flag set clears it *before* reading the chain.
//! Set and clear are read-modify-write operations on the flag, so they are totally ordered:
//! either the sender's set comes after the receiver's clear (and the sender wakes the
//! receiver), or before it (and the receiver, which acquired the sender's release, sees the
//! batch). A receiver that finds the flag clear writes nothing: a set it did not see will
//! find the flag clear and wake it. No wakeup is lost, and a worker that is already due to
//! look is not woken again.
//!
//! # Reclamation
//!
//! The rendezvous keeps a chain while any local worker may still join it. Every [`Endpoint`]
//! announces its departure when dropped; after the last local worker leaves, the entry is
//! removed and the chain freed. Entries of channels some worker never joined go when the
//! rendezvous itself is dropped, which happens when the computation's workers exit.

#![forbid(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]

mod medium;
mod rendezvous;
mod trace;

pub use chain::Batch;
pub use medium::{medium, medium_override, Medium, MediumError, MEDIUM_OPTION, MEDIUM_VAR};
pub use rendezvous::{live_chains, Endpoint, Rendezvous};
pub use trace::TRACE_VAR;

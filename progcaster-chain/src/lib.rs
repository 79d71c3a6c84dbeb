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
//!   and each chain's counters when it is freed (appends, in-place merges, compaction);
//! * across processes, with [`Medium::Aggregate`]: each chain gets one more reader, a
//!   [`chain::Forwarder`] that the workers drive after their sends ([`Endpoint::forward`]),
//!   whose numbered prefix deltas go to the other processes as one stream per process pair;
//!   a receiver puts each process's deltas back in order with a [`Sequencer`].
//!
//! # Wakeups
//!
//! Each chain has a doorbell per local worker ([`chain::Doorbells`]): "this channel may hold
//! news for you". A sender merges its batch into the chain and reads back what is new in the
//! same critical section, then rings the other workers' bells; for each bell it started (it
//! was silent) it calls the worker's wake function, which unparks its thread. A worker
//! [`polls`](Rendezvous::poll) whenever it looks for work: it loads the bells of the channels
//! it joined, writing nothing, and lists those that ring. A receive silences the channel's
//! bell before reading the chain. Senders fence between their send and their look at the
//! bells, receivers between the silencing and their read, so either a sender sees a bell
//! silent (and rings it, and wakes), or the worker's later read sees the send; a ring the
//! poll misses came with a wake, which makes the worker poll again. No wakeup is lost (the
//! protocol is modelled by loom in the chain crate). Nothing is allocated per wake, a worker
//! already due to look is not woken again, and a sender whose peers' bells already ring
//! writes nothing to them.
//!
//! # Reclamation
//!
//! The rendezvous keeps a chain while any local worker may still join it. Every [`Endpoint`]
//! announces its departure when dropped; after the last local worker leaves, the entry is
//! removed and the chain freed. Entries of channels some worker never joined go when the
//! rendezvous itself is dropped, which happens when the computation's workers exit.

#![forbid(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]

mod fault;
mod medium;
mod rendezvous;
mod sequencer;
mod trace;

pub use chain::Batch;
pub use fault::FAULT_VAR;
pub use medium::{medium, medium_override, Medium, MediumError, MEDIUM_OPTION, MEDIUM_VAR};
pub use rendezvous::{live_chains, Endpoint, Rendezvous};
pub use sequencer::{check_per_worker, forwarded_source, Sequencer};
pub use trace::TRACE_VAR;

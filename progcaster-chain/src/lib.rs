//! Carries the intra-process leg of timely's progress traffic over [`chain::Lanes`] (or, in a
//! process that forwards to others, a [`chain::Chain`]).
//!
//! timely's `Progcaster` broadcasts every batch of pointstamp updates to every worker: one
//! MPSC send per peer, each peer folding every batch it receives. With the `chain-progress`
//! feature of the patched timely, the workers of one process instead share one medium per
//! progress channel, written once per send and read by every worker: lanes (a single-writer
//! ring per worker; a reader folds what is new in every lane, and a reader that lags gets the
//! net change of what it missed, merged across writers, in its backlog), or, with
//! [`Medium::Aggregate`], one chain (a sender merges its batch into the chain, consolidating
//! with what other workers sent and nobody has read yet), whose total order the forwarded
//! deltas rest on.
//!
//! This crate holds everything that is not timely's business, and depends on no timely type:
//!
//! * [`Medium`] is what timely's `--progress-medium` option parses, and [`medium_override`]
//!   reads the `TIMELY_PROGRESS_MEDIUM` override once per process;
//! * [`Rendezvous`] is created once per timely computation (by `execute_from`) and hands each
//!   local worker an [`Endpoint`] of the chain for a progress channel, creating the chain
//!   with one reader per local worker when the first worker arrives;
//! * [`Endpoint`] sends consolidated batches, receives what is new, and wakes the other
//!   workers through a caller-supplied function, only those that park;
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
//! A sender sends its batch and reads back what is new. A worker
//! [`polls`](Rendezvous::poll) whenever it looks for work: it loads, for each channel it
//! joined, the stamps of the next slot of every lane (or the chain's version), writing
//! nothing, and lists the channels with news. Before its thread parks, timely's worker calls
//! [`park`](Rendezvous::park), which announces the park in a flag per worker
//! ([`chain::Sleepers`]) and polls once more; a sender, after its send, wakes (through the
//! worker's wake function, which unparks its thread) only the workers whose flag is up. A fence
//! on each side makes either the last poll see the send or the sender see the flag, so no
//! wakeup is lost (modelled by loom in the chain crate). While nobody parks, a send reads one
//! flag per peer and writes nothing on any peer's behalf; nothing is allocated per wake.
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

//! The synchronization primitives the chain uses: `std`'s, or loom's under `cfg(loom)`.
//!
//! Every other module imports from `crate::sync`, so the loom models in `tests/loom.rs`
//! exercise exactly the code that ships.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard,
};

/// The message every thread sees once code under the chain's lock has panicked.
pub(crate) const POISONED: &str =
    "chain poisoned: code on an atom (a merge, `Default`, `clear` or `Drop`) panicked in another thread while it held the chain's lock";

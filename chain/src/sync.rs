//! The synchronization primitives the chain uses: `std`'s, or loom's under `cfg(loom)`.
//!
//! Every other module imports from `crate::sync`, so the loom models in `tests/loom.rs`
//! exercise exactly the code that ships. The helpers at the bottom turn a poisoned lock into
//! the one panic message the crate documents.

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

use std::sync::LockResult;

/// The message every thread sees once a merge has panicked inside the chain.
pub(crate) const POISONED: &str =
    "chain poisoned: a merge panicked in another thread while it held one of the chain's locks";

/// Unwraps a lock result, turning poison into the documented panic.
#[track_caller]
pub(crate) fn unpoison<G>(result: LockResult<G>) -> G {
    match result {
        Ok(guard) => guard,
        Err(_) => panic!("{POISONED}"),
    }
}

/// Locks `mutex`, panicking with [`POISONED`] if a previous holder panicked.
#[track_caller]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    unpoison(mutex.lock())
}

/// Read-locks `lock`, panicking with [`POISONED`] if a writer panicked.
#[track_caller]
pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    unpoison(lock.read())
}

/// Write-locks `lock`, panicking with [`POISONED`] if a writer panicked.
#[track_caller]
pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    unpoison(lock.write())
}

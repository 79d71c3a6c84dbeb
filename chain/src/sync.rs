//! The synchronization primitives the chain uses: `std`'s, or loom's under `cfg(loom)`.
//!
//! Every other module imports from `crate::sync`, so the loom models in `tests/loom.rs`
//! exercise exactly the code that ships.

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

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

/// `std`'s `UnsafeCell` with loom's interface (`with`, `with_mut`), so that loom can check
/// every access to the lanes' slots.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer through which it may read.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a pointer through which it may write.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

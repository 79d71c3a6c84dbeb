//! The poison flag the chain and the lanes share, and the lock guard that raises it.

use std::ops::{Deref, DerefMut};

use crate::sync::{AtomicBool, Ordering, POISONED};

/// Set when code under one of a structure's locks unwound; never cleared. Every operation
/// checks it first, so other threads see a clear panic instead of half-merged state.
#[derive(Debug)]
pub(crate) struct Poison(AtomicBool);

impl Poison {
    pub(crate) fn new() -> Self {
        Poison(AtomicBool::new(false))
    }

    /// Whether code under a lock ever panicked.
    pub(crate) fn is_set(&self) -> bool {
        // Acquire: pairs with the release in `Guarded::drop`.
        self.0.load(Ordering::Acquire)
    }

    /// Panics with the documented message if code under a lock ever panicked.
    #[track_caller]
    pub(crate) fn check(&self) {
        if self.is_set() {
            panic!("{POISONED}");
        }
    }

    /// Wraps the guard of a lock just taken, so that unwinding while it is held sets the flag.
    pub(crate) fn guard<G>(&self, inner: G) -> Guarded<'_, G> {
        Guarded {
            inner,
            poison: self,
            unwinding: std::thread::panicking(),
        }
    }
}

/// A lock guard that poisons its structure if the code under it unwinds.
pub(crate) struct Guarded<'a, G> {
    inner: G,
    poison: &'a Poison,
    /// Whether the thread was already unwinding when it took the lock (a reader dropped while
    /// unwinding): that unwinding is not a panic under the lock.
    unwinding: bool,
}

impl<G> Guarded<'_, G> {
    /// Whether the thread was already unwinding when it took the lock.
    pub(crate) fn unwinding(&self) -> bool {
        self.unwinding
    }
}

impl<G> Drop for Guarded<'_, G> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.unwinding {
            // Release: pairs with the acquire in `Poison::is_set`.
            self.poison.0.store(true, Ordering::Release);
        }
    }
}

impl<G: Deref> Deref for Guarded<'_, G> {
    type Target = G::Target;
    fn deref(&self) -> &G::Target {
        &self.inner
    }
}

impl<G: DerefMut> DerefMut for Guarded<'_, G> {
    fn deref_mut(&mut self) -> &mut G::Target {
        &mut self.inner
    }
}

//! A deliberately broken forwarder, for tests that must show they catch one.

use std::sync::OnceLock;

/// When set to `split-forward`, the `+1`s of every forwarded delta are held back and sent
/// with the next delta, after its `-1`s: a receiver then sees a retired capability's `-1`
/// before the `+1` that replaced it. Tests set it to prove that they detect an unsafe forward; never set it
/// otherwise. Read once per process.
pub const FAULT_VAR: &str = "PROGCASTER_CHAIN_FAULT";

/// Whether [`FAULT_VAR`] asks for the split forward.
pub(crate) fn split_forward() -> bool {
    static SPLIT: OnceLock<bool> = OnceLock::new();
    *SPLIT.get_or_init(|| std::env::var_os(FAULT_VAR).is_some_and(|v| v == "split-forward"))
}

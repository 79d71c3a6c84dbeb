//! Key types: the timestamps carried by progress updates.

use std::fmt::Debug;

/// A timestamp key, generated from a logical time `t`.
///
/// Keys order like their `t`, so a batch generated at increasing times is sorted.
pub trait Key: Ord + Clone + Send + Sync + Debug + 'static {
    /// The key's name in reports (`u64` or `box3`).
    const NAME: &'static str;
    /// The key for logical time `t`.
    fn from_ts(t: u64) -> Self;
}

impl Key for u64 {
    const NAME: &'static str = "u64";
    fn from_ts(t: u64) -> Self {
        t
    }
}

/// An allocating timestamp: every clone allocates and every drop frees.
///
/// Models timestamps such as product or vector times, whose clone and drop traffic is
/// the scaling pathology the chain targets.
pub type BoxKey = Box<[u64; 3]>;

impl Key for BoxKey {
    const NAME: &'static str = "box3";
    fn from_ts(t: u64) -> Self {
        Box::new([t, t % 3, 0])
    }
}

/// The key types the runner knows, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// `u64` keys.
    U64,
    /// [`BoxKey`] keys.
    Box3,
}

impl KeyKind {
    /// Every key kind.
    pub const ALL: [KeyKind; 2] = [KeyKind::U64, KeyKind::Box3];

    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::U64 => <u64 as Key>::NAME,
            KeyKind::Box3 => <BoxKey as Key>::NAME,
        }
    }

    /// Parses a name produced by [`KeyKind::name`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_like_time() {
        for t in [0u64, 1, 2, 3, 1000] {
            assert!(u64::from_ts(t) < u64::from_ts(t + 1));
            assert!(BoxKey::from_ts(t) < BoxKey::from_ts(t + 1));
        }
        assert_eq!(KeyKind::parse("box3"), Some(KeyKind::Box3));
        assert_eq!(KeyKind::parse("u64"), Some(KeyKind::U64));
        assert_eq!(KeyKind::parse("x"), None);
    }
}

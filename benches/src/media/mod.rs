//! Implementations of [`Medium`](crate::Medium).

mod cells;
mod chain;
mod ledger;
mod mpsc;

pub use self::cells::{Cells, CellsEndpoint};
pub use self::chain::{ChainEndpoint, ChainMedium, MeshEndpoint, MeshMedium};
pub use self::ledger::{Ledger, LedgerEndpoint};
pub use self::mpsc::{Mpsc, MpscEndpoint};

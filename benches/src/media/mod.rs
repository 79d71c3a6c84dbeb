//! Implementations of [`Medium`](crate::Medium).

mod cells;
mod chain;
mod lanes;
mod ledger;
mod mpsc;

pub use self::cells::{Cells, CellsEndpoint};
pub use self::chain::{ChainEndpoint, ChainMedium, MeshEndpoint, MeshMedium};
pub use self::lanes::{LanesEndpoint, LanesMedium, LANE_SLOTS};
pub use self::ledger::{Ledger, LedgerEndpoint};
pub use self::mpsc::{Mpsc, MpscEndpoint};

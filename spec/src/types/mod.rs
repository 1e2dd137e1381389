//! The data model shared by every executor, loader and report.
//!
//! Deterministic containers (`BTreeMap`) so that two outcomes compare and print in a stable order.

mod account;
mod block;
mod error;
mod outcome;
mod receipt;
mod transaction;

pub use account::{Account, Storage, WorldState};
pub use block::{BlobSchedule, Block, BlockEnv, Ommer, Withdrawal};
pub use error::{BlockError, BlockRule, TxRule};
pub use outcome::{BlockOutcome, ExecStats};
pub use receipt::{logs_bloom, Log, Receipt};
pub use transaction::{AccessListItem, Authorization, Signature, Transaction, TxKind, TxType};

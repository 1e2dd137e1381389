//! lockstep-spec: the data model every lockstep executor speaks, and the reference sequential
//! interpreter that defines what every block must produce.
//!
//! The spec depends on no EVM implementation: only primitives, RLP, tries and cryptography.

pub mod block;
pub mod dao;
pub mod delegation;
#[cfg(feature = "faults")]
pub mod faults;
pub mod fork;
pub mod precompiles;
pub mod requests;
pub mod state;
pub mod system_call;
pub mod transaction;
pub mod trie;
pub mod types;
pub mod vm;

pub use block::{execute_block, execute_block_traced, unsupported};
pub use fork::Fork;

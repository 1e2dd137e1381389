//! lockstep-spec: the data model every lockstep executor speaks, and the reference sequential
//! interpreter that defines what every block must produce.
//!
//! The spec depends on no EVM implementation: only primitives, RLP, tries and cryptography.

pub mod fork;
pub mod trie;
pub mod types;

pub use fork::Fork;

//! lockstep: runs Ethereum JSON tests, mainnet blocks and generated blocks through several
//! block executors and requires identical state and receipts from all of them.

pub mod bench;
pub mod case;
pub mod check;
pub mod cli;
pub mod compare;
pub mod executors;
pub mod expectations;
pub mod fixtures;
pub mod fuzz;
pub mod gen;
#[cfg(feature = "faults")]
pub mod mutants;
pub mod report;
pub mod result;
pub mod run;
pub mod trace;

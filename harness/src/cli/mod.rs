//! Commands of the `lockstep` binary, each a thin module over the library.

pub mod bench;
pub mod gen;
pub mod mutants;
pub mod repro;
pub mod run;
pub mod trace;

//! lockstep-executor: block executors over revm. `sequential` is the baseline; the Block-STM
//! parallel executor is the system under test.

pub mod block_end;
pub mod env;
pub mod sequential;
pub mod state;

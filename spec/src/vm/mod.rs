//! The EVM: its context, call frames and the instructions they run.

pub mod analysis;
pub mod frame;
pub mod gas;
pub mod instructions;
pub mod interpreter;
pub mod memory;
pub mod message;
pub mod stack;
#[cfg(test)]
mod tests;
pub mod trace;

use crate::state::State;
use crate::types::BlockEnv;
use crate::Fork;
use alloy_primitives::{Address, B256, U256};

pub use frame::Frame;
pub use message::{CallOutcome, Message};

/// Why a frame stopped abnormally. Every halt but [`Halt::Revert`] consumes all its gas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// Not enough gas.
    OutOfGas,
    /// Popped from an empty stack.
    StackUnderflow,
    /// Pushed onto a full stack (1024 items).
    StackOverflow,
    /// Undefined opcode at this fork, or INVALID (0xfe).
    InvalidOpcode,
    /// JUMP or JUMPI to a position that is not a JUMPDEST.
    InvalidJump,
    /// A state change inside STATICCALL (EIP-214).
    WriteInStaticContext,
    /// RETURNDATACOPY beyond the return data (EIP-211).
    ReturnDataOutOfBounds,
    /// A precompile rejected its input.
    PrecompileFailure,
    /// Created code starting with 0xEF (EIP-3541).
    InvalidContractPrefix,
    /// Created code too large (EIP-170) or init code too large (EIP-3860).
    CodeSizeLimit,
    /// REVERT (EIP-140): undo the frame, keep the gas left and the output.
    Revert,
}

/// What a transaction makes visible to the code it runs.
#[derive(Clone, Debug)]
pub struct TxContext {
    /// ORIGIN.
    pub origin: Address,
    /// GASPRICE: the effective gas price.
    pub gas_price: U256,
    /// BLOBHASH's list (EIP-4844).
    pub blob_hashes: Vec<B256>,
}

/// Everything the code of a transaction runs against.
pub struct Evm<'a> {
    /// The rules.
    pub fork: Fork,
    /// The block.
    pub block: &'a BlockEnv,
    /// The blob base fee (EIP-7516), zero before Cancun.
    pub blob_base_fee: U256,
    /// The transaction.
    pub tx: TxContext,
    /// The world state with its journal.
    pub state: State,
    /// Jump destination analyses of the codes run in this block.
    pub jumpdests: analysis::JumpdestCache,
    /// The EIP-3155 tracer, if tracing is on.
    pub tracer: Option<&'a mut dyn trace::Tracer>,
}

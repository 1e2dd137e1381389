//! EIP-7610: a contract may not be created at an address whose storage is not empty, even
//! when the account there has no code and a zero nonce. revm 43 checks only the code and the
//! nonce (EIP-684), so both executors run revm with a frame loop that checks the storage
//! first and, on a collision, ends the creation exactly as revm ends the collisions it does
//! detect: the creator's nonce is bumped, the new address stays warm, the creation fails
//! with `CreateCollision` and its gas is consumed.
//!
//! Such accounts cannot arise on mainnet (storage needs code to be written); ethereum/tests
//! and execution-spec-tests fill them by hand.

use alloy_primitives::Address;
use revm::context::result::{EVMError, HaltReason};
use revm::context::ContextTr;
use revm::context_interface::journaled_state::account::JournaledAccountTr;
use revm::context_interface::JournalTr;
use revm::database_interface::Database;
use revm::handler::Handler;
use revm::handler::{EvmTr, FrameResult, ItemOrResult, MainnetContext, MainnetEvm};
use revm::interpreter::{
    interpreter_action::FrameInit, CreateOutcome, FrameInput, Gas, InstructionResult,
    InterpreterResult,
};
use revm::primitives::{Bytes, CALL_STACK_LIMIT, KECCAK_EMPTY};
use std::marker::PhantomData;

/// A state database that can tell whether an account holds storage, which revm's `Database`
/// cannot ask.
pub trait StorageProbe: Database {
    /// Whether the account at `address` holds a non-zero storage slot in the state the
    /// running transaction started from.
    fn has_storage(&mut self, address: Address) -> Result<bool, Self::Error>;
}

type Evm<DB> = MainnetEvm<MainnetContext<DB>>;
type DbError<DB> = revm::context::ContextError<<DB as Database>::Error>;

/// revm's frame loop (`Handler::run_exec_loop`), with every frame checked for an EIP-7610
/// collision before revm initialises it.
pub fn run_exec_loop<DB: StorageProbe>(
    evm: &mut Evm<DB>,
    first: FrameInit,
) -> Result<FrameResult, DbError<DB>> {
    if let Some(result) = init_frame(evm, first)? {
        return Ok(result);
    }
    loop {
        let result = match evm.frame_run()? {
            ItemOrResult::Item(init) => match init_frame(evm, init)? {
                Some(result) => result,
                // A new frame is on the stack: run it.
                None => continue,
            },
            ItemOrResult::Result(result) => result,
        };
        if let Some(result) = evm.frame_return_result(result)? {
            return Ok(result);
        }
    }
}

/// Starts a frame: `Some` is its result when it ends at once (a collision, or any of revm's
/// own early ends), `None` when it was pushed to run.
fn init_frame<DB: StorageProbe>(
    evm: &mut Evm<DB>,
    init: FrameInit,
) -> Result<Option<FrameResult>, DbError<DB>> {
    if let Some(collision) = storage_collision(evm, &init)? {
        return Ok(Some(collision));
    }
    match evm.frame_init(init)? {
        ItemOrResult::Item(_) => Ok(None),
        ItemOrResult::Result(result) => Ok(Some(result)),
    }
}

/// The result of a creation that collides under EIP-7610 only (revm finds the others), after
/// the same steps revm takes before its own collision check: the depth and the creator's
/// balance are fine, its nonce is bumped, and the new address is loaded warm.
fn storage_collision<DB: StorageProbe>(
    evm: &mut Evm<DB>,
    init: &FrameInit,
) -> Result<Option<FrameResult>, DbError<DB>> {
    let FrameInput::Create(inputs) = &init.frame_input else {
        return Ok(None);
    };
    // revm ends these creations itself, before it looks at the new address.
    if init.depth > CALL_STACK_LIMIT as usize {
        return Ok(None);
    }
    let journal = evm.ctx.journal_mut();
    let caller = journal.load_account(inputs.caller())?.data;
    let (balance, nonce) = (caller.info.balance, caller.info.nonce);
    if balance < inputs.value() || nonce == u64::MAX {
        return Ok(None);
    }
    let address = inputs.created_address(nonce);
    let target = &journal.load_account(address)?.data.info;
    // A code or a nonce is EIP-684's collision, which revm detects.
    if target.code_hash != KECCAK_EMPTY || target.nonce != 0 {
        return Ok(None);
    }
    if !evm.ctx.db_mut().has_storage(address)? {
        return Ok(None);
    }
    // The creator's nonce is spent even though nothing is created.
    evm.ctx
        .journal_mut()
        .load_account_mut(inputs.caller())?
        .data
        .bump_nonce();
    Ok(Some(FrameResult::Create(CreateOutcome {
        result: InterpreterResult {
            result: InstructionResult::CreateCollision,
            // As revm's own collision result: the gas is consumed when the caller takes
            // the result, since the creation halted.
            gas: Gas::new_with_regular_gas_and_reservoir(inputs.gas_limit(), inputs.reservoir()),
            output: Bytes::new(),
        },
        address: None,
        charged_create_state_gas: inputs.charged_create_state_gas(),
    })))
}

/// revm's mainnet handler with the EIP-7610 frame loop: what sequential execution runs each
/// transaction with.
#[derive(Debug)]
pub struct CollisionAware<DB>(PhantomData<DB>);

impl<DB> Default for CollisionAware<DB> {
    fn default() -> Self {
        CollisionAware(PhantomData)
    }
}

impl<DB: StorageProbe> Handler for CollisionAware<DB> {
    type Evm = Evm<DB>;
    type Error = EVMError<DB::Error>;
    type HaltReason = HaltReason;

    fn run_exec_loop(
        &mut self,
        evm: &mut Self::Evm,
        first_frame_input: FrameInit,
    ) -> Result<FrameResult, Self::Error> {
        Ok(run_exec_loop(evm, first_frame_input)?)
    }
}

//! Messages: calls and creations. A message transfers value, runs code (or a precompile) in a
//! fresh frame, and keeps or undoes the frame's changes through a state checkpoint.

use super::interpreter;
use super::{gas, Evm, Frame, Halt};
use crate::precompiles;
use crate::Fork;
use alloy_primitives::{Address, Bytes, U256};

/// Maximum call depth.
pub const STACK_DEPTH_LIMIT: usize = 1024;

/// A call or creation to run.
#[derive(Clone, Debug)]
pub struct Message {
    /// CALLER of the new frame.
    pub caller: Address,
    /// The account the frame acts on (ADDRESS).
    pub target: Address,
    /// The account whose code runs (differs for CALLCODE and DELEGATECALL); for precompiles.
    pub code_address: Address,
    /// CALLVALUE of the new frame.
    pub value: U256,
    /// Whether `value` moves from caller to target (not for DELEGATECALL).
    pub should_transfer_value: bool,
    /// Call data; empty for creations.
    pub data: Bytes,
    /// The code to run: the callee's code, or the init code of a creation.
    pub code: Bytes,
    /// Gas given to the frame.
    pub gas: u64,
    /// Depth of the new frame.
    pub depth: usize,
    /// Whether the frame may not change state (EIP-214).
    pub is_static: bool,
    /// Whether `code` runs even at a precompile's address: the code of a delegation to a
    /// precompile, which is empty (EIP-7702).
    pub disable_precompiles: bool,
}

/// What a message returns to its caller.
#[derive(Clone, Debug)]
pub struct CallOutcome {
    /// Whether the frame ended without halting or reverting.
    pub success: bool,
    /// Gas not used (zero after an exceptional halt).
    pub gas_left: u64,
    /// The frame's refund counter (zero unless successful).
    pub refund: i64,
    /// RETURN or REVERT data.
    pub output: Bytes,
    /// On failure: the RIPEMD-160 precompile was touched in the undone changes.
    pub ripemd_touched: bool,
}

impl CallOutcome {
    fn failed(gas_left: u64, output: Bytes) -> Self {
        CallOutcome {
            success: false,
            gas_left,
            refund: 0,
            output,
            ripemd_touched: false,
        }
    }
}

/// Runs the message's code or precompile on the current state.
fn execute_code(evm: &mut Evm, message: &Message) -> CallOutcome {
    let precompile =
        precompiles::get(evm.fork, &message.code_address).filter(|_| !message.disable_precompiles);
    if let Some(precompile) = precompile {
        return match precompile(evm.fork, &message.data, message.gas) {
            Ok((cost, output)) if cost <= message.gas => CallOutcome {
                success: true,
                gas_left: message.gas - cost,
                refund: 0,
                output: output.into(),
                ripemd_touched: false,
            },
            _ => CallOutcome::failed(0, Bytes::new()),
        };
    }
    let jumpdests = evm.jumpdests.get(&message.code);
    let mut frame = Frame::new(message, message.code.clone(), jumpdests);
    match interpreter::run(evm, &mut frame) {
        Ok(()) => CallOutcome {
            success: true,
            gas_left: frame.gas_left,
            refund: frame.refund,
            output: frame.output,
            ripemd_touched: false,
        },
        Err(Halt::Revert) => CallOutcome::failed(frame.gas_left, frame.output),
        Err(_) => CallOutcome::failed(0, Bytes::new()),
    }
}

/// Stack a message call may use before the next nested call checks again.
const STACK_RED_ZONE: usize = 256 * 1024;
/// Size of a new stack segment when a nested call runs low.
const STACK_SEGMENT: usize = 8 * 1024 * 1024;

/// A message call: touch the target, move the value, run the code; undo all on failure.
pub fn process_message(evm: &mut Evm, message: &Message) -> CallOutcome {
    let checkpoint = evm.state.checkpoint();
    evm.state.touch(message.target);
    if message.should_transfer_value && !message.value.is_zero() {
        evm.state
            .transfer(message.caller, message.target, message.value);
    }
    // 1024 nested calls need more stack than a thread has: each level makes sure of a
    // margin first, moving onto a fresh stack segment when it runs low.
    let mut outcome =
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || execute_code(evm, message));
    if !outcome.success {
        outcome.ripemd_touched = evm.state.revert(checkpoint);
    }
    outcome
}

/// A contract creation: clear the address, give it nonce 1 (EIP-161), run the init code and
/// deposit the code it returns at 200 gas a byte. From Homestead a deposit the gas cannot
/// pay fails the creation (EIP-2; Frontier created the account without code); from Spurious
/// Dragon code over 24576 bytes fails it (EIP-170); from London so does code starting with
/// 0xEF (EIP-3541).
pub fn process_create_message(evm: &mut Evm, message: &Message) -> CallOutcome {
    let fork = evm.fork;
    let checkpoint = evm.state.checkpoint();
    evm.state.mark_created(message.target);
    if fork >= Fork::SpuriousDragon {
        evm.state.increment_nonce(message.target);
    }
    let mut outcome = process_message(evm, message);
    if !outcome.success {
        outcome.ripemd_touched |= evm.state.revert(checkpoint);
        return outcome;
    }
    let code = std::mem::take(&mut outcome.output);
    let deposit = gas::CODE_DEPOSIT_BYTE * code.len() as u64;
    let invalid_prefix = fork >= Fork::London && code.first() == Some(&0xef);
    let too_large = fork >= Fork::SpuriousDragon && code.len() > gas::MAX_CODE_SIZE;
    if fork < Fork::Homestead && deposit > outcome.gas_left {
        return outcome;
    }
    if invalid_prefix || deposit > outcome.gas_left || too_large {
        let ripemd_touched = evm.state.revert(checkpoint);
        return CallOutcome {
            ripemd_touched,
            ..CallOutcome::failed(0, Bytes::new())
        };
    }
    outcome.gas_left -= deposit;
    evm.state.set_code(message.target, code);
    outcome
}

/// Whether creating at `address` collides with an existing account: one with code or a nonce
/// (EIP-684), or with storage (EIP-7610).
pub fn creation_collides(evm: &Evm, address: &Address) -> bool {
    evm.state
        .account(address)
        .is_some_and(|a| a.nonce != 0 || !a.code.is_empty() || !a.storage.is_empty())
}

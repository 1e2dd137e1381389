//! System: CREATE, CREATE2 (EIP-1014), CALL, CALLCODE, DELEGATECALL (EIP-7), STATICCALL
//! (EIP-214), RETURN, REVERT (EIP-140), INVALID and SELFDESTRUCT (through EIP-6780). From
//! Prague a call to a delegated account runs its delegate's code (EIP-7702).

use super::environment::address_word;
use crate::delegation;
use crate::state::RIPEMD160_ADDRESS;
use crate::vm::memory::Memory;
use crate::vm::message::{self, Message, STACK_DEPTH_LIMIT};
use crate::vm::{gas, Evm, Frame, Halt};
use crate::Fork;
use alloy_primitives::{Address, Bytes, B256, U256};

/// The address of a contract created by `sender` with `nonce` (CREATE).
pub fn create_address(sender: Address, nonce: u64) -> Address {
    sender.create(nonce)
}

/// The address of a contract created by CREATE2 (EIP-1014).
pub fn create2_address(sender: Address, salt: B256, init_code: &[u8]) -> Address {
    sender.create2_from_code(salt, init_code)
}

/// Gas a call or creation may pass on: all but one 64th from EIP-150, before it all.
fn max_message_gas(fork: Fork, gas_left: u64) -> u64 {
    if fork >= Fork::TangerineWhistle {
        gas::all_but_one_64th(gas_left)
    } else {
        gas_left
    }
}

/// The body shared by CREATE and CREATE2, once their gas is paid and memory grown.
fn generic_create(
    evm: &mut Evm,
    frame: &mut Frame,
    value: U256,
    init_code: Bytes,
    address: Address,
) -> Result<(), Halt> {
    if evm.fork >= Fork::Shanghai && init_code.len() > gas::MAX_INIT_CODE_SIZE {
        return Err(Halt::OutOfGas);
    }
    if evm.fork >= Fork::Berlin {
        evm.state.warm_address(address);
    }
    let child_gas = max_message_gas(evm.fork, frame.gas_left);
    frame.gas_left -= child_gas;
    if frame.is_static {
        return Err(Halt::WriteInStaticContext);
    }
    frame.return_data = Bytes::new();
    frame.pc += 1;
    let sender = frame.address;
    if evm.state.balance(&sender) < value
        || evm.state.nonce(&sender) == u64::MAX
        || frame.depth + 1 > STACK_DEPTH_LIMIT
    {
        frame.gas_left += child_gas;
        return frame.stack.push(U256::ZERO);
    }
    evm.state.increment_nonce(sender);
    if message::creation_collides(evm, &address) {
        return frame.stack.push(U256::ZERO);
    }
    let child = Message {
        caller: sender,
        target: address,
        code_address: address,
        value,
        should_transfer_value: true,
        data: Bytes::new(),
        code: init_code,
        gas: child_gas,
        depth: frame.depth + 1,
        is_static: false,
        disable_precompiles: false,
    };
    let outcome = message::process_create_message(evm, &child);
    frame.gas_left += outcome.gas_left;
    if outcome.success {
        frame.refund += outcome.refund;
        frame.stack.push(address_word(address))
    } else {
        if outcome.ripemd_touched {
            evm.state.mark_touched(RIPEMD160_ADDRESS);
        }
        frame.return_data = outcome.output;
        frame.stack.push(U256::ZERO)
    }
}

/// Memory growth and init code for a creation: `(memory cost, new size, init code words)`.
fn create_memory(frame: &Frame, offset: U256, len: U256) -> Result<(u64, usize, u64), Halt> {
    let (memory_cost, size) = frame.memory_expansion(&[(offset, len)])?;
    Ok((memory_cost, size, gas::words(len.saturating_to::<u64>())))
}

/// EIP-3860: 2 gas per word of init code, from Shanghai.
fn init_code_cost(fork: Fork, words: u64) -> u64 {
    if fork >= Fork::Shanghai {
        gas::INIT_CODE_WORD.saturating_mul(words)
    } else {
        0
    }
}

/// CREATE: creates a contract at the address derived from the sender and its nonce.
pub fn create(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let value = frame.stack.pop()?;
    let offset = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    // gas
    let (memory_cost, size, words) = create_memory(frame, offset, len)?;
    frame.charge(
        gas::CREATE
            .saturating_add(memory_cost)
            .saturating_add(init_code_cost(evm.fork, words)),
    )?;
    // operation and program counter
    frame.memory.resize(size);
    let (offset, len) = Frame::range(offset, len);
    let init_code = Bytes::copy_from_slice(frame.memory.read(offset, len));
    let address = create_address(frame.address, evm.state.nonce(&frame.address));
    generic_create(evm, frame, value, init_code, address)
}

/// CREATE2 (EIP-1014): creates a contract at an address derived from a salt and the init
/// code, paying for hashing the init code.
pub fn create2(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let value = frame.stack.pop()?;
    let offset = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    let salt = B256::from(frame.stack.pop()?.to_be_bytes::<32>());
    // gas
    let (memory_cost, size, words) = create_memory(frame, offset, len)?;
    frame.charge(
        gas::CREATE
            .saturating_add(gas::KECCAK256_WORD.saturating_mul(words))
            .saturating_add(memory_cost)
            .saturating_add(init_code_cost(evm.fork, words)),
    )?;
    // operation and program counter
    frame.memory.resize(size);
    let (offset, len) = Frame::range(offset, len);
    let init_code = Bytes::copy_from_slice(frame.memory.read(offset, len));
    let address = create2_address(frame.address, salt, &init_code);
    generic_create(evm, frame, value, init_code, address)
}

/// The kinds of message call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallKind {
    Call,
    CallCode,
    DelegateCall,
    StaticCall,
}

/// The code a call to `address` runs: `(code address, code, delegation access cost)`. From
/// Prague an account whose code is a delegation designator runs its delegate's code, and the
/// delegate is accessed warm or cold like any account (EIP-7702, with EIP-2929 prices).
fn resolve_code(evm: &mut Evm, address: Address) -> (Address, Bytes, Option<u64>) {
    let code = evm.state.code(&address);
    match delegation::delegate(evm.fork, &code) {
        Some(delegate) => {
            let cold = evm.state.warm_address(delegate);
            let cost = gas::account_access(evm.fork, cold, 0);
            (delegate, evm.state.code(&delegate), Some(cost))
        }
        None => (address, code, None),
    }
}

/// The body of the four call instructions.
fn call_kind(evm: &mut Evm, frame: &mut Frame, kind: CallKind) -> Result<(), Halt> {
    let fork = evm.fork;
    // operands
    let gas_requested = frame.stack.pop()?;
    let to = frame.pop_address()?;
    let value = match kind {
        CallKind::Call | CallKind::CallCode => frame.stack.pop()?,
        CallKind::DelegateCall | CallKind::StaticCall => U256::ZERO,
    };
    let in_offset = frame.stack.pop()?;
    let in_len = frame.stack.pop()?;
    let out_offset = frame.stack.pop()?;
    let out_len = frame.stack.pop()?;

    // gas
    let (memory_cost, size) =
        frame.memory_expansion(&[(in_offset, in_len), (out_offset, out_len)])?;
    let cold = fork >= Fork::Berlin && evm.state.warm_address(to);
    let mut extra = gas::account_access(fork, cold, gas::call(fork));
    let (code_address, code, delegated) = resolve_code(evm, to);
    if let Some(cost) = delegated {
        extra += cost;
    }
    if kind == CallKind::Call {
        let creates = if fork >= Fork::SpuriousDragon {
            !value.is_zero() && !evm.state.is_alive(&to)
        } else {
            !evm.state.exists(&to)
        };
        if creates {
            extra += gas::NEW_ACCOUNT;
        }
    }
    if !value.is_zero() {
        extra += gas::CALL_VALUE;
    }
    frame.charge(memory_cost)?;
    let child_gas = if fork >= Fork::TangerineWhistle {
        if frame.gas_left < extra {
            return Err(Halt::OutOfGas);
        }
        let cap = gas::all_but_one_64th(frame.gas_left - extra);
        gas_requested.saturating_to::<u64>().min(cap)
    } else {
        u64::try_from(gas_requested).map_err(|_| Halt::OutOfGas)?
    };
    frame.charge(extra.checked_add(child_gas).ok_or(Halt::OutOfGas)?)?;
    if frame.is_static && kind == CallKind::Call && !value.is_zero() {
        return Err(Halt::WriteInStaticContext);
    }
    let child_gas = if value.is_zero() {
        child_gas
    } else {
        child_gas + gas::CALL_STIPEND
    };

    // operation
    frame.memory.resize(size);
    frame.pc += 1;
    frame.return_data = Bytes::new();
    if (matches!(kind, CallKind::Call | CallKind::CallCode)
        && evm.state.balance(&frame.address) < value)
        || frame.depth + 1 > STACK_DEPTH_LIMIT
    {
        frame.gas_left += child_gas;
        return frame.stack.push(U256::ZERO);
    }
    // The call data is read in place: memory is lent to the callee as shared bytes and taken
    // back afterwards, which copies nothing unless the callee kept a reference.
    let (in_offset, in_len) = Frame::range(in_offset, in_len);
    let memory = std::mem::take(&mut frame.memory).into_bytes();
    let data = memory.slice(in_offset..in_offset + in_len);
    let (caller, target, value, transfer) = match kind {
        CallKind::Call => (frame.address, to, value, true),
        CallKind::CallCode => (frame.address, frame.address, value, true),
        CallKind::DelegateCall => (frame.caller, frame.address, frame.value, false),
        CallKind::StaticCall => (frame.address, to, U256::ZERO, true),
    };
    let child = Message {
        caller,
        target,
        code_address,
        value,
        should_transfer_value: transfer,
        data,
        code,
        gas: child_gas,
        depth: frame.depth + 1,
        is_static: frame.is_static || kind == CallKind::StaticCall,
        disable_precompiles: delegated.is_some(),
    };
    let outcome = message::process_message(evm, &child);
    drop(child);
    frame.memory = Memory::from_bytes(memory);
    frame.gas_left += outcome.gas_left;
    if outcome.success {
        frame.refund += outcome.refund;
    } else if outcome.ripemd_touched {
        evm.state.mark_touched(RIPEMD160_ADDRESS);
    }
    let (out_offset, out_len) = Frame::range(out_offset, out_len);
    let copied = out_len.min(outcome.output.len());
    frame.memory.write(out_offset, &outcome.output[..copied]);
    frame.return_data = outcome.output;
    frame.stack.push(U256::from(outcome.success as u8))
}

/// CALL: runs another account's code on its own state, optionally sending value.
pub fn call(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    call_kind(evm, frame, CallKind::Call)
}

/// CALLCODE: runs another account's code on this account's state.
pub fn callcode(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    call_kind(evm, frame, CallKind::CallCode)
}

/// DELEGATECALL (EIP-7): like CALLCODE, keeping the caller and value.
pub fn delegatecall(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    call_kind(evm, frame, CallKind::DelegateCall)
}

/// STATICCALL (EIP-214): a call that may not change state.
pub fn staticcall(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    call_kind(evm, frame, CallKind::StaticCall)
}

/// Reads the output range of RETURN and REVERT, paying for memory.
fn output(frame: &mut Frame) -> Result<Bytes, Halt> {
    let offset = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    let (memory_cost, size) = frame.memory_expansion(&[(offset, len)])?;
    frame.charge(memory_cost)?;
    frame.memory.resize(size);
    let (offset, len) = Frame::range(offset, len);
    Ok(Bytes::copy_from_slice(frame.memory.read(offset, len)))
}

/// RETURN: ends the frame successfully with a memory range as output.
pub fn return_(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    frame.output = output(frame)?;
    frame.running = false;
    Ok(())
}

/// REVERT (EIP-140): ends the frame, undoing its changes but keeping its gas and output.
pub fn revert(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    frame.output = output(frame)?;
    Err(Halt::Revert)
}

/// INVALID (0xFE) and every undefined opcode.
pub fn invalid(_: &mut Evm, _: &mut Frame) -> Result<(), Halt> {
    Err(Halt::InvalidOpcode)
}

/// SELFDESTRUCT: sends the balance to a beneficiary and registers the account for deletion
/// at the end of the transaction; from Cancun only if it was created in that transaction
/// (EIP-6780). Gas: EIP-150 (5000, and 25000 for a new beneficiary), EIP-161 (only when
/// value moves to a dead account), EIP-2929 (cold beneficiary).
pub fn selfdestruct(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let fork = evm.fork;
    // operands
    let beneficiary = frame.pop_address()?;
    // gas
    let mut cost = gas::selfdestruct(fork);
    if fork >= Fork::Berlin && evm.state.warm_address(beneficiary) {
        cost += gas::COLD_ACCOUNT_ACCESS;
    }
    let originator = frame.address;
    let balance = evm.state.balance(&originator);
    let new_account = if fork >= Fork::SpuriousDragon {
        !evm.state.is_alive(&beneficiary) && !balance.is_zero()
    } else if fork >= Fork::TangerineWhistle {
        !evm.state.exists(&beneficiary)
    } else {
        false
    };
    if new_account {
        cost += gas::NEW_ACCOUNT;
    }
    frame.charge(cost)?;
    if frame.is_static {
        return Err(Halt::WriteInStaticContext);
    }
    // operation
    if fork >= Fork::Cancun {
        evm.state.transfer(originator, beneficiary, balance);
        if evm.state.created_in_tx(&originator) {
            evm.state.set_balance(originator, U256::ZERO);
            evm.state.destroyed.push(originator);
        }
    } else {
        evm.state.add_balance(beneficiary, balance);
        evm.state.set_balance(originator, U256::ZERO);
        evm.state.destroyed.push(originator);
    }
    if fork >= Fork::SpuriousDragon {
        evm.state.mark_touched(beneficiary);
    }
    // program counter: the frame ends
    frame.running = false;
    Ok(())
}

//! The step loop: fetch the opcode at the program counter and run its instruction until the
//! frame stops or halts. Which opcodes exist depends on the fork.

use super::instructions::{
    arithmetic, bitwise, block, comparison, control_flow, environment, keccak, log, memory, stack,
    storage, system,
};
use super::trace::Step;
use super::{Evm, Frame, Halt};
use crate::Fork;

/// Runs `frame` to its end: `Ok` for STOP, RETURN, SELFDESTRUCT or the end of the code;
/// `Err` for REVERT and every exceptional halt.
pub fn run(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    while frame.running {
        let op = frame.code.get(frame.pc).copied().unwrap_or(0x00);
        if evm.tracer.is_some() {
            traced_step(evm, frame, op)?;
        } else {
            step(evm, frame, op)?;
        }
    }
    Ok(())
}

/// Runs one instruction and reports it to the tracer (EIP-3155).
fn traced_step(evm: &mut Evm, frame: &mut Frame, op: u8) -> Result<(), Halt> {
    let (pc, gas, mem_size, refund) = (frame.pc, frame.gas_left, frame.memory.len(), frame.refund);
    let stack = frame.stack.items().to_vec();
    let result = step(evm, frame, op);
    if let Some(tracer) = evm.tracer.as_deref_mut() {
        tracer.step(&Step {
            pc,
            op,
            gas,
            gas_cost: gas.saturating_sub(frame.gas_left),
            mem_size,
            stack: &stack,
            depth: frame.depth + 1,
            refund,
            error: result.err().map(|halt| format!("{halt:?}")),
        });
    }
    result
}

/// Runs one instruction.
#[inline]
fn step(evm: &mut Evm, frame: &mut Frame, op: u8) -> Result<(), Halt> {
    let fork = evm.fork;
    match op {
        0x00 => control_flow::stop(evm, frame),
        0x01 => arithmetic::add(evm, frame),
        0x02 => arithmetic::mul(evm, frame),
        0x03 => arithmetic::sub(evm, frame),
        0x04 => arithmetic::div(evm, frame),
        0x05 => arithmetic::sdiv(evm, frame),
        0x06 => arithmetic::modulo(evm, frame),
        0x07 => arithmetic::smod(evm, frame),
        0x08 => arithmetic::addmod(evm, frame),
        0x09 => arithmetic::mulmod(evm, frame),
        0x0a => arithmetic::exp(evm, frame),
        0x0b => arithmetic::signextend(evm, frame),
        0x10 => comparison::lt(evm, frame),
        0x11 => comparison::gt(evm, frame),
        0x12 => comparison::slt(evm, frame),
        0x13 => comparison::sgt(evm, frame),
        0x14 => comparison::eq(evm, frame),
        0x15 => comparison::iszero(evm, frame),
        0x16 => bitwise::and(evm, frame),
        0x17 => bitwise::or(evm, frame),
        0x18 => bitwise::xor(evm, frame),
        0x19 => bitwise::not(evm, frame),
        0x1a => bitwise::byte(evm, frame),
        // EIP-145 (Constantinople).
        0x1b if fork >= Fork::Constantinople => bitwise::shl(evm, frame),
        0x1c if fork >= Fork::Constantinople => bitwise::shr(evm, frame),
        0x1d if fork >= Fork::Constantinople => bitwise::sar(evm, frame),
        // EIP-7939 (Osaka).
        0x1e if fork >= Fork::Osaka => bitwise::clz(evm, frame),
        0x20 => keccak::keccak(evm, frame),
        0x30 => environment::address(evm, frame),
        0x31 => environment::balance(evm, frame),
        0x32 => environment::origin(evm, frame),
        0x33 => environment::caller(evm, frame),
        0x34 => environment::callvalue(evm, frame),
        0x35 => environment::calldataload(evm, frame),
        0x36 => environment::calldatasize(evm, frame),
        0x37 => environment::calldatacopy(evm, frame),
        0x38 => environment::codesize(evm, frame),
        0x39 => environment::codecopy(evm, frame),
        0x3a => environment::gasprice(evm, frame),
        0x3b => environment::extcodesize(evm, frame),
        0x3c => environment::extcodecopy(evm, frame),
        // EIP-211 (Byzantium).
        0x3d if fork >= Fork::Byzantium => environment::returndatasize(evm, frame),
        0x3e if fork >= Fork::Byzantium => environment::returndatacopy(evm, frame),
        // EIP-1052 (Constantinople).
        0x3f if fork >= Fork::Constantinople => environment::extcodehash(evm, frame),
        0x40 => block::blockhash(evm, frame),
        0x41 => block::coinbase(evm, frame),
        0x42 => block::timestamp(evm, frame),
        0x43 => block::number(evm, frame),
        0x44 => block::prevrandao(evm, frame),
        0x45 => block::gaslimit(evm, frame),
        // EIP-1344 and EIP-1884 (Istanbul).
        0x46 if fork >= Fork::Istanbul => block::chainid(evm, frame),
        0x47 if fork >= Fork::Istanbul => environment::selfbalance(evm, frame),
        // EIP-3198 (London).
        0x48 if fork >= Fork::London => block::basefee(evm, frame),
        // EIP-4844 and EIP-7516 (Cancun).
        0x49 if fork >= Fork::Cancun => block::blobhash(evm, frame),
        0x4a if fork >= Fork::Cancun => block::blobbasefee(evm, frame),
        0x50 => stack::pop(evm, frame),
        0x51 => memory::mload(evm, frame),
        0x52 => memory::mstore(evm, frame),
        0x53 => memory::mstore8(evm, frame),
        0x54 => storage::sload(evm, frame),
        0x55 => storage::sstore(evm, frame),
        0x56 => control_flow::jump(evm, frame),
        0x57 => control_flow::jumpi(evm, frame),
        0x58 => control_flow::pc(evm, frame),
        0x59 => memory::msize(evm, frame),
        0x5a => control_flow::gas(evm, frame),
        0x5b => control_flow::jumpdest(evm, frame),
        // EIP-1153 and EIP-5656 (Cancun).
        0x5c if fork >= Fork::Cancun => storage::tload(evm, frame),
        0x5d if fork >= Fork::Cancun => storage::tstore(evm, frame),
        0x5e if fork >= Fork::Cancun => memory::mcopy(evm, frame),
        // EIP-3855 (Shanghai).
        0x5f if fork >= Fork::Shanghai => stack::push0(evm, frame),
        0x60..=0x7f => stack::push(frame, (op - 0x5f) as usize),
        0x80..=0x8f => stack::dup(frame, (op - 0x7f) as usize),
        0x90..=0x9f => stack::swap(frame, (op - 0x8f) as usize),
        0xa0..=0xa4 => log::log(evm, frame, (op - 0xa0) as usize),
        0xf0 => system::create(evm, frame),
        0xf1 => system::call(evm, frame),
        0xf2 => system::callcode(evm, frame),
        0xf3 => system::return_(evm, frame),
        // EIP-7 (Homestead).
        0xf4 if fork >= Fork::Homestead => system::delegatecall(evm, frame),
        // EIP-1014 (Constantinople).
        0xf5 if fork >= Fork::Constantinople => system::create2(evm, frame),
        // EIP-214 (Byzantium).
        0xfa if fork >= Fork::Byzantium => system::staticcall(evm, frame),
        // EIP-140 (Byzantium).
        0xfd if fork >= Fork::Byzantium => system::revert(evm, frame),
        0xff => system::selfdestruct(evm, frame),
        _ => system::invalid(evm, frame),
    }
}

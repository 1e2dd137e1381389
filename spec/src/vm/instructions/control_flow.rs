//! Control flow: STOP, JUMP, JUMPI, PC, GAS, JUMPDEST.

use crate::vm::{gas, Evm, Frame, Halt};
use alloy_primitives::U256;

/// STOP: ends the frame successfully with no output.
pub fn stop(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    frame.running = false;
    Ok(())
}

/// Moves the program counter to `dest`, which must be a JUMPDEST.
fn jump_to(frame: &mut Frame, dest: U256) -> Result<(), Halt> {
    let dest = usize::try_from(dest).map_err(|_| Halt::InvalidJump)?;
    if !frame.jumpdests.get(dest).copied().unwrap_or(false) {
        return Err(Halt::InvalidJump);
    }
    frame.pc = dest;
    Ok(())
}

/// JUMP: continues at a JUMPDEST.
pub fn jump(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let dest = frame.stack.pop()?;
    // gas
    frame.charge(gas::MID)?;
    // operation and program counter
    jump_to(frame, dest)
}

/// JUMPI: continues at a JUMPDEST if the condition is not zero.
pub fn jumpi(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let dest = frame.stack.pop()?;
    let condition = frame.stack.pop()?;
    frame.charge(gas::HIGH)?;
    if condition.is_zero() {
        frame.pc += 1;
        Ok(())
    } else {
        jump_to(frame, dest)
    }
}

/// PC: the position of this instruction.
pub fn pc(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    frame.charge(gas::BASE)?;
    frame.stack.push(U256::from(frame.pc))?;
    frame.pc += 1;
    Ok(())
}

/// GAS: the gas left after this instruction.
pub fn gas(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    frame.charge(gas::BASE)?;
    frame.stack.push(U256::from(frame.gas_left))?;
    frame.pc += 1;
    Ok(())
}

/// JUMPDEST: marks a jump destination.
pub fn jumpdest(_: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    frame.charge(gas::JUMPDEST)?;
    frame.pc += 1;
    Ok(())
}

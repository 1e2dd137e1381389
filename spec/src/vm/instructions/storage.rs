//! Storage: SLOAD, SSTORE (gas in [`gas::sstore`]), TLOAD and TSTORE (EIP-1153, Cancun).

use crate::vm::{gas, Evm, Frame, Halt};
use crate::Fork;

/// SLOAD: reads a slot; from Berlin warm (100) or cold (2100) per EIP-2929.
pub fn sload(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let key = frame.stack.pop()?;
    // gas
    let cost = if evm.fork >= Fork::Berlin {
        if evm.state.warm_slot(frame.address, key) {
            gas::COLD_SLOAD
        } else {
            gas::WARM_STORAGE_READ
        }
    } else {
        gas::sload(evm.fork)
    };
    frame.charge(cost)?;
    // operation
    let value = evm.state.storage(&frame.address, &key);
    frame.stack.push(value)?;
    // program counter
    frame.pc += 1;
    Ok(())
}

/// SSTORE: writes a slot. From Istanbul it needs more than the call stipend left (EIP-2200).
pub fn sstore(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    // operands
    let key = frame.stack.pop()?;
    let new = frame.stack.pop()?;
    // gas
    if evm.fork >= Fork::Istanbul && frame.gas_left <= gas::CALL_STIPEND {
        return Err(Halt::OutOfGas);
    }
    let cold = evm.fork >= Fork::Berlin && evm.state.warm_slot(frame.address, key);
    let original = evm.state.original_storage(&frame.address, &key);
    let current = evm.state.storage(&frame.address, &key);
    let (cost, refund) = gas::sstore(evm.fork, original, current, new, cold);
    // The test-only fault of feature `faults` (absent from normal builds).
    #[cfg(feature = "faults")]
    let cost = cost + crate::faults::extra_sstore_gas();
    frame.charge(cost)?;
    if frame.is_static {
        return Err(Halt::WriteInStaticContext);
    }
    // operation
    frame.refund += refund;
    if current != new {
        evm.state.set_storage(frame.address, key, new);
    }
    // program counter
    frame.pc += 1;
    Ok(())
}

/// TLOAD (EIP-1153).
pub fn tload(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let key = frame.stack.pop()?;
    frame.charge(gas::TRANSIENT)?;
    let value = evm.state.transient(&frame.address, &key);
    frame.stack.push(value)?;
    frame.pc += 1;
    Ok(())
}

/// TSTORE (EIP-1153): forbidden in a static context.
pub fn tstore(evm: &mut Evm, frame: &mut Frame) -> Result<(), Halt> {
    let key = frame.stack.pop()?;
    let value = frame.stack.pop()?;
    frame.charge(gas::TRANSIENT)?;
    if frame.is_static {
        return Err(Halt::WriteInStaticContext);
    }
    evm.state.set_transient(frame.address, key, value);
    frame.pc += 1;
    Ok(())
}

//! LOG0..LOG4.

use crate::types::Log;
use crate::vm::{gas, Evm, Frame, Halt};
use alloy_primitives::{Bytes, B256};

/// LOGn: appends a log with `n` topics and a memory range as data; 375 gas, 375 per topic, 8
/// per byte, plus memory growth. Forbidden in a static context (EIP-214).
pub fn log(evm: &mut Evm, frame: &mut Frame, n: usize) -> Result<(), Halt> {
    // operands
    let offset = frame.stack.pop()?;
    let len = frame.stack.pop()?;
    let mut topics = Vec::with_capacity(n);
    for _ in 0..n {
        topics.push(B256::from(frame.stack.pop()?.to_be_bytes::<32>()));
    }
    // gas
    let (memory_cost, size) = frame.memory_expansion(&[(offset, len)])?;
    let data_cost = gas::LOG_DATA.saturating_mul(len.saturating_to::<u64>());
    frame.charge(
        (gas::LOG + gas::LOG_TOPIC * n as u64)
            .saturating_add(data_cost)
            .saturating_add(memory_cost),
    )?;
    if frame.is_static {
        return Err(Halt::WriteInStaticContext);
    }
    // operation
    frame.memory.resize(size);
    let (offset, len) = Frame::range(offset, len);
    let data = Bytes::copy_from_slice(frame.memory.read(offset, len));
    evm.state.logs.push(Log {
        address: frame.address,
        topics,
        data,
    });
    // program counter
    frame.pc += 1;
    Ok(())
}

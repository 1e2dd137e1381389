//! Per-step tracing in the EIP-3155 format: one JSON object per instruction, with the state
//! before it runs. Off by default; when off it costs one branch per instruction.

use alloy_primitives::U256;
use std::fmt::Write as _;

/// The machine state before one instruction, and what running it did.
#[derive(Clone, Debug)]
pub struct Step<'a> {
    /// Program counter.
    pub pc: usize,
    /// Opcode.
    pub op: u8,
    /// Gas left before the instruction.
    pub gas: u64,
    /// Gas the instruction took (including gas passed to a sub-call and not returned).
    pub gas_cost: u64,
    /// Memory size in bytes.
    pub mem_size: usize,
    /// Stack, bottom first.
    pub stack: &'a [U256],
    /// Call depth, 1 for the transaction's frame (EIP-3155).
    pub depth: usize,
    /// Refund counter of the frame.
    pub refund: i64,
    /// The halt the instruction caused, if any.
    pub error: Option<String>,
}

/// Receives every step of every frame.
pub trait Tracer: Send {
    /// Called after each instruction with the state before it.
    fn step(&mut self, step: &Step<'_>);

    /// Called when transaction `index` of the block starts, and with `None` when the block's
    /// own work (system calls after the transactions) starts. Steps before the first call are
    /// the block's system calls before its transactions.
    fn transaction(&mut self, _index: Option<usize>) {}
}

/// The mnemonic of an opcode.
pub fn op_name(op: u8) -> &'static str {
    OP_NAMES[op as usize]
}

const OP_NAMES: [&str; 256] = [
    "STOP",
    "ADD",
    "MUL",
    "SUB",
    "DIV",
    "SDIV",
    "MOD",
    "SMOD",
    "ADDMOD",
    "MULMOD",
    "EXP",
    "SIGNEXTEND",
    "opcode 0x0c not defined",
    "opcode 0x0d not defined",
    "opcode 0x0e not defined",
    "opcode 0x0f not defined",
    "LT",
    "GT",
    "SLT",
    "SGT",
    "EQ",
    "ISZERO",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "BYTE",
    "SHL",
    "SHR",
    "SAR",
    "CLZ",
    "opcode 0x1f not defined",
    "KECCAK256",
    "opcode 0x21 not defined",
    "opcode 0x22 not defined",
    "opcode 0x23 not defined",
    "opcode 0x24 not defined",
    "opcode 0x25 not defined",
    "opcode 0x26 not defined",
    "opcode 0x27 not defined",
    "opcode 0x28 not defined",
    "opcode 0x29 not defined",
    "opcode 0x2a not defined",
    "opcode 0x2b not defined",
    "opcode 0x2c not defined",
    "opcode 0x2d not defined",
    "opcode 0x2e not defined",
    "opcode 0x2f not defined",
    "ADDRESS",
    "BALANCE",
    "ORIGIN",
    "CALLER",
    "CALLVALUE",
    "CALLDATALOAD",
    "CALLDATASIZE",
    "CALLDATACOPY",
    "CODESIZE",
    "CODECOPY",
    "GASPRICE",
    "EXTCODESIZE",
    "EXTCODECOPY",
    "RETURNDATASIZE",
    "RETURNDATACOPY",
    "EXTCODEHASH",
    "BLOCKHASH",
    "COINBASE",
    "TIMESTAMP",
    "NUMBER",
    "PREVRANDAO",
    "GASLIMIT",
    "CHAINID",
    "SELFBALANCE",
    "BASEFEE",
    "BLOBHASH",
    "BLOBBASEFEE",
    "opcode 0x4b not defined",
    "opcode 0x4c not defined",
    "opcode 0x4d not defined",
    "opcode 0x4e not defined",
    "opcode 0x4f not defined",
    "POP",
    "MLOAD",
    "MSTORE",
    "MSTORE8",
    "SLOAD",
    "SSTORE",
    "JUMP",
    "JUMPI",
    "PC",
    "MSIZE",
    "GAS",
    "JUMPDEST",
    "TLOAD",
    "TSTORE",
    "MCOPY",
    "PUSH0",
    "PUSH1",
    "PUSH2",
    "PUSH3",
    "PUSH4",
    "PUSH5",
    "PUSH6",
    "PUSH7",
    "PUSH8",
    "PUSH9",
    "PUSH10",
    "PUSH11",
    "PUSH12",
    "PUSH13",
    "PUSH14",
    "PUSH15",
    "PUSH16",
    "PUSH17",
    "PUSH18",
    "PUSH19",
    "PUSH20",
    "PUSH21",
    "PUSH22",
    "PUSH23",
    "PUSH24",
    "PUSH25",
    "PUSH26",
    "PUSH27",
    "PUSH28",
    "PUSH29",
    "PUSH30",
    "PUSH31",
    "PUSH32",
    "DUP1",
    "DUP2",
    "DUP3",
    "DUP4",
    "DUP5",
    "DUP6",
    "DUP7",
    "DUP8",
    "DUP9",
    "DUP10",
    "DUP11",
    "DUP12",
    "DUP13",
    "DUP14",
    "DUP15",
    "DUP16",
    "SWAP1",
    "SWAP2",
    "SWAP3",
    "SWAP4",
    "SWAP5",
    "SWAP6",
    "SWAP7",
    "SWAP8",
    "SWAP9",
    "SWAP10",
    "SWAP11",
    "SWAP12",
    "SWAP13",
    "SWAP14",
    "SWAP15",
    "SWAP16",
    "LOG0",
    "LOG1",
    "LOG2",
    "LOG3",
    "LOG4",
    "opcode 0xa5 not defined",
    "opcode 0xa6 not defined",
    "opcode 0xa7 not defined",
    "opcode 0xa8 not defined",
    "opcode 0xa9 not defined",
    "opcode 0xaa not defined",
    "opcode 0xab not defined",
    "opcode 0xac not defined",
    "opcode 0xad not defined",
    "opcode 0xae not defined",
    "opcode 0xaf not defined",
    "opcode 0xb0 not defined",
    "opcode 0xb1 not defined",
    "opcode 0xb2 not defined",
    "opcode 0xb3 not defined",
    "opcode 0xb4 not defined",
    "opcode 0xb5 not defined",
    "opcode 0xb6 not defined",
    "opcode 0xb7 not defined",
    "opcode 0xb8 not defined",
    "opcode 0xb9 not defined",
    "opcode 0xba not defined",
    "opcode 0xbb not defined",
    "opcode 0xbc not defined",
    "opcode 0xbd not defined",
    "opcode 0xbe not defined",
    "opcode 0xbf not defined",
    "opcode 0xc0 not defined",
    "opcode 0xc1 not defined",
    "opcode 0xc2 not defined",
    "opcode 0xc3 not defined",
    "opcode 0xc4 not defined",
    "opcode 0xc5 not defined",
    "opcode 0xc6 not defined",
    "opcode 0xc7 not defined",
    "opcode 0xc8 not defined",
    "opcode 0xc9 not defined",
    "opcode 0xca not defined",
    "opcode 0xcb not defined",
    "opcode 0xcc not defined",
    "opcode 0xcd not defined",
    "opcode 0xce not defined",
    "opcode 0xcf not defined",
    "opcode 0xd0 not defined",
    "opcode 0xd1 not defined",
    "opcode 0xd2 not defined",
    "opcode 0xd3 not defined",
    "opcode 0xd4 not defined",
    "opcode 0xd5 not defined",
    "opcode 0xd6 not defined",
    "opcode 0xd7 not defined",
    "opcode 0xd8 not defined",
    "opcode 0xd9 not defined",
    "opcode 0xda not defined",
    "opcode 0xdb not defined",
    "opcode 0xdc not defined",
    "opcode 0xdd not defined",
    "opcode 0xde not defined",
    "opcode 0xdf not defined",
    "opcode 0xe0 not defined",
    "opcode 0xe1 not defined",
    "opcode 0xe2 not defined",
    "opcode 0xe3 not defined",
    "opcode 0xe4 not defined",
    "opcode 0xe5 not defined",
    "opcode 0xe6 not defined",
    "opcode 0xe7 not defined",
    "opcode 0xe8 not defined",
    "opcode 0xe9 not defined",
    "opcode 0xea not defined",
    "opcode 0xeb not defined",
    "opcode 0xec not defined",
    "opcode 0xed not defined",
    "opcode 0xee not defined",
    "opcode 0xef not defined",
    "CREATE",
    "CALL",
    "CALLCODE",
    "RETURN",
    "DELEGATECALL",
    "CREATE2",
    "opcode 0xf6 not defined",
    "opcode 0xf7 not defined",
    "opcode 0xf8 not defined",
    "opcode 0xf9 not defined",
    "STATICCALL",
    "opcode 0xfb not defined",
    "opcode 0xfc not defined",
    "REVERT",
    "INVALID",
    "SELFDESTRUCT",
];

impl Step<'_> {
    /// The step as one EIP-3155 JSON line (without the newline).
    pub fn to_json(&self) -> String {
        let mut line = String::with_capacity(128 + 70 * self.stack.len());
        let _ = write!(
            line,
            "{{\"pc\":{},\"op\":{},\"gas\":\"0x{:x}\",\"gasCost\":\"0x{:x}\",\"memSize\":{},\"stack\":[",
            self.pc, self.op, self.gas, self.gas_cost, self.mem_size
        );
        for (i, item) in self.stack.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(line, "{sep}\"0x{item:x}\"");
        }
        let _ = write!(
            line,
            "],\"depth\":{},\"refund\":{},\"opName\":\"{}\"",
            self.depth,
            self.refund,
            op_name(self.op)
        );
        if let Some(error) = &self.error {
            let _ = write!(line, ",\"error\":\"{error}\"");
        }
        line.push('}');
        line
    }
}

/// A tracer that writes EIP-3155 JSON lines.
pub struct JsonTracer<W: std::io::Write + Send> {
    out: W,
}

impl<W: std::io::Write + Send> JsonTracer<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JsonTracer { out }
    }
}

impl<W: std::io::Write + Send> Tracer for JsonTracer<W> {
    fn step(&mut self, step: &Step<'_>) {
        let _ = writeln!(self.out, "{}", step.to_json());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip3155_line() {
        let stack = [U256::from(1), U256::from(255)];
        let step = Step {
            pc: 2,
            op: 0x01,
            gas: 0x2540be400,
            gas_cost: 3,
            mem_size: 0,
            stack: &stack,
            depth: 1,
            refund: 0,
            error: None,
        };
        assert_eq!(
            step.to_json(),
            r#"{"pc":2,"op":1,"gas":"0x2540be400","gasCost":"0x3","memSize":0,"stack":["0x1","0xff"],"depth":1,"refund":0,"opName":"ADD"}"#
        );
        assert_eq!(op_name(0x7f), "PUSH32");
        assert_eq!(op_name(0x44), "PREVRANDAO");
    }
}

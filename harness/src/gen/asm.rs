//! A tiny assembler for the hand-written contract templates: opcodes by name, pushes of the
//! smallest width, and forward jump labels patched when the code is finished.

use alloy_primitives::{Address, Bytes, U256};

/// The opcodes the templates use, by their Yellow Paper names.
#[allow(missing_docs)]
pub mod op {
    pub const STOP: u8 = 0x00;
    pub const ADD: u8 = 0x01;
    pub const SUB: u8 = 0x03;
    pub const LT: u8 = 0x10;
    pub const ISZERO: u8 = 0x15;
    pub const KECCAK256: u8 = 0x20;
    pub const ADDRESS: u8 = 0x30;
    pub const BALANCE: u8 = 0x31;
    pub const CALLER: u8 = 0x33;
    pub const CALLVALUE: u8 = 0x34;
    pub const CALLDATALOAD: u8 = 0x35;
    pub const CALLDATASIZE: u8 = 0x36;
    pub const CALLDATACOPY: u8 = 0x37;
    pub const EXTCODESIZE: u8 = 0x3b;
    pub const COINBASE: u8 = 0x41;
    pub const SELFBALANCE: u8 = 0x47;
    pub const POP: u8 = 0x50;
    pub const MLOAD: u8 = 0x51;
    pub const MSTORE: u8 = 0x52;
    pub const SLOAD: u8 = 0x54;
    pub const SSTORE: u8 = 0x55;
    pub const JUMP: u8 = 0x56;
    pub const JUMPI: u8 = 0x57;
    pub const GAS: u8 = 0x5a;
    pub const JUMPDEST: u8 = 0x5b;
    pub const TLOAD: u8 = 0x5c;
    pub const TSTORE: u8 = 0x5d;
    pub const PUSH1: u8 = 0x60;
    pub const PUSH2: u8 = 0x61;
    pub const PUSH20: u8 = 0x73;
    pub const PUSH32: u8 = 0x7f;
    pub const DUP1: u8 = 0x80;
    pub const SWAP1: u8 = 0x90;
    pub const LOG1: u8 = 0xa1;
    pub const CREATE: u8 = 0xf0;
    pub const CALL: u8 = 0xf1;
    pub const RETURN: u8 = 0xf3;
    pub const DELEGATECALL: u8 = 0xf4;
    pub const CREATE2: u8 = 0xf5;
    pub const STATICCALL: u8 = 0xfa;
    pub const REVERT: u8 = 0xfd;
    pub const SELFDESTRUCT: u8 = 0xff;
}

/// A jump target, bound with [`Asm::bind`].
#[derive(Clone, Copy, Debug)]
pub struct Label(usize);

/// Code being assembled.
#[derive(Debug, Default)]
pub struct Asm {
    code: Vec<u8>,
    targets: Vec<Option<usize>>,
    /// (offset of a PUSH2 operand, label) to patch.
    fixups: Vec<(usize, usize)>,
}

impl Asm {
    /// Empty code.
    pub fn new() -> Self {
        Asm::default()
    }

    /// Appends opcodes without operands.
    pub fn ops(&mut self, ops: &[u8]) -> &mut Self {
        self.code.extend_from_slice(ops);
        self
    }

    /// Pushes `value` with the narrowest PUSHn (PUSH1 for zero, so that the code runs before
    /// Shanghai's PUSH0 too).
    pub fn push(&mut self, value: U256) -> &mut Self {
        let bytes = value.to_be_bytes::<32>();
        let skip = bytes.iter().take_while(|b| **b == 0).count().min(31);
        let width = 32 - skip;
        self.code.push(op::PUSH1 + (width as u8 - 1));
        self.code.extend_from_slice(&bytes[skip..]);
        self
    }

    /// Pushes a small number.
    pub fn push_u64(&mut self, value: u64) -> &mut Self {
        self.push(U256::from(value))
    }

    /// Pushes an address with PUSH20.
    pub fn push_address(&mut self, address: Address) -> &mut Self {
        self.code.push(op::PUSH20);
        self.code.extend_from_slice(address.as_slice());
        self
    }

    /// Pushes 32 raw bytes with PUSH32 (left-aligned data, such as init code for MSTORE).
    pub fn push_word(&mut self, word: [u8; 32]) -> &mut Self {
        self.code.push(op::PUSH32);
        self.code.extend_from_slice(&word);
        self
    }

    /// A new, unbound label.
    pub fn label(&mut self) -> Label {
        self.targets.push(None);
        Label(self.targets.len() - 1)
    }

    /// Binds `label` here and emits its JUMPDEST.
    pub fn bind(&mut self, label: Label) -> &mut Self {
        self.targets[label.0] = Some(self.code.len());
        self.code.push(op::JUMPDEST);
        self
    }

    /// Pushes the offset of `label` (PUSH2, patched by [`Asm::finish`]).
    pub fn push_label(&mut self, label: Label) -> &mut Self {
        self.code.push(op::PUSH2);
        self.fixups.push((self.code.len(), label.0));
        self.code.extend_from_slice(&[0, 0]);
        self
    }

    /// The finished code. Every label pushed must have been bound (a template bug otherwise).
    pub fn finish(&mut self) -> Bytes {
        for &(at, label) in &self.fixups {
            let target = self.targets[label]
                .unwrap_or_else(|| unreachable!("template uses an unbound label"));
            self.code[at..at + 2].copy_from_slice(&(target as u16).to_be_bytes());
        }
        Bytes::from(std::mem::take(&mut self.code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_are_narrowest_and_labels_patch() {
        let mut asm = Asm::new();
        asm.push_u64(0).push_u64(0x1234);
        let end = asm.label();
        asm.push_label(end).ops(&[op::JUMP]).bind(end);
        let code = asm.finish();
        assert_eq!(
            code.as_ref(),
            &[0x60, 0x00, 0x61, 0x12, 0x34, 0x61, 0x00, 0x09, 0x56, 0x5b]
        );
    }
}

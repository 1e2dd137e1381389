//! Hand-assembled contract templates with parameters, the building blocks of generated
//! blocks. Each one does real work on state that other transactions of the block touch (a
//! hot slot, balances, the coinbase, created addresses, transient storage), so that a
//! parallel executor meets the conflicts it must get right. The listing beside each
//! instruction is the stack after it (top first).

use super::asm::{op, Asm};
use alloy_primitives::{Address, Bytes};

/// `SSTORE(slot, SLOAD(slot) + step)`, log the new value (topic: the caller) and return it.
/// The read-modify-write every Block-STM conflict starts with. Between the read and the write
/// it hashes `work` times (about 95 gas each), so that the read happens well before the write
/// and transactions running at once really overlap.
pub fn hot_slot(slot: u64, step: u64, work: u64) -> Bytes {
    let mut a = Asm::new();
    let (top, done) = (a.label(), a.label());
    a.push_u64(slot)
        .ops(&[op::SLOAD]) //          v
        .push_u64(work) //                         i, v
        .bind(top) //                              i, v
        .ops(&[op::DUP1, op::ISZERO])
        .push_label(done)
        .ops(&[op::JUMPI]) // i == 0: done
        .push_u64(64)
        .push_u64(0)
        .ops(&[op::KECCAK256]) // h, i, v
        .push_u64(0)
        .ops(&[op::MSTORE]) //         i, v            mem[0] = h
        .push_u64(1)
        .ops(&[op::SWAP1, op::SUB]) // i-1, v
        .push_label(top)
        .ops(&[op::JUMP])
        .bind(done)
        .ops(&[op::POP]) //                        v
        .push_u64(step)
        .ops(&[op::ADD]) //         v+step
        .ops(&[op::DUP1]) //                       v+step, v+step
        .push_u64(slot)
        .ops(&[op::SSTORE]) //      v+step          storage[slot] = v+step
        .push_u64(0)
        .ops(&[op::MSTORE]) //         -               mem[0] = v+step
        .ops(&[op::CALLER]) //                     caller
        .push_u64(32)
        .push_u64(0)
        .ops(&[op::LOG1]) // -            LOG1(mem[0..32], caller)
        .push_u64(32)
        .push_u64(0)
        .ops(&[op::RETURN]); // return mem[0..32]
    a.finish()
}

/// Stores balances read mid-block: `BALANCE(target)` at `base`, `SELFBALANCE` at `base + 1`,
/// `BALANCE(COINBASE)` at `base + 2` (the beneficiary, paid by every transaction) and the
/// caller's balance at `base + 3`.
pub fn balance_probe(target: Address, base: u64) -> Bytes {
    let mut a = Asm::new();
    a.push_address(target)
        .ops(&[op::BALANCE]) //  bal(target)
        .push_u64(base)
        .ops(&[op::SSTORE]) //      -               storage[base]
        .ops(&[op::SELFBALANCE]) //                bal(self)
        .push_u64(base + 1)
        .ops(&[op::SSTORE]) //  -               storage[base+1]
        .ops(&[op::COINBASE, op::BALANCE]) //      bal(coinbase)
        .push_u64(base + 2)
        .ops(&[op::SSTORE]) //  -               storage[base+2]
        .ops(&[op::CALLER, op::BALANCE]) //        bal(caller)
        .push_u64(base + 3)
        .ops(&[op::SSTORE]) //  -               storage[base+3]
        .ops(&[op::STOP]);
    a.finish()
}

/// How [`caller`] calls its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// CALL, with a value.
    Call,
    /// DELEGATECALL: the target's code on the caller's storage and balance.
    DelegateCall,
    /// STATICCALL: any state change in the callee fails the call.
    StaticCall,
}

/// Forwards its call data to `target` with `kind` (CALL with `value` wei), giving it `gas`
/// (when `None`: all but 50,000, kept for the stores after the call, so that a callee that
/// fails and burns its gas does not take the caller down with it), then stores the call's success flag at `slot` and the first
/// word it returned at `slot + 1`. Chained, these make call trees several levels deep.
pub fn caller(kind: CallKind, target: Address, value: u64, gas: Option<u64>, slot: u64) -> Bytes {
    let mut a = Asm::new();
    a.ops(&[op::CALLDATASIZE]) //                  size
        .push_u64(0)
        .push_u64(0) //                0, 0, size
        .ops(&[op::CALLDATACOPY]) //               -               mem[0..size] = calldata
        .push_u64(32)
        .push_u64(0) //               retOff=0, retSize=32
        .ops(&[op::CALLDATASIZE])
        .push_u64(0); //  argsOff=0, argsSize, ret..
    if kind == CallKind::Call {
        a.push_u64(value); //                      value, args.., ret..
    }
    a.push_address(target); //                     target, ...
    match gas {
        Some(g) => a.push_u64(g), //               gas, target, ...
        None => a
            .ops(&[op::GAS])
            .push_u64(50_000)
            .ops(&[op::SWAP1, op::SUB]), // gas-50,000
    };
    a.ops(&[match kind {
        CallKind::Call => op::CALL,
        CallKind::DelegateCall => op::DELEGATECALL,
        CallKind::StaticCall => op::STATICCALL,
    }]) //                                         success
    .push_u64(slot)
    .ops(&[op::SSTORE]) //          -               storage[slot] = success
    .push_u64(0)
    .ops(&[op::MLOAD]) //              ret word
    .push_u64(slot + 1)
    .ops(&[op::SSTORE]) //      -               storage[slot+1] = ret word
    .ops(&[op::STOP]);
    a.finish()
}

/// What the contract made by [`creator`] is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Child {
    /// Deployed with this runtime code (at most 23 bytes).
    Runtime(Bytes),
    /// Its init code self-destructs to this beneficiary: created and destroyed in one
    /// transaction, so EIP-6780 deletes it and the address can be created again.
    DestroyedInInit(Address),
}

/// The salt of [`creator`]'s CREATE2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Salt {
    /// CREATE (the address follows the creator's nonce).
    None,
    /// CREATE2 with this salt: a second creation from the same code collides.
    Fixed(u64),
    /// CREATE2 with the first word of the call data as salt.
    FromCallData,
}

/// Init code that deploys `runtime` (at most 23 bytes, so the init code fits one word):
/// `PUSHn runtime; PUSH1 0; MSTORE; PUSH1 n; PUSH1 32-n; RETURN`.
fn deploy(runtime: &[u8]) -> Bytes {
    let n = runtime.len().min(23);
    let mut a = Asm::new();
    a.ops(&[op::PUSH1 + n as u8 - 1])
        .ops(&runtime[..n]) // runtime (right-aligned)
        .push_u64(0)
        .ops(&[op::MSTORE]) //                   mem[32-n..32] = runtime
        .push_u64(n as u64)
        .push_u64(32 - n as u64) //       offset, size
        .ops(&[op::RETURN]);
    a.finish()
}

/// Creates a [`Child`] (CREATE or CREATE2 per `salt`, endowed with `value` wei), stores the
/// new address at `slot` (zero when the creation failed or collided) and its code size at
/// `slot + 1`; with `call_child`, calls it at once (a self-destructing runtime then dies in
/// the transaction that made it); with `revert_after`, reverts everything at the end.
pub fn creator(
    child: &Child,
    salt: Salt,
    value: u64,
    call_child: bool,
    revert_after: bool,
    slot: u64,
) -> Bytes {
    let init = match child {
        Child::Runtime(code) => deploy(code),
        Child::DestroyedInInit(beneficiary) => {
            let mut a = Asm::new();
            a.push_address(*beneficiary).ops(&[op::SELFDESTRUCT]);
            a.finish()
        }
    };
    let mut word = [0u8; 32];
    let len = init.len().min(32);
    word[..len].copy_from_slice(&init[..len]);
    let mut a = Asm::new();
    a.push_word(word).push_u64(0).ops(&[op::MSTORE]); // mem[0..len] = init code
    match salt {
        Salt::None => {}
        Salt::Fixed(s) => {
            a.push_u64(s); //                      salt
        }
        Salt::FromCallData => {
            a.push_u64(0).ops(&[op::CALLDATALOAD]); // salt = calldata[0..32]
        }
    }
    a.push_u64(len as u64)
        .push_u64(0)
        .push_u64(value) // value, offset 0, size, [salt]
        .ops(&[if salt == Salt::None {
            op::CREATE
        } else {
            op::CREATE2
        }]) // addr (0: failed)
        .ops(&[op::DUP1])
        .push_u64(slot)
        .ops(&[op::SSTORE]) // addr       storage[slot] = addr
        .ops(&[op::DUP1, op::EXTCODESIZE]) //      size, addr
        .push_u64(slot + 1)
        .ops(&[op::SSTORE]); // addr            storage[slot+1] = code size
    if call_child {
        // CALL(gas, addr, 0, 0, 0, 0, 0): stack built under the address already there.
        a.push_u64(0)
            .ops(&[0x90]) //              addr, 0          (SWAP1)
            .push_u64(0)
            .ops(&[0x90]) //           addr, 0, 0
            .push_u64(0)
            .ops(&[0x90]) //           addr, 0, 0, 0
            .push_u64(0)
            .ops(&[0x90]) //           addr, 0, 0, 0, 0
            .push_u64(0)
            .ops(&[0x90]) //           addr, 0 x5       (value 0)
            .ops(&[op::GAS, op::CALL]) //          success
            .push_u64(slot + 2)
            .ops(&[op::SSTORE]); // -           storage[slot+2] = success
    } else {
        a.ops(&[op::POP]);
    }
    if revert_after {
        a.push_u64(0).push_u64(0).ops(&[op::REVERT]);
    } else {
        a.ops(&[op::STOP]);
    }
    a.finish()
}

/// `SELFDESTRUCT(beneficiary)`: before Cancun the account is deleted; from Cancun (EIP-6780)
/// only its balance moves, unless it was created in the same transaction.
pub fn self_destruct(beneficiary: Address) -> Bytes {
    let mut a = Asm::new();
    a.push_address(beneficiary).ops(&[op::SELFDESTRUCT]);
    a.finish()
}

/// Transient storage (EIP-1153): `t = TLOAD(0) + 1; TSTORE(0, t); storage[slot] += t`; called
/// without call data it calls itself once with one byte, so the inner frame sees `t = 2`: a
/// transaction adds 3 to `storage[slot]`, whatever ran before it (transient storage starts at
/// zero in every transaction).
pub fn transient(slot: u64) -> Bytes {
    let mut a = Asm::new();
    let end = a.label();
    a.push_u64(0)
        .ops(&[op::TLOAD]) //             t
        .push_u64(1)
        .ops(&[op::ADD]) //            t+1
        .ops(&[op::DUP1])
        .push_u64(0)
        .ops(&[op::TSTORE]) // t+1   tstore[0] = t+1
        .push_u64(slot)
        .ops(&[op::SLOAD, op::ADD]) // s+t+1
        .push_u64(slot)
        .ops(&[op::SSTORE]) //      -               storage[slot] = s+t+1
        .ops(&[op::CALLDATASIZE])
        .push_label(end)
        .ops(&[op::JUMPI]) // inner frame: done
        .push_u64(0)
        .push_u64(0)
        .push_u64(1)
        .push_u64(0)
        .push_u64(0) // ret 0,0 args 0,1 value 0
        .ops(&[op::ADDRESS, op::GAS, op::CALL, op::POP]) // call self with one byte
        .bind(end)
        .ops(&[op::STOP]);
    a.finish()
}

/// Writes the caller into `slot`, then reverts with the slot's value as data: the write must
/// vanish and the sender still pays.
pub fn revert_after_write(slot: u64) -> Bytes {
    let mut a = Asm::new();
    a.ops(&[op::CALLER])
        .push_u64(slot)
        .ops(&[op::SSTORE]) // storage[slot] = caller
        .push_u64(slot)
        .ops(&[op::SLOAD]) //       caller
        .push_u64(0)
        .ops(&[op::MSTORE]) //         mem[0] = caller
        .push_u64(32)
        .push_u64(0)
        .ops(&[op::REVERT]);
    a.finish()
}

/// Increments `slot`, then loops writing the gas left into `slot + 1` until it runs out of
/// gas: every write is undone and all the gas is used.
pub fn out_of_gas(slot: u64) -> Bytes {
    let mut a = Asm::new();
    let top = a.label();
    a.push_u64(slot)
        .ops(&[op::SLOAD])
        .push_u64(1)
        .ops(&[op::ADD]) // v+1
        .push_u64(slot)
        .ops(&[op::SSTORE]) //      -               storage[slot] += 1
        .bind(top)
        .ops(&[op::GAS])
        .push_u64(slot + 1)
        .ops(&[op::SSTORE]) // storage[slot+1] = gas
        .push_label(top)
        .ops(&[op::JUMP]);
    a.finish()
}

/// Which precompile [`precompile`] calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precompile {
    /// 0x01, ecrecover, with a real signature: returns the signer.
    Ecrecover {
        /// The signed hash.
        hash: [u8; 32],
        /// `v` (27 or 28).
        v: u8,
        /// `r`.
        r: [u8; 32],
        /// `s`.
        s: [u8; 32],
    },
    /// 0x02, sha256 of the caller and the value of a hot slot.
    Sha256,
    /// 0x04, identity of the caller and the value of a hot slot.
    Identity,
}

/// Calls a precompile with STATICCALL and stores the first word of its output at `slot`
/// (sha256 and identity hash / copy `CALLER` and `storage[hot]`, so the result depends on
/// state other transactions write).
pub fn precompile(which: Precompile, hot: u64, slot: u64) -> Bytes {
    let mut a = Asm::new();
    let (address, input_len) = match which {
        Precompile::Ecrecover { hash, v, r, s } => {
            a.push_word(hash)
                .push_u64(0)
                .ops(&[op::MSTORE]) // mem[0] = hash
                .push_u64(u64::from(v))
                .push_u64(32)
                .ops(&[op::MSTORE]) // mem[32] = v
                .push_word(r)
                .push_u64(64)
                .ops(&[op::MSTORE]) // mem[64] = r
                .push_word(s)
                .push_u64(96)
                .ops(&[op::MSTORE]); // mem[96] = s
            (1u64, 128u64)
        }
        Precompile::Sha256 | Precompile::Identity => {
            a.ops(&[op::CALLER])
                .push_u64(0)
                .ops(&[op::MSTORE]) // mem[0] = caller
                .push_u64(hot)
                .ops(&[op::SLOAD])
                .push_u64(32)
                .ops(&[op::MSTORE]); // mem[32] = hot
            (if which == Precompile::Sha256 { 2 } else { 4 }, 64)
        }
    };
    a.push_u64(32)
        .push_u64(128) //                retOff 128, retSize 32
        .push_u64(input_len)
        .push_u64(0) //        argsOff 0, argsSize
        .push_u64(address)
        .ops(&[op::GAS, op::STATICCALL]) // success
        .ops(&[op::ISZERO])
        .push_u64(slot + 1)
        .ops(&[op::SSTORE]) // storage[slot+1] = failed
        .push_u64(128)
        .ops(&[op::MLOAD]) //        output word
        .push_u64(slot)
        .ops(&[op::SSTORE]) //      storage[slot] = output
        .ops(&[op::STOP]);
    a.finish()
}

/// A counter runtime for created children: `storage[0] += 1` (10 bytes).
pub fn counter_runtime() -> Bytes {
    Bytes::from_static(crate::bench::workloads::COUNTER_CODE)
}

/// Reverts unless the call carries at least `min` wei, then stores the value at `slot`
/// (a payable endpoint whose balance other transactions read).
pub fn payable(min: u64, slot: u64) -> Bytes {
    let mut a = Asm::new();
    let ok = a.label();
    a.ops(&[op::CALLVALUE])
        .push_u64(min)
        .ops(&[0x90, op::LT]) // value < min
        .ops(&[op::ISZERO])
        .push_label(ok)
        .ops(&[op::JUMPI])
        .push_u64(0)
        .push_u64(0)
        .ops(&[op::REVERT])
        .bind(ok)
        .ops(&[op::CALLVALUE])
        .push_u64(slot)
        .ops(&[op::SSTORE]) // storage[slot] = value
        .ops(&[op::STOP]);
    a.finish()
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;

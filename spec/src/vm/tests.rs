//! Unit tests of the instruction families and of gas rules at fork boundaries, running small
//! programs in a frame of their own.

use super::message::{process_message, Message};
use super::{CallOutcome, Evm, TxContext};
use crate::state::State;
use crate::types::{Account, BlockEnv, WorldState};
use crate::Fork;
use alloy_primitives::{address, hex, Address, Bytes, U256};

const CONTRACT: Address = address!("00000000000000000000000000000000000c0de0");
const CALLER: Address = address!("00000000000000000000000000000000000ca11e");
const GAS: u64 = 1_000_000;
/// PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN: returns the top of the stack as a word.
const RETURN_TOP: &str = "60005260206000f3";

/// Runs `code` (hex) as the code of [`CONTRACT`] under `fork`; returns the outcome and the
/// state after it.
fn run_with(fork: Fork, code: &str, extra: &[(Address, Account)]) -> (CallOutcome, State) {
    let code = Bytes::from(hex::decode(code).expect("test code is hex"));
    let mut pre: WorldState = extra.iter().cloned().collect();
    pre.accounts.insert(
        CONTRACT,
        Account {
            code: code.clone(),
            balance: U256::from(1_000),
            ..Default::default()
        },
    );
    let env = BlockEnv {
        number: 300,
        chain_id: 1,
        gas_limit: 30_000_000,
        ..Default::default()
    };
    let mut evm = Evm {
        fork,
        block: &env,
        blob_base_fee: U256::from(1),
        tx: TxContext {
            origin: CALLER,
            gas_price: U256::from(1),
            blob_hashes: Vec::new(),
        },
        state: State::new(&pre),
        jumpdests: Default::default(),
        tracer: None,
    };
    let message = Message {
        caller: CALLER,
        target: CONTRACT,
        code_address: CONTRACT,
        value: U256::ZERO,
        should_transfer_value: false,
        data: Bytes::new(),
        code,
        gas: GAS,
        depth: 0,
        is_static: false,
        disable_precompiles: false,
    };
    let outcome = process_message(&mut evm, &message);
    (outcome, evm.state)
}

fn run(fork: Fork, code: &str) -> CallOutcome {
    run_with(fork, code, &[]).0
}

/// The word `code` leaves on the stack, returned with [`RETURN_TOP`].
fn word(fork: Fork, code: &str) -> U256 {
    let outcome = run(fork, &format!("{code}{RETURN_TOP}"));
    assert!(outcome.success, "{code} failed");
    U256::from_be_slice(&outcome.output)
}

fn gas_used(outcome: &CallOutcome) -> u64 {
    GAS - outcome.gas_left
}

#[test]
fn arithmetic() {
    assert_eq!(word(Fork::Cancun, "6005600301"), U256::from(8));
    // 3 - 5 wraps around.
    assert_eq!(word(Fork::Cancun, "6005600303"), U256::MAX - U256::from(1));
    // SDIV: -6 / 2 = -3 (operands: a on top).
    let minus_six = "7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa";
    assert_eq!(
        word(Fork::Cancun, &format!("6002{minus_six}05")),
        U256::ZERO - U256::from(3)
    );
    // SMOD: -6 mod 4 = -2.
    assert_eq!(
        word(Fork::Cancun, &format!("6004{minus_six}07")),
        U256::ZERO - U256::from(2)
    );
    // Division by zero is zero.
    assert_eq!(word(Fork::Cancun, "6000600504"), U256::ZERO);
    // ADDMOD without overflow: (MAX + 2) mod 3.
    let max = "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    assert_eq!(
        word(Fork::Cancun, &format!("60036002{max}08")),
        U256::from(2)
    );
    // SIGNEXTEND of 0xff from one byte is -1.
    assert_eq!(word(Fork::Cancun, "60ff60000b"), U256::MAX);
    // EXP: 2^10.
    assert_eq!(word(Fork::Cancun, "600a60020a"), U256::from(1024));
}

#[test]
fn exp_byte_price_changes_at_spurious_dragon() {
    // PUSH2 0x0100 PUSH1 2 EXP STOP: a two-byte exponent.
    let code = "610100600 20a00".replace(' ', "");
    let before = gas_used(&run(Fork::TangerineWhistle, &code));
    let after = gas_used(&run(Fork::SpuriousDragon, &code));
    assert_eq!(before, 3 + 3 + 10 + 2 * 10);
    assert_eq!(after, 3 + 3 + 10 + 2 * 50);
}

#[test]
fn comparison_and_bitwise() {
    let minus_one = "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    // SLT: -1 < 1.
    assert_eq!(
        word(Fork::Cancun, &format!("6001{minus_one}12")),
        U256::from(1)
    );
    // LT: unsigned MAX < 1 is false.
    assert_eq!(
        word(Fork::Cancun, &format!("6001{minus_one}10")),
        U256::ZERO
    );
    // BYTE 31 of 0x1234 is 0x34.
    assert_eq!(word(Fork::Cancun, "611234601f1a"), U256::from(0x34));
    // SHL 4 of 1, SHR 1 of 4.
    assert_eq!(word(Fork::Cancun, "600160041b"), U256::from(16));
    assert_eq!(word(Fork::Cancun, "600460011c"), U256::from(2));
    // SAR 4 of -1 is -1.
    assert_eq!(word(Fork::Cancun, &format!("{minus_one}60041d")), U256::MAX);
    // Shifts are undefined before Constantinople.
    assert!(!run(Fork::Byzantium, "600160041b").success);
}

#[test]
fn keccak_of_nothing() {
    let hash = word(Fork::Cancun, "6000600020");
    assert_eq!(
        hash,
        U256::from_be_bytes(alloy_primitives::KECCAK256_EMPTY.0)
    );
}

#[test]
fn memory_and_mcopy() {
    // MSTORE 0x2a at 0, MCOPY 32 bytes from 0 to 32, MLOAD 32.
    assert_eq!(
        word(
            Fork::Cancun,
            "602a600052602060006020 5e60205 1".replace(' ', "").as_str()
        ),
        U256::from(0x2a)
    );
    // MSIZE after touching byte 40 is 64.
    assert_eq!(word(Fork::Cancun, "600160285359"), U256::from(64));
    // MCOPY does not exist in Shanghai.
    assert!(!run(Fork::Shanghai, "6000600060005e").success);
}

#[test]
fn push0_arrives_in_shanghai() {
    assert!(!run(Fork::Paris, "5f00").success);
    let outcome = run(Fork::Shanghai, "5f00");
    assert!(outcome.success);
    assert_eq!(gas_used(&outcome), 2);
}

#[test]
fn sstore_gas_across_forks() {
    // SSTORE 1 into slot 0 (zero to non-zero).
    let code = "6001600055";
    assert_eq!(gas_used(&run(Fork::Petersburg, code)), 6 + 20_000);
    // EIP-1283 (Constantinople only): setting and clearing again is 20000 then a dirty 200
    // with a 19800 refund; Petersburg pays 20000 + 5000 and refunds the 15000 for clearing.
    let set_and_clear = "60016000556000600055";
    let outcome = run(Fork::Constantinople, set_and_clear);
    assert_eq!(
        (gas_used(&outcome), outcome.refund),
        (12 + 20_000 + 200, 19_800)
    );
    let outcome = run(Fork::Petersburg, set_and_clear);
    assert_eq!(
        (gas_used(&outcome), outcome.refund),
        (12 + 20_000 + 5_000, 15_000)
    );
    // Berlin: the slot is cold.
    assert_eq!(gas_used(&run(Fork::Berlin, code)), 6 + 22_100);
    // EIP-2200: storing the same value twice costs a warm read the second time.
    assert_eq!(
        gas_used(&run(Fork::Berlin, "60016000556001600055")),
        12 + 22_100 + 100
    );
    let (_, state) = run_with(Fork::Cancun, code, &[]);
    assert_eq!(state.storage(&CONTRACT, &U256::ZERO), U256::from(1));
}

#[test]
fn sload_gas_across_forks() {
    let code = "600054";
    assert_eq!(gas_used(&run(Fork::Homestead, code)), 3 + 50);
    assert_eq!(gas_used(&run(Fork::TangerineWhistle, code)), 3 + 200);
    assert_eq!(gas_used(&run(Fork::Istanbul, code)), 3 + 800);
    assert_eq!(gas_used(&run(Fork::Berlin, code)), 3 + 2_100);
    assert_eq!(
        gas_used(&run(
            Fork::Berlin,
            "60005460005 4".replace(' ', "").as_str()
        )),
        6 + 2_100 + 100
    );
}

#[test]
fn transient_storage() {
    // TSTORE 7 at slot 1, TLOAD slot 1.
    assert_eq!(word(Fork::Cancun, "600760015d60015c"), U256::from(7));
    let (_, state) = run_with(Fork::Cancun, "600760015d", &[]);
    assert_eq!(state.storage(&CONTRACT, &U256::from(1)), U256::ZERO);
}

#[test]
fn control_flow() {
    // JUMP to 4 (a JUMPDEST) skips the INVALID at 3.
    assert!(run(Fork::Cancun, "600456fe5b00").success);
    // JUMP into PUSH data fails and consumes all gas.
    let outcome = run(Fork::Cancun, "6003566100 5b00".replace(' ', "").as_str());
    assert!(!outcome.success);
    assert_eq!(outcome.gas_left, 0);
    // GAS after PUSH-free code: 1_000_000 - 2.
    assert_eq!(word(Fork::Cancun, "5a"), U256::from(GAS - 2));
}

#[test]
fn revert_keeps_gas_and_output() {
    // MSTORE 0x2a, REVERT 32 bytes (Byzantium on).
    let outcome = run(Fork::Byzantium, "602a60005260206000fd");
    assert!(!outcome.success);
    assert_eq!(U256::from_be_slice(&outcome.output), U256::from(0x2a));
    assert_eq!(gas_used(&outcome), 3 + 3 + 3 + 3 + 3 + 3);
    assert!(!run(Fork::SpuriousDragon, "60006000fd").success);
}

#[test]
fn logs_are_undone_by_a_failure() {
    let (outcome, state) = run_with(Fork::Cancun, "60016000a0", &[]);
    assert!(outcome.success);
    assert_eq!(state.logs.len(), 1);
    let (outcome, state) = run_with(Fork::Cancun, "60016000a0fe", &[]);
    assert!(!outcome.success);
    assert!(state.logs.is_empty());
}

#[test]
fn call_to_identity_precompile() {
    // MSTORE 0x2a; CALL(gas, 0x04, 0, in 0..32, out 32..64); MLOAD 32.
    let code = "602a600052 6020602060206000600060045af1 50 602051".replace(' ', "");
    assert_eq!(word(Fork::Cancun, &code), U256::from(0x2a));
}

#[test]
fn create_deploys_returned_code() {
    // Init code 0x600160005360016000f3 returns the one byte 0x01; stored at memory 0.
    let code = "69600160005360016000f3600052 600a6016 6000f0 3b".replace(' ', "");
    assert_eq!(word(Fork::Cancun, &code), U256::from(1));
    let (_, state) = run_with(Fork::Cancun, &code, &[]);
    let created = CONTRACT.create(0);
    assert_eq!(state.nonce(&created), 1);
    assert_eq!(state.nonce(&CONTRACT), 1);
    // Code starting with 0xEF is rejected from London (EIP-3541).
    let ef = "6960ef60005360016000f3600052 600a6016 6000f0".replace(' ', "");
    assert_eq!(word(Fork::London, &ef), U256::ZERO);
    assert_ne!(word(Fork::Berlin, &ef), U256::ZERO);
}

#[test]
fn static_call_cannot_write() {
    // A callee that stores; called with STATICCALL it fails.
    let callee = address!("00000000000000000000000000000000000000ee");
    let store = Account {
        code: Bytes::from(hex::decode("6001600055").unwrap_or_default()),
        ..Default::default()
    };
    let code = "6000600060006000 60ee 5a fa".replace(' ', "");
    let (outcome, state) = run_with(
        Fork::Cancun,
        &format!("{code}{RETURN_TOP}"),
        &[(callee, store)],
    );
    assert_eq!(U256::from_be_slice(&outcome.output), U256::ZERO);
    assert_eq!(state.storage(&callee, &U256::ZERO), U256::ZERO);
}

#[test]
fn selfdestruct_follows_eip6780() {
    // SELFDESTRUCT to 0xbb: before Cancun the account is registered for deletion; from
    // Cancun only its balance moves.
    let beneficiary = address!("00000000000000000000000000000000000000bb");
    let (_, state) = run_with(Fork::Shanghai, "60bbff", &[]);
    assert_eq!(state.destroyed, vec![CONTRACT]);
    assert_eq!(state.balance(&beneficiary), U256::from(1_000));
    let (_, state) = run_with(Fork::Cancun, "60bbff", &[]);
    assert!(state.destroyed.is_empty());
    assert_eq!(state.balance(&beneficiary), U256::from(1_000));
    assert_eq!(state.balance(&CONTRACT), U256::ZERO);
}

#[test]
fn blockhash_window() {
    // Outside the window (number 300 itself) is zero.
    assert_eq!(word(Fork::Cancun, "61012c40"), U256::ZERO);
}

#[test]
fn push_past_the_end_pads_on_the_right() {
    // PUSH2 with one byte left: the immediate is 0xff00; the frame then stops.
    let (outcome, _) = run_with(Fork::Cancun, "61ff", &[]);
    assert!(outcome.success);
    assert_eq!(word(Fork::Cancun, "61ff00"), U256::from(0xff00));
}

#[test]
fn balance_gas_across_forks() {
    // BALANCE of 0xbb: 20, 400 (EIP-150), 700 (EIP-1884), cold 2600 then warm 100 (EIP-2929).
    let code = "60bb31";
    assert_eq!(gas_used(&run(Fork::Frontier, code)), 3 + 20);
    assert_eq!(gas_used(&run(Fork::TangerineWhistle, code)), 3 + 400);
    assert_eq!(gas_used(&run(Fork::Istanbul, code)), 3 + 700);
    assert_eq!(gas_used(&run(Fork::Berlin, code)), 3 + 2_600);
    assert_eq!(
        gas_used(&run(Fork::Berlin, "60bb3160bb31")),
        6 + 2_600 + 100
    );
}

#[test]
fn call_passes_all_but_one_64th_from_tangerine_whistle() {
    // CALL(gas = 0xffffff, to = 0xbb (no code), value 0, no memory) then GAS.
    let code = "6000600060006000600060bb62ffffff f1 50 5a".replace(' ', "");
    // Before EIP-150 asking for more gas than is left is out of gas.
    assert!(!run(Fork::Homestead, &code).success);
    // From EIP-150 the request is capped and the unused gas comes back: only the call's own
    // cost (700, and 25000 for touching a new account before EIP-161) is spent.
    let used = GAS - word(Fork::TangerineWhistle, &code).to::<u64>();
    assert_eq!(used, 7 * 3 + 700 + 25_000 + 2 + 2);
    let used = GAS - word(Fork::SpuriousDragon, &code).to::<u64>();
    assert_eq!(used, 7 * 3 + 700 + 2 + 2);
}

#[test]
fn clz_counts_leading_zero_bits_from_osaka() {
    // PUSH1 1 CLZ: 255 leading zeros; PUSH1 0 CLZ: 256; PUSH32 2^255 CLZ: 0.
    assert_eq!(word(Fork::Osaka, "60011e"), U256::from(255));
    assert_eq!(word(Fork::Osaka, "60001e"), U256::from(256));
    let top_bit = "7f8000000000000000000000000000000000000000000000000000000000000000";
    assert_eq!(word(Fork::Osaka, &format!("{top_bit}1e")), U256::ZERO);
    // 3 for PUSH1, 5 for CLZ.
    assert_eq!(gas_used(&run(Fork::Osaka, "60011e00")), 3 + 5);
    // Undefined before Osaka.
    assert!(!run(Fork::Prague, "60011e00").success);
}

#[test]
fn calls_to_a_delegated_account_run_the_delegate_code() {
    const AUTHORITY: Address = address!("00000000000000000000000000000000000a0a0a");
    const DELEGATE: Address = address!("00000000000000000000000000000000000d0d0d");
    // The delegate returns ADDRESS: the authority's, since its code runs in that context.
    let delegate = Account {
        code: Bytes::from(hex::decode(format!("30{RETURN_TOP}")).expect("hex")),
        ..Default::default()
    };
    let authority = Account {
        code: crate::delegation::designator(DELEGATE),
        nonce: 1,
        ..Default::default()
    };
    let extra = [(AUTHORITY, authority), (DELEGATE, delegate)];
    // CALL(0x5000, to, 0, 0, 0, 0, 32): the callee's output lands at memory 0.
    let call = |to: Address| format!("60206000600060006000 73{to:x} 615000 f1").replace(' ', "");
    let (outcome, _) = run_with(
        Fork::Prague,
        &format!("{}5060206000f3", call(AUTHORITY)),
        &extra,
    );
    assert!(outcome.success);
    assert_eq!(
        U256::from_be_slice(&outcome.output),
        U256::from_be_slice(AUTHORITY.as_slice())
    );
    // Through the authority, the delegate's cold access (2600) adds to the authority's.
    let (through, _) = run_with(Fork::Prague, &format!("{}00", call(AUTHORITY)), &extra);
    let (direct, _) = run_with(Fork::Prague, &format!("{}00", call(DELEGATE)), &extra);
    assert_eq!(gas_used(&through), gas_used(&direct) + 2_600);
    // EXTCODESIZE sees the 23-byte designator, not the delegate's code.
    let size = format!("73{AUTHORITY:x}3b");
    assert_eq!(word(Fork::Prague, &size), U256::ZERO);
    let (outcome, _) = run_with(Fork::Prague, &format!("{size}{RETURN_TOP}"), &extra);
    assert_eq!(U256::from_be_slice(&outcome.output), U256::from(23));
}

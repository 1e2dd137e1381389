//! `bytecode_diff`: the input is contract code. One transaction calls it (with call data taken
//! from the input) next to a second copy it can call, under a fork the input picks; the spec
//! and sequential revm must produce the same outcome. Gas is bounded so that every input runs
//! in milliseconds.

use super::{compare_block, Divergence};
use crate::case::{Case, CaseBlock, CaseKind};
use crate::executors::{RevmExecutor, SpecExecutor};
use alloy_primitives::{Address, Bytes, U256};
use lockstep_spec::types::{Account, Block, BlockEnv, Transaction, WorldState};
use lockstep_spec::Fork;

/// The forks an input can pick (its first byte, modulo their number).
pub const FORKS: [Fork; 8] = [
    Fork::Osaka,
    Fork::Prague,
    Fork::Cancun,
    Fork::Shanghai,
    Fork::London,
    Fork::Berlin,
    Fork::Istanbul,
    Fork::Homestead,
];

/// The longest code an input can give (the rest is call data).
pub const MAX_CODE: usize = 4096;

/// Gas of the calling transaction.
pub const GAS: u64 = 2_000_000;

/// The contract under test, and a second contract with the same code that it may call.
pub const TARGET: Address = Address::new([0xc0; 20]);
/// The second copy of the code.
pub const PEER: Address = Address::new([0xc1; 20]);
/// The calling account.
pub const SENDER: Address = Address::new([0x5e; 20]);

/// The case an input stands for: byte 0 picks the fork, bytes 1-2 the code length, then the
/// code and the call data.
pub fn case(input: &[u8]) -> Case {
    let fork = FORKS[usize::from(input.first().copied().unwrap_or(0)) % FORKS.len()];
    let rest = input.get(1..).unwrap_or_default();
    let declared = rest
        .get(..2)
        .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    let body = rest.get(2..).unwrap_or_default();
    let split = declared.min(body.len()).min(MAX_CODE);
    let (code, data) = body.split_at(split);
    let code = Bytes::copy_from_slice(code);

    let mut pre = WorldState::default();
    let contract = |code: &Bytes| {
        let mut account = Account {
            balance: U256::from(1_000_000u64),
            nonce: 1,
            code: code.clone(),
            ..Default::default()
        };
        // A few non-zero slots, so that SLOAD and SSTORE meet both states.
        for slot in 0..3u64 {
            account
                .storage
                .insert(U256::from(slot), U256::from(slot + 1));
        }
        account
    };
    pre.accounts.insert(TARGET, contract(&code));
    pre.accounts.insert(PEER, contract(&code));
    pre.accounts.insert(
        SENDER,
        Account {
            balance: U256::from(10u64).pow(U256::from(20)),
            ..Default::default()
        },
    );

    let mut tx = Transaction::call(SENDER, TARGET, 0, GAS, 10);
    tx.input = Bytes::copy_from_slice(data);
    tx.value = U256::from(1);
    if fork < Fork::SpuriousDragon {
        tx.chain_id = None;
    }
    let env = BlockEnv {
        chain_id: 1,
        number: 1,
        timestamp: 1_000,
        beneficiary: Address::new([0xbe; 20]),
        gas_limit: 30_000_000,
        base_fee: (fork >= Fork::London).then_some(7),
        difficulty: U256::from(131_072),
        prevrandao: (fork >= Fork::Paris).then_some(Default::default()),
        excess_blob_gas: (fork >= Fork::Cancun).then_some(0),
        ..Default::default()
    };
    let block = Block {
        env,
        transactions: vec![tx],
        // A state-test-like block: no system contracts needed, no rewards.
        full_block: false,
        ..Default::default()
    };
    Case {
        id: format!(
            "bytecode_diff::{fork}::{}",
            alloy_primitives::hex::encode(&code)
        ),
        file: "fuzz".into(),
        test: "bytecode_diff".into(),
        fork,
        kind: CaseKind::Generated,
        pre,
        blocks: vec![CaseBlock {
            fork,
            block: Ok(block),
            hash: None,
            expect: Default::default(),
        }],
        expect: Default::default(),
        skip: None,
    }
}

/// Runs one input: the spec against sequential revm.
pub fn check(input: &[u8]) -> Result<(), Divergence> {
    let case = case(input);
    match compare_block(&case, &[&SpecExecutor, &RevmExecutor]) {
        Some(divergence) => Err(divergence),
        None => Ok(()),
    }
}

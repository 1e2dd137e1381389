//! `bytecode_diff`: the input is contract code. One transaction calls it (with call data taken
//! from the input) next to a second copy it can call, under a fork the input picks; the spec
//! and sequential revm must produce the same outcome. Gas is bounded so that every input runs
//! in milliseconds.

use super::{compare_block, Divergence};
use crate::case::{Case, CaseBlock, CaseKind};
use crate::executors::{RevmExecutor, SpecExecutor};
use crate::expectations::Expectations;
use crate::gen::Signature;
use crate::run::Runner;
use alloy_primitives::{Address, Bytes, U256};
use lockstep_spec::types::{Account, Block, BlockEnv, Transaction, WorldState};
use lockstep_spec::Fork;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

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
/// The calling account's key (fixed, so that a repro file's transaction can be signed).
fn key() -> &'static k256::ecdsa::SigningKey {
    static KEY: OnceLock<k256::ecdsa::SigningKey> = OnceLock::new();
    KEY.get_or_init(|| crate::gen::sign::secret_key(0xb17e_c0de, 0))
}

/// The calling account.
pub fn sender() -> Address {
    static SENDER: OnceLock<Address> = OnceLock::new();
    *SENDER.get_or_init(|| crate::gen::sign::address_of(key()))
}

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
        sender(),
        Account {
            balance: U256::from(10u64).pow(U256::from(20)),
            ..Default::default()
        },
    );

    // From Cancun on the block is a full one, on the header lockstep's repro files build on
    // (so that a divergence can be written as a BlockchainTest); before, a state-test-like
    // block with no block-level rules.
    let full = fork >= Fork::Cancun;
    if fork >= Fork::Prague {
        // Prague's block-end system calls need the request contracts: stubs that return
        // nothing.
        for system in [
            lockstep_spec::requests::WITHDRAWAL_REQUEST_ADDRESS,
            lockstep_spec::requests::CONSOLIDATION_REQUEST_ADDRESS,
        ] {
            pre.accounts.insert(
                system,
                Account {
                    code: Bytes::from_static(&[0x00]),
                    ..Default::default()
                },
            );
        }
    }
    let beneficiary = Address::new([0xbe; 20]);
    let env = if full {
        let genesis = crate::gen::build::genesis_header(fork, &pre);
        crate::gen::build::block_env(fork, &genesis, beneficiary)
    } else {
        BlockEnv {
            chain_id: 1,
            number: 1,
            timestamp: 1_000,
            beneficiary,
            gas_limit: 30_000_000,
            base_fee: (fork >= Fork::London).then_some(7),
            difficulty: U256::from(131_072),
            prevrandao: (fork >= Fork::Paris).then_some(Default::default()),
            ..Default::default()
        }
    };
    let gas_price = u128::from(env.base_fee.unwrap_or(0)) * 2 + 10;
    let mut tx = Transaction::call(sender(), TARGET, 0, GAS, gas_price);
    tx.input = Bytes::copy_from_slice(data);
    tx.value = U256::from(1);
    if fork < Fork::SpuriousDragon {
        tx.chain_id = None;
    }
    let block = Block {
        env,
        transactions: vec![tx],
        full_block: full,
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

/// Runs one input: the spec against sequential revm. A divergence is written as a repro
/// file (its transaction signed with the sender's key) and returned.
pub fn check(input: &[u8]) -> Result<(), Divergence> {
    let case = case(input);
    let Some(divergence) = compare_block(&case, &[&SpecExecutor, &RevmExecutor]) else {
        return Ok(());
    };
    let runner = Runner {
        executors: vec![Arc::new(SpecExecutor), Arc::new(RevmExecutor)],
        timeout: Duration::from_secs(60),
        expectations: Arc::new(Expectations::default()),
    };
    let names = ["spec".to_string(), "revm".to_string()];
    let result = runner.run_case(&case);
    if case.fork < Fork::Cancun {
        return Err(Divergence {
            difference: format!(
                "{} (no repro file: repro files are Cancun-and-later blocks)",
                divergence.difference
            ),
            ..divergence
        });
    }
    let (Some(signature), Some(Ok(block))) = (
        Signature::of(&result, &names),
        case.blocks.first().map(|b| b.block.clone()),
    ) else {
        return Err(divergence);
    };
    let mut block: Block = block;
    for tx in &mut block.transactions {
        if let Err(e) = crate::gen::sign::sign(tx, key()) {
            return Err(Divergence {
                difference: format!("{} (unsigned, no repro file: {e})", divergence.difference),
                ..divergence
            });
        }
    }
    let seed = u64::from_be_bytes(
        alloy_primitives::keccak256(input).0[..8]
            .try_into()
            .unwrap_or_default(),
    );
    let written = super::write_repro(
        "bytecode_diff",
        &runner,
        &result,
        &signature,
        (seed, 0),
        case.fork,
        &case.pre,
        &block,
        format!(
            "cargo fuzz run -s none bytecode_diff <the input> (fork {})",
            case.fork
        ),
    );
    Err(Divergence {
        difference: format!("{}{written}", divergence.difference),
        ..divergence
    })
}

//! Applying a block: the DAO fork's balance move, the system calls before the transactions
//! (EIP-4788, EIP-2935), the transactions, the block and ommer rewards before the Merge, the
//! EIP-4895 withdrawals and the EIP-7685 requests.

use crate::dao;
use crate::state::State;
use crate::system_call;
use crate::transaction::{self, GAS_PER_BLOB};
use crate::types::{
    BlobSchedule, Block, BlockError, BlockOutcome, BlockRule, ExecStats, Receipt, TxRule,
    WorldState,
};
use crate::vm::trace::Tracer;
use crate::vm::{Evm, TxContext};
use crate::Fork;
use alloy_primitives::{Address, U256};

/// The smallest blob base fee (EIP-4844).
pub const MIN_BLOB_BASE_FEE: u64 = 1;

/// Why the spec cannot run this fork or block, or `None`: every fork from Frontier to Osaka
/// and the blob-parameter-only forks after it runs. Reports name the executor, so a reason
/// would not.
pub fn unsupported(_fork: Fork, _block: &Block) -> Option<String> {
    None
}

/// `factor * e ^ (numerator / denominator)`, approximated in integers (EIP-4844).
pub fn fake_exponential(factor: u64, numerator: u64, denominator: u64) -> U256 {
    let (factor, numerator, denominator) = (
        U256::from(factor),
        U256::from(numerator),
        U256::from(denominator),
    );
    if denominator.is_zero() {
        return U256::ZERO;
    }
    let mut i = U256::from(1);
    let mut output = U256::ZERO;
    let mut accumulator = factor * denominator;
    while !accumulator.is_zero() {
        output += accumulator;
        accumulator = accumulator * numerator / (denominator * i);
        i += U256::from(1);
    }
    output / denominator
}

/// The blob schedule in force: the block's own, else the fork's mainnet one.
fn blob_schedule(fork: Fork, block: &Block) -> Option<BlobSchedule> {
    block
        .env
        .blob_schedule
        .or_else(|| BlobSchedule::mainnet(fork))
}

/// The proof-of-work block reward: 5 ether, 3 from Byzantium (EIP-649), 2 from Constantinople
/// (EIP-1234), none from Paris (EIP-3675).
pub fn block_reward(fork: Fork) -> U256 {
    let ether = U256::from(1_000_000_000_000_000_000u64);
    if fork >= Fork::Paris {
        U256::ZERO
    } else if fork >= Fork::Constantinople {
        ether * U256::from(2)
    } else if fork >= Fork::Byzantium {
        ether * U256::from(3)
    } else {
        ether * U256::from(5)
    }
}

/// Credits `amount` to `address`; under EIP-161 a zero credit creates nothing and deletes an
/// empty account.
fn credit(fork: Fork, state: &mut State, address: Address, amount: U256) {
    if fork >= Fork::SpuriousDragon && amount.is_zero() {
        if state.exists_and_is_empty(&address) {
            state.destroy(&address);
        }
        return;
    }
    state.add_balance(address, amount);
    if fork >= Fork::SpuriousDragon && state.exists_and_is_empty(&address) {
        state.destroy(&address);
    }
}

/// Rewards (before Paris) and withdrawals (EIP-4895) after the transactions.
fn finish_block(fork: Fork, state: &mut State, block: &Block) {
    let reward = block_reward(fork);
    if !reward.is_zero() {
        let mut beneficiary_reward = reward;
        for ommer in &block.ommers {
            // The block's miner gets 1/32 per ommer; the ommer's miner (8 - depth) / 8.
            beneficiary_reward += reward / U256::from(32);
            if let Some(miner) = ommer.beneficiary {
                let depth = block.env.number.saturating_sub(ommer.number);
                let share = reward * U256::from(8u64.saturating_sub(depth)) / U256::from(8);
                credit(fork, state, miner, share);
            }
        }
        credit(fork, state, block.env.beneficiary, beneficiary_reward);
    }
    for withdrawal in &block.withdrawals {
        let wei = U256::from(withdrawal.amount_gwei) * U256::from(1_000_000_000u64);
        credit(fork, state, withdrawal.address, wei);
    }
    state.clear_transaction();
}

/// Executes a block exactly as the protocol says.
pub fn execute_block(
    fork: Fork,
    pre: &WorldState,
    block: &Block,
) -> Result<BlockOutcome, BlockError> {
    execute(fork, pre, block, None)
}

/// Executes a block, reporting every instruction to `tracer` (EIP-3155).
pub fn execute_block_traced(
    fork: Fork,
    pre: &WorldState,
    block: &Block,
    tracer: &mut dyn Tracer,
) -> Result<BlockOutcome, BlockError> {
    execute(fork, pre, block, Some(tracer))
}

/// Runs the block on the current thread (message calls grow the stack as they nest, see
/// [`crate::vm::message::process_message`]); a panic of the interpreter is the block's error.
fn execute<'a>(
    fork: Fork,
    pre: &WorldState,
    block: &'a Block,
    tracer: Option<&'a mut dyn Tracer>,
) -> Result<BlockOutcome, BlockError> {
    if let Some(reason) = unsupported(fork, block) {
        return Err(BlockError::Block {
            rule: BlockRule::Other,
            message: reason,
        });
    }
    let run = std::panic::AssertUnwindSafe(|| apply_block(fork, pre, block, tracer));
    std::panic::catch_unwind(run).unwrap_or_else(|_| {
        Err(BlockError::Block {
            rule: BlockRule::Other,
            message: "spec: the interpreter panicked".into(),
        })
    })
}

/// The block's body, on the current thread.
fn apply_block<'a>(
    fork: Fork,
    pre: &WorldState,
    block: &'a Block,
    tracer: Option<&'a mut dyn Tracer>,
) -> Result<BlockOutcome, BlockError> {
    let schedule = blob_schedule(fork, block);
    let blob_base_fee = match schedule {
        Some(s) if fork >= Fork::Cancun => fake_exponential(
            MIN_BLOB_BASE_FEE,
            block.env.excess_blob_gas.unwrap_or_default(),
            s.update_fraction,
        ),
        _ => U256::ZERO,
    };
    let max_blobs = schedule.map_or(0, |s| s.max);
    let mut evm = Evm {
        fork,
        block: &block.env,
        blob_base_fee,
        tx: TxContext {
            origin: Address::ZERO,
            gas_price: U256::ZERO,
            blob_hashes: Vec::new(),
        },
        state: State::new(pre),
        jumpdests: Default::default(),
        tracer,
    };
    if block.full_block && block.dao_transition {
        dao::apply(&mut evm.state);
    }
    if block.full_block {
        system_call::before_transactions(&mut evm, block);
    }

    let mut receipts = Vec::with_capacity(block.transactions.len());
    let mut gas_used = Vec::with_capacity(block.transactions.len());
    let mut cumulative = 0u64;
    let mut blob_gas_used = 0u64;
    for (index, tx) in block.transactions.iter().enumerate() {
        if let Some(tracer) = evm.tracer.as_deref_mut() {
            tracer.transaction(Some(index));
        }
        let reject = |rule: TxRule, message: String| BlockError::Transaction {
            index,
            rule,
            message,
        };
        let gas_left = block.env.gas_limit.saturating_sub(cumulative);
        if tx.gas_limit > gas_left {
            return Err(reject(
                TxRule::GasLimitReached,
                format!(
                    "gas limit {} above the {gas_left} left in the block",
                    tx.gas_limit
                ),
            ));
        }
        let tx_blob_gas = tx.blob_versioned_hashes.len() as u64 * GAS_PER_BLOB;
        if block.full_block && schedule.is_some() && fork >= Fork::Cancun {
            let max = max_blobs * GAS_PER_BLOB;
            if blob_gas_used + tx_blob_gas > max {
                return Err(reject(
                    TxRule::BlobRules,
                    format!(
                        "blob gas {} above the block maximum {max}",
                        blob_gas_used + tx_blob_gas
                    ),
                ));
            }
        }
        let result = transaction::execute(&mut evm, tx, max_blobs).map_err(|(rule, message)| {
            evm.state.clear_transaction();
            reject(rule, message)
        })?;
        cumulative += result.gas_used;
        blob_gas_used += tx_blob_gas;
        gas_used.push(result.gas_used);
        receipts.push(Receipt {
            tx_type: tx.tx_type,
            success: result.success,
            post_state: None,
            cumulative_gas_used: cumulative,
            logs: result.logs,
        });
    }

    if let Some(tracer) = evm.tracer.as_deref_mut() {
        tracer.transaction(None);
    }
    let mut requests = Vec::new();
    if block.full_block {
        finish_block(fork, &mut evm.state, block);
        if fork >= Fork::Prague {
            let logs = receipts.iter().flat_map(|r| r.logs.iter());
            requests = crate::requests::collect(&mut evm, logs)?;
        }
    }
    Ok(BlockOutcome {
        post_state: evm.state.into_world_state(),
        receipts,
        gas_used,
        blob_gas_used,
        requests,
        stats: ExecStats {
            incarnations: block.transactions.len() as u64,
            ..Default::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Account, Transaction, TxKind};
    use crate::vm::gas;
    use crate::vm::trace::Step;
    use alloy_primitives::{address, Bytes};

    const SENDER: Address = address!("00000000000000000000000000000000000a11ce");
    const TARGET: Address = address!("0000000000000000000000000000000000000b0b");
    const COINBASE: Address = address!("00000000000000000000000000000000000c01b5");

    fn block(tx: Transaction) -> Block {
        Block {
            env: crate::types::BlockEnv {
                chain_id: 1,
                number: 1,
                beneficiary: COINBASE,
                gas_limit: 10_000_000,
                base_fee: Some(7),
                ..Default::default()
            },
            transactions: vec![tx],
            ..Default::default()
        }
    }

    fn pre(code: &[u8]) -> WorldState {
        let mut pre = WorldState::default();
        pre.accounts.insert(
            SENDER,
            Account {
                balance: U256::from(10u64.pow(18)),
                ..Default::default()
            },
        );
        pre.accounts.insert(
            TARGET,
            Account {
                code: Bytes::copy_from_slice(code),
                ..Default::default()
            },
        );
        pre
    }

    #[test]
    fn transfer_pays_gas_and_priority_fee() {
        let mut tx = Transaction::call(SENDER, TARGET, 0, 21_000, 10);
        tx.value = U256::from(5);
        let outcome = execute_block(Fork::Cancun, &pre(&[]), &block(tx)).expect("valid");
        assert_eq!(outcome.gas_used, vec![21_000]);
        let state = &outcome.post_state;
        assert_eq!(state.accounts[&TARGET].balance, U256::from(5));
        // The beneficiary gets (10 - 7) per gas; the base fee is burnt.
        assert_eq!(state.accounts[&COINBASE].balance, U256::from(21_000 * 3));
        assert_eq!(
            state.accounts[&SENDER].balance,
            U256::from(10u64.pow(18) - 5 - 21_000 * 10)
        );
        assert_eq!(state.accounts[&SENDER].nonce, 1);
    }

    #[test]
    fn invalid_transactions_name_their_rule() {
        let rule = |tx: Transaction| match execute_block(Fork::Cancun, &pre(&[]), &block(tx)) {
            Err(BlockError::Transaction { rule, .. }) => Some(rule),
            _ => None,
        };
        assert_eq!(
            rule(Transaction::call(SENDER, TARGET, 1, 21_000, 10)),
            Some(TxRule::NonceTooHigh)
        );
        assert_eq!(
            rule(Transaction::call(SENDER, TARGET, 0, 20_999, 10)),
            Some(TxRule::IntrinsicGas)
        );
        assert_eq!(
            rule(Transaction::call(SENDER, TARGET, 0, 21_000, 6)),
            Some(TxRule::FeeCapBelowBaseFee)
        );
        assert_eq!(
            rule(Transaction::call(SENDER, TARGET, 0, 20_000_000, 10)),
            Some(TxRule::GasLimitReached)
        );
        let mut rich = Transaction::call(SENDER, TARGET, 0, 21_000, 10);
        rich.value = U256::from(10u64.pow(18));
        assert_eq!(rule(rich), Some(TxRule::InsufficientFunds));
        let mut create = Transaction::call(SENDER, TARGET, 0, 1_000_000, 10);
        create.kind = TxKind::Create;
        create.input = Bytes::from(vec![0u8; gas::MAX_INIT_CODE_SIZE + 1]);
        assert_eq!(rule(create), Some(TxRule::InitCodeTooLarge));
    }

    #[test]
    fn blob_transactions_follow_eip4844() {
        let blob_tx = |hashes: Vec<alloy_primitives::B256>, max_fee: u128| {
            let mut tx = Transaction::call(SENDER, TARGET, 0, 21_000, 10);
            tx.tx_type = crate::types::TxType::Blob;
            tx.max_priority_fee_per_gas = Some(1);
            tx.max_fee_per_blob_gas = Some(max_fee);
            tx.blob_versioned_hashes = hashes;
            tx
        };
        let mut good = alloy_primitives::B256::ZERO;
        good.0[0] = 1;
        let rule = |tx| match execute_block(Fork::Cancun, &pre(&[]), &block(tx)) {
            Err(BlockError::Transaction { rule, .. }) => Some(rule),
            Err(_) => None,
            Ok(_) => Some(TxRule::Other),
        };
        assert_eq!(rule(blob_tx(vec![], 1)), Some(TxRule::BlobRules));
        assert_eq!(
            rule(blob_tx(vec![alloy_primitives::B256::ZERO], 1)),
            Some(TxRule::BlobRules)
        );
        assert_eq!(rule(blob_tx(vec![good; 7], 1)), Some(TxRule::BlobRules));
        assert_eq!(rule(blob_tx(vec![good], 0)), Some(TxRule::BlobRules));
        // A valid one pays 2^17 blob gas at the minimum blob base fee of 1 wei, burnt.
        let outcome =
            execute_block(Fork::Cancun, &pre(&[]), &block(blob_tx(vec![good], 1))).expect("valid");
        assert_eq!(outcome.blob_gas_used, GAS_PER_BLOB);
        assert_eq!(
            outcome.post_state.accounts[&SENDER].balance,
            U256::from(10u64.pow(18) - 21_000 * 8 - GAS_PER_BLOB)
        );
        let shanghai = execute_block(Fork::Shanghai, &pre(&[]), &block(blob_tx(vec![good], 1)));
        assert!(matches!(
            shanghai,
            Err(BlockError::Transaction {
                rule: TxRule::TypeNotSupported,
                ..
            })
        ));
    }

    /// The rule that rejects the transaction of `block` under `fork` on `pre`, `None` if valid.
    fn rejection(fork: Fork, pre: &WorldState, block: &Block) -> Option<TxRule> {
        match execute_block(fork, pre, block) {
            Err(BlockError::Transaction { rule, .. }) => Some(rule),
            _ => None,
        }
    }

    #[test]
    fn set_code_transactions_follow_eip7702() {
        use crate::delegation::{designator, tests::signed};
        let (auth, authority) = signed([3; 32], 1, TARGET, 0);
        let set_code = |list: Vec<crate::types::Authorization>| {
            let mut tx = Transaction::call(SENDER, authority, 0, 100_000, 10);
            tx.tx_type = crate::types::TxType::SetCode;
            tx.max_priority_fee_per_gas = Some(1);
            tx.authorization_list = list;
            tx
        };
        let pre = pre(&[0x60, 1, 0x60, 0, 0x55, 0x00]);
        assert_eq!(
            rejection(Fork::Prague, &pre, &block(set_code(vec![]))),
            Some(TxRule::SetCodeRules)
        );
        let mut create = set_code(vec![auth.clone()]);
        create.kind = TxKind::Create;
        assert_eq!(
            rejection(Fork::Prague, &pre, &block(create)),
            Some(TxRule::SetCodeRules)
        );
        assert_eq!(
            rejection(Fork::Cancun, &pre, &block(set_code(vec![auth.clone()]))),
            Some(TxRule::TypeNotSupported)
        );
        // The authority delegates to TARGET, whose code (SSTORE 1 at slot 0) then runs in the
        // authority's storage within the same transaction.
        let outcome =
            execute_block(Fork::Prague, &pre, &block(set_code(vec![auth]))).expect("valid");
        let account = &outcome.post_state.accounts[&authority];
        assert_eq!(account.code, designator(TARGET));
        assert_eq!(account.nonce, 1);
        assert_eq!(account.storage.get(&U256::ZERO), Some(&U256::from(1)));
        assert!(outcome.post_state.accounts[&TARGET].storage.is_empty());
        // 21000 + 25000 per authorization (the authority was new: no refund), two PUSHes and a
        // cold SSTORE of a new slot 22100; the transaction's delegate is warmed for free.
        assert_eq!(outcome.gas_used, vec![21_000 + 25_000 + 6 + 22_100]);
    }

    #[test]
    fn delegated_senders_may_send_from_prague() {
        let mut pre = pre(&[]);
        let sender = pre.accounts.get_mut(&SENDER).expect("sender");
        sender.code = crate::delegation::designator(TARGET);
        let tx = || Transaction::call(SENDER, TARGET, 0, 21_000, 10);
        assert_eq!(rejection(Fork::Prague, &pre, &block(tx())), None);
        assert_eq!(
            rejection(Fork::Cancun, &pre, &block(tx())),
            Some(TxRule::SenderNotEoa)
        );
    }

    #[test]
    fn calldata_floor_bounds_gas_from_prague() {
        // 1000 non-zero bytes: 37000 intrinsic gas, a floor of 21000 + 4000 tokens * 10.
        let tx = |gas| {
            let mut tx = Transaction::call(SENDER, TARGET, 0, gas, 10);
            tx.input = Bytes::from(vec![0xff; 1000]);
            tx
        };
        let pre = pre(&[]);
        assert_eq!(
            rejection(Fork::Prague, &pre, &block(tx(60_000))),
            Some(TxRule::IntrinsicGas)
        );
        let prague = execute_block(Fork::Prague, &pre, &block(tx(100_000))).expect("valid");
        assert_eq!(prague.gas_used, vec![61_000]);
        let cancun = execute_block(Fork::Cancun, &pre, &block(tx(100_000))).expect("valid");
        assert_eq!(cancun.gas_used, vec![37_000]);
    }

    #[test]
    fn osaka_caps_transaction_gas_and_blobs() {
        let mut big = block(Transaction::call(SENDER, TARGET, 0, (1 << 24) + 1, 10));
        big.env.gas_limit = 60_000_000;
        assert_eq!(
            rejection(Fork::Osaka, &pre(&[]), &big),
            Some(TxRule::GasLimitCap)
        );
        assert_eq!(rejection(Fork::Prague, &pre(&[]), &big), None);
        // Seven blobs fit Prague's block maximum of 9 but not Osaka's 6 per transaction.
        let mut hash = alloy_primitives::B256::ZERO;
        hash.0[0] = 1;
        let mut tx = Transaction::call(SENDER, TARGET, 0, 21_000, 10);
        tx.tx_type = crate::types::TxType::Blob;
        tx.max_priority_fee_per_gas = Some(1);
        tx.max_fee_per_blob_gas = Some(1);
        tx.blob_versioned_hashes = vec![hash; 7];
        let mut blobs = block(tx);
        blobs.env.excess_blob_gas = Some(0);
        assert_eq!(rejection(Fork::Prague, &pre(&[]), &blobs), None);
        assert_eq!(
            rejection(Fork::Osaka, &pre(&[]), &blobs),
            Some(TxRule::BlobRules)
        );
    }

    #[test]
    fn prague_blocks_collect_requests_from_system_calls() {
        use crate::requests::{CONSOLIDATION_REQUEST_ADDRESS, WITHDRAWAL_REQUEST_ADDRESS};
        let mut full = block(Transaction::call(SENDER, TARGET, 0, 21_000, 10));
        full.full_block = true;
        // Without code at the request contracts the block is invalid.
        assert!(matches!(
            execute_block(Fork::Prague, &pre(&[]), &full),
            Err(BlockError::Block {
                rule: BlockRule::SystemCall,
                ..
            })
        ));
        let with_code = |withdrawals: &[u8], consolidations: &[u8]| {
            let mut pre = pre(&[]);
            for (address, code) in [
                (WITHDRAWAL_REQUEST_ADDRESS, withdrawals),
                (CONSOLIDATION_REQUEST_ADDRESS, consolidations),
            ] {
                let account = crate::types::Account {
                    code: Bytes::copy_from_slice(code),
                    ..Default::default()
                };
                pre.accounts.insert(address, account);
            }
            execute_block(Fork::Prague, &pre, &full)
        };
        // The withdrawal contract returns 0xaa; the consolidation contract returns nothing,
        // so its type is left out.
        let returns_aa = [0x60, 0xaa, 0x60, 0, 0x53, 0x60, 1, 0x60, 0, 0xf3];
        let outcome = with_code(&returns_aa, &[0x00]).expect("valid");
        assert_eq!(outcome.requests, vec![Bytes::from(vec![0x01, 0xaa])]);
        // A request contract that fails invalidates the block.
        assert!(matches!(
            with_code(&returns_aa, &[0xfe]),
            Err(BlockError::Block {
                rule: BlockRule::SystemCall,
                ..
            })
        ));
        // Before Prague there are no requests.
        let cancun = execute_block(Fork::Cancun, &pre(&[]), &full).expect("valid");
        assert!(cancun.requests.is_empty());
    }

    #[test]
    fn every_fork_is_supported() {
        let b = Block::default();
        assert!(unsupported(Fork::Prague, &b).is_none());
        assert!(unsupported(Fork::Osaka, &b).is_none());
        assert!(unsupported(Fork::Bpo5, &b).is_none());
        assert!(unsupported(Fork::Constantinople, &b).is_none());
        assert!(unsupported(Fork::Frontier, &b).is_none());
        assert!(unsupported(Fork::Cancun, &b).is_none());
    }

    #[test]
    fn blob_base_fee_grows_with_excess() {
        assert_eq!(fake_exponential(1, 0, 3_338_477), U256::from(1));
        assert_eq!(
            fake_exponential(1, 3_338_477 * 10, 3_338_477),
            U256::from(22_026)
        );
    }

    struct Collect(Vec<String>);

    impl Tracer for Collect {
        fn step(&mut self, step: &Step<'_>) {
            self.0.push(step.to_json());
        }
    }

    #[test]
    fn traces_every_instruction() {
        // PUSH1 1 PUSH1 2 ADD STOP; ADD starts with 100000 - 21000 - 6 = 0x13492 gas.
        let tx = Transaction::call(SENDER, TARGET, 0, 100_000, 10);
        let mut tracer = Collect(Vec::new());
        execute_block_traced(
            Fork::Cancun,
            &pre(&[0x60, 1, 0x60, 2, 0x01, 0x00]),
            &block(tx),
            &mut tracer,
        )
        .expect("valid");
        assert_eq!(tracer.0.len(), 4);
        assert_eq!(
            tracer.0[2],
            r#"{"pc":4,"op":1,"gas":"0x13492","gasCost":"0x3","memSize":0,"stack":["0x1","0x2"],"depth":1,"refund":0,"opName":"ADD"}"#
        );
    }
}

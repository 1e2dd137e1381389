//! lockstep's data model as t8n input: the pre-state as `alloc.json`, the block environment as
//! `env.json`, the transactions as `txs.json` (with their `secretKey` where the case has one),
//! plus the fork name, chain id and reward.

use alloy_primitives::{B256, U256};
use lockstep_spec::types::{BlobSchedule, Block, Transaction, TxKind, TxType, WorldState};
use lockstep_spec::Fork;
use serde_json::{json, Map, Value};

/// Everything a t8n tool is given for one block.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// `alloc.json`: the pre-state.
    pub alloc: Value,
    /// `env.json`: the block environment.
    pub env: Value,
    /// `txs.json`: the transactions, signed or with their `secretKey`.
    pub txs: Value,
    /// `--state.fork`.
    pub fork: String,
    /// `--state.chainid`.
    pub chain_id: u64,
    /// `--state.reward` in wei; -1: no block reward (state tests, proof of stake).
    pub reward: i128,
    /// A state test's lone transaction: no system calls, rewards or withdrawals
    /// (`--state-test`).
    pub state_test: bool,
    /// `--input.blobParams`, where the block's blob schedule is not the fork's mainnet one.
    pub blob_params: Option<Value>,
}

pub fn hex_u64(n: u64) -> Value {
    Value::String(format!("{n:#x}"))
}

pub fn hex_u256(n: U256) -> Value {
    Value::String(format!("{n:#x}"))
}

pub fn hex_bytes(b: &[u8]) -> Value {
    Value::String(format!("0x{}", alloy_primitives::hex::encode(b)))
}

/// The fork name to hand to the tool: the ethereum/tests name, except that the DAO fork's
/// rules are Homestead's everywhere but at its transition block (t8n tools apply the DAO
/// balance move to every block they run under `DAOFork`).
pub fn fork_name(fork: Fork, block: &Block) -> String {
    match fork {
        Fork::DaoFork if block.dao_transition => "DaoFork".into(),
        Fork::DaoFork => Fork::Homestead.test_name().into(),
        other => other.test_name().into(),
    }
}

/// The pre-state as `alloc.json`.
pub fn alloc_json(state: &WorldState) -> Value {
    let accounts = state
        .accounts
        .iter()
        .map(|(address, account)| {
            let storage: Map<String, Value> = account
                .storage
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (format!("{k:#x}"), hex_u256(*v)))
                .collect();
            let value = json!({
                "balance": hex_u256(account.balance),
                "nonce": hex_u64(account.nonce),
                "code": hex_bytes(&account.code),
                "storage": storage,
            });
            (format!("{address:#x}"), value)
        })
        .collect::<Map<_, _>>();
    Value::Object(accounts)
}

/// The block environment as `env.json`.
pub fn env_json(fork: Fork, block: &Block) -> Value {
    let env = &block.env;
    let mut out = Map::new();
    out.insert(
        "currentCoinbase".into(),
        json!(format!("{:#x}", env.beneficiary)),
    );
    out.insert("currentGasLimit".into(), hex_u64(env.gas_limit));
    out.insert("currentNumber".into(), hex_u64(env.number));
    out.insert("currentTimestamp".into(), hex_u64(env.timestamp));
    if fork < Fork::Paris {
        out.insert("currentDifficulty".into(), hex_u256(env.difficulty));
    }
    // Before the Merge some tools still read it; from the Merge on it is PREVRANDAO.
    let random = env
        .prevrandao
        .unwrap_or_else(|| B256::from(env.difficulty.to_be_bytes::<32>()));
    out.insert("currentRandom".into(), json!(format!("{random:#x}")));
    if let Some(base_fee) = env.base_fee {
        out.insert("currentBaseFee".into(), hex_u64(base_fee));
    }
    if let Some(excess) = env.excess_blob_gas {
        out.insert("currentExcessBlobGas".into(), hex_u64(excess));
    }
    if let Some(root) = env.parent_beacon_block_root {
        out.insert("parentBeaconBlockRoot".into(), json!(format!("{root:#x}")));
    } else if fork >= Fork::Cancun && block.full_block {
        out.insert("parentBeaconBlockRoot".into(), Value::Null);
    }
    let hashes: Map<String, Value> = env
        .block_hashes
        .iter()
        .map(|(n, h)| (format!("{n:#x}"), json!(format!("{h:#x}"))))
        .collect();
    out.insert("blockHashes".into(), Value::Object(hashes));
    let withdrawals: Vec<Value> = block
        .withdrawals
        .iter()
        .map(|w| {
            json!({
                "index": hex_u64(w.index),
                "validatorIndex": hex_u64(w.validator_index),
                "address": format!("{:#x}", w.address),
                "amount": hex_u64(w.amount_gwei),
            })
        })
        .collect();
    out.insert("withdrawals".into(), Value::Array(withdrawals));
    let ommers: Vec<Value> = block
        .ommers
        .iter()
        .map(|o| {
            json!({
                "delta": env.number.saturating_sub(o.number),
                "address": o.beneficiary.map(|a| format!("{a:#x}")),
            })
        })
        .collect();
    out.insert("ommers".into(), Value::Array(ommers));
    Value::Object(out)
}

/// One transaction as a `txs.json` entry: with its `secretKey` where the case has one (the
/// tool signs it), else with its signature.
pub fn tx_json(tx: &Transaction) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), hex_u64(u64::from(tx.tx_type.byte())));
    if let Some(chain_id) = tx.chain_id {
        out.insert("chainId".into(), hex_u64(chain_id));
    }
    out.insert("nonce".into(), hex_u64(tx.nonce));
    out.insert("gas".into(), hex_u64(tx.gas_limit));
    match tx.tx_type {
        TxType::Legacy | TxType::AccessList => {
            out.insert("gasPrice".into(), json!(format!("{:#x}", tx.gas_price)));
        }
        _ => {
            out.insert("maxFeePerGas".into(), json!(format!("{:#x}", tx.gas_price)));
            let tip = tx.max_priority_fee_per_gas.unwrap_or(0);
            out.insert("maxPriorityFeePerGas".into(), json!(format!("{tip:#x}")));
        }
    }
    let to = match tx.kind {
        TxKind::Call(to) => json!(format!("{to:#x}")),
        TxKind::Create => Value::Null,
    };
    out.insert("to".into(), to);
    out.insert("value".into(), hex_u256(tx.value));
    out.insert("input".into(), hex_bytes(&tx.input));
    if tx.tx_type != TxType::Legacy {
        let list: Vec<Value> = tx
            .access_list
            .iter()
            .map(|item| {
                json!({
                    "address": format!("{:#x}", item.address),
                    "storageKeys": item.storage_keys.iter().map(|k| format!("{k:#x}")).collect::<Vec<_>>(),
                })
            })
            .collect();
        out.insert("accessList".into(), Value::Array(list));
    }
    if tx.tx_type == TxType::Blob {
        let fee = tx.max_fee_per_blob_gas.unwrap_or(0);
        out.insert("maxFeePerBlobGas".into(), json!(format!("{fee:#x}")));
        let hashes: Vec<String> = tx
            .blob_versioned_hashes
            .iter()
            .map(|h| format!("{h:#x}"))
            .collect();
        out.insert("blobVersionedHashes".into(), json!(hashes));
    }
    if tx.tx_type == TxType::SetCode {
        let list: Vec<Value> = tx
            .authorization_list
            .iter()
            .map(|a| {
                json!({
                    "chainId": hex_u256(a.chain_id),
                    "address": format!("{:#x}", a.address),
                    "nonce": hex_u64(a.nonce),
                    "v": hex_u64(u64::from(a.y_parity)),
                    "yParity": hex_u64(u64::from(a.y_parity)),
                    "r": hex_u256(a.r),
                    "s": hex_u256(a.s),
                })
            })
            .collect();
        out.insert("authorizationList".into(), Value::Array(list));
    }
    out.insert("sender".into(), json!(format!("{:#x}", tx.sender)));
    match (&tx.secret_key, &tx.signature) {
        (Some(key), _) => {
            out.insert("secretKey".into(), json!(format!("{key:#x}")));
            // A legacy transaction without a chain id is signed the pre-EIP-155 way.
            if tx.tx_type == TxType::Legacy {
                out.insert("protected".into(), json!(tx.chain_id.is_some()));
            }
        }
        (None, Some(sig)) => {
            out.insert("v".into(), hex_u256(sig.v));
            out.insert("r".into(), hex_u256(sig.r));
            out.insert("s".into(), hex_u256(sig.s));
        }
        (None, None) => {}
    }
    Value::Object(out)
}

/// Why a block cannot be handed to a t8n tool at all, if it cannot.
pub fn unrepresentable(block: &Block) -> Option<String> {
    if let Some(i) = block
        .transactions
        .iter()
        .position(|tx| tx.secret_key.is_none() && tx.signature.is_none())
    {
        return Some(format!(
            "transaction {i} has neither a signature nor a secret key, so no t8n tool can recover its sender"
        ));
    }
    if block.ommers.iter().any(|o| o.beneficiary.is_none()) {
        return Some("an ommer's beneficiary is unknown (the snapshot lacks its header)".into());
    }
    None
}

/// The t8n input for `block` on `pre` under `fork`.
pub fn input(fork: Fork, pre: &WorldState, block: &Block) -> Input {
    let state_test = !block.full_block;
    let reward = lockstep_spec::block::block_reward(fork);
    let reward = if state_test || reward.is_zero() {
        -1
    } else {
        i128::try_from(reward).unwrap_or(-1)
    };
    let blob_params = block
        .env
        .blob_schedule
        .filter(|s| Some(*s) != BlobSchedule::mainnet(fork))
        .map(|s| {
            json!({
                "target": hex_u64(s.target),
                "max": hex_u64(s.max),
                "baseFeeUpdateFraction": hex_u64(s.update_fraction),
            })
        });
    Input {
        alloc: alloc_json(pre),
        env: env_json(fork, block),
        txs: Value::Array(block.transactions.iter().map(tx_json).collect()),
        fork: fork_name(fork, block),
        chain_id: block.env.chain_id,
        reward,
        state_test,
        blob_params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    fn block() -> Block {
        let sender = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
        let to = address!("1000000000000000000000000000000000000001");
        let mut tx = Transaction::call(sender, to, 0, 100_000, 10);
        tx.secret_key = Some(B256::repeat_byte(0x45));
        Block {
            transactions: vec![tx],
            ..Default::default()
        }
    }

    #[test]
    fn state_test_input_has_no_reward_and_keeps_the_secret_key() {
        let input = input(Fork::Cancun, &WorldState::default(), &block());
        assert!(input.state_test);
        assert_eq!(input.reward, -1);
        assert_eq!(input.fork, "Cancun");
        let tx = &input.txs[0];
        assert_eq!(
            tx["secretKey"],
            json!(format!("{:#x}", B256::repeat_byte(0x45)))
        );
        assert_eq!(tx["gas"], json!("0x186a0"));
        assert!(tx.get("v").is_none());
        assert_eq!(input.env["withdrawals"], json!([]));
    }

    #[test]
    fn full_blocks_get_the_fork_reward_and_the_dao_fork_is_homestead_outside_its_block() {
        let mut b = block();
        b.full_block = true;
        let i = input(Fork::Byzantium, &WorldState::default(), &b);
        assert_eq!(i.reward, 3_000_000_000_000_000_000);
        assert!(!i.state_test);
        assert_eq!(input(Fork::Paris, &WorldState::default(), &b).reward, -1);
        assert_eq!(fork_name(Fork::DaoFork, &b), "Homestead");
        b.dao_transition = true;
        assert_eq!(fork_name(Fork::DaoFork, &b), "DaoFork");
    }
}

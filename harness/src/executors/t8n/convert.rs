//! The t8n protocol's JSON, both ways: lockstep's pre-state, block environment and
//! transactions as `alloc.json`, `env.json` and `txs.json` (plus the fork name, chain id and
//! reward), and a tool's `result` and post `alloc` back as a [`BlockOutcome`] or [`BlockError`].

use super::rules;
use alloy_primitives::{Address, Bytes, B256, U256};
use lockstep_spec::types::{
    Account, BlobSchedule, Block, BlockError, BlockOutcome, Log, Receipt, Transaction, TxKind,
    TxType, WorldState,
};
use lockstep_spec::Fork;
use serde_json::{json, Map, Value};

/// Blob gas per blob (EIP-4844), for tools whose result has no `blobGasUsed`.
const GAS_PER_BLOB: u64 = 131_072;

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

fn hex_u64(n: u64) -> Value {
    Value::String(format!("{n:#x}"))
}

fn hex_u256(n: U256) -> Value {
    Value::String(format!("{n:#x}"))
}

fn hex_bytes(b: &[u8]) -> Value {
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

/// What came back was not t8n output; the string says what is wrong.
pub type NotT8n = String;

fn field<'a>(object: &'a Value, name: &str) -> Result<&'a Value, NotT8n> {
    object
        .get(name)
        .ok_or_else(|| format!("`{name}` is missing"))
}

fn parse_u256(what: &str, v: &Value) -> Result<U256, NotT8n> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some("") => Ok(U256::ZERO),
                Some(hex) => U256::from_str_radix(hex, 16),
                None => U256::from_str_radix(s, 10),
            };
            parsed.map_err(|e| format!("{what}: `{s}` is not a number ({e})"))
        }
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| format!("{what}: {n} is not an unsigned integer")),
        other => Err(format!("{what}: {other} is not a number")),
    }
}

fn parse_u64(what: &str, v: &Value) -> Result<u64, NotT8n> {
    let n = parse_u256(what, v)?;
    u64::try_from(n).map_err(|_| format!("{what}: {n} does not fit in 64 bits"))
}

fn parse_bytes(what: &str, v: &Value) -> Result<Bytes, NotT8n> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{what}: {v} is not a hex string"))?;
    let hex = s.strip_prefix("0x").unwrap_or(s);
    let padded;
    let hex = if hex.len() % 2 == 1 {
        padded = format!("0{hex}");
        &padded
    } else {
        hex
    };
    alloy_primitives::hex::decode(hex)
        .map(Bytes::from)
        .map_err(|e| format!("{what}: `{s}` is not hex ({e})"))
}

fn parse_b256(what: &str, v: &Value) -> Result<B256, NotT8n> {
    let bytes = parse_bytes(what, v)?;
    if bytes.len() > 32 {
        return Err(format!("{what}: {} bytes, not 32", bytes.len()));
    }
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(&bytes);
    Ok(B256::from(out))
}

fn parse_address(what: &str, v: &Value) -> Result<Address, NotT8n> {
    let bytes = parse_bytes(what, v)?;
    if bytes.len() != 20 {
        return Err(format!("{what}: {} bytes, not 20", bytes.len()));
    }
    Ok(Address::from_slice(&bytes))
}

/// A post `alloc` as a world state (zero slots dropped).
pub fn parse_alloc(alloc: &Value) -> Result<WorldState, NotT8n> {
    let accounts = alloc
        .as_object()
        .ok_or_else(|| "alloc is not an object".to_string())?;
    let mut state = WorldState::default();
    for (address, value) in accounts {
        let at = |f: &str| format!("alloc.{address}.{f}");
        let address = parse_address("alloc address", &Value::String(address.clone()))?;
        let mut account = Account::default();
        if let Some(v) = value.get("balance") {
            account.balance = parse_u256(&at("balance"), v)?;
        }
        if let Some(v) = value.get("nonce") {
            account.nonce = parse_u64(&at("nonce"), v)?;
        }
        if let Some(v) = value.get("code") {
            account.code = parse_bytes(&at("code"), v)?;
        }
        if let Some(storage) = value.get("storage").and_then(Value::as_object) {
            for (slot, v) in storage {
                let slot = parse_u256(&at("storage"), &Value::String(slot.clone()))?;
                let v = parse_u256(&at("storage"), v)?;
                if !v.is_zero() {
                    account.storage.insert(slot, v);
                }
            }
        }
        state.accounts.insert(address, account);
    }
    Ok(state)
}

fn parse_log(what: &str, log: &Value) -> Result<Log, NotT8n> {
    let topics = field(log, "topics")?
        .as_array()
        .ok_or_else(|| format!("{what}.topics is not a list"))?
        .iter()
        .map(|t| parse_b256(&format!("{what}.topics"), t))
        .collect::<Result<_, _>>()?;
    Ok(Log {
        address: parse_address(&format!("{what}.address"), field(log, "address")?)?,
        topics,
        data: parse_bytes(&format!("{what}.data"), field(log, "data")?)?,
    })
}

/// The receipt of included transaction `i` (`tx`) and the gas it used, given the cumulative
/// gas before it.
fn parse_receipt(
    i: usize,
    tx: &Transaction,
    receipt: &Value,
    cumulative_before: u64,
) -> Result<(Receipt, u64), NotT8n> {
    let what = format!("receipts[{i}]");
    let cumulative = parse_u64(
        &format!("{what}.cumulativeGasUsed"),
        field(receipt, "cumulativeGasUsed")?,
    )?;
    // Before Byzantium a receipt carries the state root after the transaction instead of a
    // status (EIP-658); such a tool does not say whether the transaction succeeded.
    let root = receipt.get("post_state").or_else(|| receipt.get("root"));
    let root = match root {
        Some(Value::String(s)) if !s.is_empty() && s != "0x" => Some(parse_b256(
            &format!("{what}.post_state"),
            &Value::String(s.clone()),
        )?),
        _ => None,
    };
    let success = match (receipt.get("succeeded"), receipt.get("status")) {
        (Some(Value::Bool(b)), _) => Some(*b),
        (_, Some(status)) => Some(!parse_u64(&format!("{what}.status"), status)?.eq(&0)),
        _ => None,
    };
    let (success, post_state) = match (success, root) {
        (Some(success), _) => (success, None),
        (None, Some(root)) => (true, Some(root)),
        (None, None) => return Err(format!("{what} has neither a status nor a state root")),
    };
    let logs = match receipt.get("logs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(logs)) => logs
            .iter()
            .enumerate()
            .map(|(j, l)| parse_log(&format!("{what}.logs[{j}]"), l))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("{what}.logs: {other} is not a list")),
    };
    let gas_used = match receipt.get("gasUsed") {
        Some(v) => parse_u64(&format!("{what}.gasUsed"), v)?,
        None => cumulative
            .checked_sub(cumulative_before)
            .ok_or_else(|| format!("{what}.cumulativeGasUsed {cumulative} decreases"))?,
    };
    Ok((
        Receipt {
            tx_type: tx.tx_type,
            success,
            post_state,
            cumulative_gas_used: cumulative,
            logs,
        },
        gas_used,
    ))
}

/// A tool's `result` and post `alloc` for `block` as lockstep's result; `Err` when they are
/// not t8n output.
pub fn outcome(
    fork: Fork,
    block: &Block,
    result: &Value,
    alloc: &Value,
) -> Result<Result<BlockOutcome, BlockError>, NotT8n> {
    if !result.is_object() {
        return Err(format!("result is not an object: {}", snippet(result)));
    }
    let rejected = match result.get("rejected") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.clone(),
        Some(other) => return Err(format!("`rejected` is not a list: {}", snippet(other))),
    };
    let mut first: Option<(usize, String)> = None;
    for entry in &rejected {
        let index = parse_u64("rejected.index", field(entry, "index")?)? as usize;
        let error = match entry.get("error") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        if index >= block.transactions.len() {
            return Err(format!(
                "rejected index {index}, but the block has {} transactions",
                block.transactions.len()
            ));
        }
        if first.as_ref().is_none_or(|(i, _)| index < *i) {
            first = Some((index, error));
        }
    }
    if let Some((index, error)) = first {
        let rule = rules::tx_rule(&error, fork, block, index);
        return Ok(Err(BlockError::Transaction {
            index,
            rule,
            message: error,
        }));
    }
    if let Some(exception) = result.get("blockException").and_then(Value::as_str) {
        return Ok(Err(BlockError::Block {
            rule: rules::block_rule(exception),
            message: exception.to_string(),
        }));
    }
    let receipts_json = field(result, "receipts")?
        .as_array()
        .ok_or_else(|| "`receipts` is not a list".to_string())?;
    if receipts_json.len() != block.transactions.len() {
        return Err(format!(
            "{} transactions, but {} receipts and none rejected",
            block.transactions.len(),
            receipts_json.len()
        ));
    }
    let mut receipts = Vec::with_capacity(receipts_json.len());
    let mut gas_used = Vec::with_capacity(receipts_json.len());
    let mut cumulative = 0;
    for (i, (tx, r)) in block.transactions.iter().zip(receipts_json).enumerate() {
        let (receipt, gas) = parse_receipt(i, tx, r, cumulative)?;
        cumulative = receipt.cumulative_gas_used;
        receipts.push(receipt);
        gas_used.push(gas);
    }
    let blob_gas_used = match result.get("blobGasUsed") {
        Some(v) if !v.is_null() => parse_u64("blobGasUsed", v)?,
        _ => block
            .transactions
            .iter()
            .map(|tx| tx.blob_versioned_hashes.len() as u64 * GAS_PER_BLOB)
            .sum(),
    };
    let requests = match result.get("requests") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|r| parse_bytes("requests", r))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            // Types without requests are left out of the data model (EIP-7685's hash skips
            // them); a tool may list them as the bare type byte.
            .filter(|r| r.len() > 1)
            .collect(),
        Some(other) => return Err(format!("`requests` is not a list: {}", snippet(other))),
    };
    Ok(Ok(BlockOutcome {
        post_state: parse_alloc(alloc)?,
        receipts,
        gas_used,
        blob_gas_used,
        requests,
        stats: Default::default(),
    }))
}

/// lockstep's result for a block as a t8n `result`, the way a t8n tool would write it
/// (`rejected` for a transaction error, `blockException` for a block error): lockstep's own
/// executors can stand in for a t8n tool, and tests can fake one.
pub fn result_json(result: &Result<BlockOutcome, BlockError>) -> Value {
    match result {
        Err(BlockError::Transaction { index, message, .. }) => json!({
            "receipts": [], "rejected": [{"index": index, "error": message}],
        }),
        Err(BlockError::Block { message, .. }) => json!({
            "receipts": [], "rejected": [], "blockException": message,
        }),
        Ok(outcome) => {
            let logs: Vec<Log> = outcome
                .receipts
                .iter()
                .flat_map(|r| r.logs.iter().cloned())
                .collect();
            let receipts: Vec<Value> = outcome
                .receipts
                .iter()
                .zip(&outcome.gas_used)
                .map(|(r, gas)| {
                    let logs: Vec<Value> = r
                        .logs
                        .iter()
                        .map(|l| {
                            json!({
                                "address": format!("{:#x}", l.address),
                                "topics": l.topics.iter().map(|t| format!("{t:#x}")).collect::<Vec<_>>(),
                                "data": hex_bytes(&l.data),
                            })
                        })
                        .collect();
                    let mut receipt = json!({
                        "cumulativeGasUsed": hex_u64(r.cumulative_gas_used),
                        "gasUsed": hex_u64(*gas),
                        "logs": logs,
                    });
                    match r.post_state {
                        Some(root) => receipt["post_state"] = json!(format!("{root:#x}")),
                        None => receipt["succeeded"] = json!(r.success),
                    }
                    receipt
                })
                .collect();
            json!({
                "stateRoot": format!("{:#x}", lockstep_spec::trie::state_root(&outcome.post_state)),
                "receiptsRoot": format!("{:#x}", lockstep_spec::trie::receipts_root(&outcome.receipts)),
                "logsHash": format!("{:#x}", lockstep_spec::trie::logs_hash(&logs)),
                "gasUsed": hex_u64(outcome.block_gas_used()),
                "blobGasUsed": hex_u64(outcome.blob_gas_used),
                "receipts": receipts,
                "rejected": [],
                "requests": outcome.requests.iter().map(|r| hex_bytes(r)).collect::<Vec<_>>(),
            })
        }
    }
}

/// The start of a JSON value, for messages.
pub fn snippet(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s,
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

    #[test]
    fn alloc_round_trips() {
        let mut state = WorldState::default();
        let mut account = Account {
            balance: U256::from(12345),
            nonce: 7,
            code: Bytes::from(vec![0x60, 0x00]),
            ..Default::default()
        };
        account.storage.insert(U256::from(1), U256::from(0xff));
        state.accounts.insert(
            address!("00000000000000000000000000000000000000aa"),
            account,
        );
        state.accounts.insert(
            address!("00000000000000000000000000000000000000bb"),
            Account::default(),
        );
        assert_eq!(parse_alloc(&alloc_json(&state)), Ok(state));
    }

    #[test]
    fn result_becomes_an_outcome_with_per_transaction_gas() {
        let b = block();
        let result = json!({
            "stateRoot": "0x00", "receipts": [{
                "succeeded": true, "cumulativeGasUsed": "0x5208",
                "logs": [{"address": "0x1000000000000000000000000000000000000001",
                          "topics": ["0x01"], "data": "0xab"}]
            }], "rejected": []
        });
        let outcome = outcome(Fork::Cancun, &b, &result, &json!({}))
            .expect("t8n output")
            .expect("valid block");
        assert_eq!(outcome.gas_used, vec![21_000]);
        assert_eq!(
            outcome.receipts[0].logs[0].topics[0],
            B256::with_last_byte(1)
        );
        assert_eq!(outcome.receipts[0].logs[0].data, Bytes::from(vec![0xab]));
    }

    #[test]
    fn a_rejection_is_a_transaction_error_with_the_tools_words() {
        let result = json!({"receipts": [], "rejected": [
            {"index": 0, "error": "Failed transaction: NonceMismatchError('nonce too high')"}]});
        let err = outcome(Fork::Cancun, &block(), &result, &json!({}))
            .expect("t8n output")
            .expect_err("rejected");
        assert_eq!(
            err,
            BlockError::Transaction {
                index: 0,
                rule: lockstep_spec::types::TxRule::NonceTooHigh,
                message: "Failed transaction: NonceMismatchError('nonce too high')".into(),
            }
        );
    }

    #[test]
    fn results_round_trip_through_t8n_json() {
        let b = block();
        let mut post = WorldState::default();
        post.accounts.insert(
            address!("1000000000000000000000000000000000000001"),
            Account {
                balance: U256::from(1),
                ..Default::default()
            },
        );
        let valid: Result<BlockOutcome, BlockError> = Ok(BlockOutcome {
            post_state: post.clone(),
            receipts: vec![Receipt {
                tx_type: TxType::Legacy,
                success: false,
                post_state: None,
                cumulative_gas_used: 30_000,
                logs: vec![Log {
                    address: Address::ZERO,
                    topics: vec![B256::repeat_byte(7)],
                    data: Bytes::new(),
                }],
            }],
            gas_used: vec![30_000],
            ..Default::default()
        });
        let back = outcome(Fork::Cancun, &b, &result_json(&valid), &alloc_json(&post))
            .expect("t8n output");
        assert_eq!(back, valid);
        let rejected: Result<BlockOutcome, BlockError> = Err(BlockError::Transaction {
            index: 0,
            rule: lockstep_spec::types::TxRule::NonceTooLow,
            message: "nonce too low".into(),
        });
        let back =
            outcome(Fork::Cancun, &b, &result_json(&rejected), &json!({})).expect("t8n output");
        assert_eq!(back, rejected);
    }

    #[test]
    fn missing_receipts_are_not_t8n_output() {
        let e = outcome(Fork::Cancun, &block(), &json!({"receipts": []}), &json!({}))
            .expect_err("not t8n");
        assert!(e.contains("1 transactions, but 0 receipts"), "{e}");
        assert!(outcome(Fork::Cancun, &block(), &json!("hello"), &json!({})).is_err());
    }
}

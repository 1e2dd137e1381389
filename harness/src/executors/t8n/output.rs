//! A t8n tool's output as lockstep's data model: its `result` (receipts, `rejected`,
//! `blockException`, requests) and post `alloc` as a [`BlockOutcome`] or [`BlockError`]; and,
//! the other way, lockstep's result written as a t8n `result` (to fake a tool in tests).

use super::input::{hex_bytes, hex_u64};
use super::rules;
use alloy_primitives::{Address, Bytes, B256, U256};
use lockstep_spec::types::{
    Account, Block, BlockError, BlockOutcome, Log, Receipt, Transaction, WorldState,
};
use lockstep_spec::Fork;
use serde_json::{json, Value};

/// Blob gas per blob (EIP-4844), for tools whose result has no `blobGasUsed`.
const GAS_PER_BLOB: u64 = 131_072;

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
    use super::super::input::alloc_json;
    use super::*;
    use alloy_primitives::address;
    use lockstep_spec::types::TxType;

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

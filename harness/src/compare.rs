//! Field-by-field comparison of two executors' results for the same block. A divergence names
//! the first differing transaction, account, slot or receipt field, with both values.

use lockstep_spec::types::{BlockError, BlockOutcome, WorldState};

/// Compares two world states; `None` when equal, else the first difference.
pub fn diff_states(a_name: &str, a: &WorldState, b_name: &str, b: &WorldState) -> Option<String> {
    let addresses: std::collections::BTreeSet<_> =
        a.accounts.keys().chain(b.accounts.keys()).collect();
    for address in addresses {
        match (a.accounts.get(address), b.accounts.get(address)) {
            (Some(_), None) => {
                return Some(format!(
                    "account {address}: exists in {a_name}, absent in {b_name}"
                ))
            }
            (None, Some(_)) => {
                return Some(format!(
                    "account {address}: absent in {a_name}, exists in {b_name}"
                ))
            }
            (Some(x), Some(y)) => {
                if x.balance != y.balance {
                    return Some(format!(
                        "account {address} balance: {a_name} {} != {b_name} {}",
                        x.balance, y.balance
                    ));
                }
                if x.nonce != y.nonce {
                    return Some(format!(
                        "account {address} nonce: {a_name} {} != {b_name} {}",
                        x.nonce, y.nonce
                    ));
                }
                if x.code != y.code {
                    return Some(format!(
                        "account {address} code: {a_name} {} bytes (hash {}) != {b_name} {} bytes (hash {})",
                        x.code.len(),
                        x.code_hash(),
                        y.code.len(),
                        y.code_hash()
                    ));
                }
                let slots: std::collections::BTreeSet<_> =
                    x.storage.keys().chain(y.storage.keys()).collect();
                for slot in slots {
                    let (vx, vy) = (
                        x.storage.get(slot).copied().unwrap_or_default(),
                        y.storage.get(slot).copied().unwrap_or_default(),
                    );
                    if vx != vy {
                        return Some(format!("account {address} storage slot {slot:#x}: {a_name} {vx:#x} != {b_name} {vy:#x}"));
                    }
                }
            }
            (None, None) => {}
        }
    }
    None
}

/// Compares two block outcomes, receipts first (they name a transaction), then the state.
/// Execution stats are not compared.
pub fn diff_outcomes(
    a_name: &str,
    a: &BlockOutcome,
    b_name: &str,
    b: &BlockOutcome,
) -> Option<String> {
    if a.receipts.len() != b.receipts.len() {
        return Some(format!(
            "receipt count: {a_name} {} != {b_name} {}",
            a.receipts.len(),
            b.receipts.len()
        ));
    }
    for (i, (ra, rb)) in a.receipts.iter().zip(&b.receipts).enumerate() {
        let field = |name: &str, x: String, y: String| {
            Some(format!(
                "transaction {i} receipt {name}: {a_name} {x} != {b_name} {y}"
            ))
        };
        // Before Byzantium a receipt holds the state root after its transaction instead of a
        // status (EIP-658). An executor that computed no root keeps the status; a t8n tool that
        // gives only the root does not say whether the transaction succeeded. Each of the two
        // is compared where both receipts carry it.
        let roots_known = (ra.post_state, rb.post_state);
        if roots_known == (None, None) && ra.success != rb.success {
            return field("status", ra.success.to_string(), rb.success.to_string());
        }
        if a.gas_used.get(i) != b.gas_used.get(i) {
            return field(
                "gas used",
                format!("{:?}", a.gas_used.get(i)),
                format!("{:?}", b.gas_used.get(i)),
            );
        }
        if ra.cumulative_gas_used != rb.cumulative_gas_used {
            return field(
                "cumulative gas",
                ra.cumulative_gas_used.to_string(),
                rb.cumulative_gas_used.to_string(),
            );
        }
        if ra.logs.len() != rb.logs.len() {
            return field(
                "log count",
                ra.logs.len().to_string(),
                rb.logs.len().to_string(),
            );
        }
        for (j, (la, lb)) in ra.logs.iter().zip(&rb.logs).enumerate() {
            if la != lb {
                return field(&format!("log {j}"), format!("{la:?}"), format!("{lb:?}"));
            }
        }
        let roots_differ = matches!(roots_known, (Some(x), Some(y)) if x != y);
        if ra.tx_type != rb.tx_type || roots_differ {
            return field(
                "type/post-state",
                format!("{:?}/{:?}", ra.tx_type, ra.post_state),
                format!("{:?}/{:?}", rb.tx_type, rb.post_state),
            );
        }
    }
    if a.blob_gas_used != b.blob_gas_used {
        return Some(format!(
            "blob gas used: {a_name} {} != {b_name} {}",
            a.blob_gas_used, b.blob_gas_used
        ));
    }
    if a.requests != b.requests {
        return Some(format!(
            "requests (EIP-7685): {a_name} {:?} != {b_name} {:?}",
            a.requests, b.requests
        ));
    }
    diff_states(a_name, &a.post_state, b_name, &b.post_state)
}

/// Compares two executors' results for one block: both valid and equal, or both rejecting the
/// same transaction (or the block) for the same rule.
pub fn diff_results(
    a_name: &str,
    a: &Result<BlockOutcome, BlockError>,
    b_name: &str,
    b: &Result<BlockOutcome, BlockError>,
) -> Option<String> {
    match (a, b) {
        (Ok(x), Ok(y)) => diff_outcomes(a_name, x, b_name, y),
        (Err(x), Err(y)) => match (x, y) {
            (
                BlockError::Transaction {
                    index: i, rule: r, ..
                },
                BlockError::Transaction {
                    index: j, rule: s, ..
                },
            ) if i == j && r == s => None,
            (BlockError::Block { rule: r, .. }, BlockError::Block { rule: s, .. }) if r == s => {
                None
            }
            _ => Some(format!("rejection: {a_name} `{x}` != {b_name} `{y}`")),
        },
        (Ok(_), Err(y)) => Some(format!(
            "{a_name} accepted the block, {b_name} rejected it: {y}"
        )),
        (Err(x), Ok(_)) => Some(format!(
            "{a_name} rejected the block ({x}), {b_name} accepted it"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, U256};
    use lockstep_spec::types::{Account, Log, Receipt, TxRule, TxType};

    fn outcome() -> BlockOutcome {
        let mut state = WorldState::default();
        let mut account = Account {
            balance: U256::from(100),
            nonce: 1,
            ..Default::default()
        };
        account.storage.insert(U256::from(7), U256::from(1));
        state.accounts.insert(
            address!("00000000000000000000000000000000000000aa"),
            account,
        );
        BlockOutcome {
            post_state: state,
            receipts: vec![Receipt {
                tx_type: TxType::Legacy,
                success: true,
                post_state: None,
                cumulative_gas_used: 21_000,
                logs: vec![Log {
                    address: address!("00000000000000000000000000000000000000aa"),
                    topics: vec![],
                    data: Default::default(),
                }],
            }],
            gas_used: vec![21_000],
            ..Default::default()
        }
    }

    #[test]
    fn equal_outcomes_agree_and_stats_are_ignored() {
        let a = outcome();
        let mut b = outcome();
        b.stats.parallel = true;
        assert_eq!(diff_outcomes("a", &a, "b", &b), None);
    }

    #[test]
    fn an_altered_slot_is_named_with_both_values() {
        let a = outcome();
        let mut b = outcome();
        let acc = b
            .post_state
            .accounts
            .values_mut()
            .next()
            .expect("one account");
        acc.storage.insert(U256::from(7), U256::from(2));
        let d = diff_outcomes("revm", &a, "parallel", &b).expect("divergence");
        assert_eq!(d, "account 0x00000000000000000000000000000000000000AA storage slot 0x7: revm 0x1 != parallel 0x2");
    }

    #[test]
    fn an_altered_receipt_names_the_transaction() {
        let a = outcome();
        let mut b = outcome();
        b.receipts[0].cumulative_gas_used = 21_001;
        let d = diff_outcomes("revm", &a, "spec", &b).expect("divergence");
        assert_eq!(
            d,
            "transaction 0 receipt cumulative gas: revm 21000 != spec 21001"
        );
        let mut c = outcome();
        c.receipts[0].logs.clear();
        assert!(diff_outcomes("revm", &a, "spec", &c)
            .expect("divergence")
            .contains("log count"));
    }

    #[test]
    fn a_root_receipt_is_compared_on_what_both_sides_carry() {
        let a = outcome();
        let mut b = outcome();
        // A tool that gives only the pre-Byzantium root says nothing about the status.
        b.receipts[0].post_state = Some(alloy_primitives::B256::repeat_byte(1));
        b.receipts[0].success = false;
        assert_eq!(diff_outcomes("spec", &a, "t8n", &b), None);
        let mut c = b.clone();
        c.receipts[0].post_state = Some(alloy_primitives::B256::repeat_byte(2));
        assert!(diff_outcomes("t8n", &b, "t8n2", &c)
            .expect("roots differ")
            .contains("post-state"));
    }

    #[test]
    fn missing_account_and_balance_are_named() {
        let a = outcome();
        let mut b = outcome();
        b.post_state.accounts.clear();
        assert!(diff_states("x", &a.post_state, "y", &b.post_state)
            .expect("diff")
            .contains("exists in x, absent in y"));
        let mut c = outcome();
        c.post_state
            .accounts
            .values_mut()
            .for_each(|a| a.balance = U256::from(5));
        assert!(diff_states("x", &a.post_state, "y", &c.post_state)
            .expect("diff")
            .contains("balance: x 100 != y 5"));
    }

    #[test]
    fn rejections_agree_only_on_same_index_and_rule() {
        let e = |index, rule| -> Result<BlockOutcome, BlockError> {
            Err(BlockError::Transaction {
                index,
                rule,
                message: String::new(),
            })
        };
        assert_eq!(
            diff_results(
                "a",
                &e(2, TxRule::NonceTooLow),
                "b",
                &e(2, TxRule::NonceTooLow)
            ),
            None
        );
        assert!(diff_results(
            "a",
            &e(2, TxRule::NonceTooLow),
            "b",
            &e(3, TxRule::NonceTooLow)
        )
        .is_some());
        assert!(diff_results(
            "a",
            &e(2, TxRule::NonceTooLow),
            "b",
            &e(2, TxRule::InsufficientFunds)
        )
        .is_some());
        assert!(diff_results("a", &Ok(outcome()), "b", &e(0, TxRule::NonceTooLow)).is_some());
    }
}

//! Checks of an executor's outcome against what the fixture expects: state root, logs hash,
//! receipts root, gas used, logs bloom, blob gas used, requests hash.

use crate::case::ValidExpect;
use alloy_eips::eip7685::Requests;
use lockstep_spec::trie;
use lockstep_spec::types::{logs_bloom, BlockOutcome};
use lockstep_spec::Fork;

/// The first claim the outcome does not reproduce, with both values; `None` if all hold.
pub fn check_claims(fork: Fork, outcome: &BlockOutcome, claims: &ValidExpect) -> Option<String> {
    if let Some(expected) = claims.gas_used {
        let got = outcome.block_gas_used();
        if got != expected {
            return Some(format!("gas used: got {got}, expected {expected}"));
        }
    }
    if let Some(expected) = claims.blob_gas_used {
        if outcome.blob_gas_used != expected {
            return Some(format!(
                "blob gas used: got {}, expected {expected}",
                outcome.blob_gas_used
            ));
        }
    }
    if let Some(expected) = claims.logs_bloom {
        let got = logs_bloom(outcome.receipts.iter().flat_map(|r| &r.logs));
        if got != expected {
            return Some(format!("logs bloom: got {got}, expected {expected}"));
        }
    }
    if let Some(expected) = claims.logs_hash {
        let logs: Vec<_> = outcome
            .receipts
            .iter()
            .flat_map(|r| r.logs.iter().cloned())
            .collect();
        let got = trie::logs_hash(&logs);
        if got != expected {
            return Some(format!("logs hash: got {got}, expected {expected}"));
        }
    }
    // Before Byzantium a receipt holds the state root after its transaction (EIP-658 replaced
    // it with a status); the root is checkable only where the executor computed those roots.
    let roots_known =
        outcome.receipts.iter().all(|r| r.post_state.is_some()) || fork >= Fork::Byzantium;
    if let (Some(expected), true) = (claims.receipts_root, roots_known) {
        let got = trie::receipts_root(&outcome.receipts);
        if got != expected {
            return Some(format!("receipts root: got {got}, expected {expected}"));
        }
    }
    if let Some(expected) = claims.requests_hash {
        let got = Requests::from_requests(outcome.requests.iter().cloned()).requests_hash();
        if got != expected {
            return Some(format!(
                "requests hash (EIP-7685): got {got}, expected {expected}"
            ));
        }
    }
    if let Some(expected) = claims.state_root {
        let got = trie::state_root(&outcome.post_state);
        if got != expected {
            return Some(format!("state root: got {got}, expected {expected}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::B256;

    #[test]
    fn each_claim_is_checked() {
        let outcome = BlockOutcome::default();
        assert_eq!(
            check_claims(Fork::Cancun, &outcome, &ValidExpect::default()),
            None
        );
        let gas = ValidExpect {
            gas_used: Some(1),
            ..Default::default()
        };
        assert_eq!(
            check_claims(Fork::Cancun, &outcome, &gas).as_deref(),
            Some("gas used: got 0, expected 1")
        );
        let root = ValidExpect {
            state_root: Some(B256::ZERO),
            ..Default::default()
        };
        assert!(check_claims(Fork::Cancun, &outcome, &root)
            .expect("mismatch")
            .starts_with("state root"));
        let logs = ValidExpect {
            logs_hash: Some(trie::logs_hash(&[])),
            ..Default::default()
        };
        assert_eq!(check_claims(Fork::Cancun, &outcome, &logs), None);
    }
}

//! Merkle-Patricia roots: the state root, the receipts root and the logs hash.

use crate::types::{Log, Receipt, WorldState};
use alloy_primitives::{keccak256, B256, U256};
use alloy_rlp::{BufMut, Encodable, Header};
use alloy_trie::{root, TrieAccount};

/// The state root of a world state (Yellow Paper section 4.1, `TRIE(L_S(σ))`).
pub fn state_root(state: &WorldState) -> B256 {
    root::state_root_unhashed(state.accounts.iter().map(|(address, account)| {
        let storage_root = root::storage_root_unhashed(
            account
                .storage
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (B256::from(*k), *v)),
        );
        let trie_account = TrieAccount::new(
            account.nonce,
            account.balance,
            storage_root,
            account.code_hash(),
        );
        (*address, trie_account)
    }))
}

fn encode_log(log: &Log, out: &mut dyn BufMut) {
    let topics_len = log.topics.length();
    let payload = log.address.length() + topics_len + log.data.length();
    Header {
        list: true,
        payload_length: payload,
    }
    .encode(out);
    log.address.encode(out);
    log.topics.encode(out);
    log.data.encode(out);
}

fn log_length(log: &Log) -> usize {
    let payload = log.address.length() + log.topics.length() + log.data.length();
    payload + alloy_rlp::length_of_length(payload)
}

fn encode_logs(logs: &[Log], out: &mut dyn BufMut) {
    let payload: usize = logs.iter().map(log_length).sum();
    Header {
        list: true,
        payload_length: payload,
    }
    .encode(out);
    for log in logs {
        encode_log(log, out);
    }
}

/// keccak-256 of the RLP list of logs: the `logs` hash of state tests.
pub fn logs_hash(logs: &[Log]) -> B256 {
    let mut out = Vec::new();
    encode_logs(logs, &mut out);
    keccak256(out)
}

/// The consensus encoding of a receipt (EIP-2718 envelope for typed transactions).
pub fn encode_receipt(receipt: &Receipt) -> Vec<u8> {
    let mut logs = Vec::new();
    encode_logs(&receipt.logs, &mut logs);
    let bloom = receipt.bloom();
    let mut status_or_root = Vec::new();
    match receipt.post_state {
        Some(root) => root.encode(&mut status_or_root),
        None => (receipt.success as u8).encode(&mut status_or_root),
    }
    let payload =
        status_or_root.len() + receipt.cumulative_gas_used.length() + bloom.length() + logs.len();
    let mut out = Vec::with_capacity(payload + 8);
    let type_byte = receipt.tx_type.byte();
    if type_byte != 0 {
        out.push(type_byte);
    }
    Header {
        list: true,
        payload_length: payload,
    }
    .encode(&mut out);
    out.extend_from_slice(&status_or_root);
    receipt.cumulative_gas_used.encode(&mut out);
    bloom.encode(&mut out);
    out.extend_from_slice(&logs);
    out
}

/// The receipts root: the trie keyed by RLP(index) over the encoded receipts.
pub fn receipts_root(receipts: &[Receipt]) -> B256 {
    let encoded: Vec<Vec<u8>> = receipts.iter().map(encode_receipt).collect();
    ordered_root(&encoded)
}

/// The root of a trie keyed by RLP(index) holding already-encoded values (transactions,
/// receipts, withdrawals).
pub fn ordered_root(values: &[Vec<u8>]) -> B256 {
    root::ordered_trie_root_with_encoder(values, |v, out| out.put_slice(v))
}

/// Storage root of one account's storage.
pub fn storage_root(storage: &crate::types::Storage) -> B256 {
    root::storage_root_unhashed(
        storage
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v): (&U256, &U256)| (B256::from(*k), *v)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Account, TxType};
    use alloy_primitives::{address, b256};

    #[test]
    fn empty_state_has_the_empty_trie_root() {
        assert_eq!(
            state_root(&WorldState::default()),
            b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
        );
    }

    #[test]
    fn empty_logs_hash_is_keccak_of_empty_list() {
        assert_eq!(
            logs_hash(&[]),
            b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
        );
    }

    #[test]
    fn zero_slots_do_not_change_the_root() {
        let a = address!("1000000000000000000000000000000000000001");
        let mut with_zero = Account {
            balance: U256::from(1),
            ..Default::default()
        };
        with_zero.storage.insert(U256::from(1), U256::ZERO);
        let without = Account {
            storage: Default::default(),
            ..with_zero.clone()
        };
        let s1: WorldState = [(a, with_zero)].into_iter().collect();
        let s2: WorldState = [(a, without)].into_iter().collect();
        assert_eq!(state_root(&s1), state_root(&s2));
    }

    #[test]
    fn typed_receipt_is_enveloped() {
        let r = Receipt {
            tx_type: TxType::DynamicFee,
            success: true,
            post_state: None,
            cumulative_gas_used: 21000,
            logs: vec![],
        };
        let encoded = encode_receipt(&r);
        assert_eq!(encoded[0], 2);
        assert_ne!(receipts_root(&[r]), B256::ZERO);
    }
}

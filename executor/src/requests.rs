//! Execution-layer requests (EIP-7685, Prague on), as a revm-based client gathers them after a
//! block's transactions: deposits from the deposit contract's logs (EIP-6110), then the
//! outputs of the withdrawal (EIP-7002) and consolidation (EIP-7251) system calls.
//!
//! Written apart from the spec's own reading of the same rules on purpose: the two are
//! compared, so they must not share code.

use alloy_primitives::{address, b256, Address, Bytes, B256};
use lockstep_spec::types::{BlockError, BlockRule, Receipt};

/// The deposit contract whose `DepositEvent` logs are deposit requests (mainnet's address,
/// which the test fixtures use too).
pub const DEPOSIT_CONTRACT_ADDRESS: Address = address!("00000000219ab540356cBB839Cbe05303d7705Fa");
/// keccak-256 of `DepositEvent(bytes,bytes,bytes,bytes,bytes)`.
pub const DEPOSIT_EVENT_TOPIC: B256 =
    b256!("649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5");

/// Request type of deposits (EIP-6110).
pub const DEPOSIT_REQUEST_TYPE: u8 = 0x00;
/// Request type of withdrawal requests (EIP-7002).
pub const WITHDRAWAL_REQUEST_TYPE: u8 = 0x01;
/// Request type of consolidation requests (EIP-7251).
pub const CONSOLIDATION_REQUEST_TYPE: u8 = 0x02;

/// The fields of a `DepositEvent`, in order, with their sizes in bytes; a request is their
/// concatenation (192 bytes).
const DEPOSIT_FIELDS: [(&str, usize); 5] = [
    ("pubkey", 48),
    ("withdrawal_credentials", 32),
    ("amount", 8),
    ("signature", 96),
    ("index", 8),
];

/// Reads one ABI-encoded `DepositEvent` payload into a request. EIP-6110 fixes its layout:
/// five offsets, then each field as a length word and its bytes padded to whole words; any
/// other layout makes the block invalid.
fn deposit_request(data: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    const HEAD: usize = 32 * DEPOSIT_FIELDS.len();
    let expected_len: usize = HEAD
        + DEPOSIT_FIELDS
            .iter()
            .map(|(_, size)| 32 + size.div_ceil(32) * 32)
            .sum::<usize>();
    if data.len() != expected_len {
        return Err(format!(
            "deposit log data is {} bytes, expected {expected_len}",
            data.len()
        ));
    }
    let word_at = |at: usize| -> Option<usize> {
        let word = data.get(at..at + 32)?;
        // A length or offset must fit in a few bytes; the high ones must be zero.
        if word[..24].iter().any(|b| *b != 0) {
            return None;
        }
        let mut low = [0u8; 8];
        low.copy_from_slice(&word[24..]);
        usize::try_from(u64::from_be_bytes(low)).ok()
    };
    let mut next = HEAD;
    for (i, (name, size)) in DEPOSIT_FIELDS.iter().enumerate() {
        let offset = word_at(32 * i);
        if offset != Some(next) {
            return Err(format!("deposit {name} offset {offset:?}, expected {next}"));
        }
        let len = word_at(next);
        if len != Some(*size) {
            return Err(format!("deposit {name} size {len:?}, expected {size}"));
        }
        out.extend_from_slice(&data[next + 32..next + 32 + size]);
        next += 32 + size.div_ceil(32) * 32;
    }
    Ok(())
}

/// The deposit requests of a block's receipts, concatenated in log order.
pub fn deposits(receipts: &[Receipt]) -> Result<Vec<u8>, BlockError> {
    let mut out = Vec::new();
    let logs = receipts.iter().flat_map(|r| &r.logs);
    for log in logs.filter(|l| l.address == DEPOSIT_CONTRACT_ADDRESS) {
        if log.topics.first() != Some(&DEPOSIT_EVENT_TOPIC) {
            continue;
        }
        deposit_request(&log.data, &mut out).map_err(|message| BlockError::Block {
            rule: BlockRule::Requests,
            message: format!("invalid deposit event (EIP-6110): {message}"),
        })?;
    }
    Ok(out)
}

/// The request list of EIP-7685: each non-empty `(type, data)` as the type byte followed by
/// the data, in type order.
pub fn request_list(by_type: [(u8, Vec<u8>); 3]) -> Vec<Bytes> {
    by_type
        .into_iter()
        .filter(|(_, data)| !data.is_empty())
        .map(|(kind, data)| {
            let mut request = Vec::with_capacity(1 + data.len());
            request.push(kind);
            request.extend_from_slice(&data);
            Bytes::from(request)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_spec::types::{Log, Receipt, TxType};

    /// An ABI-encoded `DepositEvent` whose field bytes are 1, 2, 3, 4, 5.
    fn deposit_log_data() -> Vec<u8> {
        let mut head = Vec::new();
        let mut tail = Vec::new();
        for (i, (_, size)) in DEPOSIT_FIELDS.iter().enumerate() {
            let mut offset = [0u8; 32];
            offset[24..].copy_from_slice(&((160 + tail.len()) as u64).to_be_bytes());
            head.extend_from_slice(&offset);
            let mut len = [0u8; 32];
            len[24..].copy_from_slice(&(*size as u64).to_be_bytes());
            tail.extend_from_slice(&len);
            let mut field = vec![i as u8 + 1; *size];
            field.resize(size.div_ceil(32) * 32, 0);
            tail.extend_from_slice(&field);
        }
        head.extend_from_slice(&tail);
        head
    }

    fn receipt_with(data: Vec<u8>, topic: B256) -> Receipt {
        Receipt {
            tx_type: TxType::Legacy,
            success: true,
            post_state: None,
            cumulative_gas_used: 0,
            logs: vec![Log {
                address: DEPOSIT_CONTRACT_ADDRESS,
                topics: vec![topic],
                data: data.into(),
            }],
        }
    }

    #[test]
    fn a_deposit_log_becomes_its_fields_concatenated() {
        let receipts = [receipt_with(deposit_log_data(), DEPOSIT_EVENT_TOPIC)];
        let data = deposits(&receipts).expect("a well-formed deposit");
        assert_eq!(data.len(), 192);
        assert_eq!(&data[..48], &[1u8; 48][..]);
        assert_eq!(&data[48..80], &[2u8; 32][..]);
        assert_eq!(&data[184..], &[5u8; 8][..]);
    }

    #[test]
    fn other_events_are_ignored_and_bad_layouts_rejected() {
        let other = [receipt_with(vec![1, 2, 3], B256::ZERO)];
        assert_eq!(deposits(&other).map(|d| d.len()), Ok(0));
        let mut data = deposit_log_data();
        data[31] = 0xa0 + 32; // the pubkey's offset no longer points at it
        assert!(deposits(&[receipt_with(data, DEPOSIT_EVENT_TOPIC)]).is_err());
        let short = deposit_log_data()[..575].to_vec();
        assert!(deposits(&[receipt_with(short, DEPOSIT_EVENT_TOPIC)]).is_err());
    }

    #[test]
    fn empty_request_types_are_left_out() {
        let list = request_list([
            (DEPOSIT_REQUEST_TYPE, vec![]),
            (WITHDRAWAL_REQUEST_TYPE, vec![9, 9]),
            (CONSOLIDATION_REQUEST_TYPE, vec![]),
        ]);
        assert_eq!(list, vec![Bytes::from(vec![1, 9, 9])]);
    }
}

//! EIP-7685 execution-layer requests (Prague): what a block asks the consensus layer to do.
//!
//! Three types, each the type byte followed by its requests concatenated, in type order, with
//! types that have none left out:
//! - 0x00, EIP-6110 deposits: read from the deposit contract's `DepositEvent` logs;
//! - 0x01, EIP-7002 withdrawal requests and 0x02, EIP-7251 consolidation requests: the return
//!   data of a system call with empty input to their contracts, after the withdrawals.
//!
//! A malformed deposit log, a request contract without code and a failing request system call
//! make the block invalid.

use crate::system_call;
use crate::types::{BlockError, BlockRule, Log};
use crate::vm::Evm;
use alloy_primitives::{address, b256, Address, Bytes, B256, U256};

/// The deposit contract whose logs carry deposits (EIP-6110).
pub const DEPOSIT_CONTRACT_ADDRESS: Address = address!("00000000219ab540356cBB839Cbe05303d7705Fa");
/// The topic of `DepositEvent(bytes,bytes,bytes,bytes,bytes)` (EIP-6110).
pub const DEPOSIT_EVENT_TOPIC: B256 =
    b256!("649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5");
/// EIP-7002 withdrawal request contract.
pub const WITHDRAWAL_REQUEST_ADDRESS: Address =
    address!("00000961Ef480Eb55e80D19ad83579A64c007002");
/// EIP-7251 consolidation request contract.
pub const CONSOLIDATION_REQUEST_ADDRESS: Address =
    address!("0000BBdDc7CE488642fb579F8B00f3a590007251");

/// Request type of deposits (EIP-6110).
pub const DEPOSIT_REQUEST_TYPE: u8 = 0x00;
/// Request type of withdrawal requests (EIP-7002).
pub const WITHDRAWAL_REQUEST_TYPE: u8 = 0x01;
/// Request type of consolidation requests (EIP-7251).
pub const CONSOLIDATION_REQUEST_TYPE: u8 = 0x02;

/// The ABI layout of a `DepositEvent`'s data: five dynamic `bytes` fields, each an offset in
/// the head, then at that offset a length word and the value padded to whole words. The
/// fields are pubkey (48 bytes), withdrawal credentials (32), amount (8), signature (96) and
/// index (8); the whole event is 576 bytes.
const DEPOSIT_FIELDS: [(usize, usize); 5] = [(160, 48), (256, 32), (320, 8), (384, 96), (512, 8)];
/// The length of a `DepositEvent`'s data.
const DEPOSIT_EVENT_LENGTH: usize = 576;

fn invalid(rule: BlockRule, message: String) -> BlockError {
    BlockError::Block { rule, message }
}

/// The deposit request of one `DepositEvent`'s data: its five fields concatenated (192
/// bytes). The data must have exactly the layout the deposit contract emits.
pub fn deposit_request(data: &[u8]) -> Result<Vec<u8>, BlockError> {
    let malformed = |what: &str| {
        invalid(
            BlockRule::Requests,
            format!("malformed deposit log: {what} (EIP-6110)"),
        )
    };
    if data.len() != DEPOSIT_EVENT_LENGTH {
        return Err(malformed("length"));
    }
    let word = |at: usize| U256::from_be_slice(&data[at..at + 32]);
    let mut request = Vec::with_capacity(192);
    for (i, (offset, size)) in DEPOSIT_FIELDS.into_iter().enumerate() {
        if word(32 * i) != U256::from(offset) {
            return Err(malformed("field offset"));
        }
        if word(offset) != U256::from(size) {
            return Err(malformed("field size"));
        }
        request.extend_from_slice(&data[offset + 32..offset + 32 + size]);
    }
    Ok(request)
}

/// The deposits of a block's logs, in order (EIP-6110).
pub fn deposits<'a>(logs: impl Iterator<Item = &'a Log>) -> Result<Vec<u8>, BlockError> {
    let mut out = Vec::new();
    for log in logs {
        if log.address == DEPOSIT_CONTRACT_ADDRESS
            && log.topics.first() == Some(&DEPOSIT_EVENT_TOPIC)
        {
            out.extend(deposit_request(&log.data)?);
        }
    }
    Ok(out)
}

/// The return data of a request contract's system call (EIP-7002, EIP-7251), which must have
/// code and succeed.
fn dequeue(evm: &mut Evm, contract: Address) -> Result<Bytes, BlockError> {
    match system_call::call(evm, contract, Bytes::new()) {
        None => Err(invalid(
            BlockRule::SystemCall,
            format!("request contract {contract} has no code"),
        )),
        Some(outcome) if !outcome.success => Err(invalid(
            BlockRule::SystemCall,
            format!("request system call to {contract} failed"),
        )),
        Some(outcome) => Ok(outcome.output),
    }
}

/// The block's requests after its transactions and withdrawals: deposits from `logs`, then
/// the withdrawal and consolidation requests the system calls dequeue.
pub fn collect<'a>(
    evm: &mut Evm,
    logs: impl Iterator<Item = &'a Log>,
) -> Result<Vec<Bytes>, BlockError> {
    let deposits = deposits(logs)?;
    let withdrawals = dequeue(evm, WITHDRAWAL_REQUEST_ADDRESS)?;
    let consolidations = dequeue(evm, CONSOLIDATION_REQUEST_ADDRESS)?;
    let typed = [
        (DEPOSIT_REQUEST_TYPE, &deposits[..]),
        (WITHDRAWAL_REQUEST_TYPE, &withdrawals[..]),
        (CONSOLIDATION_REQUEST_TYPE, &consolidations[..]),
    ];
    Ok(typed
        .into_iter()
        .filter(|(_, data)| !data.is_empty())
        .map(|(kind, data)| {
            let mut request = vec![kind];
            request.extend_from_slice(data);
            Bytes::from(request)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-formed `DepositEvent` data whose field `i` is filled with byte `i + 1`.
    fn event() -> Vec<u8> {
        let mut data = vec![0u8; DEPOSIT_EVENT_LENGTH];
        for (i, (offset, size)) in DEPOSIT_FIELDS.into_iter().enumerate() {
            data[32 * i + 24..32 * i + 32].copy_from_slice(&(offset as u64).to_be_bytes());
            data[offset + 24..offset + 32].copy_from_slice(&(size as u64).to_be_bytes());
            data[offset + 32..offset + 32 + size].fill(i as u8 + 1);
        }
        data
    }

    #[test]
    fn deposit_logs_become_192_byte_requests() {
        let request = deposit_request(&event()).expect("well formed");
        assert_eq!(request.len(), 192);
        assert_eq!(&request[..48], &[1u8; 48][..]);
        assert_eq!(&request[48..80], &[2u8; 32][..]);
        assert_eq!(&request[184..], &[5u8; 8][..]);
    }

    #[test]
    fn malformed_deposit_logs_invalidate_the_block() {
        let rule = |data: &[u8]| match deposit_request(data) {
            Err(BlockError::Block { rule, .. }) => Some(rule),
            _ => None,
        };
        assert_eq!(rule(&event()[..575]), Some(BlockRule::Requests));
        let mut bad_offset = event();
        bad_offset[31] = 0xa1;
        assert_eq!(rule(&bad_offset), Some(BlockRule::Requests));
        let mut bad_size = event();
        bad_size[160 + 31] = 47;
        assert_eq!(rule(&bad_size), Some(BlockRule::Requests));
    }

    #[test]
    fn only_deposit_contract_events_count() {
        let log = |address, topic| Log {
            address,
            topics: vec![topic],
            data: event().into(),
        };
        let logs = [
            log(DEPOSIT_CONTRACT_ADDRESS, DEPOSIT_EVENT_TOPIC),
            log(Address::ZERO, DEPOSIT_EVENT_TOPIC),
            log(DEPOSIT_CONTRACT_ADDRESS, B256::ZERO),
            log(DEPOSIT_CONTRACT_ADDRESS, DEPOSIT_EVENT_TOPIC),
        ];
        assert_eq!(deposits(logs.iter()).expect("valid").len(), 2 * 192);
    }
}

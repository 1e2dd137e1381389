//! Per-worker copies of contract code. revm takes an account's code as a reference-counted
//! [`Bytecode`]: every load of a contract clones it and every transaction's end drops it, so
//! the workers of a parallel run calling one contract (every transfer of one token) would all
//! change one reference count, a cache line passed between the cores on each transaction. A
//! worker instead hands revm its own copy of a contract's code once it has called the contract
//! often enough for the copy (an analysis of the code, about a nanosecond a byte) to cost less
//! than the shared count would have.

use crate::state;
use alloy_primitives::map::B256Map;
use revm::bytecode::Bytecode;
use revm::primitives::KECCAK_EMPTY;
use revm::state::AccountInfo;

/// Bytes of code a worker's copy costs per call it saves from the shared count (a copy of a
/// large contract pays only if the worker calls it often).
const COPY_BYTES_PER_CALL: usize = 256;

/// One worker's copies of the code it has loaded, by code hash, and its calls of the code it
/// has not copied yet.
#[derive(Debug)]
pub struct LocalCode {
    copies: B256Map<Bytecode>,
    calls: B256Map<usize>,
    /// This worker's empty code (see [`LocalCode::with_own_empty_code`]).
    empty: Bytecode,
}

impl Default for LocalCode {
    fn default() -> Self {
        LocalCode {
            copies: B256Map::default(),
            calls: B256Map::default(),
            empty: own_empty_code(),
        }
    }
}

/// An empty code of its own, not revm's shared one: `Bytecode::new()` and
/// `Bytecode::new_legacy` of no bytes both hand out clones of one process-wide value.
fn own_empty_code() -> Bytecode {
    // SAFETY: the same analysed form as revm's own empty code: one STOP as padding after no
    // code (`original_len` 0) and an empty jump table, so no read goes past the bytes.
    unsafe {
        Bytecode::new_analyzed(
            alloy_primitives::Bytes::from_static(&[0x00]),
            0,
            revm::bytecode::JumpTable::default(),
        )
    }
}

impl LocalCode {
    /// `info` as this worker hands it to revm: an account without code is given the
    /// worker's own empty code. Given none, revm fills in its one empty code, whose
    /// reference count every thread of the process shares: loading the sender and dropping
    /// the accounts change it, and two cores running transactions at once pass its cache
    /// line back and forth. Measured on two Block-STM runs of `builtin:erc20` with a
    /// watchpoint on that count: 12,040 changes before, 40 after (revm's own set-up); the
    /// bench at two threads read 1.10-1.15x before, 1.15-1.18x after. Only for revm: what
    /// the worker writes is stripped of empty code ([`crate::state::detached`]), so that no
    /// other thread drops this one's.
    pub fn with_own_empty_code(&self, mut info: AccountInfo) -> AccountInfo {
        if info.code.is_none() && info.code_hash == KECCAK_EMPTY {
            info.code = Some(self.empty.clone());
        }
        info
    }

    /// `shared` (an account of a state every worker reads) with its code replaced by this
    /// worker's copy; an account without code is returned without bytecode (see
    /// [`state::new_account`]).
    pub fn account(&mut self, shared: &AccountInfo) -> AccountInfo {
        let mut info = shared.copy_without_code();
        if shared.code_hash == KECCAK_EMPTY {
            return info;
        }
        let Some(code) = shared.code.as_ref() else {
            return info;
        };
        if let Some(copy) = self.copies.get(&shared.code_hash) {
            info.code = Some(copy.clone());
            return info;
        }
        let calls = self.calls.entry(shared.code_hash).or_default();
        *calls += 1;
        if calls.saturating_mul(COPY_BYTES_PER_CALL) < code.len() {
            info.code = Some(code.clone());
            return info;
        }
        let copy = self
            .copies
            .entry(shared.code_hash)
            .or_insert_with(|| state::bytecode(&code.original_bytes()));
        info.code = Some(copy.clone());
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{keccak256, Bytes, U256};

    #[test]
    fn copies_keep_the_account_and_its_code() {
        let raw = Bytes::from_static(&[0x60, 0x01, 0x60, 0x00, 0x55, 0x00]);
        let shared = AccountInfo::new(U256::from(3), 1, keccak256(&raw), state::bytecode(&raw));
        let mut local = LocalCode::default();
        let first = local.account(&shared);
        let second = local.account(&shared);
        assert_eq!(first, shared);
        let code = |info: &AccountInfo| info.code.as_ref().map(|c| c.original_bytes());
        assert_eq!(code(&first), Some(raw.clone()));
        assert_eq!(code(&second), Some(raw));
        assert_eq!(local.copies.len(), 1, "one copy per contract");
        let eoa = local.account(&state::new_account());
        assert!(eoa.code.is_none());
    }

    #[test]
    fn an_account_without_code_gets_an_empty_code_of_the_workers_own() {
        let local = LocalCode::default();
        let mut eoa = state::new_account();
        eoa.balance = U256::from(5);
        let given = local.with_own_empty_code(eoa.clone());
        let code = given.code.clone().expect("code filled in");
        assert!(code.is_empty());
        assert_eq!(code, Bytecode::default(), "the same code as revm's");
        assert!(!code.is_default(), "but not revm's shared value");
        assert_eq!(code.hash_slow(), KECCAK_EMPTY);
        assert_eq!(given.copy_without_code(), eoa, "nothing else changes");
        // Code an account has is left alone.
        let raw = Bytes::from_static(&[0x60, 0x01, 0x00]);
        let contract = AccountInfo::new(U256::ZERO, 1, keccak256(&raw), state::bytecode(&raw));
        assert_eq!(local.with_own_empty_code(contract.clone()), contract);
    }

    #[test]
    fn a_large_contract_is_copied_only_once_called_often() {
        let raw = Bytes::from(vec![0x5b; 4 * COPY_BYTES_PER_CALL]);
        let shared = AccountInfo::new(U256::ZERO, 1, keccak256(&raw), state::bytecode(&raw));
        let mut local = LocalCode::default();
        for call in 1..=4 {
            let info = local.account(&shared);
            assert_eq!(info.code.map(|c| c.original_bytes()), Some(raw.clone()));
            assert_eq!(
                local.copies.len(),
                usize::from(call == 4),
                "after call {call}"
            );
        }
    }
}

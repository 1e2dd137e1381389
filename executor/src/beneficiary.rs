//! Lazy gas payments to the beneficiary. revm pays each transaction's fees to the beneficiary
//! at the end of the transaction, which would make every transaction read and write the
//! beneficiary's account and so serialize the block. Instead, transactions run with a handler
//! that computes the fee and leaves the account alone; a transaction that does not otherwise
//! access the beneficiary writes a lazy [`Value::Fee`](crate::mv_memory::Value::Fee) credit.
//! A transaction that explicitly reads the beneficiary (BALANCE, a call to it, it being the
//! sender or recipient) depends on every lower transaction and sees the exact sequential value:
//! the latest full value below it plus every fee credited since, each credit applied with the
//! touch semantics of revm's own payment (EIP-161 included).

use crate::collision::StorageProbe;
use alloy_primitives::{Address, B256, U256};
use lockstep_spec::Fork;
use revm::context::result::{EVMError, HaltReason};
use revm::context_interface::{Block as _, Cfg as _, ContextTr, Transaction as _};
use revm::handler::{EvmTr, FrameResult, Handler, MainnetContext, MainnetEvm};
use revm::interpreter::InitialAndFloorGas;
use revm::primitives::hardfork::SpecId;
use revm::state::{AccountInfo, EvmState};
use std::cell::Cell;
use std::marker::PhantomData;

/// revm's mainnet handler, except that the beneficiary's fee is computed and kept in
/// [`DeferredFee::fee`] instead of being paid, and that the intrinsic gas is counted by
/// [`crate::intrinsic`] (the same figures, sooner).
#[derive(Debug)]
pub struct DeferredFee<DB> {
    fee: Cell<U256>,
    _db: PhantomData<DB>,
}

impl<DB> Default for DeferredFee<DB> {
    fn default() -> Self {
        DeferredFee {
            fee: Cell::new(U256::ZERO),
            _db: PhantomData,
        }
    }
}

impl<DB> DeferredFee<DB> {
    /// The fee owed to the beneficiary by the transaction that ran.
    pub fn fee(&self) -> U256 {
        self.fee.get()
    }
}

impl<DB: StorageProbe> Handler for DeferredFee<DB> {
    type Evm = MainnetEvm<MainnetContext<DB>>;
    type Error = EVMError<DB::Error>;
    type HaltReason = HaltReason;

    fn run_exec_loop(
        &mut self,
        evm: &mut Self::Evm,
        first_frame_input: revm::interpreter::interpreter_action::FrameInit,
    ) -> Result<FrameResult, Self::Error> {
        Ok(crate::collision::run_exec_loop(evm, first_frame_input)?)
    }

    /// revm's check of the intrinsic gas, with the calldata counted faster
    /// ([`crate::intrinsic`]).
    fn validate_initial_tx_gas(
        &self,
        evm: &mut Self::Evm,
    ) -> Result<InitialAndFloorGas, Self::Error> {
        let ctx = evm.ctx_ref();
        Ok(crate::intrinsic::initial_gas(ctx.tx(), ctx.cfg())?)
    }

    fn reward_beneficiary(
        &self,
        evm: &mut Self::Evm,
        exec_result: &mut FrameResult,
    ) -> Result<(), Self::Error> {
        // The amount revm's `post_execution::reward_beneficiary` would credit.
        let ctx = evm.ctx_ref();
        if ctx.cfg().is_fee_charge_disabled() {
            self.fee.set(U256::ZERO);
            return Ok(());
        }
        let basefee = ctx.block().basefee() as u128;
        let effective_gas_price = ctx.tx().effective_gas_price(basefee);
        let price = if ctx.cfg().spec().is_enabled_in(SpecId::LONDON) {
            effective_gas_price.saturating_sub(basefee)
        } else {
            effective_gas_price
        };
        let gas = exec_result.gas();
        let used = gas.used().saturating_sub(gas.reservoir());
        self.fee
            .set(U256::from(price.wrapping_mul(u128::from(used))));
        Ok(())
    }
}

/// The account after a fee credit of `fee` wei, as revm's payment and the commit leave it:
/// the account is touched (so, under EIP-161, an empty one is deleted and a zero credit to
/// an absent one creates nothing) and its balance grows unless that would overflow.
pub fn credit(fork: Fork, account: Option<AccountInfo>, fee: U256) -> Option<AccountInfo> {
    let mut account = account.unwrap_or_else(crate::state::new_account);
    if let Some(balance) = account.balance.checked_add(fee) {
        account.balance = balance;
    }
    if fork >= Fork::SpuriousDragon && account.is_empty() {
        None
    } else {
        Some(account)
    }
}

/// The beneficiary's account after `fees` credited in order on top of `base`.
pub fn apply_fees(fork: Fork, base: Option<AccountInfo>, fees: &[U256]) -> Option<AccountInfo> {
    if fees.is_empty() {
        // Not even touched.
        return base;
    }
    // Credited one after another, the fees leave the account as one credit of their sum
    // does, unless a balance on the way overflows (a credit that would overflow is
    // skipped): an account emptied and deleted by a zero credit comes back as a new one,
    // which an empty account already equals. One credit is one copy of the account, where
    // crediting each fee copied it once per fee (5,000 times in a block of 5,000 transfers).
    let balance = base.as_ref().map_or(U256::ZERO, |account| account.balance);
    let total = fees
        .iter()
        .try_fold(U256::ZERO, |sum, fee| sum.checked_add(*fee))
        .filter(|total| balance.checked_add(*total).is_some());
    match total {
        Some(total) => credit(fork, base, total),
        None => fees
            .iter()
            .fold(base, |account, fee| credit(fork, account, *fee)),
    }
}

/// What a read of an account saw, for validation: existence, balance, nonce and code hash.
pub type Summary = Option<(U256, u64, B256)>;

/// The [`Summary`] of an account.
pub fn summary(account: &Option<AccountInfo>) -> Summary {
    account.as_ref().map(crate::state::written_fields)
}

/// Pays `fee` into a transaction's changes when they hold the beneficiary (it was accessed
/// explicitly), touching it as revm would. Returns whether it did; otherwise the fee stays
/// owed and is credited lazily.
pub fn pay_into_changes(changes: &mut EvmState, beneficiary: Address, fee: U256) -> bool {
    let Some(account) = changes.get_mut(&beneficiary) else {
        return false;
    };
    account.mark_touch();
    if let Some(balance) = account.info.balance.checked_add(fee) {
        account.info.balance = balance;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_credit_to_absent_account_creates_it_only_before_spurious_dragon() {
        assert!(credit(Fork::Homestead, None, U256::ZERO).is_some());
        assert!(credit(Fork::SpuriousDragon, None, U256::ZERO).is_none());
        let paid = credit(Fork::London, None, U256::from(7));
        assert_eq!(paid.map(|a| a.balance), Some(U256::from(7)));
    }

    #[test]
    fn fees_apply_in_order() {
        let base = Some(AccountInfo {
            balance: U256::from(1),
            ..Default::default()
        });
        let fees = [U256::from(2), U256::from(3)];
        let after = apply_fees(Fork::Cancun, base, &fees);
        assert_eq!(after.map(|a| a.balance), Some(U256::from(6)));
    }

    #[test]
    fn fees_applied_at_once_equal_fees_credited_one_by_one() {
        let with_balance = |balance: U256| {
            Some(AccountInfo {
                balance,
                ..Default::default()
            })
        };
        let bases = [
            None,
            with_balance(U256::ZERO),
            with_balance(U256::from(9)),
            with_balance(U256::MAX - U256::from(1)),
        ];
        let fees: [&[U256]; 5] = [
            &[],
            &[U256::ZERO, U256::ZERO],
            &[U256::ZERO, U256::from(5)],
            &[U256::from(1), U256::ZERO, U256::from(1)],
            &[U256::MAX, U256::from(2)],
        ];
        let summarize = |account: Option<AccountInfo>| summary(&account);
        for fork in [Fork::Homestead, Fork::SpuriousDragon, Fork::Cancun] {
            for base in &bases {
                for fees in fees {
                    let one_by_one = fees
                        .iter()
                        .fold(base.clone(), |account, fee| credit(fork, account, *fee));
                    assert_eq!(
                        summarize(apply_fees(fork, base.clone(), fees)),
                        summarize(one_by_one),
                        "{fork:?}, base {base:?}, fees {fees:?}"
                    );
                }
            }
        }
    }
}

//! One transaction: validation with the precise rule broken, intrinsic gas, the up-front
//! payment, the authorizations (EIP-7702), the message, the refund (EIP-3529), the calldata
//! floor (EIP-7623) and the fee split between the beneficiary and the burn (EIP-1559,
//! EIP-4844).

use crate::delegation;
use crate::precompiles;
use crate::types::{Log, Transaction, TxKind, TxRule, TxType};
use crate::vm::message::{self, Message};
use crate::vm::{gas, CallOutcome, Evm, TxContext};
use crate::Fork;
use alloy_primitives::{Address, Bytes, U256};

/// Gas per blob (EIP-4844).
pub const GAS_PER_BLOB: u64 = 1 << 17;

/// The version byte of a KZG blob versioned hash (EIP-4844).
pub const VERSIONED_HASH_VERSION_KZG: u8 = 0x01;

/// The most blobs one transaction may carry from Osaka (EIP-7594), whatever the block allows.
pub const MAX_BLOBS_PER_TX: u64 = 6;

/// A rejected transaction: the rule and a message.
pub type Invalid = (TxRule, String);

/// What an included transaction produced.
#[derive(Clone, Debug)]
pub struct TxResult {
    /// Whether the message succeeded.
    pub success: bool,
    /// Gas used after the refund.
    pub gas_used: u64,
    /// Logs (empty when the message failed).
    pub logs: Vec<Log>,
}

/// The fork at which a transaction type became valid (EIP-2930, 1559, 4844, 7702).
fn type_fork(tx_type: TxType) -> Fork {
    match tx_type {
        TxType::Legacy => Fork::Frontier,
        TxType::AccessList => Fork::Berlin,
        TxType::DynamicFee => Fork::London,
        TxType::Blob => Fork::Cancun,
        TxType::SetCode => Fork::Prague,
    }
}

/// Whether the transaction prices gas with a fee cap and priority fee (EIP-1559).
fn has_fee_cap(tx: &Transaction) -> bool {
    matches!(
        tx.tx_type,
        TxType::DynamicFee | TxType::Blob | TxType::SetCode
    )
}

/// The price per gas the sender pays: the gas price, or from EIP-1559 the base fee plus the
/// priority fee, capped by the fee cap.
pub fn effective_gas_price(tx: &Transaction, base_fee: u64) -> u128 {
    if has_fee_cap(tx) {
        let priority = tx.max_priority_fee_per_gas.unwrap_or_default();
        tx.gas_price
            .min((base_fee as u128).saturating_add(priority))
    } else {
        tx.gas_price
    }
}

/// The intrinsic gas of `tx` under `fork`.
pub fn intrinsic_gas(fork: Fork, tx: &Transaction) -> u64 {
    let keys: usize = tx.access_list.iter().map(|i| i.storage_keys.len()).sum();
    gas::intrinsic(
        fork,
        &tx.input,
        tx.kind == TxKind::Create,
        tx.access_list.len() as u64,
        keys as u64,
        tx.authorization_list.len() as u64,
    )
}

/// The least gas `tx` must carry: its intrinsic gas, and from Prague at least its calldata
/// floor (EIP-7623).
pub fn minimum_gas(fork: Fork, tx: &Transaction) -> u64 {
    let intrinsic = intrinsic_gas(fork, tx);
    gas::calldata_floor(fork, &tx.input).map_or(intrinsic, |floor| floor.max(intrinsic))
}

/// Checks everything that makes a transaction invalid, in the order: type, chain id, gas cap
/// (EIP-7825), fees, blobs, authorizations (EIP-7702), init code size, intrinsic gas and
/// calldata floor (EIP-7623), nonce limit, sender code (EIP-3607), nonce, balance. Returns the
/// intrinsic gas.
pub fn validate(evm: &Evm, tx: &Transaction, max_blobs: u64) -> Result<u64, Invalid> {
    let fork = evm.fork;
    if fork < type_fork(tx.tx_type) {
        return Err((
            TxRule::TypeNotSupported,
            format!("{:?} transactions are not valid in {fork}", tx.tx_type),
        ));
    }
    if let Some(chain_id) = tx.chain_id {
        if fork >= Fork::SpuriousDragon && chain_id != evm.block.chain_id {
            return Err((TxRule::ChainId, format!("chain id {chain_id}")));
        }
    }
    if fork >= Fork::Osaka && tx.gas_limit > gas::TX_MAX_GAS_LIMIT {
        return Err((
            TxRule::GasLimitCap,
            format!("gas limit {} above the cap of 2^24", tx.gas_limit),
        ));
    }
    if fork >= Fork::London {
        let base_fee = evm.block.base_fee.unwrap_or_default() as u128;
        if has_fee_cap(tx) && tx.max_priority_fee_per_gas.unwrap_or_default() > tx.gas_price {
            return Err((
                TxRule::PriorityFeeAboveFeeCap,
                "priority fee above fee cap".into(),
            ));
        }
        if tx.gas_price < base_fee {
            return Err((
                TxRule::FeeCapBelowBaseFee,
                format!("fee cap {} below base fee {base_fee}", tx.gas_price),
            ));
        }
    }
    if tx.tx_type == TxType::Blob {
        validate_blobs(evm, tx, max_blobs)?;
    }
    if tx.tx_type == TxType::SetCode {
        validate_set_code(tx)?;
    }
    if fork >= Fork::Shanghai
        && tx.kind == TxKind::Create
        && tx.input.len() > gas::MAX_INIT_CODE_SIZE
    {
        return Err((
            TxRule::InitCodeTooLarge,
            format!("init code of {} bytes", tx.input.len()),
        ));
    }
    let intrinsic = intrinsic_gas(fork, tx);
    let minimum = minimum_gas(fork, tx);
    if minimum > tx.gas_limit {
        return Err((
            TxRule::IntrinsicGas,
            format!(
                "intrinsic gas {intrinsic} (floor included: {minimum}) above gas limit {}",
                tx.gas_limit
            ),
        ));
    }
    if tx.nonce == u64::MAX {
        return Err((TxRule::NonceMax, "nonce at its maximum (EIP-2681)".into()));
    }
    let sender = evm.state.account(&tx.sender);
    // EIP-7702: from Prague the sender's code may be a delegation designator.
    if sender.is_some_and(|a| !a.code.is_empty() && delegation::delegate(fork, &a.code).is_none()) {
        return Err((TxRule::SenderNotEoa, "sender has code (EIP-3607)".into()));
    }
    let nonce = sender.map_or(0, |a| a.nonce);
    if tx.nonce < nonce {
        return Err((
            TxRule::NonceTooLow,
            format!("nonce {} below {nonce}", tx.nonce),
        ));
    }
    if tx.nonce > nonce {
        return Err((
            TxRule::NonceTooHigh,
            format!("nonce {} above {nonce}", tx.nonce),
        ));
    }
    let blob_gas = U256::from(tx.blob_versioned_hashes.len() as u64 * GAS_PER_BLOB);
    let max_cost = U256::from(tx.gas_limit) * U256::from(tx.gas_price)
        + blob_gas * U256::from(tx.max_fee_per_blob_gas.unwrap_or_default())
        + tx.value;
    let balance = sender.map_or(U256::ZERO, |a| a.balance);
    if balance < max_cost {
        return Err((
            TxRule::InsufficientFunds,
            format!("balance {balance} below {max_cost}"),
        ));
    }
    Ok(intrinsic)
}

/// EIP-4844: a blob transaction calls, carries 1..=max blobs of version 0x01 and pays at
/// least the blob base fee.
fn validate_blobs(evm: &Evm, tx: &Transaction, max_blobs: u64) -> Result<(), Invalid> {
    let hashes = &tx.blob_versioned_hashes;
    if tx.kind == TxKind::Create {
        return Err((TxRule::BlobRules, "blob transaction creates".into()));
    }
    if hashes.is_empty() {
        return Err((TxRule::BlobRules, "no blobs".into()));
    }
    if hashes.len() as u64 > max_blobs {
        return Err((TxRule::BlobRules, format!("{} blobs", hashes.len())));
    }
    if evm.fork >= Fork::Osaka && hashes.len() as u64 > MAX_BLOBS_PER_TX {
        return Err((
            TxRule::BlobRules,
            format!(
                "{} blobs, above {MAX_BLOBS_PER_TX} per transaction (EIP-7594)",
                hashes.len()
            ),
        ));
    }
    if hashes.iter().any(|h| h[0] != VERSIONED_HASH_VERSION_KZG) {
        return Err((TxRule::BlobRules, "blob hash version".into()));
    }
    let max_fee = U256::from(tx.max_fee_per_blob_gas.unwrap_or_default());
    if max_fee < evm.blob_base_fee {
        return Err((
            TxRule::BlobRules,
            format!("blob fee cap {max_fee} below {}", evm.blob_base_fee),
        ));
    }
    Ok(())
}

/// EIP-7702: a set-code transaction calls and carries at least one authorization.
fn validate_set_code(tx: &Transaction) -> Result<(), Invalid> {
    if tx.kind == TxKind::Create {
        return Err((TxRule::SetCodeRules, "set-code transaction creates".into()));
    }
    if tx.authorization_list.is_empty() {
        return Err((TxRule::SetCodeRules, "empty authorization list".into()));
    }
    Ok(())
}

/// The message of a call transaction to `to`: from Prague, when `to` delegates (EIP-7702),
/// it runs the delegate's code, and the delegate is warmed without charge.
fn call_message(evm: &mut Evm, tx: &Transaction, to: Address, gas: u64) -> Message {
    let mut code_address = to;
    let mut code = evm.state.code(&to);
    let delegate = delegation::delegate(evm.fork, &code);
    if let Some(delegate) = delegate {
        evm.state.warm_address(delegate);
        code_address = delegate;
        code = evm.state.code(&delegate);
    }
    Message {
        caller: tx.sender,
        target: to,
        code_address,
        value: tx.value,
        should_transfer_value: true,
        data: tx.input.clone(),
        code,
        gas,
        depth: 0,
        is_static: false,
        disable_precompiles: delegate.is_some(),
    }
}

/// Validates and executes `tx`, leaving its effects in `evm.state`.
pub fn execute(evm: &mut Evm, tx: &Transaction, max_blobs: u64) -> Result<TxResult, Invalid> {
    let intrinsic = validate(evm, tx, max_blobs)?;
    let fork = evm.fork;
    let base_fee = if fork >= Fork::London {
        evm.block.base_fee.unwrap_or_default()
    } else {
        0
    };
    let price = effective_gas_price(tx, base_fee);
    let sender = tx.sender;

    // The up-front payment: all the gas at the effective price, and the blob fee.
    let blob_fee =
        U256::from(tx.blob_versioned_hashes.len() as u64 * GAS_PER_BLOB) * evm.blob_base_fee;
    let upfront = U256::from(tx.gas_limit) * U256::from(price) + blob_fee;
    evm.state.increment_nonce(sender);
    let balance = evm.state.balance(&sender).saturating_sub(upfront);
    evm.state.set_balance(sender, balance);

    // EIP-2929 and EIP-2930: what is warm from the start; EIP-3651: the beneficiary too.
    let target = match tx.kind {
        TxKind::Call(to) => to,
        TxKind::Create => sender.create(tx.nonce),
    };
    if fork >= Fork::Berlin {
        evm.state.warm_address(sender);
        evm.state.warm_address(target);
        for address in precompiles::addresses(fork) {
            evm.state.warm_address(address);
        }
        for item in &tx.access_list {
            evm.state.warm_address(item.address);
            for key in &item.storage_keys {
                evm.state
                    .warm_slot(item.address, U256::from_be_bytes(key.0));
            }
        }
    }
    if fork >= Fork::Shanghai {
        evm.state.warm_address(evm.block.beneficiary);
    }

    evm.tx = TxContext {
        origin: sender,
        gas_price: U256::from(price),
        blob_hashes: tx.blob_versioned_hashes.clone(),
    };
    // EIP-7702: the authorizations take effect before the message and survive its failure.
    let authorization_refund = if tx.tx_type == TxType::SetCode {
        delegation::apply_authorizations(&mut evm.state, evm.block.chain_id, &tx.authorization_list)
    } else {
        0
    };
    let gas = tx.gas_limit - intrinsic;
    let outcome = match tx.kind {
        TxKind::Call(to) => {
            let message = call_message(evm, tx, to, gas);
            message::process_message(evm, &message)
        }
        TxKind::Create if message::creation_collides(evm, &target) => CallOutcome {
            success: false,
            gas_left: 0,
            refund: 0,
            output: Bytes::new(),
            ripemd_touched: false,
        },
        TxKind::Create => {
            let message = Message {
                caller: sender,
                target,
                code_address: target,
                value: tx.value,
                should_transfer_value: true,
                data: Bytes::new(),
                code: tx.input.clone(),
                gas,
                depth: 0,
                is_static: false,
                disable_precompiles: false,
            };
            message::process_create_message(evm, &message)
        }
    };

    // The refund: the counter (with 24000 per destroyed account before EIP-3529), capped.
    let mut refund_counter = if outcome.success { outcome.refund } else { 0 };
    if outcome.success && fork < Fork::London {
        refund_counter += gas::SELFDESTRUCT_REFUND as i64 * evm.state.destroyed_count() as i64;
    }
    refund_counter += authorization_refund;
    let gas_used = tx.gas_limit - outcome.gas_left;
    let refund = (refund_counter.max(0) as u64).min(gas::max_refund(fork, gas_used));
    let mut gas_used = gas_used - refund;
    // EIP-7623: the sender pays at least the calldata floor.
    if let Some(floor) = gas::calldata_floor(fork, &tx.input) {
        gas_used = gas_used.max(floor);
    }
    let returned = U256::from(tx.gas_limit - gas_used) * U256::from(price);
    evm.state.add_balance(sender, returned);

    // The beneficiary gets the priority fee; the base fee and blob fee are burnt (EIP-1559).
    let beneficiary = evm.block.beneficiary;
    let fee = U256::from(gas_used) * U256::from(price - base_fee as u128);
    if fork >= Fork::SpuriousDragon && fee.is_zero() {
        if evm.state.exists_and_is_empty(&beneficiary) {
            evm.state.destroy(&beneficiary);
        }
    } else {
        evm.state.add_balance(beneficiary, fee);
    }

    let logs = std::mem::take(&mut evm.state.logs);
    evm.state.finish_transaction(fork >= Fork::SpuriousDragon);
    Ok(TxResult {
        success: outcome.success,
        gas_used,
        logs,
    })
}

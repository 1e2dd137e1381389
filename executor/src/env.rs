//! Translation of lockstep's data model into revm's environment types, and of revm's
//! transaction errors back into [`TxRule`]s.

use lockstep_spec::types::{BlobSchedule, Block, Transaction, TxKind, TxRule, TxType};
use lockstep_spec::Fork;
use revm::context::either::Either;
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::context_interface::result::InvalidTransaction;
use revm::context_interface::transaction::{AccessList, AccessListItem, SignedAuthorization};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{TxKind as RevmTxKind, U256};

/// The revm rules for a fork, or `None` where revm has none (Constantinople, never activated
/// on mainnet, has no `SpecId` in revm 43; BPO forks beyond revm's knowledge map to Osaka,
/// whose EVM rules they share).
pub fn spec_id(fork: Fork) -> Option<SpecId> {
    Some(match fork {
        Fork::Frontier => SpecId::FRONTIER,
        Fork::Homestead | Fork::DaoFork => SpecId::HOMESTEAD,
        Fork::TangerineWhistle => SpecId::TANGERINE,
        Fork::SpuriousDragon => SpecId::SPURIOUS_DRAGON,
        Fork::Byzantium => SpecId::BYZANTIUM,
        Fork::Constantinople => return None,
        Fork::Petersburg => SpecId::PETERSBURG,
        Fork::Istanbul | Fork::MuirGlacier => SpecId::ISTANBUL,
        Fork::Berlin => SpecId::BERLIN,
        Fork::London | Fork::ArrowGlacier | Fork::GrayGlacier => SpecId::LONDON,
        Fork::Paris => SpecId::MERGE,
        Fork::Shanghai => SpecId::SHANGHAI,
        Fork::Cancun => SpecId::CANCUN,
        Fork::Prague => SpecId::PRAGUE,
        Fork::Osaka | Fork::Bpo1 | Fork::Bpo2 | Fork::Bpo3 | Fork::Bpo4 | Fork::Bpo5 => {
            SpecId::OSAKA
        }
    })
}

/// The blob schedule in force: the block's own, else the fork's mainnet one.
pub fn blob_schedule(fork: Fork, block: &Block) -> Option<BlobSchedule> {
    block
        .env
        .blob_schedule
        .or_else(|| BlobSchedule::mainnet(fork))
}

/// revm's configuration for a block under `fork`.
pub fn cfg_env(spec: SpecId, fork: Fork, block: &Block) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(spec);
    cfg.chain_id = block.env.chain_id;
    if let Some(schedule) = blob_schedule(fork, block) {
        cfg.blob_base_fee_update_fraction = Some(schedule.update_fraction);
        // EIP-7594 caps a transaction at 6 blobs from Osaka on; before, the block maximum.
        let per_tx = if fork >= Fork::Osaka { 6 } else { schedule.max };
        cfg.max_blobs_per_tx = Some(per_tx);
    }
    cfg
}

/// revm's block environment.
pub fn block_env(fork: Fork, block: &Block) -> BlockEnv {
    let env = &block.env;
    let mut out = BlockEnv {
        number: U256::from(env.number),
        beneficiary: env.beneficiary,
        timestamp: U256::from(env.timestamp),
        gas_limit: env.gas_limit,
        basefee: env.base_fee.unwrap_or_default(),
        difficulty: env.difficulty,
        prevrandao: if fork >= Fork::Paris {
            Some(env.prevrandao.unwrap_or_default())
        } else {
            None
        },
        blob_excess_gas_and_price: None,
        ..Default::default()
    };
    if let (Some(excess), Some(schedule)) = (env.excess_blob_gas, blob_schedule(fork, block)) {
        out.set_blob_excess_gas_and_price(excess, schedule.update_fraction);
    }
    out
}

/// revm's transaction environment.
pub fn tx_env(tx: &Transaction) -> TxEnv {
    let access_list = AccessList(
        tx.access_list
            .iter()
            .map(|item| AccessListItem {
                address: item.address,
                storage_keys: item.storage_keys.clone(),
            })
            .collect(),
    );
    let authorization_list = tx
        .authorization_list
        .iter()
        .map(|auth| {
            let inner = revm::context_interface::transaction::Authorization {
                chain_id: auth.chain_id,
                address: auth.address,
                nonce: auth.nonce,
            };
            Either::Left(SignedAuthorization::new_unchecked(
                inner,
                auth.y_parity,
                auth.r,
                auth.s,
            ))
        })
        .collect();
    TxEnv {
        tx_type: tx.tx_type.byte(),
        caller: tx.sender,
        gas_limit: tx.gas_limit,
        gas_price: tx.gas_price,
        kind: match tx.kind {
            TxKind::Call(to) => RevmTxKind::Call(to),
            TxKind::Create => RevmTxKind::Create,
        },
        value: tx.value,
        data: tx.input.clone(),
        nonce: tx.nonce,
        chain_id: tx.chain_id,
        access_list,
        gas_priority_fee: match tx.tx_type {
            TxType::Legacy | TxType::AccessList => None,
            _ => tx.max_priority_fee_per_gas,
        },
        blob_hashes: tx.blob_versioned_hashes.clone(),
        max_fee_per_blob_gas: tx.max_fee_per_blob_gas.unwrap_or_default(),
        authorization_list,
    }
}

/// The lockstep rule behind a revm transaction error.
pub fn tx_rule(error: &InvalidTransaction) -> TxRule {
    use InvalidTransaction as E;
    match error {
        E::PriorityFeeGreaterThanMaxFee => TxRule::PriorityFeeAboveFeeCap,
        E::GasPriceLessThanBasefee => TxRule::FeeCapBelowBaseFee,
        E::CallerGasLimitMoreThanBlock => TxRule::GasLimitReached,
        E::CallGasCostMoreThanGasLimit { .. } | E::GasFloorMoreThanGasLimit { .. } => {
            TxRule::IntrinsicGas
        }
        E::RejectCallerWithCode => TxRule::SenderNotEoa,
        E::LackOfFundForMaxFee { .. } => TxRule::InsufficientFunds,
        E::OverflowPaymentInTransaction => TxRule::FeeOverflow,
        E::NonceOverflowInTransaction => TxRule::NonceMax,
        E::NonceTooHigh { .. } => TxRule::NonceTooHigh,
        E::NonceTooLow { .. } => TxRule::NonceTooLow,
        E::CreateInitCodeSizeLimit => TxRule::InitCodeTooLarge,
        E::InvalidChainId | E::MissingChainId => TxRule::ChainId,
        E::TxGasLimitGreaterThanCap { .. } => TxRule::GasLimitCap,
        E::BlobGasPriceGreaterThanMax { .. }
        | E::EmptyBlobs
        | E::BlobCreateTransaction
        | E::TooManyBlobs { .. }
        | E::BlobVersionNotSupported => TxRule::BlobRules,
        E::AuthorizationListInvalidFields | E::EmptyAuthorizationList => TxRule::SetCodeRules,
        E::AccessListNotSupported
        | E::MaxFeePerBlobGasNotSupported
        | E::BlobVersionedHashesNotSupported
        | E::AuthorizationListNotSupported
        | E::Eip2930NotSupported
        | E::Eip1559NotSupported
        | E::Eip4844NotSupported
        | E::Eip7702NotSupported
        | E::Eip7873NotSupported
        | E::Eip7873MissingTarget => TxRule::TypeNotSupported,
        _ => TxRule::Other,
    }
}

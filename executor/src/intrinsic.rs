//! A transaction's intrinsic gas and EIP-7623 floor, as revm checks them before the
//! transaction runs (`revm::handler::validation::validate_initial_tx_gas_with_gas_params`),
//! with the calldata's zero bytes counted eight at a time.
//!
//! revm counts them one byte at a time, and a second time from Prague on for the floor: on
//! `builtin:erc20` (68 bytes of calldata) that was 850 of a shard's 15,900 instructions per
//! transaction (callgrind). The parallel executors' handler
//! ([`DeferredFee`](crate::beneficiary::DeferredFee)) takes the figures from here; the
//! baseline, revm alone, keeps revm's own.
//!
//! The sums are revm's, over revm's own gas table ([`GasParams`]) for the transaction's
//! fork, so a fork's costs come from one place. A transaction under Amsterdam's EIP-2780 or
//! EIP-8037 (which lockstep does not run) goes to revm's function itself. A property test
//! holds the two equal over random transactions of every fork.

use revm::context_interface::cfg::gas_params::Eip2780TxInfo;
use revm::context_interface::cfg::{Cfg, GasParams};
use revm::context_interface::result::InvalidTransaction;
use revm::context_interface::transaction::{AccessListItemTr, Transaction, TransactionType};
use revm::handler::validation;
use revm::interpreter::InitialAndFloorGas;
use revm::primitives::hardfork::SpecId;

/// The number of zero bytes in `data`, eight at a time.
pub fn zero_bytes(data: &[u8]) -> u64 {
    /// Every byte's low seven bits.
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    /// One in every byte: multiplying by it sums a word's bytes into its top byte.
    const ONES: u64 = 0x0101_0101_0101_0101;
    let (words, rest) = data.as_chunks::<8>();
    let mut nonzero = 0;
    for word in words {
        let word = u64::from_le_bytes(*word);
        // A byte's top bit ends up set exactly when the byte is not zero: adding 0x7f to its
        // low seven bits carries into the top bit unless they are all zero (and never out of
        // the byte), and the byte's own top bit is or-ed in.
        let flags = ((word & LOW7).wrapping_add(LOW7) | word) & !LOW7;
        nonzero += (flags >> 7).wrapping_mul(ONES) >> 56;
    }
    let rest_zeros = rest.iter().filter(|byte| **byte == 0).count() as u64;
    (words.len() as u64 * 8 - nonzero) + rest_zeros
}

/// The intrinsic gas and the floor of `tx` under `cfg`, or the reason the transaction is
/// invalid for them: what revm's validation returns for the same transaction.
pub fn initial_gas(
    tx: impl Transaction,
    cfg: &impl Cfg,
) -> Result<InitialAndFloorGas, InvalidTransaction> {
    let spec: SpecId = cfg.spec().into();
    if cfg.is_amsterdam_eip2780_enabled() || cfg.is_amsterdam_eip8037_enabled() {
        return revm_initial_gas(tx, cfg);
    }
    let gas = initial_and_floor(&tx, cfg.gas_params());
    let gas = if cfg.is_eip7623_disabled() {
        gas.with_floor_gas(0)
    } else {
        gas
    };
    let limit = tx.gas_limit();
    if gas.initial_total_gas() > limit {
        return Err(InvalidTransaction::CallGasCostMoreThanGasLimit {
            gas_limit: limit,
            initial_gas: gas.initial_total_gas(),
        });
    }
    // EIP-7623: the floor must fit in the gas limit.
    if spec.is_enabled_in(SpecId::PRAGUE) && gas.floor_gas() > limit {
        return Err(InvalidTransaction::GasFloorMoreThanGasLimit {
            gas_floor: gas.floor_gas(),
            gas_limit: limit,
        });
    }
    Ok(gas)
}

/// revm's own validation of the intrinsic gas, with the EIP-2780 facts its handler passes.
pub fn revm_initial_gas(
    tx: impl Transaction,
    cfg: &impl Cfg,
) -> Result<InitialAndFloorGas, InvalidTransaction> {
    let eip2780 = cfg.is_amsterdam_eip2780_enabled().then(|| Eip2780TxInfo {
        value: tx.value(),
        is_self_transfer: tx.kind().to() == Some(&tx.caller()),
    });
    validation::validate_initial_tx_gas_with_gas_params(
        tx,
        cfg.spec().into(),
        cfg.gas_params(),
        cfg.is_eip7623_disabled(),
        cfg.is_amsterdam_eip8037_enabled(),
        cfg.tx_gas_limit_cap(),
        eip2780,
    )
}

/// `GasParams::initial_tx_gas` without EIP-2780: the base stipend (and the creation's cost),
/// the calldata's tokens, the access list, the EIP-7702 authorizations and the initcode's
/// words (EIP-3860); and the EIP-7623 floor over the calldata's tokens. revm adds with
/// unchecked arithmetic; so does this, wrapping as a release build of revm would (the sums
/// stay far below `u64::MAX` for any transaction a block can hold).
fn initial_and_floor(tx: &impl Transaction, params: &GasParams) -> InitialAndFloorGas {
    let input = tx.input();
    let is_create = tx.kind().is_create();
    let (accounts, storages) = access_list_counts(tx);
    let zeros = zero_bytes(input);
    let non_zeros = input.len() as u64 - zeros;
    let non_zero_multiplier = params.tx_token_non_zero_byte_multiplier();
    let tokens = zeros.wrapping_add(non_zeros.wrapping_mul(non_zero_multiplier));

    let mut base = params.tx_base_stipend();
    if is_create {
        // EIP-2: a creating transaction pays for the creation.
        base = base.wrapping_add(params.tx_create_cost());
    }
    let authorizations = (tx.authorization_list_len() as u64)
        .wrapping_mul(params.tx_eip7702_per_empty_account_cost());
    let mut regular = tokens
        .wrapping_mul(params.tx_token_cost())
        .wrapping_add(accounts.wrapping_mul(params.tx_access_list_address_cost()))
        .wrapping_add(storages.wrapping_mul(params.tx_access_list_storage_key_cost()))
        .wrapping_add(base)
        .wrapping_add(authorizations);
    if is_create {
        // EIP-3860: initcode is metered by the word.
        regular = regular.wrapping_add(params.tx_initcode_cost(input.len()));
    }

    // EIP-7623's floor counts the calldata's tokens; EIP-7976 counts a zero byte as a
    // non-zero one, and EIP-7981 adds the access list's bytes.
    let floor_tokens = if params.tx_floor_token_zero_byte_multiplier() == non_zero_multiplier {
        (input.len() as u64).wrapping_mul(non_zero_multiplier)
    } else {
        tokens
    };
    let access_list_tokens = params.tx_floor_tokens_in_access_list(accounts, storages);
    let floor = params
        .tx_floor_cost_with_tokens(floor_tokens)
        .wrapping_add(access_list_tokens.wrapping_mul(params.tx_floor_cost_per_token()));

    InitialAndFloorGas::default()
        .with_initial_regular_gas(regular)
        .with_floor_gas(floor)
}

/// The access list's addresses and storage keys; a legacy transaction has none.
fn access_list_counts(tx: &impl Transaction) -> (u64, u64) {
    if tx.tx_type() == TransactionType::Legacy as u8 {
        return (0, 0);
    }
    tx.access_list()
        .map(|list| {
            list.fold((0u64, 0u64), |(accounts, storages), item| {
                (
                    accounts.wrapping_add(1),
                    storages.wrapping_add(item.storage_slots().count() as u64),
                )
            })
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, Bytes, B256, U256};
    use proptest::prelude::*;
    use revm::context::either::Either;
    use revm::context::{CfgEnv, TxEnv};
    use revm::context_interface::transaction::{
        AccessList, AccessListItem, Authorization, RecoveredAuthorization, SignedAuthorization,
    };
    use revm::primitives::TxKind;

    /// Bytes that are zero about half the time, as calldata's often are.
    fn calldata() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..300)
    }

    /// Every fork revm knows, Amsterdam's included (which goes to revm's own function).
    fn specs() -> impl Iterator<Item = SpecId> {
        (0..=u8::MAX).filter_map(SpecId::try_from_u8)
    }

    /// An authorization: only their number counts here.
    fn authorization() -> Either<SignedAuthorization, RecoveredAuthorization> {
        let inner = Authorization {
            chain_id: U256::from(1),
            address: Address::repeat_byte(7),
            nonce: 0,
        };
        Either::Left(SignedAuthorization::new_unchecked(
            inner,
            0,
            U256::from(1),
            U256::from(1),
        ))
    }

    proptest! {
        #[test]
        fn zero_bytes_counts_every_zero(data in calldata()) {
            let expected = data.iter().filter(|byte| **byte == 0).count() as u64;
            prop_assert_eq!(zero_bytes(&data), expected);
            // From every offset, so that words start unaligned and the rest has every length.
            for start in 1..data.len().min(9) {
                let expected = data[start..].iter().filter(|byte| **byte == 0).count() as u64;
                prop_assert_eq!(zero_bytes(&data[start..]), expected);
            }
        }

        #[test]
        fn initial_gas_is_revms_for_every_fork(
            data in calldata(),
            tx_type in 0u8..=4,
            create in any::<bool>(),
            list in prop::collection::vec(0usize..4, 0..4),
            authorizations in 0usize..3,
            gas_limit in 0u64..120_000,
        ) {
            let access_list = AccessList(
                list.iter()
                    .map(|&keys| AccessListItem {
                        address: Address::repeat_byte(keys as u8),
                        storage_keys: vec![B256::repeat_byte(1); keys],
                    })
                    .collect(),
            );
            let tx = TxEnv {
                tx_type,
                caller: Address::repeat_byte(1),
                gas_limit,
                kind: if create { TxKind::Create } else { TxKind::Call(Address::repeat_byte(2)) },
                value: U256::from(5),
                data: Bytes::from(data),
                access_list,
                authorization_list: (0..authorizations).map(|_| authorization()).collect(),
                ..TxEnv::default()
            };
            let mut checked = 0;
            for spec in specs() {
                let cfg = CfgEnv::new_with_spec(spec);
                // The fork's gas table without EIP-2780 and EIP-8037, so that this module's
                // sums meet the later forks' multipliers too (EIP-7976, EIP-7981).
                let mut without = cfg.clone();
                without.enable_amsterdam_eip2780 = false;
                without.enable_amsterdam_eip8037 = false;
                for cfg in [cfg, without] {
                    prop_assert_eq!(
                        initial_gas(&tx, &cfg),
                        revm_initial_gas(&tx, &cfg),
                        "{:?}, transaction type {}", spec, tx_type
                    );
                }
                checked += 1;
            }
            prop_assert!(checked >= 15, "only {} forks", checked);
        }
    }
}

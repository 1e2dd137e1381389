//! Every gas constant and rule, each with the EIP (or Yellow Paper appendix G) that set or
//! changed it.

use crate::Fork;
use alloy_primitives::U256;

/// G_zero: STOP, RETURN, REVERT.
pub const ZERO: u64 = 0;
/// G_jumpdest.
pub const JUMPDEST: u64 = 1;
/// G_base: ADDRESS, ORIGIN, CALLER, POP, PC, ...
pub const BASE: u64 = 2;
/// G_verylow: ADD, SUB, PUSH, DUP, SWAP, MLOAD, ...
pub const VERY_LOW: u64 = 3;
/// G_low: MUL, DIV, MOD, SIGNEXTEND, ...
pub const LOW: u64 = 5;
/// G_mid: ADDMOD, MULMOD, JUMP.
pub const MID: u64 = 8;
/// G_high: JUMPI.
pub const HIGH: u64 = 10;
/// G_exp.
pub const EXP: u64 = 10;
/// G_blockhash.
pub const BLOCKHASH: u64 = 20;
/// G_keccak256 and per word.
pub const KECCAK256: u64 = 30;
/// G_keccak256word.
pub const KECCAK256_WORD: u64 = 6;
/// G_copy: per word copied.
pub const COPY_WORD: u64 = 3;
/// G_log, per topic, per byte.
pub const LOG: u64 = 375;
/// G_logtopic.
pub const LOG_TOPIC: u64 = 375;
/// G_logdata.
pub const LOG_DATA: u64 = 8;
/// G_memory: linear memory cost per word.
pub const MEMORY_WORD: u64 = 3;
/// G_create.
pub const CREATE: u64 = 32_000;
/// G_codedeposit: per byte of created code.
pub const CODE_DEPOSIT_BYTE: u64 = 200;
/// G_callvalue: a call that transfers value.
pub const CALL_VALUE: u64 = 9_000;
/// G_callstipend: gas given free to the callee of a value transfer.
pub const CALL_STIPEND: u64 = 2_300;
/// G_newaccount: a call or SELFDESTRUCT that brings an account into existence.
pub const NEW_ACCOUNT: u64 = 25_000;
/// R_selfdestruct: refund for SELFDESTRUCT, removed by EIP-3529 (London).
pub const SELFDESTRUCT_REFUND: u64 = 24_000;
/// G_sset: SSTORE from zero to non-zero.
pub const SSTORE_SET: u64 = 20_000;
/// G_sreset: SSTORE of a non-zero slot (before EIP-2929).
pub const SSTORE_RESET: u64 = 5_000;
/// Warm storage read (EIP-2929).
pub const WARM_STORAGE_READ: u64 = 100;
/// Cold SLOAD (EIP-2929).
pub const COLD_SLOAD: u64 = 2_100;
/// Cold account access (EIP-2929).
pub const COLD_ACCOUNT_ACCESS: u64 = 2_600;
/// TLOAD and TSTORE (EIP-1153).
pub const TRANSIENT: u64 = 100;
/// BLOBHASH (EIP-4844).
pub const BLOBHASH: u64 = 3;

/// Transaction base cost G_transaction.
pub const TX_BASE: u64 = 21_000;
/// Contract creation transaction surcharge (EIP-2, Homestead).
pub const TX_CREATE: u64 = 32_000;
/// Per zero byte of transaction data.
pub const TX_DATA_ZERO: u64 = 4;
/// Per address of an access list (EIP-2930).
pub const ACCESS_LIST_ADDRESS: u64 = 2_400;
/// Per storage key of an access list (EIP-2930).
pub const ACCESS_LIST_STORAGE_KEY: u64 = 1_900;
/// Per word of init code (EIP-3860).
pub const INIT_CODE_WORD: u64 = 2;
/// Per authorization of a set-code transaction, the cost of a new account (EIP-7702).
pub const PER_EMPTY_ACCOUNT: u64 = 25_000;
/// The part of [`PER_EMPTY_ACCOUNT`] an authorization keeps when its authority already
/// exists; the difference is refunded (EIP-7702).
pub const PER_AUTH_BASE: u64 = 12_500;
/// Gas per calldata token of the EIP-7623 floor (Prague).
pub const FLOOR_CALLDATA_TOKEN: u64 = 10;
/// Calldata tokens per non-zero byte; a zero byte is one token (EIP-7623).
pub const TOKENS_PER_NON_ZERO_BYTE: u64 = 4;
/// The most gas a transaction may carry, 2^24 (EIP-7825, Osaka).
pub const TX_MAX_GAS_LIMIT: u64 = 1 << 24;

/// Maximum size of deployed code (EIP-170, Spurious Dragon).
pub const MAX_CODE_SIZE: usize = 0x6000;
/// Maximum size of init code (EIP-3860, Shanghai).
pub const MAX_INIT_CODE_SIZE: usize = 2 * MAX_CODE_SIZE;

/// Per non-zero byte of transaction data: 68, lowered to 16 by EIP-2028 (Istanbul).
pub fn tx_data_non_zero(fork: Fork) -> u64 {
    if fork >= Fork::Istanbul {
        16
    } else {
        68
    }
}

/// Per byte of EXP's exponent: 10, raised to 50 by EIP-160 (Spurious Dragon).
pub fn exp_byte(fork: Fork) -> u64 {
    if fork >= Fork::SpuriousDragon {
        50
    } else {
        10
    }
}

/// SLOAD before EIP-2929: 50, 200 from EIP-150, 800 from EIP-1884 (Istanbul).
pub fn sload(fork: Fork) -> u64 {
    if fork >= Fork::Istanbul {
        800
    } else if fork >= Fork::TangerineWhistle {
        200
    } else {
        50
    }
}

/// BALANCE before EIP-2929: 20, 400 from EIP-150, 700 from EIP-1884 (Istanbul).
pub fn balance(fork: Fork) -> u64 {
    if fork >= Fork::Istanbul {
        700
    } else if fork >= Fork::TangerineWhistle {
        400
    } else {
        20
    }
}

/// EXTCODESIZE and EXTCODECOPY before EIP-2929: 20, 700 from EIP-150.
pub fn extcode(fork: Fork) -> u64 {
    if fork >= Fork::TangerineWhistle {
        700
    } else {
        20
    }
}

/// EXTCODEHASH before EIP-2929: 400 (EIP-1052), 700 from EIP-1884 (Istanbul).
pub fn extcodehash(fork: Fork) -> u64 {
    if fork >= Fork::Istanbul {
        700
    } else {
        400
    }
}

/// The CALL family's base cost before EIP-2929: 40, 700 from EIP-150.
pub fn call(fork: Fork) -> u64 {
    if fork >= Fork::TangerineWhistle {
        700
    } else {
        40
    }
}

/// SELFDESTRUCT: free, 5000 from EIP-150.
pub fn selfdestruct(fork: Fork) -> u64 {
    if fork >= Fork::TangerineWhistle {
        5_000
    } else {
        0
    }
}

/// The cost of touching an account: the fork's flat cost before Berlin, and from EIP-2929 a
/// warm (100) or cold (2600) access.
pub fn account_access(fork: Fork, cold: bool, before_berlin: u64) -> u64 {
    if fork >= Fork::Berlin {
        if cold {
            COLD_ACCOUNT_ACCESS
        } else {
            WARM_STORAGE_READ
        }
    } else {
        before_berlin
    }
}

/// Words of `len` bytes, rounded up.
pub fn words(len: u64) -> u64 {
    len.div_ceil(32)
}

/// Cost of `words` words of memory (Yellow Paper: G_memory * a + a^2 / 512).
pub fn memory_cost(words: u64) -> u128 {
    let words = words as u128;
    MEMORY_WORD as u128 * words + words * words / 512
}

/// Cost per copied word (CALLDATACOPY, CODECOPY, RETURNDATACOPY, MCOPY, ...).
pub fn copy_cost(len: u64) -> u64 {
    COPY_WORD.saturating_mul(words(len))
}

/// Refund for clearing a slot: 15000, lowered to 4800 by EIP-3529 (London).
pub fn sstore_clears_refund(fork: Fork) -> i64 {
    if fork >= Fork::London {
        (SSTORE_RESET - COLD_SLOAD + ACCESS_LIST_STORAGE_KEY) as i64
    } else {
        15_000
    }
}

/// Whether SSTORE is net metered against the slot's value at the start of the transaction:
/// EIP-1283 in Constantinople (dropped again by Petersburg), and EIP-2200 from Istanbul.
pub fn sstore_net_metering(fork: Fork) -> bool {
    fork == Fork::Constantinople || fork >= Fork::Istanbul
}

/// The cost of SSTORE and its change of the refund counter.
///
/// Without net metering (before Constantinople, and in Petersburg) the Yellow Paper rule:
/// 20000 to set a zero slot, 5000 otherwise, a 15000 refund for clearing. In Constantinople
/// EIP-1283's net metering against the slot's value at the start of the transaction, with a
/// no-op or dirty store costing the SLOAD price of the time (200): a fresh set 20000, a fresh
/// reset 5000, refunds of 15000 for clearing and 19800 / 4800 for restoring a zero / non-zero
/// original. From Istanbul the same rule as EIP-2200, where that SLOAD price is 800 (EIP-1884);
/// from Berlin with EIP-2929's prices (a warm read is 100; a reset is 5000 minus the cold
/// SLOAD 2100) and cold surcharge; from London with EIP-3529's clearing refund.
pub fn sstore(fork: Fork, original: U256, current: U256, new: U256, cold: bool) -> (u64, i64) {
    if !sstore_net_metering(fork) {
        let cost = if current.is_zero() && !new.is_zero() {
            SSTORE_SET
        } else {
            SSTORE_RESET
        };
        let refund = if !current.is_zero() && new.is_zero() {
            sstore_clears_refund(fork)
        } else {
            0
        };
        return (cost, refund);
    }
    let (read, reset) = if fork >= Fork::Berlin {
        (WARM_STORAGE_READ, SSTORE_RESET - COLD_SLOAD)
    } else {
        (sload(fork), SSTORE_RESET)
    };
    let mut cost = if fork >= Fork::Berlin && cold {
        COLD_SLOAD
    } else {
        0
    };
    cost += if original == current && current != new {
        if original.is_zero() {
            SSTORE_SET
        } else {
            reset
        }
    } else {
        read
    };
    let clear = sstore_clears_refund(fork);
    let mut refund = 0i64;
    if current != new {
        if !original.is_zero() && !current.is_zero() && new.is_zero() {
            refund += clear;
        }
        if !original.is_zero() && current.is_zero() {
            refund -= clear;
        }
        if original == new {
            refund += if original.is_zero() {
                (SSTORE_SET - read) as i64
            } else {
                (reset - read) as i64
            };
        }
    }
    (cost, refund)
}

/// All but one 64th of `gas` (EIP-150): the most a call or creation may pass on.
pub fn all_but_one_64th(gas: u64) -> u64 {
    gas - gas / 64
}

/// The intrinsic gas of a transaction: base, data, creation (EIP-2), access list (EIP-2930),
/// init code words (EIP-3860) and authorizations (EIP-7702).
pub fn intrinsic(
    fork: Fork,
    data: &[u8],
    is_create: bool,
    access_list_addresses: u64,
    access_list_keys: u64,
    authorizations: u64,
) -> u64 {
    let zeros = data.iter().filter(|b| **b == 0).count() as u64;
    let non_zeros = data.len() as u64 - zeros;
    let mut gas = TX_BASE + zeros * TX_DATA_ZERO + non_zeros * tx_data_non_zero(fork);
    if is_create && fork >= Fork::Homestead {
        gas += TX_CREATE;
    }
    if is_create && fork >= Fork::Shanghai {
        gas += INIT_CODE_WORD * words(data.len() as u64);
    }
    gas + access_list_addresses * ACCESS_LIST_ADDRESS
        + access_list_keys * ACCESS_LIST_STORAGE_KEY
        + authorizations * PER_EMPTY_ACCOUNT
}

/// The EIP-7623 floor (Prague): whatever its execution costs, a transaction pays at least the
/// base cost plus 10 per calldata token, where a zero byte is one token and any other four.
/// `None` before Prague.
pub fn calldata_floor(fork: Fork, data: &[u8]) -> Option<u64> {
    if fork < Fork::Prague {
        return None;
    }
    let zeros = data.iter().filter(|b| **b == 0).count() as u64;
    let tokens = zeros + (data.len() as u64 - zeros) * TOKENS_PER_NON_ZERO_BYTE;
    Some(TX_BASE + tokens * FLOOR_CALLDATA_TOKEN)
}

/// The most of the refund counter a transaction gets back: half of the gas used, a fifth
/// from EIP-3529 (London).
pub fn max_refund(fork: Fork, gas_used: u64) -> u64 {
    if fork >= Fork::London {
        gas_used / 5
    } else {
        gas_used / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_cost_is_quadratic() {
        assert_eq!(memory_cost(1), 3);
        assert_eq!(memory_cost(32), 96 + 2);
        assert_eq!(memory_cost(1024), 3072 + 2048);
    }

    #[test]
    fn sstore_across_forks() {
        let (zero, one, two) = (U256::ZERO, U256::from(1), U256::from(2));
        assert_eq!(
            sstore(Fork::Petersburg, zero, zero, one, false),
            (20_000, 0)
        );
        assert_eq!(
            sstore(Fork::Petersburg, one, one, zero, false),
            (5_000, 15_000)
        );
        // Petersburg dropped EIP-1283: a dirty store is a full reset, restoring refunds nothing.
        assert_eq!(
            sstore(Fork::Petersburg, zero, one, zero, false),
            (5_000, 15_000)
        );
        assert_eq!(sstore(Fork::Petersburg, one, one, one, false), (5_000, 0));
        // EIP-2200: no-op store costs a read; restoring the original refunds.
        assert_eq!(sstore(Fork::Istanbul, one, one, one, false), (800, 0));
        assert_eq!(sstore(Fork::Istanbul, one, two, one, false), (800, 4_200));
        // EIP-2929 cold surcharge, EIP-3529 clearing refund.
        assert_eq!(
            sstore(Fork::Berlin, one, one, two, true),
            (2_100 + 2_900, 0)
        );
        assert_eq!(sstore(Fork::London, one, one, zero, false), (2_900, 4_800));
        assert_eq!(sstore(Fork::London, zero, zero, one, true), (22_100, 0));
        assert_eq!(sstore(Fork::London, zero, one, zero, false), (100, 19_900));
    }

    /// Rows of EIP-1283's test table, each SSTORE as (original, current, new) and its
    /// (gas, refund); the table's totals are these summed over a transaction's stores.
    #[test]
    fn sstore_eip1283_constantinople() {
        let (zero, one, two) = (U256::ZERO, U256::from(1), U256::from(2));
        let c =
            |original, current, new| sstore(Fork::Constantinople, original, current, new, false);
        // No-op: 200.
        assert_eq!(c(zero, zero, zero), (200, 0));
        assert_eq!(c(one, one, one), (200, 0));
        // Fresh: set 20000, reset 5000, clearing refunds 15000.
        assert_eq!(c(zero, zero, one), (20_000, 0));
        assert_eq!(c(one, one, two), (5_000, 0));
        assert_eq!(c(one, one, zero), (5_000, 15_000));
        // Dirty: 200; restoring a zero original refunds 19800, a non-zero one 4800.
        assert_eq!(c(zero, one, zero), (200, 19_800));
        assert_eq!(c(zero, one, two), (200, 0));
        assert_eq!(c(one, two, one), (200, 4_800));
        // Dirty clear of a non-zero original refunds 15000; un-clearing takes it back.
        assert_eq!(c(one, two, zero), (200, 15_000));
        assert_eq!(c(one, zero, two), (200, -15_000));
        assert_eq!(c(one, zero, one), (200, -15_000 + 4_800));
        // Table row 0x600160005560006000556001600055 (0 -> 1 -> 0 -> 1): 40218 gas, 19800 refund
        // (three stores plus six PUSHes of 3).
        let rows = [c(zero, zero, one), c(zero, one, zero), c(zero, zero, one)];
        let gas: u64 = rows.iter().map(|r| r.0).sum::<u64>() + 18;
        let refund: i64 = rows.iter().map(|r| r.1).sum();
        assert_eq!((gas, refund), (40_218, 19_800));
        // Byzantium before it and Petersburg after it keep the Yellow Paper rule.
        for fork in [Fork::Byzantium, Fork::Petersburg] {
            assert_eq!(sstore(fork, zero, one, zero, false), (5_000, 15_000));
            assert_eq!(sstore(fork, one, one, one, false), (5_000, 0));
            assert_eq!(sstore(fork, one, two, one, false), (5_000, 0));
        }
        assert!(sstore_net_metering(Fork::Constantinople));
        assert!(!sstore_net_metering(Fork::Petersburg));
        assert!(sstore_net_metering(Fork::Istanbul));
    }

    #[test]
    fn intrinsic_gas() {
        assert_eq!(
            intrinsic(Fork::Frontier, &[0, 1], true, 0, 0, 0),
            21_000 + 4 + 68
        );
        assert_eq!(
            intrinsic(Fork::Istanbul, &[0, 1], false, 0, 0, 0),
            21_000 + 4 + 16
        );
        assert_eq!(
            intrinsic(Fork::Shanghai, &[1; 33], true, 1, 2, 0),
            21_000 + 33 * 16 + 32_000 + 4 + 2_400 + 3_800
        );
        // EIP-7702: 25000 per authorization.
        assert_eq!(
            intrinsic(Fork::Prague, &[], false, 0, 0, 3),
            21_000 + 3 * 25_000
        );
    }

    #[test]
    fn calldata_floor_counts_tokens() {
        assert_eq!(calldata_floor(Fork::Cancun, &[1; 100]), None);
        assert_eq!(calldata_floor(Fork::Prague, &[]), Some(21_000));
        // Two zero bytes (2 tokens) and three non-zero ones (12 tokens): 14 * 10.
        assert_eq!(
            calldata_floor(Fork::Prague, &[0, 0, 1, 2, 3]),
            Some(21_000 + 140)
        );
        // Calldata-heavy transactions pay more under the floor than as intrinsic gas.
        let data = [0xffu8; 1000];
        let floor = calldata_floor(Fork::Prague, &data).unwrap_or_default();
        assert!(floor > intrinsic(Fork::Prague, &data, false, 0, 0, 0));
    }
}

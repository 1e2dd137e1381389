//! 0x03 RIPEMD-160, left-padded to 32 bytes; 600 gas plus 120 per word.

use super::{check_gas, words};
use crate::vm::Halt;
use crate::Fork;
use ripemd::{Digest, Ripemd160};

/// Runs RIPEMD-160.
pub fn run(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    let cost = 600 + 120 * words(input.len());
    check_gas(cost, gas)?;
    let mut out = vec![0u8; 12];
    out.extend_from_slice(&Ripemd160::digest(input));
    Ok((cost, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input() {
        let (cost, out) = run(Fork::Frontier, &[], 600).unwrap();
        assert_eq!(cost, 600);
        assert_eq!(
            alloy_primitives::hex::encode(out),
            "0000000000000000000000009c1185a5c5e9fc54612808977ee8f548b2258d31"
        );
    }
}

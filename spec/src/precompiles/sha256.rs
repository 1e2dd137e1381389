//! 0x02 SHA2-256; 60 gas plus 12 per word.

use super::{check_gas, words};
use crate::vm::Halt;
use crate::Fork;
use sha2::{Digest, Sha256};

/// Runs SHA2-256.
pub fn run(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    let cost = 60 + 12 * words(input.len());
    check_gas(cost, gas)?;
    Ok((cost, Sha256::digest(input).to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input() {
        let (cost, out) = run(Fork::Frontier, &[], 100).unwrap();
        assert_eq!(cost, 60);
        assert_eq!(
            alloy_primitives::hex::encode(out),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

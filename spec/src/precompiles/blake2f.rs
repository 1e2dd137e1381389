//! 0x09 BLAKE2F (EIP-152, Istanbul): the BLAKE2b compression function F with a given number
//! of rounds; 1 gas per round. Input: rounds (4, big-endian) | h (64) | m (128) | t (16) |
//! f (1), all words little-endian; exactly 213 bytes, with f 0 or 1.

use crate::vm::Halt;
use crate::Fork;

/// BLAKE2b initialization vector.
const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// BLAKE2b message schedule.
const SIGMA: [[usize; 16]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

/// The mixing function G (RFC 7693, section 3.1).
#[allow(clippy::too_many_arguments)]
fn mix(v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64) {
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
    v[d] = (v[d] ^ v[a]).rotate_right(32);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(24);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(63);
}

/// The compression function F (RFC 7693, section 3.2) with `rounds` rounds.
pub fn compress(rounds: u32, h: &mut [u64; 8], m: &[u64; 16], t: [u64; 2], last: bool) {
    let mut v = [0u64; 16];
    v[..8].copy_from_slice(h);
    v[8..].copy_from_slice(&IV);
    v[12] ^= t[0];
    v[13] ^= t[1];
    if last {
        v[14] = !v[14];
    }
    for round in 0..rounds as usize {
        let s = &SIGMA[round % 10];
        mix(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
        mix(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
        mix(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
        mix(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
        mix(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
        mix(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
        mix(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
        mix(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for i in 0..8 {
        h[i] ^= v[i] ^ v[i + 8];
    }
}

fn le_word(bytes: &[u8], index: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[index * 8..index * 8 + 8]);
    u64::from_le_bytes(word)
}

/// Runs BLAKE2F.
pub fn run(_: Fork, input: &[u8], gas: u64) -> Result<(u64, Vec<u8>), Halt> {
    if input.len() != 213 {
        return Err(Halt::PrecompileFailure);
    }
    let rounds = u32::from_be_bytes([input[0], input[1], input[2], input[3]]);
    let cost = rounds as u64;
    if cost > gas {
        return Err(Halt::OutOfGas);
    }
    let last = match input[212] {
        0 => false,
        1 => true,
        _ => return Err(Halt::PrecompileFailure),
    };
    let mut h = [0u64; 8];
    for (i, word) in h.iter_mut().enumerate() {
        *word = le_word(&input[4..68], i);
    }
    let mut m = [0u64; 16];
    for (i, word) in m.iter_mut().enumerate() {
        *word = le_word(&input[68..196], i);
    }
    let t = [le_word(&input[196..212], 0), le_word(&input[196..212], 1)];
    compress(rounds, &mut h, &m, t, last);
    Ok((cost, h.iter().flat_map(|w| w.to_le_bytes()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::hex;

    #[test]
    fn eip152_vector_5() {
        // Test vector 5 of EIP-152: 12 rounds of BLAKE2b("abc").
        let mut input = vec![0u8, 0, 0, 12];
        for (i, word) in IV.iter().enumerate() {
            let word = if i == 0 { word ^ 0x0101_0040 } else { *word };
            input.extend_from_slice(&word.to_le_bytes());
        }
        let mut m = [0u8; 128];
        m[..3].copy_from_slice(b"abc");
        input.extend_from_slice(&m);
        input.extend_from_slice(&3u64.to_le_bytes());
        input.extend_from_slice(&0u64.to_le_bytes());
        input.push(1);
        let (cost, out) = run(Fork::Istanbul, &input, 12).unwrap();
        assert_eq!(cost, 12);
        assert_eq!(hex::encode(out), "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
    }

    #[test]
    fn bad_final_flag_fails() {
        let mut input = vec![0u8; 213];
        input[212] = 2;
        assert_eq!(run(Fork::Istanbul, &input, 0), Err(Halt::PrecompileFailure));
    }
}

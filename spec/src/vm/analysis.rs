//! Jump destination analysis, cached per code for the block: a contract called many times is
//! analysed once.

use alloy_primitives::map::HashMap;
use alloy_primitives::Bytes;
use std::rc::Rc;

/// The positions of `code` that are valid JUMPDESTs (not inside PUSH data).
pub fn jumpdests(code: &[u8]) -> Vec<bool> {
    let mut valid = vec![false; code.len()];
    let mut pc = 0;
    while pc < code.len() {
        let op = code[pc];
        if op == 0x5b {
            valid[pc] = true;
        }
        pc += if (0x60..=0x7f).contains(&op) {
            (op - 0x5f) as usize + 1
        } else {
            1
        };
    }
    valid
}

/// A code buffer's address and length.
type CodeKey = (usize, usize);

/// Analyses by code buffer. An entry keeps its code alive, so the buffer's address cannot be
/// reused by other code while the entry exists: address and length identify the bytes.
#[derive(Debug, Default)]
pub struct JumpdestCache {
    entries: HashMap<CodeKey, (Bytes, Rc<[bool]>)>,
}

impl JumpdestCache {
    /// The analysis of `code`.
    pub fn get(&mut self, code: &Bytes) -> Rc<[bool]> {
        if code.is_empty() {
            return Rc::from(Vec::new());
        }
        let key = (code.as_ptr() as usize, code.len());
        self.entries
            .entry(key)
            .or_insert_with(|| (code.clone(), Rc::from(jumpdests(code))))
            .1
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_data_is_not_a_jumpdest() {
        // PUSH1 0x5b, JUMPDEST, PUSH2 0x5b5b
        let valid = jumpdests(&[0x60, 0x5b, 0x5b, 0x61, 0x5b, 0x5b]);
        assert_eq!(valid, vec![false, false, true, false, false, false]);
    }

    #[test]
    fn cache_returns_the_same_analysis_for_the_same_buffer() {
        let mut cache = JumpdestCache::default();
        let code = Bytes::from(vec![0x5b, 0x00]);
        let a = cache.get(&code);
        let b = cache.get(&code.clone());
        assert!(Rc::ptr_eq(&a, &b));
        let other = Bytes::from(vec![0x5b, 0x00]);
        assert_eq!(&*cache.get(&other), &[true, false]);
    }
}

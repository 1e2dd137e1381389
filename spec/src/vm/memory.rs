//! Byte-addressed memory that grows in 32-byte words.

use alloy_primitives::{Bytes, U256};

/// The memory of one frame.
#[derive(Debug, Default)]
pub struct Memory {
    bytes: Vec<u8>,
}

impl Memory {
    /// Current size in bytes (a multiple of 32).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing has been touched.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Grows to at least `size` bytes, rounded up to a word; the caller has paid for it.
    pub fn resize(&mut self, size: usize) {
        let size = size.div_ceil(32) * 32;
        if size > self.bytes.len() {
            self.bytes.resize(size, 0);
        }
    }

    /// Reads `len` bytes at `offset` (inside the paid size).
    pub fn read(&self, offset: usize, len: usize) -> &[u8] {
        if len == 0 {
            return &[];
        }
        &self.bytes[offset..offset + len]
    }

    /// Reads a word.
    pub fn read_word(&self, offset: usize) -> U256 {
        U256::from_be_slice(&self.bytes[offset..offset + 32])
    }

    /// Writes `data` at `offset` (inside the paid size).
    pub fn write(&mut self, offset: usize, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.bytes[offset..offset + data.len()].copy_from_slice(data);
    }

    /// Writes `len` bytes at `offset` taken from `source` at `source_offset`, padding with
    /// zeros past the end of `source` (CALLDATACOPY, CODECOPY, EXTCODECOPY).
    pub fn write_padded(&mut self, offset: usize, len: usize, source: &[u8], source_offset: U256) {
        if len == 0 {
            return;
        }
        let dest = &mut self.bytes[offset..offset + len];
        let start = usize::try_from(source_offset).unwrap_or(usize::MAX);
        let available = source.len().saturating_sub(start).min(len);
        if available > 0 {
            dest[..available].copy_from_slice(&source[start..start + available]);
        }
        dest[available..].fill(0);
    }

    /// The memory as shared bytes, without copying, so that a sub-call can read its call data
    /// from it in place.
    pub fn into_bytes(self) -> Bytes {
        Bytes::from(self.bytes)
    }

    /// Memory from bytes taken by [`Memory::into_bytes`]; copies only if they are still shared.
    pub fn from_bytes(bytes: Bytes) -> Self {
        Memory {
            bytes: Vec::from(bytes.0),
        }
    }

    /// Copies within memory (MCOPY); both ranges are inside the paid size.
    pub fn copy_within(&mut self, dest: usize, src: usize, len: usize) {
        if len == 0 {
            return;
        }
        self.bytes.copy_within(src..src + len, dest);
    }
}

/// `data[offset..offset + len]`, padded with zeros past the end of `data`.
pub fn padded_slice(data: &[u8], offset: U256, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let available = data.len().saturating_sub(start).min(len);
    if available > 0 {
        out[..available].copy_from_slice(&data[start..start + available]);
    }
    out
}

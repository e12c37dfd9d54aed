//! The batch (host → guest): [`BatchWriter`] builds one into storage the caller provides
//! (`Vec<u8>` and `Vec<u32>` in the hosts), [`BatchReader`] reads one as borrowed lines.

use crate::{WireError, read_u32};

/// Builds a batch (host side, and the SDK's native test runner). `D` holds the line
/// bytes, `E` the line end offsets; both only need to grow (`Vec<u8>`, `Vec<u32>`). `D`
/// is extended from slices, which a `Vec<u8>` copies whole (not byte by byte).
#[derive(Debug, Default, Clone)]
pub struct BatchWriter<D, E> {
    data: D,
    ends: E,
    line_open: bool,
}

impl<D, E> BatchWriter<D, E>
where
    D: for<'b> Extend<&'b u8> + AsRef<[u8]>,
    E: Extend<u32> + AsRef<[u32]>,
{
    /// A batch over (empty) storage.
    pub fn from_parts(data: D, ends: E) -> Self {
        BatchWriter { data, ends, line_open: false }
    }

    /// Empties the batch: `clear` empties both stores (keeping their buffers, e.g.
    /// `|d, e| { d.clear(); e.clear() }`).
    pub fn clear_with(&mut self, clear: impl FnOnce(&mut D, &mut E)) {
        clear(&mut self.data, &mut self.ends);
        self.line_open = false;
    }

    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.ends.as_ref().len()
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.ends.as_ref().is_empty()
    }

    /// Appends one whole line.
    pub fn push_line(&mut self, line: &[u8]) {
        self.data.extend(line);
        self.end_line();
    }

    /// Appends one field to the line being built (a tab goes between fields).
    pub fn push_field(&mut self, value: &[u8]) {
        if self.line_open {
            self.data.extend(b"\t");
        }
        self.line_open = true;
        self.data.extend(value);
    }

    /// Closes the line being built.
    pub fn end_line(&mut self) {
        self.line_open = false;
        let end = self.data.as_ref().len() as u32;
        self.ends.extend([end]);
    }

    /// Bytes the encoded batch takes.
    pub fn encoded_len(&self) -> usize {
        4 + 4 * self.len() + self.data.as_ref().len()
    }

    /// Writes the encoded batch into the start of `out`; returns the bytes written
    /// ([`encoded_len`](Self::encoded_len)).
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, WireError> {
        let (ends, data) = (self.ends.as_ref(), self.data.as_ref());
        let len = self.encoded_len();
        let out = out.get_mut(..len).ok_or(WireError::BufferTooSmall)?;
        out[..4].copy_from_slice(&(ends.len() as u32).to_le_bytes());
        for (slot, e) in out[4..].chunks_exact_mut(4).zip(ends) {
            slot.copy_from_slice(&e.to_le_bytes());
        }
        out[4 + 4 * ends.len()..].copy_from_slice(data);
        Ok(len)
    }

    /// Puts the encoded batch through `put` in pieces.
    pub fn encode_with(&self, put: &mut impl FnMut(&[u8])) {
        put(&(self.len() as u32).to_le_bytes());
        for e in self.ends.as_ref() {
            put(&e.to_le_bytes());
        }
        put(self.data.as_ref());
    }
}

/// A decoded batch (guest side): iterate its lines.
#[derive(Debug, Clone, Copy)]
pub struct BatchReader<'a> {
    ends: &'a [u8],
    data: &'a [u8],
}

impl<'a> BatchReader<'a> {
    /// Checks the header and every offset.
    pub fn new(bytes: &'a [u8]) -> Result<Self, WireError> {
        let count = read_u32(bytes, 0)? as usize;
        let table = count.checked_mul(4).and_then(|t| t.checked_add(4)).ok_or(WireError::Truncated)?;
        if bytes.len() < table {
            return Err(WireError::Truncated);
        }
        let (ends, data) = (&bytes[4..table], &bytes[table..]);
        let mut prev = 0u32;
        for c in ends.chunks_exact(4) {
            let e = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if e < prev || e as usize > data.len() {
                return Err(WireError::BadOffset);
            }
            prev = e;
        }
        Ok(BatchReader { ends, data })
    }

    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.ends.len() / 4
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The lines, in order.
    pub fn lines(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        let mut start = 0usize;
        self.ends.chunks_exact(4).map(move |c| {
            let end = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize;
            // Offsets were checked in `new`; `get` keeps a reader that outlived its
            // checks from panicking all the same.
            let line = data.get(start..end).unwrap_or(&[]);
            start = end;
            line
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    type VecBatch = BatchWriter<Vec<u8>, Vec<u32>>;

    #[test]
    fn batch_round_trip_and_hand_encoding() {
        let mut w = VecBatch::default();
        w.push_line(b"a\tb");
        w.push_field(b"x");
        w.push_field(b"-");
        w.end_line();
        w.push_line(b"");
        let mut bytes = vec![0u8; w.encoded_len()];
        assert_eq!(w.encode_into(&mut bytes), Ok(22));
        // count 3, ends 3, 6, 6, then "a\tbx\t-" (the format in the crate docs).
        let mut expected = vec![3, 0, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0];
        expected.extend_from_slice(b"a\tbx\t-");
        assert_eq!(bytes, expected);
        let mut streamed = Vec::new();
        w.encode_with(&mut |b| streamed.extend_from_slice(b));
        assert_eq!(streamed, expected);
        let r = BatchReader::new(&bytes).unwrap();
        assert_eq!(r.len(), 3);
        let lines: Vec<&[u8]> = r.lines().collect();
        assert_eq!(lines, [&b"a\tb"[..], b"x\t-", b""]);
        assert_eq!(w.encode_into(&mut [0u8; 21]), Err(WireError::BufferTooSmall));
        w.clear_with(|d, e| {
            d.clear();
            e.clear();
        });
        assert!(w.is_empty() && w.encoded_len() == 4);
    }

    #[test]
    fn batch_rejects_bad_offsets() {
        assert_eq!(BatchReader::new(&[1, 0, 0]).unwrap_err(), WireError::Truncated);
        assert_eq!(BatchReader::new(&[1, 0, 0, 0]).unwrap_err(), WireError::Truncated);
        assert_eq!(BatchReader::new(&[1, 0, 0, 0, 9, 0, 0, 0, b'a']).unwrap_err(), WireError::BadOffset);
        assert_eq!(BatchReader::new(&[2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, b'a']).unwrap_err(), WireError::BadOffset);
        assert_eq!(BatchReader::new(&[0xff, 0xff, 0xff, 0xff]).unwrap_err(), WireError::Truncated);
    }
}

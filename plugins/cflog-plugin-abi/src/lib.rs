//! `cflog-plugin-abi`: the cflog plugin ABI (version 1, `docs/plugin-abi.md`) in one place,
//! for the guest SDK (`cflog-plugin`), the wasmtime host (`cflog-plugin-host`) and the
//! browser host (`cflog-wasm`) alike, so the three cannot drift apart.
//!
//! It owns the wire format (batch in, result out: [`batch`], [`result`]), the ABI version
//! and the limits, the validation of a rule's answer (counts, flags, key syntax, UTF-8,
//! value sizes, finite labels, where the answer lies in the guest's memory), and the
//! failure policy every host applies to a rule ([`health`]: failures counted by kind,
//! the rule disabled after [`MAX_CONSECUTIVE_FAILURES`] in a row). With the `record`
//! feature it also owns the record → rule input projection ([`record`]), including the
//! standard-log date + time → `timestamp` conversion.
//!
//! `no_std` and allocator-free: readers return views borrowed from the caller's bytes,
//! writers put bytes through a caller-provided closure or into caller-provided storage.
//!
//! All integers are little-endian. A batch in (host → guest):
//!
//! ```text
//! u32 count
//! u32 end[count]        end offset of each record's line, relative to the first data byte
//! u8  data[..]          the lines, back to back, no separators
//! ```
//!
//! Each line is a real-time log line (tab-separated) holding exactly the fields of the
//! schema given at init, in that order; a field the source log lacks is `-`.
//!
//! The result out (guest → host), one entry per input record, in order:
//!
//! ```text
//! u32 count             must equal the batch count
//! per record:
//!   u8 flags            bit 0: drop the record; other bits must be 0
//!   u8 tag_count
//!   u8 label_count
//!   tag_count   × { u8 key_len, key, u16 value_len, value }
//!   label_count × { u8 key_len, key, f64 value }
//! ```
//!
//! Keys are 1..=64 bytes of `[A-Za-z0-9_.:-]`; values are UTF-8, at most 1,024 bytes;
//! label values are finite.
#![no_std]
#![warn(missing_docs)]

pub mod batch;
pub mod health;
#[cfg(feature = "record")]
pub mod record;
pub mod result;

pub use batch::{BatchReader, BatchWriter};
pub use health::{FailureKind, Health};
pub use result::{RECENT, RecordView, ResultReader, Visit, decode_result};

/// The ABI version this crate speaks; a guest exports it from `cflog_abi_version`.
pub const ABI_VERSION: i32 = 1;
/// Longest tag or label key.
pub const MAX_KEY_LEN: usize = 64;
/// Longest tag value.
pub const MAX_VALUE_LEN: usize = 1024;
/// Most tags (and, separately, labels) one record may carry.
pub const MAX_PER_RECORD: usize = 255;
/// Flag bit: the rule asks for the record to be dropped.
pub const FLAG_DROP: u8 = 1;
/// Failures in a row after which a host disables a rule for the rest of the run.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 3;
/// Largest result a rule may return for one batch, in bytes.
pub const MAX_OUTPUT_BYTES: usize = 16 << 20;
/// Largest linear memory a rule instance may have, in bytes.
pub const MAX_MEMORY_BYTES: usize = 64 << 20;
/// The exports every rule has (`cflog_last_error` is optional).
pub const REQUIRED_EXPORTS: [&str; 6] = ["memory", "cflog_abi_version", "cflog_fields", "cflog_alloc", "cflog_init", "cflog_enrich"];
/// The value `cflog_enrich` returns when it reports an error.
pub const ENRICH_ERROR: i64 = -1;

/// Which bytes a key may hold: `[A-Za-z0-9_.:-]` (one table lookup per byte on the
/// hosts' validation path).
const KEY_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-');
        i += 1;
    }
    t
};

/// Whether `key` is a valid tag or label key.
pub fn valid_key(key: &[u8]) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.iter().all(|b| KEY_BYTE[*b as usize])
}

/// Splits a packed `(ptr << 32) | len` answer (`cflog_fields`, `cflog_enrich`,
/// `cflog_last_error`).
pub fn unpack(v: i64) -> (usize, usize) {
    let v = v as u64;
    ((v >> 32) as usize, (v & 0xffff_ffff) as usize)
}

/// Packs a pointer and a length the way a guest returns them.
pub fn pack(ptr: u32, len: u32) -> i64 {
    ((u64::from(ptr) << 32) | u64::from(len)) as i64
}

/// Where the bytes a guest pointed at lie in its `memory_len`-byte memory, if they all do.
pub fn region(ptr: usize, len: usize, memory_len: usize) -> Option<core::ops::Range<usize>> {
    let end = ptr.checked_add(len)?;
    (end <= memory_len).then_some(ptr..end)
}

/// Checks `cflog_abi_version`'s answer.
pub fn check_version(version: i32) -> Result<(), CallError> {
    if version == ABI_VERSION { Ok(()) } else { Err(CallError::new(FailureKind::AbiVersion, "module speaks another ABI version")) }
}

/// Checks a `cflog_enrich` answer before any byte is read: not the error value, inside the
/// guest's memory, at most `max_output` bytes. Returns where the result lies.
pub fn check_enrich_answer(packed: i64, memory_len: usize, max_output: usize) -> Result<core::ops::Range<usize>, CallError> {
    if packed == ENRICH_ERROR {
        return Err(CallError::new(FailureKind::GuestError, "cflog_enrich reported an error"));
    }
    let (ptr, len) = unpack(packed);
    if len > max_output {
        return Err(CallError::new(FailureKind::BadOutput, "the result exceeds the output limit"));
    }
    region(ptr, len, memory_len).ok_or(CallError::new(FailureKind::BadOutput, "the result lies outside the rule's memory"))
}

/// A failed step of a call, with a static description (hosts add details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallError {
    /// How the failure is counted.
    pub kind: FailureKind,
    /// What went wrong.
    pub what: &'static str,
}

impl CallError {
    /// A failure of `kind`.
    pub const fn new(kind: FailureKind, what: &'static str) -> CallError {
        CallError { kind, what }
    }
}

impl core::fmt::Display for CallError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.kind, self.what)
    }
}

impl core::error::Error for CallError {}

/// Why a batch or a result could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The buffer ends before the structure does.
    Truncated,
    /// A line end lies before the previous one or past the data.
    BadOffset,
    /// The result holds another number of records than the batch.
    CountMismatch {
        /// Records sent.
        expected: u32,
        /// Records returned.
        found: u32,
    },
    /// Reserved flag bits are set.
    BadFlags,
    /// A key is empty, too long or has a byte outside `[A-Za-z0-9_.:-]`.
    BadKey,
    /// A value is not UTF-8 or is too long.
    BadValue,
    /// A label is NaN or infinite.
    BadLabel,
    /// Bytes follow the last record.
    TrailingBytes,
    /// The caller's buffer is too small for the encoding.
    BufferTooSmall,
}

impl core::fmt::Display for WireError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WireError::Truncated => f.write_str("truncated"),
            WireError::BadOffset => f.write_str("line offsets out of order or out of bounds"),
            WireError::CountMismatch { expected, found } => {
                write!(f, "{found} results for {expected} records")
            }
            WireError::BadFlags => f.write_str("reserved flag bits set"),
            WireError::BadKey => f.write_str("invalid key"),
            WireError::BadValue => f.write_str("value not UTF-8 or too long"),
            WireError::BadLabel => f.write_str("label not finite"),
            WireError::TrailingBytes => f.write_str("bytes after the last record"),
            WireError::BufferTooSmall => f.write_str("buffer too small"),
        }
    }
}

impl core::error::Error for WireError {}

pub(crate) fn read_u32(b: &[u8], at: usize) -> Result<u32, WireError> {
    let s = b.get(at..at.checked_add(4).ok_or(WireError::Truncated)?).ok_or(WireError::Truncated)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_documented_syntax() {
        assert!(valid_key(b"bot") && valid_key(b"a.b:c-d_9") && valid_key(&[b'k'; 64]));
        assert!(!valid_key(b"") && !valid_key(&[b'k'; 65]) && !valid_key(b"a b") && !valid_key("é".as_bytes()));
        // Every byte against the set the crate docs list.
        let allowed = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";
        for b in 0..=255u8 {
            assert_eq!(valid_key(&[b]), allowed.contains(&b), "byte {b}");
        }
    }

    #[test]
    fn enrich_answers_are_checked_before_reading() {
        assert_eq!(check_enrich_answer(pack(16, 8), 100, 1000), Ok(16..24));
        assert_eq!(check_enrich_answer(-1, 100, 1000).unwrap_err().kind, FailureKind::GuestError);
        assert_eq!(check_enrich_answer(pack(96, 8), 100, 1000).unwrap_err().kind, FailureKind::BadOutput);
        assert_eq!(check_enrich_answer(pack(0, 2000), 1 << 20, 1000).unwrap_err().kind, FailureKind::BadOutput);
        // (u32::MAX, u32::MAX) packs to -1, the error value: a guest cannot return it as a range.
        assert_eq!(pack(u32::MAX, u32::MAX), ENRICH_ERROR);
        assert_eq!(check_enrich_answer(pack(u32::MAX, 5), usize::MAX, usize::MAX).map(|r| r.len()), Ok(5));
        assert_eq!(unpack(pack(7, 9)), (7, 9));
        assert!(check_version(1).is_ok());
        assert_eq!(check_version(2).unwrap_err().kind, FailureKind::AbiVersion);
    }
}

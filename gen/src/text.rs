//! Writing values as CloudFront logs them: its percent-encoding, integers and
//! three-decimal seconds formatted by hand (no platform formatting), `-` for absent
//! values, random hex and alphanumeric strings, and `x-edge-request-id`s.

use crate::rng::Rng;

/// CloudFront's log encoding: bytes 0–32, 127 and above, and `<>"#%{}|\^~[]`, backtick
/// and `'` become `%XX`. A viewer's own `%XX` escapes therefore come out as `%25XX`.
pub(crate) fn cf_encode(raw: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(raw.len() + 16);
    for &b in raw.as_bytes() {
        let escape = b <= 32 || b >= 127 || b"<>\"#%{}|\\^~[]`'".contains(&b);
        if escape {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        } else {
            out.push(b as char);
        }
    }
    out
}

#[inline]
pub(crate) fn push_u64(buf: &mut Vec<u8>, n: u64) {
    cflog_core::json::write_u64(buf, n);
}

#[inline]
pub(crate) fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// `n` zero-padded to `width` digits (n must fit).
#[inline]
pub(crate) fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut n = n;
    for i in (20 - width..20).rev() {
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    buf.extend_from_slice(&tmp[20 - width..]);
}

/// Milliseconds as decimal seconds with exactly three decimals (`0.140`).
#[inline]
pub(crate) fn push_secs3(buf: &mut Vec<u8>, ms: u64) {
    push_u64(buf, ms / 1000);
    buf.push(b'.');
    push_padded(buf, ms % 1000, 3);
}

#[inline]
pub(crate) fn push_opt_secs3(buf: &mut Vec<u8>, ms: Option<u64>) {
    match ms {
        Some(ms) => push_secs3(buf, ms),
        None => buf.push(b'-'),
    }
}

#[inline]
pub(crate) fn push_opt_u64(buf: &mut Vec<u8>, n: Option<u64>) {
    match n {
        Some(n) => push_u64(buf, n),
        None => buf.push(b'-'),
    }
}

#[inline]
pub(crate) fn push_or_dash(buf: &mut Vec<u8>, s: &[u8]) {
    if s.is_empty() { buf.push(b'-') } else { buf.extend_from_slice(s) }
}


pub(crate) fn hex_string(rng: &mut Rng, len: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..len).map(|_| HEX[rng.below(16) as usize] as char).collect()
}

pub(crate) fn alnum_string(rng: &mut Rng, len: usize, alphabet: &[u8]) -> String {
    (0..len).map(|_| alphabet[rng.below(alphabet.len() as u64) as usize] as char).collect()
}

pub(crate) const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 40 random bytes as URL-safe base64: 54 characters and `==` (an `x-edge-request-id`).
pub(crate) fn request_id(rng: &mut Rng, out: &mut [u8; 56]) {
    let mut bytes = [0u8; 40];
    for chunk in bytes.chunks_exact_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    let mut o = 0;
    for g in bytes[..39].chunks_exact(3) {
        let n = (u32::from(g[0]) << 16) | (u32::from(g[1]) << 8) | u32::from(g[2]);
        for shift in [18, 12, 6, 0] {
            out[o] = B64URL[((n >> shift) & 63) as usize];
            o += 1;
        }
    }
    let last = bytes[39];
    out[52] = B64URL[usize::from(last >> 2)];
    out[53] = B64URL[usize::from((last & 3) << 4)];
    out[54] = b'=';
    out[55] = b'=';
}

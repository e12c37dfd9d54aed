//! Percent-decoding, done lazily and once.
//!
//! CloudFront percent-encodes values (space as `%20`, `%` as `%25`, newline as `%0A`). It
//! never form-encodes, so a literal `+` stays `+` (`+http://www.bing.com/bingbot.htm`).
//! Logs written before 2020 encoded twice (`%2520` for a space); decoding twice is decided
//! per file ([`crate::layout::sniff_double_encoding`]) or forced, never the default, because
//! a second pass corrupts modern values that hold a literal `%25xx`.

use alloc::borrow::Cow;
use alloc::vec::Vec;

/// Decodes `%XX` escapes once. Malformed escapes (`%zz`, a `%` near the end) are kept as
/// they are. Borrows when there is nothing to decode.
///
/// ```
/// use cflog_core::decode::percent_decode;
/// assert_eq!(&*percent_decode(b"Mozilla/5.0%20(X11)"), b"Mozilla/5.0 (X11)");
/// assert_eq!(&*percent_decode(b"+http://bing.com"), b"+http://bing.com");
/// ```
pub fn percent_decode(input: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr::memchr(b'%', input) else {
        return Cow::Borrowed(input);
    };
    let mut out = input.to_vec();
    decode_from(&mut out, first);
    Cow::Owned(out)
}

/// Percent-decodes `buf[from..]` in place, once, exactly as [`percent_decode`] does (the
/// decoded text is never longer, so it is written over the encoded text and `buf` is
/// truncated): no allocation. Returns whether `buf[from..]` held a `%`.
///
/// ```
/// use cflog_core::decode::percent_decode_in_place;
/// let mut v = b"ua=Mozilla/5.0%20(X11)%zz".to_vec();
/// assert!(percent_decode_in_place(&mut v, 3));
/// assert_eq!(v, b"ua=Mozilla/5.0 (X11)%zz");
/// ```
pub fn percent_decode_in_place(buf: &mut Vec<u8>, from: usize) -> bool {
    let Some(first) = memchr::memchr(b'%', &buf[from..]) else {
        return false;
    };
    decode_from(buf, from + first);
    true
}

/// Decodes `buf[first..]` in place, `first` being the position of its first `%`: the one
/// decoding loop. Reads run at `i`, writes at `w <= i`, and every byte of an escape is read
/// before anything is written over it. The runs between `%`s are found with `memchr` and
/// moved whole (byte at a time, this loop was 8 % of the Lambda handler; issue 13).
fn decode_from(buf: &mut Vec<u8>, first: usize) {
    let (mut i, mut w) = (first, first);
    let len = buf.len();
    // Here `buf[i]` is a `%`.
    while i < len {
        let mut b = b'%';
        let mut next = i + 1;
        if let Some(&[h, l]) = buf.get(i + 1..i + 3)
            && let (Some(h), Some(l)) = (hex(h), hex(l))
        {
            b = h << 4 | l;
            next = i + 3;
        }
        buf[w] = b;
        w += 1;
        let run_end = memchr::memchr(b'%', &buf[next..]).map_or(len, |p| next + p);
        buf.copy_within(next..run_end, w);
        w += run_end - next;
        i = run_end;
    }
    buf.truncate(w);
}

/// Appends `input` decoded once, or twice when `double` is set, to `out`: [`decode`]
/// without allocating.
pub fn decode_into(input: &[u8], double: bool, out: &mut Vec<u8>) {
    let from = out.len();
    out.extend_from_slice(input);
    if percent_decode_in_place(out, from) && double {
        percent_decode_in_place(out, from);
    }
}

/// Decodes once, or twice when `double` is set (for pre-2020 standard logs).
pub fn decode(input: &[u8], double: bool) -> Cow<'_, [u8]> {
    match percent_decode(input) {
        Cow::Owned(once) if double => Cow::Owned(percent_decode(&once).into_owned()),
        other => other,
    }
}

/// A value encoded exactly once: `input` itself, or when it is `double` encoded, `input`
/// decoded once. Decoding the result once equals `decode(input, double)`.
///
/// ```
/// use cflog_core::decode::encoded_once;
/// assert_eq!(&*encoded_once(b"a%2520b", true), b"a%20b");
/// assert_eq!(&*encoded_once(b"a%2520b", false), b"a%2520b");
/// ```
pub fn encoded_once(input: &[u8], double: bool) -> Cow<'_, [u8]> {
    if double { percent_decode(input) } else { Cow::Borrowed(input) }
}

/// `decode`, then UTF-8 with invalid sequences replaced by U+FFFD.
pub fn decode_str(input: &[u8], double: bool) -> Cow<'_, str> {
    match decode(input, double) {
        Cow::Borrowed(b) => alloc::string::String::from_utf8_lossy(b),
        Cow::Owned(v) => Cow::Owned(match alloc::string::String::from_utf8(v) {
            Ok(s) => s,
            Err(e) => alloc::string::String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }),
    }
}

/// The value of each hexadecimal digit, [`NOT_HEX`] for any other byte: [`hex`] as one
/// load, for the JSON writer's decoding loop.
pub(crate) const HEX_VALUE: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut b = 0;
    while b < 256 {
        if let Some(v) = hex(b as u8) {
            t[b] = v;
        }
        b += 1;
    }
    t
};

/// [`HEX_VALUE`] of a byte that is not a hexadecimal digit (any value of 16 or more would
/// do: two digits are valid when the `|` of their values is below 16).
pub(crate) const NOT_HEX: u8 = 0xF0;

/// The value of one hex digit.
#[inline]
pub(crate) const fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table is `hex` of every byte, and no two table values of which one is not a
    /// digit `|` to below 16.
    #[test]
    fn hex_table_is_hex() {
        for b in 0..=255u8 {
            assert_eq!(HEX_VALUE[usize::from(b)], hex(b).unwrap_or(NOT_HEX), "{b:#x}");
            for c in 0..=255u8 {
                let both = HEX_VALUE[usize::from(b)] | HEX_VALUE[usize::from(c)];
                assert_eq!(both < 16, hex(b).is_some() && hex(c).is_some());
            }
        }
    }

    /// The decoder as it was written before decoding moved in place: a copy built byte by
    /// byte from the input, a `%` and two hex digits giving one byte.
    fn copying_decode(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < input.len() {
            let escape = input.get(i + 1..i + 3).filter(|_| input[i] == b'%');
            match escape.map(|e| (hex(e[0]), hex(e[1]))) {
                Some((Some(h), Some(l))) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(input[i]);
                    i += 1;
                }
            }
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Decoding in place (behind any prefix) and the allocating decoders give what the
        /// copying decoder gives, once and twice; the inputs are dense in `%`, hex digits and
        /// near-escapes.
        #[test]
        fn in_place_equals_copying_decode(
            prefix in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4),
            s in proptest::collection::vec(proptest::prop_oneof![
                4 => proptest::prelude::Just(b'%'), 3 => proptest::sample::select(b"0123456789abcdefABCDEF".to_vec()),
                1 => proptest::sample::select(b"25gGzZ".to_vec()), 2 => proptest::prelude::any::<u8>()], 0..40),
            double in proptest::prelude::any::<bool>(),
        ) {
            let once = copying_decode(&s);
            let want = if double { copying_decode(&once) } else { once.clone() };
            let mut v = prefix.clone();
            decode_into(&s, double, &mut v);
            proptest::prop_assert_eq!(&v[..prefix.len()], &prefix[..]);
            proptest::prop_assert_eq!(&v[prefix.len()..], &want[..]);
            proptest::prop_assert_eq!(&*decode(&s, double), &want[..]);
            proptest::prop_assert_eq!(&*percent_decode(&s), &once[..]);
            let mut in_place = prefix.clone();
            in_place.extend_from_slice(&s);
            let had = percent_decode_in_place(&mut in_place, prefix.len());
            proptest::prop_assert_eq!(had, s.contains(&b'%'));
            proptest::prop_assert_eq!(&in_place[prefix.len()..], &once[..]);
        }
    }

    #[test]
    fn once_and_twice() {
        assert!(matches!(percent_decode(b"plain"), Cow::Borrowed(_)));
        assert_eq!(&*percent_decode(b"a%20b"), b"a b");
        assert_eq!(&*percent_decode(b"a%2520b"), b"a%20b");
        assert_eq!(&*decode(b"a%2520b", true), b"a b");
        assert_eq!(&*percent_decode(b"url=http%253A%252F%252Fx"), b"url=http%3A%2F%2Fx");
        assert_eq!(&*percent_decode(b"100%"), b"100%");
        assert_eq!(&*percent_decode(b"%4"), b"%4");
        assert_eq!(&*percent_decode(b"%zz%41"), b"%zzA");
        assert_eq!(&*percent_decode(b"%E6%97%A5"), "日".as_bytes());
        assert_eq!(decode_str(b"%FF", false), "\u{FFFD}");
    }
}

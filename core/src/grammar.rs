//! nom grammars for the typed values: numbers, timestamps, addresses, header lines.
//!
//! Every parser here runs on one complete field (never streaming input) and must consume
//! all of it; anything left over is an error.

use alloc::vec::Vec;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::character::complete::{char, digit1, space0};
use nom::combinator::{all_consuming, map_res, opt, rest};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

mod ip;
pub use ip::parse_ip;

fn whole<'a, O>(input: &'a [u8], p: impl Parser<&'a [u8], Output = O, Error = nom::error::Error<&'a [u8]>>) -> Option<O> {
    all_consuming(p).parse(input).ok().map(|(_, o)| o)
}

/// Folds ASCII digits into a u64, or `None` on overflow. Input must be digits only.
#[inline]
fn fold_digits(digits: &[u8]) -> Option<u64> {
    let mut n: u64 = 0;
    for &d in digits {
        n = times(n, 10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(n)
}

/// `n * k`, `None` on overflow: `n.checked_mul(k)` for a constant `k`, written as a compare
/// with `u64::MAX / k` (folded at compile time) so that wasm32, which has no 64×64→128
/// multiply, does not call `__multi3` for the overflow flag; on x86-64 a compare and a
/// multiply, as before.
#[inline(always)]
fn times(n: u64, k: u64) -> Option<u64> {
    (n <= u64::MAX / k).then(|| n * k)
}

/// The first `scale` digits of a fraction as an integer, right-padded with zeros
/// (`"5"` at scale 3 is 500); later digits are truncated.
#[inline]
fn fraction(digits: &[u8], scale: usize) -> u64 {
    let mut n = 0;
    for i in 0..scale {
        n = n * 10 + digits.get(i).map_or(0, |d| u64::from(d - b'0'));
    }
    n
}

fn uint(input: &[u8]) -> IResult<&[u8], u64> {
    map_res(digit1, |d: &[u8]| fold_digits(d).ok_or(())).parse(input)
}

/// `digits[.digits]` as (whole, fraction digits).
fn decimal(input: &[u8]) -> IResult<&[u8], (u64, &[u8])> {
    (uint, opt(preceded(char('.'), digit1))).map(|(w, f)| (w, f.unwrap_or(&[]))).parse(input)
}

// Fast paths. The nom parsers below define the grammars; the hottest fields (numbers,
// seconds, timestamps, dotted quads) first try a hand-written loop that accepts exactly the
// same language, which a proptest checks against the nom parser (`fast_paths_agree_with_nom`).
// Whatever the loop declines goes to nom, so errors come from one place.

/// Powers of ten up to the largest scale read (microseconds).
const POW10: [u64; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/// `digits` or `digits.digits` with 1–19 whole digits, as (whole, [`fraction`] at `scale`),
/// by hand in one pass (a position search, two digit checks and a fold cost ~4× more on
/// every timestamp and latency, issue 13). 19 digits always fit a `u64`; anything else is
/// `None` and goes to the grammar.
#[inline]
fn fast_decimal(input: &[u8], scale: usize) -> Option<(u64, u64)> {
    let (mut whole, mut i) = (0u64, 0usize);
    while let Some(&b) = input.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if i == 19 {
            return None;
        }
        whole = whole * 10 + u64::from(d);
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let Some(rest) = input.get(i..).filter(|r| !r.is_empty()) else {
        return Some((whole, 0));
    };
    let (b'.', frac) = (rest[0], &rest[1..]) else {
        return None;
    };
    if frac.is_empty() {
        return None;
    }
    // The first `scale` digits count (right-padded with zeros); later ones are checked only.
    let (kept, rest) = frac.split_at(frac.len().min(scale));
    let mut n = 0u64;
    for &b in kept {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    if !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((whole, n * POW10[scale - kept.len()]))
}

/// An unsigned integer.
#[inline]
pub fn parse_u64(input: &[u8]) -> Option<u64> {
    // 1–19 digits always fit: checked and folded in one pass, no overflow checks.
    if (1..=19).contains(&input.len()) {
        let mut n = 0u64;
        for &b in input {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return parse_u64_nom(input);
            }
            n = n * 10 + u64::from(d);
        }
        return Some(n);
    }
    parse_u64_nom(input)
}

/// [`parse_u64`] of the last `len` bytes of `upto` (a field and the bytes of its line
/// before it). A number of 1–8 digits with at least eight bytes up to its end is read
/// from the word that ends with it (the bytes before it read as `0`s) and folded at once:
/// no loop whose length is the number's, which mispredicted on every change of length
/// (`sc-bytes` has 3–7 digits in no order; issue 13). Anything else is `parse_u64`'s.
#[inline]
pub(crate) fn parse_u64_ending(upto: &[u8], len: usize) -> Option<u64> {
    if let Some(&word) = upto.last_chunk::<8>()
        && (1..=8).contains(&len)
    {
        // The field's bytes are the word's last `len`; the ones before become `0`s.
        let before = !(!0u64 << (8 * (8 - len)));
        let x = u64::from_le_bytes(word) & !before | 0x3030_3030_3030_3030 & before;
        if all_digits(x) {
            return Some(fold_eight(x));
        }
    }
    parse_u64(upto.get(upto.len().checked_sub(len)?..)?)
}

#[cold]
fn parse_u64_nom(input: &[u8]) -> Option<u64> {
    whole(input, uint)
}

/// A three-digit status code (`000` included).
#[inline]
pub fn parse_status(input: &[u8]) -> Option<u16> {
    if input.len() != 3 {
        return None;
    }
    if input.iter().all(u8::is_ascii_digit) {
        return Some(u16::from(input[0] - b'0') * 100 + u16::from(input[1] - b'0') * 10 + u16::from(input[2] - b'0'));
    }
    parse_status_nom(input)
}

#[cold]
fn parse_status_nom(input: &[u8]) -> Option<u16> {
    whole(input, map_res(take_while_m_n(3, 3, |b: u8| b.is_ascii_digit()), |d: &[u8]| {
        fold_digits(d).map(|n| n as u16).ok_or(())
    }))
}

/// Decimal seconds (`0.140`) as microseconds; digits past the sixth decimal are truncated.
#[inline]
pub fn parse_seconds_us(input: &[u8]) -> Option<u64> {
    // The usual shape, `d.ddd` (`0.140`): a fifth of a record's getter work went to the
    // general reader for it.
    if let [w, b'.', a, b, c] = *input {
        let d = [w, a, b, c].map(|x| x.wrapping_sub(b'0'));
        if d.iter().all(|&x| x <= 9) {
            return Some(u64::from(d[0]) * 1_000_000 + u64::from(d[1]) * 100_000 + u64::from(d[2]) * 10_000 + u64::from(d[3]) * 1_000);
        }
    }
    seconds_us_general(input)
}

fn seconds_us_general(input: &[u8]) -> Option<u64> {
    let (whole_s, frac) = fast_decimal(input, 6).or_else(|| whole(input, decimal).map(|(w, f)| (w, fraction(f, 6))))?;
    times(whole_s, 1_000_000)?.checked_add(frac)
}

/// Epoch seconds with an optional fraction (`1607374321.541`, `1738535441`) as epoch
/// milliseconds.
#[inline]
pub fn parse_epoch_seconds_ms(input: &[u8]) -> Option<i64> {
    if let Some(ms) = epoch_10_3(input) {
        return Some(ms);
    }
    epoch_seconds_ms_general(input)
}

fn epoch_seconds_ms_general(input: &[u8]) -> Option<i64> {
    let (s, frac) = fast_decimal(input, 3).or_else(|| whole(input, decimal).map(|(w, f)| (w, fraction(f, 3))))?;
    let ms = times(s, 1000)?.checked_add(frac)?;
    i64::try_from(ms).ok()
}

/// The shape every real-time timestamp has until 2286, `dddddddddd.ddd`, as milliseconds:
/// eight digits folded at once (SWAR on a little-endian load), then the other five in a
/// second word ([`swar_pairs`]). `None` for any other shape, which [`fast_decimal`] then
/// reads (giving the same value for this one).
#[inline]
fn epoch_10_3(input: &[u8]) -> Option<i64> {
    let (Some(head), Some(tail)) = (input.first_chunk::<8>(), input.get(8..)) else { return None };
    let [d8, d9, b'.', f0, f1, f2] = *tail else { return None };
    let x = u64::from_le_bytes(*head);
    if !all_digits(x) {
        return None;
    }
    // The other five digits in a second word (zeros as filler): pairs d8d9, f0f1, 0f2.
    let (pairs, f2) = swar_pairs(u64::from_le_bytes([d8, d9, f0, f1, b'0', f2, b'0', b'0']))?;
    let seconds = fold_eight(x) * 100 + u64::from(pairs & 0xff);
    let ms = u64::from(pairs >> 16) * 10 + u64::from(f2 & 0xff);
    Some((seconds * 1000 + ms) as i64)
}

/// Epoch milliseconds.
pub fn parse_epoch_ms(input: &[u8]) -> Option<i64> {
    parse_u64(input).and_then(|n| i64::try_from(n).ok())
}

/// A decimal number, possibly signed (lenient: used for CMCD values).
pub fn parse_decimal(input: &[u8]) -> Option<f64> {
    let (neg, body) = match input.first() {
        Some(b'-') if input.len() > 1 => (true, &input[1..]),
        _ => (false, input),
    };
    let (w, frac) = whole(body, decimal)?;
    let mut v = w as f64;
    let mut scale = 0.1;
    for d in frac {
        v += f64::from(d - b'0') * scale;
        scale /= 10.0;
    }
    Some(if neg { -v } else { v })
}

fn two_digits(input: &[u8]) -> IResult<&[u8], u32> {
    map_res(take_while_m_n(2, 2, |b: u8| b.is_ascii_digit()), |d: &[u8]| {
        fold_digits(d).map(|n| n as u32).ok_or(())
    })
    .parse(input)
}

/// `YYYY-MM-DD` as days since 1970-01-01.
#[inline]
pub fn parse_date_days(input: &[u8]) -> Option<i64> {
    // Standard logs write exactly this shape on every line: read it by hand (the nom
    // grammar below costs ~15× more, issue 13) and let the grammar judge anything else.
    if let Some(&[a, b, c, d, b'-', e, f, b'-', g, h]) = input.first_chunk::<10>()
        && input.len() == 10
    {
        // The eight digits in one word: every one checked and the pairs folded at once.
        let (lo, hi) = swar_pairs(u64::from_le_bytes([a, b, c, d, e, f, g, h]))?;
        return civil_days_0_9999((lo & 0xff) * 100 + (lo >> 16), hi & 0xff, hi >> 16);
    }
    parse_date_days_nom(input)
}

/// Whether every byte of `x` is in `b'0'..=b'9'`: its high nibble is 3, and adding 6 does
/// not carry out of it.
#[inline(always)]
fn all_digits(x: u64) -> bool {
    x & 0xf0f0_f0f0_f0f0_f0f0 == 0x3030_3030_3030_3030
        && x.wrapping_add(0x0606_0606_0606_0606) & 0xf0f0_f0f0_f0f0_f0f0 == 0x3030_3030_3030_3030
}

/// Eight ASCII digits (checked by the caller) as a little-endian word, as a number: the
/// first byte is the most significant digit; pairs, then quads, then halves are folded.
#[inline(always)]
fn fold_eight(x: u64) -> u64 {
    let mut v = x - 0x3030_3030_3030_3030;
    v = (v * 10 + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    v = (v * 100 + (v >> 16)) & 0x0000_ffff_0000_ffff;
    (v * 10_000 + (v >> 32)) & 0xffff_ffff
}

/// Eight ASCII digits as a little-endian word, folded pairwise: the `k`-th 16-bit lane of
/// the result is the two-digit number of bytes `2k, 2k + 1` (the first is the tens).
/// Returned as (lanes 0–1, lanes 2–3), each lane under 100; `None` when any byte is not a
/// digit.
#[inline(always)]
fn swar_pairs(x: u64) -> Option<(u32, u32)> {
    if !all_digits(x) {
        return None;
    }
    let v = x - 0x3030_3030_3030_3030;
    let v = (v * 10 + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    Some((v as u32, (v >> 32) as u32))
}

/// [`civil_days`] for a four-digit year, in unsigned arithmetic: the year is moved one
/// 400-year era (146,097 days) forward so that January and February of year 0 need no
/// signed division.
#[inline]
fn civil_days_0_9999(y: u32, m: u32, d: u32) -> Option<i64> {
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let month_days = match m {
        2 => 28 + u32::from(leap),
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if d == 0 || d > month_days {
        return None;
    }
    let y = y + 400 - u32::from(m <= 2);
    let (era, yoe) = (y / 400, y % 400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(i64::from(era * 146_097 + doe) - 719_468 - 146_097)
}

fn civil_days(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

#[cold]
fn parse_date_days_nom(input: &[u8]) -> Option<i64> {
    let year = map_res(take_while_m_n(4, 4, |b: u8| b.is_ascii_digit()), |d: &[u8]| {
        fold_digits(d).map(|n| n as i64).ok_or(())
    });
    let (y, m, d) = whole(input, (terminated(year, char('-')), terminated(two_digits, char('-')), two_digits))?;
    civil_days(y, m, d)
}

/// `HH:MM:SS` (an optional fraction is accepted and truncated) as milliseconds of the day.
#[inline]
pub fn parse_time_ms(input: &[u8]) -> Option<i64> {
    // The shape of every standard-log line, by hand; anything else goes to the grammar.
    if let Some(&bytes) = input.first_chunk::<8>()
        && input.len() == 8
    {
        // `HH:MM:SS` as one word, the colons (bytes 2 and 5) turned into `0`s so that all
        // eight bytes must be digits; then byte k of `v * 10 + (v >> 8)` is the two-digit
        // number of bytes k, k + 1 (each byte at most 99: no carries), read at 0, 3 and 6.
        const COLONS: u64 = 0x0000_ff00_00ff_0000;
        let x = u64::from_le_bytes(bytes);
        if x & COLONS == 0x0000_3a00_003a_0000 {
            let x = x ^ 0x0000_0a00_000a_0000;
            if !all_digits(x) {
                return None;
            }
            let v = x - 0x3030_3030_3030_3030;
            let v = v * 10 + (v >> 8);
            return time_of_day_ms((v & 0xff) as u32, (v >> 24 & 0xff) as u32, (v >> 48 & 0xff) as u32, &[]);
        }
    }
    parse_time_ms_nom(input)
}

#[inline]
fn time_of_day_ms(h: u32, m: u32, s: u32, frac: &[u8]) -> Option<i64> {
    // 60 allows a leap second.
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(i64::from(h * 3600 + m * 60 + s) * 1000 + fraction(frac, 3) as i64)
}

#[cold]
fn parse_time_ms_nom(input: &[u8]) -> Option<i64> {
    let (h, m, s, frac) = whole(
        input,
        (
            terminated(two_digits, char(':')),
            terminated(two_digits, char(':')),
            two_digits,
            opt(preceded(char('.'), digit1)),
        ),
    )?;
    time_of_day_ms(h, m, s, frac.unwrap_or(&[]))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian: the inverse of
/// [`parse_date_days`]'s arithmetic (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Howard Hinnant's `days_from_civil`: proleptic Gregorian date to days since the epoch.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `#Fields: a b c` (space- or tab-separated) as its names; `None` for any other line.
pub fn w3c_fields(line: &[u8]) -> Option<Vec<&str>> {
    let header: IResult<&[u8], (&[u8], &[u8])> = (tag(&b"#Fields:"[..]), preceded(space0, rest)).parse(line);
    let (_, (_, body)) = header.ok()?;
    let text = core::str::from_utf8(body).ok()?;
    Some(text.split([' ', '\t']).filter(|s| !s.is_empty()).collect())
}

#[cfg(test)]
mod tests {
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::ip::*;
    use super::*;

    #[test]
    fn hex_table_is_to_digit() {
        for b in 0..=255u8 {
            assert_eq!(char::from(b).to_digit(16), Some(u32::from(HEX[b as usize])).filter(|&h| h < 16), "{b}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"2212"), Some(2212));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_status(b"000"), Some(0));
        assert_eq!(parse_status(b"404"), Some(404));
        assert_eq!(parse_status(b"40"), None);
        assert_eq!(parse_status(b"4040"), None);
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds_us(b"0.140"), Some(140_000));
        assert_eq!(parse_seconds_us(b"0.000"), Some(0));
        assert_eq!(parse_seconds_us(b"12"), Some(12_000_000));
        assert_eq!(parse_seconds_us(b"1.5"), Some(1_500_000));
        assert_eq!(parse_seconds_us(b"0.0000019"), Some(1));
        assert_eq!(parse_seconds_us(b".5"), None);
        assert_eq!(parse_seconds_us(b"1."), None);
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_epoch_seconds_ms(b"1607374321.541"), Some(1_607_374_321_541));
        assert_eq!(parse_epoch_seconds_ms(b"1738535441"), Some(1_738_535_441_000));
        assert_eq!(parse_epoch_ms(b"1738535441041"), Some(1_738_535_441_041));
        // 2019-12-04 21:02:31 UTC = 1575493351 (worked out: 18234 days * 86400 + 75751).
        assert_eq!(parse_date_days(b"2019-12-04"), Some(18_234));
        assert_eq!(parse_time_ms(b"21:02:31"), Some(75_751_000));
        assert_eq!(parse_date_days(b"1970-01-01"), Some(0));
        for days in [-1, 0, 18_234, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(parse_date_days(alloc::format!("{y:04}-{m:02}-{d:02}").as_bytes()), Some(days));
        }
        assert_eq!(parse_date_days(b"2024-02-29"), Some(19_782));
        assert_eq!(parse_date_days(b"2023-02-29"), None);
        assert_eq!(parse_date_days(b"2019-13-01"), None);
        assert_eq!(parse_time_ms(b"24:00:00"), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_ip(b"192.0.2.10"), Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))));
        assert_eq!(parse_ip(b"2001:0db8:85a3::8a2e:0370:7334"), "2001:db8:85a3::8a2e:370:7334".parse().ok());
        assert_eq!(parse_ip(b"::ffff:192.0.2.1"), "::ffff:192.0.2.1".parse().ok());
        for (text, ok) in [("1:2:3:4:5:6:7::", true), ("::1:2:3:4:5:6:7", true), ("1:2:3:4:5:6:7:8::", false), ("1::2:3:4:5:6:7:8", false), ("::", true), (":::", false), ("1:2", false), ("1::2::3", false), ("12345::", false), ("fFfF::", true), ("1:", false), (":1", false)] {
            assert_eq!(parse_ip(text.as_bytes()).is_some(), ok, "{text}");
            assert_eq!(fast_ipv6(text.as_bytes()).is_some(), ok, "{text}");
        }
        assert_eq!(parse_ip(b"256.1.1.1"), None);
        assert_eq!(parse_ip(b"1.2.3"), None);
        assert_eq!(parse_ip(b"01.2.3.4"), None);
        assert_eq!(parse_ip(b"unknown"), None);
    }

    use proptest::prelude::*;

    fn digits_and_dots() -> impl Strategy<Value = alloc::vec::Vec<u8>> {
        proptest::collection::vec(prop_oneof![8 => proptest::char::range('0', '9'), 2 => Just('.'), 1 => Just(':'), 1 => Just('a')], 0..24)
            .prop_map(|cs| cs.into_iter().map(|c| c as u8).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The 14-byte timestamp path against the general one, on 14-byte strings of
        /// digits, dots and the bytes next to `0` and `9` (`/`, `:`), anywhere.
        #[test]
        fn epoch_10_3_agrees_with_fast_decimal(input in proptest::collection::vec(prop_oneof![20 => b'0'..=b'9', 1 => Just(b'.'), 1 => Just(b'/'), 1 => Just(b':'), 1 => any::<u8>()], 12..16), dot in proptest::bool::ANY) {
            let mut input = input;
            if dot && input.len() > 10 {
                input[10] = b'.';
            }
            let general = fast_decimal(&input, 3).and_then(|(s, f)| i64::try_from(s.checked_mul(1000)?.checked_add(f)?).ok());
            match epoch_10_3(&input) {
                Some(ms) => prop_assert_eq!(Some(ms), general, "{:?}", input),
                None => prop_assert!(input.len() != 14 || input[10] != b'.' || general.is_none(), "{:?} refused", input),
            }
            prop_assert_eq!(parse_epoch_seconds_ms(&input), whole(&input, decimal).and_then(|(s, f)| i64::try_from(s.checked_mul(1000)?.checked_add(fraction(f, 3))?).ok()));
        }

        /// The `d.ddd` seconds path against the general reader and nom, on 5-byte strings.
        #[test]
        fn seconds_d_ddd_agrees_with_nom(input in proptest::collection::vec(prop_oneof![12 => b'0'..=b'9', 2 => Just(b'.'), 1 => Just(b'/'), 1 => Just(b':'), 1 => any::<u8>()], 5..=5), dot in proptest::bool::ANY) {
            let mut input = input;
            if dot {
                input[1] = b'.';
            }
            let general = fast_decimal(&input, 6).and_then(|(w, f)| w.checked_mul(1_000_000)?.checked_add(f));
            prop_assert_eq!(parse_seconds_us(&input), general, "{:?}", input);
            prop_assert_eq!(parse_seconds_us(&input), whole(&input, decimal).and_then(|(w, f)| w.checked_mul(1_000_000)?.checked_add(fraction(f, 6))));
        }

        /// A number read with the bytes of its line before it (`parse_u64_ending`) against
        /// the nom grammar: 0–11 bytes of digits and their neighbours (`/`, `:`), behind 0–11
        /// bytes of anything (digits, TABs, any byte), so every length meets every offset
        /// of the eight-byte word.
        #[test]
        fn parse_u64_ending_agrees_with_nom(
            before in proptest::collection::vec(prop_oneof![4 => b'0'..=b'9', 2 => Just(b'\t'), 1 => any::<u8>()], 0..12),
            text in proptest::collection::vec(prop_oneof![16 => b'0'..=b'9', 1 => Just(b'/'), 1 => Just(b':'), 1 => any::<u8>()], 0..12),
        ) {
            let upto = [&before[..], &text[..]].concat();
            prop_assert_eq!(parse_u64_ending(&upto, text.len()), whole(&text, uint), "{:?} {:?}", before, text);
        }

        /// Dotted quads and near misses (3 or 5 parts, values past 255, leading zeros, a
        /// stray byte) against the nom grammar.
        #[test]
        fn fast_ipv4_agrees_with_nom(
            parts in proptest::collection::vec((0u32..300, 0usize..3), 3..6),
            stray in proptest::option::of((0usize..16, prop_oneof![Just(b'.'), Just(b':'), Just(b'a'), Just(b'/'), b'0'..=b'9'])),
        ) {
            let text: alloc::vec::Vec<alloc::string::String> = parts.iter().map(|&(v, zeros)| alloc::format!("{}{v}", "0".repeat(zeros))).collect();
            let mut input = text.join(".").into_bytes();
            if let Some((at, b)) = stray {
                let at = at % (input.len() + 1);
                input.insert(at, b);
            }
            prop_assert_eq!(parse_ip(&input), whole(&input, ip), "{:?}", alloc::string::String::from_utf8_lossy(&input));
            // The fast path itself, not only with the full grammar behind it.
            prop_assert_eq!(fast_ipv4(&input), whole(&input, ipv4), "{:?}", alloc::string::String::from_utf8_lossy(&input));
        }

        #[test]
        fn fast_paths_agree_with_nom(
            input in prop_oneof![
                digits_and_dots(),
                // Runs of digits around the 19 that always fit, with fractions around the scales.
                (proptest::collection::vec(b'0'..=b'9', 1..23), proptest::option::of(proptest::collection::vec(b'0'..=b'9', 0..9)))
                    .prop_map(|(w, f)| { let mut v = w; if let Some(f) = f { v.push(b'.'); v.extend(f); } v }),
            ],
        ) {
            prop_assert_eq!(parse_u64(&input), whole(&input, uint));
            prop_assert_eq!(parse_seconds_us(&input), whole(&input, decimal).and_then(|(w, f)| w.checked_mul(1_000_000)?.checked_add(fraction(f, 6))));
            prop_assert_eq!(parse_epoch_seconds_ms(&input), whole(&input, decimal).and_then(|(s, f)| i64::try_from(s.checked_mul(1000)?.checked_add(fraction(f, 3))?).ok()));
            prop_assert_eq!(parse_ip(&input), whole(&input, ip));
            if input.len() == 3 {
                let nom_status = whole(&input, map_res(take_while_m_n(3, 3, |b: u8| b.is_ascii_digit()), |d: &[u8]| fold_digits(d).map(|n| n as u16).ok_or(())));
                prop_assert_eq!(parse_status(&input), nom_status);
            }
        }
    }

    fn ipv6_like() -> impl Strategy<Value = alloc::string::String> {
        let chars = proptest::collection::vec(
            prop_oneof![8 => proptest::char::range('0', '9'), 3 => proptest::char::range('a', 'f'), 1 => proptest::char::range('A', 'F'), 1 => Just('g'), 6 => Just(':'), 1 => Just('.')],
            0..42,
        )
        .prop_map(|cs| cs.into_iter().collect());
        // Real addresses, as `core::net` prints them (compressed) and spelled out in full.
        let printed = any::<[u16; 8]>().prop_flat_map(|g| {
            let a = Ipv6Addr::from(g);
            prop_oneof![Just(alloc::format!("{a}")), Just(g.iter().map(|x| alloc::format!("{x:x}")).collect::<Vec<_>>().join(":"))]
        });
        let zeros = (0usize..8, 0usize..9, any::<u16>()).prop_map(|(at, n, x)| {
            let mut g = [x; 8];
            g[at..(at + n).min(8)].fill(0);
            alloc::format!("{}", Ipv6Addr::from(g))
        });
        // Groups around a `::`, too many or just enough: `::` must stand for a group.
        let gapped = (proptest::collection::vec(any::<u16>(), 0..10), any::<usize>()).prop_map(|(g, at)| {
            let g: Vec<_> = g.iter().map(|x| alloc::format!("{x:x}")).collect();
            let at = at % (g.len() + 1);
            alloc::format!("{}::{}", g[..at].join(":"), g[at..].join(":"))
        });
        prop_oneof![chars, printed, zeros, gapped]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The hand-written IPv6 reader gives `core::net`'s answer whenever it answers, and
        /// answers for every address `core::net` prints.
        #[test]
        fn fast_ipv6_agrees_with_core_net(input in ipv6_like()) {
            let want = input.parse::<Ipv6Addr>().ok();
            let got = fast_ipv6(input.as_bytes());
            if got.is_some() {
                prop_assert_eq!(got, want, "{}", input);
            }
            if let Some(a) = want
                && !input.contains('.')
            {
                prop_assert_eq!(got, Some(a), "{} was left to core::net", input);
            }
            prop_assert_eq!(parse_ip(input.as_bytes()), input.parse::<IpAddr>().ok());
        }
    }

    fn dates_and_times() -> impl Strategy<Value = alloc::vec::Vec<u8>> {
        proptest::collection::vec(prop_oneof![10 => proptest::char::range('0', '9'), 3 => Just('-'), 3 => Just(':'), 1 => Just('.'), 1 => Just('a'), 1 => Just('+')], 6..12)
            .prop_map(|cs| cs.into_iter().map(|c| c as u8).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        #[test]
        fn date_and_time_fast_paths_agree_with_nom(input in dates_and_times(), y in 0u32..10000, m in 0u32..14, d in 0u32..33, s in 0u32..62) {
            prop_assert_eq!(parse_date_days(&input), parse_date_days_nom(&input));
            prop_assert_eq!(parse_time_ms(&input), parse_time_ms_nom(&input));
            let date = alloc::format!("{y:04}-{m:02}-{d:02}");
            prop_assert_eq!(parse_date_days(date.as_bytes()), parse_date_days_nom(date.as_bytes()));
            let time = alloc::format!("{:02}:{:02}:{s:02}", m + 10, d + 27);
            prop_assert_eq!(parse_time_ms(time.as_bytes()), parse_time_ms_nom(time.as_bytes()));
        }
    }

    /// The unsigned civil-days of the `YYYY-MM-DD` path against the signed one the grammar
    /// uses, for every four-digit year, month 0–13 and the days around month ends.
    #[test]
    fn civil_days_0_9999_is_civil_days() {
        for y in 0..=9999u32 {
            for m in 0..=13 {
                for d in [0, 1, 2, 15, 27, 28, 29, 30, 31, 32] {
                    assert_eq!(civil_days_0_9999(y, m, d), civil_days(i64::from(y), m, d), "{y}-{m}-{d}");
                }
            }
        }
    }

    #[test]
    fn dates_and_times_by_hand() {
        // Expected values from the calendar, not from the code.
        assert_eq!(parse_date_days(b"1970-01-01"), Some(0));
        assert_eq!(parse_date_days(b"2019-12-04"), Some(18_234));
        assert_eq!(parse_date_days(b"2024-02-29"), Some(19_782));
        assert_eq!(parse_date_days(b"2023-02-29"), None);
        assert_eq!(parse_date_days(b"2019-13-04"), None);
        assert_eq!(parse_time_ms(b"21:02:36"), Some(75_756_000));
        assert_eq!(parse_time_ms(b"23:59:60"), Some(86_400_000));
        assert_eq!(parse_time_ms(b"24:00:00"), None);
        assert_eq!(parse_time_ms(b"21:02:36.250"), Some(75_756_250));
    }

    #[test]
    fn fields_header() {
        assert_eq!(w3c_fields(b"#Fields: date time"), Some(alloc::vec!["date", "time"]));
        assert_eq!(w3c_fields(b"#Fields:\tdate\ttime"), Some(alloc::vec!["date", "time"]));
        assert_eq!(w3c_fields(b"#Version: 1.0"), None);
    }
}

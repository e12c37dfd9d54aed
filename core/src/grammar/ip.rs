//! IP addresses (`c-ip`, `x-forwarded-for`): a dotted quad by `cflog_simd::ipv4` (AVX2) or
//! by hand, IPv6 of hexadecimal groups by hand, the nom grammar for everything else.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::branch::alt;
use nom::bytes::complete::{take_while1, take_while_m_n};
use nom::character::complete::char;
use nom::combinator::{all_consuming, map_res};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use super::{fold_digits, whole};

fn octet(input: &[u8]) -> IResult<&[u8], u8> {
    map_res(take_while_m_n(1, 3, |b: u8| b.is_ascii_digit()), |d: &[u8]| {
        // No leading zeros ("010" is ambiguous: octal in some parsers).
        if d.len() > 1 && d[0] == b'0' {
            return Err(());
        }
        fold_digits(d).and_then(|n| u8::try_from(n).ok()).ok_or(())
    })
    .parse(input)
}

pub(super) fn ipv4(input: &[u8]) -> IResult<&[u8], Ipv4Addr> {
    (octet, preceded(char('.'), octet), preceded(char('.'), octet), preceded(char('.'), octet))
        .map(|(a, b, c, d)| Ipv4Addr::new(a, b, c, d))
        .parse(input)
}

fn ipv6(input: &[u8]) -> IResult<&[u8], Ipv6Addr> {
    // The IPv6 text grammar (compression, embedded IPv4) is what core::net implements and
    // tests exhaustively; nom frames the token, core::net reads it.
    map_res(take_while1(|b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.'), |t: &[u8]| {
        core::str::from_utf8(t).map_err(|_| ()).and_then(|s| s.parse::<Ipv6Addr>().map_err(|_| ()))
    })
    .parse(input)
}

pub(super) fn ip(input: &[u8]) -> IResult<&[u8], IpAddr> {
    alt((all_consuming(ipv4).map(IpAddr::V4), ipv6.map(IpAddr::V6))).parse(input)
}

/// One IPv4 or IPv6 address.
#[inline(always)]
pub fn parse_ip(input: &[u8]) -> Option<IpAddr> {
    // Most addresses are dotted quads. With a vector unit they are read without a branch
    // on their shape (`cflog_simd::ipv4`); else by `fast_ipv4`, a hand-written pass over at
    // most 15 bytes, much cheaper than the combinators. Anything else falls through to
    // `parse_ip_other`. Only the vector call is inlined into the caller: the address then
    // stays in registers. An out-of-line `parse_ip` returned it through memory, written a
    // field at a time and read back as one 16-byte load, which the store buffer cannot
    // forward (a stall on every address).
    match cflog_simd::ipv4::parse(input) {
        Some(Some(octets)) => Some(IpAddr::V4(Ipv4Addr::from(octets))),
        Some(None) => parse_ip_other(input),
        None => parse_ip_scalar(input),
    }
}

/// [`parse_ip`] without a vector unit.
#[inline(never)]
fn parse_ip_scalar(input: &[u8]) -> Option<IpAddr> {
    match fast_ipv4(input) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => parse_ip_other(input),
    }
}

#[inline(never)]
fn parse_ip_other(input: &[u8]) -> Option<IpAddr> {
    if let Some(v6) = fast_ipv6(input) {
        return Some(IpAddr::V6(v6));
    }
    if input.contains(&b':') {
        // What `ipv6` does after framing the token: hand it to core::net.
        return core::str::from_utf8(input).ok()?.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    whole(input, ip)
}

/// The value of each hexadecimal digit (`0-9`, `a-f`, `A-F`, as `char::to_digit(16)`), 255
/// for any other byte.
pub(super) const HEX: [u8; 256] = {
    let mut table = [255u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => 255,
        };
        b += 1;
    }
    table
};

/// IPv6 of hexadecimal groups by hand: 1–4 digits a group, eight groups or fewer with one
/// `::` standing for at least one zero group, the rules of `core::net`'s parser. `None` for
/// anything else, including what it would accept (an embedded IPv4 tail), which then goes
/// to `core::net` (about 2,000 instructions an address against a few hundred here).
pub(super) fn fast_ipv6(input: &[u8]) -> Option<Ipv6Addr> {
    if input.len() < 2 || input.len() > 39 {
        return None;
    }
    // Groups before the `::` (or all of them), then after it.
    let (mut head, mut tail) = ([0u16; 8], [0u16; 8]);
    let (mut heads, mut tails) = (0usize, 0usize);
    let mut gap = false;
    let mut i = 0;
    if input.starts_with(b"::") {
        gap = true;
        i = 2;
    }
    while i < input.len() {
        let (mut value, mut digits) = (0u32, 0);
        while let Some(h) = input.get(i).map(|&b| HEX[b as usize]).filter(|&h| h < 16) {
            if digits == 4 {
                return None;
            }
            value = value << 4 | u32::from(h);
            digits += 1;
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        let (groups, n) = if gap { (&mut tail, &mut tails) } else { (&mut head, &mut heads) };
        *groups.get_mut(*n)? = value as u16;
        *n += 1;
        match input.get(i) {
            None => break,
            Some(b':') => i += 1,
            Some(_) => return None,
        }
        match input.get(i) {
            // A single `:` at the end.
            None => return None,
            Some(b':') if gap => return None,
            Some(b':') => {
                gap = true;
                i += 1;
            }
            Some(_) => {}
        }
    }
    if if gap { heads + tails > 7 } else { heads != 8 } {
        return None;
    }
    head[8 - tails..].copy_from_slice(&tail[..tails]);
    Some(Ipv6Addr::from(head))
}

/// Dotted quad by hand: octets of 1–3 digits, no leading zeros, at most 255. Each of the
/// first three octets is matched with its dot as one slice pattern (`d.`, `dd.`, `ddd.`),
/// the last by its length: no search for the dot, no byte-at-a-time state machine.
#[inline]
pub(super) fn fast_ipv4(input: &[u8]) -> Option<Ipv4Addr> {
    if !(7..=15).contains(&input.len()) {
        return None;
    }
    let (a, rest) = ipv4_octet_dot(input)?;
    let (b, rest) = ipv4_octet_dot(rest)?;
    let (c, rest) = ipv4_octet_dot(rest)?;
    Some(Ipv4Addr::new(a, b, c, ipv4_octet(rest)?))
}

/// One octet and its dot at the start of `text`, and what follows the dot.
#[inline(always)]
fn ipv4_octet_dot(text: &[u8]) -> Option<(u8, &[u8])> {
    match *text {
        [a, b'.', ref rest @ ..] => Some((ipv4_octet(&[a])?, rest)),
        [a, b, b'.', ref rest @ ..] => Some((ipv4_octet(&[a, b])?, rest)),
        [a, b, c, b'.', ref rest @ ..] => Some((ipv4_octet(&[a, b, c])?, rest)),
        _ => None,
    }
}

/// One octet of a dotted quad: `0`, or 1–3 digits without a leading zero, at most 255.
#[inline(always)]
fn ipv4_octet(digits: &[u8]) -> Option<u8> {
    let d = |b: u8| Some(b.wrapping_sub(b'0')).filter(|&d| d <= 9);
    match *digits {
        [a] => d(a),
        [a, b] if a != b'0' => Some(d(a)? * 10 + d(b)?),
        [a, b, c] if a != b'0' => u8::try_from(u16::from(d(a)?) * 100 + u16::from(d(b)? * 10 + d(c)?)).ok(),
        _ => None,
    }
}

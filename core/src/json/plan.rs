//! A [`RecordWriter`](super::RecordWriter)'s column plan: for a layout whose every field is
//! at its own column, what to do with each column decided once (its key's place among the
//! escaped keys and one [`Op`] that folds the kind, the field and the options together),
//! so that writing a record is a walk over the plan and the record's column bounds. Writes
//! what `write_columns` writes with its checks in place (the parent module's tests compare
//! the two); gives up, for `write_columns` to write the record again, on the first typed
//! value that does not check.

use alloc::vec::Vec;

use super::cursor::Cursor;
use super::{JsonOptions, ValueCache, write_forwarded_for};
use super::value::*;
use crate::decode;
use crate::field::{Field, Kind};
use crate::grammar;
use crate::record::Record;
use crate::schema::Column;

/// What to do with one column's present value (an absent one is `null` or left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    EpochSeconds,
    EpochMillis,
    Date,
    Time,
    Seconds,
    Integer,
    Status,
    Ip,
    /// `c-ip` written truncated ([`JsonOptions::anonymize_ip`]).
    IpAnonymized,
    /// `x-forwarded-for` with each address truncated.
    ForwardedForAnonymized,
    Token,
    Decimal,
    /// Percent-encoded text, through the column's [`ValueCache`] (a column without a field
    /// is of this kind too).
    Encoded,
    /// Percent-encoded text written directly (address lists and booleans).
    Decoded,
}

/// The longest key a plan holds (`,"cmcd-requested-maximum-throughput":` is 37 bytes).
pub(super) const KEY_MAX: usize = 48;

/// One column of a plan: its `,"name":` (at most [`KEY_MAX`] bytes) in a block of its own,
/// so that writing it is one fixed-size copy with no check of where the key is.
#[derive(Debug, Clone, Copy)]
pub(super) struct Step {
    key: [u8; KEY_MAX],
    key_len: u8,
    op: Op,
}

impl Step {
    /// The step of a column whose `,"name":` is `key` and whose op is `op`; `None` when the
    /// key is over [`KEY_MAX`] bytes.
    pub(super) fn new(key: &[u8], op: Op) -> Option<Step> {
        let mut block = [b' '; KEY_MAX];
        block.get_mut(..key.len())?.copy_from_slice(key);
        Some(Step { key: block, key_len: key.len() as u8, op })
    }
}

impl Op {
    /// The op of `column` written with `options`.
    pub(super) fn of(column: &Column, options: JsonOptions) -> Op {
        let Some(field) = column.field else { return Op::Encoded };
        match field.kind() {
            Kind::Ip if options.anonymize_ip && field == Field::ClientIp => Op::IpAnonymized,
            Kind::IpList if options.anonymize_ip && field == Field::ForwardedFor => Op::ForwardedForAnonymized,
            Kind::EpochSeconds => Op::EpochSeconds,
            Kind::EpochMillis => Op::EpochMillis,
            Kind::Date => Op::Date,
            Kind::Time => Op::Time,
            Kind::Seconds => Op::Seconds,
            Kind::Integer => Op::Integer,
            Kind::Status => Op::Status,
            Kind::Ip => Op::Ip,
            Kind::Token => Op::Token,
            Kind::Decimal => Op::Decimal,
            Kind::Encoded => Op::Encoded,
            Kind::IpList | Kind::Bool => Op::Decoded,
        }
    }
}

/// Appends `record` (whose bounds cover every column of the plan) as one JSON object, each
/// typed value checked as `Record::validate` checks it. False, with part of the record
/// appended, on the first value that does not check.
///
/// Written through a [`Cursor`]: room for the keys and one and a half times the line made
/// once, grown when a record needs more or after a value written the `Vec` way.
pub(super) fn write_planned(
    plan: &[Step],
    keys_len: usize,
    cache: &mut [ValueCache],
    options: JsonOptions,
    record: &Record<'_>,
    out: &mut Vec<u8>,
) -> bool {
    let (line, double) = (record.line, record.double_decode);
    let mut out = Cursor::new(out, keys_len + line.len() + 64, 512);
    let start = out.pos();
    out.byte(b'{');
    // 1 until a key is written: the first key is written over the `{`.
    let mut first = 1usize;
    for ((i, step), ends) in plan.iter().enumerate().zip(record.bounds.windows(2)) {
        let (from, to) = (ends[0] as usize, ends[1] as usize - 1);
        let raw = &line[from..to];
        // The column's key (a macro: as a closure it was a call a key); the first one
        // written over the `{`, which is written again at the end.
        macro_rules! key {
            () => {
                out.key(&step.key, usize::from(step.key_len), first);
                first = 0;
            };
        }
        // Room for the key and for any value written by a fixed-size block (at most 64
        // bytes, or the value and 2); longer writes make their own.
        out.reserve(KEY_MAX + raw.len() + 64);
        if raw.is_empty() || raw == b"-" {
            if !options.omit_absent {
                key!();
                out.text(b"null", 0, 4);
            }
            continue;
        }
        match step.op {
            Op::EpochSeconds => {
                let Some(ms) = grammar::parse_epoch_seconds_ms(raw) else { return false };
                key!();
                out.fixed(ms.unsigned_abs(), 1_000, 3);
            }
            Op::Seconds => {
                let Some(us) = grammar::parse_seconds_us(raw) else { return false };
                key!();
                out.fixed(us, 1_000_000, 6);
            }
            Op::EpochMillis => {
                if grammar::parse_epoch_ms(raw).is_none() {
                    return false;
                }
                key!();
                out.u64(grammar::parse_u64(raw).unwrap_or_default());
            }
            // Canonical digits are valid (`parse_u64` takes any 1 to 19 digits,
            // `parse_status` any 3) and the text `write_u64` writes for their value.
            Op::Integer if is_canonical_digits(raw) => {
                key!();
                out.text(line, from, to);
            }
            Op::Status if raw.len() == 3 && is_canonical_digits(raw) => {
                key!();
                out.text(line, from, to);
            }
            Op::Integer => {
                let Some(n) = grammar::parse_u64(raw) else { return false };
                key!();
                out.u64(n);
            }
            Op::Status => {
                let Some(n) = grammar::parse_status(raw) else { return false };
                key!();
                out.u64(u64::from(n));
            }
            Op::Date | Op::Time => {
                let valid = if step.op == Op::Date { grammar::parse_date_days(raw).is_some() } else { grammar::parse_time_ms(raw).is_some() };
                if !valid {
                    return false;
                }
                key!();
                if !out.plain_window::<32, false>(line, from, to) {
                    out.with_vec(|out| write_str(out, raw));
                }
            }
            // A valid address is hex digits, `.` and `:` (`parse_ip` accepts nothing
            // else): nothing to escape, no scan.
            Op::Ip => {
                if grammar::parse_ip(raw).is_none() {
                    return false;
                }
                key!();
                out.plain_string(line, from, to);
            }
            // A truncated address is printed by `Display`: hex digits, `.` and `:` too.
            Op::IpAnonymized => {
                let Some(t) = crate::anonymize::truncated_ip_text(raw) else { return false };
                key!();
                let t = t.as_bytes();
                out.plain_string(t, 0, t.len());
            }
            // Plain ASCII (the block compares flag any byte of 0x80 or more) is UTF-8, so
            // the check passes; else the word-at-a-time ASCII test, then the full check.
            Op::Token => {
                key!();
                if out.plain_window::<32, false>(line, from, to) || out.plain_window::<64, false>(line, from, to) {
                    continue;
                }
                if !(raw.is_ascii() || core::str::from_utf8(raw).is_ok()) {
                    return false;
                }
                out.with_vec(|out| write_str(out, raw));
            }
            Op::Decimal if is_json_number(raw) => {
                key!();
                out.text(line, from, to);
            }
            // Not a JSON number: a string, or left out with the absent values.
            Op::Decimal => {
                if !options.omit_absent {
                    key!();
                    out.decoded_str(raw, double);
                }
            }
            // Text without `%` decodes to itself (once or twice).
            Op::Encoded => {
                key!();
                if out.plain_window::<32, true>(line, from, to) {
                    continue;
                }
                if double {
                    out.decoded_str(raw, true);
                } else {
                    cache[i].write_at(&mut out, raw);
                }
            }
            Op::Decoded => {
                key!();
                if !out.plain_window::<32, true>(line, from, to) {
                    out.decoded_str(raw, double);
                }
            }
            Op::ForwardedForAnonymized => {
                key!();
                out.with_vec(|out| write_forwarded_for(out, &decode::decode(raw, double)));
            }
        }
    }
    out.byte(b'}');
    out.set(start, b'{');
    out.finish();
    true
}

//! The failure policy every host applies to a rule: a failed call leaves its records
//! un-enriched and is counted by kind; after [`MAX_CONSECUTIVE_FAILURES`] failures in a
//! row the rule is disabled for the rest of the run. One implementation for the wasmtime
//! host and the browser, so a rule is contained the same way everywhere.

use crate::MAX_CONSECUTIVE_FAILURES;

/// Why a rule could not be loaded or a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The module does not compile, imports something, or lacks an ABI export.
    BadModule,
    /// `cflog_abi_version` returned a version this host does not speak.
    AbiVersion,
    /// `cflog_init` rejected the configuration.
    Init,
    /// The guest trapped (panic, unreachable, out-of-bounds access, stack overflow).
    Trap,
    /// The call ran out of fuel or past its deadline (an endless or far too slow loop).
    Timeout,
    /// The guest hit the memory limit.
    OutOfMemory,
    /// The result (or a pointer the guest returned) is malformed.
    BadOutput,
    /// The guest reported an error for the batch.
    GuestError,
}

impl FailureKind {
    /// Every kind, in [`index`](Self::index) order.
    pub const ALL: [FailureKind; 8] = [
        FailureKind::BadModule,
        FailureKind::AbiVersion,
        FailureKind::Init,
        FailureKind::Trap,
        FailureKind::Timeout,
        FailureKind::OutOfMemory,
        FailureKind::BadOutput,
        FailureKind::GuestError,
    ];

    /// A short stable name: `bad_module`, `abi_version`, `init`, `trap`, `timeout`,
    /// `out_of_memory`, `bad_output`, `guest_error`.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::BadModule => "bad_module",
            FailureKind::AbiVersion => "abi_version",
            FailureKind::Init => "init",
            FailureKind::Trap => "trap",
            FailureKind::Timeout => "timeout",
            FailureKind::OutOfMemory => "out_of_memory",
            FailureKind::BadOutput => "bad_output",
            FailureKind::GuestError => "guest_error",
        }
    }

    /// The kind of a [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<FailureKind> {
        FailureKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Position in [`ALL`](Self::ALL).
    pub fn index(self) -> usize {
        self as usize
    }
}

impl core::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The counters and the disabled state of one rule instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// Batches enriched successfully.
    pub batches: u64,
    /// Records in those batches.
    pub records: u64,
    /// Failed batches (their records were left un-enriched).
    pub failures: u64,
    by_kind: [u64; FailureKind::ALL.len()],
    /// Records left un-enriched by failures or because the rule was disabled.
    pub records_skipped: u64,
    /// Instances re-created after a failure.
    pub restarts: u64,
    disabled: bool,
    consecutive: u32,
    max_consecutive: u32,
}

impl Default for Health {
    fn default() -> Self {
        Health::new(MAX_CONSECUTIVE_FAILURES)
    }
}

impl Health {
    /// A healthy rule, disabled after `max_consecutive` failures in a row.
    pub fn new(max_consecutive: u32) -> Health {
        Health {
            batches: 0,
            records: 0,
            failures: 0,
            by_kind: [0; FailureKind::ALL.len()],
            records_skipped: 0,
            restarts: 0,
            disabled: false,
            consecutive: 0,
            max_consecutive,
        }
    }

    /// Whether the rule is disabled (its batches are skipped, [`skipped`](Self::skipped)).
    pub fn disabled(&self) -> bool {
        self.disabled
    }

    /// A batch of `records` was enriched.
    pub fn succeeded(&mut self, records: usize) {
        self.consecutive = 0;
        self.batches += 1;
        self.records += records as u64;
    }

    /// A batch of `records` failed: counted, and the rule disabled once the failures in
    /// a row reach the limit. Returns whether the rule is now disabled. The host also
    /// drops the instance (its state is unknown) and starts a fresh one next time.
    pub fn failed(&mut self, kind: FailureKind, records: usize) -> bool {
        self.failures += 1;
        self.by_kind[kind.index()] += 1;
        self.records_skipped += records as u64;
        self.consecutive += 1;
        if self.consecutive >= self.max_consecutive {
            self.disabled = true;
        }
        self.disabled
    }

    /// A batch of `records` went past a disabled rule.
    pub fn skipped(&mut self, records: usize) {
        self.records_skipped += records as u64;
    }

    /// A fresh instance replaced a failed one.
    pub fn restarted(&mut self) {
        self.restarts += 1;
    }

    /// Failures of `kind`.
    pub fn failures_of(&self, kind: FailureKind) -> u64 {
        self.by_kind[kind.index()]
    }

    /// `(kind name, failures)` for every kind that failed, in [`FailureKind::ALL`] order.
    pub fn failures_by_kind(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        FailureKind::ALL.into_iter().map(|k| (k.name(), self.by_kind[k.index()])).filter(|(_, n)| *n > 0)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn disabled_after_three_failures_in_a_row_only() {
        let mut h = Health::default();
        assert!(!h.failed(FailureKind::Trap, 10));
        assert!(!h.failed(FailureKind::BadOutput, 10));
        h.succeeded(5); // a success resets the run of failures
        assert!(!h.failed(FailureKind::Trap, 10));
        assert!(!h.failed(FailureKind::Trap, 10));
        assert!(!h.disabled());
        assert!(h.failed(FailureKind::Timeout, 10));
        h.skipped(7);
        assert_eq!((h.failures, h.batches, h.records, h.records_skipped), (5, 1, 5, 57));
        assert_eq!(h.failures_by_kind().collect::<Vec<_>>(), [("trap", 3), ("timeout", 1), ("bad_output", 1)]);
        assert_eq!(h.failures_of(FailureKind::Trap), 3);
    }

    #[test]
    fn kind_names_round_trip() {
        for k in FailureKind::ALL {
            assert_eq!(FailureKind::from_name(k.name()), Some(k));
            assert_eq!(FailureKind::ALL[k.index()], k);
        }
        assert_eq!(FailureKind::from_name("nope"), None);
    }
}

//! What one handler is told and what one invocation reports: [`HandlerOptions`] (retry
//! policy, bad-line forwarding, sampling override, config refresh, suspect thresholds) and
//! [`InvocationStats`] (the counts of the structured log line). Re-exported by
//! [`crate::handler`].

use serde::Serialize;

use crate::sinks::RetryPolicy;

/// Handler settings. The default is the default retry policy, bad lines not forwarded,
/// no sampling override and a config re-read every [`CONFIG_REFRESH_INTERVAL`].
#[derive(Debug, Clone)]
pub struct HandlerOptions {
    /// Retry policy for every sink.
    pub retry: RetryPolicy,
    /// Forward unparsable lines to the output stream.
    pub forward_bad_lines: bool,
    /// A sampling rate that overrides the config's.
    pub sampling_override: Option<u32>,
    /// How often the real-time log config (when it is the layout source) is read again, so
    /// a changed sampling rate or field list applies within this long.
    pub config_refresh: std::time::Duration,
    /// Suspicious-client thresholds of the `SuspiciousClients` metric.
    pub suspect: cflog_core::suspicious::SuspectThresholds,
}

/// The default [`HandlerOptions::config_refresh`]: one `GetRealtimeLogConfig` per
/// container per five minutes.
pub const CONFIG_REFRESH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

impl Default for HandlerOptions {
    fn default() -> Self {
        HandlerOptions {
            retry: RetryPolicy::default(),
            forward_bad_lines: false,
            sampling_override: None,
            config_refresh: CONFIG_REFRESH_INTERVAL,
            suspect: Default::default(),
        }
    }
}


/// What one invocation did, for the structured log line and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvocationStats {
    /// Source records.
    pub records: usize,
    /// Records already applied by every sink (skipped by their progress markers).
    pub skipped: usize,
    /// Lines that did not parse.
    pub bad_lines: u64,
    /// Records delivered to the output stream.
    pub delivered: usize,
    /// Metric datums published.
    pub metric_datums: usize,
    /// Rollup items updated.
    pub rollup_items: usize,
    /// Records whose window CloudWatch would refuse (kept in the rollups only).
    pub late_records: u64,
    /// Layout refreshes.
    pub layout_refreshes: u32,
    /// Shards reported back for retry.
    pub failures: usize,
    /// What the WAF sink did (all zero when it is off).
    pub waf: crate::waf_run::WafStats,
}

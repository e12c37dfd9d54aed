//! Configuration from environment variables (see [`crate::names::env`]), read once at
//! cold start; bad values are errors that name the variable.

use std::time::Duration;

use cflog_core::suspicious::SuspectThresholds;

use crate::aggregate::ExtraDimensions;
use crate::names::{env, metric};
use crate::sinks::RetryPolicy;

/// A bad configuration: the message names the variable, the value and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A value that is none of the accepted ones.
    #[error("{var}={value:?}: expected {expected}")]
    Expected {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What it may be.
        expected: &'static str,
    },
    /// Not a number.
    #[error("{var}={value:?}: not a number")]
    NotANumber {
        /// The variable (and the threshold, for `CFLOG_SUSPECT`).
        var: String,
        /// Its value.
        value: String,
    },
    /// A number out of its range.
    #[error("{var}={value:?}: must be between {lo} and {hi}")]
    OutOfRange {
        /// The variable (and the threshold, for `CFLOG_SUSPECT`).
        var: String,
        /// Its value.
        value: String,
        /// The least accepted.
        lo: String,
        /// The most accepted.
        hi: String,
    },
    /// A list item that is not known.
    #[error("{var}: unknown {what} {item:?} (expected {expected})")]
    Unknown {
        /// The variable.
        var: &'static str,
        /// What the items are (`threshold`, `dimension`).
        what: &'static str,
        /// The item.
        item: String,
        /// The known items.
        expected: &'static str,
    },
    /// A `CFLOG_SUSPECT` item without `=`.
    #[error("{var}: {item:?} is not name=number")]
    NotNameNumber {
        /// The variable.
        var: &'static str,
        /// The item.
        item: String,
    },
    /// Both layout variables are set.
    #[error("set {} or {}, not both", env::FIELDS, env::REALTIME_LOG_CONFIG)]
    TwoLayouts,
    /// Neither layout variable is set.
    #[error("set {} (the field list) or {} (name or ARN)", env::FIELDS, env::REALTIME_LOG_CONFIG)]
    NoLayout,
    /// The notifier lacks its topic or table.
    #[error("{}=notify needs {} (the topic) and {} (the rollup table)", env::MODE, env::NOTIFY_TOPIC, env::TABLE)]
    NotifyNeeds,
}

/// Which event the function handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Kinesis event source mapping (the default).
    Kinesis,
    /// Firehose data transformation.
    Firehose,
    /// The alarm notifier: SNS events carrying CloudWatch alarms (see [`crate::notify`]).
    Notify,
}

/// Where metrics go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsMode {
    /// PutMetricData (the default).
    CloudWatch,
    /// Embedded metric format on stdout.
    Emf,
    /// None.
    Off,
}

/// Where the layout comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutConfig {
    /// A field set (canonical order applied).
    Fields(Vec<String>),
    /// A real-time log config name or ARN, read at cold start.
    RealtimeLogConfig(String),
}

/// Everything the function is told by its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mode.
    pub mode: Mode,
    /// Layout source.
    pub layout: LayoutConfig,
    /// Sampling rate override.
    pub sampling_rate: Option<u32>,
    /// Metrics output.
    pub metrics: MetricsMode,
    /// CloudWatch namespace.
    pub namespace: String,
    /// Extra metric dimensions.
    pub dimensions: ExtraDimensions,
    /// DynamoDB table (rollups + progress markers).
    pub table: Option<String>,
    /// Rollup TTL in seconds.
    pub ttl_seconds: i64,
    /// Rollup/metric window in milliseconds.
    pub window_ms: u64,
    /// Output stream.
    pub output_stream: Option<String>,
    /// Forward bad lines to the output stream.
    pub forward_bad_lines: bool,
    /// Truncate viewer addresses in enriched records (`CFLOG_ANONYMIZE_IP`).
    pub anonymize_ip: bool,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Endpoint override.
    pub endpoint_url: Option<String>,
    /// Enrichment rules (`CFLOG_PLUGINS`, expanded when the handler is built).
    pub plugins: Option<String>,
    /// Suspicious-client thresholds (`CFLOG_SUSPECT`).
    pub suspect: SuspectThresholds,
    /// The notifier's topic (`CFLOG_NOTIFY_TOPIC`).
    pub notify_topic: Option<String>,
    /// The dashboard linked from notifications (`CFLOG_DASHBOARD_URL`).
    pub dashboard_url: Option<String>,
}

/// `flood=1200,floor=60,4xx=50,404=30,threat=5,asn=20`, any subset, over the defaults.
pub fn parse_thresholds(v: &str) -> Result<SuspectThresholds, ConfigError> {
    let mut t = SuspectThresholds::default();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, n) = part.split_once('=').ok_or_else(|| ConfigError::NotNameNumber { var: env::SUSPECT, item: part.to_string() })?;
        let name = format!("{} {k}", env::SUSPECT);
        match k.trim() {
            "flood" => t.flood_per_min = parse_num(&name, n, 1u64, u64::MAX)?,
            "floor" => t.share_floor_per_min = parse_num(&name, n, 1u64, u64::MAX)?,
            "4xx" => t.max_4xx_percent = parse_num(&name, n, 0u32, 100)?,
            "404" => t.max_404_percent = parse_num(&name, n, 0u32, 100)?,
            "threat" => t.tagged_per_min = parse_num(&name, n, 1u64, u64::MAX)?,
            "asn" => t.asn_factor = parse_num(&name, n, 1u64, 1_000_000)?,
            other => {
                return Err(ConfigError::Unknown {
                    var: env::SUSPECT,
                    what: "threshold",
                    item: other.to_string(),
                    expected: "flood, floor, 4xx, 404, threat, asn",
                });
            }
        }
    }
    Ok(t)
}

fn parse_num<T>(name: &str, v: &str, lo: T, hi: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let x: T = v.trim().parse().map_err(|_| ConfigError::NotANumber { var: name.to_string(), value: v.to_string() })?;
    if x < lo || x > hi {
        return Err(ConfigError::OutOfRange { var: name.to_string(), value: v.to_string(), lo: lo.to_string(), hi: hi.to_string() });
    }
    Ok(x)
}

fn expected(var: &'static str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::Expected { var, value: value.to_string(), expected }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mode = match get(env::MODE).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("kinesis") => Mode::Kinesis,
            Some("firehose") => Mode::Firehose,
            Some("notify") => Mode::Notify,
            Some(other) => return Err(expected(env::MODE, other, "kinesis, firehose or notify")),
        };
        let layout = match (get(env::FIELDS), get(env::REALTIME_LOG_CONFIG)) {
            // The notifier reads rollups, not log lines.
            (None, None) if mode == Mode::Notify => LayoutConfig::Fields(Vec::new()),
            (Some(_), Some(_)) => return Err(ConfigError::TwoLayouts),
            (Some(f), None) => LayoutConfig::Fields(f.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
            (None, Some(c)) => LayoutConfig::RealtimeLogConfig(c.trim().to_string()),
            (None, None) => return Err(ConfigError::NoLayout),
        };
        let sampling_rate = get(env::SAMPLING_RATE).map(|v| parse_num(env::SAMPLING_RATE, &v, 1u32, 100)).transpose()?;
        let metrics = match get(env::METRICS).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("cloudwatch") => MetricsMode::CloudWatch,
            Some("emf") => MetricsMode::Emf,
            Some("off") | Some("none") => MetricsMode::Off,
            Some(other) => return Err(expected(env::METRICS, other, "cloudwatch, emf or off")),
        };
        let mut dimensions = ExtraDimensions { cap: 20, ..Default::default() };
        if let Some(list) = get(env::METRIC_DIMENSIONS) {
            for d in list.split(',').map(str::trim).filter(|d| !d.is_empty()) {
                match d.to_ascii_lowercase().as_str() {
                    "edge" | "edge-location" | "edgelocation" => dimensions.edge_location = true,
                    "country" => dimensions.country = true,
                    other => {
                        return Err(ConfigError::Unknown {
                            var: env::METRIC_DIMENSIONS,
                            what: "dimension",
                            item: other.to_string(),
                            expected: "edge, country",
                        });
                    }
                }
            }
        }
        if let Some(v) = get(env::DIMENSION_CAP) {
            dimensions.cap = parse_num(env::DIMENSION_CAP, &v, 1usize, 1000)?;
        }
        if let Some(v) = get(env::BEHAVIOR_CAP) {
            dimensions.behaviors = parse_num(env::BEHAVIOR_CAP, &v, 0usize, 100)?;
        }
        let ttl_days = get(env::TTL_DAYS).map(|v| parse_num(env::TTL_DAYS, &v, 1i64, 3650)).transpose()?.unwrap_or(7);
        let window_s = get(env::WINDOW_SECONDS).map(|v| parse_num(env::WINDOW_SECONDS, &v, 1u64, 86_400)).transpose()?.unwrap_or(60);
        let forward_bad_lines = match get(env::FORWARD_BAD_LINES).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") | Some("0") | Some("no") => false,
            Some("true") | Some("1") | Some("yes") => true,
            Some(other) => return Err(expected(env::FORWARD_BAD_LINES, other, "true or false")),
        };
        let anonymize_ip = match get(env::ANONYMIZE_IP).as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") | Some("0") | Some("no") => false,
            Some("true") | Some("1") | Some("yes") => true,
            Some(other) => return Err(expected(env::ANONYMIZE_IP, other, "true or false")),
        };
        let mut retry = RetryPolicy::default();
        if let Some(v) = get(env::MAX_ATTEMPTS) {
            retry.max_attempts = parse_num(env::MAX_ATTEMPTS, &v, 1u32, 20)?;
        }
        if let Some(v) = get(env::BACKOFF_MS) {
            retry.base_delay = Duration::from_millis(parse_num(env::BACKOFF_MS, &v, 0u64, 60_000)?);
        }
        let suspect = get(env::SUSPECT).map(|v| parse_thresholds(&v)).transpose()?.unwrap_or_default();
        let notify_topic = get(env::NOTIFY_TOPIC);
        if mode == Mode::Notify && (notify_topic.is_none() || get(env::TABLE).is_none()) {
            return Err(ConfigError::NotifyNeeds);
        }
        Ok(Config {
            mode,
            suspect,
            notify_topic,
            dashboard_url: get(env::DASHBOARD_URL),
            layout,
            sampling_rate,
            metrics,
            namespace: get(env::NAMESPACE).unwrap_or_else(|| metric::DEFAULT_NAMESPACE.to_string()),
            dimensions,
            table: get(env::TABLE),
            ttl_seconds: ttl_days * 86_400,
            window_ms: window_s * 1000,
            output_stream: get(env::OUTPUT_STREAM),
            forward_bad_lines,
            anonymize_ip,
            retry,
            endpoint_url: get(env::ENDPOINT_URL),
            plugins: get(env::PLUGINS),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned()).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_errors_name_the_variable() {
        let c = cfg(&[(env::FIELDS, "timestamp, c-ip,sc-status")]).unwrap();
        assert_eq!(c.layout, LayoutConfig::Fields(vec!["timestamp".into(), "c-ip".into(), "sc-status".into()]));
        assert_eq!(c.mode, Mode::Kinesis);
        assert_eq!(c.metrics, MetricsMode::CloudWatch);
        assert_eq!(c.namespace, "CloudFront/RealTime");
        assert_eq!(c.ttl_seconds, 7 * 86_400);
        assert_eq!(c.window_ms, 60_000);
        assert!(cfg(&[]).unwrap_err().contains(env::FIELDS));
        assert!(cfg(&[(env::FIELDS, "a"), (env::SAMPLING_RATE, "0")]).unwrap_err().contains("CFLOG_SAMPLING_RATE"));
        assert!(cfg(&[(env::FIELDS, "a"), (env::MODE, "sqs")]).unwrap_err().contains("CFLOG_MODE"));
        let c = cfg(&[(env::REALTIME_LOG_CONFIG, "my-config"), (env::METRIC_DIMENSIONS, "edge,country"), (env::TTL_DAYS, "2")]).unwrap();
        assert!(c.dimensions.edge_location && c.dimensions.country);
        assert_eq!(c.dimensions.behaviors, 0, "per-behavior metrics are off by default");
        assert_eq!(cfg(&[(env::FIELDS, "a"), (env::BEHAVIOR_CAP, "10")]).unwrap().dimensions.behaviors, 10);
        assert!(cfg(&[(env::FIELDS, "a"), (env::BEHAVIOR_CAP, "101")]).unwrap_err().contains("CFLOG_BEHAVIOR_CAP"));
        assert_eq!(c.ttl_seconds, 2 * 86_400);
    }

    #[test]
    fn notify_mode_and_thresholds() {
        let c = cfg(&[(env::MODE, "notify"), (env::NOTIFY_TOPIC, "arn:aws:sns:us-east-1:1:t"), (env::TABLE, "t"), (env::SUSPECT, "flood=600, 404=20")]).unwrap();
        assert_eq!(c.mode, Mode::Notify);
        assert_eq!((c.suspect.flood_per_min, c.suspect.max_404_percent, c.suspect.share_floor_per_min), (600, 20, 60));
        assert!(cfg(&[(env::MODE, "notify"), (env::TABLE, "t")]).unwrap_err().contains(env::NOTIFY_TOPIC));
        assert!(cfg(&[(env::FIELDS, "a"), (env::SUSPECT, "flod=1")]).unwrap_err().contains("unknown threshold \"flod\""));
        assert!(cfg(&[(env::FIELDS, "a"), (env::SUSPECT, "4xx=101")]).unwrap_err().contains("between 0 and 100"));
    }
}

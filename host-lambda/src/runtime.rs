//! Building the handler from a [`Config`]: SDK clients, sinks and the layout, once per
//! process (Lambda cold start, `cflog consume`, tests).

use std::sync::Arc;

pub use aws_config::SdkConfig;
use aws_config::BehaviorVersion;
use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;

use crate::aws::{DynamoState, KinesisSink, RealtimeLogConfigSource};
use crate::cloudwatch::{AnyMetrics, CloudWatchSink, EmfSink};
use crate::config::{Config, LayoutConfig, MetricsMode};
use crate::handler::{Handler, HandlerOptions};
use crate::names::env;
use crate::ports::{LayoutSource, SinkError};
use crate::process::Processor;

/// Why the handler cannot be built: each names the variable to fix.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// `CFLOG_FIELDS` names a field cflog does not know (or twice).
    #[error("{var}: {0}", var = env::FIELDS)]
    Fields(cflog_core::SchemaError),
    /// The real-time log config cannot be read.
    #[error("{}={name}: GetRealtimeLogConfig: {source}", env::REALTIME_LOG_CONFIG)]
    RealtimeLogConfig {
        /// The config's name or ARN.
        name: String,
        /// The call's error.
        source: SinkError,
    },
    /// An enrichment rule cannot be loaded.
    #[error(transparent)]
    Plugins(#[from] PluginsError),
    /// A `CFLOG_WAF_IP_SET` entry is not an IP set ARN.
    #[error("{var}: {0}", var = env::WAF_IP_SET)]
    WafIpSet(String),
}

/// Why the rules of `CFLOG_PLUGINS` cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PluginsError {
    /// The list (or a directory in it) cannot be read.
    #[error("{}={list:?}: {source}", env::PLUGINS)]
    List {
        /// The variable's value.
        list: String,
        /// Why.
        source: std::io::Error,
    },
    /// A rule does not compile or instantiate (the error names it).
    #[error("{var}: {0}", var = env::PLUGINS)]
    Rule(#[from] cflog_plugin_host::PluginError),
}

/// The handler with AWS sinks.
pub type AwsHandler = Handler<AnyMetrics, KinesisSink, DynamoState>;

/// The shared SDK configuration: region and credentials from the environment (the
/// Lambda execution role), endpoint from `CFLOG_ENDPOINT_URL` when set. The SDK's own
/// retries are off: every sink call goes through cflog's [`crate::sinks::RetryPolicy`],
/// which also retries the failed entries of a partial success (the SDK cannot).
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    // A hung endpoint must cost one attempt, not the whole function timeout.
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(3))
        .operation_attempt_timeout(std::time::Duration::from_secs(10))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(timeouts);
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The summary options the deployed function aggregates with (the handler bench uses them
/// too): windows of `window_ms`.
pub fn summary_options(window_ms: u64, sampling_rate: Option<u32>, anonymize_ip: bool) -> SummaryOptions {
    SummaryOptions {
        window_ms,
        sampling_rate,
        // Window starts are CloudWatch timestamps and rollup keys: never coarsened.
        fixed_windows: true,
        // The function reads only the windows, their client tables and the tags
        // (cloudwatch, aggregate, context, verdicts): the whole-run aggregates (top lists,
        // breakdowns, unique viewers) are not computed (`Summary::add` ~5,800 → ~2,200
        // instructions a record in the handler bench).
        windows_only: true,
        // Unused with `windows_only` (no top lists); small, as before it.
        top_capacity: 16,
        anonymize_ip,
        ..SummaryOptions::default()
    }
}

/// Builds the handler; fails (naming the cause) when the layout cannot be resolved.
pub async fn build(config: &Config, sdk: &SdkConfig) -> Result<AwsHandler, InitError> {
    let mut layout_source: Option<Arc<dyn LayoutSource>> = None;
    let (schema, config_rate) = match &config.layout {
        LayoutConfig::Fields(names) => {
            let schema = Schema::from_field_names(names).map_err(InitError::Fields)?;
            (schema, None)
        }
        LayoutConfig::RealtimeLogConfig(name) => {
            let source = RealtimeLogConfigSource { client: aws_sdk_cloudfront::Client::new(sdk), name_or_arn: name.clone() };
            let (schema, rate) = source.get().await.map_err(|source| InitError::RealtimeLogConfig { name: name.clone(), source })?;
            layout_source = Some(Arc::new(source));
            (schema, rate)
        }
    };
    let options = summary_options(config.window_ms, config.sampling_rate.or(config_rate), config.anonymize_ip);
    let mut processor = Processor::new(schema, options, config.dimensions).with_suspect(config.suspect);
    if let Some(list) = &config.plugins {
        processor = processor.with_plugins(load_plugins(list)?);
    }
    let metrics = match config.metrics {
        MetricsMode::CloudWatch => Some(AnyMetrics::CloudWatch(CloudWatchSink {
            client: aws_sdk_cloudwatch::Client::new(sdk),
            namespace: config.namespace.clone(),
        })),
        MetricsMode::Emf => Some(AnyMetrics::Emf(EmfSink { namespace: config.namespace.clone() })),
        MetricsMode::Off => None,
    };
    let records = config
        .output_stream
        .as_ref()
        .map(|stream| KinesisSink { client: aws_sdk_kinesis::Client::new(sdk), stream: stream.clone() });
    let state = config.table.as_ref().map(|table| DynamoState {
        client: aws_sdk_dynamodb::Client::new(sdk),
        table: table.clone(),
        ttl_seconds: config.ttl_seconds,
    });
    let options = HandlerOptions {
        retry: config.retry,
        forward_bad_lines: config.forward_bad_lines,
        sampling_override: config.sampling_rate,
        suspect: config.suspect,
        ..HandlerOptions::default()
    };
    let handler = Handler::new(processor, metrics, records, state, layout_source, options);
    match &config.waf {
        Some(waf) => Ok(handler.with_waf(Box::new(build_waf_sink(waf, config.table.as_deref().unwrap_or_default(), sdk)?))),
        None => Ok(handler),
    }
}

/// The WAF sink of `config`: each IP set through a client in the region its ARN names
/// (us-east-1 for a CloudFront one, whatever the function's region), its block times in
/// the rollup `table`.
pub fn build_waf_sink(config: &crate::waf::WafConfig, table: &str, sdk: &SdkConfig) -> Result<crate::waf_run::WafSink<crate::waf_aws::WafIpSet, crate::waf_aws::DynamoBlocks>, InitError> {
    let mut targets = Vec::new();
    for arn in &config.ip_set_arns {
        let mut conf = aws_sdk_wafv2::config::Builder::from(sdk);
        if let Some(region) = arn.split(':').nth(3).filter(|r| !r.is_empty()) {
            conf = conf.region(aws_config::Region::new(region.to_string()));
        }
        let set = crate::waf_aws::WafIpSet::from_arn(aws_sdk_wafv2::Client::from_conf(conf.build()), arn).map_err(InitError::WafIpSet)?;
        let store = crate::waf_aws::DynamoBlocks { client: aws_sdk_dynamodb::Client::new(sdk), table: table.to_string(), ip_set_arn: arn.clone() };
        targets.push(crate::waf_run::WafTarget { name: arn.clone(), set, store });
    }
    Ok(crate::waf_run::WafSink { targets, policy: config.policy.clone(), lock_backoff: std::time::Duration::from_millis(100) })
}

/// The alarm notifier (`CFLOG_MODE=notify`; [`Config::from_env`] checked that the topic
/// and the table are set).
pub fn build_notifier(config: &Config, sdk: &SdkConfig) -> crate::notify::Notifier<crate::notify_aws::DynamoContext, crate::notify_aws::SnsPublisher> {
    crate::notify::Notifier {
        store: crate::notify_aws::DynamoContext { client: aws_sdk_dynamodb::Client::new(sdk), table: config.table.clone().unwrap_or_default() },
        publisher: crate::notify_aws::SnsPublisher { client: aws_sdk_sns::Client::new(sdk), topic: config.notify_topic.clone().unwrap_or_default() },
        thresholds: config.suspect,
        window_ms: config.window_ms,
        dashboard_url: config.dashboard_url.clone(),
    }
}

/// Where compiled rules are cached between cold starts of the same sandbox. Only this
/// process writes there (the cache loads machine code without validating it).
const PLUGIN_CACHE: &str = "/tmp/cflog-plugin-cache";

/// Compiles the rules named by `CFLOG_PLUGINS` once, at cold start; a rule that cannot
/// load is a configuration error that stops the cold start, naming the rule.
pub fn load_plugins(list: &str) -> Result<cflog_plugin_host::PluginSet, PluginsError> {
    let specs = cflog_plugin_host::PluginSpec::list(list).map_err(|source| PluginsError::List { list: list.to_string(), source })?;
    let host = cflog_plugin_host::PluginHost::new(cflog_plugin_host::Limits::default())?;
    let cache = std::path::Path::new(PLUGIN_CACHE);
    let cache = std::fs::create_dir_all(cache).is_ok().then_some(cache);
    let compiled = specs.iter().map(|spec| spec.compile(&host, cache)).collect::<Result<Vec<_>, _>>()?;
    tracing::info!(rules = compiled.len(), "enrichment rules loaded");
    Ok(cflog_plugin_host::PluginSet::instantiate(&host, &compiled)?)
}

/// Reports a cold-start failure to the Lambda Runtime API (`POST /runtime/init/error`),
/// so Lambda shows the cause (e.g. the bad variable) instead of a bare `Runtime.ExitError`.
/// lambda_runtime posts init errors only for its own hooks, and configuration is read
/// before it runs. Does nothing outside Lambda (no `AWS_LAMBDA_RUNTIME_API`).
pub fn report_init_error(error_type: &str, message: &str) {
    use std::io::{Read as _, Write as _};
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else { return };
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type, "stackTrace": [] }).to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\nLambda-Runtime-Function-Error-Type: {error_type}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let sent = std::net::TcpStream::connect(&api).and_then(|mut stream| {
        stream.set_read_timeout(Some(std::time::Duration::from_secs(2)))?;
        stream.write_all(request.as_bytes())?;
        let mut answer = [0u8; 64];
        let n = stream.read(&mut answer)?;
        Ok(String::from_utf8_lossy(&answer[..n]).lines().next().unwrap_or("").to_string())
    });
    match sent {
        Ok(status) => tracing::info!(status, "init error reported to the Runtime API"),
        Err(e) => tracing::warn!(error = %e, "cannot report the init error to the Runtime API"),
    }
}

/// JSON logs (one object per line) filtered by `CFLOG_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env(env::LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Re-exported for hosts that build their own clients (the `cflog` CLI).
pub use aws_sdk_kinesis::Client as KinesisClient;

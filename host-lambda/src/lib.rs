//! `cflog-lambda`: the AWS Lambda processor for CloudFront real-time logs.
//!
//! CloudFront writes real-time log lines to a Kinesis stream; this function turns each
//! batch into CloudWatch metrics (true percentiles from the latency sketch), DynamoDB
//! rollups (atomic `ADD`, exactly once per record thanks to progress markers) and
//! enriched NDJSON records on another Kinesis stream, or acts as a Firehose
//! transformation. See `host-lambda/README.md` for deployment and semantics.
//!
//! The handler is a plain async function over narrow traits, the ports ([`ports`]), so it
//! runs the same against AWS, against moto in the tests and against in-memory sinks:
//!
//! ```
//! use cflog_core::Schema;
//! use cflog_core::summary::SummaryOptions;
//! use cflog_lambda::handler::{Handler, HandlerOptions, KinesisEvent};
//! use cflog_lambda::process::{ExtraDimensions, Processor};
//! use cflog_lambda::sinks::memory::{MemoryMetrics, MemoryRecords, MemoryState};
//!
//! let schema = Schema::from_field_names(&["timestamp", "sc-status"]).unwrap();
//! let processor = Processor::new(schema, SummaryOptions::default(), ExtraDimensions::default());
//! let handler: Handler<MemoryMetrics, MemoryRecords, MemoryState> =
//!     Handler::new(processor, Some(MemoryMetrics::default()), None, None, None, HandlerOptions::default());
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! let (response, stats) = rt.block_on(handler.handle_kinesis(KinesisEvent::default()));
//! assert!(response.batch_item_failures.is_empty());
//! assert_eq!(stats.records, 0);
//! ```

pub mod aggregate;
pub mod aws;
pub mod cloudwatch;
pub mod config;
pub mod context;
mod enriched;
pub mod events;
mod firehose;
pub mod handler;
mod invocation;
pub mod names;
pub mod notify;
pub mod notify_aws;
pub mod opensearch;
pub mod ports;
pub mod process;
pub mod runtime;
pub mod seqs;
pub mod sinks;
pub mod verdicts;
pub mod waf;
pub mod waf_aws;
pub mod waf_run;

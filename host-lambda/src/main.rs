//! The Lambda `bootstrap` (provided.al2023): configuration, SDK clients and the layout
//! are built once at cold start; each invocation runs the handler.

use cflog_lambda::config::{Config, Mode};
use cflog_lambda::handler::{FirehoseEvent, KinesisEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    cflog_lambda::runtime::init_logging();
    let started = std::time::Instant::now();
    let config = Config::from_env().map_err(|e| {
        tracing::error!(error = %e, "bad configuration");
        cflog_lambda::runtime::report_init_error("Runtime.ConfigError", &e.to_string());
        e
    })?;
    let sdk = cflog_lambda::runtime::sdk_config(config.endpoint_url.as_deref()).await;
    if config.mode == Mode::Notify {
        let notifier = &cflog_lambda::runtime::build_notifier(&config, &sdk);
        tracing::info!(init_us = started.elapsed().as_micros() as u64, "notifier cold start done");
        return lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
            notifier.handle(&event.payload).await.map_err(Error::from)
        }))
        .await;
    }
    let handler = cflog_lambda::runtime::build(&config, &sdk).await.map_err(|e| {
        tracing::error!(error = %e, "cannot start");
        cflog_lambda::runtime::report_init_error("Runtime.InitError", &e.to_string());
        e
    })?;
    tracing::info!(mode = ?config.mode, fields = handler.schema().len(), init_us = started.elapsed().as_micros() as u64, "cold start done");
    let handler = &handler;
    match config.mode {
        Mode::Kinesis => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<KinesisEvent>| async move {
                let (response, _) = handler.handle_kinesis(event.payload).await;
                Ok::<_, Error>(response)
            }))
            .await
        }
        Mode::Notify => unreachable!("handled above"),
        Mode::Firehose => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<FirehoseEvent>| async move {
                Ok::<_, Error>(handler.handle_firehose(&event.payload))
            }))
            .await
        }
    }
}

//! The Lambda handler: an image event in, one SBOM export for exactly that
//! image started (and followed for a while).

use std::future::Future;
use std::time::{Duration, SystemTime};

use common::backoff::Backoff;
use common::{FunctionError, Invocation};
use serde::Serialize;
use serde_json::Value;

use crate::config::{Config, SbomFormat};
use crate::coverage::{keep_waiting, readiness, Coverage, Readiness};
use crate::event::{image, Trigger};

/// One `CreateSbomExport` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    /// The single image: `resourceId EQUALS` this.
    pub resource_id: String,
    pub format: SbomFormat,
    pub bucket: String,
    pub key_prefix: String,
    pub kms_key_arn: String,
}

/// `GetSbomExport`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportStatus {
    /// `IN_PROGRESS`, `SUCCEEDED`, `FAILED` or `CANCELLED`.
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// What the function needs from Amazon Inspector.
pub trait Inspector {
    /// The image's coverage entry (`ListCoverage` by resource id).
    fn coverage(
        &self,
        resource_id: &str,
    ) -> impl Future<Output = Result<Option<Coverage>, FunctionError>> + Send;
    /// Starts an export; returns its report id.
    fn create_sbom_export(
        &self,
        request: &ExportRequest,
    ) -> impl Future<Output = Result<String, FunctionError>> + Send;
    fn export_status(
        &self,
        report_id: &str,
    ) -> impl Future<Output = Result<ExportStatus, FunctionError>> + Send;
}

/// The invocation's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub report_id: String,
    pub resource_id: String,
    pub format: &'static str,
    /// The last status seen (`IN_PROGRESS` when not followed to the end).
    pub status: String,
}

/// Retries of `CreateSbomExport` on throttling and internal errors only.
pub const CREATE_RETRY: Backoff = Backoff {
    base: Duration::from_millis(200),
    cap: Duration::from_secs(5),
    max_attempts: 5,
};

pub async fn handle<I: Inspector>(
    event: Value,
    invocation: Invocation,
    config: &Config,
    inspector: &I,
) -> Result<Started, FunctionError> {
    let image = image(event)?;
    let resource_id = image.resource_id();
    common::logging::set_correlation_id(&resource_id);
    if image.trigger == Trigger::Push {
        let coverage = inspector.coverage(&resource_id).await?;
        match readiness(coverage.as_ref()) {
            Readiness::Scanned => {}
            Readiness::Pending(why)
                if keep_waiting(image.time, SystemTime::now(), config.scan_wait_limit) =>
            {
                invocation.metrics.count("ImagesNotScannedYet", 1);
                return Err(FunctionError::retryable(
                    "ImageNotScannedYet",
                    format!("{resource_id}: {why}; failing so the event is retried later"),
                ));
            }
            Readiness::Pending(why) => {
                return Err(FunctionError::permanent(
                    "ImageNotScanned",
                    format!(
                        "{resource_id}: {why}, {} after the push; giving up",
                        humantime::format_duration(config.scan_wait_limit)
                    ),
                ))
            }
            Readiness::Never(why) => {
                return Err(FunctionError::permanent(
                    "ImageNotScannable",
                    format!("{resource_id}: Inspector will not scan it: {why}"),
                ))
            }
        }
    }
    let request = ExportRequest {
        resource_id: resource_id.clone(),
        format: config.format,
        bucket: config.bucket.clone(),
        key_prefix: config.key_prefix.clone(),
        kms_key_arn: config.kms_key_arn.clone(),
    };
    let report_id = CREATE_RETRY
        .retry(
            |_| inspector.create_sbom_export(&request),
            FunctionError::is_retryable,
        )
        .await?;
    invocation.metrics.count("SbomExportsStarted", 1);
    tracing::info!(report_id = %report_id, resource_id = %resource_id, format = config.format.as_str(), tags = ?image.tags, "SBOM export started");

    let status = follow(inspector, &report_id, config.export_wait).await?;
    match status.status.as_str() {
        "SUCCEEDED" => {
            invocation.metrics.count("SbomExportsSucceeded", 1);
            tracing::info!(report_id = %report_id, "SBOM export succeeded");
        }
        "FAILED" | "CANCELLED" => {
            invocation.metrics.count("SbomExportsFailed", 1);
            return Err(FunctionError::permanent(
                "SbomExportFailed",
                format!(
                    "export {report_id} of {resource_id} {}: {} {}",
                    status.status,
                    status.error_code.as_deref().unwrap_or("(no error code)"),
                    status.error_message.as_deref().unwrap_or_default()
                ),
            ));
        }
        other => {
            tracing::info!(report_id = %report_id, status = other, "SBOM export still running; the transformer picks the file up when it lands")
        }
    }
    Ok(Started {
        report_id,
        resource_id,
        format: config.format.as_str(),
        status: status.status,
    })
}

/// Polls `GetSbomExport` until the export ends or `wait` has passed.
async fn follow<I: Inspector>(
    inspector: &I,
    report_id: &str,
    wait: Duration,
) -> Result<ExportStatus, FunctionError> {
    let in_progress = ExportStatus {
        status: "IN_PROGRESS".into(),
        error_code: None,
        error_message: None,
    };
    if wait.is_zero() {
        return Ok(in_progress);
    }
    let deadline = tokio::time::Instant::now() + wait;
    let mut delay = Duration::from_millis(250);
    loop {
        let status = match inspector.export_status(report_id).await {
            Ok(s) => s,
            // Following is best effort: the export itself was started.
            Err(e) if e.is_retryable() => in_progress.clone(),
            Err(e) => return Err(e),
        };
        if status.status != "IN_PROGRESS" {
            return Ok(status);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(status);
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = (delay * 2).min(Duration::from_secs(4));
    }
}

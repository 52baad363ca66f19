//! The Lambda handler: an S3 `Object Created` event in, two Parquet files
//! per ECR image SBOM out.

use common::metrics::Unit;
use common::{FunctionError, Invocation};
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::event::{objects, ObjectRef};
use crate::export_key::ExportKey;
use crate::tables::object_keys;
use crate::transform::{self, ConvertError, Identity};

/// Reading and writing objects: the function's one external capability.
pub trait ObjectStore {
    /// The object's bytes; `SbomTooLarge` (permanent) above `max_bytes`.
    fn get(
        &self,
        bucket: &str,
        key: &str,
        max_bytes: u64,
    ) -> impl std::future::Future<Output = Result<Vec<u8>, FunctionError>> + Send;

    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> impl std::future::Future<Output = Result<(), FunctionError>> + Send;
}

/// What one invocation wrote, also its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    pub image_arn: String,
    pub report_id: String,
    pub format: String,
    pub sbom_key: String,
    pub cve_key: String,
    pub packages: usize,
    pub cves: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub written: Vec<Written>,
    /// Objects the event named that are not ECR image SBOMs.
    pub skipped: Vec<String>,
}

/// Converts every ECR image SBOM the event names.
///
/// Any failure fails the invocation: the asynchronous invocation is retried
/// and then lands in the failure destination with the error, and a retry
/// is safe because the output keys are deterministic per image.
pub async fn handle<S: ObjectStore>(
    event: Value,
    invocation: Invocation,
    config: &Config,
    store: &S,
) -> Result<Outcome, FunctionError> {
    let mut outcome = Outcome {
        written: Vec::new(),
        skipped: Vec::new(),
    };
    for object in objects(event)? {
        if !object.is_ecr_image_sbom() {
            tracing::info!(bucket = %object.bucket, key = %object.key, "not an ECR image SBOM export; skipped");
            outcome.skipped.push(object.key);
            continue;
        }
        let written = convert_one(&object, &invocation, config, store)
            .await
            .map_err(|e| e.context(format_args!("s3://{}/{}", object.bucket, object.key)))?;
        outcome.written.push(written);
    }
    invocation
        .metrics
        .count("SbomsSkipped", outcome.skipped.len());
    Ok(outcome)
}

async fn convert_one<S: ObjectStore>(
    object: &ObjectRef,
    invocation: &Invocation,
    config: &Config,
    store: &S,
) -> Result<Written, FunctionError> {
    let key = ExportKey::parse(&object.key)
        .map_err(|e| FunctionError::permanent("UnrecognisedExportKey", e.to_string()))?;
    common::logging::set_correlation_id(&key.report_id);
    let bytes = store
        .get(&object.bucket, &object.key, config.max_sbom_bytes)
        .await?;
    let size = bytes.len();
    let fallback_time = object
        .time
        .as_deref()
        .and_then(transform::rfc3339_micros)
        .unwrap_or_else(transform::now_micros);
    // CPU-bound but short (well under a second for 100k packages), and a
    // Lambda sandbox serves one event at a time: no need to leave the task.
    let converted =
        transform::convert(&bytes, Identity::Export(&key), fallback_time).map_err(|e| match e {
            ConvertError::Sbom(e) => FunctionError::permanent(e.kind(), e.to_string()),
            ConvertError::Parquet(e) => {
                FunctionError::permanent("ParquetWriteFailed", e.to_string())
            }
        })?;
    drop(bytes);
    let (sbom_key, cve_key) = object_keys(
        &key.account_id,
        &key.region,
        &key.repository_in_key,
        key.digest_hex(),
    );
    store
        .put(
            &config.transformed_bucket,
            &sbom_key,
            converted.sbom_parquet,
        )
        .await?;
    store
        .put(&config.transformed_bucket, &cve_key, converted.cve_parquet)
        .await?;

    let m = &invocation.metrics;
    m.count("SbomsConverted", 1);
    m.count("PackagesWritten", converted.packages);
    m.count("CvesWritten", converted.cves);
    m.add("SbomBytes", Unit::Bytes, size as f64);
    tracing::info!(
        image_arn = %converted.image.image_arn,
        report_id = %key.report_id,
        format = converted.format,
        packages = converted.packages,
        packages_in_document = converted.packages_in_document,
        cves = converted.cves,
        findings_in_document = converted.findings_in_document,
        sbom_bytes = size,
        "SBOM converted"
    );
    Ok(Written {
        image_arn: converted.image.image_arn,
        report_id: key.report_id,
        format: converted.format.to_string(),
        sbom_key,
        cve_key,
        packages: converted.packages,
        cves: converted.cves,
    })
}

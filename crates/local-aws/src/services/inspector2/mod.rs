//! Amazon Inspector (`inspector2`, REST-JSON): the SBOM export API and the
//! coverage list, enough to run the SBOM pipeline locally.
//!
//! * `ListCoverage` lists the ECR images registered through the control API
//!   with their scan status, filtered and paginated as Inspector does.
//! * `CreateSbomExport` validates its input as the API reference says
//!   (`reportFormat`, `s3Destination.bucketName` and `kmsKeyArn` required,
//!   1–10 filters per list, `EQUALS`/`NOT_EQUALS`), starts an export
//!   `IN_PROGRESS` and, in the background, writes one SBOM per matching
//!   *scanned* image (SPDX 2.3 or CycloneDX 1.4, in the shapes of the AWS
//!   docs' samples) to S3 under Inspector's key layout
//!   `<keyPrefix>/<FORMAT>_outputs_<reportId>/account=<id>/resource=AWS_ECR_CONTAINER_IMAGE/<resource id, / as _>_<FORMAT>.json`,
//!   then turns `SUCCEEDED`, or `FAILED` with Inspector's error codes
//!   (`BUCKET_NOT_FOUND`, `MALFORMED_KMS_KEY`, `NO_FINDINGS_FOUND`,
//!   `INTERNAL_ERROR`).
//! * `GetSbomExport`, `CancelSbomExport`.
//!
//! S3 is moto's: its endpoint comes from `POST
//! /_local-aws/inspector2/s3-endpoint {"url": "http://127.0.0.1:<port>"}`
//! (what the test harness calls once moto is up), else from the
//! `LOCAL_AWS_S3_ENDPOINT` variable; objects are written with plain
//! path-style `PUT`s, which moto accepts unsigned.
//!
//! Control API (`/_local-aws/inspector2/<action>`):
//! * `POST images` `{"resourceId", "tags"?, "statusCode"? ("ACTIVE"),
//!   "reason"? ("SUCCESSFUL"), "platform"? ("DEBIAN_12"), "architecture"?
//!   ("amd64"), "packages"?: [{"name", "version", "purl"?, "sourceInfo"?,
//!   "vulnerabilities"?: [ids]}]}` registers or replaces an image (e.g.
//!   `PENDING_INITIAL_SCAN` first, `SUCCESSFUL` later); without packages it
//!   holds a Debian 12 image's. `GET images` lists them.
//! * `POST s3-endpoint`, `GET s3-endpoint`.

mod filters;
mod render;
#[cfg(test)]
mod tests;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};

use crate::input::{opt_array, opt_i64, opt_object, opt_str};

use crate::service::{RequestContext, RestRoute, Service};
use crate::AwsError;
use filters::{passes, string_filters};
use writer::{rfc3339_now, write_files};

pub use render::Package;

const OPERATIONS: &[&str] = &[
    "CreateSbomExport",
    "GetSbomExport",
    "CancelSbomExport",
    "ListCoverage",
];

/// An ECR image Inspector knows.
#[derive(Debug, Clone)]
struct Image {
    account_id: String,
    region: String,
    resource_id: String,
    repository: String,
    digest: String,
    tags: Vec<String>,
    status_code: String,
    reason: String,
    platform: String,
    architecture: String,
    packages: Vec<Package>,
}

impl Image {
    fn scanned(&self) -> bool {
        self.status_code == "ACTIVE" && self.reason == "SUCCESSFUL"
    }
}

#[derive(Debug, Clone)]
struct Export {
    account_id: String,
    region: String,
    format: String,
    filter: Value,
    destination: Value,
    status: String,
    error_code: Option<String>,
    error_message: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    /// By resource id.
    images: BTreeMap<String, Image>,
    exports: HashMap<String, Export>,
    s3_endpoint: Option<String>,
}

/// The emulated Inspector.
pub struct Inspector2 {
    state: Arc<Mutex<State>>,
}

impl Default for Inspector2 {
    fn default() -> Self {
        Self::new()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn env_endpoint() -> Option<String> {
    std::env::var("LOCAL_AWS_S3_ENDPOINT")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

impl Inspector2 {
    /// An empty Inspector; S3 at `LOCAL_AWS_S3_ENDPOINT` if set.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                s3_endpoint: env_endpoint(),
                ..State::default()
            })),
        }
    }
}

impl Service for Inspector2 {
    fn name(&self) -> &'static str {
        "inspector2"
    }

    fn rest_routes(&self) -> Vec<RestRoute> {
        vec![
            RestRoute::new("POST", "/sbomexport/create", "CreateSbomExport"),
            RestRoute::new("POST", "/sbomexport/get", "GetSbomExport"),
            RestRoute::new("POST", "/sbomexport/cancel", "CancelSbomExport"),
            RestRoute::new("POST", "/coverage/list", "ListCoverage"),
        ]
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        match operation {
            "CreateSbomExport" => self.create_sbom_export(ctx, &input),
            "GetSbomExport" => self.get_sbom_export(ctx, &input),
            "CancelSbomExport" => self.cancel_sbom_export(ctx, &input),
            "ListCoverage" => self.list_coverage(ctx, &input),
            other => Err(AwsError::new(
                "UnknownOperationException",
                400,
                format!("unknown operation {other}"),
            )),
        }
    }

    fn reset(&self) {
        *lock(&self.state) = State {
            s3_endpoint: env_endpoint(),
            ..State::default()
        };
    }

    fn control(&self, method: &str, action: &str, input: Value) -> Result<Value, AwsError> {
        match (method, action) {
            ("POST", "images") => {
                let image = image_from_control(&input)?;
                let listed = coverage_entry(&image);
                lock(&self.state)
                    .images
                    .insert(image.resource_id.clone(), image);
                Ok(listed)
            }
            ("GET", "images") => Ok(json!({
                "images": lock(&self.state).images.values().map(coverage_entry).collect::<Vec<_>>()
            })),
            ("POST", "s3-endpoint") => {
                let url = opt_str(&input, "url")?
                    .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
                    .ok_or_else(|| {
                        AwsError::validation("s3-endpoint needs {\"url\": \"http://host:port\"}")
                    })?;
                lock(&self.state).s3_endpoint = Some(url.trim_end_matches('/').to_string());
                Ok(json!({ "url": url }))
            }
            ("GET", "s3-endpoint") => Ok(json!({ "url": lock(&self.state).s3_endpoint })),
            _ => Err(AwsError::new(
                "NotFound",
                404,
                format!("inspector2 has no control action {method} {action:?}"),
            )),
        }
    }
}

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::validation(message)
}

/// `arn:<partition>:ecr:<region>:<account>:repository/<name>/sha256:<64 hex>`.
fn parse_image_resource_id(id: &str) -> Option<(String, String, String, String)> {
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "ecr" || parts[4].len() != 12 {
        return None;
    }
    let (repo, hex) = parts[5]
        .strip_prefix("repository/")?
        .rsplit_once("/sha256:")?;
    (!repo.is_empty() && hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| {
        (
            parts[3].to_string(),
            parts[4].to_string(),
            repo.to_string(),
            format!("sha256:{hex}"),
        )
    })
}

fn image_from_control(input: &Value) -> Result<Image, AwsError> {
    let resource_id =
        opt_str(input, "resourceId")?.ok_or_else(|| validation("images needs resourceId"))?;
    let (region, account_id, repository, digest) = parse_image_resource_id(resource_id)
        .ok_or_else(|| validation(format!("{resource_id:?} is not an ECR image resource id")))?;
    let strings = |key: &str| -> Result<Vec<String>, AwsError> {
        Ok(opt_array(input, key)?
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    };
    let architecture = opt_str(input, "architecture")?
        .unwrap_or("amd64")
        .to_string();
    let packages = match opt_array(input, "packages")? {
        None => render::default_packages(&architecture),
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let name = opt_str(p, "name")?
                    .ok_or_else(|| validation(format!("packages[{i}].name is required")))?;
                let version = opt_str(p, "version")?.unwrap_or_default();
                Ok(Package {
                    name: name.into(),
                    version: version.into(),
                    purl: opt_str(p, "purl")?
                        .map_or_else(|| format!("pkg:generic/{name}@{version}"), str::to_string),
                    source_info: opt_str(p, "sourceInfo")?.unwrap_or("/").into(),
                    vulnerabilities: opt_array(p, "vulnerabilities")?
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<_, AwsError>>()?,
    };
    Ok(Image {
        account_id,
        region,
        resource_id: resource_id.to_string(),
        repository,
        digest,
        tags: strings("tags")?,
        status_code: opt_str(input, "statusCode")?
            .unwrap_or("ACTIVE")
            .to_string(),
        reason: opt_str(input, "reason")?
            .unwrap_or("SUCCESSFUL")
            .to_string(),
        platform: opt_str(input, "platform")?
            .unwrap_or("DEBIAN_12")
            .to_string(),
        architecture,
        packages,
    })
}

fn coverage_entry(image: &Image) -> Value {
    json!({
        "resourceId": image.resource_id,
        "resourceType": "AWS_ECR_CONTAINER_IMAGE",
        "accountId": image.account_id,
        "scanType": "PACKAGE",
        "scanStatus": {"statusCode": image.status_code, "reason": image.reason},
        "resourceMetadata": {
            "ecrImage": {"tags": image.tags},
            "ecrRepository": {"name": image.repository, "scanFrequency": "SCAN_ON_PUSH"},
        },
    })
}

impl Inspector2 {
    fn list_coverage(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let criteria = opt_object(input, "filterCriteria")?;
        let resource_id = string_filters(criteria, "resourceId", true)?;
        let resource_type = string_filters(criteria, "resourceType", false)?;
        let repository = string_filters(criteria, "ecrRepositoryName", true)?;
        let tags = string_filters(criteria, "ecrImageTags", false)?;
        let status_code = string_filters(criteria, "scanStatusCode", false)?;
        let account = string_filters(criteria, "accountId", false)?;
        let max = opt_i64(input, "maxResults")?.unwrap_or(200);
        if !(1..=200).contains(&max) {
            return Err(validation("maxResults must be from 1 to 200"));
        }
        let start: usize = match opt_str(input, "nextToken")? {
            Some(t) => t.parse().map_err(|_| validation("invalid nextToken"))?,
            None => 0,
        };
        let state = lock(&self.state);
        let matching: Vec<Value> = state
            .images
            .values()
            .filter(|i| i.region == ctx.region)
            .filter(|i| passes(&resource_id, &[&i.resource_id]))
            .filter(|_| passes(&resource_type, &["AWS_ECR_CONTAINER_IMAGE"]))
            .filter(|i| passes(&repository, &[&i.repository]))
            .filter(|i| {
                passes(
                    &tags,
                    &i.tags.iter().map(String::as_str).collect::<Vec<_>>(),
                )
            })
            .filter(|i| passes(&status_code, &[&i.status_code]))
            .filter(|i| passes(&account, &[&i.account_id]))
            .map(coverage_entry)
            .collect();
        let end = (start + max as usize).min(matching.len());
        let page = matching
            .get(start.min(end)..end)
            .unwrap_or_default()
            .to_vec();
        let mut out = json!({ "coveredResources": page });
        if end < matching.len() {
            out["nextToken"] = json!(end.to_string());
        }
        Ok(out)
    }

    fn create_sbom_export(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let format = opt_str(input, "reportFormat")?
            .ok_or_else(|| validation("reportFormat is required"))?;
        if !matches!(format, "SPDX_2_3" | "CYCLONEDX_1_4") {
            return Err(validation(format!(
                "reportFormat {format:?} must be CYCLONEDX_1_4 or SPDX_2_3"
            )));
        }
        let destination = opt_object(input, "s3Destination")?
            .ok_or_else(|| validation("s3Destination is required"))?;
        let bucket = opt_str(destination, "bucketName")?
            .ok_or_else(|| validation("s3Destination.bucketName is required"))?;
        let kms = opt_str(destination, "kmsKeyArn")?
            .ok_or_else(|| validation("s3Destination.kmsKeyArn is required"))?;
        let prefix = opt_str(destination, "keyPrefix")?.unwrap_or_default();
        let criteria = opt_object(input, "resourceFilterCriteria")?;
        let resource_id = string_filters(criteria, "resourceId", false)?;
        let repository = string_filters(criteria, "ecrRepositoryName", false)?;
        let tags = string_filters(criteria, "ecrImageTags", false)?;
        let resource_type = string_filters(criteria, "resourceType", false)?;
        let account = string_filters(criteria, "accountId", false)?;

        let report_id = uuid::Uuid::new_v4().to_string();
        let created = rfc3339_now();
        let mut state = lock(&self.state);
        // Only scanned images have an SBOM to export.
        let files: Vec<(String, Vec<u8>)> = state
            .images
            .values()
            .filter(|i| i.region == ctx.region && i.scanned())
            .filter(|i| passes(&resource_id, &[&i.resource_id]))
            .filter(|i| passes(&repository, &[&i.repository]))
            .filter(|i| passes(&tags, &i.tags.iter().map(String::as_str).collect::<Vec<_>>()))
            .filter(|_| passes(&resource_type, &["AWS_ECR_CONTAINER_IMAGE"]))
            .filter(|i| passes(&account, &[&i.account_id]))
            .map(|i| {
                let facts = render::ImageFacts {
                    account_id: &i.account_id,
                    resource_id: &i.resource_id,
                    platform: &i.platform,
                    architecture: &i.architecture,
                    created: &created,
                };
                let doc = if format == "SPDX_2_3" {
                    render::spdx(&facts, &i.packages)
                } else {
                    // Inspector's imageId is the config digest, not the
                    // manifest digest; derive a stable stand-in from it.
                    let config_digest = format!("sha256:{}", i.digest[7..].chars().rev().collect::<String>());
                    render::cyclonedx(&facts, &config_digest, &i.packages)
                };
                let key = format!(
                    "{}{format}_outputs_{report_id}/account={}/resource=AWS_ECR_CONTAINER_IMAGE/{}_{format}.json",
                    if prefix.is_empty() { String::new() } else { format!("{}/", prefix.trim_end_matches('/')) },
                    i.account_id,
                    i.resource_id.replace('/', "_"),
                );
                (key, serde_json::to_vec(&doc).unwrap_or_default())
            })
            .collect();
        state.exports.insert(
            report_id.clone(),
            Export {
                account_id: ctx.account_id.clone(),
                region: ctx.region.clone(),
                format: format.to_string(),
                filter: criteria.cloned().unwrap_or_else(|| json!({})),
                destination: destination.clone(),
                status: "IN_PROGRESS".into(),
                error_code: None,
                error_message: None,
            },
        );
        let endpoint = state.s3_endpoint.clone();
        drop(state);

        let failure = if !valid_kms_key_arn(kms, &ctx.region) {
            Some((
                "MALFORMED_KMS_KEY",
                format!("{kms} is not a KMS key ARN in {}", ctx.region),
            ))
        } else if files.is_empty() {
            Some((
                "NO_FINDINGS_FOUND",
                "no scanned resource matches the filter".to_string(),
            ))
        } else if endpoint.is_none() {
            Some((
                "INTERNAL_ERROR",
                "local-aws has no S3 endpoint (POST /_local-aws/inspector2/s3-endpoint)"
                    .to_string(),
            ))
        } else {
            None
        };
        let state = Arc::clone(&self.state);
        let id = report_id.clone();
        let bucket = bucket.to_string();
        let finish = move |result: Result<(), (&'static str, String)>| {
            if let Some(e) = lock(&state).exports.get_mut(&id) {
                if e.status == "IN_PROGRESS" {
                    match result {
                        Ok(()) => e.status = "SUCCEEDED".into(),
                        Err((code, message)) => {
                            e.status = "FAILED".into();
                            e.error_code = Some(code.into());
                            e.error_message = Some(message);
                        }
                    }
                }
            }
        };
        match (failure, endpoint, tokio::runtime::Handle::try_current()) {
            (Some(f), _, _) => finish(Err(f)),
            (None, Some(endpoint), Ok(runtime)) => {
                runtime.spawn(async move { finish(write_files(&endpoint, &bucket, files).await) });
            }
            (None, _, _) => finish(Err((
                "INTERNAL_ERROR",
                "no async runtime to write the export".into(),
            ))),
        }
        Ok(json!({ "reportId": report_id }))
    }

    fn export<'a>(
        state: &'a mut State,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<&'a mut Export, AwsError> {
        let id = opt_str(input, "reportId")?.ok_or_else(|| validation("reportId is required"))?;
        state
            .exports
            .get_mut(id)
            .filter(|e| e.account_id == ctx.account_id && e.region == ctx.region)
            .ok_or_else(|| {
                AwsError::new(
                    "ResourceNotFoundException",
                    404,
                    format!("report {id} not found"),
                )
            })
    }

    fn get_sbom_export(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let mut state = lock(&self.state);
        let id = opt_str(input, "reportId")?.unwrap_or_default().to_string();
        let e = Self::export(&mut state, ctx, input)?;
        let mut out = json!({
            "reportId": id,
            "format": e.format,
            "status": e.status,
            "s3Destination": e.destination,
            "filterCriteria": e.filter,
        });
        if let Some(code) = &e.error_code {
            out["errorCode"] = json!(code);
            out["errorMessage"] = json!(e.error_message);
        }
        Ok(out)
    }

    fn cancel_sbom_export(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let mut state = lock(&self.state);
        let id = opt_str(input, "reportId")?.unwrap_or_default().to_string();
        let e = Self::export(&mut state, ctx, input)?;
        if e.status == "IN_PROGRESS" {
            e.status = "CANCELLED".into();
        }
        Ok(json!({ "reportId": id }))
    }
}

fn valid_kms_key_arn(arn: &str, region: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "kms"
        && parts[3] == region
        && parts[4].len() == 12
        && parts[5].strip_prefix("key/").is_some_and(|k| !k.is_empty())
}

//! The two events that name an image to export: Inspector's
//! `Inspector2 Scan` (scan complete; the primary trigger) and ECR's
//! `ECR Image Action` push (the blog's trigger, which races the scan).

use std::time::SystemTime;

use common::FunctionError;
use serde::Deserialize;
use serde_json::Value;

/// Which event named the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `Inspector2 Scan` with `scan-status` `INITIAL_SCAN_COMPLETE`.
    ScanComplete,
    /// `ECR Image Action` PUSH: Inspector may not have scanned it yet.
    Push,
}

/// One container image, by digest (tags are mutable and optional).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub trigger: Trigger,
    /// `arn:<partition>:ecr:<region>:<account>:repository/<name>`.
    pub repository_arn: String,
    /// `sha256:<64 hex>`.
    pub digest: String,
    pub tags: Vec<String>,
    /// When the event happened, if it says.
    pub time: Option<SystemTime>,
}

impl Image {
    /// Inspector's resource id of the image: repository ARN + `/` + digest.
    pub fn resource_id(&self) -> String {
        format!("{}/{}", self.repository_arn, self.digest)
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    region: String,
    time: Option<String>,
    detail: Value,
}

#[derive(Deserialize)]
struct ScanDetail {
    #[serde(rename = "scan-status")]
    scan_status: String,
    #[serde(rename = "repository-name")]
    repository_name: String,
    #[serde(rename = "image-digest")]
    image_digest: String,
    #[serde(rename = "image-tags", default)]
    image_tags: Vec<String>,
}

#[derive(Deserialize)]
struct PushDetail {
    #[serde(rename = "action-type")]
    action_type: String,
    result: String,
    #[serde(rename = "repository-name")]
    repository_name: String,
    #[serde(rename = "image-digest")]
    image_digest: String,
    #[serde(rename = "image-tag")]
    image_tag: Option<String>,
}

fn detail<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, FunctionError> {
    common::events::from_value(value).map_err(|m| invalid(format!("detail.{m}")))
}

fn invalid(m: impl Into<String>) -> FunctionError {
    FunctionError::invalid_event(m)
}

/// The image an event names, or an `InvalidEvent` error saying what and
/// where.
pub fn image(event: Value) -> Result<Image, FunctionError> {
    let e: Envelope = common::events::from_value(event).map_err(invalid)?;
    let time = e
        .time
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok());
    let image = match (e.source.as_str(), e.detail_type.as_str()) {
        ("aws.inspector2", "Inspector2 Scan") => {
            let d: ScanDetail = detail(e.detail)?;
            if d.scan_status != "INITIAL_SCAN_COMPLETE" {
                return Err(invalid(format!(
                    "detail.scan-status is {:?}; only INITIAL_SCAN_COMPLETE starts an export",
                    d.scan_status
                )));
            }
            validate_repository_arn(&d.repository_name)?;
            Image {
                trigger: Trigger::ScanComplete,
                repository_arn: d.repository_name,
                digest: d.image_digest,
                tags: d.image_tags,
                time,
            }
        }
        ("aws.ecr", "ECR Image Action") => {
            let d: PushDetail = detail(e.detail)?;
            if d.action_type != "PUSH" || d.result != "SUCCESS" {
                return Err(invalid(format!(
                    "ECR Image Action {} {}: only a successful PUSH starts an export",
                    d.action_type, d.result
                )));
            }
            if !common::aws::is_account_id(&e.account) || e.region.is_empty() {
                return Err(invalid("account and region of the ECR event are required to name the repository"));
            }
            if d.repository_name.is_empty() || d.repository_name.contains(':') {
                return Err(invalid(format!("detail.repository-name {:?} is not a repository name", d.repository_name)));
            }
            let partition = common::aws::partition_of(&e.region);
            Image {
                trigger: Trigger::Push,
                repository_arn: format!(
                    "arn:{partition}:ecr:{}:{}:repository/{}",
                    e.region, e.account, d.repository_name
                ),
                digest: d.image_digest,
                tags: d.image_tag.into_iter().filter(|t| !t.is_empty()).collect(),
                time,
            }
        }
        (source, detail_type) => {
            return Err(invalid(format!(
                "expected an aws.inspector2 \"Inspector2 Scan\" or aws.ecr \"ECR Image Action\" event, got {detail_type:?} from {source:?}"
            )))
        }
    };
    let hex = image.digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(format!(
            "detail.image-digest {:?} is not sha256:<64 hex digits>",
            image.digest
        )));
    }
    Ok(image)
}

/// `arn:<partition>:ecr:<region>:<account>:repository/<name>`, checked so a
/// crafted event cannot widen the export filter.
fn validate_repository_arn(arn: &str) -> Result<(), FunctionError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "ecr"
        && !parts[3].is_empty()
        && common::aws::is_account_id(parts[4])
        && parts[5].strip_prefix("repository/").is_some_and(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "detail.repository-name {arn:?} is not an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DIGEST: &str = "sha256:36c7b282abd0186e01419f2e58743e1bf635808231049bbc9d77e5a1b2c3d4e5";

    fn scan(detail: Value) -> Value {
        json!({"version": "0", "id": "739c0d3c", "detail-type": "Inspector2 Scan", "source": "aws.inspector2",
               "account": "123456789012", "time": "2021-12-03T18:03:16Z", "region": "us-east-2",
               "resources": ["arn:aws:ecr:us-east-2:123456789012:repository/amazon/amazon-ecs-sample"], "detail": detail})
    }

    #[test]
    fn scan_complete_event_from_the_docs() {
        let i = image(scan(json!({"scan-status": "INITIAL_SCAN_COMPLETE",
            "repository-name": "arn:aws:ecr:us-east-2:123456789012:repository/amazon/amazon-ecs-sample",
            "finding-severity-counts": {"CRITICAL": 7, "HIGH": 61, "MEDIUM": 62, "TOTAL": 158},
            "image-digest": DIGEST, "image-tags": ["latest"]})))
        .unwrap();
        assert_eq!(i.trigger, Trigger::ScanComplete);
        assert_eq!(
            i.resource_id(),
            format!(
                "arn:aws:ecr:us-east-2:123456789012:repository/amazon/amazon-ecs-sample/{DIGEST}"
            )
        );
        assert_eq!(i.tags, ["latest"]);
        assert!(i.time.is_some());
    }

    #[test]
    fn untagged_push_from_the_docs() {
        let i = image(json!({"version": "0", "id": "13cde686", "detail-type": "ECR Image Action", "source": "aws.ecr",
            "account": "123456789012", "time": "2019-11-16T01:54:34Z", "region": "us-west-2", "resources": [],
            "detail": {"result": "SUCCESS", "repository-name": "my-repository-name", "image-digest": DIGEST, "action-type": "PUSH"}}))
        .unwrap();
        assert_eq!(i.trigger, Trigger::Push);
        assert_eq!(
            i.resource_id(),
            format!("arn:aws:ecr:us-west-2:123456789012:repository/my-repository-name/{DIGEST}")
        );
        assert!(i.tags.is_empty());
    }

    #[test]
    fn rejects_what_names_no_single_image() {
        let cases = [
            (
                scan(
                    json!({"scan-status": "SCAN_COMPLETE", "repository-name": "arn:aws:ecr:us-east-2:123456789012:repository/a", "image-digest": DIGEST}),
                ),
                "INITIAL_SCAN_COMPLETE",
            ),
            (
                scan(json!({"scan-status": "INITIAL_SCAN_COMPLETE", "instance-id": "i-1"})),
                "detail.",
            ),
            (
                scan(
                    json!({"scan-status": "INITIAL_SCAN_COMPLETE", "repository-name": "a", "image-digest": DIGEST}),
                ),
                "not an ECR repository ARN",
            ),
            (
                scan(
                    json!({"scan-status": "INITIAL_SCAN_COMPLETE", "repository-name": "arn:aws:ecr:us-east-2:123456789012:repository/*", "image-digest": DIGEST}),
                ),
                "not an ECR repository ARN",
            ),
            (
                scan(
                    json!({"scan-status": "INITIAL_SCAN_COMPLETE", "repository-name": "arn:aws:ecr:us-east-2:123456789012:repository/a", "image-digest": "latest"}),
                ),
                "sha256:<64 hex",
            ),
            (
                json!({"detail-type": "ECR Image Action", "source": "aws.ecr", "account": "123456789012", "region": "us-west-2",
                    "detail": {"result": "SUCCESS", "repository-name": "r", "image-digest": DIGEST, "action-type": "DELETE"}}),
                "only a successful PUSH",
            ),
            (
                json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}),
                "expected an aws.inspector2",
            ),
            (json!({"source": "aws.ecr"}), "detail-type"),
        ];
        for (event, why) in cases {
            let e = image(event).unwrap_err();
            assert_eq!(e.kind, "InvalidEvent");
            assert!(e.message.contains(why), "{why}: {e}");
        }
    }
}

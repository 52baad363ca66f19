//! The events that start a transformation: EventBridge `Object Created`
//! (the template's trigger) and, for users wiring S3 notifications directly,
//! the S3 notification `Records` shape.
//!
//! S3 notifications URL-encode the key (`+` for space); EventBridge S3 events
//! carry it as stored (`:` and `=` arrive unencoded), so only the former is
//! decoded. `aws_lambda_events`' `url_decoded_key` is never filled by S3.

use common::s3_key::decode_s3_key;
use common::FunctionError;
use serde::Deserialize;
use serde_json::Value;

use crate::export_key::ECR_IMAGE_SEGMENT;

/// One object the event announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// The decoded key.
    pub key: String,
    /// The event's time (RFC 3339), if any.
    pub time: Option<String>,
}

impl ObjectRef {
    /// Whether the object is an ECR image SBOM the function converts; other
    /// exports (Lambda functions, EC2 instances) and non-JSON files are
    /// skipped (an unfiltered export writes them to the same bucket).
    pub fn is_ecr_image_sbom(&self) -> bool {
        self.key.ends_with(".json") && self.key.contains(&format!("/{ECR_IMAGE_SEGMENT}/"))
    }
}

#[derive(Deserialize)]
struct EventBridgeS3 {
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    time: Option<String>,
    detail: Detail,
}

#[derive(Deserialize)]
struct Detail {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
struct Object {
    key: String,
}

#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "Records")]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    #[serde(rename = "eventTime")]
    event_time: Option<String>,
    s3: RecordS3,
}

#[derive(Deserialize)]
struct RecordS3 {
    bucket: Bucket,
    object: Object,
}

/// The objects an event announces, or an `InvalidEvent` error naming what
/// is wrong and where.
pub fn objects(event: Value) -> Result<Vec<ObjectRef>, FunctionError> {
    if event.get("Records").is_some() {
        let n: Notification = common::events::from_value(event)
            .map_err(|e| FunctionError::invalid_event(format!("S3 notification: {e}")))?;
        let mut out = Vec::with_capacity(n.records.len());
        for (i, r) in n.records.into_iter().enumerate() {
            if !r.event_name.is_empty() && !r.event_name.starts_with("ObjectCreated:") {
                continue;
            }
            let key = decode_s3_key(&r.s3.object.key).map_err(|e| {
                FunctionError::invalid_event(format!("Records[{i}].s3.object.key: {e}"))
            })?;
            out.push(ObjectRef {
                bucket: r.s3.bucket.name,
                key,
                time: r.event_time,
            });
        }
        return Ok(out);
    }
    if event.get("detail-type").is_some() {
        let e: EventBridgeS3 = common::events::from_value(event)
            .map_err(|e| FunctionError::invalid_event(format!("EventBridge S3 event: {e}")))?;
        if e.source != "aws.s3" || e.detail_type != "Object Created" {
            return Err(FunctionError::invalid_event(format!(
                "expected an aws.s3 \"Object Created\" event, got {:?} from {:?}",
                e.detail_type, e.source
            )));
        }
        return Ok(vec![ObjectRef {
            bucket: e.detail.bucket.name,
            key: e.detail.object.key,
            time: e.time,
        }]);
    }
    Err(FunctionError::invalid_event(
        "expected an EventBridge S3 \"Object Created\" event or an S3 notification with Records",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn eventbridge_keys_are_taken_as_stored() {
        let o = objects(json!({
            "version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
            "account": "111122223333", "time": "2026-11-20T08:31:00Z", "region": "eu-west-1",
            "resources": [], "detail": {"version": "0", "bucket": {"name": "raw"},
            "object": {"key": "raw/SPDX_2_3_outputs_r/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/a+b.json", "size": 5}}
        }))
        .unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(
            o[0].key,
            "raw/SPDX_2_3_outputs_r/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/a+b.json"
        );
        assert_eq!(o[0].time.as_deref(), Some("2026-11-20T08:31:00Z"));
        assert!(o[0].is_ecr_image_sbom());
    }

    #[test]
    fn notification_keys_are_decoded() {
        let o = objects(json!({"Records": [
            {"eventName": "ObjectCreated:Put", "eventTime": "2026-11-20T08:31:00.000Z",
             "s3": {"bucket": {"name": "raw"}, "object": {"key": "raw/SPDX_2_3_outputs_r/account%3D111122223333/resource%3DAWS_ECR_CONTAINER_IMAGE/arn%3Aaws%3Aecr+x.json"}}},
            {"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "raw"}, "object": {"key": "gone.json"}}}
        ]}))
        .unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].key, "raw/SPDX_2_3_outputs_r/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr x.json");
    }

    #[test]
    fn other_objects_are_not_sboms() {
        let r = |key: &str| ObjectRef {
            bucket: "b".into(),
            key: key.into(),
            time: None,
        };
        assert!(
            !r("raw/SPDX_2_3_outputs_r/account=1/resource=AWS_LAMBDA_FUNCTION/f.json")
                .is_ecr_image_sbom()
        );
        assert!(
            !r("raw/SPDX_2_3_outputs_r/account=1/resource=AWS_ECR_CONTAINER_IMAGE/f.txt")
                .is_ecr_image_sbom()
        );
        assert!(!r("resource=AWS_ECR_CONTAINER_IMAGE/f.json").is_ecr_image_sbom());
    }

    #[test]
    fn bad_events_name_the_problem() {
        let e = objects(json!({"detail-type": "Object Deleted", "source": "aws.s3", "detail": {"bucket": {"name": "b"}, "object": {"key": "k"}}})).unwrap_err();
        assert_eq!(e.kind, "InvalidEvent");
        assert!(e.message.contains("Object Deleted"), "{e}");
        let e = objects(
            json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {}}}),
        )
        .unwrap_err();
        assert!(e.message.contains("detail.bucket"), "{e}");
        let e = objects(
            json!({"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": "bad%FF"}}}]}),
        )
        .unwrap_err();
        assert!(e.message.contains("Records[0].s3.object.key"), "{e}");
        let e = objects(json!({"hello": 1})).unwrap_err();
        assert!(e.message.contains("Object Created"), "{e}");
    }
}

//! What an event from the central bus asks for. Every field is untrusted:
//! the envelope comes from a spoke account's forwarding rule.

use serde_json::Value;

use common::events::EventBridgeEvent;

/// The collector's reading of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A config object version was written (PutObject, CopyObject, POST,
    /// CompleteMultipartUpload: every way an object is created).
    Upload(ObjectRef),
    /// An object version or delete marker was removed or created by a
    /// delete: the rules go only if the key has no current version any more.
    Deleted(ObjectRef),
    /// CloudTrail `DeleteVpc` that succeeded.
    VpcDeleted {
        account: String,
        region: String,
        vpc_id: String,
    },
    /// Nothing to do, and why (logged).
    Ignore(String),
}

/// The S3 object an event names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub account: String,
    /// The bucket's Region (where the spoke stack and its log group are).
    pub bucket_region: String,
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    /// S3's per-key ordering token, the message deduplication id.
    pub sequencer: Option<String>,
    pub event_id: String,
}

/// Reads `event`; an `Err` is an event of a shape no forwarding rule of the
/// spoke template produces.
pub fn classify(event: &EventBridgeEvent<Value>) -> Result<Trigger, String> {
    let source = event.source.as_str();
    let detail = &event.detail;
    let account = event.account.clone().unwrap_or_default();
    if !common::aws::is_account_id(&account) {
        return Err(format!("account {account:?} is not a 12-digit account id"));
    }
    match (source, event.detail_type.as_str()) {
        ("aws.s3", kind @ ("Object Created" | "Object Deleted")) => {
            let text = |path: &str| -> Option<String> {
                detail
                    .pointer(path)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let bucket = text("/bucket/name").ok_or("detail.bucket.name is missing")?;
            let raw_key = text("/object/key").ok_or("detail.object.key is missing")?;
            let key = common::s3_key::decode_s3_key(&raw_key)
                .map_err(|e| format!("detail.object.key: {e}"))?;
            let object = ObjectRef {
                account,
                bucket_region: event.region.clone().unwrap_or_default(),
                bucket,
                key,
                version_id: text("/object/version-id"),
                sequencer: text("/object/sequencer"),
                event_id: event.id.clone().unwrap_or_default(),
            };
            Ok(if kind == "Object Created" {
                Trigger::Upload(object)
            } else {
                Trigger::Deleted(object)
            })
        }
        ("aws.ec2", "AWS API Call via CloudTrail") => {
            let name = detail
                .get("eventName")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if name != "DeleteVpc" {
                return Ok(Trigger::Ignore(format!(
                    "CloudTrail event {name} is not DeleteVpc"
                )));
            }
            if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
                return Ok(Trigger::Ignore(format!(
                    "DeleteVpc failed ({code}); the VPC still exists"
                )));
            }
            let vpc_id = detail
                .pointer("/requestParameters/vpcId")
                .and_then(Value::as_str)
                .ok_or("detail.requestParameters.vpcId is missing")?;
            if !crate::validate::is_vpc_id(vpc_id) {
                return Err(format!(
                    "detail.requestParameters.vpcId {vpc_id:?} is not a VPC id"
                ));
            }
            let region = detail
                .get("awsRegion")
                .and_then(Value::as_str)
                .ok_or("detail.awsRegion is missing")?;
            // The event's own account is the spoke that forwarded it; a
            // differing recipient would be another tenant's VPC.
            if let Some(recipient) = detail.get("recipientAccountId").and_then(Value::as_str) {
                if recipient != account {
                    return Err(format!(
                        "recipientAccountId {recipient} differs from the event's account {account}"
                    ));
                }
            }
            Ok(Trigger::VpcDeleted {
                account,
                region: region.to_string(),
                vpc_id: vpc_id.to_string(),
            })
        }
        (source, kind) => Ok(Trigger::Ignore(format!(
            "{source} {kind:?} events do not change rules"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: Value) -> EventBridgeEvent<Value> {
        common::events::from_value(v).unwrap()
    }

    fn s3(kind: &str) -> Value {
        json!({"version": "0", "id": "e-1", "detail-type": kind, "source": "aws.s3", "account": "123456789123",
               "time": "2026-11-22T01:02:03Z", "region": "eu-west-1", "resources": [],
               "detail": {"bucket": {"name": "anfw-allowlist-eu-west-1-123456789123-local"},
                          "object": {"key": "eu-west-1-config.yaml", "version-id": "v2", "sequencer": "0062E99A88DC407460"},
                          "reason": "CopyObject"}})
    }

    #[test]
    fn s3_events_name_the_object_version() {
        let Trigger::Upload(o) = classify(&event(s3("Object Created"))).unwrap() else {
            panic!()
        };
        assert_eq!(
            (
                o.key.as_str(),
                o.version_id.as_deref(),
                o.sequencer.as_deref()
            ),
            (
                "eu-west-1-config.yaml",
                Some("v2"),
                Some("0062E99A88DC407460")
            )
        );
        assert!(matches!(
            classify(&event(s3("Object Deleted"))).unwrap(),
            Trigger::Deleted(_)
        ));
        assert!(matches!(
            classify(&event(s3("Object Restore Completed"))).unwrap(),
            Trigger::Ignore(_)
        ));
    }

    #[test]
    fn delete_vpc_counts_only_when_it_succeeded() {
        let mut e = json!({"version": "0", "id": "e-2", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
            "account": "123456789012", "time": "2026-11-22T01:02:03Z", "region": "eu-west-3", "resources": [],
            "detail": {"eventName": "DeleteVpc", "awsRegion": "eu-west-3", "recipientAccountId": "123456789012",
                       "requestParameters": {"vpcId": "vpc-0123456789abcdef0"}}});
        assert_eq!(
            classify(&event(e.clone())).unwrap(),
            Trigger::VpcDeleted {
                account: "123456789012".into(),
                region: "eu-west-3".into(),
                vpc_id: "vpc-0123456789abcdef0".into()
            }
        );
        e["detail"]["errorCode"] = json!("Client.DependencyViolation");
        assert!(
            matches!(classify(&event(e.clone())).unwrap(), Trigger::Ignore(r) if r.contains("DependencyViolation"))
        );
        e["detail"].as_object_mut().unwrap().remove("errorCode");
        e["detail"]["recipientAccountId"] = json!("999999999999");
        assert!(classify(&event(e)).unwrap_err().contains("differs"));
    }
}

//! Event envelopes shared by several functions.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// An EventBridge event with a typed `detail` (kebab-case envelope keys:
/// `detail-type`, `source`, `id`, `account`, `region`, `time`, `resources`).
pub type EventBridgeEvent<T> = aws_lambda_events::eventbridge::EventBridgeEvent<T>;

/// The id that ties an EventBridge event's log lines together across
/// functions: the event's own `id`, as Powertools' EventBridge correlation path.
pub fn correlation_id<T: Serialize + DeserializeOwned>(
    event: &EventBridgeEvent<T>,
) -> Option<&str> {
    event.id.as_deref()
}

/// Deserializes `value` into `T`; the error names the JSON path of the first
/// problem (`detail.bucket.name: invalid type: ...`), because serde_json's own
/// message only gives a line and column of a document nobody sees.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("{path}: {}", e.into_inner())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Detail {
        bucket: Bucket,
    }
    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Bucket {
        name: String,
    }

    #[test]
    fn envelope_parses_kebab_case_and_typed_detail() {
        let e: EventBridgeEvent<Detail> = from_value(serde_json::json!({
            "version": "0", "id": "abc", "detail-type": "Object Created", "source": "aws.s3",
            "account": "111122223333", "time": "2026-11-22T01:02:03Z", "region": "eu-west-1",
            "resources": [], "detail": {"bucket": {"name": "b"}}
        }))
        .unwrap();
        assert_eq!(e.detail_type, "Object Created");
        assert_eq!(e.detail.bucket.name, "b");
        assert_eq!(correlation_id(&e), Some("abc"));
    }

    #[test]
    fn errors_name_the_path() {
        let err = from_value::<EventBridgeEvent<Detail>>(serde_json::json!({
            "detail-type": "x", "source": "y", "detail": {"bucket": {"name": 5}}
        }))
        .unwrap_err();
        assert!(
            err.starts_with("detail.bucket.name: invalid type: integer `5`"),
            "{err}"
        );
        let err =
            from_value::<EventBridgeEvent<Detail>>(serde_json::json!({"source": "y"})).unwrap_err();
        assert!(err.contains("missing field `detail-type`"), "{err}");
    }
}

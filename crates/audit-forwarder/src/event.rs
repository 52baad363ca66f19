//! The EventBridge event an SQS message carries (the rule's target is the
//! queue, without an input transformer, so the body is the whole event).

use serde_json::Value;

/// The parts of an EventBridge event the forwarder uses. Every field comes
/// from untrusted input and is checked when parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// EventBridge's event id: unique per event, the default record key.
    pub id: String,
    /// Event time (RFC 3339), sent as the Kafka record timestamp so Flink's
    /// event-time windows see when the API call happened, not when it was
    /// forwarded.
    pub time: String,
    pub source: String,
    pub detail_type: String,
    pub account: String,
    pub region: String,
    /// The CloudTrail record (for CloudTrail events): what the topic carries,
    /// as the API-destination path's input transformer `<detail>` does.
    pub detail: Value,
    /// The whole event, for the record key pointer.
    pub raw: Value,
}

/// Why a message body is not an EventBridge event; names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError(pub String);

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an SQS message body.
pub fn parse_event(body: &str) -> Result<AuditEvent, EventError> {
    let raw: Value = serde_json::from_str(body)
        .map_err(|e| EventError(format!("the message body is not JSON: {e}")))?;
    let Value::Object(map) = &raw else {
        return Err(EventError(
            "the message body is not a JSON object (an EventBridge event)".into(),
        ));
    };
    let text = |name: &str| -> Result<String, EventError> {
        match map.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::String(_)) => Err(EventError(format!("event field {name:?} is empty"))),
            Some(_) => Err(EventError(format!("event field {name:?} is not a string"))),
            None => Err(EventError(format!(
                "event field {name:?} is missing (is the body an EventBridge event?)"
            ))),
        }
    };
    let time = text("time")?;
    humantime::parse_rfc3339_weak(&time).map_err(|e| {
        EventError(format!(
            "event field \"time\" {time:?} is not RFC 3339: {e}"
        ))
    })?;
    let detail = match map.get("detail") {
        Some(d @ Value::Object(_)) => d.clone(),
        Some(_) => return Err(EventError("event field \"detail\" is not an object".into())),
        None => return Err(EventError("event field \"detail\" is missing".into())),
    };
    Ok(AuditEvent {
        id: text("id")?,
        time,
        source: text("source")?,
        detail_type: text("detail-type")?,
        account: text("account")?,
        region: text("region")?,
        detail,
        raw,
    })
}

/// Where the record key comes from: a JSON pointer (RFC 6901) into the
/// event, e.g. `/id` (default) or `/detail/userIdentity/principalId` to keep
/// each principal's calls in one partition, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    None,
    Pointer(String),
}

impl std::str::FromStr for KeySource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(KeySource::None),
            p if p.starts_with('/') => Ok(KeySource::Pointer(p.to_string())),
            _ => Err("neither \"none\" nor a JSON pointer starting with '/'".into()),
        }
    }
}

impl Default for KeySource {
    fn default() -> Self {
        KeySource::Pointer("/id".into())
    }
}

impl KeySource {
    /// The key of `event`: a string as is, a number or boolean as its JSON
    /// text; absent, null or a structure means no key (Kafka then spreads
    /// records over partitions).
    pub fn key(&self, event: &AuditEvent) -> Option<String> {
        let KeySource::Pointer(p) = self else {
            return None;
        };
        match event.raw.pointer(p)? {
            Value::String(s) => Some(s.clone()),
            v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn sample() -> Value {
        json!({
            "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3",
            "account": "123456789012", "time": "2024-05-01T12:00:00Z", "region": "us-east-1",
            "resources": [],
            "detail": {"eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
                       "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE"}}
        })
    }

    #[test]
    fn parses_a_cloudtrail_event() {
        let e = parse_event(&sample().to_string()).unwrap();
        assert_eq!(e.id, "6a7e8feb-b491-4cf7-a9f1-bf3703467718");
        assert_eq!(e.detail_type, "AWS API Call via CloudTrail");
        assert_eq!(e.detail["eventName"], "ListBuckets");
        assert_eq!(KeySource::default().key(&e).as_deref(), Some(e.id.as_str()));
        let by_principal: KeySource = "/detail/userIdentity/principalId".parse().unwrap();
        assert_eq!(by_principal.key(&e).as_deref(), Some("AIDAEXAMPLE"));
        assert_eq!(
            "/detail/missing".parse::<KeySource>().unwrap().key(&e),
            None
        );
        assert_eq!(KeySource::None.key(&e), None);
        assert!("id".parse::<KeySource>().is_err());
    }

    #[test]
    fn bad_events_name_the_field() {
        let cases: Vec<(Value, &str)> = vec![
            (json!([1]), "not a JSON object"),
            (
                {
                    let mut v = sample();
                    v.as_object_mut().unwrap().remove("id");
                    v
                },
                "\"id\" is missing",
            ),
            (
                {
                    let mut v = sample();
                    v["time"] = json!("yesterday");
                    v
                },
                "\"time\" \"yesterday\" is not RFC 3339",
            ),
            (
                {
                    let mut v = sample();
                    v["detail"] = json!("x");
                    v
                },
                "\"detail\" is not an object",
            ),
            (
                {
                    let mut v = sample();
                    v["account"] = json!(1);
                    v
                },
                "\"account\" is not a string",
            ),
        ];
        for (body, expected) in cases {
            let err = parse_event(&body.to_string()).unwrap_err();
            assert!(err.0.contains(expected), "{err} lacks {expected}");
        }
        assert!(parse_event("{oops").unwrap_err().0.contains("not JSON"));
    }
}

//! The Confluent REST v3 produce API (`POST /kafka/v3/clusters/{cluster_id}/
//! topics/{topic_name}/records`) in streaming mode: the request body is one
//! `ProduceRequest` JSON document per record, concatenated, sent with
//! `Transfer-Encoding: chunked`; the response is HTTP 200 and one delivery
//! report per record, concatenated, in the same order, each with its own
//! `error_code` (200 = written). An HTTP error status means the request as a
//! whole was refused (authentication, unknown cluster/topic, throttling).

use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A record's value as the API carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordValue {
    /// `{"type": "JSON", "data": <value>}`: the same bytes on the topic as
    /// the API-destination path writes.
    Json(Value),
    /// `{"type": "BINARY", "data": "<base64>"}`: e.g. Schema-Registry-framed
    /// Avro, written to the topic byte for byte.
    Binary(Vec<u8>),
}

/// One record to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceRecord {
    pub key: Option<String>,
    pub value: RecordValue,
    /// RFC 3339; the record's Kafka timestamp.
    pub timestamp: Option<String>,
}

impl ProduceRecord {
    /// The record's `ProduceRequest` document, ready to be concatenated with
    /// the others of its request.
    pub fn to_request_document(&self) -> Bytes {
        let mut doc = Map::new();
        if let Some(key) = &self.key {
            doc.insert("key".into(), json!({"type": "STRING", "data": key}));
        }
        let value = match &self.value {
            RecordValue::Json(v) => json!({"type": "JSON", "data": v}),
            RecordValue::Binary(b) => json!({
                "type": "BINARY",
                "data": base64::engine::general_purpose::STANDARD.encode(b),
            }),
        };
        doc.insert("value".into(), value);
        if let Some(ts) = &self.timestamp {
            doc.insert("timestamp".into(), Value::String(ts.clone()));
        }
        Bytes::from(Value::Object(doc).to_string())
    }
}

/// One delivery report of the response stream.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeliveryReport {
    pub error_code: i64,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub partition_id: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

/// Reads the concatenated delivery reports. Returns the reports read before
/// the first malformed one, and a description of that problem: records
/// without a report were not confirmed and must be retried.
pub fn parse_delivery_reports(body: &[u8]) -> (Vec<DeliveryReport>, Option<String>) {
    let mut reports = Vec::new();
    for item in serde_json::Deserializer::from_slice(body).into_iter::<DeliveryReport>() {
        match item {
            Ok(r) => reports.push(r),
            Err(e) => {
                let problem = format!("delivery report {} is malformed: {e}", reports.len() + 1);
                return (reports, Some(problem));
            }
        }
    }
    (reports, None)
}

/// Whether trying the same record or request again can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Throttling (429), a timeout (408) or a server-side failure (5xx).
    Retryable,
    /// The record or request itself is refused (400, 401, 403, 404, 413,
    /// 415, 422...): sending it again gets the same answer.
    Permanent,
}

/// Classifies an HTTP status, or a per-record `error_code`. Per-record
/// codes are HTTP-like (200, 400, 404, 413, 429, 500); Kafka REST's
/// five-digit codes (`40403`, `50002`) carry the HTTP status in their first
/// three digits, so both forms classify alike.
pub fn classify(code: i64) -> Retry {
    let status = if code >= 10_000 { code / 100 } else { code };
    match status {
        408 | 429 | 500..=599 => Retry::Retryable,
        _ => Retry::Permanent,
    }
}

/// What happened to one record in the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Delivered { partition: i64, offset: i64 },
    Failed { retry: Retry, reason: String },
}

impl DeliveryReport {
    /// This report's outcome.
    pub fn outcome(&self) -> RecordOutcome {
        if self.error_code == 200 {
            return RecordOutcome::Delivered {
                partition: self.partition_id.unwrap_or(-1),
                offset: self.offset.unwrap_or(-1),
            };
        }
        RecordOutcome::Failed {
            retry: classify(self.error_code),
            reason: format!(
                "the cluster refused the record: error_code {} {}",
                self.error_code,
                self.message.as_deref().unwrap_or_default()
            )
            .trim_end()
            .to_string(),
        }
    }
}

/// The `{"error_code", "message"}` body of an HTTP error, as text for an
/// error message (at most 300 characters of anything else).
pub fn error_body_text(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error_code: Option<i64>,
        message: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            error_code,
            message,
        }) if error_code.is_some() || message.is_some() => format!(
            "error_code {} {}",
            error_code.unwrap_or_default(),
            message.unwrap_or_default()
        )
        .trim_end()
        .to_string(),
        _ => String::from_utf8_lossy(body).chars().take(300).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_documents_match_the_api_shapes() {
        let r = ProduceRecord {
            key: Some("k1".into()),
            value: RecordValue::Json(json!({"eventName": "ListBuckets"})),
            timestamp: Some("2024-05-01T12:00:00Z".into()),
        };
        assert_eq!(
            r.to_request_document(),
            r#"{"key":{"type":"STRING","data":"k1"},"value":{"type":"JSON","data":{"eventName":"ListBuckets"}},"timestamp":"2024-05-01T12:00:00Z"}"#
        );
        let b = ProduceRecord {
            key: None,
            value: RecordValue::Binary(vec![0, 0, 0, 0, 1, 2]),
            timestamp: None,
        };
        assert_eq!(
            b.to_request_document(),
            r#"{"value":{"type":"BINARY","data":"AAAAAAEC"}}"#
        );
    }

    #[test]
    fn concatenated_reports_are_read_in_order() {
        let body = br#"{"error_code":200,"cluster_id":"lkc-1","topic_name":"t","partition_id":0,"offset":7,"timestamp":"2024-05-01T12:00:00Z","value":{"type":"JSON","size":12}}
{"error_code":413,"message":"record too large"}{"error_code":429,"message":"throttled"}"#;
        let (reports, problem) = parse_delivery_reports(body);
        assert_eq!(problem, None);
        assert_eq!(reports.len(), 3);
        assert_eq!(
            reports[0].outcome(),
            RecordOutcome::Delivered {
                partition: 0,
                offset: 7
            }
        );
        assert_eq!(
            reports[1].outcome(),
            RecordOutcome::Failed {
                retry: Retry::Permanent,
                reason: "the cluster refused the record: error_code 413 record too large".into()
            }
        );
        assert!(matches!(
            reports[2].outcome(),
            RecordOutcome::Failed {
                retry: Retry::Retryable,
                ..
            }
        ));
    }

    #[test]
    fn a_truncated_stream_keeps_the_reports_before_it() {
        let (reports, problem) =
            parse_delivery_reports(br#"{"error_code":200,"offset":1} {"error_code":20"#);
        assert_eq!(reports.len(), 1);
        assert!(problem
            .unwrap()
            .starts_with("delivery report 2 is malformed"));
        let (reports, problem) = parse_delivery_reports(b"");
        assert!(reports.is_empty() && problem.is_none());
    }

    #[test]
    fn classification_of_http_and_kafka_rest_codes() {
        for code in [408, 429, 500, 502, 503, 50002, 50301] {
            assert_eq!(classify(code), Retry::Retryable, "{code}");
        }
        for code in [400, 401, 403, 404, 413, 415, 422, 40403, 42201] {
            assert_eq!(classify(code), Retry::Permanent, "{code}");
        }
    }

    #[test]
    fn error_bodies_become_short_text() {
        assert_eq!(
            error_body_text(br#"{"error_code":40101,"message":"Unauthorized"}"#),
            "error_code 40101 Unauthorized"
        );
        assert_eq!(error_body_text(&[b'x'; 1000]).len(), 300);
    }

    proptest! {
        /// Whatever the records hold, each request document is one JSON
        /// document, and concatenated documents split back into the same
        /// records (the property the server's stream parser relies on).
        #[test]
        fn concatenation_round_trips(keys in proptest::collection::vec(proptest::option::of(".{0,20}"), 1..8),
                                     data in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..8)) {
            let records: Vec<ProduceRecord> = keys.iter().zip(data.iter()).enumerate().map(|(i, (k, d))| ProduceRecord {
                key: k.clone(),
                value: if i % 2 == 0 { RecordValue::Binary(d.clone()) } else { RecordValue::Json(json!({"s": String::from_utf8_lossy(d)})) },
                timestamp: None,
            }).collect();
            let body: Vec<u8> = records.iter().flat_map(|r| r.to_request_document().to_vec()).collect();
            let parsed: Vec<Value> = serde_json::Deserializer::from_slice(&body).into_iter::<Value>().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(parsed.len(), records.len());
            for (p, r) in parsed.iter().zip(&records) {
                prop_assert_eq!(p.get("key").map(|k| k["data"].as_str().unwrap().to_string()), r.key.clone());
                if let RecordValue::Binary(b) = &r.value {
                    let decoded = base64::engine::general_purpose::STANDARD.decode(p["value"]["data"].as_str().unwrap()).unwrap();
                    prop_assert_eq!(&decoded, b);
                }
            }
        }
    }
}

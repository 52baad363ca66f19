//! The Avro form of an audit event and Confluent's wire framing.
//!
//! CloudTrail `detail` objects differ per API, so a schema of every field
//! would change with every new AWS API. The record instead carries the
//! fields detection rules filter and group on as typed columns, and the
//! whole `detail` as JSON text: Flink SQL can read the columns directly and
//! `JSON_VALUE` the rest, and the schema never has to evolve for a new API.

use apache_avro::types::Value as Avro;
use apache_avro::Schema;
use serde_json::Value;

use crate::event::AuditEvent;

/// The schema registered under the value subject.
pub const AUDIT_EVENT_SCHEMA: &str = r#"{
  "type": "record",
  "name": "AuditEvent",
  "namespace": "io.eventautomations.audit",
  "doc": "An AWS API call (CloudTrail via EventBridge): filterable fields typed, the CloudTrail record as JSON text.",
  "fields": [
    {"name": "event_id", "type": "string", "doc": "EventBridge event id"},
    {"name": "time", "type": "string", "doc": "event time, RFC 3339"},
    {"name": "account", "type": "string"},
    {"name": "region", "type": "string"},
    {"name": "source", "type": "string"},
    {"name": "detail_type", "type": "string"},
    {"name": "event_source", "type": ["null", "string"], "default": null},
    {"name": "event_name", "type": ["null", "string"], "default": null},
    {"name": "user_identity_type", "type": ["null", "string"], "default": null},
    {"name": "principal_id", "type": ["null", "string"], "default": null},
    {"name": "user_identity_arn", "type": ["null", "string"], "default": null},
    {"name": "source_ip_address", "type": ["null", "string"], "default": null},
    {"name": "user_agent", "type": ["null", "string"], "default": null},
    {"name": "read_only", "type": ["null", "boolean"], "default": null},
    {"name": "detail", "type": "string", "doc": "the event's detail object as JSON text"}
  ]
}"#;

/// The parsed schema (checked by a test, so `expect` cannot fire).
pub fn audit_event_schema() -> Schema {
    Schema::parse_str(AUDIT_EVENT_SCHEMA).expect("the built-in schema is valid")
}

fn optional_string(v: Option<&Value>) -> Avro {
    match v.and_then(Value::as_str) {
        Some(s) => Avro::Union(1, Box::new(Avro::String(s.to_string()))),
        None => Avro::Union(0, Box::new(Avro::Null)),
    }
}

/// The event as an Avro datum of [`AUDIT_EVENT_SCHEMA`] (no framing).
pub fn encode_datum(schema: &Schema, event: &AuditEvent) -> Result<Vec<u8>, String> {
    let d = &event.detail;
    // CloudTrail writes readOnly as a boolean; some services have sent "true".
    let read_only = match d.get("readOnly") {
        Some(Value::Bool(b)) => Avro::Union(1, Box::new(Avro::Boolean(*b))),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Avro::Union(1, Box::new(Avro::Boolean(true)))
        }
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Avro::Union(1, Box::new(Avro::Boolean(false)))
        }
        _ => Avro::Union(0, Box::new(Avro::Null)),
    };
    let identity = d.get("userIdentity");
    let record = Avro::Record(vec![
        ("event_id".into(), Avro::String(event.id.clone())),
        ("time".into(), Avro::String(event.time.clone())),
        ("account".into(), Avro::String(event.account.clone())),
        ("region".into(), Avro::String(event.region.clone())),
        ("source".into(), Avro::String(event.source.clone())),
        (
            "detail_type".into(),
            Avro::String(event.detail_type.clone()),
        ),
        ("event_source".into(), optional_string(d.get("eventSource"))),
        ("event_name".into(), optional_string(d.get("eventName"))),
        (
            "user_identity_type".into(),
            optional_string(identity.and_then(|i| i.get("type"))),
        ),
        (
            "principal_id".into(),
            optional_string(identity.and_then(|i| i.get("principalId"))),
        ),
        (
            "user_identity_arn".into(),
            optional_string(identity.and_then(|i| i.get("arn"))),
        ),
        (
            "source_ip_address".into(),
            optional_string(d.get("sourceIPAddress")),
        ),
        ("user_agent".into(), optional_string(d.get("userAgent"))),
        ("read_only".into(), read_only),
        ("detail".into(), Avro::String(d.to_string())),
    ]);
    apache_avro::writer::datum::GenericDatumWriter::builder(schema)
        .build()
        .and_then(|w| w.write_value_to_vec(record))
        .map_err(|e| format!("Avro encoding failed: {e}"))
}

/// Confluent wire format v0: magic byte 0, the schema id as a big-endian
/// 32-bit integer, then the datum.
pub fn frame(schema_id: u32, datum: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + datum.len());
    out.push(0);
    out.extend_from_slice(&schema_id.to_be_bytes());
    out.extend_from_slice(datum);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_event;
    use serde_json::json;

    #[test]
    fn encodes_and_decodes_back_with_the_schema() {
        let schema = audit_event_schema();
        let event = parse_event(
            &json!({
                "id": "e1", "time": "2024-05-01T12:00:00Z", "source": "aws.s3",
                "detail-type": "AWS API Call via CloudTrail", "account": "111122223333", "region": "eu-west-1",
                "detail": {"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "readOnly": true,
                           "userIdentity": {"type": "AssumedRole", "principalId": "AROA:me"}}
            })
            .to_string(),
        )
        .unwrap();
        let datum = encode_datum(&schema, &event).unwrap();
        let framed = frame(258, &datum);
        assert_eq!(&framed[..5], &[0, 0, 0, 1, 2]);
        let decoded = apache_avro::reader::datum::GenericDatumReader::builder(&schema)
            .build()
            .unwrap()
            .read_value(&mut &framed[5..])
            .unwrap();
        let Avro::Record(fields) = decoded else {
            panic!("not a record")
        };
        let field = |n: &str| fields.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(field("event_id"), Avro::String("e1".into()));
        assert_eq!(
            field("event_name"),
            Avro::Union(1, Box::new(Avro::String("GetObject".into())))
        );
        assert_eq!(
            field("read_only"),
            Avro::Union(1, Box::new(Avro::Boolean(true)))
        );
        assert_eq!(field("user_agent"), Avro::Union(0, Box::new(Avro::Null)));
        let Avro::String(detail) = field("detail") else {
            panic!()
        };
        assert_eq!(
            serde_json::from_str::<Value>(&detail).unwrap(),
            event.detail
        );
    }
}

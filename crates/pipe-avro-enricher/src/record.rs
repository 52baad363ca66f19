//! The records Pipes sends: a JSON array of Kafka records, MSK or
//! self-managed shape (spec §1.4). Parsed tolerantly: `partition` as a number
//! or a string, absent `key`/`headers`/`topic`, signed header bytes, 64-bit
//! offsets, a null `value` (tombstone). The record object itself is kept as
//! it came, so the output and the dead-letter body start from the original.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::Value;

/// Headers in order, duplicates kept, values as raw bytes.
pub type Headers<'a> = Vec<(Cow<'a, str>, Vec<u8>)>;

/// What a record's fields say, borrowed from the original JSON object (the
/// hot path copies nothing it does not have to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFields<'a> {
    pub topic: Option<Cow<'a, str>>,
    pub partition: Option<i64>,
    pub offset: Option<i64>,
    /// Base64 text of the key; `None` when absent or null.
    pub key: Option<Cow<'a, str>>,
    /// Base64 text of the value; `None` for a tombstone.
    pub value: Option<Cow<'a, str>>,
    pub headers: Headers<'a>,
}

/// A field with the wrong shape; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct RecordError {
    pub field: String,
    pub problem: String,
}

fn err(field: impl Into<String>, problem: impl Into<String>) -> RecordError {
    RecordError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// An integer given as a JSON number or a decimal string (the AWS docs' MSK
/// sample sends `"partition": "0"`).
pub(crate) fn integer(field: &str, value: Option<&Value>) -> Result<Option<i64>, RecordError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| err(field, format!("{n} is not a 64-bit integer"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| err(field, format!("{s:?} is not an integer"))),
        Some(other) => Err(err(
            field,
            format!("expected an integer, got {}", kind(other)),
        )),
    }
}

pub(crate) fn string<'a>(
    field: &str,
    value: Option<&'a Value>,
) -> Result<Option<&'a str>, RecordError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(err(
            field,
            format!("expected a string, got {}", kind(other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Headers: `[{"name": [byte, ...]}, ...]`. Bytes are Java's signed bytes
/// (-128..=127); unsigned 0..=255 is accepted too.
pub(crate) fn headers(value: Option<&Value>) -> Result<Headers<'_>, RecordError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(err(
                "headers",
                format!("expected an array, got {}", kind(other)),
            ))
        }
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let Value::Object(entries) = item else {
            return Err(err(
                format!("headers[{i}]"),
                format!("expected an object, got {}", kind(item)),
            ));
        };
        for (name, bytes) in entries {
            let Value::Array(bytes) = bytes else {
                return Err(err(
                    format!("headers[{i}].{name}"),
                    "expected an array of bytes",
                ));
            };
            let mut value = Vec::with_capacity(bytes.len());
            for (j, b) in bytes.iter().enumerate() {
                match b.as_i64() {
                    Some(b @ -128..=255) => value.push(b as u8),
                    _ => {
                        return Err(err(
                            format!("headers[{i}].{name}[{j}]"),
                            format!("{b} is not a byte"),
                        ))
                    }
                }
            }
            out.push((Cow::Borrowed(name.as_str()), value));
        }
    }
    Ok(out)
}

impl<'a> RecordFields<'a> {
    /// Reads the fields of one element of the Pipes array.
    pub fn parse(record: &'a Value) -> Result<RecordFields<'a>, RecordError> {
        let Value::Object(record) = record else {
            return Err(err(
                "record",
                format!("expected an object, got {}", kind(record)),
            ));
        };
        // One pass over the entries rather than a hashed lookup per field.
        let mut found: [Option<&Value>; 7] = [None; 7];
        for (name, value) in record {
            let slot = match name.as_str() {
                "eventSourceKey" => 0,
                "topic" => 1,
                "partition" => 2,
                "offset" => 3,
                "key" => 4,
                "value" => 5,
                "headers" => 6,
                _ => continue,
            };
            found[slot] = Some(value);
        }
        let [event_source_key, topic, partition, offset, key, value, header_list] = found;
        let text = |field, v| string(field, v).map(|s| s.map(Cow::Borrowed));
        Ok(Self::assemble(
            text("eventSourceKey", event_source_key)?,
            text("topic", topic)?,
            integer("partition", partition)?,
            integer("offset", offset)?,
            text("key", key)?,
            text("value", value)?,
            headers(header_list)?,
        ))
    }

    /// The fields once each is read (shared with [`crate::raw`]: the same checks in the same
    /// order give the same first error).
    pub(crate) fn assemble(
        event_source_key: Option<Cow<'a, str>>,
        topic: Option<Cow<'a, str>>,
        partition: Option<i64>,
        offset: Option<i64>,
        key: Option<Cow<'a, str>>,
        value: Option<Cow<'a, str>>,
        headers: Headers<'a>,
    ) -> Self {
        // "<topic>-<partition>": topics may contain '-', partitions do not.
        let topic = topic.or_else(|| match event_source_key? {
            Cow::Borrowed(k) => k.rsplit_once('-').map(|(t, _)| Cow::Borrowed(t)),
            Cow::Owned(k) => k.rsplit_once('-').map(|(t, _)| Cow::Owned(t.to_owned())),
        });
        RecordFields {
            topic,
            partition,
            offset,
            key,
            value,
            headers,
        }
    }

    /// The last header of that name (Confluent's `DualSchemaIdDeserializer`
    /// uses the last one).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Base64-decodes a key or value field.
///
/// SIMD first (values are the long part of every record); whatever it rejects is decided by
/// the `base64` crate, whose errors name the offending byte. So the answer is always the
/// `base64` crate's, as long as SIMD accepts nothing that crate rejects and decodes the same
/// bytes (`simd_and_scalar_base64_agree` below).
pub fn decode_base64(field: &str, text: &str) -> Result<Vec<u8>, RecordError> {
    let text = text.trim();
    base64_simd::STANDARD
        .decode_to_vec(text)
        .or_else(|_| BASE64.decode(text))
        .map_err(|e| err(field, format!("is not valid base64: {e}")))
}

/// Bytes shown to humans: the UTF-8 text, or standard base64 when the bytes
/// are not UTF-8.
pub fn readable(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(BASE64.encode(bytes)),
    }
}

/// Headers as `[{"name": "text"}]` when serialized, order and duplicates kept.
pub struct ReadableHeaders<'a>(pub &'a [(Cow<'a, str>, Vec<u8>)]);

impl serde::Serialize for ReadableHeaders<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct One<'h>(&'h str, &'h [u8]);
        impl serde::Serialize for One<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(self.0, &readable(self.1))?;
                m.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (name, bytes) in self.0 {
            seq.serialize_element(&One(name.as_ref(), bytes))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn scalar_agrees(text: &str) -> Result<(), TestCaseError> {
        if let Ok(simd) = base64_simd::STANDARD.decode_to_vec(text) {
            prop_assert_eq!(BASE64.decode(text).ok(), Some(simd), "{:?}", text);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// What the SIMD decoder accepts, the scalar one accepts with the same bytes (so trying
        /// SIMD first changes no answer): near-base64 text, and real encodings with one
        /// character changed (non-canonical trailing bits, misplaced padding).
        #[test]
        fn simd_and_scalar_base64_agree(
            noise in "[A-Za-z0-9+/=_\\-\\. ]{0,24}",
            bytes in prop::collection::vec(any::<u8>(), 0..40),
            at in any::<prop::sample::Index>(),
            with in prop::sample::select(b"AB/+=a9 ".to_vec()),
        ) {
            scalar_agrees(&noise)?;
            let encoded = BASE64.encode(&bytes);
            prop_assert_eq!(decode_base64("value", &encoded).ok(), Some(bytes));
            if !encoded.is_empty() {
                let mut changed = encoded.into_bytes();
                let i = at.index(changed.len());
                changed[i] = with;
                scalar_agrees(std::str::from_utf8(&changed).unwrap())?;
            }
        }
    }

    #[test]
    fn confluent_sample_record() {
        let input = json!({
            "topic": "topic_0", "partition": 3, "offset": 2136, "timestamp": 1698221925140u64,
            "timestampType": "CREATE_TIME", "key": "MTI0MzU=", "value": "AAABhqGmwgEKMTI0MzUKMTI0MzUAAAAAgEnIQA==",
            "headers": [{"task.generation": [48]}, {"task.id": [48]}, {"current.iteration": [49, 50, 52, 51, 53]}],
            "bootstrapServers": "smk://pkc-p11xm.us-east-1.aws.confluent.cloud:9092",
            "eventSource": "SelfManagedKafka", "eventSourceKey": "topic_0-3"
        });
        let r = RecordFields::parse(&input).unwrap();
        assert_eq!(r.topic.as_deref(), Some("topic_0"));
        assert_eq!((r.partition, r.offset), (Some(3), Some(2136)));
        assert_eq!(r.header("current.iteration"), Some(&b"12435"[..]));
        assert_eq!(
            serde_json::to_value(ReadableHeaders(&r.headers)).unwrap(),
            json!([{"task.generation": "0"}, {"task.id": "0"}, {"current.iteration": "12435"}])
        );
    }

    #[test]
    fn msk_sample_without_topic_key_headers_and_with_string_partition() {
        let input = json!({
            "partition": "0", "offset": 9007199254740993i64, "eventSourceKey": "messages-2-0", "value": null
        });
        let r = RecordFields::parse(&input).unwrap();
        assert_eq!(r.topic.as_deref(), Some("messages-2"));
        assert_eq!(r.partition, Some(0));
        assert_eq!(r.offset, Some(9007199254740993));
        assert_eq!(r.key, None);
        assert_eq!(r.value, None);
        assert!(r.headers.is_empty());
    }

    #[test]
    fn signed_header_bytes_and_last_header_wins() {
        let input = json!({"headers": [{"n": [-61, -85]}, {"x": [255]}, {"n": [104, 105]}]});
        let r = RecordFields::parse(&input).unwrap();
        assert_eq!(r.headers[0].1, "ë".as_bytes());
        assert_eq!(r.header("n"), Some(&b"hi"[..]));
        assert_eq!(readable(&[0xff]), "/w==");
    }

    #[test]
    fn malformed_fields_are_named() {
        let e = RecordFields::parse(&json!({"partition": true})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "partition: expected an integer, got a boolean"
        );
        let e = RecordFields::parse(&json!({"headers": [{"h": [1, 300]}]})).unwrap_err();
        assert_eq!(e.to_string(), "headers[0].h[1]: 300 is not a byte");
        let e = RecordFields::parse(&json!("nope")).unwrap_err();
        assert_eq!(e.to_string(), "record: expected an object, got a string");
        let e = decode_base64("value", "!!").unwrap_err();
        assert!(
            e.to_string().starts_with("value: is not valid base64"),
            "{e}"
        );
    }
}

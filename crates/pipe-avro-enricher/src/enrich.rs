//! The enrichment itself: each Pipes record to its JSON form, or to a dead
//! letter with the reason. Pure but for the schema source, so it is tested
//! without AWS and shared by the Lambda handler and the offline `decode`
//! command.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::join_all;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::avro_json::{decode_for, ReaderSchema, WriterSchema};
use crate::dead_letters::{DeadLetter, FailureKind};
use crate::framing::{parse_frame, SchemaRef, WireFormat};
use crate::mask::MaskRules;
use crate::record::{decode_base64, readable, readable_headers, RecordFields};
use crate::registry::{FetchError, SchemaSource};
use crate::schema_cache::SchemaCache;

/// The EventBridge event bus target accepts at most 10 entries per batch.
pub const DEFAULT_MAX_OUTPUT_RECORDS: usize = 10;
/// Lambda's 6 MB response limit, less room for the runtime's envelope.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 6 * 1024 * 1024 - 4 * 1024;

/// How records are turned into JSON.
pub struct Settings {
    pub wire_format: WireFormat,
    pub max_output_records: usize,
    pub max_output_bytes: usize,
    pub mask: MaskRules,
    /// Reader schema per topic, for Avro schema resolution.
    pub reader_schemas: HashMap<String, Arc<ReaderSchema>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            wire_format: WireFormat::Auto,
            max_output_records: DEFAULT_MAX_OUTPUT_RECORDS,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
            mask: MaskRules::default(),
            reader_schemas: HashMap::new(),
        }
    }
}

/// What one batch became.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Each element already serialized: the response is assembled from them
    /// without a second serialization.
    pub output: Vec<Box<RawValue>>,
    pub dead_letters: Vec<DeadLetter>,
}

/// A record's Kafka position, for its dead letter.
#[derive(Debug, Clone, Default)]
struct Position {
    topic: Option<String>,
    partition: Option<i64>,
    offset: Option<i64>,
}

impl Position {
    fn of(fields: &RecordFields<'_>) -> Self {
        Position {
            topic: fields.topic.as_deref().map(str::to_string),
            partition: fields.partition,
            offset: fields.offset,
        }
    }
}

/// A record's failure: its own fault, or the registry's (fails the batch).
enum Failure {
    Record {
        /// Where the record came from, when its fields could be read.
        position: Option<Position>,
        kind: FailureKind,
        message: String,
        schema_id: Option<Value>,
    },
    Unavailable(String),
}

fn record_failure(
    kind: FailureKind,
    message: impl Into<String>,
    schema_id: Option<Value>,
) -> Failure {
    Failure::Record {
        position: None,
        kind,
        message: message.into(),
        schema_id,
    }
}

/// The JSON form of a schema reference in the output and dead letters:
/// Confluent ids as numbers, GUIDs and Glue version ids as strings.
pub fn schema_id_json(schema: &SchemaRef) -> Value {
    match schema {
        SchemaRef::ConfluentId(id) => Value::from(*id),
        SchemaRef::ConfluentGuid(g) | SchemaRef::GlueVersion(g) => Value::from(g.to_string()),
    }
}

/// The enricher: settings, a schema source and the schema cache that
/// survives across invocations.
pub struct Enricher<S> {
    pub settings: Settings,
    source: S,
    cache: SchemaCache<SchemaRef, WriterSchema>,
}

impl<S: SchemaSource> Enricher<S> {
    pub fn new(settings: Settings, source: S, cache_capacity: usize) -> Self {
        Enricher {
            settings,
            source,
            cache: SchemaCache::new(cache_capacity),
        }
    }

    /// The source, e.g. to resolve reader schemas at start-up.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// Turns a batch into output and dead letters. Fails only when a schema
    /// registry could not answer: then no record is at fault, and the
    /// invocation must fail so Pipes retries the batch.
    pub async fn enrich(&self, records: Vec<Value>) -> Result<Outcome, String> {
        // Concurrent on one task: decoding is CPU work, but schema fetches of
        // different ids overlap, and the cache joins fetches of the same id.
        let results = join_all(records.iter().map(|r| self.enrich_one(r))).await;
        let mut outcome = Outcome::default();
        let mut bytes = 2; // "[" and "]"
        let mut overflowing = false;
        for (record, result) in records.into_iter().zip(results) {
            let (position, failure) = match result {
                Ok(json) => {
                    let size = json.get().len() + 1;
                    // Once one record overflows, later ones follow it, so the
                    // output stays an in-order prefix of the batch.
                    overflowing = overflowing
                        || outcome.output.len() >= self.settings.max_output_records
                        || bytes + size > self.settings.max_output_bytes;
                    if !overflowing {
                        bytes += size;
                        outcome.output.push(json);
                        continue;
                    }
                    let message = format!(
                        "output limit reached ({} records or {} bytes); this record was decoded but not returned",
                        self.settings.max_output_records, self.settings.max_output_bytes
                    );
                    // Decoded records parse; the position is only needed here.
                    let position = RecordFields::parse(&record).ok().map(|f| Position::of(&f));
                    (position, (FailureKind::Overflow, message, None))
                }
                Err(Failure::Record {
                    position,
                    kind,
                    message,
                    schema_id,
                }) => (position, (kind, message, schema_id)),
                Err(Failure::Unavailable(message)) => return Err(message),
            };
            let (kind, message, schema_id) = failure;
            let position = position.unwrap_or_default();
            outcome.dead_letters.push(DeadLetter {
                topic: position.topic,
                partition: position.partition,
                offset: position.offset,
                record,
                kind,
                message,
                schema_id,
            });
        }
        Ok(outcome)
    }

    async fn enrich_one(&self, record: &Value) -> Result<Box<RawValue>, Failure> {
        let fields = RecordFields::parse(record)
            .map_err(|e| record_failure(FailureKind::InvalidRecord, e.to_string(), None))?;
        match self.enrich_fields(record, &fields).await {
            Ok(json) => Ok(json),
            Err(Failure::Record {
                kind,
                message,
                schema_id,
                ..
            }) => Err(Failure::Record {
                position: Some(Position::of(&fields)),
                kind,
                message,
                schema_id,
            }),
            Err(unavailable) => Err(unavailable),
        }
    }

    async fn enrich_fields(
        &self,
        record: &Value,
        fields: &RecordFields<'_>,
    ) -> Result<Box<RawValue>, Failure> {
        let reader = fields
            .topic
            .as_deref()
            .and_then(|t| self.settings.reader_schemas.get(t))
            .map(Arc::as_ref);

        // Value: a tombstone stays null and is a success.
        let mut value_schema = None;
        let mut value = Value::Null;
        if let Some(text) = fields.value {
            let bytes = decode_base64("value", text)
                .map_err(|e| record_failure(FailureKind::Base64, e.to_string(), None))?;
            let (schema, mut json) = self
                .decode_framed(&bytes, fields.header("__value_schema_id"), reader, "value")
                .await?;
            self.settings.mask.apply(&mut json);
            value_schema = Some(schema);
            value = json;
        }

        // Key: framed keys decode like values; others are text (or base64).
        let mut key_schema = None;
        let key = match fields.key {
            None => Value::Null,
            Some(text) => {
                let bytes = decode_base64("key", text)
                    .map_err(|e| record_failure(FailureKind::Base64, e.to_string(), None))?;
                let header = fields.header("__key_schema_id");
                if header.is_some() || looks_framed(&bytes, self.settings.wire_format) {
                    let (schema, json) = self.decode_framed(&bytes, header, None, "key").await?;
                    key_schema = Some(schema);
                    json
                } else {
                    readable(&bytes)
                }
            }
        };

        let Value::Object(original) = record else {
            unreachable!("RecordFields::parse accepts objects only")
        };
        let headers = original
            .contains_key("headers")
            .then(|| readable_headers(&fields.headers));
        let output = OutputRecord {
            original,
            key: &key,
            value: &value,
            headers: headers.as_ref(),
            value_schema: value_schema.as_ref().map(schema_id_json),
            key_schema: key_schema.as_ref().map(schema_id_json),
        };
        // Serialized straight into the raw output: no clone of the input
        // record and no second parse of the text.
        serde_json::value::to_raw_value(&output)
            .map_err(|e| record_failure(FailureKind::Decode, e.to_string(), None))
    }

    async fn decode_framed(
        &self,
        bytes: &[u8],
        header: Option<&[u8]>,
        reader: Option<&ReaderSchema>,
        field: &str,
    ) -> Result<(SchemaRef, Value), Failure> {
        let framed = parse_frame(bytes, self.settings.wire_format, header)
            .map_err(|e| record_failure(FailureKind::Framing, format!("{field}: {e}"), None))?;
        let id = Some(schema_id_json(&framed.schema));
        let writer = self
            .writer_schema(&framed.schema)
            .await
            .map_err(|f| match f {
                Failure::Record { kind, message, .. } => {
                    record_failure(kind, format!("{field}: {message}"), id.clone())
                }
                unavailable => unavailable,
            })?;
        let json = decode_for(&framed.schema, &framed.payload, &writer, reader).map_err(|e| {
            record_failure(FailureKind::Decode, format!("{field}: {e}"), id.clone())
        })?;
        Ok((framed.schema, json))
    }

    /// The parsed writer schema, from the cache or the registry.
    async fn writer_schema(&self, schema: &SchemaRef) -> Result<Arc<WriterSchema>, Failure> {
        self.cache
            .get_or_fetch(schema, || async {
                let fetched = self.source.fetch(schema).await.map_err(|e| match e {
                    FetchError::NotFound(m) => record_failure(FailureKind::SchemaNotFound, m, None),
                    FetchError::Invalid(m) => record_failure(FailureKind::SchemaInvalid, m, None),
                    FetchError::Unavailable(m) => Failure::Unavailable(m),
                })?;
                WriterSchema::parse(&fetched.main, &fetched.references).map_err(|e| {
                    record_failure(FailureKind::SchemaInvalid, format!("{schema}: {e}"), None)
                })
            })
            .await
    }
}

/// The output record: the input record's fields in their order, with
/// `key`, `value` and `headers` decoded, then the schema ids.
struct OutputRecord<'a> {
    original: &'a serde_json::Map<String, Value>,
    key: &'a Value,
    value: &'a Value,
    headers: Option<&'a Value>,
    value_schema: Option<Value>,
    key_schema: Option<Value>,
}

impl serde::Serialize for OutputRecord<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (name, v) in self.original {
            let v = match name.as_str() {
                "key" => self.key,
                "value" => self.value,
                "headers" => self.headers.unwrap_or(v),
                _ => v,
            };
            map.serialize_entry(name, v)?;
        }
        for (name, v) in [("key", self.key), ("value", self.value)] {
            if !self.original.contains_key(name) {
                map.serialize_entry(name, v)?;
            }
        }
        if let Some(id) = &self.value_schema {
            map.serialize_entry("valueSchemaId", id)?;
        }
        if let Some(id) = &self.key_schema {
            map.serialize_entry("keySchemaId", id)?;
        }
        map.end()
    }
}

/// Whether an unlabelled key carries schema-registry framing: it starts with
/// a framing byte and parses as a frame. Text keys never start with 0x00,
/// 0x01 or 0x03.
fn looks_framed(bytes: &[u8], format: WireFormat) -> bool {
    matches!(bytes.first(), Some(0x00 | 0x01 | 0x03)) && parse_frame(bytes, format, None).is_ok()
}

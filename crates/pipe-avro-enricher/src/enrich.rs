//! The enrichment itself: each Pipes record to its JSON form, or to a dead
//! letter with the reason. Pure but for the schema source, so it is tested
//! without AWS and shared by the Lambda handler and the offline `decode`
//! command.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::join_all;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::avro_json::{decode_for_output, Decoded, ReaderSchema, WriterSchema};
use crate::dead_letters::{DeadLetter, FailureKind};
use crate::framing::{parse_frame, Framed, SchemaRef, WireFormat};
use crate::mask::MaskRules;
use crate::output::{Array, Boxed, Field, Original, OutputRecord, Sink};
use crate::raw::Element;
use crate::record::{decode_base64, readable, ReadableHeaders, RecordError, RecordFields};
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

/// What a raw batch became ([`Enricher::enrich_raw`]).
#[derive(Debug)]
pub struct RawOutcome {
    /// The output array, ready to be the response.
    pub output: Box<RawValue>,
    /// How many records it holds.
    pub records: usize,
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
        position: Option<Box<Position>>,
        kind: FailureKind,
        message: String,
        schema_id: Option<Value>,
    },
    Unavailable(String),
    /// The batch fast path met a schema not cached yet: the record is decoded again once the
    /// schema is fetched. Never reaches the outcome.
    Miss {
        schema: SchemaRef,
        field: &'static str,
    },
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
        let mut output = Boxed(Vec::with_capacity(records.len()));
        let dead_letters = self.enrich_into(records, &mut output).await?;
        Ok(Outcome {
            output: output.0,
            dead_letters,
        })
    }

    /// [`Enricher::enrich`] for a batch read as raw JSON ([`crate::raw`]): the same records
    /// out and the same dead letters, the output written as one JSON array.
    pub async fn enrich_raw(&self, records: Vec<Element<'_>>) -> Result<RawOutcome, String> {
        // Room for every record's members, its value rendered at about three times its base64.
        let estimate = records
            .iter()
            .map(|r| match r {
                Element::Object(members) => members
                    .iter()
                    .map(|m| m.name_json.len() + 2 + m.value_json.len() * 3)
                    .sum(),
                Element::Other(_) => 0,
            })
            .sum();
        let mut output = Array::with_capacity(estimate);
        let dead_letters = self.enrich_into(records, &mut output).await?;
        Ok(RawOutcome {
            records: output.count(),
            output: output.finish(),
            dead_letters,
        })
    }

    async fn enrich_into<R: Source, K: Sink>(
        &self,
        records: Vec<R>,
        output: &mut K,
    ) -> Result<Vec<DeadLetter>, String> {
        // The usual batch: every schema cached, so one plain loop, one cache lookup per
        // distinct schema. Decoding is pure, so a miss just sends the batch the async way.
        let mut known = Known {
            cache: &self.cache,
            schemas: Vec::new(),
        };
        let fast: Option<Vec<_>> = records
            .iter()
            .map(|r| match self.enrich_one::<R, K>(r, &mut known, output) {
                Err(Failure::Miss { .. }) => None,
                result => Some(result),
            })
            .collect();
        let results = match fast {
            Some(results) => results,
            // Concurrent on one task: decoding is CPU work, but schema fetches of
            // different ids overlap, and the cache joins fetches of the same id.
            None => {
                output.discard();
                let output = &*output;
                join_all(
                    records
                        .iter()
                        .map(|r| self.enrich_fetching::<R, K>(r, known.clone(), output)),
                )
                .await
            }
        };
        let mut dead_letters = Vec::new();
        let mut bytes = 2; // "[" and "]"
        let mut count = 0;
        let mut overflowing = false;
        for (record, result) in records.into_iter().zip(results) {
            let (position, failure) = match result {
                Ok(json) => {
                    let size = K::size(&json) + 1;
                    // Once one record overflows, later ones follow it, so the
                    // output stays an in-order prefix of the batch.
                    overflowing = overflowing
                        || count >= self.settings.max_output_records
                        || bytes + size > self.settings.max_output_bytes;
                    if !overflowing {
                        bytes += size;
                        count += 1;
                        output.push(json);
                        continue;
                    }
                    let message = format!(
                        "output limit reached ({} records or {} bytes); this record was decoded but not returned",
                        self.settings.max_output_records, self.settings.max_output_bytes
                    );
                    // Decoded records parse; the position is only needed here.
                    let position = record.fields().ok().map(|f| Box::new(Position::of(&f)));
                    (position, (FailureKind::Overflow, message, None))
                }
                Err(Failure::Record {
                    position,
                    kind,
                    message,
                    schema_id,
                }) => (position, (kind, message, schema_id)),
                Err(Failure::Unavailable(message)) => return Err(message),
                Err(Failure::Miss { schema, .. }) => {
                    return Err(format!("{schema}: not resolved (a bug)"))
                }
            };
            let (kind, message, schema_id) = failure;
            let position = position.map(|p| *p).unwrap_or_default();
            dead_letters.push(DeadLetter {
                topic: position.topic,
                partition: position.partition,
                offset: position.offset,
                record: record.into_record(),
                kind,
                message,
                schema_id,
            });
        }
        Ok(dead_letters)
    }

    /// [`Enricher::enrich_one`], fetching each schema it misses and decoding again (every step
    /// before a schema lookup is pure, so the record fails or succeeds as if fetched in place).
    async fn enrich_fetching<R: Source, K: Sink>(
        &self,
        record: &R,
        mut known: Known<'_>,
        output: &K,
    ) -> Result<K::Json, Failure> {
        loop {
            let (schema, field) = match self.enrich_one::<R, K>(record, &mut known, output) {
                Err(Failure::Miss { schema, field }) => (schema, field),
                done => return done,
            };
            match self.writer_schema(&schema).await {
                Ok(writer) => known.schemas.push((schema, writer)),
                Err(Failure::Record { kind, message, .. }) => {
                    return Err(Failure::Record {
                        position: record.fields().ok().map(|f| Box::new(Position::of(&f))),
                        kind,
                        message: format!("{field}: {message}"),
                        schema_id: Some(schema_id_json(&schema)),
                    })
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// One record decoded with the schemas `known` holds; [`Failure::Miss`] when it needs another.
    fn enrich_one<R: Source, K: Sink>(
        &self,
        record: &R,
        known: &mut Known<'_>,
        output: &K,
    ) -> Result<K::Json, Failure> {
        let fields = record
            .fields()
            .map_err(|e| record_failure(FailureKind::InvalidRecord, e.to_string(), None))?;
        let original = record.original();
        let rendered = self.enrich_fields(&fields, known, |record| {
            output.render(&OutputRecord { original, ..record })
        });
        match rendered {
            Ok(json) => Ok(json),
            Err(Failure::Record {
                kind,
                message,
                schema_id,
                ..
            }) => Err(Failure::Record {
                position: Some(Box::new(Position::of(&fields))),
                kind,
                message,
                schema_id,
            }),
            Err(unavailable) => Err(unavailable),
        }
    }

    /// Decodes the key and value and hands the output record (its `original` not yet set) to
    /// `render`, while the decoded data it borrows is alive.
    fn enrich_fields<J>(
        &self,
        fields: &RecordFields<'_>,
        known: &mut Known<'_>,
        render: impl FnOnce(OutputRecord<'_>) -> Result<J, serde_json::Error>,
    ) -> Result<J, Failure> {
        let reader = fields
            .topic
            .as_deref()
            .and_then(|t| self.settings.reader_schemas.get(t))
            .map(Arc::as_ref);

        // Value: a tombstone stays null and is a success.
        let value_bytes = match &fields.value {
            Some(text) => Some(
                decode_base64("value", text)
                    .map_err(|e| record_failure(FailureKind::Base64, e.to_string(), None))?,
            ),
            None => None,
        };
        let value_datum = match &value_bytes {
            Some(bytes) => Some(framed(
                bytes,
                self.settings.wire_format,
                fields.header("__value_schema_id"),
                "value",
                known,
            )?),
            None => None,
        };
        let value = match &value_datum {
            None => Field::Null,
            Some(datum) => {
                let decoded = datum.decode(reader, "value")?;
                if self.settings.mask.is_empty() {
                    Field::Decoded(decoded)
                } else {
                    let mut json = decoded.into_json();
                    self.settings.mask.apply(&mut json);
                    Field::Decoded(Decoded::json(json))
                }
            }
        };

        // Key: framed keys decode like values; others are text (or base64).
        let key_bytes = match &fields.key {
            Some(text) => Some(
                decode_base64("key", text)
                    .map_err(|e| record_failure(FailureKind::Base64, e.to_string(), None))?,
            ),
            None => None,
        };
        let key_header = fields.header("__key_schema_id");
        let key_datum = match &key_bytes {
            Some(bytes)
                if key_header.is_some() || looks_framed(bytes, self.settings.wire_format) =>
            {
                Some(framed(
                    bytes,
                    self.settings.wire_format,
                    key_header,
                    "key",
                    known,
                )?)
            }
            _ => None,
        };
        let key = match (&key_datum, &key_bytes) {
            (Some(datum), _) => Field::Decoded(datum.decode(None, "key")?),
            (None, Some(bytes)) => Field::Text(readable(bytes)),
            (None, None) => Field::Null,
        };

        let output = OutputRecord {
            original: Original::None,
            key: &key,
            value: &value,
            headers: ReadableHeaders(&fields.headers),
            value_schema: value_datum
                .as_ref()
                .map(|d| schema_id_json(&d.frame.schema)),
            key_schema: key_datum.as_ref().map(|d| schema_id_json(&d.frame.schema)),
        };
        // Serialized straight into the output: no clone of the input record, no value tree for
        // the decoded Avro and no second parse of the text.
        render(output).map_err(|e| record_failure(FailureKind::Decode, e.to_string(), None))
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

/// The writer schemas a batch has looked up so far, in front of the shared cache (whose lock is
/// then taken once per distinct schema, not per record).
#[derive(Clone)]
struct Known<'c> {
    cache: &'c SchemaCache<SchemaRef, WriterSchema>,
    schemas: Vec<(SchemaRef, Arc<WriterSchema>)>,
}

impl Known<'_> {
    fn writer(
        &mut self,
        schema: &SchemaRef,
        field: &'static str,
    ) -> Result<Arc<WriterSchema>, Failure> {
        if let Some((_, writer)) = self.schemas.iter().find(|(s, _)| s == schema) {
            return Ok(writer.clone());
        }
        let writer = self.cache.cached(schema).ok_or_else(|| Failure::Miss {
            schema: schema.clone(),
            field,
        })?;
        self.schemas.push((schema.clone(), writer.clone()));
        Ok(writer)
    }
}

/// A framed key or value with its writer schema, if `known` has it.
fn framed<'b>(
    bytes: &'b [u8],
    format: WireFormat,
    header: Option<&[u8]>,
    field: &'static str,
    known: &mut Known<'_>,
) -> Result<FramedDatum<'b>, Failure> {
    let frame = parse_frame(bytes, format, header)
        .map_err(|e| record_failure(FailureKind::Framing, format!("{field}: {e}"), None))?;
    let writer = known.writer(&frame.schema, field)?;
    Ok(FramedDatum { frame, writer })
}

/// A key or value with its writer schema.
struct FramedDatum<'b> {
    frame: Framed<'b>,
    writer: Arc<WriterSchema>,
}

impl FramedDatum<'_> {
    fn decode(&self, reader: Option<&ReaderSchema>, field: &str) -> Result<Decoded<'_>, Failure> {
        decode_for_output(
            &self.frame.schema,
            &self.frame.payload,
            &self.writer,
            reader,
        )
        .map_err(|e| {
            record_failure(
                FailureKind::Decode,
                format!("{field}: {e}"),
                Some(schema_id_json(&self.frame.schema)),
            )
        })
    }
}

/// A batch element as the enrichment sees it: parsed (`Value`) or raw ([`Element`]).
trait Source {
    fn fields(&self) -> Result<RecordFields<'_>, RecordError>;
    /// The record to write the output around; called only once [`Source::fields`] succeeded.
    fn original(&self) -> Original<'_>;
    /// The original record, for its dead letter.
    fn into_record(self) -> Value;
}

impl Source for Value {
    fn fields(&self) -> Result<RecordFields<'_>, RecordError> {
        RecordFields::parse(self)
    }
    fn original(&self) -> Original<'_> {
        match self {
            Value::Object(members) => Original::Parsed(members),
            _ => Original::None,
        }
    }
    fn into_record(self) -> Value {
        self
    }
}

impl Source for Element<'_> {
    fn fields(&self) -> Result<RecordFields<'_>, RecordError> {
        Element::fields(self)
    }
    fn original(&self) -> Original<'_> {
        match self {
            Element::Object(members) => Original::Raw(members),
            Element::Other(_) => Original::None,
        }
    }
    fn into_record(self) -> Value {
        self.to_value()
    }
}

/// Whether an unlabelled key carries schema-registry framing: it starts with
/// a framing byte and parses as a frame. Text keys never start with 0x00,
/// 0x01 or 0x03.
fn looks_framed(bytes: &[u8], format: WireFormat) -> bool {
    matches!(bytes.first(), Some(0x00 | 0x01 | 0x03)) && parse_frame(bytes, format, None).is_ok()
}

//! Turning events into produce documents: the record key, timestamp and
//! value (JSON, or Avro framed with the schema id the registry gives).

use std::future::Future;

use apache_avro::Schema;
use bytes::Bytes;
use common::backoff::Backoff;
use common::FunctionError;
use tokio::sync::OnceCell;

use crate::avro::{audit_event_schema, encode_datum, frame, AUDIT_EVENT_SCHEMA};
use crate::config::ValueFormat;
use crate::delivery::KafkaRest;
use crate::event::{parse_event, KeySource};
use crate::produce::{ProduceRecord, RecordValue};

/// Port: a Confluent schema registry.
pub trait SchemaRegistry {
    /// Registers `schema` under `subject` (idempotent: an existing identical
    /// schema gets its existing id).
    fn register(
        &self,
        subject: &str,
        schema: &str,
    ) -> impl Future<Output = Result<u32, FunctionError>> + Send;
    /// The id of `schema` if it is registered under `subject`.
    fn lookup(
        &self,
        subject: &str,
        schema: &str,
    ) -> impl Future<Output = Result<u32, FunctionError>> + Send;
}

/// No registry (JSON values) or one.
impl<R: SchemaRegistry + Sync> SchemaRegistry for Option<R> {
    async fn register(&self, subject: &str, schema: &str) -> Result<u32, FunctionError> {
        match self {
            Some(r) => r.register(subject, schema).await,
            None => Err(no_registry()),
        }
    }
    async fn lookup(&self, subject: &str, schema: &str) -> Result<u32, FunctionError> {
        match self {
            Some(r) => r.lookup(subject, schema).await,
            None => Err(no_registry()),
        }
    }
}

fn no_registry() -> FunctionError {
    FunctionError::permanent("NoSchemaRegistry", "no schema registry is configured")
}

/// Everything the handler needs: the two ports and the settings.
pub struct Forwarder<K, R> {
    pub rest: K,
    pub registry: R,
    pub format: ValueFormat,
    pub key: KeySource,
    pub backoff: Backoff,
    /// Time kept free before the invocation deadline: one request's timeout
    /// and a margin to answer.
    pub deadline_reserve: std::time::Duration,
    schema: Schema,
    /// Resolved on the first batch, then for the sandbox's life: schema ids
    /// are immutable, so one registry call per cold start.
    schema_id: OnceCell<u32>,
}

impl<K: KafkaRest, R: SchemaRegistry> Forwarder<K, R> {
    pub fn new(
        rest: K,
        registry: R,
        format: ValueFormat,
        key: KeySource,
        backoff: Backoff,
    ) -> Self {
        Forwarder {
            rest,
            registry,
            format,
            key,
            backoff,
            deadline_reserve: std::time::Duration::from_secs(11),
            schema: audit_event_schema(),
            schema_id: OnceCell::new(),
        }
    }

    /// The value schema's id, from the registry once. `None` for JSON.
    pub async fn schema_id(&self) -> Result<Option<u32>, FunctionError> {
        let ValueFormat::Avro(avro) = &self.format else {
            return Ok(None);
        };
        let id = self
            .schema_id
            .get_or_try_init(|| async {
                let id = if avro.auto_register {
                    self.registry
                        .register(&avro.subject, AUDIT_EVENT_SCHEMA)
                        .await
                } else {
                    self.registry
                        .lookup(&avro.subject, AUDIT_EVENT_SCHEMA)
                        .await
                }?;
                tracing::info!(
                    subject = avro.subject,
                    schema_id = id,
                    "value schema resolved"
                );
                Ok::<u32, FunctionError>(id)
            })
            .await?;
        Ok(Some(*id))
    }

    /// The produce document of one SQS message body; an error names what is
    /// wrong with the message.
    pub fn document(&self, body: &str, schema_id: Option<u32>) -> Result<Bytes, FunctionError> {
        let event = parse_event(body).map_err(|e| FunctionError::invalid_event(e.0))?;
        let value = match schema_id {
            None => RecordValue::Json(event.detail.clone()),
            Some(id) => {
                let datum = encode_datum(&self.schema, &event)
                    .map_err(|e| FunctionError::permanent("AvroEncodingFailed", e))?;
                RecordValue::Binary(frame(id, &datum))
            }
        };
        Ok(ProduceRecord {
            key: self.key.key(&event),
            value,
            timestamp: Some(event.time),
        }
        .to_request_document())
    }
}

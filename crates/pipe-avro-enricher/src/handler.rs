//! The Lambda handler: a Pipes batch in, the decoded records out, the rest
//! dead-lettered with the reason.

use common::{FunctionError, Invocation};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::dead_letters::{DeadLetterSink, MessageQueue, ObjectStore};
use crate::enrich::Enricher;
use crate::registry::SchemaSource;

/// Enriches one batch.
///
/// Never fails for a bad record (Pipes would retry a Kafka batch forever);
/// fails when a registry cannot answer or the dead letters cannot be written,
/// so Pipes retries the batch and nothing is lost.
pub async fn handle<S, Q, O>(
    records: Vec<Value>,
    invocation: Invocation,
    enricher: &Enricher<S>,
    dead_letters: &DeadLetterSink<Q, O>,
) -> Result<Vec<Box<RawValue>>, FunctionError>
where
    S: SchemaSource,
    Q: MessageQueue,
    O: ObjectStore,
{
    if let Some(first) = records.first() {
        let key = first
            .get("eventSourceKey")
            .and_then(Value::as_str)
            .unwrap_or("batch");
        let offset = first
            .get("offset")
            .map(Value::to_string)
            .unwrap_or_default();
        common::logging::set_correlation_id(&format!("{key}@{offset}"));
    }
    let received = records.len();
    let outcome = enricher
        .enrich(records)
        .await
        .map_err(|m| FunctionError::retryable("SchemaRegistryUnavailable", m))?;
    for letter in &outcome.dead_letters {
        tracing::warn!(
            kind = letter.kind.as_str(),
            topic = letter.topic.as_deref().unwrap_or_default(),
            partition = letter.partition,
            offset = letter.offset,
            "record dead-lettered: {}",
            letter.message
        );
    }
    if !outcome.dead_letters.is_empty() {
        let time = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        dead_letters.send_all(&outcome.dead_letters, &time).await?;
    }
    let metrics = &invocation.metrics;
    metrics.count("RecordsReceived", received);
    metrics.count("RecordsDecoded", outcome.output.len());
    metrics.count("RecordsDeadLettered", outcome.dead_letters.len());
    tracing::info!(
        received,
        decoded = outcome.output.len(),
        dead_lettered = outcome.dead_letters.len(),
        "batch enriched"
    );
    Ok(outcome.output)
}

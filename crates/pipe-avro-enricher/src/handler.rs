//! The Lambda handler: a Pipes batch in, the decoded records out, the rest
//! dead-lettered with the reason.

use common::{FunctionError, Invocation};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::dead_letters::{DeadLetter, DeadLetterSink, MessageQueue, ObjectStore};
use crate::enrich::Enricher;
use crate::raw::parse_batch;
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
        let key = first.get("eventSourceKey").and_then(Value::as_str);
        let offset = first.get("offset").map(Value::to_string);
        correlate(key, offset.as_deref());
    }
    let received = records.len();
    let outcome = enricher.enrich(records).await.map_err(unavailable)?;
    let decoded = outcome.output.len();
    finish(
        received,
        decoded,
        &outcome.dead_letters,
        &invocation,
        dead_letters,
    )
    .await?;
    Ok(outcome.output)
}

/// [`handle`] for the event as Lambda delivers it, unparsed: what the function runs. Members
/// of a record other than `key`, `value` and `headers` are copied to the output as they came;
/// the output array is the response as is.
pub async fn handle_raw<S, Q, O>(
    event: Box<RawValue>,
    invocation: Invocation,
    enricher: &Enricher<S>,
    dead_letters: &DeadLetterSink<Q, O>,
) -> Result<Box<RawValue>, FunctionError>
where
    S: SchemaSource,
    Q: MessageQueue,
    O: ObjectStore,
{
    let records = parse_batch(&event).map_err(|e| {
        FunctionError::invalid_event(format!("event does not match the expected shape: {e}"))
    })?;
    if let Some(first) = records.first() {
        let key = first
            .member("eventSourceKey")
            .and_then(|json| serde_json::from_str::<&str>(json).ok());
        correlate(key, first.member("offset"));
    }
    let received = records.len();
    let outcome = enricher.enrich_raw(records).await.map_err(unavailable)?;
    finish(
        received,
        outcome.records,
        &outcome.dead_letters,
        &invocation,
        dead_letters,
    )
    .await?;
    Ok(outcome.output)
}

fn correlate(event_source_key: Option<&str>, offset: Option<&str>) {
    let key = event_source_key.unwrap_or("batch");
    let offset = offset.unwrap_or_default();
    common::logging::set_correlation_id(&format!("{key}@{offset}"));
}

fn unavailable(message: String) -> FunctionError {
    FunctionError::retryable("SchemaRegistryUnavailable", message)
}

/// Sends the dead letters, then counts and logs the batch.
async fn finish<Q: MessageQueue, O: ObjectStore>(
    received: usize,
    decoded: usize,
    letters: &[DeadLetter],
    invocation: &Invocation,
    dead_letters: &DeadLetterSink<Q, O>,
) -> Result<(), FunctionError> {
    for letter in letters {
        tracing::warn!(
            kind = letter.kind.as_str(),
            topic = letter.topic.as_deref().unwrap_or_default(),
            partition = letter.partition,
            offset = letter.offset,
            "record dead-lettered: {}",
            letter.message
        );
    }
    if !letters.is_empty() {
        let time = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        dead_letters.send_all(letters, &time).await?;
    }
    let metrics = &invocation.metrics;
    metrics.count("RecordsReceived", received);
    metrics.count("RecordsDecoded", decoded);
    metrics.count("RecordsDeadLettered", letters.len());
    tracing::info!(
        received,
        decoded,
        dead_lettered = letters.len(),
        "batch enriched"
    );
    Ok(())
}

//! The Lambda handler: an SQS batch in, one streamed produce request out,
//! the records the cluster did not take reported back to SQS.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use common::{FailureClass, FunctionError, Invocation};

use crate::delivery::{deliver, KafkaRest};
use crate::forward::{Forwarder, SchemaRegistry};
use crate::produce::{RecordOutcome, Retry};

/// Forwards one batch.
///
/// A record that is not an EventBridge event, or that the cluster refuses
/// (too large, invalid), is reported in `batchItemFailures`, so SQS
/// redelivers it and after `maxReceiveCount` moves it to the DLQ; the reason
/// is logged with its message id. The invocation fails when nothing can be
/// produced (bad credentials, unknown topic, registry down, every record
/// failed), so the alarm fires and SQS keeps the whole batch.
pub async fn handle<K, R>(
    event: SqsEvent,
    invocation: Invocation,
    forwarder: &Forwarder<K, R>,
) -> Result<SqsBatchResponse, FunctionError>
where
    K: KafkaRest,
    R: SchemaRegistry,
{
    let received = event.records.len();
    if let Some(id) = event.records.first().and_then(|r| r.message_id.as_deref()) {
        common::logging::set_correlation_id(id);
    }
    let schema_id = if received > 0 {
        forwarder.schema_id().await?
    } else {
        None
    };

    let mut results: Vec<Result<(), FunctionError>> = Vec::with_capacity(received);
    let mut documents = Vec::with_capacity(received);
    let mut slots = Vec::with_capacity(received);
    for record in &event.records {
        let body = record.body.as_deref().unwrap_or_default();
        match forwarder.document(body, schema_id) {
            Ok(doc) => {
                slots.push(results.len());
                documents.push(doc);
                results.push(Ok(()));
            }
            Err(e) => results.push(Err(e)),
        }
    }

    let retry_until = retry_deadline(&invocation, forwarder.deadline_reserve);
    let delivery = deliver(&forwarder.rest, &documents, &forwarder.backoff, retry_until).await?;
    let mut produced = 0;
    for (slot, outcome) in slots.into_iter().zip(delivery.outcomes) {
        match outcome {
            RecordOutcome::Delivered { .. } => produced += 1,
            RecordOutcome::Failed { retry, reason } => {
                results[slot] = Err(match retry {
                    Retry::Retryable => {
                        FunctionError::new("RecordNotDelivered", FailureClass::Retryable, reason)
                    }
                    Retry::Permanent => FunctionError::permanent("RecordRefused", reason),
                })
            }
        }
    }

    let metrics = &invocation.metrics;
    metrics.count("RecordsReceived", received);
    metrics.count("RecordsProduced", produced);
    metrics.count("RecordsFailed", received - produced);
    metrics.count("ProduceRequests", delivery.requests);
    tracing::info!(
        received,
        produced,
        failed = received - produced,
        requests = delivery.requests,
        "batch forwarded"
    );

    let mut results = results.into_iter();
    common::batch::process_sqs_batch(event, move |_| {
        let result = results.next().unwrap_or(Ok(()));
        async move { result }
    })
    .await
}

/// When the last retry round may start: the invocation deadline less
/// `reserve`. `None` without a deadline (tests, the offline harness).
fn retry_deadline(
    invocation: &Invocation,
    reserve: std::time::Duration,
) -> Option<tokio::time::Instant> {
    if invocation.context.deadline == 0 {
        return None;
    }
    let left = invocation
        .context
        .deadline()
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    Some(tokio::time::Instant::now() + left.saturating_sub(reserve))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    use aws_lambda_events::sqs::SqsMessage;
    use bytes::Bytes;
    use common::backoff::Backoff;
    use serde_json::{json, Value};

    use crate::config::{AvroSettings, ValueFormat};
    use crate::delivery::{ProduceError, ProduceResponse};
    use crate::event::KeySource;
    use crate::produce::DeliveryReport;

    /// Refuses records whose document contains "too-big", accepts the rest.
    #[derive(Default)]
    struct Cluster {
        requests: Mutex<Vec<Vec<Value>>>,
    }

    impl KafkaRest for Cluster {
        async fn produce(&self, documents: Vec<Bytes>) -> Result<ProduceResponse, ProduceError> {
            let docs: Vec<Value> = documents
                .iter()
                .map(|d| serde_json::from_slice(d).unwrap())
                .collect();
            let reports = docs
                .iter()
                .map(|d| DeliveryReport {
                    error_code: if d.to_string().contains("too-big") {
                        413
                    } else {
                        200
                    },
                    message: None,
                    partition_id: Some(0),
                    offset: Some(0),
                })
                .collect();
            self.requests.lock().unwrap().push(docs);
            Ok(ProduceResponse {
                reports,
                truncated: None,
            })
        }
    }

    #[derive(Default)]
    struct Registry {
        calls: AtomicUsize,
    }

    impl SchemaRegistry for Registry {
        async fn register(&self, subject: &str, _: &str) -> Result<u32, FunctionError> {
            assert_eq!(subject, "audit-value");
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(7)
        }
        async fn lookup(&self, _: &str, _: &str) -> Result<u32, FunctionError> {
            unreachable!("auto-register is on")
        }
    }

    fn message(id: &str, body: String) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body);
        m.event_source_arn = Some("arn:aws:sqs:us-east-1:123456789012:audit".into());
        m
    }

    fn event_body(id: &str, name: &str) -> String {
        json!({"id": id, "time": "2024-05-01T12:00:00Z", "source": "aws.s3",
               "detail-type": "AWS API Call via CloudTrail", "account": "123456789012",
               "region": "us-east-1", "detail": {"eventName": name}})
        .to_string()
    }

    fn forwarder(format: ValueFormat) -> Forwarder<Cluster, Registry> {
        Forwarder::new(
            Cluster::default(),
            Registry::default(),
            format,
            KeySource::default(),
            Backoff {
                base: Duration::from_millis(1),
                cap: Duration::from_millis(1),
                max_attempts: 2,
            },
        )
    }

    fn batch(messages: Vec<SqsMessage>) -> SqsEvent {
        let mut e = SqsEvent::default();
        e.records = messages;
        e
    }

    #[tokio::test]
    async fn one_request_and_per_record_failures() {
        let f = forwarder(ValueFormat::Json);
        let event = batch(vec![
            message("m1", event_body("e1", "ListBuckets")),
            message("m2", "not json".into()),
            message("m3", event_body("e3", "too-big")),
            message("m4", event_body("e4", "GetObject")),
        ]);
        let response = handle(event, Invocation::for_test(), &f).await.unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m2", "m3"]);
        let requests = f.rest.requests.lock().unwrap();
        assert_eq!(requests.len(), 1, "a batch is one request");
        assert_eq!(requests[0].len(), 3, "the unparseable body is not sent");
        assert_eq!(
            requests[0][0],
            json!({"key": {"type": "STRING", "data": "e1"},
                   "value": {"type": "JSON", "data": {"eventName": "ListBuckets"}},
                   "timestamp": "2024-05-01T12:00:00Z"})
        );
    }

    #[tokio::test]
    async fn avro_values_are_framed_with_the_registered_id_resolved_once() {
        let f = forwarder(ValueFormat::Avro(AvroSettings {
            registry_secret: "sr".into(),
            subject: "audit-value".into(),
            auto_register: true,
        }));
        for _ in 0..2 {
            let event = batch(vec![message("m1", event_body("e1", "ListBuckets"))]);
            let r = handle(event, Invocation::for_test(), &f).await.unwrap();
            assert!(r.batch_item_failures.is_empty());
        }
        assert_eq!(f.registry.calls.load(Ordering::SeqCst), 1);
        let requests = f.rest.requests.lock().unwrap();
        let value = &requests[0][0]["value"];
        assert_eq!(value["type"], "BINARY");
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(&bytes[..5], &[0, 0, 0, 0, 7]);
    }

    #[tokio::test]
    async fn a_batch_of_only_bad_records_fails_the_invocation() {
        let f = forwarder(ValueFormat::Json);
        let err = handle(
            batch(vec![message("m1", "[]".into())]),
            Invocation::for_test(),
            &f,
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, "AllRecordsFailed");
        assert!(f.rest.requests.lock().unwrap().is_empty());
    }
}

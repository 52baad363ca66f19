//! Dead letters: records that cannot be turned into JSON go to an SQS queue
//! with the reason, never silently away.
//!
//! Each message body is the original record, unmodified (base64 intact), plus
//! `error.kind`, `error.message`, the schema id and the record's position; the
//! kind and topic are also message attributes for filtering. A body too large
//! for SQS is written to S3 and the message carries a claim check instead of
//! the record. Entries go out with `SendMessageBatch` in chunks of 10 (and
//! within the batch size limit); failed entries are retried with backoff; if
//! they still fail, the invocation fails so Pipes retries the batch rather
//! than losing the records.

use std::future::Future;

use common::backoff::Backoff;
use common::FunctionError;
use serde_json::{json, Value};

/// Why a record was dead-lettered (`error.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The element is not a Kafka record Pipes could have sent (wrong field types).
    InvalidRecord,
    Base64,
    Framing,
    SchemaNotFound,
    SchemaInvalid,
    Decode,
    /// Decoded fine but beyond the output limits (`MAX_OUTPUT_RECORDS`, 6 MB).
    Overflow,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::InvalidRecord => "invalid_record",
            FailureKind::Base64 => "base64",
            FailureKind::Framing => "framing",
            FailureKind::SchemaNotFound => "schema_not_found",
            FailureKind::SchemaInvalid => "schema_invalid",
            FailureKind::Decode => "decode",
            FailureKind::Overflow => "overflow",
        }
    }
}

/// One record that did not make it, with everything needed to replay it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub record: Value,
    pub kind: FailureKind,
    pub message: String,
    pub schema_id: Option<Value>,
    pub topic: Option<String>,
    pub partition: Option<i64>,
    pub offset: Option<i64>,
}

impl DeadLetter {
    /// The message body.
    pub fn body(&self, time: &str) -> Value {
        json!({
            "record": self.record,
            "error": {"kind": self.kind.as_str(), "message": self.message},
            "schemaId": self.schema_id,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "time": time,
        })
    }

    /// A stable name for the record: its Kafka position, which is unique, so a
    /// retried batch writes the same S3 key and FIFO dedup id.
    fn position(&self) -> Option<String> {
        match (&self.topic, self.partition, self.offset) {
            (Some(t), Some(p), Some(o)) => Some(format!("{t}-{p}-{o}")),
            _ => None,
        }
    }
}

/// One SQS message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// Unique within a batch.
    pub id: String,
    pub body: String,
    pub attributes: Vec<(String, String)>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
}

/// An entry SQS did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEntry {
    pub id: String,
    pub code: String,
    pub sender_fault: bool,
}

/// Port: `SendMessageBatch` on the dead-letter queue.
pub trait MessageQueue: Send + Sync {
    fn send_batch(
        &self,
        messages: &[QueueMessage],
    ) -> impl Future<Output = Result<Vec<FailedEntry>, FunctionError>> + Send;
}

/// Port: write a claim-checked body to S3.
pub trait ObjectStore: Send + Sync {
    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(), FunctionError>> + Send;
}

/// SQS's historical per-message and per-batch limit, and the template's
/// `MaximumMessageSize`.
pub const SQS_MAX_BYTES: usize = 262_144;
/// Room for attributes and the batch envelope.
const ATTRIBUTE_ALLOWANCE: usize = 1_024;

/// The dead-letter destination: a queue and a claim-check bucket.
pub struct DeadLetterSink<Q, S> {
    pub queue: Q,
    pub store: S,
    pub bucket: String,
    pub fifo: bool,
    pub max_message_bytes: usize,
    pub retry: Backoff,
}

impl<Q: MessageQueue, S: ObjectStore> DeadLetterSink<Q, S> {
    /// Sends every letter or fails.
    pub async fn send_all(&self, letters: &[DeadLetter], time: &str) -> Result<(), FunctionError> {
        let mut messages = Vec::with_capacity(letters.len());
        for (i, letter) in letters.iter().enumerate() {
            messages.push(self.message(i, letter, time).await?);
        }
        for chunk in chunks(&messages, self.max_message_bytes) {
            self.send_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn message(
        &self,
        index: usize,
        letter: &DeadLetter,
        time: &str,
    ) -> Result<QueueMessage, FunctionError> {
        let position = letter.position();
        let mut body = letter.body(time).to_string();
        if body.len() + ATTRIBUTE_ALLOWANCE > self.max_message_bytes {
            let key = format!(
                "dead-letters/{}/{}.json",
                letter.kind.as_str(),
                position
                    .clone()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
            );
            self.store
                .put(&self.bucket, &key, body.into_bytes())
                .await?;
            let mut small = letter.body(time);
            small["record"] = Value::Null;
            small["claimCheck"] = json!({"bucket": self.bucket, "key": key});
            body = small.to_string();
        }
        let mut attributes = vec![("errorKind".to_string(), letter.kind.as_str().to_string())];
        if let Some(topic) = &letter.topic {
            attributes.push(("topic".to_string(), topic.clone()));
        }
        let dedup = position.clone().map(|p| {
            format!("{p}-{}", letter.kind.as_str())
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(128)
                .collect()
        });
        Ok(QueueMessage {
            id: index.to_string(),
            body,
            attributes,
            group_id: self.fifo.then(|| {
                letter
                    .topic
                    .as_ref()
                    .map(|t| format!("{t}-{}", letter.partition.unwrap_or_default()))
                    .unwrap_or_else(|| "unknown".into())
                    .chars()
                    .filter(|c| c.is_ascii_graphic())
                    .take(128)
                    .collect()
            }),
            dedup_id: if self.fifo {
                dedup.or_else(|| Some(uuid::Uuid::new_v4().to_string()))
            } else {
                None
            },
        })
    }

    async fn send_chunk(&self, chunk: &[QueueMessage]) -> Result<(), FunctionError> {
        // Shrinks to the entries SQS rejected, so a retry resends only those.
        let pending = std::sync::Mutex::new(chunk.to_vec());
        let pending = &pending;
        self.retry
            .retry(
                |_| async move {
                    let batch = pending.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    let failed = self.queue.send_batch(&batch).await?;
                    let Some(first) = failed.first() else {
                        return Ok(());
                    };
                    let error = FunctionError::retryable(
                        "DeadLetterQueueUnavailable",
                        format!(
                            "sqs:SendMessageBatch rejected {} of {} dead letters (first: {}{})",
                            failed.len(),
                            batch.len(),
                            first.code,
                            if first.sender_fault {
                                ", sender fault"
                            } else {
                                ""
                            }
                        ),
                    );
                    pending
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .retain(|m| failed.iter().any(|f| f.id == m.id));
                    Err(error)
                },
                FunctionError::is_retryable,
            )
            .await
    }
}

/// Splits messages into batches of at most 10 entries and `max_bytes` of bodies.
fn chunks(messages: &[QueueMessage], max_bytes: usize) -> Vec<&[QueueMessage]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let size = m.body.len() + ATTRIBUTE_ALLOWANCE;
        if i > start && (i - start == 10 || bytes + size > max_bytes) {
            out.push(&messages[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < messages.len() {
        out.push(&messages[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[derive(Default)]
    struct FakeQueue {
        sent: Mutex<Vec<Vec<QueueMessage>>>,
        /// Per call: ids to reject.
        reject: Mutex<Vec<Vec<String>>>,
    }
    impl MessageQueue for FakeQueue {
        async fn send_batch(
            &self,
            messages: &[QueueMessage],
        ) -> Result<Vec<FailedEntry>, FunctionError> {
            self.sent.lock().unwrap().push(messages.to_vec());
            let reject = {
                let mut r = self.reject.lock().unwrap();
                if r.is_empty() {
                    Vec::new()
                } else {
                    r.remove(0)
                }
            };
            Ok(messages
                .iter()
                .filter(|m| reject.contains(&m.id))
                .map(|m| FailedEntry {
                    id: m.id.clone(),
                    code: "InternalError".into(),
                    sender_fault: false,
                })
                .collect())
        }
    }
    #[derive(Default)]
    struct FakeStore(Mutex<Vec<(String, String, Vec<u8>)>>);
    impl ObjectStore for FakeStore {
        async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), FunctionError> {
            self.0
                .lock()
                .unwrap()
                .push((bucket.into(), key.into(), body));
            Ok(())
        }
    }

    fn sink(fifo: bool) -> DeadLetterSink<FakeQueue, FakeStore> {
        DeadLetterSink {
            queue: FakeQueue::default(),
            store: FakeStore::default(),
            bucket: "dlq-bucket".into(),
            fifo,
            max_message_bytes: SQS_MAX_BYTES,
            retry: Backoff {
                base: Duration::from_millis(1),
                cap: Duration::from_millis(5),
                max_attempts: 3,
            },
        }
    }

    fn letter(offset: i64, value_len: usize) -> DeadLetter {
        DeadLetter {
            record: json!({"topic": "t", "partition": 1, "offset": offset, "value": "A".repeat(value_len)}),
            kind: FailureKind::Decode,
            message: "bad".into(),
            schema_id: Some(json!(7)),
            topic: Some("t".into()),
            partition: Some(1),
            offset: Some(offset),
        }
    }

    #[tokio::test]
    async fn bodies_carry_the_original_record_and_the_reason() {
        let s = sink(false);
        s.send_all(&[letter(5, 4)], "2026-11-22T00:00:00Z")
            .await
            .unwrap();
        let sent = s.queue.sent.lock().unwrap();
        let body: Value = serde_json::from_str(&sent[0][0].body).unwrap();
        assert_eq!(body["record"]["value"], "AAAA");
        assert_eq!(body["error"], json!({"kind": "decode", "message": "bad"}));
        assert_eq!(
            (body["schemaId"].clone(), body["offset"].clone()),
            (json!(7), json!(5))
        );
        assert_eq!(body["time"], "2026-11-22T00:00:00Z");
        assert_eq!(
            sent[0][0].attributes,
            [
                ("errorKind".to_string(), "decode".to_string()),
                ("topic".to_string(), "t".to_string())
            ]
        );
        assert_eq!(sent[0][0].group_id, None);
    }

    #[tokio::test]
    async fn batches_of_ten_and_only_failed_entries_are_retried() {
        let s = sink(false);
        s.queue
            .reject
            .lock()
            .unwrap()
            .push(vec!["3".into(), "7".into()]);
        let letters: Vec<_> = (0..23).map(|o| letter(o, 10)).collect();
        s.send_all(&letters, "t").await.unwrap();
        let sent = s.queue.sent.lock().unwrap();
        let sizes: Vec<usize> = sent.iter().map(Vec::len).collect();
        assert_eq!(
            sizes,
            [10, 2, 10, 3],
            "first chunk, its retry of 2 failed entries, then the rest"
        );
        let retried: Vec<&str> = sent[1].iter().map(|m| m.id.as_str()).collect();
        assert_eq!(retried, ["3", "7"]);
    }

    #[tokio::test]
    async fn persistent_rejection_fails_the_invocation() {
        let s = sink(false);
        for _ in 0..3 {
            s.queue.reject.lock().unwrap().push(vec!["0".into()]);
        }
        let err = s.send_all(&[letter(1, 1)], "t").await.unwrap_err();
        assert_eq!(err.kind, "DeadLetterQueueUnavailable");
        assert!(err.is_retryable());
        assert_eq!(s.queue.sent.lock().unwrap().len(), 3, "bounded attempts");
    }

    #[tokio::test]
    async fn oversize_bodies_are_claim_checked_in_s3() {
        let s = sink(true);
        s.send_all(&[letter(9, SQS_MAX_BYTES)], "t").await.unwrap();
        let stored = s.store.0.lock().unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].1, "dead-letters/decode/t-1-9.json");
        let full: Value = serde_json::from_slice(&stored[0].2).unwrap();
        assert_eq!(
            full["record"]["value"].as_str().unwrap().len(),
            SQS_MAX_BYTES
        );
        let sent = s.queue.sent.lock().unwrap();
        let body: Value = serde_json::from_str(&sent[0][0].body).unwrap();
        assert_eq!(
            body["claimCheck"],
            json!({"bucket": "dlq-bucket", "key": "dead-letters/decode/t-1-9.json"})
        );
        assert_eq!(body["record"], Value::Null);
        assert!(sent[0][0].body.len() < 1000);
        assert_eq!(sent[0][0].group_id.as_deref(), Some("t-1"));
        assert_eq!(sent[0][0].dedup_id.as_deref(), Some("t-1-9-decode"));
    }

    #[test]
    fn chunks_respect_the_byte_limit() {
        let m = |n: usize| QueueMessage {
            id: String::new(),
            body: "x".repeat(n),
            attributes: vec![],
            group_id: None,
            dedup_id: None,
        };
        let msgs = vec![m(100_000), m(100_000), m(100_000), m(10)];
        let sizes: Vec<usize> = chunks(&msgs, SQS_MAX_BYTES)
            .iter()
            .map(|c| c.len())
            .collect();
        assert_eq!(sizes, [2, 2]);
    }
}

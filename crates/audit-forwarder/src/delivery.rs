//! Producing one batch: every record in one streamed request, then only the
//! records that failed retryably again, with full-jitter backoff, until each
//! has a final outcome or the attempts are spent.

use std::future::Future;

use bytes::Bytes;
use common::backoff::Backoff;
use common::FunctionError;

use crate::produce::{classify, DeliveryReport, RecordOutcome, Retry};

/// Why a produce request as a whole failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProduceError {
    /// The endpoint answered with an HTTP error status.
    Status { status: u16, message: String },
    /// The endpoint could not be reached or the connection broke.
    Transport(String),
}

impl ProduceError {
    pub fn retry(&self) -> Retry {
        match self {
            ProduceError::Status { status, .. } => classify(i64::from(*status)),
            ProduceError::Transport(_) => Retry::Retryable,
        }
    }
}

impl std::fmt::Display for ProduceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProduceError::Status { status, message } => {
                write!(f, "the produce endpoint answered HTTP {status}: {message}")
            }
            ProduceError::Transport(m) => write!(f, "the produce endpoint is unreachable: {m}"),
        }
    }
}

/// The answer to one streamed produce request: the delivery reports in
/// record order, and why the stream ended early if it did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProduceResponse {
    pub reports: Vec<DeliveryReport>,
    pub truncated: Option<String>,
}

/// Port: sends one streamed produce request of already serialised
/// `ProduceRequest` documents.
pub trait KafkaRest {
    fn produce(
        &self,
        documents: Vec<Bytes>,
    ) -> impl Future<Output = Result<ProduceResponse, ProduceError>> + Send;
}

/// What producing a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// One outcome per document, in order.
    pub outcomes: Vec<RecordOutcome>,
    /// HTTP requests made.
    pub requests: usize,
}

/// Produces `documents`. Fails as a whole only when the endpoint refuses
/// the request itself for a reason no retry fixes (bad credentials, unknown
/// cluster or topic): then every record would fail alike, and failing the
/// invocation raises the function's error alarm instead of quietly
/// dead-lettering the whole stream.
///
/// No retry round starts after `retry_until`: the invocation must answer
/// before Lambda's deadline, or every record of the batch, produced or not,
/// would come back from SQS and be produced again.
pub async fn deliver<K: KafkaRest>(
    rest: &K,
    documents: &[Bytes],
    backoff: &Backoff,
    retry_until: Option<tokio::time::Instant>,
) -> Result<Delivery, FunctionError> {
    let mut outcomes: Vec<Option<RecordOutcome>> = vec![None; documents.len()];
    let mut last_error: Vec<String> = vec![String::new(); documents.len()];
    let mut pending: Vec<usize> = (0..documents.len()).collect();
    let mut requests = 0;
    let mut rng = fastrand::Rng::new();
    let mut attempt = 0;
    // Records per request: the whole batch until the endpoint answers 413
    // (request too large), then halved until requests fit.
    let mut request_limit = documents.len().max(1);
    while !pending.is_empty() {
        let mut still = Vec::new();
        let mut too_large = false;
        for group in pending.chunks(request_limit) {
            let batch: Vec<Bytes> = group.iter().map(|&i| documents[i].clone()).collect();
            requests += 1;
            match rest.produce(batch).await {
                Ok(response) => {
                    for (n, &i) in group.iter().enumerate() {
                        match response.reports.get(n).map(DeliveryReport::outcome) {
                            Some(RecordOutcome::Failed {
                                retry: Retry::Retryable,
                                reason,
                            }) => {
                                last_error[i] = reason;
                                still.push(i);
                            }
                            Some(outcome) => outcomes[i] = Some(outcome),
                            None => {
                                last_error[i] = format!(
                                    "no delivery report for the record ({})",
                                    response
                                        .truncated
                                        .as_deref()
                                        .unwrap_or("the response stream ended early")
                                );
                                still.push(i);
                            }
                        }
                    }
                }
                Err(ProduceError::Status {
                    status: 413,
                    message,
                }) => {
                    if group.len() > 1 {
                        too_large = true;
                        still.extend_from_slice(group);
                    } else {
                        outcomes[group[0]] = Some(RecordOutcome::Failed {
                            retry: Retry::Permanent,
                            reason: format!(
                                "the record alone exceeds the endpoint's request size limit: {message}"
                            ),
                        });
                    }
                }
                Err(e) if e.retry() == Retry::Permanent => {
                    return Err(FunctionError::permanent(
                        request_error_kind(&e),
                        format!("{e} (after {requests} request(s))"),
                    ));
                }
                Err(e) => {
                    let text = e.to_string();
                    for &i in group {
                        last_error[i] = text.clone();
                    }
                    still.extend_from_slice(group);
                }
            }
        }
        pending = still;
        if too_large {
            // Not a failed attempt: the same records, in smaller requests, now.
            request_limit = (request_limit / 2).max(1);
            tracing::info!(request_limit, "request too large; splitting the batch");
            continue;
        }
        if pending.is_empty() || attempt + 1 >= backoff.max_attempts.max(1) {
            break;
        }
        let delay = backoff.delay(attempt, &mut rng);
        if retry_until.is_some_and(|until| tokio::time::Instant::now() + delay >= until) {
            tracing::warn!(
                records = pending.len(),
                "no time left for another round before the invocation deadline"
            );
            break;
        }
        tracing::info!(
            records = pending.len(),
            attempt,
            delay_ms = delay.as_millis() as u64,
            "retrying records the cluster did not accept"
        );
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
    for i in pending {
        outcomes[i] = Some(RecordOutcome::Failed {
            retry: Retry::Retryable,
            reason: std::mem::take(&mut last_error[i]),
        });
    }
    Ok(Delivery {
        outcomes: outcomes
            .into_iter()
            .map(|o| o.expect("every record has an outcome"))
            .collect(),
        requests,
    })
}

fn request_error_kind(e: &ProduceError) -> &'static str {
    match e {
        ProduceError::Status { status: 401, .. } => "KafkaAuthenticationFailed",
        ProduceError::Status { status: 403, .. } => "KafkaAuthorizationFailed",
        ProduceError::Status { status: 404, .. } => "KafkaTopicNotFound",
        _ => "ProduceRequestRefused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::time::Duration;

    /// Answers each request with the next scripted answer, recording what
    /// was sent.
    struct Scripted {
        answers: Mutex<VecDeque<Result<Vec<i64>, ProduceError>>>,
        sent: Mutex<Vec<Vec<Bytes>>>,
    }

    impl Scripted {
        fn new(answers: Vec<Result<Vec<i64>, ProduceError>>) -> Self {
            Scripted {
                answers: Mutex::new(answers.into()),
                sent: Mutex::new(Vec::new()),
            }
        }
        fn sent(&self) -> Vec<Vec<String>> {
            self.sent
                .lock()
                .unwrap()
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|b| String::from_utf8(b.to_vec()).unwrap())
                        .collect()
                })
                .collect()
        }
    }

    impl KafkaRest for Scripted {
        async fn produce(&self, documents: Vec<Bytes>) -> Result<ProduceResponse, ProduceError> {
            self.sent.lock().unwrap().push(documents);
            let codes = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("scripted")?;
            Ok(ProduceResponse {
                reports: codes
                    .into_iter()
                    .enumerate()
                    .map(|(n, c)| DeliveryReport {
                        error_code: c,
                        message: (c != 200).then(|| format!("code {c}")),
                        partition_id: Some(0),
                        offset: Some(n as i64),
                    })
                    .collect(),
                truncated: None,
            })
        }
    }

    fn docs(n: usize) -> Vec<Bytes> {
        (0..n).map(|i| Bytes::from(format!("r{i}"))).collect()
    }

    fn backoff(max_attempts: u32) -> Backoff {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            max_attempts,
        }
    }

    fn failed(o: &RecordOutcome) -> Option<Retry> {
        match o {
            RecordOutcome::Failed { retry, .. } => Some(*retry),
            RecordOutcome::Delivered { .. } => None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn one_request_for_a_healthy_batch() {
        let rest = Scripted::new(vec![Ok(vec![200, 200, 200])]);
        let d = deliver(&rest, &docs(3), &backoff(4), None).await.unwrap();
        assert_eq!(d.requests, 1);
        assert!(d.outcomes.iter().all(|o| failed(o).is_none()));
        assert_eq!(rest.sent(), [["r0", "r1", "r2"]]);
    }

    #[tokio::test(start_paused = true)]
    async fn only_retryable_records_are_sent_again() {
        let rest = Scripted::new(vec![Ok(vec![200, 429, 413, 503]), Ok(vec![200, 200])]);
        let d = deliver(&rest, &docs(4), &backoff(4), None).await.unwrap();
        assert_eq!(
            rest.sent(),
            vec![vec!["r0", "r1", "r2", "r3"], vec!["r1", "r3"]]
        );
        let kinds: Vec<_> = d.outcomes.iter().map(failed).collect();
        assert_eq!(kinds, [None, None, Some(Retry::Permanent), None]);
        assert_eq!(d.requests, 2);
    }

    #[tokio::test(start_paused = true)]
    async fn throttled_requests_are_retried_until_the_attempts_are_spent() {
        let throttled = || {
            Err(ProduceError::Status {
                status: 429,
                message: "slow down".into(),
            })
        };
        let rest = Scripted::new(vec![throttled(), throttled(), Ok(vec![200, 200])]);
        let d = deliver(&rest, &docs(2), &backoff(4), None).await.unwrap();
        assert_eq!(d.requests, 3);
        assert!(d.outcomes.iter().all(|o| failed(o).is_none()));

        let rest = Scripted::new(vec![throttled(), throttled()]);
        let d = deliver(&rest, &docs(2), &backoff(2), None).await.unwrap();
        assert_eq!(d.requests, 2);
        match &d.outcomes[0] {
            RecordOutcome::Failed { retry, reason } => {
                assert_eq!(*retry, Retry::Retryable);
                assert!(reason.contains("HTTP 429"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_request_fails_the_batch_at_once() {
        let rest = Scripted::new(vec![Err(ProduceError::Status {
            status: 401,
            message: "error_code 401 Unauthorized".into(),
        })]);
        let err = deliver(&rest, &docs(2), &backoff(4), None)
            .await
            .unwrap_err();
        assert_eq!(err.kind, "KafkaAuthenticationFailed");
        assert!(!err.is_retryable());
        assert_eq!(rest.sent().len(), 1, "no retry of a permanent refusal");
    }

    #[tokio::test(start_paused = true)]
    async fn records_without_a_report_are_retried() {
        // The stream ended after the first report.
        let rest = Scripted::new(vec![Ok(vec![200]), Ok(vec![200])]);
        let d = deliver(&rest, &docs(2), &backoff(3), None).await.unwrap();
        assert_eq!(rest.sent(), vec![vec!["r0", "r1"], vec!["r1"]]);
        assert!(d.outcomes.iter().all(|o| failed(o).is_none()));
    }

    /// Answers 413 to any request of more than `max` records.
    struct SizeLimited {
        max: usize,
        sizes: Mutex<Vec<usize>>,
    }

    impl KafkaRest for SizeLimited {
        async fn produce(&self, documents: Vec<Bytes>) -> Result<ProduceResponse, ProduceError> {
            self.sizes.lock().unwrap().push(documents.len());
            if documents.len() > self.max {
                return Err(ProduceError::Status {
                    status: 413,
                    message: "error_code 413 Request Entity Too Large".into(),
                });
            }
            Ok(ProduceResponse {
                reports: (0..documents.len())
                    .map(|_| DeliveryReport {
                        error_code: 200,
                        message: None,
                        partition_id: Some(0),
                        offset: Some(0),
                    })
                    .collect(),
                truncated: None,
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_too_large_is_split_until_it_fits() {
        let rest = SizeLimited {
            max: 3,
            sizes: Mutex::new(Vec::new()),
        };
        let d = deliver(&rest, &docs(10), &backoff(1), None).await.unwrap();
        assert!(d.outcomes.iter().all(|o| failed(o).is_none()));
        assert_eq!(*rest.sizes.lock().unwrap(), [10, 5, 5, 2, 2, 2, 2, 2]);

        let rest = SizeLimited {
            max: 0,
            sizes: Mutex::new(Vec::new()),
        };
        let d = deliver(&rest, &docs(2), &backoff(1), None).await.unwrap();
        assert!(d
            .outcomes
            .iter()
            .all(|o| failed(o) == Some(Retry::Permanent)));
    }

    #[tokio::test(start_paused = true)]
    async fn no_retry_round_starts_after_the_deadline() {
        let throttled = || {
            Err(ProduceError::Status {
                status: 503,
                message: "busy".into(),
            })
        };
        let rest = Scripted::new(vec![throttled(), throttled()]);
        let until = tokio::time::Instant::now();
        let d = deliver(&rest, &docs(1), &backoff(4), Some(until))
            .await
            .unwrap();
        assert_eq!(d.requests, 1);
        assert_eq!(failed(&d.outcomes[0]), Some(Retry::Retryable));
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_batch_sends_nothing() {
        let rest = Scripted::new(vec![]);
        let d = deliver(&rest, &[], &backoff(3), None).await.unwrap();
        assert_eq!(d.requests, 0);
    }
}

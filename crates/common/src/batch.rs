//! SQS partial batch responses with Powertools semantics.
//!
//! - Records that fail are reported in `batchItemFailures`, so only they come
//!   back (the event source mapping needs `ReportBatchItemFailures`).
//! - When every record fails, the invocation itself fails: that is what makes
//!   the event source back off instead of spinning on a broken dependency.
//! - On a FIFO queue, processing stops at the first failure and that record and
//!   every later one are reported, so nothing overtakes a failed record of its
//!   group.

use std::future::Future;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};

use crate::failure::{FailureClass, FunctionError};

/// Processes `event`'s records in order with `handler` and builds the partial
/// batch response.
pub async fn process_sqs_batch<F, Fut>(
    event: SqsEvent,
    mut handler: F,
) -> Result<SqsBatchResponse, FunctionError>
where
    F: FnMut(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), FunctionError>>,
{
    let total = event.records.len();
    let fifo = event
        .records
        .first()
        .and_then(|r| r.event_source_arn.as_deref())
        .is_some_and(|arn| arn.ends_with(".fifo"));

    let mut failures: Vec<BatchItemFailure> = Vec::new();
    let mut first_error: Option<FunctionError> = None;
    let mut records = event.records.into_iter();
    while let Some(record) = records.next() {
        let id = record.message_id.clone().unwrap_or_default();
        if let Err(e) = handler(record).await {
            tracing::warn!(message_id = %id, error_type = %e.kind, error = %e.message, "SQS record failed");
            failures.push(failure(id));
            first_error.get_or_insert(e);
            if fifo {
                failures.extend(
                    records
                        .by_ref()
                        .map(|r| failure(r.message_id.unwrap_or_default())),
                );
                break;
            }
        }
    }

    if total > 0 && failures.len() == total {
        let first = first_error.expect("a failure was recorded");
        // Retryable if the first failure was: AWS retries the batch either way,
        // but the class tells alarms whether a dependency or the data is at fault.
        let class = if first.class == FailureClass::Retryable {
            FailureClass::Retryable
        } else {
            FailureClass::Permanent
        };
        return Err(FunctionError::new(
            "AllRecordsFailed",
            class,
            format!("all {total} records failed; first: {first}"),
        ));
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    Ok(response)
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ids: &[&str], queue: &str) -> SqsEvent {
        let mut e = SqsEvent::default();
        e.records = ids
            .iter()
            .map(|id| {
                let mut m = SqsMessage::default();
                m.message_id = Some(id.to_string());
                m.body = Some(id.to_string());
                m.event_source_arn = Some(format!("arn:aws:sqs:eu-west-1:123456789012:{queue}"));
                m
            })
            .collect();
        e
    }

    fn ids(r: &SqsBatchResponse) -> Vec<&str> {
        r.batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }

    async fn fail_on(bad: &'static [&'static str], m: SqsMessage) -> Result<(), FunctionError> {
        let body = m.body.unwrap_or_default();
        if bad.contains(&body.as_str()) {
            Err(FunctionError::permanent("Bad", format!("record {body}")))
        } else {
            Ok(())
        }
    }

    #[tokio::test]
    async fn standard_queue_reports_only_failed_records() {
        let r = process_sqs_batch(event(&["a", "b", "c", "d"], "q"), |m| {
            fail_on(&["b", "d"], m)
        })
        .await
        .unwrap();
        assert_eq!(ids(&r), ["b", "d"]);
    }

    #[tokio::test]
    async fn fifo_stops_at_first_failure_and_reports_the_rest() {
        let mut seen = Vec::new();
        let r = process_sqs_batch(event(&["a", "b", "c", "d"], "q.fifo"), |m| {
            seen.push(m.body.clone().unwrap());
            fail_on(&["b"], m)
        })
        .await
        .unwrap();
        assert_eq!(ids(&r), ["b", "c", "d"]);
        assert_eq!(
            seen,
            ["a", "b"],
            "records after a FIFO failure must not be processed"
        );
    }

    #[tokio::test]
    async fn all_failed_is_an_invocation_error() {
        let err = process_sqs_batch(event(&["a", "b"], "q"), |m| fail_on(&["a", "b"], m))
            .await
            .unwrap_err();
        assert_eq!(err.kind, "AllRecordsFailed");
        assert!(
            err.message
                .contains("all 2 records failed; first: Bad: record a"),
            "{}",
            err.message
        );
        let err = process_sqs_batch(event(&["a", "b"], "q.fifo"), |m| fail_on(&["a"], m))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind, "AllRecordsFailed",
            "a FIFO batch failing at its first record fails whole"
        );
    }

    #[tokio::test]
    async fn empty_and_all_good_batches_report_nothing() {
        let r = process_sqs_batch(event(&[], "q"), |m| fail_on(&[], m))
            .await
            .unwrap();
        assert!(r.batch_item_failures.is_empty());
        let r = process_sqs_batch(event(&["a"], "q"), |m| fail_on(&[], m))
            .await
            .unwrap();
        assert!(r.batch_item_failures.is_empty());
    }
}

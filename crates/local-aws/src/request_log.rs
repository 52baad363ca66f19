//! The log of every call that reached a service, so tests can assert what
//! their code actually sent (and how often the SDK retried).

use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One call, as `GET /_local-aws/requests` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Service name, or `unknown` when no service matched.
    pub service: String,
    /// Operation name as requested (even if unknown).
    pub operation: String,
    /// Region the call was signed for.
    pub region: String,
    /// Request body as JSON; the raw text as a string if it was not JSON.
    pub input: Value,
    /// HTTP status sent; `None` while the call is still in flight.
    pub status: Option<u16>,
    /// Error code sent, if the call failed.
    pub error: Option<String>,
}

#[derive(Debug, Default)]
struct Entries {
    next_id: u64,
    // Ids let a call that finishes after a reset find out its entry is gone.
    records: Vec<(u64, RequestRecord)>,
}

/// Calls in arrival order: an entry is made when a call arrives and completed
/// when it is answered, so a delayed call keeps its place.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<Entries>,
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records an arriving call; returns the id to complete it with.
    pub fn start(&self, record: RequestRecord) -> u64 {
        let mut entries = self.lock();
        let id = entries.next_id;
        entries.next_id += 1;
        entries.records.push((id, record));
        id
    }

    /// Fills in the outcome of call `id`.
    pub fn finish(&self, id: u64, status: u16, error: Option<String>) {
        let mut entries = self.lock();
        if let Some((_, record)) = entries.records.iter_mut().rev().find(|(i, _)| *i == id) {
            record.status = Some(status);
            record.error = error;
        }
    }

    pub fn snapshot(&self) -> Vec<RequestRecord> {
        self.lock().records.iter().map(|(_, r)| r.clone()).collect()
    }

    pub fn clear(&self) {
        self.lock().records.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(op: &str) -> RequestRecord {
        RequestRecord {
            service: "svc".into(),
            operation: op.into(),
            region: "us-east-1".into(),
            input: Value::Null,
            status: None,
            error: None,
        }
    }

    #[test]
    fn keeps_arrival_order_when_calls_finish_out_of_order() {
        let log = RequestLog::default();
        let slow = log.start(record("Slow"));
        let fast = log.start(record("Fast"));
        log.finish(fast, 200, None);
        log.finish(slow, 400, Some("ThrottlingException".into()));
        let ops: Vec<_> = log
            .snapshot()
            .into_iter()
            .map(|r| (r.operation, r.status))
            .collect();
        assert_eq!(
            ops,
            [("Slow".into(), Some(400)), ("Fast".into(), Some(200))]
        );
    }

    #[test]
    fn call_finishing_after_clear_is_not_resurrected() {
        let log = RequestLog::default();
        let id = log.start(record("A"));
        log.clear();
        let later = log.start(record("B"));
        log.finish(id, 200, None);
        log.finish(later, 200, None);
        let snap = log.snapshot();
        assert_eq!(snap.len(), 1);
        assert_eq!(snap[0].operation, "B");
    }
}

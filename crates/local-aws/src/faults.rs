//! Injected faults: make the next N calls of an operation fail or stall, so
//! tests can exercise retry and timeout paths that real AWS hits only under
//! load.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::AwsError;

/// A fault armed for the next `count` calls of `service`/`operation`.
///
/// With `error`, each affected call fails with it instead of running; with
/// `latency_ms`, each affected call is delayed and then runs (or fails, if
/// `error` is set too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Service name, e.g. `network-firewall`.
    pub service: String,
    /// Operation name; `None` affects every operation of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// How many calls the fault affects (left to affect, when listed).
    pub count: u32,
    /// Error returned instead of running the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AwsError>,
    /// Delay before answering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

/// What to do to one call, taken from the first matching armed fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FaultAction {
    pub latency: Option<Duration>,
    pub error: Option<AwsError>,
}

/// Armed faults, consumed in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct FaultRegistry {
    armed: Mutex<Vec<Fault>>,
}

impl FaultRegistry {
    fn lock(&self) -> MutexGuard<'_, Vec<Fault>> {
        self.armed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn add(&self, fault: Fault) {
        self.lock().push(fault);
    }

    /// Consumes one call's worth of the first fault matching the call.
    pub fn take(&self, service: &str, operation: &str) -> Option<FaultAction> {
        let mut armed = self.lock();
        let index = armed.iter().position(|f| {
            f.service == service && f.operation.as_deref().is_none_or(|op| op == operation)
        })?;
        let fault = &mut armed[index];
        fault.count -= 1;
        let action = FaultAction {
            latency: fault.latency_ms.map(Duration::from_millis),
            error: fault.error.clone(),
        };
        if fault.count == 0 {
            armed.remove(index);
        }
        Some(action)
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(operation: Option<&str>, count: u32, code: &str) -> Fault {
        Fault {
            service: "svc".into(),
            operation: operation.map(Into::into),
            count,
            error: Some(AwsError::new(code, 400, "boom")),
            latency_ms: None,
        }
    }

    #[test]
    fn fault_fires_exactly_count_times_for_its_operation_only() {
        let reg = FaultRegistry::default();
        reg.add(fault(Some("Op"), 2, "E"));
        assert!(reg.take("svc", "Other").is_none());
        assert!(reg.take("other", "Op").is_none());
        assert!(reg.take("svc", "Op").is_some());
        assert_eq!(reg.list()[0].count, 1);
        assert!(reg.take("svc", "Op").is_some());
        assert!(reg.take("svc", "Op").is_none());
        assert!(reg.list().is_empty());
    }

    #[test]
    fn faults_are_consumed_in_order_and_wildcard_matches_any_operation() {
        let reg = FaultRegistry::default();
        reg.add(fault(None, 1, "First"));
        reg.add(fault(Some("Op"), 1, "Second"));
        let code = |a: Option<FaultAction>| a.and_then(|a| a.error).map(|e| e.code);
        assert_eq!(code(reg.take("svc", "Op")).as_deref(), Some("First"));
        assert_eq!(code(reg.take("svc", "Op")).as_deref(), Some("Second"));
        assert_eq!(code(reg.take("svc", "Op")), None);
    }
}

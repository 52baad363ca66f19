//! The Lambda handler: describe, decide, update; retry a lost race.

use common::backoff::Backoff;
use common::metrics::Unit;
use common::{FunctionError, Invocation};
use serde_json::Value;

use crate::plan::{decide, Action, Application, Decision, Outcome, Policy};
use crate::request::Request;

/// Why an UpdateApplication call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateError {
    /// `ConcurrentModificationException`: the token or version id is stale
    /// (someone else updated in between); a fresh describe resolves it.
    Conflict(FunctionError),
    /// `ResourceInUseException`: the application is busy (updating,
    /// autoscaling); a later describe shows it.
    InUse(FunctionError),
    /// Anything else.
    Failed(FunctionError),
}

/// The application API: one port, two calls.
pub trait FlinkApplications {
    /// A fresh DescribeApplication.
    fn describe(
        &self,
        name: &str,
    ) -> impl std::future::Future<Output = Result<Application, FunctionError>> + Send;

    /// UpdateApplication setting `parallelism`, keeping `app`'s
    /// ParallelismPerKPU, turning service autoscaling off, guarded by `app`'s
    /// ConditionalToken (or its version id when the API returned no token).
    fn set_parallelism(
        &self,
        name: &str,
        app: &Application,
        parallelism: u32,
    ) -> impl std::future::Future<Output = Result<(), UpdateError>> + Send;
}

/// What the handler needs besides the port.
#[derive(Debug, Clone)]
pub struct Settings {
    pub application: String,
    pub policy: Policy,
    /// Attempts of the describe-decide-update cycle when an update loses a race.
    pub retry: Backoff,
}

/// Handles one event (alarm state or schedule payload).
pub async fn handle<A: FlinkApplications>(
    event: Value,
    invocation: Invocation,
    apps: &A,
    settings: &Settings,
) -> Result<Outcome, FunctionError> {
    let request = Request::parse(event).map_err(FunctionError::invalid_event)?;
    let metrics = &invocation.metrics;
    let source = match &request {
        Request::Alarm { name, .. } => format!("alarm {name}"),
        Request::Schedule { label, target_kpu } => format!(
            "schedule {} (target {target_kpu} KPU)",
            label.as_deref().unwrap_or("unnamed")
        ),
    };
    let mut rng = fastrand::Rng::new();
    let attempts = settings.retry.max_attempts.max(1);
    for attempt in 0..attempts {
        let app = apps.describe(&settings.application).await?;
        let (target_kpu, parallelism, outcome) = match decide(&request, &app, &settings.policy) {
            Decision::Finish(outcome) => return Ok(finish(outcome, metrics, &source)),
            Decision::Reject(message) => {
                metrics.count("Rejected", 1);
                return Err(FunctionError::permanent("UnknownAlarm", message));
            }
            Decision::Busy(message) => {
                metrics.count("Busy", 1);
                return Err(FunctionError::retryable("ApplicationBusy", message));
            }
            Decision::Update {
                target_kpu,
                parallelism,
                outcome,
            } => (target_kpu, parallelism, outcome),
        };
        let lost_race = match apps
            .set_parallelism(&settings.application, &app, parallelism)
            .await
        {
            Ok(()) => {
                tracing::info!(
                    application = settings.application,
                    from_kpu = outcome.from_kpu,
                    target_kpu,
                    parallelism,
                    parallelism_per_kpu = app.parallelism_per_kpu,
                    version_id = app.version_id,
                    "UpdateApplication accepted"
                );
                return Ok(finish(outcome, metrics, &source));
            }
            Err(UpdateError::Failed(e)) => return Err(e),
            Err(UpdateError::Conflict(e)) | Err(UpdateError::InUse(e)) => e,
        };
        metrics.count("UpdateRaces", 1);
        if attempt + 1 == attempts {
            return Err(FunctionError::retryable(
                lost_race.kind,
                format!(
                    "{} (still after {attempts} describe-and-update attempts)",
                    lost_race.message
                ),
            ));
        }
        let delay = settings.retry.delay(attempt, &mut rng);
        tracing::warn!(
            attempt,
            delay_ms = delay.as_millis() as u64,
            "update lost a race ({}); describing again",
            lost_race.kind
        );
        tokio::time::sleep(delay).await;
    }
    unreachable!("the loop returns on its last attempt")
}

fn finish(outcome: Outcome, metrics: &common::metrics::Metrics, source: &str) -> Outcome {
    let name = match outcome.action {
        Action::Scaled => "Scaled",
        Action::AtLimit => "AtLimit",
        Action::NotRunning => "NotRunning",
        Action::Noop => "Noop",
    };
    metrics.count(name, 1);
    metrics.add("CurrentKpu", Unit::Count, f64::from(outcome.from_kpu));
    metrics.add("TargetKpu", Unit::Count, f64::from(outcome.target_kpu));
    tracing::info!(
        action = outcome.action.as_str(),
        from_kpu = outcome.from_kpu,
        target_kpu = outcome.target_kpu,
        clamped = outcome.clamped,
        status = outcome.application_status,
        "{source}: {}",
        outcome.reason
    );
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::{Limits, Operation, ScalingRule};
    use crate::request::Alarms;
    use serde_json::json;
    use std::sync::Mutex;
    use std::time::Duration;

    /// An application whose updates fail with the queued errors first.
    struct FakeApps {
        app: Mutex<Application>,
        failures: Mutex<Vec<UpdateError>>,
        updates: Mutex<Vec<(u32, Option<String>)>>,
    }

    impl FakeApps {
        fn new(parallelism: u32, ppk: u32, failures: Vec<UpdateError>) -> Self {
            FakeApps {
                app: Mutex::new(Application {
                    status: "RUNNING".into(),
                    version_id: 1,
                    conditional_token: Some("t1".into()),
                    parallelism,
                    parallelism_per_kpu: ppk,
                    current_parallelism: parallelism,
                    autoscaling_enabled: true,
                }),
                failures: Mutex::new(failures),
                updates: Mutex::default(),
            }
        }
    }

    impl FlinkApplications for FakeApps {
        async fn describe(&self, _name: &str) -> Result<Application, FunctionError> {
            Ok(self.app.lock().unwrap().clone())
        }
        async fn set_parallelism(
            &self,
            _name: &str,
            app: &Application,
            parallelism: u32,
        ) -> Result<(), UpdateError> {
            let mut failures = self.failures.lock().unwrap();
            if !failures.is_empty() {
                return Err(failures.remove(0));
            }
            self.updates
                .lock()
                .unwrap()
                .push((parallelism, app.conditional_token.clone()));
            Ok(())
        }
    }

    fn settings(attempts: u32) -> Settings {
        Settings {
            application: "app".into(),
            policy: Policy {
                alarms: Alarms {
                    scale_out: "hot".into(),
                    scale_in: "cold".into(),
                },
                rule: ScalingRule {
                    operation: Operation::AddSubtract,
                    scale_out_factor: 1,
                    scale_in_factor: 1,
                },
                limits: Limits {
                    min_kpu: 1,
                    max_kpu: 4,
                    quota_kpu: 64,
                },
            },
            retry: Backoff {
                base: Duration::from_millis(10),
                cap: Duration::from_millis(20),
                max_attempts: attempts,
            },
        }
    }

    fn alarm(name: &str) -> Value {
        json!({"detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
               "detail": {"alarmName": name, "state": {"value": "ALARM"}}})
    }

    fn conflict() -> UpdateError {
        UpdateError::Conflict(FunctionError::retryable(
            "ConcurrentModificationException",
            "stale",
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn a_lost_race_is_retried_with_a_fresh_describe() {
        let apps = FakeApps::new(4, 2, vec![conflict()]);
        let out = handle(alarm("hot"), Invocation::for_test(), &apps, &settings(3))
            .await
            .unwrap();
        assert_eq!(
            (out.action, out.from_kpu, out.target_kpu),
            (Action::Scaled, 2, 3)
        );
        assert_eq!(*apps.updates.lock().unwrap(), [(6, Some("t1".to_string()))]);
    }

    #[tokio::test(start_paused = true)]
    async fn persistent_races_are_reported_as_retryable_errors() {
        let in_use = UpdateError::InUse(FunctionError::retryable("ResourceInUseException", "busy"));
        let apps = FakeApps::new(4, 2, vec![conflict(), in_use.clone(), in_use]);
        let err = handle(alarm("cold"), Invocation::for_test(), &apps, &settings(3))
            .await
            .unwrap_err();
        assert_eq!(err.kind, "ResourceInUseException");
        assert!(err.is_retryable());
        assert!(
            err.message.contains("after 3 describe-and-update attempts"),
            "{}",
            err.message
        );
        assert!(apps.updates.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn other_update_failures_are_not_retried() {
        let apps = FakeApps::new(
            4,
            2,
            vec![UpdateError::Failed(FunctionError::permanent(
                "InvalidArgumentException",
                "quota",
            ))],
        );
        let err = handle(alarm("hot"), Invocation::for_test(), &apps, &settings(3))
            .await
            .unwrap_err();
        assert_eq!(err.kind, "InvalidArgumentException");
    }

    #[tokio::test(start_paused = true)]
    async fn schedule_on_a_busy_application_fails_for_the_scheduler_to_retry() {
        let apps = FakeApps::new(4, 2, vec![]);
        apps.app.lock().unwrap().status = "UPDATING".into();
        let err = handle(
            json!({"targetKpu": 3}),
            Invocation::for_test(),
            &apps,
            &settings(3),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, "ApplicationBusy");
        assert!(err.is_retryable());
    }

    #[tokio::test(start_paused = true)]
    async fn bad_events_and_unknown_alarms_are_permanent() {
        let apps = FakeApps::new(4, 2, vec![]);
        let err = handle(
            json!({"hello": 1}),
            Invocation::for_test(),
            &apps,
            &settings(3),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, "InvalidEvent");
        let err = handle(
            alarm("ScaleOut-hot"),
            Invocation::for_test(),
            &apps,
            &settings(3),
        )
        .await
        .unwrap_err();
        assert_eq!(
            (err.kind.as_str(), err.is_retryable()),
            ("UnknownAlarm", false)
        );
    }
}

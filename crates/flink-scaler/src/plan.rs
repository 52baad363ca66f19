//! From a request and a fresh view of the application to what to do: pure.

use serde::Serialize;

use crate::capacity::{kpu_of, next_step, Direction, Limits, ScalingRule, Step};
use crate::request::{Alarms, Request};

/// What DescribeApplication says, reduced to what scaling needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub status: String,
    pub version_id: i64,
    pub conditional_token: Option<String>,
    pub parallelism: u32,
    pub parallelism_per_kpu: u32,
    /// What runs now; service autoscaling may have raised it above `parallelism`.
    pub current_parallelism: u32,
    pub autoscaling_enabled: bool,
}

impl Application {
    /// KPUs in use now, from `CurrentParallelism` (the configured
    /// `Parallelism` is only the floor once service autoscaling has acted).
    pub fn current_kpu(&self) -> u32 {
        kpu_of(self.current_parallelism.max(1), self.parallelism_per_kpu)
    }
}

/// How an application status bears on scaling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Running,
    /// Changing by itself (UPDATING, AUTOSCALING, STARTING, ...): try later.
    Transient,
    /// Stopped (READY) or rolled back by the service (ROLLED_BACK): a person
    /// should look; a scaler must not push on.
    Stable,
}

/// Classifies an `ApplicationStatus`; unknown future values count as
/// transient, the conservative choice (wait, never update).
pub fn classify(status: &str) -> StatusClass {
    match status {
        "RUNNING" => StatusClass::Running,
        "READY" | "ROLLED_BACK" => StatusClass::Stable,
        _ => StatusClass::Transient,
    }
}

/// The configuration a decision needs.
#[derive(Debug, Clone)]
pub struct Policy {
    pub alarms: Alarms,
    pub rule: ScalingRule,
    pub limits: Limits,
}

/// The named result the state machine branches on (`action`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub action: Action,
    pub application_status: String,
    pub from_kpu: u32,
    pub target_kpu: u32,
    pub parallelism_per_kpu: u32,
    /// A limit cut the step or the scheduled target short.
    pub clamped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// UpdateApplication was accepted; the application is now updating.
    Scaled,
    /// Already at the limit in the alarm's direction.
    AtLimit,
    /// The application is not RUNNING; nothing was changed.
    NotRunning,
    /// Nothing to do (target already set, alarm no longer in ALARM).
    Noop,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Scaled => "scaled",
            Action::AtLimit => "at_limit",
            Action::NotRunning => "not_running",
            Action::Noop => "noop",
        }
    }
}

/// A decision: finish with an outcome, or update to `target_kpu`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Finish(Outcome),
    Update {
        target_kpu: u32,
        parallelism: u32,
        outcome: Outcome,
    },
    /// The application is busy and the request must be retried (schedules).
    Busy(String),
    /// The request is invalid for this configuration (unknown alarm).
    Reject(String),
}

/// Decides what to do about `request` given the application as just described.
pub fn decide(request: &Request, app: &Application, policy: &Policy) -> Decision {
    let current = app.current_kpu();
    let ppk = app.parallelism_per_kpu;
    let outcome =
        |action, target_kpu, clamped, direction: Option<Direction>, reason: String| Outcome {
            action,
            application_status: app.status.clone(),
            from_kpu: current,
            target_kpu,
            parallelism_per_kpu: ppk,
            clamped,
            direction: direction.map(Direction::as_str),
            reason,
        };
    match request {
        Request::Alarm { name, arn, state } => {
            let Some(direction) = policy.alarms.direction(name, arn.as_deref()) else {
                return Decision::Reject(format!(
                    "alarm {name:?} is neither SCALE_OUT_ALARM ({:?}) nor SCALE_IN_ALARM ({:?})",
                    policy.alarms.scale_out, policy.alarms.scale_in
                ));
            };
            if state != "ALARM" {
                return Decision::Finish(outcome(
                    Action::Noop,
                    current,
                    false,
                    Some(direction),
                    format!("alarm {name} is {state}, not ALARM"),
                ));
            }
            if classify(&app.status) != StatusClass::Running {
                return Decision::Finish(outcome(
                    Action::NotRunning,
                    current,
                    false,
                    Some(direction),
                    format!("application is {}", app.status),
                ));
            }
            match next_step(current, direction, &policy.rule, &policy.limits) {
                Step::AtLimit { kpu, limit } => Decision::Finish(outcome(
                    Action::AtLimit,
                    kpu,
                    false,
                    Some(direction),
                    format!(
                        "{kpu} KPU is at the limit of {limit} for scaling {}",
                        direction.as_str()
                    ),
                )),
                Step::Scale { from, to, clamped } => Decision::Update {
                    target_kpu: to,
                    parallelism: to * ppk,
                    outcome: outcome(
                        Action::Scaled,
                        to,
                        clamped,
                        Some(direction),
                        format!("scale {} from {from} to {to} KPU", direction.as_str()),
                    ),
                },
            }
        }
        Request::Schedule { target_kpu, .. } => {
            let target = policy.limits.clamp(*target_kpu);
            let clamped = target != *target_kpu;
            match classify(&app.status) {
                StatusClass::Transient => {
                    return Decision::Busy(format!(
                        "application is {}; the schedule is retried until it is RUNNING",
                        app.status
                    ))
                }
                StatusClass::Stable => {
                    return Decision::Finish(outcome(
                        Action::NotRunning,
                        target,
                        clamped,
                        None,
                        format!("application is {}; not scaled", app.status),
                    ))
                }
                StatusClass::Running => {}
            }
            if target == current && !app.autoscaling_enabled {
                return Decision::Finish(outcome(
                    Action::Noop,
                    target,
                    clamped,
                    None,
                    format!("already at {target} KPU"),
                ));
            }
            Decision::Update {
                target_kpu: target,
                parallelism: target * ppk,
                outcome: outcome(
                    Action::Scaled,
                    target,
                    clamped,
                    None,
                    format!("scheduled change from {current} to {target} KPU"),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::Operation;

    fn policy() -> Policy {
        Policy {
            alarms: Alarms {
                scale_out: "out".into(),
                scale_in: "in".into(),
            },
            rule: ScalingRule {
                operation: Operation::MultiplyDivide,
                scale_out_factor: 2,
                scale_in_factor: 2,
            },
            limits: Limits {
                min_kpu: 1,
                max_kpu: 8,
                quota_kpu: 64,
            },
        }
    }

    fn app(status: &str, parallelism: u32, ppk: u32) -> Application {
        Application {
            status: status.into(),
            version_id: 3,
            conditional_token: Some("tok".into()),
            parallelism,
            parallelism_per_kpu: ppk,
            current_parallelism: parallelism,
            autoscaling_enabled: false,
        }
    }

    fn alarm(name: &str, state: &str) -> Request {
        Request::Alarm {
            name: name.into(),
            arn: None,
            state: state.into(),
        }
    }

    #[test]
    fn scale_out_keeps_parallelism_per_kpu() {
        // PPK 4, parallelism 8 = 2 KPU; doubling gives 4 KPU = parallelism 16.
        match decide(&alarm("out", "ALARM"), &app("RUNNING", 8, 4), &policy()) {
            Decision::Update {
                target_kpu,
                parallelism,
                outcome,
            } => {
                assert_eq!((target_kpu, parallelism), (4, 16));
                assert_eq!((outcome.from_kpu, outcome.parallelism_per_kpu), (2, 4));
                assert_eq!(outcome.direction, Some("out"));
            }
            other => panic!("{other:?}"),
        }
        // PPK 1: parallelism is the KPU count.
        match decide(&alarm("in", "ALARM"), &app("RUNNING", 6, 1), &policy()) {
            Decision::Update {
                target_kpu,
                parallelism,
                ..
            } => assert_eq!((target_kpu, parallelism), (3, 3)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn current_parallelism_is_the_capacity() {
        let mut a = app("RUNNING", 2, 1);
        a.current_parallelism = 6;
        match decide(&alarm("out", "ALARM"), &a, &policy()) {
            Decision::Update {
                outcome,
                target_kpu,
                ..
            } => {
                assert_eq!((outcome.from_kpu, target_kpu), (6, 8));
                assert!(outcome.clamped);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits_not_running_and_cleared_alarms_finish_without_update() {
        let p = policy();
        let finish = |d: Decision| match d {
            Decision::Finish(o) => o.action,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            finish(decide(&alarm("out", "ALARM"), &app("RUNNING", 8, 1), &p)),
            Action::AtLimit
        );
        assert_eq!(
            finish(decide(&alarm("in", "ALARM"), &app("RUNNING", 1, 1), &p)),
            Action::AtLimit
        );
        assert_eq!(
            finish(decide(&alarm("out", "ALARM"), &app("UPDATING", 2, 1), &p)),
            Action::NotRunning
        );
        assert_eq!(
            finish(decide(
                &alarm("out", "ALARM"),
                &app("AUTOSCALING", 2, 1),
                &p
            )),
            Action::NotRunning
        );
        assert_eq!(
            finish(decide(&alarm("out", "OK"), &app("RUNNING", 2, 1), &p)),
            Action::Noop
        );
        assert!(matches!(
            decide(&alarm("ScaleOutAlarm-x", "ALARM"), &app("RUNNING", 2, 1), &p),
            Decision::Reject(m) if m.contains("neither SCALE_OUT_ALARM")
        ));
    }

    #[test]
    fn schedules_set_the_target_when_running_and_retry_when_busy() {
        let p = policy();
        let schedule = |kpu| Request::Schedule {
            target_kpu: kpu,
            label: None,
        };
        match decide(&schedule(6), &app("RUNNING", 4, 2), &p) {
            Decision::Update {
                target_kpu,
                parallelism,
                outcome,
            } => {
                assert_eq!((outcome.from_kpu, target_kpu, parallelism), (2, 6, 12));
            }
            other => panic!("{other:?}"),
        }
        // Scaling down works like scaling up: the payload carries the target.
        match decide(&schedule(1), &app("RUNNING", 8, 2), &p) {
            Decision::Update { target_kpu, .. } => assert_eq!(target_kpu, 1),
            other => panic!("{other:?}"),
        }
        match decide(&schedule(20), &app("RUNNING", 4, 1), &p) {
            Decision::Update {
                target_kpu,
                outcome,
                ..
            } => {
                assert_eq!(target_kpu, 8);
                assert!(outcome.clamped);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(decide(&schedule(2), &app("RUNNING", 4, 2), &p),
            Decision::Finish(o) if o.action == Action::Noop));
        assert!(matches!(
            decide(&schedule(2), &app("UPDATING", 4, 2), &p),
            Decision::Busy(_)
        ));
        assert!(matches!(
            decide(&schedule(2), &app("MAINTENANCE", 4, 2), &p),
            Decision::Busy(_)
        ));
        assert!(matches!(decide(&schedule(2), &app("READY", 4, 2), &p),
            Decision::Finish(o) if o.action == Action::NotRunning));
    }

    #[test]
    fn unknown_statuses_are_treated_as_transient() {
        assert_eq!(classify("SOMETHING_NEW"), StatusClass::Transient);
        assert_eq!(classify("ROLLED_BACK"), StatusClass::Stable);
        assert_eq!(classify("RUNNING"), StatusClass::Running);
    }
}

//! What the function is asked to do, from its two event shapes: the Step
//! Functions state of the metric scaler (an EventBridge "CloudWatch Alarm
//! State Change" event, possibly with the state machine's own keys next to
//! it) and an EventBridge Scheduler payload carrying the target KPU.

use serde::Deserialize;
use serde_json::Value;

use crate::capacity::Direction;

/// One request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A metric alarm fired (or the state machine loops while it is in ALARM).
    Alarm {
        /// `detail.alarmName`.
        name: String,
        /// `resources[0]`, the alarm ARN, when present.
        arn: Option<String>,
        /// `detail.state.value`: ALARM, OK or INSUFFICIENT_DATA.
        state: String,
    },
    /// A schedule sets the capacity.
    Schedule {
        target_kpu: u32,
        /// Free-form label for logs (`"schedule"` in the payload).
        label: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleInput {
    target_kpu: u32,
    #[serde(default)]
    schedule: Option<String>,
}

#[derive(Deserialize)]
struct AlarmEvent {
    #[serde(rename = "detail-type")]
    detail_type: String,
    #[serde(default)]
    resources: Vec<String>,
    detail: AlarmDetail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlarmDetail {
    alarm_name: String,
    state: AlarmState,
}

#[derive(Deserialize)]
struct AlarmState {
    value: String,
}

const ALARM_DETAIL_TYPE: &str = "CloudWatch Alarm State Change";

impl Request {
    /// Reads either shape; the error names the field and the shapes accepted.
    pub fn parse(event: Value) -> Result<Request, String> {
        if event.get("targetKpu").is_some() {
            let s: ScheduleInput =
                common::events::from_value(event).map_err(|e| format!("schedule payload: {e}"))?;
            if s.target_kpu == 0 {
                return Err("schedule payload: targetKpu must be at least 1".into());
            }
            return Ok(Request::Schedule {
                target_kpu: s.target_kpu,
                label: s.schedule,
            });
        }
        if event.get("detail-type").is_some() {
            let a: AlarmEvent =
                common::events::from_value(event).map_err(|e| format!("alarm event: {e}"))?;
            if a.detail_type != ALARM_DETAIL_TYPE {
                return Err(format!(
                    "alarm event: detail-type is {:?}, expected {ALARM_DETAIL_TYPE:?}",
                    a.detail_type
                ));
            }
            return Ok(Request::Alarm {
                name: a.detail.alarm_name,
                arn: a.resources.into_iter().next(),
                state: a.detail.state.value,
            });
        }
        Err("the event is neither a schedule payload ({\"targetKpu\": n}) nor a \
             CloudWatch Alarm State Change event (detail-type, detail.alarmName, detail.state.value)"
            .into())
    }
}

/// The two configured alarms, each by exact name or ARN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Alarms {
    pub scale_out: String,
    pub scale_in: String,
}

impl Alarms {
    /// The direction of the alarm that fired, by exact match of its name or
    /// ARN against the configuration; never by a substring (an application
    /// called `ScaleOutJob` must not turn its scale-in alarm into a scale-out).
    pub fn direction(&self, name: &str, arn: Option<&str>) -> Option<Direction> {
        let is = |configured: &str| configured == name || Some(configured) == arn;
        match (is(&self.scale_out), is(&self.scale_in)) {
            (true, false) => Some(Direction::Out),
            (false, true) => Some(Direction::In),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alarm_event(name: &str, state: &str) -> Value {
        json!({
            "version": "0", "id": "1", "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch", "account": "123456789012", "region": "us-east-1",
            "time": "2026-11-22T01:00:00Z",
            "resources": [format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}")],
            "detail": {"alarmName": name, "state": {"value": state, "reason": "x"},
                       "previousState": {"value": "OK"}, "configuration": {"metrics": []}},
            "TaskResult": {"ApplicationDetail": {"ApplicationStatus": "RUNNING"}}
        })
    }

    #[test]
    fn alarm_events_parse_with_extra_state_keys() {
        let r = Request::parse(alarm_event("ScaleOutAlarm-app", "ALARM")).unwrap();
        assert_eq!(
            r,
            Request::Alarm {
                name: "ScaleOutAlarm-app".into(),
                arn: Some(
                    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ScaleOutAlarm-app".into()
                ),
                state: "ALARM".into()
            }
        );
    }

    #[test]
    fn schedule_payloads_parse() {
        assert_eq!(
            Request::parse(json!({"targetKpu": 8, "schedule": "evening"})).unwrap(),
            Request::Schedule {
                target_kpu: 8,
                label: Some("evening".into())
            }
        );
    }

    #[test]
    fn malformed_events_name_the_field() {
        let e = Request::parse(json!({"targetKpu": "8"})).unwrap_err();
        assert!(
            e.starts_with("schedule payload: targetKpu: invalid type"),
            "{e}"
        );
        let e = Request::parse(json!({"targetKpu": 0})).unwrap_err();
        assert!(e.contains("at least 1"), "{e}");
        let e = Request::parse(json!({"targetKpu": -2})).unwrap_err();
        assert!(e.contains("targetKpu"), "{e}");
        let mut ev = alarm_event("a", "ALARM");
        ev["detail"]["state"] = json!({});
        let e = Request::parse(ev).unwrap_err();
        assert!(
            e.starts_with("alarm event: detail.state: missing field `value`"),
            "{e}"
        );
        let mut ev = alarm_event("a", "ALARM");
        ev["detail-type"] = json!("EC2 Instance State-change Notification");
        assert!(Request::parse(ev)
            .unwrap_err()
            .contains("expected \"CloudWatch Alarm State Change\""));
        assert!(
            Request::parse(json!({"message": "Triggering Scheduled Scaling"}))
                .unwrap_err()
                .contains("neither a schedule payload")
        );
    }

    #[test]
    fn direction_is_decided_by_exact_name_or_arn() {
        // The sample's substring test would send the scale-in alarm of an
        // application named "ScaleOutJob" the scale-out way.
        let alarms = Alarms {
            scale_out: "ScaleOutAlarm-ScaleOutJob".into(),
            scale_in: "ScaleInAlarm-ScaleOutJob".into(),
        };
        assert_eq!(
            alarms.direction("ScaleInAlarm-ScaleOutJob", None),
            Some(Direction::In)
        );
        assert_eq!(
            alarms.direction("ScaleOutAlarm-ScaleOutJob", None),
            Some(Direction::Out)
        );
        assert_eq!(alarms.direction("ScaleOutAlarm", None), None);
        assert_eq!(alarms.direction("scaleoutalarm-scaleoutjob", None), None);
        let by_arn = Alarms {
            scale_out: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:hot".into(),
            scale_in: "cold".into(),
        };
        assert_eq!(
            by_arn.direction(
                "hot",
                Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:hot")
            ),
            Some(Direction::Out)
        );
        assert_eq!(by_arn.direction("hot", None), None);
        // One alarm configured for both directions is ambiguous, never guessed.
        let same = Alarms {
            scale_out: "x".into(),
            scale_in: "x".into(),
        };
        assert_eq!(same.direction("x", None), None);
    }
}

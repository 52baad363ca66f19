//! The function's configuration, from environment variables.

use std::time::Duration;

use common::backoff::Backoff;
use common::config::Env;

use crate::capacity::{Limits, Operation, ScalingRule, DEFAULT_KPU_QUOTA};
use crate::handler::Settings;
use crate::plan::Policy;
use crate::request::Alarms;

/// Reads and checks every variable; all problems are reported at once.
pub fn from_env(env: &mut Env) -> Settings {
    let application = env.required(
        "APPLICATION_NAME",
        "the name of the Managed Service for Apache Flink application",
    );
    let well_formed = application.len() <= 128
        && application
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !application.is_empty() && !well_formed {
        env.problem(
            "APPLICATION_NAME",
            "must be 1-128 characters of letters, digits, '_', '.', '-'",
        );
    }
    let alarms = Alarms {
        scale_out: env.optional("SCALE_OUT_ALARM").unwrap_or_default(),
        scale_in: env.optional("SCALE_IN_ALARM").unwrap_or_default(),
    };
    if !alarms.scale_out.is_empty() && alarms.scale_out == alarms.scale_in {
        env.problem("SCALE_IN_ALARM", "must differ from SCALE_OUT_ALARM");
    }
    let rule = ScalingRule {
        operation: env.parse_or(
            "SCALE_OPERATION",
            Operation::MultiplyDivide,
            "Multiply/Divide or Add/Subtract",
        ),
        scale_out_factor: env.parse_or("SCALE_OUT_FACTOR", 2, "a positive integer"),
        scale_in_factor: env.parse_or("SCALE_IN_FACTOR", 2, "a positive integer"),
    };
    if let Err(e) = rule.validate() {
        env.problem("SCALE_OPERATION", e);
    }
    let limits = Limits {
        min_kpu: env.parse_or("MIN_KPU", 1, "a positive integer"),
        max_kpu: env.parse_or("MAX_KPU", 10, "a positive integer"),
        quota_kpu: env.parse_or(
            "KPU_QUOTA",
            DEFAULT_KPU_QUOTA,
            "the account's KPU quota per application",
        ),
    };
    if let Err(e) = limits.validate() {
        env.problem("MIN_KPU", e);
    }
    let max_attempts = env.parse_with("UPDATE_ATTEMPTS", 4, "an integer from 1 to 10", |v| match v
        .parse::<u32>(
    ) {
        Ok(n @ 1..=10) => Ok(n),
        _ => Err("out of range"),
    });
    Settings {
        application,
        policy: Policy {
            alarms,
            rule,
            limits,
        },
        retry: Backoff {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(2),
            max_attempts,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_every_problem_at_once() {
        let mut env = Env::from_pairs([("APPLICATION_NAME", "orders")]);
        let s = from_env(&mut env);
        assert!(env.finish(()).is_ok());
        assert_eq!(s.policy.rule.operation, Operation::MultiplyDivide);
        assert_eq!(
            (
                s.policy.limits.min_kpu,
                s.policy.limits.max_kpu,
                s.policy.limits.quota_kpu
            ),
            (1, 10, 64)
        );

        let mut env = Env::from_pairs([
            ("APPLICATION_NAME", "bad name"),
            ("SCALE_OPERATION", "Multiply/Divide"),
            ("SCALE_OUT_FACTOR", "1"),
            ("MIN_KPU", "5"),
            ("MAX_KPU", "2"),
            ("SCALE_OUT_ALARM", "a"),
            ("SCALE_IN_ALARM", "a"),
            ("UPDATE_ATTEMPTS", "0"),
        ]);
        from_env(&mut env);
        let text = env.finish(()).unwrap_err().to_string();
        for needle in [
            "APPLICATION_NAME: must be",
            "SCALE_IN_ALARM: must differ",
            "SCALE_OUT_FACTOR (1) must be at least 2",
            "MIN_KPU (5) is greater than MAX_KPU (2)",
            "UPDATE_ATTEMPTS: \"0\"",
        ] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
    }
}

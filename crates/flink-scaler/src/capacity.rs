//! KPU arithmetic and the scaling decision: pure, no AWS types.
//!
//! Managed Service for Apache Flink bills and sizes in KPUs; an application's
//! KPU count is `ceil(Parallelism / ParallelismPerKPU)`. The scaler therefore
//! reasons in KPUs and writes `ParallelismUpdate = KPU × ParallelismPerKPU`,
//! keeping the application's own ParallelismPerKPU (the AWS samples either
//! ignored it or forced it to 1).

use std::fmt;
use std::str::FromStr;

/// Largest ParallelismPerKPU the service accepts.
pub const MAX_PARALLELISM_PER_KPU: u32 = 8;
/// The default account quota of KPUs per application (Service Quotas can raise it).
pub const DEFAULT_KPU_QUOTA: u32 = 64;

/// How a factor changes the capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Scale out multiplies, scale in divides (rounding down).
    MultiplyDivide,
    /// Scale out adds, scale in subtracts.
    AddSubtract,
}

impl FromStr for Operation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "Multiply/Divide" => Ok(Operation::MultiplyDivide),
            // The blog-era template spelled it "Add/Substract"; accept both.
            "Add/Subtract" | "Add/Substract" => Ok(Operation::AddSubtract),
            other => Err(format!(
                "{other:?} is neither Multiply/Divide nor Add/Subtract"
            )),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::MultiplyDivide => "Multiply/Divide",
            Operation::AddSubtract => "Add/Subtract",
        })
    }
}

/// Which way to scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Out,
    In,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Out => "out",
            Direction::In => "in",
        }
    }
}

/// The capacity bounds, all in KPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub min_kpu: u32,
    pub max_kpu: u32,
    /// The account's KPU quota per application; above it UpdateApplication fails.
    pub quota_kpu: u32,
}

impl Limits {
    /// The highest KPU count the scaler may set: the configured maximum or
    /// the quota, whichever is lower.
    pub fn effective_max(&self) -> u32 {
        self.max_kpu.min(self.quota_kpu)
    }

    /// `kpu` clamped into `[min_kpu, effective_max]`.
    pub fn clamp(&self, kpu: u32) -> u32 {
        kpu.clamp(self.min_kpu.min(self.effective_max()), self.effective_max())
    }

    /// Checks the bounds make sense; the message names the variable at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.min_kpu == 0 {
            return Err("MIN_KPU must be at least 1".into());
        }
        if self.min_kpu > self.max_kpu {
            return Err(format!(
                "MIN_KPU ({}) is greater than MAX_KPU ({})",
                self.min_kpu, self.max_kpu
            ));
        }
        if self.min_kpu > self.quota_kpu {
            return Err(format!(
                "MIN_KPU ({}) is above KPU_QUOTA ({})",
                self.min_kpu, self.quota_kpu
            ));
        }
        Ok(())
    }
}

/// A scaling rule: the operation and the factor of each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalingRule {
    pub operation: Operation,
    pub scale_out_factor: u32,
    pub scale_in_factor: u32,
}

impl ScalingRule {
    /// A factor that cannot change the capacity is a configuration mistake:
    /// multiplying by 1 or adding 0 would loop the state machine forever.
    pub fn validate(&self) -> Result<(), String> {
        let least = match self.operation {
            Operation::MultiplyDivide => 2,
            Operation::AddSubtract => 1,
        };
        for (name, f) in [
            ("SCALE_OUT_FACTOR", self.scale_out_factor),
            ("SCALE_IN_FACTOR", self.scale_in_factor),
        ] {
            if f < least {
                return Err(format!(
                    "{name} ({f}) must be at least {least} for {}",
                    self.operation
                ));
            }
        }
        Ok(())
    }

    /// The unclamped capacity one step from `current`.
    pub fn step(&self, current: u32, direction: Direction) -> u32 {
        match (self.operation, direction) {
            (Operation::MultiplyDivide, Direction::Out) => {
                current.saturating_mul(self.scale_out_factor)
            }
            (Operation::MultiplyDivide, Direction::In) => current / self.scale_in_factor.max(1),
            (Operation::AddSubtract, Direction::Out) => {
                current.saturating_add(self.scale_out_factor)
            }
            (Operation::AddSubtract, Direction::In) => current.saturating_sub(self.scale_in_factor),
        }
    }
}

/// KPUs of a parallelism: `ceil(parallelism / parallelism_per_kpu)`.
pub fn kpu_of(parallelism: u32, parallelism_per_kpu: u32) -> u32 {
    parallelism.div_ceil(parallelism_per_kpu.max(1))
}

/// What one scaling step decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Change from `from` to `to` KPUs; `clamped` when a limit cut the step short.
    Scale { from: u32, to: u32, clamped: bool },
    /// Already at (or beyond) the limit in that direction: nothing to do.
    AtLimit { kpu: u32, limit: u32 },
}

/// The next capacity for a metric-driven step from `current` KPUs.
pub fn next_step(current: u32, direction: Direction, rule: &ScalingRule, limits: &Limits) -> Step {
    let max = limits.effective_max();
    let min = limits.min_kpu.min(max);
    match direction {
        Direction::Out if current >= max => Step::AtLimit {
            kpu: current,
            limit: max,
        },
        Direction::In if current <= min => Step::AtLimit {
            kpu: current,
            limit: min,
        },
        _ => {
            let desired = rule.step(current, direction);
            let to = desired.clamp(min, max);
            Step::Scale {
                from: current,
                to,
                clamped: to != desired,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: Limits = Limits {
        min_kpu: 1,
        max_kpu: 10,
        quota_kpu: 64,
    };
    const MUL: ScalingRule = ScalingRule {
        operation: Operation::MultiplyDivide,
        scale_out_factor: 2,
        scale_in_factor: 2,
    };
    const ADD: ScalingRule = ScalingRule {
        operation: Operation::AddSubtract,
        scale_out_factor: 3,
        scale_in_factor: 2,
    };

    #[test]
    fn kpu_is_the_ceiling_of_parallelism_over_ppk() {
        // (parallelism, ppk, kpu)
        for (p, ppk, kpu) in [
            (1, 1, 1),
            (4, 1, 4),
            (4, 4, 1),
            (5, 4, 2),
            (8, 4, 2),
            (9, 4, 3),
            (7, 2, 4),
            (64, 8, 8),
        ] {
            assert_eq!(kpu_of(p, ppk), kpu, "parallelism {p}, ppk {ppk}");
        }
    }

    /// The capacity table: (rule, direction, current, expected step).
    #[test]
    fn capacity_table() {
        let scale = |from, to, clamped| Step::Scale { from, to, clamped };
        let cases = [
            (MUL, Direction::Out, 1, scale(1, 2, false)),
            (MUL, Direction::Out, 4, scale(4, 8, false)),
            (MUL, Direction::Out, 6, scale(6, 10, true)),
            (
                MUL,
                Direction::Out,
                10,
                Step::AtLimit { kpu: 10, limit: 10 },
            ),
            (
                MUL,
                Direction::Out,
                12,
                Step::AtLimit { kpu: 12, limit: 10 },
            ),
            (MUL, Direction::In, 8, scale(8, 4, false)),
            (MUL, Direction::In, 5, scale(5, 2, false)),
            (MUL, Direction::In, 3, scale(3, 1, false)),
            (MUL, Direction::In, 1, Step::AtLimit { kpu: 1, limit: 1 }),
            (ADD, Direction::Out, 1, scale(1, 4, false)),
            (ADD, Direction::Out, 8, scale(8, 10, true)),
            (
                ADD,
                Direction::Out,
                10,
                Step::AtLimit { kpu: 10, limit: 10 },
            ),
            (ADD, Direction::In, 10, scale(10, 8, false)),
            (ADD, Direction::In, 2, scale(2, 1, true)),
            (ADD, Direction::In, 1, Step::AtLimit { kpu: 1, limit: 1 }),
            // Above the maximum (set by hand): scaling in lands inside the range.
            (MUL, Direction::In, 40, scale(40, 10, true)),
        ];
        for (rule, direction, current, expected) in cases {
            assert_eq!(
                next_step(current, direction, &rule, &LIMITS),
                expected,
                "{} {direction:?} from {current}",
                rule.operation
            );
        }
    }

    #[test]
    fn minimum_above_one_is_respected() {
        let limits = Limits {
            min_kpu: 3,
            max_kpu: 10,
            quota_kpu: 64,
        };
        assert_eq!(
            next_step(4, Direction::In, &MUL, &limits),
            Step::Scale {
                from: 4,
                to: 3,
                clamped: true
            }
        );
        assert_eq!(
            next_step(3, Direction::In, &MUL, &limits),
            Step::AtLimit { kpu: 3, limit: 3 }
        );
    }

    #[test]
    fn quota_caps_the_maximum() {
        let limits = Limits {
            min_kpu: 1,
            max_kpu: 100,
            quota_kpu: 64,
        };
        assert_eq!(limits.effective_max(), 64);
        assert_eq!(
            next_step(40, Direction::Out, &MUL, &limits),
            Step::Scale {
                from: 40,
                to: 64,
                clamped: true
            }
        );
        assert_eq!(
            next_step(64, Direction::Out, &MUL, &limits),
            Step::AtLimit { kpu: 64, limit: 64 }
        );
        assert_eq!(limits.clamp(80), 64);
        assert_eq!(limits.clamp(0), 1);
    }

    #[test]
    fn operations_parse_including_the_blog_spelling() {
        assert_eq!("Multiply/Divide".parse(), Ok(Operation::MultiplyDivide));
        assert_eq!("Add/Subtract".parse(), Ok(Operation::AddSubtract));
        assert_eq!("Add/Substract".parse(), Ok(Operation::AddSubtract));
        assert!("multiply".parse::<Operation>().is_err());
    }

    #[test]
    fn useless_factors_and_inverted_limits_are_rejected() {
        let rule = ScalingRule {
            scale_out_factor: 1,
            ..MUL
        };
        assert!(rule
            .validate()
            .unwrap_err()
            .contains("SCALE_OUT_FACTOR (1)"));
        let rule = ScalingRule {
            scale_in_factor: 0,
            ..ADD
        };
        assert!(rule.validate().unwrap_err().contains("SCALE_IN_FACTOR (0)"));
        assert!(MUL.validate().is_ok() && ADD.validate().is_ok());
        let bad = Limits {
            min_kpu: 5,
            max_kpu: 4,
            quota_kpu: 64,
        };
        assert!(bad.validate().unwrap_err().contains("MIN_KPU (5)"));
        let bad = Limits {
            min_kpu: 0,
            ..LIMITS
        };
        assert!(bad.validate().is_err());
    }

    proptest! {
        /// Whatever the state, a step stays in bounds and moves the right way.
        #[test]
        fn steps_stay_in_bounds_and_move_the_right_way(
            current in 1u32..200,
            min in 1u32..20,
            span in 0u32..80,
            quota in 1u32..100,
            out in 1u32..6,
            inn in 1u32..6,
            multiply in any::<bool>(),
            scale_out in any::<bool>(),
        ) {
            let limits = Limits { min_kpu: min, max_kpu: min + span, quota_kpu: quota.max(min) };
            let rule = ScalingRule {
                operation: if multiply { Operation::MultiplyDivide } else { Operation::AddSubtract },
                scale_out_factor: out + u32::from(multiply),
                scale_in_factor: inn + u32::from(multiply),
            };
            let direction = if scale_out { Direction::Out } else { Direction::In };
            match next_step(current, direction, &rule, &limits) {
                Step::Scale { from, to, .. } => {
                    prop_assert_eq!(from, current);
                    prop_assert!(to >= limits.min_kpu && to <= limits.effective_max());
                    match direction {
                        Direction::Out => prop_assert!(to > from),
                        Direction::In => prop_assert!(to < from),
                    }
                }
                Step::AtLimit { kpu, limit } => {
                    prop_assert_eq!(kpu, current);
                    match direction {
                        Direction::Out => prop_assert!(kpu >= limit),
                        Direction::In => prop_assert!(kpu <= limit),
                    }
                }
            }
        }
    }
}

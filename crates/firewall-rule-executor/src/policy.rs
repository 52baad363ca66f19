//! The firewall policy's stateful rule-group references.
//!
//! Under STRICT_ORDER every reference needs a priority, unique in the policy
//! (anfw-automate gave every tenant group 250, which Network Firewall
//! rejects, and its drop-all reserved group 100, i.e. before the tenants'
//! pass rules). Tenant groups get the lowest free priority from
//! [`TENANT_PRIORITY_BASE`]; the global group sits at [`GLOBAL_PRIORITY`],
//! after all of them.

/// Network Firewall's limit of stateful rule groups per policy.
pub const MAX_STATEFUL_GROUPS: usize = 20;
pub const TENANT_PRIORITY_BASE: i32 = 100;
pub const GLOBAL_PRIORITY: i32 = 65_000;

/// One `StatefulRuleGroupReference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub arn: String,
    pub priority: Option<i32>,
}

/// Which kind of group a reference is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRole {
    Tenant,
    Global,
}

/// The references with `arn` attached, `None` when it already is.
pub fn attach(
    refs: &[GroupRef],
    arn: &str,
    strict: bool,
    role: GroupRole,
) -> Result<Option<Vec<GroupRef>>, String> {
    if refs.iter().any(|r| r.arn == arn) {
        return Ok(None);
    }
    if refs.len() >= MAX_STATEFUL_GROUPS {
        return Err(format!(
            "the firewall policy already references {MAX_STATEFUL_GROUPS} stateful rule groups; raise the groups' capacity or the policy limit"
        ));
    }
    let priority = if !strict {
        None
    } else {
        let used: Vec<i32> = refs.iter().filter_map(|r| r.priority).collect();
        Some(match role {
            GroupRole::Global if used.contains(&GLOBAL_PRIORITY) => {
                return Err(format!(
                    "priority {GLOBAL_PRIORITY} (the global group's) is taken by another group"
                ))
            }
            GroupRole::Global => GLOBAL_PRIORITY,
            GroupRole::Tenant => (TENANT_PRIORITY_BASE..GLOBAL_PRIORITY)
                .find(|p| !used.contains(p))
                .ok_or("no free tenant priority")?,
        })
    };
    let mut out = refs.to_vec();
    out.push(GroupRef {
        arn: arn.to_string(),
        priority,
    });
    Ok(Some(out))
}

/// The references without `arn`, `None` when it is not attached.
pub fn detach(refs: &[GroupRef], arn: &str) -> Option<Vec<GroupRef>> {
    refs.iter()
        .any(|r| r.arn == arn)
        .then(|| refs.iter().filter(|r| r.arn != arn).cloned().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(arn: &str, p: Option<i32>) -> GroupRef {
        GroupRef {
            arn: arn.into(),
            priority: p,
        }
    }

    #[test]
    fn strict_priorities_are_unique_and_global_is_last() {
        let refs = vec![
            r("central", Some(1)),
            r("t0", Some(100)),
            r("t2", Some(102)),
        ];
        let next = attach(&refs, "t1", true, GroupRole::Tenant)
            .unwrap()
            .unwrap();
        assert_eq!(next.last().unwrap(), &r("t1", Some(101)));
        let with_global = attach(&next, "g", true, GroupRole::Global)
            .unwrap()
            .unwrap();
        assert_eq!(with_global.last().unwrap().priority, Some(GLOBAL_PRIORITY));
        assert!(with_global
            .iter()
            .all(|x| x.priority <= Some(GLOBAL_PRIORITY)));
        assert_eq!(
            attach(&with_global, "g", true, GroupRole::Global).unwrap(),
            None,
            "idempotent"
        );
        assert!(attach(&with_global, "g2", true, GroupRole::Global).is_err());
    }

    #[test]
    fn default_order_has_no_priorities_and_limits_hold() {
        let refs: Vec<GroupRef> = (0..19).map(|i| r(&format!("t{i}"), None)).collect();
        let full = attach(&refs, "x", false, GroupRole::Tenant)
            .unwrap()
            .unwrap();
        assert_eq!(full.last().unwrap().priority, None);
        assert!(attach(&full, "y", false, GroupRole::Tenant)
            .unwrap_err()
            .contains("20 stateful"));
        assert_eq!(detach(&full, "x").unwrap(), refs);
        assert_eq!(detach(&refs, "x"), None);
    }
}

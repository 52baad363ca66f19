//! Reconciliation, pure: given the managed tenant rule groups as read and
//! one account's desired state, the writes that make the firewall match it.
//!
//! - A rule's identity is its `metadata: rule_name`; a rule already in some
//!   group stays there (no churn), an unchanged one keeps its exact line.
//! - New rules fill existing groups up to their capacity, in name order,
//!   then new groups; a group left empty is deleted.
//! - sids: a rule keeps its sid; a new rule takes its preferred sid unless
//!   that is taken in its group, then the next free one (stable: the same
//!   inputs give the same sids).
//! - IP-set variables `a<account><vpc>` in a group carry every CIDR of each
//!   of the account's VPCs with rules there, and are dropped with the rules.
//! - A group whose rules and variables would not change is not written.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use common::firewall_state::{
    next_tenant_sid, rule_name_of, sid_of, vpc_variable, with_sid, Change, DesiredState, RuleName,
};

/// A managed tenant rule group as read from the firewall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    pub name: String,
    /// One capacity unit per rule.
    pub capacity: usize,
    /// The non-blank lines of its `RulesString`.
    pub rules: Vec<String>,
    /// `RuleVariables.IPSets`: variable -> CIDRs.
    pub ip_sets: BTreeMap<String, Vec<String>>,
}

/// The content a group should get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupContent {
    pub rules: Vec<String>,
    pub ip_sets: BTreeMap<String, Vec<String>>,
}

impl GroupContent {
    /// The `RulesString`: one rule per line.
    pub fn rules_string(&self) -> String {
        self.rules.join("\n")
    }
}

/// One write to the firewall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupWrite {
    /// `UpdateRuleGroup` with the token read with the group.
    Update {
        group: String,
        content: GroupContent,
    },
    /// `CreateRuleGroup` (tagged, configured capacity), then attach it to
    /// the Region's policy.
    Create {
        group: String,
        content: GroupContent,
    },
    /// Detach from the policy, then `DeleteRuleGroup`.
    Delete { group: String },
}

impl GroupWrite {
    pub fn group(&self) -> &str {
        match self {
            GroupWrite::Update { group, .. }
            | GroupWrite::Create { group, .. }
            | GroupWrite::Delete { group } => group,
        }
    }
}

/// Summary counts for the spoke's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSummary {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub writes: Vec<GroupWrite>,
    pub summary: PlanSummary,
}

/// Whether a rule or variable of the account is in the change's scope.
struct Scope<'a> {
    account: &'a str,
    /// Only this VPC (without `vpc-`), or every VPC of the account.
    vpc: Option<&'a str>,
}

impl Scope<'_> {
    fn rule(&self, name: &RuleName<'_>) -> bool {
        name.account == self.account && self.vpc.is_none_or(|v| v == name.vpc)
    }

    fn variable(&self, var: &str) -> bool {
        match self.vpc {
            Some(v) => var == vpc_variable(self.account, v),
            None => var
                .strip_prefix('a')
                .and_then(|rest| rest.strip_prefix(self.account))
                .is_some_and(|vpc| !vpc.is_empty()),
        }
    }
}

/// Plans the writes for `desired` against `groups` (the managed tenant
/// groups of its Region). `new_group_name(i)` names the i-th group to
/// create; `capacity` is the capacity new groups get.
pub fn plan(
    groups: &[GroupState],
    desired: &DesiredState,
    capacity: usize,
    mut new_group_name: impl FnMut(usize) -> String,
) -> Plan {
    let account = desired.account.as_str();
    let (scope, wanted, cidrs) = match &desired.change {
        Change::Replace { vpcs } => {
            let mut wanted: Vec<(String, String)> = Vec::new();
            let mut cidrs = HashMap::new();
            for v in vpcs {
                let bare = v.vpc_id.trim_start_matches("vpc-").to_string();
                cidrs.insert(bare, v.cidrs.clone());
                wanted.extend(v.rules.iter().map(|r| (r.name.clone(), r.rule.clone())));
            }
            (Scope { account, vpc: None }, wanted, cidrs)
        }
        Change::RemoveVpc { vpc_id } => (
            Scope {
                account,
                vpc: Some(vpc_id.trim_start_matches("vpc-")),
            },
            Vec::new(),
            HashMap::new(),
        ),
        Change::RemoveAll => (Scope { account, vpc: None }, Vec::new(), HashMap::new()),
    };
    let wanted_text: HashMap<&str, &str> = wanted
        .iter()
        .map(|(n, r)| (n.as_str(), r.as_str()))
        .collect();

    let mut summary = PlanSummary::default();
    let mut placed: HashSet<String> = HashSet::new();
    let mut sorted: Vec<&GroupState> = groups.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));

    // Pass 1: keep, rewrite or drop the rules in scope where they are.
    let mut contents: Vec<(String, usize, Vec<String>)> = Vec::new();
    for g in &sorted {
        let mut lines = Vec::with_capacity(g.rules.len());
        for line in &g.rules {
            let name = rule_name_of(line).and_then(|n| RuleName::parse(n).map(|p| (n, p)));
            match name {
                Some((n, parsed)) if scope.rule(&parsed) => match wanted_text.get(n) {
                    Some(text) if placed.insert(n.to_string()) => {
                        let sid = sid_of(line);
                        let same =
                            sid.and_then(|s| with_sid(text, s)).as_deref() == Some(line.as_str());
                        if same {
                            summary.unchanged += 1;
                            lines.push(line.clone());
                        } else {
                            summary.changed += 1;
                            let kept_sid = sid.and_then(|s| with_sid(text, s));
                            lines.push(kept_sid.unwrap_or_else(|| text.to_string()));
                        }
                    }
                    // Not wanted any more, or a duplicate of a placed rule.
                    _ => summary.removed += 1,
                },
                // Other tenants' rules and lines this system did not write.
                _ => lines.push(line.clone()),
            }
        }
        contents.push((g.name.clone(), g.capacity, lines));
    }

    // Pass 2: new rules fill existing groups, then new ones.
    let mut pending = wanted
        .iter()
        .filter(|(n, _)| !placed.contains(n))
        .peekable();
    for (_, cap, lines) in contents.iter_mut() {
        while lines.len() < *cap {
            let Some((_, text)) = pending.next() else {
                break;
            };
            lines.push(place(lines, text));
            summary.added += 1;
        }
    }
    let mut created = Vec::new();
    while pending.peek().is_some() {
        let mut lines = Vec::new();
        while lines.len() < capacity.max(1) {
            let Some((_, text)) = pending.next() else {
                break;
            };
            lines.push(place(&lines, text));
            summary.added += 1;
        }
        created.push(lines);
    }

    // Pass 3: variables and the writes.
    let mut writes = Vec::new();
    for (g, (name, _, lines)) in sorted.iter().zip(contents) {
        let ip_sets = variables(&g.ip_sets, &lines, &scope, &cidrs);
        if lines.is_empty() {
            writes.push(GroupWrite::Delete { group: name });
        } else if lines != g.rules || ip_sets != g.ip_sets {
            writes.push(GroupWrite::Update {
                group: name,
                content: GroupContent {
                    rules: lines,
                    ip_sets,
                },
            });
        }
    }
    for (i, lines) in created.into_iter().enumerate() {
        let ip_sets = variables(&BTreeMap::new(), &lines, &scope, &cidrs);
        writes.push(GroupWrite::Create {
            group: new_group_name(i),
            content: GroupContent {
                rules: lines,
                ip_sets,
            },
        });
    }
    Plan { writes, summary }
}

/// `text` with a sid not used in `lines`.
fn place(lines: &[String], text: &str) -> String {
    let taken: HashSet<u32> = lines.iter().filter_map(|l| sid_of(l)).collect();
    let Some(mut sid) = sid_of(text) else {
        return text.to_string();
    };
    while taken.contains(&sid) {
        sid = next_tenant_sid(sid);
    }
    with_sid(text, sid).unwrap_or_else(|| text.to_string())
}

/// The group's variables after the change: others' kept, the account's in
/// scope set for each of its VPCs with rules in the group.
fn variables(
    old: &BTreeMap<String, Vec<String>>,
    lines: &[String],
    scope: &Scope<'_>,
    cidrs: &HashMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = old
        .iter()
        .filter(|(k, _)| !scope.variable(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let vpcs: BTreeSet<&str> = lines
        .iter()
        .filter_map(|l| rule_name_of(l).and_then(RuleName::parse))
        .filter(|n| scope.rule(n))
        .map(|n| n.vpc)
        .collect();
    for vpc in vpcs {
        let var = vpc_variable(scope.account, vpc);
        match cidrs.get(vpc) {
            Some(c) => {
                out.insert(var, c.clone());
            }
            // In scope but not re-described (cannot happen for Replace,
            // whose rules all carry their VPC): keep what was there.
            None => {
                if let Some(c) = old.get(&var) {
                    out.insert(var, c.clone());
                }
            }
        }
    }
    out
}

//! The ownership index of a Region: which managed tenant rule groups hold
//! each account's rules, so a change describes those groups only instead of
//! every managed group (anfw-automate's O(rules x groups) scan).
//!
//! Stored as one JSON object per Region in the executor's S3 state bucket
//! (no new dependency, and S3 conditional writes give a compare-and-swap on
//! the ETag). The executor is its only writer (FIFO group = Region), but it
//! never has to be right:
//!
//! - An account's entry names a **superset** of the groups holding its
//!   rules: it grows (and is marked pending) before group writes that may
//!   put its rules in new groups, and is set to the written state after, so
//!   a crash in between leaves extra names, never missing ones.
//! - The entry records the account's rule names (rule_name -> group
//!   ownership, per the spec) as of its last write; every recorded rule the
//!   change still needs to see (wanted, or to be removed) must be found in
//!   the described groups, which catches an entry that misses a group
//!   holding them. The entry is only rewritten when its set of groups
//!   changes, so adding, editing or renaming rules inside the account's
//!   groups costs no index write (one describe and one update per group).
//! - A missing or unreadable index, a pending entry, a named group that does
//!   not exist or is not a managed tenant group, a recorded rule not found,
//!   global rules that changed, or new rules with no room in the account's
//!   groups: the full scan, and the index is rebuilt from it.
//!
//! Not detected: an *older version* of the index restored over a newer one
//! (rules added since, in groups it does not list, would be missed); delete
//! the object instead, it is rebuilt.

use std::collections::{BTreeMap, BTreeSet};

use common::firewall_state::{rule_name_of, RuleName};
use md5::{Digest, Md5};

use serde::{Deserialize, Serialize};

use crate::plan::{GroupState, GroupWrite, Plan};

pub const INDEX_FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipIndex {
    pub format: u32,
    pub region: String,
    /// Digest of the global rules the reserved group was verified to hold.
    pub global: Option<String>,
    pub accounts: BTreeMap<String, AccountEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEntry {
    /// A superset of the tenant groups (names) holding the account's rules.
    pub groups: BTreeSet<String>,
    /// The account's rule names as of the entry's last write (a hint:
    /// rules added or removed since are not recorded).
    pub rules: BTreeSet<String>,
    /// Group writes may be half done: not trusted (forces the full scan).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

impl AccountEntry {
    /// Whether the entry can be trusted: not pending, and every recorded
    /// rule for which `needed` holds is in `found` (the entry's groups as
    /// described).
    pub fn seen_in(&self, found: &AccountEntry, needed: impl Fn(&str) -> bool) -> bool {
        !self.pending
            && self
                .rules
                .iter()
                .filter(|n| needed(n))
                .all(|n| found.rules.contains(n))
    }

    /// Whether the stored entry must be rewritten once the firewall holds
    /// `after`: it is pending or the account's set of groups changed.
    pub fn outdated_by(&self, after: &AccountEntry) -> bool {
        self.pending || self.groups != after.groups
    }
}

impl OwnershipIndex {
    pub fn new(region: &str) -> Self {
        OwnershipIndex {
            format: INDEX_FORMAT,
            region: region.to_string(),
            global: None,
            accounts: BTreeMap::new(),
        }
    }

    /// Every account's entry from a full read of the Region's tenant groups.
    pub fn rebuild(region: &str, groups: &[GroupState], global: Option<String>) -> Self {
        let mut index = OwnershipIndex::new(region);
        index.global = global;
        for g in groups {
            for (account, name) in account_names(&g.rules) {
                let entry = index.accounts.entry(account.to_string()).or_default();
                entry.groups.insert(g.name.clone());
                entry.rules.insert(name.to_string());
            }
        }
        index
    }

    /// The entry the indexed path may start from for `account`.
    pub fn usable(&self, region: &str, account: &str, global: &str) -> Option<&AccountEntry> {
        (self.format == INDEX_FORMAT
            && self.region == region
            && self.global.as_deref() == Some(global))
        .then(|| self.accounts.get(account))
        .flatten()
        .filter(|e| !e.pending)
    }
}

/// `(account, rule name)` of each rule this system wrote in `rules`.
fn account_names(rules: &[String]) -> impl Iterator<Item = (&str, &str)> {
    rules.iter().filter_map(|l| {
        let name = rule_name_of(l)?;
        RuleName::parse(name).map(|p| (p.account, name))
    })
}

/// Digest of a set of global rules, to see when they changed.
pub fn global_digest(rules: &[String]) -> String {
    let mut md5 = Md5::new();
    for r in rules {
        md5.update(r.as_bytes());
        md5.update(b"\n");
    }
    md5.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The account's entry computed from `groups` (as read, or as written).
pub fn entry_of<'a>(
    account: &str,
    groups: impl IntoIterator<Item = &'a GroupState>,
) -> AccountEntry {
    let mut entry = AccountEntry::default();
    for g in groups {
        for (a, name) in account_names(&g.rules) {
            if a == account {
                entry.groups.insert(g.name.clone());
                entry.rules.insert(name.to_string());
            }
        }
    }
    entry
}

/// The groups as they will be once `plan`'s writes are done.
pub fn after_writes(read: &[GroupState], plan: &Plan) -> Vec<GroupState> {
    let mut out: Vec<GroupState> = Vec::new();
    for g in read {
        match plan.writes.iter().find(|w| w.group() == g.name) {
            Some(GroupWrite::Delete { .. }) => {}
            Some(GroupWrite::Update { content, .. }) => out.push(GroupState {
                rules: content.rules.clone(),
                ip_sets: content.ip_sets.clone(),
                ..g.clone()
            }),
            _ => out.push(g.clone()),
        }
    }
    for w in &plan.writes {
        if let GroupWrite::Create { group, content } = w {
            out.push(GroupState {
                name: group.clone(),
                capacity: 0,
                rules: content.rules.clone(),
                ip_sets: content.ip_sets.clone(),
            });
        }
    }
    out
}

/// The entry to store before the group writes: every group the account's
/// rules are in now or will be in, pending.
pub fn grown(before: &AccountEntry, after: &AccountEntry) -> AccountEntry {
    AccountEntry {
        groups: before.groups.union(&after.groups).cloned().collect(),
        rules: before.rules.union(&after.rules).cloned().collect(),
        pending: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::GroupContent;

    fn rule(account: &str, i: u32) -> String {
        format!("pass tls $a{account}0abc any -> $EXTERNAL_NET 443 (tls.sni; content:\"h{i}\"; sid:{i}; metadata: rule_name {account}-0abc-{:010x};)", i)
    }

    fn group(name: &str, rules: Vec<String>) -> GroupState {
        GroupState {
            name: name.into(),
            capacity: 10,
            rules,
            ip_sets: BTreeMap::new(),
        }
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    #[test]
    fn rebuild_records_each_accounts_groups_and_names() {
        let groups = [
            group(
                "g1",
                vec![
                    rule(A, 1),
                    rule(B, 2),
                    "pass ip any any -> any any (sid:9;)".into(),
                ],
            ),
            group("g2", vec![rule(A, 3)]),
            group("g3", vec![]),
        ];
        let index = OwnershipIndex::rebuild("r", &groups, Some("gd".into()));
        let a = &index.accounts[A];
        assert_eq!(
            a.groups,
            BTreeSet::from(["g1".to_string(), "g2".to_string()])
        );
        assert_eq!(a.rules.len(), 2);
        assert_eq!(a, &entry_of(A, &groups));
        assert_eq!(index.accounts[B].groups, BTreeSet::from(["g1".to_string()]));
        assert_eq!(index.accounts.len(), 2, "foreign lines own nothing");
        assert!(index.usable("r", A, "gd").is_some());
        assert!(index.usable("other", A, "gd").is_none());
        assert!(index.usable("r", A, "changed global").is_none());
        assert!(index.usable("r", "333333333333", "gd").is_none());
    }

    #[test]
    fn recorded_rules_must_be_seen_and_changes_inside_groups_are_not_recorded() {
        let g1 = group("g1", vec![rule(A, 1), rule(A, 2)]);
        let g2 = group("g2", vec![rule(A, 3)]);
        let stored = entry_of(A, [&g1, &g2]);
        let all = |_: &str| true;
        assert!(stored.seen_in(&entry_of(A, [&g1, &g2]), all));
        assert!(
            !stored.seen_in(&entry_of(A, [&g1]), all),
            "a group is missing"
        );
        let r3 = rule_name_of(&rule(A, 3)).unwrap().to_string();
        assert!(
            stored.seen_in(&entry_of(A, [&g1]), |n| n != r3),
            "rules no longer needed need not be found"
        );
        let g1_renamed = group("g1", vec![rule(A, 1), rule(A, 4)]);
        assert!(!stored.outdated_by(&entry_of(A, [&g1_renamed, &g2])));
        assert!(stored.outdated_by(&entry_of(A, [&g1])), "a group gone");
        let pending = AccountEntry {
            pending: true,
            ..stored.clone()
        };
        assert!(!pending.seen_in(&stored, all));
        assert!(pending.outdated_by(&stored));
    }

    #[test]
    fn after_writes_and_grown_cover_old_and_new_groups() {
        let read = vec![group("g1", vec![rule(A, 1)]), group("g2", vec![rule(A, 2)])];
        let content = |rules: Vec<String>| GroupContent {
            rules,
            ip_sets: BTreeMap::new(),
        };
        let plan = Plan {
            writes: vec![
                GroupWrite::Delete { group: "g2".into() },
                GroupWrite::Update {
                    group: "g1".into(),
                    content: content(vec![rule(B, 5)]),
                },
                GroupWrite::Create {
                    group: "g3".into(),
                    content: content(vec![rule(A, 1), rule(A, 2)]),
                },
            ],
            summary: Default::default(),
        };
        let after = after_writes(&read, &plan);
        let names: Vec<&str> = after.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["g1", "g3"]);
        let before = entry_of(A, &read);
        let now = entry_of(A, &after);
        assert_eq!(now.groups, BTreeSet::from(["g3".to_string()]));
        assert_eq!(before.rules, now.rules, "same names, other groups");
        let g = grown(&before, &now);
        assert_eq!(g.groups.len(), 3);
        assert!(g.pending);
    }
}

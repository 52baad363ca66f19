//! `reconcile` over in-memory ports: which calls the ownership index saves,
//! and that a missing, unreadable, stale or half-written index never costs
//! correctness (no lost and no duplicated rules).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use common::firewall_state::{
    rule_name_of, Change, DesiredState, NamedRule, Origin, RuleName, VpcRules, FORMAT,
};
use common::FunctionError;

use crate::config::Config;
use crate::handler::{
    Context, Firewall, FirewallError, GroupRead, IndexRead, OwnershipStore, Precondition,
};
use crate::ownership::{entry_of, OwnershipIndex};
use crate::plan::{GroupContent, GroupState};
use crate::policy::GroupRole;
use crate::reconcile::reconcile;

const REGION: &str = "eu-west-1";
const A: &str = "112233445566";
const B: &str = "998877665544";

#[derive(Default)]
struct Fw {
    groups: BTreeMap<String, GroupRead>,
    calls: Vec<String>,
    /// Operations that fail once, permanently (a crash of this attempt).
    faults: Vec<&'static str>,
    /// The ARNs the Region's policy references.
    attached: BTreeSet<String>,
    tokens: u64,
}

#[derive(Default)]
struct FakeFirewall(Mutex<Fw>);

impl FakeFirewall {
    fn call(&self, op: &'static str) -> Result<(), FirewallError> {
        let mut fw = self.0.lock().unwrap();
        fw.calls.push(op.into());
        if let Some(i) = fw.faults.iter().position(|f| *f == op) {
            fw.faults.remove(i);
            return Err(FunctionError::permanent("Injected", op).into());
        }
        Ok(())
    }

    fn calls(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap().calls)
    }

    fn tenant_groups(&self) -> Vec<GroupState> {
        let fw = self.0.lock().unwrap();
        fw.groups
            .values()
            .filter(|g| g.role == GroupRole::Tenant)
            .map(|g| g.state.clone())
            .collect()
    }

    /// Groups holding rules that the policy does not reference (inert).
    fn unattached(&self) -> Vec<String> {
        let fw = self.0.lock().unwrap();
        fw.groups
            .values()
            .filter(|g| !g.state.rules.is_empty() && !fw.attached.contains(&g.arn))
            .map(|g| g.state.name.clone())
            .collect()
    }

    fn fail_once(&self, op: &'static str) {
        self.0.lock().unwrap().faults.push(op);
    }
}

impl Firewall for FakeFirewall {
    async fn managed_groups(&self, _: &str) -> Result<Vec<GroupRead>, FirewallError> {
        self.call("ListRuleGroups")?;
        let names: Vec<String> = self.0.lock().unwrap().groups.keys().cloned().collect();
        let mut out = Vec::new();
        for n in names {
            out.extend(self.describe_group(REGION, &n).await?);
        }
        Ok(out)
    }

    async fn describe_group(
        &self,
        _: &str,
        name: &str,
    ) -> Result<Option<GroupRead>, FirewallError> {
        self.call("DescribeRuleGroup")?;
        Ok(self.0.lock().unwrap().groups.get(name).cloned())
    }

    async fn update_group(
        &self,
        _: &str,
        group: &GroupRead,
        content: &GroupContent,
    ) -> Result<(), FirewallError> {
        self.call("UpdateRuleGroup")?;
        let mut fw = self.0.lock().unwrap();
        fw.tokens += 1;
        let token = fw.tokens.to_string();
        let g = fw.groups.get_mut(&group.state.name).expect("exists");
        if g.token != group.token {
            return Err(FirewallError::InvalidToken);
        }
        assert!(content.rules.len() <= g.state.capacity, "over capacity");
        g.token = token;
        g.state.rules = content.rules.clone();
        g.state.ip_sets = content.ip_sets.clone();
        Ok(())
    }

    async fn create_group(
        &self,
        _: &str,
        name: &str,
        role: GroupRole,
        capacity: usize,
        content: &GroupContent,
    ) -> Result<String, FirewallError> {
        self.call("CreateRuleGroup")?;
        let arn = format!("arn:{name}");
        let read = GroupRead {
            arn: arn.clone(),
            token: "0".into(),
            role,
            state: GroupState {
                name: name.into(),
                capacity,
                rules: content.rules.clone(),
                ip_sets: content.ip_sets.clone(),
            },
        };
        self.0.lock().unwrap().groups.insert(name.into(), read);
        Ok(arn)
    }

    async fn delete_group(&self, _: &str, arn: &str) -> Result<(), FirewallError> {
        self.call("DeleteRuleGroup")?;
        self.0.lock().unwrap().groups.retain(|_, g| g.arn != arn);
        Ok(())
    }

    async fn attach(&self, _: &str, arn: &str, _: GroupRole) -> Result<(), FirewallError> {
        self.call("UpdateFirewallPolicy")?;
        self.0.lock().unwrap().attached.insert(arn.into());
        Ok(())
    }

    async fn detach(&self, _: &str, arn: &str) -> Result<(), FirewallError> {
        self.call("UpdateFirewallPolicy")?;
        self.0.lock().unwrap().attached.remove(arn);
        Ok(())
    }

    async fn attach_missing(
        &self,
        _: &str,
        groups: &[(String, GroupRole)],
    ) -> Result<(), FirewallError> {
        self.call("DescribeFirewallPolicy")?;
        let missing: Vec<String> = {
            let fw = self.0.lock().unwrap();
            groups
                .iter()
                .filter(|(arn, _)| !fw.attached.contains(arn))
                .map(|(arn, _)| arn.clone())
                .collect()
        };
        if !missing.is_empty() {
            self.call("UpdateFirewallPolicy")?;
            self.0.lock().unwrap().attached.extend(missing);
        }
        Ok(())
    }
}

#[derive(Default)]
struct Store {
    /// The object and its ETag.
    object: Option<(String, u64)>,
    calls: Vec<&'static str>,
    etags: u64,
}

#[derive(Default)]
struct FakeIndex(Mutex<Store>);

impl FakeIndex {
    fn index(&self) -> OwnershipIndex {
        let s = self.0.lock().unwrap();
        serde_json::from_str(&s.object.as_ref().expect("stored").0).expect("parses")
    }

    fn replace(&self, body: String) {
        let mut s = self.0.lock().unwrap();
        s.etags += 1;
        s.object = Some((body, s.etags));
    }

    fn edit(&self, f: impl FnOnce(&mut OwnershipIndex)) {
        let mut index = self.index();
        f(&mut index);
        self.replace(serde_json::to_string(&index).unwrap());
    }

    fn calls(&self) -> Vec<&'static str> {
        std::mem::take(&mut self.0.lock().unwrap().calls)
    }
}

impl OwnershipStore for FakeIndex {
    async fn read(&self, _: &str) -> Result<IndexRead, FirewallError> {
        let mut s = self.0.lock().unwrap();
        s.calls.push("GetObject");
        Ok(match &s.object {
            None => IndexRead::Missing,
            Some((body, etag)) => match serde_json::from_str(body) {
                Ok(index) => IndexRead::Found {
                    index,
                    etag: etag.to_string(),
                },
                Err(_) => IndexRead::Unreadable {
                    etag: etag.to_string(),
                },
            },
        })
    }

    async fn write(
        &self,
        _: &str,
        index: &OwnershipIndex,
        condition: &Precondition,
    ) -> Result<String, FirewallError> {
        let mut s = self.0.lock().unwrap();
        s.calls.push("PutObject");
        let current = s.object.as_ref().map(|(_, e)| e.to_string());
        let holds = match condition {
            Precondition::Absent => current.is_none(),
            Precondition::Matches(e) => current.as_ref() == Some(e),
        };
        if !holds {
            return Err(FirewallError::InvalidToken);
        }
        s.etags += 1;
        s.object = Some((serde_json::to_string(index).unwrap(), s.etags));
        Ok(s.etags.to_string())
    }
}

fn context() -> Context {
    let mut cx = Context::new(Config {
        policies: BTreeMap::from([(REGION.to_string(), "arn:policy".to_string())]),
        strict_order: true,
        group_capacity: 3,
        global_group_capacity: 10,
        group_prefix: "t".into(),
        firewall_vpc_id: "vpc-1".into(),
        spoke_role_name: "r".into(),
        spoke_external_id: None,
        global_rules_yaml: String::new(),
        index_bucket: Some("b".into()),
    });
    cx.backoff.base = Duration::ZERO;
    cx.backoff.cap = Duration::ZERO;
    let _ = cx
        .global_rules
        .set(vec!["drop ip any any -> any any (sid:1;)".into()]);
    cx
}

fn rule(account: &str, i: u32) -> NamedRule {
    let name = format!("{account}-0abc-{i:010x}");
    NamedRule {
        rule: format!("pass tls $a{account}0abc any -> $EXTERNAL_NET 443 (tls.sni; content:\"h{i}.example.com\"; sid:{}; metadata: rule_name {name};)", 1_000_000 + i),
        name,
    }
}

fn desired(account: &str, rules: &[u32]) -> DesiredState {
    DesiredState {
        format: FORMAT,
        account: account.into(),
        region: REGION.into(),
        change: Change::Replace {
            vpcs: vec![VpcRules {
                vpc_id: "vpc-0abc".into(),
                cidrs: vec!["10.0.0.0/16".into()],
                rules: rules.iter().map(|i| rule(account, *i)).collect(),
            }],
        },
        origin: Origin {
            event: "Update".into(),
            version: "v".into(),
            log_group: "g".into(),
            log_stream: "s".into(),
        },
    }
}

struct World {
    cx: Context,
    fw: FakeFirewall,
    index: FakeIndex,
}

impl World {
    fn new() -> World {
        World {
            cx: context(),
            fw: FakeFirewall::default(),
            index: FakeIndex::default(),
        }
    }

    async fn apply(&self, state: &DesiredState) -> Result<(), FunctionError> {
        reconcile(state, &self.cx, &self.fw, &self.index)
            .await
            .map(|_| ())
    }

    fn clear_calls(&self) {
        self.fw.calls();
        self.index.calls();
    }

    /// Every rule name of `account` in the firewall, with its group.
    fn rules_of(&self, account: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for g in self.fw.tenant_groups() {
            for l in &g.rules {
                let name = rule_name_of(l).unwrap();
                if RuleName::parse(name).unwrap().account == account {
                    out.push((name.to_string(), g.name.clone()));
                }
            }
        }
        out.sort();
        out
    }

    /// The firewall holds exactly `expected` for `account`, each rule once,
    /// and the stored index covers the groups that hold them.
    fn assert_converged(&self, account: &str, expected: &[u32]) {
        let held: Vec<String> = self.rules_of(account).into_iter().map(|(n, _)| n).collect();
        let mut want: Vec<String> = expected.iter().map(|i| rule(account, *i).name).collect();
        want.sort();
        assert_eq!(held, want, "each wanted rule exactly once");
        let groups = self.fw.tenant_groups();
        let actual = entry_of(account, &groups);
        let stored = self.index.index().accounts[account].clone();
        assert!(
            actual.groups.is_subset(&stored.groups),
            "{stored:?} covers {actual:?}"
        );
        if !stored.pending {
            assert_eq!(stored.groups, actual.groups, "exact once written");
        }
    }
}

fn count(calls: &[String], op: &str) -> usize {
    calls.iter().filter(|c| *c == op).count()
}

#[tokio::test]
async fn a_missing_index_is_rebuilt_and_then_only_the_accounts_groups_are_read() {
    let w = World::new();
    w.apply(&desired(B, &[1, 2, 3, 4])).await.unwrap();
    w.apply(&desired(A, &[1])).await.unwrap();
    let index = w.index.index();
    assert_eq!(index.accounts.len(), 2);
    assert_eq!(index.accounts[A].groups.len(), 1);
    w.assert_converged(A, &[1]);
    w.assert_converged(B, &[1, 2, 3, 4]);

    // A new rule that fits the account's group: its group only.
    w.clear_calls();
    w.apply(&desired(A, &[1, 2])).await.unwrap();
    let calls = w.fw.calls();
    assert_eq!(calls, ["DescribeRuleGroup", "UpdateRuleGroup"], "{calls:?}");
    assert_eq!(w.index.calls(), ["GetObject"], "recorded lazily");
    w.assert_converged(A, &[1, 2]);

    // Re-delivery: reads only, no write anywhere.
    w.apply(&desired(A, &[1, 2])).await.unwrap();
    assert_eq!(w.fw.calls(), ["DescribeRuleGroup"]);
    assert_eq!(w.index.calls(), ["GetObject"]);
}

#[tokio::test]
async fn an_edited_rule_costs_one_describe_and_one_update() {
    let w = World::new();
    w.apply(&desired(A, &[1, 2])).await.unwrap();
    let mut edited = desired(A, &[1, 2]);
    if let Change::Replace { vpcs } = &mut edited.change {
        vpcs[0].rules[1].rule = vpcs[0].rules[1].rule.replace("443", "8443");
        vpcs[0].cidrs.push("10.1.0.0/16".into());
    }
    w.clear_calls();
    w.apply(&edited).await.unwrap();
    assert_eq!(w.fw.calls(), ["DescribeRuleGroup", "UpdateRuleGroup"]);
    assert_eq!(w.index.calls(), ["GetObject"], "same names, same groups");
    let g = &w.fw.tenant_groups()[0];
    assert!(g.rules.iter().any(|r| r.contains("8443")));
    assert_eq!(g.ip_sets.values().next().unwrap().len(), 2);

    // A renamed entry (another domain: another rule name) and a removal.
    w.apply(&desired(A, &[1, 3])).await.unwrap();
    w.apply(&desired(A, &[3])).await.unwrap();
    assert_eq!(
        w.fw.calls(),
        ["DescribeRuleGroup", "UpdateRuleGroup"].repeat(2)
    );
    assert_eq!(w.index.calls(), ["GetObject"; 2]);
    w.assert_converged(A, &[3]);
    // Rule 1 is recorded but gone; it is not needed, so no scan.
    w.apply(&desired(A, &[3, 4])).await.unwrap();
    assert_eq!(w.fw.calls(), ["DescribeRuleGroup", "UpdateRuleGroup"]);
}

#[tokio::test]
async fn no_room_in_the_accounts_groups_scans_and_records_the_new_group() {
    let w = World::new();
    w.apply(&desired(A, &[1, 2, 3])).await.unwrap();
    w.clear_calls();
    w.apply(&desired(A, &[1, 2, 3, 4])).await.unwrap();
    let calls = w.fw.calls();
    assert_eq!(count(&calls, "ListRuleGroups"), 1, "{calls:?}");
    assert_eq!(count(&calls, "CreateRuleGroup"), 1);
    assert_eq!(
        w.index.calls(),
        ["GetObject", "PutObject", "PutObject"],
        "grow, then exact"
    );
    w.assert_converged(A, &[1, 2, 3, 4]);
    assert_eq!(w.index.index().accounts[A].groups.len(), 2);

    // Removing everything deletes both groups and empties the entry.
    w.apply(&desired(A, &[])).await.unwrap();
    assert!(w.fw.tenant_groups().is_empty());
    assert!(w.index.index().accounts[A].groups.is_empty());
}

#[tokio::test]
async fn an_index_naming_a_deleted_group_falls_back_and_is_corrected() {
    let w = World::new();
    w.apply(&desired(A, &[1])).await.unwrap();
    w.index.edit(|i| {
        i.accounts
            .get_mut(A)
            .unwrap()
            .groups
            .insert("t-deleted".into());
    });
    w.clear_calls();
    w.apply(&desired(A, &[1, 2])).await.unwrap();
    assert_eq!(count(&w.fw.calls(), "ListRuleGroups"), 1);
    w.assert_converged(A, &[1, 2]);
    assert!(!w.index.index().accounts[A].groups.contains("t-deleted"));
}

#[tokio::test]
async fn an_index_missing_a_group_is_caught_by_the_recorded_rules() {
    let w = World::new();
    // B's group gets A's first rule; A's others go to a new group with room.
    w.apply(&desired(B, &[1, 2])).await.unwrap();
    w.apply(&desired(A, &[1, 2, 3])).await.unwrap();
    let shared = w
        .rules_of(A)
        .into_iter()
        .find(|(n, _)| *n == rule(A, 1).name)
        .unwrap()
        .1;
    assert_eq!(w.index.index().accounts[A].groups.len(), 2);
    w.index.edit(|i| {
        i.accounts.get_mut(A).unwrap().groups.remove(&shared);
    });
    // Re-delivery: without the check, rule 1 would look new and fit the
    // other group, a duplicate.
    w.clear_calls();
    w.apply(&desired(A, &[1, 2, 3])).await.unwrap();
    assert_eq!(count(&w.fw.calls(), "ListRuleGroups"), 1);
    w.assert_converged(A, &[1, 2, 3]);
    assert_eq!(w.index.index().accounts[A].groups.len(), 2, "rebuilt");
}

#[tokio::test]
async fn an_unreadable_index_or_changed_global_rules_rebuild_it() {
    let w = World::new();
    w.apply(&desired(A, &[1])).await.unwrap();
    w.index.replace("{not json".into());
    w.apply(&desired(A, &[1, 2])).await.unwrap();
    w.assert_converged(A, &[1, 2]);

    let mut cx = context();
    cx.global_rules =
        std::sync::OnceLock::from(vec!["drop ip any any -> any any (sid:2;)".to_string()]);
    w.clear_calls();
    reconcile(&desired(A, &[1, 2]), &cx, &w.fw, &w.index)
        .await
        .unwrap();
    let calls = w.fw.calls();
    assert_eq!(count(&calls, "ListRuleGroups"), 1, "{calls:?}");
    assert_eq!(count(&calls, "UpdateRuleGroup"), 1, "the global group only");
    assert_eq!(
        w.index.index().global,
        Some(crate::ownership::global_digest(
            cx.global_rules.get().unwrap()
        ))
    );
}

#[tokio::test]
async fn a_crash_between_the_index_and_the_group_writes_leaves_no_duplicates() {
    let w = World::new();
    w.apply(&desired(A, &[1, 2, 3])).await.unwrap();
    // 3 goes, 4-6 come: the full group is updated, a new one is created.
    let next = desired(A, &[1, 2, 4, 5, 6]);
    w.fw.fail_once("CreateRuleGroup");
    assert!(w.apply(&next).await.is_err());
    let stored = w.index.index().accounts[A].clone();
    assert!(stored.pending, "half written: not trusted");
    assert_eq!(
        stored.groups.len(),
        2,
        "the group to create is already named"
    );
    w.apply(&next).await.unwrap();
    w.assert_converged(A, &[1, 2, 4, 5, 6]);

    // A crash on the update of the account's own group: the retry sees
    // the old state through the trusted index and writes it once.
    w.fw.fail_once("UpdateRuleGroup");
    assert!(w.apply(&desired(A, &[1, 4, 5, 6, 7])).await.is_err());
    w.apply(&desired(A, &[1, 4, 5, 6, 7])).await.unwrap();
    w.assert_converged(A, &[1, 4, 5, 6, 7]);
}

#[tokio::test]
async fn a_group_created_by_an_attempt_that_died_before_its_attach_is_attached_by_the_retry() {
    let w = World::new();
    w.apply(&desired(A, &[1, 2, 3])).await.unwrap();
    assert!(w.fw.unattached().is_empty());
    // 4 does not fit the full group: a new group is created, and the
    // attempt dies on the policy write that would attach it.
    let next = desired(A, &[1, 2, 3, 4]);
    w.fw.fail_once("UpdateFirewallPolicy");
    assert!(w.apply(&next).await.is_err());
    assert_eq!(
        w.fw.unattached().len(),
        1,
        "the crash left the new group inert"
    );
    // The retry finds the rules in place (no group writes) and attaches it.
    w.apply(&next).await.unwrap();
    w.assert_converged(A, &[1, 2, 3, 4]);
    assert!(w.fw.unattached().is_empty(), "{:?}", w.fw.unattached());
}

#[tokio::test]
async fn a_lost_race_on_the_index_rereads() {
    let w = World::new();
    w.apply(&desired(A, &[1, 2, 3, 4])).await.unwrap();
    // Another writer replaced the object after our read: the conditional
    // write fails, the round is repeated from a fresh read.
    struct Racing<'a>(&'a FakeIndex, Mutex<bool>);
    impl OwnershipStore for Racing<'_> {
        async fn read(&self, r: &str) -> Result<IndexRead, FirewallError> {
            let out = self.0.read(r).await;
            if std::mem::replace(&mut *self.1.lock().unwrap(), false) {
                self.0.edit(|_| {});
            }
            out
        }
        async fn write(
            &self,
            r: &str,
            i: &OwnershipIndex,
            c: &Precondition,
        ) -> Result<String, FirewallError> {
            self.0.write(r, i, c).await
        }
    }
    let racing = Racing(&w.index, Mutex::new(true));
    w.clear_calls();
    // A group emptied: the entry must shrink after the group writes.
    reconcile(&desired(A, &[1, 2, 3]), &w.cx, &w.fw, &racing)
        .await
        .unwrap();
    // The group was deleted before the index write lost; the fresh read
    // names it, so the retry scans and stores the rebuilt index.
    assert_eq!(
        w.index.calls(),
        ["GetObject", "PutObject", "GetObject", "PutObject"]
    );
    w.assert_converged(A, &[1, 2, 3]);
}

#[tokio::test]
async fn without_an_index_every_change_is_a_full_scan() {
    struct Disabled;
    impl OwnershipStore for Disabled {
        async fn read(&self, _: &str) -> Result<IndexRead, FirewallError> {
            Ok(IndexRead::Disabled)
        }
        async fn write(
            &self,
            _: &str,
            _: &OwnershipIndex,
            _: &Precondition,
        ) -> Result<String, FirewallError> {
            panic!("no writes without an index")
        }
    }
    let w = World::new();
    for rules in [&[1, 2][..], &[1, 2, 3, 4]] {
        reconcile(&desired(A, rules), &w.cx, &w.fw, &Disabled)
            .await
            .unwrap();
        assert_eq!(count(&w.fw.calls(), "ListRuleGroups"), 1);
    }
    let names: BTreeSet<String> = w.rules_of(A).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), 4);
}

//! Read, plan, write for one account's desired state in one Region.
//!
//! The indexed path describes only the groups the ownership index names for
//! the account (one `DescribeRuleGroup` each) and plans over them; the full
//! scan (list + describe every managed group) is the fallback whenever the
//! index cannot be trusted or the account's groups have no room, and it
//! rebuilds the index. Either way each touched group gets one
//! token-checked read-modify-write, and a stale token (or a lost race on the
//! index object) means re-read and re-plan, bounded.

use std::collections::HashSet;
use std::future::Future;

use common::firewall_state::{Change, DesiredState, RuleName};
use common::FunctionError;

use crate::handler::{
    Context, Firewall, FirewallError, GroupRead, IndexRead, OwnershipStore, Precondition,
};
use crate::ownership::{
    after_writes, entry_of, global_digest, grown, AccountEntry, OwnershipIndex,
};
use crate::plan::{plan, GroupContent, GroupState, GroupWrite, Plan};
use crate::policy::GroupRole;

/// Read, plan, write; again from a fresh read when a token was stale.
pub async fn reconcile<F: Firewall, I: OwnershipStore>(
    state: &DesiredState,
    cx: &Context,
    fw: &F,
    index: &I,
) -> Result<Plan, FunctionError> {
    let region = state.region.as_str();
    for round in 0..cx.max_rounds.max(1) {
        match round_once(state, cx, fw, index).await {
            Ok(p) => return Ok(p),
            Err(FirewallError::InvalidToken) => {
                tracing::info!(region, round, "a rule group changed under us; re-reading");
                let mut rng = fastrand::Rng::new();
                tokio::time::sleep(cx.backoff.delay(round, &mut rng)).await;
            }
            Err(FirewallError::Failed(e)) => return Err(e),
        }
    }
    Err(FunctionError::retryable(
        "InvalidTokenException",
        format!(
            "rule groups in {region} kept changing during {} rounds",
            cx.max_rounds
        ),
    ))
}

/// Retries throttling and other transient failures with full jitter.
async fn retrying<T, Fut: Future<Output = Result<T, FirewallError>>>(
    cx: &Context,
    op: impl FnMut(u32) -> Fut,
) -> Result<T, FirewallError> {
    cx.backoff
        .retry(
            op,
            |e| matches!(e, FirewallError::Failed(f) if f.is_retryable()),
        )
        .await
}

async fn round_once<F: Firewall, I: OwnershipStore>(
    state: &DesiredState,
    cx: &Context,
    fw: &F,
    store: &I,
) -> Result<Plan, FirewallError> {
    let region = state.region.as_str();
    let read = retrying(cx, |_| store.read(region)).await?;
    let global = global_digest(cx.global_rules.get().map_or(&[][..], Vec::as_slice));
    if let IndexRead::Found { index, etag } = &read {
        if let Some(p) = indexed(state, cx, fw, store, index, etag, &global).await? {
            return Ok(p);
        }
        tracing::info!(region, account = %state.account, "ownership index not usable here; full scan");
    }
    full_scan(state, cx, fw, store, &read, &global).await
}

/// The indexed path, or `None` when the full scan is needed.
async fn indexed<F: Firewall, I: OwnershipStore>(
    state: &DesiredState,
    cx: &Context,
    fw: &F,
    store: &I,
    index: &OwnershipIndex,
    etag: &str,
    global: &str,
) -> Result<Option<Plan>, FirewallError> {
    let region = state.region.as_str();
    let account = state.account.as_str();
    let Some(entry) = index.usable(region, account, global) else {
        return Ok(None);
    };
    let mut reads = Vec::new();
    for name in &entry.groups {
        match retrying(cx, |_| fw.describe_group(region, name)).await? {
            Some(g) if g.role == GroupRole::Tenant => reads.push(g),
            _ => return Ok(None),
        }
    }
    let states: Vec<GroupState> = reads.iter().map(|g| g.state.clone()).collect();
    let needed = needed(state);
    if !entry.seen_in(&entry_of(account, &states), needed) {
        return Ok(None);
    }
    let p = plan_for(&states, state, cx);
    if p.writes
        .iter()
        .any(|w| matches!(w, GroupWrite::Create { .. }))
    {
        // No room in the account's groups: others' state is needed.
        return Ok(None);
    }
    let refs: Vec<&GroupRead> = reads.iter().collect();
    let mut next = index.clone();
    let condition = Precondition::Matches(etag.to_string());
    maintained(
        region,
        &mut next,
        account,
        Some(entry),
        &states,
        &p,
        store,
        condition,
        cx,
        || apply(region, &p, &refs, cx, fw),
    )
    .await?;
    Ok(Some(p))
}

/// Whether the change must see a recorded rule where it is: it is still
/// wanted (else it would be added twice), or explicitly removed.
fn needed(state: &DesiredState) -> impl Fn(&str) -> bool + '_ {
    let wanted: HashSet<&str> = match &state.change {
        Change::Replace { vpcs } => vpcs
            .iter()
            .flat_map(|v| v.rules.iter().map(|r| r.name.as_str()))
            .collect(),
        _ => HashSet::new(),
    };
    move |name| match &state.change {
        Change::Replace { .. } => wanted.contains(name),
        Change::RemoveVpc { vpc_id } => {
            RuleName::parse(name).is_some_and(|n| n.vpc == vpc_id.trim_start_matches("vpc-"))
        }
        Change::RemoveAll => true,
    }
}

/// List and describe every managed group, plan, rebuild the index.
async fn full_scan<F: Firewall, I: OwnershipStore>(
    state: &DesiredState,
    cx: &Context,
    fw: &F,
    store: &I,
    read: &IndexRead,
    global: &str,
) -> Result<Plan, FirewallError> {
    let region = state.region.as_str();
    let groups = retrying(cx, |_| fw.managed_groups(region)).await?;
    ensure_global(region, &groups, cx, fw).await?;
    let tenants: Vec<&GroupRead> = groups
        .iter()
        .filter(|g| g.role == GroupRole::Tenant)
        .collect();
    let states: Vec<GroupState> = tenants.iter().map(|g| g.state.clone()).collect();
    let p = plan_for(&states, state, cx);
    let condition = match read {
        IndexRead::Disabled => {
            apply(region, &p, &tenants, cx, fw).await?;
            let live = enforced(&groups, &p);
            retrying(cx, |_| fw.attach_missing(region, &live)).await?;
            return Ok(p);
        }
        IndexRead::Missing => Precondition::Absent,
        IndexRead::Unreadable { etag } | IndexRead::Found { etag, .. } => {
            Precondition::Matches(etag.clone())
        }
    };
    let mut next = OwnershipIndex::rebuild(region, &states, Some(global.to_string()));
    maintained(
        region,
        &mut next,
        &state.account,
        None,
        &states,
        &p,
        store,
        condition,
        cx,
        || apply(region, &p, &tenants, cx, fw),
    )
    .await?;
    let live = enforced(&groups, &p);
    retrying(cx, |_| fw.attach_missing(region, &live)).await?;
    Ok(p)
}

/// The groups read by a full scan that must be in the policy after `p`:
/// every one holding rules that `p` does not delete (groups `p` creates are
/// attached as they are created).
fn enforced(groups: &[GroupRead], p: &Plan) -> Vec<(String, GroupRole)> {
    groups
        .iter()
        .filter(|g| {
            let name = &g.state.name;
            let deleted = p
                .writes
                .iter()
                .any(|w| matches!(w, GroupWrite::Delete { group } if group == name));
            let updated = p
                .writes
                .iter()
                .any(|w| matches!(w, GroupWrite::Update { group, .. } if group == name));
            !deleted && (updated || !g.state.rules.is_empty())
        })
        .map(|g| (g.arn.clone(), g.role))
        .collect()
}

/// Runs `writes` between the index writes. `stored` is the account's entry
/// as stored, when the stored index is trusted (the indexed path); the full
/// scan passes `None` and the rebuilt `index`. The entry first grows to every
/// group the account's rules are or will be in (pending), unless the stored
/// one already covers them; after the writes it is the written state,
/// unless the stored one still describes it (see
/// [`AccountEntry::outdated_by`]).
#[allow(clippy::too_many_arguments)]
async fn maintained<I: OwnershipStore, Fut: Future<Output = Result<(), FirewallError>>>(
    region: &str,
    index: &mut OwnershipIndex,
    account: &str,
    stored: Option<&AccountEntry>,
    read: &[GroupState],
    p: &Plan,
    store: &I,
    mut condition: Precondition,
    cx: &Context,
    writes: impl FnOnce() -> Fut,
) -> Result<(), FirewallError> {
    let after = entry_of(account, &after_writes(read, p));
    if !p.writes.is_empty() {
        let covered = stored.is_some_and(|s| after.groups.is_subset(&s.groups));
        if !covered {
            let before = stored.cloned().unwrap_or_else(|| entry_of(account, read));
            index
                .accounts
                .insert(account.to_string(), grown(&before, &after));
            let etag = retrying(cx, |_| store.write(region, index, &condition)).await?;
            condition = Precondition::Matches(etag);
        }
        writes().await?;
    }
    let current = index.accounts.get(account).cloned().unwrap_or_default();
    if stored.is_none() || current.outdated_by(&after) {
        index.accounts.insert(account.to_string(), after);
        retrying(cx, |_| store.write(region, index, &condition)).await?;
    }
    Ok(())
}

fn plan_for(states: &[GroupState], state: &DesiredState, cx: &Context) -> Plan {
    let prefix = &cx.config.group_prefix;
    plan(states, state, cx.config.group_capacity, |_| {
        format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
    })
}

/// The plan's group writes, in order, each with the token of its read.
async fn apply<F: Firewall>(
    region: &str,
    p: &Plan,
    tenants: &[&GroupRead],
    cx: &Context,
    fw: &F,
) -> Result<(), FirewallError> {
    for write in &p.writes {
        match write {
            GroupWrite::Update { group, content } => {
                let read = tenants
                    .iter()
                    .find(|g| &g.state.name == group)
                    .expect("plans name read groups");
                retrying(cx, |_| fw.update_group(region, read, content)).await?;
            }
            GroupWrite::Create { group, content } => {
                let arn = retrying(cx, |_| {
                    fw.create_group(
                        region,
                        group,
                        GroupRole::Tenant,
                        cx.config.group_capacity,
                        content,
                    )
                })
                .await?;
                retrying(cx, |_| fw.attach(region, &arn, GroupRole::Tenant)).await?;
            }
            GroupWrite::Delete { group } => {
                let read = tenants
                    .iter()
                    .find(|g| &g.state.name == group)
                    .expect("plans name read groups");
                retrying(cx, |_| fw.detach(region, &read.arn)).await?;
                retrying(cx, |_| fw.delete_group(region, &read.arn)).await?;
            }
        }
    }
    Ok(())
}

/// The reserved global group exists, is attached last, and holds exactly
/// the global rules; written only when it differs.
async fn ensure_global<F: Firewall>(
    region: &str,
    groups: &[GroupRead],
    cx: &Context,
    fw: &F,
) -> Result<(), FirewallError> {
    let rules = cx.global_rules.get().cloned().unwrap_or_default();
    let content = GroupContent {
        rules,
        ip_sets: Default::default(),
    };
    match groups.iter().find(|g| g.role == GroupRole::Global) {
        Some(g) if g.state.rules == content.rules && g.state.ip_sets.is_empty() => Ok(()),
        Some(g) => retrying(cx, |_| fw.update_group(region, g, &content)).await,
        None if content.rules.is_empty() => Ok(()),
        None => {
            let name = format!("{}-global", cx.config.group_prefix);
            let arn = retrying(cx, |_| {
                fw.create_group(
                    region,
                    &name,
                    GroupRole::Global,
                    cx.config.global_group_capacity,
                    &content,
                )
            })
            .await?;
            retrying(cx, |_| fw.attach(region, &arn, GroupRole::Global)).await
        }
    }
}

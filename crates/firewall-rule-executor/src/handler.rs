//! One SQS FIFO batch: each message is one account's desired state for one
//! Region, reconciled with that Region's firewall. Messages of a Region
//! share a FIFO group, so one writer per firewall; each group still gets a
//! token-checked read-modify-write, and a stale token means re-read and
//! re-plan (bounded).

use std::future::Future;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use common::backoff::Backoff;
use common::firewall_state::{DesiredState, QueueMessage, FORMAT};
use common::{FunctionError, Invocation};

use crate::config::Config;
use crate::plan::{plan, GroupContent, GroupState, GroupWrite, Plan};
use crate::policy::GroupRole;

/// A managed group as read, with the token of that same read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRead {
    pub arn: String,
    pub token: String,
    pub role: GroupRole,
    pub state: GroupState,
}

/// Why a firewall call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewallError {
    /// The update token is stale: another writer was first. Re-read.
    InvalidToken,
    Failed(FunctionError),
}

impl From<FunctionError> for FirewallError {
    fn from(e: FunctionError) -> Self {
        FirewallError::Failed(e)
    }
}

/// The Network Firewall of each Region.
pub trait Firewall {
    /// Every group tagged as this system's, described.
    fn managed_groups(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<GroupRead>, FirewallError>>;
    fn update_group(
        &self,
        region: &str,
        group: &GroupRead,
        content: &GroupContent,
    ) -> impl Future<Output = Result<(), FirewallError>>;
    /// Creates a tagged group and returns its ARN.
    fn create_group(
        &self,
        region: &str,
        name: &str,
        role: GroupRole,
        capacity: usize,
        content: &GroupContent,
    ) -> impl Future<Output = Result<String, FirewallError>>;
    fn delete_group(
        &self,
        region: &str,
        arn: &str,
    ) -> impl Future<Output = Result<(), FirewallError>>;
    /// Adds (or removes) the group to the Region's policy, with a unique
    /// priority under STRICT_ORDER; idempotent.
    fn attach(
        &self,
        region: &str,
        arn: &str,
        role: GroupRole,
    ) -> impl Future<Output = Result<(), FirewallError>>;
    fn detach(&self, region: &str, arn: &str) -> impl Future<Output = Result<(), FirewallError>>;
}

/// Desired states too large for SQS, stored in S3 by the collector.
pub trait StateStore {
    fn fetch(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<DesiredState, FunctionError>>;
}

/// The spoke's customer log group.
pub trait SpokeLog {
    fn write(
        &self,
        account: &str,
        group: &str,
        stream: &str,
        lines: &[String],
    ) -> impl Future<Output = Result<(), FunctionError>>;
}

/// Everything the handler needs besides the ports.
pub struct Context {
    pub config: Config,
    /// Rendered global rules; their names need the firewall account, which
    /// the first invocation's function ARN gives.
    pub global_rules: std::sync::OnceLock<Vec<String>>,
    pub backoff: Backoff,
    /// Read-plan-write rounds before a message is given back to SQS.
    pub max_rounds: u32,
}

impl Context {
    /// Defaults: 5 read-plan-write rounds, throttling backoff 200 ms to 5 s
    /// over 6 attempts (well inside the function timeout).
    pub fn new(config: Config) -> Self {
        Context {
            config,
            global_rules: std::sync::OnceLock::new(),
            backoff: Backoff {
                base: std::time::Duration::from_millis(200),
                cap: std::time::Duration::from_secs(5),
                max_attempts: 6,
            },
            max_rounds: 5,
        }
    }
}

pub async fn handle<F: Firewall, S: StateStore, L: SpokeLog>(
    event: SqsEvent,
    inv: Invocation,
    cx: &Context,
    fw: &F,
    store: &S,
    log: &L,
) -> Result<SqsBatchResponse, FunctionError> {
    if cx.global_rules.get().is_none() {
        let account = inv
            .context
            .invoked_function_arn
            .split(':')
            .nth(4)
            .unwrap_or_default()
            .to_string();
        let order = if cx.config.strict_order {
            ""
        } else {
            "priority:250;"
        };
        let rules = crate::global_rules::render(
            &cx.config.global_rules_yaml,
            &account,
            &cx.config.firewall_vpc_id,
            order,
        )
        .map_err(|e| FunctionError::permanent("InvalidGlobalRules", e))?;
        let _ = cx.global_rules.set(rules);
    }
    common::batch::process_sqs_batch(event, |m| process(m, cx, fw, store, log)).await
}

async fn process<F: Firewall, S: StateStore, L: SpokeLog>(
    m: SqsMessage,
    cx: &Context,
    fw: &F,
    store: &S,
    log: &L,
) -> Result<(), FunctionError> {
    let body = m.body.as_deref().unwrap_or_default();
    let message: QueueMessage = serde_json::from_str(body).map_err(|e| {
        FunctionError::invalid_event(format!(
            "message {:?} is not a desired state: {e}",
            m.message_id
        ))
    })?;
    let state = match message {
        QueueMessage::State(s) => s,
        QueueMessage::Stored { bucket, key } => store.fetch(&bucket, &key).await?,
    };
    if state.format != FORMAT {
        return Err(FunctionError::invalid_event(format!(
            "message format {} is not {FORMAT}",
            state.format
        )));
    }
    if !cx.config.policies.contains_key(&state.region) {
        return Err(FunctionError::permanent(
            "UnsupportedRegion",
            format!("{} has no configured firewall policy", state.region),
        ));
    }
    let outcome = reconcile(&state, cx, fw).await;
    let line = match &outcome {
        Ok(p) => {
            serde_json::json!({"level": "INFO", "version": state.origin.version, "event": state.origin.event,
            "message": format!("firewall in {} updated: {} rules added, {} changed, {} removed, {} unchanged; {} rule group writes",
                state.region, p.summary.added, p.summary.changed, p.summary.removed, p.summary.unchanged, p.writes.len())})
        }
        Err(e) => {
            serde_json::json!({"level": "ERROR", "version": state.origin.version, "event": state.origin.event,
            "message": format!("the firewall in {} was not updated yet: {}", state.region, e.message)})
        }
    };
    tracing::info!(account = %state.account, region = %state.region, "{line}");
    // The spoke hears about the outcome; a log failure must not undo or
    // repeat a firewall change, so it is only logged centrally.
    if let Err(e) = log
        .write(
            &state.account,
            &state.origin.log_group,
            &state.origin.log_stream,
            &[line.to_string()],
        )
        .await
    {
        tracing::warn!("could not write the spoke log: {e}");
    }
    outcome.map(|_| ())
}

/// Read, plan, write; again from a fresh read when a token was stale.
pub async fn reconcile<F: Firewall>(
    state: &DesiredState,
    cx: &Context,
    fw: &F,
) -> Result<Plan, FunctionError> {
    let region = state.region.as_str();
    for round in 0..cx.max_rounds.max(1) {
        match round_once(state, cx, fw).await {
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

async fn round_once<F: Firewall>(
    state: &DesiredState,
    cx: &Context,
    fw: &F,
) -> Result<Plan, FirewallError> {
    let region = state.region.as_str();
    let groups = retrying(cx, |_| fw.managed_groups(region)).await?;
    ensure_global(region, &groups, cx, fw).await?;
    let tenants: Vec<&GroupRead> = groups
        .iter()
        .filter(|g| g.role == GroupRole::Tenant)
        .collect();
    let states: Vec<GroupState> = tenants.iter().map(|g| g.state.clone()).collect();
    let prefix = &cx.config.group_prefix;
    let p = plan(&states, state, cx.config.group_capacity, |_| {
        format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
    });
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
    Ok(p)
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

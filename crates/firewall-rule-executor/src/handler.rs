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
use crate::ownership::OwnershipIndex;
use crate::plan::{GroupContent, GroupState};
use crate::policy::GroupRole;
pub use crate::reconcile::reconcile;

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
    /// One group by name; `None` when it does not exist or is not a group
    /// this system manages.
    fn describe_group(
        &self,
        region: &str,
        name: &str,
    ) -> impl Future<Output = Result<Option<GroupRead>, FirewallError>>;
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
    /// Attaches each of `groups` that the Region's policy does not reference
    /// yet: one policy read, a write only when one is missing. The full scan
    /// calls it, so a group created by an attempt that died before its
    /// attach is enforced by the retry rather than left inert.
    fn attach_missing(
        &self,
        region: &str,
        groups: &[(String, GroupRole)],
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

/// The ownership index as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexRead {
    /// No index is configured: always the full scan, nothing stored.
    Disabled,
    Missing,
    /// The object exists but does not parse; overwritten on the next write.
    Unreadable {
        etag: String,
    },
    Found {
        index: OwnershipIndex,
        etag: String,
    },
}

/// The condition of an index write: a compare-and-swap on the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `If-None-Match: *`.
    Absent,
    /// `If-Match: <etag>`.
    Matches(String),
}

/// Where the ownership index of each Region lives.
pub trait OwnershipStore {
    fn read(&self, region: &str) -> impl Future<Output = Result<IndexRead, FirewallError>>;
    /// Stores `index` if `condition` holds and returns the new ETag; a
    /// failed condition is [`FirewallError::InvalidToken`] (re-read).
    fn write(
        &self,
        region: &str,
        index: &OwnershipIndex,
        condition: &Precondition,
    ) -> impl Future<Output = Result<String, FirewallError>>;
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
    /// The log group of `account` in `region` (the spoke's Region).
    fn write(
        &self,
        account: &str,
        region: &str,
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

/// The ports of one invocation.
pub struct Ports<'a, F, I, S, L> {
    pub firewall: &'a F,
    pub index: &'a I,
    pub store: &'a S,
    pub log: &'a L,
}

pub async fn handle<F: Firewall, I: OwnershipStore, S: StateStore, L: SpokeLog>(
    event: SqsEvent,
    inv: Invocation,
    cx: &Context,
    ports: Ports<'_, F, I, S, L>,
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
    common::batch::process_sqs_batch(event, |m| process(m, cx, &ports)).await
}

async fn process<F: Firewall, I: OwnershipStore, S: StateStore, L: SpokeLog>(
    m: SqsMessage,
    cx: &Context,
    ports: &Ports<'_, F, I, S, L>,
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
        QueueMessage::Stored { bucket, key } => ports.store.fetch(&bucket, &key).await?,
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
    let outcome = reconcile(&state, cx, ports.firewall, ports.index).await;
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
    if let Err(e) = ports
        .log
        .write(
            &state.account,
            &state.region,
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

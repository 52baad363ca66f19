//! One event from the central bus: read the spoke's config version,
//! validate it, publish the account's desired state for the Region, and tell
//! the spoke what happened in its own log group.
//!
//! The handler is generic over one port per capability; [`crate::adapters`]
//! implements them on the AWS SDK (through the spoke's role where the data
//! lives in the spoke account).

use std::collections::BTreeMap;
use std::future::Future;

use serde_json::Value;

use common::events::EventBridgeEvent;
use common::firewall_state::{Change, DesiredState, Origin, FORMAT};
use common::{FunctionError, Invocation};

use crate::config::Config;
use crate::file_name::region_of_key;
use crate::spoke_config::load;
use crate::trigger::{classify, ObjectRef, Trigger};
use crate::validate::{transform, vpc_ids, Problem, VpcFacts};

/// The spoke's config bucket, read through the spoke role.
pub trait ConfigStore {
    /// The key's current version id; `None` when it has none (deleted).
    fn current_version(
        &self,
        o: &ObjectRef,
    ) -> impl Future<Output = Result<Option<String>, FunctionError>>;
    /// The text of version `version`; `None` when that version is gone.
    fn fetch(
        &self,
        o: &ObjectRef,
        version: &str,
    ) -> impl Future<Output = Result<Option<String>, FunctionError>>;
}

/// The spoke account's VPCs in a Region, read through the spoke role.
pub trait VpcDirectory {
    /// Facts for those of `vpc_ids` that exist.
    fn describe(
        &self,
        account: &str,
        region: &str,
        vpc_ids: &[String],
        transit_gateway: Option<&str>,
    ) -> impl Future<Output = Result<BTreeMap<String, VpcFacts>, FunctionError>>;
}

/// One line for the spoke's log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: &'static str,
    pub json: String,
}

/// The spoke's customer log group.
pub trait SpokeLog {
    fn write(
        &self,
        account: &str,
        region: &str,
        stream: &str,
        lines: &[LogLine],
    ) -> impl Future<Output = Result<(), FunctionError>>;
}

/// The executor's queue.
pub trait StatePublisher {
    fn publish(
        &self,
        state: &DesiredState,
        dedup_id: &str,
    ) -> impl Future<Output = Result<(), FunctionError>>;
}

/// The ports together.
pub struct Ports<S, V, L, P> {
    pub store: S,
    pub vpcs: V,
    pub log: L,
    pub publisher: P,
}

impl<A: Clone> Ports<A, A, A, A> {
    /// Every port on one adapter.
    pub fn from_one(a: A) -> Self {
        Ports {
            store: a.clone(),
            vpcs: a.clone(),
            log: a.clone(),
            publisher: a,
        }
    }
}

/// A log line as JSON: escaped properly, with the version it is about.
pub fn log_line(
    level: &'static str,
    version: &str,
    message: &str,
    problem: Option<&Problem>,
) -> LogLine {
    let mut v = serde_json::json!({"level": level, "version": version, "message": message});
    if let Some(p) = problem {
        v["vpc"] = serde_json::json!(p.vpc);
        v["property"] = serde_json::json!(p.property);
        v["index"] = serde_json::json!(p.index);
        v["path"] = serde_json::json!(p.path);
    }
    LogLine {
        level,
        json: v.to_string(),
    }
}

/// A log stream name per event: `YYYY/MM/DD/<event id>`.
pub fn stream_name(event: &EventBridgeEvent<Value>) -> String {
    let date = event
        .time
        .map(|t| t.format("%Y/%m/%d").to_string())
        .unwrap_or_else(|| "undated".into());
    let id: String = event
        .id
        .clone()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    format!("{date}/{id}")
}

/// SQS allows 1-128 of `[A-Za-z0-9!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~]`.
fn dedup_id(prefix: &str, raw: &str) -> String {
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(120)
        .collect();
    format!("{prefix}-{clean}")
}

pub async fn handle<S, V, L, P>(
    event: EventBridgeEvent<Value>,
    _inv: Invocation,
    config: &Config,
    ports: &Ports<S, V, L, P>,
) -> Result<Value, FunctionError>
where
    S: ConfigStore,
    V: VpcDirectory,
    L: SpokeLog,
    P: StatePublisher,
{
    if let Some(id) = event.id.as_deref() {
        common::logging::set_correlation_id(id);
    }
    let trigger = classify(&event).map_err(FunctionError::invalid_event)?;
    let stream = stream_name(&event);
    let outcome = match trigger {
        Trigger::Ignore(why) => {
            tracing::info!("ignored: {why}");
            return Ok(serde_json::json!({"outcome": "ignored", "reason": why}));
        }
        Trigger::Upload(o) => upload(&o, &stream, config, ports).await?,
        Trigger::Deleted(o) => deleted(&o, &stream, config, ports).await?,
        Trigger::VpcDeleted {
            account,
            region,
            vpc_id,
        } => {
            let home = event.region.clone().unwrap_or_else(|| region.clone());
            if !config.supported_regions.contains(&region) {
                tracing::info!("DeleteVpc in {region}, which has no managed firewall: ignored");
                return Ok(
                    serde_json::json!({"outcome": "ignored", "reason": "unsupported region"}),
                );
            }
            let origin = origin("DeleteVpc", &vpc_id, &stream, config);
            let dedup = dedup_id("vpc", event.id.as_deref().unwrap_or(&vpc_id));
            publish(
                ports,
                &account,
                &region,
                Change::RemoveVpc {
                    vpc_id: vpc_id.clone(),
                },
                origin,
                &dedup,
            )
            .await?;
            let msg =
                format!("DeleteVpc {vpc_id}: all rules of the VPC in {region} will be removed");
            tracing::info!(account, "{msg}");
            ports
                .log
                .write(
                    &account,
                    &home,
                    &stream,
                    &[log_line("INFO", &vpc_id, &msg, None)],
                )
                .await?;
            "published"
        }
    };
    Ok(serde_json::json!({"outcome": outcome}))
}

fn origin(event: &str, version: &str, stream: &str, config: &Config) -> Origin {
    Origin {
        event: event.into(),
        version: version.into(),
        log_group: config.spoke_log_group.clone(),
        log_stream: stream.into(),
    }
}

async fn publish<S, V, L, P: StatePublisher>(
    ports: &Ports<S, V, L, P>,
    account: &str,
    region: &str,
    change: Change,
    origin: Origin,
    dedup: &str,
) -> Result<(), FunctionError> {
    let state = DesiredState {
        format: FORMAT,
        account: account.into(),
        region: region.into(),
        change,
        origin,
    };
    ports.publisher.publish(&state, dedup).await
}

/// Rejections the spoke must fix: logged to the spoke, not retried.
async fn reject<L: SpokeLog>(
    log: &L,
    o: &ObjectRef,
    stream: &str,
    lines: Vec<LogLine>,
) -> Result<&'static str, FunctionError> {
    for l in &lines {
        tracing::warn!(account = %o.account, key = %o.key, "rejected: {}", l.json);
    }
    log.write(&o.account, &o.bucket_region, stream, &lines)
        .await?;
    Ok("rejected")
}

async fn upload<S: ConfigStore, V: VpcDirectory, L: SpokeLog, P: StatePublisher>(
    o: &ObjectRef,
    stream: &str,
    config: &Config,
    ports: &Ports<S, V, L, P>,
) -> Result<&'static str, FunctionError> {
    let version = o.version_id.clone().unwrap_or_else(|| "null".into());
    let region = match region_of_key(&o.key) {
        Ok(r) => r.to_string(),
        Err(e) => {
            return reject(
                &ports.log,
                o,
                stream,
                vec![log_line("ERROR", &version, &e, None)],
            )
            .await
        }
    };
    if !config.supported_regions.contains(&region) {
        let msg = format!(
            "{region} has no managed firewall (supported: {})",
            config.supported_regions.join(", ")
        );
        return reject(
            &ports.log,
            o,
            stream,
            vec![log_line("ERROR", &version, &msg, None)],
        )
        .await;
    }
    // Only the current version may change the firewall: a stale event (a
    // newer upload exists, or this version was deleted) changes nothing.
    let current = ports.store.current_version(o).await?;
    if current.as_deref() != Some(version.as_str()) {
        tracing::info!(key = %o.key, version, current = ?current, "not the current version: ignored");
        return Ok("stale");
    }
    let Some(text) = ports.store.fetch(o, &version).await? else {
        tracing::info!(key = %o.key, version, "version no longer exists: ignored");
        return Ok("stale");
    };
    let source = format!("s3://{}/{}", o.bucket, o.key);
    let parsed = match load(&text, &source) {
        Ok(c) => c,
        Err(e) => {
            return reject(
                &ports.log,
                o,
                stream,
                vec![log_line("ERROR", &version, &e.to_string(), None)],
            )
            .await
        }
    };
    let ids = vpc_ids(&parsed);
    let facts = ports
        .vpcs
        .describe(
            &o.account,
            &region,
            &ids,
            config.transit_gateways.get(&region).map(String::as_str),
        )
        .await?;
    match transform(&parsed, &o.account, config.rule_order, &facts) {
        Err(problems) => {
            let lines = problems
                .iter()
                .map(|p| log_line("ERROR", &version, &format!("{}: {p}", o.key), Some(p)))
                .collect();
            reject(&ports.log, o, stream, lines).await
        }
        Ok(vpcs) => {
            let rules: usize = vpcs.iter().map(|v| v.rules.len()).sum();
            let msg = format!(
                "{}: valid; {} rules for {} VPCs sent to the firewall in {region}",
                o.key,
                rules,
                vpcs.len()
            );
            let dedup = dedup_id("s3", o.sequencer.as_deref().unwrap_or(&o.event_id));
            publish(
                ports,
                &o.account,
                &region,
                Change::Replace { vpcs },
                origin("Update", &version, stream, config),
                &dedup,
            )
            .await?;
            tracing::info!(account = %o.account, "{msg}");
            ports
                .log
                .write(
                    &o.account,
                    &o.bucket_region,
                    stream,
                    &[log_line("INFO", &version, &msg, None)],
                )
                .await?;
            Ok("published")
        }
    }
}

async fn deleted<S: ConfigStore, V, L: SpokeLog, P: StatePublisher>(
    o: &ObjectRef,
    stream: &str,
    config: &Config,
    ports: &Ports<S, V, L, P>,
) -> Result<&'static str, FunctionError> {
    let version = o.version_id.clone().unwrap_or_else(|| "null".into());
    let Ok(region) = region_of_key(&o.key) else {
        return Ok("ignored");
    };
    if !config.supported_regions.iter().any(|r| r == region) {
        return Ok("ignored");
    }
    if let Some(current) = ports.store.current_version(o).await? {
        tracing::info!(key = %o.key, deleted = version, current, "an old version was deleted; the current config stays");
        return Ok("stale");
    }
    let dedup = dedup_id("s3", o.sequencer.as_deref().unwrap_or(&o.event_id));
    publish(
        ports,
        &o.account,
        region,
        Change::RemoveAll,
        origin("DeleteS3", &version, stream, config),
        &dedup,
    )
    .await?;
    let msg = format!(
        "{} deleted: all rules of account {} in {region} will be removed",
        o.key, o.account
    );
    tracing::info!("{msg}");
    ports
        .log
        .write(
            &o.account,
            &o.bucket_region,
            stream,
            &[log_line("INFO", &version, &msg, None)],
        )
        .await?;
    Ok("published")
}

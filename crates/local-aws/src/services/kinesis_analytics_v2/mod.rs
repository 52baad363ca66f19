//! Managed Service for Apache Flink (Kinesis Analytics v2) applications:
//! awsJson 1.1, target prefix `KinesisAnalytics_20180523`, SigV4 signing
//! name `kinesisanalytics`. Only what scaling needs: `DescribeApplication`
//! and the parallelism part of `UpdateApplication`.
//!
//! Modelled semantics: every update bumps `ApplicationVersionId` and issues a
//! new `ConditionalToken`; an update must present the current version id or
//! token (`ConcurrentModificationException` otherwise); an application that
//! is not RUNNING or READY refuses updates (`ResourceInUseException`); a
//! RUNNING application stays `UPDATING` for a number of subsequent
//! DescribeApplication calls (per application, default 2) before the new
//! parallelism takes effect; parallelism is bounded by `ParallelismPerKPU` ×
//! the KPU quota (64 by default) and `ParallelismPerKPU` by 1..=8.
//!
//! Applications are seeded through the control API, not CreateApplication:
//! * `POST /_local-aws/kinesis-analytics-v2/applications` `{"ApplicationName",
//!   "ApplicationStatus"?: "RUNNING", "Parallelism"?: 1, "ParallelismPerKPU"?: 1,
//!   "CurrentParallelism"?, "AutoScalingEnabled"?: false, "UpdatingDescribes"?: 2,
//!   "Region"?}` creates or replaces one and returns its `ApplicationDetail`.
//! * `POST .../status` `{"ApplicationName", "ApplicationStatus", "Region"?}`
//!   sets the status (e.g. `AUTOSCALING`, `MAINTENANCE`) as the service would.
//! * `POST .../peek` `{"ApplicationName", "Region"?}` shows the application
//!   without counting as a DescribeApplication call.
//! * `POST .../settle` `{"ApplicationName", "Region"?}` finishes a pending update now.
//! * `POST .../quota` `{"KpuQuota", "Region"?}` sets the KPU quota.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::input::{opt_bool, opt_i64, opt_object, opt_str};
use crate::{AwsError, RegionalState, RequestContext, Service, DEFAULT_REGION};

const DEFAULT_KPU_QUOTA: i64 = 64;
const MAX_PARALLELISM_PER_KPU: i64 = 8;
const DEFAULT_UPDATING_DESCRIBES: u32 = 2;

/// The Kinesis Analytics v2 emulator.
#[derive(Debug, Default)]
pub struct KinesisAnalyticsV2 {
    state: RegionalState<Regional>,
}

#[derive(Debug)]
struct Regional {
    apps: BTreeMap<String, App>,
    kpu_quota: i64,
}

impl Default for Regional {
    fn default() -> Self {
        Regional {
            apps: BTreeMap::new(),
            kpu_quota: DEFAULT_KPU_QUOTA,
        }
    }
}

#[derive(Debug, Clone)]
struct Parallelism {
    configuration_type: String,
    parallelism: i64,
    per_kpu: i64,
    current: i64,
    autoscaling: bool,
}

#[derive(Debug, Clone)]
struct Pending {
    parallelism: Parallelism,
    /// Describe calls still answered with UPDATING.
    describes_left: u32,
    /// The status the application returns to.
    resume: String,
}

#[derive(Debug, Clone)]
struct App {
    name: String,
    arn: String,
    status: String,
    version_id: i64,
    token: String,
    parallelism: Parallelism,
    pending: Option<Pending>,
    updating_describes: u32,
    updated_from: Option<i64>,
}

impl App {
    fn detail(&self) -> Value {
        let p = &self.parallelism;
        let mut d = json!({
            "ApplicationARN": self.arn,
            "ApplicationName": self.name,
            "RuntimeEnvironment": "FLINK-1_20",
            "ServiceExecutionRole": format!("arn:aws:iam::{}:role/flink", self.arn.split(':').nth(4).unwrap_or_default()),
            "ApplicationStatus": self.status,
            "ApplicationVersionId": self.version_id,
            "ConditionalToken": self.token,
            "ApplicationMode": "STREAMING",
            "ApplicationConfigurationDescription": {
                "FlinkApplicationConfigurationDescription": {
                    "ParallelismConfigurationDescription": {
                        "ConfigurationType": p.configuration_type,
                        "Parallelism": p.parallelism,
                        "ParallelismPerKPU": p.per_kpu,
                        "CurrentParallelism": p.current,
                        "AutoScalingEnabled": p.autoscaling,
                    }
                }
            }
        });
        if let Some(from) = self.updated_from {
            d["ApplicationVersionUpdatedFrom"] = json!(from);
        }
        d
    }

    fn finish_update(&mut self) {
        if let Some(p) = self.pending.take() {
            self.parallelism = p.parallelism;
            self.status = p.resume;
        }
    }
}

fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn required_str<'a>(input: &'a Value, key: &str) -> Result<&'a str, AwsError> {
    opt_str(input, key)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            AwsError::new(
                "InvalidArgumentException",
                400,
                format!("{key} is required"),
            )
        })
}

fn invalid_argument(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidArgumentException", 400, message)
}

fn not_found(name: &str) -> AwsError {
    AwsError::resource_not_found(format!("Application {name} not found"))
}

impl KinesisAnalyticsV2 {
    /// An emulator with no applications.
    pub fn new() -> Self {
        Self::default()
    }

    fn describe(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let name = required_str(input, "ApplicationName")?;
        self.state.with(ctx, |state| {
            let app = state.apps.get_mut(name).ok_or_else(|| not_found(name))?;
            if let Some(pending) = &mut app.pending {
                if pending.describes_left == 0 {
                    app.finish_update();
                } else {
                    pending.describes_left -= 1;
                }
            }
            Ok(json!({ "ApplicationDetail": app.detail() }))
        })
    }

    fn update(&self, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
        let name = required_str(input, "ApplicationName")?;
        let version = opt_i64(input, "CurrentApplicationVersionId")?;
        let token = opt_str(input, "ConditionalToken")?;
        if version.is_none() && token.is_none() {
            return Err(AwsError::invalid_request(
                "provide CurrentApplicationVersionId or ConditionalToken",
            ));
        }
        let parallelism_update = opt_object(input, "ApplicationConfigurationUpdate")?
            .map(|c| opt_object(c, "FlinkApplicationConfigurationUpdate"))
            .transpose()?
            .flatten()
            .map(|f| opt_object(f, "ParallelismConfigurationUpdate"))
            .transpose()?
            .flatten();
        self.state.with(ctx, |state| {
            let quota = state.kpu_quota;
            let app = state.apps.get_mut(name).ok_or_else(|| not_found(name))?;
            if !matches!(app.status.as_str(), "RUNNING" | "READY") {
                return Err(AwsError::new(
                    "ResourceInUseException",
                    400,
                    format!("Application {name} is in {} status; it is not available for this operation", app.status),
                ));
            }
            if let Some(v) = version {
                if v != app.version_id {
                    return Err(AwsError::new(
                        "ConcurrentModificationException",
                        400,
                        format!("Provided application version id ({v}) does not match the current version ({})", app.version_id),
                    ));
                }
            }
            if let Some(t) = token {
                if t != app.token {
                    return Err(AwsError::new(
                        "ConcurrentModificationException",
                        400,
                        format!("Provided ConditionalToken does not match the current token of application {name}"),
                    ));
                }
            }
            let mut next = app.parallelism.clone();
            if let Some(p) = parallelism_update {
                let configuration_type = opt_str(p, "ConfigurationTypeUpdate")?;
                let parallelism = opt_i64(p, "ParallelismUpdate")?;
                let per_kpu = opt_i64(p, "ParallelismPerKPUUpdate")?;
                let autoscaling = opt_bool(p, "AutoScalingEnabledUpdate")?;
                let custom = match configuration_type {
                    Some("CUSTOM") => true,
                    Some("DEFAULT") => false,
                    None => next.configuration_type == "CUSTOM",
                    Some(other) => return Err(invalid_argument(format!("ConfigurationTypeUpdate {other:?} is not DEFAULT or CUSTOM"))),
                };
                if !custom && (parallelism.is_some() || per_kpu.is_some() || autoscaling.is_some()) {
                    return Err(invalid_argument(
                        "ConfigurationTypeUpdate must be CUSTOM to change Parallelism, ParallelismPerKPU or AutoScalingEnabled",
                    ));
                }
                if let Some(ppk) = per_kpu {
                    if !(1..=MAX_PARALLELISM_PER_KPU).contains(&ppk) {
                        return Err(invalid_argument(format!("ParallelismPerKPU must be between 1 and {MAX_PARALLELISM_PER_KPU}")));
                    }
                    next.per_kpu = ppk;
                }
                if let Some(p) = parallelism {
                    if p < 1 {
                        return Err(invalid_argument("Parallelism must be at least 1"));
                    }
                    next.parallelism = p;
                }
                if next.parallelism > next.per_kpu * quota {
                    return Err(invalid_argument(format!(
                        "Parallelism {} exceeds the limit of ParallelismPerKPU ({}) x the KPU limit ({quota})",
                        next.parallelism, next.per_kpu
                    )));
                }
                if let Some(a) = autoscaling {
                    next.autoscaling = a;
                }
                next.configuration_type = if custom { "CUSTOM" } else { "DEFAULT" }.into();
                next.current = next.parallelism;
            }
            app.updated_from = Some(app.version_id);
            app.version_id += 1;
            app.token = new_token();
            if app.status == "RUNNING" && app.updating_describes > 0 {
                app.pending = Some(Pending {
                    parallelism: next,
                    describes_left: app.updating_describes,
                    resume: "RUNNING".into(),
                });
                app.status = "UPDATING".into();
            } else {
                app.parallelism = next;
            }
            Ok(json!({
                "ApplicationDetail": app.detail(),
                "OperationId": uuid::Uuid::new_v4().simple().to_string(),
            }))
        })
    }

    fn seed(&self, input: &Value) -> Result<Value, AwsError> {
        let name = required_str(input, "ApplicationName")?;
        let ctx = control_context(input)?;
        let parallelism = opt_i64(input, "Parallelism")?.unwrap_or(1);
        let per_kpu = opt_i64(input, "ParallelismPerKPU")?.unwrap_or(1);
        if parallelism < 1 || !(1..=MAX_PARALLELISM_PER_KPU).contains(&per_kpu) {
            return Err(AwsError::validation(
                "Parallelism must be >= 1 and ParallelismPerKPU 1..=8",
            ));
        }
        let app = App {
            name: name.to_owned(),
            arn: format!(
                "arn:aws:kinesisanalytics:{}:{}:application/{name}",
                ctx.region, ctx.account_id
            ),
            status: opt_str(input, "ApplicationStatus")?
                .unwrap_or("RUNNING")
                .to_owned(),
            version_id: 1,
            token: new_token(),
            parallelism: Parallelism {
                configuration_type: "CUSTOM".into(),
                parallelism,
                per_kpu,
                current: opt_i64(input, "CurrentParallelism")?.unwrap_or(parallelism),
                autoscaling: opt_bool(input, "AutoScalingEnabled")?.unwrap_or(false),
            },
            pending: None,
            updating_describes: opt_i64(input, "UpdatingDescribes")?
                .map_or(DEFAULT_UPDATING_DESCRIBES, |n| {
                    u32::try_from(n).unwrap_or(0)
                }),
            updated_from: None,
        };
        let detail = app.detail();
        self.state
            .with(&ctx, |state| state.apps.insert(name.to_owned(), app));
        Ok(json!({ "ApplicationDetail": detail }))
    }

    fn on_app(
        &self,
        input: &Value,
        f: impl FnOnce(&mut App) -> Result<(), AwsError>,
    ) -> Result<Value, AwsError> {
        let name = required_str(input, "ApplicationName")?;
        let ctx = control_context(input)?;
        self.state.with(&ctx, |state| {
            let app = state.apps.get_mut(name).ok_or_else(|| not_found(name))?;
            f(app)?;
            Ok(json!({ "ApplicationDetail": app.detail() }))
        })
    }
}

fn control_context(input: &Value) -> Result<RequestContext, AwsError> {
    Ok(RequestContext::for_region(
        opt_str(input, "Region")?.unwrap_or(DEFAULT_REGION),
    ))
}

impl Service for KinesisAnalyticsV2 {
    fn name(&self) -> &'static str {
        "kinesis-analytics-v2"
    }

    fn signing_name(&self) -> &'static str {
        "kinesisanalytics"
    }

    fn json_target_prefix(&self) -> Option<&'static str> {
        Some("KinesisAnalytics_20180523")
    }

    fn operations(&self) -> &'static [&'static str] {
        &["DescribeApplication", "UpdateApplication"]
    }

    fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        match operation {
            "DescribeApplication" => self.describe(ctx, &input),
            "UpdateApplication" => self.update(ctx, &input),
            other => Err(AwsError::unknown_operation(format!(
                "kinesis-analytics-v2 has no operation {other}"
            ))),
        }
    }

    fn reset(&self) {
        self.state.clear();
    }

    fn control(&self, method: &str, action: &str, input: Value) -> Result<Value, AwsError> {
        match (method, action) {
            ("POST", "applications") => self.seed(&input),
            ("POST", "status") => {
                let status = required_str(&input, "ApplicationStatus")?.to_owned();
                self.on_app(&input, |app| {
                    app.pending = None;
                    app.status = status;
                    Ok(())
                })
            }
            // What DescribeApplication would show, without counting as a describe.
            ("POST", "peek") => self.on_app(&input, |_| Ok(())),
            ("POST", "settle") => self.on_app(&input, |app| {
                app.finish_update();
                Ok(())
            }),
            ("POST", "quota") => {
                let quota = opt_i64(&input, "KpuQuota")?
                    .filter(|q| *q >= 1)
                    .ok_or_else(|| AwsError::validation("KpuQuota must be a positive integer"))?;
                let ctx = control_context(&input)?;
                self.state.with(&ctx, |state| state.kpu_quota = quota);
                Ok(json!({ "KpuQuota": quota }))
            }
            _ => Err(AwsError::new(
                "NotFound",
                404,
                format!("kinesis-analytics-v2 has no control action {method} {action:?}"),
            )),
        }
    }
}

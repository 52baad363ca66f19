//! Amazon MWAA environments: REST-JSON, SigV4 signing name `airflow`.
//! `GetEnvironment` (`GET /environments/{Name}`) and `ListEnvironments`
//! (`GET /environments`, `MaxResults` 1..=25, `NextToken`).
//!
//! Environments are seeded by tests through the control API, in the shape
//! GetEnvironment returns (PascalCase `Environment` members, which are
//! stored as given and returned unchanged):
//! * `POST /_local-aws/mwaa/environments` `{"Name", ...members, "Region"?}`
//!   creates or replaces one; `Arn` defaults to the environment's ARN.
//! * `POST /_local-aws/mwaa/status` `{"Name", "Status", "Region"?}` changes its status.
//! * `POST /_local-aws/mwaa/delete` `{"Name", "Region"?}` removes it.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::input::{object, opt_str};
use crate::{AwsError, RegionalState, RequestContext, RestRoute, Service, DEFAULT_REGION};

const MAX_LIST_RESULTS: usize = 25;

/// The MWAA emulator.
#[derive(Debug, Default)]
pub struct Mwaa {
    state: RegionalState<BTreeMap<String, Value>>,
}

impl Mwaa {
    /// An emulator with no environments.
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, ctx: &RequestContext) -> Result<Value, AwsError> {
        let name = ctx.path_param("Name")?;
        self.state.with(ctx, |envs| {
            envs.get(name)
                .map(|env| json!({ "Environment": env }))
                .ok_or_else(|| {
                    AwsError::resource_not_found(format!("Environment {name} was not found"))
                        .with_status(404)
                })
        })
    }

    fn list(&self, ctx: &RequestContext) -> Result<Value, AwsError> {
        let max = match ctx.query_params.get("MaxResults") {
            None => MAX_LIST_RESULTS,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIST_RESULTS).contains(n))
                .ok_or_else(|| {
                    AwsError::validation(format!(
                        "MaxResults must be between 1 and {MAX_LIST_RESULTS}"
                    ))
                })?,
        };
        let after = ctx.query_params.get("NextToken").cloned();
        self.state.with(ctx, |envs| {
            let mut names = envs
                .keys()
                .filter(|n| after.as_ref().is_none_or(|a| *n > a))
                .cloned();
            let page: Vec<String> = names.by_ref().take(max).collect();
            let mut out = json!({ "Environments": page });
            if let (Some(last), Some(_)) = (page.last(), names.next()) {
                out["NextToken"] = json!(last);
            }
            Ok(out)
        })
    }
}

fn control_context(input: &Value) -> Result<RequestContext, AwsError> {
    Ok(RequestContext::for_region(
        opt_str(input, "Region")?.unwrap_or(DEFAULT_REGION),
    ))
}

fn required_name(input: &Value) -> Result<String, AwsError> {
    opt_str(input, "Name")?
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| AwsError::validation("Name is required"))
}

impl Service for Mwaa {
    fn name(&self) -> &'static str {
        "mwaa"
    }

    fn signing_name(&self) -> &'static str {
        "airflow"
    }

    fn rest_routes(&self) -> Vec<RestRoute> {
        vec![
            RestRoute::new("GET", "/environments", "ListEnvironments"),
            RestRoute::new("GET", "/environments/{Name}", "GetEnvironment"),
        ]
    }

    fn operations(&self) -> &'static [&'static str] {
        &["GetEnvironment", "ListEnvironments"]
    }

    fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        _input: Value,
    ) -> Result<Value, AwsError> {
        match operation {
            "GetEnvironment" => self.get(ctx),
            "ListEnvironments" => self.list(ctx),
            other => Err(AwsError::unknown_operation(format!(
                "mwaa has no operation {other}"
            ))),
        }
    }

    fn reset(&self) {
        self.state.clear();
    }

    fn control(&self, method: &str, action: &str, input: Value) -> Result<Value, AwsError> {
        let ctx = control_context(&input)?;
        let name = required_name(&input)?;
        match (method, action) {
            ("POST", "environments") => {
                let mut env = object(&input)?.clone();
                env.remove("Region");
                env.entry("Arn").or_insert_with(|| {
                    json!(format!(
                        "arn:aws:airflow:{}:{}:environment/{name}",
                        ctx.region, ctx.account_id
                    ))
                });
                let env = Value::Object(env);
                self.state.with(&ctx, |envs| envs.insert(name, env.clone()));
                Ok(json!({ "Environment": env }))
            }
            ("POST", "status") => {
                let status = opt_str(&input, "Status")?
                    .ok_or_else(|| AwsError::validation("Status is required"))?
                    .to_owned();
                self.state.with(&ctx, |envs| {
                    let env = envs.get_mut(&name).ok_or_else(|| {
                        AwsError::resource_not_found(format!("Environment {name} was not found"))
                    })?;
                    env["Status"] = json!(status);
                    Ok(json!({ "Environment": env }))
                })
            }
            ("POST", "delete") => self.state.with(&ctx, |envs| {
                envs.remove(&name)
                    .map(|_| json!({ "deleted": name }))
                    .ok_or_else(|| {
                        AwsError::resource_not_found(format!("Environment {name} was not found"))
                    })
            }),
            _ => Err(AwsError::new(
                "NotFound",
                404,
                format!("mwaa has no control action {method} {action:?}"),
            )),
        }
    }
}

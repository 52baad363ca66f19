//! The Lambda handler: a status change event or a reconcile request in,
//! endpoints and the SQS endpoint policy brought in line.

use common::{FunctionError, Invocation};
use serde::Serialize;
use serde_json::Value;

use crate::environment::{
    client_token, sqs_service, Departed, Environment, Reported, StatusDetail, ENVIRONMENT_TAG,
    ROLE_TAG,
};
use crate::policy::{add_queue, remove_queue, Edit};
use crate::ports::{Endpoint, EndpointQuery, Environments, Network, NewEndpoint};

/// What the handler needs besides the ports.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Region the function, the environments and the VPC are in.
    pub region: String,
}

/// The event shapes the function accepts.
#[derive(Debug)]
pub enum Request {
    /// An "MWAA Environment Status Change" event.
    Status(Box<Reported>),
    /// The scheduled reconcile (`{"action": "reconcile"}` or an EventBridge
    /// "Scheduled Event").
    Reconcile,
}

const STATUS_DETAIL_TYPE: &str = "MWAA Environment Status Change";

impl Request {
    pub fn parse(event: Value) -> Result<Request, String> {
        if event.get("action").and_then(Value::as_str) == Some("reconcile") {
            return Ok(Request::Reconcile);
        }
        let detail_type = event
            .get("detail-type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if detail_type == "Scheduled Event" {
            return Ok(Request::Reconcile);
        }
        if detail_type != STATUS_DETAIL_TYPE {
            return Err(format!(
                "detail-type is {detail_type:?}; expected {STATUS_DETAIL_TYPE:?}, \"Scheduled Event\" or {{\"action\": \"reconcile\"}}"
            ));
        }
        let resources: Vec<String> = match event.get("resources") {
            None | Some(Value::Null) => Vec::new(),
            Some(r) => {
                common::events::from_value(r.clone()).map_err(|e| format!("resources: {e}"))?
            }
        };
        let detail: StatusDetail =
            common::events::from_value(event.get("detail").cloned().unwrap_or(Value::Null))
                .map_err(|e| format!("detail: {e}"))?;
        Ok(Request::Status(Box::new(Reported::from_event(
            detail, &resources,
        ))))
    }
}

/// What happened to one endpoint the environment needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointReport {
    pub role: String,
    pub service_name: String,
    pub endpoint_id: String,
    /// `created` or `existing`.
    pub outcome: &'static str,
}

/// The result of one environment's work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub environment: String,
    pub status: String,
    /// `ensured`, `cleaned_up` or `ignored`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<EndpointReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deleted_endpoints: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqs_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// The handler's output: one report per environment acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    pub environments: Vec<Report>,
}

/// Handles one event.
pub async fn handle<N: Network, E: Environments>(
    event: Value,
    invocation: Invocation,
    network: &N,
    environments: &E,
    settings: &Settings,
) -> Result<Output, FunctionError> {
    let request = Request::parse(event).map_err(FunctionError::invalid_event)?;
    let metrics = &invocation.metrics;
    let reports = match request {
        Request::Status(reported) => vec![on_status(*reported, network, settings, metrics).await?],
        Request::Reconcile => reconcile(network, environments, settings, metrics).await?,
    };
    Ok(Output {
        environments: reports,
    })
}

async fn on_status<N: Network>(
    reported: Reported,
    network: &N,
    settings: &Settings,
    metrics: &common::metrics::Metrics,
) -> Result<Report, FunctionError> {
    let status = reported.status.clone().unwrap_or_default();
    let name = reported.name.clone().unwrap_or_default();
    match status.as_str() {
        "PENDING" => {
            if let Some(m) = reported
                .endpoint_management
                .as_deref()
                .filter(|m| *m != "CUSTOMER")
            {
                tracing::info!(
                    environment = name,
                    "endpoint management is {m}; MWAA creates the endpoints itself"
                );
                return Ok(ignored(name, status));
            }
            let env = Environment::validate(&reported, &settings.region)
                .map_err(|m| FunctionError::invalid_event(format!("environment {name:?}: {m}")))?;
            ensure(&env, network, settings, metrics).await
        }
        "DELETING" | "DELETED" => {
            let departed = Departed::validate(&reported, &settings.region)
                .map_err(|m| FunctionError::invalid_event(format!("environment {name:?}: {m}")))?;
            clean_up(&departed, status, network, settings, metrics).await
        }
        other => {
            tracing::info!(
                environment = name,
                status = other,
                "status needs no endpoint work; ignored"
            );
            Ok(ignored(name, status))
        }
    }
}

fn ignored(environment: String, status: String) -> Report {
    Report {
        environment,
        status,
        action: "ignored",
        ..Report::default()
    }
}

/// The SQS interface endpoints of the VPC serving any of `subnets`.
async fn sqs_endpoints<N: Network>(
    network: &N,
    vpc_id: Option<&str>,
    subnets: &[String],
    region: &str,
) -> Result<Vec<Endpoint>, FunctionError> {
    let found = network
        .endpoints(&EndpointQuery {
            vpc_id: vpc_id.map(str::to_string),
            service_name: Some(sqs_service(region)),
            tag: None,
        })
        .await?;
    Ok(found
        .into_iter()
        .filter(|e| e.is_live() && e.endpoint_type == "interface")
        .filter(|e| subnets.is_empty() || e.subnet_ids.iter().any(|s| subnets.contains(s)))
        .collect())
}

/// PENDING: the SQS policy entry and the database/web server endpoints.
pub async fn ensure<N: Network>(
    env: &Environment,
    network: &N,
    settings: &Settings,
    metrics: &common::metrics::Metrics,
) -> Result<Report, FunctionError> {
    let vpc_id = network.vpc_of_subnets(&env.subnet_ids).await?;
    // Everything that can fail for lack of a prerequisite is checked before
    // anything is created, so a failed run leaves nothing half done.
    let sqs = sqs_endpoints(network, Some(&vpc_id), &env.subnet_ids, &settings.region)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            FunctionError::permanent(
                "NoSqsEndpoint",
                format!(
                    "no live SQS interface endpoint ({}) in {vpc_id} serves subnet {}; create it, then the reconcile or a retry finishes environment {}",
                    sqs_service(&settings.region),
                    env.subnet_ids.join(" or "),
                    env.name
                ),
            )
        })?;
    let policy = sqs.policy.clone().unwrap_or_default();
    let edit = add_queue(&policy, &env.queue_arn).map_err(|e| {
        FunctionError::permanent(
            "SqsEndpointPolicy",
            format!("{} ({}): {e}", sqs.id, env.name),
        )
    })?;

    let mut endpoints = Vec::new();
    for required in &env.endpoints {
        let existing = network
            .endpoints(&EndpointQuery {
                vpc_id: Some(vpc_id.clone()),
                service_name: Some(required.service_name.clone()),
                tag: None,
            })
            .await?
            .into_iter()
            .find(Endpoint::is_live);
        let (endpoint_id, outcome) = match existing {
            Some(e) => (e.id, "existing"),
            None => {
                let id = network
                    .create_endpoint(&NewEndpoint {
                        vpc_id: vpc_id.clone(),
                        service_name: required.service_name.clone(),
                        subnet_ids: env.subnet_ids.clone(),
                        security_group_ids: env.security_group_ids.clone(),
                        client_token: client_token(&env.arn, &required.service_name),
                        tags: vec![
                            ("Name".into(), format!("{}-{}", env.name, required.role)),
                            (ENVIRONMENT_TAG.into(), env.arn.clone()),
                            (ROLE_TAG.into(), required.role.into()),
                        ],
                    })
                    .await?;
                metrics.count("EndpointsCreated", 1);
                (id, "created")
            }
        };
        tracing::info!(
            environment = env.name,
            role = required.role,
            endpoint = endpoint_id,
            outcome,
            "endpoint"
        );
        endpoints.push(EndpointReport {
            role: required.role.into(),
            service_name: required.service_name.clone(),
            endpoint_id,
            outcome,
        });
    }

    let policy_outcome = match edit {
        Edit::Changed(document) => {
            network.set_policy(&sqs.id, &document).await?;
            metrics.count("PolicyUpdates", 1);
            "queue added".to_string()
        }
        Edit::Unchanged(why) => why.to_string(),
    };
    tracing::info!(
        environment = env.name,
        sqs_endpoint = sqs.id,
        "SQS endpoint policy: {policy_outcome}"
    );
    Ok(Report {
        environment: env.name.clone(),
        status: "PENDING".into(),
        action: "ensured",
        vpc_id: Some(vpc_id),
        endpoints,
        deleted_endpoints: Vec::new(),
        sqs_endpoint: Some(sqs.id),
        policy: Some(policy_outcome),
    })
}

/// DELETING/DELETED: the endpoints tagged for the environment go, and its
/// queue leaves the SQS endpoint policies.
pub async fn clean_up<N: Network>(
    env: &Departed,
    status: String,
    network: &N,
    settings: &Settings,
    metrics: &common::metrics::Metrics,
) -> Result<Report, FunctionError> {
    let tagged: Vec<String> = network
        .endpoints(&EndpointQuery {
            vpc_id: None,
            service_name: None,
            tag: Some((ENVIRONMENT_TAG.into(), env.arn.clone())),
        })
        .await?
        .into_iter()
        .filter(Endpoint::is_live)
        .map(|e| e.id)
        .collect();
    if !tagged.is_empty() {
        network.delete_endpoints(&tagged).await?;
        metrics.count("EndpointsDeleted", tagged.len());
    }
    let mut policy = None;
    match &env.queue_arn {
        None => tracing::warn!(
            environment = env.name,
            "no celeryExecutorQueue in the event; SQS endpoint policies left as they are"
        ),
        Some(queue) => {
            let vpc_id = match env.subnet_ids.is_empty() {
                true => None,
                // Subnets may be gone already on DELETED; search every VPC then.
                false => network.vpc_of_subnets(&env.subnet_ids).await.ok(),
            };
            let mut removed_from = Vec::new();
            for sqs in sqs_endpoints(network, vpc_id.as_deref(), &[], &settings.region).await? {
                let document = sqs.policy.clone().unwrap_or_default();
                match remove_queue(&document, queue) {
                    Ok(Edit::Changed(updated)) => {
                        network.set_policy(&sqs.id, &updated).await?;
                        metrics.count("PolicyUpdates", 1);
                        removed_from.push(sqs.id);
                    }
                    Ok(Edit::Unchanged(why)) => tracing::debug!(endpoint = sqs.id, "{why}"),
                    Err(e) => tracing::warn!(endpoint = sqs.id, "policy not edited: {e}"),
                }
            }
            policy = Some(if removed_from.is_empty() {
                "queue not in any SQS endpoint policy".to_string()
            } else {
                format!("queue removed from {}", removed_from.join(", "))
            });
        }
    }
    tracing::info!(environment = env.name, deleted = tagged.len(), "cleaned up");
    Ok(Report {
        environment: env.name.clone(),
        status,
        action: "cleaned_up",
        deleted_endpoints: tagged,
        policy,
        ..Report::default()
    })
}

/// Finds environments waiting in PENDING with customer-managed endpoints
/// and does their work; one failing environment does not stop the others,
/// but fails the invocation at the end.
pub async fn reconcile<N: Network, E: Environments>(
    network: &N,
    environments: &E,
    settings: &Settings,
    metrics: &common::metrics::Metrics,
) -> Result<Vec<Report>, FunctionError> {
    let names = environments.names().await?;
    let mut reports = Vec::new();
    let mut failures: Vec<FunctionError> = Vec::new();
    for name in &names {
        let Some(reported) = environments.get(name).await? else {
            continue;
        };
        let pending = reported.status.as_deref() == Some("PENDING");
        let customer = reported.endpoint_management.as_deref() == Some("CUSTOMER");
        if !(pending && customer) {
            continue;
        }
        metrics.count("PendingEnvironmentsFound", 1);
        let result = match Environment::validate(&reported, &settings.region) {
            Ok(env) => ensure(&env, network, settings, metrics).await,
            Err(m) => Err(FunctionError::permanent("InvalidEnvironment", m)),
        };
        match result {
            Ok(report) => reports.push(report),
            Err(e) => {
                tracing::error!(environment = name, error_type = %e.kind, "reconcile failed: {}", e.message);
                failures.push(e.context(format!("environment {name}")));
            }
        }
    }
    tracing::info!(
        environments = names.len(),
        pending = reports.len() + failures.len(),
        failed = failures.len(),
        "reconciled"
    );
    if failures.is_empty() {
        return Ok(reports);
    }
    let retryable = failures.iter().any(FunctionError::is_retryable);
    let kind = failures[0].kind.clone();
    let message = failures
        .iter()
        .map(|f| f.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Err(FunctionError::new(
        kind,
        if retryable {
            common::FailureClass::Retryable
        } else {
            common::FailureClass::Permanent
        },
        message,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const VPC: &str = "vpc-0123456789abcdef0";

    /// EC2 in memory, recording every mutating call in order.
    #[derive(Default)]
    struct FakeNetwork {
        endpoints: Mutex<Vec<Endpoint>>,
        calls: Mutex<Vec<String>>,
        created: Mutex<Vec<NewEndpoint>>,
    }

    impl Network for FakeNetwork {
        async fn vpc_of_subnets(&self, _: &[String]) -> Result<String, FunctionError> {
            Ok(VPC.into())
        }
        async fn endpoints(&self, q: &EndpointQuery) -> Result<Vec<Endpoint>, FunctionError> {
            Ok(self
                .endpoints
                .lock()
                .unwrap()
                .iter()
                .filter(|e| q.service_name.as_ref().is_none_or(|s| *s == e.service_name))
                .cloned()
                .collect())
        }
        async fn create_endpoint(&self, e: &NewEndpoint) -> Result<String, FunctionError> {
            let id = format!("vpce-{}", self.created.lock().unwrap().len());
            self.calls
                .lock()
                .unwrap()
                .push(format!("create {}", e.service_name));
            self.created.lock().unwrap().push(e.clone());
            Ok(id)
        }
        async fn set_policy(&self, id: &str, _: &str) -> Result<(), FunctionError> {
            self.calls.lock().unwrap().push(format!("policy {id}"));
            Ok(())
        }
        async fn delete_endpoints(&self, _: &[String]) -> Result<(), FunctionError> {
            unreachable!()
        }
    }

    fn env() -> Environment {
        let r = Reported {
            name: Some("E".into()),
            arn: Some("arn:aws:airflow:us-east-1:123456789012:environment/E".into()),
            status: Some("PENDING".into()),
            queue_arn: Some("arn:aws:sqs:us-east-1:123456789012:q".into()),
            subnet_ids: vec!["subnet-0123456789abcdef0".into()],
            security_group_ids: vec!["sg-0123456789abcdef0".into()],
            database_service: Some(
                "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0".into(),
            ),
            webserver_service: None,
            webserver_access_mode: Some("PUBLIC_ONLY".into()),
            endpoint_management: Some("CUSTOMER".into()),
        };
        Environment::validate(&r, "us-east-1").unwrap()
    }

    fn sqs(state: &str) -> Endpoint {
        Endpoint {
            id: "vpce-sqs".into(),
            vpc_id: VPC.into(),
            service_name: "com.amazonaws.us-east-1.sqs".into(),
            state: state.into(),
            endpoint_type: "interface".into(),
            subnet_ids: vec!["subnet-0123456789abcdef0".into()],
            policy: Some(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:*","Resource":[]}]}"#.into()),
        }
    }

    #[tokio::test]
    async fn creates_with_the_deterministic_token_and_tags_then_edits_the_policy() {
        let network = FakeNetwork::default();
        network.endpoints.lock().unwrap().push(sqs("available"));
        let settings = Settings {
            region: "us-east-1".into(),
        };
        let report = ensure(&env(), &network, &settings, &Invocation::for_test().metrics)
            .await
            .unwrap();
        assert_eq!(report.endpoints[0].outcome, "created");
        let created = network.created.lock().unwrap();
        let e = &env();
        assert_eq!(
            created[0].client_token,
            client_token(&e.arn, &e.endpoints[0].service_name)
        );
        assert!(created[0]
            .tags
            .contains(&(ENVIRONMENT_TAG.to_string(), e.arn.clone())));
        assert_eq!(
            *network.calls.lock().unwrap(),
            [
                "create com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
                "policy vpce-sqs"
            ]
        );
    }

    #[tokio::test]
    async fn a_deleted_sqs_endpoint_does_not_count() {
        let network = FakeNetwork::default();
        network.endpoints.lock().unwrap().push(sqs("deleted"));
        let settings = Settings {
            region: "us-east-1".into(),
        };
        let err = ensure(&env(), &network, &settings, &Invocation::for_test().metrics)
            .await
            .unwrap_err();
        assert_eq!(err.kind, "NoSqsEndpoint");
        assert!(network.calls.lock().unwrap().is_empty());
    }

    #[test]
    fn requests_are_recognised_by_shape() {
        assert!(matches!(
            Request::parse(serde_json::json!({"action": "reconcile"})),
            Ok(Request::Reconcile)
        ));
        assert!(matches!(
            Request::parse(serde_json::json!({"detail-type": "Scheduled Event", "detail": {}})),
            Ok(Request::Reconcile)
        ));
        let e = Request::parse(serde_json::json!({"detail-type": "MWAA Environment Status Change", "detail": {"name": 5}}))
            .unwrap_err();
        assert!(e.starts_with("detail: name: invalid type"), "{e}");
    }
}

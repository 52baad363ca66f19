//! The environment as the status event or GetEnvironment describes it, and
//! the validated form the endpoint work needs.
//!
//! AWS publishes no verbatim "MWAA Environment Status Change" event, so every
//! `detail` member is optional and unknown members are ignored; the fields
//! mirror GetEnvironment's `Environment` in camelCase.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::validate;

/// The tag naming the environment an endpoint was created for (its ARN).
pub const ENVIRONMENT_TAG: &str = "mwaa:environment";
/// The tag naming the endpoint's role (`database` or `webserver`).
pub const ROLE_TAG: &str = "mwaa:endpoint";

/// `detail` of the status change event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetail {
    pub name: Option<String>,
    pub status: Option<String>,
    pub arn: Option<String>,
    pub celery_executor_queue: Option<String>,
    pub network_configuration: Option<NetworkConfiguration>,
    pub database_vpc_endpoint_service: Option<String>,
    pub webserver_vpc_endpoint_service: Option<String>,
    pub webserver_access_mode: Option<String>,
    pub endpoint_management: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfiguration {
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
}

/// An environment as reported, unvalidated (event or GetEnvironment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reported {
    pub name: Option<String>,
    pub arn: Option<String>,
    pub status: Option<String>,
    pub queue_arn: Option<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub database_service: Option<String>,
    pub webserver_service: Option<String>,
    pub webserver_access_mode: Option<String>,
    pub endpoint_management: Option<String>,
}

impl Reported {
    /// From an event: the ARN is `detail.arn` or the event's first resource.
    pub fn from_event(detail: StatusDetail, resources: &[String]) -> Self {
        let network = detail.network_configuration.unwrap_or_default();
        Reported {
            arn: detail.arn.or_else(|| resources.first().cloned()),
            name: detail.name,
            status: detail.status,
            queue_arn: detail.celery_executor_queue,
            subnet_ids: network.subnet_ids,
            security_group_ids: network.security_group_ids,
            database_service: detail.database_vpc_endpoint_service,
            webserver_service: detail.webserver_vpc_endpoint_service,
            webserver_access_mode: detail.webserver_access_mode,
            endpoint_management: detail.endpoint_management,
        }
    }
}

/// An endpoint the environment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredEndpoint {
    /// `database` or `webserver`.
    pub role: &'static str,
    pub service_name: String,
}

/// A validated environment with customer-managed endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    pub arn: String,
    pub queue_arn: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub endpoints: Vec<RequiredEndpoint>,
}

/// The identity needed to clean up after an environment: its ARN (the tag
/// on its endpoints) and, when reported, its queue and subnets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departed {
    pub name: String,
    pub arn: String,
    pub queue_arn: Option<String>,
    pub subnet_ids: Vec<String>,
}

fn name_and_arn(r: &Reported, region: &str, problems: &mut Vec<String>) -> (String, String) {
    let name = r.name.clone().unwrap_or_default();
    let arn = r.arn.clone().unwrap_or_default();
    match &r.name {
        None => problems.push("name is missing".into()),
        Some(n) => {
            if let Err(e) = validate::environment_name(n) {
                problems.push(format!("name: {e}"));
            } else if r.arn.is_none() {
                problems.push("the environment ARN (detail.arn or resources[0]) is missing".into());
            } else if let Err(e) = validate::environment_arn(&arn, region, n) {
                problems.push(format!("arn: {e}"));
            }
        }
    }
    (name, arn)
}

impl Environment {
    /// Checks every field the endpoint work uses; all problems in one message.
    pub fn validate(r: &Reported, region: &str) -> Result<Environment, String> {
        let mut problems = Vec::new();
        let (name, arn) = name_and_arn(r, region, &mut problems);
        match &r.queue_arn {
            None => problems.push("celeryExecutorQueue is missing".into()),
            Some(q) => {
                if let Err(e) = validate::queue_arn(q, region) {
                    problems.push(format!("celeryExecutorQueue: {e}"));
                }
            }
        }
        if r.subnet_ids.is_empty() {
            problems.push("networkConfiguration.subnetIds is empty".into());
        }
        for (i, s) in r.subnet_ids.iter().enumerate() {
            if let Err(e) = validate::subnet_id(s) {
                problems.push(format!("networkConfiguration.subnetIds[{i}]: {e}"));
            }
        }
        if r.security_group_ids.is_empty() {
            problems.push("networkConfiguration.securityGroupIds is empty".into());
        }
        for (i, s) in r.security_group_ids.iter().enumerate() {
            if let Err(e) = validate::security_group_id(s) {
                problems.push(format!("networkConfiguration.securityGroupIds[{i}]: {e}"));
            }
        }
        let mut endpoints = Vec::new();
        match &r.database_service {
            None => problems.push("databaseVpcEndpointService is missing".into()),
            Some(s) => match validate::endpoint_service(s, region) {
                Ok(()) => endpoints.push(RequiredEndpoint {
                    role: "database",
                    service_name: s.clone(),
                }),
                Err(e) => problems.push(format!("databaseVpcEndpointService: {e}")),
            },
        }
        match r.webserver_access_mode.as_deref() {
            Some("PRIVATE_ONLY") => match &r.webserver_service {
                None => problems.push(
                    "webserverVpcEndpointService is missing although webserverAccessMode is PRIVATE_ONLY".into(),
                ),
                Some(s) => match validate::endpoint_service(s, region) {
                    Ok(()) => endpoints.push(RequiredEndpoint {
                        role: "webserver",
                        service_name: s.clone(),
                    }),
                    Err(e) => problems.push(format!("webserverVpcEndpointService: {e}")),
                },
            },
            // A public web server needs no endpoint in the VPC.
            Some("PUBLIC_ONLY") => {}
            // Unknown or absent: refusing is safer than guessing either way.
            other => problems.push(format!(
                "webserverAccessMode is {other:?}; expected PRIVATE_ONLY or PUBLIC_ONLY"
            )),
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(Environment {
            name,
            arn,
            queue_arn: r.queue_arn.clone().unwrap_or_default(),
            subnet_ids: r.subnet_ids.clone(),
            security_group_ids: r.security_group_ids.clone(),
            endpoints,
        })
    }
}

impl Departed {
    /// Checks what cleaning up needs: name and ARN; queue and subnets are
    /// used when present and valid.
    pub fn validate(r: &Reported, region: &str) -> Result<Departed, String> {
        let mut problems = Vec::new();
        let (name, arn) = name_and_arn(r, region, &mut problems);
        if let Some(q) = &r.queue_arn {
            if let Err(e) = validate::queue_arn(q, region) {
                problems.push(format!("celeryExecutorQueue: {e}"));
            }
        }
        for (i, s) in r.subnet_ids.iter().enumerate() {
            if let Err(e) = validate::subnet_id(s) {
                problems.push(format!("networkConfiguration.subnetIds[{i}]: {e}"));
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        Ok(Departed {
            name,
            arn,
            queue_arn: r.queue_arn.clone(),
            subnet_ids: r.subnet_ids.clone(),
        })
    }
}

/// The `ClientToken` of an endpoint creation: the hex SHA-256 of the
/// environment ARN and service name (64 ASCII characters, EC2's maximum), so
/// a redelivered event or a retried call asks EC2 for the same endpoint.
pub fn client_token(environment_arn: &str, service_name: &str) -> String {
    let digest = Sha256::digest(format!("{environment_arn}\n{service_name}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SQS interface endpoint service of a Region.
pub fn sqs_service(region: &str) -> String {
    format!("com.amazonaws.{region}.sqs")
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "us-east-1";
    const DB: &str = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
    const WEB: &str = "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210";

    fn reported() -> Reported {
        Reported {
            name: Some("MyEnv".into()),
            arn: Some("arn:aws:airflow:us-east-1:123456789012:environment/MyEnv".into()),
            status: Some("PENDING".into()),
            queue_arn: Some("arn:aws:sqs:us-east-1:123456789012:airflow-celery-abc".into()),
            subnet_ids: vec![
                "subnet-0123456789abcdef0".into(),
                "subnet-0123456789abcdef1".into(),
            ],
            security_group_ids: vec!["sg-0123456789abcdef0".into()],
            database_service: Some(DB.into()),
            webserver_service: Some(WEB.into()),
            webserver_access_mode: Some("PRIVATE_ONLY".into()),
            endpoint_management: Some("CUSTOMER".into()),
        }
    }

    #[test]
    fn private_web_server_needs_both_endpoints_public_only_the_database() {
        let env = Environment::validate(&reported(), R).unwrap();
        let roles: Vec<_> = env
            .endpoints
            .iter()
            .map(|e| (e.role, e.service_name.as_str()))
            .collect();
        assert_eq!(roles, [("database", DB), ("webserver", WEB)]);
        let mut public = reported();
        public.webserver_access_mode = Some("PUBLIC_ONLY".into());
        public.webserver_service = None;
        let env = Environment::validate(&public, R).unwrap();
        assert_eq!(env.endpoints.len(), 1);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut r = reported();
        r.queue_arn = Some("arn:aws:sqs:us-east-1:123456789012:*".into());
        r.subnet_ids[1] = "subnet-zz".into();
        r.security_group_ids.clear();
        r.database_service = Some("com.amazonaws.us-east-1.sqs".into());
        r.webserver_access_mode = Some("PUBLIC_AND_PRIVATE".into());
        r.arn = Some("arn:aws:airflow:us-east-1:123456789012:environment/Other".into());
        let e = Environment::validate(&r, R).unwrap_err();
        for needle in [
            "arn: ",
            "celeryExecutorQueue: ",
            "subnetIds[1]: \"subnet-zz\"",
            "securityGroupIds is empty",
            "databaseVpcEndpointService: ",
            "webserverAccessMode is Some(\"PUBLIC_AND_PRIVATE\")",
        ] {
            assert!(e.contains(needle), "{needle} in {e}");
        }
        assert!(Environment::validate(&Reported::default(), R)
            .unwrap_err()
            .contains("name is missing"));
    }

    #[test]
    fn event_detail_reads_camel_case_and_ignores_unknown_fields() {
        let detail: StatusDetail = serde_json::from_value(serde_json::json!({
            "name": "MyEnv", "status": "PENDING", "somethingNew": {"x": 1},
            "networkConfiguration": {"subnetIds": ["subnet-0123456789abcdef0"]}
        }))
        .unwrap();
        let r = Reported::from_event(
            detail,
            &["arn:aws:airflow:us-east-1:123456789012:environment/MyEnv".into()],
        );
        assert_eq!(
            r.arn.as_deref(),
            Some("arn:aws:airflow:us-east-1:123456789012:environment/MyEnv")
        );
        assert_eq!(r.subnet_ids, ["subnet-0123456789abcdef0"]);
        assert!(r.security_group_ids.is_empty());
    }

    #[test]
    fn client_tokens_are_deterministic_64_char_and_distinct() {
        let a = client_token("arn:1", DB);
        assert_eq!(a, client_token("arn:1", DB));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, client_token("arn:1", WEB));
        assert_ne!(a, client_token("arn:2", DB));
        // Golden vector from coreutils: printf 'a\nb' | sha256sum
        assert_eq!(
            client_token("a", "b"),
            "7e18f737311b2dc3b2f269dd78396b0351f14fb66efa879f768cb23181883c78"
        );
    }
}

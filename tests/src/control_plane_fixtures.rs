//! Shared set-up of the control-plane functions (mwaa-endpoint-creator,
//! flink-scaler) for their end-to-end tests, the demo and the benchmark: a
//! VPC with two subnets and an SQS interface endpoint in moto, MWAA
//! environments and Flink applications seeded in local-aws.

use std::time::Duration;

use aws_sdk_ec2::types::{Filter, VpcEndpointType};
use serde_json::{json, Value};

use crate::local_cloud::{LocalCloud, REGION};
use crate::runtime_api::FunctionProcess;
use crate::workspace::{event, function_binary};

/// The MWAA endpoint services of the sample events.
pub const DATABASE_SERVICE: &str = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
pub const WEBSERVER_SERVICE: &str = "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210";
pub const SQS_SERVICE: &str = "com.amazonaws.us-east-1.sqs";

/// Posts to the local-aws control API; panics with the answer on failure.
pub async fn control(cloud: &LocalCloud, path: &str, body: &Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/_local-aws/{path}", cloud.local_aws.url))
        .json(body)
        .send()
        .await
        .expect("control API reachable");
    let status = response.status();
    let body: Value = response.json().await.expect("control API answers JSON");
    if !status.is_success() {
        let health = reqwest::get(format!("{}/_local-aws/health", cloud.local_aws.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        panic!(
            "{path}: {status} {body} (url {}, health {health})",
            cloud.local_aws.url
        );
    }
    body
}

/// An endpoint as the tests look at it: id, service name, tags.
pub type EndpointRow = (String, String, Vec<(String, String)>);

/// A VPC with two private subnets and a security group, in moto.
pub struct Vpc {
    pub ec2: aws_sdk_ec2::Client,
    pub vpc_id: String,
    pub subnets: [String; 2],
    pub security_group: String,
}

impl Vpc {
    pub async fn create(cloud: &LocalCloud) -> Vpc {
        Self::create_with(&cloud.moto_config().await).await
    }

    /// The same in the account `config` acts in (e.g. an assumed role's).
    pub async fn create_with(config: &aws_config::SdkConfig) -> Vpc {
        let ec2 = aws_sdk_ec2::Client::new(config);
        let vpc_id = ec2
            .create_vpc()
            .cidr_block("10.0.0.0/16")
            .send()
            .await
            .unwrap()
            .vpc()
            .and_then(|v| v.vpc_id())
            .unwrap()
            .to_string();
        let mut subnets = Vec::new();
        for (cidr, az) in [("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b")] {
            subnets.push(
                ec2.create_subnet()
                    .vpc_id(&vpc_id)
                    .cidr_block(cidr)
                    .availability_zone(az)
                    .send()
                    .await
                    .unwrap()
                    .subnet()
                    .and_then(|s| s.subnet_id())
                    .unwrap()
                    .to_string(),
            );
        }
        let security_group = ec2
            .create_security_group()
            .group_name("mwaa")
            .description("MWAA self-referencing")
            .vpc_id(&vpc_id)
            .send()
            .await
            .unwrap()
            .group_id()
            .unwrap()
            .to_string();
        Vpc {
            ec2,
            vpc_id,
            subnets: [subnets[0].clone(), subnets[1].clone()],
            security_group,
        }
    }

    /// An SQS interface endpoint in `subnets` with `policy`; returns its id.
    pub async fn sqs_endpoint(&self, subnets: &[&str], policy: &Value) -> String {
        self.ec2
            .create_vpc_endpoint()
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .vpc_id(&self.vpc_id)
            .service_name(SQS_SERVICE)
            .set_subnet_ids(Some(subnets.iter().map(|s| s.to_string()).collect()))
            .policy_document(policy.to_string())
            .send()
            .await
            .unwrap()
            .vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .unwrap()
            .to_string()
    }

    /// Every endpoint of the VPC that is not deleted: (id, service, tags).
    pub async fn live_endpoints(&self) -> Vec<EndpointRow> {
        let out = self
            .ec2
            .describe_vpc_endpoints()
            .filters(
                Filter::builder()
                    .name("vpc-id")
                    .values(&self.vpc_id)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let mut list: Vec<_> = out
            .vpc_endpoints()
            .iter()
            .filter(|e| {
                !matches!(
                    e.state()
                        .map(|s| s.as_str().to_ascii_lowercase())
                        .as_deref(),
                    Some("deleted" | "deleting")
                )
            })
            .map(|e| {
                (
                    e.vpc_endpoint_id().unwrap_or_default().to_string(),
                    e.service_name().unwrap_or_default().to_string(),
                    e.tags()
                        .iter()
                        .map(|t| {
                            (
                                t.key().unwrap_or_default().to_string(),
                                t.value().unwrap_or_default().to_string(),
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        list.sort_by(|a, b| a.1.cmp(&b.1));
        list
    }

    /// An endpoint's policy document, parsed.
    pub async fn policy(&self, endpoint_id: &str) -> Value {
        let out = self
            .ec2
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(endpoint_id)
            .send()
            .await
            .unwrap();
        serde_json::from_str(out.vpc_endpoints()[0].policy_document().unwrap()).unwrap()
    }
}

/// A queue ARN of the MWAA service account, as environments report them.
pub fn queue_arn(name: &str) -> String {
    format!(
        "arn:aws:sqs:{REGION}:123456789012:airflow-celery-{}",
        name.to_ascii_lowercase()
    )
}

/// A restrictive SQS endpoint policy naming `queues`; `Resource` is a plain
/// string when there is one queue and `string_resource` is set.
pub fn sqs_policy(queues: &[String], string_resource: bool) -> Value {
    let resource = match (queues, string_resource) {
        ([one], true) => json!(one),
        _ => json!(queues),
    };
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": resource}]})
}

/// The `pending.json` sample for environment `name` in `vpc`, with `status`.
pub fn status_event(name: &str, status: &str, vpc: &Vpc, access_mode: &str) -> Value {
    let mut e = event("mwaa-endpoint-creator", "pending");
    e["resources"] = json!([format!(
        "arn:aws:airflow:{REGION}:123456789012:environment/{name}"
    )]);
    let d = &mut e["detail"];
    d["name"] = json!(name);
    d["status"] = json!(status);
    d["celeryExecutorQueue"] = json!(queue_arn(name));
    d["networkConfiguration"] =
        json!({"subnetIds": vpc.subnets, "securityGroupIds": [vpc.security_group]});
    d["webserverAccessMode"] = json!(access_mode);
    e
}

/// The environment as GetEnvironment returns it, for seeding local-aws.
pub fn environment(name: &str, status: &str, vpc: &Vpc) -> Value {
    json!({
        "Name": name,
        "Status": status,
        "EndpointManagement": "CUSTOMER",
        "CeleryExecutorQueue": queue_arn(name),
        "NetworkConfiguration": {"SubnetIds": vpc.subnets, "SecurityGroupIds": [vpc.security_group]},
        "DatabaseVpcEndpointService": DATABASE_SERVICE,
        "WebserverVpcEndpointService": WEBSERVER_SERVICE,
        "WebserverAccessMode": "PRIVATE_ONLY",
        "AirflowVersion": "2.10.3",
        "EnvironmentClass": "mw1.small",
    })
}

/// The shipped `mwaa-endpoint-creator`, ready, against `cloud`.
pub async fn mwaa_function(cloud: &LocalCloud, extra: &[(&str, &str)]) -> FunctionProcess {
    spawn(cloud, "mwaa-endpoint-creator", extra).await
}

/// The shipped `flink-scaler`, ready, against `cloud`.
pub async fn flink_function(cloud: &LocalCloud, extra: &[(&str, &str)]) -> FunctionProcess {
    spawn(cloud, "flink-scaler", extra).await
}

async fn spawn(cloud: &LocalCloud, name: &str, extra: &[(&str, &str)]) -> FunctionProcess {
    let mut env = cloud.function_env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let f = FunctionProcess::spawn(&function_binary(name), name, &env)
        .await
        .unwrap();
    f.wait_ready(Duration::from_secs(20)).await.unwrap();
    f
}

/// The scaler configuration of the sample alarm events.
pub const FLINK_APP: &str = "orders-enrichment";
pub const SCALE_OUT_ALARM: &str = "ScaleOutAlarm-orders-enrichment";
pub const SCALE_IN_ALARM: &str = "ScaleInAlarm-orders-enrichment";

/// Seeds a RUNNING Flink application with `parallelism` and `per_kpu`.
pub async fn seed_flink_app(cloud: &LocalCloud, parallelism: u32, per_kpu: u32) -> Value {
    control(
        cloud,
        "kinesis-analytics-v2/applications",
        &json!({"ApplicationName": FLINK_APP, "Parallelism": parallelism, "ParallelismPerKPU": per_kpu}),
    )
    .await
}

/// The application's parallelism description, without counting as a describe.
pub async fn flink_parallelism(cloud: &LocalCloud) -> (String, Value) {
    let d = control(
        cloud,
        "kinesis-analytics-v2/peek",
        &json!({"ApplicationName": FLINK_APP}),
    )
    .await;
    let detail = &d["ApplicationDetail"];
    (
        detail["ApplicationStatus"].as_str().unwrap().to_string(),
        detail["ApplicationConfigurationDescription"]["FlinkApplicationConfigurationDescription"]
            ["ParallelismConfigurationDescription"]
            .clone(),
    )
}

//! The firewall functions' local setup, shared by the end-to-end tests and
//! the demo: a spoke account in moto (versioned config bucket, two VPCs
//! attached to a Transit Gateway, one with a secondary CIDR, the customer log
//! group, reached through an assumed role), the central FIFO queue and
//! overflow bucket in moto, a STRICT_ORDER firewall policy in local-aws, and
//! both shipped binaries under the local Runtime API.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_networkfirewall::types::{FirewallPolicy, RuleOrder, StatefulEngineOptions};
use serde_json::{json, Value};

use crate::local_cloud::{sdk_config_for, LocalCloud, REGION};
use crate::runtime_api::FunctionProcess;
use crate::workspace::function_binary;

pub const SPOKE: &str = "112233445566";
pub const ROLE: &str = "anfw-spoke-config-reader";
pub const LOG_GROUP: &str = "anfw-customer-log";
pub const BUCKET: &str = "anfw-allowlist-us-east-1-112233445566";
pub const KEY: &str = "us-east-1-config.yaml";

pub struct Fixture {
    pub cloud: LocalCloud,
    pub spoke: SdkConfig,
    pub queue_url: String,
    pub policy_arn: String,
    pub vpcs: Vec<String>,
    pub collector: FunctionProcess,
    pub executor: FunctionProcess,
}

pub async fn spoke_config(cloud: &LocalCloud) -> SdkConfig {
    let central = cloud.moto_config().await;
    let creds = aws_sdk_sts::Client::new(&central)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{SPOKE}:role/{ROLE}"))
        .role_session_name("test-spoke")
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    central
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    creds.access_key_id,
                    creds.secret_access_key,
                    Some(creds.session_token),
                    None,
                    "spoke",
                ),
            ),
        )
        .build()
}

impl Fixture {
    pub async fn start() -> Fixture {
        let cloud = LocalCloud::start().await.expect("local cloud");
        let spoke = spoke_config(&cloud).await;
        // The spoke: a versioned bucket, two TGW-attached VPCs, the log group.
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&spoke)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        s3.put_bucket_versioning()
            .bucket(BUCKET)
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let ec2 = aws_sdk_ec2::Client::new(&spoke);
        let tgw = ec2
            .create_transit_gateway()
            .send()
            .await
            .unwrap()
            .transit_gateway
            .unwrap()
            .transit_gateway_id
            .unwrap();
        let mut vpcs = Vec::new();
        for cidr in ["10.1.0.0/16", "10.2.0.0/16"] {
            let vpc = ec2
                .create_vpc()
                .cidr_block(cidr)
                .send()
                .await
                .unwrap()
                .vpc
                .unwrap()
                .vpc_id
                .unwrap();
            let subnet = ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(cidr.replace(".0.0/16", ".1.0/24"))
                .send()
                .await
                .unwrap()
                .subnet
                .unwrap()
                .subnet_id
                .unwrap();
            ec2.create_transit_gateway_vpc_attachment()
                .transit_gateway_id(&tgw)
                .vpc_id(&vpc)
                .subnet_ids(subnet)
                .send()
                .await
                .unwrap();
            vpcs.push(vpc);
        }
        ec2.associate_vpc_cidr_block()
            .vpc_id(&vpcs[0])
            .cidr_block("10.9.0.0/16")
            .send()
            .await
            .unwrap();
        aws_sdk_cloudwatchlogs::Client::new(&spoke)
            .create_log_group()
            .log_group_name(LOG_GROUP)
            .send()
            .await
            .unwrap();

        // Central: the FIFO queue, the overflow bucket, the firewall policy.
        let central = cloud.moto_config().await;
        let queue_url = aws_sdk_sqs::Client::new(&central)
            .create_queue()
            .queue_name("firewall-rules.fifo")
            .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        cloud
            .s3()
            .await
            .create_bucket()
            .bucket("central-state")
            .send()
            .await
            .unwrap();
        let nfw = nfw(&cloud).await;
        let policy = FirewallPolicy::builder()
            .stateless_default_actions("aws:forward_to_sfe")
            .stateless_fragment_default_actions("aws:forward_to_sfe")
            .stateful_engine_options(
                StatefulEngineOptions::builder()
                    .rule_order(RuleOrder::StrictOrder)
                    .build(),
            )
            .build()
            .unwrap();
        let policy_arn = nfw
            .create_firewall_policy()
            .firewall_policy_name("central")
            .firewall_policy(policy)
            .send()
            .await
            .unwrap()
            .firewall_policy_response
            .unwrap()
            .firewall_policy_arn;

        let mut env = cloud.function_env();
        env.extend(
            [
                ("QUEUE_URL", queue_url.as_str()),
                ("OVERFLOW_BUCKET", "central-state"),
                ("INDEX_BUCKET", "central-state"),
                ("SPOKE_ROLE_NAME", ROLE),
                ("SPOKE_LOG_GROUP", LOG_GROUP),
                ("SUPPORTED_REGIONS", REGION),
                ("RULE_ORDER", "STRICT_ORDER"),
                ("POLICY_ARNS", &format!("{REGION}={policy_arn}")),
                ("FIREWALL_VPC_ID", "vpc-0f1e2d3c4b5a69788"),
                ("GROUP_CAPACITY", "100"),
                ("GROUP_PREFIX", "central-rules"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let collector = FunctionProcess::spawn(
            &function_binary("firewall-rule-collector"),
            "firewall-rule-collector",
            &env,
        )
        .await
        .unwrap();
        let executor = FunctionProcess::spawn(
            &function_binary("firewall-rule-executor"),
            "firewall-rule-executor",
            &env,
        )
        .await
        .unwrap();
        collector.wait_ready(Duration::from_secs(30)).await.unwrap();
        executor.wait_ready(Duration::from_secs(30)).await.unwrap();
        Fixture {
            cloud,
            spoke,
            queue_url,
            policy_arn,
            vpcs,
            collector,
            executor,
        }
    }

    pub fn config(&self, vpcs: &[(&str, &[&str])]) -> String {
        let mut yaml = String::from("Version: 0.1.0\nDescription: e2e\nConfig:\n");
        for (vpc, domains) in vpcs {
            yaml.push_str(&format!(
                "  - VPC: {vpc}\n    Type: ANFW::VPC\n    Properties:\n      - HTTPS:\n"
            ));
            for d in *domains {
                yaml.push_str(&format!("          - {d}\n"));
            }
        }
        yaml
    }

    pub async fn upload(&self, yaml: &str) -> String {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.spoke)
                .force_path_style(true)
                .build(),
        );
        s3.put_object()
            .bucket(BUCKET)
            .key(KEY)
            .body(yaml.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap()
            .version_id
            .unwrap()
    }

    pub fn s3_event(&self, kind: &str, version: &str, sequencer: &str) -> Value {
        json!({"version": "0", "id": format!("ev-{sequencer}"), "detail-type": kind, "source": "aws.s3", "account": SPOKE,
               "time": "2026-11-22T10:00:00Z", "region": REGION, "resources": [],
               "detail": {"bucket": {"name": BUCKET}, "object": {"key": KEY, "version-id": version, "sequencer": sequencer}, "reason": "PutObject"}})
    }

    pub async fn collect(&self, event: &Value) -> Value {
        let out = self.collector.invoke(event).await.unwrap();
        out.success()
            .unwrap_or_else(|| {
                panic!(
                    "collector failed: {:?}\n{:#?}",
                    out.error(),
                    self.collector.logs()
                )
            })
            .clone()
    }

    /// Everything the collector queued, as one SQS batch for the executor.
    pub async fn execute_queued(&self) -> (usize, Value) {
        let messages = self.cloud.drain_queue(&self.queue_url).await;
        let records: Vec<Value> = messages
            .iter()
            .map(|m| json!({"messageId": m.message_id(), "receiptHandle": "r", "body": m.body(), "attributes": {}, "messageAttributes": {},
                            "eventSource": "aws:sqs", "eventSourceARN": format!("arn:aws:sqs:{REGION}:123456789012:firewall-rules.fifo"), "awsRegion": REGION}))
            .collect();
        let n = records.len();
        if n == 0 {
            return (0, Value::Null);
        }
        let event = json!({"Records": records});
        let out = self.executor.invoke(&event).await.unwrap();
        let response = out
            .success()
            .unwrap_or_else(|| {
                panic!(
                    "executor failed: {:?}\n{:#?}",
                    out.error(),
                    self.executor.logs()
                )
            })
            .clone();
        (n, response)
    }

    pub fn firewall_writes(&self) -> Vec<String> {
        self.cloud
            .local_aws
            .emulator
            .requests()
            .into_iter()
            .filter(|r| {
                r.status == Some(200)
                    && [
                        "UpdateRuleGroup",
                        "CreateRuleGroup",
                        "DeleteRuleGroup",
                        "UpdateFirewallPolicy",
                    ]
                    .contains(&r.operation.as_str())
            })
            .map(|r| r.operation)
            .collect()
    }

    /// Every rule in the firewall's managed tenant groups, and the IP sets.
    pub async fn tenant_rules(&self) -> (Vec<String>, Vec<(String, Vec<String>)>) {
        let nfw = nfw(&self.cloud).await;
        let groups = nfw.list_rule_groups().send().await.unwrap();
        let mut rules = Vec::new();
        let mut sets = Vec::new();
        for g in groups.rule_groups() {
            let d = nfw
                .describe_rule_group()
                .rule_group_arn(g.arn().unwrap())
                .send()
                .await
                .unwrap();
            let tags = d.rule_group_response().unwrap().tags();
            if !tags
                .iter()
                .any(|t| t.key() == "anfw:role" && t.value() == "tenant")
            {
                continue;
            }
            let rg = d.rule_group().unwrap();
            rules.extend(
                rg.rules_source()
                    .unwrap()
                    .rules_string()
                    .unwrap()
                    .lines()
                    .map(str::to_string),
            );
            if let Some(ip) = rg.rule_variables().and_then(|v| v.ip_sets()) {
                sets.extend(ip.iter().map(|(k, v)| (k.clone(), v.definition().to_vec())));
            }
        }
        rules.sort();
        sets.sort();
        (rules, sets)
    }
}

pub async fn nfw(cloud: &LocalCloud) -> aws_sdk_networkfirewall::Client {
    aws_sdk_networkfirewall::Client::new(&sdk_config_for(&cloud.local_aws.url).await)
}

pub fn var(vpc: &str) -> String {
    format!("a{SPOKE}{}", vpc.trim_start_matches("vpc-"))
}

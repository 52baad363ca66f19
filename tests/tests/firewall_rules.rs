//! firewall-rule-collector and firewall-rule-executor end to end: both
//! shipped binaries under the local Runtime API; the spoke's bucket, VPCs,
//! Transit Gateway, log group, STS and the FIFO queue in moto; the Network
//! Firewall (rule groups, policy) in local-aws.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_networkfirewall::types::{FirewallPolicy, RuleOrder, StatefulEngineOptions};
use e2e_tests::local_cloud::{sdk_config_for, LocalCloud, REGION};
use e2e_tests::runtime_api::FunctionProcess;
use e2e_tests::workspace::function_binary;
use serde_json::{json, Value};

const SPOKE: &str = "112233445566";
const ROLE: &str = "anfw-spoke-config-reader";
const LOG_GROUP: &str = "anfw-customer-log";
const BUCKET: &str = "anfw-allowlist-us-east-1-112233445566";
const KEY: &str = "us-east-1-config.yaml";

struct Fixture {
    cloud: LocalCloud,
    spoke: SdkConfig,
    queue_url: String,
    policy_arn: String,
    vpcs: Vec<String>,
    collector: FunctionProcess,
    executor: FunctionProcess,
}

async fn spoke_config(cloud: &LocalCloud) -> SdkConfig {
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
    async fn start() -> Fixture {
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

    fn config(&self, vpcs: &[(&str, &[&str])]) -> String {
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

    async fn upload(&self, yaml: &str) -> String {
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

    fn s3_event(&self, kind: &str, version: &str, sequencer: &str) -> Value {
        json!({"version": "0", "id": format!("ev-{sequencer}"), "detail-type": kind, "source": "aws.s3", "account": SPOKE,
               "time": "2026-11-22T10:00:00Z", "region": REGION, "resources": [],
               "detail": {"bucket": {"name": BUCKET}, "object": {"key": KEY, "version-id": version, "sequencer": sequencer}, "reason": "PutObject"}})
    }

    async fn collect(&self, event: &Value) -> Value {
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
    async fn execute_queued(&self) -> (usize, Value) {
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

    fn firewall_writes(&self) -> Vec<String> {
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
    async fn tenant_rules(&self) -> (Vec<String>, Vec<(String, Vec<String>)>) {
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

async fn nfw(cloud: &LocalCloud) -> aws_sdk_networkfirewall::Client {
    aws_sdk_networkfirewall::Client::new(&sdk_config_for(&cloud.local_aws.url).await)
}

fn var(vpc: &str) -> String {
    format!("a{SPOKE}{}", vpc.trim_start_matches("vpc-"))
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_edit_remove_vpc_and_stale_events() {
    let fx = Fixture::start().await;
    let (a, b) = (fx.vpcs[0].clone(), fx.vpcs[1].clone());

    // Upload: both VPCs' rules reach the firewall with every CIDR.
    let v1 = fx
        .upload(&fx.config(&[
            (&a, &[".example.com", "api.example.org"]),
            (&b, &[".amazonaws.com"]),
        ]))
        .await;
    assert_eq!(
        fx.collect(&fx.s3_event("Object Created", &v1, "0001"))
            .await["outcome"],
        "published"
    );
    let (n, response) = fx.execute_queued().await;
    assert_eq!(n, 1);
    assert_eq!(response["batchItemFailures"], json!([]));
    let (rules, sets) = fx.tenant_rules().await;
    assert_eq!(rules.len(), 3, "{rules:#?}");
    assert!(rules
        .iter()
        .any(|r| r.contains("content:\".example.com\"") && r.contains(&format!("${}", var(&a)))));
    let mut expected = vec![
        (
            var(&a),
            vec!["10.1.0.0/16".to_string(), "10.9.0.0/16".to_string()],
        ),
        (var(&b), vec!["10.2.0.0/16".to_string()]),
    ];
    expected.sort();
    assert_eq!(sets, expected, "every CIDR of each VPC, secondary included");
    let policy = nfw(&fx.cloud)
        .await
        .describe_firewall_policy()
        .firewall_policy_arn(&fx.policy_arn)
        .send()
        .await
        .unwrap();
    let refs = policy
        .firewall_policy()
        .unwrap()
        .stateful_rule_group_references();
    assert_eq!(refs.len(), 2, "one tenant group and the global group");
    assert!(refs.iter().any(|r| r.priority() == Some(65_000)));

    // Re-delivery of the same state: zero writes.
    let before = fx.firewall_writes().len();
    let v1_again = fx.s3_event("Object Created", &v1, "0001b");
    fx.collect(&v1_again).await;
    fx.execute_queued().await;
    assert_eq!(
        fx.firewall_writes().len(),
        before,
        "re-processing wrote: {:?}",
        &fx.firewall_writes()[before..]
    );

    // Edit: one domain added -> one group write.
    let v2 = fx
        .upload(&fx.config(&[
            (&a, &[".example.com", "api.example.org", "new.example.net"]),
            (&b, &[".amazonaws.com"]),
        ]))
        .await;
    fx.collect(&fx.s3_event("Object Created", &v2, "0002"))
        .await;
    fx.execute_queued().await;
    assert_eq!(
        fx.firewall_writes()[before..],
        ["UpdateRuleGroup".to_string()]
    );
    assert_eq!(fx.tenant_rules().await.0.len(), 4);

    // A stale event for v1 (v2 is current) changes nothing.
    assert_eq!(
        fx.collect(&fx.s3_event("Object Created", &v1, "0003"))
            .await["outcome"],
        "stale"
    );
    assert_eq!(fx.execute_queued().await.0, 0);

    // VPC b removed from the YAML: its rules and IP set go.
    let v3 = fx
        .upload(&fx.config(&[(&a, &[".example.com", "api.example.org", "new.example.net"])]))
        .await;
    fx.collect(&fx.s3_event("Object Created", &v3, "0004"))
        .await;
    fx.execute_queued().await;
    let (rules, sets) = fx.tenant_rules().await;
    assert_eq!(rules.len(), 3);
    assert!(rules.iter().all(|r| !r.contains(&var(&b))));
    assert_eq!(sets.len(), 1);

    // Deleting an old version while v3 is current: nothing.
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&fx.spoke)
            .force_path_style(true)
            .build(),
    );
    s3.delete_object()
        .bucket(BUCKET)
        .key(KEY)
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        fx.collect(&fx.s3_event("Object Deleted", &v1, "0005"))
            .await["outcome"],
        "stale"
    );
    assert_eq!(fx.execute_queued().await.0, 0);

    // A hostile upload is rejected whole and reported to the spoke.
    let injected = format!("pass tcp ${} any -> $EXTERNAL_NET 443 (content:\"x\";)\npass ip any any -> any any (content:\"y\";)", var(&a));
    let hostile = format!(
        "{}      - CUSTOM:\n          - {}\n",
        fx.config(&[(&a, &[".example.com"])]),
        serde_json::to_string(&injected).unwrap()
    );
    let v4 = fx.upload(&hostile).await;
    assert_eq!(
        fx.collect(&fx.s3_event("Object Created", &v4, "0006"))
            .await["outcome"],
        "rejected"
    );
    assert_eq!(fx.execute_queued().await.0, 0);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&fx.spoke);
    let streams = logs
        .describe_log_streams()
        .log_group_name(LOG_GROUP)
        .send()
        .await
        .unwrap();
    let mut messages = Vec::new();
    for s in streams.log_streams() {
        let ev = logs
            .get_log_events()
            .log_group_name(LOG_GROUP)
            .log_stream_name(s.log_stream_name().unwrap())
            .send()
            .await
            .unwrap();
        messages.extend(
            ev.events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string)),
        );
    }
    let errors: Vec<Value> = messages
        .iter()
        .map(|m| serde_json::from_str::<Value>(m).unwrap())
        .filter(|v| v["level"] == "ERROR")
        .collect();
    assert_eq!(errors.len(), 1, "{messages:#?}\n{hostile}");
    assert_eq!(errors[0]["property"], "CUSTOM");
    assert_eq!(errors[0]["index"], 0);
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("control character"));
    assert!(
        messages
            .iter()
            .any(|m| m.contains("firewall in us-east-1 updated")),
        "executor INFO lines reach the spoke"
    );

    // Config deleted (delete marker: no current version): all rules go.
    s3.delete_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        fx.collect(&fx.s3_event("Object Deleted", "marker", "0007"))
            .await["outcome"],
        "published"
    );
    fx.execute_queued().await;
    assert!(fx.tenant_rules().await.0.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn token_races_and_throttling_converge_without_lost_rules() {
    let fx = Fixture::start().await;
    let a = fx.vpcs[0].clone();
    let v1 = fx.upload(&fx.config(&[(&a, &["one.example.com"])])).await;
    fx.collect(&fx.s3_event("Object Created", &v1, "0001"))
        .await;
    fx.execute_queued().await;
    // The next update meets a stale token once and throttling twice.
    for (op, code, count) in [
        ("UpdateRuleGroup", "InvalidTokenException", 1),
        ("DescribeRuleGroup", "ThrottlingException", 2),
    ] {
        fx.cloud
            .local_aws
            .emulator
            .inject_fault(local_aws::Fault {
                service: "network-firewall".into(),
                operation: Some(op.into()),
                count,
                error: Some(local_aws::AwsError::new(code, 400, "injected")),
                latency_ms: None,
            })
            .unwrap();
    }
    let v2 = fx
        .upload(&fx.config(&[(&a, &["one.example.com", "two.example.com"])]))
        .await;
    fx.collect(&fx.s3_event("Object Created", &v2, "0002"))
        .await;
    let (_, response) = fx.execute_queued().await;
    assert_eq!(response["batchItemFailures"], json!([]));
    let rules = fx.tenant_rules().await.0;
    assert_eq!(rules.len(), 2, "{rules:#?}");
    let failed: Vec<String> = fx
        .cloud
        .local_aws
        .emulator
        .requests()
        .into_iter()
        .filter_map(|r| r.error)
        .collect();
    assert!(
        failed.contains(&"InvalidTokenException".to_string())
            && failed.contains(&"ThrottlingException".to_string()),
        "{failed:?}"
    );
}

//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use serde_json::Value;

/// A SigV4-looking `Authorization` header scoped to `region`/`service`; the
/// emulator reads the scope and does not check the signature.
pub fn authorization(region: &str, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKID/20240101/{region}/{service}/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=abc"
    )
}

/// Posts an awsJson request; returns status, headers and the JSON body.
pub async fn aws_json(
    url: &str,
    target: &str,
    content_type: &str,
    region: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/"))
        .header("x-amz-target", target)
        .header("content-type", content_type)
        .body(body);
    if let Some(region) = region {
        request = request.header("authorization", authorization(region, "test"));
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body read");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body {text:?}: {e}"))
    };
    (status, headers, json)
}

/// `GET /_local-aws/requests`.
pub async fn request_log(url: &str) -> Vec<Value> {
    let log: Value = reqwest::get(format!("{url}/_local-aws/requests"))
        .await
        .expect("log fetched")
        .json()
        .await
        .expect("log is JSON");
    log.as_array().expect("log is an array").clone()
}

/// `POST /_local-aws/<path>` with a JSON body; returns status and body.
pub async fn control_post(url: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/_local-aws/{path}"))
        .json(body)
        .send()
        .await
        .expect("control request sent");
    let status = response.status().as_u16();
    (
        status,
        response.json().await.expect("control response is JSON"),
    )
}

pub fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A real Network Firewall SDK client for `region`, pointed at the emulator.
pub async fn nf_client(
    url: &str,
    region: &'static str,
    retry: aws_config::retry::RetryConfig,
) -> aws_sdk_networkfirewall::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new(region))
        .credentials_provider(aws_sdk_networkfirewall::config::Credentials::new(
            "AKID", "SECRET", None, None, "test",
        ))
        .retry_config(retry)
        .load()
        .await;
    aws_sdk_networkfirewall::Client::new(&config)
}

/// The emulator plus an eu-west-1 client that does not retry, so every
/// failure is observed exactly once.
pub async fn start_nf() -> (local_aws::RunningLocalAws, aws_sdk_networkfirewall::Client) {
    let aws = local_aws::spawn("127.0.0.1:0")
        .await
        .expect("emulator started");
    let client = nf_client(
        &aws.url,
        "eu-west-1",
        aws_config::retry::RetryConfig::disabled(),
    )
    .await;
    (aws, client)
}

/// awsJson target prefix of Network Firewall, for raw requests.
pub const NF_TARGET_PREFIX: &str = "NetworkFirewall_20201112";

/// A `RuleGroup` holding a Suricata rules string.
pub fn rules_group(rules: &str) -> aws_sdk_networkfirewall::types::RuleGroup {
    use aws_sdk_networkfirewall::types::{RuleGroup, RulesSource};
    RuleGroup::builder()
        .rules_source(RulesSource::builder().rules_string(rules).build())
        .build()
}

/// Creates a stateful rule group from Suricata `rules`; returns its ARN and
/// update token.
pub async fn create_stateful(
    client: &aws_sdk_networkfirewall::Client,
    name: &str,
    capacity: i32,
    rules: &str,
) -> (String, String) {
    let out = client
        .create_rule_group()
        .rule_group_name(name)
        .r#type(aws_sdk_networkfirewall::types::RuleGroupType::Stateful)
        .capacity(capacity)
        .rules(rules)
        .send()
        .await
        .expect("create succeeds");
    let arn = out
        .rule_group_response()
        .unwrap()
        .rule_group_arn()
        .to_owned();
    (arn, out.update_token().to_owned())
}

/// The stored rules string and current update token of the group at `arn`.
pub async fn describe_rules(
    client: &aws_sdk_networkfirewall::Client,
    arn: &str,
) -> (String, String) {
    let out = client
        .describe_rule_group()
        .rule_group_arn(arn)
        .send()
        .await
        .unwrap();
    let rules = out
        .rule_group()
        .and_then(|g| g.rules_source())
        .and_then(|s| s.rules_string())
        .expect("rules string returned")
        .to_owned();
    (rules, out.update_token().to_owned())
}

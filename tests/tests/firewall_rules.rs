//! firewall-rule-collector and firewall-rule-executor end to end: both
//! shipped binaries under the local Runtime API; the spoke's bucket, VPCs,
//! Transit Gateway, log group, STS and the FIFO queue in moto; the Network
//! Firewall (rule groups, policy) in local-aws (setup in
//! `e2e_tests::firewall_fixture`).

use e2e_tests::firewall_fixture::*;
use serde_json::{json, Value};

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

/// The ownership index in the state bucket: written on the first change,
/// used by the next (no ListRuleGroups), and rebuilt when deleted.
#[tokio::test(flavor = "multi_thread")]
async fn the_ownership_index_is_used_and_rebuilt_when_lost() {
    let fx = Fixture::start().await;
    let a = fx.vpcs[0].clone();
    let s3 = fx.cloud.s3().await;
    let index_key = "ownership-index/us-east-1.json";
    // ListRuleGroups calls, the executor's and tenant_rules' own.
    let lists = |fx: &Fixture| {
        fx.cloud
            .local_aws
            .emulator
            .requests()
            .iter()
            .filter(|r| r.operation == "ListRuleGroups")
            .count()
    };
    let mut sequencer = 0;
    let mut apply = async |domains: &[&str]| {
        sequencer += 1;
        let v = fx.upload(&fx.config(&[(&a, domains)])).await;
        fx.collect(&fx.s3_event("Object Created", &v, &format!("{sequencer:04}")))
            .await;
        let (_, response) = fx.execute_queued().await;
        assert_eq!(response["batchItemFailures"], json!([]));
    };

    apply(&["one.example.com"]).await;
    let index = s3
        .get_object()
        .bucket("central-state")
        .key(index_key)
        .send()
        .await
        .expect("the first change writes the index");
    let index: Value =
        serde_json::from_slice(&index.body.collect().await.unwrap().to_vec()).unwrap();
    assert_eq!(
        index["accounts"][SPOKE]["groups"].as_array().unwrap().len(),
        1
    );

    let scans = lists(&fx);
    apply(&["one.example.com", "two.example.com"]).await;
    assert_eq!(lists(&fx), scans, "the account's group only");
    assert_eq!(fx.tenant_rules().await.0.len(), 2);

    // Lost: the next change scans, stays correct and writes it again.
    s3.delete_object()
        .bucket("central-state")
        .key(index_key)
        .send()
        .await
        .unwrap();
    let scans = lists(&fx);
    apply(&["two.example.com", "three.example.com"]).await;
    assert_eq!(lists(&fx), scans + 1);
    let (rules, _) = fx.tenant_rules().await;
    assert_eq!(rules.len(), 2, "{rules:#?}");
    assert!(rules.iter().all(|r| !r.contains("\"one.example.com\"")));
    s3.head_object()
        .bucket("central-state")
        .key(index_key)
        .send()
        .await
        .expect("rebuilt");
}

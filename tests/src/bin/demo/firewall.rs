//! The firewall act: a spoke uploads its allow-list (one valid, one with an
//! injected rule), the spoke log shows what happened, the emulated firewall
//! holds the Suricata rules, and removing a VPC from the YAML removes its
//! rules.

use e2e_tests::demo::Demo;
use e2e_tests::firewall_fixture::{Fixture, LOG_GROUP};
use e2e_tests::local_cloud::LocalCloud;
use serde_json::Value;

pub async fn act(demo: &mut Demo, _cloud: &LocalCloud) {
    demo.act("firewall-rule-collector + firewall-rule-executor: spoke allow-lists to a central Network Firewall");
    // The firewall act needs its own spoke and policy: a fresh local cloud.
    let Some(fx) = demo
        .step(
            "spoke account, TGW-attached VPCs, FIFO queue, STRICT_ORDER policy, both functions",
            async { Ok::<_, String>(Fixture::start().await) },
            |fx| format!("VPCs {} and {}", fx.vpcs[0], fx.vpcs[1]),
        )
        .await
    else {
        return;
    };
    let (a, b) = (fx.vpcs[0].clone(), fx.vpcs[1].clone());

    let valid = fx.config(&[
        (&a, &[".example.com", "api.example.org"]),
        (&b, &[".amazonaws.com"]),
    ]);
    let v1 = fx.upload(&valid).await;
    demo.step(
        "upload a valid us-east-1-config.yaml; collector publishes",
        async {
            outcome(
                fx.collect(&fx.s3_event("Object Created", &v1, "0001"))
                    .await,
                "published",
            )
        },
        |o| o.clone(),
    )
    .await;
    demo.step(
        "executor applies the desired state",
        async { Ok::<_, String>(fx.execute_queued().await.0) },
        |n| format!("{n} message(s)"),
    )
    .await;
    show_rules(demo, &fx).await;

    let injected = format!("pass tcp ${} any -> $EXTERNAL_NET 443 (content:\"x\";)\npass ip any any -> any any (content:\"y\";)", e2e_tests::firewall_fixture::var(&a));
    let hostile = format!(
        "{valid}      - CUSTOM:\n          - {}\n",
        serde_json::to_string(&injected).unwrap_or_default()
    );
    let v2 = fx.upload(&hostile).await;
    demo.step(
        "upload a config with a newline-injected CUSTOM rule; rejected whole",
        async {
            outcome(
                fx.collect(&fx.s3_event("Object Created", &v2, "0002"))
                    .await,
                "rejected",
            )
        },
        |o| o.clone(),
    )
    .await;
    demo.step(
        "nothing reaches the firewall",
        async {
            match fx.execute_queued().await.0 {
                0 => Ok("0 messages".to_string()),
                n => Err(format!("{n} messages queued")),
            }
        },
        |s| s.clone(),
    )
    .await;

    let v3 = fx
        .upload(&fx.config(&[(&a, &[".example.com", "api.example.org"])]))
        .await;
    demo.step(
        &format!("remove {b} from the YAML"),
        async {
            outcome(
                fx.collect(&fx.s3_event("Object Created", &v3, "0003"))
                    .await,
                "published",
            )
        },
        |o| o.clone(),
    )
    .await;
    fx.execute_queued().await;
    demo.step(
        &format!("{b}'s rules are gone"),
        async {
            let (rules, _) = fx.tenant_rules().await;
            let var = e2e_tests::firewall_fixture::var(&b);
            if rules.iter().any(|r| r.contains(&var)) {
                Err(format!("{var} still referenced"))
            } else {
                Ok(rules.len())
            }
        },
        |n| format!("{n} rules left"),
    )
    .await;
    show_rules(demo, &fx).await;

    println!("  spoke log group {LOG_GROUP}:");
    for line in spoke_log(&fx).await {
        println!("    {line}");
    }
}

fn outcome(v: Value, want: &str) -> Result<String, String> {
    match v["outcome"].as_str() {
        Some(o) if o == want => Ok(o.to_string()),
        other => Err(format!("outcome {other:?}, expected {want}")),
    }
}

async fn show_rules(demo: &mut Demo, fx: &Fixture) {
    let (rules, sets) = fx.tenant_rules().await;
    demo.step(
        "Suricata rules now in the emulated firewall",
        async { Ok::<_, String>(rules.len()) },
        |n| format!("{n} rules, IP sets {sets:?}"),
    )
    .await;
    for r in &rules {
        println!("    {r}");
    }
}

async fn spoke_log(fx: &Fixture) -> Vec<String> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&fx.spoke);
    let mut lines = Vec::new();
    let Ok(streams) = logs
        .describe_log_streams()
        .log_group_name(LOG_GROUP)
        .send()
        .await
    else {
        return lines;
    };
    for s in streams.log_streams() {
        if let Ok(ev) = logs
            .get_log_events()
            .log_group_name(LOG_GROUP)
            .log_stream_name(s.log_stream_name().unwrap_or_default())
            .send()
            .await
        {
            lines.extend(
                ev.events()
                    .iter()
                    .filter_map(|e| e.message().map(str::to_string)),
            );
        }
    }
    lines
}

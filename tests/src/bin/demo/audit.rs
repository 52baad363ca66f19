//! The audit act: the seeds' CloudTrail events through EventBridge (moto)
//! with the template's rules; which rules fired, whether our matcher agrees,
//! and what the Confluent API destination would receive after the input
//! transformer (moto's transformer and ours, compared).
//!
//! moto cannot call an API destination, so each rule gets an SQS queue as
//! its target, with the rule's own input transformer: the queue receives
//! exactly the body the destination would be sent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::{
    InputTransformer as SdkTransformer, PutEventsRequestEntry, RuleState, Target,
};
use e2e_tests::demo::Demo;
use e2e_tests::input_transformer::{InputTransformer, RuleContext};
use e2e_tests::local_cloud::{LocalCloud, ACCOUNT_ID, REGION};
use e2e_tests::template_rules::{self, TemplateRule};
use e2e_tests::workspace::root;
use serde_json::Value;

type Failure = String;

/// The audit path's rules on the default bus (issue 6).
const AUDIT_RULES: &[&str] = &[
    "AuditCaptureRule",
    "AuditSecretReadByCliRule",
    "AuditS3ReconRule",
];

fn fixtures() -> Result<Vec<(String, Value)>, Failure> {
    let dir = root().join("tests/fixtures/cloudtrail");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let event = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok((name, event))
        })
        .collect()
}

/// One rule on moto's default bus, with an SQS queue standing in for its targets.
async fn put_rule(
    events: &aws_sdk_eventbridge::Client,
    cloud: &LocalCloud,
    rule: &TemplateRule,
) -> Result<String, Failure> {
    let queue_name = format!("audit-{}", rule.id);
    let queue_url = cloud.create_queue(&queue_name).await;
    let state = rule.state.as_deref().unwrap_or("ENABLED");
    events
        .put_rule()
        .name(&rule.id)
        .event_pattern(rule.pattern_json.to_string())
        .state(RuleState::from(state))
        .send()
        .await
        .map_err(|e| {
            format!(
                "PutRule {}: {}",
                rule.id,
                aws_sdk_eventbridge::error::DisplayErrorContext(e)
            )
        })?;
    let mut target = Target::builder()
        .id("queue")
        .arn(format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue_name}"));
    if let Some((paths, template)) = rule
        .targets
        .iter()
        .find_map(|t| t.input_transformer.clone())
    {
        let transformer = SdkTransformer::builder()
            .set_input_paths_map(Some(paths.into_iter().collect::<HashMap<_, _>>()))
            .input_template(template)
            .build()
            .map_err(|e| e.to_string())?;
        target = target.input_transformer(transformer);
    }
    events
        .put_targets()
        .rule(&rule.id)
        .targets(target.build().map_err(|e| e.to_string())?)
        .send()
        .await
        .map_err(|e| {
            format!(
                "PutTargets {}: {}",
                rule.id,
                aws_sdk_eventbridge::error::DisplayErrorContext(e)
            )
        })?;
    Ok(queue_url)
}

async fn put_events(
    events: &aws_sdk_eventbridge::Client,
    fixtures: &[(String, Value)],
) -> Result<usize, Failure> {
    for chunk in fixtures.chunks(10) {
        let entries = chunk
            .iter()
            .map(|(_, e)| {
                let time = e["time"].as_str().and_then(|t| {
                    DateTime::from_str(t, aws_sdk_eventbridge::primitives::DateTimeFormat::DateTime)
                        .ok()
                });
                PutEventsRequestEntry::builder()
                    .source(e["source"].as_str().unwrap_or_default())
                    .detail_type(e["detail-type"].as_str().unwrap_or_default())
                    .detail(e["detail"].to_string())
                    .set_time(time)
                    .build()
            })
            .collect::<Vec<_>>();
        let out = events
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                format!(
                    "PutEvents: {}",
                    aws_sdk_eventbridge::error::DisplayErrorContext(e)
                )
            })?;
        if out.failed_entry_count() > 0 {
            return Err(format!(
                "PutEvents: {} entries failed: {:?}",
                out.failed_entry_count(),
                out.entries()
            ));
        }
    }
    Ok(fixtures.len())
}

pub async fn act(demo: &mut Demo, cloud: &LocalCloud) {
    demo.act(
        "audit: the seeds' CloudTrail events through EventBridge (moto) with the template's rules",
    );
    let Some(rules) = demo
        .step(
            "extract the audit rules from template.yaml",
            async {
                let rules: Vec<TemplateRule> = template_rules::load()
                    .into_iter()
                    .filter(|r| r.bus == "default" && AUDIT_RULES.contains(&r.id.as_str()))
                    .collect();
                Ok::<_, Failure>(rules)
            },
            |r| {
                r.iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        )
        .await
    else {
        return;
    };
    let Some(fixtures) = demo
        .step(
            "load tests/fixtures/cloudtrail",
            async { fixtures() },
            |f| format!("{} events", f.len()),
        )
        .await
    else {
        return;
    };
    let events = aws_sdk_eventbridge::Client::new(&cloud.moto_config().await);
    let mut queues = BTreeMap::new();
    for rule in &rules {
        let step = format!(
            "PutRule {} ({})",
            rule.id,
            rule.state.as_deref().unwrap_or("ENABLED")
        );
        if let Some(url) = demo
            .step(&step, put_rule(&events, cloud, rule), |_| {
                "target: SQS stand-in".into()
            })
            .await
        {
            queues.insert(rule.id.clone(), url);
        }
    }
    if demo
        .step(
            "PutEvents: the CloudTrail events",
            put_events(&events, &fixtures),
            |n| format!("{n} accepted"),
        )
        .await
        .is_none()
    {
        return;
    }

    // Which rules fired, by the event id each delivered message carries
    // (the capture rule's body is transformed: matched on its detail instead).
    let mut fired: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut bodies: Vec<Value> = Vec::new();
    for (rule, url) in &queues {
        for message in cloud.drain_queue(url).await {
            let body: Value =
                serde_json::from_str(message.body().unwrap_or_default()).unwrap_or_default();
            let detail = body
                .get("detail")
                .or_else(|| body.pointer("/value/data"))
                .cloned()
                .unwrap_or_default();
            let name = fixtures
                .iter()
                .find(|(_, e)| e["detail"] == detail)
                .map(|(n, _)| n.clone())
                .unwrap_or_else(|| "?".into());
            fired.entry(name).or_default().insert(rule.clone());
            if body.get("value").is_some() {
                bodies.push(body);
            }
        }
    }
    let agree = async {
        let mut disagreements = Vec::new();
        for (name, event) in &fixtures {
            let moto: BTreeSet<String> = fired.get(name).cloned().unwrap_or_default();
            let ours: BTreeSet<String> = rules
                .iter()
                .filter(|r| r.pattern.matches(event))
                .map(|r| r.id.clone())
                .collect();
            let shown = if moto.is_empty() {
                "-".to_string()
            } else {
                moto.iter().cloned().collect::<Vec<_>>().join(", ")
            };
            println!("        {name:<48} {shown}");
            if moto != ours {
                disagreements.push(format!("{name}: moto {moto:?}, ours {ours:?}"));
            }
        }
        if disagreements.is_empty() {
            Ok(fixtures.len())
        } else {
            Err(disagreements.join("; "))
        }
    };
    demo.step(
        "rules fired per event (moto) == common::event_pattern's answer",
        agree,
        |n| format!("{n} events agree"),
    )
    .await;

    let capture = rules.iter().find(|r| r.id == "AuditCaptureRule");
    let transformed = async {
        let rule = capture.ok_or("AuditCaptureRule is not in template.yaml")?;
        let (paths, template) = rule
            .targets
            .iter()
            .find_map(|t| t.input_transformer.clone())
            .ok_or("no input transformer")?;
        let ours = InputTransformer::new(paths, template)?;
        let context = RuleContext {
            name: rule.id.clone(),
            arn: format!("arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{}", rule.id),
        };
        let mut expected = Vec::new();
        for (name, event) in &fixtures {
            if rule.pattern.matches(event) {
                let body: Value = serde_json::from_str(&ours.apply(event, &context)?)
                    .map_err(|e| format!("{name}: {e}"))?;
                expected.push(body);
            }
        }
        let key = |v: &Value| v.to_string();
        let mut got = bodies.clone();
        got.sort_by_key(key);
        expected.sort_by_key(key);
        if got != expected {
            return Err(format!(
                "moto delivered {} bodies, our transformer gives {}; first difference: {:?}",
                got.len(),
                expected.len(),
                got.iter().zip(&expected).find(|(a, b)| a != b)
            ));
        }
        Ok::<_, Failure>(got)
    };
    if let Some(bodies) = demo
        .step(
            "Confluent REST produce bodies: moto's transformer == ours",
            transformed,
            |b| format!("{} bodies", b.len()),
        )
        .await
    {
        if let Some(first) = bodies.first() {
            let mut text = first.to_string();
            if text.len() > 220 {
                let mut cut = 220;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push_str("...");
            }
            println!("        POST .../kafka/v3/clusters/<id>/topics/cloudtrail/records  {text}");
        }
    }
}

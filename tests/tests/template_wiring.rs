//! Proof of the template's EventBridge wiring, with the project's own
//! EventBridge matcher (`common::event_pattern`): every rule's pattern is
//! valid; every EventBridge-shaped sample in `events/<function>/` reaches that
//! function and no other; the seeds' CloudTrail events (and hostile near
//! misses) in `tests/fixtures/cloudtrail/` fire exactly the audit rules they
//! should; the Confluent target's input transformer builds a REST v3 produce
//! body.

use std::collections::BTreeSet;
use std::path::PathBuf;

use e2e_tests::input_transformer::{InputTransformer, RuleContext};
use e2e_tests::template_rules::{self, TemplateRule};
use e2e_tests::workspace::root;
use serde_json::{json, Value};

fn read_json(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_files(dir: PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// The rules of the audit path (issue 6); other rules are checked through
/// their functions' samples.
const AUDIT_RULES: &[&str] = &[
    "AuditCaptureRule",
    "AuditSecretReadByCliRule",
    "AuditS3ReconRule",
    "AuditFlaggedAlertRule",
];

/// The audit rules on the default bus that `event` fires.
fn matching<'a>(rules: &'a [TemplateRule], event: &Value) -> BTreeSet<&'a str> {
    rules
        .iter()
        .filter(|r| AUDIT_RULES.contains(&r.id.as_str()))
        .filter(|r| r.bus == "default" && r.pattern.matches(event))
        .map(|r| r.id.as_str())
        .collect()
}

#[test]
fn every_rule_has_a_valid_pattern_and_a_target() {
    // template_rules::load() panics naming the rule whose pattern is invalid.
    let rules = template_rules::load();
    for audit in AUDIT_RULES {
        assert!(
            rules.iter().any(|r| r.id == *audit),
            "{audit} is missing from template.yaml"
        );
    }
    for rule in &rules {
        assert!(!rule.targets.is_empty(), "{} has no target", rule.id);
        // The audit rules deliver only to this stack's resources (other
        // rules may target, say, a bus in another account).
        for t in rule
            .targets
            .iter()
            .filter(|_| AUDIT_RULES.contains(&rule.id.as_str()))
        {
            assert!(
                t.resource.is_some(),
                "{}: target {} points outside the stack",
                rule.id,
                t.id
            );
        }
    }
}

/// File-name markers of samples that show an event the rules must keep away
/// from the function (e.g. an MWAA `AVAILABLE` event when the rule filters on
/// `PENDING`): such a sample must match none of the function rules.
const NOT_ROUTED_MARKERS: &[&str] = &[
    "not-routed",
    "unrouted",
    "ignored",
    "near-miss",
    "filtered-out",
];

/// Samples of functions reached through EventBridge: EventBridge events
/// (`detail-type` present). SQS, Kafka and other batches are not rule input.
/// Each must reach its own function (through at least one of its rules, on
/// the buses those rules listen on) and no other function; samples named with
/// a [`NOT_ROUTED_MARKERS`] marker must reach no function at all.
#[test]
fn function_samples_reach_exactly_their_functions() {
    let rules = template_rules::load();
    let routed: Vec<&TemplateRule> = rules
        .iter()
        .filter(|r| r.functions().next().is_some())
        .collect();
    let mut checked = 0;
    for dir in std::fs::read_dir(root().join("events")).unwrap() {
        let dir = dir.unwrap().path();
        let function = dir.file_name().unwrap().to_string_lossy().to_string();
        let own: Vec<&&TemplateRule> = routed
            .iter()
            .filter(|r| r.functions().any(|f| f == function))
            .collect();
        // A function's samples are checked against the rules on the buses
        // its own rules listen on (the default bus when it has none).
        let buses: BTreeSet<&str> = if own.is_empty() {
            BTreeSet::from(["default"])
        } else {
            own.iter().map(|r| r.bus.as_str()).collect()
        };
        for sample in json_files(dir) {
            let event = read_json(&sample);
            if event.get("detail-type").is_none() {
                continue;
            }
            let name = sample.strip_prefix(root()).unwrap().display().to_string();
            let fired: Vec<&&TemplateRule> = routed
                .iter()
                .filter(|r| buses.contains(r.bus.as_str()) && r.pattern.matches(&event))
                .collect();
            for rule in &fired {
                assert!(
                    rule.functions().any(|f| f == function),
                    "{name} would also invoke {:?} through rule {}",
                    rule.functions().collect::<Vec<_>>(),
                    rule.id
                );
            }
            let stem = sample.file_stem().unwrap().to_string_lossy().to_string();
            if NOT_ROUTED_MARKERS.iter().any(|m| stem.contains(m)) {
                assert!(
                    fired.is_empty(),
                    "{name} is marked as an event EventBridge must not deliver, but rule {} routes it to {function}",
                    fired[0].id
                );
            } else {
                assert!(
                    own.is_empty() || !fired.is_empty(),
                    "{name} matches none of the rules routing to {function} ({:?}); if the function must never \
                     receive it, name the file with one of {NOT_ROUTED_MARKERS:?}",
                    own.iter().map(|r| &r.id).collect::<Vec<_>>()
                );
            }
            checked += 1;
        }
    }
    eprintln!(
        "{checked} EventBridge samples checked against {} function rules",
        routed.len()
    );
}

/// The seeds' events and near misses, with the audit rules each must fire
/// (the other audit rules must stay silent).
const CLOUDTRAIL_EXPECTATIONS: &[(&str, &[&str])] = &[
    (
        "get-secret-value-aws-cli",
        &["AuditCaptureRule", "AuditSecretReadByCliRule"],
    ),
    (
        "get-secret-value-assumed-role-aws-cli-v1",
        &["AuditCaptureRule", "AuditSecretReadByCliRule"],
    ),
    ("s3-ls-aws-cli", &["AuditCaptureRule", "AuditS3ReconRule"]),
    (
        "list-objects-v2-aws-cli",
        &["AuditCaptureRule", "AuditS3ReconRule"],
    ),
    (
        "get-object-aws-cli",
        &["AuditCaptureRule", "AuditS3ReconRule"],
    ),
    ("near-miss-get-secret-value-boto3", &["AuditCaptureRule"]),
    (
        "near-miss-get-secret-value-spoofed-cli-suffix",
        &["AuditCaptureRule"],
    ),
    (
        "near-miss-get-secret-value-uppercase-cli",
        &["AuditCaptureRule"],
    ),
    ("near-miss-get-secret-value-aws-service", &[]),
    ("near-miss-describe-secret-aws-cli", &["AuditCaptureRule"]),
    ("near-miss-list-buckets-aws-service", &[]),
    ("near-miss-put-object-aws-cli", &["AuditCaptureRule"]),
    ("near-miss-sts-get-caller-identity-aws-cli", &[]),
    ("near-miss-ssm-get-parameter-aws-cli", &[]),
    ("near-miss-console-sign-in", &[]),
];

fn cloudtrail_dir() -> PathBuf {
    root().join("tests/fixtures/cloudtrail")
}

#[test]
fn cloudtrail_fixtures_fire_exactly_the_expected_rules() {
    let rules = template_rules::load();
    let files = json_files(cloudtrail_dir());
    assert_eq!(
        files.len(),
        CLOUDTRAIL_EXPECTATIONS.len(),
        "every fixture in {} needs an expectation here",
        cloudtrail_dir().display()
    );
    for (name, expected) in CLOUDTRAIL_EXPECTATIONS {
        let event = read_json(&cloudtrail_dir().join(format!("{name}.json")));
        let fired = matching(&rules, &event);
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(fired, expected, "{name}");
    }
}

#[test]
fn audit_rules_see_read_only_management_events() {
    // Without this state EventBridge never receives GetSecretValue or ListBuckets.
    let rules = template_rules::load();
    for id in [
        "AuditCaptureRule",
        "AuditSecretReadByCliRule",
        "AuditS3ReconRule",
    ] {
        let rule = rules.iter().find(|r| r.id == id).unwrap();
        assert_eq!(
            rule.state.as_deref(),
            Some("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"),
            "{id}"
        );
    }
}

#[test]
fn the_confluent_target_receives_a_rest_v3_produce_body() {
    let rules = template_rules::load();
    let capture = rules.iter().find(|r| r.id == "AuditCaptureRule").unwrap();
    let target = &capture.targets[0];
    assert_eq!(
        target.resource.as_deref(),
        Some("AuditConfluentDestination")
    );
    let (paths, template) = target
        .input_transformer
        .clone()
        .expect("an input transformer");
    let transformer = InputTransformer::new(paths, template).unwrap();
    for name in [
        "get-secret-value-aws-cli",
        "s3-ls-aws-cli",
        "get-object-aws-cli",
    ] {
        let event = read_json(&cloudtrail_dir().join(format!("{name}.json")));
        let body = transformer.apply(&event, &RuleContext::default()).unwrap();
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body,
            json!({"value": {"type": "JSON", "data": event["detail"]}}),
            "{name}"
        );
    }
}

#[test]
fn flagged_events_from_the_audit_pipe_reach_the_alert_rule_only() {
    let rules = template_rules::load();
    let bus = "resource:EnricherTargetBus";
    let on_bus = |event: &Value| -> BTreeSet<String> {
        rules
            .iter()
            .filter(|r| r.bus == bus && r.pattern.matches(event))
            .map(|r| r.id.clone())
            .collect()
    };
    let flagged = json!({
        "version": "0", "id": "1", "source": format!("Pipe {}-audit-flagged", template_rules::STACK_NAME),
        "detail-type": "Flagged CloudTrail activity", "account": "123456789012",
        "time": "2026-11-22T04:02:00Z", "region": "us-east-1", "resources": [],
        "detail": {"userIdentity": "****************************ob", "apiCalls": 42}
    });
    let other_pipe = json!({
        "version": "0", "id": "2", "source": format!("Pipe {}-orders", template_rules::STACK_NAME),
        "detail-type": "Event from SelfManagedKafka", "account": "123456789012",
        "time": "2026-11-22T04:02:00Z", "region": "us-east-1", "resources": [], "detail": {}
    });
    // The bus's log rule sees everything a pipe puts there; only the audit
    // pipe's flagged events go to the alert topic.
    assert_eq!(
        on_bus(&flagged),
        BTreeSet::from([
            "AuditFlaggedAlertRule".to_string(),
            "EnricherTargetRule".to_string()
        ])
    );
    assert_eq!(
        on_bus(&other_pipe),
        BTreeSet::from(["EnricherTargetRule".to_string()])
    );
}

/// The audit resources' IAM roles and resource policies grant only what they
/// use, to only the resources they touch, to only this stack's rules.
#[test]
fn audit_permissions_are_least_privilege() {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut checked = 0;
    for (id, resource) in template["Resources"].as_mapping().unwrap() {
        let id = id.as_str().unwrap();
        if ![
            "AuditCaptureRole",
            "AuditFlaggedPipeRole",
            "AuditDeadLetterQueuePolicy",
            "AuditAlertTopicPolicy",
        ]
        .contains(&id)
        {
            continue;
        }
        let props = &resource["Properties"];
        let statements: Vec<&serde_yaml::Value> = match resource["Type"].as_str() {
            Some("AWS::IAM::Role") => props["Policies"]
                .as_sequence()
                .into_iter()
                .flatten()
                .flat_map(|p| {
                    p["PolicyDocument"]["Statement"]
                        .as_sequence()
                        .into_iter()
                        .flatten()
                })
                .collect(),
            Some("AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy") => props["PolicyDocument"]
                ["Statement"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter(|s| s["Effect"] == "Allow")
                .collect(),
            _ => continue,
        };
        for s in statements {
            let actions: Vec<&str> = match &s["Action"] {
                serde_yaml::Value::String(a) => vec![a.as_str()],
                serde_yaml::Value::Sequence(a) => a.iter().filter_map(|a| a.as_str()).collect(),
                other => panic!("{id}: Action {other:?}"),
            };
            assert!(
                actions.iter().all(|a| !a.contains('*')),
                "{id}: wildcard action in {actions:?}"
            );
            assert_ne!(s["Resource"], "*", "{id}: {actions:?} on every resource");
            if resource["Type"] != "AWS::IAM::Role" {
                assert!(
                    !s["Condition"]["ArnEquals"]["aws:SourceArn"].is_null(),
                    "{id}: {actions:?} granted to a service principal without an aws:SourceArn condition"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} audit statements found");
}

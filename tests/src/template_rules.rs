//! Every EventBridge rule in `template.yaml` with its pattern and targets:
//! `AWS::Events::Rule` resources and SAM function events of type
//! `EventBridgeRule`/`CloudWatchEvent`, whoever added them. Targets are
//! followed to the functions they reach (directly, or through an SQS queue
//! that a function polls), so tests can prove the wiring with the matcher.
//!
//! Intrinsics in patterns resolve as a deployment with default parameters
//! would: `!Ref` of a parameter gives its default, `!Sub` substitutes
//! parameters and pseudo parameters (stack `stack`, account
//! [`ACCOUNT_ID`](crate::local_cloud::ACCOUNT_ID), Region
//! [`REGION`](crate::local_cloud::REGION)). Anything else in a pattern is
//! reported, naming the rule.

use std::collections::BTreeMap;

use common::event_pattern::EventPattern;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use crate::local_cloud::{ACCOUNT_ID, REGION};
use crate::workspace::root;

/// The stack name patterns are resolved with.
pub const STACK_NAME: &str = "stack";

/// One EventBridge rule of the template.
#[derive(Debug, Clone)]
pub struct TemplateRule {
    /// The rule's logical id, or `<Function>.<Event>` for a SAM function event.
    pub id: String,
    /// `default`, or the resolved bus name (`resource:<LogicalId>` for a bus of the stack).
    pub bus: String,
    /// `State`, when given.
    pub state: Option<String>,
    /// The pattern as deployed (intrinsics resolved).
    pub pattern_json: Json,
    pub pattern: EventPattern,
    pub targets: Vec<RuleTarget>,
}

/// One target of a rule (every branch of an `!If` is listed).
#[derive(Debug, Clone)]
pub struct RuleTarget {
    pub id: String,
    /// The logical id of the target resource, if it is one of the stack's.
    pub resource: Option<String>,
    /// The function binaries this target invokes, directly or through a queue.
    pub functions: Vec<String>,
    /// `InputTransformer`: `InputPathsMap` and `InputTemplate`.
    pub input_transformer: Option<(BTreeMap<String, String>, String)>,
}

impl TemplateRule {
    /// The function binaries the rule invokes.
    pub fn functions(&self) -> impl Iterator<Item = &str> {
        self.targets
            .iter()
            .flat_map(|t| t.functions.iter().map(String::as_str))
    }
}

/// Loads `template.yaml` from the workspace and extracts its rules.
pub fn load() -> Vec<TemplateRule> {
    let path = root().join("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let template: Yaml =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    rules(&template)
}

/// The rules of a parsed template.
pub fn rules(template: &Yaml) -> Vec<TemplateRule> {
    let resources = template["Resources"].as_mapping().expect("Resources");
    let t = Template { template };
    let mut out = Vec::new();
    for (id, resource) in resources {
        let id = id.as_str().expect("logical ids are strings");
        let props = &resource["Properties"];
        match resource["Type"].as_str() {
            Some("AWS::Events::Rule") if !props["EventPattern"].is_null() => {
                let targets = t
                    .branches(&props["Targets"])
                    .into_iter()
                    .flat_map(|targets| t.branches_of_each(targets))
                    .map(|target| t.target(target))
                    .collect();
                out.push(t.rule(id.to_string(), props, &props["EventPattern"], targets));
            }
            Some("AWS::Serverless::Function") => {
                for (event_name, event) in props["Events"].as_mapping().into_iter().flatten() {
                    if !matches!(
                        event["Type"].as_str(),
                        Some("EventBridgeRule" | "CloudWatchEvent")
                    ) {
                        continue;
                    }
                    let event_props = &event["Properties"];
                    let target = RuleTarget {
                        id: id.to_string(),
                        resource: Some(id.to_string()),
                        functions: vec![t.binary(id)],
                        input_transformer: t.input_transformer(&event_props["InputTransformer"]),
                    };
                    let name = format!("{id}.{}", event_name.as_str().unwrap_or("?"));
                    out.push(t.rule(name, event_props, &event_props["Pattern"], vec![target]));
                }
            }
            _ => {}
        }
    }
    out
}

struct Template<'a> {
    template: &'a Yaml,
}

impl Template<'_> {
    fn rule(
        &self,
        id: String,
        props: &Yaml,
        pattern: &Yaml,
        targets: Vec<RuleTarget>,
    ) -> TemplateRule {
        let pattern_json = match pattern {
            // CloudFormation also takes the pattern as a JSON string.
            Yaml::String(s) => serde_json::from_str(s)
                .unwrap_or_else(|e| panic!("{id}: EventPattern is not JSON: {e}")),
            other => self.resolve(other, &id),
        };
        let compiled = EventPattern::new(&pattern_json).unwrap_or_else(|e| panic!("{id}: {e}"));
        let bus = match &props["EventBusName"] {
            Yaml::Null => "default".to_string(),
            other => match self.resolve(other, &id) {
                Json::String(s) => s,
                v => panic!("{id}: EventBusName {v}"),
            },
        };
        TemplateRule {
            id,
            bus,
            state: props["State"].as_str().map(str::to_string),
            pattern_json,
            pattern: compiled,
            targets,
        }
    }

    fn resource(&self, id: &str) -> Option<&Yaml> {
        self.template["Resources"]
            .as_mapping()
            .and_then(|r| r.get(id))
    }

    fn binary(&self, function: &str) -> String {
        self.resource(function)
            .and_then(|f| f["Metadata"]["BuildProperties"]["Binary"].as_str())
            .unwrap_or(function)
            .to_string()
    }

    /// `!If [c, a, b]` gives both branches (minus `AWS::NoValue`); anything else itself.
    fn branches<'b>(&self, v: &'b Yaml) -> Vec<&'b Yaml> {
        match tagged(v) {
            Some(("If", args)) => args
                .as_sequence()
                .map(|s| s.iter().skip(1).flat_map(|b| self.branches(b)).collect())
                .unwrap_or_default(),
            Some(("Ref", Yaml::String(r))) if r == "AWS::NoValue" => Vec::new(),
            _ if v.is_null() => Vec::new(),
            _ => vec![v],
        }
    }

    fn branches_of_each<'b>(&self, list: &'b Yaml) -> Vec<&'b Yaml> {
        list.as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|item| self.branches(item))
            .collect()
    }

    fn target(&self, target: &Yaml) -> RuleTarget {
        let id = target["Id"].as_str().unwrap_or_default().to_string();
        let resource = referenced_resource(&target["Arn"]).filter(|r| self.resource(r).is_some());
        let functions = resource
            .as_deref()
            .map(|r| self.functions_reached(r))
            .unwrap_or_default();
        let input_transformer = self.input_transformer(&target["InputTransformer"]);
        RuleTarget {
            id,
            resource,
            functions,
            input_transformer,
        }
    }

    fn input_transformer(&self, it: &Yaml) -> Option<(BTreeMap<String, String>, String)> {
        let it = it.as_mapping()?;
        let paths = it
            .get("InputPathsMap")
            .and_then(Yaml::as_mapping)
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                (
                    k.as_str().unwrap_or_default().to_string(),
                    v.as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let template = it
            .get("InputTemplate")
            .and_then(Yaml::as_str)
            .unwrap_or_default()
            .to_string();
        Some((paths, template))
    }

    /// The functions a target resource invokes: itself, or the pollers of a queue.
    fn functions_reached(&self, resource: &str) -> Vec<String> {
        let Some(r) = self.resource(resource) else {
            return Vec::new();
        };
        match r["Type"].as_str() {
            Some("AWS::Serverless::Function" | "AWS::Lambda::Function") => {
                vec![self.binary(resource)]
            }
            Some("AWS::SQS::Queue") => self.template["Resources"]
                .as_mapping()
                .into_iter()
                .flatten()
                .filter(|(_, f)| f["Type"] == "AWS::Serverless::Function")
                .filter(|(_, f)| {
                    f["Properties"]["Events"]
                        .as_mapping()
                        .into_iter()
                        .flatten()
                        .any(|(_, e)| {
                            e["Type"] == "SQS"
                                && referenced_resource(&e["Properties"]["Queue"]).as_deref()
                                    == Some(resource)
                        })
                })
                .map(|(id, _)| self.binary(id.as_str().unwrap_or_default()))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn parameter_default(&self, name: &str) -> Option<String> {
        let default = &self.template["Parameters"][name]["Default"];
        match default {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Number(n) => Some(n.to_string()),
            Yaml::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn variable(&self, name: &str, rule: &str) -> String {
        match name {
            "AWS::StackName" => STACK_NAME.into(),
            "AWS::AccountId" => ACCOUNT_ID.into(),
            "AWS::Region" => REGION.into(),
            "AWS::Partition" => "aws".into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            // A bucket with a fixed name resolves to it, as deployed.
            other
                if !other.contains('.')
                    && self
                        .resource(other)
                        .is_some_and(|r| !r["Properties"]["BucketName"].is_null()) =>
            {
                let name = &self.resource(other).expect("checked")["Properties"]["BucketName"];
                match self.resolve(name, rule) {
                    Json::String(s) => s,
                    v => panic!("{rule}: bucket name of {other} resolves to {v}"),
                }
            }
            other
                if self
                    .resource(other.split('.').next().unwrap_or_default())
                    .is_some() =>
            {
                format!("resource:{}", other.split('.').next().unwrap_or_default())
            }
            other => self
                .parameter_default(other)
                .unwrap_or_else(|| panic!("{rule}: cannot resolve {other:?} in the pattern")),
        }
    }

    /// A YAML pattern (or bus name) as deployed JSON.
    fn resolve(&self, v: &Yaml, rule: &str) -> Json {
        match tagged(v) {
            Some(("Ref", Yaml::String(name))) => Json::String(self.variable(name, rule)),
            Some(("Sub", Yaml::String(text))) => Json::String(self.substitute(text, rule)),
            Some(("GetAtt", _)) => Json::String(format!(
                "resource:{}",
                referenced_resource(v).unwrap_or_default()
            )),
            Some(("Join", Yaml::Sequence(args))) if args.len() == 2 => {
                let separator = args[0].as_str().unwrap_or_default();
                let parts: Vec<String> = args[1]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .map(|p| match self.resolve(p, rule) {
                        Json::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect();
                Json::String(parts.join(separator))
            }
            // A pattern that depends on a condition: the pattern as deployed
            // when the condition holds (the first branch).
            Some(("If", Yaml::Sequence(args))) if args.len() == 3 => self.resolve(&args[1], rule),
            Some((f, _)) => panic!("{rule}: intrinsic {f} is not supported in an event pattern"),
            None => match v {
                Yaml::Null => Json::Null,
                Yaml::Bool(b) => Json::Bool(*b),
                Yaml::Number(n) => serde_json::to_value(n).expect("YAML numbers are JSON numbers"),
                Yaml::String(s) => Json::String(s.clone()),
                Yaml::Sequence(items) => {
                    Json::Array(items.iter().map(|i| self.resolve(i, rule)).collect())
                }
                Yaml::Mapping(m) => Json::Object(
                    m.iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().unwrap_or_default().to_string(),
                                self.resolve(v, rule),
                            )
                        })
                        .collect(),
                ),
                Yaml::Tagged(_) => unreachable!("handled by tagged()"),
            },
        }
    }

    fn substitute(&self, text: &str, rule: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .unwrap_or_else(|| panic!("{rule}: unclosed ${{ in {text:?}"));
            let name = &rest[start + 2..start + end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                out.push_str(&self.variable(name, rule));
            }
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// `!Tag value` or the long form `{"Ref": ..}` / `{"Fn::X": ..}`, as (name, argument).
fn tagged(v: &Yaml) -> Option<(&str, &Yaml)> {
    match v {
        Yaml::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let name = name.strip_prefix("Fn::").unwrap_or(name);
            // Leak-free lookup: map the tag text to a static name.
            let name = [
                "Ref",
                "Sub",
                "GetAtt",
                "If",
                "Join",
                "Select",
                "Split",
                "ImportValue",
                "FindInMap",
                "Condition",
            ]
            .into_iter()
            .find(|n| *n == name)
            .unwrap_or("unknown");
            Some((name, &t.value))
        }
        Yaml::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next()?;
            let k = k.as_str()?;
            match k {
                "Ref" => Some(("Ref", arg)),
                _ => k.strip_prefix("Fn::").map(|n| {
                    let n = [
                        "Sub",
                        "GetAtt",
                        "If",
                        "Join",
                        "Select",
                        "Split",
                        "ImportValue",
                        "FindInMap",
                    ]
                    .into_iter()
                    .find(|x| *x == n)
                    .unwrap_or("unknown");
                    (n, arg)
                }),
            }
        }
        _ => None,
    }
}

/// The logical id an `Arn`/`Queue` value points at: `!GetAtt X.Arn`,
/// `!GetAtt [X, Arn]`, `!Ref X` or `!Sub "${X.Arn}"`.
fn referenced_resource(v: &Yaml) -> Option<String> {
    match tagged(v)? {
        ("GetAtt", Yaml::String(s)) => s.split('.').next().map(str::to_string),
        ("GetAtt", Yaml::Sequence(s)) => s.first()?.as_str().map(str::to_string),
        ("Ref", Yaml::String(s)) => Some(s.clone()),
        ("Sub", Yaml::String(s)) => {
            let start = s.find("${")?;
            let end = s[start..].find('}')?;
            s[start + 2..start + end]
                .split('.')
                .next()
                .map(str::to_string)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shapes other functions' rules take: SAM events, a JSON-string
    /// pattern, a rule reaching a function through an SQS queue, targets
    /// behind `!If`, intrinsics in patterns and bus names.
    const TEMPLATE: &str = r#"
Parameters:
  Env: {Type: String, Default: prod}
Resources:
  CreatorFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: endpoint-creator}}
    Properties:
      Events:
        Pending:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [aws.airflow], detail: {Status: [PENDING]}}
        Nightly: {Type: Schedule, Properties: {Schedule: rate(1 day)}}
  ForwarderFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: forwarder}}
    Properties:
      Events:
        Batch: {Type: SQS, Properties: {Queue: !GetAtt ForwardQueue.Arn}}
  ForwardQueue: {Type: AWS::SQS::Queue}
  Bus: {Type: AWS::Events::EventBus}
  ForwardRule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: '{"source": ["app"], "detail": {"env": ["prod"]}}'
      Targets:
        - !If [C, {Id: q, Arn: !GetAtt ForwardQueue.Arn}, !Ref AWS::NoValue]
        - {Id: f, Arn: !GetAtt [CreatorFunction, Arn]}
  SubRule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern:
        source: [!Sub "Pipe ${AWS::StackName}-${Env}"]
        account: [!Ref AWS::AccountId]
        detail: {name: [!Join ["-", [a, !Ref Env]]]}
      Targets: [{Id: l, Arn: !Sub "arn:aws:logs:${AWS::Region}:${AWS::AccountId}:log-group:x"}]
"#;

    #[test]
    fn rules_of_every_shape_are_extracted_and_followed_to_functions() {
        let template: Yaml = serde_yaml::from_str(TEMPLATE).unwrap();
        let rules = rules(&template);
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["CreatorFunction.Pending", "ForwardRule", "SubRule"]);

        let pending = &rules[0];
        assert_eq!(pending.bus, "default");
        assert_eq!(
            pending.functions().collect::<Vec<_>>(),
            ["endpoint-creator"]
        );
        assert!(pending
            .pattern
            .matches(&json!({"source": "aws.airflow", "detail": {"Status": "PENDING"}})));
        assert!(!pending
            .pattern
            .matches(&json!({"source": "aws.airflow", "detail": {"Status": "AVAILABLE"}})));

        let forward = &rules[1];
        assert_eq!(forward.bus, "resource:Bus");
        let mut reached: Vec<&str> = forward.functions().collect();
        reached.sort();
        assert_eq!(
            reached,
            ["endpoint-creator", "forwarder"],
            "queue pollers are reached"
        );
        assert!(forward
            .pattern
            .matches(&json!({"source": "app", "detail": {"env": "prod"}})));

        let sub = &rules[2];
        assert_eq!(
            sub.pattern_json,
            json!({"source": ["Pipe stack-prod"], "account": [ACCOUNT_ID], "detail": {"name": ["a-prod"]}})
        );
        assert_eq!(sub.functions().count(), 0);
        assert_eq!(
            sub.targets[0].resource, None,
            "a log group outside the stack"
        );
    }

    #[test]
    fn an_invalid_pattern_names_its_rule() {
        let template: Yaml = serde_yaml::from_str(
            "Resources:\n  Bad:\n    Type: AWS::Events::Rule\n    Properties:\n      EventPattern: {source: aws.s3}\n",
        )
        .unwrap();
        let panic = std::panic::catch_unwind(|| rules(&template)).unwrap_err();
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.starts_with("Bad: event pattern $.source"),
            "{message}"
        );
    }
}

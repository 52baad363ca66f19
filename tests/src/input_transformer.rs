//! EventBridge's input transformer (`InputPathsMap` + `InputTemplate`), to
//! show and check what a target receives: the demo prints what the Confluent
//! API destination would get, the wiring test checks its shape.
//!
//! Semantics as the EventBridge user guide describes them: each path is a
//! JSONPath into the event (`$.detail.userIdentity.arn`, `$.resources[0]`);
//! a placeholder `<name>` in the template is replaced by the value at that
//! path. Inside a JSON string (`"<name>"`) a string value goes in without
//! quotes, JSON-escaped; a bare placeholder takes the value's JSON text
//! (objects stay objects). A path that resolves to nothing gives `null` bare
//! and an empty string quoted. The predefined `<aws.events.event>`,
//! `<aws.events.event.json>`, `<aws.events.rule-name>` and
//! `<aws.events.rule-arn>` are supported.

use std::collections::BTreeMap;

use serde_json::Value;

/// A target's input transformer.
#[derive(Debug, Clone)]
pub struct InputTransformer {
    paths: BTreeMap<String, Vec<Step>>,
    template: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The rule a transformed event was matched by (for the predefined variables).
#[derive(Debug, Clone, Default)]
pub struct RuleContext {
    pub name: String,
    pub arn: String,
}

impl InputTransformer {
    /// Validates the paths; errors name the variable.
    pub fn new(
        paths: impl IntoIterator<Item = (String, String)>,
        template: impl Into<String>,
    ) -> Result<InputTransformer, String> {
        let mut parsed = BTreeMap::new();
        for (name, path) in paths {
            if name.starts_with("aws.events.") {
                return Err(format!(
                    "InputPathsMap {name:?}: names starting with aws.events. are reserved"
                ));
            }
            parsed.insert(
                name.clone(),
                parse_path(&path).map_err(|e| format!("InputPathsMap {name:?}: {e}"))?,
            );
        }
        Ok(InputTransformer {
            paths: parsed,
            template: template.into(),
        })
    }

    /// The target's input for `event`, as text (what is sent).
    pub fn apply(&self, event: &Value, rule: &RuleContext) -> Result<String, String> {
        let mut out = String::with_capacity(self.template.len());
        let mut rest = self.template.as_str();
        while let Some(open) = rest.find('<') {
            let Some(close) = rest[open..].find('>') else {
                break;
            };
            let name = &rest[open + 1..open + close];
            let value = match name {
                "aws.events.event" | "aws.events.event.json" => Some(event.clone()),
                "aws.events.rule-name" => Some(Value::String(rule.name.clone())),
                "aws.events.rule-arn" => Some(Value::String(rule.arn.clone())),
                _ => match self.paths.get(name) {
                    Some(steps) => lookup(event, steps).cloned(),
                    None => {
                        // Not a variable: literal text such as "a < b".
                        out.push_str(&rest[..open + 1]);
                        rest = &rest[open + 1..];
                        continue;
                    }
                },
            };
            out.push_str(&rest[..open]);
            let quoted = inside_string(&out);
            match (value, quoted) {
                (Some(Value::String(s)), true) => {
                    let json = Value::String(s).to_string();
                    out.push_str(&json[1..json.len() - 1]);
                }
                (Some(v), true) => {
                    let escaped = Value::String(v.to_string()).to_string();
                    out.push_str(&escaped[1..escaped.len() - 1]);
                }
                (Some(v), false) => out.push_str(&v.to_string()),
                (None, true) => {}
                (None, false) => out.push_str("null"),
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        let trimmed = out.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            serde_json::from_str::<Value>(&out)
                .map_err(|e| format!("the transformed input is not valid JSON ({e}): {out}"))?;
        }
        Ok(out)
    }
}

/// Whether the end of `text` lies inside a JSON string literal.
fn inside_string(text: &str) -> bool {
    let mut inside = false;
    let mut escaped = false;
    for c in text.chars() {
        match (inside, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => inside = !inside,
            _ => {}
        }
    }
    inside
}

fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let rest = path
        .strip_prefix('$')
        .ok_or_else(|| format!("{path:?} must start with $"))?;
    let mut steps = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    key.push(n);
                    chars.next();
                }
                if key.is_empty() {
                    return Err(format!("{path:?}: empty key"));
                }
                steps.push(Step::Key(key));
            }
            '[' => {
                let mut inner = String::new();
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    inner.push(n);
                }
                if let Ok(i) = inner.parse() {
                    steps.push(Step::Index(i));
                } else if let Some(key) =
                    inner.strip_prefix('\'').and_then(|k| k.strip_suffix('\''))
                {
                    steps.push(Step::Key(key.to_string()));
                } else {
                    return Err(format!("{path:?}: unsupported selector [{inner}]"));
                }
            }
            other => return Err(format!("{path:?}: unexpected {other:?}")),
        }
    }
    Ok(steps)
}

fn lookup<'a>(event: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    steps.iter().try_fold(event, |v, step| match step {
        Step::Key(k) => v.get(k),
        Step::Index(i) => v.get(i),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn transformer(paths: &[(&str, &str)], template: &str) -> InputTransformer {
        InputTransformer::new(
            paths.iter().map(|(a, b)| (a.to_string(), b.to_string())),
            template,
        )
        .unwrap()
    }

    #[test]
    fn confluent_produce_body_wraps_the_detail_object() {
        let t = transformer(
            &[("detail", "$.detail")],
            r#"{"value":{"type":"JSON","data":<detail>}}"#,
        );
        let event = json!({"detail": {"eventName": "GetSecretValue", "n": [1, {"a": null}]}});
        let out: Value =
            serde_json::from_str(&t.apply(&event, &RuleContext::default()).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"value": {"type": "JSON", "data": event["detail"]}})
        );
    }

    #[test]
    fn quoted_and_bare_placeholders_follow_the_user_guide() {
        // The user guide's example shape: strings quoted in the template, a number bare.
        let t = transformer(
            &[
                ("instance", "$.detail.instance-id"),
                ("state", "$.detail.state"),
                ("n", "$.detail.n"),
                ("r0", "$.resources[0]"),
                ("gone", "$.detail.nope"),
            ],
            r#"{"text": "<instance> is in state <state>", "n": <n>, "r": "<r0>", "bare": <state>, "missing": <gone>, "q": "<gone>", "cmp": "1 <2"}"#,
        );
        let event = json!({"resources": ["arn:x"], "detail": {"instance-id": "i-1", "state": "say \"hi\"", "n": 3}});
        let out: Value =
            serde_json::from_str(&t.apply(&event, &RuleContext::default()).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"text": "i-1 is in state say \"hi\"", "n": 3, "r": "arn:x", "bare": "say \"hi\"", "missing": null, "q": "", "cmp": "1 <2"})
        );
    }

    #[test]
    fn predefined_variables_and_plain_text_templates() {
        let t = transformer(
            &[],
            "rule <aws.events.rule-name> saw <aws.events.event.json>",
        );
        let rule = RuleContext {
            name: "r1".into(),
            arn: "arn:aws:events:::rule/r1".into(),
        };
        assert_eq!(
            t.apply(&json!({"a": 1}), &rule).unwrap(),
            r#"rule "r1" saw {"a":1}"#
        );
    }

    #[test]
    fn bad_paths_and_invalid_json_output_are_errors() {
        assert!(InputTransformer::new([("a".into(), "detail".into())], "")
            .unwrap_err()
            .contains("\"a\""));
        assert!(InputTransformer::new([("aws.events.x".into(), "$.a".into())], "").is_err());
        let t = transformer(&[("d", "$.d")], r#"{"x": <d>"#);
        assert!(t
            .apply(&json!({"d": 1}), &RuleContext::default())
            .unwrap_err()
            .contains("not valid JSON"));
    }
}

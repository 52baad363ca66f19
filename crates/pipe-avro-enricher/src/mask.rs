//! Field masking for decoded records (env `MASK_FIELDS`), in the spirit of Confluent's "Mask
//! fields" topic action: hide personal data before it reaches the event bus.
//!
//! Syntax: comma-separated items `path[:N]`.
//! - `path` is dot-separated object keys. `*` matches every key of an object or every element of
//!   an array; `key[*]` is shorthand for `key.*` (repeatable: `matrix[*][*]`). Arrays are entered
//!   only through `*`/`[*]`, never by a key. Keys containing `.`, `,`, `:`, `[` or `]` cannot be
//!   expressed.
//! - `N` is how many trailing characters stay visible (default 2; 0 hides everything).
//!
//! A string becomes one `*` per hidden character (Unicode scalar values, not bytes) followed by
//! its last `N` characters. A string of `N` characters or fewer is masked completely, so a short
//! value is never revealed whole. When a path ends at an object or array, every string under it
//! is masked. Numbers, booleans and null are left alone: masking them would change the JSON type
//! consumers expect. Paths that do not exist in a record are ignored. Overlapping rules compose
//! (the fewest visible characters win).

use serde_json::Value;

/// Trailing characters left visible when an item has no `:N`.
pub const DEFAULT_VISIBLE: usize = 2;

/// Parsed `MASK_FIELDS`; parse once at start-up, apply to every record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaskRules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    segments: Vec<Segment>,
    visible: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Any,
}

/// A `MASK_FIELDS` item that does not parse; `item` is 1-based so it matches what a human counts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MASK_FIELDS item {item} {text:?}: {reason}")]
pub struct MaskError {
    pub item: usize,
    pub text: String,
    pub reason: String,
}

impl MaskRules {
    /// Parse the `MASK_FIELDS` syntax; an empty or blank spec means "mask nothing".
    pub fn parse(spec: &str) -> Result<Self, MaskError> {
        if spec.trim().is_empty() {
            return Ok(Self::default());
        }
        let rules = spec
            .split(',')
            .enumerate()
            .map(|(i, raw)| {
                parse_item(raw.trim()).map_err(|reason| MaskError {
                    item: i + 1,
                    text: raw.trim().to_owned(),
                    reason,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Mask the matching strings in place.
    pub fn apply(&self, value: &mut Value) {
        for rule in &self.rules {
            apply_at(value, &rule.segments, rule.visible);
        }
    }
}

fn parse_item(item: &str) -> Result<Rule, String> {
    if item.is_empty() {
        return Err("empty item".to_owned());
    }
    let (path, visible) = match item.rsplit_once(':') {
        Some((path, n)) => {
            let n = n.trim();
            let visible = n.parse::<usize>().map_err(|_| {
                format!("visible-character count {n:?} is not a non-negative integer")
            })?;
            (path.trim(), visible)
        }
        None => (item, DEFAULT_VISIBLE),
    };
    if path.is_empty() {
        return Err("empty path".to_owned());
    }
    Ok(Rule {
        segments: parse_path(path)?,
        visible,
    })
}

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    for seg in path.split('.') {
        if seg.is_empty() {
            return Err("empty path segment".to_owned());
        }
        if seg == "*" {
            segments.push(Segment::Any);
            continue;
        }
        let (key, mut brackets) = seg.split_at(seg.find('[').unwrap_or(seg.len()));
        if key.contains(']') || key.contains(':') {
            return Err(format!("segment {seg:?} has a stray ']' or ':'"));
        }
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_owned()));
        }
        while !brackets.is_empty() {
            let Some(rest) = brackets.strip_prefix("[*]") else {
                return Err(format!(
                    "segment {seg:?}: only \"[*]\" may follow a key in brackets"
                ));
            };
            segments.push(Segment::Any);
            brackets = rest;
        }
    }
    Ok(segments)
}

fn apply_at(node: &mut Value, segments: &[Segment], visible: usize) {
    match segments.split_first() {
        None => mask_all(node, visible),
        Some((Segment::Key(key), rest)) => {
            if let Some(child) = node.as_object_mut().and_then(|o| o.get_mut(key)) {
                apply_at(child, rest, visible);
            }
        }
        Some((Segment::Any, rest)) => match node {
            Value::Object(map) => map
                .values_mut()
                .for_each(|child| apply_at(child, rest, visible)),
            Value::Array(items) => items
                .iter_mut()
                .for_each(|child| apply_at(child, rest, visible)),
            _ => {}
        },
    }
}

fn mask_all(node: &mut Value, visible: usize) {
    match node {
        Value::String(s) => *s = mask_str(s, visible),
        Value::Array(items) => items.iter_mut().for_each(|v| mask_all(v, visible)),
        Value::Object(map) => map.values_mut().for_each(|v| mask_all(v, visible)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn mask_str(s: &str, visible: usize) -> String {
    let len = s.chars().count();
    if len <= visible {
        return "*".repeat(len);
    }
    let hidden = len - visible;
    let mut out = "*".repeat(hidden);
    out.extend(s.chars().skip(hidden));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn masked(spec: &str, mut value: Value) -> Value {
        MaskRules::parse(spec).unwrap().apply(&mut value);
        value
    }

    #[test]
    fn default_keeps_two_characters() {
        assert_eq!(
            masked("card", json!({"card": "4111111111111111"})),
            json!({"card": "**************11"})
        );
    }

    #[test]
    fn explicit_visible_count_and_zero() {
        assert_eq!(
            masked("card:4", json!({"card": "4111111111111111"})),
            json!({"card": "************1111"})
        );
        assert_eq!(
            masked("pin:0", json!({"pin": "1234"})),
            json!({"pin": "****"})
        );
    }

    #[test]
    fn short_strings_are_fully_masked() {
        assert_eq!(
            masked(
                "a:4, b:4, c, d",
                json!({"a": "abcd", "b": "abc", "c": "x", "d": ""})
            ),
            json!({"a": "****", "b": "***", "c": "*", "d": ""})
        );
        assert_eq!(masked("a:4", json!({"a": "abcde"})), json!({"a": "*bcde"}));
    }

    #[test]
    fn counts_unicode_characters_not_bytes() {
        assert_eq!(
            masked("name", json!({"name": "Zoë Ünal"})),
            json!({"name": "******al"})
        );
        assert_eq!(masked("e:1", json!({"e": "日本語"})), json!({"e": "**語"}));
    }

    #[test]
    fn nested_paths() {
        assert_eq!(
            masked(
                "customer.address.zip:0",
                json!({"customer": {"address": {"zip": "12345", "city": "Berlin"}}})
            ),
            json!({"customer": {"address": {"zip": "*****", "city": "Berlin"}}})
        );
    }

    #[test]
    fn wildcard_over_object_keys_and_array_elements() {
        let value = json!({
            "a": {"x": {"secret": "aaaa"}, "y": {"secret": "bbbb", "other": "keep"}},
            "list": [{"secret": "cccc"}, {"secret": "dddd"}, "plain"]
        });
        assert_eq!(
            masked("a.*.secret:1, list.*.secret:1", value.clone()),
            json!({
                "a": {"x": {"secret": "***a"}, "y": {"secret": "***b", "other": "keep"}},
                "list": [{"secret": "***c"}, {"secret": "***d"}, "plain"]
            })
        );
        // `[*]` after a key is the same as `.*`.
        assert_eq!(
            masked("list[*].secret:1", value.clone()),
            masked("list.*.secret:1", value)
        );
        assert_eq!(
            masked("m[*][*]:0", json!({"m": [["ab", "cd"], ["ef"]]})),
            json!({"m": [["**", "**"], ["**"]]})
        );
        assert_eq!(
            masked("*:0", json!({"a": "x", "b": 1})),
            json!({"a": "*", "b": 1})
        );
    }

    #[test]
    fn keys_do_not_enter_arrays() {
        let value = json!({"list": [{"secret": "cccc"}]});
        assert_eq!(masked("list.secret:0", value.clone()), value);
    }

    #[test]
    fn path_ending_at_object_or_array_masks_every_string_leaf() {
        assert_eq!(
            masked(
                "card:1",
                json!({"card": {"number": "4111", "exp": {"m": "12", "y": "2030"}, "cvv": 123,
                       "valid": true, "note": null, "tags": ["ab", 7]}})
            ),
            json!({"card": {"number": "***1", "exp": {"m": "*2", "y": "***0"}, "cvv": 123,
                   "valid": true, "note": null, "tags": ["*b", 7]}})
        );
    }

    #[test]
    fn non_strings_and_missing_paths_are_left_alone() {
        let value = json!({"n": 12345, "b": true, "z": null, "f": 1.5});
        assert_eq!(
            masked("n, b, z, f, missing, n.deeper, *.x", value.clone()),
            value
        );
    }

    #[test]
    fn overlapping_rules_keep_the_fewest_visible() {
        assert_eq!(
            masked("s:4, s:2", json!({"s": "abcdefgh"})),
            json!({"s": "******gh"})
        );
        assert_eq!(
            masked("s:2, s:4", json!({"s": "abcdefgh"})),
            json!({"s": "******gh"})
        );
    }

    #[test]
    fn empty_spec_and_whitespace() {
        assert!(MaskRules::parse("").unwrap().is_empty());
        assert!(MaskRules::parse("  ").unwrap().is_empty());
        let rules = MaskRules::parse(" a.b : 3 , c ").unwrap();
        assert!(!rules.is_empty());
        assert_eq!(rules, MaskRules::parse("a.b:3,c").unwrap());
        let mut v = json!({"a": {"b": "123456"}, "c": "xyz"});
        rules.apply(&mut v);
        assert_eq!(v, json!({"a": {"b": "***456"}, "c": "*yz"}));
    }

    #[test]
    fn errors_name_the_item() {
        let cases = [
            ("a,a..b", "MASK_FIELDS item 2 \"a..b\": empty path segment"),
            ("a,", "MASK_FIELDS item 2 \"\": empty item"),
            (",a", "MASK_FIELDS item 1 \"\": empty item"),
            (
                "a:x",
                "MASK_FIELDS item 1 \"a:x\": visible-character count \"x\" is not a non-negative integer",
            ),
            (
                "a:-1",
                "MASK_FIELDS item 1 \"a:-1\": visible-character count \"-1\" is not a non-negative integer",
            ),
            ("b, :3", "MASK_FIELDS item 2 \":3\": empty path"),
            (".a", "MASK_FIELDS item 1 \".a\": empty path segment"),
            ("a.", "MASK_FIELDS item 1 \"a.\": empty path segment"),
            (
                "a[0]",
                "MASK_FIELDS item 1 \"a[0]\": segment \"a[0]\": only \"[*]\" may follow a key in brackets",
            ),
            (
                "a]b",
                "MASK_FIELDS item 1 \"a]b\": segment \"a]b\" has a stray ']' or ':'",
            ),
            (
                "a:b:2",
                "MASK_FIELDS item 1 \"a:b:2\": segment \"a:b\" has a stray ']' or ':'",
            ),
        ];
        for (spec, want) in cases {
            let err = MaskRules::parse(spec).unwrap_err();
            assert_eq!(err.to_string(), want, "{spec}");
        }
    }

    #[test]
    fn cloudtrail_user_identity() {
        let mut event = json!({
            "eventName": "AssumeRole",
            "sourceIPAddress": "203.0.113.7",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AROAEXAMPLEID:alice",
                "arn": "arn:aws:sts::123456789012:assumed-role/Admin/alice",
                "accountId": "123456789012",
                "accessKeyId": "ASIAEXAMPLEKEY1234",
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": "AROAEXAMPLEID",
                        "arn": "arn:aws:iam::123456789012:role/Admin",
                        "accountId": "123456789012",
                        "userName": "Admin"
                    },
                    "attributes": {"creationDate": "2023-11-06T14:59:38Z", "mfaAuthenticated": "true"}
                }
            },
            "resources": [
                {"ARN": "arn:aws:iam::123456789012:role/Admin", "accountId": "123456789012"}
            ],
            "readOnly": true
        });
        let rules = MaskRules::parse(
            "userIdentity.accessKeyId:4, userIdentity.accountId, userIdentity.principalId:0, \
             userIdentity.sessionContext.sessionIssuer:0, sourceIPAddress:0, resources[*].accountId:3",
        )
        .unwrap();
        rules.apply(&mut event);
        assert_eq!(
            event,
            json!({
                "eventName": "AssumeRole",
                "sourceIPAddress": "***********",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": "*******************",
                    "arn": "arn:aws:sts::123456789012:assumed-role/Admin/alice",
                    "accountId": "**********12",
                    "accessKeyId": "**************1234",
                    "sessionContext": {
                        "sessionIssuer": {
                            "type": "****",
                            "principalId": "*************",
                            "arn": "************************************",
                            "accountId": "************",
                            "userName": "*****"
                        },
                        "attributes": {"creationDate": "2023-11-06T14:59:38Z", "mfaAuthenticated": "true"}
                    }
                },
                "resources": [
                    {"ARN": "arn:aws:iam::123456789012:role/Admin", "accountId": "*********012"}
                ],
                "readOnly": true
            })
        );
    }
}

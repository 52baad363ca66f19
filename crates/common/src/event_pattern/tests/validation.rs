//! Invalid patterns: rejected like PutRule rejects them, naming the place.

use serde_json::json;

use super::error;
use crate::event_pattern::EventPattern;

#[test]
fn invalid_patterns_are_rejected_with_their_path() {
    let cases = [
        (json!([]), "event pattern $: must be an object"),
        (json!({}), "event pattern $: empty objects"),
        (
            json!({"source": "aws.ec2"}),
            "$.source: must be an array of values or an object, not a string",
        ),
        (json!({"source": []}), "$.source: empty arrays"),
        (json!({"d": {"s": [["a"]]}}), "$.d.s[0]: arrays inside"),
        (
            json!({"d": {"s": [{"regex": "a"}]}}),
            "$.d.s[0]: unknown operator \"regex\"",
        ),
        (
            json!({"s": [{"prefix": "a", "suffix": "b"}]}),
            "$.s[0]: a matcher object must have exactly one operator",
        ),
        (
            json!({"s": [{"prefix": 1}]}),
            "$.s[0].prefix: prefix takes a string",
        ),
        (
            json!({"s": [{"prefix": {"wildcard": "a"}}]}),
            "$.s[0].prefix: prefix takes a string or",
        ),
        (json!({"s": [{"wildcard": "a**b"}]}), "consecutive '*'"),
        (
            json!({"s": [{"wildcard": r"a\b"}]}),
            "a backslash may only escape",
        ),
        (
            json!({"s": [{"anything-but": [1, "a"]}]}),
            "$.s[0].anything-but: anything-but takes a list of only strings or only numbers",
        ),
        (
            json!({"s": [{"anything-but": true}]}),
            "$.s[0].anything-but: anything-but takes",
        ),
        (
            json!({"s": [{"anything-but": {"numeric": [">", 1]}}]}),
            "anything-but nests only",
        ),
        (
            json!({"s": [{"numeric": [">", "1"]}]}),
            "$.s[0].numeric[1]: expected a number",
        ),
        (
            json!({"s": [{"numeric": ["~", 1]}]}),
            "$.s[0].numeric[0]: unknown numeric operator",
        ),
        (
            json!({"s": [{"numeric": [">", 1, ">", 2]}]}),
            "$.s[0].numeric[2]: the second operator of a range must be < or <=",
        ),
        (json!({"s": [{"numeric": [">", 5, "<", 1]}]}), "empty range"),
        (
            json!({"s": [{"numeric": ["=", 1, "<", 2]}]}),
            "cannot be combined",
        ),
        (
            json!({"s": [{"numeric": [">", 6e9]}]}),
            "outside numeric's range",
        ),
        (
            json!({"s": [{"cidr": "10.0.0.0"}]}),
            "expected address/prefix-length",
        ),
        (
            json!({"s": [{"cidr": "10.0.0.7/32"}]}),
            "prefix length must be 0..=31",
        ),
        (
            json!({"s": [{"cidr": "::1/128"}]}),
            "prefix length must be 0..=127",
        ),
        (
            json!({"s": [{"numeric": ["<", 2, ">", 1]}]}),
            "$.s[0].numeric[0]: a range gives the lower bound (> or >=) first",
        ),
        (
            json!({"s": [{"anything-but": {"prefix": ""}}]}),
            "$.s[0].anything-but.prefix: an empty prefix or suffix",
        ),
        (
            json!({"s": [{"exists": "yes"}]}),
            "$.s[0].exists: exists takes true or false",
        ),
        (
            json!({"$or": [{"a": ["x"]}, {}]}),
            "$.$or[1]: empty objects",
        ),
    ];
    for (p, expected) in cases {
        let message = error(p.clone());
        assert!(
            message.contains(expected),
            "{p}: {message:?} lacks {expected:?}"
        );
    }
    assert!(EventPattern::from_json("{")
        .unwrap_err()
        .message
        .starts_with("not JSON"));
}

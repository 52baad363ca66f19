//! Properties over generated patterns and events.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::{matches, pattern};
use crate::event_pattern::EventPattern;

/// Arbitrary JSON values, shallow enough to be quick.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        "[a-c*\\\\]{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("a".to_string()),
                    Just("b".into()),
                    Just("prefix".into()),
                    Just("numeric".into()),
                    Just("anything-but".into()),
                    Just("$or".into())
                ],
                inner,
                0..3
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Validation is total: any JSON is accepted or rejected with a path,
    /// and an accepted pattern can be evaluated against any JSON.
    #[test]
    fn any_json_is_validated_without_panicking(p in json_value(), e in json_value()) {
        match EventPattern::new(&p) {
            Ok(compiled) => { compiled.matches(&e); }
            Err(err) => prop_assert!(err.path.starts_with('$')),
        }
    }

    /// A pattern that lists an event's own scalar values matches it, and
    /// anything-but of the same string does not.
    #[test]
    fn a_pattern_of_the_events_own_values_matches(
        fields in prop::collection::btree_map("[a-z]{1,6}", "[ -~]{0,12}", 1..5)
    ) {
        let event = Value::Object(fields.iter().map(|(k, v)| (k.clone(), json!({"v": v}))).collect());
        let exact = Value::Object(fields.iter().map(|(k, v)| (k.clone(), json!({"v": [v]}))).collect());
        prop_assert!(pattern(exact).matches(&event));
        let (k, v) = fields.iter().next().unwrap();
        let but = json!({ k.clone(): {"v": [{"anything-but": v}]} });
        prop_assert!(!pattern(but).matches(&event));
    }

    /// prefix, suffix and wildcard agree with their string definitions.
    #[test]
    fn string_operators_agree_with_std(s in "[ab]{0,8}", t in "[ab]{1,3}") {
        let e = json!({"k": s});
        prop_assert_eq!(matches(json!({"k": [{"prefix": t}]}), e.clone()), s.starts_with(&t));
        prop_assert_eq!(matches(json!({"k": [{"suffix": t}]}), e.clone()), s.ends_with(&t));
        prop_assert_eq!(matches(json!({"k": [{"wildcard": format!("*{t}*")}]}), e.clone()), s.contains(&t));
        prop_assert_eq!(matches(json!({"k": [{"wildcard": t.clone()}]}), e.clone()), s == t);
        prop_assert_eq!(matches(json!({"k": [{"anything-but": {"prefix": t}}]}), e), !s.starts_with(&t));
    }

    /// numeric ranges agree with f64 comparisons inside AWS's range.
    #[test]
    fn numeric_agrees_with_comparisons(x in -1e6f64..1e6, a in -1e6f64..1e6, w in 0.001f64..1e6) {
        let b = a + w;
        let e = json!({"n": x});
        prop_assert_eq!(matches(json!({"n": [{"numeric": [">=", a, "<", b]}]}), e.clone()), a <= x && x < b);
        prop_assert_eq!(matches(json!({"n": [{"numeric": [">", a]}]}), e.clone()), x > a);
        prop_assert_eq!(matches(json!({"n": [{"numeric": ["<=", a]}]}), e), x <= a);
    }

    /// cidr agrees with masking the address by hand.
    #[test]
    fn cidr_agrees_with_masks(net in any::<u32>(), ip in any::<u32>(), len in 0u8..=31) {
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        let net = net & mask;
        let p = json!({"ip": [{"cidr": format!("{}/{len}", std::net::Ipv4Addr::from(net))}]});
        let e = json!({"ip": std::net::Ipv4Addr::from(ip).to_string()});
        prop_assert_eq!(matches(p, e), ip & mask == net);
    }
}

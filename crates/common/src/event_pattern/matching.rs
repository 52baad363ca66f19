//! Evaluation of a compiled pattern against an event.

use std::net::IpAddr;

use serde_json::Value;

use super::parse::NUMERIC_LIMIT;
use super::{
    AnythingBut, Cidr, FieldPattern, NumericRange, ObjectPattern, Scalar, ValueMatcher, Wildcard,
};

/// `node` is the event value at this level: `None` when absent.
pub(super) fn object_matches(pattern: &ObjectPattern, node: Option<&Value>) -> bool {
    match node {
        // A sub-pattern that reaches into an array must be satisfied by one
        // element on its own: fields of different elements never combine.
        Some(Value::Array(items)) => {
            let mut elements = Vec::new();
            flatten(items, &mut elements);
            if elements.is_empty() {
                object_matches(pattern, None)
            } else {
                elements.iter().any(|e| object_matches(pattern, Some(e)))
            }
        }
        _ => {
            let child = |key: &str| match node {
                Some(Value::Object(map)) => map.get(key),
                _ => None,
            };
            pattern
                .fields
                .iter()
                .all(|(key, field)| field_matches(field, child(key)))
                && pattern
                    .any_of
                    .iter()
                    .all(|group| group.iter().any(|alt| object_matches(alt, node)))
        }
    }
}

fn flatten<'a>(items: &'a [Value], out: &mut Vec<&'a Value>) {
    for item in items {
        match item {
            Value::Array(inner) => flatten(inner, out),
            other => out.push(other),
        }
    }
}

fn field_matches(field: &FieldPattern, value: Option<&Value>) -> bool {
    match field {
        FieldPattern::Object(inner) => object_matches(inner, value),
        FieldPattern::Values(matchers) => {
            let mut leaves = Vec::new();
            match value {
                Some(Value::Array(items)) => {
                    let mut all = Vec::new();
                    flatten(items, &mut all);
                    leaves.extend(all.into_iter().filter(|v| !v.is_object()));
                }
                Some(Value::Object(_)) | None => {}
                Some(scalar) => leaves.push(scalar),
            }
            if leaves.is_empty() {
                // Only leaves exist for the matcher: this field is absent.
                return matchers.contains(&ValueMatcher::Exists(false));
            }
            matchers
                .iter()
                .any(|m| leaves.iter().any(|leaf| value_matches(m, leaf)))
        }
    }
}

fn value_matches(matcher: &ValueMatcher, value: &Value) -> bool {
    match matcher {
        ValueMatcher::Exact(scalar) => exact(scalar, value),
        ValueMatcher::Prefix { text, ignore_case } => value.as_str().is_some_and(|s| {
            if *ignore_case {
                lower(s).starts_with(&lower(text))
            } else {
                s.starts_with(text.as_str())
            }
        }),
        ValueMatcher::Suffix { text, ignore_case } => value.as_str().is_some_and(|s| {
            if *ignore_case {
                lower(s).ends_with(&lower(text))
            } else {
                s.ends_with(text.as_str())
            }
        }),
        ValueMatcher::EqualsIgnoreCase(text) => {
            value.as_str().is_some_and(|s| lower(s) == lower(text))
        }
        ValueMatcher::Wildcard(w) => value.as_str().is_some_and(|s| w.matches(s)),
        ValueMatcher::AnythingBut(but) => !excluded(but, value),
        ValueMatcher::Numeric(range) => value
            .as_f64()
            .filter(|_| value.is_number())
            .is_some_and(|n| range.contains(n)),
        ValueMatcher::Cidr(cidr) => value
            .as_str()
            .and_then(|s| s.parse::<IpAddr>().ok())
            .is_some_and(|ip| cidr.contains(ip)),
        ValueMatcher::Exists(present) => *present,
    }
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn exact(scalar: &Scalar, value: &Value) -> bool {
    match (scalar, value) {
        (Scalar::Null, Value::Null) => true,
        (Scalar::Bool(a), Value::Bool(b)) => a == b,
        (Scalar::Number(a), Value::Number(b)) => b.as_f64() == Some(*a),
        (Scalar::String(a), Value::String(b)) => a == b,
        _ => false,
    }
}

/// Whether `anything-but` excludes `value`.
fn excluded(but: &AnythingBut, value: &Value) -> bool {
    match (but, value) {
        (AnythingBut::Strings(list), Value::String(s)) => list.iter().any(|x| x == s),
        (AnythingBut::Numbers(list), Value::Number(n)) => {
            n.as_f64().is_some_and(|n| list.contains(&n))
        }
        (AnythingBut::Prefix(list), Value::String(s)) => {
            list.iter().any(|p| s.starts_with(p.as_str()))
        }
        (AnythingBut::Suffix(list), Value::String(s)) => {
            list.iter().any(|p| s.ends_with(p.as_str()))
        }
        (AnythingBut::EqualsIgnoreCase(list), Value::String(s)) => {
            let s = lower(s);
            list.iter().any(|x| lower(x) == s)
        }
        (AnythingBut::Wildcard(list), Value::String(s)) => list.iter().any(|w| w.matches(s)),
        _ => false,
    }
}

impl Wildcard {
    /// Glob matching with `*` only; greedy over the literal pieces, which is
    /// exact for this language (no `?`, no classes).
    pub(super) fn matches(&self, text: &str) -> bool {
        let (first, rest) = self.pieces.split_first().expect("at least one piece");
        let Some(mut remaining) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            return remaining.is_empty();
        };
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(at) => remaining = &remaining[at + piece.len()..],
                None => return false,
            }
        }
        remaining.ends_with(last.as_str())
    }
}

impl NumericRange {
    fn contains(&self, n: f64) -> bool {
        if !(-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&n) {
            return false;
        }
        let above = self
            .lower
            .is_none_or(|(low, closed)| if closed { n >= low } else { n > low });
        let below = self
            .upper
            .is_none_or(|(high, closed)| if closed { n <= high } else { n < high });
        above && below
    }
}

impl Cidr {
    /// event-ruler's range: from the address as written (host bits are not
    /// cleared) to that address with all host bits set.
    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => in_range(
                u32::from(net).into(),
                u32::from(ip).into(),
                self.prefix_len,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                in_range(u128::from(net), u128::from(ip), self.prefix_len, 128)
            }
            _ => false,
        }
    }
}

fn in_range(bottom: u128, ip: u128, len: u8, bits: u32) -> bool {
    let host_bits = bits - u32::from(len);
    let host_mask = if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    (bottom..=bottom | host_mask).contains(&ip)
}

//! Validation and compilation of a JSON event pattern.

use std::fmt;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::{
    AnythingBut, Cidr, FieldPattern, NumericRange, ObjectPattern, Scalar, ValueMatcher, Wildcard,
};

/// AWS's bound on `numeric` operands.
pub(super) const NUMERIC_LIMIT: f64 = 5.0e9;

/// Operator names that stop `$or` from being read as the OR operator (they
/// mean the author put operators where field patterns belong).
const OPERATORS: &[&str] = &[
    "anything-but",
    "cidr",
    "equals-ignore-case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
];

/// Why a pattern is invalid, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event pattern {path}: {message}")]
pub struct PatternError {
    /// Where in the pattern, e.g. `$.detail.state[0].numeric`.
    pub path: String,
    pub message: String,
}

/// A location in the pattern, for error messages.
#[derive(Debug, Clone)]
pub(super) struct Path(String);

impl Path {
    pub(super) fn root() -> Path {
        Path("$".into())
    }
    fn key(&self, key: &str) -> Path {
        Path(format!("{}.{key}", self.0))
    }
    fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }
    fn error(&self, message: impl Into<String>) -> PatternError {
        PatternError {
            path: self.0.clone(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn object(value: &Value, path: &Path) -> Result<ObjectPattern, PatternError> {
    let Value::Object(map) = value else {
        return Err(path.error(format!("must be an object, not {}", kind(value))));
    };
    object_fields(map, path)
}

fn object_fields(map: &Map<String, Value>, path: &Path) -> Result<ObjectPattern, PatternError> {
    if map.is_empty() {
        return Err(path.error("empty objects are not allowed"));
    }
    let mut pattern = ObjectPattern {
        fields: Vec::with_capacity(map.len()),
        any_of: Vec::new(),
    };
    for (key, value) in map {
        let here = path.key(key);
        if key == "$or" && is_or_operator(value) {
            let alternatives = value.as_array().expect("checked by is_or_operator");
            let group = alternatives
                .iter()
                .enumerate()
                .map(|(i, alt)| object(alt, &here.index(i)))
                .collect::<Result<Vec<_>, _>>()?;
            pattern.any_of.push(group);
            continue;
        }
        let field = match value {
            Value::Object(inner) => FieldPattern::Object(object_fields(inner, &here)?),
            Value::Array(items) => FieldPattern::Values(values(items, &here)?),
            other => {
                return Err(here.error(format!(
                    "must be an array of values or an object, not {}",
                    kind(other)
                )))
            }
        };
        pattern.fields.push((key.clone(), field));
    }
    Ok(pattern)
}

/// event-ruler's rule: `$or` is the operator only with an array of 2+
/// objects none of which uses an operator name as a field.
fn is_or_operator(value: &Value) -> bool {
    let Value::Array(items) = value else {
        return false;
    };
    items.len() >= 2
        && items.iter().all(|item| {
            item.as_object()
                .is_some_and(|o| o.keys().all(|k| !OPERATORS.contains(&k.as_str())))
        })
}

fn values(items: &[Value], path: &Path) -> Result<Vec<ValueMatcher>, PatternError> {
    if items.is_empty() {
        return Err(path.error("empty arrays are not allowed"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| value(item, &path.index(i)))
        .collect()
}

fn value(item: &Value, path: &Path) -> Result<ValueMatcher, PatternError> {
    match item {
        Value::Null => Ok(ValueMatcher::Exact(Scalar::Null)),
        Value::Bool(b) => Ok(ValueMatcher::Exact(Scalar::Bool(*b))),
        Value::Number(n) => Ok(ValueMatcher::Exact(Scalar::Number(number(n, path)?))),
        Value::String(s) => Ok(ValueMatcher::Exact(Scalar::String(s.clone()))),
        Value::Array(_) => Err(path.error("arrays inside a value list are not allowed")),
        Value::Object(map) => operator(map, path),
    }
}

fn number(n: &serde_json::Number, path: &Path) -> Result<f64, PatternError> {
    n.as_f64()
        .filter(|f| f.is_finite())
        .ok_or_else(|| path.error(format!("{n} is not a representable number")))
}

fn single_entry<'a>(
    map: &'a Map<String, Value>,
    path: &Path,
) -> Result<(&'a str, &'a Value), PatternError> {
    let mut entries = map.iter();
    match (entries.next(), entries.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        (None, _) => Err(path.error("empty objects are not allowed")),
        _ => Err(path.error(format!(
            "a matcher object must have exactly one operator, found {}",
            map.keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn string<'a>(value: &'a Value, path: &Path, what: &str) -> Result<&'a str, PatternError> {
    value
        .as_str()
        .ok_or_else(|| path.error(format!("{what} takes a string, not {}", kind(value))))
}

fn operator(map: &Map<String, Value>, path: &Path) -> Result<ValueMatcher, PatternError> {
    let (name, arg) = single_entry(map, path)?;
    let here = path.key(name);
    match name {
        "prefix" | "suffix" => {
            let (text, ignore_case) = match arg {
                Value::Object(inner) => {
                    let (inner_name, inner_arg) = single_entry(inner, &here)?;
                    if inner_name != "equals-ignore-case" {
                        return Err(here.error(format!(
                            "{name} takes a string or {{\"equals-ignore-case\": string}}, not {inner_name:?}"
                        )));
                    }
                    let inner_path = here.key(inner_name);
                    (string(inner_arg, &inner_path, "equals-ignore-case")?, true)
                }
                other => (string(other, &here, name)?, false),
            };
            let text = text.to_string();
            Ok(if name == "prefix" {
                ValueMatcher::Prefix { text, ignore_case }
            } else {
                ValueMatcher::Suffix { text, ignore_case }
            })
        }
        "equals-ignore-case" => Ok(ValueMatcher::EqualsIgnoreCase(
            string(arg, &here, name)?.to_string(),
        )),
        "wildcard" => Ok(ValueMatcher::Wildcard(wildcard(
            string(arg, &here, name)?,
            &here,
        )?)),
        "anything-but" => Ok(ValueMatcher::AnythingBut(anything_but(arg, &here)?)),
        "numeric" => Ok(ValueMatcher::Numeric(numeric(arg, &here)?)),
        "cidr" => Ok(ValueMatcher::Cidr(cidr(string(arg, &here, name)?, &here)?)),
        "exists" => match arg {
            Value::Bool(b) => Ok(ValueMatcher::Exists(*b)),
            other => Err(here.error(format!("exists takes true or false, not {}", kind(other)))),
        },
        unknown => Err(path.error(format!(
            "unknown operator {unknown:?} (expected one of {})",
            OPERATORS.join(", ")
        ))),
    }
}

pub(super) fn wildcard(text: &str, path: &Path) -> Result<Wildcard, PatternError> {
    let mut pieces = vec![String::new()];
    let mut chars = text.chars().peekable();
    let mut previous_was_star = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped @ ('*' | '\\')) => {
                    pieces.last_mut().expect("never empty").push(escaped);
                    previous_was_star = false;
                }
                Some(other) => {
                    return Err(path.error(format!(
                        "wildcard {text:?}: a backslash may only escape '*' or '\\', not {other:?}"
                    )))
                }
                None => {
                    return Err(path.error(format!("wildcard {text:?} ends in a lone backslash")))
                }
            },
            '*' => {
                if previous_was_star {
                    return Err(path.error(format!(
                        "wildcard {text:?}: consecutive '*' are not allowed"
                    )));
                }
                pieces.push(String::new());
                previous_was_star = true;
            }
            other => {
                pieces.last_mut().expect("never empty").push(other);
                previous_was_star = false;
            }
        }
    }
    Ok(Wildcard { pieces })
}

fn strings(arg: &Value, path: &Path, what: &str) -> Result<Vec<String>, PatternError> {
    match arg {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, v)| string(v, &path.index(i), what).map(str::to_string))
            .collect(),
        Value::Array(_) => Err(path.error("empty arrays are not allowed")),
        other => Err(path.error(format!(
            "{what} takes a string or a list of strings, not {}",
            kind(other)
        ))),
    }
}

fn anything_but(arg: &Value, path: &Path) -> Result<AnythingBut, PatternError> {
    match arg {
        Value::String(s) => Ok(AnythingBut::Strings(vec![s.clone()])),
        Value::Number(n) => Ok(AnythingBut::Numbers(vec![number(n, path)?])),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(path.error("empty arrays are not allowed"));
            }
            if items.iter().all(Value::is_string) {
                Ok(AnythingBut::Strings(
                    items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                ))
            } else if items.iter().all(Value::is_number) {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::Number(n) => number(n, &path.index(i)),
                        _ => unreachable!("all numbers"),
                    })
                    .collect::<Result<_, _>>()
                    .map(AnythingBut::Numbers)
            } else {
                Err(path.error("anything-but takes a list of only strings or only numbers"))
            }
        }
        Value::Object(map) => {
            let (name, inner) = single_entry(map, path)?;
            let here = path.key(name);
            match name {
                "prefix" => Ok(AnythingBut::Prefix(non_empty(strings(inner, &here, name)?, &here)?)),
                "suffix" => Ok(AnythingBut::Suffix(non_empty(strings(inner, &here, name)?, &here)?)),
                "equals-ignore-case" => {
                    Ok(AnythingBut::EqualsIgnoreCase(strings(inner, &here, name)?))
                }
                "wildcard" => strings(inner, &here, name)?
                    .iter()
                    .map(|w| wildcard(w, &here))
                    .collect::<Result<_, _>>()
                    .map(AnythingBut::Wildcard),
                other => Err(path.error(format!(
                    "anything-but nests only prefix, suffix, equals-ignore-case or wildcard, not {other:?}"
                ))),
            }
        }
        other => Err(path.error(format!(
            "anything-but takes a string, a number, a list of either, or a nested prefix/suffix/equals-ignore-case/wildcard, not {}",
            kind(other)
        ))),
    }
}

/// event-ruler: "Null prefix/suffix not allowed" under anything-but.
fn non_empty(texts: Vec<String>, path: &Path) -> Result<Vec<String>, PatternError> {
    if texts.iter().any(String::is_empty) {
        return Err(path.error("an empty prefix or suffix is not allowed under anything-but"));
    }
    Ok(texts)
}

fn numeric(arg: &Value, path: &Path) -> Result<NumericRange, PatternError> {
    let Value::Array(items) = arg else {
        return Err(path.error(format!(
            "numeric takes [operator, number, ...], not {}",
            kind(arg)
        )));
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err(path.error(
            "numeric takes one or two (operator, number) pairs, e.g. [\">\", 0, \"<=\", 5]",
        ));
    }
    let mut range = NumericRange {
        lower: None,
        upper: None,
    };
    let mut equals = false;
    for (pair, chunk) in items.chunks(2).enumerate() {
        let op_path = path.index(pair * 2);
        let op = chunk[0]
            .as_str()
            .ok_or_else(|| op_path.error("expected an operator: <, <=, =, >= or >"))?;
        let num_path = path.index(pair * 2 + 1);
        let n = match &chunk[1] {
            Value::Number(n) => number(n, &num_path)?,
            other => return Err(num_path.error(format!("expected a number, not {}", kind(other)))),
        };
        if !(-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&n) {
            return Err(num_path.error(format!("{n} is outside numeric's range of ±5e9")));
        }
        let slot = match op {
            // event-ruler reads a range lower bound first: ["<", 5, ">", 0] is rejected.
            ">" | ">=" if pair == 1 => {
                return Err(op_path
                    .error("the second operator of a range must be < or <= (its upper bound)"))
            }
            "<" | "<=" if pair == 0 && items.len() == 4 => {
                return Err(op_path.error(
                    "a range gives the lower bound (> or >=) first, e.g. [\">\", 0, \"<=\", 5]",
                ))
            }
            ">" | ">=" => &mut range.lower,
            "<" | "<=" => &mut range.upper,
            "=" => {
                if items.len() != 2 {
                    return Err(op_path.error("\"=\" cannot be combined with another operator"));
                }
                equals = true;
                range.lower = Some((n, true));
                range.upper = Some((n, true));
                continue;
            }
            other => {
                return Err(op_path.error(format!(
                    "unknown numeric operator {other:?} (expected <, <=, =, >= or >)"
                )))
            }
        };
        *slot = Some((n, op.ends_with('=')));
    }
    if let (false, Some((low, _)), Some((high, _))) = (equals, range.lower, range.upper) {
        if low >= high {
            return Err(path.error(format!(
                "empty range: lower bound {low} is not below upper bound {high}"
            )));
        }
    }
    Ok(range)
}

fn cidr(text: &str, path: &Path) -> Result<Cidr, PatternError> {
    let bad = |why: &str| path.error(format!("cidr {text:?}: {why}"));
    let (address, length) = text
        .split_once('/')
        .ok_or_else(|| bad("expected address/prefix-length, e.g. 10.0.0.0/24"))?;
    let network: IpAddr = address
        .parse()
        .map_err(|_| bad("not an IPv4 or IPv6 address"))?;
    // event-ruler (CIDR.java) rejects /32 and /128: a single address is an exact value.
    let max = if network.is_ipv4() { 31 } else { 127 };
    let prefix_len: u8 = length
        .parse()
        .ok()
        .filter(|l| *l <= max)
        .ok_or_else(|| bad(&format!("prefix length must be 0..={max}")))?;
    Ok(Cidr {
        network,
        prefix_len,
    })
}

//! Structural Avro schema checks, without an Avro library: enough to refuse
//! what the registry's Avro parser refuses in practice (not JSON, no type,
//! records without name or fields, undefined or redefined names, bad enum
//! symbols, unions of unions) so tests see 42201 where production would.
//! Field defaults are not checked against their types.

use std::collections::HashSet;

use serde_json::{Map, Value};

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// Checks `schema` (parsed JSON); `known` holds the full names the schema's
/// references define. Returns the full names the schema itself defines, so
/// schemas referencing it can use them.
pub(super) fn validate(schema: &Value, known: &HashSet<String>) -> Result<Vec<String>, String> {
    let mut parser = Parser {
        known,
        defined: Vec::new(),
    };
    parser.schema(schema, None)?;
    Ok(parser.defined)
}

struct Parser<'a> {
    known: &'a HashSet<String>,
    defined: Vec<String>,
}

impl Parser<'_> {
    fn schema(&mut self, schema: &Value, ns: Option<&str>) -> Result<(), String> {
        match schema {
            Value::String(name) => self.reference(name, ns),
            Value::Array(branches) => self.union(branches, ns),
            Value::Object(map) => match map.get("type") {
                Some(Value::String(kind)) => match kind.as_str() {
                    "record" | "error" => self.record(map, ns),
                    "enum" => self.enumeration(map, ns),
                    "fixed" => self.fixed(map, ns),
                    "array" => self.schema(required(map, "items", "array")?, ns),
                    "map" => self.schema(required(map, "values", "map")?, ns),
                    // A primitive with attributes (logicalType, ...) or a
                    // named type used through an object.
                    other => self.reference(other, ns),
                },
                Some(nested @ (Value::Object(_) | Value::Array(_))) => self.schema(nested, ns),
                Some(other) => Err(format!("type must be a string, object or array: {other}")),
                None => Err(format!("No type: {schema}")),
            },
            other => Err(format!("{other} is not a schema")),
        }
    }

    fn union(&mut self, branches: &[Value], ns: Option<&str>) -> Result<(), String> {
        let mut seen = HashSet::new();
        for branch in branches {
            if branch.is_array() {
                return Err("Unions may not immediately contain other unions".into());
            }
            self.schema(branch, ns)?;
            // Avro allows one branch per type, named types by full name.
            let key = branch_key(branch, ns);
            if !seen.insert(key.clone()) {
                return Err(format!("Duplicate in union: {key}"));
            }
        }
        Ok(())
    }

    fn record(&mut self, map: &Map<String, Value>, ns: Option<&str>) -> Result<(), String> {
        let (_, ns) = self.define(map, ns)?;
        let fields = match map.get("fields") {
            Some(Value::Array(fields)) => fields,
            _ => {
                return Err(format!(
                    "Record has no fields: {}",
                    Value::Object(map.clone())
                ))
            }
        };
        let mut names = HashSet::new();
        for field in fields {
            let name = field
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("No field name: {field}"))?;
            check_simple_name(name)?;
            if !names.insert(name) {
                return Err(format!("Duplicate field {name}"));
            }
            let kind = field
                .get("type")
                .ok_or_else(|| format!("No field type: {field}"))?;
            self.schema(kind, ns.as_deref())?;
        }
        Ok(())
    }

    fn enumeration(&mut self, map: &Map<String, Value>, ns: Option<&str>) -> Result<(), String> {
        let (full, _) = self.define(map, ns)?;
        let symbols = match map.get("symbols") {
            Some(Value::Array(symbols)) => symbols,
            _ => return Err(format!("Enum {full} has no symbols")),
        };
        let mut seen = HashSet::new();
        for symbol in symbols {
            let symbol = symbol
                .as_str()
                .ok_or_else(|| format!("Enum {full} symbol is not a string: {symbol}"))?;
            check_simple_name(symbol)?;
            if !seen.insert(symbol) {
                return Err(format!("Duplicate enum symbol: {symbol}"));
            }
        }
        match map.get("default") {
            Some(Value::String(d)) if !seen.contains(d.as_str()) => Err(format!(
                "The Enum Default: {d} is not in the enum symbol set"
            )),
            Some(d) if !d.is_string() => Err(format!("Enum {full} default is not a string")),
            _ => Ok(()),
        }
    }

    fn fixed(&mut self, map: &Map<String, Value>, ns: Option<&str>) -> Result<(), String> {
        let (full, _) = self.define(map, ns)?;
        match map.get("size").and_then(Value::as_u64) {
            Some(_) => Ok(()),
            None => Err(format!("Invalid or no size: fixed {full}")),
        }
    }

    /// Registers a named type; returns its full name and the namespace its
    /// members resolve names in.
    fn define(
        &mut self,
        map: &Map<String, Value>,
        ns: Option<&str>,
    ) -> Result<(String, Option<String>), String> {
        let name = map
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("No name in schema: {}", Value::Object(map.clone())))?;
        let namespace = match map.get("namespace") {
            Some(Value::String(n)) => Some(n.as_str()),
            Some(Value::Null) | None => ns,
            Some(other) => return Err(format!("namespace must be a string: {other}")),
        };
        let full = match (name.contains('.'), namespace) {
            (true, _) | (false, None) => name.to_owned(),
            (false, Some("")) => name.to_owned(),
            (false, Some(ns)) => format!("{ns}.{name}"),
        };
        for part in full.split('.') {
            check_simple_name(part)?;
        }
        let simple = full.rsplit('.').next().unwrap_or_default();
        if PRIMITIVES.contains(&simple) && !full.contains('.') {
            return Err(format!("Schemas may not be named after primitives: {full}"));
        }
        if self.defined.contains(&full) || self.known.contains(&full) {
            return Err(format!("Can't redefine: {full}"));
        }
        self.defined.push(full.clone());
        let member_ns = full.rsplit_once('.').map(|(ns, _)| ns.to_owned());
        Ok((full, member_ns))
    }

    fn reference(&self, name: &str, ns: Option<&str>) -> Result<(), String> {
        if PRIMITIVES.contains(&name) {
            return Ok(());
        }
        let is_defined =
            |full: &str| self.defined.iter().any(|d| d == full) || self.known.contains(full);
        let qualified = ns.filter(|ns| !ns.is_empty() && !name.contains('.'));
        if qualified.is_some_and(|ns| is_defined(&format!("{ns}.{name}"))) || is_defined(name) {
            Ok(())
        } else {
            Err(format!("Undefined name: \"{name}\""))
        }
    }
}

fn required<'a>(map: &'a Map<String, Value>, key: &str, kind: &str) -> Result<&'a Value, String> {
    map.get(key).ok_or_else(|| format!("{kind} has no {key}"))
}

/// Avro names: `[A-Za-z_][A-Za-z0-9_]*`.
fn check_simple_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!("Illegal name: {name:?}"))
    }
}

/// What makes two union branches "the same type" for the duplicate check.
fn branch_key(branch: &Value, ns: Option<&str>) -> String {
    let qualify = |name: &str| match ns {
        Some(ns) if !ns.is_empty() && !name.contains('.') && !PRIMITIVES.contains(&name) => {
            format!("{ns}.{name}")
        }
        _ => name.to_owned(),
    };
    match branch {
        Value::String(name) => qualify(name),
        Value::Object(map) => match map.get("type").and_then(Value::as_str) {
            Some(kind @ ("record" | "error" | "enum" | "fixed")) => {
                let name = map.get("name").and_then(Value::as_str).unwrap_or(kind);
                match map.get("namespace").and_then(Value::as_str) {
                    Some(n) if !n.is_empty() && !name.contains('.') => format!("{n}.{name}"),
                    _ => qualify(name),
                }
            }
            Some(kind) => qualify(kind),
            None => branch.to_string(),
        },
        other => other.to_string(),
    }
}

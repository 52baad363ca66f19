//! An EventBridge event-pattern matcher over `serde_json::Value`, faithful to
//! AWS's event bus semantics (aws/event-ruler's `rulesForJSONEvent`).
//!
//! Supported: exact values (a list is an OR; `null` and `""` are distinct),
//! `prefix` and `suffix` (optionally `{"equals-ignore-case": ..}`),
//! `equals-ignore-case`, `wildcard` (`*`, escapes `\*` and `\\`),
//! `anything-but` (a string, a number, a list of strings or of numbers, or a
//! nested `prefix`/`suffix`/`equals-ignore-case`/`wildcard` with one value or
//! a list), `numeric` (`<`, `<=`, `=`, `>=`, `>` and two-sided ranges),
//! `cidr` (IPv4 and IPv6), `exists`, and `$or`.
//!
//! Choices where AWS's documentation is terse, each checked against event-ruler's README:
//! - **Arrays in events.** A field whose value is an array matches when any
//!   element matches (nested arrays are flattened). A sub-pattern reaching
//!   into an array of objects must match within *one* element: fields of
//!   different elements never combine (array-consistent matching).
//! - **`exists`** looks at leaf values only: an object, an empty array or an
//!   array of only objects counts as absent. `null` is a present value.
//! - **`anything-but`** needs a present leaf value, and on an array matches
//!   when some element is not excluded. It matches values of any type (a
//!   number is "anything but" a string).
//! - **`cidr`** follows event-ruler's `CIDR.java`: prefix lengths up to /31
//!   (IPv4) and /127 (IPv6), and the range runs from the address as written
//!   (host bits are not cleared) to its last host.
//! - **`numeric`** and `cidr` only look at JSON numbers and strings holding an
//!   IP address respectively; `numeric` bounds must lie within ±5e9 (AWS's
//!   limit), and an event number outside that range never matches `numeric`.
//! - **Exact numbers** compare numerically (`300` matches `300.0`), never
//!   against strings or booleans.
//! - **`$or`** is the operator when its value is an array of two or more
//!   objects; otherwise `$or` is an ordinary field name, as in event-ruler.
//! - **Dots in keys** are not treated as nesting (event-ruler's README says
//!   that equivalence "should not be relied upon"); keys match literally.
//!
//! Validation is strict, like `PutRule`'s: every problem is a [`PatternError`]
//! naming the path in the pattern (`detail.state[0].numeric: ...`).

mod matching;
mod parse;
#[cfg(test)]
mod tests;

use serde_json::Value;

pub use parse::PatternError;

/// A validated EventBridge event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern {
    root: ObjectPattern,
}

impl EventPattern {
    /// Validates `pattern` (a JSON object) and compiles it.
    pub fn new(pattern: &Value) -> Result<EventPattern, PatternError> {
        Ok(EventPattern {
            root: parse::object(pattern, &parse::Path::root())?,
        })
    }

    /// Parses and validates a pattern given as JSON text, as `PutRule` takes it.
    pub fn from_json(text: &str) -> Result<EventPattern, PatternError> {
        let value: Value = serde_json::from_str(text).map_err(|e| PatternError {
            path: "$".into(),
            message: format!("not JSON: {e}"),
        })?;
        EventPattern::new(&value)
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &Value) -> bool {
        matching::object_matches(&self.root, Some(event))
    }
}

/// An object level of a pattern: every field must match (AND), and for every
/// `$or` group at least one alternative.
#[derive(Debug, Clone, PartialEq)]
struct ObjectPattern {
    fields: Vec<(String, FieldPattern)>,
    any_of: Vec<Vec<ObjectPattern>>,
}

#[derive(Debug, Clone, PartialEq)]
enum FieldPattern {
    Object(ObjectPattern),
    /// A leaf: matches when any matcher matches any of the field's values.
    Values(Vec<ValueMatcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum ValueMatcher {
    Exact(Scalar),
    Prefix { text: String, ignore_case: bool },
    Suffix { text: String, ignore_case: bool },
    EqualsIgnoreCase(String),
    Wildcard(Wildcard),
    AnythingBut(AnythingBut),
    Numeric(NumericRange),
    Cidr(Cidr),
    Exists(bool),
}

/// A JSON leaf value of a pattern.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
}

#[derive(Debug, Clone, PartialEq)]
enum AnythingBut {
    Strings(Vec<String>),
    Numbers(Vec<f64>),
    Prefix(Vec<String>),
    Suffix(Vec<String>),
    EqualsIgnoreCase(Vec<String>),
    Wildcard(Vec<Wildcard>),
}

/// A wildcard pattern as the literal pieces between its `*`s.
#[derive(Debug, Clone, PartialEq)]
struct Wildcard {
    pieces: Vec<String>,
}

/// `lower < x < upper`, each bound optional and open or closed.
#[derive(Debug, Clone, Copy, PartialEq)]
struct NumericRange {
    lower: Option<(f64, bool)>,
    upper: Option<(f64, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Cidr {
    network: std::net::IpAddr,
    prefix_len: u8,
}

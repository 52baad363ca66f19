//! The Pipes batch read as raw JSON: each record's members in order, their values left as the
//! text they came in. The handler parses only what it needs (`key`, `value`, `headers` and the
//! record's position) and copies every other member to the output verbatim, so a record costs
//! a scan over its text instead of a `serde_json::Value` tree built, cloned and dropped.
//!
//! The event is a `RawValue`, so already known to be JSON: [`parse_batch`] only finds the
//! member boundaries. Fields are read with the same checks, in the same order, as
//! [`RecordFields::parse`] reads a parsed record; whatever is not the plain shape (a type
//! error, a number that is not a plain integer, an unusual header) is parsed to a `Value` and
//! handed to the very same functions, so both paths accept the same records and report the same
//! first error (`tests/pure_raw_path.rs` holds them to it).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::record::{headers, integer, string, Headers, RecordError, RecordFields};

/// One element of the Pipes array.
#[derive(Debug)]
pub enum Element<'a> {
    /// A JSON object: its members in order (duplicates kept), values unparsed.
    Object(Vec<Member<'a>>),
    /// Anything else; it cannot be a Kafka record, and its dead letter needs it whole.
    Other(Value),
}

/// A member of a record as it came: both halves are JSON text from the event.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// The name as a JSON string, quotes and escapes included.
    pub name_json: &'a str,
    /// The value's JSON text.
    pub value_json: &'a str,
    /// The name has no escapes (as the scan found), so it is the text inside the quotes.
    pub plain_name: bool,
    /// The value is a string without escapes, so its content is the text inside the quotes
    /// (known from the scan: the long base64 values are not searched a second time).
    pub plain_string: bool,
}

impl<'a> Member<'a> {
    /// The name, unescaped.
    pub fn name(&self) -> Cow<'a, str> {
        unquote(self.name_json)
    }

    /// `pick` applied to the name, unescaping only a name that needs it (the hot path matches
    /// a handful of plain names on every member).
    pub fn pick<R>(&self, pick: impl Fn(&str) -> Option<R>) -> Option<R> {
        let json = self.name_json;
        pick(&json[1..json.len() - 1]).or_else(|| {
            if self.plain_name {
                None
            } else {
                pick(&unquote(json))
            }
        })
    }
}

/// A JSON string's content, borrowed unless it has escapes.
fn unquote(json: &str) -> Cow<'_, str> {
    if json.contains('\\') {
        Cow::Owned(serde_json::from_str(json).unwrap_or_default())
    } else {
        Cow::Borrowed(&json[1..json.len() - 1])
    }
}

/// Reads the Pipes array. `event` is known to be JSON, so this is a scan for the structure
/// (member boundaries), not a parse; it fails only when the event is not an array.
pub fn parse_batch(event: &RawValue) -> Result<Vec<Element<'_>>, String> {
    let text = event.get();
    let mut scan = Scan {
        text,
        bytes: text.as_bytes(),
        at: 0,
        plain_string: false,
    };
    if scan.peek() != b'[' {
        let kind = match scan.peek() {
            b'{' => "an object",
            b'"' => "a string",
            b'n' => "null",
            b't' | b'f' => "a boolean",
            _ => "a number",
        };
        return Err(format!("expected an array of Kafka records, got {kind}"));
    }
    scan.at += 1;
    let mut elements = Vec::with_capacity(16);
    if scan.peek() == b']' {
        return Ok(elements);
    }
    loop {
        elements.push(scan.element());
        // `,` or the closing `]`.
        let done = scan.peek() == b']';
        scan.at += 1;
        if done {
            return Ok(elements);
        }
    }
}

/// A cursor over JSON text already known to be valid.
struct Scan<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    /// Whether the last [`Scan::value`] was a string without escapes.
    plain_string: bool,
}

impl<'a> Scan<'a> {
    /// The next byte after whitespace (0 at the end).
    fn peek(&mut self) -> u8 {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
        self.bytes.get(self.at).copied().unwrap_or(0)
    }

    fn element(&mut self) -> Element<'a> {
        if self.peek() != b'{' {
            let json = self.value();
            return Element::Other(serde_json::from_str(json).unwrap_or(Value::Null));
        }
        self.at += 1;
        let mut members = Vec::with_capacity(12);
        if self.peek() == b'}' {
            self.at += 1;
            return Element::Object(members);
        }
        loop {
            self.peek();
            let name_json = self.value();
            let plain_name = self.plain_string;
            self.peek(); // the `:`
            self.at += 1;
            self.peek();
            let value_json = self.value();
            members.push(Member {
                name_json,
                value_json,
                plain_name,
                plain_string: self.plain_string,
            });
            let done = self.peek() == b'}';
            self.at += 1;
            if done {
                return Element::Object(members);
            }
        }
    }

    /// The value starting here, as text; the cursor moves past it.
    fn value(&mut self) -> &'a str {
        let start = self.at;
        self.plain_string = false;
        match self.bytes.get(start) {
            Some(b'"') => {
                let (end, escaped) = self.string_end(start);
                self.at = end;
                self.plain_string = !escaped;
            }
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(&b) = self.bytes.get(self.at) {
                    match b {
                        b'"' => {
                            self.at = self.string_end(self.at).0;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                while let Some(&b) = self.bytes.get(self.at) {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.at += 1;
                }
            }
        }
        &self.text[start..self.at]
    }

    /// Just past the string that opens at `start`, and whether it has escapes.
    fn string_end(&self, start: usize) -> (usize, bool) {
        let bytes = self.bytes;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            // SIMD search for the closing quote or a backslash (base64 values are long).
            match memchr::memchr2(b'"', b'\\', &bytes[i.min(bytes.len())..]) {
                Some(n) if bytes[i + n] == b'"' => return (i + n + 1, escaped),
                Some(n) => {
                    escaped = true;
                    i += n + 2;
                }
                None => return (bytes.len(), escaped),
            }
        }
    }
}

impl Element<'_> {
    /// The record as a `Value`, for its dead letter (the original record, unmodified).
    pub fn to_value(&self) -> Value {
        match self {
            Element::Other(v) => v.clone(),
            // Collected like a parse would: a repeated member keeps its first place, last value.
            Element::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|m| (m.name().into_owned(), parsed(m.value_json)))
                    .collect(),
            ),
        }
    }

    /// The JSON text of member `name` (the last one when repeated).
    pub fn member(&self, name: &str) -> Option<&str> {
        match self {
            Element::Object(members) => members
                .iter()
                .rev()
                .find(|m| m.name() == name)
                .map(|m| m.value_json),
            Element::Other(_) => None,
        }
    }

    /// Reads the record's fields, as [`RecordFields::parse`] does on the parsed record.
    pub fn fields(&self) -> Result<RecordFields<'_>, RecordError> {
        let members = match self {
            Element::Object(members) => members,
            // Not an object: the shared check names what it is.
            Element::Other(v) => return RecordFields::parse(v),
        };
        let mut found: [Option<(&str, bool)>; 7] = [None; 7];
        for member in members {
            let slot = member.pick(|name| match name {
                "eventSourceKey" => Some(0),
                "topic" => Some(1),
                "partition" => Some(2),
                "offset" => Some(3),
                "key" => Some(4),
                "value" => Some(5),
                "headers" => Some(6),
                _ => None,
            });
            if let Some(slot) = slot {
                found[slot] = Some((member.value_json, member.plain_string));
            }
        }
        let [event_source_key, topic, partition, offset, key, value, header_list] = found;
        Ok(RecordFields::assemble(
            raw_string("eventSourceKey", event_source_key)?,
            raw_string("topic", topic)?,
            raw_integer("partition", text(partition))?,
            raw_integer("offset", text(offset))?,
            raw_string("key", key)?,
            raw_string("value", value)?,
            raw_headers(text(header_list))?,
        ))
    }
}

/// A member's JSON text.
fn text(member: Option<(&str, bool)>) -> Option<&str> {
    member.map(|(json, _)| json)
}

fn owned_headers(headers: Headers<'_>) -> Headers<'static> {
    headers
        .into_iter()
        .map(|(n, b)| (Cow::Owned(n.into_owned()), b))
        .collect()
}

/// A member's value as a `Value`, for the shared checks (the text is valid JSON).
fn parsed(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or(Value::Null)
}

/// A member's value (text, and whether it is a string without escapes) as a string field.
fn raw_string<'a>(
    field: &str,
    member: Option<(&'a str, bool)>,
) -> Result<Option<Cow<'a, str>>, RecordError> {
    let json = match member {
        Some((json, true)) => return Ok(Some(Cow::Borrowed(&json[1..json.len() - 1]))),
        Some((json, false)) => Some(json),
        None => None,
    };
    match json {
        None | Some("null") => Ok(None),
        Some(json) if json.starts_with('"') => Ok(Some(unquote(json))),
        Some(json) => {
            string(field, Some(&parsed(json))).map(|s| s.map(|s| Cow::Owned(s.to_owned())))
        }
    }
}

fn raw_integer(field: &str, json: Option<&str>) -> Result<Option<i64>, RecordError> {
    let Some(json) = json else { return Ok(None) };
    // A plain JSON integer, the usual case, without building a `Value` (`-0`, exponents,
    // fractions and strings take the shared path).
    let plain = matches!(
        json.as_bytes(),
        [b'1'..=b'9', ..] | [b'0'] | [b'-', b'1'..=b'9', ..]
    );
    match json.parse::<i64>() {
        Ok(n) if plain => Ok(Some(n)),
        _ => integer(field, Some(&parsed(json))),
    }
}

fn raw_headers(json: Option<&str>) -> Result<Headers<'_>, RecordError> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    match serde_json::from_str::<Option<Vec<Header<'_>>>>(json) {
        Ok(list) => Ok(list
            .unwrap_or_default()
            .into_iter()
            .map(|h| (h.0, h.1))
            .collect()),
        Err(_) => headers(Some(&parsed(json))).map(owned_headers),
    }
}

/// A JSON string, borrowed from the input unless it had escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// One header in the shape Pipes sends, `{"name": [byte, ...]}`. Anything else (several names
/// in one object, a value out of range) is not read here: the `Value` path decides.
struct Header<'a>(Cow<'a, str>, Vec<u8>);

impl<'de> Deserialize<'de> for Header<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Header<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with one header")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header<'de>, A::Error> {
                let Some(name) = map.next_key::<Text<'de>>()? else {
                    return Err(de::Error::custom("not one header"));
                };
                let Bytes(value) = map.next_value()?;
                if map.next_key::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("not one header"));
                }
                Ok(Header(name.0, value))
            }
        }
        d.deserialize_map(V)
    }
}

/// Java's signed bytes (-128..=127) or unsigned ones (0..=255).
struct Bytes(Vec<u8>);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of bytes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(16));
                while let Some(b) = seq.next_element::<i64>()? {
                    match b {
                        -128..=255 => out.push(b as u8),
                        _ => return Err(de::Error::custom("not a byte")),
                    }
                }
                Ok(Bytes(out))
            }
        }
        d.deserialize_seq(V)
    }
}

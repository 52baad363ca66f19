//! Writing decoded records: the output record around the input record's members (parsed or
//! raw), one record at a time, into per-record raw values or one response array.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::avro_json::Decoded;
use crate::raw::Member;
use crate::record::ReadableHeaders;

/// A decoded key or value in the output record.
pub(crate) enum Field<'a> {
    Null,
    Text(Cow<'a, str>),
    Decoded(Decoded<'a>),
}

impl serde::Serialize for Field<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Null => s.serialize_unit(),
            Field::Text(text) => s.serialize_str(text),
            Field::Decoded(d) => d.serialize(s),
        }
    }
}

/// The input record an output record is written around.
#[derive(Clone, Copy)]
pub(crate) enum Original<'a> {
    Parsed(&'a serde_json::Map<String, Value>),
    Raw(&'a [Member<'a>]),
    /// Not set yet (the enrichment sets it before rendering).
    None,
}

/// The output record: the input record's fields in their order, with
/// `key`, `value` and `headers` decoded, then the schema ids.
pub(crate) struct OutputRecord<'a> {
    pub(crate) original: Original<'a>,
    pub(crate) key: &'a Field<'a>,
    pub(crate) value: &'a Field<'a>,
    pub(crate) headers: ReadableHeaders<'a>,
    pub(crate) value_schema: Option<Value>,
    pub(crate) key_schema: Option<Value>,
}

impl OutputRecord<'_> {
    /// One member of the input record, decoded or as it came (raw text is copied verbatim).
    fn member<M: serde::ser::SerializeMap, V: serde::Serialize + ?Sized>(
        &self,
        map: &mut M,
        name: &str,
        original: &V,
        seen: &mut (bool, bool),
    ) -> Result<(), M::Error> {
        match name {
            "key" => {
                seen.0 = true;
                map.serialize_entry(name, self.key)
            }
            "value" => {
                seen.1 = true;
                map.serialize_entry(name, self.value)
            }
            "headers" => map.serialize_entry(name, &self.headers),
            _ => map.serialize_entry(name, original),
        }
    }
}

impl serde::Serialize for OutputRecord<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        let mut seen = (false, false);
        match self.original {
            Original::Parsed(members) => {
                for (name, v) in members {
                    self.member(&mut map, name, v, &mut seen)?;
                }
            }
            // The raw path writes these itself ([`write_raw`]); this keeps the type whole.
            Original::Raw(members) => {
                for m in members {
                    let raw: &RawValue =
                        serde_json::from_str(m.value_json).map_err(serde::ser::Error::custom)?;
                    self.member(&mut map, &m.name(), raw, &mut seen)?;
                }
            }
            Original::None => {}
        }
        if !seen.0 {
            map.serialize_entry("key", self.key)?;
        }
        if !seen.1 {
            map.serialize_entry("value", self.value)?;
        }
        if let Some(id) = &self.value_schema {
            map.serialize_entry("valueSchemaId", id)?;
        }
        if let Some(id) = &self.key_schema {
            map.serialize_entry("keySchemaId", id)?;
        }
        map.end()
    }
}

/// Where decoded records go.
pub(crate) trait Sink {
    /// One record serialized.
    type Json;
    fn render(record: &OutputRecord<'_>) -> Result<Self::Json, serde_json::Error>;
    fn size(json: &Self::Json) -> usize;
    fn push(&mut self, json: Self::Json);
}

/// Each record its own raw value ([`crate::enrich::Outcome::output`]).
pub(crate) struct Boxed(pub(crate) Vec<Box<RawValue>>);

impl Sink for Boxed {
    type Json = Box<RawValue>;
    fn render(record: &OutputRecord<'_>) -> Result<Box<RawValue>, serde_json::Error> {
        serde_json::value::to_raw_value(record)
    }
    fn size(json: &Box<RawValue>) -> usize {
        json.get().len()
    }
    fn push(&mut self, json: Box<RawValue>) {
        self.0.push(json);
    }
}

/// All records in one JSON array text ([`crate::enrich::RawOutcome::output`]).
#[derive(Default)]
pub(crate) struct Array {
    text: Vec<u8>,
    pub(crate) count: usize,
}

impl Sink for Array {
    type Json = Vec<u8>;
    fn render(record: &OutputRecord<'_>) -> Result<Vec<u8>, serde_json::Error> {
        let Original::Raw(members) = record.original else {
            return serde_json::to_vec(record);
        };
        // Room for the copied members plus the decoded value, so the buffer rarely grows.
        let estimate: usize = members
            .iter()
            .map(|m| m.name_json.len() + 1 + m.value_json.len() * 3)
            .sum();
        let mut out = Vec::with_capacity(estimate + 64);
        write_raw(members, record, &mut out)?;
        Ok(out)
    }
    fn size(json: &Vec<u8>) -> usize {
        json.len()
    }
    fn push(&mut self, json: Vec<u8>) {
        if self.count == 0 {
            self.text.reserve(json.len() * 10 + 2);
            self.text.push(b'[');
        } else {
            self.text.push(b',');
        }
        self.text.extend_from_slice(&json);
        self.count += 1;
    }
}

/// The output record around raw members: what [`OutputRecord`]'s `Serialize` writes, with the
/// untouched members copied as text instead of parsed and re-serialized.
fn write_raw(
    members: &[Member<'_>],
    record: &OutputRecord<'_>,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    fn entry<V: serde::Serialize + ?Sized>(
        out: &mut Vec<u8>,
        name_json: &str,
        value: &V,
    ) -> Result<(), serde_json::Error> {
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(name_json.as_bytes());
        out.push(b':');
        serde_json::to_writer(&mut *out, value)
    }
    // A datum already written as JSON text is copied, not serialized again.
    fn field(
        out: &mut Vec<u8>,
        name_json: &str,
        field: &Field<'_>,
    ) -> Result<(), serde_json::Error> {
        match field {
            Field::Decoded(d) => match d.json_text() {
                Some(text) => {
                    if out.len() > 1 {
                        out.push(b',');
                    }
                    out.extend_from_slice(name_json.as_bytes());
                    out.push(b':');
                    out.extend_from_slice(text.as_bytes());
                    Ok(())
                }
                None => entry(out, name_json, field),
            },
            _ => entry(out, name_json, field),
        }
    }
    out.push(b'{');
    let (mut key, mut value) = (false, false);
    for m in members {
        let decoded = m.pick(|name| match name {
            "key" => Some(0),
            "value" => Some(1),
            "headers" => Some(2),
            _ => None,
        });
        match decoded {
            Some(0) => {
                key = true;
                field(out, m.name_json, record.key)?;
            }
            Some(1) => {
                value = true;
                field(out, m.name_json, record.value)?;
            }
            Some(_) => entry(out, m.name_json, &record.headers)?,
            None => {
                if out.len() > 1 {
                    out.push(b',');
                }
                out.extend_from_slice(m.name_json.as_bytes());
                out.push(b':');
                out.extend_from_slice(m.value_json.as_bytes());
            }
        }
    }
    if !key {
        field(out, "\"key\"", record.key)?;
    }
    if !value {
        field(out, "\"value\"", record.value)?;
    }
    if let Some(id) = &record.value_schema {
        entry(out, "\"valueSchemaId\"", id)?;
    }
    if let Some(id) = &record.key_schema {
        entry(out, "\"keySchemaId\"", id)?;
    }
    out.push(b'}');
    Ok(())
}

impl Array {
    pub(crate) fn finish(mut self) -> Box<RawValue> {
        if self.count == 0 {
            self.text.push(b'[');
        }
        self.text.push(b']');
        // SAFETY: the text is one JSON array, in UTF-8: brackets and commas around records that
        // `write_raw` or serde_json's serializer wrote, from names and values either serialized
        // by serde_json, written by `avro_json`'s JSON writer (held to serde_json's text by
        // `tests/pure_fast_path.rs`) or copied from the event (a `RawValue`, so valid JSON, which the batch
        // scan cuts only at value boundaries, never inside a UTF-8 sequence), with no
        // surrounding whitespace.
        unsafe { RawValue::from_string_unchecked(String::from_utf8_unchecked(self.text)) }
    }
}

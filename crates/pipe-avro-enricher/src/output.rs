//! Writing decoded records: the output record around the input record's members (parsed or
//! raw), one record at a time, into per-record raw values or one response array.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;

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
    /// One record serialized (or where it was written).
    type Json;
    fn render(&self, record: &OutputRecord<'_>) -> Result<Self::Json, serde_json::Error>;
    fn size(json: &Self::Json) -> usize;
    /// The record is part of the output.
    fn push(&mut self, json: Self::Json);
    /// Forgets every record rendered so far (the batch is about to be enriched again).
    fn discard(&mut self);
}

/// Each record its own raw value ([`crate::enrich::Outcome::output`]).
pub(crate) struct Boxed(pub(crate) Vec<Box<RawValue>>);

impl Sink for Boxed {
    type Json = Box<RawValue>;
    fn render(&self, record: &OutputRecord<'_>) -> Result<Box<RawValue>, serde_json::Error> {
        serde_json::value::to_raw_value(record)
    }
    fn size(json: &Box<RawValue>) -> usize {
        json.get().len()
    }
    fn push(&mut self, json: Box<RawValue>) {
        self.0.push(json);
    }
    fn discard(&mut self) {
        self.0.clear();
    }
}

/// All records in one JSON array text ([`crate::enrich::RawOutcome::output`]), written where
/// they end up: each record is rendered straight after the previous one, and the text becomes
/// the response as is when the pushed records are the rendered ones in order (the usual case;
/// otherwise [`Array::finish`] copies the pushed spans out).
pub(crate) struct Array {
    /// `[`, then the rendered records, each but the first after a `,`.
    text: RefCell<Vec<u8>>,
    /// The pushed records' spans in `text`, in output order.
    pushed: Vec<Range<usize>>,
}

impl Array {
    /// An empty array with room for `bytes` of records.
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        let mut text = Vec::with_capacity(bytes + 2);
        text.push(b'[');
        Array {
            text: RefCell::new(text),
            pushed: Vec::new(),
        }
    }

    /// How many records were pushed.
    pub(crate) fn count(&self) -> usize {
        self.pushed.len()
    }
}

impl Sink for Array {
    type Json = Range<usize>;
    fn render(&self, record: &OutputRecord<'_>) -> Result<Range<usize>, serde_json::Error> {
        let mut text = self.text.borrow_mut();
        let mark = text.len();
        if mark > 1 {
            text.push(b',');
        }
        let start = text.len();
        let written = match record.original {
            Original::Raw(members) => write_raw(members, record, &mut text),
            _ => serde_json::to_writer(&mut *text, record),
        };
        match written {
            Ok(()) => Ok(start..text.len()),
            Err(e) => {
                text.truncate(mark);
                Err(e)
            }
        }
    }
    fn size(json: &Range<usize>) -> usize {
        json.len()
    }
    fn push(&mut self, json: Range<usize>) {
        self.pushed.push(json);
    }
    fn discard(&mut self) {
        self.text.get_mut().truncate(1);
        self.pushed.clear();
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
        separate(out);
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
                    separate(out);
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
    // A `,` before every member but the first: the record may start anywhere in `out`, and
    // only its opening brace ends in `{` (no JSON value does).
    fn separate(out: &mut Vec<u8>) {
        if out.last() != Some(&b'{') {
            out.push(b',');
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
                separate(out);
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
    pub(crate) fn finish(self) -> Box<RawValue> {
        let mut text = self.text.into_inner();
        let in_place = self.pushed.iter().enumerate().all(|(i, span)| {
            span.start
                == i.checked_sub(1)
                    .map_or(1, |previous| self.pushed[previous].end + 1)
        });
        if in_place {
            // Records rendered but not pushed (over the output limits) come after the last one.
            text.truncate(self.pushed.last().map_or(1, |span| span.end));
        } else {
            let mut out = Vec::with_capacity(text.len());
            out.push(b'[');
            for (i, span) in self.pushed.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(&text[span.clone()]);
            }
            text = out;
        }
        text.push(b']');
        // SAFETY: the text is one JSON array, in UTF-8: brackets and commas around records that
        // `write_raw` or serde_json's serializer wrote, from names and values either serialized
        // by serde_json, written by `avro_json`'s JSON writer (held to serde_json's text by
        // `tests/pure_fast_path.rs`) or copied from the event (a `RawValue`, so valid JSON, which
        // the batch scan cuts only at value boundaries, never inside a UTF-8 sequence), with no
        // surrounding whitespace.
        unsafe { RawValue::from_string_unchecked(String::from_utf8_unchecked(text)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(text: &str, pushed: Vec<Range<usize>>) -> String {
        let array = Array {
            text: RefCell::new(text.as_bytes().to_vec()),
            pushed,
        };
        array.finish().get().to_owned()
    }

    #[test]
    fn finish_keeps_the_pushed_records_in_push_order() {
        let text = r#"[{"a":1},{"b":2},{"c":3}"#;
        // In place, the last record rendered but over the limits.
        assert_eq!(finished(text, vec![1..8, 9..16]), r#"[{"a":1},{"b":2}]"#);
        // Rendered out of order (the fetching path) or with one left out: copied out.
        assert_eq!(finished(text, vec![9..16, 1..8]), r#"[{"b":2},{"a":1}]"#);
        assert_eq!(finished(text, vec![1..8, 17..24]), r#"[{"a":1},{"c":3}]"#);
        assert_eq!(finished(text, vec![]), "[]");
    }
}

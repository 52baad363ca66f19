//! A checked datum serialized straight from its Avro bytes: the serializer (serde_json's, writing
//! the output record) receives each value as the walk reads it, so the hot path builds no
//! `serde_json::Value` tree and allocates only for formatted text.
//!
//! Only data that `direct::check` accepted reaches this walk, so it validates nothing; it must
//! produce exactly what serializing `direct::decode`'s value would (`tests/pure_fast_path.rs`
//! holds the two to the same text).

use std::cell::{Cell, RefCell};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::compile::{Node, NodeId};
use super::cursor::Cursor;
use super::decimal::format_decimal;
use super::direct::skip;
use super::time::{self, Unit};
use super::walk::{float32, float64};
use super::Path;

/// One value of a checked datum: `node` read from `buf` at the shared position `pos`.
#[derive(Clone, Copy)]
pub(super) struct Value<'a, 'n> {
    pub(super) nodes: &'n [Node],
    pub(super) node: NodeId,
    pub(super) buf: &'a [u8],
    pub(super) pos: &'a Cell<usize>,
    /// Reused for formatted text (dates, timestamps, base64) so it allocates once per datum.
    pub(super) scratch: &'a RefCell<String>,
}

impl<'a, 'n> Value<'a, 'n> {
    fn at(&self, node: NodeId) -> Value<'a, 'n> {
        Value { node, ..*self }
    }

    /// Serializes the text `fill` writes into the scratch buffer.
    fn text<S: Serializer>(&self, s: S, fill: impl FnOnce(&mut String)) -> Result<S::Ok, S::Error> {
        let mut buf = self.scratch.borrow_mut();
        buf.clear();
        fill(&mut buf);
        s.serialize_str(&buf)
    }

    /// A cursor at the shared position.
    fn cursor(&self) -> Cursor<'a> {
        let mut c = Cursor::new(self.buf);
        c.seek(self.pos.get());
        c
    }
}

/// Reads what the check already proved is there; a failure here is a bug, reported as a
/// serialization error rather than a panic.
macro_rules! read {
    ($s:ty, $e:expr) => {
        $e.map_err(|e| <$s as Serializer>::Error::custom(format!("unchecked Avro datum: {e}")))?
    };
}

impl Serialize for Value<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let path = Path::default();
        let mut c = self.cursor();
        let node = &self.nodes[self.node];
        // Scalars: read, advance, emit.
        let scalar = |c: &Cursor<'_>| self.pos.set(c.pos());
        match node {
            Node::Null => {
                scalar(&c);
                s.serialize_unit()
            }
            Node::Boolean => {
                let b = read!(S, c.take(1, "a boolean", &path))[0] == 1;
                scalar(&c);
                s.serialize_bool(b)
            }
            Node::Int | Node::Long => {
                let v = read!(S, c.varint(&path));
                scalar(&c);
                s.serialize_i64(v)
            }
            Node::Float => {
                let b = read!(S, c.take(4, "a float", &path));
                scalar(&c);
                float32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])).serialize(s)
            }
            Node::Double => {
                let b = read!(S, c.take(8, "a double", &path));
                scalar(&c);
                let mut le = [0u8; 8];
                le.copy_from_slice(b);
                float64(f64::from_le_bytes(le)).serialize(s)
            }
            Node::Bytes => {
                let b = read!(S, c.length_prefixed("bytes", &path));
                scalar(&c);
                self.text(s, |buf| BASE64.encode_string(b, buf))
            }
            Node::Fixed(size) => {
                let b = read!(S, c.take(*size, "a fixed", &path));
                scalar(&c);
                self.text(s, |buf| BASE64.encode_string(b, buf))
            }
            Node::String => {
                let text = read!(S, c.string(&path));
                scalar(&c);
                s.serialize_str(text)
            }
            Node::UuidString => {
                let text = read!(S, c.string(&path));
                scalar(&c);
                let uuid = read!(S, uuid::Uuid::parse_str(text));
                serialize_uuid(s, uuid)
            }
            Node::UuidBytes | Node::UuidFixed => {
                let b = if matches!(node, Node::UuidBytes) {
                    read!(S, c.length_prefixed("uuid bytes", &path))
                } else {
                    read!(S, c.take(16, "a fixed", &path))
                };
                scalar(&c);
                let raw = read!(S, <[u8; 16]>::try_from(b));
                serialize_uuid(s, uuid::Uuid::from_bytes(raw))
            }
            Node::Duration => {
                let b = read!(S, c.take(12, "a fixed", &path));
                scalar(&c);
                let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("months", &u(0))?;
                m.serialize_entry("days", &u(4))?;
                m.serialize_entry("milliseconds", &u(8))?;
                m.end()
            }
            Node::Enum { symbols, .. } => {
                let index = read!(S, c.varint(&path));
                scalar(&c);
                let symbol = usize::try_from(index).ok().and_then(|i| symbols.get(i));
                s.serialize_str(read!(S, symbol.ok_or("enum index out of range")))
            }
            Node::Decimal { scale, fixed } => {
                let b = match fixed {
                    None => read!(S, c.length_prefixed("bytes", &path)),
                    Some(size) => read!(S, c.take(*size, "a fixed", &path)),
                };
                scalar(&c);
                s.serialize_str(&read!(S, format_decimal(b, *scale)))
            }
            Node::BigDecimal => {
                let inner = read!(S, c.length_prefixed("big-decimal", &path));
                scalar(&c);
                let mut parts = Cursor::new(inner);
                let unscaled = read!(S, parts.length_prefixed("big-decimal", &path));
                let scale = read!(S, parts.varint(&path));
                let unscaled = super::direct::minimal_twos_complement(unscaled);
                s.serialize_str(&read!(S, format_decimal(unscaled, scale)))
            }
            Node::Date => {
                let days = read!(S, c.int(&path));
                scalar(&c);
                self.text(s, |buf| time::push_date(buf, days.into()))
            }
            Node::TimeMillis => {
                let ticks = read!(S, c.int(&path));
                scalar(&c);
                s.serialize_str(&read!(S, time::time_of_day(ticks.into(), Unit::Millis)))
            }
            Node::TimeMicros => {
                let ticks = read!(S, c.varint(&path));
                scalar(&c);
                s.serialize_str(&read!(S, time::time_of_day(ticks, Unit::Micros)))
            }
            Node::Timestamp { unit, utc } => {
                let ticks = read!(S, c.varint(&path));
                scalar(&c);
                self.text(s, |buf| time::push_timestamp(buf, ticks, *unit, *utc))
            }
            Node::Union(branches) => {
                let index = read!(S, c.varint(&path));
                scalar(&c);
                let branch = usize::try_from(index).ok().and_then(|i| branches.get(i));
                self.at(*read!(S, branch.ok_or("union index out of range")))
                    .serialize(s)
            }
            Node::Record(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (name, node) in fields {
                    m.serialize_entry(name, &self.at(*node))?;
                }
                m.end()
            }
            Node::Array { items, .. } => {
                let mut seq = s.serialize_seq(None)?;
                loop {
                    let mut c = self.cursor();
                    let count = read!(S, block_count(&mut c));
                    self.pos.set(c.pos());
                    if count == 0 {
                        break;
                    }
                    for _ in 0..count {
                        seq.serialize_element(&self.at(*items))?;
                    }
                }
                seq.end()
            }
            Node::Map(values) => {
                // Sorted by key, the last duplicate winning, as `direct::decode` builds it: find
                // each entry's bytes first, then serialize the kept ones from their own spans.
                let mut entries: Vec<(&str, usize, usize)> = Vec::new();
                loop {
                    let mut c = self.cursor();
                    let count = read!(S, block_count(&mut c));
                    if count == 0 {
                        self.pos.set(c.pos());
                        break;
                    }
                    for _ in 0..count {
                        let key = read!(S, c.string(&path));
                        let start = c.pos();
                        let len = read!(S, skip(self.nodes, *values, &self.buf[start..]));
                        entries.push((key, start, start + len));
                        c.seek(start + len);
                    }
                    self.pos.set(c.pos());
                }
                entries.sort_by(|a, b| a.0.cmp(b.0));
                entries.dedup_by(|later, earlier| {
                    let same = later.0 == earlier.0;
                    if same {
                        *earlier = *later;
                    }
                    same
                });
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (key, start, end) in entries {
                    let pos = Cell::new(0);
                    let value = Value {
                        buf: &self.buf[start..end],
                        pos: &pos,
                        node: *values,
                        ..*self
                    };
                    m.serialize_entry(key, &value)?;
                }
                m.end()
            }
        }
    }
}

fn serialize_uuid<S: Serializer>(s: S, uuid: uuid::Uuid) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    s.serialize_str(uuid.hyphenated().encode_lower(&mut buf))
}

/// A block's item count, its byte size skipped (the check bounded the counts already).
fn block_count(c: &mut Cursor<'_>) -> Result<u64, super::DecodeError> {
    let path = Path::default();
    let count = c.varint(&path)?;
    if count < 0 {
        c.varint(&path)?;
    }
    Ok(count.unsigned_abs())
}

//! Avro binary straight to JSON text in one pass, checking each value as it writes it: the hot
//! path's decoder. No `serde_json::Value`, no serializer, no second walk.
//!
//! It accepts exactly what `direct::check` accepts and writes exactly what serializing
//! `direct::decode`'s value gives (`tests/pure_fast_path.rs` holds the three together on
//! generated schemas and mutated data). At the first problem it stops; the datum is then run
//! through `direct::check`, which reports the error the reference path would (conversion errors
//! deferred behind malformed data, field paths), so errors cost a second walk and nothing else
//! does.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::compile::{Node, NodeId, Program};
use super::cursor::Cursor;
use super::decimal::push_decimal;
use super::direct::{self, minimal_twos_complement};
use super::scan::MAX_DEPTH;
use super::time::{self, Unit};
use super::walk::float32;
use super::{DecodeError, Path};

/// Appends the datum filling all of `payload` to `out` as JSON text. On error `out` is left as
/// it was.
pub(super) fn write(
    program: &Program,
    payload: &[u8],
    out: &mut String,
) -> Result<(), DecodeError> {
    let start = out.len();
    let path = Path::default();
    let mut w = Writer {
        cur: Cursor::new(payload),
        nodes: &program.nodes,
        out,
        path: &path,
        depth: 0,
        empty_items: 0,
    };
    if w.value(program.root).is_ok() && w.cur.pos() == payload.len() {
        return Ok(());
    }
    out.truncate(start);
    direct::check(program, payload)?;
    // The writer stops at every conversion error, but one in a map entry that a later duplicate
    // key replaces is no error at all: only then is the value built and serialized instead.
    let value = direct::decode(program, payload)?;
    out.push_str(&value.to_string());
    Ok(())
}

/// The writer stopped; `direct::check` says why.
struct Stop;

impl From<DecodeError> for Stop {
    fn from(_: DecodeError) -> Self {
        Stop
    }
}

impl From<String> for Stop {
    fn from(_: String) -> Self {
        Stop
    }
}

struct Writer<'a, 'n, 'o> {
    cur: Cursor<'a>,
    nodes: &'n [Node],
    out: &'o mut String,
    /// Always empty: the cursor wants a path for its messages, which are discarded here.
    path: &'o Path<'o>,
    depth: usize,
    empty_items: usize,
}

impl Writer<'_, '_, '_> {
    fn value(&mut self, id: NodeId) -> Result<(), Stop> {
        let nodes = self.nodes;
        let path = self.path;
        match &nodes[id] {
            Node::Null => self.out.push_str("null"),
            Node::Boolean => match self.cur.take(1, "", path)?[0] {
                0 => self.out.push_str("false"),
                1 => self.out.push_str("true"),
                _ => return Err(Stop),
            },
            Node::Int => {
                let v = self.cur.int(path)?;
                self.out.push_str(itoa::Buffer::new().format(v));
            }
            Node::Long => {
                let v = self.cur.varint(path)?;
                self.out.push_str(itoa::Buffer::new().format(v));
            }
            Node::Float => {
                let b = self.cur.take(4, "", path)?;
                let json = float32(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                self.out.push_str(&json.to_string());
            }
            Node::Double => {
                let b = self.cur.take(8, "", path)?;
                let mut le = [0u8; 8];
                le.copy_from_slice(b);
                let d = f64::from_le_bytes(le);
                if d.is_finite() {
                    // What serde_json prints for a finite f64.
                    self.out.push_str(zmij::Buffer::new().format_finite(d));
                } else {
                    self.out.push_str(if d.is_nan() {
                        "\"NaN\""
                    } else if d > 0.0 {
                        "\"Infinity\""
                    } else {
                        "\"-Infinity\""
                    });
                }
            }
            Node::Bytes => {
                let b = self.cur.length_prefixed("", path)?;
                self.quoted(|out| BASE64.encode_string(b, out));
            }
            Node::Fixed(size) => {
                let b = self.cur.take(*size, "", path)?;
                self.quoted(|out| BASE64.encode_string(b, out));
            }
            Node::String => {
                let s = self.cur.string(path)?;
                push_json_str(self.out, s);
            }
            Node::UuidString => {
                let s = self.cur.string(path)?;
                let uuid = uuid::Uuid::parse_str(s).map_err(|_| Stop)?;
                if s.len() == uuid::fmt::Hyphenated::LENGTH
                    && !s.bytes().any(|b| b.is_ascii_uppercase())
                {
                    // Already the canonical form (the usual case): copied, not re-encoded.
                    self.quoted(|out| out.push_str(s));
                } else {
                    self.uuid(uuid);
                }
            }
            Node::UuidBytes => {
                let b = self.cur.length_prefixed("", path)?;
                let raw = <[u8; 16]>::try_from(b).map_err(|_| Stop)?;
                self.uuid(uuid::Uuid::from_bytes(raw));
            }
            Node::UuidFixed => {
                let b = self.cur.take(16, "", path)?;
                let raw = <[u8; 16]>::try_from(b).map_err(|_| Stop)?;
                self.uuid(uuid::Uuid::from_bytes(raw));
            }
            Node::Duration => {
                let b = self.cur.take(12, "", path)?;
                let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
                let mut n = itoa::Buffer::new();
                self.out.push_str("{\"months\":");
                self.out.push_str(n.format(u(0)));
                self.out.push_str(",\"days\":");
                self.out.push_str(n.format(u(4)));
                self.out.push_str(",\"milliseconds\":");
                self.out.push_str(n.format(u(8)));
                self.out.push('}');
            }
            Node::Enum { symbols, .. } => {
                let index = self.cur.varint(path)?;
                let symbol = usize::try_from(index).ok().and_then(|i| symbols.get(i));
                push_json_str(self.out, symbol.ok_or(Stop)?);
            }
            Node::Decimal { scale, fixed } => {
                let b = match fixed {
                    None => self.cur.length_prefixed("", path)?,
                    Some(size) => self.cur.take(*size, "", path)?,
                };
                if b.is_empty() {
                    return Err(Stop); // apache-avro rejects it; the checker says how
                }
                self.decimal(b, *scale)?;
            }
            Node::BigDecimal => {
                let inner = self.cur.length_prefixed("", path)?;
                let mut parts = Cursor::new(inner);
                let unscaled = parts.length_prefixed("", path)?;
                let scale = parts.varint(path)?;
                if parts.pos() < inner.len() {
                    return Err(Stop);
                }
                self.decimal(minimal_twos_complement(unscaled), scale)?;
            }
            Node::Date => {
                let days = self.cur.int(path)?;
                self.quoted(|out| time::push_date(out, days.into()));
            }
            Node::TimeMillis => {
                let ticks = self.cur.int(path)?;
                self.time_of_day(ticks.into(), Unit::Millis)?;
            }
            Node::TimeMicros => {
                let ticks = self.cur.varint(path)?;
                self.time_of_day(ticks, Unit::Micros)?;
            }
            Node::Timestamp { unit, utc } => {
                let ticks = self.cur.varint(path)?;
                self.quoted(|out| time::push_timestamp(out, ticks, *unit, *utc));
            }
            Node::Union(branches) => {
                let index = self.cur.varint(path)?;
                let branch = usize::try_from(index).ok().and_then(|i| branches.get(i));
                let branch = *branch.ok_or(Stop)?;
                self.nested(|w| w.value(branch))?;
            }
            Node::Record(fields) => self.nested(|w| {
                w.out.push('{');
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        w.out.push(',');
                    }
                    w.out.push_str(&field.key);
                    w.value(field.node)?;
                }
                w.out.push('}');
                Ok(())
            })?,
            Node::Array { items, zero_sized } => self.nested(|w| {
                w.out.push('[');
                let mut first = true;
                loop {
                    let count = w
                        .cur
                        .block_count(&mut w.empty_items, *zero_sized, "", path)?;
                    if count == 0 {
                        break;
                    }
                    for _ in 0..count {
                        if !first {
                            w.out.push(',');
                        }
                        first = false;
                        w.value(*items)?;
                    }
                }
                w.out.push(']');
                Ok(())
            })?,
            Node::Map(values) => self.nested(|w| w.map(*values))?,
        }
        Ok(())
    }

    /// A union branch or container: counted against the nesting limit `direct::check` enforces.
    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Result<(), Stop>) -> Result<(), Stop> {
        if self.depth >= MAX_DEPTH {
            return Err(Stop);
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// Map entries sorted by key, the last duplicate winning (as `direct::decode` builds the
    /// object): each value is written after the map's start, then the kept ones are moved
    /// into place.
    fn map(&mut self, values: NodeId) -> Result<(), Stop> {
        let mark = self.out.len();
        let mut entries: Vec<(&str, usize, usize)> = Vec::new();
        loop {
            let count = self
                .cur
                .block_count(&mut self.empty_items, false, "", self.path)?;
            if count == 0 {
                break;
            }
            for _ in 0..count {
                let key = self.cur.string(self.path)?;
                let start = self.out.len() - mark;
                self.value(values)?;
                entries.push((key, start, self.out.len() - mark));
            }
        }
        let written = self.out.split_off(mark);
        // Stable: duplicates stay in stream order, and the last of each run is kept.
        entries.sort_by(|a, b| a.0.cmp(b.0));
        entries.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                *earlier = *later;
            }
            same
        });
        self.out.push('{');
        for (i, (key, start, end)) in entries.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            push_json_str(self.out, key);
            self.out.push(':');
            self.out.push_str(&written[start..end]);
        }
        self.out.push('}');
        Ok(())
    }

    fn quoted(&mut self, fill: impl FnOnce(&mut String)) {
        self.out.push('"');
        fill(self.out);
        self.out.push('"');
    }

    fn uuid(&mut self, uuid: uuid::Uuid) {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = uuid.hyphenated().encode_lower(&mut buf);
        self.quoted(|out| out.push_str(text));
    }

    fn decimal(&mut self, unscaled: &[u8], scale: i64) -> Result<(), Stop> {
        self.out.push('"');
        push_decimal(self.out, unscaled, scale)?;
        self.out.push('"');
        Ok(())
    }

    fn time_of_day(&mut self, ticks: i64, unit: Unit) -> Result<(), Stop> {
        self.out.push('"');
        time::push_time_of_day(self.out, ticks, unit)?;
        self.out.push('"');
        Ok(())
    }
}

/// `s` as a JSON string, escaped exactly as serde_json escapes it (`\"`, `\\`, `\b`, `\f`, `\n`,
/// `\r`, `\t`, other control characters as `\u00xx`; everything else as is).
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escaped bytes are ASCII, so these are character boundaries.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn strings_escape_as_serde_json_does(s in any::<String>()) {
            let mut out = String::from("x");
            push_json_str(&mut out, &s);
            prop_assert_eq!(&out[1..], serde_json::to_string(&s).unwrap());
        }
    }

    #[test]
    fn every_control_character_and_quote_escapes_as_serde_json_does() {
        let all: String = (0u8..=0x7f).map(char::from).collect();
        let mut out = String::new();
        push_json_str(&mut out, &all);
        assert_eq!(out, serde_json::to_string(&all).unwrap());
    }
}

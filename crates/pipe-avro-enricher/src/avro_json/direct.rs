//! Avro binary straight to `serde_json::Value`, driven by the compiled writer schema: one pass,
//! no apache-avro `Value` tree, no per-record name resolution.
//!
//! It must be indistinguishable from the reference path (scan, apache-avro decode, walk), errors
//! included. So it validates exactly as `scan.rs` does, with the same messages and paths, and
//! stops at the first malformed byte; but a value the contract cannot render (a time of day out
//! of range, an oversized decimal) is only an error once the whole datum proved well-formed,
//! because the reference path reports malformed data and trailing bytes first. Such a
//! conversion error is therefore deferred: the first one in walk order (map entries by sorted
//! key, later duplicates replacing earlier ones) is kept and decoding goes on.

use std::marker::PhantomData;

use base64::Engine;
use serde_json::{Map, Value as Json};

use super::compile::{Node, NodeId, Program};
use super::cursor::Cursor;
use super::decimal::{check_decimal, format_decimal};
use super::scan::{bytes, malformed, MAX_DEPTH};
use super::time::{self, Unit};
use super::walk::{convert, float32, float64};
use super::{DecodeError, Path, Seg};

/// Decode one datum filling all of `payload`.
pub(super) fn decode(program: &Program, payload: &[u8]) -> Result<Json, DecodeError> {
    walk::<BuildJson>(program, payload)
}

/// Check one datum filling all of `payload` as [`decode`] would, building nothing: what
/// `write.rs` falls back on to report why it stopped.
pub(super) fn check(program: &Program, payload: &[u8]) -> Result<(), DecodeError> {
    walk::<Skip>(program, payload)
}

fn walk<B: Build>(program: &Program, payload: &[u8]) -> Result<B::V, DecodeError> {
    let mut d = Decoder::<B>::new(&program.nodes, payload);
    let value = d.value(program.root, &mut Path::default())?;
    if d.cur.pos() < payload.len() {
        return Err(DecodeError::TrailingBytes {
            consumed: d.cur.pos(),
            trailing: payload.len() - d.cur.pos(),
            total: payload.len(),
        });
    }
    match d.deferred {
        Some(e) => Err(e),
        None => Ok(value),
    }
}

/// What the walk makes of the datum: its JSON value ([`BuildJson`]) or nothing ([`Skip`], for
/// checking and skipping). Strings are produced lazily so that skipping formats nothing it does
/// not have to validate.
pub(super) trait Build {
    /// Whether values are made at all (`false`: only what can fail is computed).
    const BUILDS: bool;
    type V;
    type Rec;
    fn null() -> Self::V;
    fn boolean(b: bool) -> Self::V;
    fn long(v: i64) -> Self::V;
    fn json(make: impl FnOnce() -> Json) -> Self::V;
    fn str(s: &str) -> Self::V;
    fn string(make: impl FnOnce() -> String) -> Self::V;
    fn record(fields: usize) -> Self::Rec;
    fn field(rec: &mut Self::Rec, name: &str, v: Self::V);
    fn end_record(rec: Self::Rec) -> Self::V;
    fn array(items: Vec<Self::V>) -> Self::V;
    fn map<'k>(entries: impl Iterator<Item = (&'k str, Self::V)>, len: usize) -> Self::V;
}

pub(super) struct BuildJson;

impl Build for BuildJson {
    const BUILDS: bool = true;
    type V = Json;
    type Rec = Map<String, Json>;
    fn null() -> Json {
        Json::Null
    }
    fn boolean(b: bool) -> Json {
        Json::Bool(b)
    }
    fn long(v: i64) -> Json {
        Json::from(v)
    }
    fn json(make: impl FnOnce() -> Json) -> Json {
        make()
    }
    fn str(s: &str) -> Json {
        Json::String(s.to_owned())
    }
    fn string(make: impl FnOnce() -> String) -> Json {
        Json::String(make())
    }
    fn record(fields: usize) -> Self::Rec {
        Map::with_capacity(fields)
    }
    fn field(rec: &mut Self::Rec, name: &str, v: Json) {
        rec.insert(name.to_owned(), v);
    }
    fn end_record(rec: Self::Rec) -> Json {
        Json::Object(rec)
    }
    fn array(items: Vec<Json>) -> Json {
        Json::Array(items)
    }
    fn map<'k>(entries: impl Iterator<Item = (&'k str, Json)>, len: usize) -> Json {
        let mut out = Map::with_capacity(len);
        for (k, v) in entries {
            out.insert(k.to_owned(), v);
        }
        Json::Object(out)
    }
}

pub(super) struct Skip;

impl Build for Skip {
    const BUILDS: bool = false;
    type V = ();
    type Rec = ();
    fn null() {}
    fn boolean(_: bool) {}
    fn long(_: i64) {}
    fn json(_: impl FnOnce() -> Json) {}
    fn str(_: &str) {}
    fn string(_: impl FnOnce() -> String) {}
    fn record(_: usize) {}
    fn field(_: &mut (), _: &str, _: ()) {}
    fn end_record(_: ()) {}
    fn array(_: Vec<()>) {}
    fn map<'k>(entries: impl Iterator<Item = (&'k str, ())>, _: usize) {
        entries.for_each(drop);
    }
}

struct Decoder<'a, 'n, B> {
    cur: Cursor<'a>,
    nodes: &'n [Node],
    depth: usize,
    empty_items: usize,
    /// The first conversion error, reported only if the datum is otherwise well-formed.
    deferred: Option<DecodeError>,
    build: PhantomData<B>,
}

impl<'a, 'n, B: Build> Decoder<'a, 'n, B> {
    fn new(nodes: &'n [Node], buf: &'a [u8]) -> Self {
        Decoder {
            cur: Cursor::new(buf),
            nodes,
            depth: 0,
            empty_items: 0,
            deferred: None,
            build: PhantomData,
        }
    }

    fn value<'p>(&mut self, id: NodeId, path: &mut Path<'p>) -> Result<B::V, DecodeError>
    where
        'a: 'p,
        'n: 'p,
    {
        let nodes = self.nodes;
        Ok(match &nodes[id] {
            Node::Null => B::null(),
            Node::Boolean => match self.cur.take(1, "a boolean", path)?[0] {
                0 => B::boolean(false),
                1 => B::boolean(true),
                b => {
                    return Err(malformed(
                        path,
                        format!("boolean byte {b:#04x} is neither 0 nor 1"),
                    ))
                }
            },
            Node::Int => B::long(self.cur.int(path)?.into()),
            Node::Long => B::long(self.cur.varint(path)?),
            Node::Float => {
                let b = self.cur.take(4, "a float", path)?;
                B::json(|| float32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            }
            Node::Double => {
                let b = self.cur.take(8, "a double", path)?;
                B::json(|| float64(f64::from_le_bytes(le8(b))))
            }
            Node::Bytes => {
                let b = self.cur.length_prefixed("bytes", path)?;
                B::string(|| base64(b))
            }
            Node::Fixed(size) => {
                let b = self.cur.take(*size, "a fixed", path)?;
                B::string(|| base64(b))
            }
            Node::String => B::str(self.cur.string(path)?),
            Node::UuidString => {
                let s = self.cur.string(path)?;
                let uuid = uuid::Uuid::parse_str(s)
                    .map_err(|e| malformed(path, format!("uuid string {s:?} is invalid: {e}")))?;
                B::string(|| uuid_text(uuid))
            }
            Node::UuidBytes => {
                let b = self.cur.length_prefixed("uuid bytes", path)?;
                let Ok(raw) = <[u8; 16]>::try_from(b) else {
                    return Err(malformed(
                        path,
                        format!("uuid is {} bytes; expected 16", b.len()),
                    ));
                };
                B::string(|| uuid_text(uuid::Uuid::from_bytes(raw)))
            }
            Node::UuidFixed => {
                let b = self.cur.take(16, "a fixed", path)?;
                let mut raw = [0u8; 16];
                raw.copy_from_slice(b);
                B::string(|| uuid_text(uuid::Uuid::from_bytes(raw)))
            }
            Node::Duration => {
                let b = self.cur.take(12, "a fixed", path)?;
                let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]).into();
                let mut out = B::record(3);
                B::field(&mut out, "months", B::long(u(0)));
                B::field(&mut out, "days", B::long(u(4)));
                B::field(&mut out, "milliseconds", B::long(u(8)));
                B::end_record(out)
            }
            Node::Enum { symbols, fullname } => {
                let index = self.cur.varint(path)?;
                match usize::try_from(index).ok().and_then(|i| symbols.get(i)) {
                    Some(symbol) => B::str(symbol),
                    None => {
                        return Err(malformed(
                            path,
                            format!(
                            "enum index {index} is out of range for the {} symbols of {fullname}",
                            symbols.len(),
                        ),
                        ))
                    }
                }
            }
            Node::Decimal { scale, fixed } => {
                let b = match fixed {
                    None => self.cur.length_prefixed("bytes", path)?,
                    Some(size) => self.cur.take(*size, "a fixed", path)?,
                };
                if b.is_empty() {
                    // apache-avro cannot turn an empty unscaled value back into bytes; report
                    // its own error.
                    let e = Vec::<u8>::try_from(&apache_avro::Decimal::from(Vec::<u8>::new()))
                        .err()
                        .map_or_else(String::new, |e| super::avro_message(&e));
                    self.defer(path, format!("decimal: {e}"));
                    B::null()
                } else {
                    self.decimal(b, *scale, path)
                }
            }
            Node::BigDecimal => self.big_decimal(path)?,
            Node::Date => {
                let days = self.cur.int(path)?;
                B::string(|| time::date(days.into()))
            }
            Node::TimeMillis => {
                let ticks = self.cur.int(path)?;
                self.time_of_day(ticks.into(), Unit::Millis, path)
            }
            Node::TimeMicros => {
                let ticks = self.cur.varint(path)?;
                self.time_of_day(ticks, Unit::Micros, path)
            }
            Node::Timestamp { unit, utc } => {
                let ticks = self.cur.varint(path)?;
                B::string(|| time::timestamp(ticks, *unit, *utc))
            }
            Node::Union(branches) => {
                let index = self.cur.varint(path)?;
                let Some(&branch) = usize::try_from(index).ok().and_then(|i| branches.get(i))
                else {
                    return Err(malformed(
                        path,
                        format!(
                            "union branch index {index} is out of range for {} branches",
                            branches.len()
                        ),
                    ));
                };
                self.enter(path)?;
                let v = self.value(branch, path);
                self.depth -= 1;
                v?
            }
            Node::Record(fields) => {
                self.enter(path)?;
                let mut out = B::record(fields.len());
                for field in fields {
                    path.push(Seg::Field(&field.name));
                    let v = match self.value(field.node, path) {
                        Ok(v) => v,
                        Err(e) => {
                            self.depth -= 1;
                            return Err(e);
                        }
                    };
                    path.pop();
                    B::field(&mut out, &field.name, v);
                }
                self.depth -= 1;
                B::end_record(out)
            }
            Node::Array { items, zero_sized } => {
                self.enter(path)?;
                let v = self.array(*items, *zero_sized, path);
                self.depth -= 1;
                v?
            }
            Node::Map(values) => {
                self.enter(path)?;
                let v = self.map(*values, path);
                self.depth -= 1;
                v?
            }
        })
    }

    fn enter(&mut self, path: &Path<'_>) -> Result<(), DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(malformed(
                path,
                format!("data is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn defer(&mut self, path: &Path<'_>, detail: String) {
        if self.deferred.is_none() {
            self.deferred = Some(convert(path, detail));
        }
    }

    fn decimal(&mut self, unscaled: &[u8], scale: i64, path: &Path<'_>) -> B::V {
        let text = if B::BUILDS {
            format_decimal(unscaled, scale)
        } else {
            check_decimal(unscaled, scale).map(|()| String::new())
        };
        match text {
            Ok(s) => B::string(|| s),
            Err(detail) => {
                self.defer(path, detail);
                B::null()
            }
        }
    }

    fn time_of_day(&mut self, ticks: i64, unit: Unit, path: &Path<'_>) -> B::V {
        let text = if B::BUILDS {
            time::time_of_day(ticks, unit)
        } else {
            time::check_time_of_day(ticks, unit).map(|()| String::new())
        };
        match text {
            Ok(s) => B::string(|| s),
            Err(detail) => {
                self.defer(path, detail);
                B::null()
            }
        }
    }

    /// Bytes holding a length-prefixed unscaled value and a scale. apache-avro goes through a
    /// `BigInt`, so the value is rendered from its minimal two's-complement form.
    fn big_decimal(&mut self, path: &Path<'_>) -> Result<B::V, DecodeError> {
        let inner = self.cur.length_prefixed("big-decimal", path)?;
        let mut parts = Decoder::<Skip>::new(self.nodes, inner);
        let unscaled = parts
            .cur
            .length_prefixed("big-decimal unscaled value", path)?;
        let scale = parts.cur.varint(path)?;
        if parts.cur.pos() < inner.len() {
            return Err(malformed(
                path,
                format!(
                    "big-decimal has {} after its scale",
                    bytes(inner.len() - parts.cur.pos())
                ),
            ));
        }
        Ok(self.decimal(minimal_twos_complement(unscaled), scale, path))
    }

    /// Array items in blocks: a count (negative: followed by a byte size), items, and a zero
    /// count at the end. Mirrors `Scanner::blocks`.
    fn array<'p>(
        &mut self,
        item: NodeId,
        zero_sized: bool,
        path: &mut Path<'p>,
    ) -> Result<B::V, DecodeError>
    where
        'a: 'p,
        'n: 'p,
    {
        let mut out = Vec::new();
        loop {
            let count = self
                .cur
                .block_count(&mut self.empty_items, zero_sized, "array", path)?;
            if count == 0 {
                return Ok(B::array(out));
            }
            // Claimed counts are bounded by the bytes left, but still only reserve a little.
            out.reserve(count.min(1024) as usize);
            for _ in 0..count {
                path.push(Seg::Index(out.len()));
                out.push(self.value(item, path)?);
                path.pop();
            }
        }
    }

    /// Map entries, output sorted by key with the last duplicate winning, as the reference
    /// path's `HashMap` plus sorted walk does.
    fn map<'p>(&mut self, values: NodeId, path: &mut Path<'p>) -> Result<B::V, DecodeError>
    where
        'a: 'p,
        'n: 'p,
    {
        let outer = self.deferred.take();
        let mut entries: Vec<(&'a str, B::V, Option<DecodeError>)> = Vec::new();
        loop {
            let count = self
                .cur
                .block_count(&mut self.empty_items, false, "map", path)?;
            if count == 0 {
                break;
            }
            entries.reserve(count.min(1024) as usize);
            for _ in 0..count {
                let key = self.cur.string(path)?;
                path.push(Seg::Field(key));
                let v = self.value(values, path)?;
                path.pop();
                entries.push((key, v, self.deferred.take()));
            }
        }
        // Stable sort keeps duplicates in stream order; keep the last of each run.
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let len = entries.len();
        let mut first_error = None;
        let mut iter = entries.into_iter().peekable();
        let kept = std::iter::from_fn(|| loop {
            let (key, v, err) = iter.next()?;
            if iter.peek().is_some_and(|next| next.0 == key) {
                continue;
            }
            if first_error.is_none() {
                first_error = err;
            }
            return Some((key, v));
        });
        let out = B::map(kept, len);
        self.deferred = outer.or(first_error);
        Ok(out)
    }
}

fn le8(b: &[u8]) -> [u8; 8] {
    let mut le = [0u8; 8];
    le.copy_from_slice(b);
    le
}

pub(super) fn base64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub(super) fn uuid_text(uuid: uuid::Uuid) -> String {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid.hyphenated().encode_lower(&mut buf).to_owned()
}

/// Drop sign-extension bytes, as a round trip through `BigInt` does (empty becomes zero).
pub(super) fn minimal_twos_complement(mut b: &[u8]) -> &[u8] {
    if b.is_empty() {
        return &[0];
    }
    while b.len() > 1 && ((b[0] == 0 && b[1] & 0x80 == 0) || (b[0] == 0xff && b[1] & 0x80 != 0)) {
        b = &b[1..];
    }
    b
}

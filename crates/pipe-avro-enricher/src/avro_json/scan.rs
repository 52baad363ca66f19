//! A validating pass over the Avro binary datum, run before apache-avro decodes it.
//!
//! apache-avro 0.22 is lenient at the end of its input (a boolean, string or union index that
//! hits EOF decodes as null), allocates a claimed length before checking that the bytes exist
//! (up to its allocation limit) and recurses without a depth limit. This pass reads the same
//! bytes without allocating and stops hostile input first: every length and block count is
//! checked against the bytes left, nesting is bounded, zero-byte array items (nulls, empty
//! records) are budgeted, and each error carries the field path. It also yields the exact datum
//! length, which is how trailing garbage is detected.

use apache_avro::schema::{
    DecimalSchema, FixedSchema, InnerDecimalSchema, NamesRef, RecordSchema, Schema, UuidSchema,
};

use super::cursor::Cursor;
use super::{DecodeError, Path, Seg};

/// Deepest nesting of records, arrays, maps and unions accepted. Only recursive schemas get near
/// it; it keeps hostile data from overflowing the stack of the recursive decoders.
pub(super) const MAX_DEPTH: usize = 128;
/// Most array items that occupy no bytes (e.g. `null`s) one datum may expand to.
pub(super) const MAX_EMPTY_ITEMS: usize = 100_000;

pub(super) struct Scanner<'a, 'n> {
    cur: Cursor<'a>,
    names: &'n NamesRef<'n>,
    depth: usize,
    empty_items: usize,
}

impl<'a, 'n> Scanner<'a, 'n> {
    pub(super) fn new(buf: &'a [u8], names: &'n NamesRef<'n>) -> Self {
        Self {
            cur: Cursor::new(buf),
            names,
            depth: 0,
            empty_items: 0,
        }
    }

    /// Bytes the datum occupied.
    pub(super) fn consumed(&self) -> usize {
        self.cur.pos()
    }

    fn remaining(&self) -> usize {
        self.cur.remaining()
    }

    pub(super) fn scan<'p>(
        &mut self,
        schema: &'n Schema,
        ns: Option<&str>,
        path: &mut Path<'p>,
    ) -> Result<(), DecodeError>
    where
        'a: 'p,
        'n: 'p,
    {
        match schema {
            Schema::Null => Ok(()),
            Schema::Boolean => match self.cur.take(1, "a boolean", path)?[0] {
                0 | 1 => Ok(()),
                b => Err(malformed(
                    path,
                    format!("boolean byte {b:#04x} is neither 0 nor 1"),
                )),
            },
            Schema::Int | Schema::Date | Schema::TimeMillis => {
                let v = self.cur.varint(path)?;
                if i32::try_from(v).is_err() {
                    return Err(malformed(
                        path,
                        format!("int value {v} does not fit 32 bits"),
                    ));
                }
                Ok(())
            }
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => self.cur.varint(path).map(drop),
            Schema::Float => self.cur.take(4, "a float", path).map(drop),
            Schema::Double => self.cur.take(8, "a double", path).map(drop),
            Schema::BigDecimal => {
                // The bytes hold their own length-prefixed unscaled value and a scale.
                let inner = self.cur.length_prefixed("big-decimal", path)?;
                let mut parts = Scanner::new(inner, self.names);
                parts
                    .cur
                    .length_prefixed("big-decimal unscaled value", path)?;
                parts.cur.varint(path)?;
                if parts.remaining() > 0 {
                    return Err(malformed(
                        path,
                        format!(
                            "big-decimal has {} after its scale",
                            bytes(parts.remaining())
                        ),
                    ));
                }
                Ok(())
            }
            Schema::Bytes
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Bytes,
                ..
            }) => self.cur.length_prefixed("bytes", path).map(drop),
            Schema::String => self.cur.string(path).map(drop),
            Schema::Uuid(UuidSchema::String) => {
                let s = self.cur.string(path)?;
                uuid::Uuid::parse_str(s)
                    .map_err(|e| malformed(path, format!("uuid string {s:?} is invalid: {e}")))?;
                Ok(())
            }
            Schema::Uuid(UuidSchema::Bytes) => {
                let n = self.cur.length_prefixed("uuid bytes", path)?.len();
                if n != 16 {
                    return Err(malformed(path, format!("uuid is {n} bytes; expected 16")));
                }
                Ok(())
            }
            Schema::Fixed(FixedSchema { size, .. })
            | Schema::Uuid(UuidSchema::Fixed(FixedSchema { size, .. }))
            | Schema::Duration(FixedSchema { size, .. })
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Fixed(FixedSchema { size, .. }),
                ..
            }) => self.cur.take(*size, "a fixed", path).map(drop),
            Schema::Enum(e) => {
                let index = self.cur.varint(path)?;
                if usize::try_from(index).map_or(true, |i| i >= e.symbols.len()) {
                    return Err(malformed(
                        path,
                        format!(
                            "enum index {index} is out of range for the {} symbols of {}",
                            e.symbols.len(),
                            e.name.fullname(None)
                        ),
                    ));
                }
                Ok(())
            }
            Schema::Union(u) => {
                let index = self.cur.varint(path)?;
                let variants = u.variants();
                let Some(branch) = usize::try_from(index).ok().and_then(|i| variants.get(i)) else {
                    return Err(malformed(
                        path,
                        format!(
                            "union branch index {index} is out of range for {} branches",
                            variants.len()
                        ),
                    ));
                };
                self.nested(path, |s, path| s.scan(branch, ns, path))
            }
            Schema::Record(RecordSchema { name, fields, .. }) => {
                let inner_ns = name.namespace().or(ns);
                self.nested(path, |s, path| {
                    for field in fields {
                        path.push(Seg::Field(&field.name));
                        s.scan(&field.schema, inner_ns, path)?;
                        path.pop();
                    }
                    Ok(())
                })
            }
            Schema::Array(a) => self.nested(path, |s, path| s.blocks(&a.items, ns, path, false)),
            Schema::Map(m) => self.nested(path, |s, path| s.blocks(&m.types, ns, path, true)),
            Schema::Ref { name } => {
                let fq = name.fully_qualified_name(ns);
                let Some(&target) = self.names.get(fq.as_ref()) else {
                    return Err(malformed(
                        path,
                        format!("named type {} is not defined", fq.fullname(None)),
                    ));
                };
                let inner_ns = fq.namespace().map(str::to_owned);
                self.scan(target, inner_ns.as_deref(), path)
            }
        }
    }

    fn nested<'p>(
        &mut self,
        path: &mut Path<'p>,
        f: impl FnOnce(&mut Self, &mut Path<'p>) -> Result<(), DecodeError>,
    ) -> Result<(), DecodeError> {
        if self.depth >= MAX_DEPTH {
            return Err(malformed(
                path,
                format!("data is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        let result = f(self, path);
        self.depth -= 1;
        result
    }

    /// Array items or map values, in blocks: a count (negative: followed by a byte size), items,
    /// and a zero count at the end.
    fn blocks<'p>(
        &mut self,
        item: &'n Schema,
        ns: Option<&str>,
        path: &mut Path<'p>,
        is_map: bool,
    ) -> Result<(), DecodeError>
    where
        'a: 'p,
        'n: 'p,
    {
        let what = if is_map { "map" } else { "array" };
        let zero_sized = !is_map && can_be_empty(item, self.names, ns, 0);
        let mut index = 0usize;
        loop {
            let count = self
                .cur
                .block_count(&mut self.empty_items, zero_sized, what, path)?;
            if count == 0 {
                return Ok(());
            }
            for _ in 0..count {
                if is_map {
                    let key = self.cur.string(path)?;
                    path.push(Seg::Field(key));
                } else {
                    path.push(Seg::Index(index));
                }
                self.scan(item, ns, path)?;
                path.pop();
                index += 1;
            }
        }
    }
}

/// Whether a value of this schema can be encoded in zero bytes (null, empty record, fixed(0)).
pub(super) fn can_be_empty(
    schema: &Schema,
    names: &NamesRef<'_>,
    ns: Option<&str>,
    depth: usize,
) -> bool {
    if depth > 16 {
        return false;
    }
    match schema {
        Schema::Null => true,
        Schema::Fixed(f) | Schema::Duration(f) | Schema::Uuid(UuidSchema::Fixed(f)) => f.size == 0,
        Schema::Decimal(DecimalSchema {
            inner: InnerDecimalSchema::Fixed(f),
            ..
        }) => f.size == 0,
        Schema::Record(r) => {
            let inner_ns = r.name.namespace().or(ns);
            r.fields
                .iter()
                .all(|f| can_be_empty(&f.schema, names, inner_ns, depth + 1))
        }
        Schema::Ref { name } => {
            let fq = name.fully_qualified_name(ns);
            names
                .get(fq.as_ref())
                .is_some_and(|s| can_be_empty(s, names, fq.namespace(), depth + 1))
        }
        _ => false,
    }
}

pub(super) fn bytes(n: usize) -> String {
    if n == 1 {
        "1 byte".to_owned()
    } else {
        format!("{n} bytes")
    }
}

pub(super) fn malformed(path: &Path<'_>, detail: String) -> DecodeError {
    DecodeError::Malformed {
        path: path.to_string(),
        detail,
    }
}

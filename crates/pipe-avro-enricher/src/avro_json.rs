//! Avro binary datum → JSON, following the schema (the project's JSON contract).
//!
//! | Avro | JSON |
//! |---|---|
//! | null, boolean, string | the same |
//! | int, long | integer (exact for all i64) |
//! | float, double | number; f32 via its shortest decimal (`0.1`); NaN/±∞ as `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | bytes, fixed | standard padded base64 |
//! | enum | symbol |
//! | array; map; record | array; object with keys sorted; object in schema field order |
//! | union | the chosen branch's value, unwrapped |
//! | decimal, big-decimal | string with exactly `scale` fractional digits (`"-12.30"`) |
//! | uuid | lowercase hyphenated |
//! | date; time-millis/-micros | `"YYYY-MM-DD"`; `"HH:MM:SS.mmm"` / `"HH:MM:SS.uuuuuu"` |
//! | timestamp-millis/-micros/-nanos | RFC 3339 UTC, 3/6/9 fractional digits, `Z` |
//! | local-timestamp-* | the same without `Z` |
//! | duration | `{"months","days","milliseconds"}` |
//!
//! Years outside 0000–9999 print in the ISO 8601 expanded form JavaScript uses (`+010000`,
//! `-000001`). A time of day outside one day is an error, as is a decimal whose unscaled value
//! exceeds 1,024 bytes or whose |scale| exceeds 4,096.

mod compile;
mod cursor;
mod decimal;
mod direct;
mod scan;
mod time;
mod walk;
mod write;

use std::fmt;
use std::sync::Arc;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::ResolvedSchema;
use apache_avro::types::Value;
use apache_avro::Schema;
use base64::Engine;

use crate::framing::SchemaRef;

/// Ceiling for any single allocation apache-avro makes while decoding (its default is 512 MiB,
/// more than a Lambda has). Set once per process by [`init_limits`].
pub const MAX_ALLOCATION_BYTES: usize = 64 * 1024 * 1024;

/// Apply [`MAX_ALLOCATION_BYTES`] to apache-avro and return the limit in force. apache-avro keeps
/// the first value it sees for the life of the process, so call this at start-up; [`decode`]
/// also calls it, so forgetting is harmless.
pub fn init_limits() -> usize {
    apache_avro::util::max_allocation_bytes(MAX_ALLOCATION_BYTES)
}

/// A schema that cannot be used; the record goes to the DLQ with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("{which} schema is not valid Avro: {detail}")]
    Invalid { which: &'static str, detail: String },
    #[error("{which} schema's named types cannot be resolved: {detail}")]
    Unresolved { which: &'static str, detail: String },
}

impl SchemaError {
    /// Stable short name for DLQ attributes and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "schema-invalid",
            Self::Unresolved { .. } => "schema-unresolved",
        }
    }
}

/// Why a payload did not decode. `path` is the field path (`customer.emails[2]`, map keys as
/// `.key`), empty for the top-level value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed Avro in {}: {detail}", at(.path))]
    Malformed { path: String, detail: String },
    #[error(
        "{trailing} byte{} left over after the Avro datum ({consumed} of {total} bytes decoded); \
         the payload does not match the writer schema",
        if *.trailing == 1 { "" } else { "s" }
    )]
    TrailingBytes {
        consumed: usize,
        trailing: usize,
        total: usize,
    },
    #[error("Avro decoder rejected the payload: {0}")]
    Avro(String),
    #[error("cannot resolve the data to the reader schema: {0}")]
    Resolution(String),
    #[error("cannot convert {} to JSON: {detail}", at(.path))]
    Convert { path: String, detail: String },
}

impl DecodeError {
    /// Stable short name for DLQ attributes and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "avro-malformed",
            Self::TrailingBytes { .. } => "avro-trailing-bytes",
            Self::Avro(_) => "avro-decode",
            Self::Resolution(_) => "avro-reader-resolution",
            Self::Convert { .. } => "avro-json-conversion",
        }
    }
}

fn at(path: &str) -> &str {
    if path.is_empty() {
        "the top-level value"
    } else {
        path
    }
}

/// One step of a field path; borrowed so that building the path costs nothing until an error.
#[derive(Debug, Clone, Copy)]
enum Seg<'p> {
    Field(&'p str),
    Index(usize),
}

#[derive(Debug, Default)]
struct Path<'p>(Vec<Seg<'p>>);

impl<'p> Path<'p> {
    fn push(&mut self, seg: Seg<'p>) {
        self.0.push(seg);
    }

    fn pop(&mut self) {
        self.0.pop();
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Field(name) if i == 0 => f.write_str(name)?,
                Seg::Field(name) => write!(f, ".{name}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A parsed schema plus its referenced named schemas, in an order apache-avro can resolve
/// (each reference after the ones it uses, the main schema last).
#[derive(Debug, Clone)]
struct Parsed {
    main: Schema,
    references: Vec<Schema>,
}

impl Parsed {
    fn parse(which: &'static str, main: &str, references: &[String]) -> Result<Self, SchemaError> {
        let invalid = |e: apache_avro::Error| SchemaError::Invalid {
            which,
            detail: avro_message(&e),
        };
        let parsed = if references.is_empty() {
            Self {
                main: Schema::parse_str(main).map_err(invalid)?,
                references: Vec::new(),
            }
        } else {
            // A registry's transitive reference list can name the same schema twice (diamond
            // dependencies); apache-avro rejects duplicate definitions.
            let mut unique: Vec<&str> = Vec::with_capacity(references.len());
            for r in references {
                if !unique.contains(&r.as_str()) {
                    unique.push(r);
                }
            }
            let (main, refs) = Schema::parse_str_with_list(main, unique).map_err(invalid)?;
            Self {
                main,
                references: dependency_order(refs),
            }
        };
        parsed.resolved().map_err(|e| SchemaError::Unresolved {
            which,
            detail: avro_message(&e),
        })?;
        Ok(parsed)
    }

    fn resolved(&self) -> apache_avro::AvroResult<ResolvedSchema<'_>> {
        let all = self
            .references
            .iter()
            .chain(std::iter::once(&self.main))
            .collect();
        ResolvedSchema::new_with_schemata(all)
    }
}

/// apache-avro resolves a list of schemas front to back, so a schema must come after the ones it
/// refers to. Put referenced schemas first; anything left unresolvable keeps its place and is
/// reported by the final resolution.
fn dependency_order(mut remaining: Vec<Schema>) -> Vec<Schema> {
    let mut ordered: Vec<Schema> = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let next = (0..remaining.len()).find(|&i| {
            let candidate = ordered
                .iter()
                .chain(std::iter::once(&remaining[i]))
                .collect();
            ResolvedSchema::new_with_schemata(candidate).is_ok()
        });
        match next {
            Some(i) => ordered.push(remaining.remove(i)),
            None => {
                ordered.append(&mut remaining);
                break;
            }
        }
    }
    ordered
}

/// The schema a record was written with, as fetched from the registry (Confluent schema
/// references included).
#[derive(Debug, Clone)]
pub struct WriterSchema {
    parsed: Parsed,
    /// The schema compiled for the direct decoder; `None` keeps the apache-avro path.
    compiled: Option<Arc<compile::Program>>,
}

impl WriterSchema {
    /// Parse the main schema text with the texts of every schema it references, directly or
    /// transitively, in any order.
    pub fn parse(main: &str, references: &[String]) -> Result<Self, SchemaError> {
        let parsed = Parsed::parse("writer", main, references)?;
        let compiled = parsed
            .resolved()
            .ok()
            .and_then(|names| compile::compile(&parsed.main, names.get_names()))
            .map(Arc::new);
        Ok(Self { parsed, compiled })
    }

    /// The parsed main schema.
    pub fn schema(&self) -> &Schema {
        &self.parsed.main
    }

    /// Whether records of this schema take the direct decoder (tests assert it is not skipped).
    #[doc(hidden)]
    pub fn has_direct_decoder(&self) -> bool {
        self.compiled.is_some()
    }
}

/// A consumer-side schema (per topic) that records are resolved to by Avro schema resolution,
/// so the JSON shape stays stable while producers evolve their schema.
#[derive(Debug, Clone)]
pub struct ReaderSchema(Parsed);

impl ReaderSchema {
    pub fn parse(text: &str) -> Result<Self, SchemaError> {
        Parsed::parse("reader", text, &[]).map(Self)
    }

    /// Like [`ReaderSchema::parse`] for a reader schema split over several named schemas.
    pub fn parse_with_references(main: &str, references: &[String]) -> Result<Self, SchemaError> {
        Parsed::parse("reader", main, references).map(Self)
    }

    /// The parsed main schema.
    pub fn schema(&self) -> &Schema {
        &self.0.main
    }
}

/// Decode a Confluent-serialized payload (what follows the id prefix, or the whole record with
/// the header strategy) to JSON.
///
/// Exactly one datum must fill the payload; leftover bytes mean the writer schema is wrong and
/// are an error. Follows Confluent's Java serde: when the writer schema is the primitive
/// `bytes`, the payload *is* the value (no Avro length prefix).
pub fn decode(
    payload: &[u8],
    writer: &WriterSchema,
    reader: Option<&ReaderSchema>,
) -> Result<serde_json::Value, DecodeError> {
    decode_inner(payload, writer, reader, true)
}

/// [`decode`] without Confluent's raw-`bytes` rule, for AWS Glue payloads: Glue's serde writes
/// a top-level `bytes` value as a normal length-prefixed datum.
pub fn decode_plain(
    payload: &[u8],
    writer: &WriterSchema,
    reader: Option<&ReaderSchema>,
) -> Result<serde_json::Value, DecodeError> {
    decode_inner(payload, writer, reader, false)
}

/// [`decode`] or [`decode_plain`], whichever convention the record's registry follows.
pub fn decode_for(
    schema: &SchemaRef,
    payload: &[u8],
    writer: &WriterSchema,
    reader: Option<&ReaderSchema>,
) -> Result<serde_json::Value, DecodeError> {
    let confluent = !matches!(schema, SchemaRef::GlueVersion(_));
    decode_inner(payload, writer, reader, confluent)
}

/// A decoded datum, ready to serialize: JSON text written straight from the checked Avro bytes
/// (no intermediate value), or a JSON value (reader schemas, the apache-avro path).
pub struct Decoded<'a>(Repr<'a>);

enum Repr<'a> {
    Json(serde_json::Value),
    Text {
        text: String,
        /// Kept to build the value for masking ([`Decoded::into_json`]).
        program: &'a compile::Program,
        payload: &'a [u8],
    },
}

impl Decoded<'_> {
    /// A value that is already JSON.
    pub fn json(value: serde_json::Value) -> Self {
        Decoded(Repr::Json(value))
    }

    /// The datum as a JSON value, e.g. to mask fields of it.
    pub fn into_json(self) -> serde_json::Value {
        match self.0 {
            Repr::Json(v) => v,
            Repr::Text {
                program, payload, ..
            } => direct::decode(program, payload).expect("a written datum decodes as it wrote"),
        }
    }

    /// The datum's compact JSON text, when it was written as text: what serializing it gives,
    /// for writers that copy it into their output instead.
    pub fn json_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text { text, .. } => Some(text),
            Repr::Json(_) => None,
        }
    }
}

impl serde::Serialize for Decoded<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Json(v) => v.serialize(s),
            // The parsed path (the `decode` command) only; the hot path copies the text.
            Repr::Text { text, .. } => serde_json::value::RawValue::from_string(text.clone())
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
        }
    }
}

/// Like [`decode_for`], but a datum the direct decoder handles is written as JSON text while it
/// is checked, for the output record to copy. Errors are [`decode_for`]'s, exactly.
pub fn decode_for_output<'a>(
    schema: &SchemaRef,
    payload: &'a [u8],
    writer: &'a WriterSchema,
    reader: Option<&ReaderSchema>,
) -> Result<Decoded<'a>, DecodeError> {
    let confluent = !matches!(schema, SchemaRef::GlueVersion(_));
    match direct_program(payload, writer, reader, confluent) {
        Some(program) => {
            // Room for the usual expansion (base64, quotes, formatted logical types).
            let mut text = String::with_capacity(payload.len() * 4 + 16);
            write::write(program, payload, &mut text)?;
            Ok(Decoded(Repr::Text {
                text,
                program,
                payload,
            }))
        }
        None => decode_inner(payload, writer, reader, confluent).map(Decoded::json),
    }
}

/// The compiled writer schema when the direct decoder applies to this payload.
fn direct_program<'w>(
    payload: &[u8],
    writer: &'w WriterSchema,
    reader: Option<&ReaderSchema>,
    raw_top_level_bytes: bool,
) -> Option<&'w compile::Program> {
    let limit = init_limits();
    if reader.is_some() || (raw_top_level_bytes && matches!(writer.parsed.main, Schema::Bytes)) {
        return None;
    }
    // Above this size apache-avro's allocation limit could reject a datum the direct decoder
    // accepts; such payloads keep the reference path and its exact errors.
    let direct_max = limit / std::mem::size_of::<(String, Value)>();
    writer
        .compiled
        .as_deref()
        .filter(|_| payload.len() <= direct_max)
}

fn decode_inner(
    payload: &[u8],
    writer: &WriterSchema,
    reader: Option<&ReaderSchema>,
    raw_top_level_bytes: bool,
) -> Result<serde_json::Value, DecodeError> {
    if reader.is_none() && raw_top_level_bytes && matches!(writer.parsed.main, Schema::Bytes) {
        return Ok(serde_json::Value::String(
            base64::engine::general_purpose::STANDARD.encode(payload),
        ));
    }
    match direct_program(payload, writer, reader, raw_top_level_bytes) {
        Some(program) => direct::decode(program, payload),
        None => decode_reference(payload, writer, reader, raw_top_level_bytes),
    }
}

/// The reference path: validate with `scan`, decode with apache-avro, convert with `walk`.
/// Public (hidden) so tests can check the direct decoder against it.
#[doc(hidden)]
pub fn decode_reference(
    payload: &[u8],
    writer: &WriterSchema,
    reader: Option<&ReaderSchema>,
    raw_top_level_bytes: bool,
) -> Result<serde_json::Value, DecodeError> {
    init_limits();
    let writer = &writer.parsed;
    let avro_err = |e: apache_avro::Error| DecodeError::Avro(avro_message(&e));
    let writer_names = writer.resolved().map_err(avro_err)?;

    let value = if raw_top_level_bytes && matches!(writer.main, Schema::Bytes) {
        Value::Bytes(payload.to_vec())
    } else {
        let mut scanner = scan::Scanner::new(payload, writer_names.get_names());
        scanner.scan(&writer.main, None, &mut Path::default())?;
        let consumed = scanner.consumed();
        if consumed < payload.len() {
            return Err(DecodeError::TrailingBytes {
                consumed,
                trailing: payload.len() - consumed,
                total: payload.len(),
            });
        }
        let mut datum = payload;
        let value = GenericDatumReader::builder(&writer.main)
            .resolved_writer_schemata(writer_names.clone())
            .build()
            .and_then(|r| r.read_value(&mut datum))
            .map_err(avro_err)?;
        if !datum.is_empty() {
            return Err(DecodeError::Avro(format!(
                "decoder stopped {} bytes before the end of the datum",
                datum.len()
            )));
        }
        value
    };

    match reader {
        None => walk::to_json(
            &writer.main,
            &value,
            writer_names.get_names(),
            None,
            &mut Path::default(),
        ),
        Some(reader) => {
            let reader = &reader.0;
            let reader_names = reader.resolved().map_err(avro_err)?;
            let mut value = value;
            widen_decimals(&mut value);
            let value = value
                .resolve_with_names(&reader.main, reader_names.get_names())
                .map_err(|e| DecodeError::Resolution(avro_message(&e)))?;
            walk::to_json(
                &reader.main,
                &value,
                reader_names.get_names(),
                None,
                &mut Path::default(),
            )
        }
    }
}

/// apache-avro 0.22's schema resolution checks a decimal's *byte length* against the reader's
/// precision instead of its value, so a 1-byte `5` fails against precision 9. Sign-extending
/// every decimal to 128 bytes (room for 306 digits) before resolving keeps the value and passes
/// that check.
fn widen_decimals(value: &mut Value) {
    const WIDE: usize = 128;
    match value {
        Value::Decimal(decimal) => {
            if let Ok(bytes) = Vec::<u8>::try_from(&*decimal) {
                if bytes.len() < WIDE {
                    let fill = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
                        0xff
                    } else {
                        0
                    };
                    let mut wide = vec![fill; WIDE - bytes.len()];
                    wide.extend_from_slice(&bytes);
                    *decimal = apache_avro::Decimal::from(wide);
                }
            }
        }
        Value::Union(_, inner) => widen_decimals(inner),
        Value::Array(items) => items.iter_mut().for_each(widen_decimals),
        Value::Map(entries) => entries.values_mut().for_each(widen_decimals),
        Value::Record(fields) => fields.iter_mut().for_each(|(_, v)| widen_decimals(v)),
        _ => {}
    }
}

/// apache-avro's message with its cause, capped: some of its errors embed whole schemas or
/// values, which would bloat a DLQ message.
fn avro_message(e: &apache_avro::Error) -> String {
    const MAX: usize = 1000;
    let mut msg = format!("{:?}", e.details());
    if msg.len() > MAX {
        let mut cut = MAX;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
        msg.push('…');
    }
    msg
}

//! Schema-registry wire formats: find the schema reference and the Avro payload in a Kafka
//! record's bytes (spec §2).
//!
//! | first byte | framing | layout |
//! |---|---|---|
//! | `0x00` | Confluent v0 | `0x00` + big-endian signed i32 schema id + payload |
//! | `0x01` | Confluent v1 | `0x01` + 16-byte GUID + payload |
//! | `0x03` | AWS Glue | `0x03` + compression (`0x00` none, `0x05` zlib) + 16-byte UUID + payload |
//!
//! Confluent's "header" strategy (Schema Registry 8.0+) moves the id into the Kafka header
//! `__value_schema_id` / `__key_schema_id` and leaves the payload unprefixed.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::str::FromStr;

use uuid::Uuid;

/// Largest payload a zlib-compressed Glue record may inflate to. A Kafka value is at most a
/// few MB, so anything beyond this is a decompression bomb, not data.
pub const MAX_DECOMPRESSED: usize = 10 * 1024 * 1024;

const CONFLUENT_V0: u8 = 0x00;
const CONFLUENT_V1: u8 = 0x01;
const GLUE: u8 = 0x03;
const GLUE_UNCOMPRESSED: u8 = 0x00;
const GLUE_ZLIB: u8 = 0x05;
const CONFLUENT_V0_LEN: usize = 5;
const CONFLUENT_V1_LEN: usize = 17;
const GLUE_LEN: usize = 18;

/// Which framing a pipe accepts. `Auto` trusts the first byte, which is safe because raw
/// (unframed) Avro is never accepted; pinning a format rejects records from the other registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WireFormat {
    #[default]
    Auto,
    Confluent,
    Glue,
}

impl FromStr for WireFormat {
    type Err = ParseWireFormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "confluent" => Ok(Self::Confluent),
            "glue" => Ok(Self::Glue),
            _ => Err(ParseWireFormatError(s.to_owned())),
        }
    }
}

impl fmt::Display for WireFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Confluent => "confluent",
            Self::Glue => "glue",
        })
    }
}

/// A wire-format setting that is none of `auto`, `confluent`, `glue`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown wire format {0:?}; expected \"auto\", \"confluent\" or \"glue\"")]
pub struct ParseWireFormatError(pub String);

/// The registry key of a record's writer schema; also the schema-cache key (ids are immutable).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SchemaRef {
    ConfluentId(i32),
    ConfluentGuid(Uuid),
    GlueVersion(Uuid),
}

impl fmt::Display for SchemaRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConfluentId(id) => write!(f, "confluent id {id}"),
            Self::ConfluentGuid(guid) => write!(f, "confluent guid {guid}"),
            Self::GlueVersion(uuid) => write!(f, "glue schema version {uuid}"),
        }
    }
}

/// A record split into its schema reference and Avro payload. The payload borrows the record
/// unless it had to be inflated (Glue zlib).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed<'a> {
    pub schema: SchemaRef,
    pub payload: Cow<'a, [u8]>,
}

/// Why a record's bytes are not a framing this pipe accepts. Messages name the offending byte or
/// length so a DLQ reader can tell a wrong producer from corrupt data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("record is empty; a schema-registry framing needs at least 5 bytes")]
    Empty,
    #[error("record is {len} byte{}; {framing} framing needs at least {need}", plural(*.len))]
    TooShort {
        framing: &'static str,
        len: usize,
        need: usize,
    },
    #[error(
        "first byte {0:#04x} is not a schema-registry framing (0x00/0x01 Confluent, 0x03 Glue)"
    )]
    UnknownMagic(u8),
    #[error("expected {expected} but the first byte is {found:#04x} ({found_name})")]
    UnexpectedFormat {
        expected: &'static str,
        found: u8,
        found_name: &'static str,
    },
    #[error("Glue compression byte {0:#04x} is neither 0x00 (none) nor 0x05 (zlib)")]
    GlueCompression(u8),
    #[error("Glue zlib payload is corrupt: {0}")]
    Zlib(String),
    #[error("Glue zlib payload has {0} bytes after the end of the compressed stream")]
    ZlibTrailing(usize),
    #[error("Glue zlib payload inflates beyond the {limit}-byte limit")]
    Decompressed { limit: usize },
    #[error("schema id header is malformed: {0}")]
    BadHeader(String),
}

impl FramingError {
    /// Stable short name for DLQ attributes and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Empty | Self::TooShort { .. } => "framing-too-short",
            Self::UnknownMagic(_) => "framing-unknown-magic",
            Self::UnexpectedFormat { .. } => "framing-unexpected-format",
            Self::GlueCompression(_) => "framing-glue-compression",
            Self::Zlib(_) | Self::ZlibTrailing(_) => "framing-zlib-corrupt",
            Self::Decompressed { .. } => "framing-zlib-too-large",
            Self::BadHeader(_) => "framing-bad-header",
        }
    }
}

/// Split a Kafka key or value into its schema reference and Avro payload.
///
/// `schema_id_header` is the value of the last `__value_schema_id` (or `__key_schema_id`) Kafka
/// header, if any. Like Confluent's `DualSchemaIdDeserializer`, a header takes precedence over
/// the payload prefix for `Auto` and `Confluent`, and the payload is then the whole record. With
/// `Glue` the header is ignored: Glue producers never write it, so it cannot override a Glue
/// frame.
pub fn parse_frame<'a>(
    bytes: &'a [u8],
    format: WireFormat,
    schema_id_header: Option<&[u8]>,
) -> Result<Framed<'a>, FramingError> {
    if format != WireFormat::Glue {
        if let Some(header) = schema_id_header {
            return Ok(Framed {
                schema: parse_schema_id_header(header)?,
                payload: Cow::Borrowed(bytes),
            });
        }
    }
    let Some(&first) = bytes.first() else {
        return Err(FramingError::Empty);
    };
    match (format, first) {
        (WireFormat::Auto | WireFormat::Confluent, CONFLUENT_V0 | CONFLUENT_V1) => {
            parse_confluent(bytes)
        }
        (WireFormat::Auto | WireFormat::Glue, GLUE) => parse_glue(bytes),
        (WireFormat::Confluent, _) => Err(FramingError::UnexpectedFormat {
            expected: "Confluent framing (0x00 or 0x01)",
            found: first,
            found_name: magic_name(first),
        }),
        (WireFormat::Glue, _) => Err(FramingError::UnexpectedFormat {
            expected: "Glue framing (0x03)",
            found: first,
            found_name: magic_name(first),
        }),
        (WireFormat::Auto, _) => Err(FramingError::UnknownMagic(first)),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn magic_name(byte: u8) -> &'static str {
    match byte {
        CONFLUENT_V0 | CONFLUENT_V1 => "Confluent",
        GLUE => "Glue",
        _ => "not a schema-registry framing",
    }
}

fn parse_confluent(bytes: &[u8]) -> Result<Framed<'_>, FramingError> {
    if bytes[0] == CONFLUENT_V0 {
        let id = confluent_id(bytes).ok_or(FramingError::TooShort {
            framing: "Confluent",
            len: bytes.len(),
            need: CONFLUENT_V0_LEN,
        })?;
        Ok(Framed {
            schema: SchemaRef::ConfluentId(id),
            payload: Cow::Borrowed(&bytes[CONFLUENT_V0_LEN..]),
        })
    } else {
        let guid = uuid_at(bytes, 1).ok_or(FramingError::TooShort {
            framing: "Confluent v1 (GUID)",
            len: bytes.len(),
            need: CONFLUENT_V1_LEN,
        })?;
        Ok(Framed {
            schema: SchemaRef::ConfluentGuid(guid),
            payload: Cow::Borrowed(&bytes[CONFLUENT_V1_LEN..]),
        })
    }
}

fn parse_glue(bytes: &[u8]) -> Result<Framed<'_>, FramingError> {
    if bytes.len() < GLUE_LEN {
        // Report a bad compression byte first when we have it: it is the more specific error.
        if let Some(&c) = bytes.get(1) {
            if c != GLUE_UNCOMPRESSED && c != GLUE_ZLIB {
                return Err(FramingError::GlueCompression(c));
            }
        }
        return Err(FramingError::TooShort {
            framing: "Glue",
            len: bytes.len(),
            need: GLUE_LEN,
        });
    }
    let version = uuid_at(bytes, 2).expect("length checked above");
    let body = &bytes[GLUE_LEN..];
    let payload = match bytes[1] {
        GLUE_UNCOMPRESSED => Cow::Borrowed(body),
        GLUE_ZLIB => Cow::Owned(inflate(body)?),
        other => return Err(FramingError::GlueCompression(other)),
    };
    Ok(Framed {
        schema: SchemaRef::GlueVersion(version),
        payload,
    })
}

/// Inflate a zlib stream (Java `Deflater` defaults), refusing output beyond
/// [`MAX_DECOMPRESSED`] and data after the end of the stream.
fn inflate(body: &[u8]) -> Result<Vec<u8>, FramingError> {
    let mut decoder = flate2::bufread::ZlibDecoder::new(body);
    let mut out = Vec::new();
    (&mut decoder)
        .take(MAX_DECOMPRESSED as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| FramingError::Zlib(e.to_string()))?;
    if out.len() > MAX_DECOMPRESSED {
        return Err(FramingError::Decompressed {
            limit: MAX_DECOMPRESSED,
        });
    }
    let trailing = decoder.into_inner().len();
    if trailing > 0 {
        return Err(FramingError::ZlibTrailing(trailing));
    }
    Ok(out)
}

/// Confluent header strategy: the header is exactly `0x00` + i32 id or `0x01` + GUID.
fn parse_schema_id_header(header: &[u8]) -> Result<SchemaRef, FramingError> {
    match header.first() {
        None => Err(FramingError::BadHeader("it is empty".into())),
        Some(&CONFLUENT_V0) if header.len() == CONFLUENT_V0_LEN => Ok(SchemaRef::ConfluentId(
            confluent_id(header).expect("length checked"),
        )),
        Some(&CONFLUENT_V1) if header.len() == CONFLUENT_V1_LEN => Ok(SchemaRef::ConfluentGuid(
            uuid_at(header, 1).expect("length checked"),
        )),
        Some(&m @ (CONFLUENT_V0 | CONFLUENT_V1)) => {
            let need = if m == CONFLUENT_V0 {
                "5 bytes (0x00 + schema id)"
            } else {
                "17 bytes (0x01 + GUID)"
            };
            Err(FramingError::BadHeader(format!(
                "it is {} byte{}; a header starting with {m:#04x} must be {need}",
                header.len(),
                plural(header.len())
            )))
        }
        Some(&m) => Err(FramingError::BadHeader(format!(
            "first byte {m:#04x} is neither 0x00 (schema id) nor 0x01 (GUID)"
        ))),
    }
}

fn confluent_id(bytes: &[u8]) -> Option<i32> {
    let id: [u8; 4] = bytes.get(1..CONFLUENT_V0_LEN)?.try_into().ok()?;
    Some(i32::from_be_bytes(id))
}

/// A UUID in standard (big-endian) byte order, as Java's `new UUID(msb, lsb)` reads it.
fn uuid_at(bytes: &[u8], at: usize) -> Option<Uuid> {
    let raw: [u8; 16] = bytes.get(at..at + 16)?.try_into().ok()?;
    Some(Uuid::from_bytes(raw))
}

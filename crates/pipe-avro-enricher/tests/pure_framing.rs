//! `framing`: the spec §1.5 golden vectors, every error, the header strategy and fuzzing.

use std::borrow::Cow;
use std::io::Write;

use base64::Engine;
use pipe_avro_enricher::framing::{
    parse_frame, FramingError, SchemaRef, WireFormat, MAX_DECOMPRESSED,
};
use proptest::prelude::*;
use uuid::Uuid;

const CONFLUENT_SAMPLE: &str = "AAABhqH+zAEKMTMxMTkKMTMxMTkAAAAAgJ/JQA==";
const GLUE_SAMPLE: &str =
    "AwCTpTSK4StOq6M+06m3n5Q2GBRsZkNtUVZCallOABRibG5GTG9TRHVZAgIUWVhlWmVWZVFjdgAUQ0FITHBlb3h3RgAA";
const GLUE: u8 = 0x03;
const GLUE_ZLIB: u8 = 0x05;
const GLUE_UUID: &str = "93a5348a-e12b-4eab-a33e-d3a9b79f9436";

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn glue_uuid() -> Uuid {
    GLUE_UUID.parse().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn glue_frame(compression: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![GLUE, compression];
    v.extend_from_slice(glue_uuid().as_bytes());
    v.extend_from_slice(body);
    v
}

#[test]
fn confluent_golden_vector() {
    let bytes = b64(CONFLUENT_SAMPLE);
    for format in [WireFormat::Auto, WireFormat::Confluent] {
        let framed = parse_frame(&bytes, format, None).unwrap();
        assert_eq!(framed.schema, SchemaRef::ConfluentId(100_001));
        assert_eq!(&*framed.payload, &bytes[5..]);
        assert!(matches!(framed.payload, Cow::Borrowed(_)));
    }
    assert_eq!(
        SchemaRef::ConfluentId(100_001).to_string(),
        "confluent id 100001"
    );
}

#[test]
fn glue_golden_vector() {
    let bytes = b64(GLUE_SAMPLE);
    for format in [WireFormat::Auto, WireFormat::Glue] {
        let framed = parse_frame(&bytes, format, None).unwrap();
        assert_eq!(framed.schema, SchemaRef::GlueVersion(glue_uuid()));
        assert_eq!(&*framed.payload, &bytes[18..]);
    }
    assert_eq!(
        SchemaRef::GlueVersion(glue_uuid()).to_string(),
        format!("glue schema version {GLUE_UUID}")
    );
}

#[test]
fn confluent_negative_id_is_signed() {
    let framed = parse_frame(&[0, 0xff, 0xff, 0xff, 0xfe, 7], WireFormat::Auto, None).unwrap();
    assert_eq!(framed.schema, SchemaRef::ConfluentId(-2));
    assert_eq!(&*framed.payload, &[7]);
}

#[test]
fn confluent_v1_guid() {
    let guid = glue_uuid();
    let mut bytes = vec![1];
    bytes.extend_from_slice(guid.as_bytes());
    bytes.extend_from_slice(b"xy");
    let framed = parse_frame(&bytes, WireFormat::Confluent, None).unwrap();
    assert_eq!(framed.schema, SchemaRef::ConfluentGuid(guid));
    assert_eq!(&*framed.payload, b"xy");
    assert_eq!(
        framed.schema.to_string(),
        format!("confluent guid {GLUE_UUID}")
    );
    // Exactly the header with an empty payload is still a frame.
    let framed = parse_frame(&bytes[..17], WireFormat::Auto, None).unwrap();
    assert!(framed.payload.is_empty());
}

#[test]
fn glue_zlib_is_inflated() {
    let body = b"hello avro payload".repeat(50);
    let bytes = glue_frame(GLUE_ZLIB, &zlib(&body));
    let framed = parse_frame(&bytes, WireFormat::Glue, None).unwrap();
    assert_eq!(framed.schema, SchemaRef::GlueVersion(glue_uuid()));
    assert_eq!(&*framed.payload, &body[..]);
    assert!(matches!(framed.payload, Cow::Owned(_)));
}

#[test]
fn glue_zlib_at_exact_limit_passes_and_beyond_fails() {
    let ok = glue_frame(GLUE_ZLIB, &zlib(&vec![0u8; MAX_DECOMPRESSED]));
    assert_eq!(
        parse_frame(&ok, WireFormat::Auto, None)
            .unwrap()
            .payload
            .len(),
        MAX_DECOMPRESSED
    );
    let bomb = glue_frame(GLUE_ZLIB, &zlib(&vec![0u8; MAX_DECOMPRESSED + 1]));
    let err = parse_frame(&bomb, WireFormat::Auto, None).unwrap_err();
    assert_eq!(
        err,
        FramingError::Decompressed {
            limit: MAX_DECOMPRESSED
        }
    );
    assert_eq!(
        err.to_string(),
        "Glue zlib payload inflates beyond the 10485760-byte limit"
    );
}

#[test]
fn glue_zlib_corrupt_truncated_and_trailing() {
    let err = parse_frame(&glue_frame(GLUE_ZLIB, b"not zlib"), WireFormat::Auto, None).unwrap_err();
    assert!(matches!(err, FramingError::Zlib(_)), "{err}");
    assert_eq!(err.kind(), "framing-zlib-corrupt");

    let good = zlib(b"some data to compress");
    let truncated = glue_frame(GLUE_ZLIB, &good[..good.len() - 3]);
    assert!(matches!(
        parse_frame(&truncated, WireFormat::Auto, None),
        Err(FramingError::Zlib(_))
    ));

    let empty = glue_frame(GLUE_ZLIB, b"");
    assert!(matches!(
        parse_frame(&empty, WireFormat::Auto, None),
        Err(FramingError::Zlib(_))
    ));

    let mut trailing = good.clone();
    trailing.extend_from_slice(b"junk");
    let err = parse_frame(&glue_frame(GLUE_ZLIB, &trailing), WireFormat::Auto, None).unwrap_err();
    assert_eq!(err, FramingError::ZlibTrailing(4));
    assert_eq!(
        err.to_string(),
        "Glue zlib payload has 4 bytes after the end of the compressed stream"
    );
}

#[test]
fn error_messages() {
    let cases: Vec<(&[u8], WireFormat, &str)> = vec![
        (
            &[],
            WireFormat::Auto,
            "record is empty; a schema-registry framing needs at least 5 bytes",
        ),
        (
            &[0, 0, 1],
            WireFormat::Auto,
            "record is 3 bytes; Confluent framing needs at least 5",
        ),
        (
            &[1, 0, 1, 2],
            WireFormat::Confluent,
            "record is 4 bytes; Confluent v1 (GUID) framing needs at least 17",
        ),
        (
            &[3, 0, 1, 2],
            WireFormat::Auto,
            "record is 4 bytes; Glue framing needs at least 18",
        ),
        (
            &[3],
            WireFormat::Glue,
            "record is 1 byte; Glue framing needs at least 18",
        ),
        (
            b"{\"a\":1}",
            WireFormat::Auto,
            "first byte 0x7b is not a schema-registry framing (0x00/0x01 Confluent, 0x03 Glue)",
        ),
        (
            &[2, 0, 0, 0, 0, 0],
            WireFormat::Auto,
            "first byte 0x02 is not a schema-registry framing (0x00/0x01 Confluent, 0x03 Glue)",
        ),
        (
            &[0, 0, 0, 0, 1, 2],
            WireFormat::Glue,
            "expected Glue framing (0x03) but the first byte is 0x00 (Confluent)",
        ),
        (
            &[0x7b, 0, 0, 0, 1, 2],
            WireFormat::Glue,
            "expected Glue framing (0x03) but the first byte is 0x7b (not a schema-registry framing)",
        ),
        (
            &[3; 20],
            WireFormat::Confluent,
            "expected Confluent framing (0x00 or 0x01) but the first byte is 0x03 (Glue)",
        ),
        (
            &[3, 2, 0, 0],
            WireFormat::Auto,
            "Glue compression byte 0x02 is neither 0x00 (none) nor 0x05 (zlib)",
        ),
    ];
    for (bytes, format, want) in cases {
        let err = parse_frame(bytes, format, None).unwrap_err();
        assert_eq!(err.to_string(), want, "{bytes:?} as {format}");
    }
    let full = glue_frame(2, b"body");
    assert_eq!(
        parse_frame(&full, WireFormat::Glue, None).unwrap_err(),
        FramingError::GlueCompression(2)
    );
}

#[test]
fn header_strategy_wins_for_auto_and_confluent() {
    let record = b"\x02\x0aunprefixed avro";
    let mut guid_header = vec![1];
    guid_header.extend_from_slice(glue_uuid().as_bytes());
    for format in [WireFormat::Auto, WireFormat::Confluent] {
        let framed = parse_frame(record, format, Some(&guid_header)).unwrap();
        assert_eq!(framed.schema, SchemaRef::ConfluentGuid(glue_uuid()));
        assert_eq!(&*framed.payload, record);

        let framed = parse_frame(record, format, Some(&[0, 0, 0, 0, 42])).unwrap();
        assert_eq!(framed.schema, SchemaRef::ConfluentId(42));
        assert_eq!(&*framed.payload, record);
    }
    // Even a record that looks Confluent-prefixed is taken whole when the header is present.
    let prefixed = b64(CONFLUENT_SAMPLE);
    let framed = parse_frame(&prefixed, WireFormat::Auto, Some(&[0, 0, 0, 0, 7])).unwrap();
    assert_eq!(framed.schema, SchemaRef::ConfluentId(7));
    assert_eq!(&*framed.payload, &prefixed[..]);
    // An empty record with a header is a (empty) payload, not an error.
    assert!(parse_frame(b"", WireFormat::Auto, Some(&[0, 0, 0, 0, 7])).is_ok());
}

#[test]
fn header_is_ignored_for_glue() {
    let bytes = b64(GLUE_SAMPLE);
    let framed = parse_frame(&bytes, WireFormat::Glue, Some(&[0, 0, 0, 0, 7])).unwrap();
    assert_eq!(framed.schema, SchemaRef::GlueVersion(glue_uuid()));
    // ...including a malformed one.
    assert!(parse_frame(&bytes, WireFormat::Glue, Some(&[9])).is_ok());
}

#[test]
fn malformed_headers() {
    let cases: Vec<(&[u8], &str)> = vec![
        (&[], "schema id header is malformed: it is empty"),
        (
            &[0, 0, 1],
            "schema id header is malformed: it is 3 bytes; a header starting with 0x00 must be 5 bytes (0x00 + schema id)",
        ),
        (
            &[0, 0, 0, 0, 1, 9],
            "schema id header is malformed: it is 6 bytes; a header starting with 0x00 must be 5 bytes (0x00 + schema id)",
        ),
        (
            &[1, 2, 3],
            "schema id header is malformed: it is 3 bytes; a header starting with 0x01 must be 17 bytes (0x01 + GUID)",
        ),
        (
            &[3, 0, 0, 0, 1],
            "schema id header is malformed: first byte 0x03 is neither 0x00 (schema id) nor 0x01 (GUID)",
        ),
    ];
    for (header, want) in cases {
        for format in [WireFormat::Auto, WireFormat::Confluent] {
            let err = parse_frame(b"\x00\x00\x00\x00\x01", format, Some(header)).unwrap_err();
            assert_eq!(err.to_string(), want);
            assert_eq!(err.kind(), "framing-bad-header");
        }
    }
}

#[test]
fn wire_format_from_str() {
    assert_eq!("auto".parse::<WireFormat>().unwrap(), WireFormat::Auto);
    assert_eq!(
        "Confluent".parse::<WireFormat>().unwrap(),
        WireFormat::Confluent
    );
    assert_eq!(" GLUE ".parse::<WireFormat>().unwrap(), WireFormat::Glue);
    assert_eq!(WireFormat::default(), WireFormat::Auto);
    let err = "avro".parse::<WireFormat>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown wire format \"avro\"; expected \"auto\", \"confluent\" or \"glue\""
    );
    for f in [WireFormat::Auto, WireFormat::Confluent, WireFormat::Glue] {
        assert_eq!(f.to_string().parse::<WireFormat>().unwrap(), f);
    }
}

fn any_format() -> impl Strategy<Value = WireFormat> {
    prop_oneof![
        Just(WireFormat::Auto),
        Just(WireFormat::Confluent),
        Just(WireFormat::Glue)
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        format in any_format(),
        header in prop::option::of(prop::collection::vec(any::<u8>(), 0..24)),
    ) {
        let _ = parse_frame(&bytes, format, header.as_deref());
    }

    #[test]
    fn framed_prefixes_never_panic(
        magic in prop_oneof![Just(0u8), Just(1), Just(3)],
        compression in prop_oneof![Just(0u8), Just(5), any::<u8>()],
        rest in prop::collection::vec(any::<u8>(), 0..64),
        format in any_format(),
    ) {
        let mut bytes = vec![magic, compression];
        bytes.extend_from_slice(&rest);
        if let Ok(framed) = parse_frame(&bytes, format, None) {
            prop_assert!(framed.payload.len() <= MAX_DECOMPRESSED);
        }
    }

    #[test]
    fn confluent_round_trip(id in any::<i32>(), body in prop::collection::vec(any::<u8>(), 0..32)) {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(&id.to_be_bytes());
        bytes.extend_from_slice(&body);
        let framed = parse_frame(&bytes, WireFormat::Auto, None).unwrap();
        prop_assert_eq!(framed.schema, SchemaRef::ConfluentId(id));
        prop_assert_eq!(&*framed.payload, &body[..]);
    }
}

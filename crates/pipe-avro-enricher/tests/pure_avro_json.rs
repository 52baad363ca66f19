//! The JSON contract of `avro_json`, pinned line by line, plus the spec §1.5 golden vectors,
//! schema evolution, schema references and hostile payloads.

mod pure_common;

use apache_avro::types::Value;
use apache_avro::{Days, Decimal, Duration, Millis, Months};
use pipe_avro_enricher::avro_json::{
    decode, decode_for, decode_plain, DecodeError, ReaderSchema, WriterSchema,
};
use pipe_avro_enricher::framing::{parse_frame, SchemaRef, WireFormat};
use pure_common::{b64, encode, writer, CONFLUENT_SAMPLE, PRODUCT};
use serde_json::json;

const GLUE_SAMPLE: &str =
    "AwCTpTSK4StOq6M+06m3n5Q2GBRsZkNtUVZCallOABRibG5GTG9TRHVZAgIUWVhlWmVWZVFjdgAUQ0FITHBlb3h3RgAA";
/// `shared/customer_schema.avsc` of the Glue sample, reconstructed from the golden bytes:
/// `email_addresses` is a union (`02` selects the array branch, matching the sample README's
/// `{"array": [...]}`), and CARD is symbol 0 (the generated builder's default).
const CUSTOMER: &str = r#"{"type":"record","name":"Customer","namespace":"example.avro","fields":[
    {"name":"customer_account_no","type":"int"},
    {"name":"first_name","type":"string"},
    {"name":"middle_name","type":["null","string"],"default":null},
    {"name":"last_name","type":"string"},
    {"name":"email_addresses","type":["null",{"type":"array","items":"string"}],"default":null},
    {"name":"customer_address","type":"string"},
    {"name":"mode_of_payment","type":{"type":"enum","name":"PaymentMode","symbols":["CARD","CASH"]},"default":"CARD"},
    {"name":"customer_rating","type":["null","int"],"default":null}]}"#;

/// Encode `value` with apache-avro, decode it with ours, return the JSON text.
fn round_trip(schema: &str, value: Value) -> String {
    let bytes = encode(schema, value);
    serde_json::to_string(&decode(&bytes, &writer(schema), None).unwrap()).unwrap()
}

fn field(name: &str, ty: &str) -> String {
    format!(r#"{{"type":"record","name":"R","fields":[{{"name":"{name}","type":{ty}}}]}}"#)
}

/// One-field record round trip: the JSON text of the field's value.
fn one(ty: &str, value: Value) -> String {
    let text = round_trip(&field("f", ty), Value::Record(vec![("f".into(), value)]));
    text.strip_prefix(r#"{"f":"#)
        .and_then(|t| t.strip_suffix('}'))
        .unwrap()
        .to_owned()
}

#[test]
fn confluent_golden_vector() {
    let bytes = b64(CONFLUENT_SAMPLE);
    let framed = parse_frame(&bytes, WireFormat::Auto, None).unwrap();
    assert_eq!(framed.schema, SchemaRef::ConfluentId(100_001));
    let want = r#"{"id":13119,"name":"13119","description":"13119","price":13119.0}"#;
    let got = decode(&framed.payload, &writer(PRODUCT), None).unwrap();
    assert_eq!(serde_json::to_string(&got).unwrap(), want);
    // `fe cc 01` is 13119 whether `id` is an int or a long.
    let int_id = PRODUCT.replacen(r#""type":"long""#, r#""type":"int""#, 1);
    let got = decode(&framed.payload, &writer(&int_id), None).unwrap();
    assert_eq!(serde_json::to_string(&got).unwrap(), want);
}

#[test]
fn glue_golden_vector() {
    let bytes = b64(GLUE_SAMPLE);
    let framed = parse_frame(&bytes, WireFormat::Auto, None).unwrap();
    assert_eq!(
        framed.schema,
        SchemaRef::GlueVersion("93a5348a-e12b-4eab-a33e-d3a9b79f9436".parse().unwrap())
    );
    let got = decode_plain(&framed.payload, &writer(CUSTOMER), None).unwrap();
    assert_eq!(
        serde_json::to_string(&got).unwrap(),
        r#"{"customer_account_no":12,"first_name":"lfCmQVBjYN","middle_name":null,"last_name":"blnFLoSDuY","email_addresses":["YXeZeVeQcv"],"customer_address":"CAHLpeoxwF","mode_of_payment":"CARD","customer_rating":null}"#
    );
    // All 51 payload bytes are the datum: one byte more or less fails.
    let mut longer = framed.payload.to_vec();
    longer.push(0);
    assert!(matches!(
        decode_plain(&longer, &writer(CUSTOMER), None),
        Err(DecodeError::TrailingBytes {
            consumed: 51,
            trailing: 1,
            total: 52
        })
    ));
    let shorter = &framed.payload[..framed.payload.len() - 1];
    assert!(decode_plain(shorter, &writer(CUSTOMER), None).is_err());
}

#[test]
fn primitives() {
    assert_eq!(one(r#""null""#, Value::Null), "null");
    assert_eq!(one(r#""boolean""#, Value::Boolean(true)), "true");
    assert_eq!(one(r#""boolean""#, Value::Boolean(false)), "false");
    assert_eq!(one(r#""int""#, Value::Int(i32::MIN)), "-2147483648");
    assert_eq!(
        one(r#""long""#, Value::Long(i64::MAX)),
        "9223372036854775807"
    );
    assert_eq!(
        one(r#""long""#, Value::Long(i64::MIN)),
        "-9223372036854775808"
    );
    assert_eq!(
        one(r#""long""#, Value::Long((1 << 53) + 1)),
        "9007199254740993"
    );
    assert_eq!(
        one(r#""string""#, Value::String("Zoë \"q\" 日本".into())),
        r#""Zoë \"q\" 日本""#
    );
}

#[test]
fn floats() {
    assert_eq!(one(r#""float""#, Value::Float(0.1)), "0.1");
    assert_eq!(one(r#""float""#, Value::Float(1.5)), "1.5");
    assert_eq!(one(r#""float""#, Value::Float(3.0)), "3.0");
    assert_eq!(one(r#""float""#, Value::Float(f32::MAX)), "3.4028235e+38");
    assert_eq!(one(r#""float""#, Value::Float(1e-45)), "1e-45");
    // Two shortest forms (…2 and …3) are equally near 2033444.25: ties go to even, as in Java.
    let tie: f32 = "2033444.25".parse().unwrap();
    assert_eq!(one(r#""float""#, Value::Float(tie)), "2033444.2");
    assert_eq!(one(r#""double""#, Value::Double(0.1)), "0.1");
    assert_eq!(
        one(r#""double""#, Value::Double(0.1f32 as f64)),
        "0.10000000149011612"
    );
    assert_eq!(one(r#""double""#, Value::Double(-2.5e300)), "-2.5e+300");
    for ty in [r#""float""#, r#""double""#] {
        let v = |x: f64| {
            if ty.contains("float") {
                Value::Float(x as f32)
            } else {
                Value::Double(x)
            }
        };
        assert_eq!(one(ty, v(f64::NAN)), r#""NaN""#);
        assert_eq!(one(ty, v(f64::INFINITY)), r#""Infinity""#);
        assert_eq!(one(ty, v(f64::NEG_INFINITY)), r#""-Infinity""#);
    }
}

#[test]
fn bytes_fixed_enum() {
    assert_eq!(
        one(r#""bytes""#, Value::Bytes(vec![0, 1, 2, 255])),
        r#""AAEC/w==""#
    );
    assert_eq!(one(r#""bytes""#, Value::Bytes(vec![])), r#""""#);
    let fixed = r#"{"type":"fixed","name":"F","size":5}"#;
    assert_eq!(
        one(fixed, Value::Fixed(5, b"hello".to_vec())),
        r#""aGVsbG8=""#
    );
    let e = r#"{"type":"enum","name":"Color","symbols":["RED","GREEN"]}"#;
    assert_eq!(one(e, Value::Enum(1, "GREEN".into())), r#""GREEN""#);
}

#[test]
fn arrays_maps_records() {
    let arr = r#"{"type":"array","items":"int"}"#;
    assert_eq!(
        one(arr, Value::Array(vec![Value::Int(1), Value::Int(-2)])),
        "[1,-2]"
    );
    assert_eq!(one(arr, Value::Array(vec![])), "[]");
    let map = r#"{"type":"map","values":"long"}"#;
    let entries = [("zeta", 1), ("alpha", 2), ("mid", 3)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::Long(v)))
        .collect();
    assert_eq!(
        one(map, Value::Map(entries)),
        r#"{"alpha":2,"mid":3,"zeta":1}"#
    );
    // Record fields keep schema order, not alphabetical order.
    let schema = r#"{"type":"record","name":"R","fields":[{"name":"z","type":"int"},{"name":"a","type":{"type":"record","name":"In","fields":[{"name":"y","type":"string"},{"name":"b","type":"boolean"}]}}]}"#;
    let value = Value::Record(vec![
        ("z".into(), Value::Int(1)),
        (
            "a".into(),
            Value::Record(vec![
                ("y".into(), Value::String("s".into())),
                ("b".into(), Value::Boolean(true)),
            ]),
        ),
    ]);
    assert_eq!(
        round_trip(schema, value),
        r#"{"z":1,"a":{"y":"s","b":true}}"#
    );
}

#[test]
fn unions_are_unwrapped() {
    let u = r#"["null","string",{"type":"array","items":"int"}]"#;
    assert_eq!(one(u, Value::Union(0, Box::new(Value::Null))), "null");
    assert_eq!(
        one(u, Value::Union(1, Box::new(Value::String("x".into())))),
        r#""x""#
    );
    assert_eq!(
        one(
            u,
            Value::Union(2, Box::new(Value::Array(vec![Value::Int(7)])))
        ),
        "[7]"
    );
    let records = r#"[{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]},{"type":"record","name":"B","fields":[{"name":"b","type":"string"}]}]"#;
    let b = Value::Record(vec![("b".into(), Value::String("bee".into()))]);
    assert_eq!(one(records, Value::Union(1, Box::new(b))), r#"{"b":"bee"}"#);
}

fn be(v: i128) -> Vec<u8> {
    let mut bytes = v.to_be_bytes().to_vec();
    while bytes.len() > 1
        && ((bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xff && bytes[1] & 0x80 != 0))
    {
        bytes.remove(0);
    }
    bytes
}

#[test]
fn decimals() {
    let dec = r#"{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}"#;
    let d = |v: i128| Value::Decimal(Decimal::from(be(v)));
    assert_eq!(one(dec, d(-1230)), r#""-12.30""#);
    assert_eq!(one(dec, d(0)), r#""0.00""#);
    assert_eq!(one(dec, d(5)), r#""0.05""#);
    let dec0 = r#"{"type":"bytes","logicalType":"decimal","precision":9,"scale":0}"#;
    assert_eq!(one(dec0, d(12345)), r#""12345""#);
    let big = r#"{"type":"bytes","logicalType":"decimal","precision":60,"scale":30}"#;
    assert_eq!(
        one(big, d(-123_456_789_012_345_678_901_234_567_890_123_456_789)),
        r#""-123456789.012345678901234567890123456789""#
    );
    let fixed = r#"{"type":"fixed","name":"Amount","size":8,"logicalType":"decimal","precision":18,"scale":4}"#;
    let amount = Value::Decimal(Decimal::from((-5i64).to_be_bytes()));
    assert_eq!(one(fixed, amount), r#""-0.0005""#);
}

#[test]
fn big_decimal() {
    // big-decimal bytes hold their own (unscaled bytes, scale) pair.
    let schema = field("f", r#"{"type":"bytes","logicalType":"big-decimal"}"#);
    let datum = |unscaled: &[u8], zigzag_scale: u8| {
        let mut inner = vec![(unscaled.len() * 2) as u8];
        inner.extend_from_slice(unscaled);
        inner.push(zigzag_scale);
        let mut outer = vec![(inner.len() * 2) as u8];
        outer.extend(inner);
        outer
    };
    let w = writer(&schema);
    let json = |bytes: Vec<u8>| decode(&bytes, &w, None).unwrap()["f"].clone();
    assert_eq!(json(datum(&[0x04, 0xd2], 4)), json!("12.34")); // 1234, scale 2
    assert_eq!(json(datum(&[0xfb, 0x2e], 6)), json!("-1.234")); // -1234, scale 3
    assert_eq!(json(datum(&[0x07], 3)), json!("700")); // 7, scale -2
    let err = |bytes: &[u8]| decode(bytes, &w, None).unwrap_err().to_string();
    assert_eq!(
        err(&[0x06, 0x7e, 0x01, 0x02]),
        "malformed Avro in f: big-decimal unscaled value needs 63 bytes but only 2 bytes remain"
    );
    assert_eq!(
        err(&[0x08, 0x02, 0x01, 0x02, 0x00]),
        "malformed Avro in f: big-decimal has 1 byte after its scale"
    );
}

#[test]
fn uuids() {
    let s = r#"{"type":"string","logicalType":"uuid"}"#;
    let upper = Value::String("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11".into());
    let schema = field("f", s);
    let bytes = encode(
        &field("f", r#""string""#),
        Value::Record(vec![("f".into(), upper)]),
    );
    assert_eq!(
        decode(&bytes, &writer(&schema), None).unwrap(),
        json!({"f": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"})
    );
    let fixed = r#"{"type":"fixed","name":"U","size":16,"logicalType":"uuid"}"#;
    let raw = Value::Fixed(16, (0u8..16).collect());
    let bytes = encode(
        &field("f", r#"{"type":"fixed","name":"U","size":16}"#),
        Value::Record(vec![("f".into(), raw)]),
    );
    assert_eq!(
        decode(&bytes, &writer(&field("f", fixed)), None).unwrap(),
        json!({"f": "00010203-0405-0607-0809-0a0b0c0d0e0f"})
    );
}

#[test]
fn dates_and_times() {
    let date = r#"{"type":"int","logicalType":"date"}"#;
    assert_eq!(one(date, Value::Date(19_675)), r#""2023-11-14""#);
    assert_eq!(one(date, Value::Date(-1)), r#""1969-12-31""#);
    assert_eq!(one(date, Value::Date(-719_529)), r#""-000001-12-31""#);
    assert_eq!(one(date, Value::Date(2_932_897)), r#""+010000-01-01""#);
    let tm = r#"{"type":"int","logicalType":"time-millis"}"#;
    assert_eq!(one(tm, Value::TimeMillis(45_296_789)), r#""12:34:56.789""#);
    let tu = r#"{"type":"long","logicalType":"time-micros"}"#;
    assert_eq!(
        one(tu, Value::TimeMicros(45_296_789_012)),
        r#""12:34:56.789012""#
    );
    let ts = |lt: &str| format!(r#"{{"type":"long","logicalType":"{lt}"}}"#);
    assert_eq!(
        one(
            &ts("timestamp-millis"),
            Value::TimestampMillis(1_699_282_778_691)
        ),
        r#""2023-11-06T14:59:38.691Z""#
    );
    assert_eq!(
        one(&ts("timestamp-millis"), Value::TimestampMillis(-1)),
        r#""1969-12-31T23:59:59.999Z""#
    );
    assert_eq!(
        one(
            &ts("timestamp-micros"),
            Value::TimestampMicros(1_699_282_778_691_123)
        ),
        r#""2023-11-06T14:59:38.691123Z""#
    );
    assert_eq!(
        one(
            &ts("timestamp-nanos"),
            Value::TimestampNanos(1_699_282_778_691_123_456)
        ),
        r#""2023-11-06T14:59:38.691123456Z""#
    );
    assert_eq!(
        one(
            &ts("local-timestamp-millis"),
            Value::LocalTimestampMillis(1_699_282_778_691)
        ),
        r#""2023-11-06T14:59:38.691""#
    );
    assert_eq!(
        one(
            &ts("local-timestamp-micros"),
            Value::LocalTimestampMicros(0)
        ),
        r#""1970-01-01T00:00:00.000000""#
    );
    assert_eq!(
        one(&ts("local-timestamp-nanos"), Value::LocalTimestampNanos(-1)),
        r#""1969-12-31T23:59:59.999999999""#
    );
    assert_eq!(
        one(&ts("timestamp-millis"), Value::TimestampMillis(i64::MAX)),
        r#""+292278994-08-17T07:12:55.807Z""#
    );
}

#[test]
fn duration() {
    let d = r#"{"type":"fixed","name":"D","size":12,"logicalType":"duration"}"#;
    let value = Value::Duration(Duration::new(
        Months::new(1),
        Days::new(2),
        Millis::new(u32::MAX),
    ));
    assert_eq!(
        one(d, value),
        r#"{"months":1,"days":2,"milliseconds":4294967295}"#
    );
}

#[test]
fn top_level_bytes_confluent_raw_vs_glue_prefixed() {
    let w = writer(r#""bytes""#);
    // Confluent: the payload is the value, no length prefix.
    assert_eq!(decode(b"\x03raw", &w, None).unwrap(), json!("A3Jhdw=="));
    assert_eq!(decode(b"", &w, None).unwrap(), json!(""));
    // Glue: a normal datum.
    assert_eq!(decode_plain(b"\x06raw", &w, None).unwrap(), json!("cmF3"));
    assert!(matches!(
        decode_plain(b"\x03raw", &w, None),
        Err(DecodeError::Malformed { .. })
    ));
    // Other top-level primitives keep their encoding.
    assert_eq!(
        decode(b"\x06abc", &writer(r#""string""#), None).unwrap(),
        json!("abc")
    );
    // decode_for picks the convention from the schema reference.
    let id = SchemaRef::ConfluentId(1);
    let glue = SchemaRef::GlueVersion(uuid::Uuid::nil());
    assert_eq!(
        decode_for(&id, b"\x03raw", &w, None).unwrap(),
        json!("A3Jhdw==")
    );
    assert_eq!(
        decode_for(&glue, b"\x06raw", &w, None).unwrap(),
        json!("cmF3")
    );
    // With a reader schema, raw bytes are resolved like any value.
    let reader = ReaderSchema::parse(r#""string""#).unwrap();
    assert_eq!(decode(b"hi", &w, Some(&reader)).unwrap(), json!("hi"));
}

const V1: &str = r#"{"type":"record","name":"User","fields":[
    {"name":"id","type":"int"},{"name":"legacy","type":"string"},{"name":"name","type":"string"},
    {"name":"plan","type":{"type":"enum","name":"Plan","symbols":["FREE","PRO","LEGACY"]}}]}"#;
const V2: &str = r#"{"type":"record","name":"User","fields":[
    {"name":"name","type":"string"},{"name":"id","type":"long"},
    {"name":"email","type":["null","string"],"default":null},
    {"name":"country","type":"string","default":"DE"},
    {"name":"plan","type":{"type":"enum","name":"Plan","symbols":["FREE","PRO"],"default":"FREE"}}]}"#;

fn user_v1(plan: u32, symbol: &str) -> Vec<u8> {
    encode(
        V1,
        Value::Record(vec![
            ("id".into(), Value::Int(7)),
            ("legacy".into(), Value::String("old".into())),
            ("name".into(), Value::String("Ann".into())),
            ("plan".into(), Value::Enum(plan, symbol.into())),
        ]),
    )
}

#[test]
fn reader_schema_evolution() {
    let reader = ReaderSchema::parse(V2).unwrap();
    let got = decode(&user_v1(1, "PRO"), &writer(V1), Some(&reader)).unwrap();
    // Reader field order, int promoted to long, removed field dropped, defaults filled.
    assert_eq!(
        serde_json::to_string(&got).unwrap(),
        r#"{"name":"Ann","id":7,"email":null,"country":"DE","plan":"PRO"}"#
    );
    // An enum symbol the reader lacks takes the reader's enum default.
    let got = decode(&user_v1(2, "LEGACY"), &writer(V1), Some(&reader)).unwrap();
    assert_eq!(got["plan"], json!("FREE"));
    // Without a reader schema the writer's shape is kept.
    let got = decode(&user_v1(1, "PRO"), &writer(V1), None).unwrap();
    assert_eq!(
        serde_json::to_string(&got).unwrap(),
        r#"{"id":7,"legacy":"old","name":"Ann","plan":"PRO"}"#
    );
}

#[test]
fn reader_schema_with_decimals() {
    // apache-avro 0.22 alone rejects a 1-byte decimal against a reader of precision 9.
    let schema = field(
        "f",
        r#"{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}"#,
    );
    let fixed = field(
        "f",
        r#"{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":18,"scale":2}"#,
    );
    let reader = ReaderSchema::parse(&schema).unwrap();
    for v in [5i128, -1230, 0, 99_999_999] {
        let bytes = encode(
            &schema,
            Value::Record(vec![("f".into(), Value::Decimal(Decimal::from(be(v))))]),
        );
        let plain = decode(&bytes, &writer(&schema), None).unwrap();
        assert_eq!(
            decode(&bytes, &writer(&schema), Some(&reader)).unwrap(),
            plain
        );
    }
    let bytes = encode(
        &fixed,
        Value::Record(vec![(
            "f".into(),
            Value::Decimal(Decimal::from((-5i64).to_be_bytes())),
        )]),
    );
    let fixed_reader = ReaderSchema::parse(&fixed).unwrap();
    assert_eq!(
        decode(&bytes, &writer(&fixed), Some(&fixed_reader)).unwrap(),
        json!({"f": "-0.05"})
    );
}

#[test]
fn incompatible_reader_is_a_resolution_error() {
    let reader = ReaderSchema::parse(
        r#"{"type":"record","name":"User","fields":[{"name":"age","type":"int"}]}"#,
    )
    .unwrap();
    let err = decode(&user_v1(0, "FREE"), &writer(V1), Some(&reader)).unwrap_err();
    assert_eq!(err.kind(), "avro-reader-resolution");
}

const COUNTRY: &str =
    r#"{"type":"enum","name":"Country","namespace":"com.acme","symbols":["DE","FR"]}"#;
const ADDRESS: &str = r#"{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"zip","type":"string"},{"name":"country","type":"com.acme.Country"}]}"#;
const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"com.acme.orders","fields":[{"name":"ship_to","type":"com.acme.Address"},{"name":"bill_to","type":["null","com.acme.Address"]}]}"#;

#[test]
fn schema_references() {
    // Address (which uses Country) is listed before Country, and Country twice.
    let refs = vec![ADDRESS.to_owned(), COUNTRY.to_owned(), COUNTRY.to_owned()];
    let w = WriterSchema::parse(ORDER, &refs).unwrap();
    // ship_to {zip "12345", country FR}, bill_to null
    let bytes = [0x0a, b'1', b'2', b'3', b'4', b'5', 0x02, 0x00];
    assert_eq!(
        serde_json::to_string(&decode(&bytes, &w, None).unwrap()).unwrap(),
        r#"{"ship_to":{"zip":"12345","country":"FR"},"bill_to":null}"#
    );
    let bytes = [0x02, b'1', 0x00, 0x02, 0x02, b'2', 0x02];
    assert_eq!(
        decode(&bytes, &w, None).unwrap(),
        json!({"ship_to": {"zip": "1", "country": "DE"}, "bill_to": {"zip": "2", "country": "FR"}})
    );
    // A reader schema may use references too.
    let r = ReaderSchema::parse_with_references(ORDER, &refs).unwrap();
    assert_eq!(
        decode(&bytes, &w, Some(&r)).unwrap()["bill_to"]["zip"],
        json!("2")
    );
}

//! `avro_json` failure modes: every error names the field, hostile sizes fail before any
//! allocation, and bad schemas are reported as such.

mod pure_common;

use apache_avro::types::Value;

use pipe_avro_enricher::avro_json::{decode, DecodeError, ReaderSchema, SchemaError, WriterSchema};
use pure_common::{b64, encode, writer, CONFLUENT_SAMPLE, PRODUCT};

const ADDRESS: &str = r#"{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"zip","type":"string"},{"name":"country","type":"com.acme.Country"}]}"#;
const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"com.acme.orders","fields":[{"name":"ship_to","type":"com.acme.Address"},{"name":"bill_to","type":["null","com.acme.Address"]}]}"#;

fn field(name: &str, ty: &str) -> String {
    format!(r#"{{"type":"record","name":"R","fields":[{{"name":"{name}","type":{ty}}}]}}"#)
}

#[test]
fn schemas_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<WriterSchema>();
    assert_send_sync::<ReaderSchema>();
    assert_send_sync::<DecodeError>();
    assert_send_sync::<SchemaError>();
}

#[test]
fn time_of_day_out_of_range_is_an_error_with_path() {
    let schema = r#"{"type":"record","name":"R","fields":[{"name":"shift","type":{"type":"record","name":"S","fields":[{"name":"start","type":{"type":"int","logicalType":"time-millis"}}]}}]}"#;
    let plain = schema.replace(r#"{"type":"int","logicalType":"time-millis"}"#, r#""int""#);
    let bytes = encode(
        &plain,
        Value::Record(vec![(
            "shift".into(),
            Value::Record(vec![("start".into(), Value::Int(86_400_000))]),
        )]),
    );
    let err = decode(&bytes, &writer(schema), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot convert shift.start to JSON: time-millis value 86400000 is not a time of day (0..86400000)"
    );
    assert_eq!(err.kind(), "avro-json-conversion");
}

#[test]
fn malformed_payloads_name_the_field() {
    let product = writer(PRODUCT);
    let good = &b64(CONFLUENT_SAMPLE)[5..];
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            good[..good.len() - 1].to_vec(),
            "malformed Avro in price: a double needs 8 bytes but only 7 bytes remain",
        ),
        (
            vec![],
            "malformed Avro in id: payload ends in the middle of a number or length",
        ),
        (
            vec![0x02, 0x7e, b'x'],
            "malformed Avro in name: string needs 63 bytes but only 1 byte remains",
        ),
        (
            vec![0x02, 0x01],
            "malformed Avro in name: string has negative length -1",
        ),
        (
            vec![0x02, 0x02, 0xff],
            "malformed Avro in name: string is not valid UTF-8 (invalid byte at offset 0)",
        ),
        (
            vec![0xff; 11],
            "malformed Avro in id: variable-length integer is longer than 10 bytes",
        ),
    ];
    for (bytes, want) in cases {
        let err = decode(&bytes, &product, None).unwrap_err();
        assert_eq!(err.to_string(), want, "{bytes:?}");
        assert_eq!(err.kind(), "avro-malformed");
    }
    let mut trailing = good.to_vec();
    trailing.extend_from_slice(&[0, 0]);
    let err = decode(&trailing, &product, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "2 bytes left over after the Avro datum (23 of 25 bytes decoded); the payload does not match the writer schema"
    );
    assert_eq!(err.kind(), "avro-trailing-bytes");
}

#[test]
fn nested_error_paths() {
    let schema = r#"{"type":"record","name":"Order","fields":[
        {"name":"customer","type":{"type":"record","name":"Customer","fields":[
            {"name":"emails","type":{"type":"array","items":"string"}},
            {"name":"address","type":["null",{"type":"record","name":"Address","fields":[
                {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["HOME","WORK"]}},
                {"name":"zip","type":"string"}]}]},
            {"name":"flags","type":{"type":"map","values":"boolean"}}]}}]}"#;
    let w = writer(schema);
    let err = |bytes: &[u8]| decode(bytes, &w, None).unwrap_err().to_string();
    // emails: one block of 2 items; the second string claims 50 bytes.
    assert_eq!(
        err(&[0x04, 0x02, b'a', 0x64]),
        "malformed Avro in customer.emails[1]: string needs 50 bytes but only 0 bytes remain"
    );
    assert_eq!(
        err(&[0x00, 0x04]),
        "malformed Avro in customer.address: union branch index 2 is out of range for 2 branches"
    );
    assert_eq!(
        err(&[0x00, 0x02, 0x04]),
        "malformed Avro in customer.address.kind: enum index 2 is out of range for the 2 symbols of Kind"
    );
    assert_eq!(
        err(&[0x00, 0x02, 0x02, 0x04, b'1']),
        "malformed Avro in customer.address.zip: string needs 2 bytes but only 1 byte remains"
    );
    assert_eq!(
        err(&[0x00, 0x00, 0x02, 0x02, b'k', 0x07]),
        "malformed Avro in customer.flags.k: boolean byte 0x07 is neither 0 nor 1"
    );
    assert_eq!(
        err(&[0x00, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10]),
        "malformed Avro in customer.flags: map block claims 2147483648 items but only 0 bytes remain"
    );
}

#[test]
fn hostile_sizes_fail_fast() {
    let w = writer(&field("f", r#"{"type":"array","items":"long"}"#));
    // A block count of 2^62 with nothing behind it.
    let err = decode(
        &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        &w,
        None,
    );
    assert!(matches!(err, Err(DecodeError::Malformed { .. })), "{err:?}");
    // A string claiming i64::MAX bytes.
    let s = writer(&field("f", r#""string""#));
    let err = decode(
        &[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        &s,
        None,
    );
    assert!(matches!(err, Err(DecodeError::Malformed { .. })), "{err:?}");
}

#[test]
fn zero_byte_items_are_budgeted() {
    let w = writer(&field("f", r#"{"type":"array","items":"null"}"#));
    // 1000 nulls take 3 bytes: fine.
    let ok = decode(&[0xd0, 0x0f, 0x00], &w, None).unwrap();
    assert_eq!(ok["f"].as_array().unwrap().len(), 1000);
    // 10^9 nulls would take the same 6 bytes and ~48 GB of memory.
    let err = decode(&[0x80, 0xa8, 0xd6, 0xb9, 0x07, 0x00], &w, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed Avro in f: array expands to more than 100000 items that occupy no bytes"
    );
}

#[test]
fn deep_recursion_is_refused() {
    let schema =
        r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#;
    let w = writer(schema);
    let mut ok = vec![0x02; 20];
    ok.push(0x00);
    let json = decode(&ok, &w, None).unwrap();
    assert_eq!(json.to_string().matches("next").count(), 21);
    let mut deep = vec![0x02; 100_000];
    deep.push(0x00);
    let err = decode(&deep, &w, None).unwrap_err().to_string();
    assert!(err.contains("nested deeper than 128 levels"), "{err}");
    assert!(
        err.starts_with("malformed Avro in next.next.next."),
        "{err}"
    );
}

#[test]
fn apache_eof_leniency_does_not_leak_through() {
    // apache-avro alone decodes an empty payload for ["null","string"] as null.
    let w = writer(&field("f", r#"["null","string"]"#));
    assert!(decode(&[], &w, None).is_err());
    let b = writer(&field("f", r#""boolean""#));
    assert!(decode(&[], &b, None).is_err());
}

#[test]
fn schema_errors() {
    let err = WriterSchema::parse(ORDER, &[ADDRESS.to_owned()]).unwrap_err();
    assert!(
        matches!(
            err,
            SchemaError::Invalid {
                which: "writer",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("Country"), "{err}");
    let err = WriterSchema::parse("{not json", &[]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("writer schema is not valid Avro: "),
        "{err}"
    );
    assert_eq!(err.kind(), "schema-invalid");
    let err = ReaderSchema::parse(
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("reader schema is not valid Avro: "),
        "{err}"
    );
}

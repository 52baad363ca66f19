use std::collections::HashSet;

use serde_json::{json, Value};

use super::store::Store;
use super::{avro, base64, ConfluentSchemaRegistry};
use crate::{RequestContext, Service};

fn check(schema: Value) -> Result<Vec<String>, String> {
    avro::validate(&schema, &HashSet::new())
}

#[test]
fn valid_avro_schemas_pass_and_report_their_names() {
    let names = check(json!({
        "type": "record", "name": "Order", "namespace": "com.acme",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "DONE"], "default": "NEW"}},
            {"name": "lines", "type": {"type": "array", "items": {
                "type": "record", "name": "Line", "fields": [{"name": "sku", "type": "string"}]}}},
            {"name": "tags", "type": {"type": "map", "values": "string"}},
            {"name": "hash", "type": {"type": "fixed", "name": "md5", "size": 16}},
            {"name": "first", "type": ["null", "Line"], "default": null},
            {"name": "next", "type": ["null", "com.acme.Order"]},
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}
        ]
    }))
    .unwrap();
    assert_eq!(
        names,
        [
            "com.acme.Order",
            "com.acme.Status",
            "com.acme.Line",
            "com.acme.md5"
        ]
    );
    assert!(check(json!("string")).unwrap().is_empty());
    assert!(check(json!(["null", "int"])).is_ok());
}

#[test]
fn invalid_avro_shapes_are_rejected() {
    let cases = [
        (json!({"name": "X"}), "No type"),
        (json!({"type": "record", "fields": []}), "No name"),
        (json!({"type": "record", "name": "X"}), "no fields"),
        (
            json!({"type": "record", "name": "X", "fields": [{"name": "a"}]}),
            "No field type",
        ),
        (
            json!({"type": "record", "name": "X", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}),
            "Duplicate field",
        ),
        (
            json!({"type": "record", "name": "1X", "fields": []}),
            "Illegal name",
        ),
        (
            json!({"type": "record", "name": "X", "fields": [{"name": "a", "type": "Missing"}]}),
            "Undefined name",
        ),
        (
            json!({"type": "enum", "name": "E", "symbols": ["A", "A"]}),
            "Duplicate enum symbol",
        ),
        (
            json!({"type": "enum", "name": "E", "symbols": ["A"], "default": "B"}),
            "not in the enum",
        ),
        (json!({"type": "fixed", "name": "F"}), "size"),
        (json!({"type": "array"}), "no items"),
        (json!(["null", ["int"]]), "Unions may not"),
        (json!(["int", "int"]), "Duplicate in union"),
        (
            json!({"type": "record", "name": "int", "fields": []}),
            "primitives",
        ),
        (json!("strin"), "Undefined name"),
        (json!(42), "not a schema"),
        (
            json!({"type": "record", "name": "X", "fields": [
            {"name": "a", "type": {"type": "enum", "name": "X", "symbols": ["A"]}}]}),
            "redefine",
        ),
    ];
    for (schema, expected) in cases {
        let err = check(schema.clone()).expect_err(&schema.to_string());
        assert!(err.contains(expected), "{schema}: {err}");
    }
}

#[test]
fn names_from_references_are_known_and_cannot_be_redefined() {
    let known: HashSet<String> = ["com.acme.Address".to_owned()].into();
    let uses = json!({"type": "record", "name": "Customer", "namespace": "com.acme",
        "fields": [{"name": "home", "type": "Address"}, {"name": "work", "type": "com.acme.Address"}]});
    assert!(avro::validate(&uses, &known).is_ok());
    let redefines =
        json!({"type": "record", "name": "Address", "namespace": "com.acme", "fields": []});
    assert!(avro::validate(&redefines, &known)
        .unwrap_err()
        .contains("redefine"));
}

#[test]
fn base64_matches_rfc_4648_vectors() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("user:pass", "dXNlcjpwYXNz"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded);
    }
}

#[test]
fn same_schema_ignores_whitespace_and_key_order_but_keeps_text() {
    let sr = ConfluentSchemaRegistry::new();
    let mut ctx = RequestContext::for_region("us-east-1");
    ctx.path_params.insert("subject".into(), "s".into());
    let a = r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"}]}"#;
    let b = r#"{ "name": "A", "fields": [ {"type": "int", "name": "x"} ], "type": "record" }"#;
    let first = sr
        .handle(&ctx, "RegisterSchema", json!({"schema": a}))
        .unwrap();
    let second = sr
        .handle(&ctx, "RegisterSchema", json!({"schema": b}))
        .unwrap();
    assert_eq!(
        (first["id"].clone(), second["version"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        second["schema"], a,
        "the stored text is the first one registered"
    );
}

#[test]
fn explicit_ids_are_honoured_like_import_mode() {
    let mut store = Store::default();
    let schema = json!({"schema": r#"{"type":"record","name":"P","fields":[{"name":"id","type":"long"}]}"#, "id": 100001});
    let out = store.register("topic_0-value", &schema).unwrap();
    assert_eq!(out["id"], 100001);
    let next = store
        .register("other", &json!({"schema": r#"{"type":"string"}"#}))
        .unwrap();
    assert_eq!(
        next["id"], 100002,
        "automatic ids continue after the highest"
    );
    let clash = store
        .register("x", &json!({"schema": r#"{"type":"int"}"#, "id": 100001}))
        .unwrap_err();
    assert_eq!(clash.code, "42205");
    assert_eq!(
        store.schema_by_id("100001").unwrap()["schema"],
        schema["schema"]
    );
}

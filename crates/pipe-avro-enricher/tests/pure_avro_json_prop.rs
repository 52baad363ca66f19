//! Property tests for `avro_json`: hostile bytes never panic, and for generated data the decoder
//! yields exactly the JSON the contract predicts. The expected JSON is computed from the Rust
//! test data with independent helpers (naive calendar, i128 decimal formatting, serde_json's own
//! float printing), never from apache-avro's `Value`.

use std::collections::{BTreeMap, HashMap};

use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::{Days, Decimal, Duration, Millis, Months, Schema};
use base64::Engine;
use pipe_avro_enricher::avro_json::{
    decode, decode_plain, DecodeError, ReaderSchema, WriterSchema,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};

const RICH: &str = r#"{"type":"record","name":"Rich","namespace":"t","fields":[
 {"name":"id","type":"long"},
 {"name":"flag","type":"boolean"},
 {"name":"ratio","type":"float"},
 {"name":"score","type":"double"},
 {"name":"name","type":"string"},
 {"name":"blob","type":"bytes"},
 {"name":"tag","type":{"type":"fixed","name":"Tag","size":4}},
 {"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}},
 {"name":"opt","type":["null","string","long"]},
 {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
   {"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}},
 {"name":"attrs","type":{"type":"map","values":["null","double"]}},
 {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":3}},
 {"name":"amount","type":{"type":"fixed","name":"Amount","size":8,"logicalType":"decimal","precision":18,"scale":2}},
 {"name":"uid","type":{"type":"string","logicalType":"uuid"}},
 {"name":"day","type":{"type":"int","logicalType":"date"}},
 {"name":"tod","type":{"type":"int","logicalType":"time-millis"}},
 {"name":"tod_us","type":{"type":"long","logicalType":"time-micros"}},
 {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"at_us","type":{"type":"long","logicalType":"timestamp-micros"}},
 {"name":"at_ns","type":{"type":"long","logicalType":"timestamp-nanos"}},
 {"name":"local","type":{"type":"long","logicalType":"local-timestamp-millis"}},
 {"name":"span","type":{"type":"fixed","name":"Span","size":12,"logicalType":"duration"}},
 {"name":"nested","type":["null","Item"]},
 {"name":"matrix","type":{"type":"array","items":{"type":"array","items":"int"}}}
]}"#;

/// An evolved reader for RICH: fields dropped, one added with a default, int promoted to long.
const RICH_READER: &str = r#"{"type":"record","name":"Rich","namespace":"t","fields":[
 {"name":"name","type":"string"},
 {"name":"id","type":"long"},
 {"name":"added","type":"string","default":"n/a"},
 {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
   {"name":"qty","type":"long"},{"name":"sku","type":"string"}]}}},
 {"name":"color","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}},
 {"name":"score","type":"double"}
]}"#;

const COLORS: [&str; 3] = ["RED", "GREEN", "BLUE"];

#[derive(Debug, Clone)]
enum Opt {
    Null,
    Str(String),
    Long(i64),
}

#[derive(Debug, Clone)]
struct Rich {
    id: i64,
    flag: bool,
    ratio: f32,
    score: f64,
    name: String,
    blob: Vec<u8>,
    tag: [u8; 4],
    color: usize,
    opt: Opt,
    items: Vec<(String, i32)>,
    attrs: BTreeMap<String, Option<f64>>,
    price: i64,
    amount: i64,
    uid: u128,
    day: i32,
    tod: i32,
    tod_us: i64,
    at: i64,
    at_us: i64,
    at_ns: i64,
    local: i64,
    span: (u32, u32, u32),
    nested: Option<(String, i32)>,
    matrix: Vec<Vec<i32>>,
}

const DAYS: i64 = 100_000; // ±274 years around 1970: all four-digit years

fn item() -> impl Strategy<Value = (String, i32)> {
    ("[a-zA-Z0-9ëü]{0,8}", any::<i32>())
}

prop_compose! {
    fn scalars()(id in any::<i64>(), flag in any::<bool>(), ratio in any::<f32>(),
                 score in any::<f64>(), name in "\\PC{0,12}",
                 blob in prop::collection::vec(any::<u8>(), 0..12), tag in any::<[u8; 4]>(),
                 color in 0..3usize,
                 opt in prop_oneof![Just(Opt::Null), "\\PC{0,5}".prop_map(Opt::Str),
                                    any::<i64>().prop_map(Opt::Long)])
                -> (i64, bool, f32, f64, String, Vec<u8>, [u8; 4], usize, Opt) {
        (id, flag, ratio, score, name, blob, tag, color, opt)
    }
}

prop_compose! {
    fn logical()(price in any::<i64>(), amount in any::<i64>(), uid in any::<u128>(),
                 day in -DAYS as i32..DAYS as i32, tod in 0..86_400_000i32,
                 tod_us in 0..86_400_000_000i64,
                 at in -DAYS * 86_400_000..DAYS * 86_400_000,
                 at_us in -DAYS * 86_400_000_000..DAYS * 86_400_000_000,
                 at_ns in any::<i64>(), local in -DAYS * 86_400_000..DAYS * 86_400_000,
                 span in any::<(u32, u32, u32)>())
                -> (i64, i64, u128, i32, i32, i64, i64, i64, i64, i64, (u32, u32, u32)) {
        (price, amount, uid, day, tod, tod_us, at, at_us, at_ns, local, span)
    }
}

prop_compose! {
    fn rich()(s in scalars(), l in logical(),
              items in prop::collection::vec(item(), 0..4),
              attrs in prop::collection::btree_map("[a-z]{0,6}", prop::option::of(any::<f64>()), 0..4),
              nested in prop::option::of(item()),
              matrix in prop::collection::vec(prop::collection::vec(any::<i32>(), 0..3), 0..3))
              -> Rich {
        let (id, flag, ratio, score, name, blob, tag, color, opt) = s;
        let (price, amount, uid, day, tod, tod_us, at, at_us, at_ns, local, span) = l;
        Rich { id, flag, ratio, score, name, blob, tag, color, opt, items, attrs, price, amount,
               uid, day, tod, tod_us, at, at_us, at_ns, local, span, nested, matrix }
    }
}

fn minimal_be(v: i64) -> Vec<u8> {
    let mut bytes = v.to_be_bytes().to_vec();
    while bytes.len() > 1
        && ((bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xff && bytes[1] & 0x80 != 0))
    {
        bytes.remove(0);
    }
    bytes
}

fn item_value((sku, qty): &(String, i32)) -> Value {
    Value::Record(vec![
        ("sku".into(), Value::String(sku.clone())),
        ("qty".into(), Value::Int(*qty)),
    ])
}

fn to_avro(r: &Rich) -> Value {
    let opt = match &r.opt {
        Opt::Null => Value::Union(0, Box::new(Value::Null)),
        Opt::Str(s) => Value::Union(1, Box::new(Value::String(s.clone()))),
        Opt::Long(l) => Value::Union(2, Box::new(Value::Long(*l))),
    };
    let attrs: HashMap<String, Value> = r
        .attrs
        .iter()
        .map(|(k, v)| {
            let v = match v {
                None => Value::Union(0, Box::new(Value::Null)),
                Some(d) => Value::Union(1, Box::new(Value::Double(*d))),
            };
            (k.clone(), v)
        })
        .collect();
    let nested = match &r.nested {
        None => Value::Union(0, Box::new(Value::Null)),
        Some(i) => Value::Union(1, Box::new(item_value(i))),
    };
    let (months, days, millis) = r.span;
    let fields: Vec<(&str, Value)> = vec![
        ("id", Value::Long(r.id)),
        ("flag", Value::Boolean(r.flag)),
        ("ratio", Value::Float(r.ratio)),
        ("score", Value::Double(r.score)),
        ("name", Value::String(r.name.clone())),
        ("blob", Value::Bytes(r.blob.clone())),
        ("tag", Value::Fixed(4, r.tag.to_vec())),
        ("color", Value::Enum(r.color as u32, COLORS[r.color].into())),
        ("opt", opt),
        (
            "items",
            Value::Array(r.items.iter().map(item_value).collect()),
        ),
        ("attrs", Value::Map(attrs)),
        ("price", Value::Decimal(Decimal::from(minimal_be(r.price)))),
        (
            "amount",
            Value::Decimal(Decimal::from(r.amount.to_be_bytes())),
        ),
        ("uid", Value::Uuid(uuid::Uuid::from_u128(r.uid))),
        ("day", Value::Date(r.day)),
        ("tod", Value::TimeMillis(r.tod)),
        ("tod_us", Value::TimeMicros(r.tod_us)),
        ("at", Value::TimestampMillis(r.at)),
        ("at_us", Value::TimestampMicros(r.at_us)),
        ("at_ns", Value::TimestampNanos(r.at_ns)),
        ("local", Value::LocalTimestampMillis(r.local)),
        (
            "span",
            Value::Duration(Duration::new(
                Months::new(months),
                Days::new(days),
                Millis::new(millis),
            )),
        ),
        ("nested", nested),
        (
            "matrix",
            Value::Array(
                r.matrix
                    .iter()
                    .map(|row| Value::Array(row.iter().map(|&i| Value::Int(i)).collect()))
                    .collect(),
            ),
        ),
    ];
    Value::Record(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn encode(r: &Rich) -> Vec<u8> {
    let schema = Schema::parse_str(RICH).unwrap();
    GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_to_vec(to_avro(r))
        .unwrap()
}

// ---- the independent oracle -------------------------------------------------------------

fn non_finite(d: f64) -> Option<Json> {
    if d.is_nan() {
        Some(json!("NaN"))
    } else if d.is_infinite() {
        Some(json!(if d > 0.0 { "Infinity" } else { "-Infinity" }))
    } else {
        None
    }
}

fn f64_json(d: f64) -> Json {
    non_finite(d).unwrap_or_else(|| Json::from(d))
}

/// The shortest decimal that reads back as `f`, found by brute force: round the exact value to
/// 1, 2, ... significant digits (std's exact formatting, ties to even) until it round-trips.
fn f32_json(f: f32) -> Json {
    if let Some(special) = non_finite(f64::from(f)) {
        return special;
    }
    for digits in 1..=9 {
        let text = format!("{:.*e}", digits - 1, f64::from(f));
        if text.parse::<f32>().unwrap() == f {
            return Json::from(text.parse::<f64>().unwrap());
        }
    }
    unreachable!("9 significant digits always round-trip an f32")
}

fn decimal_text(unscaled: i64, scale: u32) -> String {
    let p = 10i128.pow(scale);
    let v = i128::from(unscaled);
    let sign = if v < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:0w$}",
        v.abs() / p,
        v.abs() % p,
        w = scale as usize
    )
}

fn uuid_text(u: u128) -> String {
    let hex = format!("{u:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Day counting by walking years and months: slow, obviously right.
fn naive_date(mut days: i64) -> String {
    let mut y = 1970i64;
    let len = |y: i64| if is_leap(y) { 366 } else { 365 };
    while days < 0 {
        y -= 1;
        days += len(y);
    }
    while days >= len(y) {
        days -= len(y);
        y += 1;
    }
    let months = [
        31,
        if is_leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut m = 0;
    while days >= months[m] {
        days -= months[m];
        m += 1;
    }
    format!("{y:04}-{:02}-{:02}", m + 1, days + 1)
}

fn naive_timestamp(ticks: i64, per_second: i64, digits: usize, suffix: &str) -> String {
    let per_day = 86_400 * per_second;
    let (day, rest) = (ticks.div_euclid(per_day), ticks.rem_euclid(per_day));
    format!(
        "{}T{}{suffix}",
        naive_date(day),
        naive_time(rest, per_second, digits)
    )
}

fn naive_time(ticks: i64, per_second: i64, digits: usize) -> String {
    let secs = ticks / per_second;
    format!(
        "{:02}:{:02}:{:02}.{:0digits$}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        ticks % per_second
    )
}

fn item_json((sku, qty): &(String, i32)) -> Json {
    json!({"sku": sku, "qty": qty})
}

fn expected(r: &Rich) -> Json {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut o = Map::new();
    o.insert("id".into(), json!(r.id));
    o.insert("flag".into(), json!(r.flag));
    o.insert("ratio".into(), f32_json(r.ratio));
    o.insert("score".into(), f64_json(r.score));
    o.insert("name".into(), json!(r.name));
    o.insert("blob".into(), json!(b64(&r.blob)));
    o.insert("tag".into(), json!(b64(&r.tag)));
    o.insert("color".into(), json!(COLORS[r.color]));
    o.insert(
        "opt".into(),
        match &r.opt {
            Opt::Null => Json::Null,
            Opt::Str(s) => json!(s),
            Opt::Long(l) => json!(l),
        },
    );
    o.insert(
        "items".into(),
        Json::Array(r.items.iter().map(item_json).collect()),
    );
    let attrs: Map<String, Json> = r
        .attrs
        .iter()
        .map(|(k, v)| (k.clone(), v.map_or(Json::Null, f64_json)))
        .collect();
    o.insert("attrs".into(), Json::Object(attrs));
    o.insert("price".into(), json!(decimal_text(r.price, 3)));
    o.insert("amount".into(), json!(decimal_text(r.amount, 2)));
    o.insert("uid".into(), json!(uuid_text(r.uid)));
    o.insert("day".into(), json!(naive_date(i64::from(r.day))));
    o.insert("tod".into(), json!(naive_time(i64::from(r.tod), 1_000, 3)));
    o.insert("tod_us".into(), json!(naive_time(r.tod_us, 1_000_000, 6)));
    o.insert("at".into(), json!(naive_timestamp(r.at, 1_000, 3, "Z")));
    o.insert(
        "at_us".into(),
        json!(naive_timestamp(r.at_us, 1_000_000, 6, "Z")),
    );
    o.insert(
        "at_ns".into(),
        json!(naive_timestamp(r.at_ns, 1_000_000_000, 9, "Z")),
    );
    o.insert(
        "local".into(),
        json!(naive_timestamp(r.local, 1_000, 3, "")),
    );
    o.insert(
        "span".into(),
        json!({"months": r.span.0, "days": r.span.1, "milliseconds": r.span.2}),
    );
    o.insert(
        "nested".into(),
        r.nested.as_ref().map_or(Json::Null, item_json),
    );
    o.insert("matrix".into(), json!(r.matrix));
    Json::Object(o)
}

fn rich_writer() -> WriterSchema {
    WriterSchema::parse(RICH, &[]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_values_decode_to_the_contract(r in rich()) {
        let bytes = encode(&r);
        let got = decode(&bytes, &rich_writer(), None).unwrap();
        let want = expected(&r);
        // Compare the text too: it pins key order and number formatting.
        prop_assert_eq!(serde_json::to_string(&got).unwrap(), serde_json::to_string(&want).unwrap());
        prop_assert_eq!(&decode_plain(&bytes, &rich_writer(), None).unwrap(), &got);
    }

    #[test]
    fn generated_values_resolve_to_the_reader(r in rich()) {
        let reader = ReaderSchema::parse(RICH_READER).unwrap();
        let got = decode(&encode(&r), &rich_writer(), Some(&reader)).unwrap();
        let items: Vec<Json> = r.items.iter().map(|(sku, qty)| json!({"qty": qty, "sku": sku})).collect();
        let mut want = Map::new();
        want.insert("name".into(), json!(r.name));
        want.insert("id".into(), json!(r.id));
        want.insert("added".into(), json!("n/a"));
        want.insert("items".into(), Json::Array(items));
        want.insert("color".into(), json!(COLORS[r.color]));
        want.insert("score".into(), f64_json(r.score));
        prop_assert_eq!(serde_json::to_string(&got).unwrap(), serde_json::to_string(&Json::Object(want)).unwrap());
    }

    #[test]
    fn every_strict_prefix_fails_and_extra_bytes_are_trailing(r in rich(), extra in prop::collection::vec(any::<u8>(), 1..4)) {
        let bytes = encode(&r);
        let w = rich_writer();
        for cut in 0..bytes.len() {
            prop_assert!(decode(&bytes[..cut], &w, None).is_err(), "prefix of {} bytes decoded", cut);
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&extra);
        match decode(&longer, &w, None) {
            Err(DecodeError::TrailingBytes { consumed, trailing, total }) => {
                prop_assert_eq!(consumed, bytes.len());
                prop_assert_eq!(trailing, extra.len());
                prop_assert_eq!(total, longer.len());
            }
            other => prop_assert!(false, "expected trailing bytes, got {:?}", other),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let w = rich_writer();
        let reader = ReaderSchema::parse(RICH_READER).unwrap();
        let _ = decode(&bytes, &w, None);
        let _ = decode_plain(&bytes, &w, None);
        let _ = decode(&bytes, &w, Some(&reader));
    }

    #[test]
    fn mutated_valid_payloads_never_panic(r in rich(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = encode(&r);
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let reader = ReaderSchema::parse(RICH_READER).unwrap();
        let _ = decode(&bytes, &rich_writer(), None);
        let _ = decode(&bytes, &rich_writer(), Some(&reader));
    }
}

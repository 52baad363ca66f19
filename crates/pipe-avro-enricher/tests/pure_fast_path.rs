//! The direct decoder (compiled writer schema → JSON in one pass) against the reference path
//! (scan, apache-avro, walk): for generated schemas and generated, sometimes corrupted, data
//! both give the same JSON text (field and key order included) or the same error.

use pipe_avro_enricher::avro_json::{
    decode, decode_for_output, decode_plain, decode_reference, WriterSchema,
};
use pipe_avro_enricher::framing::SchemaRef;
use proptest::prelude::*;

/// A generated schema; named types get unique names when rendered.
#[derive(Debug, Clone)]
enum S {
    Prim(&'static str),
    /// A logical type by its tag (see [`LOGICAL`]).
    Logical(usize),
    Fixed(usize),
    Enum(usize),
    Array(Box<S>),
    Map(Box<S>),
    /// `["null", inner]`, or `[inner, "null"]` when `.1`.
    Opt(Box<S>, bool),
    Record(Vec<S>),
}

const PRIMS: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

const LOGICAL: [&str; 15] = [
    r#"{"type":"int","logicalType":"date"}"#,
    r#"{"type":"int","logicalType":"time-millis"}"#,
    r#"{"type":"long","logicalType":"time-micros"}"#,
    r#"{"type":"long","logicalType":"timestamp-millis"}"#,
    r#"{"type":"long","logicalType":"timestamp-micros"}"#,
    r#"{"type":"long","logicalType":"timestamp-nanos"}"#,
    r#"{"type":"long","logicalType":"local-timestamp-millis"}"#,
    r#"{"type":"long","logicalType":"local-timestamp-micros"}"#,
    r#"{"type":"long","logicalType":"local-timestamp-nanos"}"#,
    r#"{"type":"bytes","logicalType":"decimal","precision":40,"scale":3}"#,
    r#"{"type":"fixed","name":"DEC","size":6,"logicalType":"decimal","precision":12,"scale":2}"#,
    r#"{"type":"string","logicalType":"uuid"}"#,
    r#"{"type":"fixed","name":"DUR","size":12,"logicalType":"duration"}"#,
    r#"{"type":"bytes","logicalType":"big-decimal"}"#,
    r#"{"type":"fixed","name":"UID","size":16,"logicalType":"uuid"}"#,
];

impl S {
    fn json(&self, n: &mut usize) -> String {
        *n += 1;
        let id = *n;
        match self {
            S::Prim(p) => format!("{p:?}"),
            S::Logical(i) => LOGICAL[*i].replace(r#""name":""#, &format!(r#""name":"L{id}"#)),
            S::Fixed(size) => format!(r#"{{"type":"fixed","name":"F{id}","size":{size}}}"#),
            S::Enum(k) => {
                let symbols: Vec<String> = (0..*k).map(|i| format!(r#""S{i}""#)).collect();
                format!(
                    r#"{{"type":"enum","name":"E{id}","symbols":[{}]}}"#,
                    symbols.join(",")
                )
            }
            S::Array(items) => format!(r#"{{"type":"array","items":{}}}"#, items.json(n)),
            S::Map(values) => format!(r#"{{"type":"map","values":{}}}"#, values.json(n)),
            S::Opt(inner, false) => format!(r#"["null",{}]"#, inner.json(n)),
            S::Opt(inner, true) => format!(r#"[{},"null"]"#, inner.json(n)),
            S::Record(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| format!(r#"{{"name":"f{i}","type":{}}}"#, f.json(n)))
                    .collect();
                format!(
                    r#"{{"type":"record","name":"R{id}","namespace":"ns{}","fields":[{}]}}"#,
                    id % 3,
                    fields.join(",")
                )
            }
        }
    }
}

fn schema() -> impl Strategy<Value = S> {
    let leaf = prop_oneof![
        (0..PRIMS.len()).prop_map(|i| S::Prim(PRIMS[i])),
        (0..LOGICAL.len()).prop_map(S::Logical),
        (0..20usize).prop_map(S::Fixed),
        (1..5usize).prop_map(S::Enum),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            inner.clone().prop_map(|s| S::Array(Box::new(s))),
            inner.clone().prop_map(|s| S::Map(Box::new(s))),
            (inner.clone(), any::<bool>()).prop_map(|(s, last)| match s {
                S::Prim("null") | S::Opt(..) => s,
                s => S::Opt(Box::new(s), last),
            }),
            prop::collection::vec(inner, 0..6).prop_map(S::Record),
        ]
    })
}

/// splitmix64: data generation driven by one proptest seed, so shrinking stays cheap.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// Mostly small values, sometimes anything.
    fn long(&mut self) -> i64 {
        match self.below(4) {
            0 => self.next() as i64,
            1 => [0, -1, 1, i64::MIN, i64::MAX][self.below(5) as usize],
            _ => self.below(2000) as i64 - 1000,
        }
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn varint(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn length_prefixed(out: &mut Vec<u8>, b: &[u8]) {
    varint(out, b.len() as i64);
    out.extend_from_slice(b);
}

fn string(rng: &mut Rng) -> String {
    let alphabet = ['a', 'Z', '0', ' ', '"', '\\', 'é', '€', '𝄞', '\n'];
    (0..rng.below(6))
        .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
        .collect()
}

/// A valid datum for `s` (mostly; enum indexes and times are sometimes out of range).
fn encode(s: &S, rng: &mut Rng, out: &mut Vec<u8>) {
    match s {
        S::Prim("null") => {}
        S::Prim("boolean") => out.push(rng.below(2) as u8),
        S::Prim("int") => varint(out, i64::from(rng.long() as i32)),
        S::Prim("long") => varint(out, rng.long()),
        S::Prim("float") => out.extend(rng.bytes(4)),
        S::Prim("double") => out.extend(rng.bytes(8)),
        S::Prim("bytes") => {
            let n = rng.below(6) as usize;
            length_prefixed(out, &rng.bytes(n));
        }
        S::Prim(_) => length_prefixed(out, string(rng).as_bytes()),
        S::Logical(i) => logical(*i, rng, out),
        S::Fixed(size) => out.extend(rng.bytes(*size)),
        S::Enum(k) => varint(out, rng.below(*k as u64 + 1) as i64),
        S::Array(items) | S::Map(items) => {
            for _ in 0..rng.below(3) {
                let count = rng.below(4) as i64;
                if count == 0 {
                    continue;
                }
                let mut block = Vec::new();
                for _ in 0..count {
                    if matches!(s, S::Map(_)) {
                        let key = ["", "a", "b", "k"][rng.below(4) as usize];
                        length_prefixed(&mut block, key.as_bytes());
                    }
                    encode(items, rng, &mut block);
                }
                if rng.one_in(3) {
                    varint(out, -count);
                    varint(out, block.len() as i64);
                } else {
                    varint(out, count);
                }
                out.extend(block);
            }
            varint(out, 0);
        }
        S::Opt(inner, last) => {
            let null = rng.one_in(3);
            varint(out, i64::from(null == *last));
            if !null {
                encode(inner, rng, out);
            }
        }
        S::Record(fields) => fields.iter().for_each(|f| encode(f, rng, out)),
    }
}

fn logical(i: usize, rng: &mut Rng, out: &mut Vec<u8>) {
    const DAY_MS: i64 = 86_400_000;
    match i {
        0 => varint(out, i64::from(rng.next() as i32)),
        1 => varint(out, rng.below(DAY_MS as u64 + 2) as i64 - 1),
        2 => varint(out, rng.below(DAY_MS as u64 * 1000 + 2) as i64 - 1),
        3..=8 => varint(out, rng.long().wrapping_mul(1_000_003)),
        9 => {
            let n = rng.below(20) as usize;
            length_prefixed(out, &rng.bytes(n));
        }
        10 => out.extend(rng.bytes(6)),
        11 => {
            let u = uuid::Uuid::from_u128(u128::from(rng.next()) << 64 | u128::from(rng.next()));
            let text = match rng.below(6) {
                0 => u.simple().to_string(),
                1 => u.braced().to_string(),
                2 => u.urn().to_string(),
                3 => u.hyphenated().to_string().to_uppercase(),
                4 => "not-a-uuid".to_owned(),
                _ => u.hyphenated().to_string(),
            };
            length_prefixed(out, text.as_bytes());
        }
        12 => out.extend(rng.bytes(12)),
        13 => {
            let mut inner = Vec::new();
            let n = rng.below(10) as usize;
            let mut unscaled = rng.bytes(n);
            if rng.one_in(3) && !unscaled.is_empty() {
                unscaled[0] = if rng.one_in(2) { 0 } else { 0xff };
            }
            length_prefixed(&mut inner, &unscaled);
            let scale = if rng.one_in(8) {
                rng.long()
            } else {
                rng.below(20) as i64 - 10
            };
            varint(&mut inner, scale);
            length_prefixed(out, &inner);
        }
        _ => out.extend(rng.bytes(16)),
    }
}

/// Corrupt the datum sometimes: truncate, flip a byte, or append one.
fn mutate(mut data: Vec<u8>, rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 if !data.is_empty() => data.truncate(rng.below(data.len() as u64) as usize),
        1 if !data.is_empty() => {
            let i = rng.below(data.len() as u64) as usize;
            data[i] ^= 1 << rng.below(8);
        }
        2 => data.push(rng.next() as u8),
        _ => {}
    }
    data
}

/// The direct decoder's value, the reference path's value and the datum rendered while it is
/// serialized (`decode_for_output`) all give the same text, or the same error.
fn assert_same(payload: &[u8], writer: &WriterSchema) {
    assert!(writer.has_direct_decoder());
    let text = |r: Result<serde_json::Value, _>| r.map(|v| v.to_string());
    let reference = text(decode_reference(payload, writer, None, true));
    assert_eq!(
        text(decode(payload, writer, None)),
        reference,
        "confluent, payload {payload:02x?}"
    );
    let confluent = SchemaRef::ConfluentId(1);
    let rendered = |schema: &SchemaRef| {
        decode_for_output(schema, payload, writer, None)
            .map(|d| serde_json::to_string(&d).expect("a checked datum serializes"))
    };
    assert_eq!(
        rendered(&confluent),
        reference,
        "rendered confluent, payload {payload:02x?}"
    );
    let reference = text(decode_reference(payload, writer, None, false));
    assert_eq!(
        text(decode_plain(payload, writer, None)),
        reference,
        "plain, payload {payload:02x?}"
    );
    let glue = SchemaRef::GlueVersion(uuid::Uuid::nil());
    assert_eq!(
        rendered(&glue),
        reference,
        "rendered glue, payload {payload:02x?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_schemas_and_data_agree(s in schema(), seed in any::<u64>()) {
        let text = s.json(&mut 0);
        let writer = WriterSchema::parse(&text, &[]).unwrap_or_else(|e| panic!("{e}: {text}"));
        let mut rng = Rng(seed);
        for _ in 0..8 {
            let mut data = Vec::new();
            encode(&s, &mut rng, &mut data);
            assert_same(&mutate(data, &mut rng), &writer);
        }
    }

    #[test]
    fn arbitrary_bytes_agree(s in schema(), data in prop::collection::vec(any::<u8>(), 0..40)) {
        let writer = WriterSchema::parse(&s.json(&mut 0), &[]).unwrap();
        assert_same(&data, &writer);
    }
}

const LIST: &str = r#"{"type":"record","name":"Node","namespace":"a.b","fields":[
  {"name":"value","type":{"type":"map","values":{"type":"int","logicalType":"time-millis"}}},
  {"name":"next","type":["null","Node"]},
  {"name":"kids","type":{"type":"array","items":"a.b.Node"}}]}"#;

#[test]
fn recursive_schemas_agree_down_to_the_depth_limit() {
    // The reference path (apache-avro's decoder, then the walk) needs more than a test
    // thread's stack at 128 levels in a debug build; the direct decoder does not.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(recursive_schemas)
        .unwrap()
        .join()
        .unwrap();
}

fn recursive_schemas() {
    let writer = WriterSchema::parse(LIST, &[]).unwrap();
    let mut rng = Rng(7);
    for depth in [0usize, 1, 5, 40, 63, 64, 65, 200] {
        for _ in 0..20 {
            let mut data = Vec::new();
            for _ in 0..depth {
                map_entries(&mut data, &mut rng);
                varint(&mut data, 1); // next: Node
            }
            map_entries(&mut data, &mut rng);
            varint(&mut data, 0); // next: null
            for _ in 0..=depth {
                varint(&mut data, 0); // kids: []
            }
            assert_same(&data, &writer);
            assert_same(&mutate(data, &mut rng), &writer);
        }
    }
}

fn map_entries(data: &mut Vec<u8>, rng: &mut Rng) {
    for _ in 0..rng.below(3) {
        varint(data, 1);
        length_prefixed(data, ["x", "y"][rng.below(2) as usize].as_bytes());
        varint(data, rng.below(86_400_002) as i64 - 1);
    }
    varint(data, 0);
}

#[test]
fn references_across_namespaces_agree() {
    let country =
        r#"{"type":"enum","name":"Country","namespace":"com.acme","symbols":["DE","FR"]}"#;
    let address = r#"{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"zip","type":"string"},{"name":"country","type":"Country"}]}"#;
    let order = r#"{"type":"record","name":"Order","namespace":"com.acme.orders","fields":[{"name":"ship_to","type":"com.acme.Address"},{"name":"bill_to","type":["null","com.acme.Address"]}]}"#;
    let writer = WriterSchema::parse(order, &[address.to_owned(), country.to_owned()]).unwrap();
    let mut data = Vec::new();
    length_prefixed(&mut data, b"10115");
    varint(&mut data, 1);
    varint(&mut data, 1);
    length_prefixed(&mut data, b"75001");
    varint(&mut data, 1);
    assert_same(&data, &writer);
    for cut in 0..data.len() {
        assert_same(&data[..cut], &writer);
    }
}

#[test]
fn zero_byte_items_and_top_level_bytes_agree() {
    let nulls = WriterSchema::parse(r#"{"type":"array","items":"null"}"#, &[]).unwrap();
    for count in [1i64, 99_999, 100_000, 100_001, -100_001] {
        let mut data = Vec::new();
        varint(&mut data, count);
        if count < 0 {
            varint(&mut data, 0);
        }
        varint(&mut data, 0);
        assert_same(&data, &nulls);
    }
    let bytes = WriterSchema::parse(r#""bytes""#, &[]).unwrap();
    for data in [&b""[..], b"\x02a", b"\x04a", b"\x7f"] {
        assert_same(data, &bytes);
    }
}

//! The JSON contract: a decoded Avro value plus its schema to `serde_json::Value`.
//!
//! apache-avro's own `Value → JSON` conversion loses the schema (decimals and bytes become byte
//! arrays, timestamps plain integers, NaN an error), so this walker follows the schema instead.

use std::collections::HashMap;

use apache_avro::schema::{NamesRef, Schema, SchemaKind};
use apache_avro::types::Value;
use base64::Engine;
use serde_json::{Map, Number, Value as Json};

use super::decimal::format_decimal;
use super::time::{self, Unit};
use super::{DecodeError, Path, Seg};

pub(super) fn to_json<'v>(
    schema: &'v Schema,
    value: &'v Value,
    names: &NamesRef<'v>,
    ns: Option<&str>,
    path: &mut Path<'v>,
) -> Result<Json, DecodeError> {
    if let Schema::Ref { name } = schema {
        let fq = name.fully_qualified_name(ns);
        let Some(&target) = names.get(fq.as_ref()) else {
            return Err(convert(
                path,
                format!("named type {} is not defined", fq.fullname(None)),
            ));
        };
        let inner_ns = fq.namespace().map(str::to_owned);
        return to_json(target, value, names, inner_ns.as_deref(), path);
    }
    if let Schema::Union(union) = schema {
        let Value::Union(index, inner) = value else {
            return Err(mismatch(path, schema, value));
        };
        let Some(branch) = union.variants().get(*index as usize) else {
            return Err(convert(
                path,
                format!("union branch {index} does not exist"),
            ));
        };
        return to_json(branch, inner, names, ns, path);
    }
    // A reader schema that is not a union may still receive a writer union's value.
    let value = match value {
        Value::Union(_, inner) => inner.as_ref(),
        other => other,
    };
    Ok(match (schema, value) {
        (Schema::Null, Value::Null) => Json::Null,
        (Schema::Boolean, Value::Boolean(b)) => Json::Bool(*b),
        (Schema::Int | Schema::Long, Value::Int(i)) => Json::from(*i),
        (Schema::Int | Schema::Long, Value::Long(l)) => Json::from(*l),
        (Schema::Float | Schema::Double, Value::Float(f)) => float32(*f),
        (Schema::Float | Schema::Double, Value::Double(d)) => float64(*d),
        (Schema::Bytes, Value::Bytes(b)) | (Schema::Fixed(_), Value::Fixed(_, b)) => {
            Json::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        (Schema::String, Value::String(s)) => Json::String(s.clone()),
        (Schema::Enum(_), Value::Enum(_, symbol)) => Json::String(symbol.clone()),
        (Schema::Array(array), Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(to_json(&array.items, item, names, ns, path)?);
                path.pop();
            }
            Json::Array(out)
        }
        (Schema::Map(map), Value::Map(entries)) => {
            Json::Object(map_entries(&map.types, entries, names, ns, path)?)
        }
        (Schema::Record(record), Value::Record(fields)) => {
            let inner_ns = record.name.namespace().or(ns);
            let mut out = Map::with_capacity(record.fields.len());
            for (i, field) in record.fields.iter().enumerate() {
                let found = match fields.get(i) {
                    Some((name, v)) if *name == field.name => Some(v),
                    _ => fields
                        .iter()
                        .find(|(n, _)| *n == field.name)
                        .map(|(_, v)| v),
                };
                path.push(Seg::Field(&field.name));
                let Some(v) = found else {
                    return Err(convert(
                        path,
                        "field is missing from the decoded record".into(),
                    ));
                };
                out.insert(
                    field.name.clone(),
                    to_json(&field.schema, v, names, inner_ns, path)?,
                );
                path.pop();
            }
            Json::Object(out)
        }
        (Schema::Decimal(d), Value::Decimal(decimal)) => {
            let bytes = Vec::<u8>::try_from(decimal)
                .map_err(|e| convert(path, format!("decimal: {}", super::avro_message(&e))))?;
            decimal_json(&bytes, d.scale as i64, path)?
        }
        (Schema::Decimal(d), Value::Bytes(bytes) | Value::Fixed(_, bytes)) => {
            decimal_json(bytes, d.scale as i64, path)?
        }
        (Schema::BigDecimal, Value::BigDecimal(big)) => {
            let (unscaled, scale) = big.as_bigint_and_exponent();
            decimal_json(&unscaled.to_signed_bytes_be(), scale, path)?
        }
        (Schema::Uuid(_), Value::Uuid(uuid)) => Json::String(uuid.hyphenated().to_string()),
        (Schema::Date, Value::Date(days)) => Json::String(time::date(i64::from(*days))),
        (Schema::TimeMillis, Value::TimeMillis(ms)) => {
            time_json(i64::from(*ms), Unit::Millis, path)?
        }
        (Schema::TimeMicros, Value::TimeMicros(us)) => time_json(*us, Unit::Micros, path)?,
        (Schema::TimestampMillis, Value::TimestampMillis(t)) => ts(*t, Unit::Millis, true),
        (Schema::TimestampMicros, Value::TimestampMicros(t)) => ts(*t, Unit::Micros, true),
        (Schema::TimestampNanos, Value::TimestampNanos(t)) => ts(*t, Unit::Nanos, true),
        (Schema::LocalTimestampMillis, Value::LocalTimestampMillis(t)) => {
            ts(*t, Unit::Millis, false)
        }
        (Schema::LocalTimestampMicros, Value::LocalTimestampMicros(t)) => {
            ts(*t, Unit::Micros, false)
        }
        (Schema::LocalTimestampNanos, Value::LocalTimestampNanos(t)) => ts(*t, Unit::Nanos, false),
        (Schema::Duration(_), Value::Duration(d)) => {
            let mut out = Map::with_capacity(3);
            out.insert("months".into(), Json::from(u32::from(d.months())));
            out.insert("days".into(), Json::from(u32::from(d.days())));
            out.insert("milliseconds".into(), Json::from(u32::from(d.millis())));
            Json::Object(out)
        }
        _ => return Err(mismatch(path, schema, value)),
    })
}

/// Map entries, sorted by key: Avro maps are unordered and the decoder's hash order changes
/// from run to run, so sorting keeps the output deterministic.
fn map_entries<'v>(
    values: &'v Schema,
    entries: &'v HashMap<String, Value>,
    names: &NamesRef<'v>,
    ns: Option<&str>,
    path: &mut Path<'v>,
) -> Result<Map<String, Json>, DecodeError> {
    let mut keys: Vec<&'v String> = entries.keys().collect();
    keys.sort_unstable();
    let mut out = Map::with_capacity(keys.len());
    for key in keys {
        path.push(Seg::Field(key));
        out.insert(
            key.clone(),
            to_json(values, &entries[key], names, ns, path)?,
        );
        path.pop();
    }
    Ok(out)
}

/// f32 through its shortest decimal form, so 0.1f32 prints as 0.1, not 0.10000000149011612.
/// serde_json's f32 printer picks, among equally short forms, the one nearest the exact value
/// with ties to even, as Java's `Float.toString` does (std's `Display` breaks ties upward).
pub(super) fn float32(f: f32) -> Json {
    if !f.is_finite() {
        return non_finite(f64::from(f));
    }
    let shortest = serde_json::to_string(&f)
        .ok()
        .and_then(|text| text.parse::<f64>().ok())
        .unwrap_or(f64::from(f));
    float64(shortest)
}

/// JSON has no NaN/Infinity; they become the strings Java and JavaScript print for them.
pub(super) fn float64(d: f64) -> Json {
    Number::from_f64(d).map_or_else(|| non_finite(d), Json::Number)
}

fn non_finite(d: f64) -> Json {
    Json::String(
        if d.is_nan() {
            "NaN"
        } else if d > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .to_owned(),
    )
}

fn decimal_json(bytes: &[u8], scale: i64, path: &Path<'_>) -> Result<Json, DecodeError> {
    format_decimal(bytes, scale)
        .map(Json::String)
        .map_err(|detail| convert(path, detail))
}

fn time_json(ticks: i64, unit: Unit, path: &Path<'_>) -> Result<Json, DecodeError> {
    time::time_of_day(ticks, unit)
        .map(Json::String)
        .map_err(|detail| convert(path, detail))
}

fn ts(ticks: i64, unit: Unit, utc: bool) -> Json {
    Json::String(time::timestamp(ticks, unit, utc))
}

pub(super) fn convert(path: &Path<'_>, detail: String) -> DecodeError {
    DecodeError::Convert {
        path: path.to_string(),
        detail,
    }
}

fn mismatch(path: &Path<'_>, schema: &Schema, value: &Value) -> DecodeError {
    convert(
        path,
        format!(
            "schema expects {:?} but the decoder produced {:?}",
            SchemaKind::from(schema),
            SchemaKind::from(value)
        ),
    )
}

//! The function's configuration, from environment variables.

use std::time::Duration;

use common::config::Env;

use crate::dead_letters::SQS_MAX_BYTES;
use crate::enrich::{DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_OUTPUT_RECORDS};
use crate::framing::{SchemaRef, WireFormat};
use crate::mask::MaskRules;

/// Where the Confluent registry's location and credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfluentSource {
    /// A Secrets Manager secret in the AWS sample's format.
    Secret(String),
    /// A registry without authentication.
    Url(String),
}

/// What decoding needs (the Lambda and the offline `decode` command).
#[derive(Debug, Clone)]
pub struct EnricherConfig {
    pub wire_format: WireFormat,
    pub confluent: Option<ConfluentSource>,
    pub glue: bool,
    pub max_output_records: usize,
    pub max_output_bytes: usize,
    pub mask: MaskRules,
    /// `topic` → registry reference of the reader schema.
    pub reader_schemas: Vec<(String, SchemaRef)>,
    pub schema_cache_size: usize,
    pub registry_timeout: Duration,
}

/// Where dead letters go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterConfig {
    pub queue_url: String,
    pub bucket: String,
    pub max_message_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub enricher: EnricherConfig,
    pub dead_letters: DeadLetterConfig,
}

impl Config {
    pub fn from_env(env: &mut Env) -> Self {
        Config {
            enricher: EnricherConfig::from_env(env),
            dead_letters: DeadLetterConfig {
                queue_url: env.required(
                    "DLQ_URL",
                    "the URL of the SQS queue for records that cannot be decoded",
                ),
                bucket: env.required(
                    "DLQ_BUCKET",
                    "the S3 bucket for dead letters too large for SQS",
                ),
                max_message_bytes: env.parse_with(
                    "DLQ_MAX_MESSAGE_BYTES",
                    SQS_MAX_BYTES,
                    "a message size in bytes from 1024 to 1048576 (the queue's MaximumMessageSize)",
                    |v| match v.parse::<usize>() {
                        Ok(n @ 1_024..=1_048_576) => Ok(n),
                        _ => Err("out of range"),
                    },
                ),
            },
        }
    }
}

impl EnricherConfig {
    pub fn from_env(env: &mut Env) -> Self {
        let secret = env.optional("CONFLUENT_SCHEMA_REGISTRY_SECRET_NAME");
        let url = env.optional("CONFLUENT_SCHEMA_REGISTRY_URL");
        let confluent = match (secret, url) {
            (Some(_), Some(_)) => {
                env.problem(
                    "CONFLUENT_SCHEMA_REGISTRY_URL",
                    "is set together with CONFLUENT_SCHEMA_REGISTRY_SECRET_NAME; set one (the secret carries the URL)",
                );
                None
            }
            (Some(s), None) => Some(ConfluentSource::Secret(s)),
            (None, Some(u)) => Some(ConfluentSource::Url(u)),
            (None, None) => None,
        };
        let mask_spec = env.optional("MASK_FIELDS").unwrap_or_default();
        let mask = match MaskRules::parse(&mask_spec) {
            Ok(m) => m,
            Err(e) => {
                env.problem(
                    "MASK_FIELDS",
                    format!("{e}; expected path[:N] items separated by commas"),
                );
                MaskRules::default()
            }
        };
        let reader_spec = env.optional("READER_SCHEMAS").unwrap_or_default();
        let reader_schemas = match parse_reader_schemas(&reader_spec) {
            Ok(r) => r,
            Err(e) => {
                env.problem("READER_SCHEMAS", e);
                Vec::new()
            }
        };
        EnricherConfig {
            wire_format: env.parse_or("WIRE_FORMAT", WireFormat::Auto, "auto, confluent or glue"),
            confluent,
            glue: env.flag("GLUE_SCHEMA_REGISTRY", true),
            max_output_records: env.parse_with(
                "MAX_OUTPUT_RECORDS",
                DEFAULT_MAX_OUTPUT_RECORDS,
                "an integer from 1 to 10000 (10 for an event bus target)",
                |v| match v.parse::<usize>() {
                    Ok(n @ 1..=10_000) => Ok(n),
                    _ => Err("out of range"),
                },
            ),
            max_output_bytes: env.parse_with(
                "MAX_OUTPUT_BYTES",
                DEFAULT_MAX_OUTPUT_BYTES,
                "a size in bytes from 1024 to 6291456",
                |v| match v.parse::<usize>() {
                    Ok(n @ 1_024..=6_291_456) => Ok(n),
                    _ => Err("out of range"),
                },
            ),
            mask,
            reader_schemas,
            schema_cache_size: env.parse_or("SCHEMA_CACHE_SIZE", 1_000, "a positive integer"),
            registry_timeout: Duration::from_millis(env.parse_or(
                "REGISTRY_TIMEOUT_MS",
                5_000,
                "a timeout in milliseconds",
            )),
        }
    }
}

/// `READER_SCHEMAS`: `topic=confluent:<id>` or `topic=glue:<schema version
/// uuid>`, comma-separated. Reader schemas live in the registry like writer
/// schemas, by immutable id, so the variable stays small (Lambda caps all
/// variables at 4 KB) and a schema change is a registry change plus a config
/// change, reviewed like code.
pub fn parse_reader_schemas(spec: &str) -> Result<Vec<(String, SchemaRef)>, String> {
    let mut out: Vec<(String, SchemaRef)> = Vec::new();
    for (i, item) in spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .enumerate()
    {
        let bad = |why: &str| {
            format!(
                "item {} {item:?}: {why}; expected topic=confluent:<id> or topic=glue:<uuid>",
                i + 1
            )
        };
        let (topic, source) = item.split_once('=').ok_or_else(|| bad("no '='"))?;
        let topic = topic.trim();
        if topic.is_empty() {
            return Err(bad("empty topic"));
        }
        let schema = match source.trim().split_once(':') {
            Some(("confluent", id)) => SchemaRef::ConfluentId(
                id.trim()
                    .parse()
                    .map_err(|_| bad("the id is not an integer"))?,
            ),
            Some(("glue", id)) => {
                SchemaRef::GlueVersion(id.trim().parse().map_err(|_| bad("not a UUID"))?)
            }
            _ => return Err(bad("unknown registry")),
        };
        if out.iter().any(|(t, _)| t == topic) {
            return Err(bad("topic given twice"));
        }
        out.push((topic.to_string(), schema));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_schema_spec() {
        let r = parse_reader_schemas(
            "orders=confluent:12, payments = glue:93a5348a-e12b-4eab-a33e-d3a9b79f9436",
        )
        .unwrap();
        assert_eq!(r[0], ("orders".to_string(), SchemaRef::ConfluentId(12)));
        assert!(matches!(r[1].1, SchemaRef::GlueVersion(_)));
        assert!(parse_reader_schemas("").unwrap().is_empty());
        for bad in [
            "orders",
            "=confluent:1",
            "o=confluent:x",
            "o=glue:nope",
            "o=kafka:1",
            "o=confluent:1,o=confluent:2",
        ] {
            let e = parse_reader_schemas(bad).unwrap_err();
            assert!(e.starts_with("item "), "{bad}: {e}");
        }
    }

    #[test]
    fn all_problems_at_once() {
        let mut env = Env::from_pairs([
            ("WIRE_FORMAT", "protobuf"),
            ("MAX_OUTPUT_RECORDS", "0"),
            ("CONFLUENT_SCHEMA_REGISTRY_SECRET_NAME", "s"),
            ("CONFLUENT_SCHEMA_REGISTRY_URL", "http://x"),
        ]);
        let c = Config::from_env(&mut env);
        let err = env.finish(c).unwrap_err();
        let vars: Vec<_> = err.problems.iter().map(|p| p.variable.as_str()).collect();
        assert_eq!(
            vars,
            [
                "CONFLUENT_SCHEMA_REGISTRY_URL",
                "WIRE_FORMAT",
                "MAX_OUTPUT_RECORDS",
                "DLQ_URL",
                "DLQ_BUCKET"
            ]
        );
    }
}

//! The function's configuration, from environment variables.

use std::time::Duration;

use common::backoff::Backoff;
use common::config::Env;

use crate::event::KeySource;

/// How record values are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueFormat {
    /// `{"type": "JSON", "data": <detail>}`: what the API-destination path
    /// writes, so consumers read both paths alike.
    Json,
    /// The [`crate::avro::AUDIT_EVENT_SCHEMA`] record, Confluent-framed,
    /// sent as BINARY.
    Avro(AvroSettings),
}

/// Where the Avro schema id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvroSettings {
    /// Secrets Manager secret `{"url", "basic.auth.user.info": "KEY:SECRET"}`
    /// (the format `pipe-avro-enricher` and the AWS sample read).
    pub registry_secret: String,
    /// Subject of the value schema; `<topic>-value` by default (Confluent's
    /// TopicNameStrategy, what Flink's `avro-confluent` format expects).
    pub subject: String,
    /// Register the schema under the subject (idempotent), or only look it
    /// up and fail when a platform team has not registered it.
    pub auto_register: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The cluster's REST endpoint, e.g. `https://pkc-xxxxx.us-east-1.aws.confluent.cloud:443`
    /// or a PrivateLink/VPC-peered one.
    pub endpoint: String,
    pub cluster_id: String,
    pub topic: String,
    /// Secrets Manager secret `{"username": API key, "password": API secret}`
    /// (the format of an EventBridge Pipes / connection basic-auth secret).
    pub api_key_secret: String,
    pub format: ValueFormat,
    pub key: KeySource,
    pub request_timeout: Duration,
    pub backoff: Backoff,
}

impl Config {
    pub fn from_env(env: &mut Env) -> Self {
        let endpoint = env.required_with(
            "KAFKA_REST_ENDPOINT",
            "the cluster's REST endpoint URL (https://...)",
            |v| match v.split_once("://") {
                Some(("https" | "http", rest)) if !rest.is_empty() => {
                    Ok(v.trim_end_matches('/').to_string())
                }
                _ => Err("not an http(s) URL"),
            },
        );
        let cluster_id = env.required("KAFKA_CLUSTER_ID", "the Kafka cluster id (lkc-...)");
        let topic = env.required_with("KAFKA_TOPIC", "a Kafka topic name", |v| {
            if v.len() <= 249
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                && v != "."
                && v != ".."
            {
                Ok(v.to_string())
            } else {
                Err("Kafka topic names are 1-249 characters of [a-zA-Z0-9._-]")
            }
        });
        let api_key_secret = env.required(
            "KAFKA_API_KEY_SECRET_NAME",
            "the name or ARN of the secret {\"username\": API key, \"password\": API secret}",
        );
        let format = match env.optional("VALUE_FORMAT").as_deref() {
            None | Some("json") => ValueFormat::Json,
            Some("avro") => ValueFormat::Avro(AvroSettings {
                registry_secret: env.required(
                    "SCHEMA_REGISTRY_SECRET_NAME",
                    "the secret {\"url\", \"basic.auth.user.info\"} of the schema registry (VALUE_FORMAT=avro)",
                ),
                subject: env
                    .optional("VALUE_SUBJECT")
                    .unwrap_or_else(|| format!("{topic}-value")),
                auto_register: env.flag("AUTO_REGISTER_SCHEMA", true),
            }),
            Some(other) => {
                env.problem("VALUE_FORMAT", format!("{other:?} is not json or avro"));
                ValueFormat::Json
            }
        };
        let key = env.parse_or(
            "RECORD_KEY",
            KeySource::default(),
            "\"none\" or a JSON pointer into the event such as /id or /detail/userIdentity/principalId",
        );
        let request_timeout = Duration::from_millis(env.parse_with(
            "REQUEST_TIMEOUT_MS",
            10_000,
            "a timeout in milliseconds from 100 to 600000",
            |v| match v.parse::<u64>() {
                Ok(n @ 100..=600_000) => Ok(n),
                _ => Err("out of range"),
            },
        ));
        let max_attempts = env.parse_with(
            "MAX_ATTEMPTS",
            4,
            "an attempt count from 1 to 10",
            |v| match v.parse::<u32>() {
                Ok(n @ 1..=10) => Ok(n),
                _ => Err("out of range"),
            },
        );
        let base_ms = env.parse_or("RETRY_BASE_MS", 200u64, "a delay in milliseconds");
        Config {
            endpoint,
            cluster_id,
            topic,
            api_key_secret,
            format,
            key,
            request_timeout,
            backoff: Backoff {
                base: Duration::from_millis(base_ms),
                cap: Duration::from_secs(5),
                max_attempts,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, common::config::ConfigError> {
        let mut env = Env::from_pairs(pairs.iter().copied());
        let c = Config::from_env(&mut env);
        env.finish(c)
    }

    #[test]
    fn minimal_json_config() {
        let c = load(&[
            (
                "KAFKA_REST_ENDPOINT",
                "https://pkc-1.us-east-1.aws.confluent.cloud:443/",
            ),
            ("KAFKA_CLUSTER_ID", "lkc-1"),
            ("KAFKA_TOPIC", "audit_events"),
            ("KAFKA_API_KEY_SECRET_NAME", "kafka-api-key"),
        ])
        .unwrap();
        assert_eq!(
            c.endpoint,
            "https://pkc-1.us-east-1.aws.confluent.cloud:443"
        );
        assert_eq!(c.format, ValueFormat::Json);
        assert_eq!(c.key, KeySource::Pointer("/id".into()));
        assert_eq!(c.backoff.max_attempts, 4);
    }

    #[test]
    fn avro_defaults_to_the_topic_value_subject() {
        let c = load(&[
            ("KAFKA_REST_ENDPOINT", "http://127.0.0.1:1"),
            ("KAFKA_CLUSTER_ID", "lkc-1"),
            ("KAFKA_TOPIC", "audit"),
            ("KAFKA_API_KEY_SECRET_NAME", "k"),
            ("VALUE_FORMAT", "avro"),
            ("SCHEMA_REGISTRY_SECRET_NAME", "sr"),
        ])
        .unwrap();
        assert_eq!(
            c.format,
            ValueFormat::Avro(AvroSettings {
                registry_secret: "sr".into(),
                subject: "audit-value".into(),
                auto_register: true
            })
        );
    }

    #[test]
    fn every_problem_at_once() {
        let err = load(&[
            ("KAFKA_REST_ENDPOINT", "ftp://x"),
            ("KAFKA_TOPIC", "bad topic"),
            ("VALUE_FORMAT", "avro"),
            ("RECORD_KEY", "id"),
            ("MAX_ATTEMPTS", "0"),
        ])
        .unwrap_err();
        let vars: Vec<_> = err.problems.iter().map(|p| p.variable.as_str()).collect();
        assert_eq!(
            vars,
            [
                "KAFKA_REST_ENDPOINT",
                "KAFKA_CLUSTER_ID",
                "KAFKA_TOPIC",
                "KAFKA_API_KEY_SECRET_NAME",
                "SCHEMA_REGISTRY_SECRET_NAME",
                "RECORD_KEY",
                "MAX_ATTEMPTS"
            ]
        );
    }
}

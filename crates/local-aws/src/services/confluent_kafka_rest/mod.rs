//! Confluent REST v3 produce API (Confluent Cloud's and REST Proxy's
//! `/kafka/v3/...`), enough to run a producer end to end: topics, HTTP basic
//! auth, streaming produce with per-record delivery reports, and the stored
//! records for tests to read back.
//!
//! * `POST /kafka/v3/clusters/{cluster_id}/topics` `{"topic_name",
//!   "partitions_count"?, "configs"?: [{"name", "value"}]}` creates a topic
//!   (201); `GET`/`DELETE .../topics/{topic_name}` read and delete it.
//!   Topics are never auto-created (Confluent Cloud does not either), so a
//!   typo in a topic name fails the way it fails in production. A cluster
//!   exists once it has a topic. Honoured topic configs:
//!   `max.message.bytes` (default 2097164, Confluent Cloud's) and
//!   `confluent.value.schema.validation` (`true`: a BINARY value must carry
//!   Confluent framing, magic byte 0 and a 4-byte schema id).
//! * `POST /kafka/v3/clusters/{cluster_id}/topics/{topic_name}/records`:
//!   the body is one or more `ProduceRequest` documents, concatenated
//!   (streaming mode); the answer is HTTP 200 and one delivery report per
//!   record, concatenated, in order: `{"error_code": 200, "cluster_id",
//!   "topic_name", "partition_id", "offset", "timestamp", "key"?: {"type",
//!   "size"}, "value"?: {"type", "size"}}` or `{"error_code", "message"}`.
//!   Per-record codes: 400 (malformed record, bad base64, unknown type or
//!   partition, missing framing under schema validation), 413 (larger than
//!   `max.message.bytes`), and whatever `record-errors` injects. A document
//!   that is not JSON gets a 400 report and ends the stream; the records
//!   after it get none. Request-level errors: 401 (auth), 404 (unknown
//!   cluster: `error_code` 404; unknown topic: 40403, Kafka REST's
//!   UNKNOWN_TOPIC_OR_PARTITION), 400 (empty body), and injected faults
//!   (`"operation": "ProduceRecords"`, e.g. `{"code": "429", "status": 429}`
//!   for throttling; a numeric code becomes the body's `error_code`).
//! * Partition: the record's `partition_id` if given, else a hash of the
//!   key (FNV-1a, not Kafka's murmur2: only "same key, same partition"
//!   is modelled), else round robin.
//!
//! Control (`/_local-aws/confluent-kafka-rest/<action>`): `auth` (`POST
//! {"username", "password"}` requires basic auth with them, `DELETE` turns
//! it off); `limits` (`POST {"max_request_bytes"}`: larger request bodies
//! get HTTP 413, as a REST endpoint's request size limit answers; `DELETE`
//! lifts it; unset by default); `record-errors` (`POST {"count", "error_code", "message"?}`: the
//! next `count` records get that per-record error instead of being written,
//! e.g. 429 for per-record throttling); `records` (`GET`: every stored
//! record, `{"records": [{"cluster_id", "topic_name", "partition_id",
//! "offset", "timestamp", "key", "value", "value_type"}]}`, key/value bytes
//! base64, plus `schema_id` for a framed BINARY value).
//!
//! Not modelled: the schema-registry-integrated produce of self-managed
//! REST Proxy (`subject`, `schema_id` fields: Confluent Cloud rejects them
//! too), headers beyond storing them, transactions, `records-batch`, rate
//! limits other than injected ones, checking a framed schema id against the
//! registry emulator (tests resolve the stored `schema_id` there).

mod codec;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};

use self::codec::{base64_decode, base64_encode, fnv1a, now_rfc3339};
use crate::input::{opt_array, opt_i64, opt_str};
use crate::{AwsError, RequestContext, RestRoute, Service};

/// Confluent Cloud's default `max.message.bytes`.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 2_097_164;

const PRODUCE: &str = "ProduceRecords";
const OPERATIONS: &[&str] = &["CreateTopic", "GetTopic", "DeleteTopic", PRODUCE];

#[derive(Debug, Clone)]
struct Topic {
    partitions: u32,
    max_message_bytes: usize,
    schema_validation: bool,
    configs: Vec<(String, String)>,
    /// Next offset per partition.
    next_offsets: Vec<i64>,
    round_robin: u32,
}

/// A record as written.
#[derive(Debug, Clone)]
struct Stored {
    cluster_id: String,
    topic_name: String,
    partition_id: u32,
    offset: i64,
    timestamp: String,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    value_type: String,
    headers: Value,
}

#[derive(Debug, Default)]
struct State {
    /// (cluster, topic) → topic.
    topics: BTreeMap<(String, String), Topic>,
    records: Vec<Stored>,
    auth: Option<String>,
    /// Injected per-record errors: how many records are left, code, message.
    record_errors: Option<(u32, i64, String)>,
    /// Request body limit (HTTP 413 above it), when set.
    max_request_bytes: Option<usize>,
}

/// The Kafka REST produce emulator.
#[derive(Debug, Default)]
pub struct ConfluentKafkaRest {
    state: Mutex<State>,
}

impl ConfluentKafkaRest {
    /// No topics, auth off.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn kafka_error(code: i64, status: u16, message: impl Into<String>) -> AwsError {
    AwsError::new(code.to_string(), status, message)
}

fn topic_not_found() -> AwsError {
    kafka_error(
        40403,
        404,
        "This server does not host this topic-partition.",
    )
}

fn topic_json(cluster: &str, name: &str, t: &Topic) -> Value {
    json!({
        "kind": "KafkaTopic",
        "cluster_id": cluster,
        "topic_name": name,
        "is_internal": false,
        "replication_factor": 3,
        "partitions_count": t.partitions,
        "configs": t.configs.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
    })
}

impl State {
    fn create_topic(&mut self, cluster: &str, input: &Value) -> Result<Value, AwsError> {
        let name = opt_str(input, "topic_name")?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| kafka_error(400, 400, "topic_name is required"))?;
        if name.len() > 249
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(kafka_error(
                40002,
                400,
                format!("Topic name {name:?} is illegal: 1-249 characters of [a-zA-Z0-9._-]"),
            ));
        }
        let key = (cluster.to_owned(), name.to_owned());
        if self.topics.contains_key(&key) {
            return Err(kafka_error(
                40002,
                400,
                format!("Topic '{name}' already exists."),
            ));
        }
        let partitions = opt_i64(input, "partitions_count")?.unwrap_or(6);
        let partitions = u32::try_from(partitions)
            .ok()
            .filter(|p| (1..=1000).contains(p))
            .ok_or_else(|| kafka_error(40002, 400, "partitions_count must be 1..=1000"))?;
        let mut topic = Topic {
            partitions,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            schema_validation: false,
            configs: Vec::new(),
            next_offsets: vec![0; partitions as usize],
            round_robin: 0,
        };
        for config in opt_array(input, "configs")?.into_iter().flatten() {
            let n = opt_str(config, "name")?.unwrap_or_default();
            let v = opt_str(config, "value")?.unwrap_or_default();
            match n {
                "max.message.bytes" => {
                    topic.max_message_bytes = v.parse().map_err(|_| {
                        kafka_error(
                            40002,
                            400,
                            format!("max.message.bytes {v:?} is not a number"),
                        )
                    })?;
                }
                "confluent.value.schema.validation" => {
                    topic.schema_validation = v.eq_ignore_ascii_case("true");
                }
                _ => {}
            }
            topic.configs.push((n.to_owned(), v.to_owned()));
        }
        let out = topic_json(cluster, name, &topic);
        self.topics.insert(key, topic);
        Ok(out)
    }

    fn produce(&mut self, cluster: &str, topic_name: &str, body: &str) -> Result<Value, AwsError> {
        if !self.topics.keys().any(|(c, _)| c == cluster) {
            return Err(kafka_error(
                404,
                404,
                format!("Cluster {cluster} not found"),
            ));
        }
        let key = (cluster.to_owned(), topic_name.to_owned());
        if !self.topics.contains_key(&key) {
            return Err(topic_not_found());
        }
        if body.trim().is_empty() {
            return Err(kafka_error(
                400,
                400,
                "Payload error. Request body is empty.",
            ));
        }
        if let Some(limit) = self.max_request_bytes.filter(|l| body.len() > *l) {
            return Err(kafka_error(
                413,
                413,
                format!(
                    "Request Entity Too Large: {} bytes, limit {limit}",
                    body.len()
                ),
            ));
        }
        let mut out = String::new();
        for document in serde_json::Deserializer::from_str(body).into_iter::<Value>() {
            let report = match document {
                Ok(doc) => self.produce_one(cluster, topic_name, &doc),
                Err(e) => {
                    out.push_str(
                        &json!({"error_code": 400, "message": format!("Payload error. {e}")})
                            .to_string(),
                    );
                    break;
                }
            };
            out.push_str(&report.to_string());
            out.push('\n');
        }
        Ok(Value::String(out))
    }

    fn produce_one(&mut self, cluster: &str, topic_name: &str, doc: &Value) -> Value {
        let bad = |message: String| json!({"error_code": 400, "message": message});
        if !doc.is_object() {
            return bad("Payload error. A record must be a JSON object.".into());
        }
        let key = match data(doc.get("key")) {
            Ok(k) => k,
            Err(e) => return bad(format!("Bad key: {e}")),
        };
        let value = match data(doc.get("value")) {
            Ok(v) => v,
            Err(e) => return bad(format!("Bad value: {e}")),
        };
        let topic_key = (cluster.to_owned(), topic_name.to_owned());
        let topic = self
            .topics
            .get_mut(&topic_key)
            .expect("checked by the caller");
        let size = key.as_ref().map_or(0, |k| k.1.len()) + value.as_ref().map_or(0, |v| v.1.len());
        if size > topic.max_message_bytes {
            return json!({"error_code": 413, "message": format!(
                "The record is {size} bytes, larger than the topic's max.message.bytes {}.",
                topic.max_message_bytes)});
        }
        let schema_id = match &value {
            Some((t, bytes)) if t == "BINARY" && bytes.first() == Some(&0) && bytes.len() >= 5 => {
                Some(u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]))
            }
            _ => None,
        };
        if topic.schema_validation && schema_id.is_none() {
            return bad("Schema validation failed: the value carries no Confluent schema id (magic byte 0 + 4-byte id).".into());
        }
        let partition = match doc.get("partition_id") {
            None | Some(Value::Null) => match &key {
                Some((_, k)) => (fnv1a(k) % u64::from(topic.partitions)) as u32,
                None => {
                    topic.round_robin = (topic.round_robin + 1) % topic.partitions;
                    topic.round_robin
                }
            },
            Some(p) => match p.as_u64().filter(|p| *p < u64::from(topic.partitions)) {
                Some(p) => p as u32,
                None => return bad(format!("Partition {p} not found.")),
            },
        };
        if let Some((left, code, message)) = &mut self.record_errors {
            *left -= 1;
            let report = json!({"error_code": *code, "message": message.clone()});
            if *left == 0 {
                self.record_errors = None;
            }
            return report;
        }
        let timestamp = doc
            .get("timestamp")
            .and_then(Value::as_str)
            .map_or_else(now_rfc3339, str::to_owned);
        let offset = topic.next_offsets[partition as usize];
        topic.next_offsets[partition as usize] += 1;
        let mut report = json!({
            "error_code": 200,
            "cluster_id": cluster,
            "topic_name": topic_name,
            "partition_id": partition,
            "offset": offset,
            "timestamp": timestamp,
        });
        if let Some((t, k)) = &key {
            report["key"] = json!({"type": t, "size": k.len()});
        }
        if let Some((t, v)) = &value {
            report["value"] = json!({"type": t, "size": v.len()});
        }
        self.records.push(Stored {
            cluster_id: cluster.to_owned(),
            topic_name: topic_name.to_owned(),
            partition_id: partition,
            offset,
            timestamp,
            key: key.map(|k| k.1),
            value_type: value.as_ref().map_or("NULL".into(), |v| v.0.clone()),
            value: value.map(|v| v.1),
            headers: doc.get("headers").cloned().unwrap_or(Value::Null),
        });
        report
    }
}

/// A key or value `{"type", "data"}` as (type, bytes on the topic).
fn data(part: Option<&Value>) -> Result<Option<(String, Vec<u8>)>, String> {
    let Some(part) = part.filter(|p| !p.is_null()) else {
        return Ok(None);
    };
    if !part.is_object() {
        return Err("expected an object {\"type\", \"data\"}".into());
    }
    let kind = match part.get("type") {
        None | Some(Value::Null) => "JSON".to_owned(),
        Some(Value::String(t)) => t.to_ascii_uppercase(),
        Some(_) => return Err("type must be a string".into()),
    };
    let raw = part.get("data").unwrap_or(&Value::Null);
    let bytes = match kind.as_str() {
        "BINARY" => {
            let text = raw.as_str().ok_or("BINARY data must be a base64 string")?;
            base64_decode(text).ok_or("BINARY data is not valid base64")?
        }
        "STRING" => raw
            .as_str()
            .ok_or("STRING data must be a string")?
            .as_bytes()
            .to_vec(),
        "JSON" => raw.to_string().into_bytes(),
        other => {
            return Err(format!(
                "unsupported type {other:?}; BINARY, JSON or STRING"
            ))
        }
    };
    Ok(Some((kind, bytes)))
}

impl Service for ConfluentKafkaRest {
    fn name(&self) -> &'static str {
        "confluent-kafka-rest"
    }

    fn rest_routes(&self) -> Vec<RestRoute> {
        vec![
            RestRoute::new(
                "POST",
                "/kafka/v3/clusters/{cluster_id}/topics",
                "CreateTopic",
            )
            .with_success_status(201),
            RestRoute::new(
                "GET",
                "/kafka/v3/clusters/{cluster_id}/topics/{topic_name}",
                "GetTopic",
            ),
            RestRoute::new(
                "DELETE",
                "/kafka/v3/clusters/{cluster_id}/topics/{topic_name}",
                "DeleteTopic",
            )
            .with_success_status(204),
            RestRoute::new(
                "POST",
                "/kafka/v3/clusters/{cluster_id}/topics/{topic_name}/records",
                PRODUCE,
            ),
        ]
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn raw_body_operations(&self) -> &'static [&'static str] {
        &[PRODUCE]
    }

    fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let cluster = ctx.path_param("cluster_id")?;
        let mut state = self.state();
        match operation {
            "CreateTopic" => state.create_topic(cluster, &input),
            "GetTopic" => {
                let name = ctx.path_param("topic_name")?;
                let key = (cluster.to_owned(), name.to_owned());
                let topic = state.topics.get(&key).ok_or_else(topic_not_found)?;
                Ok(topic_json(cluster, name, topic))
            }
            "DeleteTopic" => {
                let key = (cluster.to_owned(), ctx.path_param("topic_name")?.to_owned());
                state.topics.remove(&key).ok_or_else(topic_not_found)?;
                state
                    .records
                    .retain(|r| (r.cluster_id.as_str(), r.topic_name.as_str()) != (&key.0, &key.1));
                Ok(json!({}))
            }
            PRODUCE => {
                let body = input.as_str().unwrap_or_default();
                state.produce(cluster, ctx.path_param("topic_name")?, body)
            }
            other => Err(AwsError::unknown_operation(format!(
                "unknown operation {other}"
            ))),
        }
    }

    fn reset(&self) {
        *self.state() = State::default();
    }

    fn rest_error_body(&self, error: &AwsError) -> Value {
        let code = error.code.parse::<i64>().unwrap_or(i64::from(error.status));
        json!({ "error_code": code, "message": error.message })
    }

    fn authorize(&self, ctx: &RequestContext) -> Result<(), AwsError> {
        let Some(token) = self.state().auth.clone() else {
            return Ok(());
        };
        if ctx.basic_credentials() == Some(token.as_str()) {
            Ok(())
        } else {
            Err(kafka_error(401, 401, "Unauthorized"))
        }
    }

    fn control(&self, method: &str, action: &str, input: Value) -> Result<Value, AwsError> {
        let mut state = self.state();
        match (method, action) {
            ("POST", "auth") => {
                let username = opt_str(&input, "username")?.unwrap_or_default();
                let password = opt_str(&input, "password")?.unwrap_or_default();
                if username.is_empty() || password.is_empty() {
                    return Err(AwsError::validation("auth needs a username and a password"));
                }
                state.auth = Some(base64_encode(format!("{username}:{password}").as_bytes()));
                Ok(json!({ "enabled": true, "username": username }))
            }
            ("DELETE", "auth") => {
                state.auth = None;
                Ok(json!({ "enabled": false }))
            }
            ("POST", "record-errors") => {
                let count = opt_i64(&input, "count")?.unwrap_or(0);
                let code = opt_i64(&input, "error_code")?.unwrap_or(0);
                if count < 1 || !(400..=59_999).contains(&code) {
                    return Err(AwsError::validation(
                        "record-errors needs count >= 1 and an error_code of 400 or more",
                    ));
                }
                let message = opt_str(&input, "message")?
                    .unwrap_or("Injected error")
                    .to_owned();
                state.record_errors = Some((count as u32, code, message));
                Ok(json!({ "count": count, "error_code": code }))
            }
            ("POST", "limits") => {
                let limit = opt_i64(&input, "max_request_bytes")?
                    .filter(|l| *l > 0)
                    .ok_or_else(|| AwsError::validation("limits needs max_request_bytes >= 1"))?;
                state.max_request_bytes = Some(limit as usize);
                Ok(json!({ "max_request_bytes": limit }))
            }
            ("DELETE", "limits") => {
                state.max_request_bytes = None;
                Ok(json!({ "max_request_bytes": null }))
            }
            ("GET", "records") => {
                let records: Vec<Value> = state
                    .records
                    .iter()
                    .map(|r| {
                        let schema_id = match &r.value {
                            Some(v) if r.value_type == "BINARY" && v.len() >= 5 && v[0] == 0 => {
                                json!(u32::from_be_bytes([v[1], v[2], v[3], v[4]]))
                            }
                            _ => Value::Null,
                        };
                        json!({
                            "cluster_id": r.cluster_id,
                            "topic_name": r.topic_name,
                            "partition_id": r.partition_id,
                            "offset": r.offset,
                            "timestamp": r.timestamp,
                            "key": r.key.as_deref().map(base64_encode),
                            "value": r.value.as_deref().map(base64_encode),
                            "value_type": r.value_type,
                            "schema_id": schema_id,
                            "headers": r.headers,
                        })
                    })
                    .collect();
                Ok(json!({ "records": records }))
            }
            _ => Err(AwsError::new(
                "NotFound",
                404,
                format!("{} has no control action {method} {action:?}", self.name()),
            )),
        }
    }
}

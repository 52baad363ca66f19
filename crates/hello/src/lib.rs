//! `hello`: the placeholder function that proves the foundation end to end
//! (template, runtime harness, local cloud, logs, metrics) until the first real
//! function lands; then it is removed.
//!
//! Trigger: an EventBridge event `source: project.hello`, `detail-type:
//! Greeting Requested`, `detail: {"name": "..."}`. Action: writes the greeting
//! to `s3://$GREETING_BUCKET/$GREETING_PREFIX<event id>.json`. Output: the
//! greeting and the object key.

use std::future::Future;

use common::config::Env;
use common::events::{correlation_id, EventBridgeEvent};
use common::{FunctionError, Invocation};
use serde::{Deserialize, Serialize};

/// The function's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub bucket: String,
    pub prefix: String,
}

impl Config {
    pub fn from_env(env: &mut Env) -> Self {
        Config {
            bucket: env.required("GREETING_BUCKET", "the S3 bucket greetings are written to"),
            prefix: env
                .optional("GREETING_PREFIX")
                .unwrap_or_else(|| "greetings/".into()),
        }
    }
}

/// The event's `detail`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GreetingRequest {
    pub name: String,
}

/// What the function returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GreetingResponse {
    pub greeting: String,
    pub key: String,
}

/// The pure part: a greeting for a name, which must be 1 to 64 printable
/// characters (it ends up in an object body and a log line).
pub fn greeting(name: &str) -> Result<String, FunctionError> {
    let len = name.chars().count();
    if len == 0 || len > 64 {
        return Err(FunctionError::invalid_event(format!(
            "detail.name must be 1 to 64 characters, got {len}"
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(FunctionError::invalid_event(format!(
            "detail.name contains the control character {c:?}"
        )));
    }
    Ok(format!("Hello, {name}!"))
}

/// Port: store one object.
pub trait PutObject {
    fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(), FunctionError>> + Send;
}

impl PutObject for aws_sdk_s3::Client {
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
    ) -> Result<(), FunctionError> {
        aws_sdk_s3::Client::put_object(self)
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(body.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| FunctionError::from_sdk("s3:PutObject", &e))
    }
}

/// The handler.
pub async fn handle<S: PutObject>(
    event: EventBridgeEvent<GreetingRequest>,
    invocation: Invocation,
    config: &Config,
    store: &S,
) -> Result<GreetingResponse, FunctionError> {
    let id = correlation_id(&event)
        .ok_or_else(|| FunctionError::invalid_event("the event has no id"))?
        .to_string();
    common::logging::set_correlation_id(&id);
    let greeting = greeting(&event.detail.name)?;
    let key = format!("{}{id}.json", config.prefix);
    let body =
        serde_json::to_vec(&serde_json::json!({"greeting": greeting, "source": event.source}))
            .map_err(|e| FunctionError::permanent("Serialization", e.to_string()))?;
    store.put_object(&config.bucket, &key, body).await?;
    invocation.metrics.count("GreetingsWritten", 1);
    tracing::info!(key = %key, "greeting written");
    Ok(GreetingResponse { greeting, key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct MemoryStore(Mutex<Vec<(String, String, Vec<u8>)>>);
    impl PutObject for MemoryStore {
        async fn put_object(
            &self,
            bucket: &str,
            key: &str,
            body: Vec<u8>,
        ) -> Result<(), FunctionError> {
            self.0
                .lock()
                .unwrap()
                .push((bucket.into(), key.into(), body));
            Ok(())
        }
    }

    fn sample() -> EventBridgeEvent<GreetingRequest> {
        let text = include_str!("../../../events/hello/greeting.json");
        common::events::from_value(serde_json::from_str(text).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn writes_the_greeting_under_the_event_id() {
        let config = Config {
            bucket: "b".into(),
            prefix: "g/".into(),
        };
        let store = MemoryStore::default();
        let invocation = Invocation::for_test();
        let out = handle(sample(), invocation.clone(), &config, &store)
            .await
            .unwrap();
        assert_eq!(out.greeting, "Hello, Ada!");
        assert_eq!(out.key, "g/2d1b3c4e-0000-4000-8000-000000000001.json");
        let stored = store.0.lock().unwrap();
        assert_eq!(stored.len(), 1);
        let body: serde_json::Value = serde_json::from_slice(&stored[0].2).unwrap();
        assert_eq!(body["greeting"], "Hello, Ada!");
        assert_eq!(invocation.metrics.render(0)[0]["GreetingsWritten"], 1.0);
    }

    #[test]
    fn names_are_validated() {
        assert!(greeting("")
            .unwrap_err()
            .message
            .contains("1 to 64 characters, got 0"));
        assert!(greeting(&"x".repeat(65)).is_err());
        assert!(greeting("a\nb")
            .unwrap_err()
            .message
            .contains("control character"));
        assert_eq!(greeting("Zoë").unwrap(), "Hello, Zoë!");
    }
}

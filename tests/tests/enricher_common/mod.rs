//! Shared set-up for the pipe-avro-enricher end-to-end tests: the local cloud
//! with a DLQ queue and bucket, schemas in both registries, and the function.

#![allow(dead_code)]

use std::time::Duration;

// Not every test binary uses every fixture.
#[allow(unused_imports)]
pub use e2e_tests::enricher_fixtures::*;
use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::{FunctionProcess, InvocationOutcome};
use e2e_tests::workspace::function_binary;
use serde_json::Value;

pub struct Fixture {
    pub cloud: LocalCloud,
    pub dlq_url: String,
}

pub const DLQ_BUCKET: &str = "enricher-dead-letters";

impl Fixture {
    pub async fn start() -> Fixture {
        let cloud = LocalCloud::start().await.unwrap();
        let dlq_url = cloud.create_queue("enricher-dlq").await;
        cloud
            .s3()
            .await
            .create_bucket()
            .bucket(DLQ_BUCKET)
            .send()
            .await
            .unwrap();
        Fixture { cloud, dlq_url }
    }

    /// The function's environment: DLQ, the emulated Confluent registry
    /// without auth, plus `extra`.
    pub fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = self.cloud.function_env();
        env.push(("DLQ_URL".into(), self.dlq_url.clone()));
        env.push(("DLQ_BUCKET".into(), DLQ_BUCKET.into()));
        if !extra
            .iter()
            .any(|(k, _)| k.starts_with("CONFLUENT_SCHEMA_REGISTRY"))
        {
            env.push((
                "CONFLUENT_SCHEMA_REGISTRY_URL".into(),
                self.cloud.local_aws.url.clone(),
            ));
        }
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    pub async fn function(&self, extra: &[(&str, &str)]) -> FunctionProcess {
        let f = FunctionProcess::spawn(
            &function_binary("pipe-avro-enricher"),
            "pipe-avro-enricher",
            &self.env(extra),
        )
        .await
        .unwrap();
        f.wait_ready(Duration::from_secs(20)).await.unwrap();
        f
    }

    pub async fn register_confluent(&self, subject: &str, schema: &str, id: Option<i64>) -> i64 {
        self.cloud
            .register_confluent(subject, schema, id)
            .await
            .unwrap()
    }

    pub async fn register_glue(&self, name: &str, definition: &str) -> String {
        self.cloud
            .register_glue("PipesExample", name, definition)
            .await
            .unwrap()
    }

    /// Dead letters waiting in the DLQ, as (body, errorKind attribute).
    pub async fn dead_letters(&self) -> Vec<(Value, String)> {
        self.cloud
            .drain_queue(&self.dlq_url)
            .await
            .into_iter()
            .map(|m| {
                let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
                let kind = m
                    .message_attributes()
                    .and_then(|a| a.get("errorKind"))
                    .and_then(|v| v.string_value())
                    .unwrap_or_default()
                    .to_string();
                (body, kind)
            })
            .collect()
    }
}

pub fn success(outcome: InvocationOutcome) -> Vec<Value> {
    match outcome {
        InvocationOutcome::Success(Value::Array(a)) => a,
        other => panic!("expected an array response, got {other:?}"),
    }
}

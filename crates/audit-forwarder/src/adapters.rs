//! The ports on real clients: the Kafka REST endpoint and the schema
//! registry over reqwest (rustls), credentials from Secrets Manager.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::RwLock;
use std::task::{Context, Poll};
use std::time::Duration;

use aws_config::SdkConfig;
use bytes::Bytes;
use common::FunctionError;
use http_body::{Body, Frame};
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::delivery::{KafkaRest, ProduceError, ProduceResponse};
use crate::forward::SchemaRegistry;
use crate::produce::{error_body_text, parse_delivery_reports};

/// Basic-auth credentials. `Debug` never shows the secret.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Reads a secret's string. Neither its value nor parse details that could
/// echo it reach an error.
async fn secret_string(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
) -> Result<String, String> {
    let out = client
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .map_err(|e| {
            format!(
                "reading secret {name:?} failed: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?;
    out.secret_string()
        .map(str::to_string)
        .ok_or_else(|| format!("secret {name:?} has no string value"))
}

/// Reads the Kafka API key secret `{"username", "password"}`.
pub async fn kafka_credentials(
    client: &aws_sdk_secretsmanager::Client,
    name: &str,
) -> Result<Credentials, String> {
    let text = secret_string(client, name).await?;
    let c: Credentials = serde_json::from_str(&text).map_err(|_| {
        format!("secret {name:?} is not {{\"username\": API key, \"password\": API secret}} JSON")
    })?;
    if c.username.is_empty() || c.password.is_empty() {
        return Err(format!("secret {name:?} has an empty username or password"));
    }
    Ok(c)
}

/// The records of one request as a body of unknown length: hyper sends it
/// with `Transfer-Encoding: chunked`, one chunk per record, which is what
/// turns on the API's streaming mode.
struct ConcatenatedRecords(VecDeque<Bytes>);

impl Body for ConcatenatedRecords {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }
}

/// The cluster's produce endpoint for one topic.
pub struct KafkaRestClient {
    http: reqwest::Client,
    url: Url,
    credentials: RwLock<Credentials>,
    secrets: aws_sdk_secretsmanager::Client,
    secret_name: String,
}

impl KafkaRestClient {
    pub fn new(
        endpoint: &str,
        cluster_id: &str,
        topic: &str,
        timeout: Duration,
        credentials: Credentials,
        secrets: aws_sdk_secretsmanager::Client,
        secret_name: &str,
    ) -> Result<Self, String> {
        let mut url =
            Url::parse(endpoint).map_err(|e| format!("KAFKA_REST_ENDPOINT is not a URL: {e}"))?;
        url.path_segments_mut()
            .map_err(|_| "KAFKA_REST_ENDPOINT cannot have a path".to_string())?
            .pop_if_empty()
            .extend([
                "kafka", "v3", "clusters", cluster_id, "topics", topic, "records",
            ]);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(KafkaRestClient {
            http,
            url,
            credentials: RwLock::new(credentials),
            secrets,
            secret_name: secret_name.to_string(),
        })
    }

    fn credentials(&self) -> Credentials {
        self.credentials
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn send(
        &self,
        documents: &[Bytes],
        credentials: &Credentials,
    ) -> Result<ProduceResponse, ProduceError> {
        let body = reqwest::Body::wrap(ConcatenatedRecords(documents.iter().cloned().collect()));
        let response = self
            .http
            .post(self.url.clone())
            .basic_auth(&credentials.username, Some(&credentials.password))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| ProduceError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        let bytes = response.bytes().await;
        if status != StatusCode::OK {
            let text = bytes.map(|b| error_body_text(&b)).unwrap_or_default();
            return Err(ProduceError::Status {
                status: status.as_u16(),
                message: text,
            });
        }
        // A stream cut mid-way still delivered the reports before the cut.
        let (body, cut) = match bytes {
            Ok(b) => (b, None),
            Err(e) => (Bytes::new(), Some(e.without_url().to_string())),
        };
        let (reports, truncated) = parse_delivery_reports(&body);
        Ok(ProduceResponse {
            reports,
            truncated: cut.or(truncated),
        })
    }
}

impl KafkaRest for KafkaRestClient {
    async fn produce(&self, documents: Vec<Bytes>) -> Result<ProduceResponse, ProduceError> {
        let credentials = self.credentials();
        match self.send(&documents, &credentials).await {
            // A rotated API key: read the secret again once, so rotation
            // needs no redeploy.
            Err(refused @ ProduceError::Status { status: 401, .. }) => {
                let fresh = kafka_credentials(&self.secrets, &self.secret_name)
                    .await
                    .map_err(ProduceError::Transport)?;
                if fresh.username == credentials.username && fresh.password == credentials.password
                {
                    return Err(refused);
                }
                tracing::info!("the Kafka API key secret changed; retrying with the new key");
                *self.credentials.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
                self.send(&documents, &fresh).await
            }
            other => other,
        }
    }
}

/// Registry location and credentials: the secret format of the AWS sample.
#[derive(Clone, Deserialize)]
struct RegistrySecret {
    url: String,
    #[serde(rename = "basic.auth.user.info", default)]
    user_info: Option<String>,
}

/// A Confluent schema registry client for register and lookup.
pub struct RegistryClient {
    http: reqwest::Client,
    base: Url,
    auth: Option<(String, String)>,
}

#[derive(Deserialize)]
struct IdResponse {
    id: u32,
}

impl RegistryClient {
    /// From the secret `{"url", "basic.auth.user.info": "KEY:SECRET"}`.
    pub async fn from_secret(
        client: &aws_sdk_secretsmanager::Client,
        name: &str,
        timeout: Duration,
    ) -> Result<Self, String> {
        let text = secret_string(client, name).await?;
        let s: RegistrySecret = serde_json::from_str(&text).map_err(|_| {
            format!(
                "secret {name:?} is not {{\"url\", \"basic.auth.user.info\": \"KEY:SECRET\"}} JSON"
            )
        })?;
        let base = Url::parse(s.url.trim())
            .map_err(|e| format!("secret {name:?}: the registry url is not a URL: {e}"))?;
        let auth = match s.user_info {
            None => None,
            Some(info) => match info.split_once(':') {
                Some((u, p)) => Some((u.to_string(), p.to_string())),
                None => {
                    return Err(format!(
                        "secret {name:?}: basic.auth.user.info must be KEY:SECRET"
                    ))
                }
            },
        };
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(RegistryClient { http, base, auth })
    }

    async fn post(
        &self,
        segments: &[&str],
        schema: &str,
        what: &str,
    ) -> Result<u32, FunctionError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| {
                FunctionError::permanent("RegistryUrl", "the registry url cannot have a path")
            })?
            .pop_if_empty()
            .extend(segments);
        let mut request = self
            .http
            .post(url)
            .header("content-type", "application/vnd.schemaregistry.v1+json")
            .json(&serde_json::json!({ "schema": schema }));
        if let Some((u, p)) = &self.auth {
            request = request.basic_auth(u, Some(p));
        }
        let response = request.send().await.map_err(|e| {
            FunctionError::retryable(
                "SchemaRegistryUnavailable",
                format!("{what}: registry unreachable: {}", e.without_url()),
            )
        })?;
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        if status.is_success() {
            return serde_json::from_slice::<IdResponse>(&body)
                .map(|r| r.id)
                .map_err(|e| {
                    FunctionError::permanent(
                        "SchemaRegistryAnswer",
                        format!("{what}: the registry's answer has no schema id: {e}"),
                    )
                });
        }
        let message = format!(
            "{what}: registry answered {status}: {}",
            error_body_text(&body)
        );
        Err(
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                FunctionError::retryable("SchemaRegistryUnavailable", message)
            } else if status == StatusCode::NOT_FOUND {
                FunctionError::permanent("SchemaNotRegistered", message)
            } else {
                FunctionError::permanent("SchemaRegistryRefused", message)
            },
        )
    }
}

impl SchemaRegistry for RegistryClient {
    async fn register(&self, subject: &str, schema: &str) -> Result<u32, FunctionError> {
        self.post(
            &["subjects", subject, "versions"],
            schema,
            &format!("registering the value schema under {subject:?}"),
        )
        .await
    }

    async fn lookup(&self, subject: &str, schema: &str) -> Result<u32, FunctionError> {
        self.post(
            &["subjects", subject],
            schema,
            &format!("looking up the value schema under {subject:?} (AUTO_REGISTER_SCHEMA=false)"),
        )
        .await
    }
}

/// Builds the Kafka REST client, reading its credentials.
pub async fn kafka_rest(
    config: &crate::config::Config,
    aws: &SdkConfig,
) -> Result<KafkaRestClient, String> {
    let secrets = aws_sdk_secretsmanager::Client::new(aws);
    let credentials = kafka_credentials(&secrets, &config.api_key_secret).await?;
    KafkaRestClient::new(
        &config.endpoint,
        &config.cluster_id,
        &config.topic,
        config.request_timeout,
        credentials,
        secrets,
        &config.api_key_secret,
    )
}

/// Builds the registry client when values are Avro.
pub async fn registry(
    config: &crate::config::Config,
    aws: &SdkConfig,
) -> Result<Option<RegistryClient>, String> {
    match &config.format {
        crate::config::ValueFormat::Json => Ok(None),
        crate::config::ValueFormat::Avro(avro) => {
            let secrets = aws_sdk_secretsmanager::Client::new(aws);
            RegistryClient::from_secret(&secrets, &avro.registry_secret, config.request_timeout)
                .await
                .map(Some)
        }
    }
}

/// The forwarder on the real clients: secrets read, registry client built
/// when values are Avro.
pub async fn forwarder(
    config: crate::config::Config,
    aws: &SdkConfig,
) -> Result<crate::forward::Forwarder<KafkaRestClient, Option<RegistryClient>>, String> {
    let rest = kafka_rest(&config, aws).await?;
    let registry = registry(&config, aws).await?;
    let mut forwarder =
        crate::forward::Forwarder::new(rest, registry, config.format, config.key, config.backoff);
    forwarder.deadline_reserve = config.request_timeout + Duration::from_secs(1);
    Ok(forwarder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_body_has_no_length_so_it_is_sent_chunked_one_record_per_chunk() {
        let mut body = ConcatenatedRecords(
            [
                Bytes::from_static(b"{\"a\":1}"),
                Bytes::from_static(b"{\"b\":2}"),
            ]
            .into(),
        );
        assert_eq!(body.size_hint().exact(), None, "no Content-Length");
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut chunks = Vec::new();
        while let Poll::Ready(Some(Ok(frame))) = Pin::new(&mut body).poll_frame(&mut cx) {
            chunks.push(frame.into_data().unwrap());
        }
        assert_eq!(chunks, ["{\"a\":1}", "{\"b\":2}"]);
        assert!(body.is_end_stream());
    }

    #[test]
    fn credentials_never_print_the_secret() {
        let c = Credentials {
            username: "KEY".into(),
            password: "hunter2".into(),
        };
        let shown = format!("{c:?}");
        assert!(
            shown.contains("KEY") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}

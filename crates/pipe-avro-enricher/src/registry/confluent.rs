//! Confluent Schema Registry client (also Confluent Cloud, Karapace,
//! Redpanda): `GET /schemas/ids/{id}`, `GET /schemas/guids/{guid}`, and
//! `GET /subjects/{subject}/versions/{version}` for references, resolved
//! recursively.

use std::collections::HashSet;
use std::time::Duration;

use common::backoff::Backoff;
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use super::{FetchError, FetchedSchema};
use crate::framing::SchemaRef;

/// References deeper than this are a cycle or abuse.
const MAX_REFERENCE_DEPTH: usize = 32;

/// Where the registry is and how to sign in: the Secrets Manager secret's
/// format of the AWS sample (`{"url": ..., "basic.auth.user.info": "KEY:SECRET"}`),
/// so existing secrets work unchanged.
#[derive(Clone, Deserialize)]
pub struct RegistrySettings {
    pub url: String,
    #[serde(rename = "basic.auth.user.info", default)]
    pub user_info: Option<String>,
}

impl std::fmt::Debug for RegistrySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the credentials.
        f.debug_struct("RegistrySettings")
            .field("url", &self.url)
            .field("user_info", &self.user_info.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl RegistrySettings {
    /// Parses the secret's JSON; errors never echo the secret.
    pub fn from_secret(text: &str) -> Result<Self, String> {
        let s: RegistrySettings = serde_json::from_str(text)
            .map_err(|e| format!("the secret is not {{\"url\": ..., \"basic.auth.user.info\": \"KEY:SECRET\"}} JSON ({})", e.classify_name()))?;
        if let Some(info) = &s.user_info {
            if !info.contains(':') {
                return Err("basic.auth.user.info must be KEY:SECRET".into());
            }
        }
        Ok(s)
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "missing or mistyped field",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

/// A client for one registry.
pub struct ConfluentRegistry {
    http: reqwest::Client,
    base: Url,
    auth: Option<(String, String)>,
    retry: Backoff,
}

#[derive(Deserialize)]
struct SchemaResponse {
    schema: String,
    #[serde(rename = "schemaType", default)]
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<Reference>,
}

#[derive(Deserialize, Clone)]
struct Reference {
    name: String,
    subject: String,
    version: i64,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

impl ConfluentRegistry {
    pub fn new(settings: &RegistrySettings, timeout: Duration) -> Result<Self, String> {
        let mut base = Url::parse(settings.url.trim())
            .map_err(|e| format!("registry url {:?} is not a URL: {e}", settings.url))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(format!(
                "registry url {:?} must be http or https",
                settings.url
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let auth = settings.user_info.as_ref().map(|info| {
            let (user, pass) = info.split_once(':').unwrap_or((info, ""));
            (user.to_string(), pass.to_string())
        });
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(ConfluentRegistry {
            http,
            base,
            auth,
            retry: Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_secs(2),
                max_attempts: 3,
            },
        })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().expect("http(s) URLs have paths");
            path.pop_if_empty();
            for s in segments {
                path.push(s);
            }
        }
        url
    }

    /// One GET with bounded retries on what a retry can fix.
    async fn get(&self, url: Url, what: &str) -> Result<SchemaResponse, FetchError> {
        self.retry
            .retry(
                |_| self.get_once(url.clone(), what),
                |e| matches!(e, FetchError::Unavailable(_)),
            )
            .await
    }

    async fn get_once(&self, mut url: Url, what: &str) -> Result<SchemaResponse, FetchError> {
        // Soft-deleted schemas still decode the records written with them.
        url.query_pairs_mut().append_pair("deleted", "true");
        let mut request = self.http.get(url).header(
            "accept",
            "application/vnd.schemaregistry.v1+json, application/json",
        );
        if let Some((user, pass)) = &self.auth {
            request = request.basic_auth(user, Some(pass));
        }
        let response = request.send().await.map_err(|e| {
            FetchError::Unavailable(format!("{what}: registry unreachable: {}", without_url(&e)))
        })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| {
            FetchError::Unavailable(format!(
                "{what}: reading the registry's answer failed: {}",
                without_url(&e)
            ))
        })?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                FetchError::Invalid(format!(
                    "{what}: the registry's answer is not a schema response: {e}"
                ))
            });
        }
        let detail = serde_json::from_slice::<ErrorBody>(&body)
            .ok()
            .map(|b| {
                format!(
                    "{} {}",
                    b.error_code.unwrap_or_default(),
                    b.message.unwrap_or_default()
                )
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect());
        let message = format!("{what}: registry answered {status}: {}", detail.trim());
        Err(match status {
            StatusCode::NOT_FOUND => FetchError::NotFound(message),
            // Bad credentials are not the record's fault: fail the invocation
            // (and its alarm) instead of dead-lettering every record.
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => FetchError::Unavailable(message),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT => {
                FetchError::Unavailable(message)
            }
            s if s.is_server_error() => FetchError::Unavailable(message),
            _ => FetchError::Invalid(message),
        })
    }

    /// Fetches a schema and, depth first, every schema it references.
    pub async fn fetch(&self, schema: &SchemaRef) -> Result<FetchedSchema, FetchError> {
        let (url, what) = match schema {
            SchemaRef::ConfluentId(id) => (
                self.url(&["schemas", "ids", &id.to_string()]),
                schema.to_string(),
            ),
            SchemaRef::ConfluentGuid(guid) => (
                self.url(&["schemas", "guids", &guid.to_string()]),
                schema.to_string(),
            ),
            SchemaRef::GlueVersion(_) => {
                return Err(FetchError::NotFound(format!(
                    "{schema} is not a Confluent schema"
                )));
            }
        };
        let root = self.get(url, &what).await?;
        check_avro(&root, &what)?;
        let mut references = Vec::new();
        let mut seen = HashSet::new();
        for r in &root.references {
            self.resolve(r, &what, 1, &mut seen, &mut references)
                .await?;
        }
        Ok(FetchedSchema {
            main: root.schema,
            references,
        })
    }

    async fn resolve(
        &self,
        reference: &Reference,
        what: &str,
        depth: usize,
        seen: &mut HashSet<(String, i64)>,
        out: &mut Vec<String>,
    ) -> Result<(), FetchError> {
        if depth > MAX_REFERENCE_DEPTH {
            return Err(FetchError::Invalid(format!(
                "{what}: schema references nest deeper than {MAX_REFERENCE_DEPTH}"
            )));
        }
        if !seen.insert((reference.subject.clone(), reference.version)) {
            return Ok(());
        }
        let label = format!(
            "{what}: reference {} ({} v{})",
            reference.name, reference.subject, reference.version
        );
        let url = self.url(&[
            "subjects",
            &reference.subject,
            "versions",
            &reference.version.to_string(),
        ]);
        let fetched = Box::pin(self.get(url, &label)).await?;
        check_avro(&fetched, &label)?;
        for inner in &fetched.references {
            Box::pin(self.resolve(inner, what, depth + 1, seen, out)).await?;
        }
        out.push(fetched.schema);
        Ok(())
    }
}

fn check_avro(r: &SchemaResponse, what: &str) -> Result<(), FetchError> {
    match r.schema_type.as_deref() {
        None | Some("AVRO") => Ok(()),
        Some(other) => Err(FetchError::Invalid(format!(
            "{what} is a {other} schema; only AVRO is supported"
        ))),
    }
}

/// reqwest's error text includes the URL, which may carry credentials in
/// userinfo; keep only the kind of failure.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "bad response body"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_the_samples_format_parse_and_never_print() {
        let s = RegistrySettings::from_secret(r#"{"url": "https://psrc-1.eu.aws.confluent.cloud", "basic.auth.user.info": "KEY:S3CR3T"}"#).unwrap();
        assert_eq!(s.url, "https://psrc-1.eu.aws.confluent.cloud");
        assert!(!format!("{s:?}").contains("S3CR3T"));
        let e = RegistrySettings::from_secret(r#"{"url": "x", "basic.auth.user.info": "S3CR3T"}"#)
            .unwrap_err();
        assert!(!e.contains("S3CR3T"), "{e}");
        let e = RegistrySettings::from_secret("S3CR3T").unwrap_err();
        assert!(!e.contains("S3CR3T"), "{e}");
    }

    #[test]
    fn urls_keep_a_base_path_and_encode_subjects() {
        let r = ConfluentRegistry::new(
            &RegistrySettings {
                url: "http://127.0.0.1:9/registry".into(),
                user_info: None,
            },
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(
            r.url(&["schemas", "ids", "7"]).as_str(),
            "http://127.0.0.1:9/registry/schemas/ids/7"
        );
        assert_eq!(
            r.url(&["subjects", "a/b c", "versions", "1"]).as_str(),
            "http://127.0.0.1:9/registry/subjects/a%2Fb%20c/versions/1"
        );
        assert!(ConfluentRegistry::new(
            &RegistrySettings {
                url: "ftp://x".into(),
                user_info: None
            },
            Duration::from_secs(1)
        )
        .is_err());
    }
}

//! Confluent Schema Registry REST API (what Confluent Cloud serves and
//! `confluent-kafka`'s `SchemaRegistryClient` speaks), served at the root
//! paths of the emulator: point a client's `url` at the emulator's base URL.
//!
//! Not an AWS service: no SigV4, JSON bodies with media type
//! `application/vnd.schemaregistry.v1+json`, and errors as
//! `{"error_code": 40403, "message": "..."}` with the matching HTTP status.
//! One registry per emulator (not per region), like one Confluent Cloud
//! registry cluster.
//!
//! Modelled: global schema ids from 1, reused when the same schema is
//! registered under another subject; idempotent registration; a GUID per
//! schema (`GET /schemas/guids/{guid}`); per-subject versions; soft delete
//! (ids of soft-deleted schemas still resolve, so old data stays decodable)
//! and permanent delete after a soft one; references, which must exist and
//! may not be deleted while a live schema uses them; structural Avro
//! validation (42201); optional HTTP basic auth (401). "The same schema"
//! compares parsed JSON, so whitespace and key order do not matter; the
//! text is returned as submitted, not in Avro canonical form.
//!
//! Not modelled: compatibility checks (levels are stored, never enforced),
//! modes, contexts, metadata and rule sets (ignored), Protobuf parsing,
//! associations (listing them always finds none).
//!
//! Paths cannot collide with the AWS REST services hosted here: their first
//! segment is always a literal (`schemas`, `subjects`, `config`,
//! `associations`), which AWS
//! REST APIs put behind an API-version or resource prefix (`/2015-03-31/`,
//! `/v1/`, `/environments/`, `/tags/`). S3-style `/{Bucket}` routes would
//! collide, which is one reason S3 stays with moto; a test guards that no
//! built-in service declares a route starting with a label or one of these
//! segments.

mod avro;
mod store;
#[cfg(test)]
mod tests;

use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::{json, Value};

use self::errors::sr_error;
use self::store::{page, Store};
use crate::input::opt_str;
use crate::{AwsError, RequestContext, RestRoute, Service};

/// Media type of every registry response.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

const ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/subjects/{subject}/versions", "RegisterSchema"),
    ("POST", "/subjects/{subject}", "LookupSchema"),
    ("GET", "/subjects", "ListSubjects"),
    ("GET", "/subjects/{subject}/versions", "ListVersions"),
    (
        "GET",
        "/subjects/{subject}/versions/{version}",
        "GetSubjectVersion",
    ),
    ("DELETE", "/subjects/{subject}", "DeleteSubject"),
    (
        "DELETE",
        "/subjects/{subject}/versions/{version}",
        "DeleteSubjectVersion",
    ),
    ("GET", "/schemas/ids/{id}", "GetSchemaById"),
    ("GET", "/schemas/ids/{id}/subjects", "GetSubjectsBySchemaId"),
    ("GET", "/schemas/ids/{id}/versions", "GetVersionsBySchemaId"),
    ("GET", "/schemas/guids/{guid}", "GetSchemaByGuid"),
    ("GET", "/schemas/types", "GetSchemaTypes"),
    ("GET", "/config", "GetConfig"),
    ("PUT", "/config", "UpdateConfig"),
    ("GET", "/config/{subject}", "GetSubjectConfig"),
    ("PUT", "/config/{subject}", "UpdateSubjectConfig"),
    ("DELETE", "/config/{subject}", "DeleteSubjectConfig"),
    // confluent-kafka 2.16's default subject name strategy asks for the
    // topic's associations first and falls back to `<topic>-value`.
    (
        "GET",
        "/associations/resources/{namespace}/{resource}",
        "ListAssociations",
    ),
];

const OPERATIONS: &[&str] = &[
    "RegisterSchema",
    "LookupSchema",
    "ListSubjects",
    "ListVersions",
    "GetSubjectVersion",
    "DeleteSubject",
    "DeleteSubjectVersion",
    "GetSchemaById",
    "GetSubjectsBySchemaId",
    "GetVersionsBySchemaId",
    "GetSchemaByGuid",
    "GetSchemaTypes",
    "GetConfig",
    "UpdateConfig",
    "GetSubjectConfig",
    "UpdateSubjectConfig",
    "DeleteSubjectConfig",
    "ListAssociations",
];

/// The schema registry emulator.
#[derive(Debug, Default)]
pub struct ConfluentSchemaRegistry {
    store: Mutex<Store>,
    /// Expected `Authorization: Basic` token and its username, when on.
    auth: Mutex<Option<(String, String)>>,
}

impl ConfluentSchemaRegistry {
    /// An empty registry with auth off.
    pub fn new() -> Self {
        Self::default()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn auth(&self) -> MutexGuard<'_, Option<(String, String)>> {
        self.auth.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A boolean query flag; the Python client sends both `true` and `True`.
fn flag(ctx: &RequestContext, name: &str) -> bool {
    ctx.query_params
        .get(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn number(ctx: &RequestContext, name: &str, default: i64) -> i64 {
    ctx.query_params
        .get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn paged<T: serde::Serialize>(ctx: &RequestContext, items: Vec<T>) -> Value {
    json!(page(
        items,
        number(ctx, "offset", 0),
        number(ctx, "limit", -1)
    ))
}

impl Service for ConfluentSchemaRegistry {
    fn name(&self) -> &'static str {
        "confluent-schema-registry"
    }

    fn rest_routes(&self) -> Vec<RestRoute> {
        ROUTES
            .iter()
            .map(|&(method, path, op)| RestRoute::new(method, path, op))
            .collect()
    }

    fn operations(&self) -> &'static [&'static str] {
        OPERATIONS
    }

    fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let param = |name| ctx.path_param(name);
        let deleted = flag(ctx, "deleted");
        let mut store = self.store();
        match operation {
            "RegisterSchema" => store.register(param("subject")?, &input),
            "LookupSchema" => store.lookup(param("subject")?, &input, deleted),
            "ListSubjects" => {
                let prefix = ctx
                    .query_params
                    .get("subjectPrefix")
                    .map_or("", String::as_str);
                let subjects = store.list_subjects(prefix, deleted, flag(ctx, "deleted_only"));
                Ok(paged(ctx, subjects))
            }
            "ListVersions" => {
                let versions =
                    store.list_versions(param("subject")?, deleted, flag(ctx, "deleted_only"))?;
                Ok(paged(ctx, versions))
            }
            "GetSubjectVersion" => {
                store.subject_version(param("subject")?, param("version")?, deleted)
            }
            "DeleteSubject" => store.delete_subject(param("subject")?, flag(ctx, "permanent")),
            "DeleteSubjectVersion" => {
                let permanent = flag(ctx, "permanent");
                store.delete_version(param("subject")?, param("version")?, permanent)
            }
            "GetSchemaById" => store.schema_by_id(param("id")?),
            "GetSubjectsBySchemaId" => {
                let usage = store.id_usage(param("id")?, deleted)?;
                let mut subjects: Vec<String> = usage.into_iter().map(|(s, _)| s).collect();
                subjects.dedup();
                Ok(paged(ctx, subjects))
            }
            "GetVersionsBySchemaId" => {
                let usage = store.id_usage(param("id")?, deleted)?;
                let versions: Vec<Value> = usage
                    .into_iter()
                    .map(|(subject, version)| json!({"subject": subject, "version": version}))
                    .collect();
                Ok(paged(ctx, versions))
            }
            "GetSchemaByGuid" => store.schema_by_guid(param("guid")?),
            "GetSchemaTypes" => Ok(json!(["JSON", "PROTOBUF", "AVRO"])),
            "GetConfig" => store.compatibility(None, true),
            "UpdateConfig" => store.set_compatibility(None, &input),
            "GetSubjectConfig" => {
                store.compatibility(Some(param("subject")?), flag(ctx, "defaultToGlobal"))
            }
            "UpdateSubjectConfig" => store.set_compatibility(Some(param("subject")?), &input),
            "DeleteSubjectConfig" => store.delete_compatibility(param("subject")?),
            // No association is ever created here, so lookups find none.
            "ListAssociations" => Ok(json!([])),
            other => Err(AwsError::unknown_operation(format!(
                "unknown operation {other}"
            ))),
        }
    }

    fn reset(&self) {
        *self.store() = Store::default();
        *self.auth() = None;
    }

    /// `{"error_code", "message"}`: registry errors carry their numeric
    /// code; others (faults, malformed bodies) use the HTTP status, as the
    /// real server does for errors without a registry code.
    fn rest_error_body(&self, error: &AwsError) -> Value {
        let code = error.code.parse::<i64>().unwrap_or(i64::from(error.status));
        json!({ "error_code": code, "message": error.message })
    }

    fn rest_content_type(&self) -> &'static str {
        CONTENT_TYPE
    }

    fn authorize(&self, ctx: &RequestContext) -> Result<(), AwsError> {
        let Some((token, _)) = self.auth().clone() else {
            return Ok(());
        };
        if ctx.basic_credentials() == Some(token.as_str()) {
            Ok(())
        } else {
            // Confluent Cloud's answer, body and all.
            Err(sr_error(401, 401, "Unauthorized"))
        }
    }

    /// `auth`: `POST {"username", "password"}` turns basic auth on, `DELETE`
    /// turns it off, `GET` tells whether it is on.
    fn control(&self, method: &str, action: &str, input: Value) -> Result<Value, AwsError> {
        match (method, action) {
            ("POST", "auth") => {
                let username = opt_str(&input, "username")?.unwrap_or_default();
                let password = opt_str(&input, "password")?;
                let (false, Some(password)) = (username.is_empty(), password) else {
                    return Err(AwsError::validation("auth needs a username and a password"));
                };
                let token = base64(format!("{username}:{password}").as_bytes());
                *self.auth() = Some((token, username.to_owned()));
                Ok(json!({ "enabled": true, "username": username }))
            }
            ("DELETE", "auth") => {
                *self.auth() = None;
                Ok(json!({ "enabled": false }))
            }
            ("GET", "auth") => Ok(match &*self.auth() {
                Some((_, username)) => json!({ "enabled": true, "username": username }),
                None => json!({ "enabled": false }),
            }),
            _ => Err(AwsError::new(
                "NotFound",
                404,
                format!("{} has no control action {method} {action:?}", self.name()),
            )),
        }
    }
}

/// Standard base64 with padding, as HTTP basic auth encodes credentials.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The registry's error codes (`Errors.java` in confluentinc/schema-registry).
mod errors {
    use std::fmt::Display;

    use crate::AwsError;

    /// An error whose code is the registry's numeric `error_code`.
    pub(super) fn sr_error(code: u32, status: u16, message: impl Into<String>) -> AwsError {
        AwsError::new(code.to_string(), status, message)
    }

    pub(super) fn subject_not_found(subject: &str) -> AwsError {
        sr_error(40401, 404, format!("Subject '{subject}' not found."))
    }

    pub(super) fn version_not_found(version: impl Display) -> AwsError {
        sr_error(40402, 404, format!("Version {version} not found."))
    }

    pub(super) fn schema_not_found(id: impl Display) -> AwsError {
        sr_error(40403, 404, format!("Schema {id} not found"))
    }

    pub(super) fn invalid_schema(message: impl Into<String>) -> AwsError {
        sr_error(42201, 422, message)
    }

    pub(super) fn invalid_version(version: &str) -> AwsError {
        sr_error(
            42202,
            422,
            format!(
                "The specified version '{version}' is not a valid version id. Allowed values are \
                 between [1, 2^31-1] and the string \"latest\""
            ),
        )
    }
}

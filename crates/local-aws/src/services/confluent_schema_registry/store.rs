//! The registry's state and the semantics of its operations: global schema
//! ids shared across subjects, per-subject versions, soft and hard deletes,
//! references, compatibility settings.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Map, Value};

use super::avro;
use super::errors::{
    invalid_schema, invalid_version, schema_not_found, sr_error, subject_not_found,
    version_not_found,
};
use crate::input::{opt_array, opt_i64, opt_str};
use crate::AwsError;

/// Compatibility levels `PUT /config` accepts. They are stored and reported
/// but not enforced: registration never fails with 409.
const COMPATIBILITY_LEVELS: [&str; 7] = [
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
];

#[derive(Debug, Default)]
pub(super) struct Store {
    /// Every schema ever registered; its id is its index + 1.
    schemas: Vec<StoredSchema>,
    /// Versions per subject, in registration order; sorted for listing.
    subjects: BTreeMap<String, Vec<Version>>,
    global_compatibility: Option<String>,
    subject_compatibility: HashMap<String, String>,
}

#[derive(Debug)]
struct StoredSchema {
    id: i64,
    guid: String,
    schema_type: String,
    /// Returned verbatim, as submitted.
    text: String,
    /// What "the same schema" compares: the parsed JSON (insensitive to
    /// whitespace and key order) or, for Protobuf, the trimmed text.
    canonical: Value,
    references: Vec<Reference>,
    /// Avro full names the schema defines, for schemas referencing it.
    names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    name: String,
    subject: String,
    version: i64,
}

#[derive(Debug, Clone, Copy)]
struct Version {
    version: i64,
    id: i64,
    deleted: bool,
}

/// A schema from a request body, validated.
struct Candidate {
    schema_type: String,
    text: String,
    canonical: Value,
    references: Vec<Reference>,
    names: Vec<String>,
}

impl StoredSchema {
    fn matches(&self, c: &Candidate) -> bool {
        self.schema_type == c.schema_type
            && self.canonical == c.canonical
            && self.references == c.references
    }

    /// `schemaType` (omitted for AVRO), `schema` and non-empty `references`.
    fn body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        if self.schema_type != "AVRO" {
            body.insert("schemaType".into(), json!(self.schema_type));
        }
        body.insert("schema".into(), json!(self.text));
        if !self.references.is_empty() {
            let refs: Vec<Value> = self
                .references
                .iter()
                .map(|r| json!({"name": r.name, "subject": r.subject, "version": r.version}))
                .collect();
            body.insert("references".into(), Value::Array(refs));
        }
        body
    }
}

/// Which versions a read sees: live ones, or soft-deleted ones too.
fn visible(v: &Version, deleted: bool) -> bool {
    deleted || !v.deleted
}

/// Bounds a listing by the `offset`/`limit` query parameters (`-1`: all).
pub(super) fn page<T>(items: Vec<T>, offset: i64, limit: i64) -> Vec<T> {
    let skip = usize::try_from(offset).unwrap_or(0);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    items.into_iter().skip(skip).take(take).collect()
}

impl Store {
    fn schema(&self, id: i64) -> &StoredSchema {
        self.schemas
            .iter()
            .find(|s| s.id == id)
            .expect("versions only name stored schema ids")
    }

    fn response(&self, subject: &str, v: Version) -> Value {
        let schema = self.schema(v.id);
        let mut out = Map::new();
        out.insert("subject".into(), json!(subject));
        out.insert("version".into(), json!(v.version));
        out.insert("id".into(), json!(v.id));
        out.insert("guid".into(), json!(schema.guid));
        out.extend(schema.body());
        Value::Object(out)
    }

    /// The subject's versions a read sees; 40401 if there are none.
    fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<Version>, AwsError> {
        let versions: Vec<Version> = self
            .subjects
            .get(subject)
            .into_iter()
            .flatten()
            .filter(|v| visible(v, deleted))
            .copied()
            .collect();
        if versions.is_empty() {
            return Err(subject_not_found(subject));
        }
        Ok(versions)
    }

    /// Resolves `latest`/`-1` or a version number among `versions`.
    fn find_version(versions: &[Version], version: &str) -> Result<Version, AwsError> {
        if version == "latest" || version == "-1" {
            return versions
                .iter()
                .max_by_key(|v| v.version)
                .copied()
                .ok_or_else(|| version_not_found(version));
        }
        let number = version
            .parse::<i32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| invalid_version(version))?;
        versions
            .iter()
            .find(|v| v.version == i64::from(number))
            .copied()
            .ok_or_else(|| version_not_found(version))
    }

    fn candidate(&self, input: &Value) -> Result<Candidate, AwsError> {
        let text = opt_str(input, "schema")?
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| invalid_schema("Empty schema"))?;
        let schema_type = opt_str(input, "schemaType")?.unwrap_or("AVRO");
        let mut references = Vec::new();
        for r in opt_array(input, "references")?.into_iter().flatten() {
            let field = |key| opt_str(r, key).map(|s| s.unwrap_or_default().to_owned());
            let reference = Reference {
                name: field("name")?,
                subject: field("subject")?,
                version: opt_i64(r, "version")?.unwrap_or(0),
            };
            if reference.name.is_empty() || reference.subject.is_empty() {
                return Err(invalid_schema("a reference needs a name and a subject"));
            }
            references.push(reference);
        }
        let known = self.referenced_names(&references)?;
        let (canonical, names) = match schema_type {
            "AVRO" => {
                let parsed: Value = serde_json::from_str(text)
                    .map_err(|e| invalid_schema(format!("Invalid schema of type AVRO: {e}")))?;
                let names = avro::validate(&parsed, &known)
                    .map_err(|e| invalid_schema(format!("Invalid schema of type AVRO: {e}")))?;
                (parsed, names)
            }
            "JSON" => match serde_json::from_str::<Value>(text) {
                Ok(parsed @ (Value::Object(_) | Value::Bool(_))) => (parsed, Vec::new()),
                Ok(_) => return Err(invalid_schema("a JSON schema is an object or a boolean")),
                Err(e) => return Err(invalid_schema(format!("Invalid schema of type JSON: {e}"))),
            },
            // Not parsed: the emulator knows no Protobuf grammar.
            "PROTOBUF" => (json!(text.trim()), Vec::new()),
            other => return Err(invalid_schema(format!("Invalid schema type {other}"))),
        };
        Ok(Candidate {
            schema_type: schema_type.to_owned(),
            text: text.to_owned(),
            canonical,
            references,
            names,
        })
    }

    /// Avro names defined by the referenced schemas and, transitively, by
    /// theirs; 42201 if a reference points at nothing.
    fn referenced_names(&self, references: &[Reference]) -> Result<HashSet<String>, AwsError> {
        let mut ids = Vec::new();
        for r in references {
            let version = self.resolve(r).ok_or_else(|| {
                invalid_schema(format!(
                    "Invalid reference {}: subject {} version {} not found",
                    r.name, r.subject, r.version
                ))
            })?;
            ids.push(version.id);
        }
        let mut names = HashSet::new();
        let mut seen = HashSet::new();
        while let Some(id) = ids.pop() {
            if seen.insert(id) {
                let schema = self.schema(id);
                names.extend(schema.names.iter().cloned());
                ids.extend(
                    schema
                        .references
                        .iter()
                        .filter_map(|r| self.resolve(r))
                        .map(|v| v.id),
                );
            }
        }
        Ok(names)
    }

    /// The version a reference points at, soft-deleted or not (`-1`: latest).
    fn resolve(&self, r: &Reference) -> Option<Version> {
        let versions = self.versions(&r.subject, true).ok()?;
        Self::find_version(&versions, &r.version.to_string()).ok()
    }

    pub(super) fn register(&mut self, subject: &str, input: &Value) -> Result<Value, AwsError> {
        let candidate = self.candidate(input)?;
        let existing = self.subjects.get(subject).and_then(|versions| {
            versions
                .iter()
                .filter(|v| !v.deleted)
                .find(|v| self.schema(v.id).matches(&candidate))
                .copied()
        });
        let version = match existing {
            Some(v) => v,
            None => {
                // The same schema under another subject keeps its global id.
                // An explicit "id" is what the real registry accepts in IMPORT
                // mode (migrations); tests use it to serve golden vectors
                // under their original ids.
                let requested = input.get("id").and_then(Value::as_i64);
                let id = match (self.schemas.iter().find(|s| s.matches(&candidate)), requested) {
                    (Some(s), Some(r)) if s.id != r => {
                        return Err(sr_error(
                            42205,
                            422,
                            format!("Overwrite new schema with id {r} is not permitted: it is registered as id {}", s.id),
                        ))
                    }
                    (Some(s), _) => s.id,
                    (None, Some(r)) if r < 1 || self.schemas.iter().any(|s| s.id == r) => {
                        return Err(sr_error(42205, 422, format!("Overwrite new schema with id {r} is not permitted")))
                    }
                    (None, requested) => self.insert(candidate, requested),
                };
                let versions = self.subjects.entry(subject.to_owned()).or_default();
                let number = versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
                let v = Version {
                    version: number,
                    id,
                    deleted: false,
                };
                versions.push(v);
                v
            }
        };
        let schema = self.schema(version.id);
        let mut out = Map::new();
        out.insert("id".into(), json!(version.id));
        out.insert("version".into(), json!(version.version));
        out.insert("guid".into(), json!(schema.guid));
        out.extend(schema.body());
        Ok(Value::Object(out))
    }

    fn insert(&mut self, c: Candidate, requested: Option<i64>) -> i64 {
        let id =
            requested.unwrap_or_else(|| self.schemas.iter().map(|s| s.id).max().unwrap_or(0) + 1);
        self.schemas.push(StoredSchema {
            id,
            guid: uuid::Uuid::new_v4().to_string(),
            schema_type: c.schema_type,
            text: c.text,
            canonical: c.canonical,
            references: c.references,
            names: c.names,
        });
        id
    }

    pub(super) fn lookup(
        &self,
        subject: &str,
        input: &Value,
        deleted: bool,
    ) -> Result<Value, AwsError> {
        let versions = self.versions(subject, deleted)?;
        let candidate = self.candidate(input)?;
        versions
            .iter()
            .rev()
            .find(|v| self.schema(v.id).matches(&candidate))
            .map(|v| self.response(subject, *v))
            .ok_or_else(|| sr_error(40403, 404, "Schema not found"))
    }

    /// Subject versions holding schema `id`, soft-deleted ones included.
    fn holders(&self, id: i64) -> impl Iterator<Item = (&String, &Version)> {
        self.subjects
            .iter()
            .flat_map(|(s, vs)| vs.iter().map(move |v| (s, v)))
            .filter(move |(_, v)| v.id == id)
    }

    /// A schema resolves by id while any version holds it, soft-deleted or
    /// not: soft deletion keeps old data decodable.
    fn held_schema(&self, id: &str) -> Result<&StoredSchema, AwsError> {
        // The real server binds ids as integers; anything else is no route.
        let id: i64 = id
            .parse::<i32>()
            .map_err(|_| sr_error(404, 404, "HTTP 404 Not Found"))?
            .into();
        if id < 1 || self.holders(id).next().is_none() {
            return Err(schema_not_found(id));
        }
        Ok(self.schema(id))
    }

    pub(super) fn schema_by_id(&self, id: &str) -> Result<Value, AwsError> {
        let schema = self.held_schema(id)?;
        let mut out = schema.body();
        out.insert("guid".into(), json!(schema.guid));
        Ok(Value::Object(out))
    }

    pub(super) fn schema_by_guid(&self, guid: &str) -> Result<Value, AwsError> {
        let schema = self
            .schemas
            .iter()
            .find(|s| s.guid.eq_ignore_ascii_case(guid) && self.holders(s.id).next().is_some())
            .ok_or_else(|| schema_not_found(guid))?;
        let mut out = schema.body();
        out.insert("guid".into(), json!(schema.guid));
        Ok(Value::Object(out))
    }

    /// `(subject, version)` pairs holding schema `id`.
    pub(super) fn id_usage(&self, id: &str, deleted: bool) -> Result<Vec<(String, i64)>, AwsError> {
        let id = self.held_schema(id)?.id;
        Ok(self
            .holders(id)
            .filter(|(_, v)| visible(v, deleted))
            .map(|(s, v)| (s.clone(), v.version))
            .collect())
    }

    pub(super) fn list_subjects(
        &self,
        prefix: &str,
        deleted: bool,
        deleted_only: bool,
    ) -> Vec<String> {
        self.subjects
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .filter(|(_, vs)| {
                let live = vs.iter().any(|v| !v.deleted);
                if deleted_only {
                    !live
                } else {
                    live || deleted
                }
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    pub(super) fn list_versions(
        &self,
        subject: &str,
        deleted: bool,
        deleted_only: bool,
    ) -> Result<Vec<i64>, AwsError> {
        let versions = self.versions(subject, deleted || deleted_only)?;
        Ok(versions
            .iter()
            .filter(|v| !deleted_only || v.deleted)
            .map(|v| v.version)
            .collect())
    }

    pub(super) fn subject_version(
        &self,
        subject: &str,
        version: &str,
        deleted: bool,
    ) -> Result<Value, AwsError> {
        let versions = self.versions(subject, deleted)?;
        let v = Self::find_version(&versions, version)?;
        Ok(self.response(subject, v))
    }

    /// 42206 if a live version anywhere references `subject` at a version
    /// in `doomed`: deleting it would break that schema.
    fn check_unreferenced(&self, subject: &str, doomed: &[i64]) -> Result<(), AwsError> {
        let referenced = self
            .subjects
            .values()
            .flatten()
            .filter(|v| !v.deleted)
            .any(|v| {
                self.schema(v.id)
                    .references
                    .iter()
                    .any(|r| r.subject == subject && doomed.contains(&r.version))
            });
        if referenced {
            return Err(sr_error(
                42206,
                422,
                format!("One or more references exist to the schema {{subject={subject}, versions={doomed:?}}}."),
            ));
        }
        Ok(())
    }

    pub(super) fn delete_subject(
        &mut self,
        subject: &str,
        permanent: bool,
    ) -> Result<Value, AwsError> {
        let versions = self.versions(subject, true)?;
        let live: Vec<i64> = versions
            .iter()
            .filter(|v| !v.deleted)
            .map(|v| v.version)
            .collect();
        if permanent {
            if !live.is_empty() {
                return Err(sr_error(
                    40405,
                    404,
                    format!("Subject '{subject}' was not deleted first before being permanently deleted"),
                ));
            }
            self.subjects.remove(subject);
            self.subject_compatibility.remove(subject);
            return Ok(json!(versions
                .iter()
                .map(|v| v.version)
                .collect::<Vec<_>>()));
        }
        if live.is_empty() {
            return Err(sr_error(
                40404,
                404,
                format!(
                    "Subject '{subject}' was soft deleted.Set permanent=true to delete permanently"
                ),
            ));
        }
        self.check_unreferenced(subject, &live)?;
        for v in self.subjects.get_mut(subject).into_iter().flatten() {
            v.deleted = true;
        }
        Ok(json!(live))
    }

    pub(super) fn delete_version(
        &mut self,
        subject: &str,
        version: &str,
        permanent: bool,
    ) -> Result<Value, AwsError> {
        // A soft delete of `latest` means the latest live version.
        let latest = version == "latest" || version == "-1";
        let pool = self.versions(subject, permanent || !latest)?;
        let target = Self::find_version(&pool, version)?;
        match (permanent, target.deleted) {
            (true, false) => {
                return Err(sr_error(
                    40407,
                    404,
                    format!("Subject '{subject}' Version {} was not deleted first before being permanently deleted", target.version),
                ))
            }
            (false, true) => {
                return Err(sr_error(
                    40406,
                    404,
                    format!("Subject '{subject}' Version {} was soft deleted.Set permanent=true to delete permanently", target.version),
                ))
            }
            _ => {}
        }
        let versions = self.subjects.get_mut(subject).expect("subject exists");
        if permanent {
            versions.retain(|v| v.version != target.version);
            if versions.is_empty() {
                self.subjects.remove(subject);
                self.subject_compatibility.remove(subject);
            }
        } else {
            self.check_unreferenced(subject, &[target.version])?;
            let versions = self.subjects.get_mut(subject).expect("subject exists");
            if let Some(v) = versions.iter_mut().find(|v| v.version == target.version) {
                v.deleted = true;
            }
        }
        Ok(json!(target.version))
    }

    /// `GET /config` (`subject` `None`) or `GET /config/{subject}`.
    pub(super) fn compatibility(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<Value, AwsError> {
        let global = self.global_compatibility.as_deref().unwrap_or("BACKWARD");
        let level = match subject {
            None => global,
            Some(s) => match self.subject_compatibility.get(s) {
                Some(level) => level.as_str(),
                None if default_to_global => global,
                None => return Err(no_subject_compatibility(s)),
            },
        };
        Ok(json!({ "compatibilityLevel": level }))
    }

    pub(super) fn set_compatibility(
        &mut self,
        subject: Option<&str>,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let level = opt_str(input, "compatibility")?
            .map(str::to_ascii_uppercase)
            .filter(|l| COMPATIBILITY_LEVELS.contains(&l.as_str()))
            .ok_or_else(|| {
                sr_error(
                    42203,
                    422,
                    "Invalid compatibility level. Valid values are none, backward, forward, full, \
                     backward_transitive, forward_transitive, and full_transitive",
                )
            })?;
        match subject {
            None => self.global_compatibility = Some(level.clone()),
            Some(s) => {
                self.subject_compatibility
                    .insert(s.to_owned(), level.clone());
            }
        }
        Ok(json!({ "compatibility": level }))
    }

    pub(super) fn delete_compatibility(&mut self, subject: &str) -> Result<Value, AwsError> {
        let level = self
            .subject_compatibility
            .remove(subject)
            .ok_or_else(|| no_subject_compatibility(subject))?;
        Ok(json!({ "compatibilityLevel": level }))
    }
}

fn no_subject_compatibility(subject: &str) -> AwsError {
    sr_error(
        40408,
        404,
        format!("Subject '{subject}' does not have subject-level compatibility configured"),
    )
}

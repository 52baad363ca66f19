//! The two Athena tables, as Arrow record batches and snappy Parquet files.
//!
//! `sbom`: one row per distinct package of an image. `cve`: one row per
//! distinct (package, packageversion, cve) of an image. Column names are
//! lower-case (Glue lower-cases them) and the blog's query
//! `select package, packageversion, cve, sha, imagearn from sbom left join cve
//! using (sha, package, packageversion) where cve is not null` must run
//! unchanged, so `imagearn` exists in `sbom` only and `cve` in `cve` only.

use std::collections::hash_map::{Entry, HashMap};
use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use arrow_array::builder::{ArrayBuilder, Float64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::sbom::{Package, Sbom};

/// Joins the locations of a package found at several paths in `sourceinfo`.
pub const SOURCE_SEPARATOR: &str = "; ";

/// What the tables say about the image, from the export key and the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageContext {
    pub image_arn: String,
    pub account_id: String,
    pub region: String,
    pub repository: String,
    /// `sha256:<hex>`: the manifest digest ECR and Inspector name images by.
    pub sha: String,
    pub report_id: String,
    /// When the SBOM was exported (µs since the epoch, UTC).
    pub exported_at_micros: i64,
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The `sbom` table's columns.
pub static SBOM_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let s = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        s("imagearn", false),
        s("accountid", false),
        s("region", false),
        s("repository", false),
        s("sha", false),
        s("os", true),
        s("package", false),
        s("packageversion", true),
        s("purl", true),
        s("packagetype", true),
        s("sourceinfo", true),
        s("reportid", false),
        s("sbomformat", false),
        Field::new("exportedat", utc_micros(), false),
    ]))
});

/// The `cve` table's columns.
pub static CVE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let s = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        s("accountid", false),
        s("sha", false),
        s("package", false),
        s("packageversion", true),
        s("cve", false),
        s("severity", true),
        Field::new("score", DataType::Float64, true),
        s("reportid", false),
        Field::new("exportedat", utc_micros(), false),
    ]))
});

/// Both tables of one image.
#[derive(Debug, Clone)]
pub struct Tables {
    pub sbom: RecordBatch,
    pub cve: RecordBatch,
}

impl Tables {
    /// Builds the rows in document order (so the same SBOM always gives the
    /// same file): one `sbom` row per (package, version), first occurrence's
    /// purl and type, every location in `sourceinfo`; one `cve` row per
    /// (package, version, cve), first occurrence's rating.
    pub fn build(sbom: &Sbom<'_>, image: &ImageContext) -> Tables {
        // One row per (package, version): the join key of the blog's query,
        // so a package found at several paths cannot fan the join out. The
        // other places it was found are kept in `sourceinfo`.
        let mut row_of: HashMap<(&str, Option<&str>), usize> =
            HashMap::with_capacity(sbom.packages.len());
        let mut rows: Vec<(&Package<'_>, Vec<&str>)> = Vec::with_capacity(sbom.packages.len());
        for p in &sbom.packages {
            match row_of.entry((p.name.as_ref(), p.version.as_deref())) {
                Entry::Occupied(e) => {
                    let sources = &mut rows[*e.get()].1;
                    if let Some(s) = p.source_info.as_deref() {
                        if !sources.contains(&s) {
                            sources.push(s);
                        }
                    }
                }
                Entry::Vacant(e) => {
                    e.insert(rows.len());
                    rows.push((p, p.source_info.as_deref().into_iter().collect()));
                }
            }
        }
        let mut names = StringBuilder::new();
        let mut versions = StringBuilder::new();
        let mut purls = StringBuilder::new();
        let mut types = StringBuilder::new();
        let mut sources = StringBuilder::new();
        for (p, found_at) in &rows {
            names.append_value(&p.name);
            versions.append_option(p.version.as_deref());
            purls.append_option(p.purl.as_deref());
            types.append_option(p.package_type.as_deref());
            match found_at.as_slice() {
                [] => sources.append_null(),
                [one] => sources.append_value(one),
                many => sources.append_value(many.join(SOURCE_SEPARATOR)),
            }
        }
        let rows = names.len();
        let constant = |v: &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, rows)))
        };
        let exported = |n: usize| -> ArrayRef {
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(std::iter::repeat_n(
                    image.exported_at_micros,
                    n,
                ))
                .with_timezone("UTC"),
            )
        };
        let os: ArrayRef = Arc::new(StringArray::from_iter(std::iter::repeat_n(
            sbom.os.as_deref(),
            rows,
        )));
        let sbom_batch = RecordBatch::try_new(
            SBOM_SCHEMA.clone(),
            vec![
                constant(&image.image_arn),
                constant(&image.account_id),
                constant(&image.region),
                constant(&image.repository),
                constant(&image.sha),
                os,
                Arc::new(names.finish()),
                Arc::new(versions.finish()),
                Arc::new(purls.finish()),
                Arc::new(types.finish()),
                Arc::new(sources.finish()),
                constant(&image.report_id),
                constant(sbom.format.as_str()),
                exported(rows),
            ],
        )
        .expect("columns match the sbom schema");

        let mut seen = HashSet::with_capacity(sbom.findings.len());
        let mut packages = StringBuilder::new();
        let mut versions = StringBuilder::new();
        let mut ids = StringBuilder::new();
        let mut severities = StringBuilder::new();
        let mut scores = Float64Builder::new();
        for f in &sbom.findings {
            let p = &sbom.packages[f.package];
            if !seen.insert((p.name.as_ref(), p.version.as_deref(), f.id.as_ref())) {
                continue;
            }
            packages.append_value(&p.name);
            versions.append_option(p.version.as_deref());
            ids.append_value(&f.id);
            severities.append_option(f.severity.as_deref());
            scores.append_option(f.score);
        }
        let rows = packages.len();
        let constant = |v: &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(v, rows)))
        };
        let cve_batch = RecordBatch::try_new(
            CVE_SCHEMA.clone(),
            vec![
                constant(&image.account_id),
                constant(&image.sha),
                Arc::new(packages.finish()),
                Arc::new(versions.finish()),
                Arc::new(ids.finish()),
                Arc::new(severities.finish()),
                Arc::new(scores.finish()),
                constant(&image.report_id),
                exported(rows),
            ],
        )
        .expect("columns match the cve schema");
        Tables {
            sbom: sbom_batch,
            cve: cve_batch,
        }
    }
}

/// One snappy-compressed Parquet file holding `batch` (a valid file with
/// the schema and zero rows when the batch is empty).
pub fn to_parquet(batch: &RecordBatch) -> Result<Vec<u8>, parquet::errors::ParquetError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(concat!("sbom-transformer ", env!("CARGO_PKG_VERSION")).to_string())
        .build();
    let mut out = Vec::with_capacity(batch.get_array_memory_size() / 2 + 1024);
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props))?;
    if batch.num_rows() > 0 {
        writer.write(batch)?;
    }
    writer.close()?;
    Ok(out)
}

/// Deterministic object keys per image, so a re-export of the same image
/// overwrites its rows instead of adding a second copy. `sbom` is keyed by
/// image (account, region, repository, digest); `cve` by account and digest,
/// since its rows depend only on the image's content.
pub fn object_keys(
    account_id: &str,
    region: &str,
    repository_in_key: &str,
    digest_hex: &str,
) -> (String, String) {
    (
        format!("sbom/{account_id}/{region}/{repository_in_key}/{digest_hex}.parquet"),
        format!("cve/{account_id}/{digest_hex}.parquet"),
    )
}

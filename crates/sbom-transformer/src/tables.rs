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

use arrow_array::builder::{Float64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::sbom::{Finding, Package, Sbom};

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

/// Rows per Arrow batch: constant columns (image ARN, digest, ...) are
/// materialised per batch only, so memory stays proportional to the SBOM,
/// not to rows × image-level text.
pub const BATCH_ROWS: usize = 8192;

/// Both Parquet files of one image.
#[derive(Debug, Clone)]
pub struct TableFiles {
    pub sbom: Vec<u8>,
    pub cve: Vec<u8>,
    pub sbom_rows: usize,
    pub cve_rows: usize,
}

/// One `sbom` row: a package, and where else it was found.
struct PackageRow<'s, 'a> {
    package: &'s Package<'a>,
    first_source: Option<&'s str>,
    more_sources: Vec<&'s str>,
}

/// Writes both tables, rows in document order (so the same SBOM always gives
/// the same files): one `sbom` row per (package, version), the first
/// occurrence's purl and type, every location in `sourceinfo`; one `cve` row
/// per (package, version, cve), the first occurrence's rating.
pub fn write_tables(sbom: &Sbom<'_>, image: &ImageContext) -> Result<TableFiles, ParquetError> {
    // One row per (package, version): the join key of the blog's query, so a
    // package found at several paths cannot fan the join out.
    let mut row_of: HashMap<(&str, Option<&str>), usize> =
        HashMap::with_capacity(sbom.packages.len());
    let mut rows: Vec<PackageRow<'_, '_>> = Vec::with_capacity(sbom.packages.len());
    for p in &sbom.packages {
        match row_of.entry((p.name.as_ref(), p.version.as_deref())) {
            Entry::Occupied(e) => {
                let row = &mut rows[*e.get()];
                if let Some(s) = p.source_info.as_deref() {
                    if row.first_source.is_none() {
                        row.first_source = Some(s);
                    } else if row.first_source != Some(s) && !row.more_sources.contains(&s) {
                        row.more_sources.push(s);
                    }
                }
            }
            Entry::Vacant(e) => {
                e.insert(rows.len());
                rows.push(PackageRow {
                    package: p,
                    first_source: p.source_info.as_deref(),
                    more_sources: Vec::new(),
                });
            }
        }
    }
    drop(row_of);
    let mut writer =
        ArrowWriter::try_new(Vec::new(), SBOM_SCHEMA.clone(), Some(writer_properties()))?;
    for chunk in rows.chunks(BATCH_ROWS) {
        writer.write(&sbom_batch(chunk, sbom, image))?;
    }
    let sbom_file = writer.into_inner()?;
    let sbom_rows = rows.len();
    drop(rows);

    let mut seen = HashSet::with_capacity(sbom.findings.len());
    let findings: Vec<&Finding<'_>> = sbom
        .findings
        .iter()
        .filter(|f| {
            let p = &sbom.packages[f.package];
            seen.insert((p.name.as_ref(), p.version.as_deref(), f.id.as_ref()))
        })
        .collect();
    drop(seen);
    let mut writer =
        ArrowWriter::try_new(Vec::new(), CVE_SCHEMA.clone(), Some(writer_properties()))?;
    for chunk in findings.chunks(BATCH_ROWS) {
        writer.write(&cve_batch(chunk, sbom, image))?;
    }
    Ok(TableFiles {
        sbom: sbom_file,
        cve: writer.into_inner()?,
        sbom_rows,
        cve_rows: findings.len(),
    })
}

fn constant(value: &str, rows: usize) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
        value, rows,
    )))
}

fn exported(image: &ImageContext, rows: usize) -> ArrayRef {
    Arc::new(
        TimestampMicrosecondArray::from_iter_values(std::iter::repeat_n(
            image.exported_at_micros,
            rows,
        ))
        .with_timezone("UTC"),
    )
}

fn sbom_batch(rows: &[PackageRow<'_, '_>], sbom: &Sbom<'_>, image: &ImageContext) -> RecordBatch {
    let n = rows.len();
    let mut names = StringBuilder::new();
    let mut versions = StringBuilder::new();
    let mut purls = StringBuilder::new();
    let mut types = StringBuilder::new();
    let mut sources = StringBuilder::new();
    for row in rows {
        let p = row.package;
        names.append_value(&p.name);
        versions.append_option(p.version.as_deref());
        purls.append_option(p.purl.as_deref());
        types.append_option(p.package_type.as_deref());
        match (row.first_source, row.more_sources.is_empty()) {
            (None, _) => sources.append_null(),
            (Some(one), true) => sources.append_value(one),
            (Some(first), false) => {
                let mut all = vec![first];
                all.extend(&row.more_sources);
                sources.append_value(all.join(SOURCE_SEPARATOR));
            }
        }
    }
    let os: ArrayRef = Arc::new(StringArray::from_iter(std::iter::repeat_n(
        sbom.os.as_deref(),
        n,
    )));
    RecordBatch::try_new(
        SBOM_SCHEMA.clone(),
        vec![
            constant(&image.image_arn, n),
            constant(&image.account_id, n),
            constant(&image.region, n),
            constant(&image.repository, n),
            constant(&image.sha, n),
            os,
            Arc::new(names.finish()),
            Arc::new(versions.finish()),
            Arc::new(purls.finish()),
            Arc::new(types.finish()),
            Arc::new(sources.finish()),
            constant(&image.report_id, n),
            constant(sbom.format.as_str(), n),
            exported(image, n),
        ],
    )
    .expect("columns match the sbom schema")
}

fn cve_batch(findings: &[&Finding<'_>], sbom: &Sbom<'_>, image: &ImageContext) -> RecordBatch {
    let n = findings.len();
    let mut packages = StringBuilder::new();
    let mut versions = StringBuilder::new();
    let mut ids = StringBuilder::new();
    let mut severities = StringBuilder::new();
    let mut scores = Float64Builder::new();
    for f in findings {
        let p = &sbom.packages[f.package];
        packages.append_value(&p.name);
        versions.append_option(p.version.as_deref());
        ids.append_value(&f.id);
        severities.append_option(f.severity.as_deref());
        scores.append_option(f.score);
    }
    RecordBatch::try_new(
        CVE_SCHEMA.clone(),
        vec![
            constant(&image.account_id, n),
            constant(&image.sha, n),
            Arc::new(packages.finish()),
            Arc::new(versions.finish()),
            Arc::new(ids.finish()),
            Arc::new(severities.finish()),
            Arc::new(scores.finish()),
            constant(&image.report_id, n),
            exported(image, n),
        ],
    )
    .expect("columns match the cve schema")
}

/// Snappy; statistics per column chunk (what Athena prunes with); no
/// dictionary for the columns that are nearly unique per row, where building
/// one costs time and then falls back to plain encoding anyway.
fn writer_properties() -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for column in ["package", "purl", "sourceinfo"] {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(column), false);
    }
    builder
        .set_created_by(concat!("sbom-transformer ", env!("CARGO_PKG_VERSION")).to_string())
        .build()
}

/// Deterministic object keys per image, so a re-export of the same image
/// overwrites its rows instead of adding a second copy. `sbom` is keyed by
/// image (account, region, repository, digest); `cve` by account and digest,
/// since its rows depend only on the image's content. Flat, one level under
/// the table's location, so no reader has to list folders recursively.
pub fn object_keys(
    account_id: &str,
    region: &str,
    repository_in_key: &str,
    digest_hex: &str,
) -> (String, String) {
    (
        format!("sbom/{account_id}_{region}_{repository_in_key}_{digest_hex}.parquet"),
        format!("cve/{account_id}_{digest_hex}.parquet"),
    )
}

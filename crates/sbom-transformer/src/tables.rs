//! The two Athena tables, as Arrow record batches and snappy Parquet files.
//!
//! `sbom`: one row per distinct package of an image. `cve`: one row per
//! distinct (package, packageversion, cve) of an image. Column names are
//! lower-case (Glue lower-cases them) and the blog's query
//! `select package, packageversion, cve, sha, imagearn from sbom left join cve
//! using (sha, package, packageversion) where cve is not null` must run
//! unchanged, so `imagearn` exists in `sbom` only and `cve` in `cve` only.

use std::sync::{Arc, LazyLock};

use arrow_array::builder::{Float64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::rows::Rows;
pub use crate::rows::SOURCE_SEPARATOR;
use crate::sbom::{Finding, Package, Sbom};

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
/// materialised for one batch and sliced, so memory stays proportional to
/// the SBOM, not to rows × image-level text.
pub const BATCH_ROWS: usize = 8192;

/// Both Parquet files of one image.
#[derive(Debug, Clone)]
pub struct TableFiles {
    pub sbom: Vec<u8>,
    pub cve: Vec<u8>,
    pub sbom_rows: usize,
    pub cve_rows: usize,
}

/// Writes both tables, rows in document order (so the same SBOM always gives
/// the same files); [`Rows`] has already removed the duplicates.
pub fn write_tables(rows: &Rows<'_>, image: &ImageContext) -> Result<TableFiles, ParquetError> {
    let sbom = rows.sbom();
    // The image-level columns of a full batch, built once and sliced.
    let full = BATCH_ROWS.min(sbom.packages.len().max(sbom.findings.len()));
    let constants = Constants::new(sbom, image, full);

    let mut writer =
        ArrowWriter::try_new(Vec::new(), SBOM_SCHEMA.clone(), Some(writer_properties()))?;
    for chunk in sbom.packages.chunks(BATCH_ROWS) {
        writer.write(&sbom_batch(chunk, &constants))?;
    }
    let sbom_file = writer.into_inner()?;

    let mut writer =
        ArrowWriter::try_new(Vec::new(), CVE_SCHEMA.clone(), Some(writer_properties()))?;
    for chunk in sbom.findings.chunks(BATCH_ROWS) {
        writer.write(&cve_batch(chunk, &sbom.packages, &constants))?;
    }
    Ok(TableFiles {
        sbom: sbom_file,
        cve: writer.into_inner()?,
        sbom_rows: sbom.packages.len(),
        cve_rows: sbom.findings.len(),
    })
}

/// The columns whose value is the same on every row of an image.
struct Constants {
    image_arn: ArrayRef,
    account_id: ArrayRef,
    region: ArrayRef,
    repository: ArrayRef,
    sha: ArrayRef,
    os: ArrayRef,
    report_id: ArrayRef,
    format: ArrayRef,
    exported_at: ArrayRef,
}

impl Constants {
    fn new(sbom: &Sbom<'_>, image: &ImageContext, rows: usize) -> Constants {
        let text = |value: &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                value, rows,
            )))
        };
        Constants {
            image_arn: text(&image.image_arn),
            account_id: text(&image.account_id),
            region: text(&image.region),
            repository: text(&image.repository),
            sha: text(&image.sha),
            os: Arc::new(StringArray::from_iter(std::iter::repeat_n(
                sbom.os.as_deref(),
                rows,
            ))),
            report_id: text(&image.report_id),
            format: text(sbom.format.as_str()),
            exported_at: Arc::new(
                TimestampMicrosecondArray::from_iter_values(std::iter::repeat_n(
                    image.exported_at_micros,
                    rows,
                ))
                .with_timezone("UTC"),
            ),
        }
    }
}

fn sbom_batch(packages: &[Package<'_>], c: &Constants) -> RecordBatch {
    let n = packages.len();
    let mut names = StringBuilder::with_capacity(n, n * 16);
    let mut versions = StringBuilder::with_capacity(n, n * 12);
    let mut purls = StringBuilder::with_capacity(n, n * 64);
    let mut types = StringBuilder::with_capacity(n, n * 5);
    let mut sources = StringBuilder::with_capacity(n, n * 32);
    for p in packages {
        names.append_value(&p.name);
        versions.append_option(p.version.as_deref());
        purls.append_option(p.purl.as_deref());
        types.append_option(p.package_type());
        sources.append_option(p.source_info.as_deref());
    }
    RecordBatch::try_new(
        SBOM_SCHEMA.clone(),
        vec![
            c.image_arn.slice(0, n),
            c.account_id.slice(0, n),
            c.region.slice(0, n),
            c.repository.slice(0, n),
            c.sha.slice(0, n),
            c.os.slice(0, n),
            Arc::new(names.finish()),
            Arc::new(versions.finish()),
            Arc::new(purls.finish()),
            Arc::new(types.finish()),
            Arc::new(sources.finish()),
            c.report_id.slice(0, n),
            c.format.slice(0, n),
            c.exported_at.slice(0, n),
        ],
    )
    .expect("columns match the sbom schema")
}

fn cve_batch(findings: &[Finding<'_>], packages: &[Package<'_>], c: &Constants) -> RecordBatch {
    let n = findings.len();
    let mut names = StringBuilder::with_capacity(n, n * 16);
    let mut versions = StringBuilder::with_capacity(n, n * 12);
    let mut ids = StringBuilder::with_capacity(n, n * 16);
    let mut severities = StringBuilder::new();
    let mut scores = Float64Builder::with_capacity(n);
    for f in findings {
        let p = &packages[f.package];
        names.append_value(&p.name);
        versions.append_option(p.version.as_deref());
        ids.append_value(&f.id);
        severities.append_option(f.severity.as_deref());
        scores.append_option(f.score);
    }
    RecordBatch::try_new(
        CVE_SCHEMA.clone(),
        vec![
            c.account_id.slice(0, n),
            c.sha.slice(0, n),
            Arc::new(names.finish()),
            Arc::new(versions.finish()),
            Arc::new(ids.finish()),
            Arc::new(severities.finish()),
            Arc::new(scores.finish()),
            c.report_id.slice(0, n),
            c.exported_at.slice(0, n),
        ],
    )
    .expect("columns match the cve schema")
}

/// Snappy. Statistics (per column chunk) only where a file's range can rule
/// it out cheaply: `sha` (one image per file), `exportedat` and `score`.
/// Every other column is either image-level (one dictionary value per file,
/// which readers such as Trino prune with the dictionary page alone) or
/// nearly unique per row (a file's range spans almost every value), and
/// comparing each value with the running minimum and maximum was a fifth of
/// the conversion's time. No dictionary for the nearly unique columns, where
/// building one costs time and then falls back to plain encoding anyway.
/// Mini-batches of a whole Arrow batch.
fn writer_properties() -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_write_batch_size(BATCH_ROWS);
    for column in ["sha", "exportedat", "score"] {
        builder = builder
            .set_column_statistics_enabled(ColumnPath::from(column), EnabledStatistics::Chunk);
    }
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

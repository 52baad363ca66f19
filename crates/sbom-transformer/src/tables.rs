//! The two Athena tables, as Arrow record batches and snappy Parquet files.
//!
//! `sbom`: one row per distinct package of an image. `cve`: one row per
//! distinct (package, packageversion, cve) of an image. Column names are
//! lower-case (Glue lower-cases them) and the blog's query
//! `select package, packageversion, cve, sha, imagearn from sbom left join cve
//! using (sha, package, packageversion) where cve is not null` must run
//! unchanged, so `imagearn` exists in `sbom` only and `cve` in `cve` only.

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use arrow_array::{ArrayRef, Float64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::arrow_writer::compute_leaves;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::{ColumnDescPtr, ColumnPath};

use crate::column_chunk::EncodedChunk;
use crate::column_chunk::PageCompressor;
use crate::constant_column::{self, Constant};
use crate::dictionary_column::DictionaryColumn;
use crate::plain_column::PlainColumn;
use crate::prefetch;
use crate::rows::Rows;
pub use crate::rows::SOURCE_SEPARATOR;

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

/// Rows per Arrow batch of the columns that vary by row.
pub const BATCH_ROWS: usize = 8192;

/// Rows per row group: the Parquet writer's own default, so a file has one
/// row group unless its image has over a million packages.
const ROW_GROUP_ROWS: usize = parquet::file::properties::DEFAULT_MAX_ROW_GROUP_ROW_COUNT;

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
    // The image-level columns of both tables, by name; `None`: varies by row.
    let image_level = |name: &str| {
        let text = |v| Some(Constant::Text(Some(v)));
        match name {
            "imagearn" => text(image.image_arn.as_str()),
            "accountid" => text(&image.account_id),
            "region" => text(&image.region),
            "repository" => text(&image.repository),
            "sha" => text(&image.sha),
            "os" => Some(Constant::Text(sbom.os.as_deref())),
            "reportid" => text(&image.report_id),
            "sbomformat" => text(sbom.format.as_str()),
            "exportedat" => Some(Constant::Int64(image.exported_at_micros)),
            _ => None,
        }
    };
    let packages = &sbom.packages;
    let findings = &sbom.findings;
    // One snappy buffer for every page of both files: it is grown (and
    // zeroed) once, to the largest page, instead of once per column.
    let mut compressor = PageCompressor::default();
    let sbom_file = write_table(
        &SBOM_SCHEMA,
        &image_level,
        packages.len(),
        |rows, column, compressor| {
            let n = rows.len();
            let mut package = PlainColumn::new(column("package"), n);
            let mut version = DictionaryColumn::new(column("packageversion"), n);
            let mut purl = PlainColumn::new(column("purl"), n);
            let mut package_type = DictionaryColumn::new(column("packagetype"), n);
            let mut source_info = PlainColumn::new(column("sourceinfo"), n);
            let rows = &packages[rows];
            for (i, p) in rows.iter().enumerate() {
                if let Some(ahead) = rows.get(i + prefetch::AHEAD) {
                    prefetch::text(&ahead.name);
                    ahead.version.as_deref().map(prefetch::text);
                    ahead.purl.as_deref().map(prefetch::text);
                    ahead.source_info.as_deref().map(prefetch::text);
                }
                package.push(Some(&p.name), compressor)?;
                version.push(p.version.as_deref(), compressor)?;
                purl.push(p.purl.as_deref(), compressor)?;
                package_type.push(p.package_type().as_deref(), compressor)?;
                source_info.push(p.source_info.as_deref(), compressor)?;
            }
            Ok(vec![
                ("package", package.finish(compressor)?),
                ("packageversion", version.finish(compressor)?),
                ("purl", purl.finish(compressor)?),
                ("packagetype", package_type.finish(compressor)?),
                ("sourceinfo", source_info.finish(compressor)?),
            ])
        },
        |_| Vec::new(),
        &mut compressor,
    )?;
    let cve_file = write_table(
        &CVE_SCHEMA,
        &image_level,
        findings.len(),
        |rows, column, compressor| {
            let n = rows.len();
            let mut package = DictionaryColumn::new(column("package"), n);
            let mut version = DictionaryColumn::new(column("packageversion"), n);
            let mut id = DictionaryColumn::new(column("cve"), n);
            let mut severity = DictionaryColumn::new(column("severity"), n);
            let rows = &findings[rows];
            for (i, f) in rows.iter().enumerate() {
                if let Some(ahead) = rows.get(i + prefetch::AHEAD) {
                    let p = &packages[ahead.package];
                    prefetch::text(&p.name);
                    p.version.as_deref().map(prefetch::text);
                    prefetch::text(&ahead.id);
                }
                let p = &packages[f.package];
                package.push(Some(&p.name), compressor)?;
                version.push(p.version.as_deref(), compressor)?;
                id.push(Some(&f.id), compressor)?;
                severity.push(f.severity.as_deref(), compressor)?;
            }
            Ok(vec![
                ("package", package.finish(compressor)?),
                ("packageversion", version.finish(compressor)?),
                ("cve", id.finish(compressor)?),
                ("severity", severity.finish(compressor)?),
            ])
        },
        |range| {
            vec![Arc::new(
                findings[range]
                    .iter()
                    .map(|f| f.score)
                    .collect::<Float64Array>(),
            )]
        },
        &mut compressor,
    )?;
    Ok(TableFiles {
        sbom: sbom_file,
        cve: cve_file,
        sbom_rows: sbom.packages.len(),
        cve_rows: sbom.findings.len(),
    })
}

/// The column chunks a table's text columns that vary by row, built in one
/// pass over a row group's rows (each row read once, its values still in
/// cache for the next column), by column name.
type Varying = Vec<(&'static str, EncodedChunk)>;

/// One Parquet file of `rows` rows. A column is constant when
/// `image_level` gives its value; else `text` builds it, with the other
/// varying text columns, for a row group's rows; else (numbers) `arrays`
/// builds it as an Arrow array for a range of rows (those columns only, in
/// schema order) for the Arrow writer.
fn write_table<'a>(
    schema: &SchemaRef,
    image_level: &dyn Fn(&str) -> Option<Constant<'a>>,
    rows: usize,
    mut text: impl FnMut(
        Range<usize>,
        &dyn Fn(&str) -> ColumnDescPtr,
        &mut PageCompressor,
    ) -> Result<Varying, ParquetError>,
    mut arrays: impl FnMut(Range<usize>) -> Vec<ArrayRef>,
    compressor: &mut PageCompressor,
) -> Result<Vec<u8>, ParquetError> {
    // The Arrow writer sets up the file (schema, `ARROW:schema` metadata,
    // properties); row groups are then assembled column by column.
    let (mut file, factory) =
        ArrowWriter::try_new(Vec::new(), schema.clone(), Some(writer_properties()))?
            .into_serialized_writer()?;
    let descriptors: Vec<_> = (0..schema.fields().len())
        .map(|i| file.schema_descr().column(i))
        .collect();
    let column = |name: &str| {
        let i = schema.index_of(name).expect("a column of the table");
        descriptors[i].clone()
    };
    let constants: Vec<_> = schema
        .fields()
        .iter()
        .map(|f| image_level(f.name()))
        .collect();
    for (index, start) in (0..rows).step_by(ROW_GROUP_ROWS).enumerate() {
        let end = rows.min(start + ROW_GROUP_ROWS);
        let mut varying = text(start..end, &column, compressor)?;
        let mut writers = factory.create_column_writers(index)?;
        for from in (start..end).step_by(BATCH_ROWS) {
            let mut arrays = arrays(from..end.min(from + BATCH_ROWS)).into_iter();
            for ((field, constant), writer) in
                schema.fields().iter().zip(&constants).zip(&mut writers)
            {
                if constant.is_some() || varying.iter().any(|(name, _)| name == field.name()) {
                    continue;
                }
                let array = arrays.next().expect("one array per Arrow column");
                for leaf in compute_leaves(field, &array)? {
                    writer.write(&leaf)?;
                }
            }
        }
        let mut group = file.next_row_group()?;
        for (((field, constant), writer), descriptor) in schema
            .fields()
            .iter()
            .zip(&constants)
            .zip(writers)
            .zip(&descriptors)
        {
            let chunk = if let Some(value) = constant {
                constant_column::encode(descriptor.clone(), *value, end - start, compressor)?
            } else if let Some(at) = varying.iter().position(|(name, _)| name == field.name()) {
                varying.swap_remove(at).1
            } else {
                writer.close()?.append_to_row_group(&mut group)?;
                continue;
            };
            group.append_column(&chunk.bytes, chunk.close)?;
        }
        debug_assert!(varying.is_empty(), "a varying column not in the schema");
        group.close()?;
    }
    file.into_inner()
}

/// The Arrow writer's properties: it sets up both files and writes the one
/// column no hand-written encoder takes, `score`, snappy with chunk
/// statistics. The text columns are written by [`constant_column`] (with
/// exact statistics), [`plain_column`] and [`dictionary_column`] (without:
/// their values are nearly unique or few per image, so a file's range
/// prunes nothing, and comparing each value with the running minimum and
/// maximum was a fifth of the conversion's time).
fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_column_statistics_enabled(ColumnPath::from("score"), EnabledStatistics::Chunk)
        .set_write_batch_size(BATCH_ROWS)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::dedup;
    use crate::sbom::{parse, Finding, Package};
    use arrow_array::{Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn read(file: Vec<u8>) -> Vec<RecordBatch> {
        ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(file))
            .unwrap()
            .with_batch_size(1 << 20)
            .build()
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// `columns` written the plain way, every one a whole Arrow array, by the Arrow writer.
    fn plain_file(schema: &SchemaRef, columns: Vec<ArrayRef>) -> Vec<u8> {
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let mut writer = ArrowWriter::try_new(Vec::new(), schema.clone(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.into_inner().unwrap()
    }

    /// A column of `n` copies of `v`.
    fn repeated(v: Option<&str>, n: usize) -> ArrayRef {
        Arc::new(StringArray::from_iter(std::iter::repeat_n(v, n)))
    }

    fn exported_at(image: &ImageContext, n: usize) -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(std::iter::repeat_n(
                image.exported_at_micros,
                n,
            ))
            .with_timezone("UTC"),
        )
    }

    /// A text column of `f` of every row.
    fn strings_of<T>(rows: &[T], f: impl Fn(&T) -> Option<String>) -> ArrayRef {
        Arc::new(StringArray::from_iter(rows.iter().map(f)))
    }

    /// Both tables written the plain way, every column built here from the rows, not by the
    /// code under test.
    fn reference(rows: &Rows<'_>, image: &ImageContext) -> (Vec<u8>, Vec<u8>) {
        let sbom = rows.sbom();
        let (p, n) = (&sbom.packages, sbom.packages.len());
        let text = |v: &str| repeated(Some(v), n);
        let strings = |f: fn(&Package<'_>) -> Option<String>| strings_of(p, f);
        let sbom_file = plain_file(
            &SBOM_SCHEMA,
            vec![
                text(&image.image_arn),
                text(&image.account_id),
                text(&image.region),
                text(&image.repository),
                text(&image.sha),
                repeated(sbom.os.as_deref(), n),
                strings(|p| Some(p.name.to_string())),
                strings(|p| p.version.as_deref().map(str::to_string)),
                strings(|p| p.purl.as_deref().map(str::to_string)),
                strings(|p| p.package_type().map(|t| t.into_owned())),
                strings(|p| p.source_info.as_deref().map(str::to_string)),
                text(&image.report_id),
                text(sbom.format.as_str()),
                exported_at(image, n),
            ],
        );
        let (f, m) = (&sbom.findings, sbom.findings.len());
        let text = |v: &str| repeated(Some(v), m);
        let strings = |g: &dyn Fn(&Finding<'_>) -> Option<String>| strings_of(f, g);
        let cve_file = plain_file(
            &CVE_SCHEMA,
            vec![
                text(&image.account_id),
                text(&image.sha),
                strings(&|f| Some(p[f.package].name.to_string())),
                strings(&|f| p[f.package].version.as_deref().map(str::to_string)),
                strings(&|f| Some(f.id.to_string())),
                strings(&|f| f.severity.as_deref().map(str::to_string)),
                Arc::new(f.iter().map(|f| f.score).collect::<Float64Array>()),
                text(&image.report_id),
                exported_at(image, m),
            ],
        );
        (sbom_file, cve_file)
    }

    fn image() -> ImageContext {
        ImageContext {
            image_arn: "arn:aws:ecr:eu-west-1:111122223333:repository/app/sha256:ab".into(),
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            repository: "app".into(),
            sha: "sha256:ab".into(),
            report_id: String::new(),
            exported_at_micros: 1_685_668_666_000_000,
        }
    }

    fn spdx(packages: usize, os: bool) -> String {
        let mut doc = String::from(r#"{"spdxVersion":"SPDX-2.3","packages":["#);
        if os {
            doc.push_str(r#"{"name":"debian","versionInfo":"12","primaryPackagePurpose":"OPERATING-SYSTEM"},"#);
        }
        let list: Vec<String> = (0..packages)
            .map(|i| {
                let v = i % 7;
                let cve = if i % 3 == 0 {
                    format!(r#",{{"referenceCategory":"SECURITY","referenceType":"vulnerability","referenceLocator":"CVE-2024-{i}"}}"#)
                } else {
                    String::new()
                };
                // Nulls among values in the plainly encoded columns: no
                // `sourceInfo` on every fifth package, no purl on every 11th.
                let source = if i % 5 == 0 {
                    String::new()
                } else {
                    format!(r#""sourceInfo":"/usr/lib/p{i}","#)
                };
                let purl = if i % 11 == 0 {
                    r#"{"referenceCategory":"OTHER","referenceType":"cpe23Type","referenceLocator":"cpe"}"#.to_string()
                } else {
                    format!(r#"{{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/p{i}@{v}"}}"#)
                };
                format!(r#"{{"name":"p{i}",{source}"versionInfo":"{v}","externalRefs":[{purl}{cve}]}}"#)
            })
            .collect();
        doc.push_str(&list.join(","));
        doc.push_str("]}");
        doc
    }

    #[test]
    fn both_tables_read_back_as_the_arrow_writer_writes_them() {
        // Null and present `os`, one row, several batches, several pages of the plainly
        // encoded columns (20,000 rows each), an empty string; every third package has a
        // vulnerability.
        let pages = parquet::file::properties::DEFAULT_DATA_PAGE_ROW_COUNT_LIMIT * 2 + 3;
        for (packages, os) in [
            (1, true),
            (3, false),
            (BATCH_ROWS * 2 + 5, true),
            (pages, false),
        ] {
            let doc = spdx(packages, os);
            let rows = dedup(parse(doc.as_bytes()).unwrap());
            let image = image();
            let files = write_tables(&rows, &image).unwrap();
            let (sbom, cve) = reference(&rows, &image);
            let ours = read(files.sbom);
            assert_eq!(ours, read(sbom), "sbom, {packages} packages, os {os}");
            assert_eq!(ours.len(), 1);
            assert_eq!(ours[0].num_rows(), packages);
            let ours = read(files.cve);
            assert_eq!(ours, read(cve), "cve, {packages} packages, os {os}");
            assert_eq!(ours.len(), 1);
            assert_eq!(ours[0].num_rows(), packages.div_ceil(3));
        }
    }

    #[test]
    fn an_sbom_without_packages_gives_files_without_rows() {
        let rows = dedup(parse(br#"{"spdxVersion":"SPDX-2.3","packages":[]}"#).unwrap());
        let files = write_tables(&rows, &image()).unwrap();
        assert!(read(files.sbom).iter().all(|b| b.num_rows() == 0));
        assert!(read(files.cve).iter().all(|b| b.num_rows() == 0));
    }
}

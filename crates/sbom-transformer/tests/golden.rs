//! Golden tests: the spec's SPDX and CycloneDX samples (verbatim from the
//! AWS docs) and realistic ECR exports, converted to the exact rows expected,
//! and read back from the Parquet bytes.

use std::sync::Arc;

use arrow_array::{Array, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sbom_transformer::export_key::ExportKey;
use sbom_transformer::tables::{CVE_SCHEMA, SBOM_SCHEMA};
use sbom_transformer::transform::{convert, Converted, GivenImage, Identity};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

const HEX: &str = "9c5bb2c2f5c1b0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8d0";

fn given() -> Identity<'static> {
    Identity::Given(
        GivenImage::parse(&format!(
            "arn:aws:ecr:us-east-1:111122223333:repository/app/sha256:{HEX}"
        ))
        .unwrap(),
    )
}

fn read_back(bytes: &[u8]) -> RecordBatch {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes))
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    match batches.len() {
        0 => RecordBatch::new_empty(Arc::new(
            ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes))
                .unwrap()
                .schema()
                .as_ref()
                .clone(),
        )),
        _ => arrow_select_concat(&batches),
    }
}

fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    assert_eq!(batches.len(), 1, "small files hold one batch");
    batches[0].clone()
}

fn col(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let a = batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap_or_else(|| panic!("{name} is not a string column"));
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
        .collect()
}

fn s(v: &[Option<&str>]) -> Vec<Option<String>> {
    v.iter().map(|o| o.map(str::to_string)).collect()
}

fn all(v: &str, n: usize) -> Vec<Option<String>> {
    vec![Some(v.to_string()); n]
}

/// Both files read back, with the schemas the Glue tables declare.
fn tables(c: &Converted) -> (RecordBatch, RecordBatch) {
    let sbom = read_back(&c.sbom_parquet);
    let cve = read_back(&c.cve_parquet);
    assert_eq!(sbom.schema().fields(), SBOM_SCHEMA.fields());
    assert_eq!(cve.schema().fields(), CVE_SCHEMA.fields());
    assert_eq!(sbom.num_rows(), c.packages);
    assert_eq!(cve.num_rows(), c.cves);
    (sbom, cve)
}

fn exported_at(batch: &RecordBatch) -> Vec<i64> {
    let a = batch
        .column_by_name("exportedat")
        .unwrap()
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()
        .unwrap();
    a.values().to_vec()
}

#[test]
fn spdx_aws_doc_sample() {
    let c = convert(&fixture("spdx_2_3_aws_doc_sample.json"), given(), 0).unwrap();
    let (sbom, cve) = tables(&c);
    assert_eq!(c.format, "SPDX_2_3");
    assert_eq!(
        col(&sbom, "package"),
        s(&[Some("elfutils-libelf"), Some("libcurl")])
    );
    assert_eq!(
        col(&sbom, "packageversion"),
        s(&[Some("0.176-2.amzn2"), Some("7.79.1-1.amzn2.0.1")])
    );
    assert_eq!(
        col(&sbom, "purl"),
        s(&[
            Some("pkg:rpm/elfutils-libelf@0.176-2.amzn2?arch=X86_64&epoch=0&upstream=elfutils-libelf-0.176-2.amzn2.src.rpm"),
            Some("pkg:rpm/libcurl@7.79.1-1.amzn2.0.1?arch=X86_64&epoch=0&upstream=libcurl-7.79.1-1.amzn2.0.1.src.rpm"),
        ])
    );
    assert_eq!(col(&sbom, "packagetype"), all("rpm", 2));
    assert_eq!(col(&sbom, "sourceinfo"), all("/var/lib/rpm/Packages", 2));
    assert_eq!(col(&sbom, "os"), all("AMAZON_LINUX_2", 2));
    assert_eq!(col(&sbom, "sha"), all(&format!("sha256:{HEX}"), 2));
    assert_eq!(col(&sbom, "sbomformat"), all("SPDX_2_3", 2));
    // 2023-06-02T21:19:22Z
    assert_eq!(exported_at(&sbom), vec![1_685_740_762_000_000; 2]);

    assert_eq!(col(&cve, "package"), s(&[Some("libcurl")]));
    assert_eq!(
        col(&cve, "packageversion"),
        s(&[Some("7.79.1-1.amzn2.0.1")])
    );
    assert_eq!(col(&cve, "cve"), s(&[Some("CVE-2022-32205")]));
    assert_eq!(col(&cve, "severity"), s(&[None]));
    assert_eq!(col(&cve, "accountid"), all("111122223333", 1));
}

#[test]
fn cyclonedx_aws_doc_sample() {
    let c = convert(&fixture("cyclonedx_1_4_aws_doc_sample.json"), given(), 0).unwrap();
    let (sbom, cve) = tables(&c);
    assert_eq!(c.format, "CYCLONEDX_1_4");
    assert_eq!(
        col(&sbom, "package"),
        s(&[Some("pip"), Some("libss2"), Some("libgmp10")])
    );
    // No component has a version: all three come from the purls.
    assert_eq!(
        col(&sbom, "packageversion"),
        s(&[
            Some("22.0.4"),
            Some("1.44.5-1+deb10u3"),
            Some("6.1.2+dfsg-4+deb10u1")
        ])
    );
    assert_eq!(
        col(&sbom, "packagetype"),
        s(&[Some("pypi"), Some("dpkg"), Some("dpkg")])
    );
    assert_eq!(
        col(&sbom, "sourceinfo"),
        s(&[
            Some("usr/local/lib/python3.8/site-packages/pip-22.0.4.dist-info/METADATA"),
            None,
            None
        ])
    );
    assert_eq!(col(&sbom, "os"), s(&[None, None, None]));
    // 2023-06-02T01:17:46Z
    assert_eq!(exported_at(&sbom), vec![1_685_668_666_000_000; 3]);
    // The sample's vulnerability refs name components trimmed from it.
    assert_eq!(cve.num_rows(), 0);
    assert_eq!(c.findings_in_document, 0);
}

#[test]
fn spdx_ecr_export_with_duplicates_escapes_and_a_namespaced_repository() {
    let key = ExportKey::parse(&format!(
        "raw/SPDX_2_3_outputs_0b7c1c2e-1111-4222-8333-944455556666/account=111122223333/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:eu-west-1:111122223333:repository_team_web_app_sha256:{HEX}_SPDX_2_3.json"
    ))
    .unwrap();
    let c = convert(
        &fixture("spdx_2_3_ecr_image.json"),
        Identity::Export(&key),
        0,
    )
    .unwrap();
    let (sbom, cve) = tables(&c);
    let arn = format!("arn:aws:ecr:eu-west-1:111122223333:repository/team/web_app/sha256:{HEX}");
    assert_eq!(c.image.image_arn, arn);
    assert_eq!(col(&sbom, "imagearn"), all(&arn, 5));
    assert_eq!(col(&sbom, "repository"), all("team/web_app", 5));
    assert_eq!(col(&sbom, "region"), all("eu-west-1", 5));
    assert_eq!(col(&sbom, "accountid"), all("111122223333", 5));
    assert_eq!(
        col(&sbom, "reportid"),
        all("0b7c1c2e-1111-4222-8333-944455556666", 5)
    );
    assert_eq!(col(&sbom, "os"), all("DEBIAN_12", 5));
    // libc6 listed twice: one row; requests at two paths: one row, both paths.
    assert_eq!(
        col(&sbom, "package"),
        s(&[
            Some("openssl"),
            Some("libc6"),
            Some("requests"),
            Some("zéro-day \"lib\""),
            Some("tzdata")
        ])
    );
    assert_eq!(
        col(&sbom, "packageversion"),
        s(&[
            Some("3.0.11-1~deb12u2"),
            Some("2.36-9+deb12u3"),
            Some("2.31.0"),
            Some("1.0"),
            Some("2024a-0+deb12u1")
        ])
    );
    assert_eq!(
        col(&sbom, "sourceinfo"),
        s(&[
            Some("/var/lib/dpkg/status"),
            Some("/var/lib/dpkg/status"),
            Some("/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA; /opt/venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA"),
            None,
            Some("/var/lib/dpkg/status"),
        ])
    );
    assert_eq!(
        col(&sbom, "packagetype"),
        s(&[
            Some("dpkg"),
            Some("dpkg"),
            Some("pypi"),
            Some("npm"),
            Some("dpkg")
        ])
    );
    assert_eq!(c.packages_in_document, 7);

    assert_eq!(
        col(&cve, "cve"),
        s(&[
            Some("CVE-2023-5678"),
            Some("CVE-2024-0727"),
            Some("CVE-2023-4911"),
            Some("CVE-2024-35195"),
            Some("GHSA-xxxx-yyyy-zzzz")
        ])
    );
    assert_eq!(
        col(&cve, "package"),
        s(&[
            Some("openssl"),
            Some("openssl"),
            Some("libc6"),
            Some("requests"),
            Some("zéro-day \"lib\"")
        ])
    );
    assert_eq!(col(&cve, "sha"), all(&format!("sha256:{HEX}"), 5));
    assert!(
        cve.column_by_name("imagearn").is_none(),
        "imagearn only in sbom"
    );
    assert!(sbom.column_by_name("cve").is_none(), "cve only in cve");
}

#[test]
fn cyclonedx_ecr_export_resolves_refs_to_components() {
    let c = convert(&fixture("cyclonedx_1_4_ecr_image.json"), given(), 0).unwrap();
    let (sbom, cve) = tables(&c);
    assert_eq!(
        col(&sbom, "package"),
        s(&[
            Some("openssl"),
            Some("libc6"),
            Some("pip"),
            Some("left-pad")
        ])
    );
    assert_eq!(
        col(&sbom, "packageversion"),
        s(&[
            Some("3.0.11-1~deb12u2"),
            Some("2.36-9+deb12u3"),
            Some("22.0.4"),
            Some("1.3.0")
        ])
    );
    assert_eq!(
        col(&cve, "cve"),
        s(&[
            Some("CVE-2023-5678"),
            Some("CVE-2024-0727"),
            Some("CVE-2023-4911"),
            Some("CVE-2022-40897")
        ])
    );
    assert_eq!(
        col(&cve, "package"),
        s(&[Some("openssl"), Some("openssl"), Some("libc6"), Some("pip")])
    );
    assert_eq!(
        col(&cve, "packageversion"),
        s(&[
            Some("3.0.11-1~deb12u2"),
            Some("3.0.11-1~deb12u2"),
            Some("2.36-9+deb12u3"),
            Some("22.0.4")
        ])
    );
}

#[test]
fn cyclonedx_1_5_scan_output_with_ratings_os_and_nested_components() {
    let c = convert(&fixture("cyclonedx_1_5_scan_api.json"), given(), 0).unwrap();
    let (sbom, cve) = tables(&c);
    assert_eq!(c.format, "CYCLONEDX_1_5");
    assert_eq!(col(&sbom, "package"), s(&[Some("comp-1"), Some("comp-2")]));
    assert_eq!(
        col(&sbom, "packageversion"),
        s(&[Some("1.0"), Some("2.0-r1")])
    );
    assert_eq!(col(&sbom, "os"), all("Alpine Linux 3.18.2", 2));
    assert_eq!(
        col(&sbom, "sourceinfo"),
        s(&[Some("/lib/apk/db/installed"), None])
    );
    assert_eq!(col(&cve, "cve"), all("CVE-2015-20109", 2));
    assert_eq!(col(&cve, "severity"), all("high", 2));
    let score = cve
        .column_by_name("score")
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(score.values().to_vec(), vec![9.1, 9.1]);
}

#[test]
fn empty_sboms_still_write_both_files() {
    for doc in [
        &br#"{"spdxVersion":"SPDX-2.3","packages":[]}"#[..],
        br#"{"spdxVersion":"SPDX-2.3"}"#,
        br#"{"bomFormat":"CycloneDX","specVersion":"1.4","metadata":{"component":null},"components":[],"vulnerabilities":[]}"#,
    ] {
        let c = convert(doc, given(), 42).unwrap();
        let (sbom, cve) = tables(&c);
        assert_eq!((sbom.num_rows(), cve.num_rows()), (0, 0));
    }
}

#[test]
fn the_same_sbom_gives_byte_identical_files() {
    let a = convert(&fixture("spdx_2_3_ecr_image.json"), given(), 0).unwrap();
    let b = convert(&fixture("spdx_2_3_ecr_image.json"), given(), 0).unwrap();
    assert_eq!(a.sbom_parquet, b.sbom_parquet);
    assert_eq!(a.cve_parquet, b.cve_parquet);
}

#[test]
fn every_column_is_snappy_and_image_level_ones_a_few_bytes() {
    let c = convert(&fixture("spdx_2_3_ecr_image.json"), given(), 0).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(c.sbom_parquet))
        .unwrap()
        .metadata()
        .clone();
    let image_level = [
        "imagearn",
        "accountid",
        "region",
        "repository",
        "sha",
        "os",
        "reportid",
        "sbomformat",
        "exportedat",
    ];
    for rg in meta.row_groups() {
        for column in rg.columns() {
            let name = column.column_path().string();
            if image_level.contains(&name.as_str()) {
                // One dictionary page and one RLE run, whatever the rows.
                assert!(
                    column.compressed_size() < 300,
                    "{name}: {}",
                    column.compressed_size()
                );
            }
            assert_eq!(
                column.compression(),
                parquet::basic::Compression::SNAPPY,
                "{name}"
            );
        }
    }
}

#[test]
fn large_sboms_span_several_batches_and_still_deduplicate() {
    let n = sbom_transformer::tables::BATCH_ROWS * 2 + 17;
    let mut doc = String::from(r#"{"spdxVersion":"SPDX-2.3","packages":["#);
    for i in 0..n * 2 {
        if i > 0 {
            doc.push(',');
        }
        // Every package twice, the copy at another path, each with a CVE.
        let k = i % n;
        doc.push_str(&format!(
            r#"{{"name":"p{k}","versionInfo":"1.{k}","sourceInfo":"/path/{}","externalRefs":[{{"referenceCategory":"SECURITY","referenceType":"vulnerability","referenceLocator":"CVE-2024-{k}"}}]}}"#,
            i / n
        ));
    }
    doc.push_str("]}");
    let c = convert(doc.as_bytes(), given(), 0).unwrap();
    assert_eq!((c.packages, c.cves), (n, n));
    let meta = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(c.sbom_parquet.clone()))
        .unwrap()
        .metadata()
        .clone();
    assert_eq!(meta.file_metadata().num_rows() as usize, n);
    let batches: Vec<RecordBatch> =
        ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(c.sbom_parquet))
            .unwrap()
            .build()
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let last = batches.last().unwrap();
    let sources = col(last, "sourceinfo");
    assert_eq!(sources.last().unwrap().as_deref(), Some("/path/0; /path/1"));
    assert_eq!(
        col(last, "package").last().unwrap().as_deref(),
        Some(format!("p{}", n - 1).as_str())
    );
}

#[test]
fn statistics_only_where_a_range_can_rule_a_file_out_and_exact_for_image_level_columns() {
    let c = convert(&fixture("spdx_2_3_ecr_image.json"), given(), 0).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(c.sbom_parquet))
        .unwrap()
        .metadata()
        .clone();
    let rg = &meta.row_groups()[0];
    let stats = |name: &str| {
        rg.columns()
            .iter()
            .find(|c| c.column_path().string() == name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .statistics()
            .cloned()
    };
    // Image-level columns: exact statistics, min = max = the value.
    let sha_value = format!("sha256:{HEX}");
    for (name, value) in [
        ("sha", sha_value.as_str()),
        ("accountid", "111122223333"),
        ("region", "us-east-1"),
    ] {
        let s = stats(name).unwrap_or_else(|| panic!("{name} has no statistics"));
        assert_eq!(s.min_bytes_opt(), Some(value.as_bytes()), "{name}");
        assert_eq!(s.max_bytes_opt(), Some(value.as_bytes()), "{name}");
        assert_eq!(s.null_count_opt(), Some(0), "{name}");
    }
    let exported = stats("exportedat").expect("exportedat has statistics");
    assert_eq!(exported.min_bytes_opt(), exported.max_bytes_opt());
    // Row-level columns whose range spans nearly every value: none.
    for name in ["package", "packageversion", "purl", "sourceinfo"] {
        assert!(stats(name).is_none(), "{name} has statistics");
    }
}

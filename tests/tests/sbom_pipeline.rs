//! The SBOM pipeline end to end: the shipped sbom-export-trigger and
//! sbom-transformer binaries under the local Runtime API, Inspector2 in
//! local-aws writing its export into moto's S3, and the Parquet output read
//! back by independent implementations (DuckDB runs the blog's Athena query
//! unchanged, pyarrow checks the schema).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use e2e_tests::local_cloud::{python, LocalCloud};
use e2e_tests::runtime_api::{FunctionProcess, InvocationOutcome};
use e2e_tests::workspace::{event, function_binary, root, ScratchDir};
use serde_json::{json, Value};

const RAW: &str = "sbom-raw";
const OUT: &str = "sbom-out";
const KMS: &str = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const DIGEST: &str = "sha256:36c7b282abd0186e01419f2e58743e1bf635808231049bbc9d77e5a1b2c3d4e5";
const REPO_ARN: &str = "arn:aws:ecr:us-east-1:123456789012:repository/shop/web";

struct Pipeline {
    cloud: LocalCloud,
    s3: aws_sdk_s3::Client,
    trigger: FunctionProcess,
    transformer: FunctionProcess,
}

async fn spawn(name: &str, env: Vec<(String, String)>) -> FunctionProcess {
    let f = FunctionProcess::spawn(&function_binary(name), name, &env)
        .await
        .unwrap();
    f.wait_ready(Duration::from_secs(20)).await.unwrap();
    f
}

impl Pipeline {
    async fn start(format: &str, raw_bucket: &str) -> Pipeline {
        let cloud = LocalCloud::start().await.unwrap();
        let s3 = cloud.s3().await;
        for b in [RAW, OUT] {
            s3.create_bucket().bucket(b).send().await.unwrap();
        }
        let mut env = cloud.function_env();
        env.extend([
            ("RAW_BUCKET".into(), raw_bucket.into()),
            ("KMS_KEY_ARN".into(), KMS.into()),
            ("SBOM_FORMAT".into(), format.into()),
            ("EXPORT_WAIT".into(), "15s".into()),
        ]);
        let trigger = spawn("sbom-export-trigger", env).await;
        let mut env = cloud.function_env();
        env.push(("TRANSFORMED_BUCKET".into(), OUT.into()));
        let transformer = spawn("sbom-transformer", env).await;
        Pipeline {
            cloud,
            s3,
            trigger,
            transformer,
        }
    }

    async fn register_image(&self, resource_id: &str, status_code: &str, reason: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}/_local-aws/inspector2/images", self.cloud.local_aws.url))
            .json(&json!({"resourceId": resource_id, "tags": ["v1.4.2"], "statusCode": status_code, "reason": reason}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    async fn keys(&self, bucket: &str) -> Vec<String> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .send()
            .await
            .unwrap();
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        keys.sort();
        keys
    }

    /// Invokes the trigger; returns its result.
    async fn export(&self, event: &Value) -> Value {
        success(self.trigger.invoke(event).await.unwrap())
    }

    async fn transform(&self, key: &str) -> InvocationOutcome {
        self.transformer
            .invoke(&object_created(RAW, key))
            .await
            .unwrap()
    }

    /// Every object of the transformed bucket, under a fresh local dir.
    async fn download(&self) -> ScratchDir {
        let dir = ScratchDir::new("sbom-e2e");
        for key in self.keys(OUT).await {
            let body = self
                .s3
                .get_object()
                .bucket(OUT)
                .key(&key)
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap();
            let path = dir.join(&key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body.into_bytes()).unwrap();
        }
        dir
    }
}

fn success(outcome: InvocationOutcome) -> Value {
    match outcome {
        InvocationOutcome::Success(v) => v,
        InvocationOutcome::Error {
            error_type,
            error_message,
            ..
        } => panic!("{error_type}: {error_message}"),
    }
}

fn error(outcome: InvocationOutcome) -> (String, String) {
    let (t, m) = outcome
        .error()
        .unwrap_or_else(|| panic!("expected an error, got {outcome:?}"));
    (t.to_string(), m.to_string())
}

/// The EventBridge `Object Created` sample with another bucket and key.
fn object_created(bucket: &str, key: &str) -> Value {
    let mut e = event("sbom-transformer", "eventbridge-object-created");
    e["detail"]["bucket"]["name"] = json!(bucket);
    e["detail"]["object"]["key"] = json!(key);
    e
}

/// What `tools/sbom_query.py` says about a directory of output files.
fn query(dir: &Path) -> Value {
    let out = std::process::Command::new(python())
        .arg(root().join("tools/sbom_query.py"))
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// (package, packageversion, cve) of the blog query's rows.
fn triples(q: &Value) -> Vec<(String, String, String)> {
    q["join"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().into(),
                r[1].as_str().unwrap().into(),
                r[2].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// The join rows of local-aws's default Debian 12 image: one per
/// (package, version, vulnerability), whatever paths a package was found at.
fn expected_triples() -> Vec<(String, String, String)> {
    let rows = [
        ("internal-sdk", "0.9.1", "GHSA-jfh8-c2jp-5v3q"),
        ("libc6", "2.36-9+deb12u4", "CVE-2023-4911"),
        ("libc6", "2.36-9+deb12u4", "CVE-2024-2961"),
        ("libssl3", "3.0.11-1~deb12u2", "CVE-2023-5678"),
        ("libssl3", "3.0.11-1~deb12u2", "CVE-2024-0727"),
        ("openssl", "3.0.11-1~deb12u2", "CVE-2023-5678"),
        ("openssl", "3.0.11-1~deb12u2", "CVE-2024-0727"),
        ("pip", "23.0.1", "CVE-2023-5752"),
        ("requests", "2.31.0", "CVE-2024-35195"),
        ("zlib1g", "1:1.2.13.dfsg-1", "CVE-2023-45853"),
    ];
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

fn names(schema: &Value) -> Vec<String> {
    schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[0].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_complete_to_parquet_runs_the_blogs_query_and_re_exports_are_idempotent() {
    let p = Pipeline::start("SPDX_2_3", RAW).await;
    let image_arn = format!("{REPO_ARN}/{DIGEST}");
    p.register_image(&image_arn, "ACTIVE", "SUCCESSFUL").await;

    let started = p
        .export(&event("sbom-export-trigger", "inspector2-scan-complete"))
        .await;
    assert_eq!(started["resourceId"], image_arn);
    assert_eq!(started["status"], "SUCCEEDED", "{started}");
    let report = started["reportId"].as_str().unwrap().to_string();
    let raw = p.keys(RAW).await;
    let expected_key = format!(
        "raw/SPDX_2_3_outputs_{report}/account=123456789012/resource=AWS_ECR_CONTAINER_IMAGE/{}_SPDX_2_3.json",
        image_arn.replace('/', "_")
    );
    assert_eq!(raw, std::slice::from_ref(&expected_key));

    let written = success(p.transform(&expected_key).await);
    assert_eq!(written["written"][0]["image_arn"], image_arn);
    let hex = &DIGEST[7..];
    let out_keys = vec![
        format!("cve/123456789012_{hex}.parquet"),
        format!("sbom/123456789012_us-east-1_shop_web_{hex}.parquet"),
    ];
    assert_eq!(p.keys(OUT).await, out_keys);

    let dir = p.download().await;
    let q = query(&dir);
    assert_eq!(triples(&q), expected_triples());
    for row in q["join"].as_array().unwrap() {
        assert_eq!(row[3], DIGEST);
        assert_eq!(
            row[4], image_arn,
            "the repository is resolved from the SPDX document: shop/web, not shop_web"
        );
    }
    assert_eq!(q["rows"]["sbom"], 10);
    assert_eq!(q["rows"]["cve"], 10);
    assert_eq!(
        names(&q["schema"]["sbom"]),
        [
            "imagearn",
            "accountid",
            "region",
            "repository",
            "sha",
            "os",
            "package",
            "packageversion",
            "purl",
            "packagetype",
            "sourceinfo",
            "reportid",
            "sbomformat",
            "exportedat"
        ]
    );
    assert_eq!(
        names(&q["schema"]["cve"]),
        [
            "accountid",
            "sha",
            "package",
            "packageversion",
            "cve",
            "severity",
            "score",
            "reportid",
            "exportedat"
        ]
    );
    assert_eq!(
        q["schema"]["sbom"]["fields"][13][1],
        "timestamp[us, tz=UTC]"
    );
    assert_eq!(q["schema"]["cve"]["fields"][6][1], "double");
    assert_eq!(q["schema"]["sbom"]["compression"], json!(["SNAPPY"]));
    assert_eq!(q["schema"]["cve"]["compression"], json!(["SNAPPY"]));

    // The same image exported again: a new report, a new raw file, the same
    // output keys, so the query's rows do not double.
    let again = p
        .export(&event("sbom-export-trigger", "inspector2-scan-complete"))
        .await;
    assert_ne!(again["reportId"], report);
    let raw = p.keys(RAW).await;
    assert_eq!(raw.len(), 2);
    let second = raw.iter().find(|k| **k != expected_key).unwrap();
    success(p.transform(second).await);
    assert_eq!(p.keys(OUT).await, out_keys);
    let q = query(&p.download().await);
    assert_eq!(triples(&q), expected_triples());
    assert_eq!(q["rows"]["sbom"], 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn cyclonedx_exports_give_the_same_rows() {
    let p = Pipeline::start("CYCLONEDX_1_4", RAW).await;
    let repo = "arn:aws:ecr:us-east-1:123456789012:repository/payments";
    let image_arn = format!("{repo}/{DIGEST}");
    p.register_image(&image_arn, "ACTIVE", "SUCCESSFUL").await;
    let mut e = event("sbom-export-trigger", "inspector2-scan-complete");
    e["detail"]["repository-name"] = json!(repo);
    let started = p.export(&e).await;
    assert_eq!(started["format"], "CYCLONEDX_1_4");
    let raw = p.keys(RAW).await;
    assert!(raw[0].ends_with("_CYCLONEDX_1_4.json"), "{raw:?}");
    success(p.transform(&raw[0]).await);
    let q = query(&p.download().await);
    assert_eq!(triples(&q), expected_triples());
    assert!(q["join"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r[4] == json!(image_arn)));
}

#[tokio::test(flavor = "multi_thread")]
async fn pushes_wait_until_inspector_has_scanned_the_image() {
    let p = Pipeline::start("SPDX_2_3", RAW).await;
    let image_arn = format!("{REPO_ARN}/{DIGEST}");
    p.register_image(&image_arn, "ACTIVE", "PENDING_INITIAL_SCAN")
        .await;
    let mut push = event("sbom-export-trigger", "ecr-push-untagged");
    push["time"] = json!(humantime_now());

    let (kind, message) = error(p.trigger.invoke(&push).await.unwrap());
    assert_eq!(kind, "ImageNotScannedYet");
    assert!(message.contains("PENDING_INITIAL_SCAN"), "{message}");
    assert!(p.keys(RAW).await.is_empty(), "no export before the scan");

    p.register_image(&image_arn, "ACTIVE", "SUCCESSFUL").await;
    let started = p.export(&push).await;
    assert_eq!(
        started["resourceId"], image_arn,
        "an untagged push is exported by digest"
    );
    assert_eq!(p.keys(RAW).await.len(), 1);

    // Inspector will never scan it: a permanent, named failure.
    p.register_image(&image_arn, "INACTIVE", "UNSUPPORTED_OS")
        .await;
    let (kind, _) = error(p.trigger.invoke(&push).await.unwrap());
    assert_eq!(kind, "ImageNotScannable");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_export_fails_the_trigger_with_inspectors_reason() {
    let p = Pipeline::start("SPDX_2_3", "no-such-bucket").await;
    p.register_image(&format!("{REPO_ARN}/{DIGEST}"), "ACTIVE", "SUCCESSFUL")
        .await;
    let (kind, message) = error(
        p.trigger
            .invoke(&event("sbom-export-trigger", "inspector2-scan-complete"))
            .await
            .unwrap(),
    );
    assert_eq!(kind, "SbomExportFailed");
    assert!(message.contains("BUCKET_NOT_FOUND"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_inputs_fail_clearly_and_other_exports_are_skipped() {
    let p = Pipeline::start("SPDX_2_3", RAW).await;
    let key = |report: &str| {
        format!("raw/SPDX_2_3_outputs_{report}/account=123456789012/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:us-east-1:123456789012:repository_shop_web_{DIGEST}_SPDX_2_3.json")
    };
    let put = |k: String, body: &'static str| {
        let s3 = p.s3.clone();
        async move {
            s3.put_object()
                .bucket(RAW)
                .key(k)
                .body(body.as_bytes().to_vec().into())
                .send()
                .await
                .unwrap();
        }
    };
    put(
        key("truncated"),
        r#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a""#,
    )
    .await;
    put(
        key("wrongtype"),
        r#"{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "externalRefs": {}}]}"#,
    )
    .await;
    put(key("unknown"), r#"{"hello": "world"}"#).await;

    let (kind, message) = error(p.transform(&key("truncated")).await);
    assert_eq!(kind, "MalformedSbom");
    assert!(
        message.contains(&format!("s3://{RAW}/{}", key("truncated"))),
        "{message}"
    );
    let (kind, message) = error(p.transform(&key("wrongtype")).await);
    assert_eq!(kind, "MalformedSbom");
    assert!(message.contains("packages[0].externalRefs"), "{message}");
    let (kind, message) = error(p.transform(&key("unknown")).await);
    assert_eq!(kind, "UnknownSbomFormat");
    assert!(message.contains("neither spdxVersion"), "{message}");
    let (kind, _) = error(p.transform(&key("missing")).await);
    assert_eq!(kind, "NoSuchKey");

    let skipped = success(
        p.transformer
            .invoke(&event(
                "sbom-transformer",
                "lambda-function-export-not-routed",
            ))
            .await
            .unwrap(),
    );
    assert_eq!(skipped["written"], json!([]));
    assert_eq!(skipped["skipped"].as_array().unwrap().len(), 1);
    let (kind, _) = error(
        p.transformer
            .invoke(&json!({"detail-type": "Object Created", "source": "aws.s3", "detail": {}}))
            .await
            .unwrap(),
    );
    assert_eq!(kind, "InvalidEvent");
    let (kind, _) = error(p.trigger.invoke(&json!({"detail-type": "Inspector2 Scan", "source": "aws.inspector2", "detail": {"scan-status": "INITIAL_SCAN_COMPLETE"}})).await.unwrap());
    assert_eq!(kind, "InvalidEvent");
    assert!(
        p.keys(OUT).await.is_empty(),
        "nothing written for bad input"
    );
}

#[test]
fn offline_convert_writes_the_same_tables() {
    let fixture =
        root().join("crates/sbom-transformer/tests/fixtures/cyclonedx_1_4_ecr_image.json");
    let dir = ScratchDir::new("sbom-convert");
    let arn = format!("arn:aws:ecr:us-east-1:123456789012:repository/shop/web/{DIGEST}");
    let out = std::process::Command::new(function_binary("sbom-transformer"))
        .args([
            "convert",
            fixture.to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
            "--image-arn",
            &arn,
        ])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["packages"], 4);
    assert_eq!(summary["cves"], 4);
    let q = query(&dir);
    let got: BTreeSet<_> = triples(&q).into_iter().collect();
    let want: BTreeSet<(String, String, String)> = [
        ("libc6", "2.36-9+deb12u3", "CVE-2023-4911"),
        ("openssl", "3.0.11-1~deb12u2", "CVE-2023-5678"),
        ("openssl", "3.0.11-1~deb12u2", "CVE-2024-0727"),
        ("pip", "22.0.4", "CVE-2022-40897"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want);

    let bad = std::process::Command::new(function_binary("sbom-transformer"))
        .args([
            "convert",
            root().join("README.md").to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
            "--image-arn",
            &arn,
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not valid JSON"));
}

fn humantime_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

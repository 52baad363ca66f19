//! The SBOM act: Inspector finishes scanning an image → sbom-export-trigger
//! starts the export → Inspector (local-aws) writes the SBOM into moto's S3 →
//! sbom-transformer writes the Parquet tables → DuckDB runs the blog's
//! Athena query over them.

use std::time::Duration;

use e2e_tests::demo::Demo;
use e2e_tests::local_cloud::{python, LocalCloud};
use e2e_tests::runtime_api::FunctionProcess;
use e2e_tests::workspace::{event, function_binary, root, ScratchDir};
use serde_json::{json, Value};

const RAW: &str = "demo-sbom-raw";
const OUT: &str = "demo-sbom-tables";

async fn start(name: &str, env: Vec<(String, String)>) -> Result<FunctionProcess, String> {
    let f = FunctionProcess::spawn(&function_binary(name), name, &env)
        .await
        .map_err(|e| e.to_string())?;
    f.wait_ready(Duration::from_secs(20))
        .await
        .map_err(|e| e.to_string())?;
    Ok(f)
}

async fn success(f: &FunctionProcess, event: &Value) -> Result<Value, String> {
    let out = f.invoke(event).await.map_err(|e| e.to_string())?;
    match (out.success(), out.error()) {
        (Some(v), _) => Ok(v.clone()),
        (_, Some((kind, message))) => Err(format!("{kind}: {message}")),
        _ => Err("no outcome".into()),
    }
}

pub async fn act(demo: &mut Demo, cloud: &LocalCloud) {
    demo.act("sbom-export-trigger + sbom-transformer: Inspector SBOM export -> Parquet -> the blog's Athena query");
    let s3 = cloud.s3().await;
    for b in [RAW, OUT] {
        let _ = s3.create_bucket().bucket(b).send().await;
    }
    let scan = event("sbom-export-trigger", "inspector2-scan-complete");
    let image_arn = format!(
        "{}/{}",
        scan["detail"]["repository-name"]
            .as_str()
            .unwrap_or_default(),
        scan["detail"]["image-digest"].as_str().unwrap_or_default()
    );
    demo.step(
        "Inspector (local-aws) has scanned shop/web (a Debian 12 image)",
        async {
            reqwest::Client::new()
                .post(format!(
                    "{}/_local-aws/inspector2/images",
                    cloud.local_aws.url
                ))
                .json(&json!({"resourceId": image_arn, "tags": ["v1.4.2", "latest"]}))
                .send()
                .await
                .and_then(|r| r.error_for_status())
        },
        |_| String::new(),
    )
    .await;

    let mut env = cloud.function_env();
    env.extend([
        ("RAW_BUCKET".to_string(), RAW.to_string()),
        (
            "KMS_KEY_ARN".to_string(),
            "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
                .to_string(),
        ),
        ("EXPORT_WAIT".to_string(), "15s".to_string()),
    ]);
    let Some(trigger) = demo
        .step(
            "start the sbom-export-trigger binary",
            start("sbom-export-trigger", env),
            |_| String::new(),
        )
        .await
    else {
        return;
    };
    let mut env = cloud.function_env();
    env.push(("TRANSFORMED_BUCKET".to_string(), OUT.to_string()));
    let Some(transformer) = demo
        .step(
            "start the sbom-transformer binary",
            start("sbom-transformer", env),
            |_| String::new(),
        )
        .await
    else {
        return;
    };

    let Some(started) = demo
        .step(
            "Inspector2 Scan INITIAL_SCAN_COMPLETE -> CreateSbomExport",
            success(&trigger, &scan),
            |s| {
                format!(
                    "report {} {}",
                    s["reportId"].as_str().unwrap_or_default(),
                    s["status"].as_str().unwrap_or_default()
                )
            },
        )
        .await
    else {
        return;
    };
    let report = started["reportId"].as_str().unwrap_or_default().to_string();
    let Some(key) = demo
        .step(
            "the export landed in the raw bucket under Inspector's key layout",
            async {
                let listed = s3
                    .list_objects_v2()
                    .bucket(RAW)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                listed
                    .contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .find(|k| k.contains(&report))
                    .map(str::to_string)
                    .ok_or_else(|| "no export file".to_string())
            },
            |k| k.clone(),
        )
        .await
    else {
        return;
    };
    let mut created = event("sbom-transformer", "eventbridge-object-created");
    created["detail"]["bucket"]["name"] = json!(RAW);
    created["detail"]["object"]["key"] = json!(key);
    let Some(written) = demo
        .step(
            "S3 Object Created -> sbom-transformer",
            success(&transformer, &created),
            |w| {
                let first = &w["written"][0];
                format!(
                    "{} packages, {} CVE rows -> {} and {}",
                    first["packages"],
                    first["cves"],
                    first["sbom_key"].as_str().unwrap_or_default(),
                    first["cve_key"].as_str().unwrap_or_default()
                )
            },
        )
        .await
    else {
        return;
    };
    let dir = ScratchDir::new("sbom-demo");
    let Some(result) = demo
        .step(
            "DuckDB runs the blog's query over the Parquet files",
            async {
                for k in ["sbom_key", "cve_key"] {
                    let key = written["written"][0][k].as_str().unwrap_or_default();
                    let body = s3
                        .get_object()
                        .bucket(OUT)
                        .key(key)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let bytes = body
                        .body
                        .collect()
                        .await
                        .map_err(|e| e.to_string())?
                        .into_bytes();
                    let path = dir.join(key);
                    std::fs::create_dir_all(path.parent().unwrap_or(&dir))
                        .map_err(|e| e.to_string())?;
                    std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
                }
                let out = std::process::Command::new(python())
                    .arg(root().join("tools/sbom_query.py"))
                    .arg(&*dir)
                    .output()
                    .map_err(|e| e.to_string())?;
                if !out.status.success() {
                    return Err(String::from_utf8_lossy(&out.stderr).to_string());
                }
                serde_json::from_slice::<Value>(&out.stdout).map_err(|e| e.to_string())
            },
            |q| format!("{} rows", q["join"].as_array().map_or(0, Vec::len)),
        )
        .await
    else {
        return;
    };
    println!("        select package, packageversion, cve, sha, imagearn from sbom left join cve using (sha, package, packageversion) where cve is not null");
    for row in result["join"].as_array().into_iter().flatten() {
        println!(
            "        {:<14} {:<20} {:<22} {}…  {}",
            row[0].as_str().unwrap_or_default(),
            row[1].as_str().unwrap_or_default(),
            row[2].as_str().unwrap_or_default(),
            row[3]
                .as_str()
                .unwrap_or_default()
                .get(..19)
                .unwrap_or_default(),
            row[4]
                .as_str()
                .unwrap_or_default()
                .split(":repository/")
                .nth(1)
                .unwrap_or_default()
                .split("/sha256")
                .next()
                .unwrap_or_default()
        );
    }
}

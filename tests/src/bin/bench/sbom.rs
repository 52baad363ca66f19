//! SBOM benchmark: the sbom-transformer's conversion (file in, two Parquet
//! files out, so the figure is the conversion, not S3) on SPDX SBOMs of 2 k
//! and 100 k packages, side by side with the Python baseline of the AWS
//! blog's Lambda (json.load + pandas + pyarrow `to_parquet`,
//! `tools/sbom_baseline.py`). Both sides are timed over the same span in
//! process (the library here, the baseline's own timer there) and as whole
//! processes (the release binary's offline `convert`, python with its
//! imports), with each process's peak RSS (`ru_maxrss`).

use std::path::Path;

use e2e_tests::local_cloud::{python, LocalCloud};
use e2e_tests::workspace::{event, function_binary, root, ScratchDir};
use serde_json::{json, Value};

use crate::Case;

#[path = "../../../../crates/sbom-transformer/benches/spdx_fixture.rs"]
mod spdx_fixture;
use spdx_fixture::{spdx_sbom, DIGEST};

fn export_key() -> String {
    format!(
        "raw/SPDX_2_3_outputs_bench/account=123456789012/resource=AWS_ECR_CONTAINER_IMAGE/arn:aws:ecr:us-east-1:123456789012:repository_bench_{DIGEST}_SPDX_2_3.json"
    )
}

/// The trigger's cold-start case (configuration only).
pub fn trigger_case() -> Case {
    Case {
        function: "sbom-export-trigger",
        env: vec![
            ("RAW_BUCKET".into(), "bench-sbom-raw".into()),
            (
                "KMS_KEY_ARN".into(),
                "arn:aws:kms:us-east-1:123456789012:key/bench".into(),
            ),
        ],
        events: vec![],
    }
}

/// The transformer's cold-start case: it converts a 2 k-package SBOM from
/// moto's S3 before its RSS is read.
pub async fn transformer_case(cloud: &LocalCloud) -> Case {
    let s3 = cloud.s3().await;
    for b in ["bench-sbom-raw", "bench-sbom-out"] {
        let _ = s3.create_bucket().bucket(b).send().await;
    }
    s3.put_object()
        .bucket("bench-sbom-raw")
        .key(export_key())
        .body(spdx_sbom(2_000).into_bytes().into())
        .send()
        .await
        .expect("put the benchmark SBOM");
    let mut created = event("sbom-transformer", "eventbridge-object-created");
    created["detail"]["bucket"]["name"] = json!("bench-sbom-raw");
    created["detail"]["object"]["key"] = json!(export_key());
    Case {
        function: "sbom-transformer",
        env: vec![("TRANSFORMED_BUCKET".into(), "bench-sbom-out".into())],
        events: vec![created],
    }
}

fn measure(command: &[&str]) -> Value {
    let out = std::process::Command::new(python())
        .arg(root().join("tools/sbom_baseline.py"))
        .arg("measure")
        .args(command)
        .output()
        .expect("run the measurer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("measurer output")
}

fn best_of(runs: usize, command: &[&str]) -> (f64, f64, Value) {
    let mut best = (f64::INFINITY, 0.0, Value::Null);
    for _ in 0..runs {
        let m = measure(command);
        let seconds = m["seconds"].as_f64().unwrap_or(f64::NAN);
        if seconds < best.0 {
            best = (
                seconds,
                m["peak_rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0,
                m,
            );
        }
    }
    best
}

/// Best of `runs` in-process conversions by the library, each timed from
/// reading the SBOM file to the second Parquet file written: the span the
/// baseline's own timer covers.
fn in_process(runs: usize, file: &Path, out: &Path, arn: &str) -> f64 {
    (0..runs)
        .map(|_| {
            let started = std::time::Instant::now();
            sbom_transformer::cli::convert_file(file, out, Some(arn))
                .unwrap_or_else(|(_, e)| panic!("convert: {e}"));
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The baseline's own timer, best of `runs` conversions in one process.
fn baseline_in_process(runs: usize, file: &Path, out: &Path) -> f64 {
    let m = measure(&[
        python().to_str().unwrap(),
        root().join("tools/sbom_baseline.py").to_str().unwrap(),
        "convert",
        file.to_str().unwrap(),
        out.to_str().unwrap(),
        &runs.to_string(),
    ]);
    serde_json::from_str::<Value>(m["stdout"].as_str().unwrap_or("{}"))
        .ok()
        .and_then(|v| v["seconds"].as_f64())
        .unwrap_or(f64::NAN)
}

/// Interleaved in-process rounds per SBOM size (odd, so one is the median).
const ROUNDS: usize = 5;

/// The side-by-side table.
pub fn conversion() {
    // The allocator settings the shipped binary's main makes (the sections
    // after this one run with them too).
    let _ = sbom_transformer::heap::keep_freed_memory();
    let dir = ScratchDir::new("sbom-bench");
    let binary = function_binary("sbom-transformer");
    let arn = format!("arn:aws:ecr:us-east-1:123456789012:repository/bench/{DIGEST}");
    println!(
        "{:<9} {:>8} {:>8} {:>8} {:>8} {:>11} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8}",
        "packages",
        "file",
        "rust s",
        "python s",
        "speed-up",
        "range",
        "rust p s",
        "py p s",
        "p ratio",
        "rust RSS",
        "py RSS",
        "RSS/file"
    );
    for packages in [2_000usize, 100_000] {
        let file = dir.join(format!("sbom-{packages}.json"));
        let text = spdx_sbom(packages);
        std::fs::write(&file, &text).expect("write SBOM");
        let out = dir.join(format!("out-{packages}"));
        // Interleaved rounds: this VM's speed drifts by a third over a few
        // seconds, so each round's ratio sets the two sides side by side
        // in the same stretch of time; the median round is printed.
        let mut rounds: Vec<(f64, f64)> = (0..ROUNDS)
            .map(|_| {
                let rust = in_process(10, &file, &out.join("rust-lib"), &arn);
                let python = baseline_in_process(5, &file, &out.join("python-loop"));
                (rust, python)
            })
            .collect();
        rounds.sort_by(|a, b| (a.1 / a.0).total_cmp(&(b.1 / b.0)));
        let (rust_s, py_s) = rounds[ROUNDS / 2];
        let (low, high) = (
            rounds[0].1 / rounds[0].0,
            rounds[ROUNDS - 1].1 / rounds[ROUNDS - 1].0,
        );
        let (rust_p, rust_rss, _) = best_of(
            5,
            &[
                binary.to_str().unwrap(),
                "convert",
                file.to_str().unwrap(),
                "--out",
                out.join("rust").to_str().unwrap(),
                "--image-arn",
                &arn,
            ],
        );
        let python = python();
        let baseline = root().join("tools/sbom_baseline.py");
        let (py_p, py_rss, _) = best_of(
            3,
            &[
                python.to_str().unwrap(),
                baseline.to_str().unwrap(),
                "convert",
                file.to_str().unwrap(),
                out.join("python").to_str().unwrap(),
            ],
        );
        println!(
            "{:<9} {:>6.1}MB {:>8.4} {:>8.4} {:>7.1}x {:>11} {:>8.3} {:>8.3} {:>7.1}x {:>7.1}MB {:>7.1}MB {:>7.2}x",
            packages,
            text.len() as f64 / 1e6,
            rust_s,
            py_s,
            py_s / rust_s,
            format!("{low:.1}-{high:.1}x"),
            rust_p,
            py_p,
            py_p / rust_p,
            rust_rss,
            py_rss,
            rust_rss / (text.len() as f64 / (1024.0 * 1024.0)),
        );
    }
    println!(
        "(rust s / python s: in process, best of 10 / 5, from reading the SBOM file to the second"
    );
    println!(
        " Parquet file written, the library's `cli::convert_file` vs the baseline's own timer;"
    );
    println!(
        " {ROUNDS} rounds, each timing both sides back to back: the median round's figures and"
    );
    println!(" speed-up, and the range of the rounds' speed-ups;");
    println!(" rust p s / py p s: whole processes (`convert` binary; python with its imports), best of 5 / 3;");
    println!(
        " RSS: peak resident set of those processes; RSS/file: rust peak RSS / SBOM file size)"
    );
}

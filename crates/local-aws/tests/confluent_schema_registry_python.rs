//! Cross-check against Confluent's own Python client: the registry must speak
//! exactly what `confluent-kafka[schemaregistry,avro]` speaks, since tests
//! produce records with it. Runs `tools/sr_python_client_check.py`.

mod common;

use std::path::{Path, PathBuf};

use common::{control_post, request_log};
use serde_json::json;

/// `PYTHON_FOR_TESTS`, else the venv Python next to `MOTO_SERVER` (which the
/// Makefile points into the project venv), else `<workspace>/.venv`.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("PYTHON_FOR_TESTS") {
        return PathBuf::from(python);
    }
    match std::env::var_os("MOTO_SERVER") {
        Some(moto) => Path::new(&moto).with_file_name("python"),
        None => workspace().join(".venv/bin/python"),
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the check script against `url`; panics with its output on failure.
async fn run_check(url: &str, extra: &[&str]) {
    let python = python();
    let script = workspace().join("tools/sr_python_client_check.py");
    // tokio's process API: the emulator runs on this test's runtime, which a
    // blocking wait would starve.
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(url)
        .args(extra)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): run `make venv`, or set PYTHON_FOR_TESTS to a Python \
                 with confluent-kafka[schemaregistry,avro]",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "{} {} failed ({}):\n{}{}",
        python.display(),
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn confluents_python_client_agrees_with_the_registry() {
    let aws = local_aws::spawn("127.0.0.1:0")
        .await
        .expect("emulator started");
    run_check(&aws.url, &[]).await;

    // The client reached every lookup path a consumer uses.
    let log = request_log(&aws.url).await;
    for operation in [
        "RegisterSchema",
        "LookupSchema",
        "GetSchemaById",
        "GetSchemaByGuid",
        "GetSubjectVersion",
        "ListAssociations",
    ] {
        assert!(
            log.iter()
                .any(|r| r["operation"] == operation && r["status"] == 200),
            "no successful {operation} in {log:?}"
        );
    }
    assert!(
        log.iter()
            .all(|r| r["service"] == "confluent-schema-registry"),
        "{log:?}"
    );
}

#[tokio::test]
async fn confluents_python_client_authenticates_with_basic_auth() {
    let aws = local_aws::spawn("127.0.0.1:0")
        .await
        .expect("emulator started");
    let auth = json!({"username": "SR-API-KEY", "password": "sr/secret+1"});
    let (status, body) = control_post(&aws.url, "confluent-schema-registry/auth", &auth).await;
    assert_eq!(status, 200, "{body}");
    run_check(&aws.url, &["--basic-auth", "SR-API-KEY:sr/secret+1"]).await;
}

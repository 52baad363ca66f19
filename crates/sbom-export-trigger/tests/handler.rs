//! The handler over a scripted Inspector: which calls it makes, with what,
//! how often it retries, and how each outcome is reported.

use std::sync::Mutex;
use std::time::Duration;

use common::{FailureClass, FunctionError, Invocation};
use sbom_export_trigger::config::{Config, SbomFormat};
use sbom_export_trigger::coverage::Coverage;
use sbom_export_trigger::handler::{handle, ExportRequest, ExportStatus, Inspector};
use serde_json::{json, Value};

const DIGEST: &str = "sha256:36c7b282abd0186e01419f2e58743e1bf635808231049bbc9d77e5a1b2c3d4e5";
const REPO_ARN: &str = "arn:aws:ecr:us-east-2:123456789012:repository/amazon/amazon-ecs-sample";

#[derive(Default)]
struct Scripted {
    coverage: Option<Coverage>,
    create_results: Mutex<Vec<Result<String, FunctionError>>>,
    statuses: Mutex<Vec<ExportStatus>>,
    created: Mutex<Vec<ExportRequest>>,
    coverage_calls: Mutex<Vec<String>>,
}

impl Inspector for Scripted {
    async fn coverage(&self, resource_id: &str) -> Result<Option<Coverage>, FunctionError> {
        self.coverage_calls
            .lock()
            .unwrap()
            .push(resource_id.to_string());
        Ok(self.coverage.clone())
    }
    async fn create_sbom_export(&self, request: &ExportRequest) -> Result<String, FunctionError> {
        self.created.lock().unwrap().push(request.clone());
        let mut r = self.create_results.lock().unwrap();
        if r.is_empty() {
            Ok("report-1".into())
        } else {
            r.remove(0)
        }
    }
    async fn export_status(&self, _: &str) -> Result<ExportStatus, FunctionError> {
        let mut s = self.statuses.lock().unwrap();
        Ok(if s.len() > 1 {
            s.remove(0)
        } else {
            s.first().cloned().unwrap_or(status("IN_PROGRESS"))
        })
    }
}

fn status(s: &str) -> ExportStatus {
    ExportStatus {
        status: s.into(),
        error_code: None,
        error_message: None,
    }
}

fn config() -> Config {
    Config {
        bucket: "raw-bucket".into(),
        key_prefix: "raw".into(),
        kms_key_arn: "arn:aws:kms:us-east-2:123456789012:key/k".into(),
        format: SbomFormat::CycloneDx14,
        scan_wait_limit: Duration::from_secs(1800),
        export_wait: Duration::from_secs(20),
    }
}

fn scan_event() -> Value {
    json!({"version": "0", "id": "1", "detail-type": "Inspector2 Scan", "source": "aws.inspector2",
        "account": "123456789012", "time": "2021-12-03T18:03:16Z", "region": "us-east-2", "resources": [REPO_ARN],
        "detail": {"scan-status": "INITIAL_SCAN_COMPLETE", "repository-name": REPO_ARN, "image-digest": DIGEST, "image-tags": []}})
}

fn push_event(time: &str) -> Value {
    json!({"version": "0", "id": "2", "detail-type": "ECR Image Action", "source": "aws.ecr",
        "account": "123456789012", "time": time, "region": "us-east-2", "resources": [],
        "detail": {"result": "SUCCESS", "repository-name": "amazon/amazon-ecs-sample", "image-digest": DIGEST, "action-type": "PUSH"}})
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[tokio::test(start_paused = true)]
async fn scan_complete_exports_exactly_that_image_and_follows_it() {
    let inspector = Scripted::default();
    *inspector.statuses.lock().unwrap() = vec![status("IN_PROGRESS"), status("SUCCEEDED")];
    let out = handle(scan_event(), Invocation::for_test(), &config(), &inspector)
        .await
        .unwrap();
    assert_eq!(out.report_id, "report-1");
    assert_eq!(out.status, "SUCCEEDED");
    let created = inspector.created.lock().unwrap();
    assert_eq!(
        *created,
        [ExportRequest {
            resource_id: format!("{REPO_ARN}/{DIGEST}"),
            format: SbomFormat::CycloneDx14,
            bucket: "raw-bucket".into(),
            key_prefix: "raw".into(),
            kms_key_arn: "arn:aws:kms:us-east-2:123456789012:key/k".into(),
        }]
    );
    assert!(
        inspector.coverage_calls.lock().unwrap().is_empty(),
        "a completed scan needs no coverage check"
    );
}

#[tokio::test(start_paused = true)]
async fn retries_throttling_and_internal_errors_only_and_boundedly() {
    let inspector = Scripted::default();
    *inspector.create_results.lock().unwrap() = vec![
        Err(FunctionError::retryable("ThrottlingException", "slow down")),
        Err(FunctionError::retryable("InternalServerException", "oops")),
        Ok("report-2".into()),
    ];
    let out = handle(scan_event(), Invocation::for_test(), &config(), &inspector)
        .await
        .unwrap();
    assert_eq!(out.report_id, "report-2");
    assert_eq!(inspector.created.lock().unwrap().len(), 3);

    let inspector = Scripted::default();
    *inspector.create_results.lock().unwrap() =
        vec![Err(FunctionError::permanent("AccessDeniedException", "no"))];
    let e = handle(scan_event(), Invocation::for_test(), &config(), &inspector)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind.as_str(), e.class),
        ("AccessDeniedException", FailureClass::Permanent)
    );
    assert_eq!(inspector.created.lock().unwrap().len(), 1);

    let inspector = Scripted::default();
    *inspector.create_results.lock().unwrap() = (0..10)
        .map(|_| Err(FunctionError::retryable("ThrottlingException", "slow down")))
        .collect();
    let e = handle(scan_event(), Invocation::for_test(), &config(), &inspector)
        .await
        .unwrap_err();
    assert_eq!(e.kind, "ThrottlingException");
    assert_eq!(inspector.created.lock().unwrap().len(), 5, "bounded");
}

#[tokio::test(start_paused = true)]
async fn a_failed_export_fails_with_inspectors_reason() {
    let inspector = Scripted::default();
    *inspector.statuses.lock().unwrap() = vec![ExportStatus {
        status: "FAILED".into(),
        error_code: Some("MALFORMED_KMS_KEY".into()),
        error_message: Some("key policy".into()),
    }];
    let e = handle(scan_event(), Invocation::for_test(), &config(), &inspector)
        .await
        .unwrap_err();
    assert_eq!(e.kind, "SbomExportFailed");
    assert!(e.message.contains("MALFORMED_KMS_KEY key policy"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn an_export_still_running_at_the_deadline_succeeds() {
    let inspector = Scripted::default();
    let out = handle(scan_event(), Invocation::for_test(), &config(), &inspector)
        .await
        .unwrap();
    assert_eq!(out.status, "IN_PROGRESS");
}

#[tokio::test(start_paused = true)]
async fn pushes_wait_for_the_scan_within_a_bound() {
    // Not covered yet, recent push: retry later, no export.
    let inspector = Scripted::default();
    let e = handle(
        push_event(&now_rfc3339()),
        Invocation::for_test(),
        &config(),
        &inspector,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.kind.as_str(), e.class),
        ("ImageNotScannedYet", FailureClass::Retryable)
    );
    assert_eq!(
        *inspector.coverage_calls.lock().unwrap(),
        [format!("{REPO_ARN}/{DIGEST}")]
    );
    assert!(inspector.created.lock().unwrap().is_empty());

    // Still pending long after the push: give up with the reason.
    let inspector = Scripted {
        coverage: Some(Coverage {
            status_code: "ACTIVE".into(),
            reason: "PENDING_INITIAL_SCAN".into(),
        }),
        ..Scripted::default()
    };
    let e = handle(
        push_event("2019-11-16T01:54:34Z"),
        Invocation::for_test(),
        &config(),
        &inspector,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.kind.as_str(), e.class),
        ("ImageNotScanned", FailureClass::Permanent)
    );
    assert!(e.message.contains("PENDING_INITIAL_SCAN"), "{e}");

    // Never scannable.
    let inspector = Scripted {
        coverage: Some(Coverage {
            status_code: "INACTIVE".into(),
            reason: "UNSUPPORTED_OS".into(),
        }),
        ..Scripted::default()
    };
    let e = handle(
        push_event(&now_rfc3339()),
        Invocation::for_test(),
        &config(),
        &inspector,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, "ImageNotScannable");

    // Scanned: exported by digest, untagged push included.
    let inspector = Scripted {
        coverage: Some(Coverage {
            status_code: "ACTIVE".into(),
            reason: "SUCCESSFUL".into(),
        }),
        ..Scripted::default()
    };
    let out = handle(
        push_event(&now_rfc3339()),
        Invocation::for_test(),
        &config(),
        &inspector,
    )
    .await
    .unwrap();
    assert_eq!(out.resource_id, format!("{REPO_ARN}/{DIGEST}"));
}

#[tokio::test]
async fn bad_events_are_invalid() {
    let inspector = Scripted::default();
    let e = handle(
        json!({"detail-type": "x", "source": "y", "detail": {}}),
        Invocation::for_test(),
        &config(),
        &inspector,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, "InvalidEvent");
    assert!(inspector.created.lock().unwrap().is_empty());
}

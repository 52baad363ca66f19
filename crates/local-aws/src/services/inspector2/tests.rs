use serde_json::json;

use super::*;

const HEX: &str = "36c7b282abd0186e01419f2e58743e1bf635808231049bbc9d77e5a1b2c3d4e5";

fn ctx() -> RequestContext {
    RequestContext::for_region("us-east-1")
}

fn image_id(repo: &str) -> String {
    format!("arn:aws:ecr:us-east-1:123456789012:repository/{repo}/sha256:{HEX}")
}

fn register(svc: &Inspector2, repo: &str, reason: &str) {
    svc.control(
        "POST",
        "images",
        json!({"resourceId": image_id(repo), "tags": ["v1"], "reason": reason,
               "statusCode": if reason == "SUCCESSFUL" { "ACTIVE" } else { "INACTIVE" }}),
    )
    .unwrap();
}

#[test]
fn coverage_is_filtered_and_paginated() {
    let svc = Inspector2::new();
    register(&svc, "a", "SUCCESSFUL");
    register(&svc, "team/b", "UNSUPPORTED_OS");
    register(&svc, "c", "SUCCESSFUL");
    let all = svc.handle(&ctx(), "ListCoverage", json!({})).unwrap();
    assert_eq!(all["coveredResources"].as_array().unwrap().len(), 3);

    let one = svc
        .handle(&ctx(), "ListCoverage", json!({"filterCriteria": {"resourceId": [{"comparison": "EQUALS", "value": image_id("team/b")}]}}))
        .unwrap();
    let entries = one["coveredResources"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0]["scanStatus"],
        json!({"statusCode": "INACTIVE", "reason": "UNSUPPORTED_OS"})
    );
    assert_eq!(
        entries[0]["resourceMetadata"]["ecrRepository"]["name"],
        "team/b"
    );

    let page1 = svc
        .handle(&ctx(), "ListCoverage", json!({"maxResults": 2}))
        .unwrap();
    assert_eq!(page1["coveredResources"].as_array().unwrap().len(), 2);
    let token = page1["nextToken"].as_str().unwrap();
    let page2 = svc
        .handle(
            &ctx(),
            "ListCoverage",
            json!({"maxResults": 2, "nextToken": token}),
        )
        .unwrap();
    assert_eq!(page2["coveredResources"].as_array().unwrap().len(), 1);
    assert!(page2.get("nextToken").is_none());

    let other_region = svc
        .handle(
            &RequestContext::for_region("eu-west-1"),
            "ListCoverage",
            json!({}),
        )
        .unwrap();
    assert!(other_region["coveredResources"]
        .as_array()
        .unwrap()
        .is_empty());

    let e = svc
        .handle(&ctx(), "ListCoverage", json!({"maxResults": 0}))
        .unwrap_err();
    assert_eq!(e.code, "ValidationException");
}

#[test]
fn create_validates_like_the_api_reference() {
    let svc = Inspector2::new();
    let dest = json!({"bucketName": "b", "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k"});
    for (input, why) in [
        (json!({"s3Destination": dest}), "reportFormat is required"),
        (
            json!({"reportFormat": "CYCLONEDX_1_5", "s3Destination": dest}),
            "must be CYCLONEDX_1_4 or SPDX_2_3",
        ),
        (
            json!({"reportFormat": "SPDX_2_3"}),
            "s3Destination is required",
        ),
        (
            json!({"reportFormat": "SPDX_2_3", "s3Destination": {"bucketName": "b"}}),
            "kmsKeyArn is required",
        ),
        (
            json!({"reportFormat": "SPDX_2_3", "s3Destination": dest, "resourceFilterCriteria": {"resourceId": []}}),
            "1 to 10",
        ),
        (
            json!({"reportFormat": "SPDX_2_3", "s3Destination": dest, "resourceFilterCriteria": {"resourceId": [{"comparison": "PREFIX", "value": "x"}]}}),
            "not a valid comparison",
        ),
    ] {
        let e = svc.handle(&ctx(), "CreateSbomExport", input).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(e.message.contains(why), "{why}: {}", e.message);
    }
}

fn export_status(svc: &Inspector2, report: &str) -> Value {
    svc.handle(&ctx(), "GetSbomExport", json!({"reportId": report}))
        .unwrap()
}

#[test]
fn exports_fail_with_inspectors_error_codes() {
    let svc = Inspector2::new();
    register(&svc, "scanned", "SUCCESSFUL");
    register(&svc, "unscanned", "PENDING_INITIAL_SCAN");
    let create = |resource: &str, kms: &str| {
        svc.handle(
            &ctx(),
            "CreateSbomExport",
            json!({"reportFormat": "SPDX_2_3",
            "resourceFilterCriteria": {"resourceId": [{"comparison": "EQUALS", "value": resource}]},
            "s3Destination": {"bucketName": "b", "kmsKeyArn": kms}}),
        )
        .unwrap()["reportId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let good_key = "arn:aws:kms:us-east-1:123456789012:key/k";
    let r = create(
        &image_id("scanned"),
        "arn:aws:kms:eu-west-1:123456789012:key/k",
    );
    assert_eq!(export_status(&svc, &r)["errorCode"], "MALFORMED_KMS_KEY");
    let r = create(&image_id("unscanned"), good_key);
    let s = export_status(&svc, &r);
    assert_eq!(
        (s["status"].as_str(), s["errorCode"].as_str()),
        (Some("FAILED"), Some("NO_FINDINGS_FOUND"))
    );
    let r = create(&image_id("scanned"), good_key);
    let s = export_status(&svc, &r);
    assert_eq!(
        s["errorCode"], "INTERNAL_ERROR",
        "no S3 endpoint configured: {s}"
    );
    assert_eq!(s["format"], "SPDX_2_3");

    let e = svc
        .handle(&ctx(), "GetSbomExport", json!({"reportId": "nope"}))
        .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.status),
        ("ResourceNotFoundException", 404)
    );
}

#[test]
fn rendered_sboms_have_inspectors_shapes() {
    let facts = render::ImageFacts {
        account_id: "123456789012",
        resource_id: &image_id("team/app"),
        platform: "DEBIAN_12",
        architecture: "arm64",
        created: "2026-11-20T08:30:00Z",
    };
    let packages = render::default_packages("arm64");
    let spdx = render::spdx(&facts, &packages);
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert!(
        spdx.get("dataLicense").is_none(),
        "Inspector omits dataLicense"
    );
    assert_eq!(spdx["packages"].as_array().unwrap().len(), packages.len());
    assert_eq!(
        spdx["documentNamespace"],
        format!("ECR://{}/DEBIAN_12/null/arm64", image_id("team/app"))
    );
    let cdx = render::cyclonedx(&facts, "sha256:cfg", &packages);
    assert_eq!(cdx["metadata"]["component"], Value::Null);
    assert!(cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c.get("version").is_none()));
    let refs: Vec<&str> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    for v in cdx["vulnerabilities"].as_array().unwrap() {
        for a in v["affects"].as_array().unwrap() {
            assert!(
                refs.contains(&a["ref"].as_str().unwrap()),
                "every ref resolves"
            );
        }
    }
    let unique: std::collections::HashSet<_> = refs.iter().collect();
    assert_eq!(unique.len(), refs.len(), "bom-refs are unique");
}

#[test]
fn s3_endpoint_control() {
    let svc = Inspector2::new();
    svc.control("POST", "s3-endpoint", json!({"url": "http://127.0.0.1:1/"}))
        .unwrap();
    assert_eq!(
        svc.control("GET", "s3-endpoint", json!({})).unwrap()["url"],
        "http://127.0.0.1:1"
    );
    assert!(svc
        .control("POST", "s3-endpoint", json!({"url": "ftp://x"}))
        .is_err());
    assert_eq!(rfc3339_now().len(), 20);
}

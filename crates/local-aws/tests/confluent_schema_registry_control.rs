//! The schema registry's basic auth, fault injection, request log,
//! compatibility settings and route table, over plain HTTP.

mod common;
mod sr_common;

use std::time::{Duration, Instant};

use common::{authorization, control_post, request_log};
use reqwest::Method;
use serde_json::{json, Value};
use sr_common::{assert_error, call, call_with, get, register_ok, start, EVENT_V1};

#[tokio::test]
async fn basic_auth_is_off_by_default_and_enforced_once_set() {
    let aws = start().await;
    let url = &aws.url;
    register_ok(url, "events-value", EVENT_V1).await;
    // Off: any Authorization (or none) is accepted, SigV4 included.
    for authz in [
        None,
        Some("Basic d3Jvbmc6d3Jvbmc="),
        Some(authorization("eu-west-1", "s3").as_str()),
    ] {
        let (status, _, _) = call_with(url, Method::GET, "/schemas/ids/1", None, authz).await;
        assert_eq!(status, 200, "{authz:?}");
    }

    let (status, body) = control_post(
        url,
        "confluent-schema-registry/auth",
        &json!({"username": "KEY", "password": "SECRET"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (200, json!({"enabled": true, "username": "KEY"}))
    );
    let good = "Basic S0VZOlNFQ1JFVA=="; // KEY:SECRET
    for authz in [
        None,
        Some("Basic S0VZOldST05H"),
        Some("Bearer S0VZOlNFQ1JFVA=="),
    ] {
        let (status, content_type, body) =
            call_with(url, Method::GET, "/schemas/ids/1", None, authz).await;
        assert_eq!(
            (status, body),
            (401, json!({"error_code": 401, "message": "Unauthorized"})),
            "{authz:?}"
        );
        assert_eq!(content_type, "application/vnd.schemaregistry.v1+json");
    }
    let (status, _, body) = call_with(url, Method::GET, "/schemas/ids/1", None, Some(good)).await;
    assert_eq!((status, body["schema"].as_str()), (200, Some(EVENT_V1)));
    let (status, _, _) = call_with(
        url,
        Method::GET,
        "/subjects",
        None,
        Some("basic  S0VZOlNFQ1JFVA== "),
    )
    .await;
    assert_eq!(status, 200, "the scheme is case-insensitive");

    // A refused call neither consumes a fault nor escapes the log.
    let fault = json!({"service": "confluent-schema-registry", "operation": "GetSchemaById", "count": 1,
                       "error": {"code": "50001", "status": 500, "message": "store down"}});
    assert_eq!(control_post(url, "faults", &fault).await.0, 200);
    assert_eq!(
        call_with(url, Method::GET, "/schemas/ids/1", None, None)
            .await
            .0,
        401
    );
    assert_eq!(
        call_with(url, Method::GET, "/schemas/ids/1", None, Some(good))
            .await
            .0,
        500
    );
    let log = request_log(url).await;
    let refused = log.iter().filter(|r| r["error"] == "401").count();
    assert_eq!(refused, 4, "{log:?}");

    let status = reqwest::get(format!("{url}/_local-aws/confluent-schema-registry/auth"))
        .await
        .unwrap();
    assert_eq!(
        status.json::<Value>().await.unwrap(),
        json!({"enabled": true, "username": "KEY"})
    );
    let off = reqwest::Client::new()
        .delete(format!("{url}/_local-aws/confluent-schema-registry/auth"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        off.json::<Value>().await.unwrap(),
        json!({"enabled": false})
    );
    assert_eq!(get(url, "/schemas/ids/1").await.0, 200);

    // Reset turns auth off with the rest of the state.
    control_post(
        url,
        "confluent-schema-registry/auth",
        &json!({"username": "K", "password": ""}),
    )
    .await;
    assert_eq!(get(url, "/subjects").await.0, 401);
    control_post(url, "reset", &json!({})).await;
    assert_eq!(get(url, "/subjects").await, (200, json!([])));

    let (status, _) = control_post(
        url,
        "confluent-schema-registry/auth",
        &json!({"username": "K"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = control_post(url, "confluent-schema-registry/nope", &json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = control_post(url, "no-such-service/auth", &json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn faults_and_latency_apply_to_registry_operations() {
    let aws = start().await;
    let url = &aws.url;
    register_ok(url, "events-value", EVENT_V1).await;
    let fault = json!({"service": "confluent-schema-registry", "operation": "GetSchemaById", "count": 2,
                       "error": {"code": "50001", "status": 500, "message": "Error in the backend datastore"}});
    assert_eq!(control_post(url, "faults", &fault).await.0, 200);
    for _ in 0..2 {
        let (status, body) = get(url, "/schemas/ids/1").await;
        assert_eq!(
            (status, body),
            (
                500,
                json!({"error_code": 50001, "message": "Error in the backend datastore"})
            )
        );
    }
    assert_eq!(get(url, "/schemas/ids/1").await.0, 200);
    // Other operations were never affected.
    assert_eq!(get(url, "/subjects/events-value/versions/1").await.0, 200);

    // An AWS-style error code is rendered with the status as error_code.
    let throttle = json!({"service": "confluent-schema-registry", "operation": "GetSchemaByGuid", "count": 1,
                          "error": {"code": "ThrottlingException", "status": 429, "message": "slow down"}});
    assert_eq!(control_post(url, "faults", &throttle).await.0, 200);
    let (status, body) = get(url, &format!("/schemas/guids/{}", uuid::Uuid::new_v4())).await;
    assert_eq!((status, body["error_code"].clone()), (429, json!(429)));

    let slow = json!({"service": "confluent-schema-registry", "operation": "GetSchemaById", "count": 1, "latency_ms": 300});
    assert_eq!(control_post(url, "faults", &slow).await.0, 200);
    let started = Instant::now();
    assert_eq!(get(url, "/schemas/ids/1").await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let misspelt = json!({"service": "confluent-schema-registry", "operation": "GetSchemaByID", "count": 1, "latency_ms": 1});
    assert_eq!(control_post(url, "faults", &misspelt).await.0, 400);

    let ops: Vec<(String, u64)> = request_log(url)
        .await
        .iter()
        .filter(|r| r["service"] == "confluent-schema-registry")
        .map(|r| {
            (
                r["operation"].as_str().unwrap().to_owned(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("RegisterSchema", 200),
        ("GetSchemaById", 500),
        ("GetSchemaById", 500),
        ("GetSchemaById", 200),
        ("GetSubjectVersion", 200),
        ("GetSchemaByGuid", 429),
        ("GetSchemaById", 200),
    ];
    let expected: Vec<(String, u64)> = expected
        .iter()
        .map(|(o, s)| ((*o).to_owned(), *s))
        .collect();
    assert_eq!(ops, expected);

    control_post(url, "reset", &json!({})).await;
    let (status, body) = get(url, "/schemas/ids/1").await;
    assert_error(status, &body, 404, 40403);
}

#[tokio::test]
async fn compatibility_config_is_stored_and_reported() {
    let aws = start().await;
    let url = &aws.url;
    assert_eq!(
        get(url, "/config").await,
        (200, json!({"compatibilityLevel": "BACKWARD"}))
    );
    let put = |path: &'static str, level: &'static str| async move {
        call(
            url,
            Method::PUT,
            path,
            Some(&json!({ "compatibility": level })),
        )
        .await
    };
    assert_eq!(
        put("/config", "full").await,
        (200, json!({"compatibility": "FULL"}))
    );
    let (status, body) = put("/config", "SIDEWAYS").await;
    assert_error(status, &body, 422, 42203);
    let (status, body) = get(url, "/config/events-value").await;
    assert_error(status, &body, 404, 40408);
    assert_eq!(
        get(url, "/config/events-value?defaultToGlobal=true")
            .await
            .1,
        json!({"compatibilityLevel": "FULL"})
    );
    assert_eq!(put("/config/events-value", "NONE").await.0, 200);
    assert_eq!(
        get(url, "/config/events-value").await.1,
        json!({"compatibilityLevel": "NONE"})
    );
    assert_eq!(
        call(url, Method::DELETE, "/config/events-value", None).await,
        (200, json!({"compatibilityLevel": "NONE"}))
    );
    // The client's default subject strategy asks for associations first.
    assert_eq!(
        get(
            url,
            "/associations/resources/-/orders?resourceType=topic&associationType=value"
        )
        .await,
        (200, json!([]))
    );
}

#[test]
fn registry_paths_cannot_collide_with_other_builtin_services() {
    let services = local_aws::services::builtin();
    let first_segment = |path: &str| {
        path.trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_owned()
    };
    let registry = services
        .iter()
        .find(|s| s.name() == "confluent-schema-registry")
        .expect("registry is built in");
    let registry_roots: Vec<String> = registry
        .rest_routes()
        .iter()
        .map(|r| first_segment(r.path))
        .collect();
    assert!(
        registry_roots.iter().all(|s| !s.starts_with('{')),
        "{registry_roots:?}"
    );
    for service in services.iter().filter(|s| s.name() != registry.name()) {
        for route in service.rest_routes() {
            let root = first_segment(route.path);
            assert!(
                !root.starts_with('{') && !registry_roots.contains(&root),
                "{} route {} {} could shadow or be shadowed by the schema registry",
                service.name(),
                route.method,
                route.path
            );
        }
    }
}

//! The placeholder `hello` binary, run as Lambda would run it, against the
//! local cloud: proves the harness, moto, the common start-up (config errors
//! at init, JSON logs, EMF) end to end.

use std::time::Duration;

use e2e_tests::local_cloud::LocalCloud;
use e2e_tests::runtime_api::{FunctionProcess, HarnessError, InvocationOutcome};
use e2e_tests::workspace::{event, function_binary};

const READY: Duration = Duration::from_secs(20);

async fn start(cloud: &LocalCloud, bucket: Option<&str>) -> FunctionProcess {
    let mut env = cloud.function_env();
    if let Some(b) = bucket {
        env.push(("GREETING_BUCKET".into(), b.into()));
    }
    FunctionProcess::spawn(&function_binary("hello"), "hello", &env)
        .await
        .unwrap()
}

#[tokio::test]
async fn writes_greetings_to_s3_with_logs_and_metrics() {
    let cloud = LocalCloud::start().await.unwrap();
    let s3 = cloud.s3().await;
    s3.create_bucket().bucket("greetings").send().await.unwrap();
    let function = start(&cloud, Some("greetings")).await;
    function.wait_ready(READY).await.unwrap();

    let outcome = function.invoke(&event("hello", "greeting")).await.unwrap();
    let response = outcome.success().unwrap_or_else(|| panic!("{outcome:?}"));
    assert_eq!(response["greeting"], "Hello, Ada!");
    let key = response["key"].as_str().unwrap();
    assert_eq!(key, "greetings/2d1b3c4e-0000-4000-8000-000000000001.json");

    let object = s3
        .get_object()
        .bucket("greetings")
        .key(key)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(body["greeting"], "Hello, Ada!");

    // A warm second invocation.
    let second = function.invoke(&event("hello", "greeting")).await.unwrap();
    assert!(second.success().is_some(), "{second:?}");

    let logs = function.json_logs();
    let written: Vec<_> = logs
        .iter()
        .filter(|l| l["message"] == "greeting written")
        .collect();
    assert_eq!(written.len(), 2, "{logs:#?}");
    assert_eq!(written[0]["cold_start"], true);
    assert_eq!(written[1]["cold_start"], false);
    assert_eq!(
        written[0]["correlation_id"],
        "2d1b3c4e-0000-4000-8000-000000000001"
    );
    assert_eq!(written[0]["service"], "hello");
    assert_eq!(written[0]["level"], "INFO");
    assert!(written[0]["function_request_id"]
        .as_str()
        .is_some_and(|id| id.len() == 36));
    assert!(written[0]["xray_trace_id"]
        .as_str()
        .is_some_and(|t| t.starts_with("Root=1-")));
    assert_ne!(
        written[0]["function_request_id"],
        written[1]["function_request_id"]
    );

    let emf: Vec<_> = logs.iter().filter(|l| l.get("_aws").is_some()).collect();
    let cold: Vec<_> = emf
        .iter()
        .filter(|l| l.get("ColdStart").is_some())
        .collect();
    assert_eq!(cold.len(), 1, "exactly one cold-start metric: {emf:#?}");
    let greetings: Vec<_> = emf
        .iter()
        .filter(|l| l.get("GreetingsWritten").is_some())
        .collect();
    assert_eq!(greetings.len(), 2, "one EMF flush per invocation");
    assert_eq!(
        greetings[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
        "service"
    );
}

#[tokio::test]
async fn bad_events_fail_with_errors_that_name_the_field() {
    let cloud = LocalCloud::start().await.unwrap();
    let function = start(&cloud, Some("greetings")).await;
    function.wait_ready(READY).await.unwrap();

    let outcome = function
        .invoke(&event("hello", "invalid-name"))
        .await
        .unwrap();
    let (kind, message) = outcome.error().unwrap_or_else(|| panic!("{outcome:?}"));
    assert_eq!(kind, "InvalidEvent");
    assert!(
        message.contains("detail.name must be 1 to 64 characters"),
        "{message}"
    );

    let outcome = function
        .invoke(&serde_json::json!({"id": "x", "detail-type": "Greeting Requested", "source": "s", "detail": {"name": 7}}))
        .await
        .unwrap();
    let (kind, message) = outcome.error().unwrap();
    assert_eq!(kind, "InvalidEvent");
    assert!(
        message.contains("detail.name: invalid type: integer `7`"),
        "{message}"
    );

    // The bucket does not exist: a permanent AWS error, named after the call.
    let outcome = function.invoke(&event("hello", "greeting")).await.unwrap();
    let (kind, message) = outcome.error().unwrap();
    assert_eq!(kind, "NoSuchBucket", "{message}");
    assert!(message.starts_with("s3:PutObject failed"), "{message}");

    let errors: Vec<_> = function
        .json_logs()
        .into_iter()
        .filter(|l| l["level"] == "ERROR")
        .collect();
    assert_eq!(
        errors.len(),
        3,
        "each failed invocation is logged once at ERROR: {errors:#?}"
    );
}

#[tokio::test]
async fn missing_configuration_fails_init_naming_the_variable() {
    let cloud = LocalCloud::start().await.unwrap();
    let function = start(&cloud, None).await;
    match function.wait_ready(READY).await {
        Err(HarnessError::InitFailed {
            error_type,
            error_message,
        }) => {
            assert_eq!(error_type, "Runtime.ConfigError");
            assert!(
                error_message.contains(
                    "GREETING_BUCKET: is not set; expected the S3 bucket greetings are written to"
                ),
                "{error_message}"
            );
        }
        other => panic!("expected an init error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_function_recovers_when_the_dependency_comes_back() {
    // A NoSuchBucket failure must not poison the sandbox: once the bucket
    // exists the same warm process succeeds.
    let cloud = LocalCloud::start().await.unwrap();
    let function = start(&cloud, Some("late")).await;
    function.wait_ready(READY).await.unwrap();
    let first = function.invoke(&event("hello", "greeting")).await.unwrap();
    assert!(matches!(first, InvocationOutcome::Error { .. }));
    cloud
        .s3()
        .await
        .create_bucket()
        .bucket("late")
        .send()
        .await
        .unwrap();
    let second = function.invoke(&event("hello", "greeting")).await.unwrap();
    assert!(second.success().is_some(), "{second:?}");
}

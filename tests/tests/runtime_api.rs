//! The local Runtime API harness, driven two ways: at the HTTP level by a fake runtime made of
//! reqwest calls, and as a real child process (shell scripts, and this test binary re-run as a
//! fake function by the ignored `fake_function` test).

use e2e_tests::runtime_api::{
    fake_runtime::{ApiReply, FakeRuntime},
    FunctionProcess, HarnessError, Invocation, InvocationOutcome, RuntimeApi,
    MAX_RESPONSE_PAYLOAD_BYTES,
};
use e2e_tests::workspace::ScratchDir;
use reqwest::{header::HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    future::Future,
    os::unix::fs::OpenOptionsExt,
    path::PathBuf,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

const STARTUP: Duration = Duration::from_secs(20);

/// Invokes `event` while `runtime` plays the function's side of the exchange.
async fn exchange<T>(
    api: &RuntimeApi,
    event: Value,
    runtime: impl Future<Output = T>,
) -> (Result<InvocationOutcome, HarnessError>, T) {
    tokio::join!(api.invoke(&event), runtime)
}

fn accepted(reply: reqwest::Result<ApiReply>) {
    let reply = reply.expect("POST reached the API");
    assert!(reply.is_accepted(), "{reply:?}");
}

fn rejected(reply: reqwest::Result<ApiReply>, status: StatusCode, error_type: &str) {
    let reply = reply.expect("POST reached the API");
    assert_eq!(
        (reply.status, reply.error_type()),
        (status, Some(error_type)),
        "{reply:?}"
    );
    assert!(reply.body["errorMessage"].is_string(), "{reply:?}");
}

fn header(headers: &HeaderMap, name: &str) -> String {
    let value = headers.get(name).unwrap_or_else(|| panic!("no {name}"));
    value.to_str().expect("ASCII header").to_owned()
}

fn json_header(headers: &HeaderMap, name: &str) -> Value {
    let value = headers.get(name).unwrap_or_else(|| panic!("no {name}"));
    serde_json::from_slice(value.as_bytes()).expect("JSON header")
}

fn epoch_millis(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH).unwrap().as_millis()
}

/// `Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=1`
fn assert_xray_trace_id(id: &str) {
    let hex = |range: std::ops::Range<usize>| id[range].bytes().all(|b| b.is_ascii_hexdigit());
    let shape = id.len() == 74 && id.starts_with("Root=1-") && &id[15..16] == "-";
    let shape = shape && &id[40..48] == ";Parent=" && id.ends_with(";Sampled=1");
    assert!(
        shape && hex(7..15) && hex(16..40) && hex(48..64),
        "trace id {id}"
    );
    let epoch = u64::from_str_radix(&id[7..15], 16).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        now.abs_diff(epoch) < 600,
        "trace epoch {epoch} is not now ({now})"
    );
}

#[tokio::test]
async fn next_long_polls_until_an_event_is_queued_and_carries_all_headers() {
    let api = RuntimeApi::start("orders").await.unwrap();
    let api = api.with_timeout(Duration::from_secs(7));
    let runtime = FakeRuntime::new(&api);
    let mut poll = tokio::spawn({
        let runtime = runtime.clone();
        async move { runtime.next().await }
    });
    api.wait_for_init(STARTUP)
        .await
        .expect("the poll reached the API");
    // The server holds the poll and nothing is queued, so it must still be open.
    let early = tokio::time::timeout(Duration::from_millis(300), &mut poll).await;
    assert!(early.is_err(), "/next returned with no event queued");

    let event = json!({"detail": {"orderId": "o-1", "note": "naïve"}});
    let context = json!({"client": {"installation_id": "i-1", "app_title": "ü"}, "custom": {}});
    let identity = json!({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"});
    let invocation = Invocation::new(&event)
        .with_client_context(context.clone())
        .with_cognito_identity(identity.clone());
    let before = SystemTime::now();
    let (report, next) = tokio::join!(api.invoke_detailed(invocation), async {
        let next = poll.await.unwrap().unwrap();
        accepted(runtime.respond(&next.request_id, r#"{"ok":true}"#).await);
        next
    });
    let after = SystemTime::now();
    let report = report.unwrap();

    assert_eq!(next.body, event);
    assert_eq!(
        report.outcome,
        InvocationOutcome::Success(json!({"ok": true}))
    );
    assert_eq!(report.request_id, next.request_id);
    uuid::Uuid::parse_str(&next.request_id).expect("request id is a UUID");
    let h = &next.headers;
    assert_eq!(header(h, "content-type"), "application/json");
    let arn = header(h, "lambda-runtime-invoked-function-arn");
    assert_eq!(arn, "arn:aws:lambda:us-east-1:123456789012:function:orders");
    let deadline: u128 = header(h, "lambda-runtime-deadline-ms").parse().unwrap();
    assert!(deadline >= epoch_millis(before) + 7_000 && deadline <= epoch_millis(after) + 7_000);
    assert_eq!(deadline, epoch_millis(report.deadline));
    let trace_id = header(h, "lambda-runtime-trace-id");
    assert_xray_trace_id(&trace_id);
    assert_eq!(trace_id, report.trace_id);
    assert_eq!(json_header(h, "lambda-runtime-client-context"), context);
    assert_eq!(json_header(h, "lambda-runtime-cognito-identity"), identity);
}

#[tokio::test]
async fn responses_are_returned_to_the_invoker_and_non_json_is_kept_raw() {
    let api = RuntimeApi::start("fn").await.unwrap();
    let runtime = FakeRuntime::new(&api);
    let (outcome, ()) = exchange(&api, json!({"a": 1}), async {
        let next = runtime.next().await.unwrap();
        accepted(runtime.respond(&next.request_id, r#"{"sum":1}"#).await);
    })
    .await;
    assert_eq!(outcome.unwrap().success(), Some(&json!({"sum": 1})));

    let invocation = Invocation::raw("not json");
    let (report, ()) = tokio::join!(api.invoke_detailed(invocation), async {
        let response = runtime.next_raw().await.unwrap();
        let id = header(response.headers(), "lambda-runtime-aws-request-id");
        assert_eq!(response.bytes().await.unwrap().as_ref(), b"not json");
        accepted(runtime.respond(&id, "plain text").await);
    });
    let report = report.unwrap();
    assert_eq!(
        report.outcome,
        InvocationOutcome::Success(json!("plain text"))
    );
    assert_eq!(report.raw_body, b"plain text");
}

#[tokio::test]
async fn errors_are_returned_with_type_and_message() {
    let api = RuntimeApi::start("fn").await.unwrap();
    let runtime = FakeRuntime::new(&api);
    let diagnostic = json!({"errorType": "OrderNotFound", "errorMessage": "no order o-9"});
    let (outcome, ()) = exchange(&api, json!({}), async {
        let next = runtime.next().await.unwrap();
        accepted(runtime.fail(&next.request_id, diagnostic.to_string()).await);
    })
    .await;
    let expected = InvocationOutcome::Error {
        error_type: "OrderNotFound".into(),
        error_message: "no order o-9".into(),
        body: diagnostic,
    };
    assert_eq!(outcome.unwrap(), expected);

    // Without a JSON body the header is all there is to go on.
    let (outcome, ()) = exchange(&api, json!({}), async {
        let next = runtime.next().await.unwrap();
        accepted(runtime.fail(&next.request_id, "segfault-ish").await);
    })
    .await;
    assert_eq!(
        outcome.unwrap().error(),
        Some(("unhandled", "segfault-ish"))
    );
}

#[tokio::test]
async fn init_errors_are_reported_and_only_accepted_during_init() {
    let api = RuntimeApi::start("fn").await.unwrap();
    let runtime = FakeRuntime::new(&api);
    accepted(
        runtime
            .init_error("ConfigError", "TABLE_NAME is not set")
            .await,
    );
    match api.wait_for_init(STARTUP).await {
        Err(HarnessError::InitFailed {
            error_type,
            error_message,
        }) => {
            assert_eq!(error_type, "ConfigError");
            assert_eq!(error_message, "TABLE_NAME is not set");
        }
        other => panic!("expected InitFailed, got {other:?}"),
    }
    let again = runtime.init_error("ConfigError", "again").await;
    rejected(again, StatusCode::FORBIDDEN, "InvalidStateTransition");

    let healthy = RuntimeApi::start("fn").await.unwrap();
    let runtime = FakeRuntime::new(&healthy);
    let (outcome, ()) = exchange(&healthy, json!({}), async {
        let next = runtime.next().await.unwrap();
        let late = runtime.init_error("ConfigError", "after init").await;
        rejected(late, StatusCode::FORBIDDEN, "InvalidStateTransition");
        accepted(runtime.respond(&next.request_id, "{}").await);
    })
    .await;
    assert!(outcome.unwrap().success().is_some());
    assert_eq!(healthy.init_error(), None);
}

#[tokio::test]
async fn posts_for_unknown_or_answered_requests_are_rejected_with_400() {
    let api = RuntimeApi::start("fn").await.unwrap();
    let runtime = FakeRuntime::new(&api);
    let unknown = uuid::Uuid::new_v4().to_string();
    let response = runtime.respond(&unknown, "{}").await;
    rejected(response, StatusCode::BAD_REQUEST, "InvalidRequestID");
    let error = runtime.fail(&unknown, "{}").await;
    rejected(error, StatusCode::BAD_REQUEST, "InvalidRequestID");

    let (outcome, ()) = exchange(&api, json!({}), async {
        let next = runtime.next().await.unwrap();
        accepted(runtime.respond(&next.request_id, r#""first""#).await);
        let again = runtime.respond(&next.request_id, r#""second""#).await;
        rejected(again, StatusCode::BAD_REQUEST, "InvalidRequestID");
        let error_after = runtime.fail(&next.request_id, "{}").await;
        rejected(error_after, StatusCode::BAD_REQUEST, "InvalidRequestID");
    })
    .await;
    assert_eq!(outcome.unwrap(), InvocationOutcome::Success(json!("first")));
}

#[tokio::test]
async fn an_oversized_response_gets_413_and_fails_the_invocation() {
    let api = RuntimeApi::start("fn").await.unwrap();
    let runtime = FakeRuntime::new(&api);
    let too_big = format!("\"{}\"", "a".repeat(MAX_RESPONSE_PAYLOAD_BYTES - 1));
    assert_eq!(too_big.len(), 6_291_557);
    let (outcome, ()) = exchange(&api, json!({}), async {
        let next = runtime.next().await.unwrap();
        let reply = runtime.respond(&next.request_id, too_big).await;
        rejected(
            reply,
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
        );
        let retry = runtime.respond(&next.request_id, "{}").await;
        rejected(retry, StatusCode::BAD_REQUEST, "InvalidRequestID");
    })
    .await;
    let outcome = outcome.unwrap();
    let (error_type, message) = outcome.error().expect("an error outcome");
    assert_eq!(error_type, "Function.ResponseSizeTooLarge");
    assert!(message.contains("(6291557 bytes) exceeded"), "{message}");
    assert!(message.contains("(6291556 bytes)"), "{message}");

    let at_limit = format!("\"{}\"", "b".repeat(MAX_RESPONSE_PAYLOAD_BYTES - 2));
    let (outcome, ()) = exchange(&api, json!({}), async {
        let next = runtime.next().await.unwrap();
        accepted(runtime.respond(&next.request_id, at_limit).await);
    })
    .await;
    let value = outcome
        .unwrap()
        .success()
        .cloned()
        .expect("accepted at the limit");
    assert_eq!(
        value.as_str().map(str::len),
        Some(MAX_RESPONSE_PAYLOAD_BYTES - 2)
    );
}

#[tokio::test]
async fn warm_invocations_are_served_one_at_a_time() {
    let api = RuntimeApi::start("fn").await.unwrap();
    let runtime = FakeRuntime::new(&api);
    let mut ids = Vec::new();
    for n in 0..3 {
        let (outcome, ()) = exchange(&api, json!({"n": n}), async {
            let next = runtime.next().await.unwrap();
            assert_eq!(next.body, json!({"n": n}));
            let overlapping = runtime.next_raw().await.unwrap();
            assert_eq!(
                overlapping.status(),
                StatusCode::FORBIDDEN,
                "/next mid-invocation"
            );
            accepted(runtime.respond(&next.request_id, format!("{n}")).await);
            ids.push(next.request_id);
        })
        .await;
        assert_eq!(outcome.unwrap(), InvocationOutcome::Success(json!(n)));
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "request ids must be fresh: {ids:?}");
}

#[tokio::test]
async fn a_timed_out_invocation_is_abandoned() {
    let api = RuntimeApi::start("fn").await.unwrap();
    let runtime = FakeRuntime::new(&api);
    api.set_timeout(Duration::from_millis(300));
    // Queue only once the poll is held, so the whole timeout is spent waiting for the answer.
    let invoke = async {
        api.wait_for_init(STARTUP).await.unwrap();
        api.invoke(&json!({})).await
    };
    let (result, next) = tokio::join!(invoke, runtime.next());
    assert!(
        matches!(result, Err(HarnessError::Timeout { .. })),
        "{result:?}"
    );
    let late = runtime.respond(&next.unwrap().request_id, "{}").await;
    rejected(late, StatusCode::BAD_REQUEST, "InvalidRequestID");

    api.set_timeout(Duration::from_secs(30));
    let (outcome, ()) = exchange(&api, json!({"again": true}), async {
        let next = runtime.next().await.unwrap();
        assert_eq!(next.body, json!({"again": true}));
        accepted(runtime.respond(&next.request_id, "1").await);
    })
    .await;
    assert_eq!(outcome.unwrap(), InvocationOutcome::Success(json!(1)));
}

/// A scratch directory holding one executable `bootstrap`.
fn with_script(body: &str) -> (ScratchDir, PathBuf) {
    let dir = ScratchDir::new("runtime-api");
    let path = dir.join("bootstrap");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o755);
    std::io::Write::write_all(&mut options.open(&path).unwrap(), body.as_bytes()).unwrap();
    (dir, path)
}

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// This test binary, re-run as the `fake_function` test in `mode`.
async fn spawn_fake(name: &str, mode: &str) -> (ScratchDir, FunctionProcess) {
    let exe = std::env::current_exe().unwrap();
    let args = "fake_function --exact --ignored --nocapture --test-threads=1";
    let (scratch, script) = with_script(&format!("#!/bin/sh\nexec '{}' {args}\n", exe.display()));
    let extra = env(&[("FAKE_FUNCTION_MODE", mode)]);
    let process = FunctionProcess::spawn(&script, name, &extra).await.unwrap();
    (scratch, process)
}

fn exited(err: HarnessError) -> (Option<i32>, String, Vec<String>) {
    match err {
        HarnessError::Exited {
            status,
            during,
            last_output,
        } => (status.code(), during, last_output),
        other => panic!("expected Exited, got {other:?}"),
    }
}

#[tokio::test]
async fn an_exit_before_ready_is_reported_with_status_and_output() {
    let (_scratch, script) = with_script(
        "#!/bin/sh\necho \"starting $AWS_LAMBDA_FUNCTION_NAME\"\n\
         echo 'fatal: TABLE_NAME is not set' >&2\nexec /bin/sh -c 'exit 3'\n",
    );
    let process = FunctionProcess::spawn(&script, "broken", &[])
        .await
        .unwrap();
    let err = process.wait_ready(STARTUP).await.unwrap_err();
    assert!(err.to_string().contains("TABLE_NAME"), "{err}");
    let (code, during, output) = exited(err);
    assert_eq!((code, during.as_str()), (Some(3), "during init"));
    assert!(output.contains(&"starting broken".to_owned()), "{output:?}");
    assert!(
        output.contains(&"fatal: TABLE_NAME is not set".to_owned()),
        "{output:?}"
    );
    assert_eq!(process.peak_rss_kib(), None);
}

#[tokio::test]
async fn the_environment_is_lambdas_and_the_host_env_does_not_leak() {
    let (scratch, script) = with_script("#!/bin/sh\nenv\n");
    let extra = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
        ("TABLE", "t"),
    ];
    let process = FunctionProcess::spawn(&script, "env-dump", &env(&extra))
        .await
        .unwrap();
    let (code, _, _) = exited(process.wait_ready(STARTUP).await.unwrap_err());
    assert_eq!(code, Some(0));
    let logs = process.logs();
    let child: HashMap<&str, &str> = logs.iter().filter_map(|l| l.split_once('=')).collect();
    let expected = format!(
        "AWS_LAMBDA_RUNTIME_API={} AWS_LAMBDA_FUNCTION_NAME=env-dump \
         AWS_LAMBDA_FUNCTION_VERSION=$LATEST AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 \
         AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/env-dump AWS_LAMBDA_INITIALIZATION_TYPE=on-demand \
         AWS_LAMBDA_LOG_FORMAT=JSON AWS_LAMBDA_LOG_LEVEL=DEBUG AWS_REGION=eu-west-1 \
         AWS_DEFAULT_REGION=us-east-1 LAMBDA_TASK_ROOT={} LAMBDA_RUNTIME_DIR=/var/runtime \
         _HANDLER=bootstrap TZ=:UTC LANG=en_US.UTF-8 TABLE=t",
        process.api().address(),
        std::fs::canonicalize(&*scratch).unwrap().display(),
    );
    let expected: Vec<(&str, &str)> = expected
        .split(' ')
        .filter_map(|p| p.split_once('='))
        .collect();
    for (name, value) in &expected {
        assert_eq!(child.get(name), Some(value), "{name}");
    }
    let present = [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "PATH",
    ];
    for name in present {
        assert!(
            child.get(name).is_some_and(|v| !v.is_empty()),
            "{name} missing"
        );
    }
    let stream = child["AWS_LAMBDA_LOG_STREAM_NAME"];
    assert!(
        stream.len() == 52 && stream[10..].starts_with("/[$LATEST]"),
        "{stream}"
    );
    let arn = process.api().function_arn();
    assert_eq!(
        arn,
        "arn:aws:lambda:eu-west-1:123456789012:function:env-dump"
    );
    // Exactly Lambda's variables plus ours: anything else came from the host. The shell may add
    // PWD and friends itself.
    let other = "AWS_LAMBDA_LOG_STREAM_NAME AWS_XRAY_CONTEXT_MISSING AWS_XRAY_DAEMON_ADDRESS \
                 _AWS_XRAY_DAEMON_ADDRESS _AWS_XRAY_DAEMON_PORT LD_LIBRARY_PATH PWD OLDPWD SHLVL _";
    let other: Vec<&str> = other.split(' ').collect();
    let known = |name: &&str| {
        other.contains(name) || present.contains(name) || expected.iter().any(|(n, _)| n == name)
    };
    let unexpected: Vec<&&str> = child.keys().filter(|name| !known(name)).collect();
    assert!(
        unexpected.is_empty(),
        "leaked or unexpected variables: {unexpected:?}"
    );
}

#[tokio::test]
async fn a_process_serves_warm_invocations_and_is_measured() {
    let (_scratch, process) = spawn_fake("echo-fn", "echo").await;
    let init = process.wait_ready(STARTUP).await.unwrap();
    assert!(init > Duration::ZERO && init < STARTUP);
    let mut ids = Vec::new();
    for n in 0..3 {
        let report = process
            .invoke_detailed(Invocation::new(&json!({"n": n})))
            .await
            .unwrap();
        let id = report.request_id;
        let expected = json!({"echo": {"n": n}, "function": "echo-fn", "requestId": id});
        assert_eq!(report.outcome, InvocationOutcome::Success(expected));
        ids.push(id);
    }
    // Lines written before each response are captured by the time invoke returns.
    let handled: Vec<Value> = (process.json_logs().into_iter())
        .filter(|l| l["message"] == "handled")
        .collect();
    let logged: Vec<&str> = handled
        .iter()
        .filter_map(|l| l["requestId"].as_str())
        .collect();
    assert_eq!(logged, ids);
    assert!(process.logs().iter().any(|l| l == "plain stderr line"));
    // One written after the response has to be waited for.
    let late = |l: &Value| l["message"] == "after response" && l["requestId"] == ids[2];
    let line = process.wait_for_json_log(STARTUP, late).await.unwrap();
    assert_eq!(line["level"], "DEBUG");
    assert!(process.peak_rss_kib().is_some_and(|kib| kib > 0));
    process.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_exit_mid_invocation_names_the_exit_status() {
    let (_scratch, process) = spawn_fake("crashy", "crash").await;
    process.wait_ready(STARTUP).await.unwrap();
    let (code, during, output) = exited(process.invoke(&json!({})).await.unwrap_err());
    assert_eq!((code, during.as_str()), (Some(70), "during the invocation"));
    assert!(
        output.iter().any(|l| l == "fatal: crashing on purpose"),
        "{output:?}"
    );
    let (code, during, _) = exited(process.shutdown().await.unwrap_err());
    assert_eq!((code, during.as_str()), (Some(70), "before shutdown"));
}

#[tokio::test]
async fn a_posted_init_error_fails_wait_ready() {
    let (_scratch, process) = spawn_fake("misconfigured", "init-error").await;
    match process.wait_ready(STARTUP).await {
        Err(HarnessError::InitFailed {
            error_type,
            error_message,
        }) => {
            assert_eq!(error_type, "ConfigError");
            assert_eq!(error_message, "TABLE_NAME is not set");
        }
        other => panic!("expected InitFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn a_timed_out_invocation_discards_the_process() {
    let (_scratch, process) = spawn_fake("stuck", "hang").await;
    let process = process.with_timeout(Duration::from_millis(500));
    process.wait_ready(STARTUP).await.unwrap();
    let result = process.invoke(&json!({})).await;
    assert!(
        matches!(result, Err(HarnessError::Timeout { .. })),
        "{result:?}"
    );
    let (_, during, _) = exited(process.invoke(&json!({})).await.unwrap_err());
    assert!(during.contains("killed by the harness"), "{during}");
    process.shutdown().await.unwrap();
}

/// The fake function spawned by the process tests. Does nothing when run directly.
#[tokio::test]
#[ignore = "the body of a fake function process spawned by other tests"]
async fn fake_function() {
    if let Ok(mode) = std::env::var("FAKE_FUNCTION_MODE") {
        // libtest leaves "test fake_function ... " unterminated on stdout.
        println!();
        e2e_tests::runtime_api::fake_runtime::run_scripted_function(&mode).await;
    }
}

//! Wire protocols: turns HTTP requests into `(service, operation, input)`
//! calls and their results back into the responses the AWS SDKs expect.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;

use crate::request_log::RequestRecord;
use crate::service::{RequestContext, Service, DEFAULT_ACCOUNT_ID, DEFAULT_REGION};
use crate::{AwsError, LocalAws};

const AWS_JSON_1_0: &str = "application/x-amz-json-1.0";
const AWS_JSON_1_1: &str = "application/x-amz-json-1.1";
const REST_JSON: &str = "application/json";

/// Entry point for every request outside `/_local-aws/`.
pub(crate) async fn dispatch(
    State(aws): State<LocalAws>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let scope = credential_scope(&headers);
    let ctx = RequestContext {
        region: scope
            .as_ref()
            .map_or(DEFAULT_REGION, |s| s.region.as_str())
            .to_owned(),
        account_id: DEFAULT_ACCOUNT_ID.to_owned(),
        request_id: uuid::Uuid::new_v4().to_string(),
        path_params: HashMap::new(),
        query_params: HashMap::new(),
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
    };
    let response =
        if method == Method::POST && uri.path() == "/" && headers.contains_key("x-amz-target") {
            aws_json(&aws, ctx.clone(), &headers, &body).await
        } else {
            let signing_name = scope.as_ref().map(|s| s.service.as_str());
            rest_json(&aws, ctx.clone(), &method, &uri, signing_name, &body).await
        };
    with_request_id(response, &ctx.request_id)
}

/// The `Credential=AKID/DATE/REGION/SERVICE/aws4_request` scope of a SigV4
/// `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CredentialScope {
    pub region: String,
    pub service: String,
}

pub(crate) fn credential_scope(headers: &HeaderMap) -> Option<CredentialScope> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = auth
        .split([' ', ','])
        .find_map(|part| part.trim().strip_prefix("Credential="))?;
    let mut parts = credential.split('/').skip(2);
    let region = parts.next().filter(|r| !r.is_empty())?;
    let service = parts.next().filter(|s| !s.is_empty())?;
    Some(CredentialScope {
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

async fn aws_json(
    aws: &LocalAws,
    ctx: RequestContext,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let content_type = match media_type(headers).as_deref() {
        Some(AWS_JSON_1_0) => AWS_JSON_1_0,
        Some(AWS_JSON_1_1) => AWS_JSON_1_1,
        other => {
            let err = AwsError::new(
                "UnsupportedMediaTypeException",
                415,
                format!(
                    "awsJson requests need content-type {AWS_JSON_1_0} or {AWS_JSON_1_1}, got {}",
                    other.unwrap_or("none")
                ),
            );
            return error_response(&err, AWS_JSON_1_0, json_error_body(&err));
        }
    };
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (prefix, operation) = target.split_once('.').unwrap_or((target, ""));
    let service = aws
        .inner
        .services
        .iter()
        .find(|s| s.json_target_prefix() == Some(prefix));
    let service_name = service.map_or("unknown", |s| s.name());
    let input = parse_body(body);
    let result = match (service, input) {
        (Some(service), Ok(input)) if service.operations().contains(&operation) => {
            if let Err(err) = service.authorize(&ctx) {
                Err(reject(aws, service_name, operation, &ctx, input, err))
            } else if input.is_object() {
                invoke(aws, service, operation, &ctx, input, 200).await
            } else {
                let err = AwsError::serialization("request body must be a JSON object");
                Err(reject(aws, service_name, operation, &ctx, input, err))
            }
        }
        (_, Ok(input)) => {
            let err = AwsError::unknown_operation(format!("unknown operation {target:?}"));
            Err(reject(aws, service_name, operation, &ctx, input, err))
        }
        (_, Err(bad)) => {
            let (raw, err) = *bad;
            Err(reject(aws, service_name, operation, &ctx, raw, err))
        }
    };
    match result {
        Ok(output) => json_response(StatusCode::OK, content_type, &output),
        Err(err) => error_response(&err, content_type, json_error_body(&err)),
    }
}

async fn rest_json(
    aws: &LocalAws,
    mut ctx: RequestContext,
    method: &Method,
    uri: &Uri,
    signing_name: Option<&str>,
    body: &[u8],
) -> Response {
    let mut candidates = aws.inner.services.iter().flat_map(|service| {
        service.rest_routes().into_iter().filter_map(move |route| {
            let params = (route.method == method.as_str())
                .then(|| crate::route::match_template(route.path, uri.path()))??;
            Some((service, route, params))
        })
    });
    let first = candidates.next();
    // Several services may serve one path (e.g. `/tags/{arn}`); the SigV4
    // signing name says which one the client meant.
    let chosen = match (&first, signing_name) {
        (Some((service, ..)), Some(name)) if service.signing_name() != name => candidates
            .find(|(s, ..)| s.signing_name() == name)
            .or(first),
        _ => first,
    };
    let Some((service, route, params)) = chosen else {
        let err = AwsError::unknown_operation(format!("no operation at {method} {}", uri.path()))
            .with_status(404);
        let input = parse_body(body).unwrap_or_else(|bad| bad.0);
        let what = format!("{method} {}", uri.path());
        let err = reject(aws, "unknown", &what, &ctx, input, err);
        return error_response(&err, REST_JSON, json_error_body(&err));
    };
    ctx.path_params = params;
    ctx.query_params = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0.into_iter().collect())
        .unwrap_or_default();
    let operation = route.operation;
    let raw_body = service.raw_body_operations().contains(&operation);
    let parsed = if raw_body {
        Ok(Value::String(String::from_utf8_lossy(body).into_owned()))
    } else {
        parse_body(body)
    };
    // Authentication comes first, as at a real endpoint: an unauthenticated
    // call is refused whatever its body holds.
    let result = match (service.authorize(&ctx), parsed) {
        (Err(err), input) => {
            let input = input.unwrap_or_else(|bad| bad.0);
            Err(reject(aws, service.name(), operation, &ctx, input, err))
        }
        (Ok(()), Ok(input)) => {
            invoke(aws, service, operation, &ctx, input, route.success_status).await
        }
        (Ok(()), Err(bad)) => {
            let (raw, err) = *bad;
            Err(reject(aws, service.name(), operation, &ctx, raw, err))
        }
    };
    let content_type = service.rest_content_type();
    match result {
        Ok(_) if route.success_status == 204 => Response::builder()
            .status(StatusCode::NO_CONTENT)
            .body(Body::empty())
            .expect("static response parts are valid"),
        Ok(Value::String(text)) if raw_body => Response::builder()
            .status(status_code(route.success_status))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(text))
            .expect("static response parts are valid"),
        Ok(output) => json_response(status_code(route.success_status), content_type, &output),
        Err(err) => error_response(&err, content_type, service.rest_error_body(&err)),
    }
}

/// Runs one call with fault injection, recording it in the request log.
async fn invoke(
    aws: &LocalAws,
    service: &Arc<dyn Service>,
    operation: &str,
    ctx: &RequestContext,
    input: Value,
    success_status: u16,
) -> Result<Value, AwsError> {
    let log_id = aws
        .inner
        .log
        .start(record(service.name(), operation, ctx, input.clone()));
    let fault = aws.inner.faults.take(service.name(), operation);
    let result = async {
        if let Some(latency) = fault.as_ref().and_then(|f| f.latency) {
            tokio::time::sleep(latency).await;
        }
        if let Some(err) = fault.and_then(|f| f.error) {
            return Err(err);
        }
        // A bug in one handler must not take the emulator down mid-test.
        catch_unwind(AssertUnwindSafe(|| service.handle(ctx, operation, input))).unwrap_or_else(
            |panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(ToString::to_string)
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(AwsError::internal(format!(
                    "{} {operation} panicked: {what}",
                    service.name()
                )))
            },
        )
    }
    .await;
    match &result {
        Ok(_) => aws.inner.log.finish(log_id, success_status, None),
        Err(err) => aws
            .inner
            .log
            .finish(log_id, err.status, Some(err.code.clone())),
    }
    tracing::info!(
        service = service.name(),
        operation,
        region = ctx.region,
        error = result.as_ref().err().map(|e| e.code.as_str()),
        "call"
    );
    result
}

/// Logs a call refused before reaching its service; returns the error.
fn reject(
    aws: &LocalAws,
    service: &str,
    operation: &str,
    ctx: &RequestContext,
    input: Value,
    err: AwsError,
) -> AwsError {
    let id = aws.inner.log.start(record(service, operation, ctx, input));
    aws.inner.log.finish(id, err.status, Some(err.code.clone()));
    tracing::info!(
        service,
        operation,
        error = err.code,
        "refused: {}",
        err.message
    );
    err
}

fn record(service: &str, operation: &str, ctx: &RequestContext, input: Value) -> RequestRecord {
    RequestRecord {
        service: service.to_owned(),
        operation: operation.to_owned(),
        region: ctx.region.clone(),
        input,
        status: None,
        error: None,
    }
}

/// The body as JSON (`{}` when empty, as the SDKs send for input-less
/// operations); on failure the raw text, for the log, and the error (boxed:
/// the pair is large and the error path is rare).
fn parse_body(body: &[u8]) -> Result<Value, Box<(Value, AwsError)>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(body).map_err(|e| {
        let raw = Value::String(String::from_utf8_lossy(body).into_owned());
        Box::new((
            raw,
            AwsError::serialization(format!("malformed JSON request body: {e}")),
        ))
    })
}

fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next().unwrap_or_default();
    Some(media.trim().to_ascii_lowercase())
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The awsJson error body: the SDKs take the code from `__type` (or the
/// `x-amzn-ErrorType` header) and the text from `message`.
pub(crate) fn json_error_body(err: &AwsError) -> Value {
    serde_json::json!({ "__type": err.code, "message": err.message })
}

fn json_response(status: StatusCode, content_type: &'static str, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_string()))
        .expect("static response parts are valid")
}

pub(crate) fn error_response(err: &AwsError, content_type: &'static str, body: Value) -> Response {
    let mut response = json_response(status_code(err.status), content_type, &body);
    if let Ok(code) = HeaderValue::from_str(&err.code) {
        response.headers_mut().insert("x-amzn-errortype", code);
    }
    response
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        headers
    }

    #[test]
    fn credential_scope_is_read_from_sigv4_authorization() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/network-firewall/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab";
        assert_eq!(
            credential_scope(&headers(auth)),
            Some(CredentialScope {
                region: "eu-west-1".into(),
                service: "network-firewall".into()
            })
        );
        // Comma without space, as some signers write it.
        let auth = "AWS4-HMAC-SHA256 SignedHeaders=host,Credential=K/20240101/ap-south-1/kinesisanalytics/aws4_request,Signature=ab";
        assert_eq!(
            credential_scope(&headers(auth)).unwrap().region,
            "ap-south-1"
        );
    }

    #[test]
    fn missing_or_malformed_scope_yields_none() {
        assert_eq!(credential_scope(&HeaderMap::new()), None);
        assert_eq!(credential_scope(&headers("Bearer token")), None);
        // The schema registry's HTTP basic auth carries no scope.
        assert_eq!(credential_scope(&headers("Basic dXNlcjpwYXNz")), None);
        assert_eq!(
            credential_scope(&headers("AWS4-HMAC-SHA256 Credential=AKID/20240101")),
            None
        );
    }

    #[test]
    fn empty_body_is_an_empty_object_and_bad_json_keeps_raw_text() {
        assert_eq!(parse_body(b"  ").unwrap(), serde_json::json!({}));
        let (raw, err) = *parse_body(b"{oops").unwrap_err();
        assert_eq!(raw, "{oops");
        assert_eq!(err.code, "SerializationException");
    }
}

//! Failure classes shared by all functions.
//!
//! A function either retries (a throttled or unavailable dependency: fail the
//! invocation so the event source or EventBridge retries it) or gives up on a
//! record for good (bad input, a permission that will not appear by itself:
//! dead-letter it with the reason). [`classify_sdk_error`] makes that call for
//! AWS SDK errors once, for every function.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use lambda_runtime::Diagnostic;

/// Whether trying again later can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// Throttling, timeouts, 5xx, a conflict that a fresh read resolves.
    Retryable,
    /// Bad input or configuration, missing resources or permissions.
    Permanent,
}

/// An error a handler reports: a stable `kind` (the Lambda `errorType`, what
/// alarms and DLQ consumers match on), its class, and a message that says what
/// was wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    pub kind: String,
    pub class: FailureClass,
    pub message: String,
}

impl FunctionError {
    pub fn new(kind: impl Into<String>, class: FailureClass, message: impl Into<String>) -> Self {
        FunctionError {
            kind: kind.into(),
            class,
            message: message.into(),
        }
    }

    pub fn retryable(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(kind, FailureClass::Retryable, message)
    }

    pub fn permanent(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(kind, FailureClass::Permanent, message)
    }

    /// The event does not have the shape the function accepts.
    pub fn invalid_event(message: impl Into<String>) -> Self {
        Self::permanent("InvalidEvent", message)
    }

    /// An AWS call failed: class from [`classify_sdk_error`], kind from the
    /// service's error code, message naming the operation.
    pub fn from_sdk<E>(operation: &str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let class = classify_sdk_error(err);
        let (code, detail) = sdk_error_code_and_message(err);
        FunctionError::new(
            code.clone().unwrap_or_else(|| "AwsCallFailed".into()),
            class,
            format!(
                "{operation} failed: {}",
                detail.unwrap_or_else(|| code.unwrap_or_default())
            ),
        )
    }

    pub fn is_retryable(&self) -> bool {
        self.class == FailureClass::Retryable
    }

    /// Prefixes the message with where the failure happened.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for FunctionError {}

impl From<FunctionError> for Diagnostic {
    fn from(e: FunctionError) -> Self {
        Diagnostic {
            error_type: e.kind,
            error_message: e.message,
        }
    }
}

/// Error codes the AWS SDKs themselves treat as throttling or transient
/// (smithy-rs `aws-runtime` retry classifier), plus the 5xx family.
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// Whether an AWS error code means "try again later".
pub fn is_retryable_code(code: &str) -> bool {
    RETRYABLE_CODES.contains(&code)
}

/// Decides retryable vs permanent for any AWS SDK error.
///
/// Transport failures and timeouts are retryable (the request may never have
/// reached AWS); a request the SDK could not even build is permanent; service
/// errors are retryable for throttling/transient codes and any 5xx status.
pub fn classify_sdk_error<E>(err: &SdkError<E, HttpResponse>) -> FailureClass
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ConstructionFailure(_) => FailureClass::Permanent,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => FailureClass::Retryable,
        SdkError::ResponseError(r) => {
            if r.raw().status().is_server_error() {
                FailureClass::Retryable
            } else {
                // An unparseable 2xx/4xx body is a contract problem, not load.
                FailureClass::Permanent
            }
        }
        SdkError::ServiceError(s) => {
            let status = s.raw().status();
            match s.err().code() {
                Some(code) if is_retryable_code(code) => FailureClass::Retryable,
                _ if status.is_server_error() || status.as_u16() == 429 => FailureClass::Retryable,
                _ => FailureClass::Permanent,
            }
        }
        _ => FailureClass::Retryable,
    }
}

fn sdk_error_code_and_message<E>(
    err: &SdkError<E, HttpResponse>,
) -> (Option<String>, Option<String>)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(s) => (
            s.err().code().map(str::to_string),
            s.err()
                .message()
                .map(|m| format!("{} ({m})", s.err().code().unwrap_or("ServiceError"))),
        ),
        SdkError::TimeoutError(_) => (Some("Timeout".into()), Some("timed out".into())),
        SdkError::DispatchFailure(d) => (
            Some("DispatchFailure".into()),
            Some(format!(
                "could not reach the service: {:?}",
                d.as_connector_error()
            )),
        ),
        other => (
            None,
            Some(aws_smithy_types::error::display::DisplayErrorContext(other).to_string()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    #[derive(Debug)]
    struct TestErr(ErrorMetadata);
    impl std::fmt::Display for TestErr {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "test error")
        }
    }
    impl std::error::Error for TestErr {}
    impl ProvideErrorMetadata for TestErr {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    fn service_error(code: &str, status: u16) -> SdkError<TestErr, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message("boom").build();
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(TestErr(meta), raw)
    }

    #[test]
    fn throttling_and_5xx_are_retryable() {
        assert_eq!(
            classify_sdk_error(&service_error("ThrottlingException", 400)),
            FailureClass::Retryable
        );
        assert_eq!(
            classify_sdk_error(&service_error("SlowDown", 503)),
            FailureClass::Retryable
        );
        assert_eq!(
            classify_sdk_error(&service_error("Whatever", 500)),
            FailureClass::Retryable
        );
        assert_eq!(
            classify_sdk_error(&service_error("Whatever", 429)),
            FailureClass::Retryable
        );
    }

    #[test]
    fn client_errors_are_permanent() {
        for code in [
            "AccessDenied",
            "NoSuchKey",
            "ValidationException",
            "InvalidTokenException",
        ] {
            assert_eq!(
                classify_sdk_error(&service_error(code, 400)),
                FailureClass::Permanent,
                "{code}"
            );
        }
    }

    #[test]
    fn timeouts_and_dispatch_failures_are_retryable() {
        let t: SdkError<TestErr, HttpResponse> = SdkError::timeout_error("slow");
        assert_eq!(classify_sdk_error(&t), FailureClass::Retryable);
        let c: SdkError<TestErr, HttpResponse> = SdkError::construction_failure("bad input");
        assert_eq!(classify_sdk_error(&c), FailureClass::Permanent);
    }

    #[test]
    fn from_sdk_names_operation_and_code() {
        let e = FunctionError::from_sdk("s3:GetObject", &service_error("NoSuchKey", 404));
        assert_eq!(e.kind, "NoSuchKey");
        assert_eq!(e.class, FailureClass::Permanent);
        assert_eq!(e.message, "s3:GetObject failed: NoSuchKey (boom)");
        let d: Diagnostic = e.context("record 3").into();
        assert_eq!(d.error_type, "NoSuchKey");
        assert_eq!(
            d.error_message,
            "record 3: s3:GetObject failed: NoSuchKey (boom)"
        );
    }
}

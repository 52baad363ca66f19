//! Structured logs with Powertools-compatible keys.
//!
//! With `AWS_LAMBDA_LOG_FORMAT=JSON` (the template's setting) every line is one
//! flat JSON object: `level`, `timestamp` (RFC 3339, UTC, milliseconds),
//! `message`, `service`, `function_name`, `location`, and inside an invocation
//! `cold_start`, `function_request_id`, `xray_trace_id`, `correlation_id`,
//! plus the event's and enclosing spans' own fields. Powertools dashboards and
//! Logs Insights queries written for Python or TypeScript functions work
//! unchanged. Lambda's own log-level filtering reads the same `level` key.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (what the template's
//! `ApplicationLogLevel` sets), else `RUST_LOG` directives, else INFO.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Dependencies whose DEBUG output is a flood; they stay at INFO unless TRACE is asked for.
const CHATTY_TARGETS: &[&str] = &[
    "aws_smithy_runtime",
    "aws_config",
    "aws_sdk",
    "hyper",
    "hyper_util",
    "rustls",
    "h2",
];

/// Installs the global subscriber for a function. Safe to call twice (the
/// second call is a no-op), so tests can call it freely.
pub fn init(service: &str, function_name: &str) {
    let filter = filter_from(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    );
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let result = if json {
        tracing_subscriber::registry()
            .with(JsonLayer::new(service, function_name, std::io::stdout).with_filter(filter))
            .try_init()
    } else {
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(std::io::stdout)
                    .with_filter(filter),
            )
            .try_init()
    };
    if result.is_err() {
        tracing::debug!("a global subscriber was already installed");
    }
}

/// The level filter: `AWS_LAMBDA_LOG_LEVEL` wins over `RUST_LOG`.
pub fn filter_from(lambda_level: Option<&str>, rust_log: Option<&str>) -> Targets {
    if let Some(level) = lambda_level.and_then(parse_lambda_level) {
        let chatty = if level == LevelFilter::TRACE {
            LevelFilter::TRACE
        } else {
            level.min(LevelFilter::INFO)
        };
        return CHATTY_TARGETS
            .iter()
            .fold(Targets::new().with_default(level), |t, target| {
                t.with_target(*target, chatty)
            });
    }
    rust_log
        .and_then(|directives| Targets::from_str(directives).ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

fn parse_lambda_level(level: &str) -> Option<LevelFilter> {
    match level.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some(LevelFilter::TRACE),
        "DEBUG" => Some(LevelFilter::DEBUG),
        "INFO" => Some(LevelFilter::INFO),
        "WARN" | "WARNING" => Some(LevelFilter::WARN),
        "ERROR" | "FATAL" => Some(LevelFilter::ERROR),
        _ => None,
    }
}

/// Records `id` as the current invocation's `correlation_id`. Call it from the
/// handler's own task (not inside a child span), once the event is parsed.
pub fn set_correlation_id(id: &str) {
    tracing::Span::current().record("correlation_id", id);
}

/// A layer that writes one flat JSON object per event.
pub struct JsonLayer<W> {
    service: String,
    function_name: String,
    make_writer: W,
}

impl<W> JsonLayer<W> {
    pub fn new(service: &str, function_name: &str, make_writer: W) -> Self {
        JsonLayer {
            service: service.to_string(),
            function_name: function_name.to_string(),
            make_writer,
        }
    }
}

/// A span's fields, kept in its extensions.
struct SpanFields(Map<String, Value>);

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), serde_json::json!(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        Level::ERROR => "ERROR",
    }
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Map::new();
        attrs.record(&mut JsonVisitor(&mut fields));
        span.extensions_mut().insert(SpanFields(fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(SpanFields(fields)) = ext.get_mut::<SpanFields>() {
            values.record(&mut JsonVisitor(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        // lambda_runtime's panic layer logs every handler error again as a
        // Debug dump; `Startup::run` already logged it with structured fields.
        // Its panic report (which carries an `error` field) is kept.
        if meta.target() == "lambda_runtime::layers::panic"
            && meta.fields().field("error").is_none()
        {
            return;
        }
        let mut line = Map::new();
        line.insert("level".into(), level_name(meta.level()).into());
        line.insert(
            "timestamp".into(),
            humantime::format_rfc3339_millis(std::time::SystemTime::now())
                .to_string()
                .into(),
        );
        line.insert("message".into(), Value::String(String::new()));
        line.insert("service".into(), self.service.clone().into());
        line.insert("function_name".into(), self.function_name.clone().into());
        if let (Some(file), Some(n)) = (meta.file(), meta.line()) {
            line.insert("location".into(), format!("{file}:{n}").into());
        }
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                // lambda_runtime's own span repeats the request id in camelCase.
                if span.metadata().target().starts_with("lambda_runtime") {
                    continue;
                }
                if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                    for (k, v) in fields {
                        line.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        event.record(&mut JsonVisitor(&mut line));
        let mut out = self.make_writer.make_writer();
        let mut bytes = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        bytes.push(b'\n');
        let _ = out.write_all(&bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn capture(filter: Targets, f: impl FnOnce()) -> Vec<Value> {
        let buf = Buffer::default();
        let subscriber = tracing_subscriber::registry()
            .with(JsonLayer::new("svc", "fn-1", buf.clone()).with_filter(filter));
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn lines_carry_powertools_keys_and_invocation_context() {
        let lines = capture(filter_from(None, None), || {
            let span = tracing::info_span!(
                "invocation",
                function_request_id = "req-1",
                xray_trace_id = "Root=1-abc",
                cold_start = true,
                correlation_id = tracing::field::Empty
            );
            let _g = span.enter();
            set_correlation_id("evt-9");
            tracing::info!(records = 3, "processed the batch");
        });
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        assert_eq!(l["level"], "INFO");
        assert_eq!(l["message"], "processed the batch");
        assert_eq!(l["service"], "svc");
        assert_eq!(l["function_name"], "fn-1");
        assert_eq!(l["function_request_id"], "req-1");
        assert_eq!(l["xray_trace_id"], "Root=1-abc");
        assert_eq!(l["cold_start"], true);
        assert_eq!(l["correlation_id"], "evt-9");
        assert_eq!(l["records"], 3);
        let ts = l["timestamp"].as_str().unwrap();
        assert!(humantime::parse_rfc3339(ts).is_ok(), "{ts}");
        assert!(l["location"].as_str().unwrap().contains("logging.rs:"));
    }

    #[test]
    fn lambda_level_wins_over_rust_log() {
        let lines = capture(filter_from(Some("WARN"), Some("trace")), || {
            tracing::info!("hidden");
            tracing::warn!("shown");
        });
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["level"], "WARN");

        let lines = capture(filter_from(None, Some("debug")), || {
            tracing::debug!("shown")
        });
        assert_eq!(lines.len(), 1);
        let lines = capture(filter_from(Some("nonsense"), None), || {
            tracing::debug!("hidden")
        });
        assert!(lines.is_empty(), "an unknown level falls back to INFO");
    }

    #[test]
    fn sdk_debug_noise_is_capped_unless_trace() {
        let f = filter_from(Some("DEBUG"), None);
        assert!(f.would_enable("my_fn", &Level::DEBUG));
        assert!(!f.would_enable("aws_smithy_runtime::client", &Level::DEBUG));
        let f = filter_from(Some("TRACE"), None);
        assert!(f.would_enable("aws_smithy_runtime::client", &Level::TRACE));
    }
}

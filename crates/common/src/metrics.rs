//! CloudWatch Embedded Metric Format (EMF) metrics.
//!
//! Metrics are collected during an invocation and written as EMF JSON lines to
//! stdout once, when it ends; CloudWatch Logs extracts them asynchronously, so
//! recording a metric never costs an API call or adds latency. One `service`
//! dimension (Powertools' default) keeps the metric count and cost flat; the
//! cold-start metric is a separate blob with `function_name` and `service`
//! dimensions, as Powertools writes it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

/// EMF's limits: metrics per blob and values per metric.
const MAX_METRICS_PER_BLOB: usize = 100;
const MAX_VALUES_PER_METRIC: usize = 100;

/// CloudWatch metric units used by the functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
    Milliseconds,
    Bytes,
    Kilobytes,
    Percent,
    CountPerSecond,
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
            Unit::Kilobytes => "Kilobytes",
            Unit::Percent => "Percent",
            Unit::CountPerSecond => "Count/Second",
            Unit::None => "None",
        }
    }
}

/// Values recorded per metric name, with the metric's unit.
type Recorded = BTreeMap<String, (Unit, Vec<f64>)>;

/// One invocation's metrics. Clones share the same buffer.
#[derive(Debug, Clone)]
pub struct Metrics {
    namespace: Arc<str>,
    service: Arc<str>,
    recorded: Arc<Mutex<Recorded>>,
}

impl Metrics {
    pub fn new(namespace: &str, service: &str) -> Self {
        Metrics {
            namespace: namespace.into(),
            service: service.into(),
            recorded: Arc::default(),
        }
    }

    /// Records one value. Non-finite values cannot be represented in EMF and
    /// are dropped with a warning rather than poisoning the whole blob.
    pub fn add(&self, name: &str, unit: Unit, value: f64) {
        if name.is_empty() || name.len() > 255 || !value.is_finite() {
            tracing::warn!(metric = name, value, "dropping a metric EMF cannot carry");
            return;
        }
        let mut recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        let entry = recorded
            .entry(name.to_string())
            .or_insert((unit, Vec::new()));
        entry.1.push(value);
    }

    /// Shorthand for a count.
    pub fn count(&self, name: &str, n: usize) {
        self.add(name, Unit::Count, n as f64);
    }

    /// Drains the buffer into EMF documents, splitting at EMF's limits.
    pub fn render(&self, timestamp_ms: u64) -> Vec<Value> {
        let recorded =
            std::mem::take(&mut *self.recorded.lock().unwrap_or_else(|p| p.into_inner()));
        // Round r carries the r-th chunk of values of every metric, so a
        // metric appears at most once per blob.
        let mut rounds: Vec<Vec<(&str, Unit, &[f64])>> = Vec::new();
        for (name, (unit, values)) in &recorded {
            for (r, chunk) in values.chunks(MAX_VALUES_PER_METRIC).enumerate() {
                if rounds.len() <= r {
                    rounds.push(Vec::new());
                }
                rounds[r].push((name, *unit, chunk));
            }
        }
        rounds
            .iter()
            .flat_map(|round| round.chunks(MAX_METRICS_PER_BLOB))
            .map(|entries| {
                let mut doc = Map::new();
                let definitions: Vec<Value> = entries
                    .iter()
                    .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
                    .collect();
                doc.insert(
                    "_aws".into(),
                    json!({
                        "Timestamp": timestamp_ms,
                        "CloudWatchMetrics": [{
                            "Namespace": &*self.namespace,
                            "Dimensions": [["service"]],
                            "Metrics": definitions,
                        }]
                    }),
                );
                doc.insert("service".into(), json!(&*self.service));
                for (name, _, values) in entries {
                    let v = if values.len() == 1 {
                        json!(values[0])
                    } else {
                        json!(values)
                    };
                    doc.insert(name.to_string(), v);
                }
                Value::Object(doc)
            })
            .collect()
    }

    /// The cold-start document.
    pub fn cold_start(&self, function_name: &str, timestamp_ms: u64) -> Value {
        json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": &*self.namespace,
                    "Dimensions": [["function_name", "service"]],
                    "Metrics": [{"Name": "ColdStart", "Unit": "Count"}],
                }]
            },
            "function_name": function_name,
            "service": &*self.service,
            "ColdStart": 1,
        })
    }

    /// Writes everything recorded (and the cold-start document on a cold
    /// start) to stdout, one line per document.
    pub fn flush(&self, cold_start_of: Option<&str>) {
        use std::io::Write;
        let now = now_ms();
        let mut docs = self.render(now);
        if let Some(function_name) = cold_start_of {
            docs.insert(0, self.cold_start(function_name, now));
        }
        let mut out = std::io::stdout().lock();
        for doc in docs {
            let _ = writeln!(out, "{doc}");
        }
        let _ = out.flush();
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_blob_with_service_dimension() {
        let m = Metrics::new("Ns", "svc");
        m.count("RecordsFailed", 2);
        m.add("Latency", Unit::Milliseconds, 1.5);
        m.add("Latency", Unit::Milliseconds, 2.5);
        let docs = m.render(1700000000000);
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d["_aws"]["Timestamp"], 1700000000000u64);
        assert_eq!(d["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Ns");
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["service"]])
        );
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "RecordsFailed", "Unit": "Count"}])
        );
        assert_eq!(d["service"], "svc");
        assert_eq!(d["RecordsFailed"], 2.0);
        assert_eq!(d["Latency"], json!([1.5, 2.5]));
        assert!(m.render(0).is_empty(), "render drains the buffer");
    }

    #[test]
    fn splits_at_emf_limits() {
        let m = Metrics::new("Ns", "svc");
        for i in 0..150 {
            m.count(&format!("M{i:03}"), 1);
        }
        for _ in 0..250 {
            m.count("M000", 1);
        }
        let docs = m.render(0);
        for d in &docs {
            let defs = d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap();
            assert!(defs.len() <= 100);
            for def in defs {
                let v = &d[def["Name"].as_str().unwrap()];
                assert!(v.as_array().map_or(1, Vec::len) <= 100);
            }
        }
        let total_values: usize = docs
            .iter()
            .map(|d| {
                d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|def| {
                        d[def["Name"].as_str().unwrap()]
                            .as_array()
                            .map_or(1, Vec::len)
                    })
                    .sum::<usize>()
            })
            .sum();
        assert_eq!(
            total_values,
            150 + 250,
            "no value may be lost when splitting"
        );
    }

    #[test]
    fn drops_non_finite_values() {
        let m = Metrics::new("Ns", "svc");
        m.add("X", Unit::None, f64::NAN);
        m.add("", Unit::None, 1.0);
        assert!(m.render(0).is_empty());
    }

    #[test]
    fn cold_start_blob_has_function_dimension() {
        let d = Metrics::new("Ns", "svc").cold_start("fn-1", 5);
        assert_eq!(
            d["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["function_name", "service"]])
        );
        assert_eq!(d["ColdStart"], 1);
        assert_eq!(d["function_name"], "fn-1");
    }
}

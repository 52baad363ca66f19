//! Typed configuration from environment variables.
//!
//! Every problem is collected before anything is reported, so one failed
//! deploy shows all misconfigured variables at once, each with the form it
//! expects. A bad configuration fails the init phase (see
//! [`crate::runtime::Startup::config`]), never the first event.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// One misconfigured variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The environment variable's name.
    pub variable: String,
    /// What was wrong, including the expected form.
    pub problem: String,
}

/// All the configuration problems found at init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: ")?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{}: {}", p.variable, p.problem)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Reads variables and records every problem; [`Env::finish`] turns the
/// record into a result.
///
/// Getters return a placeholder (`Default` or the given default) when a
/// variable is bad, so a config struct can be built in one expression and
/// checked once.
pub struct Env {
    vars: HashMap<String, String>,
    problems: Vec<ConfigProblem>,
}

impl Env {
    /// The process environment.
    pub fn from_process() -> Self {
        Self::from_pairs(std::env::vars())
    }

    /// A given environment (tests, or a function that layers sources).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            problems: Vec::new(),
        }
    }

    fn raw(&self, name: &str) -> Option<&str> {
        // Lambda console users often leave a value of only spaces; treat it as unset.
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Records a problem found by the caller's own cross-field checks.
    pub fn problem(&mut self, variable: &str, problem: impl Into<String>) {
        self.problems.push(ConfigProblem {
            variable: variable.to_string(),
            problem: problem.into(),
        });
    }

    /// A required string.
    pub fn required(&mut self, name: &str, expected: &str) -> String {
        match self.raw(name) {
            Some(v) => v.to_string(),
            None => {
                self.problem(name, format!("is not set; expected {expected}"));
                String::new()
            }
        }
    }

    /// An optional string.
    pub fn optional(&self, name: &str) -> Option<String> {
        self.raw(name).map(str::to_string)
    }

    /// A required value parsed with `parse`, whose error is shown next to the expected form.
    pub fn required_with<T: Default, E: fmt::Display>(
        &mut self,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> T {
        match self.raw(name).map(|v| (v.to_string(), parse(v))) {
            Some((_, Ok(v))) => v,
            Some((raw, Err(e))) => {
                self.problem(name, format!("{raw:?} is not {expected} ({e})"));
                T::default()
            }
            None => {
                self.problem(name, format!("is not set; expected {expected}"));
                T::default()
            }
        }
    }

    /// An optional value parsed with `parse`, `default` when unset.
    pub fn parse_with<T, E: fmt::Display>(
        &mut self,
        name: &str,
        default: T,
        expected: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> T {
        let Some(raw) = self.raw(name).map(str::to_string) else {
            return default;
        };
        match parse(&raw) {
            Ok(v) => v,
            Err(e) => {
                self.problem(name, format!("{raw:?} is not {expected} ({e})"));
                default
            }
        }
    }

    /// An optional value with a `FromStr` form, `default` when unset.
    pub fn parse_or<T: FromStr>(&mut self, name: &str, default: T, expected: &str) -> T
    where
        T::Err: fmt::Display,
    {
        self.parse_with(name, default, expected, str::parse)
    }

    /// An optional boolean: `true`/`false` (any case), `1`/`0`.
    pub fn flag(&mut self, name: &str, default: bool) -> bool {
        self.parse_with(name, default, "true or false", |v| {
            match v.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err("not a boolean"),
            }
        })
    }

    /// A comma-separated list; empty items are ignored.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.raw(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `Ok(value)` when nothing was wrong, else every problem at once.
    pub fn finish<T>(self, value: T) -> Result<T, ConfigError> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Cfg {
        bucket: String,
        batch: u32,
        verbose: bool,
        prefix: Option<String>,
    }

    fn load(env: &[(&str, &str)]) -> Result<Cfg, ConfigError> {
        let mut e = Env::from_pairs(env.iter().copied());
        let cfg = Cfg {
            bucket: e.required("BUCKET", "an S3 bucket name"),
            batch: e.parse_or("BATCH", 10, "a positive integer"),
            verbose: e.flag("VERBOSE", false),
            prefix: e.optional("PREFIX"),
        };
        e.finish(cfg)
    }

    #[test]
    fn good_config_parses_with_defaults() {
        let cfg = load(&[("BUCKET", "b1"), ("VERBOSE", "TRUE")]).unwrap();
        assert_eq!(
            cfg,
            Cfg {
                bucket: "b1".into(),
                batch: 10,
                verbose: true,
                prefix: None
            }
        );
    }

    #[test]
    fn every_problem_is_reported_with_variable_and_expected_form() {
        let err = load(&[("BATCH", "ten"), ("VERBOSE", "maybe"), ("PREFIX", "   ")]).unwrap_err();
        let vars: Vec<_> = err.problems.iter().map(|p| p.variable.as_str()).collect();
        assert_eq!(vars, ["BUCKET", "BATCH", "VERBOSE"]);
        let text = err.to_string();
        assert!(
            text.contains("BUCKET: is not set; expected an S3 bucket name"),
            "{text}"
        );
        assert!(
            text.contains("BATCH: \"ten\" is not a positive integer"),
            "{text}"
        );
        assert!(
            text.contains("VERBOSE: \"maybe\" is not true or false"),
            "{text}"
        );
    }

    #[test]
    fn required_with_reports_parser_error() {
        let mut e = Env::from_pairs([("PORT", "70000")]);
        let port: u16 = e.required_with("PORT", "a TCP port", str::parse::<u16>);
        assert_eq!(port, 0);
        let err = e.finish(()).unwrap_err();
        assert!(
            err.to_string()
                .contains("PORT: \"70000\" is not a TCP port"),
            "{err}"
        );
    }

    #[test]
    fn list_splits_and_trims() {
        let e = Env::from_pairs([("L", " a, ,b ,c,")]);
        assert_eq!(e.list("L"), ["a", "b", "c"]);
        assert!(e.list("MISSING").is_empty());
    }
}

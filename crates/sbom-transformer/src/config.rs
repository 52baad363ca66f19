//! The function's configuration, from environment variables.

use common::config::Env;

/// Default largest SBOM accepted: far above real image SBOMs (a few MB) and
/// within what the default 1024 MB function converts (peak RSS about three
/// times the file).
pub const DEFAULT_MAX_SBOM_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the `sbom/` and `cve/` Parquet files go.
    pub transformed_bucket: String,
    /// Larger objects fail with `SbomTooLarge` instead of exhausting memory.
    pub max_sbom_bytes: u64,
}

impl Config {
    pub fn from_env(env: &mut Env) -> Self {
        Config {
            transformed_bucket: env.required(
                "TRANSFORMED_BUCKET",
                "the S3 bucket for the sbom/ and cve/ Parquet tables",
            ),
            max_sbom_bytes: env.parse_with(
                "MAX_SBOM_BYTES",
                DEFAULT_MAX_SBOM_BYTES,
                "a size in bytes from 1024 to 4294967296",
                |v| match v.parse::<u64>() {
                    Ok(n @ 1_024..=4_294_967_296) => Ok(n),
                    _ => Err("out of range"),
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_reports_all_problems() {
        let mut env = Env::from_pairs([("TRANSFORMED_BUCKET", "out")]);
        let c = Config::from_env(&mut env);
        let c = env.finish(c).unwrap();
        assert_eq!(c.transformed_bucket, "out");
        assert_eq!(c.max_sbom_bytes, DEFAULT_MAX_SBOM_BYTES);

        let mut env = Env::from_pairs([("MAX_SBOM_BYTES", "12")]);
        let c = Config::from_env(&mut env);
        let e = env.finish(c).unwrap_err().to_string();
        assert!(e.contains("TRANSFORMED_BUCKET"), "{e}");
        assert!(e.contains("MAX_SBOM_BYTES"), "{e}");
    }
}

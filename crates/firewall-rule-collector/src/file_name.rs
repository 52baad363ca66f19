//! The config object's key: `[prefix/]<region>-config.yaml|yml`.
//!
//! anfw-automate searched the key with an unanchored pattern (so
//! `eu-west-1-config.yaml.bak` counted) and knew only some Region prefixes
//! (no `af-`, `me-`, `il-`, `mx-`). Here the file name must be exactly
//! `<region>-config.yaml` or `.yml`, any Region-shaped name.

/// The Region a config key is for.
pub fn region_of_key(key: &str) -> Result<&str, String> {
    let file = key.rsplit('/').next().unwrap_or(key);
    let region = file
        .strip_suffix("-config.yaml")
        .or_else(|| file.strip_suffix("-config.yml"))
        .ok_or_else(|| format!("{key:?} is not named <region>-config.yaml (or .yml)"))?;
    if is_region(region) {
        Ok(region)
    } else {
        Err(format!("{key:?}: {region:?} is not an AWS Region name"))
    }
}

/// `<partition-ish letters>-<direction words>-<digits>`, e.g. `eu-west-1`,
/// `us-gov-west-1`, `ap-southeast-5`, `il-central-1`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    parts.len() >= 3
        && parts.len() <= 4
        && parts[0].len() == 2
        && parts[..parts.len() - 1].iter().all(lower)
        && parts
            .last()
            .is_some_and(|d| !d.is_empty() && d.len() <= 2 && d.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_come_from_exact_file_names() {
        for (key, region) in [
            ("us-east-1-config.yaml", "us-east-1"),
            ("eu-west-1/us-east-1-config.yaml", "us-east-1"),
            ("us-gov-west-1-config.yml", "us-gov-west-1"),
            ("cn-north-1-config.yaml", "cn-north-1"),
            ("il-central-1-config.yaml", "il-central-1"),
            ("ap-southeast-5-config.yaml", "ap-southeast-5"),
        ] {
            assert_eq!(region_of_key(key), Ok(region), "{key}");
        }
        for key in [
            "us-east-1-config.yaml.bak",
            "EU-WEST-1-config.yaml",
            "invalid-filename.yaml",
            "config.yaml",
            "us-east-config.yaml",
            "x-us-east-1-config.yaml",
        ] {
            assert!(region_of_key(key).is_err(), "{key}");
        }
    }
}

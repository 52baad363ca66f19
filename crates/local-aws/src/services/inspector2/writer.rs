//! Writing an export's files to S3 (moto) with plain path-style requests.

use std::time::{SystemTime, UNIX_EPOCH};

/// Writes the files with path-style PUTs after checking the bucket exists.
pub(super) async fn write_files(
    endpoint: &str,
    bucket: &str,
    files: Vec<(String, Vec<u8>)>,
) -> Result<(), (&'static str, String)> {
    let http = reqwest::Client::new();
    let internal = |e: reqwest::Error| ("INTERNAL_ERROR", format!("S3 at {endpoint}: {e}"));
    let head = http
        .head(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .map_err(internal)?;
    if head.status().as_u16() == 404 {
        return Err((
            "BUCKET_NOT_FOUND",
            format!("bucket {bucket} does not exist"),
        ));
    }
    for (key, body) in files {
        let url = format!("{endpoint}/{bucket}/{}", encode_key(&key));
        let r = http
            .put(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(internal)?;
        if !r.status().is_success() {
            return Err((
                "INVALID_PERMISSIONS",
                format!("PUT {key}: HTTP {}", r.status()),
            ));
        }
    }
    Ok(())
}

/// Percent-encodes a key for a URL path, keeping `/` as the separator.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Now as RFC 3339 UTC seconds (`2026-11-20T08:30:00Z`).
pub(super) fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil-from-days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

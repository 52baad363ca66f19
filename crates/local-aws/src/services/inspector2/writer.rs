//! Writing an export's files to S3 (moto) with plain path-style requests.

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

pub(super) use crate::clock::rfc3339_now_seconds as rfc3339_now;

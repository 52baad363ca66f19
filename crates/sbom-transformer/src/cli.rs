//! `sbom-transformer convert <sbom.json> --out <dir> [--image-arn <arn>]`:
//! the same conversion offline, for SBOMs converted outside AWS and for
//! debugging. Writes `<dir>/sbom/<…>_<digest>.parquet` and
//! `<dir>/cve/<…>_<digest>.parquet` (the object keys the function writes) and
//! prints a JSON summary. The image comes from `--image-arn`, else from the
//! file's path when it keeps Inspector's export key layout (after
//! `aws s3 sync`) or its file name (`arn:aws:ecr:…_sha256:…_<FORMAT>.json`).
//! Exit code 0 on success, 1 when the SBOM cannot be converted, 2 for usage
//! and I/O errors.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::export_key::{ExportKey, ECR_IMAGE_SEGMENT};
use crate::tables::object_keys;
use crate::transform::{self, GivenImage, Identity};

const USAGE: &str = "usage: sbom-transformer convert <sbom.json> --out <dir> [--image-arn <arn:aws:ecr:region:account:repository/name/sha256:digest>]";

/// Runs the command named by `args` (without the program name).
pub fn main(args: &[String]) -> i32 {
    match run(args) {
        Ok(summary) => {
            println!("{summary}");
            0
        }
        Err((code, message)) => {
            eprintln!("{message}");
            code
        }
    }
}

struct Args {
    input: PathBuf,
    out: PathBuf,
    image_arn: Option<String>,
}

fn parse_args(args: &[String]) -> Result<Args, (i32, String)> {
    let usage = |m: &str| (2, format!("{m}\n{USAGE}"));
    let mut it = args.iter();
    if it.next().map(String::as_str) != Some("convert") {
        return Err(usage("expected the convert command"));
    }
    let (mut input, mut out, mut image_arn) = (None, None, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => {
                out = Some(PathBuf::from(
                    it.next().ok_or_else(|| usage("--out needs a directory"))?,
                ))
            }
            "--image-arn" => {
                image_arn = Some(
                    it.next()
                        .ok_or_else(|| usage("--image-arn needs an ARN"))?
                        .clone(),
                )
            }
            flag if flag.starts_with("--") => return Err(usage(&format!("unknown option {flag}"))),
            path if input.is_none() => input = Some(PathBuf::from(path)),
            extra => return Err(usage(&format!("unexpected argument {extra:?}"))),
        }
    }
    Ok(Args {
        input: input.ok_or_else(|| usage("missing <sbom.json>"))?,
        out: out.ok_or_else(|| usage("missing --out <dir>"))?,
        image_arn,
    })
}

/// The export key a local path stands for: the path itself when it keeps
/// Inspector's layout, else one built from the file name.
fn key_from_path(path: &Path) -> Option<ExportKey> {
    let text = path.to_string_lossy().replace('\\', "/");
    if let Ok(k) = ExportKey::parse(&text) {
        return Some(k);
    }
    let file = path.file_name()?.to_str()?;
    let stem = file.strip_suffix(".json")?;
    let format = ["SPDX_2_3", "CYCLONEDX_1_4", "CYCLONEDX_1_5"]
        .into_iter()
        .find(|f| stem.ends_with(&format!("_{f}")))?;
    let account = stem.split(':').nth(4)?;
    ExportKey::parse(&format!(
        "{format}_outputs_offline/account={account}/{ECR_IMAGE_SEGMENT}/{file}"
    ))
    .ok()
}

/// The SBOM file mapped read-only: the parse borrows its strings from the
/// page cache, with no buffer for the kernel to zero and fill (a quarter of
/// the conversion's time for a 41 MB SBOM when it was read into a `Vec`).
/// Populated up front: the parse reads every page anyway, and one call maps
/// them all instead of a fault per page (about 600 fewer for 41 MB).
fn map(path: &Path) -> std::io::Result<memmap2::Mmap> {
    let file = std::fs::File::open(path)?;
    // SAFETY: the map is read-only and dropped when this conversion ends.
    // The offline command converts a file at rest; a file changed or
    // truncated by another process during the conversion is outside its
    // contract (as with any mapped input, that could change bytes the parse
    // already borrowed, or end the process with SIGBUS).
    unsafe { memmap2::MmapOptions::new().populate().map(&file) }
}

fn run(args: &[String]) -> Result<String, (i32, String)> {
    let args = parse_args(args)?;
    convert_file(&args.input, &args.out, args.image_arn.as_deref())
}

/// The whole offline conversion, from reading `input` to both Parquet files
/// written under `out`; returns the JSON summary. Errors carry the exit code
/// (1: not convertible, 2: I/O or a bad image ARN).
pub fn convert_file(
    input: &Path,
    out: &Path,
    image_arn: Option<&str>,
) -> Result<String, (i32, String)> {
    let args = Args {
        input: input.to_path_buf(),
        out: out.to_path_buf(),
        image_arn: image_arn.map(str::to_string),
    };
    let given = args
        .image_arn
        .as_deref()
        .map(GivenImage::parse)
        .transpose()
        .map_err(|e| (2, e))?;
    let key = if given.is_none() {
        Some(key_from_path(&args.input).ok_or_else(|| {
            (
                2,
                format!(
                    "{}: the file name does not say which image this is; pass --image-arn",
                    args.input.display()
                ),
            )
        })?)
    } else {
        None
    };
    let bytes = map(&args.input).map_err(|e| (2, format!("{}: {e}", args.input.display())))?;
    let identity = match (&key, given) {
        (_, Some(g)) => Identity::Given(g),
        (Some(k), None) => Identity::Export(k),
        (None, None) => unreachable!("one of them is set above"),
    };
    let converted = transform::convert(&bytes, identity, transform::now_micros())
        .map_err(|e| (1, format!("{}: {e}", args.input.display())))?;
    let repository_in_key = match &key {
        Some(k) => k.repository_in_key.clone(),
        None => converted.image.repository.replace('/', "_"),
    };
    let hex = converted.image.sha.trim_start_matches("sha256:");
    let (sbom_key, cve_key) = object_keys(
        &converted.image.account_id,
        &converted.image.region,
        &repository_in_key,
        hex,
    );
    let write = |rel: &str, data: &[u8]| -> Result<PathBuf, (i32, String)> {
        let path = args.out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| (2, format!("{}: {e}", dir.display())))?;
        }
        // An existing file is replaced, not truncated: a reader that has the
        // old one open keeps a whole file, and ext4 forces out the blocks of
        // a file truncated and rewritten when it is closed (`auto_da_alloc`):
        // 216-273 us to overwrite a 77 KB file that way, 47 us to unlink and
        // create it (BENCHMARKS.md "Session 11").
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err((2, format!("{}: {e}", path.display())))
            }
            _ => {}
        }
        std::fs::write(&path, data).map_err(|e| (2, format!("{}: {e}", path.display())))?;
        Ok(path)
    };
    let sbom_path = write(&sbom_key, &converted.sbom_parquet)?;
    let cve_path = write(&cve_key, &converted.cve_parquet)?;
    Ok(json!({
        "imagearn": converted.image.image_arn,
        "format": converted.format,
        "packages": converted.packages,
        "cves": converted.cves,
        "sbom": sbom_path,
        "cve": cve_path,
    })
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn usage_errors() {
        for args in [
            &[][..],
            &["decode"],
            &["convert"],
            &["convert", "x.json"],
            &["convert", "--out", "d"],
            &["convert", "x", "--out", "d", "--bogus"],
        ] {
            let (code, msg) = run(&strings(args)).unwrap_err();
            assert_eq!(code, 2, "{args:?}");
            assert!(msg.contains("usage:"), "{msg}");
        }
    }

    #[test]
    fn image_from_file_names() {
        let hex = "d".repeat(64);
        let k = key_from_path(Path::new(&format!(
            "/tmp/arn:aws:ecr:us-east-1:123456789012:repository_app_sha256:{hex}_SPDX_2_3.json"
        )))
        .unwrap();
        assert_eq!(k.repository_in_key, "app");
        assert_eq!(k.report_id, "offline");
        assert!(key_from_path(Path::new("/tmp/sbom.json")).is_none());
        let (code, msg) =
            run(&strings(&["convert", "/tmp/sbom.json", "--out", "/tmp/x"])).unwrap_err();
        assert_eq!(code, 2);
        assert!(msg.contains("pass --image-arn"), "{msg}");
    }
}

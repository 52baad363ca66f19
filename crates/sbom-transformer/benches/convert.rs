//! Where a conversion's time goes: `cargo bench -p sbom-transformer --bench convert [filter]`.
//! The SBOMs of `make bench` (`spdx_fixture::spdx_sbom`, 2 k and 100 k packages), converted
//! (or the package counts in `BENCH_SIZES`, comma-separated) converted
//! whole and then step by step (parse, duplicates, both tables, the file writes), each the best
//! of `BENCH_RUNS` (default 15) runs, so a change shows in the step it changed. `BENCH_RUNS=1`
//! gives one pass for callgrind or perf.

#[path = "spdx_fixture.rs"]
mod spdx_fixture;

use std::hint::black_box;
use std::time::{Duration, Instant};

use sbom_transformer::tables::ImageContext;
use sbom_transformer::transform::{convert, GivenImage, Identity};
use sbom_transformer::{rows, sbom, tables};

/// A named step of the conversion, run once per call.
type Step<'a> = (&'static str, Box<dyn FnMut() + 'a>);

fn best(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    // As the shipped binary's main does.
    let _ = sbom_transformer::heap::keep_freed_memory();
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    let arn = format!(
        "arn:aws:ecr:us-east-1:123456789012:repository/bench/{}",
        spdx_fixture::DIGEST
    );
    let given = GivenImage::parse(&arn).expect("the bench ARN");
    let image = ImageContext {
        image_arn: given.image_arn.clone(),
        account_id: given.account_id.clone(),
        region: given.region.clone(),
        repository: given.repository.clone(),
        sha: given.sha.clone(),
        report_id: String::new(),
        exported_at_micros: 0,
    };
    let dir = std::env::temp_dir().join(format!("sbom-convert-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "2000,100000".into())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("BENCH_SIZES: package counts, comma-separated")
        })
        .collect();
    for packages in sizes {
        let text = spdx_fixture::spdx_sbom(packages).into_bytes();
        let file = dir.join(format!("sbom-{packages}.json"));
        std::fs::write(&file, &text).expect("write the SBOM");
        let parsed = sbom::parse(&text).expect("the bench SBOM parses");
        let deduplicated = rows::dedup(parsed.clone());
        let files = tables::write_tables(&deduplicated, &image).expect("tables");
        let steps: [Step<'_>; 7] = [
            (
                "convert (file in, files out)",
                Box::new(|| {
                    sbom_transformer::cli::convert_file(&file, &dir.join("out"), Some(&arn))
                        .expect("convert_file");
                }),
            ),
            (
                "convert (bytes in, bytes out)",
                Box::new(|| {
                    black_box(convert(&text, Identity::Given(given.clone()), 0).expect("convert"));
                }),
            ),
            (
                "parse",
                Box::new(|| {
                    black_box(sbom::parse(black_box(&text)).expect("parse"));
                }),
            ),
            (
                "duplicates",
                Box::new(|| {
                    black_box(rows::dedup(black_box(parsed.clone())));
                }),
            ),
            (
                "tables",
                Box::new(|| {
                    black_box(tables::write_tables(&deduplicated, &image).expect("tables"));
                }),
            ),
            (
                "map the file",
                Box::new(|| {
                    let f = std::fs::File::open(&file).expect("open");
                    // SAFETY: the bench's own file, unchanged while mapped.
                    let m = unsafe { memmap2::MmapOptions::new().populate().map(&f) };
                    black_box(m.expect("map"));
                }),
            ),
            (
                "file writes",
                Box::new(|| {
                    std::fs::write(dir.join("sbom.parquet"), &files.sbom).expect("write");
                    std::fs::write(dir.join("cve.parquet"), &files.cve).expect("write");
                }),
            ),
        ];
        for (step, mut f) in steps {
            let name = format!("{packages} {step}");
            if filter.as_deref().is_some_and(|f| !name.contains(f)) {
                continue;
            }
            let t = best(runs, &mut f);
            println!(
                "{name:<40} {:>9.3} ms {:>7.1} ns/package",
                t.as_secs_f64() * 1e3,
                t.as_secs_f64() * 1e9 / packages as f64
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

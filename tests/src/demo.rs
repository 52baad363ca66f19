//! A tiny step runner for the demo: one progress line per step, a tally,
//! and a non-zero exit when anything failed.

use std::fmt::Display;
use std::future::Future;
use std::time::Instant;

/// Runs and reports demo steps.
#[derive(Default)]
pub struct Demo {
    ok: usize,
    failed: usize,
}

impl Demo {
    /// Prints a section header.
    pub fn act(&self, title: &str) {
        println!("\n==> {title}");
    }

    /// Runs one step; prints `ok` with the step's own summary, or the error.
    pub async fn step<T, E: Display>(
        &mut self,
        name: &str,
        fut: impl Future<Output = Result<T, E>>,
        describe: impl FnOnce(&T) -> String,
    ) -> Option<T> {
        let started = Instant::now();
        let result = fut.await;
        let ms = started.elapsed().as_millis();
        match result {
            Ok(v) => {
                self.ok += 1;
                let note = describe(&v);
                println!("  ok    {name:<58} {ms:>5} ms  {note}");
                Some(v)
            }
            Err(e) => {
                self.failed += 1;
                println!("  FAIL  {name:<58} {ms:>5} ms  {e}");
                None
            }
        }
    }

    /// Prints the tally; the process exit code.
    pub fn finish(&self) -> i32 {
        println!("\ndemo: {} passed, {} failed", self.ok, self.failed);
        i32::from(self.failed > 0)
    }
}

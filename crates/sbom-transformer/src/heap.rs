//! Heap settings for a process that converts one SBOM after another (a warm
//! Lambda container, the benchmark).
//!
//! glibc gives freed memory back to the kernel as soon as more than 128 KiB
//! sits free at the top of the heap, and serves blocks from 128 KiB up with
//! their own `mmap`, unmapped again on free. A conversion allocates and frees
//! its buffers (the decoded strings, the column pages, the Parquet files)
//! every time, so each one faulted its memory in afresh. Keeping freed
//! memory mapped lets the next conversion reuse it (BENCHMARKS.md, session
//! 14: a 2 k-package file-to-file convert 1.42 → 1.21 ms, 100 k 57 → 50 ms).
//! The cost is bounded: what stays mapped is at most the largest
//! conversion's peak (100 k packages: peak RSS 69 → 72.7 MB, 1.86× the
//! file), which the RSS bound already covers.

/// Freed memory kept mapped at the top of the heap.
const KEEP_BYTES: i32 = 256 << 20;
/// The block size from which glibc still uses a dedicated mapping, returned
/// to the kernel on free: a large SBOM's object buffer (read whole, at its
/// announced size) is not kept after its invocation. 256 MiB measured no
/// faster in the step bench.
const OWN_MAPPING_BYTES: i32 = 32 << 20;
/// Extra heap requested per growth, so a growing heap does not call `brk`
/// for every few pages (only touched pages become resident).
const GROW_BYTES: i32 = 64 << 20;

/// Tunes glibc's allocator as above; returns whether it took every setting
/// (always false on other C libraries, which keep their own behaviour). Call
/// it once, before the first conversion.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        [
            (libc::M_TRIM_THRESHOLD, KEEP_BYTES),
            (libc::M_MMAP_THRESHOLD, OWN_MAPPING_BYTES),
            (libc::M_TOP_PAD, GROW_BYTES),
        ]
        .into_iter()
        // SAFETY: mallopt only changes allocator parameters, and these are
        // documented parameters with values in range.
        .all(|(parameter, value)| unsafe { libc::mallopt(parameter, value) } == 1)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_every_setting() {
        assert!(super::keep_freed_memory());
    }
}

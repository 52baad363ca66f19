//! Software prefetch of the values a pass over the rows reads next.
//!
//! After the parse, a package's values are scattered through a document
//! far larger than the cache, and the first byte of each was where the
//! passes that follow (duplicates, the column encoders) waited: 58 % of the
//! duplicates pass's samples sat on the load of a name's bytes for hashing
//! (`perf annotate`, BENCHMARKS.md "Session 11"). Asking for the lines of the
//! row a few ahead overlaps those waits with the work on the rows between.

/// Rows ahead of the one being worked on whose values are fetched.
pub(crate) const AHEAD: usize = 8;

/// Starts loading the cache line of `text` (no effect on a target without a
/// stable prefetch intrinsic: aarch64 has none yet, and its hardware
/// prefetchers go unhelped).
#[inline(always)]
pub(crate) fn text(text: &str) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(text.as_ptr().cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = text;
}

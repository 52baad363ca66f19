//! The runs of plain bytes inside JSON strings, found 16 bytes at a time:
//! the scan under [`spdx_reader`](crate::spdx_reader)'s strings.

/// Whether a string byte ends a run of plain ones: a quote, a backslash, or
/// a control character (which JSON does not allow in strings).
fn is_special(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// Where a run of plain string bytes ends, and whether it had any byte
/// that is not ASCII (the run is valid UTF-8 without a check if not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    /// The first special byte at or after the start, or the input's length.
    pub end: usize,
    pub non_ascii: bool,
}

/// The run of plain bytes of `b` from `from`, 16 bytes at a time.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn plain_run(b: &[u8], from: usize) -> Run {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let mut j = from;
    let mut high = 0u32;
    // SAFETY: SSE2 is part of the x86_64 baseline; each unaligned load reads
    // 16 bytes that `j + 16 <= b.len()` keeps inside `b`.
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let control = _mm_set1_epi8(0x1f);
        while j + 16 <= b.len() {
            let v = _mm_loadu_si128(b.as_ptr().add(j).cast::<__m128i>());
            // min(v, 0x1f) == v exactly when v <= 0x1f (unsigned).
            let hits = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                _mm_cmpeq_epi8(_mm_min_epu8(v, control), v),
            );
            let mask = _mm_movemask_epi8(hits) as u32;
            let top_bits = _mm_movemask_epi8(v) as u32;
            if mask != 0 {
                let k = mask.trailing_zeros();
                high |= top_bits & ((1 << k) - 1);
                return Run {
                    end: j + k as usize,
                    non_ascii: high != 0,
                };
            }
            high |= top_bits;
            j += 16;
        }
    }
    plain_run_tail(b, j, high != 0)
}

/// The last 15 bytes of the input, out of line: inlined, the word scan's
/// constants would be set up on every string.
#[cfg(target_arch = "x86_64")]
#[cold]
#[inline(never)]
fn plain_run_tail(b: &[u8], from: usize, non_ascii: bool) -> Run {
    let rest = plain_run_swar(b, from);
    Run {
        end: rest.end,
        non_ascii: rest.non_ascii || non_ascii,
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn plain_run(b: &[u8], from: usize) -> Run {
    plain_run_swar(b, from)
}

/// [`plain_run`] eight bytes at a time in a `u64`, for any target.
fn plain_run_swar(b: &[u8], from: usize) -> Run {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit set in each byte of `w` below `n`; only the lowest flagged
    // byte is exact (a borrow can flag the bytes above a true hit).
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH;
    let mut j = from;
    let mut high = 0u64;
    while let Some(chunk) = b.get(j..j + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let hits = below(w ^ (ONES * u64::from(b'"')), 1)
            | below(w ^ (ONES * u64::from(b'\\')), 1)
            | below(w, 0x20);
        if hits != 0 {
            // The bytes before the hit: the low `bits` bits of `w`.
            let bits = hits.trailing_zeros() & !7;
            high |= w & HIGH & ((1u64 << bits) - 1);
            return Run {
                end: j + (bits / 8) as usize,
                non_ascii: high != 0,
            };
        }
        high |= w & HIGH;
        j += 8;
    }
    let tail = &b[j.min(b.len())..];
    let k = tail
        .iter()
        .position(|&c| is_special(c))
        .unwrap_or(tail.len());
    Run {
        end: j + k,
        non_ascii: high != 0 || !tail[..k].is_ascii(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(b: &[u8], from: usize) -> Run {
        let end = b[from..]
            .iter()
            .position(|&c| is_special(c))
            .map_or(b.len(), |k| from + k);
        Run {
            end,
            non_ascii: !b[from..end].is_ascii(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn finds_runs_as_a_plain_scan_does(
            b in prop::collection::vec(
                prop_oneof![8 => b'a'..=b'z', 1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20, 1 => 0x80u8..], 0..80),
            from in 0usize..80,
        ) {
            let from = from.min(b.len());
            prop_assert_eq!(plain_run(&b, from), naive(&b, from));
            prop_assert_eq!(plain_run_swar(&b, from), naive(&b, from));
        }
    }
}

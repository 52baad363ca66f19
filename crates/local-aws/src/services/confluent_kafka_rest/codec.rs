//! Small encodings the emulator needs.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Standard base64 with padding.
pub(super) fn base64_encode(input: &[u8]) -> String {
    STANDARD.encode(input)
}

/// Strict standard base64 (canonical padding required, as Jackson's decoder
/// wants); `None` when malformed.
pub(super) fn base64_decode(input: &str) -> Option<Vec<u8>> {
    STANDARD.decode(input).ok()
}

pub(super) use crate::clock::rfc3339_now_millis as now_rfc3339;

/// FNV-1a 64-bit, for key → partition.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

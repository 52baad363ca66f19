//! Exact base-10 rendering of Avro decimals (two's-complement big-endian unscaled value plus a
//! scale). No floats: a decimal must print exactly the digits that were written.

/// Longest unscaled value converted (about 2,466 digits). The conversion is quadratic, so an
/// attacker-sized `bytes` decimal must not reach it.
pub(super) const MAX_DECIMAL_BYTES: usize = 1024;
/// Largest |scale| rendered; bounds the zeros a hostile big-decimal exponent could request.
pub(super) const MAX_DECIMAL_SCALE: i64 = 4096;

/// Render `unscaled × 10^-scale` with exactly `scale` fractional digits (`scale` ≤ 0: an integer
/// with `-scale` trailing zeros).
pub(super) fn format_decimal(twos_complement_be: &[u8], scale: i64) -> Result<String, String> {
    let mut out = String::new();
    push_decimal(&mut out, twos_complement_be, scale)?;
    Ok(out)
}

/// [`format_decimal`] appended to `out` (nothing appended on error).
pub(super) fn push_decimal(
    out: &mut String,
    twos_complement_be: &[u8],
    scale: i64,
) -> Result<(), String> {
    check_decimal(twos_complement_be, scale)?;
    let negative = twos_complement_be.first().is_some_and(|b| b & 0x80 != 0);
    let mut small = itoa::Buffer::new();
    let big;
    let digits = if twos_complement_be.len() <= 8 {
        // Fits an i64 (the common case): no big-number arithmetic, no 128-bit division.
        let mut wide = [if negative { 0xff } else { 0 }; 8];
        wide[8 - twos_complement_be.len()..].copy_from_slice(twos_complement_be);
        small.format(i64::from_be_bytes(wide).unsigned_abs())
    } else if twos_complement_be.len() <= 16 {
        let mut wide = [if negative { 0xff } else { 0 }; 16];
        wide[16 - twos_complement_be.len()..].copy_from_slice(twos_complement_be);
        small.format(i128::from_be_bytes(wide).unsigned_abs())
    } else {
        big = if negative {
            to_base10(&negate(twos_complement_be))
        } else {
            to_base10(twos_complement_be)
        };
        big.as_str()
    };
    place_point(out, digits, negative, scale);
    Ok(())
}

/// Whether [`format_decimal`] renders this value (its only errors are these limits).
pub(super) fn check_decimal(twos_complement_be: &[u8], scale: i64) -> Result<(), String> {
    if twos_complement_be.len() > MAX_DECIMAL_BYTES {
        return Err(format!(
            "decimal unscaled value is {} bytes; at most {MAX_DECIMAL_BYTES} are converted",
            twos_complement_be.len()
        ));
    }
    if !(-MAX_DECIMAL_SCALE..=MAX_DECIMAL_SCALE).contains(&scale) {
        return Err(format!(
            "decimal scale {scale} is outside ±{MAX_DECIMAL_SCALE}"
        ));
    }
    Ok(())
}

/// Sign, digits and decimal point, appended to `out`.
fn place_point(out: &mut String, digits: &str, negative: bool, scale: i64) {
    let is_zero = digits == "0";
    out.reserve(digits.len() + scale.unsigned_abs() as usize + 3);
    if negative && !is_zero {
        out.push('-');
    }
    let zeros = |out: &mut String, n: usize| out.extend(std::iter::repeat_n('0', n));
    if scale > 0 {
        let scale = scale as usize;
        if digits.len() <= scale {
            out.push_str("0.");
            zeros(out, scale - digits.len());
            out.push_str(digits);
        } else {
            let (int, frac) = digits.split_at(digits.len() - scale);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
    } else {
        out.push_str(digits);
        if scale < 0 && !is_zero {
            zeros(out, scale.unsigned_abs() as usize);
        }
    }
}

/// Two's-complement negation (invert, add one); the result is the unsigned magnitude.
fn negate(bytes: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = bytes.iter().map(|b| !b).collect();
    for b in out.iter_mut().rev() {
        let (sum, carry) = b.overflowing_add(1);
        *b = sum;
        if !carry {
            break;
        }
    }
    out
}

/// Unsigned big-endian bytes to decimal digits, via base-10^9 limbs.
fn to_base10(magnitude: &[u8]) -> String {
    const BASE: u64 = 1_000_000_000;
    let mut limbs: Vec<u32> = Vec::new(); // little-endian
    for &byte in magnitude {
        let mut carry = u64::from(byte);
        for limb in &mut limbs {
            let t = u64::from(*limb) * 256 + carry;
            *limb = (t % BASE) as u32;
            carry = t / BASE;
        }
        while carry > 0 {
            limbs.push((carry % BASE) as u32);
            carry /= BASE;
        }
    }
    let Some((last, rest)) = limbs.split_last() else {
        return "0".to_owned();
    };
    let mut s = last.to_string();
    for limb in rest.iter().rev() {
        s.push_str(&format!("{limb:09}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be(v: i128) -> Vec<u8> {
        // Minimal two's-complement encoding, like Java's BigInteger.toByteArray().
        let bytes = v.to_be_bytes();
        let mut start = 0;
        while start < 15 {
            let (b, next) = (bytes[start], bytes[start + 1]);
            if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        bytes[start..].to_vec()
    }

    #[test]
    fn contract_examples() {
        assert_eq!(format_decimal(&be(-1230), 2).unwrap(), "-12.30");
        assert_eq!(format_decimal(&be(0), 2).unwrap(), "0.00");
        assert_eq!(format_decimal(&be(5), 2).unwrap(), "0.05");
        assert_eq!(format_decimal(&be(-5), 2).unwrap(), "-0.05");
        assert_eq!(format_decimal(&be(12345), 0).unwrap(), "12345");
        assert_eq!(format_decimal(&be(-7), 0).unwrap(), "-7");
        assert_eq!(format_decimal(&[], 3).unwrap(), "0.000");
        assert_eq!(format_decimal(&[], 0).unwrap(), "0");
        assert_eq!(format_decimal(&be(123), -3).unwrap(), "123000");
        assert_eq!(format_decimal(&be(0), -3).unwrap(), "0");
    }

    #[test]
    fn sign_extended_and_extreme_widths() {
        // Fixed decimals are sign-extended to the fixed size.
        assert_eq!(
            format_decimal(&[0xff, 0xff, 0xff, 0x85], 1).unwrap(),
            "-12.3"
        );
        assert_eq!(format_decimal(&[0, 0, 0, 123], 1).unwrap(), "12.3");
        assert_eq!(format_decimal(&[0x80], 0).unwrap(), "-128");
        assert_eq!(format_decimal(&[0x80, 0, 0, 0], 0).unwrap(), "-2147483648");
        assert_eq!(
            format_decimal(&i128::MIN.to_be_bytes(), 0).unwrap(),
            i128::MIN.to_string()
        );
        assert_eq!(
            format_decimal(&i128::MAX.to_be_bytes(), 38).unwrap(),
            "1.70141183460469231731687303715884105727"
        );
    }

    #[test]
    fn beyond_128_bits() {
        // 2^200: 0x01 followed by 25 zero bytes.
        let mut pos = vec![0x01];
        pos.extend_from_slice(&[0u8; 25]);
        assert_eq!(
            format_decimal(&pos, 10).unwrap(),
            "160693804425899027554196209234116260252220299378279.2835301376"
        );
        // -(2^200): 0xff 0x00 followed by 24 zero bytes.
        let mut neg = vec![0xff, 0x00];
        neg.extend_from_slice(&[0u8; 24]);
        assert_eq!(
            format_decimal(&neg, 0).unwrap(),
            "-1606938044258990275541962092341162602522202993782792835301376"
        );
    }

    #[test]
    fn matches_i128_for_many_values() {
        for v in [
            1i128,
            -1,
            9,
            10,
            99,
            100,
            255,
            256,
            -256,
            -257,
            999_999_999,
            1_000_000_000,
        ]
        .into_iter()
        .chain((0..120).map(|s| 3i128.pow(s / 2) * if s % 2 == 0 { 1 } else { -1 }))
        {
            assert_eq!(format_decimal(&be(v), 0).unwrap(), v.to_string(), "{v}");
        }
    }

    #[test]
    fn limits() {
        assert!(format_decimal(&vec![1; MAX_DECIMAL_BYTES], 0).is_ok());
        let err = format_decimal(&vec![1; MAX_DECIMAL_BYTES + 1], 0).unwrap_err();
        assert_eq!(
            err,
            "decimal unscaled value is 1025 bytes; at most 1024 are converted"
        );
        assert!(format_decimal(&[1], MAX_DECIMAL_SCALE).is_ok());
        assert_eq!(
            format_decimal(&[1], -MAX_DECIMAL_SCALE - 1).unwrap_err(),
            "decimal scale -4097 is outside ±4096"
        );
    }
}

//! Avro date/time logical types as ISO 8601 / RFC 3339 text, with our own proleptic-Gregorian
//! calendar math (no chrono dependency for a handful of conversions).
//!
//! Years 0000–9999 print as four digits. Other years (reachable from `date` and from
//! `timestamp-millis`/`-micros` far from 1970) use the ISO 8601 expanded form that JavaScript's
//! `Date.toISOString` also uses: a sign and at least six digits (`+010000`, `-000001`), so every
//! value renders and nothing panics.

const SECONDS_PER_DAY: i64 = 86_400;

/// Ticks per second of a timestamp/time unit, and the fractional digits it prints with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    fn per_second(self) -> i64 {
        match self {
            Self::Millis => 1_000,
            Self::Micros => 1_000_000,
            Self::Nanos => 1_000_000_000,
        }
    }

    fn digits(self) -> usize {
        match self {
            Self::Millis => 3,
            Self::Micros => 6,
            Self::Nanos => 9,
        }
    }
}

/// `date`: days since 1970-01-01 to `YYYY-MM-DD`.
pub(super) fn date(days: i64) -> String {
    let mut out = String::with_capacity(16);
    push_date(&mut out, days);
    out
}

/// `timestamp-*` (`utc` = true, suffix `Z`) and `local-timestamp-*` (no suffix).
pub(super) fn timestamp(ticks: i64, unit: Unit, utc: bool) -> String {
    let mut out = String::with_capacity(40);
    push_timestamp(&mut out, ticks, unit, utc);
    out
}

/// [`timestamp`] appended to `out`.
pub(super) fn push_timestamp(out: &mut String, ticks: i64, unit: Unit, utc: bool) {
    let per_second = unit.per_second();
    let seconds = ticks.div_euclid(per_second);
    let fraction = ticks.rem_euclid(per_second);
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let second_of_day = seconds.rem_euclid(SECONDS_PER_DAY);
    // Built on the stack and appended once: this runs for every timestamp of every record.
    let mut text = Ascii::default();
    text.date(days);
    text.byte(b'T');
    text.hms(second_of_day);
    text.byte(b'.');
    text.padded(fraction.unsigned_abs(), unit.digits());
    if utc {
        text.byte(b'Z');
    }
    out.push_str(text.as_str());
}

/// `time-millis` / `time-micros`: time of day. Values outside one day violate the logical type
/// and are reported rather than wrapped.
pub(super) fn time_of_day(ticks: i64, unit: Unit) -> Result<String, String> {
    let mut out = String::with_capacity(16);
    push_time_of_day(&mut out, ticks, unit)?;
    Ok(out)
}

/// [`time_of_day`] appended to `out` (nothing appended on error).
pub(super) fn push_time_of_day(out: &mut String, ticks: i64, unit: Unit) -> Result<(), String> {
    check_time_of_day(ticks, unit)?;
    let per_second = unit.per_second();
    let mut text = Ascii::default();
    text.hms(ticks / per_second);
    text.byte(b'.');
    text.padded((ticks % per_second).unsigned_abs(), unit.digits());
    out.push_str(text.as_str());
    Ok(())
}

/// Whether [`time_of_day`] renders this value.
pub(super) fn check_time_of_day(ticks: i64, unit: Unit) -> Result<(), String> {
    let per_day = SECONDS_PER_DAY * unit.per_second();
    if !(0..per_day).contains(&ticks) {
        let name = if unit == Unit::Millis {
            "time-millis"
        } else {
            "time-micros"
        };
        return Err(format!(
            "{name} value {ticks} is not a time of day (0..{per_day})"
        ));
    }
    Ok(())
}

/// [`date`] appended to `out`.
pub(super) fn push_date(out: &mut String, days: i64) {
    let mut text = Ascii::default();
    text.date(days);
    out.push_str(text.as_str());
}

const POWERS_OF_TEN: [u64; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// "00" to "99", two bytes each.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Date and time text assembled on the stack. The longest it holds is a timestamp with an
/// expanded year: sign, at most 20 digits (a u64), `-MM-DDTHH:MM:SS.`, 9 digits, `Z` (47 bytes).
struct Ascii {
    buf: [u8; 48],
    len: usize,
}

impl Default for Ascii {
    fn default() -> Self {
        Ascii {
            buf: [0; 48],
            len: 0,
        }
    }
}

impl Ascii {
    /// `b` must be ASCII (every caller passes a literal), which [`Ascii::as_str`] relies on.
    fn byte(&mut self, b: u8) {
        debug_assert!(b.is_ascii());
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `v` in decimal, zero-padded to at least `width` digits.
    fn padded(&mut self, mut v: u64, width: usize) {
        // The usual case (every field of an ordinary timestamp): exactly `width` digits,
        // written two at a time from the back. (itoa plus zero padding instead: 8% more
        // instructions and ~27% slower through the wide-schema handler, callgrind and the
        // enrich bench, BENCHMARKS.md session 10 review.)
        if width <= 9 && v < POWERS_OF_TEN[width] {
            let end = self.len + width;
            let mut at = end;
            while at > self.len + 1 {
                let pair = (v % 100) as usize * 2;
                self.buf[at - 2..at].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
                v /= 100;
                at -= 2;
            }
            if at > self.len {
                self.buf[at - 1] = b'0' + v as u8;
            }
            self.len = end;
            return;
        }
        let mut digits = [b'0'; 20];
        let mut start = digits.len();
        while v > 0 {
            start -= 1;
            digits[start] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        let digits = &digits[start.min(20 - width.min(20))..];
        self.buf[self.len..self.len + digits.len()].copy_from_slice(digits);
        self.len += digits.len();
    }

    fn date(&mut self, days: i64) {
        let (y, m, d) = civil_from_days(days);
        if (0..=9999).contains(&y) {
            self.padded(y.unsigned_abs(), 4);
        } else {
            // ISO 8601 expanded year: a sign and at least six digits.
            self.byte(if y < 0 { b'-' } else { b'+' });
            self.padded(y.unsigned_abs(), 6);
        }
        self.byte(b'-');
        self.padded(u64::from(m), 2);
        self.byte(b'-');
        self.padded(u64::from(d), 2);
    }

    fn hms(&mut self, second_of_day: i64) {
        let s = second_of_day.unsigned_abs();
        self.padded(s / 3600, 2);
        self.byte(b':');
        self.padded(s / 60 % 60, 2);
        self.byte(b':');
        self.padded(s % 60, 2);
    }

    fn as_str(&self) -> &str {
        // SAFETY: only ASCII is ever written: digits from `padded` and the literal bytes
        // `byte` receives. (Checked, these conversions were ~5% of `handle_raw`'s instructions
        // on the wide schema: callgrind, BENCHMARKS.md session 10.)
        unsafe { std::str::from_utf8_unchecked(&self.buf[..self.len]) }
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day) in the
/// proleptic Gregorian calendar. Exact for the whole range used here (|days| < 2^40).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MILLIS_PER_DAY: i64 = 86_400_000;

    fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(m);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(19_675), "2023-11-14");
        assert_eq!(date(11_016), "2000-02-29");
        assert_eq!(date(-719_528), "0000-01-01");
        assert_eq!(date(-719_529), "-000001-12-31");
        assert_eq!(date(2_932_896), "9999-12-31");
        assert_eq!(date(2_932_897), "+010000-01-01");
        assert_eq!(date(i64::from(i32::MAX)), "+5881580-07-11");
        assert_eq!(date(i64::from(i32::MIN)), "-5877641-06-23");
    }

    #[test]
    fn calendar_round_trips() {
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=31).contains(&d));
            assert_eq!(days_from_civil(y, m, d), days);
        }
        // Leap-year rules: 1900 no, 2000 yes, 2024 yes, 2100 no.
        assert_eq!(
            civil_from_days(days_from_civil(1900, 3, 1) - 1),
            (1900, 2, 28)
        );
        assert_eq!(
            civil_from_days(days_from_civil(2000, 3, 1) - 1),
            (2000, 2, 29)
        );
        assert_eq!(
            civil_from_days(days_from_civil(2024, 3, 1) - 1),
            (2024, 2, 29)
        );
        assert_eq!(
            civil_from_days(days_from_civil(2100, 3, 1) - 1),
            (2100, 2, 28)
        );
    }

    proptest::proptest! {
        #[test]
        fn padded_is_zero_padded_decimal(v in proptest::prelude::any::<u64>(), small in 0u64..2_000_000_000, width in 0usize..=12) {
            for v in [v, small, small % 1000] {
                let mut text = Ascii::default();
                text.padded(v, width);
                proptest::prop_assert_eq!(text.as_str(), format!("{v:0width$}"));
            }
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            timestamp(1_699_282_778_691, Unit::Millis, true),
            "2023-11-06T14:59:38.691Z"
        );
        assert_eq!(timestamp(0, Unit::Millis, true), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            timestamp(-1, Unit::Millis, true),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            timestamp(-1, Unit::Micros, false),
            "1969-12-31T23:59:59.999999"
        );
        assert_eq!(
            timestamp(1_699_282_778_691_123, Unit::Micros, true),
            "2023-11-06T14:59:38.691123Z"
        );
        assert_eq!(
            timestamp(1_699_282_778_691_123_456, Unit::Nanos, false),
            "2023-11-06T14:59:38.691123456"
        );
        assert_eq!(
            timestamp(i64::MAX, Unit::Nanos, true),
            "2262-04-11T23:47:16.854775807Z"
        );
        assert_eq!(
            timestamp(i64::MIN, Unit::Nanos, true),
            "1677-09-21T00:12:43.145224192Z"
        );
        assert_eq!(
            timestamp(i64::MAX, Unit::Millis, true),
            "+292278994-08-17T07:12:55.807Z"
        );
        assert_eq!(
            timestamp(i64::MIN, Unit::Millis, true),
            "-292275055-05-16T16:47:04.192Z"
        );
        assert_eq!(
            timestamp(i64::MIN, Unit::Micros, false),
            "-290308-12-21T19:59:05.224192"
        );
    }

    #[test]
    fn times_of_day() {
        assert_eq!(time_of_day(0, Unit::Millis).unwrap(), "00:00:00.000");
        assert_eq!(
            time_of_day(MILLIS_PER_DAY - 1, Unit::Millis).unwrap(),
            "23:59:59.999"
        );
        assert_eq!(
            time_of_day(45_296_789_012, Unit::Micros).unwrap(),
            "12:34:56.789012"
        );
        assert_eq!(
            time_of_day(MILLIS_PER_DAY, Unit::Millis).unwrap_err(),
            "time-millis value 86400000 is not a time of day (0..86400000)"
        );
        assert_eq!(
            time_of_day(-1, Unit::Micros).unwrap_err(),
            "time-micros value -1 is not a time of day (0..86400000000)"
        );
    }
}

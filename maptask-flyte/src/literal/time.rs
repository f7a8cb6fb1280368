//! Calendar arithmetic for date-times: Unix seconds <-> proleptic Gregorian UTC, the ISO 8601
//! text that Python's `datetime.isoformat()` writes inside dataclasses, and the RFC 3339 text
//! that date crates (chrono) serialize to.

use super::LiteralError;

/// `0001-01-01T00:00:00Z`, the first instant Python's `datetime` (and so flytekit) can hold.
pub(crate) const MIN_SECONDS: i64 = -62_135_596_800;
/// `9999-12-31T23:59:59Z`, the last second Python's `datetime` can hold.
pub(crate) const MAX_SECONDS: i64 = 253_402_300_799;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01 (`civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Checks that `seconds` lies in Python's `datetime` range, which is also where RFC 3339 text
/// and flytekit can represent it.
pub(crate) fn check_range(seconds: i64) -> Result<(), LiteralError> {
    if (MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        Ok(())
    } else {
        Err(LiteralError::DateTimeOutOfRange { seconds })
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of an in-range Unix second.
fn civil(seconds: i64) -> String {
    let (y, mo, d) = civil_from_days(seconds.div_euclid(86_400));
    let s = seconds.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// What Python's `datetime.isoformat()` writes for an aware UTC datetime (what mashumaro puts
/// in a dataclass's msgpack): microseconds only when non-zero, `+00:00` for UTC. Nanoseconds
/// below a microsecond are cut, as flytekit cuts them.
pub(crate) fn python_isoformat(seconds: i64, nanos: u32) -> String {
    let micros = nanos / 1000;
    if micros == 0 {
        format!("{}+00:00", civil(seconds))
    } else {
        format!("{}.{micros:06}+00:00", civil(seconds))
    }
}

/// RFC 3339 in UTC with the fraction trimmed of trailing zeros, `...Z` (what chrono writes).
pub(crate) fn rfc3339(seconds: i64, nanos: u32) -> String {
    if nanos == 0 {
        format!("{}Z", civil(seconds))
    } else {
        let frac = format!("{nanos:09}");
        format!("{}.{}Z", civil(seconds), frac.trim_end_matches('0'))
    }
}

/// Parses ISO 8601 / RFC 3339 text `YYYY-MM-DD[T ]HH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` to Unix
/// seconds and nanoseconds. A missing offset is refused: a naive time names no instant.
pub(crate) fn parse(text: &str) -> Result<(i64, u32), LiteralError> {
    let bad = || LiteralError::BadDateTime {
        text: text.to_owned(),
    };
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Result<u32, LiteralError> {
        let part = b.get(from..from + len).ok_or_else(bad)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        Ok(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let sep = |at: usize, ok: &[u8]| b.get(at).is_some_and(|c| ok.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return Err(bad());
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, s) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo)
        || d == 0
        || d > days_in_month(i64::from(y), mo)
        || h > 23
        || mi > 59
        || s > 59
    {
        return Err(bad());
    }
    let mut at = 19;
    let mut nanos = 0u32;
    if b.get(at) == Some(&b'.') {
        let start = at + 1;
        at = start;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let digits = &text[start..at];
        if digits.is_empty() || digits.len() > 9 {
            return Err(bad());
        }
        nanos = num(start, digits.len())? * 10u32.pow(9 - digits.len() as u32);
    }
    let offset = match b.get(at) {
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if at + 6 == b.len() && sep(at + 3, b":") => {
            let (oh, om) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let off = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return Err(bad()),
    };
    let seconds =
        days_from_civil(i64::from(y), mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s) - offset;
    check_range(seconds)?;
    Ok((seconds, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_the_whole_range() {
        for days in (MIN_SECONDS / 86_400..=MAX_SECONDS / 86_400).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil(MIN_SECONDS), "0001-01-01T00:00:00");
        assert_eq!(civil(MAX_SECONDS), "9999-12-31T23:59:59");
        assert_eq!(civil(-1), "1969-12-31T23:59:59");
    }

    #[test]
    fn python_isoformat_matches_datetime_isoformat() {
        // datetime(2024,1,2,tzinfo=utc).isoformat(), as flytekit's msgpack carries it.
        assert_eq!(
            python_isoformat(1_704_153_600, 0),
            "2024-01-02T00:00:00+00:00"
        );
        assert_eq!(
            python_isoformat(1_704_153_600, 5_999),
            "2024-01-02T00:00:00.000005+00:00"
        );
        assert_eq!(
            python_isoformat(1_704_153_600, 999),
            "2024-01-02T00:00:00+00:00"
        );
    }

    #[test]
    fn parses_what_it_writes_and_offsets() {
        assert_eq!(
            parse("2024-01-02T00:00:00+00:00").unwrap(),
            (1_704_153_600, 0)
        );
        assert_eq!(parse(&rfc3339(-1, 999_999_000)).unwrap(), (-1, 999_999_000));
        assert_eq!(
            parse("2024-01-02T01:00:00.5+01:00").unwrap(),
            (1_704_153_600, 500_000_000)
        );
        assert_eq!(
            parse("2024-01-01T23:00:00-01:00").unwrap(),
            (1_704_153_600, 0)
        );
        for bad in [
            "2024-01-02T00:00:00",
            "2024-02-30T00:00:00Z",
            "2024-01-02",
            "x",
            "2024-01-02T00:00:00.Z",
            "",
        ] {
            assert!(
                matches!(parse(bad), Err(LiteralError::BadDateTime { .. })),
                "{bad}"
            );
        }
    }
}

//! The duration grammar shared by the runtime and, through `#[path]`, by the macros, which run it
//! at compile time. It depends on `std` alone for that reason.

use std::time::Duration;

/// Parses a human-readable duration: an integer followed by a unit (`ns`, `us`, `ms`, `s`, `m`,
/// `h`, `d`), possibly repeated, e.g. `"30s"`, `"1m30s"`, `"250ms"`.
///
/// `#[task]` and `map_task!` run the same grammar at compile time, so a malformed timeout never
/// reaches the runtime.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(
            "a duration cannot be empty; write e.g. \"30s\", \"250ms\" or \"1m30s\"".into(),
        );
    }
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "`{text}` is not a duration: expected a number at `{rest}`; write e.g. \"30s\", \"250ms\" or \"1m30s\""
            ));
        }
        let value: u128 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{text}` is not a duration: the number is too large"))?;
        // "3 s" and "1m 30s" read as "3s" and "1m30s", so that a unit after a space is
        // checked as a unit rather than reported missing.
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic() || *b == 0xC2 || *b == 0xB5)
            .count();
        let unit = &rest[..unit_len];
        let nanos_per: u128 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" | "min" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            "d" => 86_400 * 1_000_000_000,
            "" => {
                return Err(format!(
                    "`{text}` is not a duration: `{value}` has no unit; add one of ns, us, ms, s, m, h, d"
                ))
            }
            other => {
                return Err(format!(
                    "`{text}` is not a duration: unknown unit `{other}`; use one of ns, us, ms, s, m, h, d"
                ))
            }
        };
        rest = rest[unit_len..].trim_start();
        total = value
            .checked_mul(nanos_per)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("`{text}` is too long a duration"))?;
    }
    let secs = u64::try_from(total / 1_000_000_000)
        .map_err(|_| format!("`{text}` is too long a duration"))?;
    // The remainder is below 10^9 and fits a u32.
    let nanos = (total % 1_000_000_000) as u32;
    Ok(Duration::new(secs, nanos))
}

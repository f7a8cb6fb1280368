//! Task metadata: what `#[task(...)]` records next to the function.

use std::time::Duration;

/// Compute resources, as Kubernetes quantities (`"500m"`, `"2Gi"`, `"1"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Resources {
    /// CPU, e.g. `"500m"`.
    pub cpu: Option<&'static str>,
    /// Memory, e.g. `"2Gi"`.
    pub mem: Option<&'static str>,
    /// GPUs, e.g. `"1"`.
    pub gpu: Option<&'static str>,
}

impl Resources {
    /// No resource set.
    pub const NONE: Resources = Resources {
        cpu: None,
        mem: None,
        gpu: None,
    };

    /// Whether no resource is set.
    pub fn is_empty(&self) -> bool {
        self.cpu.is_none() && self.mem.is_none() && self.gpu.is_none()
    }

    /// `self` with every resource that `other` sets replaced by `other`'s value.
    pub fn merged_with(self, other: Resources) -> Resources {
        Resources {
            cpu: other.cpu.or(self.cpu),
            mem: other.mem.or(self.mem),
            gpu: other.gpu.or(self.gpu),
        }
    }
}

/// The metadata of a task.
///
/// `#[task]` builds it as a constant; every field has the meaning of the attribute key of the
/// same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Metadata {
    /// Extra attempts after a failed one: `retries = 2` allows 3 attempts.
    pub retries: u32,
    /// The bound on each attempt.
    pub timeout: Option<Duration>,
    /// The cache version; `None` disables caching.
    pub cache_version: Option<&'static str>,
    /// Whether the task may run on preemptible capacity.
    pub interruptible: bool,
    /// Requested resources.
    pub requests: Resources,
    /// Resource limits.
    pub limits: Resources,
    /// Environment variables set for the task, in declaration order.
    pub env: &'static [(&'static str, &'static str)],
}

impl Metadata {
    /// The metadata of a task declared with a bare `#[task]`.
    pub const DEFAULT: Metadata = Metadata {
        retries: 0,
        timeout: None,
        cache_version: None,
        interruptible: false,
        requests: Resources::NONE,
        limits: Resources::NONE,
        env: &[],
    };
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata::DEFAULT
    }
}

/// Parses a human-readable duration: an integer followed by a unit (`ns`, `us`, `ms`, `s`, `m`,
/// `h`, `d`), possibly repeated, e.g. `"30s"`, `"1m30s"`, `"250ms"`.
///
/// `#[task]` and `map_task!` run the same grammar at compile time, so a malformed timeout never
/// reaches the runtime.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(maptask_core::meta::parse_duration("1m30s"), Ok(Duration::from_secs(90)));
/// assert!(maptask_core::meta::parse_duration("30 parsecs").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("a duration cannot be empty; write e.g. \"30s\", \"250ms\" or \"1m30s\"".into());
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
        rest = &rest[digits..];
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
        rest = &rest[unit_len..];
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_exactly() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h2m3s"), Ok(Duration::from_secs(3723)));
        assert_eq!(parse_duration("5us"), Ok(Duration::from_micros(5)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
    }

    #[test]
    fn malformed_durations_name_the_fault() {
        assert_eq!(
            parse_duration("30"),
            Err("`30` is not a duration: `30` has no unit; add one of ns, us, ms, s, m, h, d".into())
        );
        assert_eq!(
            parse_duration("s"),
            Err("`s` is not a duration: expected a number at `s`; write e.g. \"30s\", \"250ms\" or \"1m30s\"".into())
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10parsecs").unwrap_err().contains("unknown unit `parsecs`"));
    }
}

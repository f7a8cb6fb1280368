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
    /// The parameters left out of the cache key (`cache_ignore = [...]`), as written.
    pub cache_ignore: &'static [&'static str],
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
        cache_ignore: &[],
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

pub use crate::duration::parse_duration;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
            Err(
                "`30` is not a duration: `30` has no unit; add one of ns, us, ms, s, m, h, d"
                    .into()
            )
        );
        assert_eq!(
            parse_duration("s"),
            Err("`s` is not a duration: expected a number at `s`; write e.g. \"30s\", \"250ms\" or \"1m30s\"".into())
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10parsecs")
            .unwrap_err()
            .contains("unknown unit `parsecs`"));
    }
}

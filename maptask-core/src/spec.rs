//! Map specifications: how many elements may run at once and how many must succeed.

use std::fmt;
use std::time::Duration;

use crate::error::SpecError;

/// A success ratio in [0, 1], held as an exact decimal fraction `numerator / 10^scale`.
///
/// `min_successes = ceil(ratio × n)` is computed on these integers, never through binary floating
/// point, so `0.55 × 100` is `55`, not `56`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    numerator: u128,
    scale: u32,
}

/// The largest number of decimal digits kept after the point. `10^38` still fits a `u128`.
const MAX_SCALE: u32 = 38;

impl Ratio {
    /// The ratio 1: every element must succeed.
    pub const ONE: Ratio = Ratio {
        numerator: 1,
        scale: 0,
    };

    /// Parses a decimal literal such as `"0.75"`, `"1"` or `"1.0"`.
    ///
    /// ```
    /// use maptask_core::Ratio;
    /// assert_eq!(Ratio::parse("0.55").unwrap().min_successes(100), 55);
    /// assert!(Ratio::parse("1.5").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Ratio, SpecError> {
        let invalid = || SpecError::InvalidRatio {
            given: text.to_owned(),
        };
        let s = text.trim().replace('_', "");
        let (int_part, frac_part) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s.as_str(), ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let int_value: u128 = if int_part.is_empty() {
            0
        } else {
            // Anything above 1 is rejected below; cap the digits so the parse cannot overflow.
            let trimmed = int_part.trim_start_matches('0');
            if trimmed.len() > 1 {
                return Err(invalid());
            }
            trimmed.parse().unwrap_or(0)
        };
        // Trailing zeros carry no value; dropping them keeps the scale small.
        let frac = frac_part.trim_end_matches('0');
        let (frac, truncated) = if frac.len() > MAX_SCALE as usize {
            (&frac[..MAX_SCALE as usize], true)
        } else {
            (frac, false)
        };
        let scale = frac.len() as u32;
        let pow = 10u128.pow(scale);
        let frac_value: u128 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| invalid())?
        };
        let mut numerator = int_value * pow + frac_value;
        if truncated {
            // Digits beyond 10^-38 only matter to round a product up; one unit in the last place
            // does that for every n below 10^19.
            numerator += 1;
        }
        if numerator > pow {
            return Err(invalid());
        }
        Ok(Ratio { numerator, scale })
    }

    /// Converts a run-time `f64`, through its shortest decimal representation.
    ///
    /// `0.1_f64` is read as the decimal `0.1`, which is what the user wrote. NaN, infinities and
    /// values outside [0, 1] are errors.
    pub fn from_f64(value: f64) -> Result<Ratio, SpecError> {
        if !value.is_finite() || !(0.0..=1.0).contains(&value) {
            return Err(SpecError::InvalidRatio {
                given: value.to_string(),
            });
        }
        // `Display` for f64 prints the shortest string that reads back as the same value, and
        // never uses exponent notation.
        Ratio::parse(&value.to_string())
    }

    /// `ceil(self × n)`, exactly.
    ///
    /// ```
    /// use maptask_core::Ratio;
    /// for (r, n, m) in [("0.1", 10, 1), ("0.2", 5, 1), ("0.3", 10, 3), ("0.99", 100, 99)] {
    ///     assert_eq!(Ratio::parse(r).unwrap().min_successes(n), m);
    /// }
    /// ```
    pub fn min_successes(self, n: usize) -> usize {
        let denominator = 10u128.pow(self.scale);
        let product = self.numerator * n as u128;
        let ceil = product.div_ceil(denominator);
        // ratio <= 1, so the result is at most n.
        usize::try_from(ceil).unwrap_or(n).min(n)
    }

    /// The ratio as an `f64`, for display and serialization only.
    pub fn to_f64(self) -> f64 {
        self.numerator as f64 / 10f64.powi(self.scale as i32)
    }

    /// Whether the ratio is exactly 1.
    pub fn is_one(self) -> bool {
        self.numerator == 10u128.pow(self.scale)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.numerator);
        }
        let pow = 10u128.pow(self.scale);
        write!(
            f,
            "{}.{:0width$}",
            self.numerator / pow,
            self.numerator % pow,
            width = self.scale as usize
        )
    }
}

/// When a map counts as a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Criterion {
    /// Every element must succeed.
    #[default]
    All,
    /// At least `ceil(ratio × n)` elements must succeed.
    Ratio(Ratio),
    /// At least this many elements must succeed.
    MinSuccesses(usize),
}

impl Criterion {
    /// The number of successes needed out of `n` elements.
    ///
    /// Fails when an explicit minimum exceeds `n`.
    pub fn min_successes(self, n: usize) -> Result<usize, SpecError> {
        match self {
            Criterion::All => Ok(n),
            Criterion::Ratio(r) => Ok(r.min_successes(n)),
            Criterion::MinSuccesses(m) if m > n => Err(SpecError::MinSuccessesAboveLength {
                min_successes: m,
                n,
            }),
            Criterion::MinSuccesses(m) => Ok(m),
        }
    }

    /// Whether a failure can be tolerated, so outputs are `Option`s.
    pub fn tolerates_failures(self) -> bool {
        match self {
            Criterion::All => false,
            Criterion::Ratio(r) => !r.is_one(),
            Criterion::MinSuccesses(_) => true,
        }
    }
}

/// A map's run-time specification.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MapSpec {
    /// The map's deterministic name, used in events, spans and reports.
    pub name: String,
    /// At most this many elements active at once; 0 means unbounded.
    pub concurrency: usize,
    /// When the map counts as a success.
    pub criterion: Criterion,
    /// Extra attempts per element after a failed one.
    pub retries: u32,
    /// The bound on each attempt of each element.
    pub timeout: Option<Duration>,
    /// The pause before a retry; doubled after each failed attempt of the same element.
    pub backoff: Option<Duration>,
}

impl MapSpec {
    /// A spec with no bound on concurrency, every element required, no retries and no timeout.
    pub fn new(name: impl Into<String>) -> MapSpec {
        MapSpec {
            name: name.into(),
            concurrency: 0,
            criterion: Criterion::All,
            retries: 0,
            timeout: None,
            backoff: None,
        }
    }

    /// Sets the concurrency (0 = unbounded).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> MapSpec {
        self.concurrency = concurrency;
        self
    }

    /// Sets the success criterion.
    #[must_use]
    pub fn criterion(mut self, criterion: Criterion) -> MapSpec {
        self.criterion = criterion;
        self
    }

    /// Sets the number of retries per element.
    #[must_use]
    pub fn retries(mut self, retries: u32) -> MapSpec {
        self.retries = retries;
        self
    }

    /// Sets the bound on each attempt.
    #[must_use]
    pub fn timeout(mut self, timeout: Option<Duration>) -> MapSpec {
        self.timeout = timeout;
        self
    }

    /// Sets the pause before the first retry of an element.
    #[must_use]
    pub fn backoff(mut self, backoff: Option<Duration>) -> MapSpec {
        self.backoff = backoff;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_table_is_exact() {
        let table = [
            ("0.1", 10, 1),
            ("0.2", 5, 1),
            ("0.3", 10, 3),
            ("0.55", 100, 55),
            ("0.6", 10, 6),
            ("0.8", 10, 8),
            ("0.99", 100, 99),
            ("0.75", 4, 3),
            ("0", 7, 0),
            ("0.0", 7, 0),
            ("1", 7, 7),
            ("1.0", 7, 7),
        ];
        for (ratio, n, expected) in table {
            let r = Ratio::parse(ratio).unwrap();
            assert_eq!(r.min_successes(n), expected, "{ratio} x {n}");
            let from_float = Ratio::from_f64(ratio.parse::<f64>().unwrap()).unwrap();
            assert_eq!(from_float.min_successes(n), expected, "{ratio} (f64) x {n}");
        }
    }

    #[test]
    fn ratios_outside_the_unit_interval_are_errors() {
        for bad in ["1.01", "2", "-0.5", "abc", "", ".", "0.5.5"] {
            assert_eq!(
                Ratio::parse(bad),
                Err(SpecError::InvalidRatio { given: bad.into() }),
                "{bad}"
            );
        }
        assert!(Ratio::from_f64(f64::NAN).is_err());
        assert!(Ratio::from_f64(-0.1).is_err());
        assert!(Ratio::from_f64(1.5).is_err());
        assert!(Ratio::from_f64(f64::INFINITY).is_err());
    }

    #[test]
    fn tiny_ratios_round_up_to_one_success() {
        let r = Ratio::from_f64(1e-300).unwrap();
        assert_eq!(r.min_successes(10), 1);
        assert_eq!(r.min_successes(0), 0);
    }

    #[test]
    fn criterion_minimums() {
        assert_eq!(Criterion::All.min_successes(5), Ok(5));
        assert_eq!(Criterion::MinSuccesses(3).min_successes(5), Ok(3));
        assert_eq!(
            Criterion::MinSuccesses(6).min_successes(5),
            Err(SpecError::MinSuccessesAboveLength {
                min_successes: 6,
                n: 5
            })
        );
        assert!(!Criterion::All.tolerates_failures());
        assert!(!Criterion::Ratio(Ratio::ONE).tolerates_failures());
        assert!(!Criterion::Ratio(Ratio::parse("1.00").unwrap()).tolerates_failures());
        assert!(Criterion::Ratio(Ratio::parse("0.75").unwrap()).tolerates_failures());
        assert!(Criterion::MinSuccesses(5).tolerates_failures());
    }

    #[test]
    fn ratios_display_as_written() {
        assert_eq!(Ratio::parse("0.750").unwrap().to_string(), "0.75");
        assert_eq!(Ratio::parse("0.05").unwrap().to_string(), "0.05");
        assert_eq!(Ratio::parse("1").unwrap().to_string(), "1");
    }
}

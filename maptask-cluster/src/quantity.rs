//! Kubernetes resource quantities (`"500m"`, `"2Gi"`, `"1.5"`, `"1e3"`), held exactly.
//!
//! Both targets need them as numbers: Kubernetes to check that a request does not exceed its
//! limit (the API server would reject it), AWS Batch to express CPUs and MiB.

use std::cmp::Ordering;
use std::fmt;

/// A non-negative quantity as the exact fraction `numerator / denominator`.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    numerator: u128,
    denominator: u128,
}

impl Quantity {
    /// Parses the Kubernetes quantity syntax: a decimal number, then an optional suffix
    /// (`m`, `k`, `M`, `G`, `T`, `P`, `E`, `Ki` … `Ei`, or an exponent `e3`/`E3`).
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let bad = |why: &str| format!("`{text}` is not a Kubernetes quantity: {why}");
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        let number = number.strip_prefix('+').unwrap_or(number);
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(bad(
                "it has no number (write e.g. \"500m\", \"2Gi\", \"1\")",
            ));
        }
        if frac_part.contains('.') {
            return Err(bad("it has two decimal points"));
        }
        let digits = format!("{int_part}{frac_part}");
        let mut numerator: u128 = digits.parse().map_err(|_| bad("the number is too large"))?;
        let mut denominator: u128 = 10u128
            .checked_pow(frac_part.len() as u32)
            .ok_or_else(|| bad("too many decimals"))?;
        let multiply =
            |value: u128, by: u128| value.checked_mul(by).ok_or_else(|| bad("too large"));
        match suffix {
            "" => {}
            "m" => denominator = multiply(denominator, 1000)?,
            "k" => numerator = multiply(numerator, 1000)?,
            "M" => numerator = multiply(numerator, 1000u128.pow(2))?,
            "G" => numerator = multiply(numerator, 1000u128.pow(3))?,
            "T" => numerator = multiply(numerator, 1000u128.pow(4))?,
            "P" => numerator = multiply(numerator, 1000u128.pow(5))?,
            "E" => numerator = multiply(numerator, 1000u128.pow(6))?,
            "Ki" => numerator = multiply(numerator, 1 << 10)?,
            "Mi" => numerator = multiply(numerator, 1 << 20)?,
            "Gi" => numerator = multiply(numerator, 1 << 30)?,
            "Ti" => numerator = multiply(numerator, 1 << 40)?,
            "Pi" => numerator = multiply(numerator, 1 << 50)?,
            "Ei" => numerator = multiply(numerator, 1 << 60)?,
            exponent if exponent.starts_with(['e', 'E']) => {
                let power: i32 = exponent[1..]
                    .parse()
                    .map_err(|_| bad(&format!("unknown suffix `{suffix}`")))?;
                let scale = 10u128
                    .checked_pow(power.unsigned_abs())
                    .ok_or_else(|| bad("the exponent is too large"))?;
                if power >= 0 {
                    numerator = multiply(numerator, scale)?;
                } else {
                    denominator = multiply(denominator, scale)?;
                }
            }
            _ => {
                return Err(bad(&format!(
                    "unknown suffix `{suffix}` (use m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi or Ei)"
                )))
            }
        }
        Ok(Quantity {
            numerator,
            denominator,
        })
    }

    /// The smallest integer `>= self / unit`.
    pub fn ceil_in(self, unit: u128) -> u128 {
        self.numerator
            .div_ceil(self.denominator.saturating_mul(unit))
    }

    /// Whether the quantity is zero.
    pub fn is_zero(self) -> bool {
        self.numerator == 0
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        // a/b vs c/d as a·d vs c·b; the values parsed above stay far below u128's range, and a
        // saturated product still orders correctly against a modest one.
        self.numerator
            .saturating_mul(other.denominator)
            .cmp(&other.numerator.saturating_mul(self.denominator))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap()
    }

    #[test]
    fn suffixes_scale_exactly() {
        assert_eq!(q("500m"), q("0.5"));
        assert_eq!(q("1k"), q("1000"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("2Gi"), q("2147483648"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("1E-3"), q("1m"));
        assert_eq!(q("10M"), q("10000000"));
        assert!(q("250m") < q("1"));
        assert!(q("0").is_zero());
    }

    #[test]
    fn ceilings_in_units() {
        assert_eq!(q("500m").ceil_in(1), 1);
        assert_eq!(q("2").ceil_in(1), 2);
        assert_eq!(q("2001m").ceil_in(1), 3);
        assert_eq!(q("1Gi").ceil_in(1 << 20), 1024);
        assert_eq!(q("1G").ceil_in(1 << 20), 954);
        assert_eq!(q("1").ceil_in(1 << 20), 1);
    }

    #[test]
    fn malformed_quantities_name_themselves() {
        for (text, why) in [
            ("", "no number"),
            ("abc", "no number"),
            ("1.2.3", "two decimal points"),
            ("5mb", "unknown suffix `mb`"),
            ("-1", "no number"),
        ] {
            let error = Quantity::parse(text).unwrap_err();
            assert!(error.contains(&format!("`{text}`")), "{error}");
            assert!(error.contains(why), "{text}: {error}");
        }
    }
}

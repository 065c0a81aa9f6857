//! Exact Kubernetes `resource.Quantity` arithmetic, without floats.
//!
//! [`Amount::parse`] accepts the full Kubernetes grammar: an optional sign, digits with an optional
//! fraction, then a binary suffix (`Ki` … `Ei`), a decimal suffix (`n u m k M G T P E`, or none) or a
//! decimal exponent (`e3`, `E-2`). Values are held exactly in nano-units.

use std::fmt;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// An exact quantity value, in nano-units (`1` is `1n`, `1_000_000_000` is `1`).
///
/// The range is ±`i128::MAX` nano-units (about ±1.7e29 units, far beyond `Ei`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i128);

/// Why a string is not a quantity. Every message says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The string is empty.
    #[error(
        "empty quantity: expected a number with an optional suffix such as 500m, 2, 4Gi or 1e3"
    )]
    Empty,
    /// The number part is malformed (no digits, spaces, several dots, ...).
    #[error(
        "`{0}` is not a quantity: expected a number with an optional suffix such as 500m, 2, 4Gi or 1e3"
    )]
    Malformed(String),
    /// The suffix is not one Kubernetes knows.
    #[error(
        "`{input}` has unknown suffix `{suffix}`: use one of Ki Mi Gi Ti Pi Ei, n u m k M G T P E, \
         an exponent such as e3, or none"
    )]
    UnknownSuffix {
        /// The whole input.
        input: String,
        /// The unrecognised suffix.
        suffix: String,
    },
    /// The value is too large to hold.
    #[error("`{0}` is too large: quantities must stay below about 1.7e29")]
    Overflow(String),
    /// The value has a part below one nano-unit.
    #[error("`{0}` is more precise than 1n: use at most nano-unit precision, such as 1500m or 1.5")]
    TooPrecise(String),
}

/// Binary suffixes, by power of 1024.
const BINARY: [(&str, u32); 6] = [
    ("Ki", 1),
    ("Mi", 2),
    ("Gi", 3),
    ("Ti", 4),
    ("Pi", 5),
    ("Ei", 6),
];

/// Decimal suffixes, by power of 10.
const DECIMAL: [(&str, i32); 10] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

/// Nano-units per unit.
const NANO: i128 = 1_000_000_000;

/// A number scaled to nano-units: `mantissa × 1024^binary × 10^decimal`.
struct Scale {
    binary: u32,
    decimal: i64,
}

impl Amount {
    /// An amount of `nanos` nano-units.
    pub const fn from_nanos(nanos: i128) -> Self {
        Self(nanos)
    }

    /// The amount in nano-units.
    pub const fn nanos(self) -> i128 {
        self.0
    }

    /// Parses a Kubernetes quantity such as `500m`, `2`, `4Gi`, `1.5e3` or `-1`.
    pub fn parse(s: &str) -> Result<Amount, QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::Empty);
        }
        let malformed = || QuantityError::Malformed(s.to_string());
        let (negative, rest) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_len);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.len() + fraction.len() == 0 || fraction.contains('.') {
            return Err(malformed());
        }
        let scale = parse_suffix(s, suffix)?;
        let overflow = || QuantityError::Overflow(s.to_string());
        let mut mantissa: i128 = 0;
        for digit in whole.bytes().chain(fraction.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(digit - b'0')))
                .ok_or_else(overflow)?;
        }
        if mantissa == 0 {
            return Ok(Amount(0));
        }
        let nanos = mantissa
            .checked_mul(1024_i128.checked_pow(scale.binary).ok_or_else(overflow)?)
            .ok_or_else(overflow)?;
        let fraction_digits = i64::try_from(fraction.len()).map_err(|_| overflow())?;
        let exponent = scale.decimal + 9 - fraction_digits;
        let power = |e: i64| u32::try_from(e).ok().and_then(|e| 10_i128.checked_pow(e));
        let nanos = if exponent >= 0 {
            power(exponent)
                .and_then(|factor| nanos.checked_mul(factor))
                .ok_or_else(overflow)?
        } else {
            // A divisor beyond i128 leaves a part below one nano-unit.
            match power(-exponent) {
                Some(divisor) if nanos % divisor == 0 => nanos / divisor,
                _ => return Err(QuantityError::TooPrecise(s.to_string())),
            }
        };
        Ok(Amount(if negative { -nanos } else { nanos }))
    }

    /// Whether the amount is below zero.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The sum, or `None` when it leaves the range of ±`i128::MAX` nano-units.
    pub fn checked_add(self, rhs: Amount) -> Option<Amount> {
        self.0
            .checked_add(rhs.0)
            .filter(|sum| *sum != i128::MIN)
            .map(Amount)
    }

    /// The canonical Kubernetes quantity: the shortest exact form, binary suffixes for whole
    /// multiples of 1024 when they are shorter (`150Gi`), decimal suffixes otherwise (`1500m`, `2`).
    pub fn to_quantity(self) -> Quantity {
        Quantity(self.to_string())
    }
}

/// The scale a suffix stands for; `input` is only for the error.
fn parse_suffix(input: &str, suffix: &str) -> Result<Scale, QuantityError> {
    if let Some((_, power)) = BINARY.iter().find(|(name, _)| *name == suffix) {
        return Ok(Scale {
            binary: *power,
            decimal: 0,
        });
    }
    if let Some((_, power)) = DECIMAL.iter().find(|(name, _)| *name == suffix) {
        return Ok(Scale {
            binary: 0,
            decimal: i64::from(*power),
        });
    }
    let unknown = || QuantityError::UnknownSuffix {
        input: input.to_string(),
        suffix: suffix.to_string(),
    };
    let exponent = suffix
        .strip_prefix(['e', 'E'])
        .filter(|e| {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        })
        .ok_or_else(unknown)?;
    let decimal = exponent
        .parse::<i32>()
        .map_err(|_| QuantityError::Overflow(input.to_string()))?;
    Ok(Scale {
        binary: 0,
        decimal: i64::from(decimal),
    })
}

/// The largest decimal form: mantissa and suffix (`0` has none).
fn decimal_form(nanos: u128) -> (u128, &'static str) {
    if nanos == 0 {
        return (0, "");
    }
    DECIMAL
        .iter()
        .rev()
        .find_map(|(suffix, power)| {
            let divisor = 10_u128.pow(u32::try_from(power + 9).expect("powers are at least -9"));
            nanos
                .is_multiple_of(divisor)
                .then_some((nanos / divisor, *suffix))
        })
        .expect("every amount is a whole number of nano-units")
}

/// The largest binary form of a whole multiple of 1024 units, if any.
fn binary_form(nanos: u128) -> Option<(u128, &'static str)> {
    let nano = NANO.unsigned_abs();
    if nanos == 0 || !nanos.is_multiple_of(nano) {
        return None;
    }
    let units = nanos / nano;
    BINARY.iter().rev().find_map(|(suffix, power)| {
        let divisor = 1024_u128.pow(*power);
        units
            .is_multiple_of(divisor)
            .then_some((units / divisor, *suffix))
    })
}

impl fmt::Display for Amount {
    /// Writes the canonical form, as [`Amount::to_quantity`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.is_negative() { "-" } else { "" };
        let nanos = self.0.unsigned_abs();
        let (d_mantissa, d_suffix) = decimal_form(nanos);
        let decimal = format!("{d_mantissa}{d_suffix}");
        let best = match binary_form(nanos) {
            Some((mantissa, suffix)) => {
                let binary = format!("{mantissa}{suffix}");
                if binary.len() < decimal.len() {
                    binary
                } else {
                    decimal
                }
            }
            None => decimal,
        };
        write!(f, "{sign}{best}")
    }
}

impl std::ops::Add for Amount {
    type Output = Amount;

    /// Saturating addition, clamped to ±`i128::MAX` nano-units (far beyond any real quota).
    fn add(self, rhs: Amount) -> Amount {
        self.checked_add(rhs).unwrap_or(if rhs.is_negative() {
            Amount(-i128::MAX)
        } else {
            Amount(i128::MAX)
        })
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::default(), |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn nanos(s: &str) -> i128 {
        Amount::parse(s).unwrap().nanos()
    }

    fn canonical(s: &str) -> String {
        Amount::parse(s).unwrap().to_quantity().0
    }

    #[test]
    fn parses_every_suffix_family() {
        assert_eq!(nanos("2"), 2 * NANO);
        assert_eq!(nanos("500m"), NANO / 2);
        assert_eq!(nanos("1n"), 1);
        assert_eq!(nanos("3u"), 3_000);
        assert_eq!(nanos("1k"), 1_000 * NANO);
        assert_eq!(nanos("1E"), 10_i128.pow(18) * NANO);
        assert_eq!(nanos("4Gi"), 4 * (1 << 30) * NANO);
        assert_eq!(nanos("1Ei"), (1 << 60) * NANO);
        assert_eq!(nanos("1e3"), 1_000 * NANO);
        assert_eq!(nanos("1E-2"), NANO / 100);
        assert_eq!(nanos("1.5e+3"), 1_500 * NANO);
    }

    #[test]
    fn parses_signs_and_fractions() {
        assert_eq!(nanos("-1"), -NANO);
        assert_eq!(nanos("+1"), NANO);
        assert_eq!(nanos(".5"), NANO / 2);
        assert_eq!(nanos("5."), 5 * NANO);
        assert_eq!(nanos("1.5Gi"), 3 * (1 << 29) * NANO);
        assert_eq!(nanos("0.1Ki"), 102_400_000_000);
        assert_eq!(nanos("1.0000000000"), NANO);
        assert_eq!(nanos("0.000000000000"), 0);
        assert_eq!(nanos("0e-2000"), 0);
        assert!(Amount::parse("-1").unwrap().is_negative());
        assert!(!Amount::parse("0").unwrap().is_negative());
    }

    #[test]
    fn refuses_empty_and_malformed() {
        assert_eq!(Amount::parse(""), Err(QuantityError::Empty));
        for bad in [".", "-", "+", "1.2.3", "Gi", "--1", "1 Gi", " 1", "1,5"] {
            let err = Amount::parse(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    QuantityError::Malformed(_) | QuantityError::UnknownSuffix { .. }
                ),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains("e3"), "{err}");
        }
    }

    #[test]
    fn refuses_unknown_suffixes() {
        for bad in ["1K", "1gi", "1GB", "1e", "1e1.5", "1ee3", "1Gi3", "1mi"] {
            let err = Amount::parse(bad).unwrap_err();
            assert!(
                matches!(err, QuantityError::UnknownSuffix { .. }),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains("Ki Mi Gi"), "{err}");
        }
    }

    #[test]
    fn refuses_overflow() {
        for bad in [
            "1e100",
            "1e99999999999",
            "999999999999999999999999999999999999999999",
        ] {
            let err = Amount::parse(bad).unwrap_err();
            assert!(matches!(err, QuantityError::Overflow(_)), "{bad}: {err:?}");
            assert!(err.to_string().contains(bad), "{err}");
        }
        assert!(matches!(
            Amount::parse("1000000000000Ei"),
            Err(QuantityError::Overflow(_))
        ));
    }

    #[test]
    fn refuses_below_nano() {
        for bad in ["0.1n", "1e-10", "0.0000000001", "0.0000000001Ki", "1e-2000"] {
            let err = Amount::parse(bad).unwrap_err();
            assert!(
                matches!(err, QuantityError::TooPrecise(_)),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("2"), "2");
        assert_eq!(canonical("1500m"), "1500m");
        assert_eq!(canonical("1.5"), "1500m");
        assert_eq!(canonical("0"), "0");
        assert_eq!(canonical("-0"), "0");
        assert_eq!(canonical("1000"), "1k");
        assert_eq!(canonical("2G"), "2G");
        assert_eq!(canonical("1024Mi"), "1Gi");
        assert_eq!(canonical("1000Mi"), "1000Mi");
        assert_eq!(canonical("-4Gi"), "-4Gi");
        assert_eq!(canonical("1e3"), "1k");
        assert_eq!(canonical("0.5Ki"), "512");
    }

    #[test]
    fn sums_keep_their_form() {
        let sum = Amount::parse("100Gi").unwrap() + Amount::parse("50Gi").unwrap();
        assert_eq!(sum.to_quantity().0, "150Gi");
        let total: Amount = ["1", "500m"]
            .iter()
            .map(|s| Amount::parse(s).unwrap())
            .sum();
        assert_eq!(total.to_quantity().0, "1500m");
    }

    #[test]
    fn addition_saturates_symmetrically() {
        let max = Amount::from_nanos(i128::MAX);
        let min = Amount::from_nanos(-i128::MAX);
        assert_eq!(max + Amount::from_nanos(1), max);
        assert_eq!(min + Amount::from_nanos(-1), min);
        assert_eq!(max.checked_add(Amount::from_nanos(1)), None);
        assert_eq!(Amount::parse(&(min + min).to_string()), Ok(min));
    }

    #[test]
    fn orders_by_value() {
        assert!(Amount::parse("1Gi").unwrap() > Amount::parse("1G").unwrap());
        assert!(Amount::parse("999m").unwrap() < Amount::parse("1").unwrap());
    }

    proptest! {
        #[test]
        fn canonical_form_round_trips(n in -i128::MAX..=i128::MAX) {
            let amount = Amount::from_nanos(n);
            prop_assert_eq!(Amount::parse(&amount.to_quantity().0), Ok(amount));
        }

        #[test]
        fn round_trips_round_values(units in -1_000_000_i128..1_000_000, power in 0_u32..6) {
            let amount = Amount::from_nanos(units * 1024_i128.pow(power) * NANO);
            prop_assert_eq!(Amount::parse(&amount.to_quantity().0), Ok(amount));
        }
    }
}

//! Credential lifetimes: `8h`, `30m`, `1h30m`, bounded below by the API server's minimum and
//! above by a configurable maximum.

use std::fmt;
use std::str::FromStr;

use jiff::SignedDuration;

use crate::CredentialError;

/// The shortest lifetime the API server accepts for tokens and certificates (600 s).
pub const MIN_TTL: Ttl = Ttl(SignedDuration::from_secs(600));
/// The default lifetime: a working day.
pub const DEFAULT_TTL: Ttl = Ttl(SignedDuration::from_secs(8 * 3600));
/// The default maximum lifetime.
pub const DEFAULT_MAX_TTL: Ttl = Ttl(SignedDuration::from_secs(24 * 3600));

/// A credential lifetime in whole seconds, at least [`MIN_TTL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ttl(SignedDuration);

impl Ttl {
    /// The lifetime in seconds, as `expirationSeconds` wants it.
    pub fn seconds(self) -> i64 {
        self.0.as_secs()
    }

    /// The lifetime as a duration.
    pub fn duration(self) -> SignedDuration {
        self.0
    }

    /// Checks `self` is at most `max` (`field` names the flag in the error).
    pub fn check_max(self, max: Ttl, field: &str) -> Result<(), CredentialError> {
        if self > max {
            return Err(CredentialError::invalid(
                field,
                format!(
                    "`{self}` is above the maximum lifetime `{max}`: ask for a shorter lifetime, \
                     or raise --max-ttl if your policy allows longer credentials"
                ),
            ));
        }
        Ok(())
    }
}

impl FromStr for Ttl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let duration: SignedDuration = text.trim().parse().map_err(|_| {
            format!("`{text}` is not a duration: write it like `8h`, `30m` or `1h30m`")
        })?;
        if duration.subsec_nanos() != 0 {
            return Err(format!("`{text}` is not a whole number of seconds"));
        }
        if duration < MIN_TTL.0 {
            return Err(format!(
                "`{text}` is below the minimum `{MIN_TTL}` the API server accepts for tokens and certificates"
            ));
        }
        Ok(Self(duration))
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
        let mut out = String::new();
        for (value, unit) in [(h, "h"), (m, "m"), (s, "s")] {
            if value != 0 {
                out.push_str(&format!("{value}{unit}"));
            }
        }
        f.write_str(&out)
    }
}

impl serde::Serialize for Ttl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Ttl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_friendly_durations() {
        assert_eq!("8h".parse::<Ttl>().unwrap().seconds(), 8 * 3600);
        assert_eq!("30m".parse::<Ttl>().unwrap().seconds(), 1800);
        assert_eq!("1h30m".parse::<Ttl>().unwrap().seconds(), 5400);
        assert_eq!("1h30m".parse::<Ttl>().unwrap().to_string(), "1h30m");
        assert_eq!(DEFAULT_TTL.to_string(), "8h");
    }

    #[test]
    fn refuses_garbage_short_and_fractional() {
        let e = "eight hours".parse::<Ttl>().unwrap_err();
        assert!(e.contains("`8h`"), "{e}");
        let e = "5m".parse::<Ttl>().unwrap_err();
        assert!(e.contains("minimum `10m`"), "{e}");
        let e = "-2h".parse::<Ttl>().unwrap_err();
        assert!(e.contains("minimum"), "{e}");
        let e = "600.5s".parse::<Ttl>().unwrap_err();
        assert!(e.contains("whole number"), "{e}");
    }

    #[test]
    fn checks_the_maximum() {
        let ttl: Ttl = "25h".parse().unwrap();
        let e = ttl
            .check_max(DEFAULT_MAX_TTL, "--ttl")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--ttl: `25h` is above the maximum lifetime `24h`"),
            "{e}"
        );
        assert!(DEFAULT_TTL.check_max(DEFAULT_MAX_TTL, "--ttl").is_ok());
    }
}

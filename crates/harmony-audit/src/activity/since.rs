//! `since`: a duration back from now (`30m`, `24h`, `7d`, `1h30m`) or an RFC 3339 time.

use jiff::{SignedDuration, Timestamp};

/// A `since` that is neither a duration nor an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is neither a duration (a number and a unit s, m, h or d, such as 30m, 24h, 7d or \
     1h30m) nor an RFC 3339 time (such as 2026-12-03T12:00:00Z)"
)]
pub struct SinceError(pub String);

/// The time `text` stands for: `now` less a duration, or an RFC 3339 time.
pub fn parse_since(text: &str, now: Timestamp) -> Result<Timestamp, SinceError> {
    let refuse = || SinceError(text.to_string());
    if let Some(duration) = duration(text) {
        return now.checked_sub(duration).map_err(|_| refuse());
    }
    text.parse::<Timestamp>().map_err(|_| refuse())
}

/// `1h30m`, `7d`, `90s`: one or more numbers, each with its unit.
fn duration(text: &str) -> Option<SignedDuration> {
    let mut rest = text;
    let mut seconds: i64 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (number, tail) = rest.split_at(digits);
        let number: i64 = number.parse().ok()?;
        let mut units = tail.chars();
        let unit = match units.next()? {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        seconds = seconds.checked_add(number.checked_mul(unit)?)?;
        rest = units.as_str();
    }
    Some(SignedDuration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-03T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn durations_count_back_from_now() {
        for (text, expected) in [
            ("24h", "2026-12-02T12:00:00Z"),
            ("30m", "2026-12-03T11:30:00Z"),
            ("7d", "2026-11-26T12:00:00Z"),
            ("1h30m", "2026-12-03T10:30:00Z"),
            ("90s", "2026-12-03T11:58:30Z"),
        ] {
            assert_eq!(
                parse_since(text, now()).unwrap(),
                expected.parse::<Timestamp>().unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn rfc3339_times_are_taken_as_they_are() {
        assert_eq!(
            parse_since("2026-12-01T08:00:00+01:00", now()).unwrap(),
            "2026-12-01T07:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn anything_else_is_refused_naming_it() {
        for text in [
            "",
            "yesterday",
            "24",
            "h",
            "24 h",
            "-1h",
            "2w",
            "2026-12-01",
            "1h30",
        ] {
            let error = parse_since(text, now()).unwrap_err();
            assert_eq!(error, SinceError(text.to_string()));
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("`{text}` is neither a duration"))
            );
        }
        assert!(parse_since("99999999999999d", now()).is_err());
    }
}

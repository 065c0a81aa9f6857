//! Retention as written in a tenant file (`30d`, `720h`, `1d12h`) and as Velero's `ttl` (a Go
//! duration such as `720h0m0s`).

/// The shortest retention: a backup kept less than an hour is no backup.
const MIN_MINUTES: u64 = 60;

/// The retention `text` in minutes, or why it is not one.
pub fn retention_minutes(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "`{text}` is not a retention: write days, hours or minutes, such as `30d`, `720h` or `1d12h`"
        )
    };
    let mut minutes = 0u64;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'd' => 24 * 60,
            'h' => 60,
            'm' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        minutes = n
            .checked_mul(unit)
            .and_then(|m| m.checked_add(minutes))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || minutes == 0 {
        return Err(bad());
    }
    if minutes < MIN_MINUTES {
        return Err(format!(
            "`{text}` is under an hour: keep backups at least `1h`"
        ));
    }
    Ok(minutes)
}

/// `minutes` as Velero writes a ttl (Go's `time.Duration` text): `720h0m0s`.
pub fn velero_ttl(minutes: u64) -> String {
    format!("{}h{}m0s", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_hours_and_minutes_become_a_velero_ttl() {
        for (text, ttl) in [
            ("30d", "720h0m0s"),
            ("720h", "720h0m0s"),
            ("1d12h", "36h0m0s"),
            ("90m", "1h30m0s"),
        ] {
            assert_eq!(velero_ttl(retention_minutes(text).unwrap()), ttl, "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_retention() {
        for (text, why) in [
            ("30", "is not a retention"),
            ("30 days", "is not a retention"),
            ("1w", "is not a retention"),
            ("", "is not a retention"),
            ("0d", "is not a retention"),
            ("30m", "is under an hour"),
            ("99999999999999999999d", "is not a retention"),
        ] {
            let e = retention_minutes(text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}

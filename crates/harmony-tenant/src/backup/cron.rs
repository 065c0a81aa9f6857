//! Velero's schedule syntax: what its controller parses (robfig/cron `ParseStandard`): five
//! fields (minute, hour, day of month, month, day of week) or a descriptor (`@daily`,
//! `@every 6h`). Checked here so a schedule Velero would mark `FailedValidation` is refused where
//! it is written.

/// The five fields: name, lowest, highest, and the names allowed for values.
const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    (
        "month",
        1,
        12,
        &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
    ),
    (
        "day of week",
        0,
        6,
        &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    ),
];

/// The descriptors Velero accepts besides `@every DURATION`.
const DESCRIPTORS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// Why `schedule` is not a schedule Velero accepts, if it is not.
pub fn schedule_problem(schedule: &str) -> Option<String> {
    let schedule = schedule.trim();
    if let Some(every) = schedule.strip_prefix("@every ") {
        return every_problem(every.trim());
    }
    if schedule.starts_with('@') {
        return (!DESCRIPTORS.contains(&schedule)).then(|| {
            format!(
                "`{schedule}` is not a descriptor: use one of {}, or `@every 6h`",
                DESCRIPTORS.join(", ")
            )
        });
    }
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        return Some(format!(
            "has {} fields where 5 are needed (minute hour day-of-month month day-of-week)",
            fields.len()
        ));
    }
    fields
        .iter()
        .zip(FIELDS)
        .find_map(|(field, spec)| field_problem(field, spec))
}

fn field_problem(
    field: &str,
    (name, low, high, names): (&str, u32, u32, &[&str]),
) -> Option<String> {
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (part, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(s) if s > 0 => {}
                _ => {
                    return Some(format!(
                        "{name} step `{step}` is not a whole number above 0"
                    ));
                }
            }
        }
        if range == "*" || range == "?" {
            continue;
        }
        let value = |text: &str| -> Result<u32, String> {
            let found = names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(text))
                .map(|i| i as u32 + low);
            match found.or_else(|| text.parse().ok()) {
                Some(v) if (low..=high).contains(&v) => Ok(v),
                Some(v) => Err(format!("{name} {v} is out of {low}-{high}")),
                None => Err(format!("{name} `{text}` is not a number")),
            }
        };
        let (start, end) = match range.split_once('-') {
            Some((a, b)) => (value(a), value(b)),
            None => (value(range), Ok(high)),
        };
        match (start, end) {
            (Err(e), _) | (_, Err(e)) => return Some(e),
            (Ok(a), Ok(b)) if a > b => {
                return Some(format!("{name} range `{range}` runs backwards"));
            }
            _ => {}
        }
    }
    None
}

/// Why `every` is not a Go duration of at least a minute, such as `6h` or `1h30m`.
fn every_problem(every: &str) -> Option<String> {
    let bad = || {
        Some(format!(
            "`@every {every}` needs a duration such as `6h` or `1h30m`"
        ))
    };
    let mut seconds = 0u64;
    let mut number = String::new();
    for c in every.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return bad(),
        };
        let Ok(n) = number.parse::<u64>() else {
            return bad();
        };
        seconds += n * unit;
        number.clear();
    }
    if !number.is_empty() || seconds == 0 {
        return bad();
    }
    (seconds < 60)
        .then(|| format!("`@every {every}` is under a minute: back up at most every minute"))
}

#[cfg(test)]
mod tests {
    use super::schedule_problem;

    #[test]
    fn accepts_what_velero_parses() {
        for ok in [
            "0 2 * * *",
            "*/15 * * * *",
            "0 1-5/2 1,15 JAN-jun mon-FRI",
            "30 3 ? * 0",
            "@daily",
            "@every 1h",
            "@every 1h30m",
        ] {
            assert_eq!(schedule_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn refuses_what_it_does_not_and_says_why() {
        for (bad, why) in [
            ("0 2 * *", "has 4 fields where 5 are needed"),
            ("0 2 * * * *", "has 6 fields"),
            ("0 25 * * *", "hour 25 is out of 0-23"),
            ("0 2 0 * *", "day of month 0 is out of 1-31"),
            ("0 2 * * 7", "day of week 7 is out of 0-6"),
            ("0 2 * foo *", "month `foo` is not a number"),
            ("*/0 2 * * *", "minute step `0`"),
            ("0 5-1 * * *", "hour range `5-1` runs backwards"),
            ("@nightly", "`@nightly` is not a descriptor"),
            ("@every soon", "needs a duration"),
            ("@every 30s", "is under a minute"),
            ("", "has 0 fields"),
        ] {
            let problem = schedule_problem(bad).unwrap_or_default();
            assert!(problem.contains(why), "{bad}: {problem}");
        }
    }
}

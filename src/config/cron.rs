//! Backup schedules: five-field cron expressions and IANA time zones, checked with a hint.

/// Checks a five-field cron expression (or an @macro); the error says which field is wrong.
pub(crate) fn check_cron(expr: &str) -> Result<(), String> {
    let expr = expr.trim();
    if let Some(name) = expr.strip_prefix('@') {
        return match name {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ => Err(format!(
                "`@{name}` is not a schedule macro; use @yearly, @monthly, @weekly, @daily or @hourly"
            )),
        };
    }
    if expr.starts_with("TZ=") || expr.starts_with("CRON_TZ=") {
        return Err("put the time zone in backup.timeZone, not in the schedule".to_owned());
    }
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "a schedule has 5 fields (minute hour day-of-month month day-of-week), this one has {}",
            fields.len()
        ));
    }
    const MONTHS: &[&str] = &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let specs: [(&str, u32, u32, &[&str], u32); 5] = [
        ("minute", 0, 59, &[], 0),
        ("hour", 0, 23, &[], 0),
        ("day of month", 1, 31, &[], 0),
        ("month", 1, 12, MONTHS, 1),
        ("day of week", 0, 7, DAYS, 0),
    ];
    for (field, (what, lo, hi, names, base)) in fields.iter().zip(specs) {
        check_cron_field(field, lo, hi, names, base).map_err(|(part, e)| {
            if part == *field {
                format!("the {what} `{field}` {e}")
            } else {
                format!("the {what} field `{field}`: `{part}` {e}")
            }
        })?;
    }
    Ok(())
}

/// Checks one cron field; an error names the part that is wrong and why.
fn check_cron_field(
    field: &str,
    lo: u32,
    hi: u32,
    names: &[&str],
    base: u32,
) -> Result<(), (String, String)> {
    let value = |s: &str| -> Result<u32, (String, String)> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(u32::try_from(i).unwrap_or(0) + base);
        }
        let n: u32 = s.parse().map_err(|_| {
            let also = if names.is_empty() {
                String::new()
            } else {
                format!(" or a name like {}", names[0])
            };
            (s.to_owned(), format!("is not a number{also}"))
        })?;
        if n < lo || n > hi {
            return Err((s.to_owned(), format!("is outside {lo}-{hi}")));
        }
        Ok(n)
    };
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            let n: u32 = step.parse().map_err(|_| {
                (
                    part.to_owned(),
                    format!("has the step `{step}`, which is not a number"),
                )
            })?;
            if n == 0 || n > hi {
                return Err((part.to_owned(), format!("has the step {n}, outside 1-{hi}")));
            }
        }
        match range {
            "*" | "?" => {}
            _ => match range.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (value(a)?, value(b)?);
                    if a > b {
                        return Err((range.to_owned(), "runs backwards".to_owned()));
                    }
                }
                None => {
                    value(range)?;
                }
            },
        }
    }
    Ok(())
}

/// The IANA time zone names, one a line after a comment line.
const TIME_ZONES: &str = include_str!("timezones.txt");

pub(crate) fn time_zones() -> impl Iterator<Item = &'static str> {
    TIME_ZONES.lines().filter(|l| !l.starts_with('#'))
}

pub(crate) fn is_time_zone(tz: &str) -> bool {
    time_zones().any(|z| z == tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron() {
        for ok in [
            "0 2 * * *",
            "*/15 * * * *",
            "0 3 * * SUN",
            "0 0 1-7 JAN,JUL 1-5",
            "@daily",
        ] {
            assert_eq!(check_cron(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check_cron("0 25 * * *").expect_err("hour"),
            "the hour `25` is outside 0-23"
        );
        assert_eq!(
            check_cron("0 20-25 * * *").expect_err("hour"),
            "the hour field `20-25`: `25` is outside 0-23"
        );
        assert!(
            check_cron("0 2 * *")
                .expect_err("fields")
                .contains("5 fields")
        );
        assert!(check_cron("@nightly").is_err());
        assert!(check_cron("*/0 * * * *").is_err());
        assert!(check_cron("5-1 * * * *").is_err());
    }

    #[test]
    fn time_zones_are_real_ones() {
        for tz in [
            "UTC",
            "GMT",
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+2",
        ] {
            assert!(is_time_zone(tz), "{tz}");
        }
        for tz in ["Europe/Berln", "CEST", "utc", "Factory", ""] {
            assert!(!is_time_zone(tz), "{tz}");
        }
    }
}

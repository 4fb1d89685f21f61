//! Kubernetes quantities, PostgreSQL memory settings and cron schedules: parsing with hints.

/// A parsed Kubernetes quantity, as a plain number (bytes for memory, cores for CPU).
pub fn parse_quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    if number.is_empty() || number.matches('.').count() > 1 || number == "." {
        return None;
    }
    let body = number.trim_start_matches(['+', '-']);
    if body.is_empty() || body.contains(['+', '-']) {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exp if exp.starts_with(['e', 'E']) => {
            let power: i32 = exp[1..].parse().ok()?;
            10f64.powi(power)
        }
        _ => return None,
    };
    Some(value * factor)
}

/// A suggestion for a quantity that did not parse, e.g. "1GB" -> "1Gi".
pub fn quantity_hint(text: &str) -> String {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let split = compact
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(compact.len());
    let (number, suffix) = compact.split_at(split);
    let binary = match suffix.to_ascii_lowercase().as_str() {
        "kb" | "kib" | "k" => Some("Ki"),
        "mb" | "mib" | "m" => Some("Mi"),
        "gb" | "gib" | "g" => Some("Gi"),
        "tb" | "tib" | "t" => Some("Ti"),
        "pb" | "pib" | "p" => Some("Pi"),
        _ => None,
    };
    match binary {
        Some(unit) if !number.is_empty() => format!(
            "did you mean {number}{unit}? Kubernetes writes sizes as 512Mi, 1Gi, 20Gi (or 1G for 10^9)"
        ),
        _ => "write a Kubernetes quantity such as 500m, 2, 512Mi or 20Gi".to_owned(),
    }
}

/// The leading digits of a memory size, and the rest (its unit).
fn digits_then_unit(text: &str) -> (&str, &str) {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(split)
}

/// A PostgreSQL memory setting (e.g. shared_buffers) in bytes; a bare number counts in
/// `unit_bytes` (8kB pages for shared_buffers).
pub fn parse_pg_memory(text: &str, unit_bytes: f64) -> Option<f64> {
    let text = text.trim();
    let (number, suffix) = digits_then_unit(text);
    let value: f64 = number.parse().ok()?;
    let factor = match suffix.trim() {
        "" => unit_bytes,
        "B" => 1.0,
        "kB" => 1024.0,
        "MB" => 1024f64.powi(2),
        "GB" => 1024f64.powi(3),
        "TB" => 1024f64.powi(4),
        _ => return None,
    };
    Some(value * factor)
}

/// A suggestion for a PostgreSQL memory setting that did not parse, e.g. "1Gi" -> "1GB".
pub fn pg_memory_hint(text: &str) -> String {
    let text = text.trim();
    let (number, suffix) = digits_then_unit(text);
    let unit = match suffix.trim() {
        "Ki" | "KiB" | "k" | "K" | "kb" | "KB" => Some("kB"),
        "Mi" | "MiB" | "M" | "m" | "mb" | "Mb" | "mB" => Some("MB"),
        "Gi" | "GiB" | "G" | "g" | "gb" | "Gb" | "gB" => Some("GB"),
        "Ti" | "TiB" | "T" | "tb" | "Tb" => Some("TB"),
        _ => None,
    };
    match unit {
        Some(unit) if !number.is_empty() => format!(
            "did you mean {number}{unit}? PostgreSQL writes memory as kB, MB, GB or TB (1024-based)"
        ),
        _ => "PostgreSQL writes memory as 128MB or 1GB (or a number of 8kB pages)".to_owned(),
    }
}

/// A Redis memory size (`maxmemory`) in bytes: a whole number with an optional unit, as
/// redis.conf reads it: k, m, g are 1000-based, kb, mb, gb 1024-based, any case.
pub fn parse_redis_memory(text: &str) -> Option<u64> {
    let (number, unit) = digits_then_unit(text);
    let value: u64 = number.parse().ok()?;
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    value.checked_mul(factor)
}

/// A suggestion for a Redis memory size that did not parse, e.g. "512Mi" -> "512mb".
pub fn redis_memory_hint(text: &str) -> String {
    let (number, suffix) = digits_then_unit(text);
    let unit = match suffix.trim().to_ascii_lowercase().as_str() {
        "ki" | "kib" => Some("kb"),
        "mi" | "mib" => Some("mb"),
        "gi" | "gib" => Some("gb"),
        _ => None,
    };
    match unit {
        Some(unit) if !number.is_empty() => {
            format!("did you mean {number}{unit}? Redis writes memory as 512mb or 1gb (1024-based)")
        }
        _ => "Redis writes memory as a whole number with kb, mb or gb, e.g. 512mb".to_owned(),
    }
}

/// Checks a five-field cron expression (or an @macro); the error says which field is wrong.
pub fn check_cron(expr: &str) -> Result<(), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("1Gi"), Some(1024f64.powi(3)));
        assert_eq!(parse_quantity("500m"), Some(0.5));
        assert_eq!(parse_quantity("2"), Some(2.0));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(parse_quantity("1GB"), None);
        assert_eq!(parse_quantity("Gi"), None);
        assert_eq!(parse_quantity("1..0"), None);
        assert!(quantity_hint("1GB").contains("did you mean 1Gi?"));
        assert!(quantity_hint("512 mb").contains("did you mean 512Mi?"));
    }

    #[test]
    fn pg_memory() {
        assert_eq!(
            parse_pg_memory("128MB", 8192.0),
            Some(128.0 * 1024.0 * 1024.0)
        );
        assert_eq!(parse_pg_memory("16384", 8192.0), Some(16384.0 * 8192.0));
        assert_eq!(parse_pg_memory("1Gi", 8192.0), None);
    }

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
        assert!(parse_pg_memory("1Gi", 8192.0).is_none());
        assert!(pg_memory_hint("1Gi").contains("did you mean 1GB?"));
        assert!(
            check_cron("0 2 * *")
                .expect_err("fields")
                .contains("5 fields")
        );
        assert!(check_cron("@nightly").is_err());
        assert!(check_cron("*/0 * * * *").is_err());
        assert!(check_cron("5-1 * * * *").is_err());
    }
}

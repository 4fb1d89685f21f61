//! Kubernetes quantities and PostgreSQL and Redis memory settings: parsing with hints.

/// A parsed Kubernetes quantity, as a plain number (bytes for memory, cores for CPU).
pub(crate) fn parse_quantity(text: &str) -> Option<f64> {
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
pub(crate) fn quantity_hint(text: &str) -> String {
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
pub(crate) fn parse_pg_memory(text: &str, unit_bytes: f64) -> Option<f64> {
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
pub(crate) fn pg_memory_hint(text: &str) -> String {
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
pub(crate) fn parse_redis_memory(text: &str) -> Option<u64> {
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
pub(crate) fn redis_memory_hint(text: &str) -> String {
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
        assert!(parse_pg_memory("1Gi", 8192.0).is_none());
        assert!(pg_memory_hint("1Gi").contains("did you mean 1GB?"));
    }
}

//! `backup:`: the schedule, what is kept, the volume and the copy to S3-compatible storage.

use super::Checker;
use super::names::{dns_hint, is_dns_subdomain, subdomain};
use super::resources::{quantity, resources};
use crate::config::cron::{check_cron, is_time_zone, time_zones};
use crate::config::defaults::JOB_RESOURCES;
use crate::config::image::{image_hint, image_problem};
use crate::config::model::{Config, Target};
use crate::error::closest;

/// `backup:`: the schedule, what is kept, the volume, the job's resources and the copy off
/// the cluster.
pub(super) fn backup_rules(
    c: &mut Checker<'_>,
    config: &Config,
    backup: &crate::config::model::Backup,
) {
    if let Err(e) = check_cron(&backup.schedule) {
        let help = if e.starts_with("the day of week") {
            "e.g. \"0 3 * * SUN\" (or 0) for 03:00 every Sunday; days are SUN-SAT or 0-7"
        } else if e.starts_with("the month") || e.starts_with("the day of month") {
            "e.g. \"0 2 1 * *\" for 02:00 on the first of every month"
        } else {
            "e.g. \"0 2 * * *\" for 02:00 every day, or @daily"
        };
        c.value(&["backup", "schedule"], e, help);
    }
    if backup.keep < 1 {
        c.value(
            &["backup", "keep"],
            "keep must be at least 1",
            "keep: 7 keeps a week of nightly dumps",
        );
    }
    if let Some(tz) = &backup.time_zone
        && !is_time_zone(tz)
    {
        let zones: Vec<&str> = time_zones().collect();
        c.value(
            &["backup", "timeZone"],
            format!("`{tz}` is not an IANA time zone name"),
            match closest(tz, &zones) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "e.g. Europe/Berlin, America/New_York or UTC".to_owned(),
            },
        );
    }
    if let Some(image) = &backup.image
        && let Some(problem) = image_problem(image)
    {
        c.value(
            &["backup", "image"],
            problem,
            image_hint(image, "e.g. postgres:17.2 or postgres@sha256:<digest>"),
        );
    }
    if backup.storage.claim.is_none() {
        quantity(
            c,
            &["backup", "storage", "size"],
            &backup.storage.size,
            false,
        );
    }
    if let Some(class) = &backup.storage.class {
        subdomain(c, &["backup", "storage", "class"], class);
    }
    if let Some(claim) = &backup.storage.claim {
        subdomain(c, &["backup", "storage", "claim"], claim);
    }
    resources(
        c,
        &["backup", "resources"],
        &backup.resources,
        &JOB_RESOURCES,
    );
    offsite_backup_rules(c, config, backup);
    for (key, schedule) in [
        ("full", &backup.full),
        ("differential", &backup.differential),
    ] {
        if let Some(schedule) = schedule
            && let Err(e) = check_cron(schedule)
        {
            c.value(
                &["backup", key],
                e,
                "e.g. \"0 1 * * 0\" for 01:00 every Sunday",
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Off-site backups, compression and the restore drill (backup.s3, backup.compression,
// backup.drill). Every string here lands in an env literal a script quotes, or in an rclone
// remote path: the rules keep them to what S3 and the scripts read one way only.

fn offsite_backup_rules(
    c: &mut Checker<'_>,
    config: &Config,
    backup: &crate::config::model::Backup,
) {
    use crate::config::model::{BackupFormat, Compression};
    if backup.format == BackupFormat::Gzip && backup.compression == Compression::Zstd {
        c.value(
            &["backup", "compression"],
            "`format: gzip` writes plain SQL through gzip, so it cannot be zstd",
            "use `format: custom` (the default) with `compression: zstd`, or remove compression",
        );
    }
    if let Some(drill) = &backup.drill
        && let Err(e) = check_cron(&drill.schedule)
    {
        c.value(
            &["backup", "drill", "schedule"],
            e,
            "e.g. \"0 5 * * 0\" for 05:00 every Sunday, a few hours after the nightly backup",
        );
    }
    let Some(s3) = &backup.s3 else { return };
    let at = |key: &'static str| ["backup", "s3", key];
    if let Some(problem) = bucket_problem(&s3.bucket) {
        c.value(
            &at("bucket"),
            format!("`{}` is not a bucket name S3 accepts: {problem}", s3.bucket),
            "3-63 characters of a-z, 0-9, `.` and `-`, starting and ending with a letter or digit, e.g. acme-db-backups",
        );
    }
    if !is_dns_subdomain(&s3.secret) {
        c.value(
            &at("secret"),
            format!("`{}` is not a Secret name", s3.secret),
            dns_hint(&s3.secret),
        );
    }
    if let Some(region) = &s3.region
        && (region.is_empty()
            || region.len() > 64
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        c.value(
            &at("region"),
            format!("`{region}` is not a region name"),
            "letters, digits, `-` and `_` only, e.g. eu-central-1",
        );
    }
    let prefix = match (&s3.prefix, &s3.path) {
        (Some(_), Some(_)) => {
            c.value(
                &at("path"),
                "both `prefix` and `path` are set; `path` is the former name of `prefix`",
                "keep `prefix` and remove `path`",
            );
            None
        }
        (Some(p), None) => Some(("prefix", p)),
        (None, Some(p)) => Some(("path", p)),
        (None, None) => None,
    };
    if let Some((key, prefix)) = prefix
        && let Some(problem) = prefix_problem(prefix)
    {
        c.value(
            &at(key),
            format!(
                "`{}` is not a folder in a bucket: {problem}",
                prefix.escape_debug()
            ),
            "letters, digits, `.`, `_`, `-` and `/` between folder names, e.g. prod/shop",
        );
    }
    if let Some(image) = &s3.image
        && let Some(problem) = image_problem(image)
    {
        c.value(
            &at("image"),
            problem,
            image_hint(
                image,
                "e.g. rclone/rclone:1.60.1 or rclone/rclone@sha256:<digest>",
            ),
        );
    }
    if let Some(endpoint) = &s3.endpoint {
        match config.target {
            Target::Percona => {
                if endpoint.contains("://") || !is_host_port(endpoint) {
                    c.value(
                        &at("endpoint"),
                        format!("`{endpoint}` is not a host name"),
                        "pgBackRest takes the endpoint's host (and port), e.g. s3.eu-central-1.amazonaws.com",
                    );
                }
            }
            _ => {
                if let Some(problem) = endpoint_problem(endpoint, s3.allow_http) {
                    c.value(
                        &at("endpoint"),
                        format!("`{endpoint}` is not an endpoint pgstate uploads to: {problem}"),
                        if endpoint.starts_with("http://") {
                            "use https://; for an object store inside the cluster that only speaks http, add `allowHttp: true` (the dumps then cross the network unencrypted)"
                        } else {
                            "an https URL of the S3 service, e.g. https://s3.eu-central-1.amazonaws.com or https://minio.storage.svc:9000"
                        },
                    );
                }
            }
        }
    } else if s3.allow_http {
        c.value(
            &at("allowHttp"),
            "`allowHttp` without an endpoint: AWS is always https",
            "remove allowHttp, or set the http endpoint of the in-cluster store",
        );
    }
}

/// Why S3 would refuse `name` as a bucket name (general purpose buckets), if it would.
fn bucket_problem(name: &str) -> Option<&'static str> {
    if !(3..=63).contains(&name.len()) {
        return Some("it must be 3 to 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Some("only lowercase letters, digits, `.` and `-` are allowed");
    }
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge(name.as_bytes()[0]) || !edge(name.as_bytes()[name.len() - 1]) {
        return Some("it must start and end with a letter or digit");
    }
    if name.contains("..") {
        return Some("two dots may not follow each other");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Some("it may not look like an IP address");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") || name.ends_with("-s3alias") {
        return Some("the prefixes xn-- and sthree- and the suffix -s3alias are reserved");
    }
    None
}

fn prefix_problem(prefix: &str) -> Option<&'static str> {
    if prefix.chars().any(char::is_control) {
        return Some("it holds a control character");
    }
    if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
    {
        return Some("only letters, digits, `.`, `_`, `-` and `/` are allowed");
    }
    if prefix
        .trim_matches('/')
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Some("its folders may not be empty, `.` or `..`");
    }
    None
}

/// `host` or `host:port`, the host a DNS name or an IPv4 address.
fn is_host_port(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    host_ok && port_ok
}

/// Why `endpoint` is not an https URL of a host (http only when allowed), if it is not.
fn endpoint_problem(endpoint: &str, allow_http: bool) -> Option<&'static str> {
    let rest = if let Some(rest) = endpoint.strip_prefix("https://") {
        rest
    } else if let Some(rest) = endpoint.strip_prefix("http://") {
        if !allow_http {
            return Some("it is http, and the dumps would cross the network unencrypted");
        }
        rest
    } else {
        return Some("it is not an https:// URL");
    };
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if !is_host_port(host) {
        return Some("after the scheme comes a host and an optional port, nothing else");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_names_follow_the_rules_of_s3_and_urls() {
        for ok in ["abc", "acme-db.backups", "a1-b2", "x".repeat(63).as_str()] {
            assert_eq!(bucket_problem(ok), None, "{ok}");
        }
        for bad in [
            "ab",
            "Acme",
            "a_b",
            "-ab",
            "ab-",
            "a..b",
            "192.168.1.1",
            "xn--ab",
            "ab-s3alias",
        ] {
            assert!(bucket_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(prefix_problem("prod/shop-db"), None);
        assert_eq!(prefix_problem("/prod/shop/"), None);
        for bad in ["a/../b", "a//b", "./a", "a b", "a\nb", "a$b"] {
            assert!(prefix_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(
            endpoint_problem("https://s3.eu-central-1.amazonaws.com", false),
            None
        );
        assert_eq!(
            endpoint_problem("https://minio.storage.svc:9000/", false),
            None
        );
        assert!(endpoint_problem("http://minio:9000", false).is_some());
        assert_eq!(endpoint_problem("http://minio:9000", true), None);
        for bad in [
            "s3.amazonaws.com",
            "https://u:p@host",
            "https://host/path",
            "https://host:99999",
            "https://host?x",
            "ftp://host",
        ] {
            assert!(endpoint_problem(bad, true).is_some(), "{bad}");
        }
    }
}

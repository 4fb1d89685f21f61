//! Names: the config's own, DNS names and label keys, variable names, role and pg_hba names.

use super::Checker;
use crate::config::model::Config;

/// The longest `name` for which every derived name fits: `<name>-backup` is a CronJob name,
/// and a CronJob name has at most 52 characters.
pub(crate) const MAX_NAME: usize = 45;

pub(crate) fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && is_dns_label_text(s)
}

/// A DNS label but for its length: the characters, and how it starts and ends.
fn is_dns_label_text(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

pub(super) fn dns_hint(s: &str) -> String {
    let fixed: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let fixed = fixed.trim_matches('-');
    if s.len() > 63 && fixed.len() > 63 {
        format!(
            "a name has at most 63 characters, this one has {}: lowercase letters, digits and '-'",
            s.len()
        )
    } else if fixed.is_empty() || fixed == s {
        "use lowercase letters, digits and '-', starting and ending with a letter or digit"
            .to_owned()
    } else {
        format!("did you mean `{fixed}`? Names use lowercase letters, digits and '-'")
    }
}

pub(crate) fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub(super) fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && (s.is_empty()
            || (s.starts_with(|c: char| c.is_ascii_alphanumeric())
                && s.ends_with(|c: char| c.is_ascii_alphanumeric())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))))
}

pub(super) fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

// --- Credentials and connections: the app role, TLS and pg_hba ---------------------------------

/// A role name pgstate writes into SQL (quoted) and pg_hba.conf: lowercase letters, digits and
/// `_`, not starting with a digit, at most 63 bytes, and not PostgreSQL's reserved `pg_` prefix.
pub(crate) fn is_role_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && !s.starts_with("pg_")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A database or role name in a typed pg_hba rule: a keyword, or letters, digits, `_.-`.
pub(crate) fn is_hba_name(s: &str) -> bool {
    matches!(s, "all" | "sameuser" | "samerole" | "replication")
        || (!s.is_empty()
            && s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
}

/// An address of a pg_hba rule: `all`, or an IPv4/IPv6 range in CIDR form.
pub(crate) fn is_hba_address(s: &str) -> bool {
    if s == "all" {
        return true;
    }
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

pub(super) fn names(c: &mut Checker<'_>, config: &Config) {
    let name = &config.name;
    if !is_dns_label_text(name) {
        c.value(
            &["name"],
            format!("`{name}` is not a valid Kubernetes name"),
            dns_hint(name),
        );
    } else if name.len() > MAX_NAME {
        c.value(
            &["name"],
            format!(
                "`{name}` has {} characters, at most {MAX_NAME} fit",
                name.len()
            ),
            format!(
                "shorten it to {MAX_NAME} characters or fewer: `<name>-backup` names a CronJob, and a CronJob name has at most 52"
            ),
        );
    }
    let namespace = &config.namespace;
    if !is_dns_label_text(namespace) {
        c.value(
            &["namespace"],
            format!("`{namespace}` is not a valid namespace name"),
            dns_hint(namespace),
        );
    } else if namespace.len() > 63 {
        c.value(
            &["namespace"],
            format!(
                "`{namespace}` has {} characters, at most 63 fit",
                namespace.len()
            ),
            "a namespace name is a DNS label of at most 63 characters",
        );
    }
    for (key, value) in &config.labels {
        if !is_label_key(key) {
            c.key(&["labels"], key, format!("`{key}` is not a valid label key"), "a label key is an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.'");
        } else if key.starts_with("app.kubernetes.io/") {
            c.key(
                &["labels"],
                key,
                format!("`{key}` is set by pgstate"),
                "pgstate sets the app.kubernetes.io/* labels; choose another key",
            );
        }
        if !is_label_value(value) {
            c.value(&["labels", key], format!("`{value}` is not a valid label value"), "a label value has at most 63 letters, digits, '-', '_' or '.', and starts and ends with a letter or digit");
        }
    }
}

pub(super) fn subdomain(c: &mut Checker<'_>, path: &[&str], value: &str) {
    if !is_dns_subdomain(value) {
        c.value(
            path,
            format!("`{value}` is not a valid Kubernetes name"),
            dns_hint(value),
        );
    }
}

/// Checks the names of extra variables; `reserved` pairs each name pgstate sets with the
/// help for setting it the right way.
pub(super) fn env_map(
    c: &mut Checker<'_>,
    path: &[&str],
    env: &crate::config::model::StringMap,
    reserved: &[(&str, String)],
) {
    for name in env.keys() {
        if !is_env_name(name) {
            let mut fixed: String = name
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
                .collect();
            if fixed.starts_with(|ch: char| ch.is_ascii_digit()) || fixed.is_empty() {
                fixed.insert(0, '_');
            }
            c.key(
                path,
                name,
                format!("`{name}` is not a valid variable name"),
                format!("did you mean {fixed}? A name has letters, digits and '_', and does not start with a digit"),
            );
        } else if let Some((_, why)) = reserved.iter().find(|(r, _)| r == name) {
            c.key(
                path,
                name,
                format!("`{name}` clashes with a variable pgstate sets"),
                why.clone(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::validate::tests::problems;

    #[test]
    fn credential_names_and_addresses() {
        use super::{is_hba_address, is_role_name};
        for ok in ["shop_app", "_x", "a1"] {
            assert!(is_role_name(ok), "{ok}");
        }
        for bad in ["", "Shop", "1app", "pg_app", "a-b", "a\"b", &"a".repeat(64)] {
            assert!(!is_role_name(bad), "{bad}");
        }
        for ok in ["all", "10.0.0.0/8", "0.0.0.0/0", "fd00::/8", "::1/128"] {
            assert!(is_hba_address(ok), "{ok}");
        }
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "::/129",
            "db.example.com",
            "10.0.0.0/8 trust",
        ] {
            assert!(!is_hba_address(bad), "{bad}");
        }
        assert_eq!(
            crate::config::names::default_app_role("Shop-DB"),
            "shop_db_app"
        );
        assert_eq!(crate::config::names::default_app_role("2024"), "_2024_app");
        assert!(crate::config::names::default_app_role(&"x".repeat(80)).len() <= 63);
    }

    #[test]
    fn long_names_are_told_their_length() {
        let found = problems(&format!("name: {}\n", "a".repeat(64)));
        assert!(
            found[0].contains("has 64 characters, at most 45"),
            "{found:?}"
        );
        let found = problems(&format!("namespace: {}\n", "a".repeat(64)));
        assert!(
            found[0].contains("has 64 characters, at most 63"),
            "{found:?}"
        );
    }

    #[test]
    fn variable_names_get_a_fixed_spelling() {
        let found = problems("postgres:\n  env: {9-lives: x}\n");
        assert!(found[0].contains("did you mean _9_lives?"), "{found:?}");
    }
}

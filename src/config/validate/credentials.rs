//! Passwords and roles: where each password comes from, the app role, pg_hba rules and TLS.

use super::names::{is_env_name, is_hba_address, is_hba_name, is_role_name, subdomain};
use super::{Checker, boundary};
use crate::config::model::{Config, Password, Target};
use crate::config::names::target_name;
use crate::config::vars::Vars;
use crate::error::Diagnostic;

/// The rules of a `password:` section under `section` (postgres or redis); pgstate renders
/// `rendered` (the Secret's name) for fromEnv and value.
pub(super) fn password(
    c: &mut Checker<'_>,
    section: &'static str,
    rendered: &str,
    pw: &Password,
    vars: &dyn Vars,
) {
    let set = [
        pw.secret.is_some(),
        pw.from_env.is_some(),
        pw.value.is_some(),
    ];
    if set.iter().filter(|s| **s).count() > 1 {
        let given: Vec<&str> = ["secret", "fromEnv", "value"]
            .into_iter()
            .zip(set)
            .filter_map(|(k, s)| s.then_some(k))
            .collect();
        c.value(
            &[section, "password"],
            format!(
                "the password has {}; give exactly one of secret, fromEnv or value",
                given.join(" and ")
            ),
            "keep one: secret names an existing Secret; fromEnv reads a variable at render time; value is plain text",
        );
        return;
    }
    if let Some(name) = &pw.secret {
        subdomain(c, &[section, "password", "secret"], name);
    }
    if let Some(key) = &pw.key
        && (key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    {
        c.value(
            &[section, "password", "key"],
            format!("`{key}` is not a valid Secret key"),
            "use letters, digits, '-', '_' or '.', e.g. password",
        );
    }
    if let Some(var) = &pw.from_env {
        if !is_env_name(var) {
            c.value(
                &[section, "password", "fromEnv"],
                format!("`{var}` is not a valid variable name"),
                "e.g. PGSTATE_PG_PASSWORD",
            );
        } else if !boundary::env_readable(var, vars.allowed()) {
            c.value(
                &[section, "password", "fromEnv"],
                format!("the config may not read the variable {var}"),
                format!(
                    "a config reads only variables starting with {}; to let it read {var}, run pgstate with --allow-env {var}",
                    boundary::ENV_PREFIX
                ),
            );
        } else {
            match vars.get(var) {
                None => c.value(&[section, "password", "fromEnv"], format!("the variable {var} is not set"), format!("export {var}=... before running pgstate, or name an existing Secret with password.secret")),
                Some(v) if v.is_empty() => c.value(&[section, "password", "fromEnv"], format!("the variable {var} is empty"), "an empty password is refused"),
                Some(_) => {}
            }
        }
    }
    if let Some(value) = &pw.value
        && value.is_empty()
    {
        c.value(
            &[section, "password", "value"],
            "the password is empty",
            "an empty password is refused",
        );
    }
    if pw.secret.is_none() && pw.key.is_some() && (pw.from_env.is_some() || pw.value.is_some()) {
        c.value(
            &[section, "password", "key"],
            "key goes with secret",
            format!("pgstate renders Secret {rendered} with key `password` for fromEnv and value"),
        );
    }
}

/// Settings pgstate sets for TLS and pg_hba on the statefulset target.
const CREDENTIAL_SETTINGS: &[(&str, &str)] = &[
    (
        "hba_file",
        "pgstate renders pg_hba.conf: add rules with postgres.hba",
    ),
    ("ssl", "set postgres.tls instead"),
    ("ssl_cert_file", "set postgres.tls instead"),
    ("ssl_key_file", "set postgres.tls instead"),
    ("ssl_ca_file", "set postgres.tls instead"),
];

pub(super) fn credentials(c: &mut Checker<'_>, config: &Config, vars: &dyn Vars) {
    use crate::config::model::{HbaMethod, HbaType};
    let pg = &config.postgres;
    let target = config.target;
    let shown = target_name(target);
    let in_cluster = target == Target::Statefulset;
    let why_not = match target {
        Target::Cloudnativepg => {
            "CloudNativePG's app role is its owner role, postgres.user, with its password in the credentials Secret"
        }
        Target::Percona => {
            "the Percona operator makes the user postgres.user, its TLS and pg_hba itself: set them in the PerconaPGCluster by hand (spec.secrets.customTLSSecret, spec.patroni.dynamicConfiguration)"
        }
        _ => {
            "the provider runs the managed database: postgres.user is the app's login there, and TLS is external.sslMode"
        }
    };
    let cnpg = target == Target::Cloudnativepg;
    if cnpg && pg.tls.is_some() && config.pooler.is_some() {
        c.key(
            &["postgres"],
            "tls",
            "pgstate maps postgres.tls to the Cluster's certificates, not to its Pooler's",
            "remove the pooler, or set the Pooler's TLS by hand and remove postgres.tls",
        );
    }
    if !in_cluster {
        for path in [
            &["postgres", "tls"][..],
            &["postgres", "hba"],
            &["app", "role"],
            &["app", "password"],
        ] {
            // CloudNativePG takes the certificate (spec.certificates) and the rules
            // (spec.postgresql.pg_hba); its app role is postgres.user.
            if cnpg && path[0] == "postgres" {
                continue;
            }
            if c.root.entry(path).is_some() {
                let (parent, key) = path.split_at(1);
                c.key(
                    parent,
                    key[0],
                    format!(
                        "`{}` has no equivalent pgstate writes with `target: {shown}`",
                        path.join(".")
                    ),
                    format!("{why_not}; remove it"),
                );
            }
        }
        if !cnpg {
            return;
        }
    }
    if in_cluster && pg.password.key.as_deref() == Some(crate::config::names::APP_PASSWORD_KEY) {
        c.value(
            &["postgres", "password", "key"],
            "the key `app-password` holds the app role's password",
            "keep the superuser's password under another key, e.g. password",
        );
    }
    // The database name goes into pg_hba.conf, double-quoted.
    if in_cluster && (pg.database.contains('"') || pg.database.chars().any(char::is_control)) {
        c.value(
            &["postgres", "database"],
            "the database name holds a double quote or a control character",
            "use letters, digits and '_', e.g. database: app",
        );
    }
    for (key, why) in CREDENTIAL_SETTINGS {
        if in_cluster && pg.settings.contains_key(*key) {
            c.key(
                &["postgres", "settings"],
                key,
                format!("pgstate sets `{key}` itself"),
                *why,
            );
        }
    }
    if let Some(app) = config.app.as_ref().filter(|_| in_cluster) {
        let role = crate::config::names::app_role_name(config).unwrap_or_default();
        let path: &[&str] = if app.role.is_some() {
            &["app", "role"]
        } else {
            &["app"]
        };
        if !is_role_name(&role) {
            c.value(
                path,
                format!("`{role}` is not a role name pgstate accepts"),
                "lowercase letters, digits and '_', not starting with a digit or pg_, at most 63 bytes, e.g. role: shop_app",
            );
        } else if role == pg.user {
            c.value(
                path,
                format!("the app role `{role}` is the superuser postgres.user"),
                format!(
                    "the app logs in as its own role: remove app.role for {}, or name another one",
                    crate::config::names::default_app_role(&pg.database)
                ),
            );
        }
        let rendered = pg.password.secret.is_none()
            && (pg.password.from_env.is_some() || pg.password.value.is_some());
        let secret = crate::config::names::credentials_secret(config);
        match (&app.password, rendered) {
            (None, true) => c.value(
                &["app"],
                format!("pgstate renders Secret {secret}, and the app role's password is not given"),
                "add app.password with fromEnv (or value), the key app-password of that Secret",
            ),
            (Some(_), false) => c.key(
                &["app"],
                "password",
                "the app role's password is the key app-password of the credentials Secret",
                match &pg.password.secret {
                    Some(name) => format!("put it in Secret {name} under key app-password, and remove app.password"),
                    None => format!("put it in Secret {secret} under key app-password (pgstate secret --generate writes both), and remove app.password"),
                },
            ),
            (Some(pw), true) => {
                for key in ["secret", "key"] {
                    if c.root.entry(&["app", "password", key]).is_some() {
                        c.key(
                            &["app", "password"],
                            key,
                            "the app role's password lives in the credentials Secret, key app-password",
                            "give fromEnv or value",
                        );
                    }
                }
                if pw.secret.is_none() && pw.key.is_none() {
                    if pw.from_env.is_none() && pw.value.is_none() {
                        c.value(&["app", "password"], "the app role's password has no source", "give fromEnv or value");
                    }
                    password(c, "app", &secret, pw, vars);
                }
            }
            (None, false) => {}
        }
    }
    if let Some(tls) = &pg.tls {
        if tls.secret.is_none() && tls.issuer.is_none() {
            c.value(
                &["postgres", "tls"],
                "TLS needs the server's certificate: neither secret nor issuer is given",
                format!("secret: {}-tls names an existing kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt), or issuer: {{name: my-ca, kind: ClusterIssuer}} has cert-manager issue it", config.name),
            );
        }
        if let Some(secret) = &tls.secret {
            subdomain(c, &["postgres", "tls", "secret"], secret);
        }
        if let Some(issuer) = &tls.issuer {
            subdomain(c, &["postgres", "tls", "issuer", "name"], &issuer.name);
            if let Some(group) = &issuer.group {
                subdomain(c, &["postgres", "tls", "issuer", "group"], group);
            }
        }
        if let Some(v) = pg.settings.get("ssl_min_protocol_version")
            && !matches!(v.as_str(), "TLSv1.2" | "TLSv1.3")
        {
            c.value(
                &["postgres", "settings", "ssl_min_protocol_version"],
                format!("`{v}` is older than TLSv1.2, or not a TLS version"),
                "TLSv1.2 (pgstate's default) or TLSv1.3",
            );
        }
    }
    for (i, rule) in pg.hba.iter().enumerate() {
        let check = |c: &mut Checker<'_>, key: &'static str, message: String, help: &str| {
            let path = format!("postgres.hba[{i}].{key}");
            let loc = c.root.find(&path);
            c.found.push(
                Diagnostic::new(loc, message)
                    .with_path(path)
                    .with_help(help),
            );
        };
        if rule.kind == HbaType::Local {
            check(c, "type", "the socket's rules are pgstate's: its start step and the image's entrypoint connect through it as the superuser".into(), "use host, hostssl or hostnossl");
        }
        match &rule.address {
            None if rule.kind != HbaType::Local => check(
                c,
                "method",
                format!("a `{}` rule needs an address", rule.kind.as_str()),
                "add address: 10.0.0.0/8 (CIDR), or address: all",
            ),
            Some(a) if !is_hba_address(a) => check(
                c,
                "address",
                format!("`{a}` is not an address range"),
                "an IPv4 or IPv6 range in CIDR form, e.g. 10.0.0.0/8 or fd00::/8, or all",
            ),
            _ => {}
        }
        for (key, value) in [("database", &rule.database), ("user", &rule.user)] {
            if !is_hba_name(value) {
                check(
                    c,
                    key,
                    format!("`{value}` is not a name pgstate writes into pg_hba.conf"),
                    "one name of letters, digits, '_', '.', '-', or all",
                );
            }
        }
        if rule.kind == HbaType::Hostssl && pg.tls.is_none() {
            check(
                c,
                "type",
                "a hostssl rule matches nothing without postgres.tls".into(),
                "set postgres.tls, or use type: host",
            );
        }
        if rule.method == HbaMethod::Cert && rule.kind != HbaType::Hostssl {
            check(
                c,
                "method",
                "cert authentication needs a hostssl rule".into(),
                "type: hostssl (with postgres.tls)",
            );
        }
        if rule.method == HbaMethod::Peer {
            check(
                c,
                "method",
                "peer works on the socket only, and the socket's rules are pgstate's".into(),
                "use scram-sha-256",
            );
        }
    }
}

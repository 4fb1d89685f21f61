//! `target:`: keys that mean something for some targets only, each refused with the target named.

use super::names::is_dns_subdomain;

use super::{Checker, port};
use crate::config::model::{Config, Target};
use crate::config::names::target_name;

/// Keys of the database pod that an operator (or the provider) decides, with what to do instead.
const POD_KEYS: &[(&[&str], &str)] = &[
    (
        &["postgres", "mountPath"],
        "the operator decides where the data lives",
    ),
    (
        &["postgres", "pgdata"],
        "the operator decides where the data lives",
    ),
    (&["postgres", "initdbArgs"], "the operator runs initdb"),
    (
        &["postgres", "env"],
        "the operator sets the database pod's variables",
    ),
    (
        &["postgres", "probes"],
        "the operator probes its instances itself",
    ),
    (
        &["postgres", "storage", "claimName"],
        "the operator names the volume claims",
    ),
    (
        &["postgres", "storage", "accessMode"],
        "the operator's claims are ReadWriteOnce",
    ),
    (
        &["postgres", "storage", "retain"],
        "the operator decides what happens to its claims",
    ),
    (
        &["postgres", "storage", "local"],
        "the operator's instances need a provisioner, not one node's disk",
    ),
    (
        &["service", "type"],
        "the operator makes the database Services",
    ),
    (
        &["service", "annotations"],
        "the operator makes the database Services",
    ),
];

/// Keys that mean something for some targets only: each is an error that names the target.
pub(super) fn target_rules(c: &mut Checker<'_>, config: &Config) {
    let target = config.target;
    let shown = target_name(target);
    let written = |c: &Checker<'_>, path: &[&str]| c.root.entry(path).is_some();
    let wrong = |c: &mut Checker<'_>, path: &[&str], why: &str| {
        let (parent, key) = path.split_at(path.len() - 1);
        c.key(
            parent,
            key[0],
            format!("`{}` has no meaning with `target: {shown}`", path.join(".")),
            format!("{why}; remove it"),
        );
    };
    let operator = matches!(target, Target::Cloudnativepg | Target::Percona);
    let why_not = match target {
        Target::External => Some(
            "the provider runs a managed database: enable pg_stat_statements in its parameter group and run SQL with psql (in an environment overlay: `postgres: {statements: false, initSql: null}`)",
        ),
        Target::Percona => Some(
            "pgstate writes no preload libraries or init SQL for the Percona operator: use its spec.databaseInitSQL and patroni parameters by hand",
        ),
        _ => None,
    };
    if let Some(why) = why_not {
        if config.postgres.statements {
            wrong(c, &["postgres", "statements"], why);
        }
        if config.postgres.init_sql.is_some() {
            wrong(c, &["postgres", "initSql"], why);
        }
    }
    let metrics = &config.postgres.metrics;
    let metrics_why = match target {
        Target::External => Some(
            "pgstate runs no exporter beside a managed database: use the provider's monitoring (in an environment overlay: `postgres: {metrics: {enabled: false}}`)",
        ),
        Target::Percona => Some(
            "the Percona operator monitors through its PMM client (spec.pmm of the PerconaPGCluster), which pgstate does not write",
        ),
        _ => None,
    };
    if let Some(why) = metrics_why
        && metrics.enabled
    {
        wrong(c, &["postgres", "metrics", "enabled"], why);
    }
    if target == Target::Cloudnativepg {
        for key in ["image", "port", "serviceMonitor", "resources"] {
            if written(c, &["postgres", "metrics", key]) {
                wrong(
                    c,
                    &["postgres", "metrics", key],
                    "CloudNativePG's instances export metrics themselves and the operator makes their PodMonitor (`enabled: true` is all it takes)",
                );
            }
        }
    }
    if config.pooler.is_some() && !operator {
        wrong(
            c,
            &["pooler"],
            "pgBouncer comes with an operator target (cloudnativepg or percona)",
        );
    }
    if let Some(p) = &config.pooler
        && operator
        && p.replicas < 1
    {
        c.value(
            &["pooler", "replicas"],
            "a pooler needs at least 1 replica",
            "e.g. replicas: 2, or remove `pooler` to connect to the database directly",
        );
    }
    match (target, &config.external) {
        (Target::External, None) => c.value(
            &["target"],
            "`target: external` needs the database's address",
            "add `external: {host: db.example.com}` (port and sslMode are optional)",
        ),
        (Target::External, Some(ext)) => {
            if !is_dns_subdomain(&ext.host) {
                c.value(
                    &["external", "host"],
                    format!("`{}` is not a DNS name", ext.host),
                    "an ExternalName Service points at a DNS name, e.g. db.abc123.eu-central-1.rds.amazonaws.com",
                );
            }
            if let Some(p) = ext.port {
                port(c, &["external", "port"], p);
            }
        }
        (_, Some(_)) => wrong(
            c,
            &["external"],
            "`external` describes the database of `target: external`",
        ),
        (_, None) => {}
    }
    if let Some(b) = &config.backup {
        if b.s3.is_some() && !operator && target != Target::Statefulset {
            wrong(
                c,
                &["backup", "s3"],
                "object storage backups belong to the statefulset target or an operator target",
            );
        }
        if operator {
            for (key, why) in [
                (
                    "compression",
                    "the operator compresses its backups with its own settings",
                ),
                (
                    "drill",
                    "the drill restores pg_dump files; test the operator's backups with its own recovery (a new cluster bootstrapped from the backup)",
                ),
            ] {
                if written(c, &["backup", key]) {
                    wrong(c, &["backup", key], why);
                }
            }
            if written(c, &["backup", "s3", "image"]) {
                wrong(
                    c,
                    &["backup", "s3", "image"],
                    "the operator uploads with its own tools",
                );
            }
            if target == Target::Percona && written(c, &["backup", "s3", "allowHttp"]) {
                wrong(
                    c,
                    &["backup", "s3", "allowHttp"],
                    "pgBackRest takes the endpoint's host and always speaks https to it",
                );
            }
        }
        for key in ["full", "differential"] {
            if written(c, &["backup", key]) && target != Target::Percona {
                wrong(
                    c,
                    &["backup", key],
                    "full and differential schedules are pgBackRest's, with `target: percona`",
                );
            }
        }
        if target == Target::External {
            wrong(
                c,
                &["backup"],
                "the provider backs up a managed database (in an environment overlay: `backup: null`)",
            );
        }
        if operator {
            for key in ["format", "image"] {
                if written(c, &["backup", key]) {
                    wrong(
                        c,
                        &["backup", key],
                        "the operator backs up with its own tools, not pg_dump",
                    );
                }
            }
        }
        if target == Target::Cloudnativepg {
            if written(c, &["backup", "storage"]) {
                wrong(
                    c,
                    &["backup", "storage"],
                    "CloudNativePG backs up to object storage (backup.s3), not to a volume",
                );
            }
            if b.s3.is_none() {
                c.value(
                    &["backup"],
                    "`target: cloudnativepg` backs up to object storage, and backup.s3 is not set",
                    "add `s3: {bucket: my-backups, secret: my-s3-credentials}` under backup",
                );
            }
        }
        if target == Target::Percona {
            if written(c, &["backup", "timeZone"]) {
                wrong(
                    c,
                    &["backup", "timeZone"],
                    "pgBackRest's schedules run in the operator's time zone (UTC)",
                );
            }
            if written(c, &["backup", "storage", "claim"]) {
                wrong(
                    c,
                    &["backup", "storage", "claim"],
                    "the operator makes the pgBackRest repository's claim",
                );
            }
            if let Some(s3) = &b.s3
                && s3.region.is_none()
            {
                c.value(
                    &["backup", "s3"],
                    "`target: percona` needs the bucket's region",
                    "add `region: us-east-1` (any value for S3-compatible storage that ignores it)",
                );
            }
        }
    }
    if !operator {
        return;
    }
    for (path, why) in POD_KEYS {
        if written(c, path) {
            wrong(c, path, why);
        }
    }
    let pg = &config.postgres;
    if pg.user == "postgres" {
        c.value(
            &["postgres", "user"],
            format!("with `target: {shown}` the app's role cannot be the superuser `postgres`"),
            format!("name the app's own role, e.g. user: {}", pg.database),
        );
    }
    if target == Target::Cloudnativepg {
        if pg.port != 5432 {
            c.value(
                &["postgres", "port"],
                format!("`target: {shown}` always listens on 5432"),
                "remove postgres.port",
            );
        }
        if pg.password.key.as_deref().is_some_and(|k| k != "password") {
            c.value(
                &["postgres", "password", "key"],
                format!("with `target: {shown}` the password Secret is kubernetes.io/basic-auth, whose key is `password`"),
                "remove the key and give the Secret the keys username and password",
            );
        }
    }
    if target == Target::Percona {
        for key in ["secret", "key", "fromEnv", "value"] {
            if written(c, &["postgres", "password", key]) {
                wrong(
                    c,
                    &["postgres", "password", key],
                    &format!(
                        "the Percona operator generates the password into Secret {}-pguser-{}",
                        config.name, pg.user
                    ),
                );
            }
        }
        if written(c, &["postgres", "nodeSelector"]) {
            wrong(
                c,
                &["postgres", "nodeSelector"],
                "a Percona instance set has no nodeSelector: use postgres.affinity.nodeAffinity",
            );
        }
        let valid_user = !pg.user.is_empty()
            && pg
                .user
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !pg.user.starts_with('-')
            && !pg.user.ends_with('-');
        if !valid_user {
            c.value(
                &["postgres", "user"],
                format!("`target: {shown}` names users with lowercase letters, digits and '-', not `{}`", pg.user),
                "the user name becomes part of the Secret's name, e.g. user: app",
            );
        }
        let supported = if target == Target::Percona {
            14..=18
        } else {
            12..=18
        };
        match crate::config::image::postgres_major(&pg.image) {
            Some(v) if supported.contains(&v) => {}
            _ => c.value(
                &["postgres", "image"],
                format!(
                    "`target: {shown}` needs the PostgreSQL major version from the image tag, and `{}` has none from {} to {}",
                    pg.image,
                    supported.start(),
                    supported.end()
                ),
                if target == Target::Percona {
                    "tag the image with its version, e.g. postgres:17 (pgstate runs Percona's certified build of that version, percona-distribution-postgresql:17.9-1)"
                } else {
                    "tag the image with its version, e.g. ghcr.io/cloudnative-pg/postgresql:17.5"
                },
            ),
        }
        if config.name.len() > 37 {
            c.value(
                &["name"],
                format!("with `target: {shown}` a name has at most 37 characters"),
                "the operator names pods <name>-instance1-..., within 46 characters",
            );
        }
    }
}

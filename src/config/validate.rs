//! The semantic rules: a config that parsed can still be wrong. Each rule reports the key path,
//! the place in the file, what is wrong and what would be right.

use serde_json::Value;

use super::cron::{check_cron, is_time_zone, time_zones};
use super::model::{Config, InitSql, LocalVolume, Password, Redis, Resources, Target};
use super::node::{Kind, Node};
use super::units::{
    parse_pg_memory, parse_quantity, parse_redis_memory, pg_memory_hint, quantity_hint,
    redis_memory_hint,
};
use crate::error::{Diagnostic, closest};
pub mod boundary;

use super::defaults::{
    APP_RESOURCES, DEFAULT_MAX_CONNECTIONS, JOB_RESOURCES, METRICS_RESOURCES, POSTGRES_RESOURCES,
    REDIS_RESOURCES, ResourceDefaults, resolve_resources,
};
use super::image::{image_hint, image_problem};
use super::lint_id::LintId;
use super::names::target_name;
use super::vars::Vars;

/// Connections PostgreSQL keeps beyond the apps' pools (superuser slots, backup, admin).
pub const RESERVED_CONNECTIONS: i64 = 10;
/// The longest `name` for which every derived name fits: `<name>-backup` is a CronJob name,
/// and a CronJob name has at most 52 characters.
pub const MAX_NAME: usize = 45;
/// Variables the database container gets from pgstate; `postgres.env` may not set them.
pub const GENERATED_PG_ENV: &[&str] = &[
    "POSTGRES_USER",
    "POSTGRES_DB",
    "POSTGRES_PASSWORD",
    "POSTGRES_PASSWORD_FILE",
    "POSTGRES_INITDB_ARGS",
    "PGDATA",
    "PGPORT",
    "PGSTATE_PASSWORD_FILE",
    "PGSTATE_APP_ROLE",
    "PGSTATE_APP_PASSWORD_FILE",
];
/// postgresql.conf parameters pgstate sets itself.
const OWNED_SETTINGS: &[(&str, &str)] = &[
    ("port", "set postgres.port instead"),
    ("data_directory", "set postgres.pgdata instead"),
    (
        "unix_socket_directories",
        "the socket directory is the emptyDir at /var/run/postgresql",
    ),
    (
        "listen_addresses",
        "the container must listen on all addresses for its Service to work",
    ),
];

struct Checker<'a> {
    root: &'a Node,
    found: Vec<Diagnostic>,
}

impl Checker<'_> {
    /// An error about the value at `path` (or its nearest parent, when it was defaulted).
    fn value(&mut self, path: &[&str], message: impl Into<String>, help: impl Into<String>) {
        let loc = self.root.place(path);
        self.found.push(
            Diagnostic::new(loc, message)
                .with_path(path.join("."))
                .with_help(help),
        );
    }

    /// An error about the value at a dotted `path` that may index lists (`a.b[2]`).
    fn at(&mut self, path: String, message: impl Into<String>, help: impl Into<String>) {
        let loc = self.root.find(&path);
        self.found.push(
            Diagnostic::new(loc, message)
                .with_path(path)
                .with_help(help),
        );
    }

    /// An error about a key itself (a map key under `path`).
    fn key(
        &mut self,
        path: &[&str],
        key: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let mut full: Vec<&str> = path.to_vec();
        full.push(key);
        let loc = match self.root.entry(&full) {
            Some((k, _)) => k.loc,
            None => self.root.locate(path),
        };
        self.found.push(
            Diagnostic::new(loc, message)
                .with_path(full.join("."))
                .with_help(help),
        );
    }
}

pub fn is_dns_label(s: &str) -> bool {
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

pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

fn dns_hint(s: &str) -> String {
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

pub fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && (s.is_empty()
            || (s.starts_with(|c: char| c.is_ascii_alphanumeric())
                && s.ends_with(|c: char| c.is_ascii_alphanumeric())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))))
}

fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

/// `postgres.initSql`: some SQL, and files whose names make ConfigMap keys (`11-<name>`).
fn init_sql(c: &mut Checker<'_>, init: &InitSql) {
    let at = ["postgres", "initSql"];
    let inline = c.root.entry(&at).is_some_and(|(_, v)| v.as_str().is_some());
    if init.sql.as_deref().is_some_and(|s| s.trim().is_empty()) {
        let path: &[&str] = if inline {
            &at
        } else {
            &["postgres", "initSql", "sql"]
        };
        c.value(
            path,
            "the init SQL is empty",
            "write SQL, or remove initSql",
        );
    }
    if init.sql.is_none() && init.files.is_empty() {
        c.value(
            &at,
            "initSql has neither SQL nor files",
            "e.g. initSql: {files: [schema.sql]}, or SQL text after `initSql: |`",
        );
    }
    if init.files.len() > crate::config::MAX_INIT_FILES {
        c.value(
            &["postgres", "initSql", "files"],
            format!(
                "{} files are more than the {} pgstate numbers (11 to 99)",
                init.files.len(),
                crate::config::MAX_INIT_FILES
            ),
            "join some of the SQL files",
        );
    }
    for (i, file) in init.files.iter().enumerate() {
        let path = format!("postgres.initSql.files[{i}]");
        let base = file.path.rsplit('/').next().unwrap_or_default();
        let problem = if file.path.starts_with('/') {
            Some((
                format!("`{}` is an absolute path", file.path),
                "name the file relative to the config file, so the config works on every machine"
                    .to_owned(),
            ))
        } else if !base.ends_with(".sql") || base.len() <= 4 {
            Some((
                format!("`{}` is not a .sql file", file.path),
                "the image's entrypoint runs files ending in .sql with psql; rename it".to_owned(),
            ))
        } else if base.len() > 240
            || !base
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            Some((
                format!("`{base}` cannot be a ConfigMap key"),
                "file names use letters, digits, '-', '_' and '.', e.g. 01_schema.sql".to_owned(),
            ))
        } else {
            None
        };
        if let Some((message, help)) = problem {
            c.at(path, message, help);
        }
    }
}

/// The effective `max_connections`.
pub fn max_connections(config: &Config) -> i64 {
    config
        .postgres
        .settings
        .get("max_connections")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_CONNECTIONS)
}

/// Checks every rule; returns all problems found, in file order.
pub fn validate(config: &Config, root: &Node, vars: &dyn Vars) -> Vec<Diagnostic> {
    let mut c = Checker {
        root,
        found: Vec::new(),
    };
    names(&mut c, config);
    empty_sections(&mut c);
    postgres(&mut c, config, vars);
    if let Some(init) = &config.postgres.init_sql {
        init_sql(&mut c, init);
    }
    metrics(&mut c, config);
    if let Some(app) = &config.app {
        app_rules(&mut c, config, app);
    }
    if let Some(redis) = &config.redis {
        redis_rules(&mut c, config, redis, vars);
    }
    if let Some(backup) = &config.backup {
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
                &mut c,
                &["backup", "storage", "size"],
                &backup.storage.size,
                false,
            );
        }
        if let Some(class) = &backup.storage.class {
            subdomain(&mut c, &["backup", "storage", "class"], class);
        }
        if let Some(claim) = &backup.storage.claim {
            subdomain(&mut c, &["backup", "storage", "claim"], claim);
        }
        resources(
            &mut c,
            &["backup", "resources"],
            &backup.resources,
            &JOB_RESOURCES,
        );
        offsite_backup_rules(&mut c, config, backup);
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
    let ids: Vec<&str> = LintId::ALL.iter().map(|id| id.as_str()).collect();
    for id in config.lint.allow.0.keys() {
        if !ids.contains(&id.as_str()) {
            let help = match closest(id, &ids) {
                Some(near) => {
                    format!("did you mean {near}? `pgstate check` prints each finding's id")
                }
                None => format!("the finding ids are {}", ids.join(", ")),
            };
            let allow = root.entry(&["lint", "allow"]).map(|(_, v)| v);
            let (loc, path) = match allow.map(|a| &a.kind) {
                Some(Kind::Seq(items)) => items
                    .iter()
                    .enumerate()
                    .find(|(_, n)| n.as_str() == Some(id.as_str()))
                    .map_or_else(
                        || (root.place(&["lint", "allow"]), "lint.allow".to_owned()),
                        |(i, n)| (n.loc, format!("lint.allow[{i}]")),
                    ),
                _ => match root.entry(&["lint", "allow", id]) {
                    Some((k, _)) => (k.loc, format!("lint.allow.{id}")),
                    None => (root.place(&["lint", "allow"]), "lint.allow".to_owned()),
                },
            };
            c.found.push(
                Diagnostic::new(loc, format!("`{id}` is not a finding id"))
                    .with_path(path)
                    .with_help(help),
            );
        }
    }
    target_rules(&mut c, config);
    credentials(&mut c, config, vars);
    pod_rules(&mut c, config);
    boundary::check(&mut c, config);
    c.found
        .sort_by_key(|d| (d.loc.source, d.loc.line, d.loc.col));
    c.found
}

/// `backup:` or `app:` with nothing under it reads as null, which turns the part off: say so
/// rather than render without it. (`backup: null` says it on purpose, e.g. in an overlay.)
fn empty_sections(c: &mut Checker<'_>) {
    for (key, message, help) in [
        (
            "backup",
            "nothing is written under it, which reads as null and turns backups off",
            "write `backup: {}` to back up daily at 02:00 with the defaults, or `backup: null` to turn backups off",
        ),
        (
            "redis",
            "nothing is written under it, which reads as null: no Redis is rendered",
            "give Redis's image under it (redis: {image: redis:7.4-alpine}), or write `redis: null`",
        ),
        (
            "app",
            "nothing is written under it, which reads as null: no app is rendered",
            "give the app's image under it (app: {image: ghcr.io/acme/shop:1.4.2}), or write `app: null`",
        ),
    ] {
        if let Some((k, v)) = c.root.entry(&[key])
            && matches!(&v.kind, Kind::Scalar { text, plain: true } if text.is_empty())
        {
            let loc = k.loc;
            c.found
                .push(Diagnostic::new(loc, message).with_path(key).with_help(help));
        }
    }
}

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
fn target_rules(c: &mut Checker<'_>, config: &Config) {
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
        match super::image::postgres_major(&pg.image) {
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

fn names(c: &mut Checker<'_>, config: &Config) {
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

fn subdomain(c: &mut Checker<'_>, path: &[&str], value: &str) {
    if !is_dns_subdomain(value) {
        c.value(
            path,
            format!("`{value}` is not a valid Kubernetes name"),
            dns_hint(value),
        );
    }
}

fn quantity(c: &mut Checker<'_>, path: &[&str], value: &str, zero_ok: bool) -> Option<f64> {
    match parse_quantity(value) {
        Some(q) if q > 0.0 || (zero_ok && q == 0.0) => Some(q),
        Some(_) => {
            c.value(
                path,
                format!("`{value}` must be more than zero"),
                "e.g. 1Gi",
            );
            None
        }
        None => {
            c.value(
                path,
                format!("`{value}` is not a Kubernetes quantity"),
                quantity_hint(value),
            );
            None
        }
    }
}

fn port(c: &mut Checker<'_>, path: &[&str], port: i64) {
    if !(1..=65535).contains(&port) {
        c.value(
            path,
            format!("{port} is not a port"),
            "a port is between 1 and 65535; PostgreSQL's is 5432",
        );
    }
}

/// Checks the names of extra variables; `reserved` pairs each name pgstate sets with the
/// help for setting it the right way.
fn env_map(
    c: &mut Checker<'_>,
    path: &[&str],
    env: &super::model::StringMap,
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

fn resources(c: &mut Checker<'_>, path: &[&str], res: &Resources, defaults: &ResourceDefaults) {
    let fields = [
        ("requests", "cpu", &res.requests.cpu),
        ("requests", "memory", &res.requests.memory),
        ("limits", "cpu", &res.limits.cpu),
        ("limits", "memory", &res.limits.memory),
    ];
    let mut valid = true;
    for (group, kind, value) in fields {
        if let Some(v) = value {
            let mut p = path.to_vec();
            p.extend([group, kind]);
            valid &= quantity(c, &p, v, false).is_some();
        }
    }
    if !valid {
        return;
    }
    // What is rendered: each unset value takes its default.
    let resolved = resolve_resources(res, defaults);
    for (kind, request_set) in [
        ("cpu", res.requests.cpu.is_some()),
        ("memory", res.requests.memory.is_some()),
    ] {
        let get = |m: &std::collections::BTreeMap<String, String>| {
            m.get(kind).cloned().unwrap_or_default()
        };
        let (request, limit) = (get(&resolved.requests), get(&resolved.limits));
        let (Some(r), Some(l)) = (parse_quantity(&request), parse_quantity(&limit)) else {
            continue;
        };
        if r <= l {
            continue;
        }
        let at = path.join(".");
        if request_set {
            let mut p = path.to_vec();
            p.extend(["requests", kind]);
            c.value(
                &p,
                format!("the {kind} request {request} is above its limit {limit}"),
                format!("raise {at}.limits.{kind} or lower the request"),
            );
        } else {
            let mut p = path.to_vec();
            p.extend(["limits", kind]);
            c.value(
                &p,
                format!("the {kind} limit {limit} is below the default {kind} request {request}"),
                format!("also set {at}.requests.{kind}, to {limit} or less"),
            );
        }
    }
}

/// `postgres.metrics`: the exporter's image, port and resources, checked whether or not it is
/// enabled (an overlay may switch it on).
fn metrics(c: &mut Checker<'_>, config: &Config) {
    let m = &config.postgres.metrics;
    if let Some(problem) = image_problem(&m.image) {
        c.value(
            &["postgres", "metrics", "image"],
            problem,
            image_hint(
                &m.image,
                &format!("e.g. {}", super::defaults::EXPORTER_IMAGE),
            ),
        );
    }
    port(c, &["postgres", "metrics", "port"], m.port);
    if m.port == config.postgres.port {
        c.value(
            &["postgres", "metrics", "port"],
            format!("port {} is the database's port", m.port),
            "the exporter listens on a port of its own in the same pod, e.g. 9187",
        );
    }
    resources(
        c,
        &["postgres", "metrics", "resources"],
        &m.resources,
        &METRICS_RESOURCES,
    );
}

fn postgres(c: &mut Checker<'_>, config: &Config, vars: &dyn Vars) {
    let pg = &config.postgres;
    if let Some(problem) = image_problem(&pg.image) {
        c.value(
            &["postgres", "image"],
            problem,
            image_hint(
                &pg.image,
                "e.g. postgres:17.2, postgres:15-alpine or postgres@sha256:<digest>",
            ),
        );
    }
    port(c, &["postgres", "port"], pg.port);
    // postgres.database and postgres.user: boundary::name_problem.
    password(
        c,
        "postgres",
        &super::names::credentials_secret(config),
        &pg.password,
        vars,
    );
    for (key, value) in [
        ("mountPath", Some(&pg.mount_path)),
        ("pgdata", pg.pgdata.as_ref()),
    ] {
        if let Some(path) = value
            && !path.starts_with('/')
        {
            c.value(
                &["postgres", key],
                format!("`{path}` is not an absolute path"),
                "start it with /, e.g. /var/lib/postgresql/data",
            );
        } else if let Some(path) = value
            && path.split('/').any(|part| part == ".." || part == ".")
        {
            c.value(
                &["postgres", key],
                format!("`{path}` has a `.` or `..` part"),
                "write the plain path, e.g. /var/lib/postgresql/data/pgdata",
            );
        }
    }
    for reserved in [
        "/var/run/postgresql",
        "/tmp",
        "/dev/shm",
        super::names::SECRET_DIR,
    ] {
        if pg.mount_path.trim_end_matches('/') == reserved {
            c.value(
                &["postgres", "mountPath"],
                format!("{reserved} is a volume pgstate mounts itself"),
                "use /var/lib/postgresql/data",
            );
        }
    }
    if let Some(pgdata) = &pg.pgdata {
        let base = pg.mount_path.trim_end_matches('/');
        let inside = pgdata
            .strip_prefix(base)
            .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/'));
        if !inside {
            c.value(&["postgres", "pgdata"], format!("`{pgdata}` is not a subfolder of mountPath `{}`", pg.mount_path), format!("use e.g. {base}/pgdata: a new volume's lost+found makes initdb refuse the volume's root"));
        }
    }
    let reserved: Vec<(&str, String)> = GENERATED_PG_ENV
        .iter()
        .map(|name| {
            let key = match *name {
                "POSTGRES_USER" => "postgres.user",
                "POSTGRES_DB" => "postgres.database",
                "POSTGRES_INITDB_ARGS" => "postgres.initdbArgs",
                "PGDATA" => "postgres.pgdata",
                "PGPORT" => "postgres.port",
                _ => "postgres.password",
            };
            (*name, format!("remove it here and set {key} instead"))
        })
        .collect();
    env_map(c, &["postgres", "env"], &pg.env, &reserved);
    let st = &pg.storage;
    quantity(c, &["postgres", "storage", "size"], &st.size, false);
    if let Some(class) = &st.class {
        subdomain(c, &["postgres", "storage", "class"], class);
    }
    if !is_dns_label(&st.claim_name) {
        c.value(
            &["postgres", "storage", "claimName"],
            format!("`{}` is not a valid volume name", st.claim_name),
            dns_hint(&st.claim_name),
        );
    }
    if let Some(LocalVolume { node, path }) = &st.local {
        if !is_dns_subdomain(node) {
            c.value(
                &["postgres", "storage", "local", "node"],
                format!("`{node}` is not a node name"),
                "the name `kubectl get nodes` shows",
            );
        }
        if !path.starts_with('/') {
            c.value(
                &["postgres", "storage", "local", "path"],
                format!("`{path}` is not an absolute path"),
                "e.g. /data/postgres",
            );
        }
    }
    resources(
        c,
        &["postgres", "resources"],
        &pg.resources,
        &POSTGRES_RESOURCES,
    );
    for (key, value) in &pg.settings {
        let valid = key.starts_with(|ch: char| ch.is_ascii_lowercase() || ch == '_')
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        if !valid {
            c.key(
                &["postgres", "settings"],
                key,
                format!("`{key}` is not a postgresql.conf parameter name"),
                "parameter names are lowercase, e.g. max_connections",
            );
        } else if let Some((_, why)) = OWNED_SETTINGS.iter().find(|(k, _)| k == key) {
            c.key(
                &["postgres", "settings"],
                key,
                format!("`{key}` is set by pgstate"),
                *why,
            );
        }
        if value.contains('\0') || value.contains('\n') {
            c.value(
                &["postgres", "settings", key],
                "a setting is one line of text",
                "remove the line break",
            );
        }
    }
    if let Some(mc) = pg.settings.get("max_connections")
        && mc.trim().parse::<i64>().map_or(true, |n| n < 1)
    {
        c.value(
            &["postgres", "settings", "max_connections"],
            format!("`{mc}` is not a positive whole number"),
            "e.g. max_connections: 200",
        );
    }
    if let Some(sb) = pg.settings.get("shared_buffers") {
        match parse_pg_memory(sb, 8192.0) {
            None => c.value(
                &["postgres", "settings", "shared_buffers"],
                format!("`{sb}` is not a PostgreSQL memory size"),
                pg_memory_hint(sb),
            ),
            Some(bytes) => {
                let resolved = resolve_resources(&pg.resources, &POSTGRES_RESOURCES);
                let limit = resolved.limits.get("memory").map_or("", String::as_str);
                if let Some(limit_bytes) = parse_quantity(limit)
                    && bytes >= limit_bytes
                {
                    c.value(
                        &["postgres", "settings", "shared_buffers"],
                        format!("shared_buffers {sb} does not fit in the memory limit {limit}"),
                        "keep shared_buffers near a quarter of postgres.resources.limits.memory",
                    );
                }
            }
        }
    }
    if pg.replicas < 1 && matches!(config.target, Target::Cloudnativepg | Target::Percona) {
        c.value(
            &["postgres", "replicas"],
            format!("{} instances is not a database", pg.replicas),
            "replicas counts every instance, the primary included: 1, or 2 and more for HA",
        );
    } else if pg.replicas != 1 && config.target == Target::External {
        c.value(
            &["postgres", "replicas"],
            format!(
                "`target: external` runs no instance here, so replicas {} means nothing",
                pg.replicas
            ),
            "the provider runs the replicas of a managed database; remove the key",
        );
    } else if pg.replicas != 1 && config.target == Target::Statefulset {
        c.value(
            &["postgres", "replicas"],
            format!(
                "`target: statefulset` runs exactly 1 instance, not {}",
                pg.replicas
            ),
            if pg.replicas < 1 {
                "remove the key; to stop the database for a while, \
                 `kubectl scale statefulset <name> --replicas=0`"
            } else {
                "for more instances use an HA operator: `target: cloudnativepg` or `target: percona`"
            },
        );
    }
    for (kind, timing) in [
        ("readiness", &pg.probes.readiness),
        ("liveness", &pg.probes.liveness),
        ("startup", &pg.probes.startup),
    ] {
        for (key, value, min) in [
            ("initialDelaySeconds", timing.initial_delay_seconds, 0),
            ("periodSeconds", timing.period_seconds, 1),
            ("timeoutSeconds", timing.timeout_seconds, 1),
            ("failureThreshold", timing.failure_threshold, 1),
        ] {
            if let Some(v) = value
                && (v < min || v > 3600)
            {
                c.value(
                    &["postgres", "probes", kind, key],
                    format!("{v} is out of range"),
                    format!("use {min} to 3600"),
                );
            }
        }
    }
    for (key, value) in &pg.node_selector {
        if !is_label_key(key) || !is_label_value(value) {
            c.key(
                &["postgres", "nodeSelector"],
                key,
                format!("`{key}: {value}` is not a valid node label"),
                "e.g. kubernetes.io/hostname: node2",
            );
        }
    }
    typed::<k8s_openapi::api::core::v1::Toleration>(
        c,
        &["postgres", "tolerations"],
        &pg.tolerations,
        true,
    );
    typed::<k8s_openapi::api::core::v1::TopologySpreadConstraint>(
        c,
        &["postgres", "topologySpread"],
        &pg.topology_spread,
        true,
    );
    if let Some(affinity) = &pg.affinity {
        typed::<k8s_openapi::api::core::v1::Affinity>(
            c,
            &["postgres", "affinity"],
            std::slice::from_ref(affinity),
            false,
        );
    }
}

/// Pass-through Kubernetes fields (a list of items, or one value): each must read as its
/// Kubernetes type with nothing lost, every required key given, and known names where
/// Kubernetes takes only a few.
fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(
    c: &mut Checker<'_>,
    path: &[&str],
    items: &[Value],
    list: bool,
) {
    let Some((key, field)) = c.root.entry(path) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let (node, shown) = match (&field.kind, list) {
            (Kind::Seq(nodes), true) => match nodes.get(i) {
                Some(n) => (n, format!("{}[{i}]", path.join("."))),
                None => continue,
            },
            _ => (field, path.join(".")),
        };
        // Wrong types and shapes, at the exact key, from the config's own reader.
        if let Err(mut d) = super::de::from_node_at::<T>(node, &shown) {
            // A whole map or list that is wrong: its key is the line a reader looks for.
            if !list && d.loc == node.loc && !matches!(node.kind, Kind::Scalar { .. }) {
                d.loc = key.loc;
            }
            c.found.push(d);
            continue;
        }
        // What YAML made of a plain value: `value: 123` is a number, where Kubernetes wants a string.
        let typed = match serde_json::from_value::<T>(item.clone()) {
            Ok(t) => t,
            Err(e) => {
                c.found.push(json_type_error(node, &shown, &e.to_string()));
                continue;
            }
        };
        let Ok(back) = serde_json::to_value(&typed) else {
            continue;
        };
        let help = "write it as in a Kubernetes pod spec (the same camelCase keys)";
        // The value is passed through as written, so a key with no value would be rendered.
        if let Some((loc, path)) = find_null(node, &shown) {
            let key = path.rsplit('.').next().unwrap_or(&path).to_owned();
            c.found.push(
                Diagnostic::new(loc, format!("`{key}` has no value"))
                    .with_path(path)
                    .with_help("give it a value, or remove the key"),
            );
            continue;
        }
        if let Some(inner) = super::diff::first_difference(item, &back) {
            let key = inner.rsplit('.').next().unwrap_or(&inner).to_owned();
            let key = key.split('[').next().unwrap_or(&key).to_owned();
            c.found.push(
                Diagnostic::new(
                    node.find(&inner),
                    format!("`{key}` is not a field Kubernetes knows here"),
                )
                .with_path(format!("{shown}.{inner}"))
                .with_help(help),
            );
            continue;
        }
        // A key the Kubernetes type always has but the config left out is a required one.
        if let Some(inner) = super::diff::first_difference(&back, item) {
            let (parent, missing) = inner.rsplit_once('.').unwrap_or(("", &inner));
            let at = if parent.is_empty() {
                node.loc
            } else {
                node.find(parent)
            };
            let shown_parent = if parent.is_empty() {
                shown.clone()
            } else {
                format!("{shown}.{parent}")
            };
            c.found.push(
                Diagnostic::new(at, format!("the required key `{missing}` is missing here"))
                    .with_path(shown_parent)
                    .with_help(format!(
                        "add `{missing}:` to it; Kubernetes requires this key"
                    )),
            );
            continue;
        }
        known_values(c, node, &shown, path.last().copied().unwrap_or_default());
    }
}

/// The first null value under `node` (a key written with nothing after it), with its path.
fn find_null(node: &Node, path: &str) -> Option<(crate::error::Location, String)> {
    match &node.kind {
        Kind::Scalar { .. } if node.is_null() => Some((node.loc, path.to_owned())),
        Kind::Scalar { .. } => None,
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, n)| find_null(n, &format!("{path}[{i}]"))),
        Kind::Map(entries) => entries
            .iter()
            .find_map(|(k, v)| find_null(v, &format!("{path}.{}", k.as_str().unwrap_or("?")))),
    }
}

/// A serde_json type error on a pass-through value, at the plain value it is about.
fn json_type_error(node: &Node, shown: &str, error: &str) -> Diagnostic {
    let quoted = error
        .split_once('`')
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(text, _)| text);
    if let Some(text) = quoted
        && error.ends_with("expected a string")
        && let Some((loc, path)) = find_plain(node, text, shown)
    {
        let what = if error.contains("boolean") {
            "a boolean"
        } else {
            "a number"
        };
        return Diagnostic::new(
            loc,
            format!("YAML reads `{text}` as {what}, and Kubernetes wants a string here"),
        )
        .with_path(path)
        .with_help(format!("quote it: \"{text}\""));
    }
    Diagnostic::new(node.loc, error.to_owned())
        .with_path(shown)
        .with_help("write it as in a Kubernetes pod spec (the same camelCase keys)")
}

/// The first plain scalar with this text under `node`, with its key path.
fn find_plain(node: &Node, text: &str, path: &str) -> Option<(crate::error::Location, String)> {
    match &node.kind {
        Kind::Scalar {
            text: t,
            plain: true,
        } if t == text => Some((node.loc, path.to_owned())),
        Kind::Scalar { .. } => None,
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, n)| find_plain(n, text, &format!("{path}[{i}]"))),
        Kind::Map(entries) => entries.iter().find_map(|(k, v)| {
            find_plain(v, text, &format!("{path}.{}", k.as_str().unwrap_or("?")))
        }),
    }
}

const NODE_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const LABEL_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist"];

/// The values Kubernetes takes for a key of a pass-through field, where it takes only a few.
fn allowed_values(field: &str, path: &str, key: &str) -> Option<&'static [&'static str]> {
    Some(match (field, key) {
        ("tolerations", "operator") => &["Exists", "Equal"],
        ("tolerations", "effect") => &["NoSchedule", "PreferNoSchedule", "NoExecute"],
        ("topologySpread", "whenUnsatisfiable") => &["DoNotSchedule", "ScheduleAnyway"],
        ("topologySpread", "nodeAffinityPolicy" | "nodeTaintsPolicy") => &["Honor", "Ignore"],
        (_, "operator") if path.contains("nodeAffinity") => NODE_OPERATORS,
        (_, "operator") => LABEL_OPERATORS,
        _ => return None,
    })
}

fn known_values(c: &mut Checker<'_>, node: &Node, shown: &str, field: &str) {
    match &node.kind {
        Kind::Map(entries) => {
            for (k, v) in entries {
                let key = k.as_str().unwrap_or_default();
                let path = format!("{shown}.{key}");
                if let Some(text) = v.as_str()
                    && let Some(allowed) = allowed_values(field, &path, key)
                    && !allowed.contains(&text)
                {
                    let help = match closest(text, allowed) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("use one of: {}", allowed.join(", ")),
                    };
                    c.found.push(
                        Diagnostic::new(
                            v.loc,
                            format!("`{text}` is not a value Kubernetes takes for `{key}`"),
                        )
                        .with_path(path.clone())
                        .with_help(help),
                    );
                }
                known_values(c, v, &path, field);
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                known_values(c, item, &format!("{shown}[{i}]"), field);
            }
        }
        Kind::Scalar { .. } => {}
    }
}

/// The rules of a `password:` section under `section` (postgres or redis); pgstate renders
/// `rendered` (the Secret's name) for fromEnv and value.
fn password(
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

/// Redis's maxmemory-policy values.
pub const EVICTION_POLICIES: &[&str] = &[
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
];

fn redis_rules(c: &mut Checker<'_>, config: &Config, redis: &Redis, vars: &dyn Vars) {
    if let Some(problem) = image_problem(&redis.image) {
        c.value(
            &["redis", "image"],
            problem,
            image_hint(
                &redis.image,
                "e.g. redis:7.4-alpine or redis@sha256:<digest>",
            ),
        );
    }
    port(c, &["redis", "port"], redis.port);
    password(
        c,
        "redis",
        &super::names::redis_name(config),
        &redis.password,
        vars,
    );
    let st = &redis.storage;
    quantity(c, &["redis", "storage", "size"], &st.size, false);
    if let Some(class) = &st.class {
        subdomain(c, &["redis", "storage", "class"], class);
    }
    resources(
        c,
        &["redis", "resources"],
        &redis.resources,
        &REDIS_RESOURCES,
    );
    if let Some(max) = &redis.max_memory {
        match parse_redis_memory(max) {
            None => c.value(
                &["redis", "maxMemory"],
                format!("`{max}` is not a Redis memory size"),
                redis_memory_hint(max),
            ),
            Some(bytes) => {
                let resolved = resolve_resources(&redis.resources, &REDIS_RESOURCES);
                let limit = resolved.limits.get("memory").map_or("", String::as_str);
                if let Some(limit_bytes) = parse_quantity(limit)
                    && bytes as f64 > limit_bytes * 0.9
                {
                    c.value(
                        &["redis", "maxMemory"],
                        format!("maxMemory {max} leaves no room under the memory limit {limit}"),
                        "Redis needs memory beyond its data (buffers, a forked rewrite); keep maxMemory near three quarters of redis.resources.limits.memory",
                    );
                }
            }
        }
    }
    if let Some(policy) = &redis.eviction_policy
        && !EVICTION_POLICIES.contains(&policy.as_str())
    {
        c.value(
            &["redis", "evictionPolicy"],
            format!("`{policy}` is not a Redis eviction policy"),
            match closest(policy, EVICTION_POLICIES) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("one of {}", EVICTION_POLICIES.join(", ")),
            },
        );
    }
}

fn app_rules(c: &mut Checker<'_>, config: &Config, app: &super::model::App) {
    if let Some(name) = &app.name
        && !is_dns_label(name)
    {
        c.value(
            &["app", "name"],
            format!("`{name}` is not a valid Kubernetes name"),
            dns_hint(name),
        );
    }
    if app.name.as_deref() == Some(config.name.as_str()) {
        c.value(
            &["app", "name"],
            "the app and the database would have the same name",
            format!("the default is {}-app", config.name),
        );
    }
    if config.backup.is_some()
        && app.name.as_deref() == Some(format!("{}-backup", config.name).as_str())
    {
        c.value(
            &["app", "name"],
            "the app and the backup job would have the same name (and the same NetworkPolicy)",
            format!("the default is {}-app", config.name),
        );
    }
    if config.redis.is_some()
        && app.name.as_deref() == Some(super::names::redis_name(config).as_str())
    {
        c.value(
            &["app", "name"],
            "the app and Redis would have the same name (and the same NetworkPolicy)",
            format!("the default is {}-app", config.name),
        );
    }
    if let Some(problem) = image_problem(&app.image) {
        c.value(
            &["app", "image"],
            problem,
            image_hint(&app.image, "e.g. ghcr.io/acme/backend:1.4.2"),
        );
    }
    port(c, &["app", "port"], app.port);
    if app.replicas < 0 {
        c.value(
            &["app", "replicas"],
            "replicas cannot be negative",
            "e.g. replicas: 2",
        );
    }
    if app.pool_size < 1 {
        c.value(
            &["app", "poolSize"],
            "poolSize must be at least 1",
            "the number of connections each replica opens, e.g. 10",
        );
    }
    if app.run_as_user < 1 {
        c.value(
            &["app", "runAsUser"],
            "the app must run as a non-root user",
            "e.g. 10001",
        );
    }
    let budget = app.replicas * app.pool_size + RESERVED_CONNECTIONS;
    let max = max_connections(config);
    if budget > max {
        // Point at a number the file sets: max_connections, else poolSize, else replicas.
        let written = |p: &[&str]| c.root.entry(p).is_some();
        let path: &[&str] = if config.postgres.settings.contains_key("max_connections") {
            &["postgres", "settings", "max_connections"]
        } else if written(&["app", "poolSize"]) || !written(&["app", "replicas"]) {
            &["app", "poolSize"]
        } else {
            &["app", "replicas"]
        };
        c.value(path, format!("{} replicas x poolSize {} + {RESERVED_CONNECTIONS} reserved = {budget} connections, but max_connections is {max}", app.replicas, app.pool_size), format!("set postgres.settings.max_connections: {budget} (or more), or lower app.replicas or app.poolSize"));
    }
    let ce = &app.connection_env;
    let mut names: Vec<(&str, &str)> = vec![
        ("host", &ce.host),
        ("port", &ce.port),
        ("database", &ce.database),
        ("user", &ce.user),
        ("password", &ce.password),
    ];
    if let Some(url) = &ce.url {
        names.push(("url", url));
    }
    if config.target == Target::External {
        names.push(("sslMode", &ce.ssl_mode));
    }
    if config.redis.is_some() {
        names.extend([
            ("redisHost", ce.redis_host.as_str()),
            ("redisPort", &ce.redis_port),
            ("redisPassword", &ce.redis_password),
        ]);
        if let Some(url) = &ce.redis_url {
            names.push(("redisUrl", url));
        }
    }
    for (i, (key, name)) in names.iter().enumerate() {
        if !is_env_name(name) {
            c.value(
                &["app", "connectionEnv", key],
                format!("`{name}` is not a valid variable name"),
                "e.g. DB_HOST",
            );
        } else if let Some((other, _)) = names[..i].iter().find(|(_, n)| n == name) {
            c.value(
                &["app", "connectionEnv", key],
                format!("`{name}` is also the name for {other}"),
                "give each connection variable its own name",
            );
        }
    }
    let reserved: Vec<(&str, String)> = names
        .iter()
        .map(|(key, name)| {
            (
                *name,
                format!(
                    "pgstate sets {name} to the database's {key}; remove it here, or give pgstate's another name with app.connectionEnv.{key}"
                ),
            )
        })
        .collect();
    env_map(c, &["app", "env"], &app.env, &reserved);
    resources(c, &["app", "resources"], &app.resources, &APP_RESOURCES);
    if let Some(path) = &app.health_path
        && !path.starts_with('/')
    {
        c.value(
            &["app", "healthPath"],
            format!("`{path}` does not start with /"),
            "e.g. /healthz",
        );
    }
}

// --- Credentials and connections: the app role, TLS and pg_hba ---------------------------------

/// A role name pgstate writes into SQL (quoted) and pg_hba.conf: lowercase letters, digits and
/// `_`, not starting with a digit, at most 63 bytes, and not PostgreSQL's reserved `pg_` prefix.
pub fn is_role_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && !s.starts_with("pg_")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A database or role name in a typed pg_hba rule: a keyword, or letters, digits, `_.-`.
pub fn is_hba_name(s: &str) -> bool {
    matches!(s, "all" | "sameuser" | "samerole" | "replication")
        || (!s.is_empty()
            && s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
}

/// An address of a pg_hba rule: `all`, or an IPv4/IPv6 range in CIDR form.
pub fn is_hba_address(s: &str) -> bool {
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

fn credentials(c: &mut Checker<'_>, config: &Config, vars: &dyn Vars) {
    use super::model::{HbaMethod, HbaType};
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
    if in_cluster && pg.password.key.as_deref() == Some(super::names::APP_PASSWORD_KEY) {
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
        let role = super::names::app_role_name(config).unwrap_or_default();
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
                    super::names::default_app_role(&pg.database)
                ),
            );
        }
        let rendered = pg.password.secret.is_none()
            && (pg.password.from_env.is_some() || pg.password.value.is_some());
        let secret = super::names::credentials_secret(config);
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

// ---------------------------------------------------------------------------------------------
// Pod settings: `postgres.pod`, `backup.pod`, `app.pod`.
// ---------------------------------------------------------------------------------------------

/// The labels pgstate selects pods by: a pod label may not set them.
const SELECTOR_LABELS: &[&str] = &["app.kubernetes.io/instance", "app.kubernetes.io/component"];
/// The longest grace period accepted: a day. Longer is a typo, and holds a node drain as long.
const MAX_GRACE_SECONDS: i64 = 86_400;
/// CloudNativePG's default smart-shutdown window: its `stopDelay` must leave room beyond it.
const CNPG_SMART_SHUTDOWN_SECONDS: i64 = 180;
/// Kubernetes caps a pod's annotations at 256 KiB together.
const MAX_ANNOTATION_BYTES: usize = 256 * 1024;

/// An annotation key: like a label key (optional DNS prefix and '/', then a name).
fn is_annotation_key(s: &str) -> bool {
    is_label_key(s)
}

/// Which pods a `pod:` block of `section` applies to, for messages.
fn pod_owner(section: &str) -> &'static str {
    match section {
        "postgres" => "the database pod",
        "backup" => "the backup and restore pods",
        _ => "the app's pods",
    }
}

fn pod_rules(c: &mut Checker<'_>, config: &Config) {
    let mut blocks: Vec<(&str, &super::model::Pod)> = vec![("postgres", &config.postgres.pod)];
    if let Some(b) = &config.backup {
        blocks.push(("backup", &b.pod));
    }
    if let Some(a) = &config.app {
        blocks.push(("app", &a.pod));
    }
    for (section, pod) in blocks {
        pod_block(c, section, pod, config);
    }
    pod_targets(c, config);
}

fn pod_block(c: &mut Checker<'_>, section: &str, pod: &super::model::Pod, config: &Config) {
    let base = [section, "pod"];
    let at = |key: &'static str| -> Vec<&str> {
        let mut p = base.to_vec();
        p.push(key);
        p
    };
    for (key, value) in &pod.labels {
        let path = at("labels");
        if !is_label_key(key) {
            c.key(&path, key, format!("`{key}` is not a valid label key"), "a label key is an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.'");
        } else if SELECTOR_LABELS.contains(&key.as_str()) {
            c.key(
                &path,
                key,
                format!("`{key}` selects {}; pgstate sets it", pod_owner(section)),
                "choose another key; the pods already carry app.kubernetes.io/instance and component",
            );
        }
        if !is_label_value(value) {
            let mut p = path.clone();
            p.push(key);
            c.value(&p, format!("`{value}` is not a valid label value"), "a label value has at most 63 letters, digits, '-', '_' or '.', and starts and ends with a letter or digit");
        }
    }
    let mut bytes = 0;
    for (key, value) in &pod.annotations {
        let path = at("annotations");
        bytes += key.len() + value.len();
        if !is_annotation_key(key) {
            c.key(&path, key, format!("`{key}` is not a valid annotation key"), "an annotation key is an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', e.g. example.com/team");
        }
    }
    if bytes > MAX_ANNOTATION_BYTES {
        c.value(
            &at("annotations"),
            format!("the annotations have {bytes} bytes, more than Kubernetes' 256 KiB"),
            "keep large data in a ConfigMap",
        );
    }
    for (i, name) in pod.image_pull_secrets.iter().enumerate() {
        let path = format!("{section}.pod.imagePullSecrets[{i}]");
        let problem = if !is_dns_subdomain(name) {
            Some((
                format!("`{name}` is not a valid Secret name"),
                dns_hint(name),
            ))
        } else if pod.image_pull_secrets[..i].contains(name) {
            Some((format!("`{name}` is listed twice"), "keep one".to_owned()))
        } else {
            None
        };
        if let Some((message, help)) = problem {
            c.at(path, message, help);
        }
    }
    for (key, value) in [
        ("priorityClassName", &pod.priority_class_name),
        ("serviceAccountName", &pod.service_account_name),
    ] {
        if let Some(name) = value {
            subdomain(c, &at(key), name);
        }
    }
    if let Some(grace) = pod.termination_grace_period_seconds {
        let least = if section == "postgres" && config.target == Target::Statefulset {
            super::defaults::STOP_MARGIN + 5
        } else {
            0
        };
        if !(least..=MAX_GRACE_SECONDS).contains(&grace) {
            let help = if least > 0 {
                format!(
                    "the database's fast shutdown gets all of it but {} s: give it {least} to {MAX_GRACE_SECONDS}; the default is {}",
                    super::defaults::STOP_MARGIN,
                    super::defaults::DATABASE_GRACE_SECONDS
                )
            } else {
                format!("write 0 to {MAX_GRACE_SECONDS} seconds; Kubernetes' default is 30")
            };
            c.value(
                &at("terminationGracePeriodSeconds"),
                format!("{grace} seconds is not a grace period pgstate accepts here"),
                help,
            );
        }
    }
    if let Some(size) = &pod.shm_size {
        if section != "postgres" {
            c.key(
                &base,
                "shmSize",
                format!("`{section}.pod.shmSize` has no meaning"),
                "only the database pod has an in-memory /dev/shm; set postgres.pod.shmSize",
            );
        } else if let Some(shm) = quantity(c, &at("shmSize"), size, false) {
            let limits = resolve_resources(&config.postgres.resources, &POSTGRES_RESOURCES).limits;
            let limit = limits.get("memory").cloned().unwrap_or_default();
            if parse_quantity(&limit).is_some_and(|l| shm >= l) {
                c.value(
                    &at("shmSize"),
                    format!("/dev/shm of {size} would fill the memory limit {limit}"),
                    "/dev/shm is memory the pod's limit counts; keep it well below the limit (256Mi by default)",
                );
            }
        }
    }
}

/// What each target does with `postgres.pod` and `backup.pod`: the operators take some keys,
/// a managed database none.
fn pod_targets(c: &mut Checker<'_>, config: &Config) {
    let pod = &config.postgres.pod;
    let shown = target_name(config.target);
    let refuse = |c: &mut Checker<'_>, section: &str, key: &str, why: &str| {
        c.key(
            &[section, "pod"],
            key,
            format!("`{section}.pod.{key}` has no meaning with `target: {shown}`"),
            format!("{why}; remove it"),
        );
    };
    let set = |pod: &super::model::Pod| -> Vec<&'static str> {
        let mut keys = Vec::new();
        let checks: [(&'static str, bool); 8] = [
            ("annotations", !pod.annotations.is_empty()),
            ("labels", !pod.labels.is_empty()),
            ("imagePullSecrets", !pod.image_pull_secrets.is_empty()),
            ("priorityClassName", pod.priority_class_name.is_some()),
            ("serviceAccountName", pod.service_account_name.is_some()),
            (
                "automountServiceAccountToken",
                pod.automount_service_account_token.is_some(),
            ),
            (
                "terminationGracePeriodSeconds",
                pod.termination_grace_period_seconds.is_some(),
            ),
            ("shmSize", pod.shm_size.is_some()),
        ];
        for (key, on) in checks {
            if on {
                keys.push(key);
            }
        }
        keys
    };
    match config.target {
        Target::Statefulset => {}
        Target::External => {
            for key in set(pod) {
                refuse(
                    c,
                    "postgres",
                    key,
                    "the provider runs the database: there is no database pod",
                );
            }
        }
        Target::Cloudnativepg => {
            if pod.automount_service_account_token.is_some() {
                refuse(
                    c,
                    "postgres",
                    "automountServiceAccountToken",
                    "CloudNativePG's instance manager always uses its service account's token",
                );
            }
            if let Some(grace) = pod.termination_grace_period_seconds
                && grace <= CNPG_SMART_SHUTDOWN_SECONDS
            {
                c.value(
                    &["postgres", "pod", "terminationGracePeriodSeconds"],
                    format!("CloudNativePG's stopDelay of {grace} s leaves no time after its {CNPG_SMART_SHUTDOWN_SECONDS} s smart shutdown"),
                    "give more than 180 seconds (the operator's default is 1800), or remove the key",
                );
            }
        }
        Target::Percona => {
            for key in [
                "serviceAccountName",
                "automountServiceAccountToken",
                "terminationGracePeriodSeconds",
                "shmSize",
            ] {
                if set(pod).contains(&key) {
                    refuse(
                        c,
                        "postgres",
                        key,
                        "the PerconaPGCluster has no such field for its instances (it takes annotations, labels, imagePullSecrets and priorityClassName)",
                    );
                }
            }
        }
    }
    if config.target != Target::Statefulset
        && let Some(b) = &config.backup
    {
        for key in set(&b.pod) {
            refuse(
                c,
                "backup",
                key,
                "pgstate renders no backup or restore pods for this target (the operator runs its own)",
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Off-site backups, compression and the restore drill (backup.s3, backup.compression,
// backup.drill). Every string here lands in an env literal a script quotes, or in an rclone
// remote path: the rules keep them to what S3 and the scripts read one way only.

fn offsite_backup_rules(c: &mut Checker<'_>, config: &Config, backup: &super::model::Backup) {
    use super::model::{BackupFormat, Compression};
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

    use super::*;
    use crate::error::SourceId;

    struct NoVars;

    impl Vars for NoVars {
        fn get(&self, _name: &str) -> Option<String> {
            None
        }
    }

    /// The problems of a config text, as `path: message` lines.
    fn problems(text: &str) -> Vec<String> {
        match crate::config::load(SourceId(0), text, None, &NoVars) {
            Ok(_) => Vec::new(),
            Err(found) => found
                .iter()
                .map(|d| {
                    format!(
                        "{}: {} ({})",
                        d.path,
                        d.message,
                        d.help.clone().unwrap_or_default()
                    )
                })
                .collect(),
        }
    }

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
    fn empty_sections_are_errors_and_null_is_off() {
        assert!(problems("backup:\n")[0].starts_with("backup: nothing is written"));
        assert!(problems("app:\n")[0].starts_with("app: nothing is written"));
        assert_eq!(problems("backup: null\napp: ~\n"), Vec::<String>::new());
    }

    #[test]
    fn a_limit_below_the_default_request_is_an_error() {
        let found = problems("postgres:\n  resources: {limits: {memory: 256Mi}}\n");
        assert!(
            found[0].starts_with("postgres.resources.limits.memory: the memory limit 256Mi is below the default memory request 512Mi"),
            "{found:?}"
        );
        let found = problems(
            "postgres:\n  resources: {limits: {memory: 256Mi}, requests: {memory: 256Mi}}\n",
        );
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn pass_through_fields_are_checked_like_kubernetes() {
        let found = problems("postgres:\n  tolerations:\n    - {key: a, operator: Exist}\n");
        assert!(found[0].contains("did you mean `Exists`?"), "{found:?}");
        let found = problems(
            "postgres:\n  tolerations:\n    - {key: a, operator: Exists, tolerationSeconds: null}\n",
        );
        assert!(
            found[0].starts_with(
                "postgres.tolerations[0].tolerationSeconds: `tolerationSeconds` has no value"
            ),
            "{found:?}"
        );
        let found = problems(
            "postgres:\n  topologySpread:\n    - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n",
        );
        assert!(found[0].contains("the required key `maxSkew`"), "{found:?}");
        let found =
            problems("postgres:\n  tolerations:\n    - {key: a, operator: Equal, value: true}\n");
        assert!(
            found[0].starts_with("postgres.tolerations[0].value: YAML reads `true` as a boolean"),
            "{found:?}"
        );
        let ok = "postgres:\n  tolerations:\n    - {key: a, operator: Equal, value: b, effect: NoSchedule}\n  affinity:\n    podAntiAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n        - weight: 100\n          podAffinityTerm:\n            topologyKey: kubernetes.io/hostname\n            labelSelector: {matchExpressions: [{key: app, operator: In, values: [x]}]}\n";
        assert_eq!(problems(ok), Vec::<String>::new());
    }

    #[test]
    fn variable_names_get_a_fixed_spelling() {
        let found = problems("postgres:\n  env: {9-lives: x}\n");
        assert!(found[0].contains("did you mean _9_lives?"), "{found:?}");
    }
}

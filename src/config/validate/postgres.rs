//! `postgres:`: the image, port, settings, storage, probes, init SQL and the metrics exporter.

use super::credentials::password;
use super::kubernetes::typed;
use super::names::{
    dns_hint, env_map, is_dns_label, is_dns_subdomain, is_label_key, is_label_value, subdomain,
};
use super::resources::{quantity, resources};
use super::{Checker, port};
use crate::config::defaults::{
    DEFAULT_MAX_CONNECTIONS, METRICS_RESOURCES, POSTGRES_RESOURCES, resolve_resources,
};
use crate::config::image::{image_hint, image_problem};
use crate::config::model::{Config, InitSql, LocalVolume, Target};
use crate::config::units::{parse_pg_memory, parse_quantity, pg_memory_hint};
use crate::config::vars::Vars;

/// Connections PostgreSQL keeps beyond the apps' pools (superuser slots, backup, admin).
pub(crate) const RESERVED_CONNECTIONS: i64 = 10;

/// Variables the database container gets from pgstate; `postgres.env` may not set them.
pub(crate) const GENERATED_PG_ENV: &[&str] = &[
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

/// The effective `max_connections`.
pub(crate) fn max_connections(config: &Config) -> i64 {
    config
        .postgres
        .settings
        .get("max_connections")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_CONNECTIONS)
}

pub(super) fn postgres(c: &mut Checker<'_>, config: &Config, vars: &dyn Vars) {
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
        &crate::config::names::credentials_secret(config),
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
    for reserved in crate::config::paths::DATABASE_MOUNTS {
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

/// `postgres.initSql`: some SQL, and files whose names make ConfigMap keys (`11-<name>`).
pub(super) fn init_sql(c: &mut Checker<'_>, init: &InitSql) {
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

/// `postgres.metrics`: the exporter's image, port and resources, checked whether or not it is
/// enabled (an overlay may switch it on).
pub(super) fn metrics(c: &mut Checker<'_>, config: &Config) {
    let m = &config.postgres.metrics;
    if let Some(problem) = image_problem(&m.image) {
        c.value(
            &["postgres", "metrics", "image"],
            problem,
            image_hint(
                &m.image,
                &format!("e.g. {}", crate::config::defaults::EXPORTER_IMAGE),
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

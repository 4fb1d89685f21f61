//! The semantic rules: a config that parsed can still be wrong. Each rule reports the key path,
//! the place in the file, what is wrong and what would be right.

use serde_json::Value;

use super::model::{Config, LocalVolume, Password, Resources, Target};
use super::node::{Kind, Node};
use super::units::{check_cron, parse_pg_memory, parse_quantity, quantity_hint};
use crate::error::{Diagnostic, closest};

/// Connections PostgreSQL keeps beyond the apps' pools (superuser slots, backup, admin).
pub const RESERVED_CONNECTIONS: i64 = 10;
/// PostgreSQL's own default.
pub const DEFAULT_MAX_CONNECTIONS: i64 = 100;
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

/// Looks up environment variables (the process's, or a test's).
pub trait Vars {
    fn get(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

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
    !s.is_empty()
        && s.len() <= 63
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
    if fixed.is_empty() || fixed == s {
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

/// Why an image reference is not pinned well enough, if it is not.
pub fn image_problem(image: &str) -> Option<&'static str> {
    if image.is_empty() {
        return Some("the image is empty");
    }
    if image.chars().any(char::is_whitespace) {
        return Some("an image reference has no spaces");
    }
    if let Some((_, digest)) = image.split_once('@') {
        let ok = digest
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        return (!ok).then_some("the digest must be sha256: followed by 64 hex digits");
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("the image has no tag, so every pull may bring a different version"),
        Some((_, "latest")) => Some("`:latest` changes under you; pin a version"),
        Some((_, "")) => Some("the image tag is empty"),
        Some(_) => None,
    }
}

/// The tag of an image reference, if it has one.
pub fn image_tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    name.rsplit('/').next()?.split_once(':').map(|(_, t)| t)
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
    postgres(&mut c, config, vars);
    if let Some(app) = &config.app {
        app_rules(&mut c, config, app);
    }
    if let Some(backup) = &config.backup {
        if let Err(e) = check_cron(&backup.schedule) {
            c.value(
                &["backup", "schedule"],
                e,
                "e.g. \"0 2 * * *\" for 02:00 every day, or @daily",
            );
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
            c.value(
                &["backup", "timeZone"],
                format!("`{tz}` is not an IANA time zone name"),
                "e.g. Europe/Berlin, America/New_York or UTC",
            );
        }
        if let Some(image) = &backup.image
            && let Some(problem) = image_problem(image)
        {
            c.value(
                &["backup", "image"],
                problem,
                "e.g. postgres:17.2 or postgres@sha256:<digest>",
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
        resources(&mut c, &["backup", "resources"], &backup.resources);
        for (key, set) in [
            ("s3", backup.s3.is_some()),
            ("full", backup.full.is_some()),
            ("differential", backup.differential.is_some()),
        ] {
            if set && config.target == Target::Statefulset {
                c.key(&["backup"], key, format!("backup.{key} is for operator targets, not `target: statefulset`"), "the statefulset target backs up with a pg_dump CronJob to a volume; remove this key");
            }
        }
    }
    let ids: Vec<&str> = crate::manifest::lint::RULES
        .iter()
        .map(|(id, _, _)| *id)
        .collect();
    for id in config.lint.allow.0.keys() {
        if !ids.contains(&id.as_str()) {
            let help = match closest(id, &ids) {
                Some(near) => {
                    format!("did you mean {near}? `pgstate check` prints each finding's id")
                }
                None => format!("the finding ids are {}", ids.join(", ")),
            };
            c.value(
                &["lint", "allow", id],
                format!("`{id}` is not a finding id"),
                help,
            );
        }
    }
    if config.target != Target::Statefulset {
        c.value(
            &["target"],
            format!(
                "target `{}` is not available in this version of pgstate",
                target_name(config.target)
            ),
            "use `target: statefulset` (the default) for now",
        );
    }
    c.found
        .sort_by_key(|d| (d.loc.source, d.loc.line, d.loc.col));
    c.found
}

pub fn target_name(target: Target) -> &'static str {
    match target {
        Target::Statefulset => "statefulset",
        Target::Cloudnativepg => "cloudnativepg",
        Target::Percona => "percona",
        Target::External => "external",
    }
}

fn is_time_zone(tz: &str) -> bool {
    tz == "UTC"
        || (tz.contains('/')
            && tz.split('/').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
            }))
}

fn names(c: &mut Checker<'_>, config: &Config) {
    let name = &config.name;
    if !is_dns_label(name) {
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
            "`<name>-backup` names a CronJob, and a CronJob name has at most 52 characters",
        );
    }
    if !is_dns_label(&config.namespace) {
        c.value(
            &["namespace"],
            format!("`{}` is not a valid namespace name", config.namespace),
            dns_hint(&config.namespace),
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

fn env_map(
    c: &mut Checker<'_>,
    path: &[&str],
    env: &super::model::StringMap,
    reserved: &[&str],
    why: &str,
) {
    for name in env.keys() {
        if !is_env_name(name) {
            c.key(
                path,
                name,
                format!("`{name}` is not a valid variable name"),
                "use letters, digits and '_', not starting with a digit, e.g. LOG_LEVEL",
            );
        } else if reserved.contains(&name.as_str()) {
            c.key(
                path,
                name,
                format!("`{name}` clashes with a variable pgstate sets"),
                why.to_owned(),
            );
        }
    }
}

fn resources(c: &mut Checker<'_>, path: &[&str], res: &Resources) {
    let mut parsed = [None, None, None, None];
    let fields = [
        ("requests", "cpu", &res.requests.cpu),
        ("requests", "memory", &res.requests.memory),
        ("limits", "cpu", &res.limits.cpu),
        ("limits", "memory", &res.limits.memory),
    ];
    for (i, (group, kind, value)) in fields.iter().enumerate() {
        if let Some(v) = value {
            let mut p = path.to_vec();
            p.extend([*group, *kind]);
            parsed[i] = quantity(c, &p, v, false);
        }
    }
    for (req, lim, kind) in [
        (parsed[0], parsed[2], "cpu"),
        (parsed[1], parsed[3], "memory"),
    ] {
        if let (Some(r), Some(l)) = (req, lim)
            && r > l
        {
            let mut p = path.to_vec();
            p.extend(["requests", kind]);
            c.value(
                &p,
                format!("the {kind} request is above its limit"),
                format!(
                    "raise {}.limits.{kind} or lower the request",
                    path.join(".")
                ),
            );
        }
    }
}

fn postgres(c: &mut Checker<'_>, config: &Config, vars: &dyn Vars) {
    let pg = &config.postgres;
    if let Some(problem) = image_problem(&pg.image) {
        c.value(
            &["postgres", "image"],
            problem,
            "e.g. postgres:17.2, postgres:15-alpine or postgres@sha256:<digest>",
        );
    }
    port(c, &["postgres", "port"], pg.port);
    for (key, value) in [("database", &pg.database), ("user", &pg.user)] {
        if value.is_empty() || value.len() > 63 || value.contains('\0') {
            c.value(
                &["postgres", key],
                format!("`{value}` is not a PostgreSQL name"),
                "a PostgreSQL name has 1 to 63 bytes",
            );
        }
    }
    password(c, config, &pg.password, vars);
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
        }
    }
    for reserved in ["/var/run/postgresql", "/tmp", "/dev/shm", "/etc/pgstate"] {
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
    env_map(
        c,
        &["postgres", "env"],
        &pg.env,
        GENERATED_PG_ENV,
        "set it with its own key (user, database, password, pgdata, port, initdbArgs)",
    );
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
    resources(c, &["postgres", "resources"], &pg.resources);
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
                "PostgreSQL writes 128MB, 1GB (or a number of 8kB pages)",
            ),
            Some(bytes) => {
                let resolved = crate::render::context::resolve_resources(
                    &pg.resources,
                    &crate::render::context::POSTGRES_RESOURCES,
                );
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
    if pg.replicas != 1 {
        c.value(
            &["postgres", "replicas"],
            format!(
                "`target: statefulset` runs exactly 1 instance, not {}",
                pg.replicas
            ),
            "for more instances use an HA operator: `target: cloudnativepg` or `target: percona`",
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
    );
    typed::<k8s_openapi::api::core::v1::TopologySpreadConstraint>(
        c,
        &["postgres", "topologySpread"],
        &pg.topology_spread,
    );
    if let Some(affinity) = &pg.affinity {
        typed::<k8s_openapi::api::core::v1::Affinity>(
            c,
            &["postgres", "affinity"],
            std::slice::from_ref(affinity),
        );
    }
}

/// Pass-through Kubernetes fields: each must survive its typed form unchanged.
fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(
    c: &mut Checker<'_>,
    path: &[&str],
    items: &[Value],
) {
    let list = c.root.entry(path).map(|(_, v)| v);
    for (i, item) in items.iter().enumerate() {
        let problem = match serde_json::from_value::<T>(item.clone()) {
            Err(e) => Some((String::new(), e.to_string())),
            Ok(t) => match serde_json::to_value(&t) {
                Ok(back) => crate::manifest::first_difference(item, &back).map(|p| {
                    let key = p.rsplit('.').next().unwrap_or(&p).to_owned();
                    (p, format!("`{key}` is not a field Kubernetes knows here"))
                }),
                Err(e) => Some((String::new(), e.to_string())),
            },
        };
        let Some((inner, problem)) = problem else {
            continue;
        };
        // A list item (tolerations, topologySpread), or the single value (affinity).
        let (node, shown) = match list.map(|l| &l.kind) {
            Some(Kind::Seq(nodes)) => (nodes.get(i), format!("{}[{i}]", path.join("."))),
            _ => (list, path.join(".")),
        };
        let loc = node.map_or_else(|| c.root.place(path), |n| n.find(&inner));
        let full = if inner.is_empty() {
            shown
        } else {
            format!("{shown}.{inner}")
        };
        c.found.push(
            Diagnostic::new(loc, problem)
                .with_path(full)
                .with_help("write it as in a Kubernetes pod spec (the same camelCase keys)"),
        );
    }
}

fn password(c: &mut Checker<'_>, config: &Config, pw: &Password, vars: &dyn Vars) {
    let set = [
        pw.secret.is_some(),
        pw.from_env.is_some(),
        pw.value.is_some(),
    ];
    if set.iter().filter(|s| **s).count() > 1 {
        c.value(&["postgres", "password"], "give exactly one of secret, fromEnv or value", "secret names an existing Secret; fromEnv reads a variable at render time; value is plain text");
        return;
    }
    if let Some(name) = &pw.secret {
        subdomain(c, &["postgres", "password", "secret"], name);
    }
    if let Some(key) = &pw.key
        && (key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    {
        c.value(
            &["postgres", "password", "key"],
            format!("`{key}` is not a valid Secret key"),
            "use letters, digits, '-', '_' or '.', e.g. password",
        );
    }
    if let Some(var) = &pw.from_env {
        if !is_env_name(var) {
            c.value(
                &["postgres", "password", "fromEnv"],
                format!("`{var}` is not a valid variable name"),
                "e.g. PG_PASSWORD",
            );
        } else {
            match vars.get(var) {
                None => c.value(&["postgres", "password", "fromEnv"], format!("the variable {var} is not set"), format!("export {var}=... before running pgstate, or name an existing Secret with password.secret")),
                Some(v) if v.is_empty() => c.value(&["postgres", "password", "fromEnv"], format!("the variable {var} is empty"), "an empty password is refused by the postgres image"),
                Some(_) => {}
            }
        }
    }
    if let Some(value) = &pw.value
        && value.is_empty()
    {
        c.value(
            &["postgres", "password", "value"],
            "the password is empty",
            "the postgres image refuses an empty password",
        );
    }
    if pw.secret.is_none() && pw.key.is_some() && (pw.from_env.is_some() || pw.value.is_some()) {
        c.value(
            &["postgres", "password", "key"],
            "key goes with secret",
            format!(
                "pgstate renders Secret {}-credentials with key `password` for fromEnv and value",
                config.name
            ),
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
    if let Some(problem) = image_problem(&app.image) {
        c.value(
            &["app", "image"],
            problem,
            "e.g. ghcr.io/acme/backend:1.4.2",
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
        let path: &[&str] = if config.postgres.settings.contains_key("max_connections") {
            &["postgres", "settings", "max_connections"]
        } else {
            &["app", "poolSize"]
        };
        c.value(path, format!("{} replicas x poolSize {} + {RESERVED_CONNECTIONS} reserved = {budget} connections, but max_connections is {max}", app.replicas, app.pool_size), format!("set postgres.settings.max_connections: {budget} (or more), or lower app.poolSize"));
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
    let reserved: Vec<&str> = names.iter().map(|(_, n)| *n).collect();
    env_map(
        c,
        &["app", "env"],
        &app.env,
        &reserved,
        "pgstate sets the connection variables; rename them with app.connectionEnv",
    );
    resources(c, &["app", "resources"], &app.resources);
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

//! `pgstate init --from-bitnami VALUES.yaml`: a pgstate.yaml that means what a Bitnami
//! PostgreSQL chart's values override meant, and a report of what has no equivalent.
//!
//! Every key of the values file ends up in exactly one of three lists: mapped to a pgstate key,
//! reported (no equivalent: why, and what to do instead), or recognised as equal to the chart's
//! default (nothing to carry over). A key the chart does not have is an error, as in a config.

mod conf;
mod out;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::config::node::{self, Kind, Node, Plain, resolve_plain};
use crate::error::{Diagnostic, Error, Location, SourceId, Sources, closest};

/// The chart's keys and their defaults (see the file's header).
const CHART_KEYS: &str = include_str!("chart-keys.txt");

/// What the command line adds to the values file.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The Helm release's name: the chart's object names derive from it.
    pub release: Option<String>,
    /// The pgstate name to use instead of `<fullname>-pg`.
    pub name: Option<String>,
    /// The namespace to write instead of namespaceOverride (or `default`).
    pub namespace: Option<String>,
}

/// The result: the config text, the SQL files it names (relative paths), and the report.
#[derive(Debug)]
pub struct Converted {
    pub config: String,
    pub files: Vec<(String, String)>,
    pub report: String,
    /// The pgstate name chosen (for the next steps printed after writing).
    pub name: String,
}

/// One key with no equivalent: where it is, why, and what to do instead.
#[derive(Debug)]
struct Note {
    path: String,
    loc: Location,
    why: String,
    instead: String,
}

/// Defaults and whether a key holds free-form data.
struct ChartKeys {
    defaults: BTreeMap<String, Value>,
}

impl ChartKeys {
    fn load() -> ChartKeys {
        let defaults = CHART_KEYS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), serde_json::from_str(v).unwrap_or(Value::Null)))
            .collect();
        ChartKeys { defaults }
    }

    /// The chart key `path` is, or is under (a free-form key such as `primary.podLabels`).
    fn owner(&self, path: &str) -> Option<&str> {
        if self.defaults.contains_key(path) {
            return self.defaults.get_key_value(path).map(|(k, _)| k.as_str());
        }
        let mut at = path;
        while let Some((parent, _)) = at.rsplit_once('.') {
            if let Some((k, v)) = self.defaults.get_key_value(parent) {
                return free_form(v).then_some(k.as_str());
            }
            at = parent;
        }
        None
    }

    /// Whether `path` is a map of chart keys (e.g. `primary`, `auth.secretKeys`).
    fn is_section(&self, path: &str) -> bool {
        let prefix = format!("{path}.");
        self.defaults
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    /// The chart keys directly under `path` ("" = the top), for "did you mean".
    fn children(&self, path: &str) -> Vec<String> {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}.")
        };
        let mut names: Vec<String> = self
            .defaults
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('.').next().unwrap_or(rest).to_owned())
            .collect();
        names.dedup();
        names
    }
}

fn free_form(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty()) || matches!(v, Value::Array(a) if a.is_empty())
}

/// Keys of the chart before 11.0, and what 11.0 calls them.
const RENAMED_IN_11: &[(&str, &str)] = &[
    ("postgresqlUsername", "auth.username"),
    (
        "postgresqlPassword",
        "auth.password (auth.postgresPassword when the user is postgres)",
    ),
    ("postgresqlPostgresPassword", "auth.postgresPassword"),
    ("postgresqlDatabase", "auth.database"),
    (
        "existingSecret",
        "auth.existingSecret (and its keys became auth.secretKeys.*)",
    ),
    ("usePasswordFile", "auth.usePasswordFiles"),
    (
        "postgresqlConfiguration",
        "primary.configuration (postgresql.conf text)",
    ),
    (
        "postgresqlExtendedConf",
        "primary.extendedConfiguration (postgresql.conf text)",
    ),
    ("pgHbaConfiguration", "primary.pgHbaConfiguration"),
    ("configurationConfigMap", "primary.existingConfigmap"),
    ("extendedConfConfigMap", "primary.existingExtendedConfigmap"),
    ("initdbScripts", "primary.initdb.scripts"),
    ("initdbScriptsConfigMap", "primary.initdb.scriptsConfigMap"),
    ("initdbScriptsSecret", "primary.initdb.scriptsSecret"),
    ("postgresqlInitdbArgs", "primary.initdb.args"),
    (
        "postgresqlMaxConnections",
        "max_connections in primary.extendedConfiguration",
    ),
    ("persistence", "primary.persistence"),
    ("resources", "primary.resources"),
    ("service", "primary.service"),
    (
        "terminationGracePeriodSeconds",
        "primary.terminationGracePeriodSeconds",
    ),
    ("securityContext", "primary.podSecurityContext"),
    ("extraEnv", "primary.extraEnvVars"),
    ("livenessProbe", "primary.livenessProbe"),
    ("readinessProbe", "primary.readinessProbe"),
];

/// The values file, and what the rules found in it.
struct Values<'a> {
    root: &'a Node,
    keys: ChartKeys,
    errors: Vec<Diagnostic>,
    notes: Vec<Note>,
    mapped: Vec<(String, String)>,
    general: Vec<String>,
}

impl<'a> Values<'a> {
    fn node(&self, path: &str) -> Option<&'a Node> {
        let mut node = self.root;
        for key in path.split('.') {
            node = node.get(key)?;
        }
        Some(node)
    }

    /// Where a message about `path` points: the value, or the nearest parent present.
    fn loc(&self, path: &str) -> Location {
        let parts: Vec<&str> = path.split('.').collect();
        self.root.place(&parts)
    }

    /// The node at `path` if it is written and not null.
    fn take(&mut self, path: &str) -> Option<&'a Node> {
        self.node(path).filter(|n| !n.is_null())
    }

    fn wrong_type(&mut self, path: &str, node: &Node, wanted: &str) {
        self.errors.push(
            Diagnostic::new(
                node.loc,
                format!("expected {wanted}, found {}", node.describe()),
            )
            .with_path(path.to_owned())
            .with_help(format!("write {wanted} here, as the chart expects")),
        );
    }

    /// A string value; an empty string counts as not set (the chart's `""` defaults).
    fn string(&mut self, path: &str) -> Option<String> {
        let node = self.take(path)?;
        match &node.kind {
            Kind::Scalar { text, .. } if text.is_empty() => None,
            Kind::Scalar { text, .. } => Some(text.clone()),
            _ => {
                self.wrong_type(path, node, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, path: &str) -> Option<bool> {
        let node = self.take(path)?;
        match &node.kind {
            Kind::Scalar { text, plain: true } => match resolve_plain(text) {
                Plain::Bool(b) => Some(b),
                _ => {
                    self.wrong_type(path, node, "true or false");
                    None
                }
            },
            _ => {
                self.wrong_type(path, node, "true or false");
                None
            }
        }
    }

    /// A whole number; the chart also takes one quoted, and `""` for "not set".
    fn int(&mut self, path: &str) -> Option<i64> {
        let node = self.take(path)?;
        match &node.kind {
            Kind::Scalar { text, .. } if text.is_empty() => None,
            Kind::Scalar { text, .. } => match text.trim().parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.wrong_type(path, node, "a whole number");
                    None
                }
            },
            _ => {
                self.wrong_type(path, node, "a whole number");
                None
            }
        }
    }

    /// A map of strings (labels, annotations, nodeSelector); an empty map is None.
    fn string_map(&mut self, path: &str) -> Option<BTreeMap<String, String>> {
        let node = self.take(path)?;
        let Some(entries) = node.as_map() else {
            self.wrong_type(path, node, "a map of names to strings");
            return None;
        };
        let mut map = BTreeMap::new();
        for (k, v) in entries {
            match (&k.as_str(), &v.kind) {
                (Some(k), Kind::Scalar { text, .. }) => {
                    map.insert((*k).to_owned(), text.clone());
                }
                _ => {
                    let at = format!("{path}.{}", k.as_str().unwrap_or_default());
                    self.wrong_type(&at, v, "a string");
                }
            }
        }
        (!map.is_empty()).then_some(map)
    }

    /// Any value as JSON (affinity, tolerations, ...), with YAML's plain scalars resolved; an
    /// empty map or list is None.
    fn json(&mut self, path: &str) -> Option<Value> {
        let node = self.take(path)?;
        let value = to_json(node);
        (!free_form(&value) || !value.is_object() && !value.is_array()).then_some(value)
    }

    fn note(&mut self, path: &str, why: impl Into<String>, instead: impl Into<String>) {
        let loc = self.loc(path);
        self.notes.push(Note {
            path: path.to_owned(),
            loc,
            why: why.into(),
            instead: instead.into(),
        });
    }

    /// Reports `path` when it is written and differs from the chart's default.
    fn note_if_set(&mut self, path: &str, why: &str, instead: &str) {
        if self.node(path).is_some() && !self.is_default(path) {
            self.note(path, why, instead);
        }
    }

    /// Whether every key written under `path` equals the chart's default.
    fn is_default(&self, path: &str) -> bool {
        let Some(node) = self.node(path) else {
            return true;
        };
        leaves(node, path)
            .iter()
            .all(|(p, n)| self.keys.defaults.get(p).is_some_and(|d| same(d, n)))
    }

    fn map(&mut self, from: &str, to: &str) {
        self.mapped.push((from.to_owned(), to.to_owned()));
    }
}

/// The leaves of a node with their dotted paths; free-form values count as one leaf.
fn leaves<'n>(node: &'n Node, path: &str) -> Vec<(String, &'n Node)> {
    match &node.kind {
        Kind::Map(entries) if !entries.is_empty() => entries
            .iter()
            .flat_map(|(k, v)| leaves(v, &format!("{path}.{}", k.as_str().unwrap_or_default())))
            .collect(),
        _ => vec![(path.to_owned(), node)],
    }
}

/// Whether a written value equals a chart default.
fn same(default: &Value, node: &Node) -> bool {
    let value = to_json(node);
    match (default, &value) {
        (Value::String(d), Value::String(v)) => d == v,
        (Value::String(d), Value::Null) => d.is_empty(),
        (Value::String(d), other) => {
            let shown = other.to_string();
            *d == shown
        }
        (Value::Number(d), Value::String(v)) => d.to_string() == *v,
        _ => *default == value,
    }
}

/// A node as JSON: plain scalars resolved under YAML 1.2, quoted ones strings.
pub(crate) fn to_json(node: &Node) -> Value {
    match &node.kind {
        Kind::Scalar { text, plain: true } => match resolve_plain(text) {
            Plain::Null => Value::Null,
            Plain::Bool(b) => Value::Bool(b),
            Plain::Int(i) => json!(i),
            Plain::Float(f) => serde_json::Number::from_f64(f)
                .map_or_else(|| Value::String(text.clone()), Value::Number),
            Plain::Str => Value::String(text.clone()),
        },
        Kind::Scalar { text, .. } => Value::String(text.clone()),
        Kind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Kind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), to_json(v)))
                .collect(),
        ),
    }
}

/// Each config key path and the values key (and place) it came from.
type Origins = BTreeMap<String, (Location, String)>;

/// Converts the values text (already added to `sources` as `source`).
pub fn convert(sources: &Sources, source: SourceId, options: &Options) -> Result<Converted, Error> {
    let fail = |diagnostics: Vec<Diagnostic>| Error::Config {
        sources: sources.clone(),
        diagnostics,
    };
    let converted = read(sources, source, options).map_err(fail)?;
    check_written(&converted, source).map_err(|e| match e {
        Checked::Values(d) => fail(d),
        Checked::Bug(e) => e,
    })?;
    Ok(converted.0)
}

enum Checked {
    Values(Vec<Diagnostic>),
    Bug(Error),
}

/// The written config must load, validate and render like any config; a problem is one of a
/// values key (shown at that key), or a bug.
fn check_written(converted: &(Converted, Origins), source: SourceId) -> Result<(), Checked> {
    let (conv, origins) = converted;
    // Every variable set, and only PGSTATE_* ones readable, as for a config written by hand.
    let process = crate::config::validate::ProcessEnv::default();
    let vars = crate::config::validate::AnyVars(&process);
    let loaded =
        crate::config::load(SourceId(u32::MAX), &conv.config, None, &vars).map_err(|found| {
            Checked::Values(
                found
                    .into_iter()
                    .map(|d| {
                        let origin = origins
                            .iter()
                            .filter(|(k, _)| d.path == **k || d.path.starts_with(&format!("{k}.")))
                            .max_by_key(|(k, _)| k.len());
                        let mut help = d.help.clone().unwrap_or_default();
                        if d.path == "name" {
                            help = format!("{help}; pass --name NAME to choose the pgstate name");
                        }
                        match origin {
                            Some((_, (loc, from))) => Diagnostic::new(
                                *loc,
                                format!("as the config's {}: {}", d.path, d.message),
                            )
                            .with_path(from.clone())
                            .with_help(help),
                            None => Diagnostic::new(
                                Location::new(source, 1, 1, 1),
                                format!("the written config's {}: {}", d.path, d.message),
                            )
                            .with_help(help),
                        }
                    })
                    .collect(),
            )
        })?;
    let mut config = loaded.config;
    if let Some(init) = &mut config.postgres.init_sql {
        for file in &mut init.files {
            file.text = conv
                .files
                .iter()
                .find(|(path, _)| *path == file.path)
                .map(|(_, text)| text.clone());
        }
    }
    crate::render::render(&config, &vars).map_err(Checked::Bug)?;
    Ok(())
}

/// Reads the values and builds the config, with the origins of its keys.
fn read(
    sources: &Sources,
    source: SourceId,
    options: &Options,
) -> Result<(Converted, Origins), Vec<Diagnostic>> {
    let text = sources.text(source);
    let root = node::parse(source, text).map_err(|d| vec![d])?;
    if root.as_map().is_none() {
        return Err(vec![
            Diagnostic::new(
                root.loc,
                format!(
                    "a Helm values file is a map of keys, this document is {}",
                    root.describe()
                ),
            )
            .with_help("pass the values override you give `helm install -f`"),
        ]);
    }
    let keys = ChartKeys::load();
    let unknown = unknown_keys(&root, "", &keys);
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let mut v = Values {
        root: &root,
        keys,
        errors: Vec::new(),
        notes: Vec::new(),
        mapped: Vec::new(),
        general: Vec::new(),
    };
    let mut cfg = out::Config::default();
    rules(&mut v, &mut cfg, options);
    // Every written key is mapped, reported, or the chart's default; anything else a rule
    // read without a word is reported with its section's reason.
    let mut defaults = Vec::new();
    for (path, node) in leaves(&root, "")
        .iter()
        .filter_map(|(p, n)| Some((p.strip_prefix('.')?, *n)))
    {
        let owner = v.keys.owner(path).unwrap_or(path).to_owned();
        let covers = |p: &str| {
            let p = p.split(':').next().unwrap_or(p);
            owner == p || owner.starts_with(&format!("{p}.")) || p.starts_with(&format!("{owner}."))
        };
        if v.mapped.iter().any(|(from, _)| covers(from)) || v.notes.iter().any(|n| covers(&n.path))
        {
            continue;
        }
        let default = v.keys.defaults.get(&owner).is_some_and(|d| same(d, node))
            || (node.is_null() || matches!(&node.kind, Kind::Map(m) if m.is_empty()))
                && v.keys.defaults.get(&owner).is_some_and(free_form);
        if default {
            defaults.push(owner);
        } else {
            let (why, instead) = generic_reason(&owner);
            v.note(&owner, why, instead);
        }
    }
    if !v.errors.is_empty() {
        return Err(v.errors);
    }
    let name = cfg.name.clone();
    let (config, files) = cfg.finish(sources.name(source));
    let report = report(&v, &defaults, sources);
    Ok((
        Converted {
            config,
            files,
            report,
            name,
        },
        cfg.origins,
    ))
}

/// Keys the chart does not have: each an error with the chart's nearest key.
fn unknown_keys(node: &Node, path: &str, keys: &ChartKeys) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let Some(entries) = node.as_map() else {
        return found;
    };
    for (k, v) in entries {
        let key = k.as_str().unwrap_or_default();
        let full = if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        };
        if keys.owner(&full).is_some() {
            // A chart key whose default is a scalar may still not take a map.
            if let Some(d) = keys.defaults.get(&full)
                && !free_form(d)
                && !d.is_null()
                && !d.is_array()
                && matches!(v.kind, Kind::Map(_) | Kind::Seq(_))
            {
                found.push(
                    Diagnostic::new(
                        k.loc,
                        format!("the chart takes a single value here, not {}", v.describe()),
                    )
                    .with_path(full.clone())
                    .with_help(format!("the chart's default is {d}")),
                );
            }
            continue;
        }
        if keys.is_section(&full) {
            if matches!(v.kind, Kind::Map(_)) || v.is_null() {
                found.extend(unknown_keys(v, &full, keys));
            } else {
                found.push(
                    Diagnostic::new(
                        v.loc,
                        format!("`{full}` is a map of settings, this is {}", v.describe()),
                    )
                    .with_path(full.clone())
                    .with_help(format!("its keys are: {}", keys.children(&full).join(", "))),
                );
            }
            continue;
        }
        let siblings = keys.children(path);
        let refs: Vec<&str> = siblings.iter().map(String::as_str).collect();
        let help = if let Some((_, new)) = RENAMED_IN_11
            .iter()
            .find(|(old, _)| path.is_empty() && *old == key)
        {
            format!(
                "`{key}` is a key of the chart before version 11; since 11.0 it is {new}: rename it, as `helm upgrade` to a current chart would need too"
            )
        } else if let Some(near) = closest(key, &refs) {
            format!("did you mean `{near}`?")
        } else if path.is_empty() {
            "this is not a key of the Bitnami PostgreSQL chart (versions 12 to 17); is this the values of another chart?".to_owned()
        } else {
            format!("the keys of `{path}` are: {}", siblings.join(", "))
        };
        found.push(
            Diagnostic::new(
                k.loc,
                format!("`{key}` is not a key of the Bitnami PostgreSQL chart"),
            )
            .with_path(full)
            .with_help(help),
        );
    }
    found
}

/// Why a chart key with no rule of its own has no equivalent, by its section.
fn generic_reason(path: &str) -> (String, String) {
    let first = path.split('.').next().unwrap_or(path);
    let second = path.split('.').nth(1).unwrap_or("");
    let (why, instead): (&str, &str) = match (first, second) {
        ("readReplicas", _) => (
            "read replicas need streaming replication, which pgstate leaves to an operator",
            "use `target: cloudnativepg` (or percona) with postgres.replicas for replicas",
        ),
        ("ldap", _) => (
            "pgstate does not configure LDAP authentication",
            "add a `ldap` rule to pg_hba by hand, or authenticate with passwords (scram-sha-256)",
        ),
        ("audit", _) => (
            "pgAudit is not in the official postgres image",
            "log with the server's own settings (postgres.settings: log_statement, log_connections)",
        ),
        ("volumePermissions", _) => (
            "pgstate runs no root init container: fsGroup gives the volume to UID 10001",
            "nothing; remove it",
        ),
        ("passwordUpdateJob", _) => (
            "pgstate runs no job that changes passwords",
            "change a password with ALTER ROLE, then update the Secret",
        ),
        ("serviceAccount", _) | ("rbac", _) | ("psp", _) => (
            "pgstate makes no ServiceAccount, Role or PodSecurityPolicy: its pods never call the API",
            "to run under an existing account, set postgres.pod.serviceAccountName",
        ),
        ("tls", _) => (
            "pgstate does not carry the chart's TLS settings over",
            "postgres.tls takes a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) or a cert-manager issuer",
        ),
        ("metrics", _) => (
            "pgstate's exporter is prometheus-community's postgres_exporter with fixed settings",
            "postgres.metrics takes enabled, image, port, resources and serviceMonitor",
        ),
        ("backup", _) => (
            "pgstate's backup CronJob is fixed: Forbid overlaps, verify every dump, keep the newest N",
            "backup takes schedule, timeZone, keep, format, storage, resources and pod",
        ),
        ("primary", "podSecurityContext" | "containerSecurityContext") => (
            "pgstate's security context is fixed: UID/GID/fsGroup 10001, no privilege, read-only root, seccomp",
            "nothing: the hardening is not configurable",
        ),
        ("primary", "service") => (
            "pgstate's client Service takes a type and annotations only",
            "edit the rendered Service with a kustomize patch if you need more",
        ),
        ("primary", "networkPolicy") => (
            "pgstate's NetworkPolicy admits the app, the backup job and pods labelled `<name>-client: \"true\"`",
            "label the clients' pods, or set networkPolicy: false and write your own",
        ),
        ("primary", _) => (
            "this setting of the chart's StatefulSet has no pgstate key",
            "patch the rendered StatefulSet with kustomize if you need it",
        ),
        ("global", _) => (
            "a global of the chart's templates with no pgstate equivalent",
            "nothing to carry over",
        ),
        _ => (
            "a chart setting with no pgstate equivalent",
            "see docs/from-bitnami.md",
        ),
    };
    (why.to_owned(), instead.to_owned())
}

/// The stderr report: mapped keys, keys with no equivalent, defaults, general notes.
fn report(v: &Values<'_>, defaults: &[String], sources: &Sources) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(text, "mapped ({} keys):", v.mapped.len());
    for (from, to) in &v.mapped {
        let _ = writeln!(text, "  {from} -> {to}");
    }
    let mut notes: Vec<&Note> = v.notes.iter().collect();
    notes.sort_by_key(|n| (n.loc.line, n.loc.col, n.path.clone()));
    if !notes.is_empty() {
        let _ = writeln!(
            text,
            "no equivalent ({} keys), with what to do instead:",
            notes.len()
        );
        for n in notes {
            let _ = writeln!(
                text,
                "  {}:{}:{}: {}: {}\n      instead: {}",
                sources.name(n.loc.source),
                n.loc.line,
                n.loc.col,
                n.path,
                n.why,
                n.instead
            );
        }
    }
    if !defaults.is_empty() {
        let _ = writeln!(
            text,
            "same as the chart's default, nothing to carry over: {}",
            defaults.join(", ")
        );
    }
    if !v.general.is_empty() {
        let _ = writeln!(text, "before you switch:");
        for g in &v.general {
            let _ = writeln!(text, "  - {g}");
        }
    }
    text
}

/// Every rule, in the order of the written config.
fn rules(v: &mut Values<'_>, cfg: &mut out::Config, options: &Options) {
    names(v, cfg, options);
    image(v, cfg);
    auth(v, cfg);
    storage(v, cfg);
    tls(v, cfg);
    postgres_conf(v, cfg);
    initdb(v, cfg);
    primary_pod(v, cfg);
    service(v, cfg);
    metrics(v, cfg);
    backup(v, cfg);
    network_policy(v, cfg);
    chart_wide(v);
    check_findings(v, cfg);
}

/// The warnings `pgstate check` will give the written config, and why they remain.
fn check_findings(v: &mut Values<'_>, cfg: &out::Config) {
    let image = cfg
        .get("postgres.image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !image.contains('@') {
        v.general.push(format!(
            "`pgstate check` warns (PGS002) that {image} is not pinned by digest: a Bitnami digest cannot carry over; pin the official image's (docker buildx imagetools inspect {image})"
        ));
    }
    if cfg.get("namespace").and_then(Value::as_str) == Some("default") {
        v.general.push("`pgstate check` warns (PGS005) about the `default` namespace: the values do not name the release's namespace; pass --namespace NS (or edit `namespace:`)".to_owned());
    }
}

/// The chart's fullname: fullnameOverride, or `<release>-<nameOverride or postgresql>`
/// (just the release when it already contains that name), truncated to 63 as Helm does.
fn fullname(v: &mut Values<'_>, release: Option<&str>) -> (Option<String>, Option<String>) {
    let global = v.string("global.postgresql.fullnameOverride");
    let over = v.string("fullnameOverride");
    let name_override = v.string("nameOverride");
    if let Some(full) = global.clone().or(over.clone()) {
        let from = if global.is_some() {
            "global.postgresql.fullnameOverride"
        } else {
            "fullnameOverride"
        };
        return (Some(trunc63(&full)), Some(from.to_owned()));
    }
    let chart = name_override.unwrap_or_else(|| "postgresql".to_owned());
    let Some(release) = release else {
        return (None, None);
    };
    let full = if release.contains(&chart) {
        release.to_owned()
    } else {
        format!("{release}-{chart}")
    };
    (Some(trunc63(&full)), None)
}

fn trunc63(s: &str) -> String {
    s.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

fn names(v: &mut Values<'_>, cfg: &mut out::Config, options: &Options) {
    let (full, from) = fullname(v, options.release.as_deref());
    let known = full.is_some();
    let full = full.unwrap_or_else(|| "<release>-postgresql".to_owned());
    cfg.release_fullname = full.clone();
    let name = match &options.name {
        Some(n) => n.clone(),
        None if known => format!("{full}-pg"),
        None => "postgresql-pg".to_owned(),
    };
    cfg.set(
        "name",
        json!(name),
        &format!("the release's objects are named {full}; a new name lets both run side by side"),
    );
    if let Some(from) = &from {
        cfg.origin("name", v.loc(from), from);
        v.map(
            from,
            "name (with -pg: the release keeps its own while both run)",
        );
    }
    if !known {
        v.general.push(
            "the release's object names come from its Helm release name, which a values file does not hold: pass --release NAME to name them in this report".to_owned(),
        );
    }
    cfg.name = name;
    let namespace = options
        .namespace
        .clone()
        .or_else(|| {
            let ns = v.string("namespaceOverride");
            if ns.is_some() {
                v.map("namespaceOverride", "namespace");
                cfg.origin("namespace", v.loc("namespaceOverride"), "namespaceOverride");
            }
            ns
        })
        .unwrap_or_else(|| "default".to_owned());
    cfg.set("namespace", json!(namespace), "");
    if let Some(labels) = v.string_map("commonLabels") {
        v.map("commonLabels", "labels");
        cfg.origin("labels", v.loc("commonLabels"), "commonLabels");
        cfg.set("labels", json!(labels), "");
    }
}

/// The major and minor version of a Bitnami image tag such as `17.6.0-debian-12-r4`.
fn version(tag: &str) -> Option<(u32, Option<u32>)> {
    let mut parts = tag.split(['-', '.']);
    let major: u32 = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok());
    (9..=30).contains(&major).then_some((major, minor))
}

fn image(v: &mut Values<'_>, cfg: &mut out::Config) {
    let registry = v.string("image.registry");
    let repository = v.string("image.repository");
    let tag = v.string("image.tag");
    let digest = v.string("image.digest");
    let global_registry = v.string("global.imageRegistry");
    let (image, comment) = match tag.as_deref().and_then(version) {
        Some((major, Some(minor))) => (
            format!("postgres:{major}.{minor}"),
            format!(
                "the official image of image.tag {}",
                tag.as_deref().unwrap_or("")
            ),
        ),
        Some((major, None)) => (
            format!("postgres:{major}"),
            format!(
                "the official image of image.tag {}",
                tag.as_deref().unwrap_or("")
            ),
        ),
        None => {
            if let Some(t) = &tag {
                v.note(
                    "image.tag",
                    format!("`{t}` names no PostgreSQL version"),
                    "set postgres.image to the official image of the major version the release runs (kubectl get statefulset -o jsonpath='{..image}')",
                );
            } else {
                v.general.push("image.tag is not set, so the release runs its chart's default (PostgreSQL 17 for charts 16 and 17): postgres:17 is written; check the running image and set the same major, or a newer one (the dump and restore of the runbook moves data to a newer major too)".to_owned());
            }
            (
                "postgres:17".to_owned(),
                "the chart's default major version".to_owned(),
            )
        }
    };
    cfg.set("postgres.image", json!(image), &comment);
    if tag.is_some() {
        v.map(
            "image.tag",
            "postgres.image (the official postgres image, same version)",
        );
        cfg.origin("postgres.image", v.loc("image.tag"), "image.tag");
    }
    if let Some(repo) = &repository {
        let bitnami = repo.rsplit('/').next() == Some("postgresql");
        if bitnami {
            v.map(
                "image.repository",
                "postgres.image (official image instead of Bitnami's)",
            );
        } else {
            v.note(
                "image.repository",
                format!("`{repo}` is not the Bitnami PostgreSQL image; pgstate writes the official `postgres` image"),
                "if the image adds extensions (PostGIS, pgvector), set postgres.image to an image built on the official one, e.g. postgis/postgis or pgvector/pgvector",
            );
        }
    }
    for (path, value) in [
        ("image.registry", &registry),
        ("global.imageRegistry", &global_registry),
    ] {
        if let Some(r) = value
            && r != "docker.io"
        {
            v.note(
                path,
                format!("images came from the registry {r}; pgstate names Docker Hub's official image"),
                format!("mirror the official image and write postgres.image: {r}/library/{image} (the backup job uses the same image)"),
            );
        }
    }
    if let Some(d) = &digest {
        v.note(
            "image.digest",
            format!("{d} is the digest of a Bitnami image; the official image has others"),
            format!("pin the official image by its digest: postgres.image: {image}@sha256:... (docker buildx imagetools inspect {image})"),
        );
    }
    v.note_if_set(
        "image.pullPolicy",
        "pgstate pulls with imagePullPolicy Always (so a pinned tag is checked against the registry)",
        "nothing; pin the image by digest to make pulls reproducible",
    );
    v.note_if_set(
        "image.debug",
        "the Bitnami image's debug logs have no equivalent in the official image",
        "raise log_min_messages in postgres.settings",
    );
    let mut secrets = Vec::new();
    for path in ["global.imagePullSecrets", "image.pullSecrets"] {
        if let Some(list) = v.take(path) {
            let Kind::Seq(items) = &list.kind else {
                v.wrong_type(path, list, "a list of Secret names");
                continue;
            };
            for item in items {
                let name = match (&item.kind, item.get("name")) {
                    (Kind::Scalar { text, .. }, _) => Some(text.clone()),
                    (Kind::Map(_), Some(n)) => n.as_str().map(str::to_owned),
                    _ => None,
                };
                match name {
                    Some(n) if !secrets.contains(&n) => secrets.push(n),
                    Some(_) => {}
                    None => v.wrong_type(path, item, "a Secret name (or {name: NAME})"),
                }
            }
            if !items.is_empty() {
                v.map(
                    path,
                    "postgres.pod.imagePullSecrets, backup.pod.imagePullSecrets",
                );
                cfg.origin("postgres.pod.imagePullSecrets", list.loc, path);
            }
        }
    }
    if !secrets.is_empty() {
        cfg.set("postgres.pod.imagePullSecrets", json!(secrets), "");
        cfg.pull_secrets = secrets;
    }
}

fn auth(v: &mut Values<'_>, cfg: &mut out::Config) {
    let pick = |v: &mut Values<'_>, key: &str| -> Option<(String, String)> {
        let global = format!("global.postgresql.auth.{key}");
        let local = format!("auth.{key}");
        let g = v.string(&global);
        let l = v.string(&local);
        g.map(|x| (x, global)).or(l.map(|x| (x, local)))
    };
    let username = pick(v, "username");
    let database = pick(v, "database");
    let existing = pick(v, "existingSecret");
    let admin_key = pick(v, "secretKeys.adminPasswordKey");
    let user_key = pick(v, "secretKeys.userPasswordKey");
    let postgres_password = pick(v, "postgresPassword");
    let password = pick(v, "password");
    let enable_postgres = v.boolean("auth.enablePostgresUser").unwrap_or(true);
    let user = username
        .as_ref()
        .map_or_else(|| "postgres".to_owned(), |(u, _)| u.clone());
    let custom_user = user != "postgres";
    cfg.set(
        "postgres.database",
        json!(database.as_ref().map_or("postgres", |(d, _)| d.as_str())),
        if database.is_some() {
            ""
        } else {
            "the chart's default database"
        },
    );
    if let Some((_, from)) = &database {
        v.map(from, "postgres.database");
        cfg.origin("postgres.database", v.loc(from), from);
    }
    cfg.set("postgres.user", json!(user), "");
    if let Some((_, from)) = &username {
        v.map(from, "postgres.user");
        cfg.origin("postgres.user", v.loc(from), from);
    }
    if custom_user && enable_postgres {
        v.general.push(format!(
            "the release has two logins, `postgres` (superuser) and `{user}` (owner of the database); pgstate's image makes one, `{user}`, and it is the superuser. Log in as `{user}` where you used `postgres`; give the app a login of its own with app.role"
        ));
    }
    if !enable_postgres {
        v.map("auth.enablePostgresUser", "(one login: postgres.user)");
    }
    let (used_key, other_key, why_other) = if custom_user {
        (
            user_key,
            admin_key,
            "the key of the superuser `postgres`, which pgstate does not make (one login: postgres.user)",
        )
    } else {
        (
            admin_key,
            user_key,
            "the key of a second login, which pgstate does not make without auth.username (one login: postgres.user)",
        )
    };
    if let Some((other, from)) = other_key {
        v.note(
            &from,
            why_other,
            format!("the runbook's dump can still log in with key {other} of the release's Secret while the release runs"),
        );
    }
    let default_key = if custom_user {
        "password"
    } else {
        "postgres-password"
    };
    let (key, key_from) = used_key.map_or((default_key.to_owned(), None), |(k, f)| (k, Some(f)));
    match &existing {
        Some((secret, from)) => {
            cfg.set(
                "postgres.password",
                json!({"secret": secret, "key": key}),
                "the release's existing Secret: it outlives the release",
            );
            v.map(from, "postgres.password.secret");
            cfg.origin("postgres.password", v.loc(from), from);
            if let Some(f) = &key_from {
                v.map(f, "postgres.password.key");
            }
        }
        None => {
            let secret = format!("{}-credentials", cfg.name);
            cfg.set(
                "postgres.password",
                json!({"secret": secret, "key": "password"}),
                "create it from the release's Secret (docs/from-bitnami.md, step 1)",
            );
            if let Some(f) = &key_from {
                v.map(f, "(the key the runbook copies the password from)");
            }
            v.general.push(format!(
                "the release keeps its password in Secret {}, key {key}, which `helm uninstall` deletes: copy it into Secret {secret} first (kubectl create secret generic {secret} --from-literal=password=\"$(kubectl get secret {} -o jsonpath='{{.data.{}}}' | base64 -d)\")",
                cfg.release_fullname,
                cfg.release_fullname,
                key.replace('.', "\\.")
            ));
        }
    }
    for pw in [&postgres_password, &password].into_iter().flatten() {
        v.note(
            &pw.1,
            "a password in plain text in the values file: pgstate never writes one into the config",
            "keep it in a Secret (postgres.password.secret); then remove it from the values file and from git",
        );
    }
    for key in [
        "replicationUsername",
        "replicationPassword",
        "secretKeys.replicationPasswordKey",
    ] {
        v.note_if_set(
            &format!("auth.{key}"),
            "replication credentials belong to read replicas, which pgstate leaves to an operator",
            "with target: cloudnativepg or percona the operator makes its own replication user",
        );
    }
    for key in [
        "metricsUsername",
        "metricsPassword",
        "secretKeys.metricsPasswordKey",
    ] {
        v.note_if_set(
            &format!("auth.{key}"),
            "pgstate's exporter logs in as postgres.user with the mounted password file",
            "nothing; a separate monitoring login can be made with initSql",
        );
    }
    for key in [
        "global.postgresql.auth.secretKeys.replicationPasswordKey",
        "global.postgresql.auth.secretKeys.metricsPasswordKey",
    ] {
        v.note_if_set(
            key,
            "pgstate has no replication or metrics login",
            "nothing",
        );
    }
    if v.boolean("auth.usePasswordFiles") == Some(false) {
        v.note(
            "auth.usePasswordFiles",
            "pgstate always mounts the password as a file (POSTGRES_PASSWORD_FILE), never as a variable",
            "nothing",
        );
    }
}

fn storage(v: &mut Values<'_>, cfg: &mut out::Config) {
    let p = "primary.persistence";
    if v.boolean(&format!("{p}.enabled")) == Some(false) {
        v.note(
            &format!("{p}.enabled"),
            "without persistence the release keeps its data in an emptyDir: a pod restart loses it; pgstate always keeps the data on a volume",
            "nothing: the data of the runbook's dump lands on a volume",
        );
    }
    let size = v.string(&format!("{p}.size"));
    cfg.set(
        "postgres.storage.size",
        json!(size.clone().unwrap_or_else(|| "8Gi".to_owned())),
        if size.is_some() {
            ""
        } else {
            "the chart's default size"
        },
    );
    if size.is_some() {
        v.map(&format!("{p}.size"), "postgres.storage.size");
        cfg.origin(
            "postgres.storage.size",
            v.loc(&format!("{p}.size")),
            &format!("{p}.size"),
        );
    }
    let class = [
        format!("{p}.storageClass"),
        "global.storageClass".to_owned(),
        "global.defaultStorageClass".to_owned(),
    ]
    .into_iter()
    .find_map(|path| v.string(&path).map(|c| (c, path)));
    if let Some((class, from)) = class {
        if class == "-" {
            v.note(
                &from,
                "`-` asks for no storage class (static binding); pgstate's claims use the cluster default or a named class",
                "name the class, or use postgres.storage.local for a node's own disk",
            );
        } else {
            cfg.set("postgres.storage.class", json!(class), "");
            v.map(&from, "postgres.storage.class");
            cfg.origin("postgres.storage.class", v.loc(&from), &from);
            cfg.storage_class = Some(class);
        }
    }
    if let Some(claim) = v.string(&format!("{p}.volumeName"))
        && claim != "data"
    {
        cfg.set("postgres.storage.claimName", json!(claim), "");
        v.map(&format!("{p}.volumeName"), "postgres.storage.claimName");
    }
    if let Some(modes) = v.take(&format!("{p}.accessModes")) {
        let list = to_json(modes);
        match list.as_array().map(Vec::as_slice) {
            Some([Value::String(m)]) if m == "ReadWriteOnce" => {}
            Some([Value::String(m)]) => {
                cfg.set("postgres.storage.accessMode", json!(m), "");
                v.map(&format!("{p}.accessModes"), "postgres.storage.accessMode");
            }
            _ => v.note(
                &format!("{p}.accessModes"),
                "pgstate's claim has one access mode",
                "write the one the database needs (ReadWriteOnce) as postgres.storage.accessMode",
            ),
        }
    }
    if let Some(claim) = v.string(&format!("{p}.existingClaim")) {
        v.note(
            &format!("{p}.existingClaim"),
            format!("the claim {claim} holds the Bitnami image's data directory, owned by UID 1001: the official image cannot start on it"),
            "move the data with the runbook's dump and restore; keep the old claim until the new database is verified",
        );
    }
    if let Some(mount) = v.string(&format!("{p}.mountPath"))
        && mount != "/bitnami/postgresql"
    {
        v.note(
                &format!("{p}.mountPath"),
                "the mount path is the Bitnami image's layout; the official image keeps its data at /var/lib/postgresql/data",
                "nothing: pgstate's default postgres.mountPath is the official image's",
            );
    }
    for key in ["subPath", "annotations", "labels", "selector", "dataSource"] {
        v.note_if_set(
            &format!("{p}.{key}"),
            "pgstate's volume claim takes a size, class, access mode and name",
            "patch the rendered volumeClaimTemplate with kustomize if you need it",
        );
    }
    let r = "primary.persistentVolumeClaimRetentionPolicy";
    let enabled = v.boolean(&format!("{r}.enabled")).unwrap_or(false);
    let deleted = v.string(&format!("{r}.whenDeleted"));
    let scaled = v.string(&format!("{r}.whenScaled"));
    if enabled && (deleted.as_deref() == Some("Delete") || scaled.as_deref() == Some("Delete")) {
        cfg.set(
            "postgres.storage.retain",
            json!(false),
            "the claim is deleted with the StatefulSet",
        );
        v.map(r, "postgres.storage.retain");
    } else if enabled {
        v.map(r, "postgres.storage.retain (true, pgstate's default)");
    }
}

/// `tls.*`: the chart's certificate Secret as `postgres.tls` when its files are a
/// kubernetes.io/tls Secret's (tls.crt, tls.key, ca.crt).
fn tls(v: &mut Values<'_>, cfg: &mut out::Config) {
    if v.boolean("tls.enabled") != Some(true) {
        return;
    }
    let secret = v.string("tls.certificatesSecret");
    let files = [
        ("tls.certFilename", "tls.crt"),
        ("tls.certKeyFilename", "tls.key"),
        ("tls.certCAFilename", "ca.crt"),
    ];
    let names: Vec<(&str, Option<String>, &str)> = files
        .iter()
        .map(|(path, want)| (*path, v.string(path), *want))
        .collect();
    let tls_shaped = names
        .iter()
        .all(|(_, got, want)| got.as_deref() == Some(*want));
    if v.boolean("tls.autoGenerated") == Some(true) {
        v.note(
            "tls.autoGenerated",
            "the chart made a self-signed certificate; pgstate has cert-manager issue one",
            "postgres.tls: {issuer: {name: my-ca, kind: ClusterIssuer}}",
        );
        return;
    }
    match secret {
        Some(secret) if tls_shaped => {
            cfg.set(
                "postgres.tls",
                json!({"secret": secret, "required": false}),
                "the release's certificate; required: false keeps plaintext connections working as before (set true to refuse them)",
            );
            cfg.origin(
                "postgres.tls",
                v.loc("tls.certificatesSecret"),
                "tls.certificatesSecret",
            );
            v.map("tls.enabled", "postgres.tls");
            v.map("tls.certificatesSecret", "postgres.tls.secret");
            for (path, _, _) in &names {
                v.map(path, "(the kubernetes.io/tls Secret's keys)");
            }
        }
        Some(secret) => {
            let shown: Vec<String> = names
                .iter()
                .map(|(path, got, want)| {
                    format!(
                        "{path} {} (pgstate reads {want})",
                        got.as_deref().unwrap_or("unset")
                    )
                })
                .collect();
            v.note(
                "tls.enabled",
                format!("pgstate reads the certificate from a kubernetes.io/tls Secret's tls.crt, tls.key and ca.crt; {secret} names them otherwise: {}", shown.join(", ")),
                "copy them into a kubernetes.io/tls Secret (with ca.crt) and set postgres.tls: {secret: NAME}",
            );
        }
        None => v.note(
            "tls.enabled",
            "TLS without a certificate Secret",
            "postgres.tls: {secret: NAME} or {issuer: ...}",
        ),
    }
}

/// The settings pgstate owns or that name the Bitnami image's files.
fn owned_setting(name: &str) -> Option<&'static str> {
    Some(match name {
        "port" => "postgres.port sets it (from containerPorts.postgresql)",
        "listen_addresses" => "pgstate listens on all addresses, for its Service",
        "data_directory" | "hba_file" | "ident_file" | "external_pid_file" => {
            "paths of the Bitnami image's layout: the official image has its own"
        }
        "unix_socket_directories" => {
            "the socket directory is pgstate's emptyDir at /var/run/postgresql"
        }
        "ssl_cert_file" | "ssl_key_file" | "ssl_ca_file" | "ssl_crl_file" | "ssl" => {
            "TLS files of the release's volume; pgstate mounts no certificates yet"
        }
        "log_directory" | "logging_collector" => {
            "the official image logs to stderr, where kubectl logs reads it"
        }
        _ => return None,
    })
}

fn postgres_conf(v: &mut Values<'_>, cfg: &mut out::Config) {
    let mut settings: Vec<(String, String, String)> = Vec::new();
    for path in ["primary.configuration", "primary.extendedConfiguration"] {
        let Some(node) = v.take(path) else {
            continue;
        };
        let Some(text) = node.as_str().map(str::to_owned) else {
            v.wrong_type(
                path,
                node,
                "postgresql.conf text (a block: `|` and the lines under it)",
            );
            continue;
        };
        let (first_line, col) = block_start(node);
        let parsed = match conf::parse_conf(&text) {
            Ok(c) => c,
            Err(e) => {
                v.errors.push(
                    Diagnostic::new(
                        Location::new(node.loc.source, first_line + e.line, col + e.col, 1),
                        format!("this is not valid postgresql.conf: {}", e.message),
                    )
                    .with_path(path.to_owned())
                    .with_help("write one `name = value` per line; quote values with spaces in single quotes"),
                );
                continue;
            }
        };
        for inc in &parsed.includes {
            v.notes.push(Note {
                path: path.to_owned(),
                loc: Location::new(node.loc.source, first_line + inc.line, col, 1),
                why: format!(
                    "`{} '{}'` reads a file of the release's volume",
                    inc.directive, inc.target
                ),
                instead: "copy that file's settings into postgres.settings".to_owned(),
            });
        }
        let mut any = false;
        for s in parsed.settings {
            let loc = Location::new(node.loc.source, first_line + s.line, col, s.name.len());
            if let Some(why) = owned_setting(&s.name) {
                v.notes.push(Note {
                    path: format!("{path}: {}", s.name),
                    loc,
                    why: why.to_owned(),
                    instead: "nothing; it is left out".to_owned(),
                });
                continue;
            }
            if s.name == "shared_preload_libraries" {
                let libs: Vec<&str> = s
                    .value
                    .split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && *l != "pgaudit")
                    .collect();
                if s.value.contains("pgaudit") {
                    v.notes.push(Note {
                        path: format!("{path}: shared_preload_libraries"),
                        loc,
                        why: "pgaudit is not in the official postgres image".to_owned(),
                        instead: "left out; log with log_statement, or build an image with pgaudit"
                            .to_owned(),
                    });
                }
                if libs.is_empty() {
                    continue;
                }
                settings.retain(|(n, _, _)| *n != s.name);
                settings.push((s.name.clone(), libs.join(","), path.to_owned()));
                cfg.origin(&format!("postgres.settings.{}", s.name), loc, path);
                any = true;
                continue;
            }
            settings.retain(|(n, _, _)| *n != s.name);
            cfg.origin(&format!("postgres.settings.{}", s.name), loc, path);
            settings.push((s.name, s.value, path.to_owned()));
            any = true;
        }
        if any {
            v.map(path, "postgres.settings");
        }
    }
    if let Some(libs) = v.string("postgresqlSharedPreloadLibraries") {
        let kept: Vec<&str> = libs
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "pgaudit")
            .collect();
        if !kept.is_empty()
            && !settings
                .iter()
                .any(|(n, _, _)| n == "shared_preload_libraries")
        {
            settings.push((
                "shared_preload_libraries".into(),
                kept.join(","),
                "postgresqlSharedPreloadLibraries".into(),
            ));
            v.map(
                "postgresqlSharedPreloadLibraries",
                "postgres.settings.shared_preload_libraries",
            );
        }
        if libs.contains("pgaudit") && libs != "pgaudit" {
            v.note(
                "postgresqlSharedPreloadLibraries",
                "pgaudit is not in the official postgres image",
                "left out; log with log_statement, or build an image with pgaudit",
            );
        }
    }
    // audit.*: the server's own logging settings where there is one.
    for (key, setting) in [
        ("logConnections", "log_connections"),
        ("logDisconnections", "log_disconnections"),
        ("logHostname", "log_hostname"),
    ] {
        let path = format!("audit.{key}");
        if v.boolean(&path) == Some(true) {
            settings.push((setting.into(), "on".into(), path.clone()));
            v.map(&path, &format!("postgres.settings.{setting}"));
        }
    }
    for (key, setting, default) in [
        ("clientMinMessages", "client_min_messages", "error"),
        ("logLinePrefix", "log_line_prefix", ""),
        ("logTimezone", "log_timezone", ""),
    ] {
        let path = format!("audit.{key}");
        if let Some(value) = v.string(&path)
            && value != default
        {
            settings.push((setting.into(), value, path.clone()));
            v.map(&path, &format!("postgres.settings.{setting}"));
        }
    }
    for key in ["pgAuditLog", "pgAuditLogCatalog"] {
        v.note_if_set(
            &format!("audit.{key}"),
            "pgAudit is not in the official postgres image",
            "log with log_statement (e.g. ddl or mod) in postgres.settings, or build an image with pgaudit",
        );
    }
    if !settings.is_empty() {
        let map: Map<String, Value> = settings
            .into_iter()
            .map(|(n, val, _)| (n, Value::String(val)))
            .collect();
        cfg.set(
            "postgres.settings",
            Value::Object(map),
            "from the chart's postgresql.conf keys",
        );
    }
    for key in ["existingConfigmap", "existingExtendedConfigmap"] {
        let path = format!("primary.{key}");
        if let Some(cm) = v.string(&path) {
            v.note(
                &path,
                format!("pgstate cannot read the ConfigMap {cm}"),
                "copy its parameters into postgres.settings",
            );
        }
    }
    if let Some(node) = v.take("primary.pgHbaConfiguration") {
        let text = node.as_str().unwrap_or_default().to_owned();
        let (first_line, col) = block_start(node);
        match conf::parse_hba(&text) {
            Ok(rules) => {
                let tls = cfg.get("postgres.tls").is_some();
                let mut mapped = Vec::new();
                for r in &rules {
                    let loc =
                        Location::new(node.loc.source, first_line + r.line, col, r.kind.len());
                    match hba_rule(r, tls) {
                        Ok(rule) => mapped.push(rule),
                        Err(why) => v.notes.push(Note {
                            path: format!("primary.pgHbaConfiguration: {} {} {}", r.kind, r.database, r.user),
                            loc,
                            why,
                            instead: "left out; pgstate's own rules let the database's users in with scram-sha-256 (the NetworkPolicy limits who connects)".to_owned(),
                        }),
                    }
                }
                if !mapped.is_empty() {
                    if mapped.iter().any(|r| r["method"] == "trust") {
                        v.general.push("a pg_hba rule trusts a network without a password: `pgstate check` warns (PGS018); prefer scram-sha-256".to_owned());
                    }
                    v.map(
                        "primary.pgHbaConfiguration",
                        &format!("postgres.hba ({} of {} rules)", mapped.len(), rules.len()),
                    );
                    cfg.origin(
                        "postgres.hba",
                        v.root.place(&["primary", "pgHbaConfiguration"]),
                        "primary.pgHbaConfiguration",
                    );
                    cfg.set(
                        "postgres.hba",
                        Value::Array(mapped),
                        "placed before pgstate's own rules",
                    );
                } else if rules.is_empty() {
                    v.map("primary.pgHbaConfiguration", "(no rules)");
                }
            }
            Err(e) => v.errors.push(
                Diagnostic::new(
                    Location::new(node.loc.source, first_line + e.line, col + e.col, 1),
                    format!("this is not a valid pg_hba.conf rule: {}", e.message),
                )
                .with_path("primary.pgHbaConfiguration")
                .with_help("one rule a line: TYPE DATABASE USER [ADDRESS] METHOD"),
            ),
        }
    }
}

/// One pg_hba.conf rule as a `postgres.hba` entry, or why it has none.
fn hba_rule(r: &conf::HbaRule, tls: bool) -> Result<Value, String> {
    use crate::config::validate::{is_hba_address, is_hba_name};
    let kind = match r.kind.as_str() {
        "local" => return Err(
            "the socket's rules are pgstate's (its start step and the image's entrypoint use them)"
                .into(),
        ),
        "hostssl" if !tls => {
            return Err("a hostssl rule matches nothing without postgres.tls".into());
        }
        "host" | "hostssl" | "hostnossl" => r.kind.clone(),
        other => return Err(format!("pgstate writes no `{other}` rules")),
    };
    for name in [&r.database, &r.user] {
        if !is_hba_name(name) {
            return Err(format!(
                "`{name}` is not one name (lists, +groups and @files are not written)"
            ));
        }
    }
    let address = match r.address.as_deref() {
        Some(a) if is_hba_address(a) => a.to_owned(),
        Some(a) => match a
            .split_once(' ')
            .and_then(|(ip, mask)| Some(format!("{ip}/{}", mask_bits(mask)?)))
        {
            Some(cidr) if is_hba_address(&cidr) => cidr,
            _ => {
                return Err(format!(
                    "`{a}` is not an address range pgstate writes (CIDR or all)"
                ));
            }
        },
        None => return Err("a rule without an address".into()),
    };
    let method = match r.method.as_str() {
        "scram-sha-256" | "md5" | "reject" | "trust" => r.method.clone(),
        "cert" if kind == "hostssl" => r.method.clone(),
        other => return Err(format!("pgstate writes no `{other}` authentication")),
    };
    if !r.options.is_empty() {
        return Err(format!(
            "its options ({}) have no place in postgres.hba",
            r.options.join(" ")
        ));
    }
    Ok(
        json!({"type": kind, "database": r.database, "user": r.user, "address": address, "method": method}),
    )
}

/// The prefix length of a contiguous IPv4 netmask such as 255.255.0.0.
fn mask_bits(mask: &str) -> Option<u32> {
    let bits = u32::from(mask.parse::<std::net::Ipv4Addr>().ok()?);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones)
}

/// The line and column of a text value's first character: a block scalar's span starts at its
/// first content line, at the column its lines are indented to.
fn block_start(node: &Node) -> (usize, usize) {
    (node.loc.line, node.loc.col)
}

fn initdb(v: &mut Values<'_>, cfg: &mut out::Config) {
    if let Some(args) = v.string("primary.initdb.args") {
        cfg.set("postgres.initdbArgs", json!(args), "");
        v.map("primary.initdb.args", "postgres.initdbArgs");
        cfg.origin(
            "postgres.initdbArgs",
            v.loc("primary.initdb.args"),
            "primary.initdb.args",
        );
    }
    if let Some(scripts) = v.take("primary.initdb.scripts") {
        let Some(entries) = scripts.as_map() else {
            v.wrong_type(
                "primary.initdb.scripts",
                scripts,
                "a map from file name to script",
            );
            return;
        };
        let mut files = Vec::new();
        for (k, body) in entries {
            let file = k.as_str().unwrap_or_default();
            let path = format!("primary.initdb.scripts.{file}");
            let Some(text) = body.as_str() else {
                v.wrong_type(&path, body, "the script's text");
                continue;
            };
            let safe = file.ends_with(".sql")
                && file.len() > 4
                && file.len() <= 200
                && file
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && !file.starts_with('.');
            if !safe {
                v.notes.push(Note {
                    path: path.clone(),
                    loc: k.loc,
                    why: if file.ends_with(".sh") {
                        "a shell script: pgstate runs SQL only at initialisation, never a script from the config".to_owned()
                    } else {
                        format!("`{file}` is not a .sql file name pgstate can write (letters, digits, '-', '_', '.')")
                    },
                    instead: "write what it does as SQL in a .sql file and list it in postgres.initSql.files".to_owned(),
                });
                continue;
            }
            let rel = format!("{}-initdb/{file}", cfg.name);
            files.push((rel.clone(), text.to_owned()));
            cfg.origin("postgres.initSql", k.loc, "primary.initdb.scripts");
        }
        if !files.is_empty() {
            v.map(
                "primary.initdb.scripts",
                "postgres.initSql.files (SQL files written beside the config)",
            );
            cfg.set(
                "postgres.initSql.files",
                json!(files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()),
                "run once, on an empty data directory; the restore brings the data",
            );
            cfg.files = files;
        }
    }
    for key in ["scriptsConfigMap", "scriptsSecret"] {
        let path = format!("primary.initdb.{key}");
        if let Some(name) = v.string(&path) {
            v.note(
                &path,
                format!("pgstate cannot read {name} from the cluster"),
                "save its .sql scripts beside the config and list them in postgres.initSql.files",
            );
        }
    }
    for key in ["user", "password"] {
        v.note_if_set(
            &format!("primary.initdb.{key}"),
            "pgstate runs the init SQL as postgres.user",
            "nothing",
        );
    }
    v.note_if_set(
        "primary.initdb.postgresqlWalDir",
        "pgstate keeps the WAL in the data directory",
        "nothing",
    );
}

fn primary_pod(v: &mut Values<'_>, cfg: &mut out::Config) {
    let p = "primary";
    if let Some(res) = v.json(&format!("{p}.resources")) {
        let mut out = Map::new();
        for group in ["requests", "limits"] {
            if let Some(m) = res.get(group).and_then(Value::as_object) {
                let mut g = Map::new();
                for (k, val) in m {
                    let text = match val {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if k == "cpu" || k == "memory" {
                        g.insert(k.clone(), Value::String(text));
                    } else {
                        v.note(
                            &format!("{p}.resources.{group}.{k}"),
                            format!("pgstate sets cpu and memory only, not {k}"),
                            "nothing; the emptyDirs have their own size limits",
                        );
                    }
                }
                if !g.is_empty() {
                    out.insert(group.into(), Value::Object(g));
                }
            }
        }
        if !out.is_empty() {
            cfg.set("postgres.resources", Value::Object(out), "");
            v.map(&format!("{p}.resources"), "postgres.resources");
            cfg.origin(
                "postgres.resources",
                v.loc(&format!("{p}.resources")),
                "primary.resources",
            );
        }
    } else if let Some(preset) = v.string(&format!("{p}.resourcesPreset")) {
        v.note(
            &format!("{p}.resourcesPreset"),
            format!("the preset `{preset}` is the chart's; pgstate sizes the database with its own defaults (requests 250m/512Mi, limits 1 CPU/1Gi)"),
            "set postgres.resources to what the database needs",
        );
    }
    for (from, to) in [
        ("nodeSelector", "postgres.nodeSelector"),
        ("tolerations", "postgres.tolerations"),
        ("affinity", "postgres.affinity"),
        ("topologySpreadConstraints", "postgres.topologySpread"),
    ] {
        let path = format!("{p}.{from}");
        if let Some(value) = v.json(&path) {
            cfg.set(to, value, "");
            v.map(&path, to);
            cfg.origin(to, v.loc(&path), &path);
        }
    }
    if cfg.get("postgres.affinity").is_none() {
        let kind = v.string(&format!("{p}.nodeAffinityPreset.type"));
        let key = v.string(&format!("{p}.nodeAffinityPreset.key"));
        let values = v.json(&format!("{p}.nodeAffinityPreset.values"));
        if let (Some(kind), Some(key), Some(values)) = (kind, key, values) {
            let term =
                json!({"matchExpressions": [{"key": key, "operator": "In", "values": values}]});
            let affinity = if kind == "hard" {
                json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}})
            } else {
                json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": term}]}})
            };
            cfg.set(
                "postgres.affinity",
                affinity,
                "from primary.nodeAffinityPreset",
            );
            v.map(
                &format!("{p}.nodeAffinityPreset"),
                "postgres.affinity.nodeAffinity",
            );
        }
    }
    for key in ["podAffinityPreset", "podAntiAffinityPreset"] {
        v.note_if_set(
            &format!("{p}.{key}"),
            "pod (anti-)affinity between the instances of one database means nothing with one instance",
            "nothing; an operator target spreads its instances by itself",
        );
    }
    if let Some(labels) = v.string_map(&format!("{p}.podLabels")) {
        cfg.set("postgres.pod.labels", json!(labels), "");
        v.map(&format!("{p}.podLabels"), "postgres.pod.labels");
        cfg.origin(
            "postgres.pod.labels",
            v.loc(&format!("{p}.podLabels")),
            "primary.podLabels",
        );
    }
    if let Some(ann) = v.string_map(&format!("{p}.podAnnotations")) {
        cfg.set("postgres.pod.annotations", json!(ann), "");
        v.map(&format!("{p}.podAnnotations"), "postgres.pod.annotations");
        cfg.origin(
            "postgres.pod.annotations",
            v.loc(&format!("{p}.podAnnotations")),
            "primary.podAnnotations",
        );
    }
    if let Some(pc) = v.string(&format!("{p}.priorityClassName")) {
        cfg.set("postgres.pod.priorityClassName", json!(pc), "");
        v.map(
            &format!("{p}.priorityClassName"),
            "postgres.pod.priorityClassName",
        );
        cfg.origin(
            "postgres.pod.priorityClassName",
            v.loc(&format!("{p}.priorityClassName")),
            "primary.priorityClassName",
        );
    }
    if let Some(grace) = v.int(&format!("{p}.terminationGracePeriodSeconds")) {
        cfg.set(
            "postgres.pod.terminationGracePeriodSeconds",
            json!(grace),
            "",
        );
        v.map(
            &format!("{p}.terminationGracePeriodSeconds"),
            "postgres.pod.terminationGracePeriodSeconds",
        );
        cfg.origin(
            "postgres.pod.terminationGracePeriodSeconds",
            v.loc(&format!("{p}.terminationGracePeriodSeconds")),
            "primary.terminationGracePeriodSeconds",
        );
    }
    if v.boolean(&format!("{p}.automountServiceAccountToken")) == Some(true) {
        cfg.set("postgres.pod.automountServiceAccountToken", json!(true), "");
        v.map(
            &format!("{p}.automountServiceAccountToken"),
            "postgres.pod.automountServiceAccountToken",
        );
    }
    if v.boolean("shmVolume.enabled") == Some(false) {
        v.note(
            "shmVolume.enabled",
            "pgstate always mounts an in-memory /dev/shm (PostgreSQL's parallel queries need more than the runtime's 64 MB)",
            "size it with postgres.pod.shmSize",
        );
    }
    if let Some(size) = v.string("shmVolume.sizeLimit") {
        cfg.set("postgres.pod.shmSize", json!(size), "");
        v.map("shmVolume.sizeLimit", "postgres.pod.shmSize");
        cfg.origin(
            "postgres.pod.shmSize",
            v.loc("shmVolume.sizeLimit"),
            "shmVolume.sizeLimit",
        );
    }
    if let Some(port) = v.int("containerPorts.postgresql") {
        cfg.set("postgres.port", json!(port), "");
        v.map("containerPorts.postgresql", "postgres.port");
        cfg.origin(
            "postgres.port",
            v.loc("containerPorts.postgresql"),
            "containerPorts.postgresql",
        );
    }
    for (probe, to) in [
        ("livenessProbe", "liveness"),
        ("readinessProbe", "readiness"),
        ("startupProbe", "startup"),
    ] {
        let base = format!("{p}.{probe}");
        if v.boolean(&format!("{base}.enabled")) == Some(false) {
            v.note(
                &format!("{base}.enabled"),
                "pgstate always probes the database with pg_isready",
                "tune the probe's timing under postgres.probes instead",
            );
        }
        let mut timing = Map::new();
        for key in [
            "initialDelaySeconds",
            "periodSeconds",
            "timeoutSeconds",
            "failureThreshold",
        ] {
            let path = format!("{base}.{key}");
            if v.node(&path).is_some()
                && !v.is_default(&path)
                && let Some(n) = v.int(&path)
            {
                timing.insert(key.into(), json!(n));
            }
        }
        v.note_if_set(
            &format!("{base}.successThreshold"),
            "Kubernetes takes 1 for liveness and startup probes; pgstate keeps 1",
            "nothing",
        );
        if !timing.is_empty() {
            cfg.set(&format!("postgres.probes.{to}"), Value::Object(timing), "");
            v.map(&base, &format!("postgres.probes.{to}"));
        }
    }
    v.note_if_set(
        &format!("{p}.pdb"),
        "a PodDisruptionBudget for one instance either blocks every node drain or allows the only pod to go: pgstate renders none for one instance",
        "for availability through drains use an operator target with several instances (it makes the budget)",
    );
}

fn service(v: &mut Values<'_>, cfg: &mut out::Config) {
    let s = "primary.service";
    if let Some(kind) = v.string(&format!("{s}.type")) {
        if matches!(kind.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
            if kind != "ClusterIP" {
                cfg.set("service.type", json!(kind), "");
            }
            v.map(&format!("{s}.type"), "service.type");
            cfg.origin(
                "service.type",
                v.loc(&format!("{s}.type")),
                &format!("{s}.type"),
            );
        } else {
            v.note(
                &format!("{s}.type"),
                format!("pgstate's Service is ClusterIP, NodePort or LoadBalancer, not {kind}"),
                "choose one of them",
            );
        }
    }
    if let Some(ann) = v.string_map(&format!("{s}.annotations")) {
        cfg.set("service.annotations", json!(ann), "");
        v.map(&format!("{s}.annotations"), "service.annotations");
        cfg.origin(
            "service.annotations",
            v.loc(&format!("{s}.annotations")),
            &format!("{s}.annotations"),
        );
    }
    let port = cfg
        .get("postgres.port")
        .and_then(Value::as_i64)
        .unwrap_or(5432);
    for path in [
        format!("{s}.ports.postgresql"),
        "global.postgresql.service.ports.postgresql".to_owned(),
    ] {
        if let Some(p) = v.int(&path) {
            if p == port {
                v.map(
                    &path,
                    "postgres.port (the Service's port is the database's)",
                );
            } else {
                v.note(
                    &path,
                    format!("the release's Service listened on {p} and its container on {port}; pgstate's Service uses the container's port"),
                    format!("connect the app to port {port}, or set postgres.port: {p}"),
                );
            }
        }
    }
}

fn metrics(v: &mut Values<'_>, cfg: &mut out::Config) {
    if v.boolean("metrics.enabled") == Some(true) {
        cfg.set(
            "postgres.metrics.enabled",
            json!(true),
            "postgres_exporter beside the database",
        );
        v.map("metrics.enabled", "postgres.metrics.enabled");
        if let Some(port) = v.int("metrics.containerPorts.metrics")
            && port != 9187
        {
            cfg.set("postgres.metrics.port", json!(port), "");
            v.map("metrics.containerPorts.metrics", "postgres.metrics.port");
        }
        if v.boolean("metrics.serviceMonitor.enabled") == Some(true) {
            cfg.set("postgres.metrics.serviceMonitor", json!(true), "");
            v.map(
                "metrics.serviceMonitor.enabled",
                "postgres.metrics.serviceMonitor",
            );
        }
        if let Some(res) = v.json("metrics.resources") {
            let mut out = Map::new();
            for group in ["requests", "limits"] {
                if let Some(m) = res.get(group).and_then(Value::as_object) {
                    let g: Map<String, Value> = m
                        .iter()
                        .filter(|(k, _)| *k == "cpu" || *k == "memory")
                        .map(|(k, val)| {
                            (
                                k.clone(),
                                Value::String(
                                    val.as_str().map_or_else(|| val.to_string(), str::to_owned),
                                ),
                            )
                        })
                        .collect();
                    if !g.is_empty() {
                        out.insert(group.into(), Value::Object(g));
                    }
                }
            }
            if !out.is_empty() {
                cfg.set("postgres.metrics.resources", Value::Object(out), "");
                v.map("metrics.resources", "postgres.metrics.resources");
            }
        }
        if v.node("metrics.image").is_some() {
            v.note(
                "metrics.image",
                "the chart's exporter image is Bitnami's; pgstate runs prometheus-community's postgres_exporter",
                "pin another build with postgres.metrics.image if you must",
            );
        }
    }
}

fn backup(v: &mut Values<'_>, cfg: &mut out::Config) {
    if v.boolean("backup.enabled") != Some(true) {
        if v.node("backup.cronjob").is_some() && !v.is_default("backup.cronjob") {
            v.note(
                "backup.cronjob",
                "backup.enabled is not true, so the release makes no backups with these settings",
                "add `backup:` to the config to back up with pgstate",
            );
        }
        cfg.set(
            "backup",
            json!({}),
            "the release had none; a verified nightly dump, and the volume the runbook restores from",
        );
        v.general.push("the release had no backup CronJob (backup.enabled is not true); the config adds pgstate's nightly verified dump (`backup: {}`), whose volume the runbook's restore reads".to_owned());
        return;
    }
    v.map("backup.enabled", "backup");
    let c = "backup.cronjob";
    let schedule = v
        .string(&format!("{c}.schedule"))
        .unwrap_or_else(|| "@daily".to_owned());
    cfg.set("backup.schedule", json!(schedule), "");
    v.map(&format!("{c}.schedule"), "backup.schedule");
    cfg.origin(
        "backup.schedule",
        v.loc(&format!("{c}.schedule")),
        &format!("{c}.schedule"),
    );
    if let Some(tz) = v.string(&format!("{c}.timeZone")) {
        cfg.set("backup.timeZone", json!(tz), "");
        v.map(&format!("{c}.timeZone"), "backup.timeZone");
        cfg.origin(
            "backup.timeZone",
            v.loc(&format!("{c}.timeZone")),
            &format!("{c}.timeZone"),
        );
    }
    cfg.set(
        "backup.keep",
        json!(7),
        "the chart kept every dump; pgstate prunes beyond the newest 7",
    );
    let st = format!("{c}.storage");
    if v.boolean(&format!("{st}.enabled")) == Some(false) {
        v.note(
            &format!("{st}.enabled"),
            "without storage the chart's dumps went to an emptyDir and were lost with the pod",
            "nothing: pgstate's dumps go to a volume",
        );
    }
    if let Some(claim) = v.string(&format!("{st}.existingClaim")) {
        cfg.set("backup.storage.claim", json!(claim), "the release's backup claim, kept (its old pg_dumpall files stay beside pgstate's dumps)");
        v.map(&format!("{st}.existingClaim"), "backup.storage.claim");
        cfg.origin(
            "backup.storage.claim",
            v.loc(&format!("{st}.existingClaim")),
            &format!("{st}.existingClaim"),
        );
    } else {
        let size = v.string(&format!("{st}.size"));
        cfg.set(
            "backup.storage.size",
            json!(size.clone().unwrap_or_else(|| "8Gi".to_owned())),
            if size.is_some() {
                ""
            } else {
                "the chart's default size"
            },
        );
        if size.is_some() {
            v.map(&format!("{st}.size"), "backup.storage.size");
            cfg.origin(
                "backup.storage.size",
                v.loc(&format!("{st}.size")),
                &format!("{st}.size"),
            );
        }
        let class = v
            .string(&format!("{st}.storageClass"))
            .or_else(|| cfg.storage_class.clone());
        if let Some(class) = class {
            cfg.set("backup.storage.class", json!(class), "");
            v.map(&format!("{st}.storageClass"), "backup.storage.class");
        }
    }
    if let Some(res) = v.json(&format!("{c}.resources")) {
        let mut out = Map::new();
        for group in ["requests", "limits"] {
            if let Some(m) = res.get(group).and_then(Value::as_object) {
                let g: Map<String, Value> = m
                    .iter()
                    .filter(|(k, _)| *k == "cpu" || *k == "memory")
                    .map(|(k, val)| {
                        (
                            k.clone(),
                            Value::String(
                                val.as_str().map_or_else(|| val.to_string(), str::to_owned),
                            ),
                        )
                    })
                    .collect();
                if !g.is_empty() {
                    out.insert(group.into(), Value::Object(g));
                }
            }
        }
        if !out.is_empty() {
            cfg.set("backup.resources", Value::Object(out), "");
            v.map(&format!("{c}.resources"), "backup.resources");
        }
    }
    if let Some(labels) = v.string_map(&format!("{c}.labels")) {
        cfg.set("backup.pod.labels", json!(labels), "");
        v.map(&format!("{c}.labels"), "backup.pod.labels");
    }
    if let Some(ann) = v.string_map(&format!("{c}.annotations")) {
        cfg.set("backup.pod.annotations", json!(ann), "");
        v.map(&format!("{c}.annotations"), "backup.pod.annotations");
    }
    if !cfg.pull_secrets.is_empty() {
        let secrets = cfg.pull_secrets.clone();
        cfg.set("backup.pod.imagePullSecrets", json!(secrets), "");
    }
    v.general.push("the chart's job ran pg_dumpall (every database and the roles, as one SQL file); pgstate's dumps postgres.database with pg_dump -Fc and verifies it: other databases and roles need their own dump (see the runbook)".to_owned());
    if v.node(&format!("{c}.command")).is_some() {
        v.note(
            &format!("{c}.command"),
            "pgstate's backup script is fixed (dump, verify, rename, prune) and tested as the pod runs it",
            "nothing; backup.format: gzip writes plain SQL if you need it",
        );
    }
}

fn network_policy(v: &mut Values<'_>, cfg: &mut out::Config) {
    let enabled = v
        .boolean("primary.networkPolicy.enabled")
        .map(|e| (e, "primary.networkPolicy.enabled"))
        .or_else(|| {
            v.boolean("networkPolicy.enabled")
                .map(|e| (e, "networkPolicy.enabled"))
        });
    if let Some((false, from)) = enabled {
        cfg.set("networkPolicy", json!(false), "the release had none");
        v.map(from, "networkPolicy");
    } else if let Some((true, from)) = enabled {
        v.map(from, "networkPolicy (true, pgstate's default)");
    }
    if cfg.get("networkPolicy") != Some(&json!(false)) {
        v.general.push(format!(
            "pgstate's NetworkPolicy admits only the app it renders, the backup job, and pods labelled `{}-client: \"true\"`; the chart's let every pod in (allowExternal): label your app's pods before switching",
            cfg.name
        ));
    }
}

/// Chart-wide keys with rules of their own.
fn chart_wide(v: &mut Values<'_>) {
    if let Some(arch) = v.string("architecture")
        && arch == "replication"
    {
        let replicas = v.int("readReplicas.replicaCount").unwrap_or(1);
        v.note(
                "architecture",
                format!("streaming replication with {replicas} read replica(s): pgstate's statefulset target runs one instance"),
                format!("for replicas and failover switch the config to an operator: `target: cloudnativepg` with `postgres: {{replicas: {}}}` (the operator then makes the replication users, Services and the PodDisruptionBudget)", replicas + 1),
            );
    }
    v.note_if_set(
        "kubeVersion",
        "pgstate renders for Kubernetes 1.33 to 1.37",
        "nothing",
    );
    v.note_if_set(
        "clusterDomain",
        "pgstate uses short Service names, which resolve in any cluster domain",
        "nothing",
    );
    v.note_if_set(
        "commonAnnotations",
        "pgstate puts no annotation on every object",
        "use postgres.pod.annotations and service.annotations",
    );
    v.note_if_set(
        "secretAnnotations",
        "pgstate renders no Secret for an existing one",
        "annotate your Secret yourself",
    );
    v.note_if_set(
        "extraDeploy",
        "pgstate renders only its own objects",
        "apply these objects with your own manifests",
    );
    v.note_if_set(
        "postgresqlDataDir",
        "the data directory is the Bitnami image's layout",
        "nothing: the official image's is postgres.pgdata",
    );
    v.note_if_set(
        "diagnosticMode",
        "pgstate has no diagnostic mode",
        "kubectl debug the pod",
    );
    v.note_if_set(
        "global.security.allowInsecureImages",
        "it lets the chart run images other than Bitnami's; pgstate runs the official image",
        "nothing",
    );
    v.note_if_set(
        "global.compatibility.openshift.adaptSecurityContext",
        "pgstate's pods run as UID 10001",
        "on OpenShift give the namespace an SCC that allows UID 10001 (nonroot-v2)",
    );
    if v.node("serviceAccount.name").is_some()
        && v.boolean("serviceAccount.create") == Some(false)
        && let Some(sa) = v.string("serviceAccount.name")
    {
        v.note(
                "serviceAccount.name",
                format!("the release ran under the existing ServiceAccount {sa}"),
                format!("if the pods need it (e.g. for workload identity), set postgres.pod.serviceAccountName: {sa}"),
            );
    }
    v.general.push("the release ran as UID 1001; pgstate's pods run as UID/GID/fsGroup 10001: files the app shares with the database by volume (none, usually) change owner".to_owned());
}

/// The largest values file read: a values override is a few kilobytes.
const MAX_VALUES_BYTES: u64 = 1024 * 1024;

/// `pgstate init --from-bitnami VALUES.yaml [-o FILE]`: reads the values, writes the config
/// and its SQL files (nothing when anything is wrong), prints the report on stderr.
pub fn init_command(
    args: &crate::cli::InitArgs,
    stdout: &mut dyn std::io::Write,
    stderr: &mut dyn std::io::Write,
) -> Result<u8, Error> {
    use std::io::Read as _;
    let Some(path) = &args.from_bitnami else {
        return Err(Error::Usage("--from-bitnami names a values file".into()));
    };
    let shown = path.display().to_string();
    let cannot =
        |e: std::io::Error| Error::Usage(format!("cannot read the values file {shown}: {e}"));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "{shown} is not a regular file; pass the values file you give helm -f"
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_VALUES_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_VALUES_BYTES {
        return Err(Error::Usage(format!(
            "{shown} is larger than 1 MiB; a values override is small"
        )));
    }
    let text =
        String::from_utf8(bytes).map_err(|_| Error::Usage(format!("{shown} is not UTF-8 text")))?;
    use crate::config::validate::{MAX_NAME, is_dns_label};
    for (flag, value, max) in [
        ("--name", &args.name, MAX_NAME),
        ("--namespace", &args.namespace, 63),
        ("--release", &args.release, 53),
    ] {
        if let Some(v) = value
            && !(is_dns_label(v) && v.len() <= max)
        {
            return Err(Error::Usage(format!(
                "{flag} {v}: a Kubernetes name of at most {max} characters is lowercase letters, digits and '-'"
            )));
        }
    }
    let mut sources = Sources::default();
    let id = sources.add(shown.clone(), text);
    let options = Options {
        release: args.release.clone(),
        name: args.name.clone(),
        namespace: args.namespace.clone(),
    };
    let converted = convert(&sources, id, &options)?;
    let to_stdout = args.output.as_os_str() == "-";
    if to_stdout {
        if !converted.files.is_empty() {
            return Err(Error::Usage(
                "primary.initdb.scripts become SQL files beside the config: pass -o FILE".into(),
            ));
        }
        crate::output::write_stdout(stdout, converted.config.as_bytes())?;
    } else {
        let folder = crate::output::parent(&args.output);
        let targets: Vec<std::path::PathBuf> = converted
            .files
            .iter()
            .map(|(rel, _)| folder.join(rel))
            .chain(std::iter::once(args.output.clone()))
            .collect();
        if !args.force
            && let Some(existing) = targets.iter().find(|t| t.exists())
        {
            return Err(Error::Usage(format!(
                "{} exists; pass --force to overwrite it",
                existing.display()
            )));
        }
        for ((_, sql), target) in converted.files.iter().zip(&targets) {
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))?;
            }
            crate::output::write_atomic(target, sql.as_bytes())?;
        }
        crate::output::write_atomic(&args.output, converted.config.as_bytes())?;
    }
    let _ = stderr.write_all(converted.report.as_bytes());
    if !to_stdout {
        let _ = writeln!(
            stderr,
            "wrote {}{}; next: pgstate check -c {0}, then the runbook in docs/from-bitnami.md",
            args.output.display(),
            if converted.files.is_empty() {
                String::new()
            } else {
                format!(" and {} SQL file(s)", converted.files.len())
            }
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitnami_tags_give_the_official_version() {
        assert_eq!(version("17.6.0-debian-12-r4"), Some((17, Some(6))));
        assert_eq!(version("16"), Some((16, None)));
        assert_eq!(version("11.22.0"), Some((11, Some(22))));
        assert_eq!(version("latest"), None);
        assert_eq!(
            version("0.17.1-debian-12-r16"),
            None,
            "not a PostgreSQL version"
        );
    }

    #[test]
    fn fullname_follows_helm() {
        let mut sources = Sources::default();
        let id = sources.add("v.yaml", "nameOverride: db\n");
        let root = node::parse(id, sources.text(id)).expect("yaml");
        let mut v = Values {
            root: &root,
            keys: ChartKeys::load(),
            errors: Vec::new(),
            notes: Vec::new(),
            mapped: Vec::new(),
            general: Vec::new(),
        };
        assert_eq!(fullname(&mut v, Some("shop")).0.as_deref(), Some("shop-db"));
        assert_eq!(
            fullname(&mut v, Some("shopdb")).0.as_deref(),
            Some("shopdb"),
            "the release contains the name"
        );
        assert_eq!(fullname(&mut v, None).0, None);
        let long = "a".repeat(70);
        assert_eq!(fullname(&mut v, Some(&long)).0.map(|f| f.len()), Some(63));
    }

    #[test]
    fn chart_keys_know_sections_and_free_form_values() {
        let keys = ChartKeys::load();
        assert!(keys.is_section("primary"));
        assert!(keys.is_section("auth.secretKeys"));
        assert_eq!(
            keys.owner("primary.podLabels.team"),
            Some("primary.podLabels")
        );
        assert_eq!(
            keys.owner("primary.persistence.size"),
            Some("primary.persistence.size")
        );
        assert_eq!(
            keys.owner("primary.persistence.size.x"),
            None,
            "a scalar key holds no keys"
        );
        assert_eq!(keys.owner("primary.persistance"), None);
    }
}

//! The chart's keys: their defaults (`chart-keys.txt`), the keys older charts called otherwise,
//! and the walk that finds keys the chart does not have.

use std::collections::BTreeMap;

use serde_json::Value;

use super::values::to_json;
use crate::config::node::{Kind, Node};
use crate::error::{Diagnostic, closest};

/// The chart's keys and their defaults (see the file's header).
pub(super) const CHART_KEYS: &str = include_str!("chart-keys.txt");

/// Defaults and whether a key holds free-form data.
pub(super) struct ChartKeys {
    pub(super) defaults: BTreeMap<String, Value>,
}

impl ChartKeys {
    pub(super) fn load() -> ChartKeys {
        let defaults = CHART_KEYS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), serde_json::from_str(v).unwrap_or(Value::Null)))
            .collect();
        ChartKeys { defaults }
    }

    /// The chart key `path` is, or is under (a free-form key such as `primary.podLabels`).
    pub(super) fn owner(&self, path: &str) -> Option<&str> {
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
    pub(super) fn is_section(&self, path: &str) -> bool {
        let prefix = format!("{path}.");
        self.defaults
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    /// The chart keys directly under `path` ("" = the top), for "did you mean".
    pub(super) fn children(&self, path: &str) -> Vec<String> {
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

pub(super) fn free_form(v: &Value) -> bool {
    matches!(v, Value::Object(m) if m.is_empty()) || matches!(v, Value::Array(a) if a.is_empty())
}

/// Keys of the chart before 11.0, and what 11.0 calls them.
pub(super) const RENAMED_IN_11: &[(&str, &str)] = &[
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

/// The leaves of a node with their dotted paths; free-form values count as one leaf.
pub(super) fn leaves<'n>(node: &'n Node, path: &str) -> Vec<(String, &'n Node)> {
    match &node.kind {
        Kind::Map(entries) if !entries.is_empty() => entries
            .iter()
            .flat_map(|(k, v)| leaves(v, &format!("{path}.{}", k.as_str().unwrap_or_default())))
            .collect(),
        _ => vec![(path.to_owned(), node)],
    }
}

/// Whether a written value equals a chart default.
pub(super) fn same(default: &Value, node: &Node) -> bool {
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

/// Keys the chart does not have: each an error with the chart's nearest key.
pub(super) fn unknown_keys(node: &Node, path: &str, keys: &ChartKeys) -> Vec<Diagnostic> {
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
pub(super) fn generic_reason(path: &str) -> (String, String) {
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

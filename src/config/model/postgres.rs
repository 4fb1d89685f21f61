//! `postgres:`: the database, its settings, TLS and pg_hba, storage, init SQL and metrics.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AccessMode, Password, Pod, Probes, Resources, StringMap};
use crate::config::defaults;

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Postgres {
    /// The server image: a tag or `@sha256:` digest is required; `:latest` and untagged are errors.
    pub(crate) image: String,
    /// The port the server listens on and the Services expose.
    pub(crate) port: i64,
    /// The database created on first start (`POSTGRES_DB`).
    pub(crate) database: String,
    /// The database owner created on first start (`POSTGRES_USER`).
    pub(crate) user: String,
    /// Where the password comes from: exactly one of `secret` (an existing Secret, with `key`),
    /// `fromEnv` (a variable read at render time; pgstate renders Secret `<name>-credentials`) or
    /// `value` (plain text in the config; `check` warns). Default: Secret `<name>-credentials`, key
    /// `password`.
    pub(crate) password: Password,
    /// Where the data volume is mounted.
    pub(crate) mount_path: String,
    /// The data directory: a subfolder of `mountPath` (default `<mountPath>/pgdata`), so a volume's
    /// `lost+found` never blocks initdb.
    pub(crate) pgdata: Option<String>,
    /// Extra initdb arguments (`POSTGRES_INITDB_ARGS`).
    pub(crate) initdb_args: Option<String>,
    /// Extra environment variables of the server container; names pgstate sets are errors.
    pub(crate) env: StringMap,
    /// The data volume claim.
    pub(crate) storage: Storage,
    /// CPU and memory requests and limits; each value defaults on its own (requests 250m/512Mi,
    /// limits 1/1Gi), and a defaulted limit is never below your request.
    pub(crate) resources: Resources,
    /// postgresql.conf parameters, passed as `-c key=value`, e.g. `max_connections: 200`; `port`,
    /// `listen_addresses`, `data_directory` and `unix_socket_directories` are pgstate's.
    #[schemars(schema_with = "setting_values")]
    pub(crate) settings: StringMap,
    /// Settings that run commands, load code or choose files (archive_command,
    /// shared_preload_libraries with a path, ...), allowed by name; without this pgstate refuses
    /// them, and `pgstate check` reports each one allowed.
    pub(crate) allow_unsafe_settings: Vec<String>,
    /// Instances: exactly 1 with `target: statefulset` (high availability belongs to an operator
    /// target); every instance, the primary included, with an operator.
    pub(crate) replicas: i64,
    /// Startup, readiness and liveness timings; the commands are `pg_isready` over TCP.
    pub(crate) probes: Probes,
    /// Passed to the pod spec as it is.
    pub(crate) node_selector: StringMap,
    /// Passed to the pod spec; checked against the Kubernetes type, so a misspelt field is an
    /// error.
    pub tolerations: Vec<serde_json::Value>,
    /// Passed to the pod spec; checked against the Kubernetes type.
    pub(crate) affinity: Option<serde_json::Value>,
    /// topologySpreadConstraints; pgstate adds the pods' labelSelector.
    pub(crate) topology_spread: Vec<serde_json::Value>,
    /// pg_stat_statements: preloaded, and created in the database on first start.
    pub(crate) statements: bool,
    /// SQL run once, when the database is created (an empty data directory).
    pub(crate) init_sql: Option<InitSql>,
    /// A Prometheus exporter beside the database (statefulset) or the operator's own metrics.
    pub(crate) metrics: Metrics,
    /// Settings of the database pod: annotations, labels, pull secrets, priority class,
    /// service account, grace period, /dev/shm size.
    pub(crate) pod: Pod,
    /// TLS for client connections: off when absent.
    pub(crate) tls: Option<Tls>,
    /// Extra pg_hba rules, placed before pgstate's own.
    pub(crate) hba: Vec<HbaRule>,
}

/// `postgres.tls`: the server's certificate from a `kubernetes.io/tls` Secret (with `ca.crt`),
/// which pgstate can also have cert-manager issue.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Tls {
    /// The `kubernetes.io/tls` Secret with `tls.crt`, `tls.key` and `ca.crt`; default
    /// `<name>-tls`. With `issuer`, the Secret cert-manager writes.
    #[serde(default)]
    pub(crate) secret: Option<String>,
    /// Render a cert-manager Certificate for the Services' names, signed by this issuer.
    #[serde(default)]
    pub(crate) issuer: Option<Issuer>,
    /// Remote connections without TLS are refused (pg_hba `hostssl` only); default true.
    #[serde(default = "defaults::yes")]
    pub(crate) required: bool,
}

/// A cert-manager issuer: `Issuer` (in the config's namespace) or `ClusterIssuer`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Issuer {
    /// The issuer's name.
    pub(crate) name: String,
    /// `Issuer` (in the config's namespace) or `ClusterIssuer`.
    #[serde(default)]
    pub(crate) kind: IssuerKind,
    /// The API group of an external issuer; default cert-manager.io.
    #[serde(default)]
    pub(crate) group: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub(crate) enum IssuerKind {
    #[default]
    Issuer,
    ClusterIssuer,
}

impl IssuerKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            IssuerKind::Issuer => "Issuer",
            IssuerKind::ClusterIssuer => "ClusterIssuer",
        }
    }
}

/// One pg_hba rule: who may connect from where, and how they authenticate.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct HbaRule {
    #[serde(rename = "type")]
    pub(crate) kind: HbaType,
    /// A database name, or `all`.
    #[serde(default = "defaults::all")]
    pub(crate) database: String,
    /// A role name, or `all`.
    #[serde(default = "defaults::all")]
    pub(crate) user: String,
    /// An IP address range in CIDR form (10.0.0.0/8, fd00::/8), or `all`; not for `local`.
    #[serde(default)]
    pub(crate) address: Option<String>,
    pub(crate) method: HbaMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HbaType {
    Local,
    Host,
    Hostssl,
    Hostnossl,
}

impl HbaType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HbaType::Local => "local",
            HbaType::Host => "host",
            HbaType::Hostssl => "hostssl",
            HbaType::Hostnossl => "hostnossl",
        }
    }
}

/// The authentication methods a rule may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum HbaMethod {
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    Md5,
    Cert,
    Reject,
    Trust,
    Peer,
}

impl HbaMethod {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HbaMethod::ScramSha256 => "scram-sha-256",
            HbaMethod::Md5 => "md5",
            HbaMethod::Cert => "cert",
            HbaMethod::Reject => "reject",
            HbaMethod::Trust => "trust",
            HbaMethod::Peer => "peer",
        }
    }
}

/// The schema of `postgres.settings`: a map whose values are strings, numbers or booleans, as
/// the config reader takes them (`max_connections: 200` is the string "200").
fn setting_values(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "additionalProperties": {"type": ["string", "number", "boolean"]}
    })
}

/// `postgres.metrics`: a postgres_exporter container in the database pod (statefulset), or
/// the operator's PodMonitor (cloudnativepg).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct Metrics {
    /// Turn the exporter on.
    pub(crate) enabled: bool,
    /// The postgres_exporter image (tag or digest required).
    pub(crate) image: String,
    /// The exporter's port: container port and client Service port `metrics`; must differ from
    /// `postgres.port`.
    pub(crate) port: i64,
    /// Also render a prometheus-operator ServiceMonitor for the client Service's metrics port.
    pub(crate) service_monitor: bool,
    /// The exporter container's requests and limits (default requests 10m/32Mi, limits 200m/128Mi).
    pub(crate) resources: Resources,
}

/// `postgres.initSql`: a SQL string, or `{sql, files}` with files relative to the config file.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InitSql {
    pub(crate) sql: Option<String>,
    pub(crate) files: Vec<InitFile>,
}

/// One SQL file of `initSql.files`: its path as written, and its text once read.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub(crate) struct InitFile {
    pub(crate) path: String,
    #[serde(skip)]
    pub(crate) text: Option<String>,
}

impl<'de> Deserialize<'de> for InitSql {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = InitSql;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("SQL text, or a map with `sql` and/or `files`")
            }
            fn visit_str<E: serde::de::Error>(self, sql: &str) -> Result<InitSql, E> {
                Ok(InitSql {
                    sql: Some(sql.to_owned()),
                    files: Vec::new(),
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<InitSql, A::Error> {
                let mut init = InitSql::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "sql" => init.sql = Some(map.next_value()?),
                        "files" => {
                            init.files = map
                                .next_value::<Vec<String>>()?
                                .into_iter()
                                .map(|path| InitFile { path, text: None })
                                .collect();
                        }
                        other => {
                            return Err(A::Error::unknown_field(other, &["sql", "files"]));
                        }
                    }
                }
                Ok(init)
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

impl JsonSchema for InitSql {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "InitSql".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "SQL run once, when the data directory is empty: SQL text, or files relative to the config file",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "sql": {"type": "string"},
                        "files": {"type": "array", "items": {"type": "string"}}
                    }
                }
            ]
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct Storage {
    /// A Kubernetes quantity, e.g. 10Gi (`1GB` is an error that suggests `1Gi`).
    pub(crate) size: String,
    /// The StorageClass; unset = the cluster's default.
    pub(crate) class: Option<String>,
    /// The volume's access mode.
    pub(crate) access_mode: AccessMode,
    /// The claim template's name; the PVC is `<claimName>-<name>-0`.
    pub(crate) claim_name: String,
    /// Keep the PVC when the StatefulSet is deleted or scaled down
    /// (persistentVolumeClaimRetentionPolicy Retain/Retain).
    pub(crate) retain: bool,
    /// `{node, path}`: also render a local PersistentVolume on that node, pre-bound to the PVC (for
    /// clusters without a provisioner).
    pub(crate) local: Option<LocalVolume>,
}

/// A node-local disk for clusters without a dynamic provisioner.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LocalVolume {
    /// The node's name, as `kubectl get nodes` shows it.
    pub(crate) node: String,
    /// The folder on that node; it must exist.
    pub(crate) path: String,
}

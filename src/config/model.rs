//! The config file's types: what a user may write, with the defaults of the spec.
//!
//! Every struct rejects unknown keys. Defaults that depend on other values (the Secret name,
//! PGDATA, the app's name) stay `None` here and are derived once, in `render::context`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::defaults;

pub type StringMap = BTreeMap<String, String>;

/// The whole config file (one database).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Config {
    /// Base name of every object: a DNS label of at most 45 characters (`<name>-backup` is a
    /// CronJob, whose names stop at 52).
    pub name: String,
    /// The namespace of every object.
    pub namespace: String,
    /// Labels added to every object, beside pgstate's own `app.kubernetes.io/*`.
    pub labels: StringMap,
    /// What runs the database: `statefulset` (pgstate's own), `cloudnativepg` or `percona` (an
    /// operator's custom resource), or `external` (a managed database behind an ExternalName
    /// Service).
    pub target: Target,
    /// The database server.
    pub postgres: Postgres,
    /// The client Service `<name>`; the headless governing Service is `<name>-hl`.
    pub service: Service,
    /// A verified pg_dump CronJob with retention (statefulset), or the operator's backups; present
    /// = on (`backup: {}` takes every default).
    pub backup: Option<Backup>,
    /// The Deployment that uses the database, with the connection variables injected.
    pub app: Option<App>,
    /// A Redis StatefulSet beside the database; the app gets its REDIS_* variables.
    pub redis: Option<Redis>,
    /// Only the app, the backup job and pods labelled `<name>-client: "true"` reach the database
    /// port.
    pub network_policy: bool,
    /// pgBouncer in front of the database (operator targets).
    pub pooler: Option<Pooler>,
    /// The managed database outside the cluster (`target: external`).
    pub external: Option<External>,
    /// `pgstate check` settings.
    pub lint: Lint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    #[default]
    Statefulset,
    Cloudnativepg,
    Percona,
    External,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Postgres {
    /// The server image: a tag or `@sha256:` digest is required; `:latest` and untagged are errors.
    pub image: String,
    /// The port the server listens on and the Services expose.
    pub port: i64,
    /// The database created on first start (`POSTGRES_DB`).
    pub database: String,
    /// The database owner created on first start (`POSTGRES_USER`).
    pub user: String,
    /// Where the password comes from: exactly one of `secret` (an existing Secret, with `key`),
    /// `fromEnv` (a variable read at render time; pgstate renders Secret `<name>-credentials`) or
    /// `value` (plain text in the config; `check` warns). Default: Secret `<name>-credentials`, key
    /// `password`.
    pub password: Password,
    /// Where the data volume is mounted.
    pub mount_path: String,
    /// The data directory: a subfolder of `mountPath` (default `<mountPath>/pgdata`), so a volume's
    /// `lost+found` never blocks initdb.
    pub pgdata: Option<String>,
    /// Extra initdb arguments (`POSTGRES_INITDB_ARGS`).
    pub initdb_args: Option<String>,
    /// Extra environment variables of the server container; names pgstate sets are errors.
    pub env: StringMap,
    /// The data volume claim.
    pub storage: Storage,
    /// CPU and memory requests and limits; each value defaults on its own (requests 250m/512Mi,
    /// limits 1/1Gi), and a defaulted limit is never below your request.
    pub resources: Resources,
    /// postgresql.conf parameters, passed as `-c key=value`, e.g. `max_connections: 200`; `port`,
    /// `listen_addresses`, `data_directory` and `unix_socket_directories` are pgstate's.
    #[schemars(schema_with = "setting_values")]
    pub settings: StringMap,
    /// Settings that run commands, load code or choose files (archive_command,
    /// shared_preload_libraries with a path, ...), allowed by name; without this pgstate refuses
    /// them, and `pgstate check` reports each one allowed.
    pub allow_unsafe_settings: Vec<String>,
    /// Instances: exactly 1 with `target: statefulset` (high availability belongs to an operator
    /// target); every instance, the primary included, with an operator.
    pub replicas: i64,
    /// Startup, readiness and liveness timings; the commands are `pg_isready` over TCP.
    pub probes: Probes,
    /// Passed to the pod spec as it is.
    pub node_selector: StringMap,
    /// Passed to the pod spec; checked against the Kubernetes type, so a misspelt field is an
    /// error.
    pub tolerations: Vec<serde_json::Value>,
    /// Passed to the pod spec; checked against the Kubernetes type.
    pub affinity: Option<serde_json::Value>,
    /// topologySpreadConstraints; pgstate adds the pods' labelSelector.
    pub topology_spread: Vec<serde_json::Value>,
    /// pg_stat_statements: preloaded, and created in the database on first start.
    pub statements: bool,
    /// SQL run once, when the database is created (an empty data directory).
    pub init_sql: Option<InitSql>,
    /// A Prometheus exporter beside the database (statefulset) or the operator's own metrics.
    pub metrics: Metrics,
    /// Settings of the database pod: annotations, labels, pull secrets, priority class,
    /// service account, grace period, /dev/shm size.
    pub pod: Pod,
    /// TLS for client connections: off when absent.
    pub tls: Option<Tls>,
    /// Extra pg_hba rules, placed before pgstate's own.
    pub hba: Vec<HbaRule>,
}

/// `postgres.tls`: the server's certificate from a `kubernetes.io/tls` Secret (with `ca.crt`),
/// which pgstate can also have cert-manager issue.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tls {
    /// The `kubernetes.io/tls` Secret with `tls.crt`, `tls.key` and `ca.crt`; default
    /// `<name>-tls`. With `issuer`, the Secret cert-manager writes.
    #[serde(default)]
    pub secret: Option<String>,
    /// Render a cert-manager Certificate for the Services' names, signed by this issuer.
    #[serde(default)]
    pub issuer: Option<Issuer>,
    /// Remote connections without TLS are refused (pg_hba `hostssl` only); default true.
    #[serde(default = "defaults::yes")]
    pub required: bool,
}

/// A cert-manager issuer: `Issuer` (in the config's namespace) or `ClusterIssuer`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Issuer {
    /// The issuer's name.
    pub name: String,
    /// `Issuer` (in the config's namespace) or `ClusterIssuer`.
    #[serde(default)]
    pub kind: IssuerKind,
    /// The API group of an external issuer; default cert-manager.io.
    #[serde(default)]
    pub group: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum IssuerKind {
    #[default]
    Issuer,
    ClusterIssuer,
}

impl IssuerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerKind::Issuer => "Issuer",
            IssuerKind::ClusterIssuer => "ClusterIssuer",
        }
    }
}

/// One pg_hba rule: who may connect from where, and how they authenticate.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HbaRule {
    #[serde(rename = "type")]
    pub kind: HbaType,
    /// A database name, or `all`.
    #[serde(default = "defaults::all")]
    pub database: String,
    /// A role name, or `all`.
    #[serde(default = "defaults::all")]
    pub user: String,
    /// An IP address range in CIDR form (10.0.0.0/8, fd00::/8), or `all`; not for `local`.
    #[serde(default)]
    pub address: Option<String>,
    pub method: HbaMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HbaType {
    Local,
    Host,
    Hostssl,
    Hostnossl,
}

impl HbaType {
    pub fn as_str(self) -> &'static str {
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
pub enum HbaMethod {
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    Md5,
    Cert,
    Reject,
    Trust,
    Peer,
}

impl HbaMethod {
    pub fn as_str(self) -> &'static str {
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

/// Pod settings a cluster's policies ask for, on the database pod (`postgres.pod`), the
/// backup and restore pods (`backup.pod`) and the app's pods (`app.pod`). Everything is
/// optional; the hardening (no privilege, read-only root, seccomp) stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Pod {
    /// Added to the pod template's annotations (e.g. a log shipper's or a mesh's).
    pub annotations: StringMap,
    /// Added to the pod template's labels; the selector's labels are pgstate's.
    pub labels: StringMap,
    /// Secrets of type kubernetes.io/dockerconfigjson to pull the images with, by name.
    pub image_pull_secrets: Vec<String>,
    /// A PriorityClass that exists in the cluster, e.g. a high one for the database.
    pub priority_class_name: Option<String>,
    /// An existing ServiceAccount; default: the namespace's `default`.
    pub service_account_name: Option<String>,
    /// Mount the service account's API token; off unless asked (the pods never call the API).
    pub automount_service_account_token: Option<bool>,
    /// Seconds a stopping pod gets before it is killed; database default 60 (a fast
    /// shutdown gets all of it but 10 s), Kubernetes' 30 elsewhere.
    pub termination_grace_period_seconds: Option<i64>,
    /// Size of the in-memory /dev/shm of the database pod (PostgreSQL's parallel queries use
    /// it); default 256Mi. It counts against the memory limit.
    pub shm_size: Option<String>,
}

/// The JSON Schema of a config file, for editors and CI: the types' schema, plus
/// `environments` (taken out before the config is typed, so not a field of [`Config`]): a map
/// from an environment's name to the keys it changes, each a part of a config.
pub fn schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default();
    plain_scalars_as_text(&mut schema);
    if let Some(properties) = schema
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut)
    {
        properties.insert(
            "environments".into(),
            serde_json::json!({
                "description": "Environment name -> the keys it changes, merged over the config when chosen with --env",
                "type": ["object", "null"],
                "additionalProperties": {"type": ["object", "null"]}
            }),
        );
    }
    schema
}

/// The reader takes a number or a boolean where it wants text (`env: {WORKERS: 4}` is the
/// string "4"), as YAML users expect: so does the schema, or editors would flag a config
/// pgstate accepts. Strings with a fixed set of values (enums) stay strings.
fn plain_scalars_as_text(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(serde_json::Value::as_str) == Some("string")
                && !map.contains_key("enum")
                && !map.contains_key("const")
            {
                map.insert(
                    "type".into(),
                    serde_json::json!(["string", "number", "boolean"]),
                );
            }
            if let Some(types) = map
                .get_mut("type")
                .and_then(serde_json::Value::as_array_mut)
                && types.iter().any(|t| t == "string")
                && !types.iter().any(|t| t == "number")
            {
                types.extend([serde_json::json!("number"), serde_json::json!("boolean")]);
            }
            for value in map.values_mut() {
                plain_scalars_as_text(value);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(plain_scalars_as_text),
        _ => {}
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
pub struct Metrics {
    /// Turn the exporter on.
    pub enabled: bool,
    /// The postgres_exporter image (tag or digest required).
    pub image: String,
    /// The exporter's port: container port and client Service port `metrics`; must differ from
    /// `postgres.port`.
    pub port: i64,
    /// Also render a prometheus-operator ServiceMonitor for the client Service's metrics port.
    pub service_monitor: bool,
    /// The exporter container's requests and limits (default requests 10m/32Mi, limits 200m/128Mi).
    pub resources: Resources,
}

/// `postgres.initSql`: a SQL string, or `{sql, files}` with files relative to the config file.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitSql {
    pub sql: Option<String>,
    pub files: Vec<InitFile>,
}

/// One SQL file of `initSql.files`: its path as written, and its text once read.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct InitFile {
    pub path: String,
    #[serde(skip)]
    pub text: Option<String>,
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

/// Where the password comes from: exactly one of `secret`, `fromEnv`, `value`. `fromEnv` reads
/// a variable starting with PGSTATE_, or one the command line allows with `--allow-env NAME`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Password {
    /// An existing Secret that holds the password.
    pub secret: Option<String>,
    /// The key of that Secret (default `password`).
    pub key: Option<String>,
    /// An environment variable read at render time; pgstate renders the Secret with its value.
    pub from_env: Option<String>,
    /// The password in plain text (allowed, but `pgstate check` warns: PGS001).
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Storage {
    /// A Kubernetes quantity, e.g. 10Gi (`1GB` is an error that suggests `1Gi`).
    pub size: String,
    /// The StorageClass; unset = the cluster's default.
    pub class: Option<String>,
    /// The volume's access mode.
    pub access_mode: AccessMode,
    /// The claim template's name; the PVC is `<claimName>-<name>-0`.
    pub claim_name: String,
    /// Keep the PVC when the StatefulSet is deleted or scaled down
    /// (persistentVolumeClaimRetentionPolicy Retain/Retain).
    pub retain: bool,
    /// `{node, path}`: also render a local PersistentVolume on that node, pre-bound to the PVC (for
    /// clusters without a provisioner).
    pub local: Option<LocalVolume>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum AccessMode {
    #[default]
    ReadWriteOnce,
    ReadWriteOncePod,
    ReadWriteMany,
    ReadOnlyMany,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
        }
    }
}

/// A node-local disk for clusters without a dynamic provisioner.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LocalVolume {
    /// The node's name, as `kubectl get nodes` shows it.
    pub node: String,
    /// The folder on that node; it must exist.
    pub path: String,
}

/// CPU and memory; each unset value falls back to its default on its own.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Resources {
    /// What the scheduler reserves.
    pub requests: ResourceList,
    /// What the container may use at most.
    pub limits: ResourceList,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ResourceList {
    /// A CPU quantity, e.g. 250m or 1.
    pub cpu: Option<String>,
    /// A memory quantity, e.g. 512Mi.
    pub memory: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Probes {
    /// When the pod gets traffic (default every 5 s).
    pub readiness: ProbeTiming,
    /// When the container is restarted (default every 10 s).
    pub liveness: ProbeTiming,
    /// How long initdb or crash recovery may take before the other probes start (default 5
    /// minutes).
    pub startup: ProbeTiming,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ProbeTiming {
    /// Seconds before the first probe.
    pub initial_delay_seconds: Option<i64>,
    /// Seconds between probes.
    pub period_seconds: Option<i64>,
    /// Seconds a probe may take.
    pub timeout_seconds: Option<i64>,
    /// Failures in a row that count.
    pub failure_threshold: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Service {
    /// ClusterIP, NodePort or LoadBalancer (`check` warns about the last two: PGS010).
    #[serde(rename = "type")]
    pub kind: ServiceType,
    /// Annotations of the client Service (e.g. for a cloud load balancer).
    pub annotations: StringMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// Present = enabled: a CronJob that dumps, verifies, and keeps the newest `keep` dumps.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Backup {
    /// When: a 5-field cron expression or @daily, @hourly, ...; checked field by field.
    pub schedule: String,
    /// The CronJob's time zone, an IANA name such as Europe/Berlin; default the cluster's (UTC).
    pub time_zone: Option<String>,
    /// How many dumps are kept (the newest); older ones are pruned only after a verified dump.
    pub keep: i64,
    /// `custom` (pg_dump -Fc, for pg_restore) or `gzip` (plain SQL, gzipped).
    pub format: BackupFormat,
    /// The backup job's image; default `postgres.image` (a pg_dump older than the server refuses to
    /// run).
    pub image: Option<String>,
    /// The backup volume.
    pub storage: BackupStorage,
    /// The backup job's requests and limits.
    pub resources: Resources,
    /// Object storage: the operator targets back up there; the statefulset target uploads each
    /// verified dump there too, and keeps the newest `keep` in the bucket as well.
    pub s3: Option<S3>,
    /// How dumps of `format: custom` are compressed: auto = zstd when the backup image's client
    /// is PostgreSQL 16 or newer, else gzip. `format: gzip` is always gzip.
    pub compression: Compression,
    /// A CronJob that restores the newest dump into a scratch database, checks it and drops it.
    pub drill: Option<Drill>,
    /// pgBackRest full backups (`target: percona`); default: `schedule`.
    pub full: Option<String>,
    /// pgBackRest differential backups (`target: percona`).
    pub differential: Option<String>,
    /// Settings of the backup CronJob's and the restore Job's pods.
    pub pod: Pod,
}

/// A bucket for the backups, and the Secret with its credentials.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct S3 {
    /// The bucket's name, as S3 allows it (3-63 characters: a-z, 0-9, `.` and `-`).
    pub bucket: String,
    /// The S3 endpoint: an https URL (statefulset, cloudnativepg) or a host (percona);
    /// default AWS.
    pub endpoint: Option<String>,
    /// The bucket's region, e.g. eu-central-1; default us-east-1 (statefulset target).
    pub region: Option<String>,
    /// The Secret with the credentials: keys ACCESS_KEY_ID and ACCESS_SECRET_KEY (statefulset,
    /// cloudnativepg; percona reads pgBackRest's s3.conf from it).
    pub secret: String,
    /// The folder in the bucket; default: the config's `name`.
    pub prefix: Option<String>,
    /// The former name of `prefix`; still read.
    pub path: Option<String>,
    /// Allow an `http://` endpoint (an object store inside the cluster); default false.
    #[serde(default)]
    pub allow_http: bool,
    /// The uploader's image (statefulset target): rclone, pinned; default rclone/rclone:1.60.1.
    pub image: Option<String>,
}

/// The drill: restore the newest dump into a scratch database on a schedule, and check it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Drill {
    /// 5-field cron or @daily/@weekly/...; e.g. "0 5 * * 0" for 05:00 on Sundays.
    pub schedule: String,
}

/// How a custom-format dump is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// zstd with a PostgreSQL 16 or newer client, gzip with an older one.
    #[default]
    Auto,
    Gzip,
    /// Needs a PostgreSQL 16 or newer client in the backup image.
    Zstd,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Auto => "auto",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// pgBouncer in front of the database.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Pooler {
    /// pgBouncer instances.
    pub replicas: i64,
    /// `session` (the default) or `transaction` pooling.
    pub mode: PoolMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum PoolMode {
    #[default]
    Session,
    Transaction,
}

impl PoolMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        }
    }
}

/// A database outside the cluster, reached through an ExternalName Service.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct External {
    /// Its DNS name, e.g. shop.abc123.eu-central-1.rds.amazonaws.com.
    pub host: String,
    /// Default: `postgres.port`.
    pub port: Option<i64>,
    /// libpq's sslmode for the app (default `require`): `DB_SSLMODE` and `?sslmode=` in
    /// `DATABASE_URL`.
    #[serde(default)]
    pub ssl_mode: SslMode,
}

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    #[default]
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackupFormat {
    #[default]
    Custom,
    Gzip,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct BackupStorage {
    /// The backup volume's size (default 5Gi).
    pub size: String,
    /// Its StorageClass; unset = the cluster's default.
    pub class: Option<String>,
    /// An existing PVC to write the dumps to, instead of `<name>-backup`.
    pub claim: Option<String>,
}

/// A Redis beside the database: one instance, its data on a volume, a password always.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Redis {
    /// The official image or one like it, with a tag or digest, e.g. redis:7.4-alpine.
    pub image: String,
    /// The port Redis listens on and its Service exposes.
    #[serde(default = "defaults::redis_port")]
    pub port: i64,
    /// Exactly one of secret, fromEnv, value; by default Secret `<name>-redis`, key password.
    #[serde(default)]
    pub password: Password,
    /// The data volume (claim `data-<name>-redis-0`).
    #[serde(default)]
    pub storage: RedisStorage,
    /// Redis's memory cap, in Redis units (512mb, 1gb, 100000000); by default three quarters
    /// of the memory limit.
    #[serde(default)]
    pub max_memory: Option<String>,
    /// What Redis does at maxMemory: noeviction (writes fail; the default), allkeys-lru, ...
    #[serde(default)]
    pub eviction_policy: Option<String>,
    /// The append-only file: every write logged, replayed on start.
    #[serde(default = "defaults::yes")]
    pub append_only: bool,
    /// Requests and limits (default requests 100m/256Mi, limits 1/1Gi).
    #[serde(default)]
    pub resources: Resources,
    /// Startup, readiness and liveness timings; the command is an authenticated `redis-cli ping`.
    #[serde(default)]
    pub probes: Probes,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct RedisStorage {
    /// A Kubernetes quantity (default 1Gi).
    pub size: String,
    /// The StorageClass; unset = the cluster's default.
    pub class: Option<String>,
    /// The volume's access mode.
    pub access_mode: AccessMode,
    /// Keep the PVC when the StatefulSet is deleted or scaled down.
    pub retain: bool,
}

/// The Deployment that uses the database.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct App {
    /// The Deployment's name (default `<name>-app`).
    pub name: Option<String>,
    /// The app's own login role (statefulset target): owns `postgres.database`, is no
    /// superuser, cannot create roles or databases or reach other databases. Its password is
    /// the key `app-password` of the credentials Secret. Default `<database>_app`.
    #[serde(default)]
    pub role: Option<String>,
    /// The app role's password when pgstate renders the credentials Secret (the database
    /// password is `fromEnv` or `value`): `fromEnv` or `value`. With `password.secret`, the
    /// app's password is that Secret's key `app-password`.
    #[serde(default)]
    pub password: Option<Password>,
    /// The app's image: required, with a tag or digest.
    pub image: String,
    /// The app's replicas; `replicas x poolSize + 10` must fit in `max_connections` (default 100).
    #[serde(default = "defaults::two")]
    pub replicas: i64,
    /// The port the app listens on.
    #[serde(default = "defaults::app_port")]
    pub port: i64,
    /// Connections each replica opens; checked against `max_connections`.
    #[serde(default = "defaults::ten")]
    pub pool_size: i64,
    /// Extra environment variables (literal values; `$` is kept as it is).
    #[serde(default)]
    pub env: StringMap,
    /// The names of the injected connection variables; rename them to match the app.
    #[serde(default)]
    pub connection_env: ConnectionEnv,
    /// Requests and limits (default requests 100m/256Mi, limits 1/512Mi).
    #[serde(default)]
    pub resources: Resources,
    /// HTTP path for readiness/liveness probes; without it the probes open the TCP port.
    #[serde(default)]
    pub health_path: Option<String>,
    /// The app's UID (default 10001): the app is hardened like the database.
    #[serde(default = "defaults::app_uid")]
    pub run_as_user: i64,
    /// Relax this if the app's image writes outside its volumes.
    #[serde(default = "defaults::yes")]
    pub read_only_root_filesystem: bool,
    /// Settings of the app's pods.
    #[serde(default)]
    pub pod: Pod,
}

/// The names of the variables the app gets.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct ConnectionEnv {
    /// The database's host.
    pub host: String,
    /// The database's port.
    pub port: String,
    /// The database's name.
    pub database: String,
    /// The user.
    pub user: String,
    /// The password, from the Secret (secretKeyRef), never a literal.
    pub password: String,
    /// `postgresql://user:password@host:port/database`, composed by Kubernetes from the other
    /// variables; null to omit.
    #[serde(default = "defaults::database_url")]
    pub url: Option<String>,
    /// libpq's sslmode, set for `target: external` and with `postgres.tls`.
    pub ssl_mode: String,
    /// The CA file's path (with `postgres.tls`), for libpq's sslrootcert.
    pub ssl_root_cert: String,
    /// Redis's host (with `redis:`).
    pub redis_host: String,
    /// Redis's port (with `redis:`).
    pub redis_port: String,
    /// Redis's password, from its Secret (with `redis:`).
    pub redis_password: String,
    /// `redis://:password@host:port/0`, composed by Kubernetes (with `redis:`); null to omit.
    #[serde(default = "defaults::redis_url")]
    pub redis_url: Option<String>,
}

/// `pgstate check` settings: findings allowed on purpose.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Lint {
    /// Finding ids allowed in this config: a list (`[PGS005]`), or a map from id to the reason
    /// (`{PGS005: "a throwaway test cluster"}`).
    pub allow: Allowed,
}

/// Allowed finding ids, each with its reason when one was given.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Allowed(pub BTreeMap<String, Option<String>>);

impl<'de> Deserialize<'de> for Allowed {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Allowed;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of finding ids or a map from id to reason")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Allowed, A::Error> {
                let mut ids = BTreeMap::new();
                while let Some(id) = seq.next_element::<String>()? {
                    ids.insert(id, None);
                }
                Ok(Allowed(ids))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Allowed, A::Error> {
                let mut ids = BTreeMap::new();
                while let Some((id, reason)) = map.next_entry::<String, String>()? {
                    ids.insert(id, Some(reason));
                }
                Ok(Allowed(ids))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

impl JsonSchema for Allowed {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Allowed".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Finding ids (PGS001...) allowed on purpose, as a list or as a map from id to the reason",
            "anyOf": [
                {"type": "array", "items": {"type": "string", "pattern": "^PGS[0-9]{3}$"}},
                {"type": "object", "propertyNames": {"pattern": "^PGS[0-9]{3}$"}, "additionalProperties": {"type": "string"}}
            ]
        })
    }
}

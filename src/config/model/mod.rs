//! The config file's types: what a user may write, with the defaults of the spec.
//!
//! Every struct rejects unknown keys. Defaults that depend on other values (the Secret name,
//! PGDATA, the app's name) stay `None` here and are derived once, in `render::context`.
//! The top level and the types several sections share are here; each section with its own
//! types has a module (postgres, backup, redis, app); schema.rs makes the JSON Schema.

mod app;
mod backup;
mod postgres;
mod redis;
mod schema;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) use app::{App, ConnectionEnv};
pub(crate) use backup::Backup;
pub(crate) use backup::{BackupFormat, BackupStorage, Compression, S3};
pub(crate) use postgres::{
    HbaMethod, HbaRule, HbaType, InitSql, LocalVolume, Metrics, Postgres, Storage,
};
pub(crate) use redis::{Redis, RedisStorage};
pub(crate) use schema::{SCHEMA_LINE, schema};

pub(crate) type StringMap = BTreeMap<String, String>;

/// The whole config file (one database).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Config {
    /// Base name of every object: a DNS label of at most 45 characters (`<name>-backup` is a
    /// CronJob, whose names stop at 52).
    pub(crate) name: String,
    /// The namespace of every object.
    pub(crate) namespace: String,
    /// Labels added to every object, beside pgstate's own `app.kubernetes.io/*`.
    pub(crate) labels: StringMap,
    /// What runs the database: `statefulset` (pgstate's own), `cloudnativepg` or `percona` (an
    /// operator's custom resource), or `external` (a managed database behind an ExternalName
    /// Service).
    pub(crate) target: Target,
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
    pub(crate) redis: Option<Redis>,
    /// Only the app, the backup job and pods labelled `<name>-client: "true"` reach the database
    /// port.
    pub(crate) network_policy: bool,
    /// pgBouncer in front of the database (operator targets).
    pub(crate) pooler: Option<Pooler>,
    /// The managed database outside the cluster (`target: external`).
    pub(crate) external: Option<External>,
    /// `pgstate check` settings.
    pub(crate) lint: Lint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Target {
    #[default]
    Statefulset,
    Cloudnativepg,
    Percona,
    External,
}

/// Pod settings a cluster's policies ask for, on the database pod (`postgres.pod`), the
/// backup and restore pods (`backup.pod`) and the app's pods (`app.pod`). Everything is
/// optional; the hardening (no privilege, read-only root, seccomp) stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct Pod {
    /// Added to the pod template's annotations (e.g. a log shipper's or a mesh's).
    pub(crate) annotations: StringMap,
    /// Added to the pod template's labels; the selector's labels are pgstate's.
    pub(crate) labels: StringMap,
    /// Secrets of type kubernetes.io/dockerconfigjson to pull the images with, by name.
    pub(crate) image_pull_secrets: Vec<String>,
    /// A PriorityClass that exists in the cluster, e.g. a high one for the database.
    pub(crate) priority_class_name: Option<String>,
    /// An existing ServiceAccount; default: the namespace's `default`.
    pub(crate) service_account_name: Option<String>,
    /// Mount the service account's API token; off unless asked (the pods never call the API).
    pub(crate) automount_service_account_token: Option<bool>,
    /// Seconds a stopping pod gets before it is killed; database default 60 (a fast
    /// shutdown gets all of it but 10 s), Kubernetes' 30 elsewhere.
    pub(crate) termination_grace_period_seconds: Option<i64>,
    /// Size of the in-memory /dev/shm of the database pod (PostgreSQL's parallel queries use
    /// it); default 256Mi. It counts against the memory limit.
    pub(crate) shm_size: Option<String>,
}

/// Where the password comes from: exactly one of `secret`, `fromEnv`, `value`. `fromEnv` reads
/// a variable starting with PGSTATE_, or one the command line allows with `--allow-env NAME`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Password {
    /// An existing Secret that holds the password.
    pub(crate) secret: Option<String>,
    /// The key of that Secret (default `password`).
    pub(crate) key: Option<String>,
    /// An environment variable read at render time; pgstate renders the Secret with its value.
    pub(crate) from_env: Option<String>,
    /// The password in plain text (allowed, but `pgstate check` warns: PGS001).
    pub(crate) value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[expect(
    clippy::enum_variant_names,
    reason = "the variants are Kubernetes' access mode names, as written in a config"
)]
pub(crate) enum AccessMode {
    #[default]
    ReadWriteOnce,
    ReadWriteOncePod,
    ReadWriteMany,
    ReadOnlyMany,
}

impl AccessMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
        }
    }
}

/// CPU and memory; each unset value falls back to its default on its own.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct Resources {
    /// What the scheduler reserves.
    pub(crate) requests: ResourceList,
    /// What the container may use at most.
    pub(crate) limits: ResourceList,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct ResourceList {
    /// A CPU quantity, e.g. 250m or 1.
    pub(crate) cpu: Option<String>,
    /// A memory quantity, e.g. 512Mi.
    pub(crate) memory: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct Probes {
    /// When the pod gets traffic (default every 5 s).
    pub(crate) readiness: ProbeTiming,
    /// When the container is restarted (default every 10 s).
    pub(crate) liveness: ProbeTiming,
    /// How long initdb or crash recovery may take before the other probes start (default 5
    /// minutes).
    pub(crate) startup: ProbeTiming,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct ProbeTiming {
    /// Seconds before the first probe.
    pub(crate) initial_delay_seconds: Option<i64>,
    /// Seconds between probes.
    pub(crate) period_seconds: Option<i64>,
    /// Seconds a probe may take.
    pub(crate) timeout_seconds: Option<i64>,
    /// Failures in a row that count.
    pub(crate) failure_threshold: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Service {
    /// ClusterIP, NodePort or LoadBalancer (`check` warns about the last two: PGS010).
    #[serde(rename = "type")]
    pub(crate) kind: ServiceType,
    /// Annotations of the client Service (e.g. for a cloud load balancer).
    pub annotations: StringMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
pub(crate) enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

/// pgBouncer in front of the database.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct Pooler {
    /// pgBouncer instances.
    pub(crate) replicas: i64,
    /// `session` (the default) or `transaction` pooling.
    pub(crate) mode: PoolMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PoolMode {
    #[default]
    Session,
    Transaction,
}

impl PoolMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        }
    }
}

/// A database outside the cluster, reached through an ExternalName Service.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct External {
    /// Its DNS name, e.g. shop.abc123.eu-central-1.rds.amazonaws.com.
    pub(crate) host: String,
    /// Default: `postgres.port`.
    pub(crate) port: Option<i64>,
    /// libpq's sslmode for the app (default `require`): `DB_SSLMODE` and `?sslmode=` in
    /// `DATABASE_URL`.
    #[serde(default)]
    pub(crate) ssl_mode: SslMode,
}

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SslMode {
    Disable,
    Allow,
    Prefer,
    #[default]
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub(crate) fn as_str(self) -> &'static str {
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

/// `pgstate check` settings: findings allowed on purpose.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct Lint {
    /// Finding ids allowed in this config: a list (`[PGS005]`), or a map from id to the reason
    /// (`{PGS005: "a throwaway test cluster"}`).
    pub(crate) allow: Allowed,
}

/// Allowed finding ids, each with its reason when one was given.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Allowed(pub(crate) BTreeMap<String, Option<String>>);

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

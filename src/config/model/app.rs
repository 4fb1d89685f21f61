//! `app:`: the application that uses the database, and the variables it gets.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Password, Pod, Resources, StringMap};
use crate::config::defaults;

/// The Deployment that uses the database.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct App {
    /// The Deployment's name (default `<name>-app`).
    pub(crate) name: Option<String>,
    /// The app's own login role (statefulset target): owns `postgres.database`, is no
    /// superuser, cannot create roles or databases or reach other databases. Its password is
    /// the key `app-password` of the credentials Secret. Default `<database>_app`.
    #[serde(default)]
    pub(crate) role: Option<String>,
    /// The app role's password when pgstate renders the credentials Secret (the database
    /// password is `fromEnv` or `value`): `fromEnv` or `value`. With `password.secret`, the
    /// app's password is that Secret's key `app-password`.
    #[serde(default)]
    pub(crate) password: Option<Password>,
    /// The app's image: required, with a tag or digest.
    pub(crate) image: String,
    /// The app's replicas; `replicas x poolSize + 10` must fit in `max_connections` (default 100).
    #[serde(default = "defaults::two")]
    pub(crate) replicas: i64,
    /// The port the app listens on.
    #[serde(default = "defaults::app_port")]
    pub(crate) port: i64,
    /// Connections each replica opens; checked against `max_connections`.
    #[serde(default = "defaults::ten")]
    pub(crate) pool_size: i64,
    /// Extra environment variables (literal values; `$` is kept as it is).
    #[serde(default)]
    pub env: StringMap,
    /// The names of the injected connection variables; rename them to match the app.
    #[serde(default)]
    pub(crate) connection_env: ConnectionEnv,
    /// Requests and limits (default requests 100m/256Mi, limits 1/512Mi).
    #[serde(default)]
    pub(crate) resources: Resources,
    /// HTTP path for readiness/liveness probes; without it the probes open the TCP port.
    #[serde(default)]
    pub(crate) health_path: Option<String>,
    /// The app's UID (default 10001): the app is hardened like the database.
    #[serde(default = "defaults::app_uid")]
    pub(crate) run_as_user: i64,
    /// Relax this if the app's image writes outside its volumes.
    #[serde(default = "defaults::yes")]
    pub(crate) read_only_root_filesystem: bool,
    /// Settings of the app's pods.
    #[serde(default)]
    pub(crate) pod: Pod,
}

/// The names of the variables the app gets.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct ConnectionEnv {
    /// The database's host.
    pub(crate) host: String,
    /// The database's port.
    pub(crate) port: String,
    /// The database's name.
    pub(crate) database: String,
    /// The user.
    pub(crate) user: String,
    /// The password, from the Secret (secretKeyRef), never a literal.
    pub(crate) password: String,
    /// `postgresql://user:password@host:port/database`, composed by Kubernetes from the other
    /// variables; null to omit.
    #[serde(default = "defaults::database_url")]
    pub(crate) url: Option<String>,
    /// libpq's sslmode, set for `target: external` and with `postgres.tls`.
    pub(crate) ssl_mode: String,
    /// The CA file's path (with `postgres.tls`), for libpq's sslrootcert.
    pub(crate) ssl_root_cert: String,
    /// Redis's host (with `redis:`).
    pub(crate) redis_host: String,
    /// Redis's port (with `redis:`).
    pub(crate) redis_port: String,
    /// Redis's password, from its Secret (with `redis:`).
    pub(crate) redis_password: String,
    /// `redis://:password@host:port/0`, composed by Kubernetes (with `redis:`); null to omit.
    #[serde(default = "defaults::redis_url")]
    pub(crate) redis_url: Option<String>,
}

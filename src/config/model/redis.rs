//! `redis:`: a Redis beside the database.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AccessMode, Password, Probes, Resources};
use crate::config::defaults;

/// A Redis beside the database: one instance, its data on a volume, a password always.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Redis {
    /// The official image or one like it, with a tag or digest, e.g. redis:7.4-alpine.
    pub(crate) image: String,
    /// The port Redis listens on and its Service exposes.
    #[serde(default = "defaults::redis_port")]
    pub(crate) port: i64,
    /// Exactly one of secret, fromEnv, value; by default Secret `<name>-redis`, key password.
    #[serde(default)]
    pub(crate) password: Password,
    /// The data volume (claim `data-<name>-redis-0`).
    #[serde(default)]
    pub(crate) storage: RedisStorage,
    /// Redis's memory cap, in Redis units (512mb, 1gb, 100000000); by default three quarters
    /// of the memory limit.
    #[serde(default)]
    pub(crate) max_memory: Option<String>,
    /// What Redis does at maxMemory: noeviction (writes fail; the default), allkeys-lru, ...
    #[serde(default)]
    pub(crate) eviction_policy: Option<String>,
    /// The append-only file: every write logged, replayed on start.
    #[serde(default = "defaults::yes")]
    pub(crate) append_only: bool,
    /// Requests and limits (default requests 100m/256Mi, limits 1/1Gi).
    #[serde(default)]
    pub(crate) resources: Resources,
    /// Startup, readiness and liveness timings; the command is an authenticated `redis-cli ping`.
    #[serde(default)]
    pub(crate) probes: Probes,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct RedisStorage {
    /// A Kubernetes quantity (default 1Gi).
    pub(crate) size: String,
    /// The StorageClass; unset = the cluster's default.
    pub(crate) class: Option<String>,
    /// The volume's access mode.
    pub(crate) access_mode: AccessMode,
    /// Keep the PVC when the StatefulSet is deleted or scaled down.
    pub(crate) retain: bool,
}

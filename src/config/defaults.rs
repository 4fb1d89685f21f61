//! Every default pgstate applies, in one place: the values a missing key takes (the serde
//! defaults of `model`), the containers' resource defaults and the pods' timings.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{
    AccessMode, Backup, BackupFormat, BackupStorage, Compression, Config, ConnectionEnv, Lint,
    Metrics, Password, Pod, PoolMode, Pooler, Postgres, Probes, RedisStorage, Resources, Service,
    Storage, StringMap, Target,
};
use super::units::parse_quantity;

/// PostgreSQL's own default.
pub(crate) const DEFAULT_MAX_CONNECTIONS: i64 = 100;

/// The image of the exporter sidecar: the prometheus-community postgres_exporter release.
pub(crate) const EXPORTER_IMAGE: &str = "quay.io/prometheuscommunity/postgres-exporter:v0.20.1";

/// The grace period of the database pod unless `postgres.pod` sets one: the preStop fast
/// shutdown gets all of it but [`STOP_MARGIN`] seconds.
pub(crate) const DATABASE_GRACE_SECONDS: i64 = 60;
pub(crate) const STOP_MARGIN: i64 = 10;
/// The size of the database pod's in-memory /dev/shm unless `postgres.pod.shmSize` sets one.
pub(crate) const SHM_SIZE: &str = "256Mi";

/// Defaults for one container's resources.
pub(crate) struct ResourceDefaults {
    pub(crate) cpu_request: &'static str,
    pub(crate) memory_request: &'static str,
    pub(crate) cpu_limit: &'static str,
    pub(crate) memory_limit: &'static str,
}

/// Defaults in the order a container spec reads them: CPU and memory requests, then limits.
const fn resources(
    cpu_request: &'static str,
    memory_request: &'static str,
    cpu_limit: &'static str,
    memory_limit: &'static str,
) -> ResourceDefaults {
    ResourceDefaults {
        cpu_request,
        memory_request,
        cpu_limit,
        memory_limit,
    }
}

pub(crate) const POSTGRES_RESOURCES: ResourceDefaults = resources("250m", "512Mi", "1", "1Gi");
pub(crate) const APP_RESOURCES: ResourceDefaults = resources("100m", "256Mi", "1", "512Mi");
pub(crate) const REDIS_RESOURCES: ResourceDefaults = resources("100m", "256Mi", "1", "1Gi");
/// The exporter: a small Go process that runs a few queries per scrape.
pub(crate) const METRICS_RESOURCES: ResourceDefaults = resources("10m", "32Mi", "200m", "128Mi");
pub(crate) const JOB_RESOURCES: ResourceDefaults = resources("100m", "256Mi", "1", "1Gi");

/// Fills unset requests and limits. A defaulted limit is never below the request the user set.
pub(crate) fn resolve_resources(res: &Resources, d: &ResourceDefaults) -> ResolvedResources {
    let pick =
        |set: &Option<String>, default: &str| set.clone().unwrap_or_else(|| default.to_owned());
    let cpu_request = pick(&res.requests.cpu, d.cpu_request);
    let memory_request = pick(&res.requests.memory, d.memory_request);
    let at_least = |limit: &Option<String>, default: &str, request: &str| match limit {
        Some(l) => l.clone(),
        None => match (parse_quantity(default), parse_quantity(request)) {
            (Some(def), Some(req)) if req > def => request.to_owned(),
            _ => default.to_owned(),
        },
    };
    let cpu_limit = at_least(&res.limits.cpu, d.cpu_limit, &cpu_request);
    let memory_limit = at_least(&res.limits.memory, d.memory_limit, &memory_request);
    ResolvedResources {
        requests: BTreeMap::from([
            ("cpu".into(), cpu_request),
            ("memory".into(), memory_request),
        ]),
        limits: BTreeMap::from([("cpu".into(), cpu_limit), ("memory".into(), memory_limit)]),
    }
}

/// A container's requests and limits with every default filled in.
#[derive(Debug, Serialize)]
pub(crate) struct ResolvedResources {
    pub(crate) requests: BTreeMap<String, String>,
    pub(crate) limits: BTreeMap<String, String>,
}

// The defaults of the config's sections (`#[serde(default)]` takes these).

impl Default for Config {
    fn default() -> Self {
        Config {
            name: "postgresql".into(),
            namespace: "default".into(),
            labels: StringMap::new(),
            target: Target::Statefulset,
            postgres: Postgres::default(),
            service: Service::default(),
            backup: None,
            app: None,
            redis: None,
            network_policy: true,
            pooler: None,
            external: None,
            lint: Lint::default(),
        }
    }
}

impl Default for Postgres {
    fn default() -> Self {
        Postgres {
            image: "postgres:17".into(),
            port: 5432,
            database: "app".into(),
            user: "postgres".into(),
            password: Password::default(),
            mount_path: "/var/lib/postgresql/data".into(),
            pgdata: None,
            initdb_args: None,
            env: StringMap::new(),
            storage: Storage::default(),
            resources: Resources::default(),
            settings: StringMap::new(),
            allow_unsafe_settings: Vec::new(),
            replicas: 1,
            probes: Probes::default(),
            node_selector: StringMap::new(),
            tolerations: Vec::new(),
            affinity: None,
            topology_spread: Vec::new(),
            statements: false,
            init_sql: None,
            metrics: Metrics::default(),
            pod: Pod::default(),
            tls: None,
            hba: Vec::new(),
        }
    }
}

pub(super) fn all() -> String {
    "all".into()
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            enabled: false,
            image: EXPORTER_IMAGE.into(),
            port: 9187,
            service_monitor: false,
            resources: Resources::default(),
        }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            size: "1Gi".into(),
            class: None,
            access_mode: AccessMode::ReadWriteOnce,
            claim_name: "data".into(),
            retain: true,
            local: None,
        }
    }
}

impl Default for Pooler {
    fn default() -> Self {
        Pooler {
            replicas: 2,
            mode: PoolMode::Session,
        }
    }
}

impl Default for Backup {
    fn default() -> Self {
        Backup {
            schedule: "0 2 * * *".into(),
            time_zone: None,
            keep: 7,
            format: BackupFormat::Custom,
            image: None,
            storage: BackupStorage::default(),
            resources: Resources::default(),
            s3: None,
            compression: Compression::Auto,
            drill: None,
            full: None,
            differential: None,
            pod: Pod::default(),
        }
    }
}

impl Default for BackupStorage {
    fn default() -> Self {
        BackupStorage {
            size: "5Gi".into(),
            class: None,
            claim: None,
        }
    }
}

pub(super) fn redis_port() -> i64 {
    6379
}

impl Default for RedisStorage {
    fn default() -> Self {
        RedisStorage {
            size: "1Gi".into(),
            class: None,
            access_mode: AccessMode::default(),
            retain: true,
        }
    }
}

pub(super) fn two() -> i64 {
    2
}
pub(super) fn ten() -> i64 {
    10
}
pub(super) fn app_port() -> i64 {
    8080
}
pub(super) fn app_uid() -> i64 {
    10001
}
pub(super) fn yes() -> bool {
    true
}

pub(super) fn redis_url() -> Option<String> {
    Some("REDIS_URL".into())
}

pub(super) fn database_url() -> Option<String> {
    Some("DATABASE_URL".into())
}

impl Default for ConnectionEnv {
    fn default() -> Self {
        ConnectionEnv {
            host: "DB_HOST".into(),
            port: "DB_PORT".into(),
            database: "DB_NAME".into(),
            user: "DB_USER".into(),
            password: "DB_PASSWORD".into(),
            url: database_url(),
            ssl_mode: "DB_SSLMODE".into(),
            ssl_root_cert: "DB_SSLROOTCERT".into(),
            redis_host: "REDIS_HOST".into(),
            redis_port: "REDIS_PORT".into(),
            redis_password: "REDIS_PASSWORD".into(),
            redis_url: redis_url(),
        }
    }
}

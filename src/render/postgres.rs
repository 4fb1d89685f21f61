//! The database's [`Workload`] on the statefulset target: the postgres container (its start
//! script, settings, probes and fast stop), the exporter beside it, and the pod's volumes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::context::{EnvVar, Map, PodView, Secret, Storage, literal};
use super::postgres_files::{AppRole, HbaView, Initdb, TlsView, settings_with_preload};
use super::workload::{
    self, Claim, ClientService, Command, Container, HttpGet, Mount, Peer, Policy, PolicyRule, Port,
    Probe, ProbeDefaults, UID, Volume, Workload,
};
use crate::config::defaults::{
    DATABASE_GRACE_SECONDS, METRICS_RESOURCES, POSTGRES_RESOURCES, SHM_SIZE, STOP_MARGIN,
    resolve_resources,
};
use crate::config::model::{Config, Target};
use crate::config::names::APP_PASSWORD_KEY;
use crate::config::paths::{
    APP_SECRET_DIR, CONFIG_MODE, HBA_DIR, PASSWORD_FILE, SECRET_DIR, SECRET_MODE, SHM_DIR,
    SOCKET_DIR, TLS_MODE, TMP_DIR,
};

/// The postgres container's probes' default timings: startup, readiness, liveness.
const PROBES: [ProbeDefaults; 3] = [
    ProbeDefaults::new(5, 5, 60),
    ProbeDefaults::new(5, 5, 3),
    ProbeDefaults::new(10, 5, 6),
];
/// The size of the socket folder and of /tmp in the database pod.
const RUN_SIZE: &str = "16Mi";
const TMP_SIZE: &str = "256Mi";

/// What the database's workload is made of, decided by `Context::new` for the other objects
/// too.
pub(crate) struct Parts<'a> {
    pub(crate) config: &'a Config,
    pub(crate) labels: &'a BTreeMap<String, String>,
    pub(crate) selector: &'a BTreeMap<String, String>,
    pub(crate) secret: &'a Secret,
    pub(crate) storage: &'a Storage,
    pub(crate) pgdata: &'a str,
    /// The pod settings of `postgres.pod` (the grace period is decided here).
    pub(crate) pod: PodView,
    pub(crate) metrics: Option<(&'a MetricsView, Container)>,
    pub(crate) app_role: Option<&'a AppRole>,
    pub(crate) tls: Option<&'a TlsView>,
    pub(crate) hba: Option<&'a HbaView>,
    pub(crate) initdb: Option<&'a Initdb>,
}

/// The database's StatefulSet, Services and NetworkPolicy.
pub(crate) fn workload(parts: Parts<'_>) -> Workload {
    let Parts {
        config,
        secret,
        metrics,
        ..
    } = parts;
    let pg = &config.postgres;
    let st = &pg.storage;
    let grace = pg
        .pod
        .termination_grace_period_seconds
        .unwrap_or(DATABASE_GRACE_SECONDS);
    let port = || Port {
        name: "postgres",
        port: pg.port,
    };
    let mut mounts = vec![
        Mount::new(&st.claim_name, &pg.mount_path, false),
        Mount::new("run", SOCKET_DIR, false),
        Mount::new("tmp", TMP_DIR, false),
        Mount::new("shm", SHM_DIR, false),
        Mount::new("credentials", SECRET_DIR, true),
    ];
    let mut volumes = vec![
        Volume::empty_dir("run", None, RUN_SIZE),
        Volume::empty_dir("tmp", None, TMP_SIZE),
        Volume::empty_dir(
            "shm",
            Some("Memory"),
            pg.pod.shm_size.as_deref().unwrap_or(SHM_SIZE),
        ),
        Volume::credentials(&secret.name, &secret.key),
    ];
    if let Some(role) = parts.app_role {
        mounts.push(Mount::new("app-credentials", role.dir, true));
        // The whole credentials Secret, optional: the app role keeps its password when the
        // Secret has no key app-password yet (the start step says so in the log).
        volumes.push(Volume::secret(
            "app-credentials",
            &role.secret,
            SECRET_MODE,
            &[],
            true,
        ));
    }
    if let Some(tls) = parts.tls {
        mounts.push(Mount::new("tls", tls.dir, true));
        volumes.push(Volume::secret(
            "tls",
            &tls.secret,
            TLS_MODE,
            &[
                ("tls.crt", "tls.crt"),
                ("tls.key", "tls.key"),
                ("ca.crt", "ca.crt"),
            ],
            false,
        ));
    }
    if let Some(hba) = parts.hba {
        mounts.push(Mount::new("hba", hba.dir, true));
        volumes.push(Volume::config_map("hba", &hba.name, Some(CONFIG_MODE)));
    }
    if let Some(initdb) = parts.initdb {
        mounts.push(Mount::new("initdb", initdb.mount_path, true));
        volumes.push(Volume::config_map(
            "initdb",
            &initdb.name,
            Some(CONFIG_MODE),
        ));
    }
    let mut containers = vec![Container {
        name: "postgres",
        image: pg.image.clone(),
        command: Some(Command {
            shell: "bash",
            script: "partials/start.sh",
            args: vec!["pgstate-start"],
        }),
        args: args(pg, parts.tls),
        port: port(),
        env: env(
            config,
            parts.pgdata,
            parts.app_role.map(|r| r.name.as_str()),
        ),
        resources: resolve_resources(&pg.resources, &POSTGRES_RESOURCES),
        probe_command: probe_command(pg),
        probe_script: None,
        probes: workload::exec_probes(&pg.probes, &PROBES),
        // preStop: a fast shutdown, so a pod deletion never waits for clients (SIGTERM's
        // "smart" mode) and ends in a kill and crash recovery.
        stop_command: vec![
            "pg_ctl".into(),
            "stop".into(),
            format!("--pgdata={}", parts.pgdata),
            "--mode=fast".into(),
            "--wait".into(),
            format!("--timeout={}", grace - STOP_MARGIN),
        ],
        mounts: mounts.into(),
    }];
    let mut service_ports = vec![port()];
    let mut rules = vec![PolicyRule {
        from: Vec::new(),
        port: pg.port,
    }];
    if let Some((m, container)) = metrics {
        service_ports.push(Port {
            name: "metrics",
            port: m.port,
        });
        rules.push(PolicyRule {
            from: vec![Peer {
                any_namespace: true,
                labels: m.client.clone(),
            }],
            port: m.port,
        });
        containers.push(container);
    }
    let policy = config.network_policy.then(|| {
        let mut from = Vec::new();
        if config.app.is_some() {
            from.push(Peer::pods(workload::selector(config, "app")));
        }
        if config.backup.is_some() {
            from.push(Peer::pods(workload::selector(config, "backup")));
        }
        from.push(Peer::pods(workload::client_label(&config.name)));
        rules[0].from = from;
        Policy {
            name: config.name.clone(),
            rules,
        }
    });
    Workload {
        name: config.name.clone(),
        headless: format!("{}-hl", config.name),
        labels: parts.labels.clone(),
        selector: parts.selector.clone(),
        port: port(),
        service: ClientService {
            name: config.name.clone(),
            kind: config.service.kind.as_str(),
            annotations: config.service.annotations.clone(),
            ports: service_ports,
        },
        policy,
        pod: PodView {
            termination_grace_period_seconds: Some(grace),
            ..parts.pod
        },
        uid: UID,
        node_selector: pg.node_selector.clone(),
        tolerations: pg.tolerations.clone(),
        affinity: pg.affinity.clone(),
        topology_spread: pg.topology_spread.clone(),
        containers,
        volumes: volumes.into(),
        claim: Claim {
            name: parts.storage.claim_name.clone(),
            size: parts.storage.size.clone(),
            class: parts.storage.class.clone(),
            access_mode: parts.storage.access_mode,
            retention: parts.storage.retention,
        },
    }
}

/// The exporter's container: its own port, HTTP probes of `/` on it, the password file.
pub(crate) fn metrics_container(config: &Config, m: &MetricsView) -> Container {
    let pg = &config.postgres;
    let metrics = &pg.metrics;
    let lit = |name: &str, value: String| EnvVar {
        name: name.into(),
        value: Some(value),
        secret: None,
    };
    let http = |kind, period, failures| Probe {
        kind,
        http_get: Some(HttpGet {
            path: "/".into(),
            port: "metrics",
        }),
        tcp_socket: None,
        initial_delay_seconds: None,
        period_seconds: period,
        timeout_seconds: Some(5),
        failure_threshold: failures,
    };
    Container {
        name: "metrics",
        image: metrics.image.clone(),
        command: None,
        args: vec![
            format!("--web.listen-address=:{}", m.port),
            format!("--web.telemetry-path={}", m.path),
        ],
        port: Port {
            name: "metrics",
            port: m.port,
        },
        env: vec![
            lit(
                "DATA_SOURCE_URI",
                format!(
                    "127.0.0.1:{}/{}?sslmode={}",
                    pg.port,
                    super::context::percent_encode(&pg.database),
                    // In the pod, over loopback: encrypted when the server has TLS; the
                    // certificate names the Services, not 127.0.0.1.
                    if pg.tls.is_some() {
                        "require"
                    } else {
                        "disable"
                    }
                ),
            ),
            lit("DATA_SOURCE_USER", literal(&pg.user)),
            lit("DATA_SOURCE_PASS_FILE", PASSWORD_FILE.into()),
        ],
        resources: resolve_resources(&metrics.resources, &METRICS_RESOURCES),
        probe_command: Vec::new(),
        probe_script: None,
        probes: vec![http("readinessProbe", 10, 3), http("livenessProbe", 20, 6)].into(),
        stop_command: Vec::new(),
        mounts: vec![Mount::new("credentials", SECRET_DIR, true)].into(),
    }
}

/// The postgres container's variables: the image's, pgstate's start step's, then the config's
/// own `postgres.env`.
fn env(config: &Config, pgdata: &str, app_role: Option<&str>) -> Vec<EnvVar> {
    let pg = &config.postgres;
    let mut env = vec![
        EnvVar {
            name: "POSTGRES_USER".into(),
            value: Some(literal(&pg.user)),
            secret: None,
        },
        EnvVar {
            name: "POSTGRES_DB".into(),
            value: Some(literal(&pg.database)),
            secret: None,
        },
        EnvVar {
            name: "POSTGRES_PASSWORD_FILE".into(),
            value: Some(PASSWORD_FILE.into()),
            secret: None,
        },
        EnvVar {
            name: "PGDATA".into(),
            value: Some(literal(pgdata)),
            secret: None,
        },
        EnvVar {
            name: "PGPORT".into(),
            value: Some(pg.port.to_string()),
            secret: None,
        },
    ];
    env.push(EnvVar {
        name: "PGSTATE_PASSWORD_FILE".into(),
        value: Some(PASSWORD_FILE.into()),
        secret: None,
    });
    if let Some(role) = app_role {
        env.push(EnvVar {
            name: "PGSTATE_APP_ROLE".into(),
            value: Some(literal(role)),
            secret: None,
        });
        env.push(EnvVar {
            name: "PGSTATE_APP_PASSWORD_FILE".into(),
            value: Some(format!("{APP_SECRET_DIR}/{APP_PASSWORD_KEY}")),
            secret: None,
        });
    }
    if let Some(args) = &pg.initdb_args {
        env.push(EnvVar {
            name: "POSTGRES_INITDB_ARGS".into(),
            value: Some(literal(args)),
            secret: None,
        });
    }
    env.extend(pg.env.iter().map(|(k, v)| EnvVar {
        name: k.clone(),
        value: Some(literal(v)),
        secret: None,
    }));
    env
}

/// The server's arguments: `postgres` and a `-c key=value` for each setting (the config's, the
/// preload libraries, pg_hba.conf's file and TLS's files).
fn args(pg: &crate::config::model::Postgres, tls: Option<&TlsView>) -> Vec<String> {
    let mut args = vec!["postgres".to_owned()];
    let mut settings = settings_with_preload(pg);
    settings.insert("hba_file".into(), format!("{HBA_DIR}/pg_hba.conf"));
    if let Some(t) = tls {
        settings.insert("ssl".into(), "on".into());
        settings.insert("ssl_cert_file".into(), format!("{}/tls.crt", t.dir));
        settings.insert("ssl_key_file".into(), format!("{}/tls.key", t.dir));
        settings.insert("ssl_ca_file".into(), t.ca_file.clone());
        settings
            .entry("ssl_min_protocol_version".into())
            .or_insert_with(|| "TLSv1.2".into());
    }
    for (key, value) in &settings {
        args.push("-c".into());
        args.push(format!("{key}={value}"));
    }
    args
}

/// What the probes run: `pg_isready` over loopback.
fn probe_command(pg: &crate::config::model::Postgres) -> Vec<String> {
    vec![
        "pg_isready".into(),
        "--quiet".into(),
        "--host=127.0.0.1".into(),
        format!("--port={}", pg.port),
        // No --dbname: libpq reads a database name with `=` or a URL prefix as a
        // connection string, and the answer does not depend on the database anyway.
        format!("--username={}", pg.user),
    ]
}

/// The postgres_exporter container, its Service port and its scrape annotations.
#[derive(Debug, Serialize)]
pub(crate) struct MetricsView {
    pub(crate) port: i64,
    pub(crate) path: &'static str,
    /// `prometheus.io/*` annotations of the pod template.
    pub(crate) annotations: Map,
    /// Pods with this label, in any namespace, may scrape the metrics port.
    pub(crate) client: Map,
    /// The ServiceMonitor's name, when one is rendered.
    pub(crate) service_monitor: Option<String>,
}

/// Where the exporter serves its metrics (its default).
pub(crate) const METRICS_PATH: &str = "/metrics";

pub(crate) fn metrics_view(config: &Config) -> Option<MetricsView> {
    let pg = &config.postgres;
    let m = &pg.metrics;
    if !(m.enabled && config.target == Target::Statefulset) {
        return None;
    }
    Some(MetricsView {
        port: m.port,
        path: METRICS_PATH,
        annotations: BTreeMap::from([
            ("prometheus.io/scrape".into(), "true".into()),
            ("prometheus.io/port".into(), m.port.to_string()),
            ("prometheus.io/path".into(), METRICS_PATH.into()),
        ]),
        client: BTreeMap::from([(format!("{}-metrics-client", config.name), "true".to_owned())]),
        service_monitor: m.service_monitor.then(|| config.name.clone()),
    })
}

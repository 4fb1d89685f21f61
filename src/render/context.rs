//! The view model: a validated config turned into exactly what the templates print.
//!
//! Every derived name and every default that depends on another value is decided here, once.
//! Templates only place these values; they make no decisions beyond "is this present".

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;

use super::targets::{self, Cnpg, ExternalView, Percona};
use super::workload::{HttpGet, Policy, Probe, UID, Workload, labels, selector};
use crate::config::defaults::{APP_RESOURCES, JOB_RESOURCES, ResolvedResources, resolve_resources};
use crate::config::model::{App, BackupFormat, Config, Password, SslMode, Target};
use crate::config::names::{
    APP_PASSWORD_KEY, PASSWORD_FILE, app_role_name, credentials_secret, target_name,
};
use crate::config::vars::Vars;

/// Where the database container finds the whole credentials Secret (the app role's password).
pub const APP_SECRET_DIR: &str = "/etc/pgstate-app";
/// Where the server's certificate, key and CA are mounted (the CA alone in the clients).
pub const TLS_DIR: &str = "/etc/pgstate-tls";
/// Where the rendered pg_hba.conf is mounted.
pub const HBA_DIR: &str = "/etc/pgstate-hba";
/// The init script that sets the passwords and the app role (see templates/partials/roles.sh).
pub const ROLES_SCRIPT: &str = "99-pgstate-roles.sh";
/// Where the backup volume is mounted in the backup and restore containers.
pub const BACKUP_DIR: &str = "/backups";

pub type Map = BTreeMap<String, String>;

#[derive(Debug, Serialize)]
pub struct Context {
    pub name: String,
    /// `statefulset`, `cloudnativepg`, `percona` or `external`.
    pub target: &'static str,
    /// Where the app connects, for every target.
    pub connection: Connection,
    pub cnpg: Option<Cnpg>,
    pub percona: Option<Percona>,
    pub external: Option<ExternalView>,
    pub namespace: String,
    pub uid: i64,
    pub labels: Components<Map>,
    pub selector: Components<Map>,
    pub secret: Secret,
    pub postgres: Postgres,
    /// The database's StatefulSet, Services and NetworkPolicy (statefulset target).
    pub database: Option<Workload>,
    /// The Service names and annotations: the external target's Service prints them, `graph`
    /// names them (the statefulset target's Services print the workload's).
    pub service: Service,
    pub local_volume: Option<LocalVolume>,
    pub app: Option<AppView>,
    pub redis: Option<super::redis::RedisView>,
    pub backup: Option<Backup>,
    /// The ConfigMap of SQL scripts run when the database is created.
    pub initdb: Option<Initdb>,
    /// The exporter container beside postgres (statefulset target, `postgres.metrics.enabled`).
    pub metrics: Option<MetricsView>,
    /// The app's own login role (statefulset target with an app).
    pub app_role: Option<AppRole>,
    /// The server's certificate (statefulset target with `postgres.tls`).
    pub tls: Option<TlsView>,
    /// The rendered pg_hba.conf (statefulset target).
    pub hba: Option<HbaView>,
    /// Whether the app gets its own NetworkPolicy (every target).
    pub app_policy: bool,
    pub password_file: &'static str,
    pub backup_dir: &'static str,
}

/// The app's login role and where its password lives.
#[derive(Debug, Serialize)]
pub struct AppRole {
    pub name: String,
    /// The credentials Secret, mounted whole (optional) in the database container.
    pub secret: String,
    pub key: &'static str,
    pub dir: &'static str,
    /// Base64 of the password when pgstate renders the Secret.
    pub data: Option<String>,
}

/// TLS: the Secret with the server's files, and the Certificate pgstate renders for it.
#[derive(Debug, Serialize)]
pub struct TlsView {
    pub secret: String,
    pub dir: &'static str,
    pub ca_file: String,
    pub required: bool,
    pub certificate: Option<CertificateView>,
}

/// A cert-manager Certificate for the client and headless Services' names.
#[derive(Debug, Serialize)]
pub struct CertificateView {
    pub name: String,
    pub issuer: String,
    pub kind: &'static str,
    pub group: String,
    pub dns_names: Vec<String>,
}

/// The ConfigMap `<name>-hba` with pg_hba.conf.
#[derive(Debug, Serialize)]
pub struct HbaView {
    pub name: String,
    pub dir: &'static str,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct Components<T> {
    pub database: T,
    pub app: T,
    pub backup: T,
}

#[derive(Debug, Serialize)]
pub struct Secret {
    pub name: String,
    pub key: String,
    /// `Opaque`, or `kubernetes.io/basic-auth` for CloudNativePG's initdb.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Base64 of the user name, in a basic-auth Secret.
    pub username: Option<String>,
    /// Base64 of the password when pgstate renders the Secret (fromEnv / value).
    pub data: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Postgres {
    pub image: String,
    pub port: i64,
    pub database: String,
    pub user: String,
    pub mount_path: String,
    pub pgdata: String,
    pub storage: Storage,
}

/// What a pod template gets from `postgres.pod`, `backup.pod` or `app.pod`, merged with what
/// pgstate sets itself (the component's labels, the exporter's scrape annotations).
#[derive(Debug, Serialize)]
pub struct PodView {
    pub labels: Map,
    pub annotations: Map,
    pub image_pull_secrets: Vec<String>,
    pub priority_class_name: Option<String>,
    pub service_account_name: Option<String>,
    pub automount_token: bool,
    pub termination_grace_period_seconds: Option<i64>,
}

/// The pod settings of `pod` over pgstate's `labels` and `annotations` (pgstate's win: they
/// select the pods and the validation refuses a clash).
pub fn pod_view(pod: &crate::config::model::Pod, labels: &Map, annotations: &Map) -> PodView {
    let mut all_labels = pod.labels.clone();
    all_labels.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut all_annotations = pod.annotations.clone();
    all_annotations.extend(annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
    PodView {
        labels: all_labels,
        annotations: all_annotations,
        image_pull_secrets: pod.image_pull_secrets.clone(),
        priority_class_name: pod.priority_class_name.clone(),
        service_account_name: pod.service_account_name.clone(),
        automount_token: pod.automount_service_account_token.unwrap_or(false),
        termination_grace_period_seconds: pod.termination_grace_period_seconds,
    }
}

#[derive(Debug, Serialize)]
pub struct Storage {
    pub claim_name: String,
    pub pvc_name: String,
    pub size: String,
    pub class: Option<String>,
    pub access_mode: &'static str,
    pub retention: &'static str,
}

#[derive(Debug, Serialize)]
pub struct LocalVolume {
    pub name: String,
    pub node: String,
    pub path: String,
    /// The class both the PV and the claim carry; "" means "no class, bind statically".
    pub class: String,
}

#[derive(Debug, Serialize)]
pub struct Service {
    pub name: String,
    pub headless: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub annotations: Map,
}

/// A container variable: a literal value, or a key of a Secret.
#[derive(Debug, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: Option<String>,
    pub secret: Option<SecretRef>,
}

#[derive(Debug, Serialize)]
pub struct SecretRef {
    pub name: String,
    pub key: String,
}

/// One connection value: written into the app's variables, or read from a Secret's key.
#[derive(Debug, Serialize)]
pub enum Field {
    Value(String),
    Secret(SecretRef),
}

/// How the app reaches the database; decided per target.
#[derive(Debug, Serialize)]
pub struct Connection {
    pub host: Field,
    pub port: Field,
    pub database: Field,
    pub user: Field,
    pub password: SecretRef,
    pub ssl_mode: Option<&'static str>,
    /// The CA file the app verifies the server with (`postgres.tls`).
    pub ssl_root_cert: Option<String>,
}

impl Connection {
    fn new(config: &Config, secret: &Secret) -> Connection {
        let pg = &config.postgres;
        let lit = |v: String| Field::Value(v);
        let app_role = app_role_name(config);
        let password = SecretRef {
            name: secret.name.clone(),
            key: if app_role.is_some() {
                APP_PASSWORD_KEY.into()
            } else {
                secret.key.clone()
            },
        };
        let tls = config.postgres.tls.as_ref();
        let pooled = config.pooler.is_some();
        match config.target {
            Target::Statefulset => Connection {
                host: lit(config.name.clone()),
                port: lit(pg.port.to_string()),
                database: lit(pg.database.clone()),
                user: lit(app_role.unwrap_or_else(|| pg.user.clone())),
                password,
                ssl_mode: tls.map(|_| SslMode::VerifyFull.as_str()),
                ssl_root_cert: tls.map(|_| format!("{TLS_DIR}/ca.crt")),
            },
            Target::Cloudnativepg => Connection {
                host: lit(if pooled {
                    format!("{}-pooler-rw", config.name)
                } else {
                    format!("{}-rw", config.name)
                }),
                port: lit(targets::CNPG_PORT.to_string()),
                database: lit(pg.database.clone()),
                user: lit(pg.user.clone()),
                password,
                ssl_mode: tls.map(|_| SslMode::VerifyFull.as_str()),
                ssl_root_cert: tls.map(|_| format!("{TLS_DIR}/ca.crt")),
            },
            Target::Percona => {
                let from = |key: &str| {
                    Field::Secret(SecretRef {
                        name: secret.name.clone(),
                        key: key.into(),
                    })
                };
                Connection {
                    host: from(if pooled { "pgbouncer-host" } else { "host" }),
                    port: from(if pooled { "pgbouncer-port" } else { "port" }),
                    database: from("dbname"),
                    user: from("user"),
                    password,
                    ssl_mode: None,
                    ssl_root_cert: None,
                }
            }
            Target::External => {
                let ext = config.external.as_ref();
                let ssl_mode = ext.map_or(SslMode::default(), |e| e.ssl_mode);
                // verify-full checks the certificate against the name the client dialled:
                // the ExternalName alias would never match it.
                let host = match ext {
                    Some(e) if ssl_mode == SslMode::VerifyFull => e.host.clone(),
                    _ => config.name.clone(),
                };
                Connection {
                    host: lit(host),
                    port: lit(ext.and_then(|e| e.port).unwrap_or(pg.port).to_string()),
                    database: lit(pg.database.clone()),
                    user: lit(pg.user.clone()),
                    password,
                    ssl_mode: Some(ssl_mode.as_str()),
                    ssl_root_cert: None,
                }
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AppView {
    pub name: String,
    pub image: String,
    pub replicas: i64,
    pub port: i64,
    pub env: Vec<EnvVar>,
    pub resources: ResolvedResources,
    /// Readiness and liveness: an HTTP GET of `app.healthPath`, else a TCP connect.
    pub probes: Vec<Probe>,
    pub uid: i64,
    pub read_only_root_filesystem: bool,
    /// The TLS Secret whose `ca.crt` the app mounts (`postgres.tls`).
    pub tls_secret: Option<String>,
    pub pod: PodView,
}

#[derive(Debug, Serialize)]
pub struct Backup {
    pub name: String,
    pub schedule: String,
    pub time_zone: Option<String>,
    pub keep: i64,
    pub format: &'static str,
    pub extension: &'static str,
    pub image: String,
    /// The claim the CronJob mounts; `render_claim` says whether pgstate renders it.
    pub claim: String,
    pub render_claim: bool,
    pub size: String,
    pub class: Option<String>,
    pub env: Vec<EnvVar>,
    pub resources: ResolvedResources,
    pub pod: PodView,
    /// The bucket each verified dump is uploaded to.
    pub s3: Option<BackupS3>,
    /// The CronJob that restores the newest dump into a scratch database and checks it.
    pub drill: Option<Drill>,
}

/// The upload (and download) step of the backup jobs: rclone, configured by env literals, the
/// keys read from the mounted Secret.
#[derive(Debug, Serialize)]
pub struct BackupS3 {
    pub image: String,
    pub secret: String,
    pub bucket: String,
    pub folder: String,
    pub env: Vec<EnvVar>,
}

#[derive(Debug, Serialize)]
pub struct Drill {
    pub name: String,
    pub schedule: String,
    pub env: Vec<EnvVar>,
}

/// The uploader's default image: rclone, the version whose commands the tests run.
pub const RCLONE_IMAGE: &str = "rclone/rclone:1.60.1";
/// Where the S3 Secret's keys are mounted in the upload and download steps.
pub const S3_CREDENTIALS_DIR: &str = "/etc/pgstate-s3";
/// pg_restore's parallel jobs in the restore Job and the drill.
pub const RESTORE_JOBS: &str = "4";

/// The bucket's folder for a config: `prefix` (or its former name `path`), else the config's name.
pub fn s3_folder(config: &Config, s3: &crate::config::model::S3) -> String {
    s3.prefix
        .clone()
        .or_else(|| s3.path.clone())
        .unwrap_or_else(|| config.name.clone())
        .trim_matches('/')
        .to_owned()
}

fn backup_s3(config: &Config, b: &crate::config::model::Backup) -> Option<BackupS3> {
    let s3 = b.s3.as_ref()?;
    let lit = |name: &str, value: &str| EnvVar {
        name: name.into(),
        value: Some(literal(value)),
        secret: None,
    };
    let folder = s3_folder(config, s3);
    let mut env = vec![
        lit("BACKUP_DIR", BACKUP_DIR),
        lit("BACKUP_PREFIX", &config.name),
        lit("KEEP", &b.keep.to_string()),
        lit("S3_BUCKET", &s3.bucket),
        lit("S3_PREFIX", &folder),
        lit("S3_CREDENTIALS", S3_CREDENTIALS_DIR),
        lit("HOME", "/tmp"),
        lit("RCLONE_CONFIG_PGSTATE_TYPE", "s3"),
        lit(
            "RCLONE_CONFIG_PGSTATE_PROVIDER",
            if s3.endpoint.is_some() {
                "Other"
            } else {
                "AWS"
            },
        ),
        lit("RCLONE_CONFIG_PGSTATE_ENV_AUTH", "false"),
        lit(
            "RCLONE_CONFIG_PGSTATE_REGION",
            s3.region.as_deref().unwrap_or("us-east-1"),
        ),
    ];
    if let Some(endpoint) = &s3.endpoint {
        env.push(lit("RCLONE_CONFIG_PGSTATE_ENDPOINT", endpoint));
    }
    // The bucket exists (creating it needs more rights than writing to it); a few retries,
    // then fail: the next night's run tries again.
    env.push(lit("RCLONE_S3_NO_CHECK_BUCKET", "true"));
    env.push(lit("RCLONE_RETRIES", "3"));
    env.push(lit("RCLONE_LOW_LEVEL_RETRIES", "3"));
    Some(BackupS3 {
        image: s3.image.clone().unwrap_or_else(|| RCLONE_IMAGE.to_owned()),
        secret: s3.secret.clone(),
        bucket: s3.bucket.clone(),
        folder,
        env,
    })
}

/// The ConfigMap `<name>-initdb`: numbered SQL scripts, run in the order of their keys.
#[derive(Debug, Serialize)]
pub struct Initdb {
    pub name: String,
    pub mount_path: &'static str,
    pub scripts: Vec<Script>,
}

#[derive(Debug, Serialize)]
pub struct Script {
    pub key: String,
    pub text: String,
}

/// The init script that sets the superuser's and the app role's passwords from the mounted
/// Secret files; the start step runs it again on every later start.
pub const ROLES_SH: &str = include_str!("../../templates/partials/roles.sh");

/// The script that creates pg_stat_statements in the app's database.
pub const STATEMENTS_SQL: &str = "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;\n";
/// Where the postgres image's entrypoint looks for scripts to run on an empty data directory.
pub const INITDB_DIR: &str = "/docker-entrypoint-initdb.d";

/// The libraries of `shared_preload_libraries`: the user's, then pg_stat_statements when
/// `statements` is on; each once.
pub fn preload_libraries(pg: &crate::config::model::Postgres) -> Vec<String> {
    let mut libraries: Vec<String> = Vec::new();
    let given = pg
        .settings
        .get("shared_preload_libraries")
        .map_or("", String::as_str);
    let extra = pg.statements.then_some("pg_stat_statements");
    for library in given
        .split(',')
        .map(|l| l.trim().trim_matches(['\'', '"']).trim())
        .chain(extra)
    {
        if !library.is_empty() && !libraries.iter().any(|l| l == library) {
            libraries.push(library.to_owned());
        }
    }
    libraries
}

/// The settings passed to postgres, with `shared_preload_libraries` merged.
pub fn settings_with_preload(pg: &crate::config::model::Postgres) -> Map {
    let mut settings = pg.settings.clone();
    let libraries = preload_libraries(pg);
    if libraries.is_empty() {
        settings.remove("shared_preload_libraries");
    } else {
        settings.insert("shared_preload_libraries".into(), libraries.join(","));
    }
    settings
}

/// The init scripts of a config: `00-pg-stat-statements.sql` (when `with_statements`),
/// `10-init.sql` for `initSql.sql`, `11-<file>`... for `initSql.files`, and on the statefulset
/// target `99-pgstate-roles.sh`; none, no ConfigMap.
pub fn initdb(config: &Config, with_statements: bool) -> Option<Initdb> {
    let pg = &config.postgres;
    let mut scripts = Vec::new();
    if with_statements && pg.statements {
        scripts.push(Script {
            key: "00-pg-stat-statements.sql".into(),
            text: STATEMENTS_SQL.into(),
        });
    }
    if let Some(init) = &pg.init_sql {
        if let Some(sql) = &init.sql {
            scripts.push(Script {
                key: "10-init.sql".into(),
                text: sql.clone(),
            });
        }
        for (i, file) in init.files.iter().enumerate() {
            let base = file.path.rsplit('/').next().unwrap_or_default();
            scripts.push(Script {
                key: format!("{}-{base}", 11 + i),
                text: file.text.clone().unwrap_or_default(),
            });
        }
    }
    // Last, so the objects the init SQL creates pass to the app role on the first start.
    if config.target == Target::Statefulset {
        scripts.push(Script {
            key: ROLES_SCRIPT.into(),
            text: ROLES_SH.into(),
        });
    }
    (!scripts.is_empty()).then(|| Initdb {
        name: format!("{}-initdb", config.name),
        mount_path: INITDB_DIR,
        scripts,
    })
}

/// The postgres_exporter container, its Service port and its scrape annotations.
#[derive(Debug, Serialize)]
pub struct MetricsView {
    pub port: i64,
    pub path: &'static str,
    /// `prometheus.io/*` annotations of the pod template.
    pub annotations: Map,
    /// Pods with this label, in any namespace, may scrape the metrics port.
    pub client: Map,
    /// The ServiceMonitor's name, when one is rendered.
    pub service_monitor: Option<String>,
}

/// Where the exporter serves its metrics (its default).
pub const METRICS_PATH: &str = "/metrics";

/// Percent-encodes every byte but the URL-unreserved ones (letters, digits, `-._~`), for a
/// user or database name in a connection URL.
pub fn percent_encode(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn metrics_view(config: &Config) -> Option<MetricsView> {
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

/// The password pgstate writes into a Secret: `value`, or the variable `fromEnv` names; `None`
/// when the password lives in a Secret of the user's.
pub(crate) fn rendered_password(pw: &Password, vars: &dyn Vars) -> Option<String> {
    pw.value
        .clone()
        .or_else(|| pw.from_env.as_deref().and_then(|v| vars.get(v)))
}

/// Base64, as a Secret's `data` holds its values.
pub(crate) fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Kubernetes expands `$(VAR)` in env values and turns `$$` into `$`; doubling every `$`
/// keeps a value from the config exactly as written.
pub fn literal(value: &str) -> String {
    value.replace('$', "$$")
}

/// The connection variables an app gets, with the names it asked for.
fn connection_env(conn: &Connection, names: &crate::config::model::ConnectionEnv) -> Vec<EnvVar> {
    let var = |name: &str, field: &Field| match field {
        Field::Value(v) => EnvVar {
            name: name.into(),
            value: Some(literal(v)),
            secret: None,
        },
        Field::Secret(s) => EnvVar {
            name: name.into(),
            value: None,
            secret: Some(SecretRef {
                name: s.name.clone(),
                key: s.key.clone(),
            }),
        },
    };
    let mut env = vec![
        var(&names.host, &conn.host),
        var(&names.port, &conn.port),
        var(&names.database, &conn.database),
        var(&names.user, &conn.user),
        EnvVar {
            name: names.password.clone(),
            value: None,
            secret: Some(SecretRef {
                name: conn.password.name.clone(),
                key: conn.password.key.clone(),
            }),
        },
    ];
    if let Some(mode) = conn.ssl_mode {
        env.push(var(&names.ssl_mode, &Field::Value(mode.into())));
    }
    if let Some(ca) = &conn.ssl_root_cert {
        env.push(var(&names.ssl_root_cert, &Field::Value(ca.clone())));
    }
    if let Some(url) = &names.url {
        let mut query = if conn.ssl_mode.is_some() {
            format!("?sslmode=$({})", names.ssl_mode)
        } else {
            String::new()
        };
        if conn.ssl_root_cert.is_some() {
            query.push_str(&format!("&sslrootcert=$({})", names.ssl_root_cert));
        }
        env.push(EnvVar {
            name: url.clone(),
            value: Some(format!(
                "postgresql://$({}):$({})@$({}):$({})/$({}){query}",
                names.user, names.password, names.host, names.port, names.database
            )),
            secret: None,
        });
    }
    env
}

fn app_view(config: &Config, app: &App, conn: &Connection) -> AppView {
    let name = app
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-app", config.name));
    let mut env = connection_env(conn, &app.connection_env);
    env.extend(super::redis::app_env(config, &app.connection_env));
    env.extend(app.env.iter().map(|(k, v)| EnvVar {
        name: k.clone(),
        value: Some(literal(v)),
        secret: None,
    }));
    AppView {
        name: name.clone(),
        image: app.image.clone(),
        replicas: app.replicas,
        port: app.port,
        env,
        resources: resolve_resources(&app.resources, &APP_RESOURCES),
        probes: [("readinessProbe", 5, 3), ("livenessProbe", 10, 6)]
            .into_iter()
            .map(|(kind, period, failures)| Probe {
                kind,
                http_get: app.health_path.as_ref().map(|path| HttpGet {
                    path: path.clone(),
                    port: "http",
                }),
                tcp_socket: app.health_path.is_none().then_some("http"),
                initial_delay_seconds: None,
                period_seconds: period,
                timeout_seconds: None,
                failure_threshold: failures,
            })
            .collect(),
        uid: app.run_as_user,
        read_only_root_filesystem: app.read_only_root_filesystem,
        tls_secret: conn.ssl_root_cert.as_ref().map(|_| tls_secret(config)),
        pod: pod_view(&app.pod, &labels(config, "app", &name), &Map::new()),
    }
}

/// The TLS Secret: `postgres.tls.secret`, or `<name>-tls`.
pub fn tls_secret(config: &Config) -> String {
    config
        .postgres
        .tls
        .as_ref()
        .and_then(|t| t.secret.clone())
        .unwrap_or_else(|| format!("{}-tls", config.name))
}

/// The names the server's certificate must hold: the client and headless Services, short and
/// qualified, and the pod's own name under the headless Service.
pub fn tls_dns_names(config: &Config) -> Vec<String> {
    let ns = &config.namespace;
    let mut names = Vec::new();
    let services = if config.target == Target::Cloudnativepg {
        ["rw", "r", "ro"]
            .map(|s| format!("{}-{s}", config.name))
            .to_vec()
    } else {
        vec![config.name.clone(), format!("{}-hl", config.name)]
    };
    for service in services {
        names.push(service.clone());
        names.push(format!("{service}.{ns}"));
        names.push(format!("{service}.{ns}.svc"));
        names.push(format!("{service}.{ns}.svc.cluster.local"));
    }
    if config.target == Target::Statefulset {
        let pod = format!("{}-0.{}-hl", config.name, config.name);
        names.push(format!("{pod}.{ns}.svc"));
        names.push(format!("{pod}.{ns}.svc.cluster.local"));
    }
    names
}

fn tls_view(config: &Config) -> Option<TlsView> {
    let tls = config.postgres.tls.as_ref()?;
    if !matches!(config.target, Target::Statefulset | Target::Cloudnativepg) {
        return None;
    }
    let secret = tls_secret(config);
    Some(TlsView {
        certificate: tls.issuer.as_ref().map(|i| CertificateView {
            name: secret.clone(),
            issuer: i.name.clone(),
            kind: i.kind.as_str(),
            group: i.group.clone().unwrap_or_else(|| "cert-manager.io".into()),
            dns_names: tls_dns_names(config),
        }),
        secret,
        dir: TLS_DIR,
        ca_file: format!("{TLS_DIR}/ca.crt"),
        required: tls.required,
    })
}

/// A name in pg_hba.conf: the keywords as they are, anything else double-quoted (validated
/// names hold no quote, space or control character).
fn hba_name(name: &str) -> String {
    if matches!(name, "all" | "sameuser" | "samerole" | "replication") {
        name.to_owned()
    } else {
        format!("\"{name}\"")
    }
}

/// One typed rule as a pg_hba.conf line.
pub fn hba_line(rule: &crate::config::model::HbaRule) -> String {
    format!(
        "{} {} {} {} {}",
        rule.kind.as_str(),
        hba_name(&rule.database),
        hba_name(&rule.user),
        rule.address.as_deref().unwrap_or(""),
        rule.method.as_str()
    )
}

/// pg_hba.conf: the config's rules first, then pgstate's. The socket is trusted as the image
/// sets it (only the pod reaches it); every TCP connection authenticates with
/// scram-sha-256, over TLS only when TLS is required; the app role reaches its own database
/// only.
pub fn hba_text(config: &Config) -> String {
    use std::fmt::Write as _;
    let pg = &config.postgres;
    let remote = match &pg.tls {
        Some(t) if t.required => "hostssl",
        _ => "host",
    };
    let mut out = String::from(
        "# pg_hba.conf rendered by pgstate: postgres.hba first, then pgstate's rules.\n",
    );
    for rule in &pg.hba {
        out.push_str(&hba_line(rule));
        out.push('\n');
    }
    out.push_str("# the socket: only the pod's own processes reach it\n");
    out.push_str("local all all trust\n");
    out.push_str("local replication all trust\n");
    if let Some(role) = app_role_name(config) {
        out.push_str("# the app role: its own database only\n");
        let _ = writeln!(
            out,
            "{remote} {} {} all scram-sha-256",
            hba_name(&pg.database),
            hba_name(&role)
        );
        let _ = writeln!(out, "host all {} all reject", hba_name(&role));
    }
    out.push_str("# everyone else (the exporter too, over the pod's loopback)\n");
    let _ = writeln!(out, "{remote} all all all scram-sha-256");
    out
}

impl Context {
    /// The database's NetworkPolicy (statefulset target, `networkPolicy` on).
    pub fn network_policy(&self) -> Option<&Policy> {
        self.database.as_ref()?.policy.as_ref()
    }

    /// Builds the view model of a validated config. `vars` supplies `password.fromEnv`.
    pub fn new(config: &Config, vars: &dyn Vars) -> Context {
        let pg = &config.postgres;
        let pw = &pg.password;
        let rendered_password = rendered_password(pw, vars);
        let owned = rendered_password.is_some();
        let secret = Secret {
            name: match (config.target, &pw.secret) {
                (Target::Percona, _) => targets::percona_user_secret(config),
                (_, Some(name)) => name.clone(),
                (Target::Cloudnativepg, None) if !owned => format!("{}-app", config.name),
                _ => credentials_secret(config),
            },
            key: if owned {
                "password".into()
            } else {
                pw.key.clone().unwrap_or_else(|| "password".into())
            },
            kind: if config.target == Target::Cloudnativepg {
                "kubernetes.io/basic-auth"
            } else {
                "Opaque"
            },
            username: (config.target == Target::Cloudnativepg && owned).then(|| base64(&pg.user)),
            data: rendered_password.map(|p| base64(&p)),
        };
        let connection = Connection::new(config, &secret);
        let app_secret = secret.name.clone();
        let initdb_secret = (owned || pw.secret.is_some()).then(|| secret.name.clone());
        let in_cluster = config.target == Target::Statefulset;
        let pgdata = pg
            .pgdata
            .clone()
            .unwrap_or_else(|| format!("{}/pgdata", pg.mount_path.trim_end_matches('/')));
        let app_role = app_role_name(config);
        let tls = tls_view(config);
        let st = &pg.storage;
        let pvc_name = format!("{}-{}-0", st.claim_name, config.name);
        let local_volume = st
            .local
            .as_ref()
            .filter(|_| in_cluster)
            .map(|l| LocalVolume {
                name: format!("{}-{}", config.namespace, pvc_name),
                node: l.node.clone(),
                path: l.path.clone(),
                class: st.class.clone().unwrap_or_default(),
            });
        let storage = Storage {
            claim_name: st.claim_name.clone(),
            pvc_name,
            size: st.size.clone(),
            class: local_volume
                .as_ref()
                .map(|l| l.class.clone())
                .or_else(|| st.class.clone()),
            access_mode: st.access_mode.as_str(),
            retention: if st.retain { "Retain" } else { "Delete" },
        };
        let app = config
            .app
            .as_ref()
            .map(|a| app_view(config, a, &connection));
        let backup = config.backup.as_ref().filter(|_| in_cluster).map(|b| {
            let (format, extension) = match b.format {
                BackupFormat::Custom => ("custom", "dump"),
                BackupFormat::Gzip => ("gzip", "sql.gz"),
            };
            let lit = |name: &str, value: String| EnvVar {
                name: name.into(),
                value: Some(literal(&value)),
                secret: None,
            };
            let env = vec![
                lit("PGHOST", config.name.clone()),
                lit("PGPORT", pg.port.to_string()),
                lit("PGDATABASE", pg.database.clone()),
                lit("PGUSER", pg.user.clone()),
                lit("PASSWORD_FILE", PASSWORD_FILE.into()),
                lit("BACKUP_DIR", BACKUP_DIR.into()),
                lit("BACKUP_PREFIX", config.name.clone()),
                lit("FORMAT", format.into()),
                lit("COMPRESSION", b.compression.as_str().into()),
                lit("KEEP", b.keep.to_string()),
            ];
            let mut env = env;
            if let Some(t) = &tls {
                env.push(lit("PGSSLMODE", SslMode::VerifyFull.as_str().into()));
                env.push(lit("PGSSLROOTCERT", t.ca_file.clone()));
            }
            let drill = b.drill.as_ref().map(|d| {
                let mut env: Vec<EnvVar> = env
                    .iter()
                    .filter(|e| {
                        !matches!(
                            e.name.as_str(),
                            "PGDATABASE" | "FORMAT" | "COMPRESSION" | "KEEP"
                        )
                    })
                    .map(|e| EnvVar {
                        name: e.name.clone(),
                        value: e.value.clone(),
                        secret: None,
                    })
                    .collect();
                env.push(lit("JOBS", RESTORE_JOBS.into()));
                Drill {
                    name: format!("{}-drill", config.name),
                    schedule: d.schedule.clone(),
                    env,
                }
            });
            Backup {
                name: format!("{}-backup", config.name),
                schedule: b.schedule.clone(),
                time_zone: b.time_zone.clone(),
                keep: b.keep,
                format,
                extension,
                image: b.image.clone().unwrap_or_else(|| pg.image.clone()),
                claim: b
                    .storage
                    .claim
                    .clone()
                    .unwrap_or_else(|| format!("{}-backup", config.name)),
                render_claim: b.storage.claim.is_none(),
                size: b.storage.size.clone(),
                class: b.storage.class.clone(),
                env,
                resources: resolve_resources(&b.resources, &JOB_RESOURCES),
                pod: pod_view(&b.pod, &labels(config, "backup", "postgresql"), &Map::new()),
                s3: backup_s3(config, b),
                drill,
            }
        });
        let app_name = app.as_ref().map_or(String::new(), |a| a.name.clone());
        let redis = super::redis::view(config, vars);
        let metrics = metrics_view(config);
        let metrics_annotations = metrics
            .as_ref()
            .map_or_else(Map::new, |m| m.annotations.clone());
        let database_labels = labels(config, "database", "postgresql");
        let database_selector = selector(config, "database");
        let app_role = app_role.map(|name| AppRole {
            name,
            secret: app_secret,
            key: APP_PASSWORD_KEY,
            dir: APP_SECRET_DIR,
            data: config
                .app
                .as_ref()
                .and_then(|a| a.password.as_ref())
                .and_then(|p| self::rendered_password(p, vars))
                .filter(|_| owned)
                .map(|p| base64(&p)),
        });
        let hba = in_cluster.then(|| HbaView {
            name: format!("{}-hba", config.name),
            dir: HBA_DIR,
            text: hba_text(config),
        });
        let initdb = match config.target {
            Target::Statefulset => initdb(config, true),
            Target::Cloudnativepg => initdb(config, false),
            Target::Percona | Target::External => None,
        };
        let database = in_cluster.then(|| {
            super::postgres::workload(super::postgres::Parts {
                config,
                labels: &database_labels,
                selector: &database_selector,
                secret: &secret,
                storage: &storage,
                pgdata: &pgdata,
                pod: pod_view(&pg.pod, &database_labels, &metrics_annotations),
                metrics: metrics
                    .as_ref()
                    .map(|m| (m, super::postgres::metrics_container(config, m))),
                app_role: app_role.as_ref(),
                tls: tls.as_ref(),
                hba: hba.as_ref(),
                initdb: initdb.as_ref(),
            })
        });
        Context {
            name: config.name.clone(),
            target: target_name(config.target),
            connection,
            cnpg: (config.target == Target::Cloudnativepg)
                .then(|| targets::cnpg(config, initdb_secret)),
            percona: (config.target == Target::Percona).then(|| targets::percona(config)),
            external: targets::external(config).filter(|_| config.target == Target::External),
            namespace: config.namespace.clone(),
            uid: UID,
            labels: Components {
                database: database_labels.clone(),
                app: labels(config, "app", &app_name),
                backup: labels(config, "backup", "postgresql"),
            },
            selector: Components {
                database: database_selector.clone(),
                app: selector(config, "app"),
                backup: selector(config, "backup"),
            },
            secret,
            postgres: Postgres {
                image: pg.image.clone(),
                port: pg.port,
                database: pg.database.clone(),
                user: pg.user.clone(),
                mount_path: pg.mount_path.clone(),
                pgdata: pgdata.clone(),
                storage,
            },
            database,
            service: Service {
                name: config.name.clone(),
                headless: format!("{}-hl", config.name),
                kind: config.service.kind.as_str(),
                annotations: config.service.annotations.clone(),
            },
            local_volume,
            app,
            redis,
            backup,
            app_role,
            tls,
            hba,
            initdb,
            metrics,
            app_policy: config.network_policy && config.app.is_some(),
            password_file: PASSWORD_FILE,
            backup_dir: BACKUP_DIR,
        }
    }
}

//! The view model: a validated config turned into exactly what the templates print.
//!
//! Every derived name and every default that depends on another value is decided here, once.
//! Templates only place these values; they make no decisions beyond "is this present". This
//! file holds [`Context`] and what every part shares; the parts live beside it: the database's
//! and Redis's [`Workload`](super::workload::Workload) (postgres.rs, redis.rs, workload.rs), the
//! files the server reads (postgres_files.rs), the app and its connection (app.rs), the backup
//! jobs (backup.rs), the operator targets (targets.rs).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;

use super::app::{AppView, Connection, app_view};
use super::backup::Backup;
use super::postgres::{MetricsView, metrics_view};
use super::postgres_files::{
    AppRole, HbaView, Initdb, ROLES_SCRIPT, TlsView, hba_text, initdb, tls_view,
};
use super::targets::{self, Cnpg, ExternalView, Percona};
use super::workload::{Policy, UID, Workload, labels, selector};
use crate::config::model::{Config, Password, Target};
use crate::config::names::{APP_PASSWORD_KEY, app_role_name, credentials_secret, target_name};
use crate::config::paths::{
    APP_SECRET_DIR, BACKUP_DIR, CONFIG_MODE, HBA_DIR, INITDB_DIR, REDIS_CONF_DIR, REDIS_DATA_DIR,
    REDIS_RUN_DIR, REDIS_SECRET_DIR, S3_CREDENTIALS_DIR, SECRET_DIR, SECRET_MODE, SOCKET_DIR,
    TMP_DIR,
};
use crate::config::vars::Vars;

pub(crate) type Map = BTreeMap<String, String>;

#[derive(Debug, Serialize)]
pub(crate) struct Context {
    pub(crate) name: String,
    /// `statefulset`, `cloudnativepg`, `percona` or `external`.
    pub(crate) target: &'static str,
    /// Where the app connects, for every target.
    pub(crate) connection: Connection,
    pub(crate) cnpg: Option<Cnpg>,
    pub(crate) percona: Option<Percona>,
    pub(crate) external: Option<ExternalView>,
    pub(crate) namespace: String,
    pub(crate) uid: i64,
    pub(crate) labels: Components<Map>,
    pub(crate) selector: Components<Map>,
    pub(crate) secret: Secret,
    pub(crate) postgres: Postgres,
    /// The database's StatefulSet, Services and NetworkPolicy (statefulset target).
    pub(crate) database: Option<Workload>,
    /// The Service names and annotations: the external target's Service prints them, `graph`
    /// names them (the statefulset target's Services print the workload's).
    pub(crate) service: Service,
    pub(crate) local_volume: Option<LocalVolume>,
    pub(crate) app: Option<AppView>,
    pub(crate) redis: Option<super::redis::RedisView>,
    pub(crate) backup: Option<Backup>,
    /// The ConfigMap of SQL scripts run when the database is created.
    pub(crate) initdb: Option<Initdb>,
    /// The exporter container beside postgres (statefulset target, `postgres.metrics.enabled`).
    pub(crate) metrics: Option<MetricsView>,
    /// The app's own login role (statefulset target with an app).
    pub(crate) app_role: Option<AppRole>,
    /// The server's certificate (statefulset target with `postgres.tls`).
    pub(crate) tls: Option<TlsView>,
    /// The rendered pg_hba.conf (statefulset target).
    pub(crate) hba: Option<HbaView>,
    /// Whether the app gets its own NetworkPolicy (every target).
    pub(crate) app_policy: bool,
    /// The container folders and volume modes, one copy for every config.
    pub(crate) paths: &'static Paths,
}

/// The folders and volume modes that templates and scripts name (config/paths.rs), the same
/// for every config: `paths` in every view, and in the scripts' own render (embedded_scripts).
#[derive(Debug, Serialize)]
pub(crate) struct Paths {
    pub(crate) secret_dir: &'static str,
    pub(crate) s3_dir: &'static str,
    pub(crate) backup_dir: &'static str,
    pub(crate) tmp_dir: &'static str,
    pub(crate) socket_dir: &'static str,
    pub(crate) initdb_dir: &'static str,
    /// The init script's file name in `initdb_dir`.
    pub(crate) roles_script: &'static str,
    /// `defaultMode` of the password and S3 Secrets.
    pub(crate) secret_mode: i64,
    /// `defaultMode` of the CA.
    pub(crate) config_mode: i64,
    pub(crate) redis_conf_dir: &'static str,
    pub(crate) redis_secret_dir: &'static str,
    pub(crate) redis_run_dir: &'static str,
    pub(crate) redis_data_dir: &'static str,
}

pub(crate) const PATHS: Paths = Paths {
    secret_dir: SECRET_DIR,
    s3_dir: S3_CREDENTIALS_DIR,
    backup_dir: BACKUP_DIR,
    tmp_dir: TMP_DIR,
    socket_dir: SOCKET_DIR,
    initdb_dir: INITDB_DIR,
    roles_script: ROLES_SCRIPT,
    secret_mode: SECRET_MODE,
    config_mode: CONFIG_MODE,
    redis_conf_dir: REDIS_CONF_DIR,
    redis_secret_dir: REDIS_SECRET_DIR,
    redis_run_dir: REDIS_RUN_DIR,
    redis_data_dir: REDIS_DATA_DIR,
};

#[derive(Debug, Serialize)]
pub(crate) struct Components<T> {
    pub(crate) database: T,
    pub(crate) app: T,
    pub(crate) backup: T,
}

#[derive(Debug, Serialize)]
pub(crate) struct Secret {
    pub(crate) name: String,
    pub(crate) key: String,
    /// `Opaque`, or `kubernetes.io/basic-auth` for CloudNativePG's initdb.
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// Base64 of the user name, in a basic-auth Secret.
    pub(crate) username: Option<String>,
    /// Base64 of the password when pgstate renders the Secret (fromEnv / value).
    pub(crate) data: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Postgres {
    pub(crate) image: String,
    pub(crate) port: i64,
    pub(crate) database: String,
    pub(crate) user: String,
    pub(crate) mount_path: String,
    pub(crate) pgdata: String,
    pub(crate) storage: Storage,
}

/// What a pod template gets from `postgres.pod`, `backup.pod` or `app.pod`, merged with what
/// pgstate sets itself (the component's labels, the exporter's scrape annotations).
#[derive(Debug, Serialize)]
pub(crate) struct PodView {
    pub(crate) labels: Map,
    pub(crate) annotations: Map,
    pub(crate) image_pull_secrets: Vec<String>,
    pub(crate) priority_class_name: Option<String>,
    pub(crate) service_account_name: Option<String>,
    pub(crate) automount_token: bool,
    pub(crate) termination_grace_period_seconds: Option<i64>,
}

/// The pod settings of `pod` over pgstate's `labels` and `annotations` (pgstate's win: they
/// select the pods and the validation refuses a clash).
pub(crate) fn pod_view(
    pod: &crate::config::model::Pod,
    labels: &Map,
    annotations: &Map,
) -> PodView {
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
pub(crate) struct Storage {
    pub(crate) claim_name: String,
    pub(crate) pvc_name: String,
    pub(crate) size: String,
    pub(crate) class: Option<String>,
    pub(crate) access_mode: &'static str,
    pub(crate) retention: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct LocalVolume {
    pub(crate) name: String,
    pub(crate) node: String,
    pub(crate) path: String,
    /// The class both the PV and the claim carry; "" means "no class, bind statically".
    pub(crate) class: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Service {
    pub(crate) name: String,
    pub(crate) headless: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) annotations: Map,
}

/// A container variable: a literal value, or a key of a Secret.
#[derive(Debug, Serialize)]
pub(crate) struct EnvVar {
    pub(crate) name: String,
    pub(crate) value: Option<String>,
    pub(crate) secret: Option<SecretRef>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SecretRef {
    pub(crate) name: String,
    pub(crate) key: String,
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
pub(crate) fn literal(value: &str) -> String {
    value.replace('$', "$$")
}

/// Percent-encodes every byte but the URL-unreserved ones (letters, digits, `-._~`), for a
/// user or database name in a connection URL.
pub(crate) fn percent_encode(text: &str) -> String {
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

impl Context {
    /// The database's NetworkPolicy (statefulset target, `networkPolicy` on).
    pub(crate) fn network_policy(&self) -> Option<&Policy> {
        self.database.as_ref()?.policy.as_ref()
    }

    /// Builds the view model of a validated config. `vars` supplies `password.fromEnv`.
    pub(crate) fn new(config: &Config, vars: &dyn Vars) -> Context {
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
        let backup = config
            .backup
            .as_ref()
            .filter(|_| in_cluster)
            .map(|b| super::backup::view(config, b, tls.as_ref()));
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
            paths: &PATHS,
        }
    }
}

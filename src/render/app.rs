//! What the app gets: where it connects (a [`Connection`], decided per target), the variables
//! that say so, and its Deployment's view.

use serde::Serialize;

use super::blocks::Printed;
use super::context::{EnvVar, Map, PodView, Secret, SecretRef, literal, pod_view};
use super::postgres_files::tls_secret;
use super::targets;
use super::workload::{HttpGet, Probe, labels};
use crate::config::defaults::{APP_RESOURCES, ResolvedResources, resolve_resources};
use crate::config::model::{App, Config, SslMode, Target};
use crate::config::names::{APP_PASSWORD_KEY, app_role_name};
use crate::config::paths::TLS_DIR;

/// One connection value: written into the app's variables, or read from a Secret's key.
#[derive(Debug, Serialize)]
pub(crate) enum Field {
    Value(String),
    Secret(SecretRef),
}

/// How the app reaches the database; decided per target.
#[derive(Debug, Serialize)]
pub(crate) struct Connection {
    pub(crate) host: Field,
    pub(crate) port: Field,
    pub(crate) database: Field,
    pub(crate) user: Field,
    pub(crate) password: SecretRef,
    pub(crate) ssl_mode: Option<&'static str>,
    /// The CA file the app verifies the server with (`postgres.tls`).
    pub(crate) ssl_root_cert: Option<String>,
}

impl Connection {
    pub(crate) fn new(config: &Config, secret: &Secret) -> Connection {
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
pub(crate) struct AppView {
    pub(crate) name: String,
    pub(crate) image: String,
    pub(crate) replicas: i64,
    pub(crate) port: i64,
    pub(crate) env: Vec<EnvVar>,
    pub(crate) resources: ResolvedResources,
    /// Readiness and liveness: an HTTP GET of `app.healthPath`, else a TCP connect.
    pub(crate) probes: Printed<Probe>,
    pub(crate) uid: i64,
    pub(crate) read_only_root_filesystem: bool,
    /// The TLS Secret whose `ca.crt` the app mounts (`postgres.tls`).
    pub(crate) tls_secret: Option<String>,
    pub(crate) pod: PodView,
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

pub(crate) fn app_view(config: &Config, app: &App, conn: &Connection) -> AppView {
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
            .collect::<Vec<_>>()
            .into(),
        uid: app.run_as_user,
        read_only_root_filesystem: app.read_only_root_filesystem,
        tls_secret: conn.ssl_root_cert.as_ref().map(|_| tls_secret(config)),
        pod: pod_view(&app.pod, &labels(config, "app", &name), &Map::new()),
    }
}

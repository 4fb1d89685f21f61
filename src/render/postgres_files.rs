//! The files the database server reads that pgstate renders or mounts (statefulset target):
//! pg_hba.conf, the TLS Secret and its Certificate, the init scripts and the app role's
//! password.

use serde::Serialize;

use super::context::Map;
use crate::config::model::{Config, Target};
use crate::config::names::app_role_name;
use crate::config::paths::{INITDB_DIR, TLS_DIR};

/// The init script that sets the passwords and the app role (see templates/partials/roles.sh).
pub(crate) const ROLES_SCRIPT: &str = "99-pgstate-roles.sh";

/// The app's login role and where its password lives.
#[derive(Debug, Serialize)]
pub(crate) struct AppRole {
    pub(crate) name: String,
    /// The credentials Secret, mounted whole (optional) in the database container.
    pub(crate) secret: String,
    pub(crate) key: &'static str,
    pub(crate) dir: &'static str,
    /// Base64 of the password when pgstate renders the Secret.
    pub(crate) data: Option<String>,
}

/// TLS: the Secret with the server's files, and the Certificate pgstate renders for it.
#[derive(Debug, Serialize)]
pub(crate) struct TlsView {
    pub(crate) secret: String,
    pub(crate) dir: &'static str,
    pub(crate) ca_file: String,
    pub(crate) required: bool,
    pub(crate) certificate: Option<CertificateView>,
}

/// A cert-manager Certificate for the client and headless Services' names.
#[derive(Debug, Serialize)]
pub(crate) struct CertificateView {
    pub(crate) name: String,
    pub(crate) issuer: String,
    pub(crate) kind: &'static str,
    pub(crate) group: String,
    pub(crate) dns_names: Vec<String>,
}

/// The ConfigMap `<name>-hba` with pg_hba.conf.
#[derive(Debug, Serialize)]
pub(crate) struct HbaView {
    pub(crate) name: String,
    pub(crate) dir: &'static str,
    pub(crate) text: String,
}

/// The ConfigMap `<name>-initdb`: numbered SQL scripts, run in the order of their keys.
#[derive(Debug, Serialize)]
pub(crate) struct Initdb {
    pub(crate) name: String,
    pub(crate) mount_path: &'static str,
    pub(crate) scripts: Vec<Script>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Script {
    pub(crate) key: String,
    pub(crate) text: String,
    /// The template that prints the text instead (a script that names pgstate's folders).
    pub(crate) template: Option<&'static str>,
}

/// The template of the init script that sets the superuser's and the app role's passwords
/// from the mounted Secret files; the start step runs it again on every later start.
const ROLES_SH: &str = "partials/roles.sh";
/// The script that creates pg_stat_statements in the app's database.
pub(crate) const STATEMENTS_SQL: &str = "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;\n";

/// The libraries of `shared_preload_libraries`: the user's, then pg_stat_statements when
/// `statements` is on; each once.
pub(crate) fn preload_libraries(pg: &crate::config::model::Postgres) -> Vec<String> {
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
pub(crate) fn settings_with_preload(pg: &crate::config::model::Postgres) -> Map {
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
pub(crate) fn initdb(config: &Config, with_statements: bool) -> Option<Initdb> {
    let pg = &config.postgres;
    let mut scripts = Vec::new();
    if with_statements && pg.statements {
        scripts.push(Script {
            key: "00-pg-stat-statements.sql".into(),
            text: STATEMENTS_SQL.into(),
            template: None,
        });
    }
    if let Some(init) = &pg.init_sql {
        if let Some(sql) = &init.sql {
            scripts.push(Script {
                key: "10-init.sql".into(),
                text: sql.clone(),
                template: None,
            });
        }
        for (i, file) in init.files.iter().enumerate() {
            let base = file.path.rsplit('/').next().unwrap_or_default();
            scripts.push(Script {
                key: format!("{}-{base}", 11 + i),
                text: file.text.clone().unwrap_or_default(),
                template: None,
            });
        }
    }
    // Last, so the objects the init SQL creates pass to the app role on the first start.
    if config.target == Target::Statefulset {
        scripts.push(Script {
            key: ROLES_SCRIPT.into(),
            text: String::new(),
            template: Some(ROLES_SH),
        });
    }
    (!scripts.is_empty()).then(|| Initdb {
        name: format!("{}-initdb", config.name),
        mount_path: INITDB_DIR,
        scripts,
    })
}

/// The TLS Secret: `postgres.tls.secret`, or `<name>-tls`.
pub(crate) fn tls_secret(config: &Config) -> String {
    config
        .postgres
        .tls
        .as_ref()
        .and_then(|t| t.secret.clone())
        .unwrap_or_else(|| format!("{}-tls", config.name))
}

/// The names the server's certificate must hold: the client and headless Services, short and
/// qualified, and the pod's own name under the headless Service.
pub(crate) fn tls_dns_names(config: &Config) -> Vec<String> {
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

pub(crate) fn tls_view(config: &Config) -> Option<TlsView> {
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
pub(crate) fn hba_line(rule: &crate::config::model::HbaRule) -> String {
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
pub(crate) fn hba_text(config: &Config) -> String {
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

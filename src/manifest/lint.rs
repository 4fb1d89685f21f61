//! `pgstate check`'s lint rules: things that are valid but unwise. Each finding has a stable
//! id, a one-line why and a fix, and can be allowed in the config with a reason.

use serde::Serialize;

use crate::config::Loaded;
use crate::config::image::image_tag;
use crate::config::model::{ServiceType, Target};
use crate::error::Location;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub message: String,
    pub why: &'static str,
    pub fix: String,
    pub path: String,
    pub loc: Location,
}

/// Every rule: id, severity, and the one-line why.
pub const RULES: &[(&str, Severity, &str)] = &[
    (
        "PGS001",
        Severity::Warning,
        "anyone who can read the config (and its Git history) can read the password",
    ),
    (
        "PGS002",
        Severity::Warning,
        "a tag can be moved to a different image; a digest cannot",
    ),
    (
        "PGS003",
        Severity::Warning,
        "without a backup, a deleted volume or a bad migration loses the data",
    ),
    (
        "PGS004",
        Severity::Warning,
        "the default requests and limits are a guess; sized ones keep the database from being evicted or starved",
    ),
    (
        "PGS005",
        Severity::Warning,
        "objects in `default` mix with everything else and are easy to delete by accident",
    ),
    (
        "PGS006",
        Severity::Warning,
        "the cluster's default StorageClass may not keep data on delete, or may not exist",
    ),
    (
        "PGS007",
        Severity::Warning,
        "one dump is one corrupted file away from none",
    ),
    (
        "PGS008",
        Severity::Error,
        "pg_dump refuses to dump a server newer than itself",
    ),
    (
        "PGS009",
        Severity::Warning,
        "without a NetworkPolicy every pod in the cluster can reach the database port",
    ),
    (
        "PGS010",
        Severity::Warning,
        "a NodePort or LoadBalancer Service puts the database on the network outside the cluster",
    ),
    (
        "PGS011",
        Severity::Warning,
        "with retain: false, deleting or scaling the StatefulSet deletes the volume and the data",
    ),
    (
        "PGS012",
        Severity::Warning,
        "an app without an HTTP health check is routed traffic as soon as its port opens",
    ),
    (
        "PGS018",
        Severity::Warning,
        "trust lets anyone who reaches the port log in as any role, with no password",
    ),
    (
        "PGS020",
        Severity::Error,
        "a new PostgreSQL major cannot start on the old major's data directory: the pod crash-loops",
    ),
    (
        "PGS025",
        Severity::Warning,
        "a toleration without a key tolerates every taint, so the database may run on control-plane or other reserved nodes",
    ),
    (
        "PGS026",
        Severity::Warning,
        "this setting runs a command, loads code or chooses files as the postgres user; a reviewer should know it is there",
    ),
];

fn rule(id: &'static str) -> (Severity, &'static str) {
    RULES
        .iter()
        .find(|(r, _, _)| *r == id)
        .map_or((Severity::Warning, ""), |(_, s, w)| (*s, *w))
}

struct Collect<'a> {
    loaded: &'a Loaded,
    found: Vec<Finding>,
}

impl Collect<'_> {
    fn add(
        &mut self,
        id: &'static str,
        path: &[&str],
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let (severity, why) = rule(id);
        self.found.push(Finding {
            id,
            severity,
            message: message.into(),
            why,
            fix: fix.into(),
            path: path.join("."),
            loc: self.loaded.root.place(path),
        });
    }
}

/// The major version in an image tag such as `17.2`, `15-alpine` or `16.4-bookworm`.
fn major(image: &str) -> Option<u32> {
    image_tag(image)?.split(['.', '-']).next()?.parse().ok()
}

/// Runs every rule on one config; findings in file order.
pub fn lint(loaded: &Loaded) -> Vec<Finding> {
    let config = &loaded.config;
    let pg = &config.postgres;
    let mut c = Collect {
        loaded,
        found: Vec::new(),
    };
    if pg.password.value.is_some() {
        c.add(
            "PGS001",
            &["postgres", "password", "value"],
            "the password is plain text in the config",
            "keep it in a Secret (password.secret) or read it at render time (password.fromEnv)",
        );
    }
    if config
        .redis
        .as_ref()
        .is_some_and(|r| r.password.value.is_some())
    {
        c.add(
            "PGS001",
            &["redis", "password", "value"],
            "the Redis password is plain text in the config",
            "keep it in a Secret (redis.password.secret) or read it at render time (redis.password.fromEnv)",
        );
    }
    if let Some(redis) = config
        .redis
        .as_ref()
        .filter(|r| !r.image.contains("@sha256:"))
    {
        c.add(
            "PGS002",
            &["redis", "image"],
            format!("the Redis image `{}` is not pinned by digest", redis.image),
            "pin it with @sha256:<digest>",
        );
    }
    // The image that runs: none for an external database; Percona's build for percona.
    let image = match config.target {
        Target::External => None,
        Target::Percona => crate::render::targets::percona_image(&pg.image),
        _ => Some(pg.image.clone()),
    };
    if let Some(image) = image.filter(|i| !i.contains("@sha256:")) {
        let what = if image == pg.image {
            format!("the database image `{image}` is not pinned by digest")
        } else {
            format!(
                "the database runs `{image}` (Percona's build of `{}`), which is not pinned by digest",
                pg.image
            )
        };
        c.add(
            "PGS002",
            &["postgres", "image"],
            what,
            format!(
                "set postgres.image: {}@sha256:<digest> (docker buildx imagetools inspect {image} shows it)",
                image.split('@').next().unwrap_or_default(),
            ),
        );
    }
    let exporter = &pg.metrics;
    if exporter.enabled
        && config.target == Target::Statefulset
        && !exporter.image.contains("@sha256:")
    {
        c.add(
            "PGS002",
            &["postgres", "metrics", "image"],
            format!(
                "the metrics exporter image `{}` is not pinned by digest",
                exporter.image
            ),
            format!(
                "set postgres.metrics.image: {}@sha256:<digest>",
                exporter.image.split('@').next().unwrap_or_default()
            ),
        );
    }
    if let Some(app) = &config.app
        && !app.image.contains("@sha256:")
    {
        c.add(
            "PGS002",
            &["app", "image"],
            format!("the app image `{}` is not pinned by digest", app.image),
            "pin it with @sha256:<digest>",
        );
    }
    if config.target == Target::Statefulset {
        match &config.backup {
            None => c.add(
                "PGS003",
                &["name"],
                "there is no backup",
                "add `backup: {schedule: \"0 2 * * *\", keep: 7}`",
            ),
            Some(b) => {
                if b.keep < 2 {
                    c.add(
                        "PGS007",
                        &["backup", "keep"],
                        format!("only {} dump is kept", b.keep),
                        "keep at least 2, e.g. keep: 7",
                    );
                }
                if let Some(image) = &b.image
                    && let (Some(client), Some(server)) = (major(image), major(&pg.image))
                    && client < server
                {
                    c.add("PGS008", &["backup", "image"], format!("the backup image is PostgreSQL {client}, the server {server}"), "leave backup.image unset (it defaults to postgres.image) or use the same major version");
                }
            }
        }
        if loaded.root.entry(&["postgres", "resources"]).is_none() {
            c.add(
                "PGS004",
                &["postgres"],
                "postgres.resources is not set; the defaults (250m/512Mi, limits 1/1Gi) are used",
                "set postgres.resources.requests and limits for your load",
            );
        }
        if pg.storage.class.is_none() {
            c.add("PGS006", &["postgres", "storage"], "postgres.storage.class is not set", "name the StorageClass (kubectl get storageclass), ideally one with reclaimPolicy Retain");
        }
        if !pg.storage.retain {
            c.add(
                "PGS011",
                &["postgres", "storage", "retain"],
                "the volume is deleted with the StatefulSet",
                "set retain: true unless this database is disposable",
            );
        }
        if !config.network_policy {
            c.add(
                "PGS009",
                &["networkPolicy"],
                "networkPolicy is off",
                "set networkPolicy: true (the default)",
            );
        }
        if config.service.kind != ServiceType::ClusterIP {
            c.add("PGS010", &["service", "type"], format!("the database Service is a {}", config.service.kind.as_str()), "use ClusterIP and reach the database from inside the cluster (or kubectl port-forward)");
        }
    }
    if config.namespace == "default" {
        c.add(
            "PGS005",
            &["namespace"],
            "the objects go to the `default` namespace",
            "set namespace: to a namespace of this application",
        );
    }
    if let Some(app) = &config.app
        && app.health_path.is_none()
    {
        c.add(
            "PGS012",
            &["app"],
            "the app's probes only open its TCP port",
            "set app.healthPath to an HTTP health endpoint, e.g. /healthz",
        );
    }
    if let Some(pw) = config.app.as_ref().and_then(|a| a.password.as_ref())
        && pw.value.is_some()
    {
        c.add(
            "PGS001",
            &["app", "password", "value"],
            "the app role's password is written in the config",
            "use app.password.fromEnv, or put it in the credentials Secret under key app-password",
        );
    }
    for (i, rule) in pg.hba.iter().enumerate() {
        if rule.method == crate::config::model::HbaMethod::Trust && rule.address.is_some() {
            let (severity, why) = self::rule("PGS018");
            let path = format!("postgres.hba[{i}].method");
            c.found.push(Finding {
                id: "PGS018",
                severity,
                message: format!(
                    "a pg_hba rule trusts connections from {}",
                    rule.address.as_deref().unwrap_or_default()
                ),
                why,
                fix: "use method: scram-sha-256 (or cert with hostssl)".into(),
                loc: loaded.root.find(&path),
                path,
            });
        }
    }
    boundary_findings(&mut c);
    c.found.sort_by_key(|f| (f.loc.line, f.loc.col));
    c.found
}

/// PGS020: `postgres.image` names another major version than the deployed one (`pgstate check
/// --deployed-major N`). Without a known deployed version there is nothing to compare.
pub fn major_change(loaded: &Loaded, deployed: i64) -> Option<Finding> {
    let config = &loaded.config;
    let image = &config.postgres.image;
    let new = crate::config::image::postgres_major(image)?;
    if new == deployed || config.target == Target::External {
        return None;
    }
    let mut c = Collect {
        loaded,
        found: Vec::new(),
    };
    let path = &["postgres", "image"];
    if new < deployed {
        c.add(
            "PGS020",
            path,
            format!("postgres.image is PostgreSQL {new}, older than the deployed {deployed}"),
            format!("a major version cannot go back: keep the image at {deployed}, or restore a dump into a new database"),
        );
    } else if config.target == Target::Cloudnativepg {
        let note = crate::render::targets::cnpg_major_note(config, deployed, new);
        c.add(
            "PGS020",
            path,
            format!("postgres.image moves the deployed PostgreSQL {deployed} to {new}. {note}"),
            format!("take a backup, apply, then pass --deployed-major {new}; `pgstate upgrade --from {deployed}` prints the Cluster"),
        );
    } else if config.target == Target::Percona {
        c.add(
            "PGS020",
            path,
            format!("postgres.image moves the deployed PostgreSQL {deployed} to {new}; the Percona operator does not upgrade a major version by a changed PerconaPGCluster"),
            format!("apply the PerconaPGUpgrade of `pgstate upgrade --from {deployed}` instead of the changed PerconaPGCluster; after it, pass --deployed-major {new}"),
        );
    } else {
        c.add(
            "PGS020",
            path,
            format!("postgres.image moves the deployed PostgreSQL {deployed} to {new}, and the {new} server cannot start on the {deployed} data directory (\"database files are incompatible with server\")"),
            format!("run `pgstate upgrade --from {deployed}` and follow its runbook (docs/upgrade.md); after it, pass --deployed-major {new}"),
        );
    }
    c.found.pop()
}

/// Findings about the input boundary (docs/threat-model.md): what a reviewer should see.
fn boundary_findings(c: &mut Collect<'_>) {
    use crate::config::validate::boundary;
    let pg = &c.loaded.config.postgres;
    for (i, toleration) in pg.tolerations.iter().enumerate() {
        if boundary::tolerates_every_taint(toleration) {
            let (severity, why) = rule("PGS025");
            let path = format!("postgres.tolerations[{i}]");
            c.found.push(Finding {
                id: "PGS025",
                severity,
                message: "this toleration has operator Exists and no key: it tolerates every taint"
                    .to_owned(),
                why,
                fix: "name the taint's key (e.g. key: dedicated, value: database), so only the nodes meant for the database take it".to_owned(),
                loc: c.loaded.root.find(&path),
                path,
            });
        }
    }
    for key in &pg.allow_unsafe_settings {
        if let Some(value) = pg.settings.get(key)
            && let Some(why) = boundary::unsafe_setting_value(key, value)
        {
            c.add(
                "PGS026",
                &["postgres", "settings", key],
                format!("`{key}` {why}; postgres.allowUnsafeSettings allows it"),
                "review its value; allow this finding with a reason in lint.allow once reviewed",
            );
        }
    }
}

//! `pgstate check`'s lint rules: things that are valid but unwise. Each finding has a stable
//! id, a one-line why and a fix, and can be allowed in the config with a reason.

use crate::config::Loaded;
use crate::config::image::{image_tag, percona_image};
use crate::config::lint_id::{LintId, Severity};
use crate::config::model::{Config, ServiceType, Target};
use crate::error::Location;

#[derive(Debug, Clone)]
pub struct Finding {
    pub(crate) id: &'static str,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    pub(crate) why: &'static str,
    pub(crate) fix: String,
    pub(crate) path: String,
    pub(crate) loc: Location,
}

struct Collect<'a> {
    loaded: &'a Loaded,
    found: Vec<Finding>,
}

impl Collect<'_> {
    fn add(
        &mut self,
        id: LintId,
        path: &[&str],
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.found.push(Finding {
            id: id.as_str(),
            severity: id.severity(),
            message: message.into(),
            why: id.why(),
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
            LintId::PlainPassword,
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
            LintId::PlainPassword,
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
            LintId::UnpinnedImage,
            &["redis", "image"],
            format!("the Redis image `{}` is not pinned by digest", redis.image),
            "pin it with @sha256:<digest>",
        );
    }
    // The image that runs: none for an external database; Percona's build for percona.
    let image = match config.target {
        Target::External => None,
        Target::Percona => percona_image(&pg.image),
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
            LintId::UnpinnedImage,
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
            LintId::UnpinnedImage,
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
            LintId::UnpinnedImage,
            &["app", "image"],
            format!("the app image `{}` is not pinned by digest", app.image),
            "pin it with @sha256:<digest>",
        );
    }
    if config.target == Target::Statefulset {
        match &config.backup {
            None => c.add(
                LintId::NoBackup,
                &["name"],
                "there is no backup",
                "add `backup: {schedule: \"0 2 * * *\", keep: 7}`",
            ),
            Some(b) => {
                if b.keep < 2 {
                    c.add(
                        LintId::OneDump,
                        &["backup", "keep"],
                        format!("only {} dump is kept", b.keep),
                        "keep at least 2, e.g. keep: 7",
                    );
                }
                if let Some(image) = &b.image
                    && let (Some(client), Some(server)) = (major(image), major(&pg.image))
                    && client < server
                {
                    c.add(LintId::OldBackupClient, &["backup", "image"], format!("the backup image is PostgreSQL {client}, the server {server}"), "leave backup.image unset (it defaults to postgres.image) or use the same major version");
                }
            }
        }
        if loaded.root.entry(&["postgres", "resources"]).is_none() {
            c.add(
                LintId::DefaultResources,
                &["postgres"],
                "postgres.resources is not set; the defaults (250m/512Mi, limits 1/1Gi) are used",
                "set postgres.resources.requests and limits for your load",
            );
        }
        if pg.storage.class.is_none() {
            c.add(LintId::DefaultStorageClass, &["postgres", "storage"], "postgres.storage.class is not set", "name the StorageClass (kubectl get storageclass), ideally one with reclaimPolicy Retain");
        }
        if !pg.storage.retain {
            c.add(
                LintId::VolumeNotRetained,
                &["postgres", "storage", "retain"],
                "the volume is deleted with the StatefulSet",
                "set retain: true unless this database is disposable",
            );
        }
        if !config.network_policy {
            c.add(
                LintId::NoNetworkPolicy,
                &["networkPolicy"],
                "networkPolicy is off",
                "set networkPolicy: true (the default)",
            );
        }
        if config.service.kind != ServiceType::ClusterIP {
            c.add(LintId::ExposedService, &["service", "type"], format!("the database Service is a {}", config.service.kind.as_str()), "use ClusterIP and reach the database from inside the cluster (or kubectl port-forward)");
        }
    }
    if config.namespace == "default" {
        c.add(
            LintId::DefaultNamespace,
            &["namespace"],
            "the objects go to the `default` namespace",
            "set namespace: to a namespace of this application",
        );
    }
    if let Some(app) = &config.app
        && app.health_path.is_none()
    {
        c.add(
            LintId::NoHealthCheck,
            &["app"],
            "the app's probes only open its TCP port",
            "set app.healthPath to an HTTP health endpoint, e.g. /healthz",
        );
    }
    if let Some(pw) = config.app.as_ref().and_then(|a| a.password.as_ref())
        && pw.value.is_some()
    {
        c.add(
            LintId::PlainPassword,
            &["app", "password", "value"],
            "the app role's password is written in the config",
            "use app.password.fromEnv, or put it in the credentials Secret under key app-password",
        );
    }
    for (i, rule) in pg.hba.iter().enumerate() {
        if rule.method == crate::config::model::HbaMethod::Trust && rule.address.is_some() {
            let id = LintId::TrustAuth;
            let path = format!("postgres.hba[{i}].method");
            c.found.push(Finding {
                id: id.as_str(),
                severity: id.severity(),
                message: format!(
                    "a pg_hba rule trusts connections from {}",
                    rule.address.as_deref().unwrap_or_default()
                ),
                why: id.why(),
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
pub(crate) fn major_change(loaded: &Loaded, deployed: i64) -> Option<Finding> {
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
            LintId::MajorChange,
            path,
            format!("postgres.image is PostgreSQL {new}, older than the deployed {deployed}"),
            format!("a major version cannot go back: keep the image at {deployed}, or restore a dump into a new database"),
        );
    } else if config.target == Target::Cloudnativepg {
        let note = cnpg_major_note(config, deployed, new);
        c.add(
            LintId::MajorChange,
            path,
            format!("postgres.image moves the deployed PostgreSQL {deployed} to {new}. {note}"),
            format!("take a backup, apply, then pass --deployed-major {new}; `pgstate upgrade --from {deployed}` prints the Cluster"),
        );
    } else if config.target == Target::Percona {
        c.add(
            LintId::MajorChange,
            path,
            format!("postgres.image moves the deployed PostgreSQL {deployed} to {new}; the Percona operator does not upgrade a major version by a changed PerconaPGCluster"),
            format!("apply the PerconaPGUpgrade of `pgstate upgrade --from {deployed}` instead of the changed PerconaPGCluster; after it, pass --deployed-major {new}"),
        );
    } else {
        c.add(
            LintId::MajorChange,
            path,
            format!("postgres.image moves the deployed PostgreSQL {deployed} to {new}, and the {new} server cannot start on the {deployed} data directory (\"database files are incompatible with server\")"),
            format!("run `pgstate upgrade --from {deployed}` and follow its runbook (docs/upgrade.md); after it, pass --deployed-major {new}"),
        );
    }
    c.found.pop()
}

/// What CloudNativePG does when the Cluster's image changes major.
pub(crate) fn cnpg_major_note(config: &Config, from: i64, to: i64) -> String {
    format!(
        "CloudNativePG (1.26 or newer) upgrades Cluster {ns}/{name} from {from} to {to} in place when this Cluster is applied: it shuts every instance down, runs pg_upgrade --link in a Job on the primary's volume, starts the primary on {to} and re-creates the replicas from it. Take a backup first (kubectl cnpg backup {name}); an older operator would start {to} on the {from} data and fail.",
        ns = config.namespace,
        name = config.name,
    )
}

/// Findings about the input boundary (docs/threat-model.md): what a reviewer should see.
fn boundary_findings(c: &mut Collect<'_>) {
    use crate::config::validate::boundary;
    let pg = &c.loaded.config.postgres;
    for (i, toleration) in pg.tolerations.iter().enumerate() {
        if boundary::tolerates_every_taint(toleration) {
            let id = LintId::TolerateEveryTaint;
            let path = format!("postgres.tolerations[{i}]");
            c.found.push(Finding {
                id: id.as_str(),
                severity: id.severity(),
                message: "this toleration has operator Exists and no key: it tolerates every taint"
                    .to_owned(),
                why: id.why(),
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
                LintId::UnsafeSetting,
                &["postgres", "settings", key],
                format!("`{key}` {why}; postgres.allowUnsafeSettings allows it"),
                "review its value; allow this finding with a reason in lint.allow once reviewed",
            );
        }
    }
}

//! Names, image and logins: the release's object names, the image and its version, `auth.*`.

use serde_json::json;

use super::values::Values;
use super::{Options, out};
use crate::config::node::Kind;

/// The chart's fullname: fullnameOverride, or `<release>-<nameOverride or postgresql>`
/// (just the release when it already contains that name), truncated to 63 as Helm does.
pub(super) fn fullname(
    v: &mut Values<'_>,
    release: Option<&str>,
) -> (Option<String>, Option<String>) {
    let global = v.string("global.postgresql.fullnameOverride");
    let over = v.string("fullnameOverride");
    let name_override = v.string("nameOverride");
    if let Some(full) = global.clone().or(over.clone()) {
        let from = if global.is_some() {
            "global.postgresql.fullnameOverride"
        } else {
            "fullnameOverride"
        };
        return (Some(trunc63(&full)), Some(from.to_owned()));
    }
    let chart = name_override.unwrap_or_else(|| "postgresql".to_owned());
    let Some(release) = release else {
        return (None, None);
    };
    let full = if release.contains(&chart) {
        release.to_owned()
    } else {
        format!("{release}-{chart}")
    };
    (Some(trunc63(&full)), None)
}

pub(super) fn trunc63(s: &str) -> String {
    s.chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

pub(super) fn names(v: &mut Values<'_>, cfg: &mut out::Config, options: &Options) {
    let (full, from) = fullname(v, options.release.as_deref());
    let known = full.is_some();
    let full = full.unwrap_or_else(|| "<release>-postgresql".to_owned());
    cfg.release_fullname = full.clone();
    let name = match &options.name {
        Some(n) => n.clone(),
        None if known => format!("{full}-pg"),
        None => "postgresql-pg".to_owned(),
    };
    cfg.set(
        "name",
        json!(name),
        &format!("the release's objects are named {full}; a new name lets both run side by side"),
    );
    if let Some(from) = &from {
        cfg.origin("name", v.loc(from), from);
        v.map(
            from,
            "name (with -pg: the release keeps its own while both run)",
        );
    }
    if !known {
        v.general.push(
            "the release's object names come from its Helm release name, which a values file does not hold: pass --release NAME to name them in this report".to_owned(),
        );
    }
    cfg.name = name;
    let namespace = options
        .namespace
        .clone()
        .or_else(|| {
            let ns = v.string("namespaceOverride");
            if ns.is_some() {
                v.map("namespaceOverride", "namespace");
                cfg.origin("namespace", v.loc("namespaceOverride"), "namespaceOverride");
            }
            ns
        })
        .unwrap_or_else(|| "default".to_owned());
    cfg.set("namespace", json!(namespace), "");
    if let Some(labels) = v.string_map("commonLabels") {
        v.map("commonLabels", "labels");
        cfg.origin("labels", v.loc("commonLabels"), "commonLabels");
        cfg.set("labels", json!(labels), "");
    }
}

/// The major and minor version of a Bitnami image tag such as `17.6.0-debian-12-r4`.
pub(super) fn version(tag: &str) -> Option<(u32, Option<u32>)> {
    let mut parts = tag.split(['-', '.']);
    let major: u32 = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok());
    (9..=30).contains(&major).then_some((major, minor))
}

pub(super) fn image(v: &mut Values<'_>, cfg: &mut out::Config) {
    let registry = v.string("image.registry");
    let repository = v.string("image.repository");
    let tag = v.string("image.tag");
    let digest = v.string("image.digest");
    let global_registry = v.string("global.imageRegistry");
    let (image, comment) = match tag.as_deref().and_then(version) {
        Some((major, Some(minor))) => (
            format!("postgres:{major}.{minor}"),
            format!(
                "the official image of image.tag {}",
                tag.as_deref().unwrap_or("")
            ),
        ),
        Some((major, None)) => (
            format!("postgres:{major}"),
            format!(
                "the official image of image.tag {}",
                tag.as_deref().unwrap_or("")
            ),
        ),
        None => {
            if let Some(t) = &tag {
                v.note(
                    "image.tag",
                    format!("`{t}` names no PostgreSQL version"),
                    "set postgres.image to the official image of the major version the release runs (kubectl get statefulset -o jsonpath='{..image}')",
                );
            } else {
                v.general.push("image.tag is not set, so the release runs its chart's default (PostgreSQL 17 for charts 16 and 17): postgres:17 is written; check the running image and set the same major, or a newer one (the dump and restore of the runbook moves data to a newer major too)".to_owned());
            }
            (
                "postgres:17".to_owned(),
                "the chart's default major version".to_owned(),
            )
        }
    };
    cfg.set("postgres.image", json!(image), &comment);
    if tag.is_some() {
        v.map(
            "image.tag",
            "postgres.image (the official postgres image, same version)",
        );
        cfg.origin("postgres.image", v.loc("image.tag"), "image.tag");
    }
    if let Some(repo) = &repository {
        let bitnami = repo.rsplit('/').next() == Some("postgresql");
        if bitnami {
            v.map(
                "image.repository",
                "postgres.image (official image instead of Bitnami's)",
            );
        } else {
            v.note(
                "image.repository",
                format!("`{repo}` is not the Bitnami PostgreSQL image; pgstate writes the official `postgres` image"),
                "if the image adds extensions (PostGIS, pgvector), set postgres.image to an image built on the official one, e.g. postgis/postgis or pgvector/pgvector",
            );
        }
    }
    for (path, value) in [
        ("image.registry", &registry),
        ("global.imageRegistry", &global_registry),
    ] {
        if let Some(r) = value
            && r != "docker.io"
        {
            v.note(
                path,
                format!("images came from the registry {r}; pgstate names Docker Hub's official image"),
                format!("mirror the official image and write postgres.image: {r}/library/{image} (the backup job uses the same image)"),
            );
        }
    }
    if let Some(d) = &digest {
        v.note(
            "image.digest",
            format!("{d} is the digest of a Bitnami image; the official image has others"),
            format!("pin the official image by its digest: postgres.image: {image}@sha256:... (docker buildx imagetools inspect {image})"),
        );
    }
    v.note_if_set(
        "image.pullPolicy",
        "pgstate pulls with imagePullPolicy Always (so a pinned tag is checked against the registry)",
        "nothing; pin the image by digest to make pulls reproducible",
    );
    v.note_if_set(
        "image.debug",
        "the Bitnami image's debug logs have no equivalent in the official image",
        "raise log_min_messages in postgres.settings",
    );
    let mut secrets = Vec::new();
    for path in ["global.imagePullSecrets", "image.pullSecrets"] {
        if let Some(list) = v.take(path) {
            let Kind::Seq(items) = &list.kind else {
                v.wrong_type(path, list, "a list of Secret names");
                continue;
            };
            for item in items {
                let name = match (&item.kind, item.get("name")) {
                    (Kind::Scalar { text, .. }, _) => Some(text.clone()),
                    (Kind::Map(_), Some(n)) => n.as_str().map(str::to_owned),
                    _ => None,
                };
                match name {
                    Some(n) if !secrets.contains(&n) => secrets.push(n),
                    Some(_) => {}
                    None => v.wrong_type(path, item, "a Secret name (or {name: NAME})"),
                }
            }
            if !items.is_empty() {
                v.map(
                    path,
                    "postgres.pod.imagePullSecrets, backup.pod.imagePullSecrets",
                );
                cfg.origin("postgres.pod.imagePullSecrets", list.loc, path);
            }
        }
    }
    if !secrets.is_empty() {
        cfg.set("postgres.pod.imagePullSecrets", json!(secrets), "");
        cfg.pull_secrets = secrets;
    }
}

pub(super) fn auth(v: &mut Values<'_>, cfg: &mut out::Config) {
    let pick = |v: &mut Values<'_>, key: &str| -> Option<(String, String)> {
        let global = format!("global.postgresql.auth.{key}");
        let local = format!("auth.{key}");
        let g = v.string(&global);
        let l = v.string(&local);
        g.map(|x| (x, global)).or(l.map(|x| (x, local)))
    };
    let username = pick(v, "username");
    let database = pick(v, "database");
    let existing = pick(v, "existingSecret");
    let admin_key = pick(v, "secretKeys.adminPasswordKey");
    let user_key = pick(v, "secretKeys.userPasswordKey");
    let postgres_password = pick(v, "postgresPassword");
    let password = pick(v, "password");
    let enable_postgres = v.boolean("auth.enablePostgresUser").unwrap_or(true);
    let user = username
        .as_ref()
        .map_or_else(|| "postgres".to_owned(), |(u, _)| u.clone());
    let custom_user = user != "postgres";
    cfg.set(
        "postgres.database",
        json!(database.as_ref().map_or("postgres", |(d, _)| d.as_str())),
        if database.is_some() {
            ""
        } else {
            "the chart's default database"
        },
    );
    if let Some((_, from)) = &database {
        v.map(from, "postgres.database");
        cfg.origin("postgres.database", v.loc(from), from);
    }
    cfg.set("postgres.user", json!(user), "");
    if let Some((_, from)) = &username {
        v.map(from, "postgres.user");
        cfg.origin("postgres.user", v.loc(from), from);
    }
    if custom_user && enable_postgres {
        v.general.push(format!(
            "the release has two logins, `postgres` (superuser) and `{user}` (owner of the database); pgstate's image makes one, `{user}`, and it is the superuser. Log in as `{user}` where you used `postgres`; give the app a login of its own with app.role"
        ));
    }
    if !enable_postgres {
        v.map("auth.enablePostgresUser", "(one login: postgres.user)");
    }
    let (used_key, other_key, why_other) = if custom_user {
        (
            user_key,
            admin_key,
            "the key of the superuser `postgres`, which pgstate does not make (one login: postgres.user)",
        )
    } else {
        (
            admin_key,
            user_key,
            "the key of a second login, which pgstate does not make without auth.username (one login: postgres.user)",
        )
    };
    if let Some((other, from)) = other_key {
        v.note(
            &from,
            why_other,
            format!("the runbook's dump can still log in with key {other} of the release's Secret while the release runs"),
        );
    }
    let default_key = if custom_user {
        "password"
    } else {
        "postgres-password"
    };
    let (key, key_from) = used_key.map_or((default_key.to_owned(), None), |(k, f)| (k, Some(f)));
    match &existing {
        Some((secret, from)) => {
            cfg.set(
                "postgres.password",
                json!({"secret": secret, "key": key}),
                "the release's existing Secret: it outlives the release",
            );
            v.map(from, "postgres.password.secret");
            cfg.origin("postgres.password", v.loc(from), from);
            if let Some(f) = &key_from {
                v.map(f, "postgres.password.key");
            }
        }
        None => {
            let secret = format!("{}-credentials", cfg.name);
            cfg.set(
                "postgres.password",
                json!({"secret": secret, "key": "password"}),
                "create it from the release's Secret (docs/from-bitnami.md, step 1)",
            );
            if let Some(f) = &key_from {
                v.map(f, "(the key the runbook copies the password from)");
            }
            v.general.push(format!(
                "the release keeps its password in Secret {}, key {key}, which `helm uninstall` deletes: copy it into Secret {secret} first (kubectl create secret generic {secret} --from-literal=password=\"$(kubectl get secret {} -o jsonpath='{{.data.{}}}' | base64 -d)\")",
                cfg.release_fullname,
                cfg.release_fullname,
                key.replace('.', "\\.")
            ));
        }
    }
    for pw in [&postgres_password, &password].into_iter().flatten() {
        v.note(
            &pw.1,
            "a password in plain text in the values file: pgstate never writes one into the config",
            "keep it in a Secret (postgres.password.secret); then remove it from the values file and from git",
        );
    }
    for key in [
        "replicationUsername",
        "replicationPassword",
        "secretKeys.replicationPasswordKey",
    ] {
        v.note_if_set(
            &format!("auth.{key}"),
            "replication credentials belong to read replicas, which pgstate leaves to an operator",
            "with target: cloudnativepg or percona the operator makes its own replication user",
        );
    }
    for key in [
        "metricsUsername",
        "metricsPassword",
        "secretKeys.metricsPasswordKey",
    ] {
        v.note_if_set(
            &format!("auth.{key}"),
            "pgstate's exporter logs in as postgres.user with the mounted password file",
            "nothing; a separate monitoring login can be made with initSql",
        );
    }
    for key in [
        "global.postgresql.auth.secretKeys.replicationPasswordKey",
        "global.postgresql.auth.secretKeys.metricsPasswordKey",
    ] {
        v.note_if_set(
            key,
            "pgstate has no replication or metrics login",
            "nothing",
        );
    }
    if v.boolean("auth.usePasswordFiles") == Some(false) {
        v.note(
            "auth.usePasswordFiles",
            "pgstate always mounts the password as a file (POSTGRES_PASSWORD_FILE), never as a variable",
            "nothing",
        );
    }
}

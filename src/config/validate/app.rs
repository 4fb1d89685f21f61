//! `app:`: the app's image, port, probes, replicas and the variables it gets.

use super::names::{dns_hint, env_map, is_dns_label, is_env_name};
use super::postgres::{RESERVED_CONNECTIONS, max_connections};
use super::resources::resources;
use super::{Checker, port};
use crate::config::defaults::APP_RESOURCES;
use crate::config::image::{image_hint, image_problem};
use crate::config::model::{Config, Target};

pub(super) fn app_rules(c: &mut Checker<'_>, config: &Config, app: &crate::config::model::App) {
    if let Some(name) = &app.name
        && !is_dns_label(name)
    {
        c.value(
            &["app", "name"],
            format!("`{name}` is not a valid Kubernetes name"),
            dns_hint(name),
        );
    }
    if app.name.as_deref() == Some(config.name.as_str()) {
        c.value(
            &["app", "name"],
            "the app and the database would have the same name",
            format!("the default is {}-app", config.name),
        );
    }
    if config.backup.is_some()
        && app.name.as_deref() == Some(format!("{}-backup", config.name).as_str())
    {
        c.value(
            &["app", "name"],
            "the app and the backup job would have the same name (and the same NetworkPolicy)",
            format!("the default is {}-app", config.name),
        );
    }
    if config.redis.is_some()
        && app.name.as_deref() == Some(crate::config::names::redis_name(config).as_str())
    {
        c.value(
            &["app", "name"],
            "the app and Redis would have the same name (and the same NetworkPolicy)",
            format!("the default is {}-app", config.name),
        );
    }
    if let Some(problem) = image_problem(&app.image) {
        c.value(
            &["app", "image"],
            problem,
            image_hint(&app.image, "e.g. ghcr.io/acme/backend:1.4.2"),
        );
    }
    port(c, &["app", "port"], app.port);
    if app.replicas < 0 {
        c.value(
            &["app", "replicas"],
            "replicas cannot be negative",
            "e.g. replicas: 2",
        );
    }
    if app.pool_size < 1 {
        c.value(
            &["app", "poolSize"],
            "poolSize must be at least 1",
            "the number of connections each replica opens, e.g. 10",
        );
    }
    if app.run_as_user < 1 {
        c.value(
            &["app", "runAsUser"],
            "the app must run as a non-root user",
            "e.g. 10001",
        );
    }
    let budget = app.replicas * app.pool_size + RESERVED_CONNECTIONS;
    let max = max_connections(config);
    if budget > max {
        // Point at a number the file sets: max_connections, else poolSize, else replicas.
        let written = |p: &[&str]| c.root.entry(p).is_some();
        let path: &[&str] = if config.postgres.settings.contains_key("max_connections") {
            &["postgres", "settings", "max_connections"]
        } else if written(&["app", "poolSize"]) || !written(&["app", "replicas"]) {
            &["app", "poolSize"]
        } else {
            &["app", "replicas"]
        };
        c.value(path, format!("{} replicas x poolSize {} + {RESERVED_CONNECTIONS} reserved = {budget} connections, but max_connections is {max}", app.replicas, app.pool_size), format!("set postgres.settings.max_connections: {budget} (or more), or lower app.replicas or app.poolSize"));
    }
    let ce = &app.connection_env;
    let mut names: Vec<(&str, &str)> = vec![
        ("host", &ce.host),
        ("port", &ce.port),
        ("database", &ce.database),
        ("user", &ce.user),
        ("password", &ce.password),
    ];
    if let Some(url) = &ce.url {
        names.push(("url", url));
    }
    if config.target == Target::External {
        names.push(("sslMode", &ce.ssl_mode));
    }
    if config.redis.is_some() {
        names.extend([
            ("redisHost", ce.redis_host.as_str()),
            ("redisPort", &ce.redis_port),
            ("redisPassword", &ce.redis_password),
        ]);
        if let Some(url) = &ce.redis_url {
            names.push(("redisUrl", url));
        }
    }
    for (i, (key, name)) in names.iter().enumerate() {
        if !is_env_name(name) {
            c.value(
                &["app", "connectionEnv", key],
                format!("`{name}` is not a valid variable name"),
                "e.g. DB_HOST",
            );
        } else if let Some((other, _)) = names[..i].iter().find(|(_, n)| n == name) {
            c.value(
                &["app", "connectionEnv", key],
                format!("`{name}` is also the name for {other}"),
                "give each connection variable its own name",
            );
        }
    }
    let reserved: Vec<(&str, String)> = names
        .iter()
        .map(|(key, name)| {
            (
                *name,
                format!(
                    "pgstate sets {name} to the database's {key}; remove it here, or give pgstate's another name with app.connectionEnv.{key}"
                ),
            )
        })
        .collect();
    env_map(c, &["app", "env"], &app.env, &reserved);
    resources(c, &["app", "resources"], &app.resources, &APP_RESOURCES);
    if let Some(path) = &app.health_path
        && !path.starts_with('/')
    {
        c.value(
            &["app", "healthPath"],
            format!("`{path}` does not start with /"),
            "e.g. /healthz",
        );
    }
}

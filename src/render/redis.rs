//! The view model of `redis:`: a Redis StatefulSet beside the database.
//!
//! The password reaches Redis through neither the command line nor the environment: the
//! container mounts the Secret as a file, and a short start script appends a `requirepass` line
//! (the password escaped for redis.conf) to a copy of the rendered redis.conf in a memory-backed
//! folder only the Redis user can read, then execs `redis-server` on that copy. The probes read
//! the same file into `REDISCLI_AUTH` for `redis-cli ping`, which must answer PONG.

use std::collections::BTreeMap;

use serde::Serialize;

use super::context::{
    Map, ProbeView, SecretRef, base64, labels, literal, probe, rendered_password, selector,
};
use crate::config::defaults::{REDIS_RESOURCES, ResolvedResources, resolve_resources};
use crate::config::model::{Config, Redis};
use crate::config::names::redis_name;
use crate::config::units::{parse_quantity, parse_redis_memory};
use crate::config::vars::Vars;

/// Redis runs as pgstate's high UID, like the database: redis-server needs no passwd entry,
/// and the volumes are writable through the matching fsGroup.
pub const REDIS_UID: i64 = super::context::UID;
/// Where the Redis password file is mounted.
pub const REDIS_SECRET_DIR: &str = "/etc/pgstate-redis";
/// Where the rendered redis.conf (without the password) is mounted.
pub const REDIS_CONF_DIR: &str = "/etc/redis";
/// The memory-backed folder the start script writes the complete redis.conf to.
pub const REDIS_RUN_DIR: &str = "/run/redis";
/// Where Redis keeps its data (the volume).
pub const REDIS_DATA_DIR: &str = "/data";

#[derive(Debug, Serialize)]
pub struct RedisView {
    pub name: String,
    pub headless: String,
    pub image: String,
    pub port: i64,
    pub labels: Map,
    pub selector: Map,
    pub secret: RedisSecret,
    /// redis.conf as rendered into the ConfigMap (no password in it).
    pub config: String,
    /// The start script: password into the config copy, then exec redis-server.
    pub start: String,
    pub probe_command: Vec<String>,
    pub probes: BTreeMap<&'static str, ProbeView>,
    pub resources: ResolvedResources,
    pub size: String,
    pub class: Option<String>,
    pub access_mode: &'static str,
    pub retention: &'static str,
    pub uid: i64,
    pub conf_dir: &'static str,
    pub secret_dir: &'static str,
    pub run_dir: &'static str,
    pub data_dir: &'static str,
    /// Pod label selectors admitted to the Redis port (NetworkPolicy), when there is one.
    pub policy_from: Option<Vec<Map>>,
}

#[derive(Debug, Serialize)]
pub struct RedisSecret {
    pub name: String,
    pub key: String,
    /// Base64 of the password when pgstate renders the Secret (fromEnv / value).
    pub data: Option<String>,
}

/// The Secret and key holding Redis's password.
fn secret_ref(config: &Config, redis: &Redis) -> SecretRef {
    let pw = &redis.password;
    SecretRef {
        name: pw.secret.clone().unwrap_or_else(|| redis_name(config)),
        key: match (&pw.secret, &pw.key) {
            (Some(_), Some(key)) => key.clone(),
            _ => "password".into(),
        },
    }
}

/// The bytes of maxmemory: as configured, else three quarters of the memory limit, so Redis
/// refuses writes (or evicts, by its policy) before the kernel kills it.
fn max_memory(redis: &Redis, resources: &ResolvedResources) -> Option<u64> {
    match &redis.max_memory {
        Some(text) => parse_redis_memory(text),
        None => {
            let limit = parse_quantity(resources.limits.get("memory")?)?;
            Some((limit * 0.75) as u64)
        }
    }
}

fn redis_conf(redis: &Redis, max_memory: Option<u64>) -> String {
    let mut conf = String::from(
        "# Rendered by pgstate. The start script appends requirepass from the mounted Secret.\n",
    );
    conf.push_str(&format!("port {}\n", redis.port));
    conf.push_str(&format!("dir {REDIS_DATA_DIR}\n"));
    let append = if redis.append_only { "yes" } else { "no" };
    conf.push_str(&format!("appendonly {append}\n"));
    conf.push_str("appendfsync everysec\n");
    if let Some(bytes) = max_memory {
        conf.push_str(&format!("maxmemory {bytes}\n"));
    }
    let policy = redis.eviction_policy.as_deref().unwrap_or("noeviction");
    conf.push_str(&format!("maxmemory-policy {policy}\n"));
    conf
}

pub fn start_script() -> String {
    format!(
        "set -eu\n\
         password={REDIS_SECRET_DIR}/password\n\
         [ -s \"$password\" ] || {{ echo \"pgstate: $password is empty; Redis would run without a password\" >&2; exit 1; }}\n\
         # Every byte of the password as \\xHH, which redis.conf reads inside double quotes (quotes,\n\
         # backslashes, a trailing newline included), into a copy of redis.conf only this user can\n\
         # read: the password is never on a command line or in the environment.\n\
         umask 077\n\
         hex=$(od -An -v -tx1 \"$password\" | tr -d ' \\n' | sed 's/../\\\\x&/g')\n\
         {{ cat {REDIS_CONF_DIR}/redis.conf; printf 'requirepass \"%s\"\\n' \"$hex\"; }} > {REDIS_RUN_DIR}/redis.conf\n\
         exec redis-server {REDIS_RUN_DIR}/redis.conf\n"
    )
}

/// The probe's script: `PONG` from Redis on `port`, with the password from its file.
pub fn probe_script(port: i64) -> String {
    format!(
        "REDISCLI_AUTH=\"$(cat {REDIS_SECRET_DIR}/password; echo .)\"; export REDISCLI_AUTH=\"${{REDISCLI_AUTH%.}}\"; [ \"$(redis-cli -h 127.0.0.1 -p {port} ping 2>&1)\" = PONG ]"
    )
}

/// The view of `redis:`, or `None` without it.
pub fn view(config: &Config, vars: &dyn Vars) -> Option<RedisView> {
    let redis = config.redis.as_ref()?;
    let name = redis_name(config);
    let SecretRef { name: secret, key } = secret_ref(config, redis);
    let secret = RedisSecret {
        name: secret,
        key,
        data: rendered_password(&redis.password, vars).map(|p| base64(&p)),
    };
    let resources = resolve_resources(&redis.resources, &REDIS_RESOURCES);
    let max = max_memory(redis, &resources);
    let policy_from = config.network_policy.then(|| {
        let app = config.app.as_ref().map(|_| selector(config, "app"));
        let mut from: Vec<Map> = app.into_iter().collect();
        from.push(BTreeMap::from([(
            format!("{name}-client"),
            "true".to_owned(),
        )]));
        from
    });
    let probe_command = vec![
        "sh".into(),
        "-c".into(),
        // `$(cat)` would drop a trailing newline the password may have; redis-cli exits 0 even
        // when refused, and a Redis without a password answers PONG after a failed AUTH
        // warning: only exactly PONG passes.
        probe_script(redis.port),
    ];
    Some(RedisView {
        headless: format!("{name}-hl"),
        image: redis.image.clone(),
        port: redis.port,
        labels: labels(config, "redis", "redis"),
        selector: selector(config, "redis"),
        secret,
        config: redis_conf(redis, max),
        start: start_script(),
        probe_command,
        probes: BTreeMap::from([
            ("startup", probe(&redis.probes.startup, 5, 5, 60)),
            ("readiness", probe(&redis.probes.readiness, 5, 3, 3)),
            ("liveness", probe(&redis.probes.liveness, 10, 5, 6)),
        ]),
        resources,
        size: redis.storage.size.clone(),
        class: redis.storage.class.clone(),
        access_mode: redis.storage.access_mode.as_str(),
        retention: if redis.storage.retain {
            "Retain"
        } else {
            "Delete"
        },
        uid: REDIS_UID,
        conf_dir: REDIS_CONF_DIR,
        secret_dir: REDIS_SECRET_DIR,
        run_dir: REDIS_RUN_DIR,
        data_dir: REDIS_DATA_DIR,
        policy_from,
        name,
    })
}

/// The variables the app gets for Redis, with the names it asked for; the password from the
/// Secret, and the URL composed from the others with `$(VAR)` references.
pub fn app_env(
    config: &Config,
    names: &crate::config::model::ConnectionEnv,
) -> Vec<super::context::EnvVar> {
    use super::context::EnvVar;
    let Some(redis) = &config.redis else {
        return Vec::new();
    };
    let lit = |name: &str, value: String| EnvVar {
        name: name.into(),
        value: Some(literal(&value)),
        secret: None,
    };
    let mut env = vec![
        lit(&names.redis_host, redis_name(config)),
        lit(&names.redis_port, redis.port.to_string()),
        EnvVar {
            name: names.redis_password.clone(),
            value: None,
            secret: Some(secret_ref(config, redis)),
        },
    ];
    if let Some(url) = &names.redis_url {
        env.push(EnvVar {
            name: url.clone(),
            value: Some(format!(
                "redis://:$({})@$({}):$({})/0",
                names.redis_password, names.redis_host, names.redis_port
            )),
            secret: None,
        });
    }
    env
}

//! The view model of `redis:`: a Redis StatefulSet beside the database.
//!
//! The password reaches Redis through neither the command line nor the environment: the
//! container mounts the Secret as a file, and a short start script appends a `requirepass` line
//! (the password escaped for redis.conf) to a copy of the rendered redis.conf in a memory-backed
//! folder only the Redis user can read, then execs `redis-server` on that copy. The probes read
//! the same file into `REDISCLI_AUTH` for `redis-cli ping`, which must answer PONG. redis.conf,
//! the start script and the probe are templates (templates/redis/); the StatefulSet, both
//! Services and the NetworkPolicy are the database's templates, rendering Redis's [`Workload`].

use serde::Serialize;

use super::context::PodView;
use super::context::{Map, SecretRef, base64, literal, rendered_password};
use super::workload::{
    self, Claim, ClientService, Command, Container, Mount, Peer, Policy, PolicyRule, Port,
    ProbeDefaults, Volume, Workload,
};
use crate::config::defaults::{REDIS_RESOURCES, ResolvedResources, resolve_resources};
use crate::config::model::{Config, Redis};
use crate::config::names::redis_name;
use crate::config::paths::{
    REDIS_CONF_DIR, REDIS_DATA_DIR, REDIS_RUN_DIR, REDIS_SECRET_DIR, TMP_DIR,
};
use crate::config::units::{parse_quantity, parse_redis_memory};
use crate::config::vars::Vars;

/// Redis runs as pgstate's high UID, like the database: redis-server needs no passwd entry,
/// and the volumes are writable through the matching fsGroup.
pub(crate) const REDIS_UID: i64 = workload::UID;
/// The pod's grace period, written out (Kubernetes' default).
const GRACE_SECONDS: i64 = 30;
/// The probes' default timings: startup, readiness, liveness.
const PROBES: [ProbeDefaults; 3] = [
    ProbeDefaults::new(5, 5, 60),
    ProbeDefaults::new(5, 3, 3),
    ProbeDefaults::new(10, 5, 6),
];

/// What Redis adds to its [`Workload`]: the password's Secret and redis.conf's values (the
/// folders its scripts name are the view's `paths`).
#[derive(Debug, Serialize)]
pub(crate) struct RedisView {
    pub(crate) name: String,
    pub(crate) port: i64,
    pub(crate) secret: RedisSecret,
    /// The values of templates/redis/redis.conf.
    pub(crate) conf: RedisConf,
    pub(crate) workload: Workload,
}

#[derive(Debug, Serialize)]
pub(crate) struct RedisSecret {
    pub(crate) name: String,
    pub(crate) key: String,
    /// Base64 of the password when pgstate renders the Secret (fromEnv / value).
    pub(crate) data: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RedisConf {
    /// `yes` or `no`.
    pub(crate) append_only: &'static str,
    pub(crate) max_memory: Option<u64>,
    pub(crate) eviction_policy: String,
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

/// The view of `redis:`, or `None` without it.
pub(crate) fn view(config: &Config, vars: &dyn Vars) -> Option<RedisView> {
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
    let labels = workload::labels(config, "redis", "redis");
    let port = || Port {
        name: "redis",
        port: redis.port,
    };
    let policy = config.network_policy.then(|| {
        let app = config
            .app
            .as_ref()
            .map(|_| workload::selector(config, "app"));
        let mut from: Vec<Peer> = app.into_iter().map(Peer::pods).collect();
        from.push(Peer::pods(workload::client_label(&name)));
        Policy {
            name: name.clone(),
            rules: vec![PolicyRule {
                from,
                port: redis.port,
            }],
        }
    });
    let container = Container {
        name: "redis",
        image: redis.image.clone(),
        command: Some(Command {
            shell: "sh",
            script: "redis/start.sh",
            args: Vec::new(),
        }),
        args: Vec::new(),
        port: port(),
        env: Vec::new(),
        resources,
        probe_command: vec!["sh".into(), "-c".into()],
        probe_script: Some("redis/probe.sh"),
        probes: workload::exec_probes(&redis.probes, &PROBES),
        stop_command: Vec::new(),
        mounts: vec![
            Mount::new("data", REDIS_DATA_DIR, false),
            Mount::new("config", REDIS_CONF_DIR, true),
            Mount::new("run", REDIS_RUN_DIR, false),
            Mount::new("tmp", TMP_DIR, false),
            Mount::new("credentials", REDIS_SECRET_DIR, true),
        ]
        .into(),
    };
    let workload = Workload {
        name: name.clone(),
        headless: format!("{name}-hl"),
        selector: workload::selector(config, "redis"),
        port: port(),
        service: ClientService {
            name: name.clone(),
            kind: "ClusterIP",
            annotations: Map::new(),
            ports: vec![port()],
        },
        policy,
        pod: PodView {
            labels: labels.clone(),
            annotations: Map::new(),
            image_pull_secrets: Vec::new(),
            priority_class_name: None,
            service_account_name: None,
            automount_token: false,
            termination_grace_period_seconds: Some(GRACE_SECONDS),
        },
        uid: REDIS_UID,
        node_selector: Map::new(),
        tolerations: Vec::new(),
        affinity: None,
        topology_spread: Vec::new(),
        containers: vec![container],
        volumes: vec![
            Volume::config_map("config", &name, None),
            Volume::empty_dir("run", Some("Memory"), "1Mi"),
            Volume::empty_dir("tmp", None, "64Mi"),
            Volume::credentials(&secret.name, &secret.key),
        ]
        .into(),
        claim: Claim {
            name: "data".into(),
            size: redis.storage.size.clone(),
            class: redis.storage.class.clone(),
            access_mode: redis.storage.access_mode.as_str(),
            retention: workload::retention(redis.storage.retain),
        },
        labels,
    };
    Some(RedisView {
        port: redis.port,
        secret,
        conf: RedisConf {
            append_only: if redis.append_only { "yes" } else { "no" },
            max_memory: max,
            eviction_policy: redis
                .eviction_policy
                .clone()
                .unwrap_or_else(|| "noeviction".into()),
        },
        workload,
        name,
    })
}

/// The variables the app gets for Redis, with the names it asked for; the password from the
/// Secret, and the URL composed from the others with `$(VAR)` references.
pub(crate) fn app_env(
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

//! `redis:`: its image, port, memory cap and eviction policy, storage and password.

use super::credentials::password;
use super::names::subdomain;
use super::resources::{quantity, resources};
use super::{Checker, port};
use crate::config::defaults::{REDIS_RESOURCES, resolve_resources};
use crate::config::image::{image_hint, image_problem};
use crate::config::model::{Config, Redis};
use crate::config::units::{parse_quantity, parse_redis_memory, redis_memory_hint};
use crate::config::vars::Vars;
use crate::error::closest;

/// Redis's maxmemory-policy values.
pub(super) const EVICTION_POLICIES: &[&str] = &[
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
];

pub(super) fn redis_rules(c: &mut Checker<'_>, config: &Config, redis: &Redis, vars: &dyn Vars) {
    if let Some(problem) = image_problem(&redis.image) {
        c.value(
            &["redis", "image"],
            problem,
            image_hint(
                &redis.image,
                "e.g. redis:7.4-alpine or redis@sha256:<digest>",
            ),
        );
    }
    port(c, &["redis", "port"], redis.port);
    password(
        c,
        "redis",
        &crate::config::names::redis_name(config),
        &redis.password,
        vars,
    );
    let st = &redis.storage;
    quantity(c, &["redis", "storage", "size"], &st.size, false);
    if let Some(class) = &st.class {
        subdomain(c, &["redis", "storage", "class"], class);
    }
    resources(
        c,
        &["redis", "resources"],
        &redis.resources,
        &REDIS_RESOURCES,
    );
    if let Some(max) = &redis.max_memory {
        match parse_redis_memory(max) {
            None => c.value(
                &["redis", "maxMemory"],
                format!("`{max}` is not a Redis memory size"),
                redis_memory_hint(max),
            ),
            Some(bytes) => {
                let resolved = resolve_resources(&redis.resources, &REDIS_RESOURCES);
                let limit = resolved.limits.get("memory").map_or("", String::as_str);
                if let Some(limit_bytes) = parse_quantity(limit)
                    && bytes as f64 > limit_bytes * 0.9
                {
                    c.value(
                        &["redis", "maxMemory"],
                        format!("maxMemory {max} leaves no room under the memory limit {limit}"),
                        "Redis needs memory beyond its data (buffers, a forked rewrite); keep maxMemory near three quarters of redis.resources.limits.memory",
                    );
                }
            }
        }
    }
    if let Some(policy) = &redis.eviction_policy
        && !EVICTION_POLICIES.contains(&policy.as_str())
    {
        c.value(
            &["redis", "evictionPolicy"],
            format!("`{policy}` is not a Redis eviction policy"),
            match closest(policy, EVICTION_POLICIES) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("one of {}", EVICTION_POLICIES.join(", ")),
            },
        );
    }
}

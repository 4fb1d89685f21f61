//! The boundary oracle: what no rendered object may hold, whatever config was accepted. The
//! config rules (config::validate::boundary) are the guard; this reads the output itself, for
//! the fuzz target and the tests, so that a rule that misses a case shows up as a breach.

use std::sync::OnceLock;

use serde_json::Value;

use crate::config::model::Config;
use crate::config::paths::{HBA_DIR, OWN_MOUNTS};
use crate::config::validate::boundary as rules;

/// Variables pgstate gives the database container itself (the others come from the config).
use crate::config::validate::postgres::GENERATED_PG_ENV as OWN_DATABASE_ENV;

/// A script with every run of digits as `0` (ports are numbers the config chooses), trimmed.
fn masked(script: &str) -> String {
    let mut out = String::with_capacity(script.len());
    let mut digits = false;
    for c in script.trim().chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('0');
            }
            digits = true;
        } else {
            out.push(c);
            digits = false;
        }
    }
    out
}

fn known_scripts() -> &'static [String] {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        crate::render::embedded_scripts()
            .iter()
            .map(|s| masked(s))
            .collect()
    })
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Every way `doc` breaks the boundary, as readable lines; empty when it keeps it.
///
/// - a shell script (`sh -c SCRIPT`) that is not one of the scripts pgstate embeds (so nothing
///   from the config, quoted or not, is ever part of a script: values reach scripts through
///   the environment);
/// - `POSTGRES_INITDB_ARGS` (which the image's entrypoint `eval`s) with anything but known
///   `--option[=value]` words;
/// - a variable in the database container that the shell, the linker, libpq or the image read,
///   other than those pgstate sets;
/// - a database or user name that libpq or a URL reads specially;
/// - a host path (local PersistentVolume, hostPath) in or at a system folder, or a volume
///   mounted over a system folder of the container;
/// - a server setting that runs commands or loads code, unless the config allows it by name.
pub fn breaches(config: &Config, doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(config, doc, &mut found);
    if doc["kind"] == "PersistentVolume"
        && let Some(path) = doc["spec"]["local"]["path"].as_str()
        && let Some(problem) = rules::host_path_problem(path)
    {
        found.push(format!("PersistentVolume local path: {problem}"));
    }
    found
}

fn walk(config: &Config, value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            // A container's command and args (either may be absent: the image's entrypoint then
            // runs the args), or a probe's exec command.
            if map.contains_key("command") || map.contains_key("args") {
                let mut words = map.get("command").map(strings).unwrap_or_default();
                if let Some(args) = map.get("args") {
                    words.extend(strings(args));
                }
                command_breaches(config, &words, found);
            }
            if let (Some(name), Some(env)) = (map.get("name"), map.get("env")) {
                container_env(name.as_str().unwrap_or_default(), env, found);
            }
            if let Some(path) = map.get("mountPath").and_then(Value::as_str)
                && !OWN_MOUNTS.contains(&path)
                && let Some(problem) = rules::container_path_problem(path)
            {
                found.push(format!("volume mount: {problem}"));
            }
            if let Some(path) = map
                .get("hostPath")
                .and_then(|h| h.get("path"))
                .and_then(Value::as_str)
                && let Some(problem) = rules::host_path_problem(path)
            {
                found.push(format!("hostPath volume: {problem}"));
            }
            for child in map.values() {
                walk(config, child, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(config, item, found);
            }
        }
        _ => {}
    }
}

fn command_breaches(config: &Config, words: &[&str], found: &mut Vec<String>) {
    let shell = words
        .first()
        .is_some_and(|w| matches!(w.rsplit('/').next(), Some("sh" | "bash" | "dash")));
    if shell
        && let Some(i) = words.iter().position(|w| *w == "-c")
        && let Some(script) = words.get(i + 1)
        && !known_scripts().contains(&masked(script))
    {
        found.push(format!(
            "a shell script that pgstate does not embed: {script:?}"
        ));
    }
    // The server's own command line: `postgres -c name=value ...`.
    if let Some(start) = words.iter().position(|w| *w == "postgres") {
        let words = &words[start..];
        for pair in words.windows(2) {
            let Some((key, value)) = pair[1].split_once('=').filter(|_| pair[0] == "-c") else {
                continue;
            };
            // pgstate's own pg_hba.conf.
            let own = key == "hba_file" && value == format!("{HBA_DIR}/pg_hba.conf").as_str();
            let allowed = own
                || config
                    .postgres
                    .allow_unsafe_settings
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(key));
            if rules::unsafe_setting_value(key, value).is_some() && !allowed {
                found.push(format!("server setting {key} without allowUnsafeSettings"));
            }
        }
    }
    for word in words {
        for prefix in ["--username=", "--dbname="] {
            if let Some(name) = word.strip_prefix(prefix)
                && let Some(problem) = rules::name_problem(name)
            {
                found.push(format!("{prefix}: {problem}"));
            }
        }
    }
}

fn container_env(container: &str, env: &Value, found: &mut Vec<String>) {
    for var in env.as_array().into_iter().flatten() {
        let name = var["name"].as_str().unwrap_or_default();
        let value = var["value"].as_str();
        if container == "postgres"
            && !OWN_DATABASE_ENV.contains(&name)
            && rules::env_name_denied(name).is_some()
        {
            found.push(format!("the database container gets {name}"));
        }
        if name == "POSTGRES_INITDB_ARGS"
            && let Some(args) = value
            && let Some(problem) = args
                .split_ascii_whitespace()
                .find_map(rules::initdb_arg_problem)
        {
            found.push(format!("POSTGRES_INITDB_ARGS: {problem}"));
        }
        if matches!(
            name,
            "POSTGRES_DB" | "POSTGRES_USER" | "PGDATABASE" | "PGUSER"
        ) && let Some(v) = value
            && let Some(problem) = rules::name_problem(v)
        {
            found.push(format!("{name}: {problem}"));
        }
    }
}

//! The blocks every workload repeats (a container's probes and mounts, a pod's volumes),
//! printed by Rust functions the templates call like `mapping()`: they run for every container
//! of every config, where template loops and macros cost several times more. Each prints the
//! YAML the template would, every value quoted by the templates' own rules (src/yaml.rs).
//!
//! The lists reach the templates as [`Printed`]: the typed items themselves, not a converted
//! copy, so the view converts no mount, volume or probe and the printers read Rust fields.

use std::fmt::Write as _;
use std::ops::Deref;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use serde::{Serialize, Serializer};

use super::env::print_value;
use super::workload::{Mount, Probe, Volume};
use crate::yaml::{plain_is_safe, yaml_json};

type Result<T> = std::result::Result<T, minijinja::Error>;

/// A list one of this module's printers prints whole. Templates see it as a list of its items
/// (a minijinja object over them); the printer reads the items as they are.
#[derive(Debug)]
pub(crate) struct Printed<T>(Arc<Items<T>>);

#[derive(Debug)]
struct Items<T>(Vec<T>);

impl<T> From<Vec<T>> for Printed<T> {
    fn from(items: Vec<T>) -> Printed<T> {
        Printed(Arc::new(Items(items)))
    }
}

impl<T> Deref for Printed<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0.0
    }
}

impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> Serialize for Printed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        if minijinja::value::serializing_for_value() {
            Value::from_dyn_object(self.0.clone()).serialize(serializer)
        } else {
            self.0.0.serialize(serializer)
        }
    }
}

impl<T: Serialize + std::fmt::Debug + Send + Sync + 'static> Object for Items<T> {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0
            .get(key.as_usize()?)
            .map(|item| Value::from(minijinja::value::Serde(item)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
}

/// The typed items of a [`Printed`] list the template passed, which must not be empty: the
/// template prints the list's key (`volumeMounts:`, `volumes:`) before it, and a key with nothing
/// under it would read back as null.
fn some_items<'a, T: Serialize + std::fmt::Debug + Send + Sync + 'static>(
    value: &'a Value,
    what: &str,
) -> Result<&'a [T]> {
    let list = items(value, what)?;
    if list.is_empty() {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("{what}() got an empty list; every workload has {what}"),
        ));
    }
    Ok(list)
}

/// The typed items of a [`Printed`] list the template passed.
fn items<'a, T: Serialize + std::fmt::Debug + Send + Sync + 'static>(
    value: &'a Value,
    what: &str,
) -> Result<&'a [T]> {
    match value.downcast_object_ref::<Items<T>>() {
        Some(items) => Ok(&items.0),
        None => Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("{what}() takes a workload's {what}"),
        )),
    }
}

/// Prints a string as `{{ text }}` prints a string of the view: plain when that is safe,
/// JSON-quoted otherwise.
fn text(out: &mut String, text: &str) -> Result<()> {
    if plain_is_safe(text) {
        out.push_str(text);
    } else {
        let quoted = yaml_json(text).map_err(|e| {
            minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string())
        })?;
        out.push_str(&quoted);
    }
    Ok(())
}

/// `key: text` and a line break.
fn line(out: &mut String, key: &str, value: &str) -> Result<()> {
    out.push_str(key);
    out.push_str(": ");
    text(out, value)?;
    out.push('\n');
    Ok(())
}

/// `key: number` and a line break, as `{{ number }}` prints it.
fn number(out: &mut String, key: &str, n: i64) {
    let _ = writeln!(out, "{key}: {n}");
}

/// A container's `volumeMounts` items, at column 0.
pub(super) fn mounts(mounts: Value) -> Result<Value> {
    let mounts: &[Mount] = some_items(&mounts, "mounts")?;
    let mut out = String::with_capacity(mounts.len() * 64);
    for mount in mounts {
        line(&mut out, "- name", &mount.name)?;
        line(&mut out, "  mountPath", &mount.path)?;
        if mount.read_only {
            out.push_str("  readOnly: true\n");
        }
    }
    Ok(Value::from_safe_string(out))
}

/// A pod's `volumes` items, at column 0.
pub(super) fn volumes(volumes: Value) -> Result<Value> {
    let volumes: &[Volume] = some_items(&volumes, "volumes")?;
    let mut out = String::with_capacity(volumes.len() * 96);
    for v in volumes {
        line(&mut out, "- name", v.name)?;
        if let Some(empty_dir) = &v.empty_dir {
            out.push_str("  emptyDir:\n");
            if let Some(medium) = empty_dir.medium {
                line(&mut out, "    medium", medium)?;
            }
            line(&mut out, "    sizeLimit", &empty_dir.size_limit)?;
        } else if let Some(secret) = &v.secret {
            out.push_str("  secret:\n");
            line(&mut out, "    secretName", &secret.name)?;
            number(&mut out, "    defaultMode", secret.mode);
            if !secret.items.is_empty() {
                out.push_str("    items:\n");
                for item in &secret.items {
                    line(&mut out, "      - key", &item.key)?;
                    line(&mut out, "        path", &item.path)?;
                }
            }
            if secret.optional {
                out.push_str("    optional: true\n");
            }
        } else if let Some(config_map) = &v.config_map {
            out.push_str("  configMap:\n");
            line(&mut out, "    name", &config_map.name)?;
            if let Some(mode) = config_map.mode {
                number(&mut out, "    defaultMode", mode);
            }
        }
    }
    Ok(Value::from_safe_string(out))
}

/// A container's probes, each under its kind (`readinessProbe:` ...), at column 0: an HTTP
/// GET or a TCP connect to a named port when the probe says so, else an exec of `command`;
/// then its timing (a timing left out, Kubernetes' default).
pub(super) fn probes(probes: Value, command: Option<Value>) -> Result<Value> {
    let probes: &[Probe] = items(&probes, "probes")?;
    let mut out = String::with_capacity(probes.len() * 160);
    for p in probes {
        text(&mut out, p.kind)?;
        out.push_str(":\n");
        if let Some(http_get) = &p.http_get {
            out.push_str("  httpGet:\n");
            line(&mut out, "    path", &http_get.path)?;
            line(&mut out, "    port", http_get.port)?;
        } else if let Some(port) = p.tcp_socket {
            out.push_str("  tcpSocket:\n");
            line(&mut out, "    port", port)?;
        } else {
            out.push_str("  exec:\n    command:\n");
            let command = command.as_ref().ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::MissingArgument,
                    "an exec probe needs its command",
                )
            })?;
            for word in command.try_iter()? {
                out.push_str("      - ");
                print_value(&mut out, &word)?;
                out.push('\n');
            }
        }
        if let Some(delay) = p.initial_delay_seconds {
            number(&mut out, "  initialDelaySeconds", delay);
        }
        number(&mut out, "  periodSeconds", p.period_seconds);
        if let Some(timeout) = p.timeout_seconds {
            number(&mut out, "  timeoutSeconds", timeout);
        }
        number(&mut out, "  failureThreshold", p.failure_threshold);
    }
    Ok(Value::from_safe_string(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed<T: Serialize + std::fmt::Debug + Send + Sync + 'static>(items: Vec<T>) -> Value {
        Value::from(minijinja::value::Serde(Printed::from(items)))
    }

    #[test]
    fn an_empty_list_is_an_error_not_a_key_with_nothing_under_it() {
        let err = mounts(printed::<Mount>(Vec::new())).expect_err("no mounts");
        assert!(
            err.to_string().contains("mounts() got an empty list"),
            "{err}"
        );
        let err = volumes(printed::<Volume>(Vec::new())).expect_err("no volumes");
        assert!(
            err.to_string().contains("volumes() got an empty list"),
            "{err}"
        );
    }

    #[test]
    fn a_list_that_is_no_printed_list_is_refused() {
        let err = mounts(Value::from(vec![1, 2])).expect_err("a plain list");
        assert!(
            err.to_string()
                .contains("mounts() takes a workload's mounts"),
            "{err}"
        );
    }
}

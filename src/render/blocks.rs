//! The blocks every workload repeats (a container's probes and mounts, a pod's volumes),
//! printed by Rust functions the templates call like `mapping()`: they run for every container
//! of every config, where template loops and macros cost several times more. Each prints the
//! YAML the template would (src/render/workload.rs names the fields), every value through the
//! templates' own printer, so quoting is the same.

use minijinja::Value;

use super::env::print_value;

type Result<T> = std::result::Result<T, minijinja::Error>;

/// Prints `key: value` and a line break, the value as `{{ value }}` prints it.
fn line(out: &mut String, key: &str, value: &Value) -> Result<()> {
    out.push_str(key);
    out.push_str(": ");
    print_value(out, value)?;
    out.push('\n');
    Ok(())
}

/// A container's `volumeMounts` items ([`Mount`](super::workload::Mount)s), at column 0.
pub(super) fn mounts(mounts: Value) -> Result<Value> {
    let mut out = String::with_capacity(mounts.len().unwrap_or(0) * 64);
    for mount in mounts.try_iter()? {
        line(&mut out, "- name", &mount.get_attr("name")?)?;
        line(&mut out, "  mountPath", &mount.get_attr("path")?)?;
        if mount.get_attr("read_only")?.is_true() {
            out.push_str("  readOnly: true\n");
        }
    }
    Ok(Value::from_safe_string(out))
}

/// A pod's `volumes` items ([`Volume`](super::workload::Volume)s), at column 0.
pub(super) fn volumes(volumes: Value) -> Result<Value> {
    let mut out = String::with_capacity(volumes.len().unwrap_or(0) * 96);
    for v in volumes.try_iter()? {
        line(&mut out, "- name", &v.get_attr("name")?)?;
        let empty_dir = v.get_attr("empty_dir")?;
        let secret = v.get_attr("secret")?;
        if empty_dir.is_true() {
            out.push_str("  emptyDir:\n");
            let medium = empty_dir.get_attr("medium")?;
            if !medium.is_none() {
                line(&mut out, "    medium", &medium)?;
            }
            line(
                &mut out,
                "    sizeLimit",
                &empty_dir.get_attr("size_limit")?,
            )?;
        } else if secret.is_true() {
            out.push_str("  secret:\n");
            line(&mut out, "    secretName", &secret.get_attr("name")?)?;
            line(&mut out, "    defaultMode", &secret.get_attr("mode")?)?;
            let items = secret.get_attr("items")?;
            if items.is_true() {
                out.push_str("    items:\n");
                for item in items.try_iter()? {
                    line(&mut out, "      - key", &item.get_attr("key")?)?;
                    line(&mut out, "        path", &item.get_attr("path")?)?;
                }
            }
            if secret.get_attr("optional")?.is_true() {
                out.push_str("    optional: true\n");
            }
        } else {
            let config_map = v.get_attr("config_map")?;
            out.push_str("  configMap:\n");
            line(&mut out, "    name", &config_map.get_attr("name")?)?;
            let mode = config_map.get_attr("mode")?;
            if !mode.is_none() {
                line(&mut out, "    defaultMode", &mode)?;
            }
        }
    }
    Ok(Value::from_safe_string(out))
}

/// A container's probes ([`Probe`](super::workload::Probe)s), each under its kind
/// (`readinessProbe:` ...), at column 0: an HTTP GET or a TCP connect to a named port when the
/// probe says so, else an exec of `command`; then its timing (a timing left out, Kubernetes'
/// default).
pub(super) fn probes(probes: Value, command: Option<Value>) -> Result<Value> {
    let mut out = String::with_capacity(probes.len().unwrap_or(0) * 160);
    for p in probes.try_iter()? {
        print_value(&mut out, &p.get_attr("kind")?)?;
        out.push_str(":\n");
        let http_get = p.get_attr("http_get")?;
        let tcp_socket = p.get_attr("tcp_socket")?;
        if http_get.is_true() {
            out.push_str("  httpGet:\n");
            line(&mut out, "    path", &http_get.get_attr("path")?)?;
            line(&mut out, "    port", &http_get.get_attr("port")?)?;
        } else if tcp_socket.is_true() {
            out.push_str("  tcpSocket:\n");
            line(&mut out, "    port", &tcp_socket)?;
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
        for (key, field) in [
            ("  initialDelaySeconds", "initial_delay_seconds"),
            ("  periodSeconds", "period_seconds"),
            ("  timeoutSeconds", "timeout_seconds"),
            ("  failureThreshold", "failure_threshold"),
        ] {
            let value = p.get_attr(field)?;
            if !value.is_none() {
                line(&mut out, key, &value)?;
            }
        }
    }
    Ok(Value::from_safe_string(out))
}

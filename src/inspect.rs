//! What a config means to the people around it: how an app connects, the password Secret, and
//! a picture of the objects.

use std::fmt::Write as _;

use base64::Engine as _;

use crate::config::Config;
use crate::error::Error;
use crate::render::Context;

/// How an app reaches the database, in the names the app asked for (or the defaults).
pub fn connection(config: &Config, ctx: &Context, format: crate::cli::ConnectionFormat) -> String {
    use crate::cli::ConnectionFormat;
    let pg = &config.postgres;
    let names = config
        .app
        .as_ref()
        .map(|a| a.connection_env.clone())
        .unwrap_or_default();
    let host = format!("{}.{}.svc", ctx.service.name, ctx.namespace);
    let url = format!(
        "postgresql://{}@{host}:{}/{}",
        percent(&pg.user),
        pg.port,
        percent(&pg.database)
    );
    let mut out = String::new();
    match format {
        ConnectionFormat::Env => {
            let _ = writeln!(
                out,
                "# inside namespace {} the host is also just {}",
                ctx.namespace, ctx.service.name
            );
            let _ = writeln!(out, "{}={host}", names.host);
            let _ = writeln!(out, "{}={}", names.port, pg.port);
            let _ = writeln!(out, "{}={}", names.database, shell_quote(&pg.database));
            let _ = writeln!(out, "{}={}", names.user, shell_quote(&pg.user));
            let _ = writeln!(
                out,
                "# {}: key `{}` of Secret {}/{}",
                names.password, ctx.secret.key, ctx.namespace, ctx.secret.name
            );
        }
        ConnectionFormat::Url => {
            let _ = writeln!(out, "{url}");
        }
        ConnectionFormat::Yaml => {
            let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
            let _ = writeln!(out, "host: {}", q(&host));
            let _ = writeln!(out, "port: {}", pg.port);
            let _ = writeln!(out, "database: {}", q(&pg.database));
            let _ = writeln!(out, "user: {}", q(&pg.user));
            let _ = writeln!(
                out,
                "password:\n  secret: {}\n  key: {}",
                q(&ctx.secret.name),
                q(&ctx.secret.key)
            );
            let _ = writeln!(out, "url: {}  # without the password", q(&url));
        }
    }
    out
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'/'))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A password from the OS random source: 32 bytes, URL-safe base64 (43 characters).
pub fn generate_password() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::io(
            "read",
            "the OS random source",
            std::io::Error::other(e.to_string()),
        )
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A Secret manifest holding `password` under the name and key the config reads.
pub fn secret_manifest(ctx: &Context, password: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let data = base64::engine::general_purpose::STANDARD.encode(password);
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {}\n  namespace: {}\ntype: Opaque\ndata:\n  {}: {}\n",
        q(&ctx.secret.name),
        q(&ctx.namespace),
        q(&ctx.secret.key),
        q(&data)
    )
}

/// The objects and who talks to whom, as Mermaid or Graphviz.
pub fn graph(ctx: &Context, format: crate::cli::GraphFormat) -> String {
    let mut nodes: Vec<(&str, String, &str)> = Vec::new();
    let mut edges: Vec<(&str, &str, &str)> = Vec::new();
    let pvc = format!("PVC {}", ctx.postgres.storage.pvc_name);
    nodes.push(("svc", format!("Service {}", ctx.service.name), "box"));
    nodes.push(("hl", format!("Service {}", ctx.service.headless), "box"));
    nodes.push(("sts", format!("StatefulSet {}", ctx.name), "box"));
    nodes.push(("pvc", pvc, "disk"));
    nodes.push(("secret", format!("Secret {}", ctx.secret.name), "note"));
    edges.extend([
        ("svc", "sts", "port"),
        ("hl", "sts", "governs"),
        ("sts", "pvc", "data"),
        ("secret", "sts", "password file"),
    ]);
    if let Some(lv) = &ctx.local_volume {
        nodes.push(("pv", format!("PV {} on {}", lv.name, lv.node), "disk"));
        edges.push(("pv", "pvc", "pre-bound"));
    }
    if let Some(app) = &ctx.app {
        nodes.push(("app", format!("Deployment {}", app.name), "box"));
        edges.extend([
            ("app", "svc", "connects"),
            ("secret", "app", "password env"),
        ]);
    }
    if let Some(b) = &ctx.backup {
        nodes.push(("cron", format!("CronJob {}", b.name), "box"));
        nodes.push(("bpvc", format!("PVC {}", b.claim), "disk"));
        edges.extend([
            ("cron", "svc", "pg_dump"),
            ("cron", "bpvc", "dumps"),
            ("secret", "cron", "password file"),
        ]);
    }
    if let Some(np) = &ctx.network_policy {
        nodes.push(("np", format!("NetworkPolicy {}", np.name), "policy"));
        edges.push(("np", "sts", "guards"));
        if ctx.app.is_some() {
            edges.push(("np", "app", "admits"));
        }
        if ctx.backup.is_some() {
            edges.push(("np", "cron", "admits"));
        }
    }
    let mut out = String::new();
    match format {
        crate::cli::GraphFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            for (id, label, shape) in &nodes {
                let label = label.replace('"', "'");
                let _ = match *shape {
                    "disk" => writeln!(out, "  {id}[(\"{label}\")]"),
                    "note" => writeln!(out, "  {id}>\"{label}\"]"),
                    "policy" => writeln!(out, "  {id}{{{{\"{label}\"}}}}"),
                    _ => writeln!(out, "  {id}[\"{label}\"]"),
                };
            }
            for (from, to, label) in &edges {
                let arrow = if *from == "np" || *from == "secret" || *from == "hl" {
                    "-.->"
                } else {
                    "-->"
                };
                let _ = writeln!(out, "  {from} {arrow}|{label}| {to}");
            }
        }
        crate::cli::GraphFormat::Dot => {
            out.push_str("digraph pgstate {\n  rankdir=LR;\n");
            for (id, label, shape) in &nodes {
                let shape = match *shape {
                    "disk" => "cylinder",
                    "note" => "note",
                    "policy" => "hexagon",
                    _ => "box",
                };
                let _ = writeln!(
                    out,
                    "  {id} [label={}, shape={shape}];",
                    serde_json::to_string(label).unwrap_or_default()
                );
            }
            for (from, to, label) in &edges {
                let _ = writeln!(
                    out,
                    "  {from} -> {to} [label={}];",
                    serde_json::to_string(label).unwrap_or_default()
                );
            }
            out.push_str("}\n");
        }
    }
    out
}

/// The schema line editors read (yaml-language-server), written first in every `init` config.
pub const SCHEMA_LINE: &str = "# yaml-language-server: $schema=pgstate.schema.json\n# (write the schema beside this file with: pgstate schema > pgstate.schema.json)\n";

/// A commented starting config for a preset; it renders as it is.
pub fn init_config(preset: crate::cli::Preset) -> String {
    use crate::cli::Preset;
    let story = match preset {
        Preset::Calculator => include_str!("../fixtures/calculator.yaml"),
        Preset::Tfvisualizer => include_str!("../fixtures/tfvisualizer.yaml"),
        Preset::Healthcare => include_str!("../fixtures/healthcare.yaml"),
    };
    format!(
        "{SCHEMA_LINE}{story}{}",
        include_str!("../templates/init/more-options.yaml")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_url_safe_and_long() {
        let a = generate_password().expect("random");
        let b = generate_password().expect("random");
        assert_ne!(a, b);
        assert!(a.len() >= 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{a}"
        );
    }

    #[test]
    fn url_parts_are_percent_encoded() {
        assert_eq!(percent("a b@c"), "a%20b%40c");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}

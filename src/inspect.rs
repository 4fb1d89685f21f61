//! What a config means to the people around it: how an app connects, the password Secret, and
//! a picture of the objects.

use std::fmt::Write as _;

use base64::Engine as _;

use crate::config::Config;
use crate::error::Error;
use crate::render::Context;
use crate::render::context::{base64, percent_encode};

/// How an app reaches the database, in the names the app asked for (or the defaults): values
/// the config decides, and for the rest the Secret and key the operator writes them to.
pub fn connection(config: &Config, ctx: &Context, format: crate::cli::ConnectionFormat) -> String {
    use crate::cli::ConnectionFormat;
    use crate::render::context::Field;
    let names = config
        .app
        .as_ref()
        .map(|a| a.connection_env.clone())
        .unwrap_or_default();
    let conn = &ctx.connection;
    let ns = &ctx.namespace;
    // A host inside the cluster, as other namespaces reach it too.
    let host = match &conn.host {
        Field::Value(h) if !h.contains('.') => Field::Value(format!("{h}.{ns}.svc")),
        Field::Value(h) => Field::Value(h.clone()),
        Field::Secret(s) => Field::Secret(crate::render::context::SecretRef {
            name: s.name.clone(),
            key: s.key.clone(),
        }),
    };
    let fields = [
        ("host", &names.host, &host),
        ("port", &names.port, &conn.port),
        ("database", &names.database, &conn.database),
        ("user", &names.user, &conn.user),
    ];
    let value = |f: &Field| match f {
        Field::Value(v) => Some(v.clone()),
        Field::Secret(_) => None,
    };
    let url = match fields.map(|(_, _, f)| value(f)) {
        [Some(h), Some(p), Some(d), Some(u)] => Some(format!(
            "postgresql://{}@{h}:{p}/{}{}",
            percent_encode(&u),
            percent_encode(&d),
            conn.ssl_mode
                .map_or(String::new(), |m| format!("?sslmode={m}"))
        )),
        _ => None,
    };
    let mut out = String::new();
    match format {
        ConnectionFormat::Env => {
            if let Field::Value(h) = &conn.host {
                let _ = writeln!(out, "# inside namespace {ns} the host is also just {h}");
            }
            for (_, name, field) in fields {
                let _ = match field {
                    Field::Value(v) => writeln!(out, "{name}={}", shell_quote(v)),
                    Field::Secret(s) => {
                        writeln!(out, "# {name}: key `{}` of Secret {ns}/{}", s.key, s.name)
                    }
                };
            }
            if let Some(mode) = conn.ssl_mode {
                let _ = writeln!(out, "{}={mode}", names.ssl_mode);
            }
            if let Some(ca) = &conn.ssl_root_cert {
                let _ = writeln!(
                    out,
                    "# {}: {ca} in the app's pod: key `ca.crt` of the TLS Secret",
                    names.ssl_root_cert
                );
            }
            let _ = writeln!(
                out,
                "# {}: key `{}` of Secret {ns}/{}",
                names.password, conn.password.key, conn.password.name
            );
            if let Some(r) = &ctx.redis {
                let _ = writeln!(out, "{}={}.{ns}.svc", names.redis_host, r.name);
                let _ = writeln!(out, "{}={}", names.redis_port, r.port);
                let _ = writeln!(
                    out,
                    "# {}: key `{}` of Secret {ns}/{}",
                    names.redis_password, r.secret.key, r.secret.name
                );
            }
        }
        ConnectionFormat::Url => match &url {
            Some(url) => {
                let _ = writeln!(out, "{url}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "# target {}: the operator writes the URL into key `{}` of Secret {ns}/{}",
                    ctx.target,
                    match &conn.host {
                        Field::Secret(s) if s.key == "pgbouncer-host" => "pgbouncer-uri",
                        _ => "uri",
                    },
                    conn.password.name
                );
            }
        },
        ConnectionFormat::Yaml => {
            let q = |s: &str| crate::yaml::yaml_json(s).unwrap_or_default();
            let _ = writeln!(out, "target: {}", ctx.target);
            for (key, _, field) in fields {
                let _ = match field {
                    Field::Value(v) if key == "port" => writeln!(out, "{key}: {v}"),
                    Field::Value(v) => writeln!(out, "{key}: {}", q(v)),
                    Field::Secret(s) => writeln!(
                        out,
                        "{key}:\n  secret: {}\n  key: {}",
                        q(&s.name),
                        q(&s.key)
                    ),
                };
            }
            if let Some(mode) = conn.ssl_mode {
                let _ = writeln!(out, "sslMode: {mode}");
            }
            if let Some(ca) = &conn.ssl_root_cert {
                let _ = writeln!(out, "sslRootCert: {}", q(ca));
            }
            let _ = writeln!(
                out,
                "password:\n  secret: {}\n  key: {}",
                q(&conn.password.name),
                q(&conn.password.key)
            );
            if let Some(url) = &url {
                let _ = writeln!(out, "url: {}  # without the password", q(url));
            }
            if let Some(r) = &ctx.redis {
                let _ = writeln!(
                    out,
                    "redis:\n  host: {}\n  port: {}\n  password:\n    secret: {}\n    key: {}",
                    q(&format!("{}.{ns}.svc", r.name)),
                    r.port,
                    q(&r.secret.name),
                    q(&r.secret.key)
                );
            }
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

/// Several databases' answers to one question, each under a comment naming its database:
/// YAML documents for `yaml`, blocks for the rest. One database's answer is printed as it is.
pub fn blocks(blocks: &[(String, String)], format: crate::cli::ConnectionFormat) -> String {
    if let [(_, only)] = blocks {
        return only.clone();
    }
    let mut out = String::new();
    for (i, (about, text)) in blocks.iter().enumerate() {
        if format == crate::cli::ConnectionFormat::Yaml {
            out.push_str("---\n");
        } else if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "# {about}");
        out.push_str(text);
    }
    out
}

/// A Secret to write: namespace, name, and its keys with their passwords.
type SecretKeys<'a> = (&'a str, &'a str, Vec<(&'a str, String)>);

/// The Secret manifests for the passwords the databases read: one per Secret, with a password
/// from `password` for each of its keys (databases that read the same key share it).
pub fn secret_manifests(
    ctxs: &[Context],
    mut password: impl FnMut() -> Result<String, Error>,
) -> Result<String, Error> {
    // (namespace, name) -> index in `secrets`, which keeps the order they are first read in.
    let mut index = std::collections::HashMap::new();
    let mut secrets: Vec<SecretKeys<'_>> = Vec::new();
    for ctx in ctxs {
        let at = *index
            .entry((ctx.namespace.as_str(), ctx.secret.name.as_str()))
            .or_insert_with(|| {
                secrets.push((&ctx.namespace, &ctx.secret.name, Vec::new()));
                secrets.len() - 1
            });
        let keys = &mut secrets[at].2;
        if !keys.iter().any(|(k, _)| *k == ctx.secret.key) {
            keys.push((&ctx.secret.key, password()?));
        }
        // The app role's password, in the same Secret (statefulset target with an app).
        if let Some(role) = &ctx.app_role
            && !keys.iter().any(|(k, _)| *k == role.key)
        {
            keys.push((role.key, password()?));
        }
    }
    let q = |s: &str| crate::yaml::yaml_json(s).unwrap_or_default();
    let mut out = String::new();
    for (namespace, name, keys) in &secrets {
        if secrets.len() > 1 {
            out.push_str("---\n");
        }
        let _ = write!(
            out,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {}\n  namespace: {}\ntype: Opaque\ndata:\n",
            q(name),
            q(namespace)
        );
        for (key, password) in keys {
            let _ = writeln!(out, "  {}: {}", q(key), q(&base64(password)));
        }
    }
    Ok(out)
}

/// A node of the graph: id, label, shape.
type GraphNode<'a> = (&'a str, String, &'a str);
/// An edge of the graph: from, to, label.
type GraphEdge<'a> = (&'a str, &'a str, &'a str);

/// The objects and who talks to whom, as Mermaid or Graphviz; with several databases, each in
/// a box of its own.
pub fn graph(ctxs: &[Context], format: crate::cli::GraphFormat) -> String {
    let parts: Vec<(String, Vec<GraphNode<'_>>, Vec<GraphEdge<'_>>)> = ctxs
        .iter()
        .map(|ctx| {
            let (nodes, edges) = graph_parts(ctx);
            (format!("{}/{}", ctx.namespace, ctx.name), nodes, edges)
        })
        .collect();
    draw(&parts, format)
}

/// The nodes and edges of one database (and its Redis).
fn graph_parts(ctx: &Context) -> (Vec<GraphNode<'_>>, Vec<GraphEdge<'_>>) {
    let mut nodes: Vec<GraphNode<'_>> = Vec::new();
    let mut edges: Vec<GraphEdge<'_>> = Vec::new();
    if ctx.target != "statefulset" {
        target_graph(ctx, &mut nodes, &mut edges);
    } else {
        database_graph(ctx, &mut nodes, &mut edges);
    }
    if let Some(redis) = &ctx.redis {
        nodes.push(("rsvc", format!("Service {}", redis.name), "box"));
        nodes.push(("rsts", format!("StatefulSet {}", redis.name), "box"));
        nodes.push(("rpvc", format!("PVC data-{}-0", redis.name), "disk"));
        nodes.push(("rsecret", format!("Secret {}", redis.secret.name), "note"));
        edges.extend([
            ("rsvc", "rsts", "port"),
            ("rsts", "rpvc", "data"),
            ("rsecret", "rsts", "requirepass"),
        ]);
        if ctx.app.is_some() {
            edges.extend([
                ("app", "rsvc", "connects"),
                ("rsecret", "app", "password env"),
            ]);
        }
        if redis.policy_from.is_some() {
            nodes.push(("rnp", format!("NetworkPolicy {}", redis.name), "policy"));
            edges.push(("rnp", "rsts", "guards"));
            if ctx.app.is_some() {
                edges.push(("rnp", "app", "admits"));
            }
        }
    }
    (nodes, edges)
}

/// The objects of the statefulset target.
fn database_graph<'a>(
    ctx: &'a Context,
    nodes: &mut Vec<GraphNode<'a>>,
    edges: &mut Vec<GraphEdge<'a>>,
) {
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
        if let Some(s3) = &b.s3 {
            nodes.push((
                "bucket",
                format!("s3://{}/{}", s3.bucket, s3.folder),
                "disk",
            ));
            nodes.push(("s3secret", format!("Secret {}", s3.secret), "note"));
            edges.extend([
                ("cron", "bucket", "uploads, keeps"),
                ("s3secret", "cron", "S3 key files"),
            ]);
        }
        if let Some(d) = &b.drill {
            nodes.push(("drill", format!("CronJob {}", d.name), "box"));
            edges.extend([
                ("drill", "svc", "restores into scratch"),
                ("secret", "drill", "password file"),
            ]);
            edges.push(if b.s3.is_some() {
                ("drill", "bucket", "newest dump")
            } else {
                ("drill", "bpvc", "newest dump")
            });
        }
    }
    if let Some(np) = &ctx.network_policy {
        nodes.push(("np", format!("NetworkPolicy {}", np.name), "policy"));
        edges.push(("np", "sts", "guards"));
        if ctx.app.is_some() {
            edges.push(("np", "app", "admits"));
        }
        if let Some(b) = &ctx.backup {
            edges.push(("np", "cron", "admits"));
            if b.drill.is_some() {
                edges.push(("np", "drill", "admits"));
            }
        }
    }
}

/// The objects of an operator or external target: the operator's resource, the app, the Secret.
fn target_graph<'a>(
    ctx: &'a Context,
    nodes: &mut Vec<GraphNode<'a>>,
    edges: &mut Vec<GraphEdge<'a>>,
) {
    let secret = format!("Secret {}", ctx.connection.password.name);
    if let Some(cnpg) = &ctx.cnpg {
        nodes.push(("db", format!("Cluster {}", ctx.name), "box"));
        nodes.push(("secret", secret, "note"));
        edges.push(("secret", "db", "password"));
        if let Some(p) = &cnpg.pooler {
            nodes.push(("pooler", format!("Pooler {}", p.name), "box"));
            edges.push(("pooler", "db", "pgbouncer"));
        }
        if let Some(b) = &cnpg.backup {
            nodes.push(("cron", format!("ScheduledBackup {}", b.name), "box"));
            nodes.push(("store", format!("ObjectStore {}", b.object_store), "disk"));
            edges.extend([
                ("cron", "db", "base backup"),
                ("db", "store", "WAL + backups"),
            ]);
        }
    } else if ctx.percona.is_some() {
        nodes.push(("db", format!("PerconaPGCluster {}", ctx.name), "box"));
        nodes.push(("secret", secret, "note"));
        edges.push(("db", "secret", "writes"));
    } else if let Some(ext) = &ctx.external {
        nodes.push((
            "svc",
            format!("Service {} (ExternalName)", ctx.service.name),
            "box",
        ));
        nodes.push(("db", format!("{}:{}", ext.host, ext.port), "disk"));
        nodes.push(("secret", secret, "note"));
        edges.push(("svc", "db", "CNAME"));
    }
    if let Some(app) = &ctx.app {
        nodes.push(("app", format!("Deployment {}", app.name), "box"));
        let to = if ctx.cnpg.as_ref().is_some_and(|c| c.pooler.is_some()) {
            "pooler"
        } else if ctx.external.is_some() {
            "svc"
        } else {
            "db"
        };
        edges.extend([("app", to, "connects"), ("secret", "app", "password env")]);
    }
}

/// Prints the graph. One database is drawn as it is; with several, each is a subgraph titled
/// `namespace/name` and its ids are prefixed `d<N>_`, so that no two databases share a node.
fn draw(
    parts: &[(String, Vec<GraphNode<'_>>, Vec<GraphEdge<'_>>)],
    format: crate::cli::GraphFormat,
) -> String {
    let boxed = parts.len() > 1;
    let id = |i: usize, id: &str| {
        if boxed {
            format!("d{i}_{id}")
        } else {
            id.to_owned()
        }
    };
    let pad = if boxed { "    " } else { "  " };
    let mut out = String::new();
    match format {
        crate::cli::GraphFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            for (i, (title, nodes, _)) in parts.iter().enumerate() {
                if boxed {
                    let _ = writeln!(out, "  subgraph d{i}[\"{title}\"]");
                }
                for (node, label, shape) in nodes {
                    let node = id(i, node);
                    let label = label.replace('"', "'");
                    let _ = match *shape {
                        "disk" => writeln!(out, "{pad}{node}[(\"{label}\")]"),
                        "note" => writeln!(out, "{pad}{node}>\"{label}\"]"),
                        "policy" => writeln!(out, "{pad}{node}{{{{\"{label}\"}}}}"),
                        _ => writeln!(out, "{pad}{node}[\"{label}\"]"),
                    };
                }
                if boxed {
                    out.push_str("  end\n");
                }
            }
            for (i, (_, _, edges)) in parts.iter().enumerate() {
                for (from, to, label) in edges {
                    let arrow = if matches!(*from, "np" | "secret" | "s3secret" | "hl") {
                        "-.->"
                    } else {
                        "-->"
                    };
                    let _ = writeln!(out, "  {} {arrow}|{label}| {}", id(i, from), id(i, to));
                }
            }
        }
        crate::cli::GraphFormat::Dot => {
            out.push_str("digraph pgstate {\n  rankdir=LR;\n");
            let quote = |s: &str| crate::yaml::yaml_json(s).unwrap_or_default();
            for (i, (title, nodes, _)) in parts.iter().enumerate() {
                if boxed {
                    let _ = writeln!(
                        out,
                        "  subgraph cluster_{i} {{\n{pad}label={};",
                        quote(title)
                    );
                }
                for (node, label, shape) in nodes {
                    let shape = match *shape {
                        "disk" => "cylinder",
                        "note" => "note",
                        "policy" => "hexagon",
                        _ => "box",
                    };
                    let _ = writeln!(
                        out,
                        "{pad}{} [label={}, shape={shape}];",
                        id(i, node),
                        quote(label)
                    );
                }
                if boxed {
                    out.push_str("  }\n");
                }
            }
            for (i, (_, _, edges)) in parts.iter().enumerate() {
                for (from, to, label) in edges {
                    let _ = writeln!(
                        out,
                        "  {} -> {} [label={}];",
                        id(i, from),
                        id(i, to),
                        quote(label)
                    );
                }
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
        Preset::Ha => include_str!("../fixtures/direktiv-ha.yaml"),
    };
    let mut text = format!(
        "{SCHEMA_LINE}{story}{}",
        include_str!("../templates/init/more-options.yaml")
    );
    text.push_str(&starter_allowances(&text));
    text
}

/// The `lint.allow` block that lets a starting config pass the CI step
/// (`pgstate check --deny-warnings`): each warning it still has (an image not pinned by
/// digest, a storage class it cannot know, ...) allowed with what to do about it, so the file
/// is a to-do list rather than a failing build. Empty when there is nothing to allow.
fn starter_allowances(text: &str) -> String {
    use crate::config::lint_id::Severity;
    use crate::config::vars::{AnyVars, ProcessEnv};
    use crate::manifest::lint;
    let process = ProcessEnv::default();
    let Ok(loaded) = crate::config::load(crate::error::SourceId(0), text, None, &AnyVars(&process))
    else {
        return String::new();
    };
    let mut todo: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for finding in lint::lint(&loaded) {
        if finding.severity == Severity::Error {
            continue;
        }
        let fixes = todo.entry(finding.id).or_default();
        if !fixes.contains(&finding.fix) {
            fixes.push(finding.fix);
        }
    }
    if todo.is_empty() {
        return String::new();
    }
    let mut block = String::from(
        "\n# What `pgstate check --deny-warnings` (the CI step) would stop on until you decide it:\n\
         # each finding is allowed with what to do. Do it, then remove its line.\nlint:\n  allow:\n",
    );
    for (id, fixes) in todo {
        let reason = format!("to do: {}", fixes.join("; "));
        // A JSON string is a YAML double-quoted scalar.
        let quoted = serde_json::to_string(&reason).unwrap_or_else(|_| "\"to do\"".to_owned());
        let _ = writeln!(block, "    {id}: {quoted}");
    }
    block
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
        assert_eq!(percent_encode("a b@c"), "a%20b%40c");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}

//! `pgstate graph`: the objects and who talks to whom, as Mermaid or Graphviz.

use std::fmt::Write as _;
use std::io::Write;

use super::rendered_configs;
use crate::cli::GraphArgs;
use crate::config::vars::Vars;
use crate::error::Error;
use crate::output;
use crate::render::{self, Context};

pub(crate) fn run(
    args: &GraphArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    let configs = rendered_configs(&args.config, vars, stderr)?;
    let ctxs: Vec<render::Context> = configs
        .items
        .iter()
        .map(|loaded| render::Context::new(&loaded.config, vars))
        .collect();
    output::write_stdout(stdout, graph(&ctxs, args.format).as_bytes())?;
    Ok(0)
}

/// A node of the graph: id, label, shape.
type GraphNode<'a> = (&'a str, String, &'a str);
/// An edge of the graph: from, to, label.
type GraphEdge<'a> = (&'a str, &'a str, &'a str);

/// The objects and who talks to whom, as Mermaid or Graphviz; with several databases, each in
/// a box of its own.
pub(crate) fn graph(ctxs: &[Context], format: crate::cli::GraphFormat) -> String {
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
        if redis.workload.policy.is_some() {
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
    if let Some(np) = ctx.network_policy() {
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

//! `pgstate connection`: how an app reaches each database (env lines, a URL or YAML).

use std::fmt::Write as _;
use std::io::Write;

use super::{about, rendered_configs, several};
use crate::cli::{self, ConnectionArgs};
use crate::config::Config;
use crate::config::vars::Vars;
use crate::error::Error;
use crate::output;
use crate::render::context::percent_encode;
use crate::render::{self, Context};

pub(crate) fn run(
    args: &ConnectionArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    let configs = rendered_configs(&args.config, vars, stderr)?;
    if configs.items.len() > 1 && args.format == cli::ConnectionFormat::Url {
        return Err(Error::Usage(format!(
            "--format url prints one URL, and {}; pick one with --name, or use --format env or yaml for a block each",
            several(&configs)
        )));
    }
    let blocks: Vec<(String, String)> = configs
        .items
        .iter()
        .map(|loaded| {
            let ctx = render::Context::new(&loaded.config, vars);
            (
                about(&configs, loaded),
                connection(&loaded.config, &ctx, args.format),
            )
        })
        .collect();
    output::write_stdout(stdout, self::blocks(&blocks, args.format).as_bytes())?;
    Ok(0)
}

/// How an app reaches the database, in the names the app asked for (or the defaults): values
/// the config decides, and for the rest the Secret and key the operator writes them to.
pub(crate) fn connection(
    config: &Config,
    ctx: &Context,
    format: crate::cli::ConnectionFormat,
) -> String {
    use crate::cli::ConnectionFormat;
    use crate::render::app::Field;
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

/// Several databases' answers to one question, each under a comment naming its database:
/// YAML documents for `yaml`, blocks for the rest. One database's answer is printed as it is.
pub(crate) fn blocks(blocks: &[(String, String)], format: crate::cli::ConnectionFormat) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts_are_percent_encoded() {
        assert_eq!(percent_encode("a b@c"), "a%20b%40c");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}

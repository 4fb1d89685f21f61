//! The database's own settings: storage, TLS, postgresql.conf, pg_hba.conf and the initdb scripts.
//!
//! Over 500 lines: postgresql.conf alone is a third of it (every setting pgstate owns, keeps or
//! refuses), and it shares its helpers with pg_hba.conf and TLS.

use serde_json::{Map, Value, json};

use super::values::{Note, Values, carry, size_or_default, to_json};
use super::{conf, out};
use crate::config::node::Node;
use crate::error::{Diagnostic, Location};

pub(super) fn storage(v: &mut Values<'_>, cfg: &mut out::Config) {
    let p = "primary.persistence";
    if v.boolean(&format!("{p}.enabled")) == Some(false) {
        v.note(
            &format!("{p}.enabled"),
            "without persistence the release keeps its data in an emptyDir: a pod restart loses it; pgstate always keeps the data on a volume",
            "nothing: the data of the runbook's dump lands on a volume",
        );
    }
    size_or_default(v, cfg, &format!("{p}.size"), "postgres.storage.size");
    let class = [
        format!("{p}.storageClass"),
        "global.storageClass".to_owned(),
        "global.defaultStorageClass".to_owned(),
    ]
    .into_iter()
    .find_map(|path| v.string(&path).map(|c| (c, path)));
    if let Some((class, from)) = class {
        if class == "-" {
            v.note(
                &from,
                "`-` asks for no storage class (static binding); pgstate's claims use the cluster default or a named class",
                "name the class, or use postgres.storage.local for a node's own disk",
            );
        } else {
            carry(v, cfg, &from, "postgres.storage.class", json!(class), "");
            cfg.storage_class = Some(class);
        }
    }
    if let Some(claim) = v.string(&format!("{p}.volumeName"))
        && claim != "data"
    {
        cfg.set("postgres.storage.claimName", json!(claim), "");
        v.map(&format!("{p}.volumeName"), "postgres.storage.claimName");
    }
    if let Some(modes) = v.take(&format!("{p}.accessModes")) {
        let list = to_json(modes);
        match list.as_array().map(Vec::as_slice) {
            Some([Value::String(m)]) if m == "ReadWriteOnce" => {}
            Some([Value::String(m)]) => {
                cfg.set("postgres.storage.accessMode", json!(m), "");
                v.map(&format!("{p}.accessModes"), "postgres.storage.accessMode");
            }
            _ => v.note(
                &format!("{p}.accessModes"),
                "pgstate's claim has one access mode",
                "write the one the database needs (ReadWriteOnce) as postgres.storage.accessMode",
            ),
        }
    }
    if let Some(claim) = v.string(&format!("{p}.existingClaim")) {
        v.note(
            &format!("{p}.existingClaim"),
            format!("the claim {claim} holds the Bitnami image's data directory, owned by UID 1001: the official image cannot start on it"),
            "move the data with the runbook's dump and restore; keep the old claim until the new database is verified",
        );
    }
    if let Some(mount) = v.string(&format!("{p}.mountPath"))
        && mount != "/bitnami/postgresql"
    {
        v.note(
                &format!("{p}.mountPath"),
                "the mount path is the Bitnami image's layout; the official image keeps its data at /var/lib/postgresql/data",
                "nothing: pgstate's default postgres.mountPath is the official image's",
            );
    }
    for key in ["subPath", "annotations", "labels", "selector", "dataSource"] {
        v.note_if_set(
            &format!("{p}.{key}"),
            "pgstate's volume claim takes a size, class, access mode and name",
            "patch the rendered volumeClaimTemplate with kustomize if you need it",
        );
    }
    let r = "primary.persistentVolumeClaimRetentionPolicy";
    let enabled = v.boolean(&format!("{r}.enabled")).unwrap_or(false);
    let deleted = v.string(&format!("{r}.whenDeleted"));
    let scaled = v.string(&format!("{r}.whenScaled"));
    if enabled && (deleted.as_deref() == Some("Delete") || scaled.as_deref() == Some("Delete")) {
        cfg.set(
            "postgres.storage.retain",
            json!(false),
            "the claim is deleted with the StatefulSet",
        );
        v.map(r, "postgres.storage.retain");
    } else if enabled {
        v.map(r, "postgres.storage.retain (true, pgstate's default)");
    }
}

/// `tls.*`: the chart's certificate Secret as `postgres.tls` when its files are a
/// kubernetes.io/tls Secret's (tls.crt, tls.key, ca.crt).
pub(super) fn tls(v: &mut Values<'_>, cfg: &mut out::Config) {
    if v.boolean("tls.enabled") != Some(true) {
        return;
    }
    let secret = v.string("tls.certificatesSecret");
    let files = [
        ("tls.certFilename", "tls.crt"),
        ("tls.certKeyFilename", "tls.key"),
        ("tls.certCAFilename", "ca.crt"),
    ];
    let names: Vec<(&str, Option<String>, &str)> = files
        .iter()
        .map(|(path, want)| (*path, v.string(path), *want))
        .collect();
    let tls_shaped = names
        .iter()
        .all(|(_, got, want)| got.as_deref() == Some(*want));
    if v.boolean("tls.autoGenerated") == Some(true) {
        v.note(
            "tls.autoGenerated",
            "the chart made a self-signed certificate; pgstate has cert-manager issue one",
            "postgres.tls: {issuer: {name: my-ca, kind: ClusterIssuer}}",
        );
        return;
    }
    match secret {
        Some(secret) if tls_shaped => {
            cfg.set(
                "postgres.tls",
                json!({"secret": secret, "required": false}),
                "the release's certificate; required: false keeps plaintext connections working as before (set true to refuse them)",
            );
            cfg.origin(
                "postgres.tls",
                v.loc("tls.certificatesSecret"),
                "tls.certificatesSecret",
            );
            v.map("tls.enabled", "postgres.tls");
            v.map("tls.certificatesSecret", "postgres.tls.secret");
            for (path, _, _) in &names {
                v.map(path, "(the kubernetes.io/tls Secret's keys)");
            }
        }
        Some(secret) => {
            let shown: Vec<String> = names
                .iter()
                .map(|(path, got, want)| {
                    format!(
                        "{path} {} (pgstate reads {want})",
                        got.as_deref().unwrap_or("unset")
                    )
                })
                .collect();
            v.note(
                "tls.enabled",
                format!("pgstate reads the certificate from a kubernetes.io/tls Secret's tls.crt, tls.key and ca.crt; {secret} names them otherwise: {}", shown.join(", ")),
                "copy them into a kubernetes.io/tls Secret (with ca.crt) and set postgres.tls: {secret: NAME}",
            );
        }
        None => v.note(
            "tls.enabled",
            "TLS without a certificate Secret",
            "postgres.tls: {secret: NAME} or {issuer: ...}",
        ),
    }
}

/// The settings pgstate owns or that name the Bitnami image's files.
pub(super) fn owned_setting(name: &str) -> Option<&'static str> {
    Some(match name {
        "port" => "postgres.port sets it (from containerPorts.postgresql)",
        "listen_addresses" => "pgstate listens on all addresses, for its Service",
        "data_directory" | "hba_file" | "ident_file" | "external_pid_file" => {
            "paths of the Bitnami image's layout: the official image has its own"
        }
        "unix_socket_directories" => {
            "the socket directory is pgstate's emptyDir at /var/run/postgresql"
        }
        "ssl_cert_file" | "ssl_key_file" | "ssl_ca_file" | "ssl_crl_file" | "ssl" => {
            "TLS files of the release's volume; pgstate mounts no certificates yet"
        }
        "log_directory" | "logging_collector" => {
            "the official image logs to stderr, where kubectl logs reads it"
        }
        _ => return None,
    })
}

pub(super) fn postgres_conf(v: &mut Values<'_>, cfg: &mut out::Config) {
    let mut settings: Vec<(String, String, String)> = Vec::new();
    for path in ["primary.configuration", "primary.extendedConfiguration"] {
        let Some(node) = v.take(path) else {
            continue;
        };
        let Some(text) = node.as_str().map(str::to_owned) else {
            v.wrong_type(
                path,
                node,
                "postgresql.conf text (a block: `|` and the lines under it)",
            );
            continue;
        };
        let (first_line, col) = block_start(node);
        let parsed = match conf::parse_conf(&text) {
            Ok(c) => c,
            Err(e) => {
                v.errors.push(
                    Diagnostic::new(
                        Location::new(node.loc.source, first_line + e.line, col + e.col, 1),
                        format!("this is not valid postgresql.conf: {}", e.message),
                    )
                    .with_path(path.to_owned())
                    .with_help("write one `name = value` per line; quote values with spaces in single quotes"),
                );
                continue;
            }
        };
        for inc in &parsed.includes {
            v.notes.push(Note {
                path: path.to_owned(),
                loc: Location::new(node.loc.source, first_line + inc.line, col, 1),
                why: format!(
                    "`{} '{}'` reads a file of the release's volume",
                    inc.directive, inc.target
                ),
                instead: "copy that file's settings into postgres.settings".to_owned(),
            });
        }
        let mut any = false;
        for s in parsed.settings {
            let loc = Location::new(node.loc.source, first_line + s.line, col, s.name.len());
            if let Some(why) = owned_setting(&s.name) {
                v.notes.push(Note {
                    path: format!("{path}: {}", s.name),
                    loc,
                    why: why.to_owned(),
                    instead: "nothing; it is left out".to_owned(),
                });
                continue;
            }
            if s.name == "shared_preload_libraries" {
                let libs: Vec<&str> = s
                    .value
                    .split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && *l != "pgaudit")
                    .collect();
                if s.value.contains("pgaudit") {
                    v.notes.push(Note {
                        path: format!("{path}: shared_preload_libraries"),
                        loc,
                        why: "pgaudit is not in the official postgres image".to_owned(),
                        instead: "left out; log with log_statement, or build an image with pgaudit"
                            .to_owned(),
                    });
                }
                if libs.is_empty() {
                    continue;
                }
                settings.retain(|(n, _, _)| *n != s.name);
                settings.push((s.name.clone(), libs.join(","), path.to_owned()));
                cfg.origin(&format!("postgres.settings.{}", s.name), loc, path);
                any = true;
                continue;
            }
            settings.retain(|(n, _, _)| *n != s.name);
            cfg.origin(&format!("postgres.settings.{}", s.name), loc, path);
            settings.push((s.name, s.value, path.to_owned()));
            any = true;
        }
        if any {
            v.map(path, "postgres.settings");
        }
    }
    if let Some(libs) = v.string("postgresqlSharedPreloadLibraries") {
        let kept: Vec<&str> = libs
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "pgaudit")
            .collect();
        if !kept.is_empty()
            && !settings
                .iter()
                .any(|(n, _, _)| n == "shared_preload_libraries")
        {
            settings.push((
                "shared_preload_libraries".into(),
                kept.join(","),
                "postgresqlSharedPreloadLibraries".into(),
            ));
            v.map(
                "postgresqlSharedPreloadLibraries",
                "postgres.settings.shared_preload_libraries",
            );
        }
        if libs.contains("pgaudit") && libs != "pgaudit" {
            v.note(
                "postgresqlSharedPreloadLibraries",
                "pgaudit is not in the official postgres image",
                "left out; log with log_statement, or build an image with pgaudit",
            );
        }
    }
    // audit.*: the server's own logging settings where there is one.
    for (key, setting) in [
        ("logConnections", "log_connections"),
        ("logDisconnections", "log_disconnections"),
        ("logHostname", "log_hostname"),
    ] {
        let path = format!("audit.{key}");
        if v.boolean(&path) == Some(true) {
            settings.push((setting.into(), "on".into(), path.clone()));
            v.map(&path, &format!("postgres.settings.{setting}"));
        }
    }
    for (key, setting, default) in [
        ("clientMinMessages", "client_min_messages", "error"),
        ("logLinePrefix", "log_line_prefix", ""),
        ("logTimezone", "log_timezone", ""),
    ] {
        let path = format!("audit.{key}");
        if let Some(value) = v.string(&path)
            && value != default
        {
            settings.push((setting.into(), value, path.clone()));
            v.map(&path, &format!("postgres.settings.{setting}"));
        }
    }
    for key in ["pgAuditLog", "pgAuditLogCatalog"] {
        v.note_if_set(
            &format!("audit.{key}"),
            "pgAudit is not in the official postgres image",
            "log with log_statement (e.g. ddl or mod) in postgres.settings, or build an image with pgaudit",
        );
    }
    if !settings.is_empty() {
        let map: Map<String, Value> = settings
            .into_iter()
            .map(|(n, val, _)| (n, Value::String(val)))
            .collect();
        cfg.set(
            "postgres.settings",
            Value::Object(map),
            "from the chart's postgresql.conf keys",
        );
    }
    for key in ["existingConfigmap", "existingExtendedConfigmap"] {
        let path = format!("primary.{key}");
        if let Some(cm) = v.string(&path) {
            v.note(
                &path,
                format!("pgstate cannot read the ConfigMap {cm}"),
                "copy its parameters into postgres.settings",
            );
        }
    }
    if let Some(node) = v.take("primary.pgHbaConfiguration") {
        let text = node.as_str().unwrap_or_default().to_owned();
        let (first_line, col) = block_start(node);
        match conf::parse_hba(&text) {
            Ok(rules) => {
                let tls = cfg.get("postgres.tls").is_some();
                let mut mapped = Vec::new();
                for r in &rules {
                    let loc =
                        Location::new(node.loc.source, first_line + r.line, col, r.kind.len());
                    match hba_rule(r, tls) {
                        Ok(rule) => mapped.push(rule),
                        Err(why) => v.notes.push(Note {
                            path: format!("primary.pgHbaConfiguration: {} {} {}", r.kind, r.database, r.user),
                            loc,
                            why,
                            instead: "left out; pgstate's own rules let the database's users in with scram-sha-256 (the NetworkPolicy limits who connects)".to_owned(),
                        }),
                    }
                }
                if !mapped.is_empty() {
                    if mapped.iter().any(|r| r["method"] == "trust") {
                        v.general.push("a pg_hba rule trusts a network without a password: `pgstate check` warns (PGS018); prefer scram-sha-256".to_owned());
                    }
                    v.map(
                        "primary.pgHbaConfiguration",
                        &format!("postgres.hba ({} of {} rules)", mapped.len(), rules.len()),
                    );
                    cfg.origin(
                        "postgres.hba",
                        v.root.place(&["primary", "pgHbaConfiguration"]),
                        "primary.pgHbaConfiguration",
                    );
                    cfg.set(
                        "postgres.hba",
                        Value::Array(mapped),
                        "placed before pgstate's own rules",
                    );
                } else if rules.is_empty() {
                    v.map("primary.pgHbaConfiguration", "(no rules)");
                }
            }
            Err(e) => v.errors.push(
                Diagnostic::new(
                    Location::new(node.loc.source, first_line + e.line, col + e.col, 1),
                    format!("this is not a valid pg_hba.conf rule: {}", e.message),
                )
                .with_path("primary.pgHbaConfiguration")
                .with_help("one rule a line: TYPE DATABASE USER [ADDRESS] METHOD"),
            ),
        }
    }
}

/// One pg_hba.conf rule as a `postgres.hba` entry, or why it has none.
pub(super) fn hba_rule(r: &conf::HbaRule, tls: bool) -> Result<Value, String> {
    use crate::config::validate::names::{is_hba_address, is_hba_name};
    let kind = match r.kind.as_str() {
        "local" => return Err(
            "the socket's rules are pgstate's (its start step and the image's entrypoint use them)"
                .into(),
        ),
        "hostssl" if !tls => {
            return Err("a hostssl rule matches nothing without postgres.tls".into());
        }
        "host" | "hostssl" | "hostnossl" => r.kind.clone(),
        other => return Err(format!("pgstate writes no `{other}` rules")),
    };
    for name in [&r.database, &r.user] {
        if !is_hba_name(name) {
            return Err(format!(
                "`{name}` is not one name (lists, +groups and @files are not written)"
            ));
        }
    }
    let address = match r.address.as_deref() {
        Some(a) if is_hba_address(a) => a.to_owned(),
        Some(a) => match a
            .split_once(' ')
            .and_then(|(ip, mask)| Some(format!("{ip}/{}", mask_bits(mask)?)))
        {
            Some(cidr) if is_hba_address(&cidr) => cidr,
            _ => {
                return Err(format!(
                    "`{a}` is not an address range pgstate writes (CIDR or all)"
                ));
            }
        },
        None => return Err("a rule without an address".into()),
    };
    let method = match r.method.as_str() {
        "scram-sha-256" | "md5" | "reject" | "trust" => r.method.clone(),
        "cert" if kind == "hostssl" => r.method.clone(),
        other => return Err(format!("pgstate writes no `{other}` authentication")),
    };
    if !r.options.is_empty() {
        return Err(format!(
            "its options ({}) have no place in postgres.hba",
            r.options.join(" ")
        ));
    }
    Ok(
        json!({"type": kind, "database": r.database, "user": r.user, "address": address, "method": method}),
    )
}

/// The prefix length of a contiguous IPv4 netmask such as 255.255.0.0.
pub(super) fn mask_bits(mask: &str) -> Option<u32> {
    let bits = u32::from(mask.parse::<std::net::Ipv4Addr>().ok()?);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones)
}

/// The line and column of a text value's first character: a block scalar's span starts at its
/// first content line, at the column its lines are indented to.
pub(super) fn block_start(node: &Node) -> (usize, usize) {
    (node.loc.line, node.loc.col)
}

pub(super) fn initdb(v: &mut Values<'_>, cfg: &mut out::Config) {
    if let Some(args) = v.string("primary.initdb.args") {
        carry(
            v,
            cfg,
            "primary.initdb.args",
            "postgres.initdbArgs",
            json!(args),
            "",
        );
    }
    if let Some(scripts) = v.take("primary.initdb.scripts") {
        let Some(entries) = scripts.as_map() else {
            v.wrong_type(
                "primary.initdb.scripts",
                scripts,
                "a map from file name to script",
            );
            return;
        };
        let mut files = Vec::new();
        for (k, body) in entries {
            let file = k.as_str().unwrap_or_default();
            let path = format!("primary.initdb.scripts.{file}");
            let Some(text) = body.as_str() else {
                v.wrong_type(&path, body, "the script's text");
                continue;
            };
            let safe = file.ends_with(".sql")
                && file.len() > 4
                && file.len() <= 200
                && file
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                && !file.starts_with('.');
            if !safe {
                v.notes.push(Note {
                    path: path.clone(),
                    loc: k.loc,
                    why: if file.ends_with(".sh") {
                        "a shell script: pgstate runs SQL only at initialisation, never a script from the config".to_owned()
                    } else {
                        format!("`{file}` is not a .sql file name pgstate can write (letters, digits, '-', '_', '.')")
                    },
                    instead: "write what it does as SQL in a .sql file and list it in postgres.initSql.files".to_owned(),
                });
                continue;
            }
            let rel = format!("{}-initdb/{file}", cfg.name);
            files.push((rel.clone(), text.to_owned()));
            cfg.origin("postgres.initSql", k.loc, "primary.initdb.scripts");
        }
        if !files.is_empty() {
            v.map(
                "primary.initdb.scripts",
                "postgres.initSql.files (SQL files written beside the config)",
            );
            cfg.set(
                "postgres.initSql.files",
                json!(files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()),
                "run once, on an empty data directory; the restore brings the data",
            );
            cfg.files = files;
        }
    }
    for key in ["scriptsConfigMap", "scriptsSecret"] {
        let path = format!("primary.initdb.{key}");
        if let Some(name) = v.string(&path) {
            v.note(
                &path,
                format!("pgstate cannot read {name} from the cluster"),
                "save its .sql scripts beside the config and list them in postgres.initSql.files",
            );
        }
    }
    for key in ["user", "password"] {
        v.note_if_set(
            &format!("primary.initdb.{key}"),
            "pgstate runs the init SQL as postgres.user",
            "nothing",
        );
    }
    v.note_if_set(
        "primary.initdb.postgresqlWalDir",
        "pgstate keeps the WAL in the data directory",
        "nothing",
    );
}

//! The input boundary: what a config may make pgstate (or the cluster) do, whoever wrote it.
//!
//! A config is data a reviewer reads, sometimes from a contributor who may not change cluster
//! security on their own. These rules keep every value data: no value runs a command, loads
//! code, reaches a host path outside a safe set, reads a variable it was not allowed to read,
//! or changes how libpq or a URL reads a name. docs/threat-model.md explains each rule.
//!
//! The small `*_problem` and `is_*` functions are the reusable part: each new key that carries
//! a name, a path, a variable name or free text is checked with the one that fits.
//!
//! Over 500 lines: every boundary rule in one place, the list docs/threat-model.md walks through.

use std::path::{Component, Path, PathBuf};

use super::Checker;
use crate::config::model::Config;
use crate::config::node::{Kind, Node};
use crate::error::{Diagnostic, is_forbidden_control};

/// Variables a config may read with `password.fromEnv` without being named on the command line.
pub(crate) const ENV_PREFIX: &str = "PGSTATE_";

/// Whether a config may read variable `name`: it starts with [`ENV_PREFIX`] or the command line
/// named it with `--allow-env`.
pub(crate) fn env_readable(name: &str, allowed: &[String]) -> bool {
    name.starts_with(ENV_PREFIX) || allowed.iter().any(|a| a == name)
}

/// Why `name` cannot be a database, user or role name, if it cannot. Such a name lands in libpq
/// options, in `postgresql://` URLs and in scripts: only characters none of them reads specially
/// (letters, digits, `_`, `.`, `-`), starting with a letter or `_`, at most 63 bytes.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".to_owned());
    }
    if name.len() > 63 {
        return Some(format!(
            "`{name}` has {} bytes, PostgreSQL keeps 63",
            name.len()
        ));
    }
    if let Some(ch) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Some(format!(
            "`{name}` has {}, which a connection string or a URL reads specially",
            describe_char(ch)
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Some(format!("`{name}` does not start with a letter or `_`"));
    }
    None
}

/// The help for a name [`name_problem`] refuses.
pub(crate) const NAME_HELP: &str =
    "use letters, digits, '_', '.' and '-', starting with a letter or '_', e.g. shop_app";

/// A character as a message shows it: printable ones quoted, the others as their code point.
pub(crate) fn describe_char(ch: char) -> String {
    match ch {
        ' ' => "a space".to_owned(),
        c if is_forbidden_control(c) || c.is_control() || c.is_whitespace() => {
            format!("the character U+{:04X}", u32::from(c))
        }
        c => format!("`{c}`"),
    }
}

/// The first character of `text` that a value may not hold: [`is_forbidden_control`], and
/// tab, carriage return and line feed too unless `multiline`.
pub(crate) fn control_problem(text: &str, multiline: bool) -> Option<char> {
    text.chars()
        .find(|&c| is_forbidden_control(c) || (!multiline && matches!(c, '\t' | '\n' | '\r')))
}

/// The system folders of a Linux filesystem, on a node and in a container alike: a host path
/// must not be or be under one, and a volume must not hide one.
const SYSTEM_FOLDERS: &[&str] = &[
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root",
    "/run", "/sbin", "/sys", "/usr", "/var/run",
];

/// A node's folders beyond those: the container runtime, the kubelet and its certificates.
const NODE_FOLDERS: &[&str] = &[
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/etcd",
    "/var/lib/cni",
    "/var/lib/rancher",
    "/var/log",
    "/opt/cni",
];

/// Folders a host path must not be itself (below them is fine): `/var/lib/pg` is a data
/// folder, `/var` is the node's.
const SYSTEM_HOST_ROOTS: &[&str] = &["/", "/var", "/var/lib", "/home", "/opt", "/srv", "/mnt"];

/// A container's folders beyond the system's: the image's init scripts, which pgstate mounts.
const CONTAINER_FOLDERS: &[&str] = &[crate::config::paths::INITDB_DIR];

/// Why `path` is not a plain absolute path: relative, a `.` or `..` part, an empty part (`//`),
/// or characters other than letters, digits and `._-/`.
pub(crate) fn plain_path_problem(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return Some(format!("`{path}` is not an absolute path"));
    }
    if let Some(ch) = path
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-')))
    {
        return Some(format!("`{path}` has {}", describe_char(ch)));
    }
    let inner = path.strip_suffix('/').unwrap_or(path);
    if inner.len() > 1 && inner[1..].split('/').any(|p| p.is_empty()) {
        return Some(format!("`{path}` has an empty part (`//`)"));
    }
    if path.split('/').any(|p| p == "." || p == "..") {
        return Some(format!("`{path}` has a `.` or `..` part"));
    }
    None
}

/// Whether `path` (plain, absolute) is `folder` or under it.
fn is_under(path: &str, folder: &str) -> bool {
    let path = path.trim_end_matches('/');
    path == folder
        || path
            .strip_prefix(folder)
            .is_some_and(|r| r.starts_with('/'))
}

/// Why `path` cannot be a node's folder for a local PersistentVolume, if it cannot.
pub(crate) fn host_path_problem(path: &str) -> Option<String> {
    if let Some(p) = plain_path_problem(path) {
        return Some(p);
    }
    let trimmed = match path.trim_end_matches('/') {
        "" => "/",
        t => t,
    };
    if SYSTEM_HOST_ROOTS.contains(&trimmed) {
        return Some(format!(
            "`{path}` is a system folder of the node, not a data folder"
        ));
    }
    SYSTEM_FOLDERS
        .iter()
        .chain(NODE_FOLDERS)
        .find(|f| is_under(trimmed, f))
        .map(|f| format!("`{path}` is in {f}, a system folder of the node"))
}

/// Why `path` cannot be where a volume is mounted in a container, if it cannot.
pub(crate) fn container_path_problem(path: &str) -> Option<String> {
    if let Some(p) = plain_path_problem(path) {
        return Some(p);
    }
    if path.trim_end_matches('/').is_empty() {
        return Some("`/` is the container's root".to_owned());
    }
    SYSTEM_FOLDERS
        .iter()
        .chain(CONTAINER_FOLDERS)
        .find(|f| is_under(path, f))
        .map(|f| format!("`{path}` would hide {f}, a system folder of the container"))
}

/// Why the container may not get variable `name` from the config, if it may not: the shell
/// (`BASH_ENV`, `ENV`, ...), the dynamic linker (`LD_*`), libpq (`PG*`) and the postgres
/// image's entrypoint (`POSTGRES_*`) read these and act on them.
pub(crate) fn env_name_denied(name: &str) -> Option<&'static str> {
    const SHELL: &[&str] = &[
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "PROMPT_COMMAND",
        "IFS",
        "CDPATH",
        "PATH",
        "HOME",
        "GLOBIGNORE",
        "GCONV_PATH",
        "GLIBC_TUNABLES",
        "HOSTALIASES",
        "LOCPATH",
        "NLSPATH",
        "TZDIR",
        "PERL5LIB",
        "PERL5OPT",
        "PYTHONPATH",
        "PYTHONSTARTUP",
    ];
    if SHELL.contains(&name) || name.starts_with("BASH_FUNC_") {
        Some("the shell of the image's entrypoint reads it and can run a command from it")
    } else if name.starts_with("LD_") || name.starts_with("MALLOC_") || name.starts_with("NSS_") {
        Some("the dynamic linker or the C library reads it and can load code from it")
    } else if name.starts_with("PG") {
        Some(
            "libpq and the PostgreSQL programs read PG* variables (where to connect, which files to read)",
        )
    } else if name.starts_with("POSTGRES_") {
        Some(
            "the postgres image's entrypoint reads POSTGRES_* variables (POSTGRES_HOST_AUTH_METHOD=trust opens the database)",
        )
    } else {
        None
    }
}

/// postgresql.conf parameters that run a command, load code, or choose where the server reads
/// or writes files: refused unless `postgres.allowUnsafeSettings` names them.
pub(crate) const UNSAFE_SETTINGS: &[(&str, &str)] = &[
    ("archive_command", "runs a shell command as postgres"),
    (
        "archive_cleanup_command",
        "runs a shell command as postgres",
    ),
    ("restore_command", "runs a shell command as postgres"),
    ("recovery_end_command", "runs a shell command as postgres"),
    ("ssl_passphrase_command", "runs a shell command as postgres"),
    ("archive_library", "loads a shared library into the server"),
    (
        "shared_preload_libraries",
        "loads shared libraries into the server",
    ),
    (
        "session_preload_libraries",
        "loads shared libraries into the server",
    ),
    (
        "local_preload_libraries",
        "loads shared libraries into the server",
    ),
    (
        "dynamic_library_path",
        "chooses where the server loads libraries from",
    ),
    ("jit_provider", "loads a shared library into the server"),
    (
        "config_file",
        "chooses which file the server reads its settings from",
    ),
    ("hba_file", "chooses which file says who may connect"),
    ("ident_file", "chooses which file maps user names"),
    ("external_pid_file", "chooses a file the server writes"),
    ("log_directory", "chooses where the server writes files"),
    ("log_filename", "chooses which files the server writes"),
    ("primary_conninfo", "chooses a server this one connects to"),
];

/// Why a setting is unsafe, if it is (names compare case-insensitively, as PostgreSQL's do).
pub(crate) fn unsafe_setting(key: &str) -> Option<&'static str> {
    UNSAFE_SETTINGS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, why)| *why)
}

/// Settings that name libraries the server loads from its own library folder: a plain name
/// (`pg_stat_statements,auto_explain`) loads only what the image installs, and needs no
/// allowance; a path (or `$libdir/...`) loads any file.
const LIBRARY_LISTS: &[&str] = &[
    "shared_preload_libraries",
    "session_preload_libraries",
    "local_preload_libraries",
    "jit_provider",
];

/// Why a setting with this value is unsafe, if it is: [`unsafe_setting`], except that a list of
/// plain library names loads only libraries the image installs.
pub(crate) fn unsafe_setting_value(key: &str, value: &str) -> Option<&'static str> {
    let why = unsafe_setting(key)?;
    let plain = |library: &str| {
        let library = library.trim().trim_matches('"');
        !library.is_empty()
            && library
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if LIBRARY_LISTS.iter().any(|l| l.eq_ignore_ascii_case(key)) && value.split(',').all(plain) {
        return None;
    }
    Some(why)
}

/// The initdb options `postgres.initdbArgs` may give: locale, encoding, checksums, WAL size.
pub(crate) const INITDB_OPTIONS: &[&str] = &[
    "data-checksums",
    "no-data-checksums",
    "encoding",
    "locale",
    "no-locale",
    "lc-collate",
    "lc-ctype",
    "lc-messages",
    "lc-monetary",
    "lc-numeric",
    "lc-time",
    "locale-provider",
    "icu-locale",
    "icu-rules",
    "builtin-locale",
    "text-search-config",
    "wal-segsize",
    "allow-group-access",
];

/// Why one whitespace-separated token of `postgres.initdbArgs` is refused, if it is: each is
/// `--option` or `--option=value` with a known option and a value of letters, digits and `._-@`.
/// The image's entrypoint splits the variable with the shell; nothing else may reach it.
pub(crate) fn initdb_arg_problem(token: &str) -> Option<String> {
    let Some(option) = token.strip_prefix("--") else {
        return Some(format!(
            "`{token}` is not an option of the form --name or --name=value"
        ));
    };
    let (name, value) = match option.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (option, None),
    };
    if !INITDB_OPTIONS.contains(&name) {
        return Some(format!(
            "`--{name}` is not an initdb option pgstate passes on"
        ));
    }
    if let Some(value) = value
        && let Some(ch) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
    {
        return Some(format!("the value of `--{name}` has {}", describe_char(ch)));
    }
    None
}

/// Whether a label on this config's pods would let them through another database's
/// NetworkPolicy, which admits pods labelled `<name>-client: "true"`.
pub(crate) fn grants_policy_access(label_key: &str) -> bool {
    let name = label_key.rsplit('/').next().unwrap_or(label_key);
    name.ends_with("-client")
}

/// Whether a toleration (as written) tolerates every taint: `operator: Exists` without a key.
pub(crate) fn tolerates_every_taint(toleration: &serde_json::Value) -> bool {
    toleration.get("operator").and_then(|o| o.as_str()) == Some("Exists")
        && toleration
            .get("key")
            .and_then(|k| k.as_str())
            .is_none_or(str::is_empty)
}

/// `path` (as written, relative to `folder`) resolved with every link followed, when it stays
/// inside `folder`; otherwise why not. A missing file is `Ok` with the joined path, for the
/// caller's own "there is no file" error.
pub(crate) fn inside_folder(folder: &Path, path: &str) -> Result<PathBuf, String> {
    let relative = Path::new(path);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "`{path}` leaves the config's folder (an absolute path or a `..` part)"
        ));
    }
    let joined = folder.join(relative);
    let Ok(real) = std::fs::canonicalize(&joined) else {
        return Ok(joined);
    };
    let base = std::fs::canonicalize(if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    })
    .map_err(|e| format!("cannot read the folder {}: {e}", folder.display()))?;
    if real.starts_with(&base) {
        Ok(joined)
    } else {
        Err(format!(
            "`{path}` is a symbolic link (or in a linked folder) that leads out of the config's folder"
        ))
    }
}

/// The rules of this module, on a typed config and the tree it came from.
pub(super) fn check(c: &mut Checker<'_>, config: &Config) {
    let pg = &config.postgres;
    for (key, value) in [("database", &pg.database), ("user", &pg.user)] {
        // One error per place: another rule may have said already (e.g. a quote in pg_hba.conf).
        let said = c
            .found
            .iter()
            .any(|d| d.loc == c.root.place(&["postgres", key]));
        if let Some(problem) = name_problem(value)
            && !said
        {
            c.value(&["postgres", key], problem, NAME_HELP);
        }
    }
    if let Some(local) = &pg.storage.local
        && let Some(problem) = host_path_problem(&local.path)
    {
        c.value(
            &["postgres", "storage", "local", "path"],
            problem,
            "a folder for this database's data on the node, e.g. /data/postgres",
        );
    }
    for (key, value) in [
        ("mountPath", Some(&pg.mount_path)),
        ("pgdata", pg.pgdata.as_ref()),
    ] {
        // Relative paths and `..` have their own message in postgres.rs.
        if let Some(path) = value
            && path.starts_with('/')
            && !path.split('/').any(|p| p == "." || p == "..")
            && let Some(problem) = container_path_problem(path)
        {
            c.value(
                &["postgres", key],
                problem,
                "use a folder of its own, e.g. /var/lib/postgresql/data",
            );
        }
    }
    for name in pg.env.keys() {
        // pgstate's own variables have their clash message in postgres.rs.
        if super::postgres::GENERATED_PG_ENV.contains(&name.as_str()) {
            continue;
        }
        if let Some(why) = env_name_denied(name) {
            c.key(
                &["postgres", "env"],
                name,
                format!("`{name}` may not be set here: {why}"),
                "remove it; pgstate sets what the image needs from postgres.* keys",
            );
        }
    }
    let allowed: Vec<&str> = pg
        .allow_unsafe_settings
        .iter()
        .map(String::as_str)
        .collect();
    for (key, value) in &pg.settings {
        // pgstate's own settings (hba_file, ...) have their message in credentials.rs.
        let said = c
            .root
            .entry(&["postgres", "settings", key])
            .is_some_and(|(k, _)| c.found.iter().any(|d| d.loc == k.loc));
        if let Some(why) = unsafe_setting_value(key, value)
            && !allowed.iter().any(|a| a.eq_ignore_ascii_case(key))
            && !said
        {
            c.key(
                &["postgres", "settings"],
                key,
                format!("`{key}` {why}"),
                if LIBRARY_LISTS.iter().any(|l| l.eq_ignore_ascii_case(key)) {
                    format!(
                        "name libraries the image installs, without a path (e.g. pg_stat_statements); for a path, and if the config's reviewers accept it, name the setting in postgres.allowUnsafeSettings: [{key}]"
                    )
                } else {
                    format!(
                        "if the config's reviewers accept that, name it in postgres.allowUnsafeSettings: [{key}]"
                    )
                },
            );
        }
    }
    for (i, name) in pg.allow_unsafe_settings.iter().enumerate() {
        if unsafe_setting(name).is_none() {
            let path = format!("postgres.allowUnsafeSettings[{i}]");
            c.found.push(
                Diagnostic::new(c.root.find(&path), format!("`{name}` is not a setting pgstate refuses"))
                    .with_path(path)
                    .with_help("list only settings that postgres.settings sets and pgstate refuses without it, e.g. archive_command"),
            );
        }
    }
    if let Some(args) = &pg.initdb_args {
        if let Some(problem) = args.split_ascii_whitespace().find_map(initdb_arg_problem) {
            c.value(
                &["postgres", "initdbArgs"],
                problem,
                format!(
                    "give initdb options as --name=value, separated by spaces; pgstate passes on --{}",
                    INITDB_OPTIONS.join(", --")
                ),
            );
        } else if args.trim().is_empty() {
            c.value(
                &["postgres", "initdbArgs"],
                "initdbArgs is empty",
                "remove the key, or give e.g. --data-checksums",
            );
        }
    }
    for key in config.labels.keys() {
        if grants_policy_access(key) {
            c.key(
                &["labels"],
                key,
                format!("`{key}` is the kind of label a database's NetworkPolicy admits"),
                "labels ending in -client let pods reach a database; pgstate gives them only to the pods that should, so choose another key",
            );
        }
    }
    // backup.s3 (bucket, endpoint, region, prefix, secret) has its rules beside the backups'.
    controls(c, c.root, &mut Vec::new());
}

/// Keys under which a value may span lines (SQL, annotations, variables): tab and line breaks
/// are allowed there, the other controls nowhere. Paths with `*` match any one key.
const MULTILINE: &[&str] = &[
    "postgres.initSql",
    "postgres.initSql.sql",
    "postgres.env.*",
    "app.env.*",
    "service.annotations.*",
    "postgres.password.value",
    "redis.password.value",
];

/// Keys another rule already checks for line breaks and NUL, with its own message.
const CHECKED_ELSEWHERE: &[&str] = &["postgres.settings.*"];

fn matches_any(path: &[String], patterns: &[&str]) -> bool {
    patterns.iter().any(|p| {
        let parts: Vec<&str> = p.split('.').collect();
        parts.len() == path.len() && parts.iter().zip(path).all(|(a, b)| *a == "*" || a == b)
    })
}

/// Every key and value of the config: control characters refused where they cannot be meant.
fn controls(c: &mut Checker<'_>, node: &Node, path: &mut Vec<String>) {
    match &node.kind {
        Kind::Scalar { text, .. } => {
            let multiline = matches_any(path, MULTILINE);
            let found = control_problem(text, multiline);
            let skip = matches_any(path, CHECKED_ELSEWHERE)
                && found.is_some_and(|ch| matches!(ch, '\0' | '\n'));
            // One error per place: a rule about this value already said it is wrong.
            let said = c.found.iter().any(|d| d.loc == node.loc);
            if let Some(ch) = found
                && !skip
                && !said
            {
                let shown = path.join(".");
                c.found.push(
                    Diagnostic::new(node.loc, format!("the value has {}", describe_char(ch)))
                        .with_path(shown)
                        .with_help(if ch == '\n' || ch == '\r' || ch == '\t' {
                            "this value is one line: remove the line break or tab"
                        } else {
                            "control characters and invisible formatting characters are refused: they read differently to YAML 1.1, YAML 1.2 and a reviewer"
                        }),
                );
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let last = path.pop();
                let here = format!("{}[{i}]", last.as_deref().unwrap_or_default());
                path.push(here);
                controls(c, item, path);
                path.pop();
                if let Some(last) = last {
                    path.push(last);
                }
            }
        }
        Kind::Map(entries) => {
            for (key, value) in entries {
                let name = key.as_str().unwrap_or_default().to_owned();
                if let Some(ch) = control_problem(&name, false)
                    && !c.found.iter().any(|d| d.loc == key.loc)
                {
                    let mut shown = path.clone();
                    shown.push(name.clone());
                    c.found.push(
                        Diagnostic::new(key.loc, format!("the key has {}", describe_char(ch)))
                            .with_path(shown.join("."))
                            .with_help("a key is one line of visible characters"),
                    );
                    continue;
                }
                path.push(name);
                controls(c, value, path);
                path.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_libpq_or_a_url_would_read_specially_are_refused() {
        for bad in [
            "host=127.0.0.1 port=55999 dbname=shop",
            "shop?host=evil&port=1",
            "postgresql://evil/shop",
            "a b",
            "a'b",
            "a\\b",
            "a@b",
            "a/b",
            "a%2f",
            "a#b",
            "a:b",
            "-shop",
            "1shop",
            "a$(X)",
            "",
        ] {
            assert!(name_problem(bad).is_some(), "{bad:?} accepted");
        }
        for good in ["shop", "shop_app", "Shop-1", "_x", "a.b"] {
            assert_eq!(name_problem(good), None, "{good}");
        }
    }

    #[test]
    fn host_paths_stay_out_of_system_folders() {
        for bad in [
            "/",
            "//",
            "/etc",
            "/etc/kubernetes",
            "/data/../etc",
            "/data/./x",
            "/var",
            "/var/lib",
            "/var/lib/kubelet/pods",
            "/var/run/docker.sock",
            "/proc/1",
            "data",
            "/data//x",
            "/data/a b",
            "/usr/local/pg",
        ] {
            assert!(host_path_problem(bad).is_some(), "{bad:?} accepted");
        }
        for good in [
            "/data/postgres",
            "/mnt/disk1/pg",
            "/var/lib/postgres",
            "/srv/db/",
        ] {
            assert_eq!(host_path_problem(good), None, "{good}");
        }
        assert!(container_path_problem("/etc").is_some());
        assert!(container_path_problem("/").is_some());
        assert!(container_path_problem("/usr/lib/postgresql").is_some());
        assert_eq!(container_path_problem("/var/lib/postgresql/data"), None);
    }

    #[test]
    fn initdb_args_are_known_options_only() {
        assert_eq!(initdb_arg_problem("--data-checksums"), None);
        assert_eq!(initdb_arg_problem("--locale=en_US.UTF-8"), None);
        for bad in [
            "--data-checksums;",
            "touch",
            "--auth-host=trust",
            "-A",
            "--set=archive_command=x",
            "--locale=$(id)",
            "--waldir=/etc",
        ] {
            assert!(initdb_arg_problem(bad).is_some(), "{bad} accepted");
        }
    }

    #[test]
    fn variables_the_shell_the_linker_or_the_image_read_are_refused() {
        for bad in [
            "BASH_ENV",
            "ENV",
            "LD_PRELOAD",
            "PGHOST",
            "POSTGRES_HOST_AUTH_METHOD",
            "BASH_FUNC_x%%",
        ] {
            assert!(env_name_denied(bad).is_some(), "{bad}");
        }
        assert_eq!(env_name_denied("TZ"), None);
        assert!(env_readable("PGSTATE_PASSWORD", &[]));
        assert!(!env_readable("AWS_SECRET_ACCESS_KEY", &[]));
        assert!(env_readable("DB_PASSWORD", &["DB_PASSWORD".to_owned()]));
    }

    #[test]
    fn plain_library_names_need_no_allowance_paths_do() {
        assert_eq!(
            unsafe_setting_value(
                "shared_preload_libraries",
                "pg_stat_statements, auto_explain"
            ),
            None
        );
        assert!(unsafe_setting_value("shared_preload_libraries", "/tmp/evil").is_some());
        assert!(unsafe_setting_value("shared_preload_libraries", "$libdir/../../tmp/x").is_some());
        assert!(unsafe_setting_value("archive_command", "true").is_some());
        assert_eq!(unsafe_setting_value("max_connections", "100"), None);
    }

    #[test]
    fn controls_the_yaml_versions_read_differently_are_forbidden() {
        for ch in [
            '\0', '\u{7f}', '\u{85}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{202e}',
        ] {
            assert!(is_forbidden_control(ch), "{ch:?}");
        }
        assert_eq!(control_problem("a\nb", true), None);
        assert_eq!(control_problem("a\nb", false), Some('\n'));
    }
}

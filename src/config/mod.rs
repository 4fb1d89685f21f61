//! Reading configs: file -> node tree (with places) -> overlay -> typed config -> validated.

pub mod cron;
pub mod de;
pub mod defaults;
pub mod diff;
pub mod image;
pub mod lint_id;
pub mod model;
pub mod names;
pub mod node;
pub mod units;
pub mod validate;
pub mod vars;

use std::path::{Path, PathBuf};

use crate::error::{Diagnostic, Error, Location, Sources, closest};
pub use model::Config;
use node::{Kind, Node};
use vars::Vars;

/// The config rendered when there is none: the calculator story.
pub const BUILTIN_NAME: &str = "<built-in calculator example>";
pub const BUILTIN_TEXT: &str = include_str!("../../fixtures/calculator.yaml");
/// The file looked for in the current folder when no `-c` is given.
pub const DEFAULT_FILE: &str = "pgstate.yaml";
/// A config is a few hundred bytes; anything above this is not one.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// One config, ready to render: the typed config and the tree it came from. The config is
/// boxed: it is a few kilobytes, and a run of many configs moves each one several times (out of
/// the threads that load them, into the list of configs) before rendering.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Box<Config>,
    pub root: Node,
}

/// The config files of a run, in order, and the sources their diagnostics point into.
#[derive(Debug, Default)]
pub struct Configs {
    pub sources: Sources,
    pub items: Vec<Loaded>,
}

/// Resolves `-c` arguments: files as given, folders to their *.yaml files (sorted), nothing
/// to ./pgstate.yaml when present. An empty result means the built-in example.
pub fn config_paths(args: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    if args.is_empty() {
        let default = Path::new(DEFAULT_FILE);
        return Ok(if default.exists() {
            vec![default.to_path_buf()]
        } else {
            Vec::new()
        });
    }
    let mut paths = Vec::new();
    for arg in args {
        if arg.is_dir() {
            let entries = std::fs::read_dir(arg).map_err(|e| {
                Error::Usage(format!("cannot read the folder {}: {e}", arg.display()))
            })?;
            // The entry's type comes with the listing; only a link costs a look at its target.
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .filter(|e| {
                    Path::new(&e.file_name())
                        .extension()
                        .is_some_and(|x| x == "yaml" || x == "yml")
                })
                .filter(|e| {
                    e.file_type()
                        .is_ok_and(|t| t.is_file() || (t.is_symlink() && e.path().is_file()))
                })
                .map(|e| e.path())
                .collect();
            if found.is_empty() {
                return Err(Error::Usage(format!(
                    "the folder {} has no .yaml files",
                    arg.display()
                )));
            }
            found.sort();
            paths.extend(found);
        } else {
            paths.push(arg.clone());
        }
    }
    Ok(paths)
}

/// What tells one file from another: its device and inode where there are such things, else
/// its canonical path.
#[cfg(unix)]
type FileId = (u64, u64);
#[cfg(not(unix))]
type FileId = PathBuf;

#[cfg(unix)]
fn file_id(_: &Path, meta: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(path: &Path, _: &std::fs::Metadata) -> Option<FileId> {
    std::fs::canonicalize(path).ok()
}

/// Refuses a file given twice (by two arguments, a folder and a file in it, or a link to it):
/// it would be two databases with every name the same.
fn once_each(paths: &[PathBuf], ids: &[Option<FileId>]) -> Result<(), Error> {
    let mut seen = std::collections::HashMap::with_capacity(paths.len());
    for (path, id) in paths.iter().zip(ids) {
        let Some(id) = id else {
            continue;
        };
        if let Some(first) = seen.insert(id, path) {
            let same = if first == path {
                format!("{} is given twice", path.display())
            } else {
                format!(
                    "{} and {} are the same file",
                    first.display(),
                    path.display()
                )
            };
            return Err(Error::Usage(format!(
                "{same}; each config is one database, so give it once"
            )));
        }
    }
    Ok(())
}

/// A config file that is a symbolic link must lead to a file in its own folder or in the folder
/// pgstate runs in (the checkout CI runs it in): a committed link to /etc/shadow or a key
/// elsewhere is never read (its first line would be shown in an error).
fn link_stays_inside(path: &Path) -> Result<(), String> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(());
    }
    let Ok(target) = std::fs::canonicalize(path) else {
        return Ok(());
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let inside = |base: &Path| std::fs::canonicalize(base).is_ok_and(|b| target.starts_with(b));
    if inside(folder) || inside(Path::new(".")) {
        Ok(())
    } else {
        Err(format!(
            "the link leads to {}, outside the config's folder and the current folder; pgstate does not follow it",
            target.display()
        ))
    }
}

/// Reads a config file, refusing what cannot be a config with a clear reason; also gives the
/// file's identity, to find a file given twice.
fn read_config(path: &Path) -> Result<(String, Option<FileId>), Error> {
    use std::io::Read as _;
    let shown = path.display();
    if let Err(why) = link_stays_inside(path) {
        return Err(Error::Usage(format!("{shown}: {why}")));
    }
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Usage(format!(
            "there is no config file {shown}; `pgstate init` writes one"
        )),
        _ => Error::Usage(format!("cannot read the config file {shown}: {e}")),
    })?;
    if meta.is_dir() {
        return Err(Error::Usage(format!(
            "{shown} is a folder; pass a config file, or a folder with -c to render each *.yaml in it"
        )));
    }
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "{shown} is not a regular file (a pipe or a device?); pass a config file"
        )));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::Usage(format!(
            "{shown} has {} bytes; a pgstate config is at most 1 MiB",
            meta.len()
        )));
    }
    let cannot =
        |e: std::io::Error| Error::Usage(format!("cannot read the config file {shown}: {e}"));
    // At most one byte more than a config may have, whatever the file grew to since.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0) + 1);
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::Usage(format!(
            "{shown} is larger than 1 MiB; a pgstate config is small"
        )));
    }
    match String::from_utf8(bytes) {
        Ok(text) if text.contains('\0') => Err(Error::Usage(format!(
            "{shown} contains NUL bytes; it is a binary file, not a YAML config"
        ))),
        Ok(text) => Ok((text, file_id(path, &meta))),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let col = valid.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            Err(Error::Usage(format!(
                "{shown}:{line}:{col}: the file is not UTF-8 text; save it as UTF-8"
            )))
        }
    }
}

/// Loads every config of a run (or the built-in example), selecting environment `env`.
pub fn load_all(args: &[PathBuf], env: Option<&str>, vars: &dyn Vars) -> Result<Configs, Error> {
    let paths = config_paths(args)?;
    let mut configs = Configs::default();
    let mut diagnostics = Vec::new();
    // Each source with the folder its initSql files are relative to (none for the built-in).
    let texts: Vec<(String, String, Option<&Path>)> = if paths.is_empty() {
        vec![(BUILTIN_NAME.to_owned(), BUILTIN_TEXT.to_owned(), None)]
    } else {
        let (read, ids): (Vec<String>, Vec<Option<FileId>>) =
            crate::pool::each(&paths, |p| read_config(p))?
                .into_iter()
                .unzip();
        once_each(&paths, &ids)?;
        paths
            .iter()
            .zip(read)
            .map(|(p, text)| {
                let folder = p.parent().unwrap_or(Path::new(""));
                (p.display().to_string(), text, Some(folder))
            })
            .collect()
    };
    let sources: Vec<_> = texts
        .into_iter()
        .map(|(name, text, folder)| (configs.sources.add(name, text), folder))
        .collect();
    let texts = &configs.sources;
    let results = crate::pool::each(&sources, |&(id, folder)| {
        Ok(load(id, texts.text(id), env, vars).and_then(|mut loaded| {
            let found = read_init_files(&mut loaded, folder);
            if found.is_empty() {
                Ok(loaded)
            } else {
                Err(found)
            }
        }))
    })?;
    for result in results {
        match result {
            Ok(loaded) => configs.items.push(loaded),
            Err(mut found) => diagnostics.append(&mut found),
        }
    }
    if diagnostics.is_empty() {
        Ok(configs)
    } else {
        Err(Error::Config {
            sources: configs.sources,
            diagnostics,
        })
    }
}

/// Parses, overlays, types and validates one config text. Every environment overlay is
/// checked, chosen or not; `env` picks the one whose config is returned.
pub fn load(
    id: crate::error::SourceId,
    text: &str,
    env: Option<&str>,
    vars: &dyn Vars,
) -> Result<Loaded, Vec<Diagnostic>> {
    let mut root = node::parse(id, text).map_err(|d| vec![d])?;
    let Kind::Map(entries) = &mut root.kind else {
        return Err(vec![
            Diagnostic::new(
                root.loc,
                format!(
                    "a config is a map of keys, this document is {}",
                    root.describe()
                ),
            )
            .with_help("start with `name: postgresql` and `postgres:` (see `pgstate init`)"),
        ]);
    };
    let overlays = entries
        .iter()
        .position(|(k, _)| k.as_str() == Some("environments"))
        .map(|i| entries.remove(i));
    let mut found = Vec::new();
    // (environment, its merged tree, the lines of its overlay)
    let mut merged_envs: Vec<(String, Node, (usize, usize))> = Vec::new();
    if let Some((key, overlays)) = &overlays {
        match &overlays.kind {
            Kind::Map(envs) => {
                for (name, overlay) in envs {
                    let env_name = name.as_str().unwrap_or_default().to_owned();
                    if !matches!(overlay.kind, Kind::Map(_)) && !overlay.is_null() {
                        found.push(
                            Diagnostic::new(
                                overlay.loc,
                                format!(
                                    "environment `{env_name}` must be a map of keys to change, not {}",
                                    overlay.describe()
                                ),
                            )
                            .with_path(format!("environments.{env_name}"))
                            .with_help(format!(
                                "e.g. {env_name}: {{namespace: {env_name}}}"
                            )),
                        );
                        continue;
                    }
                    let mut merged = root.clone();
                    node::merge(
                        &mut merged,
                        if overlay.is_null() {
                            Node {
                                loc: overlay.loc,
                                kind: Kind::Map(Vec::new()),
                            }
                        } else {
                            overlay.clone()
                        },
                    );
                    let lines = (name.loc.line, last_line(overlay).max(name.loc.line));
                    merged_envs.push((env_name, merged, lines));
                }
            }
            _ if overlays.is_null() => {}
            _ => found.push(
                Diagnostic::new(
                    key.loc,
                    "environments is a map from an environment name to the keys it changes",
                )
                .with_path("environments")
                .with_help("e.g. environments: {prod: {namespace: prod}}"),
            ),
        }
    }
    let selected = env.and_then(|e| merged_envs.iter().position(|(name, _, _)| name == e));
    if let Some(env) = env
        && selected.is_none()
    {
        let known: Vec<&str> = merged_envs.iter().map(|(n, _, _)| n.as_str()).collect();
        let help = match (closest(env, &known), known.is_empty()) {
            (Some(near), _) => format!("did you mean `{near}`?"),
            (None, true) => "this config has no `environments:`".to_owned(),
            (None, false) => format!("the environments here are: {}", known.join(", ")),
        };
        let loc = overlays
            .as_ref()
            .map_or(Location::new(id, 1, 1, 1), |(k, _)| k.loc);
        found.push(
            Diagnostic::new(loc, format!("there is no environment `{env}`"))
                .with_path("environments")
                .with_help(help),
        );
    }
    // The config asked for: the base, or the chosen environment merged over it.
    let (chosen, chosen_env) = match selected {
        Some(i) => {
            let (name, merged, lines) = merged_envs.remove(i);
            (merged, Some((name, lines)))
        }
        None => (root, None),
    };
    // Every unknown key and wrong type is reported, and the value rules still run on what
    // could be read.
    let read = de::from_node_collecting::<Config>(&chosen);
    let mut own = read.errors.clone();
    if let Some(config) = &read.value {
        for mut d in validate::validate(config, &read.tree, vars) {
            d.path = read.original_path(&d.path);
            own.push(d);
        }
    }
    let result = read.value;
    if let Some((name, lines)) = &chosen_env {
        for d in &mut own {
            in_overlay(d, name, *lines, false);
        }
    }
    let mut seen: Vec<(Location, String)> =
        own.iter().map(|d| (d.loc, d.message.clone())).collect();
    found.append(&mut own);
    // The other environments: problems of their own, each reported once. Their variables
    // are not read: they may be set only where that environment is rendered.
    for (name, merged, lines) in &merged_envs {
        let read = de::from_node_collecting::<Config>(merged);
        let mut problems = read.errors.clone();
        if let Some(config) = &read.value {
            for mut d in validate::validate(config, &read.tree, &vars::AnyVars(vars)) {
                d.path = read.original_path(&d.path);
                problems.push(d);
            }
        }
        for mut d in problems {
            let key = (d.loc, d.message.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            in_overlay(&mut d, name, *lines, true);
            found.push(d);
        }
    }
    found.sort_by_key(|d| (d.loc.source, d.loc.line, d.loc.col));
    match result {
        Some(config) if found.is_empty() => Ok(Loaded {
            config: Box::new(config),
            root: chosen,
        }),
        _ => Err(found),
    }
}

/// The most files `postgres.initSql.files` may list: they are numbered 11 to 99.
pub const MAX_INIT_FILES: usize = 89;

/// Reads the files of `postgres.initSql.files`, relative to `folder` (the config file's; none
/// for the built-in example). A file that cannot be used is an error at its entry.
pub fn read_init_files(loaded: &mut Loaded, folder: Option<&Path>) -> Vec<Diagnostic> {
    let Some(init) = &mut loaded.config.postgres.init_sql else {
        return Vec::new();
    };
    let root = &loaded.root;
    let mut found = Vec::new();
    let mut total = init.sql.as_ref().map_or(0, String::len) as u64;
    for (i, file) in init.files.iter_mut().enumerate() {
        let path = format!("postgres.initSql.files[{i}]");
        let problem = |message: String, help: &str| {
            Diagnostic::new(root.find(&path), message)
                .with_path(path.clone())
                .with_help(help.to_owned())
        };
        let Some(folder) = folder else {
            found.push(problem(
                format!("the built-in example cannot read `{}`", file.path),
                "write the config to a file (`pgstate init`) and name the SQL files relative to it",
            ));
            continue;
        };
        let full = match validate::boundary::inside_folder(folder, &file.path) {
            Ok(full) => full,
            Err(why) => {
                found.push(problem(
                    why,
                    "keep the SQL files in the config's folder (or below it) as regular files, not links",
                ));
                continue;
            }
        };
        let shown = full.display();
        let help = "name a readable .sql file of at most 1 MiB, relative to the config file";
        let meta = match std::fs::metadata(&full) {
            Ok(meta) if meta.is_file() => meta,
            Ok(_) => {
                found.push(problem(format!("{shown} is not a regular file"), help));
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                found.push(problem(format!("there is no file {shown}"), help));
                continue;
            }
            Err(e) => {
                found.push(problem(format!("cannot read {shown}: {e}"), help));
                continue;
            }
        };
        if meta.len() > MAX_FILE_BYTES {
            found.push(problem(
                format!("{shown} has {} bytes, more than 1 MiB", meta.len()),
                "a ConfigMap holds at most 1 MiB: load large data after the start, with psql",
            ));
            continue;
        }
        match std::fs::read(&full).map(String::from_utf8) {
            Ok(Ok(text)) if text.contains('\0') => found.push(problem(
                format!("{shown} contains NUL bytes; it is not a SQL file"),
                help,
            )),
            Ok(Ok(text)) => {
                total += text.len() as u64;
                file.text = Some(text);
            }
            Ok(Err(_)) => found.push(problem(
                format!("{shown} is not UTF-8 text"),
                "save the SQL file as UTF-8",
            )),
            Err(e) => found.push(problem(format!("cannot read {shown}: {e}"), help)),
        }
    }
    if found.is_empty() && total > MAX_FILE_BYTES {
        found.push(
            Diagnostic::new(
                root.place(&["postgres", "initSql"]),
                format!("the init scripts have {total} bytes together, more than 1 MiB"),
            )
            .with_path("postgres.initSql")
            .with_help(
                "a ConfigMap holds at most 1 MiB: load large data after the start, with psql",
            ),
        );
    }
    found
}

/// The last line a node (and everything under it) is on.
fn last_line(node: &Node) -> usize {
    match &node.kind {
        Kind::Scalar { .. } => node.loc.line,
        Kind::Seq(items) => items.iter().map(last_line).max().unwrap_or(node.loc.line),
        Kind::Map(entries) => entries
            .iter()
            .map(|(_, v)| last_line(v))
            .max()
            .unwrap_or(node.loc.line),
    }
}

/// A problem found with environment `env` merged in: inside its overlay, the key path is the
/// overlay's; elsewhere (a base value the overlay makes wrong), the message names the
/// environment, unless it is the one asked for.
fn in_overlay(d: &mut Diagnostic, env: &str, lines: (usize, usize), note: bool) {
    if (lines.0..=lines.1).contains(&d.loc.line) {
        d.path = if d.path.is_empty() {
            format!("environments.{env}")
        } else {
            format!("environments.{env}.{}", d.path)
        };
    } else if note {
        d.message.push_str(&format!(" (with environment `{env}`)"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SourceId;

    struct Only(&'static str);

    impl Vars for Only {
        fn get(&self, name: &str) -> Option<String> {
            (name == self.0).then(|| "secret".to_owned())
        }
    }

    const TEXT: &str = "name: shop\n\
        postgres:\n  password: {fromEnv: PGSTATE_DEV_PASSWORD}\n\
        environments:\n  prod:\n    postgres:\n      password: {fromEnv: PGSTATE_PROD_PASSWORD}\n      port: 0\n";

    fn with_file(name: &str, bytes: &[u8]) -> (tempfile::TempDir, Vec<Diagnostic>) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(name), bytes).expect("write");
        let text = format!("postgres:\n  initSql:\n    files: [{name}]\n");
        let mut loaded = load(SourceId(0), &text, None, &Only("")).expect("loads");
        let found = read_init_files(&mut loaded, Some(dir.path()));
        if found.is_empty() {
            let file = &loaded
                .config
                .postgres
                .init_sql
                .as_ref()
                .expect("initSql")
                .files[0];
            assert_eq!(file.text.as_deref().map(str::as_bytes), Some(bytes));
        }
        (dir, found)
    }

    #[test]
    fn init_files_are_read_and_bad_ones_are_errors_at_their_entry() {
        let (_dir, found) = with_file("a.sql", b"SELECT 1;\n");
        assert!(found.is_empty(), "{found:?}");
        let big = vec![b'-'; MAX_FILE_BYTES as usize + 1];
        let (_dir, found) = with_file("big.sql", &big);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "postgres.initSql.files[0]");
        assert_eq!((found[0].loc.line, found[0].loc.col), (3, 13));
        assert!(found[0].message.contains("more than 1 MiB"), "{found:?}");
        let (_dir, found) = with_file("latin1.sql", b"SELECT '\xe9';\n");
        assert!(found[0].message.contains("not UTF-8"), "{found:?}");
        let half = vec![b'-'; MAX_FILE_BYTES as usize / 2 + 1];
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.sql"), &half).expect("write");
        std::fs::write(dir.path().join("b.sql"), &half).expect("write");
        let text = "postgres:\n  initSql: {files: [a.sql, b.sql]}\n";
        let mut loaded = load(SourceId(0), text, None, &Only("")).expect("loads");
        let found = read_init_files(&mut loaded, Some(dir.path()));
        assert!(found[0].message.contains("together"), "{found:?}");
        let found = read_init_files(&mut loaded, None);
        assert!(found[0].message.contains("built-in"), "{found:?}");
    }

    #[test]
    fn every_overlay_is_checked_but_only_the_chosen_one_reads_variables() {
        let found =
            load(SourceId(0), TEXT, None, &Only("PGSTATE_DEV_PASSWORD")).expect_err("port 0");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "environments.prod.postgres.port");
        assert_eq!(found[0].loc.line, 8);
        let found = load(
            SourceId(0),
            TEXT,
            Some("prod"),
            &Only("PGSTATE_DEV_PASSWORD"),
        )
        .expect_err("unset");
        let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "environments.prod.postgres.password.fromEnv",
                "environments.prod.postgres.port"
            ]
        );
    }

    #[test]
    fn a_base_value_an_overlay_makes_wrong_names_the_overlay() {
        let text = "app: {image: a/b:1, poolSize: 10}\nenvironments:\n  prod: {app: {poolSize: 50}}\n  dev: {}\n";
        let found = load(SourceId(0), text, None, &Only("")).expect_err("budget");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "environments.prod.app.poolSize");
        let text = "app: {image: a/b:1}\nenvironments:\n  prod: {app: {replicas: 12}}\n";
        let found = load(SourceId(0), text, None, &Only("")).expect_err("budget");
        assert_eq!(found[0].path, "environments.prod.app.replicas", "{found:?}");
        let text = "app: {image: a/b:1, replicas: 5, poolSize: 20}\nenvironments:\n  prod: {namespace: prod}\n";
        let found = load(SourceId(0), text, None, &Only("")).expect_err("budget");
        assert_eq!(
            found.len(),
            1,
            "reported once, not once per environment: {found:?}"
        );
    }
}

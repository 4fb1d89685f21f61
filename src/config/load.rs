//! Finding and reading config files: `-c` files and folders (or ./pgstate.yaml, or the built-in
//! example), each read once, in parallel, and loaded into one list of configs.

use std::path::{Path, PathBuf};

use super::vars::Vars;
use super::{Configs, load, read_init_files};
use crate::error::Error;

/// The config rendered when there is none: the calculator story.
pub(crate) const BUILTIN_NAME: &str = "<built-in calculator example>";

pub(crate) const BUILTIN_TEXT: &str = include_str!("../../fixtures/calculator.yaml");

/// The file looked for in the current folder when no `-c` is given.
pub(crate) const DEFAULT_FILE: &str = "pgstate.yaml";

/// A config is a few hundred bytes; anything above this is not one.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Resolves `-c` arguments: files as given, folders to their *.yaml files (sorted), nothing
/// to ./pgstate.yaml when present. An empty result means the built-in example.
pub(crate) fn config_paths(args: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
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
pub(crate) fn load_all(
    args: &[PathBuf],
    env: Option<&str>,
    vars: &dyn Vars,
) -> Result<Configs, Error> {
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

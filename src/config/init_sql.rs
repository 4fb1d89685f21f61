//! `postgres.initSql.files`: the SQL files a config names, read relative to the config's folder.

use std::path::Path;

use super::load::MAX_FILE_BYTES;
use super::{Loaded, validate};
use crate::error::Diagnostic;

/// The most files `postgres.initSql.files` may list: they are numbered 11 to 99.
pub(crate) const MAX_INIT_FILES: usize = 89;

/// Reads the files of `postgres.initSql.files`, relative to `folder` (the config file's; none
/// for the built-in example). A file that cannot be used is an error at its entry.
pub(crate) fn read_init_files(loaded: &mut Loaded, folder: Option<&Path>) -> Vec<Diagnostic> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;
    use crate::config::tests::Only;
    use crate::error::SourceId;

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
}

//! config is the ground floor: a test reads every file under src/config and fails when one
//! reaches into the crate for anything but `config`, `error` and `pool` (render, manifest, a
//! command...), by a `crate::` path or by a `super::` chain that climbs out of config.

use std::path::{Path, PathBuf};

/// What a file under src/config may name of the crate.
const ALLOWED: &[&str] = &["config", "error", "pool"];

/// Every path in `source` that leaves config for a module not in [`ALLOWED`]. `depth` is how
/// many modules deep the file is under `config` (config/mod.rs 0, config/names.rs 1,
/// config/validate/app.rs 2). Comment lines are skipped. A `super::` chain is counted from the
/// file's own module, so one inside an inline module (`mod tests`) that climbs out is caught
/// even when it would land back in config: write `crate::config::...` there instead.
fn outside_paths(source: &str, depth: usize) -> Vec<String> {
    let mut found = Vec::new();
    for (i, line) in source.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &line[at + "crate::".len()..];
            for name in first_names(rest) {
                if !ALLOWED.contains(&name.as_str()) {
                    found.push(format!("line {}: crate::{name}", i + 1));
                }
            }
        }
        for (at, _) in line.match_indices("super::") {
            let before = line[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut rest = &line[at..];
            let mut climbs = 0;
            while let Some(r) = rest.strip_prefix("super::") {
                climbs += 1;
                rest = r;
            }
            if climbs > depth {
                found.push(format!(
                    "line {}: {} climbs out of config",
                    i + 1,
                    "super::".repeat(climbs)
                ));
            }
        }
    }
    found
}

/// The first module names of a path after `crate::`: one (`render::x`), or each of a group
/// (`{error::Diagnostic, render::x}`).
fn first_names(rest: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    let mut names = Vec::new();
    let mut level = 0;
    let mut start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => level += 1,
            '}' if level == 0 => break,
            '}' => level -= 1,
            ',' if level == 0 => start = true,
            _ if start && !c.is_whitespace() => {
                names.push(ident(&group[i..]));
                start = false;
            }
            _ => {}
        }
    }
    names
}

/// Every .rs file under `dir`, with its depth in modules below config.
fn sources(dir: &Path, depth: usize, out: &mut Vec<(PathBuf, usize)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src/config is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, depth + 1, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let own = usize::from(path.file_name().is_none_or(|n| n != "mod.rs"));
            out.push((path, depth + own));
        }
    }
}

#[test]
fn config_imports_only_config_error_and_pool() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config");
    let mut files = Vec::new();
    sources(&root, 0, &mut files);
    assert!(files.len() > 10, "{files:?}");
    let mut found = Vec::new();
    for (path, depth) in &files {
        // This file names forbidden paths as test data.
        if path.ends_with("config/leaf.rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).expect("a source file");
        for f in outside_paths(&text, *depth) {
            found.push(format!("{}: {f}", path.display()));
        }
    }
    assert!(
        found.is_empty(),
        "config must stay the leaf:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_catches_a_planted_import() {
    assert_eq!(
        outside_paths("use crate::render::x;\n", 1),
        ["line 1: crate::render"]
    );
    assert_eq!(
        outside_paths(
            "use crate::{error::Diagnostic, manifest::{lint, same}};\n",
            1
        ),
        ["line 1: crate::manifest"]
    );
    assert_eq!(
        outside_paths("    let n = crate::commands::run();\n", 2),
        ["line 1: crate::commands"]
    );
    assert_eq!(
        outside_paths("use super::super::render::x;\n", 1),
        ["line 1: super::super:: climbs out of config"]
    );
    let fine = "use super::super::model::Config;\nuse crate::config::node::Node;\n\
        use crate::error::{Diagnostic, closest};\n/// crate::render is only named here\n\
        let x = crate::pool::each(&a, f);\n";
    assert_eq!(outside_paths(fine, 2), Vec::<String>::new());
}

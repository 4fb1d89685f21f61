//! Dependencies point one way (main -> run -> commands -> the run-wide stages -> manifest,
//! readback, render -> config): a test reads every file under src and fails when one names a
//! module of the crate that its layer may not, by a `crate::` path or a `super::` chain.

use std::path::{Path, PathBuf};

/// The run-wide stages (load and render every config, `--name`/`--only`, collisions, output,
/// drift) and everything below them.
const STAGES: &[&str] = &[
    "pipeline", "select", "collide", "output", "drift", "manifest", "readback", "render", "config",
    "cli", "yaml", "pool", "error",
];

/// Everything but `run`: what `run` and a command body may name.
const COMMANDS: &[&str] = &[
    "commands", "bitnami", "pipeline", "select", "collide", "output", "drift", "manifest",
    "readback", "render", "config", "cli", "yaml", "pool", "error",
];

/// Each top-level module and the other top-level modules it may name; a module may always
/// name itself. A module missing here may name nothing, so a new one has to find its floor.
const RULES: &[(&str, &[&str])] = &[
    ("run", COMMANDS),
    ("commands", COMMANDS),
    // The Bitnami conversion and the body of `init --from-bitnami`, below `commands/init.rs`.
    ("bitnami", STAGES),
    ("pipeline", STAGES),
    ("select", STAGES),
    ("collide", STAGES),
    ("output", STAGES),
    ("drift", STAGES),
    ("manifest", &["readback", "config", "error"]),
    ("render", &["config", "yaml", "error"]),
    ("readback", &["yaml", "error"]),
    ("config", &["pool", "error"]),
    ("pool", &["error"]),
    ("cli", &[]),
    ("yaml", &[]),
    ("error", &[]),
];

/// Paths a file's test module may name above its layer, each with its reason.
const TEST_ONLY: &[(&str, &str, &str)] = &[
    (
        "readback/reader.rs",
        "pipeline::fixture_renders",
        "the fast reader is tested against serde-saphyr on every document every fixture renders",
    ),
    (
        "manifest/verify.rs",
        "pipeline::fixture_renders",
        "the typed round trip is tested on every document every fixture renders",
    ),
];

/// The top-level modules `module` may name, itself included.
fn allowed(module: &str) -> Vec<&'static str> {
    let below = RULES
        .iter()
        .find(|(m, _)| *m == module)
        .map_or(&[][..], |r| r.1);
    RULES
        .iter()
        .map(|(m, _)| *m)
        .filter(|m| *m == module || below.contains(m))
        .collect()
}

/// Every path in `source` that names a top-level module the file's layer may not. `module`
/// is the file's module path (`["config", "validate", "app"]`). Comment lines are skipped.
/// A `super::` chain climbs from the file's own module (one more inside `mod tests`, which
/// by habit ends the file); where it climbs out of the top-level module, the name after it is
/// checked like one after `crate::`. `test_only` holds the paths allowed inside `mod tests`.
fn outside_paths(source: &str, module: &[&str], test_only: &[&str]) -> Vec<String> {
    let top = module[0];
    let may = allowed(top);
    let mut found = Vec::new();
    let mut in_tests = false;
    for (i, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with("mod tests {") {
            in_tests = true;
        }
        let mut named = Vec::new();
        for (at, _) in line.match_indices("crate::") {
            if starts_mid_path(line, at) {
                continue;
            }
            named.push((at + "crate::".len(), String::new()));
        }
        for (at, _) in line.match_indices("super::") {
            if starts_mid_path(line, at) {
                continue;
            }
            let mut rest = &line[at..];
            let mut climbs = 0;
            while let Some(r) = rest.strip_prefix("super::") {
                climbs += 1;
                rest = r;
            }
            let climbs = climbs - usize::from(in_tests).min(climbs);
            if climbs >= module.len() {
                let chain = "super::".repeat(climbs + usize::from(in_tests));
                named.push((line.len() - rest.len(), chain));
            }
        }
        for (from, chain) in named {
            let rest = &line[from..];
            let whole: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            for name in first_names(rest) {
                if may.contains(&name.as_str()) {
                    continue;
                }
                if in_tests && test_only.iter().any(|p| whole.starts_with(p)) {
                    continue;
                }
                let how = if chain.is_empty() { "crate::" } else { &chain };
                found.push(format!("line {}: {how}{name} ({top} may not)", i + 1));
            }
        }
    }
    found
}

/// Whether the path at `at` continues another (`a::crate::` or `pgstate_crate::`).
fn starts_mid_path(line: &str, at: usize) -> bool {
    let before = line[..at].chars().next_back();
    before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
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

/// Every .rs file under `dir`, with its module path (`mod.rs` is its folder's module).
fn sources(dir: &Path, module: &[String], out: &mut Vec<(PathBuf, Vec<String>)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut inner = module.to_vec();
        if path.is_dir() {
            inner.push(stem);
            sources(&path, &inner, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            if stem != "mod" {
                inner.push(stem);
            }
            out.push((path, inner));
        }
    }
}

#[test]
fn every_module_names_only_what_is_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &[], &mut files);
    assert!(files.len() > 50, "{files:?}");
    let mut found = Vec::new();
    for (path, module) in &files {
        // The crate roots name every module; this file names forbidden paths as test data.
        if matches!(module.as_slice(), [m] if ["lib", "main", "layers"].contains(&m.as_str())) {
            continue;
        }
        assert!(
            RULES.iter().any(|(m, _)| *m == module[0]),
            "{}: the module {} has no row in RULES",
            path.display(),
            module[0]
        );
        let rel = path.strip_prefix(&root).expect("under src");
        let test_only: Vec<&str> = TEST_ONLY
            .iter()
            .filter(|(file, _, _)| rel.ends_with(file))
            .map(|(_, p, _)| *p)
            .collect();
        let module: Vec<&str> = module.iter().map(String::as_str).collect();
        let text = std::fs::read_to_string(path).expect("a source file");
        for f in outside_paths(&text, &module, &test_only) {
            found.push(format!("{}: {f}", path.display()));
        }
    }
    assert!(
        found.is_empty(),
        "dependencies must point down (main -> run -> commands -> stages -> manifest, \
         readback, render -> config):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_catches_a_planted_import() {
    let config = ["config", "names"];
    assert_eq!(
        outside_paths("use crate::render::x;\n", &config, &[]),
        ["line 1: crate::render (config may not)"]
    );
    assert_eq!(
        outside_paths(
            "use crate::{error::Diagnostic, manifest::{lint, same}};\n",
            &config,
            &[]
        ),
        ["line 1: crate::manifest (config may not)"]
    );
    assert_eq!(
        outside_paths(
            "    let n = crate::commands::run();\n",
            &["config", "validate", "app"],
            &[]
        ),
        ["line 1: crate::commands (config may not)"]
    );
    assert_eq!(
        outside_paths("use super::super::render::x;\n", &config, &[]),
        ["line 1: super::super::render (config may not)"]
    );
    assert_eq!(
        outside_paths("use crate::pipeline::render;\n", &["render", "env"], &[]),
        ["line 1: crate::pipeline (render may not)"]
    );
    assert_eq!(
        outside_paths("use crate::run::run;\n", &["commands", "check"], &[]),
        ["line 1: crate::run (commands may not)"]
    );
    // A test-only path is allowed inside `mod tests`, and only there.
    let test_only = ["pipeline::fixture_renders"];
    assert_eq!(
        outside_paths(
            "let r = crate::pipeline::fixture_renders();\n",
            &["readback", "reader"],
            &test_only
        ),
        ["line 1: crate::pipeline (readback may not)"]
    );
    let in_tests = "mod tests {\n    let r = crate::pipeline::fixture_renders();\n";
    assert_eq!(
        outside_paths(in_tests, &["readback", "reader"], &test_only),
        Vec::<String>::new()
    );
    let fine = "use super::super::model::Config;\nuse crate::config::node::Node;\n\
        use crate::error::{Diagnostic, closest};\n/// crate::render is only named here\n\
        let x = crate::pool::each(&a, f);\nmod tests {\n    use super::*;\n\
        use super::super::super::names::x;\n";
    assert_eq!(
        outside_paths(fine, &["config", "validate", "app"], &[]),
        Vec::<String>::new()
    );
    assert_eq!(
        outside_paths("mod tests {\n    use super::*;\n", &["yaml"], &[]),
        Vec::<String>::new()
    );
}

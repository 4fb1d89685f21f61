//! The README's first screen, Install and Quick start run as written: every command that needs
//! no cluster runs, in order, in a fresh folder with a fresh HOME, with the built binary.

use std::path::Path;
use std::process::Command;

use crate::support::{pgstate_bin, pgstate_in};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// The text of the README before its first `## ` heading, and of the sections named.
fn sections(readme: &str, names: &[&str]) -> String {
    let mut out = String::new();
    let mut keep = true;
    for line in readme.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            keep = names.contains(&heading.trim());
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The lines of the ```sh blocks of `text`.
fn shell_blocks(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        match (inside, line.trim_start()) {
            (false, "```sh") => inside = true,
            (true, "```") => inside = false,
            (true, _) => lines.push(line.to_owned()),
            _ => {}
        }
    }
    lines
}

/// What the test does with a command line of the README.
#[derive(Debug, PartialEq)]
enum Step {
    /// Run it as written.
    Run,
    /// It needs a cluster (kubectl): left out, with its continuation lines.
    Cluster,
    /// This test's own runner (`bash .ci/test`): left out.
    TestCommand,
    /// `cargo install` / `cargo run --`: the built binary stands in for it.
    Binary,
}

fn step(command: &str) -> Step {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        ["kubectl", ..] => Step::Cluster,
        _ if command.contains("| kubectl") => Step::Cluster,
        ["bash", ".ci/test", ..] => Step::TestCommand,
        ["cargo", "install", ..] | ["cargo", "run", "--", ..] => Step::Binary,
        _ => Step::Run,
    }
}

/// The script the README's commands make: heredocs kept whole, cluster commands (and their
/// continuation lines) left out, `cargo run --` replaced by the binary on PATH.
fn script(lines: &[String]) -> (String, Vec<String>) {
    let mut out = String::from("set -euo pipefail\n");
    let mut left_out = Vec::new();
    let mut heredoc: Option<String> = None;
    let mut skipping = false;
    for line in lines {
        if let Some(end) = &heredoc {
            out.push_str(line);
            out.push('\n');
            if line.trim() == end {
                heredoc = None;
            }
            continue;
        }
        if skipping {
            skipping = line.trim_end().ends_with('\\');
            continue;
        }
        let command = line.split(" #").next().unwrap_or(line).trim();
        match step(command) {
            Step::Run => {
                out.push_str(line);
                out.push('\n');
                if let Some((_, tag)) = line.split_once("<<") {
                    let tag = tag.trim().trim_matches('\'').trim_matches('"').to_owned();
                    heredoc = Some(tag);
                }
            }
            Step::Binary => {
                if let Some(rest) = command.strip_prefix("cargo run -- ") {
                    out.push_str(&format!("pgstate {rest}\n"));
                } else {
                    left_out.push(command.to_owned());
                }
            }
            Step::Cluster | Step::TestCommand => {
                left_out.push(command.to_owned());
                skipping = line.trim_end().ends_with('\\');
            }
        }
    }
    assert!(heredoc.is_none(), "an unclosed heredoc");
    (out, left_out)
}

#[test]
fn readme_first_screen_install_and_quick_start_run_as_written() {
    let readme = readme();
    let lines = shell_blocks(&sections(&readme, &["Install", "Quick start"]));
    assert!(
        lines[0].starts_with("cargo run -- render"),
        "the README starts with `cargo run -- render`"
    );
    assert!(
        lines[1].starts_with("bash .ci/test"),
        "the README's second command is `bash .ci/test`"
    );
    let (script, left_out) = script(&lines);
    let install = left_out
        .iter()
        .find(|c| c.starts_with("cargo install"))
        .expect("an install command");
    assert!(
        install.contains("--path .") && install.contains("--locked"),
        "{install}"
    );
    assert!(
        left_out.iter().all(|c| c.starts_with("kubectl")
            || c.contains("| kubectl")
            || c.starts_with("cargo install")
            || c == "bash .ci/test"),
        "only cluster commands, the install and the test command are left out: {left_out:?}"
    );
    let home = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("tempdir");
    let bin = pgstate_bin();
    let path = format!(
        "{}:{}",
        bin.parent().expect("a folder").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(work.path())
        .env("HOME", home.path())
        .env("PATH", path)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "the README's commands fail:\n{script}\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The first screen rendered the example into the work folder, the Quick start the shop
    // into ~/shop: nothing was written inside the repository.
    for file in [
        work.path().join("k8s-files/postgresql.yml"),
        work.path().join("k8s-files/statefulset-postgresql.yaml"),
        home.path().join("shop/k8s-files/postgresql.yml"),
    ] {
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(text.contains("kind: StatefulSet"), "{}", file.display());
    }
    let shop = std::fs::read_to_string(home.path().join("shop/k8s-files/postgresql.yml"))
        .expect("rendered");
    assert!(shop.contains("name: shop-db\n") && shop.contains("namespace: shop\n"));
    // The Secret the Quick start creates is the one the render reads, in its namespace.
    let create = left_out
        .iter()
        .find(|c| c.starts_with("pgstate secret --generate"))
        .expect("the Quick start creates the password Secret");
    assert!(create.ends_with("| kubectl apply -f -"), "{create}");
    let secret = Command::new(&bin)
        .args(["secret", "--generate"])
        .current_dir(home.path().join("shop"))
        .output()
        .expect("runs");
    let secret: serde_json::Value =
        serde_saphyr::from_slice(&secret.stdout).expect("a Secret manifest");
    assert_eq!(secret["metadata"]["name"], "shop-db-credentials");
    assert_eq!(secret["metadata"]["namespace"], "shop");
    for key in ["password", "app-password"] {
        assert!(secret["data"][key].is_string(), "no {key} in {secret}");
        assert!(
            shop.contains(&format!("key: {key}\n")),
            "the render reads no {key}"
        );
    }
    assert!(shop.contains("name: shop-db-credentials\n"), "{shop}");
}

/// The annotated config of the README is a config that renders, every environment of it.
#[test]
fn readme_annotated_config_renders() {
    let readme = readme();
    let annotated = sections(&readme, &["A config, annotated"]);
    let yaml = annotated
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml block");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pgstate.yaml"), yaml).expect("write");
    for args in [&["check"][..], &["render", "--env", "prod"]] {
        let out = pgstate_in(dir.path()).args(args).output().expect("runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn readme_is_a_front_door() {
    let readme = readme();
    assert!(
        readme.len() <= 12 * 1024,
        "README.md is {} bytes; keep it under 12 KB and move depth to docs/",
        readme.len()
    );
    // Every docs link points at a file that exists. The pages of work that lands beside this
    // one are listed until they do; remove them from the list when they are in.
    const LANDING: &[&str] = &["threat-model.md"];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for link in readme.split("](docs/").skip(1) {
        let target = link.split(')').next().unwrap_or_default();
        let path = root.join("docs").join(target);
        assert!(
            path.exists() || LANDING.contains(&target),
            "README links to docs/{target}, which is missing"
        );
    }
}

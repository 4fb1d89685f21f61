//! A new user's first hour: every step the README and the tool's own hints give works as
//! written, from an empty folder.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::{
    FakeKubectl, ci_test_with_cargo, documents, folder_with_config, pgstate_bin, pgstate_in,
};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const NOTE: &str = "this is the built-in calculator example";

#[test]
fn the_examples_secret_hint_names_its_namespace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = pgstate_in(dir.path()).arg("render").output().expect("runs");
    assert!(out.status.success());
    let docs = documents(&text(&out.stdout));
    let sts = docs
        .iter()
        .find(|d| d["kind"] == "StatefulSet")
        .expect("a StatefulSet");
    let ns = sts["metadata"]["namespace"].as_str().expect("a namespace");
    let secret = sts["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find_map(|v| v["secret"]["secretName"].as_str())
        .expect("the password Secret is mounted");
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    assert!(
        lines.contains(&format!("kubectl create namespace {ns}").as_str()),
        "{stderr}"
    );
    assert!(
        lines.contains(&"pgstate secret --generate | kubectl apply -f -"),
        "{stderr}"
    );
    // What that command applies is the Secret the StatefulSet mounts, in its namespace.
    let secret_out = pgstate_in(dir.path())
        .args(["secret", "--generate"])
        .output()
        .expect("runs");
    assert!(secret_out.status.success());
    let made = documents(&text(&secret_out.stdout));
    assert!(
        made.iter().any(|d| d["kind"] == "Secret"
            && d["metadata"]["name"] == secret
            && d["metadata"]["namespace"] == ns),
        "pgstate secret --generate does not make Secret {ns}/{secret}: {made:?}"
    );
}

#[test]
fn apply_refuses_the_builtin_example_unless_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubectl = FakeKubectl::new();
    let refused = kubectl
        .command_in(dir.path(), 0)
        .arg("apply")
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        !kubectl.ran(),
        "kubectl must not be run for the built-in example"
    );
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("--example") && stderr.contains("pgstate init"),
        "{stderr}"
    );
    let asked = kubectl
        .command_in(dir.path(), 0)
        .args(["apply", "--example", "--dry-run", "server"])
        .output()
        .expect("runs");
    assert_eq!(asked.status.code(), Some(0), "{}", text(&asked.stderr));
    assert!(kubectl.ran());
    assert!(text(&asked.stderr).contains(NOTE));
    // With a config of its own, apply needs no flag.
    std::fs::write(dir.path().join("pgstate.yaml"), "name: shop\n").expect("write");
    let own = kubectl
        .command_in(dir.path(), 0)
        .arg("apply")
        .output()
        .expect("runs");
    assert_eq!(own.status.code(), Some(0), "{}", text(&own.stderr));
    assert!(!text(&own.stderr).contains(NOTE));
}

#[test]
fn every_command_says_when_it_uses_the_builtin_example() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubectl = FakeKubectl::new();
    let runs: [&[&str]; 7] = [
        &["render"],
        &["check"],
        &["secret", "--generate"],
        &["graph"],
        &["connection"],
        &["diff"],
        &["restore", "--latest"],
    ];
    for args in runs {
        let out = kubectl
            .command_in(dir.path(), 0)
            .args(args)
            .output()
            .expect("runs");
        assert!(
            text(&out.stderr).contains(NOTE),
            "pgstate {args:?} ran silently on the example: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn apply_dry_runs_pass_kubectls_flag_rules() {
    let kubectl = FakeKubectl::new();
    for (mode, want) in [
        (
            "client",
            vec!["apply", "--dry-run=client", "--field-manager=pgstate"],
        ),
        (
            "server",
            vec![
                "apply",
                "--server-side",
                "--dry-run=server",
                "--field-manager=pgstate",
            ],
        ),
    ] {
        let out = kubectl
            .command(0)
            .args(["apply", "-c", "fixtures/calculator.yaml", "--dry-run", mode])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{mode}: {}", text(&out.stderr));
        let mut want: Vec<String> = want.into_iter().map(String::from).collect();
        want.extend(["-f".to_owned(), "-".to_owned()]);
        assert_eq!(kubectl.argv(), want);
    }
}

/// The real kubectl checks its flags before it reaches for a cluster: a client dry run must
/// get past that check and fail only because there is no cluster on the port it is given.
#[test]
fn apply_dry_run_client_is_accepted_by_the_real_kubectl() {
    let home = tempfile::tempdir().expect("tempdir");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let out = pgstate_in(root())
        .env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("none"))
        .args([
            "apply",
            "-c",
            "fixtures/calculator.yaml",
            "--dry-run",
            "client",
            "--",
            &format!("--server=http://127.0.0.1:{port}"),
        ])
        .output()
        .expect("runs");
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("doesn't work with"),
        "kubectl refused the flags: {stderr}"
    );
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")),
        "kubectl should fail only for want of a cluster: {stderr}"
    );
    assert_eq!(out.status.code(), Some(3), "{stderr}");
}

/// pgstate run under a shell that set this umask first.
fn with_umask(dir: &Path, umask: &str, args: &[&str]) -> Output {
    let out = Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(pgstate_bin())
        .args(args)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    out
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("written")
        .permissions()
        .mode()
        & 0o7777
}

#[test]
fn written_files_get_the_mode_a_shell_gives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for (umask, want) in [("022", 0o644), ("077", 0o600)] {
        let file = format!("out-{umask}.yaml");
        let folder = format!("k8s-{umask}");
        let init = format!("init-{umask}.yaml");
        with_umask(d, umask, &["render", "-o", &file]);
        with_umask(d, umask, &["render", "--out-dir", &folder]);
        with_umask(d, umask, &["init", "-o", &init]);
        with_umask(d, umask, &["render", "-o", &format!("shell-{umask}.yaml")]);
        assert_eq!(mode(&d.join(&file)), want, "-o under umask {umask}");
        assert_eq!(mode(&d.join(&init)), want, "init under umask {umask}");
        for entry in std::fs::read_dir(d.join(&folder)).expect("folder") {
            let path = entry.expect("entry").path();
            assert_eq!(mode(&path), want, "{} under umask {umask}", path.display());
        }
    }
    // An existing file keeps its mode, wider or narrower than the umask's.
    for kept in [0o640, 0o664] {
        let file = d.join("kept.yaml");
        std::fs::write(&file, "old").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(kept)).expect("chmod");
        with_umask(d, "022", &["render", "-o", "kept.yaml"]);
        assert_eq!(mode(&file), kept);
        assert_ne!(std::fs::read(&file).expect("read"), b"old");
    }
}

#[test]
fn init_says_how_to_render_the_file_it_wrote() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (file, next) in [
        ("db.yaml", "pgstate render -c db.yaml"),
        ("pgstate.yaml", "pgstate render"),
        ("my db.yaml", "pgstate render -c 'my db.yaml'"),
    ] {
        let out = pgstate_in(dir.path())
            .args(["init", "-o", file])
            .output()
            .expect("runs");
        assert!(out.status.success());
        let stderr = text(&out.stderr);
        let said = stderr
            .trim_end()
            .rsplit_once("next: ")
            .unwrap_or_else(|| panic!("no next step: {stderr}"))
            .1;
        assert_eq!(said, next);
        // The step works as written, and renders that file, not the example.
        let run = Command::new("sh")
            .current_dir(dir.path())
            .arg("-c")
            .arg(said.replacen("pgstate", "\"$0\"", 1))
            .arg(pgstate_bin())
            .output()
            .expect("runs");
        assert!(run.status.success(), "{said}: {}", text(&run.stderr));
        assert!(!text(&run.stderr).contains(NOTE), "{said}");
    }
}

#[test]
fn bare_restore_names_both_ways_to_pick_a_dump() {
    let out = pgstate_in(root())
        .args(["restore", "-c", "fixtures/healthcare.yaml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--latest") && stderr.contains("--from"),
        "{stderr}"
    );
    let both = pgstate_in(root())
        .args([
            "restore",
            "-c",
            "fixtures/healthcare.yaml",
            "--latest",
            "--from",
            "x.dump",
        ])
        .output()
        .expect("runs");
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn help_and_readme_agree_on_exit_codes() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let line = readme
        .lines()
        .find(|l| l.starts_with("Exit codes:"))
        .expect("the README has an `Exit codes:` line");
    let help = pgstate_in(root()).arg("--help").output().expect("runs");
    assert!(
        text(&help.stdout).lines().any(|l| l == line),
        "`pgstate --help` does not say, as the README does:\n{line}\n{}",
        text(&help.stdout)
    );
    assert!(line.contains("3 kubectl or I/O failed"), "{line}");
}

#[test]
fn every_init_preset_passes_the_ci_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    for preset in ["calculator", "tfvisualizer", "healthcare", "ha"] {
        let file = format!("{preset}.yaml");
        let init = pgstate_in(dir.path())
            .args(["init", "--preset", preset, "-o", &file])
            .output()
            .expect("runs");
        assert!(init.status.success(), "{}", text(&init.stderr));
        let check = pgstate_in(dir.path())
            .args(["check", "-c", &file, "--deny-warnings"])
            .output()
            .expect("runs");
        assert_eq!(
            check.status.code(),
            Some(0),
            "init --preset {preset} fails the CI step:\n{}{}",
            text(&check.stdout),
            text(&check.stderr)
        );
        // What is allowed is a to-do with its reason, not a silenced rule.
        let written = std::fs::read_to_string(dir.path().join(&file)).expect("written");
        let allowed: Vec<&str> = written
            .lines()
            .filter(|l| l.trim_start().starts_with("PGS"))
            .collect();
        assert!(
            allowed.iter().all(|l| l.contains(": \"to do: ")),
            "{allowed:?}"
        );
    }
}

#[test]
fn every_unknown_key_and_wrong_type_is_reported_then_the_value_rules() {
    let dir = folder_with_config(
        "name: shop\nreplicaz: 2\npostgres:\n  imag: postgres:17.2\n  port: \"5432\"\n  storage:\n    size: 10GB\n  replicas: two\napp:\n  imagee: ghcr.io/acme/shop:1.0.0\nbackup:\n  keep: 0\n",
    );
    let out = pgstate_in(dir.path()).arg("check").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let places: Vec<(usize, &str)> = stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--> pgstate.yaml:"))
        .map(|at| {
            let line = at.split(':').next().expect("line");
            (line.parse().expect("a line number"), at)
        })
        .collect();
    let lines: Vec<usize> = places.iter().map(|(l, _)| *l).collect();
    // replicaz, imag, port, size (a value rule), replicas, app (no image), imagee, keep (a
    // value rule after a wrong key elsewhere).
    assert_eq!(lines, [2, 4, 5, 7, 8, 9, 10, 12], "{stderr}");
    assert!(stderr.contains("8 errors in the config"), "{stderr}");
    assert!(
        stderr.contains("write a whole number in digits"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("without quotes: two"),
        "`two` has no quotes to remove: {stderr}"
    );
}

/// `.ci/test` (the README's test command) sums up every test binary, and keeps that line and
/// a failing exit code when a test fails.
#[test]
fn the_test_command_keeps_its_summary_when_a_test_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two test binaries, the first failing: cargo goes on (--no-fail-fast) and exits 101.
    let out = ci_test_with_cargo(
        dir.path(),
        "#!/bin/sh\ncase \" $* \" in *' --no-fail-fast '*) ;; *) echo 'no --no-fail-fast' >&2; exit 9 ;; esac\n\
         echo 'test result: FAILED. 70 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out'\n\
         echo 'test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out'\n\
         echo 'error: 1 target failed:' >&2\nexit 101\n",
    )
    .output()
    .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("tests: 75 passed, 2 failed"),
        "{stdout}"
    );
}

/// A list item left out for its wrong value is not reported again as missing a key, and the
/// items after it keep their own index and line.
#[test]
fn errors_in_list_items_keep_their_index() {
    let dir = folder_with_config(
        "postgres:\n  hba:\n    - {type: host, database: shop, user: r, address: 10.0.0.0/8, method: scram}\n    - {type: host, database: shop, user: r, address: 10.0.0.300/8, method: md5}\n    - {type: hots, database: shop, user: r, address: 10.0.0.0/8, method: md5}\n",
    );
    let out = pgstate_in(dir.path()).arg("check").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let found: Vec<(&str, &str)> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .zip(
            stderr
                .lines()
                .filter_map(|l| l.trim().strip_prefix("--> pgstate.yaml:")),
        )
        .map(|(what, at)| {
            (
                what.split(':').next().unwrap_or(what),
                at.split(':').next().unwrap_or(at),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("postgres.hba[0].method", "3"),
            ("postgres.hba[1].address", "4"),
            ("postgres.hba[2].type", "5"),
        ],
        "{stderr}"
    );
    assert!(!stderr.contains("is missing"), "{stderr}");
}

//! The command line as a user meets it: the real binary, its streams and exit codes.
//!
//! Over 500 lines: a split would rename its snapshots, whose file names hold the module name.

use std::path::Path;

use insta_cmd::assert_cmd_snapshot;

use crate::support::{FakeKubectl, folder_with_config, pgstate_command, pgstate_in};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn help_shows_examples() {
    assert_cmd_snapshot!(pgstate_command().arg("--help"));
    assert_cmd_snapshot!(pgstate_command().args(["render", "--help"]));
}

#[test]
fn empty_folder_renders_the_builtin_example() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = pgstate_in(dir.path()).arg("render").output().expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let builtin = pgstate_command()
        .args(["render", "-c", &fixture("calculator.yaml")])
        .output()
        .expect("runs");
    assert_eq!(
        stdout.as_bytes(),
        builtin.stdout,
        "the built-in example is the calculator fixture"
    );
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        stderr.contains("Secret postgresql-credentials")
            && stderr.contains("pgstate secret --generate | kubectl apply -f -"),
        "{stderr}"
    );
}

#[test]
fn pgstate_yaml_in_the_folder_is_used() {
    let dir = folder_with_config("name: shop\nnamespace: shop\n");
    let out = pgstate_in(dir.path())
        .args(["render", "--only", "StatefulSet"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(stdout.contains("name: shop\n"), "{stdout}");
    assert!(out.stderr.is_empty(), "no note when the user has a config");
}

#[test]
fn output_file_equals_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("postgresql.yml");
    let status = pgstate_command()
        .args(["render", "-c", &fixture("tfvisualizer.yaml"), "-o"])
        .arg(&file)
        .status()
        .expect("runs");
    assert!(status.success());
    let stdout = pgstate_command()
        .args(["render", "-c", &fixture("tfvisualizer.yaml")])
        .output()
        .expect("runs")
        .stdout;
    assert_eq!(std::fs::read(&file).expect("written"), stdout);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[test]
fn out_dir_writes_one_file_per_object_and_removes_stale_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("k8s-files");
    let status = pgstate_command()
        .args(["render", "-c", &fixture("healthcare.yaml"), "--out-dir"])
        .arg(&out)
        .status()
        .expect("runs");
    assert!(status.success());
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    insta::assert_debug_snapshot!(names);
    let status = pgstate_command()
        .args([
            "render",
            "-c",
            &fixture("healthcare.yaml"),
            "--only",
            "StatefulSet",
            "--out-dir",
        ])
        .arg(&out)
        .status()
        .expect("runs");
    assert!(status.success());
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["kustomization.yaml", "statefulset-postgres.yaml"]);
}

#[test]
fn out_dir_refuses_a_kustomization_it_did_not_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [mine.yaml]\n",
    )
    .expect("write");
    let out = pgstate_command()
        .args(["render", "-c", &fixture("calculator.yaml"), "--out-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        1,
        "nothing written"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert_cmd_snapshot!(
        "missing_config",
        pgstate_in(dir.path()).args(["render", "-c", "nope.yaml"])
    );
    assert_cmd_snapshot!(
        "folder_without_configs",
        pgstate_in(dir.path()).args(["render", "-c", "."])
    );
    assert_cmd_snapshot!(
        "unknown_kind",
        pgstate_in(dir.path()).args(["render", "--only", "Statefulset,Pods"])
    );
    assert_cmd_snapshot!("unknown_subcommand", pgstate_in(dir.path()).arg("rendr"));
    assert_cmd_snapshot!(
        "o_and_out_dir",
        pgstate_in(dir.path()).args(["render", "-o", "a.yaml", "--out-dir", "b"])
    );
    assert_cmd_snapshot!(
        "restore_without_backup",
        pgstate_in(dir.path()).args(["restore", "--latest"])
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_cmd_snapshot!(
        "restore_path_not_name",
        pgstate_in(root).args([
            "restore",
            "-c",
            "fixtures/healthcare.yaml",
            "--from",
            "../etc/passwd"
        ])
    );
    for (name, from) in [
        (
            "restore_s3_without_s3",
            "s3://acme-shop-backups/x-20260101T020000Z-00.dump",
        ),
        (
            "restore_s3_other_bucket",
            "s3://other-bucket/prod/shop-db/shop-db-20260101T020000Z-00.dump",
        ),
        (
            "restore_s3_climbs",
            "s3://acme-shop-backups/prod/../secret.dump",
        ),
        (
            "restore_s3_not_a_dump",
            "s3://acme-shop-backups/prod/shop-db/notes.txt",
        ),
    ] {
        let config = if name == "restore_s3_without_s3" {
            "fixtures/healthcare.yaml"
        } else {
            "fixtures/offsite-backups.yaml"
        };
        assert_cmd_snapshot!(
            name,
            pgstate_in(root).args(["restore", "-c", config, "--from", from])
        );
    }
}

#[test]
fn a_config_typo_points_at_its_line() {
    let dir = folder_with_config(
        "name: shop\npostgres:\n  image: postgres:17.2\n  storag:\n    size: 1Gi\n",
    );
    assert_cmd_snapshot!(pgstate_in(dir.path()).arg("render"));
}

#[test]
fn unwritable_output_exits_3_and_leaves_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("missing-folder").join("out.yaml");
    let out = pgstate_command()
        .args(["render", "-c", &fixture("calculator.yaml"), "-o"])
        .arg(&target)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: could not"));
    assert!(!target.exists());
}

#[test]
fn environment_overlay_is_chosen_with_env() {
    let dir = folder_with_config(
        "name: shop\nnamespace: dev\npostgres:\n  storage: {size: 1Gi}\nenvironments:\n  prod:\n    namespace: prod\n    postgres:\n      storage: {size: 50Gi}\n",
    );
    let prod = pgstate_in(dir.path())
        .args(["render", "--env", "prod", "--only", "StatefulSet"])
        .output()
        .expect("runs");
    assert!(prod.status.success());
    let text = String::from_utf8(prod.stdout).expect("utf-8");
    assert!(
        text.contains("namespace: prod") && text.contains("storage: 50Gi"),
        "{text}"
    );
    let dev = pgstate_in(dir.path())
        .args(["render", "--only", "StatefulSet"])
        .output()
        .expect("runs");
    let text = String::from_utf8(dev.stdout).expect("utf-8");
    assert!(
        text.contains("namespace: dev") && text.contains("storage: 1Gi"),
        "{text}"
    );
    assert_cmd_snapshot!(
        "unknown_env",
        pgstate_in(dir.path()).args(["render", "--env", "prd"])
    );
}

#[test]
fn apply_hands_kubectl_the_same_bytes_render_prints() {
    let kubectl = FakeKubectl::new();
    let out = kubectl
        .command(0)
        .args([
            "apply",
            "-c",
            "fixtures/calculator.yaml",
            "--dry-run",
            "client",
            "--context",
            "kind-dev",
            "--",
            "--prune",
            "--selector=app.kubernetes.io/managed-by=pgstate",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "kubectl says hello\n");
    assert_eq!(
        kubectl.argv(),
        [
            "apply",
            "--dry-run=client",
            "--field-manager=pgstate",
            "--context=kind-dev",
            "-f",
            "-",
            "--prune",
            "--selector=app.kubernetes.io/managed-by=pgstate"
        ]
    );
    assert_eq!(kubectl.stdin(), render_bytes("calculator.yaml"));
}

#[test]
fn apply_and_diff_take_every_database_of_a_folder() {
    let rendered = render_bytes("course/");
    for verb in ["apply", "diff"] {
        let kubectl = FakeKubectl::new();
        let status = kubectl
            .command(0)
            .args([verb, "-c", "fixtures/course/"])
            .status()
            .expect("runs");
        assert!(status.success(), "{verb}");
        assert_eq!(kubectl.stdin(), rendered, "{verb}");
        let stdin = String::from_utf8(kubectl.stdin()).expect("utf-8");
        assert!(stdin.contains("name: users-db\n") && stdin.contains("name: todos-db\n"));
    }
}

/// What `pgstate render -c fixtures/<config>` prints.
fn render_bytes(config: &str) -> Vec<u8> {
    pgstate_command()
        .args(["render", "-c", &fixture(config)])
        .output()
        .expect("runs")
        .stdout
}

#[test]
fn apply_and_diff_exit_codes_follow_kubectl() {
    let kubectl = FakeKubectl::new();
    let apply_failed = kubectl
        .command(1)
        .args(["apply", "-c", "fixtures/calculator.yaml"])
        .output()
        .expect("runs");
    assert_eq!(apply_failed.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&apply_failed.stderr).contains("kubectl apply failed"));
    let differs = kubectl
        .command(1)
        .args(["diff", "-c", "fixtures/calculator.yaml", "-n", "calculator"])
        .output()
        .expect("runs");
    assert_eq!(differs.status.code(), Some(1));
    assert_eq!(
        kubectl.argv(),
        [
            "diff",
            "--server-side",
            "--field-manager=pgstate",
            "--namespace=calculator",
            "-f",
            "-"
        ]
    );
    let broken = kubectl
        .command(2)
        .args(["diff", "-c", "fixtures/calculator.yaml"])
        .output()
        .expect("runs");
    assert_eq!(broken.status.code(), Some(3));
    let same = kubectl
        .command(0)
        .args(["diff", "-c", "fixtures/calculator.yaml"])
        .output()
        .expect("runs");
    assert_eq!(same.status.code(), Some(0));
}

#[test]
fn apply_without_kubectl_exits_3() {
    let empty = tempfile::tempdir().expect("tempdir");
    let out = pgstate_in(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env("PATH", empty.path())
        .args(["apply", "-c", "fixtures/calculator.yaml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("kubectl"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn render_check_finds_drift_and_explains_the_resize() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("pgstate.yaml");
    std::fs::write(
        &config,
        std::fs::read_to_string(fixture("healthcare.yaml")).expect("fixture"),
    )
    .expect("write");
    let run = |args: &[&str]| pgstate_in(dir.path()).args(args).output().expect("runs");
    assert!(run(&["render", "--out-dir", "k8s-files"]).status.success());
    assert!(run(&["render", "-o", "all.yaml"]).status.success());
    let clean = run(&["render", "--check", "--out-dir", "k8s-files"]);
    assert_eq!(clean.status.code(), Some(0));
    assert!(clean.stdout.is_empty());
    assert_eq!(
        run(&["render", "--check", "-o", "all.yaml"]).status.code(),
        Some(0)
    );
    let text = std::fs::read_to_string(&config)
        .expect("read")
        .replace("size: 5Gi", "size: 8Gi");
    std::fs::write(&config, text).expect("write");
    assert_cmd_snapshot!(
        "drift_out_dir",
        pgstate_in(dir.path()).args(["render", "--check", "--out-dir", "k8s-files"])
    );
    let file = run(&["render", "--check", "-o", "all.yaml"]);
    assert_eq!(file.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&file.stdout).contains("+            storage: 8Gi"));
    assert_eq!(run(&["render", "--check"]).status.code(), Some(2));
    // --check never writes.
    assert!(
        std::fs::read_to_string(dir.path().join("all.yaml"))
            .expect("read")
            .contains("storage: 5Gi")
    );
}

#[test]
fn connection_secret_and_graph() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for format in ["env", "url", "yaml"] {
        assert_cmd_snapshot!(
            format!("connection_{format}"),
            pgstate_in(root).args([
                "connection",
                "-c",
                "fixtures/calculator.yaml",
                "--format",
                format
            ])
        );
    }
    assert_cmd_snapshot!(
        "graph_mermaid",
        pgstate_in(root).args(["graph", "-c", "fixtures/healthcare.yaml"])
    );
    assert_cmd_snapshot!(
        "graph_dot",
        pgstate_in(root).args(["graph", "-c", "fixtures/calculator.yaml", "--format", "dot"])
    );
    assert_cmd_snapshot!(
        "secret_from_env",
        pgstate_in(root)
            .args([
                "secret",
                "-c",
                "fixtures/calculator.yaml",
                "--from-env",
                "PGSTATE_TEST_PW"
            ])
            .env("PGSTATE_TEST_PW", "yes: no")
    );
    assert_cmd_snapshot!(
        "secret_needs_a_source",
        pgstate_in(root).args(["secret", "-c", "fixtures/calculator.yaml"])
    );
    let generated = pgstate_in(root)
        .args(["secret", "-c", "fixtures/calculator.yaml", "--generate"])
        .output()
        .expect("runs");
    assert!(generated.status.success());
    let text = String::from_utf8(generated.stdout).expect("utf-8");
    assert!(
        text.contains("name: \"postgresql-credentials\"")
            && text.contains("namespace: \"calculator\""),
        "{text}"
    );
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = pgstate_command()
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("render"),
            "{shell}"
        );
    }
}

#[test]
fn init_writes_a_config_that_renders_and_never_overwrites() {
    for preset in ["calculator", "tfvisualizer", "healthcare", "ha"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let made = pgstate_in(dir.path())
            .args(["init", "--preset", preset])
            .output()
            .expect("runs");
        assert!(made.status.success(), "{preset}");
        let text = std::fs::read_to_string(dir.path().join("pgstate.yaml")).expect("written");
        assert!(
            text.starts_with("# yaml-language-server: $schema="),
            "{preset}"
        );
        let render = pgstate_in(dir.path()).arg("render").output().expect("runs");
        assert!(
            render.status.success(),
            "{preset}: {}",
            String::from_utf8_lossy(&render.stderr)
        );
        let again = pgstate_in(dir.path())
            .args(["init", "--preset", preset])
            .output()
            .expect("runs");
        assert_eq!(again.status.code(), Some(2));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("pgstate.yaml")).expect("read"),
            text,
            "untouched"
        );
        let forced = pgstate_in(dir.path())
            .args(["init", "--force", "--preset", "calculator"])
            .output()
            .expect("runs");
        assert!(forced.status.success());
    }
    let stdout = pgstate_command()
        .args(["init", "-o", "-"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&stdout.stdout).contains("name: postgresql"));
}

#[test]
fn check_reports_findings_in_three_formats() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_cmd_snapshot!(
        "check_human",
        pgstate_in(root).args(["check", "-c", "fixtures/healthcare.yaml"])
    );
    assert_cmd_snapshot!(
        "check_github_deny",
        pgstate_in(root).args([
            "check",
            "-c",
            "fixtures/healthcare.yaml",
            "--format",
            "github",
            "--deny-warnings"
        ])
    );
    let json = pgstate_in(root)
        .args([
            "check",
            "-c",
            "fixtures/healthcare.yaml",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        json.status.code(),
        Some(0),
        "warnings alone pass without --deny-warnings"
    );
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(report["errors"], 0);
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["id"].as_str().is_some_and(|id| id.starts_with("PGS"))
                && f["line"].as_u64().is_some())
    );
}

#[test]
fn check_allows_findings_with_a_reason_and_rejects_unknown_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = "name: shop\nnamespace: shop\npostgres:\n  image: postgres:17.2@sha256:0000000000000000000000000000000000000000000000000000000000000000\n  resources: {requests: {cpu: 500m, memory: 1Gi}}\n  storage: {class: standard}\nbackup: {keep: 7}\n";
    std::fs::write(dir.path().join("pgstate.yaml"), base).expect("write");
    let clean = pgstate_in(dir.path())
        .args(["check", "--deny-warnings"])
        .output()
        .expect("runs");
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    std::fs::write(
        dir.path().join("pgstate.yaml"),
        format!("{base}networkPolicy: false\n"),
    )
    .expect("write");
    let warned = pgstate_in(dir.path())
        .args(["check", "--deny-warnings"])
        .output()
        .expect("runs");
    assert_eq!(warned.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&warned.stdout).contains("warning[PGS009]"));
    std::fs::write(dir.path().join("pgstate.yaml"), format!("{base}networkPolicy: false\nlint:\n  allow:\n    PGS009: the CNI has no NetworkPolicy support\n")).expect("write");
    let allowed = pgstate_in(dir.path())
        .args(["check", "--deny-warnings"])
        .output()
        .expect("runs");
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stdout)
    );
    assert!(String::from_utf8_lossy(&allowed.stdout).contains("1 allowed"));
    std::fs::write(
        dir.path().join("pgstate.yaml"),
        format!("{base}lint: {{allow: [PGS09]}}\n"),
    )
    .expect("write");
    assert_cmd_snapshot!("check_unknown_id", pgstate_in(dir.path()).args(["check"]));
    assert_cmd_snapshot!(
        "check_invalid_config_github",
        pgstate_in(dir.path()).args(["check", "--format", "github"])
    );
}

#[test]
fn check_fails_on_errors() {
    let dir = folder_with_config(
        "name: shop\nnamespace: shop\npostgres: {image: \"postgres:17.2\"}\nbackup: {image: \"postgres:15.8\"}\n",
    );
    let out = pgstate_in(dir.path()).arg("check").output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("error[PGS008]"));
}

#[test]
fn schema_is_derived_from_the_config_types() {
    let out = pgstate_command().arg("schema").output().expect("runs");
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(schema["properties"]["postgres"]["$ref"], "#/$defs/Postgres");
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown keys are errors in the schema too"
    );
    insta::assert_snapshot!(String::from_utf8(out.stdout).expect("utf-8"));
}

/// Every file in `dir` with its bytes, sorted by name.
fn snapshot_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".pgstate-"))
        .collect()
}

const SHOP: &str = "name: shop\nnamespace: shop\napp: {image: \"ghcr.io/acme/shop:1.0\"}\n";
/// The same database, changed: every object file differs, and a backup CronJob is new.
const SHOP_CHANGED: &str = "name: shop\nnamespace: shop\nlabels: {team: new}\npostgres: {storage: {size: 5Gi}}\nbackup: {schedule: \"0 2 * * *\", keep: 7}\napp: {image: \"ghcr.io/acme/shop:2.0\"}\n";

/// Renders `text` into `out` with `--out-dir`; returns the exit code and stderr.
fn render_out_dir(config_dir: &Path, text: &str, out: &Path) -> (Option<i32>, String) {
    let config = config_dir.join("pgstate.yaml");
    std::fs::write(&config, text).expect("write");
    let result = pgstate_command()
        .args(["render", "-c"])
        .arg(&config)
        .arg("--out-dir")
        .arg(out)
        .output()
        .expect("runs");
    (
        result.status.code(),
        String::from_utf8_lossy(&result.stderr).into_owned(),
    )
}

#[test]
fn out_dir_failing_part_way_leaves_the_previous_files_and_no_temporaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("k8s-files");
    assert_eq!(render_out_dir(dir.path(), SHOP, &out).0, Some(0));
    let before = snapshot_dir(&out);
    assert!(before.len() > 5, "{before:?}");
    // A folder (not empty) where the new render's CronJob file goes: its rename must fail.
    // This works as root too, unlike a read-only folder.
    let blocker = out.join("cronjob-shop-backup.yaml");
    std::fs::create_dir(&blocker).expect("mkdir");
    std::fs::write(blocker.join("keep"), "x").expect("write");
    let (code, err) = render_out_dir(dir.path(), SHOP_CHANGED, &out);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("cronjob-shop-backup.yaml"), "{err}");
    assert_eq!(
        snapshot_dir(&out),
        before,
        "the previous files are untouched"
    );
    assert_eq!(temporaries(&out), Vec::<String>::new());
    assert!(blocker.join("keep").is_file());
    // Once the way is clear the same render goes through, and every file changes.
    std::fs::remove_dir_all(&blocker).expect("rm");
    assert_eq!(render_out_dir(dir.path(), SHOP_CHANGED, &out).0, Some(0));
    let after = snapshot_dir(&out);
    assert!(
        after.iter().all(|f| !before.contains(f)),
        "every file changed"
    );
    assert_eq!(temporaries(&out), Vec::<String>::new());
}

#[test]
fn out_dir_in_a_read_only_folder_leaves_the_previous_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("k8s-files");
    assert_eq!(render_out_dir(dir.path(), SHOP, &out).0, Some(0));
    let before = snapshot_dir(&out);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    // As root (CI), a 0555 folder is still writable (CAP_DAC_OVERRIDE), and `chattr +i` or a
    // read-only bind mount need privileges a test should not take: the probe below finds out,
    // and the folder-in-the-way test above covers the failure as root.
    let probe = out.join(".probe");
    let writable = std::fs::write(&probe, "x").is_ok();
    let _ = std::fs::remove_file(&probe);
    if !writable {
        let (code, err) = render_out_dir(dir.path(), SHOP_CHANGED, &out);
        assert_eq!(code, Some(3), "{err}");
        assert_eq!(
            snapshot_dir(&out),
            before,
            "the previous files are untouched"
        );
        assert_eq!(temporaries(&out), Vec::<String>::new());
    }
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn output_file_failures_leave_no_temporaries() {
    let dir = tempfile::tempdir().expect("tempdir");
    // -o onto a folder that holds a file: the rename fails, the folder and its file stay.
    let folder = dir.path().join("out.yaml");
    std::fs::create_dir(&folder).expect("mkdir");
    std::fs::write(folder.join("keep"), "x").expect("write");
    let out = pgstate_command()
        .args(["render", "-c", &fixture("calculator.yaml"), "-o"])
        .arg(&folder)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(folder.join("keep").is_file());
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    // -o under a regular file: no temporary can even be created.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "previous").expect("write");
    let out = pgstate_command()
        .args(["render", "-c", &fixture("calculator.yaml"), "-o"])
        .arg(file.join("out.yaml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "previous");
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
    // --out-dir whose path is a regular file: nothing is created, the file is unchanged.
    let out = pgstate_command()
        .args(["render", "-c", &fixture("calculator.yaml"), "--out-dir"])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "previous");
    assert_eq!(temporaries(dir.path()), Vec::<String>::new());
}

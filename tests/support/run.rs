//! Running pgstate, in-process (fast, any number of runs at once) or as the built binary (its
//! real streams, exit code, working folder and environment), and reading what it renders.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use insta_cmd::get_cargo_bin;
use serde_json::Value;

/// Runs pgstate in-process and returns its stdout; any other exit than 0 fails the test.
pub(crate) fn pgstate(args: &[&str]) -> String {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["pgstate"];
    argv.extend_from_slice(args);
    let code = pgstate::run(argv, &mut out, &mut err);
    let err = String::from_utf8_lossy(&err);
    assert_eq!(code, 0, "pgstate {args:?} failed: {err}");
    String::from_utf8(out).expect("stdout is UTF-8")
}

/// Runs pgstate in-process; returns (exit code, stdout, stderr) whatever the exit.
pub(crate) fn pgstate_status(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["pgstate"];
    argv.extend_from_slice(args);
    let code = pgstate::run(argv, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("stdout is UTF-8"),
        String::from_utf8(err).expect("stderr is UTF-8"),
    )
}

/// The built pgstate binary.
pub(crate) fn pgstate_bin() -> PathBuf {
    get_cargo_bin("pgstate")
}

/// The built binary as a command, run in the crate's root.
pub(crate) fn pgstate_command() -> Command {
    Command::new(pgstate_bin())
}

/// The built binary run in `dir` (an empty folder unless the test puts files there).
pub(crate) fn pgstate_in(dir: &Path) -> Command {
    let mut cmd = pgstate_command();
    cmd.current_dir(dir);
    cmd
}

/// A temporary folder holding `pgstate.yaml` with this text.
pub(crate) fn folder_with_config(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pgstate.yaml"), text).expect("write");
    dir
}

/// `.ci/test` (the README's test command) copied into `dir`, with nothing to install and
/// `cargo` (first on PATH) this shell script: a command that runs it.
pub(crate) fn ci_test_with_cargo(dir: &Path, cargo: &str) -> Command {
    let ci = dir.join(".ci");
    std::fs::create_dir(&ci).expect("mkdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/test"),
        ci.join("test"),
    )
    .expect("copy");
    std::fs::write(ci.join("test-deps"), "exit 0\n").expect("write");
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    std::fs::write(bin.join("cargo"), cargo).expect("write");
    std::fs::set_permissions(bin.join("cargo"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let mut cmd = Command::new("bash");
    cmd.arg(ci.join("test"))
        .env_remove("INSTA_SNAPSHOT_REFERENCES_FILE")
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    cmd
}

/// A stand-in kubectl, first on PATH, that records its arguments and stdin, and refuses what
/// the real kubectl refuses before it reaches a cluster: a `--dry-run` other than none, client
/// or server, and `--dry-run=client` together with `--server-side`.
pub(crate) struct FakeKubectl {
    dir: tempfile::TempDir,
}

impl FakeKubectl {
    pub(crate) fn new() -> Self {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("kubectl");
        std::fs::write(&script, FAKE_KUBECTL).expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        FakeKubectl { dir }
    }

    /// pgstate run in `dir` with this kubectl first on PATH; `exit` is kubectl's exit code
    /// when it accepts its arguments.
    pub(crate) fn command_in(&self, dir: &Path, exit: i32) -> Command {
        let mut cmd = self.command(exit);
        cmd.current_dir(dir);
        cmd
    }

    /// Whether kubectl was run at all.
    pub(crate) fn ran(&self) -> bool {
        self.dir.path().join("argv").exists()
    }

    pub(crate) fn command(&self, exit: i32) -> Command {
        let mut cmd = pgstate_in(Path::new(env!("CARGO_MANIFEST_DIR")));
        let path = format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("FAKE_KUBECTL_EXIT", exit.to_string());
        cmd
    }

    pub(crate) fn argv(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("argv"))
            .expect("kubectl ran")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn stdin(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("stdin")).expect("kubectl ran")
    }
}

const FAKE_KUBECTL: &str = r#"#!/bin/sh
dir=$(dirname "$0")
printf '%s\n' "$@" > "$dir/argv"
cat > "$dir/stdin"
server_side=false
dry_run=none
for arg in "$@"; do
  case "$arg" in
    --) break ;;
    --server-side | --server-side=true) server_side=true ;;
    --server-side=false) server_side=false ;;
    --dry-run=*) dry_run=${arg#--dry-run=} ;;
  esac
done
case "$dry_run" in
  none | client | server) ;;
  *) echo "error: Invalid dry-run value ($dry_run). Must be \"none\", \"server\", or \"client\"." >&2; exit 1 ;;
esac
if [ "$server_side" = true ] && [ "$dry_run" = client ]; then
  echo "error: --dry-run=client doesn't work with --server-side (did you mean --dry-run=server instead?)" >&2
  exit 1
fi
echo "kubectl says hello"
exit "${FAKE_KUBECTL_EXIT:-0}"
"#;

/// Reads a folder the way `kubectl apply -k` would, offline.
pub(crate) fn kustomize(dir: &Path) -> String {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl must be installed for this test (.ci/run installs it)");
    assert!(
        out.status.success(),
        "kubectl kustomize failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

// ---------------------------------------------------------------------------------------------
// The rendered objects

/// Writes `config` as `dir/pgstate.yaml`, renders it, and returns the objects parsed.
pub(crate) fn render_config(dir: &Path, config: &str) -> Vec<Value> {
    let path = dir.join("pgstate.yaml");
    fs::write(&path, config).expect("write config");
    documents(&pgstate(&[
        "render",
        "-c",
        path.to_str().expect("utf-8 path"),
    ]))
}

/// Every document of a multi-document YAML stream.
pub(crate) fn documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .expect("the output parses as YAML")
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

pub(crate) fn find<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} among the rendered objects"))
}

/// The object of this kind and name among the rendered objects.
pub(crate) fn find_named<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}

/// The objects sorted by kind, namespace and name.
pub(crate) fn by_identity(mut docs: Vec<Value>) -> Vec<Value> {
    docs.sort_by_key(|d| {
        format!(
            "{}/{}/{}",
            d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]
        )
    });
    docs
}

pub(crate) fn strings(v: &Value, what: &str) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what} is not a list: {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("{what} holds a non-string: {s}"))
                .to_owned()
        })
        .collect()
}

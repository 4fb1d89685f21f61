//! A rendered container run as its pod would run it: its command and literal env, its UID and
//! groups, local folders for its volumes, Secret files with their modes; job pods of several
//! steps in the kubelet's order.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;

use super::{Output, Server, bounded, current_uid, documents, find, pgstate, strings};

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
// Job pods of several steps (init containers, then the container)
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

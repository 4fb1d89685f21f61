//! End to end against a real Redis: the rendered redis.conf (ConfigMap), start script and probe
//! command, run verbatim by Debian's `redis-server` and `redis-cli`. Only the mount paths point
//! at temporary folders, the port at a free loopback one, and `bind 127.0.0.1` is appended to
//! the config so the server listens on loopback only.
//!
//! Without `redis-server` these tests fail; they never skip (`apt-get install redis-server`).

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::support::{bounded, find, free_port, pgstate, render_config, strings};

/// Everything a shell, redis.conf's quoting or a Secret could get wrong.
const PASSWORD: &str = "r3d\"is \\pa$$ 'q' `x` $(true) #h";
/// How long a server may take to answer its first ping.
const STARTUP: Duration = Duration::from_secs(20);

#[test]
fn the_rendered_redis_starts_with_its_password_and_its_probe_answers() {
    let work = tempfile::tempdir().expect("tempdir");
    let rendered = render(work.path());
    let redis = Rendered::from(&rendered);

    // The password is in no object but the Secret pgstate renders for `value`.
    for doc in &rendered {
        if doc["kind"] != "Secret" {
            let text = serde_json::to_string(doc).expect("json");
            assert!(
                !text.contains("pa$$"),
                "the password leaks into {}",
                doc["kind"]
            );
        }
    }
    assert_eq!(redis.password, PASSWORD.as_bytes());

    let server = redis.start(work.path(), "right", PASSWORD.as_bytes());
    // Nothing but the config file's path on the server's command line.
    let cmdline = fs::read(format!("/proc/{}/cmdline", server.child.id())).expect("cmdline");
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(cmdline.starts_with("redis-server "), "{cmdline}");
    assert!(!cmdline.contains("pa$$"), "{cmdline}");
    let written = server.dir.join("run/redis.conf");
    let mode = fs::metadata(&written)
        .expect("config copy")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "the config with the password is private: {mode:o}"
    );

    let probe = redis.probe(&server.dir.join("secret"), server.port);
    probe.assert_success("the rendered probe, with the Secret's password");

    let anonymous = redis_cli(server.port, None, &["ping"]);
    assert!(
        anonymous.stdout.contains("NOAUTH") || anonymous.stderr.contains("NOAUTH"),
        "an unauthenticated ping must be refused: {} {}",
        anonymous.stdout,
        anonymous.stderr
    );

    let get = |key: &str| {
        let out = redis_cli(server.port, Some(PASSWORD), &["config", "get", key]);
        out.assert_success("config get");
        out.stdout.lines().nth(1).unwrap_or_default().to_owned()
    };
    assert_eq!(get("appendonly"), "yes");
    assert_eq!(get("maxmemory"), (64 * 1024 * 1024).to_string());
    assert_eq!(get("maxmemory-policy"), "allkeys-lru");
    assert_eq!(get("dir"), server.dir.join("data").display().to_string());

    // The same probe against a Redis whose password is another: it must fail.
    let other = redis.start(work.path(), "other", b"another-password");
    let wrong = redis.probe(&server.dir.join("secret"), other.port);
    wrong.assert_failure("the probe against a Redis with another password");

    // And against a Redis with no password at all (it answers PONG after refusing AUTH).
    let open = Open::start(work.path());
    let none = redis.probe(&server.dir.join("secret"), open.port);
    none.assert_failure("the probe against a Redis without a password");
}

/// A Secret made with `kubectl create secret --from-file` often ends in a newline, which the
/// app's variable keeps: Redis must require the password with it, and the probe must send it.
#[test]
fn a_password_with_a_trailing_newline_is_kept_byte_for_byte() {
    let work = tempfile::tempdir().expect("tempdir");
    let redis = Rendered::from(&render(work.path()));
    let password = "line one\nline \"two\"\n";
    let server = redis.start(work.path(), "newline", password.as_bytes());
    redis
        .probe(&server.dir.join("secret"), server.port)
        .assert_success("the probe, with a password ending in a newline");
    let exact = redis_cli(server.port, Some(password), &["ping"]);
    assert_eq!(exact.stdout.trim(), "PONG", "{}", exact.stderr);
    let trimmed = redis_cli(server.port, Some(password.trim_end()), &["ping"]);
    assert_ne!(
        trimmed.stdout.trim(),
        "PONG",
        "the newline is part of the password"
    );
}

/// The rendered script refuses an empty password file instead of running an open Redis.
#[test]
fn an_empty_password_file_stops_the_start() {
    let work = tempfile::tempdir().expect("tempdir");
    let redis = Rendered::from(&render(work.path()));
    let dir = redis.layout(work.path(), "empty", b"", free_port());
    let out = bounded(
        Command::new("sh").args(["-c", &redis.script_in(&dir)]),
        None,
    );
    out.assert_failure("the start script with an empty password file");
    assert!(out.stderr.contains("is empty"), "{}", out.stderr);
}

/// A config with Redis, rendered; the objects parsed.
fn render(dir: &Path) -> Vec<Value> {
    let quoted = serde_json::to_string(PASSWORD).expect("json");
    render_config(
        dir,
        &format!(
            "name: e2e\npostgres:\n  image: postgres:17.2\napp:\n  image: ghcr.io/acme/shop:1.0.0\n\
             redis:\n  image: redis:7.4-alpine\n  password:\n    value: {quoted}\n\
             \x20 maxMemory: 64mb\n  evictionPolicy: allkeys-lru\n  resources:\n    limits: {{memory: 256Mi}}\n"
        ),
    )
}

/// What the tests take from the rendered objects, verbatim.
struct Rendered {
    config: String,
    script: String,
    probe: String,
    password: Vec<u8>,
}

impl Rendered {
    fn from(docs: &[Value]) -> Rendered {
        let named = |kind: &str| {
            docs.iter()
                .find(|d| d["kind"] == kind && d["metadata"]["name"] == "e2e-redis")
                .unwrap_or_else(|| panic!("no {kind} e2e-redis"))
        };
        let config = named("ConfigMap")["data"]["redis.conf"]
            .as_str()
            .expect("redis.conf")
            .to_owned();
        let container = &named("StatefulSet")["spec"]["template"]["spec"]["containers"][0];
        let command = strings(&container["command"], "command");
        assert_eq!(command[..2], ["sh", "-c"], "the container runs a sh script");
        let probe = strings(&container["readinessProbe"]["exec"]["command"], "probe");
        assert_eq!(probe[..2], ["sh", "-c"], "the probe runs a sh script");
        for kind in ["livenessProbe", "startupProbe"] {
            let other = strings(&container[kind]["exec"]["command"], kind);
            assert_eq!(other, probe, "{kind} is the readiness probe's command");
        }
        let secret = find(docs, "Secret");
        let secret = docs
            .iter()
            .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "e2e-redis")
            .unwrap_or(secret);
        let password = base64::engine::general_purpose::STANDARD
            .decode(secret["data"]["password"].as_str().expect("password key"))
            .expect("base64");
        Rendered {
            config,
            script: command[2].clone(),
            probe: probe[2].clone(),
            password,
        }
    }

    /// Starts the rendered script with its mounts in `work/NAME`: the ConfigMap at
    /// /etc/redis, the Secret at /etc/pgstate-redis, emptyDir at /run/redis, the volume at /data.
    fn start(&self, work: &Path, name: &str, password: &[u8]) -> Server {
        let port = free_port();
        let dir = self.layout(work, name, password, port);
        let child = Command::new("sh")
            .args(["-c", &self.script_in(&dir)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the rendered script: {e}"));
        let mut server = Server { child, port, dir };
        server.wait_until_up(password);
        server
    }

    /// The pod's mounts in `work/NAME`, the config pointing at `port` and the data folder.
    fn layout(&self, work: &Path, name: &str, password: &[u8], port: u16) -> PathBuf {
        let dir = work.join(name);
        for sub in ["conf", "secret", "run", "data"] {
            fs::create_dir_all(dir.join(sub)).expect("mkdir");
        }
        let mut config = String::new();
        for line in self.config.lines() {
            match line.split_once(' ') {
                Some(("port", _)) => config.push_str(&format!("port {port}")),
                Some(("dir", "/data")) => {
                    config.push_str(&format!("dir {}", dir.join("data").display()));
                }
                _ => config.push_str(line),
            }
            config.push('\n');
        }
        config.push_str("bind 127.0.0.1\n");
        fs::write(dir.join("conf/redis.conf"), config).expect("write redis.conf");
        fs::write(dir.join("secret/password"), password).expect("write password");
        dir
    }

    /// The start script with the mount paths of `dir`.
    fn script_in(&self, dir: &Path) -> String {
        let script = self
            .script
            .replace("/etc/pgstate-redis", &path(&dir.join("secret")))
            .replace("/etc/redis", &path(&dir.join("conf")))
            .replace("/run/redis", &path(&dir.join("run")));
        assert_ne!(script, self.script, "the script reads the mounted files");
        script
    }

    /// Runs the rendered probe with the Secret mounted from `secret`, against `port`.
    fn probe(&self, secret: &Path, port: u16) -> crate::support::Output {
        let probe = self
            .probe
            .replace("/etc/pgstate-redis", &path(secret))
            .replace(" -p 6379 ", &format!(" -p {port} "));
        assert_ne!(
            probe, self.probe,
            "the probe reads the Secret and names the port"
        );
        bounded(Command::new("sh").args(["-c", &probe]), None)
    }
}

fn path(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_owned()
}

/// `redis-cli` against a loopback port, authenticated with `password` when given.
fn redis_cli(port: u16, password: Option<&str>, args: &[&str]) -> crate::support::Output {
    let mut cmd = Command::new(redis_bin("redis-cli"));
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .env_remove("REDISCLI_AUTH");
    if let Some(pw) = password {
        cmd.env("REDISCLI_AUTH", pw);
    }
    bounded(&mut cmd, None)
}

/// Debian's binaries; missing is a failure with the way to install them.
fn redis_bin(name: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: apt-get install -y redis-server",
        path.display()
    );
    path
}

/// A Redis with no password (Debian's binary, loopback, no persistence); killed when dropped.
struct Open {
    child: Child,
    port: u16,
}

impl Open {
    fn start(work: &Path) -> Open {
        let port = free_port();
        let dir = work.join("open");
        fs::create_dir_all(&dir).expect("mkdir");
        let child = Command::new(redis_bin("redis-server"))
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server: {e}"));
        let open = Open { child, port };
        let start = Instant::now();
        while redis_cli(port, None, &["ping"]).stdout.trim() != "PONG" {
            assert!(start.elapsed() < STARTUP, "redis-server did not answer");
            sleep(Duration::from_millis(50));
        }
        open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Redis started by the rendered script; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    fn wait_until_up(&mut self, password: &[u8]) {
        redis_bin("redis-server");
        let password = String::from_utf8_lossy(password).into_owned();
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!("the rendered script exited with {status} before Redis answered");
            }
            let out = redis_cli(self.port, Some(&password), &["ping"]);
            if out.stdout.trim() == "PONG" {
                return;
            }
            assert!(
                start.elapsed() < STARTUP,
                "Redis did not answer in {STARTUP:?}: {} {}",
                out.stdout,
                out.stderr
            );
            sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `connection` and `graph` show Redis beside the database.
#[test]
fn connection_and_graph_show_redis() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tfvisualizer.yaml");
    let env = pgstate(&["connection", "-c", fixture]);
    assert!(
        env.contains("REDIS_HOST=tfvisualizer-db-redis.tfvisualizer.svc\nREDIS_PORT=6379\n"),
        "{env}"
    );
    assert!(
        env.contains(
            "# REDIS_PASSWORD: key `redis-password` of Secret tfvisualizer/database-credentials"
        ),
        "{env}"
    );
    let graph = pgstate(&["graph", "-c", fixture]);
    for line in [
        "StatefulSet tfvisualizer-db-redis",
        "app -->|connects| rsvc",
        "rnp -->|admits| app",
    ] {
        assert!(graph.contains(line), "{line} not in\n{graph}");
    }
}

//! End to end against a real PostgreSQL: the `postgres.metrics` sidecar as its pod would run
//! it. The rendered exporter container's args and env are used verbatim, beside the database on
//! loopback (as the two containers of one pod share it), with the password file at the path
//! the rendered mount gives and the container's UID when the test runs as root. Only the listen
//! address is narrowed from `:PORT` to `127.0.0.1:PORT`.
//!
//! The exporter is Debian's `prometheus-postgres-exporter` (0.11 on bookworm; the image is
//! newer, and reads the same DATA_SOURCE_* variables and flags). Without it the test fails.
//! 0.11 splits its connection string at spaces and `=` (fixed upstream since), so the password
//! here has neither; it has every URL-reserved character, quotes, a backslash and unicode.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    DATABASE, Server, USER, current_uid, find, free_port, render_config, strings,
};

const STARTUP: Duration = Duration::from_secs(30);
const PASSWORD: &str = "pä$$wörd'single'\"double\"\\back`tick`$(true)#x@:/?%&+";

#[test]
fn the_rendered_exporter_reads_the_database_with_the_mounted_password() {
    let pg = Server::start();
    pg.psql(
        "postgres",
        &format!(
            "ALTER ROLE {USER} PASSWORD '{}'",
            PASSWORD.replace('\'', "''")
        ),
    );
    let work = tempfile::Builder::new()
        .prefix("pgstate-e2e-metrics-")
        .tempdir()
        .expect("tempdir");
    fs::set_permissions(work.path(), fs::Permissions::from_mode(0o755)).expect("chmod work");
    let metrics_port = free_port();
    let docs = render_config(
        work.path(),
        &format!(
            "name: e2e\npostgres:\n  image: postgres:17.5\n  port: {}\n  database: {DATABASE}\n  user: {USER}\n  password: {{secret: e2e-credentials, key: password}}\n  metrics:\n    enabled: true\n    port: {metrics_port}\n",
            pg.port
        ),
    );
    let sidecar = Sidecar::from(find(&docs, "StatefulSet"), metrics_port);

    // The right password: the exporter connects and reports the database.
    let exporter = sidecar.start(work.path(), "right", PASSWORD.as_bytes());
    let probe = exporter.get(&sidecar.probe_path);
    assert!(
        probe.starts_with("HTTP/1.1 200") || probe.starts_with("HTTP/1.0 200"),
        "the probes' path answers 200:\n{probe}"
    );
    let metrics = exporter.get("/metrics");
    assert!(
        metrics.lines().any(|l| l == "pg_up 1"),
        "pg_up is 1 with the mounted password:\n{}",
        excerpt(&metrics)
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with(&format!("pg_database_size_bytes{{datname=\"{DATABASE}\""))),
        "the database's size is reported:\n{}",
        excerpt(&metrics)
    );
    drop(exporter);

    // Another password: the exporter still answers its probe, and says the database is down,
    // so the password it used is the file's (the server asks TCP clients for one).
    let exporter = sidecar.start(work.path(), "wrong", b"not-the-password");
    let metrics = exporter.get("/metrics");
    assert!(
        metrics.lines().any(|l| l == "pg_up 0"),
        "pg_up is 0 with another password:\n{}",
        excerpt(&metrics)
    );
    drop(exporter);
    drop(pg);
}

/// The exporter container of a rendered StatefulSet.
struct Sidecar {
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Where the credentials volume is mounted, and the file the Secret item becomes there.
    mount: String,
    item: String,
    uid: u32,
    port: u16,
    probe_path: String,
}

impl Sidecar {
    fn from(sts: &Value, port: u16) -> Sidecar {
        let pod = &sts["spec"]["template"]["spec"];
        let containers = pod["containers"].as_array().expect("containers");
        let c = containers
            .iter()
            .find(|c| c["name"] == "metrics")
            .unwrap_or_else(|| panic!("no metrics container in {containers:?}"));
        let args = strings(&c["args"], "metrics args");
        assert!(
            args.contains(&format!("--web.listen-address=:{port}")),
            "the exporter listens on the configured port: {args:?}"
        );
        let env = c["env"]
            .as_array()
            .expect("metrics env")
            .iter()
            .map(|e| {
                assert!(
                    e.get("valueFrom").is_none(),
                    "no secretKeyRef in the exporter's env (the password is a file): {e}"
                );
                let value = e["value"].as_str().expect("env value").to_owned();
                (e["name"].as_str().expect("env name").to_owned(), value)
            })
            .collect::<Vec<_>>();
        let mount = c["volumeMounts"]
            .as_array()
            .expect("metrics volumeMounts")
            .iter()
            .find(|m| m["name"] == "credentials")
            .expect("the credentials volume mounted in the exporter");
        assert_eq!(mount["readOnly"], true);
        let volume = pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .find(|v| v["name"] == "credentials")
            .expect("a credentials volume");
        assert_eq!(volume["secret"]["secretName"], "e2e-credentials");
        assert_eq!(volume["secret"]["items"][0]["key"], "password");
        let uid = c["securityContext"]["runAsUser"]
            .as_u64()
            .expect("runAsUser") as u32;
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        let probe_path = c["readinessProbe"]["httpGet"]["path"]
            .as_str()
            .expect("an HTTP readiness probe")
            .to_owned();
        assert_eq!(c["readinessProbe"]["httpGet"]["port"], "metrics");
        Sidecar {
            args,
            env,
            mount: mount["mountPath"].as_str().expect("mountPath").to_owned(),
            item: volume["secret"]["items"][0]["path"]
                .as_str()
                .expect("item path")
                .to_owned(),
            uid,
            port,
            probe_path,
        }
    }

    /// Starts the exporter with the Secret's `password` as the mounted file in `work/NAME`.
    fn start(&self, work: &Path, name: &str, password: &[u8]) -> Exporter {
        let secret = work.join(name);
        fs::create_dir(&secret).expect("mkdir secret");
        let file = secret.join(&self.item);
        fs::write(&file, password).expect("write password");
        let env: Vec<(String, String)> = self
            .env
            .iter()
            .map(|(k, v)| {
                let mounted = v
                    .strip_prefix(&format!("{}/", self.mount))
                    .map(|rest| secret.join(rest).display().to_string());
                (k.clone(), mounted.unwrap_or_else(|| v.clone()))
            })
            .collect();
        assert!(
            env.iter().any(|(_, v)| *v == file.display().to_string()),
            "the exporter reads the password from the mounted file: {:?}",
            self.env
        );
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.replace("--web.listen-address=:", "--web.listen-address=127.0.0.1:"))
            .collect();
        let mut cmd = Command::new(exporter_bin());
        cmd.args(&args)
            .env_clear()
            .envs(env)
            .current_dir(&secret)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                fs::File::create(work.join(format!("{name}.log"))).expect("log file"),
            ))
            .process_group(0);
        if current_uid() == 0 {
            // As in the pod: the container's UID and group, the file readable by the group.
            std::os::unix::fs::chown(&file, Some(0), Some(self.uid)).expect("chown password");
            fs::set_permissions(&file, fs::Permissions::from_mode(0o440)).expect("chmod");
            fs::set_permissions(&secret, fs::Permissions::from_mode(0o755)).expect("chmod");
            cmd.uid(self.uid).gid(self.uid);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the exporter: {e}"));
        let mut exporter = Exporter {
            child,
            port: self.port,
            log: work.join(format!("{name}.log")),
        };
        exporter.wait_until_up(&self.probe_path);
        exporter
    }
}

/// Debian's exporter binary; missing is a failure with the way to install it.
fn exporter_bin() -> PathBuf {
    let path = PathBuf::from("/usr/bin/prometheus-postgres-exporter");
    assert!(
        path.exists(),
        "{} is missing: apt-get install -y prometheus-postgres-exporter",
        path.display()
    );
    path
}

/// A running exporter; killed when dropped.
struct Exporter {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Exporter {
    fn wait_until_up(&mut self, path: &str) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!(
                    "the exporter exited with {status}:\n{}",
                    fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if let Ok(response) = http_get(self.port, path)
                && !response.is_empty()
            {
                return;
            }
            assert!(
                start.elapsed() < STARTUP,
                "the exporter did not answer in {STARTUP:?}:\n{}",
                fs::read_to_string(&self.log).unwrap_or_default()
            );
            sleep(Duration::from_millis(50));
        }
    }

    fn get(&self, path: &str) -> String {
        http_get(self.port, path).unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.0 GET on loopback with a deadline; the whole response, headers included.
fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

/// The `pg_` lines of a metrics page, for a failure message.
fn excerpt(page: &str) -> String {
    let lines: Vec<&str> = page.lines().filter(|l| l.starts_with("pg_")).collect();
    if lines.is_empty() {
        page.chars().take(2000).collect()
    } else {
        lines.join("\n")
    }
}

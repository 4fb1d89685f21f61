//! The app role, password rotation and TLS against a real PostgreSQL, run as the database pod
//! runs it: UID/GID 10001 with fsGroup 10001, the Secret files owned by root with group 10001 in
//! their rendered modes, the rendered start step (`bash -c`), init script, pg_hba.conf and server
//! arguments verbatim. Only volume paths, the listen address and the port are mapped; the image's
//! entrypoint is stood in for by what it does: initdb and the init scripts on an empty data
//! directory, `exec "$@"` on an existing one.
//!
//! Over 500 lines: one pod's stand-in and the scenario that runs it belong together.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::support::{bounded, current_uid, free_port, pg_bin_dir, render_config};

const UID: u32 = 10001;
const SUPERUSER_PASSWORD: &str = "super 'Pw' $(true) #1";
const APP_PASSWORD: &str = "app \"Pw\" `x` 1";
const NEW_SUPERUSER_PASSWORD: &str = "rotated-super-2";
const NEW_APP_PASSWORD: &str = "rotated-app-2";
/// A loopback address that is not 127.0.0.1: pg_hba.conf treats it as remote.
const ADDRESS: &str = "127.0.0.2";

fn config() -> String {
    let q = |s: &str| serde_json::to_string(s).expect("json");
    format!(
        "name: db
namespace: shop
postgres:
  image: postgres:15.8
  database: shop
  user: postgres
  password: {{value: {}}}
  tls: {{secret: db-tls}}
  initSql: \"CREATE TABLE catalog (id int); INSERT INTO catalog VALUES (7);\"
backup:
  keep: 2
app:
  image: ghcr.io/acme/shop:1.0.0
  password: {{value: {}}}
",
        q(SUPERUSER_PASSWORD),
        q(APP_PASSWORD)
    )
}

/// The rendered database pod's parts, with the volume paths mapped to local folders.
struct Pod {
    root: tempfile::TempDir,
    /// The folder of the config file, for `pgstate restore -c`.
    config_dir: tempfile::TempDir,
    start: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    docs: Vec<Value>,
    port: u16,
}

impl Pod {
    fn dir(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// The container's paths as local folders: longest first, so /etc/pgstate-tls is not
    /// read as /etc/pgstate.
    fn map(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (from, to) in [
            ("/var/lib/postgresql/data", "data"),
            ("/docker-entrypoint-initdb.d", "initdb"),
            ("/var/run/postgresql", "run"),
            ("/etc/pgstate-app", "app-credentials"),
            ("/etc/pgstate-tls", "tls"),
            ("/etc/pgstate-hba", "hba"),
            ("/etc/pgstate/", "credentials/"),
        ] {
            out = out.replace(from, &self.dir(to).display().to_string());
        }
        out
    }

    /// A command as the pod's user, with the container's env (mapped) and PATH to the server.
    fn command(&self, argv: &[String]) -> Command {
        let mut cmd = if current_uid() == 0 {
            let mut c = Command::new("setpriv");
            c.args([
                format!("--reuid={UID}"),
                format!("--regid={UID}"),
                format!("--groups={UID}"),
            ]);
            c.arg("--");
            c.args(argv);
            c
        } else {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        };
        cmd.env_clear();
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.env("PGPORT", self.port.to_string());
        cmd.env(
            "PATH",
            format!(
                "{}:{}:/usr/bin:/bin",
                self.dir("entrypoint").display(),
                pg_bin_dir().display()
            ),
        );
        cmd.current_dir(self.dir("tmp"));
        cmd
    }

    /// The server arguments as the container passes them, plus the mapped listen address and
    /// socket folder.
    fn server_args(&self) -> Vec<String> {
        let mut args: Vec<String> = self.args.iter().map(|a| self.map(a)).collect();
        args.extend([
            "-c".into(),
            format!("listen_addresses={ADDRESS},127.0.0.1"),
            "-c".into(),
            format!("unix_socket_directories={}", self.dir("run").display()),
        ]);
        args
    }
}

fn decode(secret: &Value, key: &str) -> String {
    let data = secret["data"][key].as_str().expect("secret key");
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64"),
    )
    .expect("utf-8")
}

/// Owned as the kubelet leaves a Secret's or ConfigMap's files: root, group fsGroup, `mode`.
fn kubelet_file(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).expect("write volume file");
    if current_uid() == 0 {
        std::os::unix::fs::chown(path, Some(0), Some(UID)).expect("chown");
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

fn openssl(dir: &Path, args: &[&str]) {
    let mut cmd = Command::new("openssl");
    cmd.args(args).current_dir(dir);
    bounded(&mut cmd, None).assert_success(&format!("openssl {}", args[0]));
}

/// A CA and a server certificate for the rendered Service names; and a second, unrelated CA.
fn certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for ca in ["ca", "other-ca"] {
        let mut args = vec!["req", "-x509", "-days", "2", "-subj"];
        let subject = format!("/CN=pgstate e2e {ca}");
        args.push(&subject);
        args.extend(ec);
        let key = format!("{ca}.key");
        let crt = format!("{ca}.crt");
        args.extend(["-keyout", &key, "-out", &crt]);
        openssl(dir, &args);
    }
    fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:db,DNS:db.shop.svc,DNS:db-hl\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext");
    let mut req = vec!["req", "-new", "-subj", "/CN=db"];
    req.extend(ec);
    req.extend(["-keyout", "tls.key", "-out", "tls.csr"]);
    openssl(dir, &req);
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tls.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "tls.crt",
        ],
    );
}

/// The database container, started as the pod would start it: the rendered command and args.
struct Running {
    child: Child,
    log: PathBuf,
}

impl Running {
    fn start(pod: &Pod) -> Running {
        let mut argv = vec![
            "bash".to_owned(),
            "-c".to_owned(),
            pod.map(&pod.start),
            "pgstate-start".to_owned(),
        ];
        argv.extend(pod.server_args());
        let log = pod.dir("tmp").join(format!("server-{}.log", free_port()));
        let file = fs::File::create(&log).expect("log file");
        let mut cmd = pod.command(&argv);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone().expect("clone log"))
            .stderr(file);
        let child = cmd.spawn().expect("start the database container");
        let running = Running { child, log };
        let t0 = Instant::now();
        loop {
            let mut ready = pod.command(&[
                "pg_isready".into(),
                "--quiet".into(),
                "--username=postgres".into(),
                format!("--host={ADDRESS}"),
            ]);
            if bounded(&mut ready, None).status.success() {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "the database container is not ready within 60 s:\n{}",
                running.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        running
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGINT, as the preStop's fast shutdown ends; waits for the exit.
    fn stop(mut self) -> String {
        let pid = i32::try_from(self.child.id()).expect("pid");
        let _ = Command::new("kill")
            .args(["-INT", "--", &format!("-{pid}")])
            .status();
        let t0 = Instant::now();
        while self.child.try_wait().expect("wait").is_none() {
            assert!(t0.elapsed() < Duration::from_secs(60), "no stop in 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        self.log()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let pid = i32::try_from(self.child.id()).unwrap_or(0);
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            let _ = self.child.wait();
        }
    }
}

/// psql over TCP to the mapped address with `conninfo` and a password; stdout or the error.
fn psql(pod: &Pod, conninfo: &str, password: &str, sql: &str) -> Result<String, String> {
    let mut cmd = Command::new(pg_bin_dir().join("psql"));
    cmd.env_clear()
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .args([
            "--no-psqlrc",
            "--set=ON_ERROR_STOP=1",
            "-Atc",
            sql,
            &format!(
                "host=db hostaddr={ADDRESS} port={} sslrootcert={} {conninfo}",
                pod.port,
                pod.dir("client").join("ca.crt").display()
            ),
        ]);
    let out = bounded(&mut cmd, None);
    if out.status.success() {
        Ok(out.stdout.trim().to_owned())
    } else {
        Err(out.stderr)
    }
}

fn pod() -> Pod {
    let render_dir = tempfile::tempdir().expect("tempdir");
    let docs = render_config(render_dir.path(), &config());
    let sts = docs
        .iter()
        .find(|d| d["kind"] == "StatefulSet")
        .expect("StatefulSet");
    let c = &sts["spec"]["template"]["spec"]["containers"][0];
    let command = crate::support::strings(&c["command"], "command");
    assert_eq!(
        command[..2],
        ["bash", "-c"],
        "the start step is a bash script"
    );
    let root = tempfile::Builder::new()
        .prefix("pgstate-creds-")
        .tempdir()
        .expect("tempdir");
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).expect("chmod root");
    let mut pod = Pod {
        root,
        config_dir: render_dir,
        start: command[2].clone(),
        args: crate::support::strings(&c["args"], "args"),
        env: Vec::new(),
        docs: docs.clone(),
        port: free_port(),
    };
    for d in [
        "data",
        "run",
        "tmp",
        "credentials",
        "app-credentials",
        "tls",
        "hba",
        "initdb",
        "entrypoint",
        "client",
    ] {
        let dir = pod.dir(d);
        fs::create_dir(&dir).expect("mkdir");
        if current_uid() == 0 {
            std::os::unix::fs::chown(&dir, Some(if d == "client" { 0 } else { UID }), Some(UID))
                .expect("chown");
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o2775)).expect("chmod");
    }
    pod.env = c["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            let name = e["name"].as_str().expect("name").to_owned();
            let value = e["value"].as_str().expect("a literal env value");
            (name, pod.map(value))
        })
        .collect();
    // The Secret, mounted as the rendered volumes say.
    let volumes = sts["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes");
    let volume = |name: &str| {
        volumes
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no volume {name}"))
    };
    let mode = |name: &str, kind: &str| -> u32 {
        u32::try_from(
            volume(name)[kind]["defaultMode"]
                .as_u64()
                .expect("defaultMode"),
        )
        .expect("mode")
    };
    let secret = docs
        .iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "db-credentials")
        .expect("the credentials Secret");
    write_passwords(
        &pod,
        &decode(secret, "password"),
        &decode(secret, "app-password"),
        mode("credentials", "secret"),
        mode("app-credentials", "secret"),
    );
    let config_map = |name: &str, key: &str| -> String {
        docs.iter()
            .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == name)
            .and_then(|d| d["data"][key].as_str())
            .unwrap_or_else(|| panic!("no ConfigMap {name} key {key}"))
            .to_owned()
    };
    let initdb = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "db-initdb")
        .expect("the initdb ConfigMap");
    for (key, text) in initdb["data"].as_object().expect("data") {
        kubelet_file(
            &pod.dir("initdb").join(key),
            &pod.map(text.as_str().expect("script")),
            mode("initdb", "configMap"),
        );
    }
    kubelet_file(
        &pod.dir("hba").join("pg_hba.conf"),
        &config_map("db-hba", "pg_hba.conf"),
        mode("hba", "configMap"),
    );
    certificates(&pod.dir("client"));
    let tls_mode = mode("tls", "secret");
    assert_eq!(
        tls_mode, 0o640,
        "the key's mode PostgreSQL accepts when root owns it"
    );
    for file in ["tls.crt", "tls.key", "ca.crt"] {
        let text = fs::read_to_string(pod.dir("client").join(file)).expect("read cert");
        kubelet_file(&pod.dir("tls").join(file), &text, tls_mode);
    }
    // The image's entrypoint on an existing data directory: `exec "$@"`.
    let entrypoint = pod.dir("entrypoint").join("docker-entrypoint.sh");
    fs::write(&entrypoint, "#!/bin/sh\nexec \"$@\"\n").expect("write entrypoint");
    fs::set_permissions(&entrypoint, fs::Permissions::from_mode(0o755)).expect("chmod");
    pod
}

fn write_passwords(pod: &Pod, superuser: &str, app: &str, mode: u32, app_mode: u32) {
    kubelet_file(&pod.dir("credentials").join("password"), superuser, mode);
    kubelet_file(
        &pod.dir("app-credentials").join("password"),
        superuser,
        app_mode,
    );
    kubelet_file(
        &pod.dir("app-credentials").join("app-password"),
        app,
        app_mode,
    );
}

/// What the image's entrypoint does on an empty data directory: initdb with the password file,
/// the database, then the init scripts (ours among them) on a socket-only server.
fn first_start(pod: &Pod) {
    let pgdata = pod
        .env
        .iter()
        .find(|(k, _)| k == "PGDATA")
        .map(|(_, v)| v.clone())
        .expect("PGDATA");
    let mut initdb = pod.command(&[
        "initdb".into(),
        "--username=postgres".into(),
        format!(
            "--pwfile={}",
            pod.dir("credentials").join("password").display()
        ),
        format!("--pgdata={pgdata}"),
        "--auth-local=trust".into(),
        "--auth-host=scram-sha-256".into(),
        "--no-sync".into(),
    ]);
    // initdb wants a passwd entry for its UID: the image's entrypoint fakes one with
    // nss_wrapper, and so does this stand-in.
    let passwd = pod.dir("tmp").join("passwd");
    fs::write(
        &passwd,
        format!("postgres:x:{UID}:{UID}:PostgreSQL:/tmp:/bin/false\n"),
    )
    .expect("passwd");
    let group = pod.dir("tmp").join("group");
    fs::write(&group, format!("postgres:x:{UID}:\n")).expect("group");
    let wrapper = [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib",
    ]
    .iter()
    .map(|d| Path::new(d).join("libnss_wrapper.so"))
    .find(|p| p.exists())
    .expect("libnss_wrapper.so: apt-get install libnss-wrapper (the postgres image has it too)");
    initdb
        .env("LD_PRELOAD", wrapper)
        .env("NSS_WRAPPER_PASSWD", passwd)
        .env("NSS_WRAPPER_GROUP", group);
    bounded(&mut initdb, None).assert_success("initdb");
    let mut options = String::new();
    for a in pod.server_args().iter().skip(1) {
        options.push_str(&format!("'{}' ", a.replace('\'', "'\\''")));
    }
    options.push_str("-c listen_addresses=''");
    let mut start = pod.command(&[
        "pg_ctl".into(),
        format!("--pgdata={pgdata}"),
        "--wait".into(),
        format!("--options={options}"),
        "start".into(),
    ]);
    bounded(&mut start, None).assert_success("the entrypoint's temporary server");
    let mut db = pod.command(&[
        "psql".into(),
        format!("--host={}", pod.dir("run").display()),
        "--username=postgres".into(),
        "--dbname=postgres".into(),
        "-c".into(),
        "CREATE DATABASE shop".into(),
    ]);
    bounded(&mut db, None).assert_success("create the database");
    // The init scripts in key order: .sql through psql into the database, .sh sourced.
    let mut scripts: Vec<PathBuf> = fs::read_dir(pod.dir("initdb"))
        .expect("initdb")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    scripts.sort();
    let names: Vec<String> = scripts
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    assert_eq!(names, ["10-init.sql", "99-pgstate-roles.sh"]);
    for script in &scripts {
        let argv: Vec<String> = if script.extension().is_some_and(|x| x == "sql") {
            vec![
                "psql".into(),
                "-v".into(),
                "ON_ERROR_STOP=1".into(),
                format!("--host={}", pod.dir("run").display()),
                "--username=postgres".into(),
                "--dbname=shop".into(),
                "-f".into(),
                script.display().to_string(),
            ]
        } else {
            vec![
                "bash".into(),
                "-c".into(),
                format!("set -Eeo pipefail; . {}", script.display()),
            ]
        };
        let mut cmd = pod.command(&argv);
        bounded(&mut cmd, None).assert_success(&format!("{} on the first start", script.display()));
    }
    let mut stop = pod.command(&[
        "pg_ctl".into(),
        format!("--pgdata={pgdata}"),
        "--mode=fast".into(),
        "--wait".into(),
        "stop".into(),
    ]);
    bounded(&mut stop, None).assert_success("stop the temporary server");
}

fn no_password_in_processes(secrets: &[&str]) {
    for entry in fs::read_dir("/proc").expect("/proc") {
        let Ok(entry) = entry else { continue };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        for s in secrets {
            assert!(
                !cmdline.contains(s),
                "a password is in a process's arguments: {cmdline}"
            );
        }
    }
}

/// A backup or restore pod's container, verbatim as the pod runs it: its command and literal
/// env, its volumes (backups, the credentials Secret, the CA) at local folders; it reaches the
/// server by the rendered host name `db` at the mapped address. Returns its stderr.
fn run_job(pod: &Pod, template: &Value) -> String {
    let job = &template["spec"]["containers"][0];
    for name in ["backups", "job-tmp"] {
        let d = pod.dir(name);
        fs::create_dir_all(&d).expect("mkdir");
        if current_uid() == 0 {
            std::os::unix::fs::chown(&d, Some(UID), Some(UID)).expect("chown");
        }
    }
    let job_map = |text: &str| {
        pod.map(text)
            .replace("/backups", &pod.dir("backups").display().to_string())
    };
    let mut argv = crate::support::strings(&job["command"], "command");
    let script = argv.pop().expect("script");
    argv.push(job_map(&script));
    let mut cmd = pod.command(&argv);
    cmd.env_clear();
    for e in job["env"].as_array().expect("env") {
        cmd.env(
            e["name"].as_str().expect("name"),
            job_map(e["value"].as_str().expect("a literal")),
        );
    }
    cmd.env("PATH", format!("{}:/usr/bin:/bin", pg_bin_dir().display()))
        .env("PGHOST", "db")
        .env("PGHOSTADDR", ADDRESS)
        .env("PGPORT", pod.port.to_string())
        .current_dir(pod.dir("job-tmp"));
    let out = bounded(&mut cmd, None);
    out.assert_success("the job's script over TLS");
    out.stderr
}

#[test]
fn app_role_tls_and_rotation_as_the_pod_runs_them() {
    if current_uid() != 0 {
        panic!("the credentials e2e runs the pod's UID and root-owned Secret files: run as root");
    }
    let pod = pod();
    first_start(&pod);
    let server = Running::start(&pod);
    no_password_in_processes(&[SUPERUSER_PASSWORD, APP_PASSWORD]);

    let app = "dbname=shop user=shop_app sslmode=verify-full";
    // TLS: verify-full with the rendered host name and the CA works; plaintext and a wrong CA do not.
    assert_eq!(
        psql(
            &pod,
            app,
            APP_PASSWORD,
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ),
        Ok("t".into())
    );
    let plain = psql(
        &pod,
        "dbname=shop user=shop_app sslmode=disable",
        APP_PASSWORD,
        "SELECT 1",
    );
    assert!(
        plain
            .as_ref()
            .is_err_and(|e| e.contains("no pg_hba.conf entry") || e.contains("rejects")),
        "plaintext must be refused: {plain:?}"
    );
    let plain_super = psql(
        &pod,
        "dbname=shop user=postgres sslmode=disable",
        SUPERUSER_PASSWORD,
        "SELECT 1",
    );
    assert!(
        plain_super.is_err(),
        "plaintext must be refused for every role: {plain_super:?}"
    );
    let wrong_ca = {
        let mut cmd = Command::new(pg_bin_dir().join("psql"));
        cmd.env_clear().env("PGPASSWORD", APP_PASSWORD).args([
            "-Atc",
            "SELECT 1",
            &format!(
                "host=db hostaddr={ADDRESS} port={} sslmode=verify-full sslrootcert={} dbname=shop user=shop_app",
                pod.port,
                pod.dir("client").join("other-ca.crt").display()
            ),
        ]);
        bounded(&mut cmd, None)
    };
    assert!(
        !wrong_ca.status.success(),
        "a wrong CA must fail verification"
    );
    assert!(
        wrong_ca.stderr.contains("certificate verify failed"),
        "{}",
        wrong_ca.stderr
    );
    let protocol = psql(
        &pod,
        "dbname=shop user=postgres sslmode=verify-full",
        SUPERUSER_PASSWORD,
        "SHOW ssl_min_protocol_version",
    );
    assert_eq!(protocol, Ok("TLSv1.2".into()));

    // The init SQL's table, made by the superuser on the first start, is the app's.
    assert_eq!(
        psql(
            &pod,
            app,
            APP_PASSWORD,
            "SELECT tableowner || ':' || (SELECT id FROM catalog) FROM pg_tables WHERE tablename = 'catalog'"
        ),
        Ok("shop_app:7".into())
    );
    // The app role: owns its tables and the database, nothing more.
    psql(&pod, app, APP_PASSWORD, "CREATE TABLE orders (id int PRIMARY KEY, what text); INSERT INTO orders VALUES (1, 'kept')").expect("the app creates its table");
    assert_eq!(
        psql(
            &pod,
            app,
            APP_PASSWORD,
            "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'"
        ),
        Ok("shop_app".into())
    );
    assert_eq!(
        psql(
            &pod,
            app,
            APP_PASSWORD,
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'shop'"
        ),
        Ok("shop_app".into())
    );
    for (sql, why) in [
        ("CREATE ROLE intruder", "permission denied to create role"),
        (
            "CREATE DATABASE other",
            "permission denied to create database",
        ),
        ("SELECT rolpassword FROM pg_authid", "permission denied"),
    ] {
        let out = psql(&pod, app, APP_PASSWORD, sql);
        assert!(
            out.as_ref().is_err_and(|e| e.contains(why)),
            "{sql}: {out:?}"
        );
    }
    let other_db = psql(
        &pod,
        "dbname=postgres user=shop_app sslmode=verify-full",
        APP_PASSWORD,
        "SELECT 1",
    );
    assert!(
        other_db
            .as_ref()
            .is_err_and(|e| e.contains("pg_hba.conf rejects")),
        "{other_db:?}"
    );

    // The backup CronJob's script, verbatim, as the superuser over TLS; its dump restores
    // the app's table with its owner.
    let cronjob = pod
        .docs
        .iter()
        .find(|d| d["kind"] == "CronJob")
        .expect("CronJob");
    let out = run_job(&pod, &cronjob["spec"]["jobTemplate"]["spec"]["template"]);
    assert!(out.contains("ok:"), "{out}");
    let dump = fs::read_dir(pod.dir("backups"))
        .expect("backups")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "dump"))
        .expect("a dump");
    let mut list = Command::new(pg_bin_dir().join("pg_restore"));
    list.args(["--list", &dump.display().to_string()]);
    let listed = bounded(&mut list, None);
    listed.assert_success("pg_restore --list");
    assert!(
        listed.stdout.contains("TABLE public orders shop_app"),
        "the dump keeps the owner:\n{}",
        listed.stdout
    );
    // The app loses its table; the restore Job's script, verbatim, brings it back, still the
    // app's.
    psql(&pod, app, APP_PASSWORD, "DROP TABLE orders").expect("the app drops its table");
    let config = pod.config_dir.path().join("pgstate.yaml");
    let restore = crate::support::documents(&crate::support::pgstate(&[
        "restore",
        "-c",
        config.to_str().expect("utf-8"),
        "--latest",
    ]));
    let job = restore
        .iter()
        .find(|d| d["kind"] == "Job")
        .expect("restore Job");
    let out = run_job(&pod, &job["spec"]["template"]);
    assert!(out.contains("ok: restored"), "{out}");
    assert_eq!(
        psql(
            &pod,
            app,
            APP_PASSWORD,
            "SELECT tableowner || ':' || (SELECT what FROM orders) FROM pg_tables WHERE tablename = 'orders'"
        ),
        Ok("shop_app:kept".into())
    );
    let first_log = server.stop();

    // Rotation: both passwords change in the Secret files; a restart applies them.
    write_passwords(&pod, NEW_SUPERUSER_PASSWORD, NEW_APP_PASSWORD, 0o440, 0o440);
    let server = Running::start(&pod);
    no_password_in_processes(&[NEW_SUPERUSER_PASSWORD, NEW_APP_PASSWORD]);
    assert_eq!(
        psql(&pod, app, NEW_APP_PASSWORD, "SELECT count(*) FROM orders"),
        Ok("1".into())
    );
    assert_eq!(
        psql(
            &pod,
            "dbname=shop user=postgres sslmode=verify-full",
            NEW_SUPERUSER_PASSWORD,
            "SELECT 1"
        ),
        Ok("1".into())
    );
    for (user, old) in [("shop_app", APP_PASSWORD), ("postgres", SUPERUSER_PASSWORD)] {
        let out = psql(
            &pod,
            &format!("dbname=shop user={user} sslmode=verify-full"),
            old,
            "SELECT 1",
        );
        assert!(
            out.as_ref()
                .is_err_and(|e| e.contains("password authentication failed")),
            "the old password of {user} must fail: {out:?}"
        );
    }
    let second_log = server.stop();
    for log in [&first_log, &second_log] {
        for secret in [
            SUPERUSER_PASSWORD,
            APP_PASSWORD,
            NEW_SUPERUSER_PASSWORD,
            NEW_APP_PASSWORD,
        ] {
            assert!(
                !log.contains(secret),
                "a password is in the container's log:\n{log}"
            );
        }
    }
    assert!(!first_log.contains("WARNING"), "{first_log}");
}

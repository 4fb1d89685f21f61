//! End to end against a real PostgreSQL: the rendered backup CronJob's script and the rendered
//! restore Job's script, run verbatim (only host, port and volume paths point at local ones),
//! and the StatefulSet's probe commands.
//!
//! The server and the container runner are in `support.rs`.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::support::*;

/// Backup runs per format; `keep` is smaller, so pruning is exercised.
const RUNS: usize = 5;
const KEEP: usize = 3;
const NAME: &str = "e2e";

#[test]
fn custom_format_backup_and_restore() {
    backup_round_trip("custom", "dump");
}

#[test]
fn gzip_format_backup_and_restore() {
    backup_round_trip("gzip", "sql.gz");
}

/// Renders a config for a fresh server, runs the backup script `RUNS` times, restores every
/// kept dump and the latest one, and checks the failures that must keep the earlier dumps.
fn backup_round_trip(format: &str, ext: &str) {
    let mut pg = Server::start();
    pg.load_data();

    let work = tempfile::Builder::new()
        .prefix("pgstate-e2e-work-")
        .tempdir()
        .expect("tempdir");
    let config = work.path().join("pgstate.yaml");
    fs::write(&config, config_yaml(pg.port, format)).expect("write config");
    let config = config.to_str().expect("utf-8 path").to_owned();
    let rendered = documents(&pgstate(&["render", "-c", &config]));
    let backup = Container::backup_job(&rendered);
    assert_eq!(
        backup.env_value("PGPORT"),
        pg.port.to_string(),
        "the rendered port is the config's"
    );
    assert_eq!(backup.env_value("FORMAT"), format);
    assert_eq!(backup.env_value("KEEP"), KEEP.to_string());

    // The volumes, as the pod would see them: the backup claim, the Secret's password file, /tmp.
    // As root, the scripts run as the pod's user, and the volumes get the pod's fsGroup.
    let root = current_uid() == 0;
    if root {
        fs::set_permissions(work.path(), fs::Permissions::from_mode(0o755))
            .expect("chmod work dir");
    }
    let user = root.then_some(&backup.user);
    let backups = volume_dir(work.path(), "backups", user, &[]);
    let secret = secret_password(&rendered, &backup);
    assert_eq!(
        secret,
        PASSWORD.as_bytes(),
        "the rendered Secret holds the config's password"
    );
    let credentials = volume_dir(
        work.path(),
        "credentials",
        user,
        &[(backup.password_path(), &secret)],
    );
    let wrong_credentials = volume_dir(
        work.path(),
        "wrong-credentials",
        user,
        &[(backup.password_path(), b"not the password")],
    );
    let tmp = volume_dir(work.path(), "tmp", user, &[]);
    let volumes = Volumes {
        backups: backups.clone(),
        credentials,
        tmp,
    };

    probes_answer(&rendered, &pg, true);

    // Backups: each run sees one more change; the dump it writes must restore exactly that.
    let mut taken: Vec<(String, Checksums)> = Vec::new();
    let mut dump_times = Vec::new();
    for run in 1..=RUNS {
        pg.psql(DATABASE, &format!("INSERT INTO runs (n) VALUES ({run}); UPDATE patients SET note = 'changed in run {run}' WHERE id = {run};"));
        let expected = pg.checksums(DATABASE);
        let partials = (run == RUNS - 1).then(|| leave_partials(&backups, ext));
        let before = dumps(&backups, ext);
        let out = backup.run(&volumes, &pg, &[]);
        out.assert_success(&format!("backup run {run} ({format})"));
        if let Some((stale, fresh)) = partials {
            assert!(
                !stale.exists(),
                "a partial dump older than any job may live is removed"
            );
            assert!(
                fresh.exists(),
                "a fresh partial dump (of a job still running) is left alone"
            );
            fs::remove_file(&fresh).expect("remove fresh partial");
        }
        dump_times.push(out.elapsed);
        let after = dumps(&backups, ext);
        assert_eq!(
            after.len(),
            run.min(KEEP),
            "run {run}: {after:?}\n{}",
            out.stderr
        );
        let new: Vec<&String> = after.iter().filter(|d| !before.contains(d)).collect();
        assert_eq!(
            new.len(),
            1,
            "run {run} adds exactly one dump: {before:?} -> {after:?}"
        );
        assert_no_leftovers(&backups, &format!("after backup run {run}"));
        if root {
            let owner = fs::metadata(backups.join(new[0])).expect("dump").uid();
            assert_eq!(
                owner, backup.user.uid,
                "the dump is written as the pod's user"
            );
        }
        taken.push((new[0].clone(), expected));
    }
    let kept: Vec<String> = taken[RUNS - KEEP..]
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(
        dumps(&backups, ext),
        kept,
        "the newest {KEEP} dumps are kept"
    );
    let size = fs::metadata(backups.join(&kept[KEEP - 1]))
        .expect("dump")
        .len();

    // Every kept dump restores, through the rendered restore Job, into an empty database.
    let mut restore_times = Vec::new();
    for (i, (dump, expected)) in taken[RUNS - KEEP..].iter().enumerate() {
        let target = format!("restored_{i}");
        pg.psql("postgres", &format!("CREATE DATABASE {target}"));
        let restore = restore_container(&config, &["--from", dump]);
        assert_eq!(restore.env_value("DUMP"), *dump);
        let out = restore.run(&volumes, &pg, &[("PGDATABASE", &target)]);
        out.assert_success(&format!("restore of {dump}"));
        restore_times.push(out.elapsed);
        assert_same(
            &pg.checksums(&target),
            expected,
            &format!("{dump} restored into {target}"),
        );
    }
    // --latest picks the newest dump.
    pg.psql("postgres", "CREATE DATABASE restored_latest");
    let latest = restore_container(&config, &["--latest"]);
    latest
        .run(&volumes, &pg, &[("PGDATABASE", "restored_latest")])
        .assert_success("restore --latest");
    assert_same(
        &pg.checksums("restored_latest"),
        &taken[RUNS - 1].1,
        "--latest restored into restored_latest",
    );
    assert_same(
        &pg.checksums(DATABASE),
        &taken[RUNS - 1].1,
        "the source after all backups",
    );

    // A broken dump fails the restore and leaves the database as it was.
    let broken = format!("{NAME}-broken.{ext}");
    let bytes = fs::read(backups.join(&kept[KEEP - 1])).expect("read dump");
    fs::write(backups.join(&broken), &bytes[..bytes.len() * 2 / 3]).expect("write broken dump");
    let out = restore_container(&config, &["--from", &broken]).run(
        &volumes,
        &pg,
        &[("PGDATABASE", "restored_latest")],
    );
    out.assert_loud_failure("restore of a truncated dump", "pgstate-restore: FAILED");
    assert_same(
        &pg.checksums("restored_latest"),
        &taken[RUNS - 1].1,
        "restored_latest after a failed restore",
    );
    fs::remove_file(backups.join(&broken)).expect("remove broken dump");
    if format == "gzip" {
        // A sound gzip file of an incomplete SQL dump (cut inside a COPY block) fails as well.
        let newest = backups.join(&kept[KEEP - 1]);
        let sql = bounded(Command::new("gzip").arg("-dc").arg(&newest), None).stdout;
        let copy = sql
            .lines()
            .position(|l| l.starts_with("COPY public.patients "))
            .expect("the dump copies patients");
        let cut = format!("{NAME}-cut.sql.gz");
        let mut sh = Command::new("sh");
        sh.args([
            "-c",
            "gzip -dc \"$1\" | head -n \"$2\" | gzip -c > \"$3\"",
            "sh",
        ])
        .arg(&newest)
        .arg((copy + 1000).to_string())
        .arg(backups.join(&cut));
        bounded(&mut sh, None).assert_success("cutting a dump short");
        let out = restore_container(&config, &["--from", &cut]).run(
            &volumes,
            &pg,
            &[("PGDATABASE", "restored_latest")],
        );
        out.assert_loud_failure("restore of a dump cut short", "pgstate-restore: FAILED");
        assert_same(
            &pg.checksums("restored_latest"),
            &taken[RUNS - 1].1,
            "restored_latest after a failed restore",
        );
        fs::remove_file(backups.join(&cut)).expect("remove cut dump");
    }
    let out = restore_container(&config, &["--from", &format!("{NAME}-missing.{ext}")]).run(
        &volumes,
        &pg,
        &[],
    );
    out.assert_loud_failure(
        "restore of a dump that is not there",
        "pgstate-restore: FAILED",
    );

    // Failures: non-zero, loud, and the earlier dumps stay byte-identical with nothing left over.
    let state = dir_files(&backups);
    let wrong = Volumes {
        credentials: wrong_credentials,
        ..volumes.clone()
    };
    backup
        .run(&wrong, &pg, &[])
        .assert_loud_failure("backup with a wrong password", "pgstate-backup: FAILED");
    assert_unchanged(&backups, &state, "a backup with a wrong password");
    let unmounted = Volumes {
        backups: work.path().join("not-mounted"),
        ..volumes.clone()
    };
    backup
        .run(&unmounted, &pg, &[])
        .assert_loud_failure("backup without its volume", "pgstate-backup: FAILED");
    assert_unchanged(&backups, &state, "a backup without its volume");

    pg.stop();
    probes_answer(&rendered, &pg, false);
    backup
        .run(&volumes, &pg, &[])
        .assert_loud_failure("backup with the server stopped", "pgstate-backup: FAILED");
    assert_unchanged(&backups, &state, "a backup with the server stopped");

    let ms = |d: &[Duration]| {
        d.iter()
            .map(|d| format!("{:.0}ms", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(" ")
    };
    eprintln!(
        "backup e2e [{format}]: {} rows, dump {size} bytes; dump (backup script) {}; restore (restore script) {}",
        pg.rows,
        ms(&dump_times),
        ms(&restore_times)
    );
}

/// Partial dumps as a job killed mid-dump leaves them: one older than any job may live
/// (activeDeadlineSeconds), which the next run removes, and a fresh one, which may belong to a
/// job still running and stays.
fn leave_partials(backups: &Path, ext: &str) -> (PathBuf, PathBuf) {
    let stale = backups.join(format!(".partial-{NAME}-20200101T020000Z.17.{ext}"));
    let fresh = backups.join(format!(".partial-{NAME}-20200101T020000Z.18.{ext}"));
    fs::write(&stale, "killed mid-dump").expect("write stale partial");
    fs::write(&fresh, "still being written").expect("write fresh partial");
    let seven_hours_ago = SystemTime::now() - Duration::from_secs(7 * 3600);
    File::options()
        .write(true)
        .open(&stale)
        .and_then(|f| f.set_modified(seven_hours_ago))
        .expect("age the stale partial");
    (stale, fresh)
}

fn config_yaml(port: u16, format: &str) -> String {
    let password = serde_json::to_string(PASSWORD).expect("json");
    format!(
        "name: {NAME}\nnamespace: e2e\npostgres:\n  image: postgres:15.8\n  port: {port}\n  database: {DATABASE}\n  user: {USER}\n  password:\n    value: {password}\nbackup:\n  keep: {KEEP}\n  format: {format}\n"
    )
}

// ---------------------------------------------------------------------------------------------
// The backup folder

/// The dumps in the folder, oldest first.
fn dumps(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read backups")
        .map(|e| {
            e.expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    // Each dump has its table record beside it (which tables had rows), and nothing else is there.
    let (records, mut names): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| n.ends_with(".rows"));
    let expected: Vec<String> = names.iter().map(|n| format!("{n}.rows")).collect();
    assert_eq!(records, expected, "one table record per dump");
    names.sort();
    for n in &names {
        assert!(
            n.starts_with(&format!("{NAME}-")) && n.ends_with(&format!(".{ext}")),
            "unexpected file {n}"
        );
    }
    names
}

fn assert_no_leftovers(dir: &Path, when: &str) {
    let hidden: Vec<String> = fs::read_dir(dir)
        .expect("read backups")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "temporary files left {when}: {hidden:?}");
}

fn assert_unchanged(dir: &Path, before: &BTreeMap<String, Vec<u8>>, after_what: &str) {
    let now = dir_files(dir);
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&now),
        names(before),
        "the backup folder's files after {after_what}"
    );
    for (name, bytes) in before {
        assert!(now[name] == *bytes, "{name} changed after {after_what}");
    }
}

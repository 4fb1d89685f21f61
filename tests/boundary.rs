//! The input boundary (docs/threat-model.md): what the output means to every reader, what the
//! schema says, what pgstate reads and writes on disk, what `check` reports, and the oracle the
//! fuzz target uses. The end-to-end proofs against a real server are in boundary_e2e.rs.
//!
//! Over 500 lines: the boundary's tests in one place, the file docs/threat-model.md cites.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use pgstate::config::vars::Vars;
use pgstate::error::SourceId;
use serde_json::Value;

use crate::support::pgstate_status;

/// No variable set, none allowed but PGSTATE_*.
struct NoVars;

impl Vars for NoVars {
    fn get(&self, _name: &str) -> Option<String> {
        None
    }
}

/// Every valid config of fixtures/: the files, and the folders as runs of several.
fn fixture_configs() -> Vec<String> {
    let mut found: Vec<String> = fs::read_dir("fixtures")
        .expect("fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        // invalid/: bad configs; bitnami/: a chart's values files, not configs.
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != "invalid" && n != "bitnami")
        })
        .map(|p| {
            let shown = p.to_string_lossy().into_owned();
            if p.is_dir() {
                format!("{shown}/")
            } else {
                shown
            }
        })
        .collect();
    found.sort();
    assert!(found.len() >= 6, "{found:?}");
    found
}

/// The documents of a YAML stream as PyYAML (a YAML 1.1 reader, like kubectl's) reads them,
/// as JSON.
fn yaml11(yaml: &str) -> Vec<Value> {
    let script = "import sys, json, yaml\n\
        docs = [d for d in yaml.load_all(sys.stdin.buffer, Loader=yaml.SafeLoader) if d is not None]\n\
        sys.stdout.write(json.dumps(docs, default=lambda o: '<not a string: %r>' % (o,)))\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with PyYAML (apt-get install python3-yaml) reads the output");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(yaml.as_bytes()).expect("write to python3");
    }
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "PyYAML cannot read the output: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python3")
}

/// The same stream read as YAML 1.2 (serde-saphyr).
fn yaml12(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .expect("the output parses as YAML 1.2")
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

/// Every string (and every other scalar) the two readers read, compared leaf by leaf, so a
/// failure names the place.
fn same_everywhere(a: &Value, b: &Value, path: &str, what: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys_x: Vec<&String> = x.keys().collect();
            let keys_y: Vec<&String> = y.keys().collect();
            assert_eq!(keys_x, keys_y, "{what}: the keys of {path}");
            for (k, v) in x {
                same_everywhere(v, &y[k], &format!("{path}.{k}"), what);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{what}: the length of {path}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                same_everywhere(v, w, &format!("{path}[{i}]"), what);
            }
        }
        _ => assert_eq!(
            a, b,
            "{what}: {path} reads differently under YAML 1.1 and 1.2"
        ),
    }
}

/// Every fixture's output reads the same under YAML 1.1 (PyYAML) and YAML 1.2 (serde-saphyr),
/// every string of every object.
#[test]
fn every_fixture_reads_the_same_under_yaml_1_1_and_1_2() {
    for config in fixture_configs() {
        let mut renders = vec![pgstate_status(&["render", "-c", &config])];
        if config.ends_with("course-hybrid.yaml") {
            renders.push(pgstate_status(&["render", "-c", &config, "--env", "prod"]));
        }
        renders.push(pgstate_status(&[
            "connection",
            "-c",
            &config,
            "--format",
            "yaml",
        ]));
        for (code, out, err) in renders {
            assert_eq!(code, 0, "{config}: {err}");
            let old = yaml11(&out);
            let new = yaml12(&out);
            assert_eq!(old.len(), new.len(), "{config}: documents");
            for (a, b) in old.iter().zip(&new) {
                same_everywhere(a, b, "", &config);
            }
        }
    }
}

/// Characters YAML 1.1 reads differently (NEL, LS, PS are line breaks to it; DEL, C1 and BOM
/// are not printable to either): the config refuses them, and were one to reach a value all
/// the same, the printer escapes it, and both readers read the value pgstate meant.
#[test]
fn the_printer_escapes_what_yaml_1_1_reads_differently() {
    const HARD: &str = "a\u{85}b\u{2028}c\u{2029}d\u{feff}e\u{7f}f\u{9b}g\u{fffe}h\ti\rj\u{1}k";
    let text = "name: shop\nservice:\n  annotations: {note: plain}\npostgres:\n  image: postgres:17.2\n  tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]\napp:\n  image: ghcr.io/acme/shop:1.0.0\n  env: {NOTE: plain}\n";
    let mut loaded = pgstate::config::load(SourceId(0), text, None, &NoVars).expect("loads");
    let config = &mut loaded.config;
    config
        .service
        .annotations
        .insert("note".into(), HARD.into());
    if let Some(app) = config.app.as_mut() {
        app.env.insert("NOTE".into(), HARD.into());
    }
    // Inside a pass-through field, printed as one line of JSON.
    config.postgres.tolerations[0]["value"] = Value::from(HARD);
    let docs = pgstate::pipeline::render(config, &NoVars).expect("renders");
    let yaml: String = docs.iter().map(|d| format!("---\n{}", d.yaml)).collect();
    for ch in [
        '\u{85}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{7f}', '\u{9b}', '\u{fffe}',
    ] {
        assert!(!yaml.contains(ch), "{ch:?} is printed raw");
    }
    let old = yaml11(&yaml);
    let new = yaml12(&yaml);
    for (a, b) in old.iter().zip(&new) {
        same_everywhere(a, b, "", "escaped values");
    }
    let service = new
        .iter()
        .find(|d| d["kind"] == "Service" && d["metadata"]["name"] == "shop");
    assert_eq!(
        service.map(|s| &s["metadata"]["annotations"]["note"]),
        Some(&Value::from(HARD))
    );
    let sts = new
        .iter()
        .find(|d| d["kind"] == "StatefulSet")
        .expect("sts");
    assert_eq!(
        sts["spec"]["template"]["spec"]["tolerations"][0]["value"],
        HARD
    );
    // And the config refuses each of them where it reads them.
    for ch in [
        '\u{85}', '\u{2028}', '\u{feff}', '\u{7f}', '\u{9b}', '\u{0}',
    ] {
        let text = format!(
            "name: shop\nservice:\n  annotations: {{note: \"a\\u{:04X}b\"}}\n",
            u32::from(ch)
        );
        let found = pgstate::config::load(SourceId(0), &text, None, &NoVars)
            .expect_err("a control character is refused");
        assert_eq!(found[0].path, "service.annotations.note", "{ch:?}");
    }
}

/// Objects come in Helm's install order: policies, Secrets and ConfigMaps, volumes and
/// Services before the workloads; a stream cut short never leaves a database without its
/// NetworkPolicy.
#[test]
fn objects_come_in_install_order() {
    for config in fixture_configs() {
        let (code, out, err) = pgstate_status(&["render", "-c", &config]);
        assert_eq!(code, 0, "{config}: {err}");
        let docs = yaml12(&out);
        let ranks: Vec<u8> = docs
            .iter()
            .map(|d| pgstate::render::install_rank(d["kind"].as_str().unwrap_or_default()))
            .collect();
        if config.ends_with('/') {
            // Several databases: each one's objects in order, one database after the other.
            let starts = ranks.windows(2).filter(|w| w[1] < w[0]).count();
            assert!(starts < 2, "{config}: {ranks:?}");
            continue;
        }
        assert!(ranks.is_sorted(), "{config}: {ranks:?}");
        let first_workload = docs
            .iter()
            .position(|d| matches!(d["kind"].as_str(), Some("StatefulSet" | "Deployment")));
        let last_policy = docs.iter().rposition(|d| d["kind"] == "NetworkPolicy");
        if let (Some(w), Some(p)) = (first_workload, last_policy) {
            assert!(
                p < w,
                "{config}: every NetworkPolicy before the first workload"
            );
        }
    }
}

/// A node tree as JSON, plain scalars resolved as pgstate resolves them.
fn as_json(node: &pgstate::config::node::Node) -> Value {
    use pgstate::config::node::{Kind, Plain, resolve_plain};
    match &node.kind {
        Kind::Scalar { text, plain: true } => match resolve_plain(text) {
            Plain::Null => Value::Null,
            Plain::Bool(b) => Value::from(b),
            Plain::Int(i) => Value::from(i),
            Plain::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            Plain::Str => Value::from(text.as_str()),
        },
        Kind::Scalar { text, .. } => Value::from(text.as_str()),
        Kind::Seq(items) => Value::Array(items.iter().map(as_json).collect()),
        Kind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), as_json(v)))
                .collect(),
        ),
    }
}

/// `pgstate schema` agrees with the reader: every valid fixture passes a real JSON Schema
/// validator, and every invalid fixture the reader refuses for its type or shape fails it.
#[test]
fn the_json_schema_agrees_with_the_parser() {
    let (code, schema, err) = pgstate_status(&["schema"]);
    assert_eq!(code, 0, "{err}");
    let schema: Value = serde_json::from_str(&schema).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    // The JSON a file is to pgstate's own reader (YAML 1.2 core schema: `yes` is a string).
    let read = |path: &Path| -> Option<Value> {
        let text = fs::read_to_string(path).ok()?;
        pgstate::config::node::parse(SourceId(0), &text)
            .ok()
            .map(|n| as_json(&n))
    };
    let mut valid = 0;
    for config in fixture_configs() {
        let files: Vec<std::path::PathBuf> = if config.ends_with('/') {
            fs::read_dir(&config)
                .expect("folder")
                .filter_map(Result::ok)
                .map(|e| e.path())
                .collect()
        } else {
            vec![config.clone().into()]
        };
        for file in files {
            let value = read(&file).expect("a valid fixture reads as YAML");
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", file.display());
            valid += 1;
        }
    }
    // What the issue found: settings may be numbers and booleans, as the reader takes them.
    for text in [
        "postgres:\n  settings: {max_connections: 120, jit: off, work_mem: 64MB}\n",
        "postgres:\n  allowUnsafeSettings: [archive_command]\n  settings: {archive_command: /bin/true}\n",
        "environments:\n  prod: {namespace: prod}\n",
        "app:\n  image: ghcr.io/acme/shop:1.0.0\n  env: {WORKERS: 4, DEBUG: false}\n",
        "labels: {tier: 1}\npostgres:\n  nodeSelector: {disk: 1}\n",
    ] {
        pgstate::config::load(SourceId(0), text, None, &NoVars).expect("pgstate accepts it");
        let value = as_json(&pgstate::config::node::parse(SourceId(0), text).expect("yaml"));
        assert!(validator.is_valid(&value), "the schema refuses {text}");
        valid += 1;
    }
    let mut refused = 0;
    for entry in fs::read_dir("fixtures/invalid").expect("invalid fixtures") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            continue;
        }
        let text = fs::read_to_string(&path).expect("read");
        if text.contains("<<:") {
            // A YAML merge key: pgstate refuses the YAML feature, which is no type or shape.
            continue;
        }
        // Only what both can read: YAML errors are no matter of the schema.
        let (Ok(tree), Some(value)) = (
            pgstate::config::node::parse(SourceId(0), &text),
            read(&path),
        ) else {
            continue;
        };
        let mut tree = tree;
        if let pgstate::config::node::Kind::Map(entries) = &mut tree.kind {
            entries.retain(|(k, _)| k.as_str() != Some("environments"));
        }
        let typed = pgstate::config::de::from_node::<pgstate::config::Config>(&tree);
        if typed.is_err() {
            assert!(
                !validator.is_valid(&value),
                "{}: pgstate refuses its type or shape, the schema accepts it",
                path.display()
            );
            refused += 1;
        }
    }
    assert!(
        valid >= 9 && refused >= 20,
        "{valid} valid, {refused} refused"
    );
}

/// The fuzz target's oracle holds for every fixture and restore Job, and catches what it is
/// there to catch.
#[test]
fn the_boundary_oracle_holds_for_every_fixture_and_catches_breaches() {
    for config in fixture_configs() {
        if config.ends_with('/') {
            continue;
        }
        let text = fs::read_to_string(&config).expect("read");
        let loaded = pgstate::config::load(SourceId(0), &text, None, &NoVars).expect("loads");
        let mut docs = pgstate::pipeline::render(&loaded.config, &NoVars).expect("renders");
        if loaded.config.backup.is_some() {
            docs.extend(
                pgstate::commands::restore::restore_job(
                    &loaded.config,
                    &pgstate::commands::restore::RestoreSource::Volume("latest".into()),
                    &NoVars,
                )
                .unwrap_or_default(),
            );
        }
        for doc in &docs {
            let found = pgstate::render::boundary::breaches(&loaded.config, &doc.value);
            assert!(found.is_empty(), "{config}: {found:?}");
        }
    }
    // Every kind of object pgstate mounts or runs: TLS, the app role, pg_hba rules, Redis,
    // metrics, init SQL (what fuzzing first found the oracle did not know: the TLS folder).
    let every_part = "name: shop\npostgres:\n  image: postgres:17.2\n  password: {value: s3cret}\n  tls: {secret: shop-tls}\n  hba: [{type: hostssl, database: shop, user: shop_app, address: 10.0.0.0/8, method: scram-sha-256}]\n  statements: true\n  metrics: {enabled: true}\n  initSql: \"SELECT 1;\"\nbackup: {}\napp: {image: ghcr.io/acme/shop:1.0.0, password: {value: app-s3cret}}\nredis: {image: redis:7.4-alpine}\n";
    let loaded = pgstate::config::load(SourceId(0), every_part, None, &NoVars).expect("loads");
    let mut docs = pgstate::pipeline::render(&loaded.config, &NoVars).expect("renders");
    docs.extend(
        pgstate::commands::restore::restore_job(
            &loaded.config,
            &pgstate::commands::restore::RestoreSource::Volume("latest".into()),
            &NoVars,
        )
        .expect("restore"),
    );
    for doc in &docs {
        let found = pgstate::render::boundary::breaches(&loaded.config, &doc.value);
        assert!(found.is_empty(), "{}: {found:?}", doc.kind);
    }
    let config = pgstate::config::Config::default();
    let bad = serde_json::json!({
        "kind": "StatefulSet",
        "spec": {"template": {"spec": {
            "containers": [{
                "name": "postgres",
                "command": ["sh", "-c", "pg_dump --dbname=\"$(touch /tmp/x)\""],
                "args": ["postgres", "-c", "archive_command=touch /tmp/x"],
                "env": [
                    {"name": "BASH_ENV", "value": "x"},
                    {"name": "POSTGRES_INITDB_ARGS", "value": "--data-checksums; id"},
                    {"name": "POSTGRES_DB", "value": "host=evil dbname=x"}
                ],
                "volumeMounts": [{"name": "data", "mountPath": "/etc"}]
            }],
            "volumes": [{"name": "root", "hostPath": {"path": "/"}}]
        }}}
    });
    let found = pgstate::render::boundary::breaches(&config, &bad);
    assert_eq!(found.len(), 7, "{found:#?}");
    // The StatefulSet's container has args only: the image's entrypoint runs them.
    let args_only = serde_json::json!({"containers": [{"name": "postgres", "args": ["postgres", "-c", "shared_preload_libraries=/tmp/x"]}]});
    assert_eq!(
        pgstate::render::boundary::breaches(&config, &args_only).len(),
        1
    );
    let pv = serde_json::json!({"kind": "PersistentVolume", "spec": {"local": {"path": "/etc/kubernetes"}}});
    assert_eq!(pgstate::render::boundary::breaches(&config, &pv).len(), 1);
}

/// `fromEnv` reads PGSTATE_* variables, and others only when the command line names them.
#[test]
fn from_env_reads_only_allowed_variables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pgstate.yaml");
    let path = path.to_str().expect("utf-8");
    // HOME is set in every test run: a variable the CI runner has.
    fs::write(path, "name: shop\npostgres:\n  password: {fromEnv: HOME}\n").expect("write");
    let (code, out, err) = pgstate_status(&["render", "-c", path]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("the config may not read the variable HOME"),
        "{err}"
    );
    assert!(err.contains("--allow-env HOME"), "{err}");
    let (code, out, err) = pgstate_status(&["render", "-c", path, "--allow-env", "HOME"]);
    assert_eq!(code, 0, "{err}");
    let secret = yaml12(&out)
        .into_iter()
        .find(|d| d["kind"] == "Secret")
        .expect("the Secret from HOME");
    assert!(secret["data"]["password"].is_string());
    // `check` refuses it the same way, in every format.
    for format in ["human", "json", "github"] {
        let (code, out, err) = pgstate_status(&["check", "-c", path, "--format", format]);
        assert_eq!(code, 2, "{format}: {out}{err}");
        assert!(
            format!("{out}{err}").contains("may not read the variable HOME"),
            "{format}"
        );
    }
}

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

/// Init SQL files stay in the config's folder: no `..`, no link that leads out of it.
#[test]
fn init_sql_files_stay_in_the_config_folder() {
    let outside = tempfile::tempdir().expect("tempdir");
    fs::write(outside.path().join("secret.sql"), "SELECT 'the secret';\n").expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    symlink(
        &outside.path().join("secret.sql"),
        &dir.path().join("schema.sql"),
    );
    fs::create_dir(dir.path().join("sql")).expect("mkdir");
    fs::write(dir.path().join("sql/inside.sql"), "SELECT 1;\n").expect("write");
    symlink(Path::new("sql/inside.sql"), &dir.path().join("linked.sql"));
    let path = dir.path().join("pgstate.yaml");
    let path = path.to_str().expect("utf-8");
    fs::write(
        path,
        "name: shop\npostgres:\n  initSql: {files: [schema.sql]}\n",
    )
    .expect("write");
    let (code, out, err) = pgstate_status(&["render", "-c", path]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("leads out of the config's folder"), "{err}");
    assert!(!err.contains("the secret"), "{err}");
    // A link inside the folder to a file inside it is fine.
    fs::write(
        path,
        "name: shop\npostgres:\n  initSql: {files: [linked.sql, sql/inside.sql]}\n",
    )
    .expect("write");
    let (code, out, err) = pgstate_status(&["render", "-c", path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("SELECT 1;"));
}

/// A config file that is a link out of its folder (and the folder pgstate runs in) is not
/// read, so an error never shows a line of it; a folder's links are treated the same way.
#[test]
fn a_config_link_out_of_its_folder_is_not_read() {
    let outside = tempfile::tempdir().expect("tempdir");
    fs::write(
        outside.path().join("shadow"),
        "root:$6$SECRET-HASH:19000:0:99999:7:::\n",
    )
    .expect("write");
    let dir = tempfile::tempdir().expect("tempdir");
    symlink(&outside.path().join("shadow"), &dir.path().join("db.yaml"));
    let folder = format!("{}/", dir.path().display());
    let file = dir.path().join("db.yaml");
    for args in [
        vec!["check", "-c", &folder],
        vec!["check", "-c", file.to_str().expect("utf-8")],
        vec!["render", "-c", &folder],
    ] {
        let (code, out, err) = pgstate_status(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            !format!("{out}{err}").contains("SECRET-HASH"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("pgstate does not follow it"),
            "{args:?}: {err}"
        );
    }
}

/// `render --out-dir` never writes through a link, and `render --check` never reads through
/// one (it would print the target's lines in its diff).
#[test]
fn out_dir_and_drift_do_not_follow_links() {
    let outside = tempfile::tempdir().expect("tempdir");
    fs::write(outside.path().join("shadow"), "root:SECRET-HASH\n").expect("write");
    let work = tempfile::tempdir().expect("tempdir");
    let config = work.path().join("pgstate.yaml");
    fs::write(
        &config,
        "name: shop\nnamespace: shop\npostgres:\n  image: postgres:17.2\n",
    )
    .expect("write");
    let config = config.to_str().expect("utf-8");
    let out_dir = work.path().join("k8s");
    let out = out_dir.to_str().expect("utf-8");
    let (code, _, err) = pgstate_status(&["render", "-c", config, "--out-dir", out]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = pgstate_status(&["render", "-c", config, "--out-dir", out, "--check"]);
    assert_eq!(code, 0, "clean: {err}");
    // A committed link in place of a rendered file: the check fails without reading it.
    let file = fs::read_dir(&out_dir)
        .expect("out dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("statefulset"))
        })
        .expect("a StatefulSet file");
    fs::remove_file(&file).expect("rm");
    symlink(&outside.path().join("shadow"), &file);
    let (code, stdout, err) =
        pgstate_status(&["render", "-c", config, "--out-dir", out, "--check"]);
    assert_eq!(code, 1, "{stdout}{err}");
    assert!(
        !format!("{stdout}{err}").contains("SECRET-HASH"),
        "{stdout}{err}"
    );
    assert!(
        format!("{stdout}{err}").contains("symbolic link"),
        "{stdout}{err}"
    );
    // Writing refuses to replace it, and writes nothing.
    let (code, _, err) = pgstate_status(&["render", "-c", config, "--out-dir", out]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("a symbolic link is in the way"), "{err}");
    assert_eq!(
        fs::read_to_string(outside.path().join("shadow")).expect("read"),
        "root:SECRET-HASH\n"
    );
    // A per-database folder that is a link elsewhere: two configs render into folders.
    let many = tempfile::tempdir().expect("tempdir");
    for name in ["a", "b"] {
        fs::write(
            many.path().join(format!("{name}.yaml")),
            format!("name: {name}\nnamespace: {name}\npostgres:\n  image: postgres:17.2\n"),
        )
        .expect("write");
    }
    let target = tempfile::tempdir().expect("tempdir");
    let multi_out = many.path().join("out");
    fs::create_dir(&multi_out).expect("mkdir");
    let (code, _, err) = pgstate_status(&[
        "render",
        "-c",
        &format!("{}/", many.path().display()),
        "--out-dir",
        multi_out.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    let folder = fs::read_dir(&multi_out)
        .expect("out")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("a folder per database");
    fs::remove_dir_all(&folder).expect("rm");
    symlink(target.path(), &folder);
    let (code, _, err) = pgstate_status(&[
        "render",
        "-c",
        &format!("{}/", many.path().display()),
        "--out-dir",
        multi_out.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(
        fs::read_dir(target.path()).expect("target").count(),
        0,
        "nothing written through the link"
    );
}

/// A value that would start a line of its own, move the cursor or hide text is shown escaped
/// in every format of `check` and in `render`'s errors.
#[test]
fn diagnostics_show_control_characters_escaped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let quoted = dir.path().join("quoted.yaml");
    // The value is quoted in the message; YAML escapes put the characters in it.
    fs::write(
        &quoted,
        "name: shop\npostgres:\n  user: \"x\\e[2J\\u0085\\n::warning file=x::fake\"\n",
    )
    .expect("write");
    // Raw characters in the file: the line shown under the error holds them.
    let raw = dir.path().join("raw.yaml");
    fs::write(
        &raw,
        "name: shop\npostgres:\n  database: x\u{1b}[2J\u{85}y\n  port: no\n",
    )
    .expect("write");
    for path in [&quoted, &raw] {
        let path = path.to_str().expect("utf-8");
        for args in [
            vec!["render", "-c", path],
            vec!["check", "-c", path],
            vec!["check", "-c", path, "--format", "json"],
            vec!["check", "-c", path, "--format", "github"],
        ] {
            let (code, out, err) = pgstate_status(&args);
            assert_eq!(code, 2, "{args:?}: {out}{err}");
            let all = format!("{out}{err}");
            assert!(
                !all.contains('\u{1b}') && !all.contains('\u{85}'),
                "{args:?}: {all:?}"
            );
            assert!(
                !all.lines().any(|l| l.starts_with("::warning")),
                "{args:?}: a line of its own: {all}"
            );
            assert!(all.contains("u{1b}"), "{args:?}: {all}");
        }
    }
}

/// `check` reports a toleration that matches every taint, and each unsafe setting a config
/// allows by name; without the allowance the setting is an error.
#[test]
fn check_reports_what_a_reviewer_should_see() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pgstate.yaml");
    let path = path.to_str().expect("utf-8");
    fs::write(
        path,
        "name: shop\nnamespace: shop\npostgres:\n  image: postgres:17.2\n  tolerations:\n    - operator: Exists\n  allowUnsafeSettings: [archive_command]\n  settings:\n    archive_mode: \"on\"\n    archive_command: /bin/true\n",
    )
    .expect("write");
    let (code, out, err) = pgstate_status(&["check", "-c", path, "--format", "json"]);
    assert_eq!(code, 0, "warnings only: {out}{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    let ids: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or(""),
                f["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        ids.contains(&("PGS025", "postgres.tolerations[0]")),
        "{ids:?}"
    );
    assert!(
        ids.contains(&("PGS026", "postgres.settings.archive_command")),
        "{ids:?}"
    );
    let (code, out, _) = pgstate_status(&["render", "-c", path]);
    assert_eq!(code, 0);
    assert!(
        out.contains("archive_command=/bin/true"),
        "the allowed setting is passed on"
    );
    fs::write(
        path,
        "name: shop\npostgres:\n  settings:\n    Archive_Command: /bin/true\n",
    )
    .expect("write");
    let (code, _, err) = pgstate_status(&["render", "-c", path]);
    assert_eq!(code, 2, "{err}");
}

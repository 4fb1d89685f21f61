//! `pgstate init --from-bitnami`: the three values fixtures give a config that checks and
//! renders (snapshots of the config, the report and the render); every key of a values file is
//! mapped, reported or recognised as the chart's default; bad values files are refused with
//! their place. And the pod settings (`postgres.pod`, `backup.pod`, `app.pod`) where they land.
//!
//! Over 500 lines: a split would rename its snapshots, whose file names hold the module name.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{documents, find, pgstate, pgstate_status, render_config};

/// Each fixture and the release name it is converted with (the production one has a
/// fullnameOverride, which wins).
const FIXTURES: &[(&str, Option<&str>)] = &[
    ("small", Some("shop")),
    ("production", None),
    ("no-equivalent", Some("legacy")),
];

/// Converts a fixture into `dir/pgstate.yaml`; returns the config text and the report.
fn convert(dir: &Path, fixture: &str, release: Option<&str>) -> (String, String) {
    let values = format!("fixtures/bitnami/{fixture}.yaml");
    let config = dir.join("pgstate.yaml");
    let config_arg = config.to_str().expect("utf-8 path");
    let release: Vec<&str> = release.map_or_else(Vec::new, |r| vec!["--release", r]);
    let (code, out, err) = from_bitnami(&values, config_arg, &release);
    assert_eq!(code, 0, "{fixture}: {err}");
    assert!(out.is_empty(), "{fixture}: nothing on stdout with -o FILE");
    let report = err.replace(dir.to_str().expect("utf-8"), "<dir>");
    (
        std::fs::read_to_string(&config).expect("config written"),
        report,
    )
}

/// `pgstate init --from-bitnami VALUES -o OUTPUT EXTRA...`: (exit code, stdout, stderr).
fn from_bitnami(values: &str, output: &str, extra: &[&str]) -> (u8, String, String) {
    let mut args = vec!["init", "--from-bitnami", values, "-o", output];
    args.extend_from_slice(extra);
    pgstate_status(&args)
}

/// Writes `text` as `dir/values.yaml` and returns its path.
fn values_file(dir: &Path, text: &str) -> PathBuf {
    let values = dir.join("values.yaml");
    std::fs::write(&values, text).expect("write");
    values
}

#[test]
fn every_bitnami_fixture_becomes_a_config_that_checks_and_renders() {
    for (fixture, release) in FIXTURES {
        let dir = tempfile::tempdir().expect("tempdir");
        let (config, report) = convert(dir.path(), fixture, *release);
        assert!(
            config.starts_with("# yaml-language-server: $schema=pgstate.schema.json\n"),
            "{fixture}: the schema line comes first"
        );
        let path = dir.path().join("pgstate.yaml");
        let path = path.to_str().expect("utf-8");
        let (code, _, findings) = pgstate_status(&["check", "-c", path]);
        assert_eq!(code, 0, "{fixture}: check finds no errors\n{findings}");
        let render = pgstate(&["render", "-c", path]);
        let mut files = String::new();
        let mut sql: Vec<_> = walk(dir.path())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        sql.sort();
        for file in sql {
            let rel = file.strip_prefix(dir.path()).expect("inside");
            files.push_str(&format!(
                "--- {}\n{}",
                rel.display(),
                std::fs::read_to_string(&file).expect("sql")
            ));
        }
        insta::assert_snapshot!(format!("bitnami_{fixture}_config"), config);
        insta::assert_snapshot!(format!("bitnami_{fixture}_report"), report);
        insta::assert_snapshot!(format!("bitnami_{fixture}_files"), files);
        insta::assert_snapshot!(format!("bitnami_{fixture}_render"), render);
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The dotted paths of a values file's leaves (a list or an empty map is one leaf).
fn leaf_paths(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaf_paths(v, &p, out);
            }
        }
        _ => out.push(path.to_owned()),
    }
}

/// The keys the report names: mapped (`  KEY -> ...`), reported (`file:l:c: KEY: why`) and
/// the chart's defaults (`same as the chart's default, ...: a, b`).
fn named_in(report: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for line in report.lines() {
        if let Some((key, _)) = line.trim_start().split_once(" -> ") {
            keys.push(key.to_owned());
        } else if let Some(rest) =
            line.strip_prefix("same as the chart's default, nothing to carry over: ")
        {
            keys.extend(rest.split(", ").map(str::to_owned));
        } else if line.starts_with("  ") && line.contains(".yaml:") {
            // "  values.yaml:3:15: architecture: why"
            let after = line.splitn(4, ':').nth(3).unwrap_or_default().trim_start();
            keys.push(after.split(':').next().unwrap_or_default().to_owned());
        }
    }
    keys
}

#[test]
fn every_values_key_is_mapped_reported_or_the_default() {
    for (fixture, release) in FIXTURES {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, report) = convert(dir.path(), fixture, *release);
        let text =
            std::fs::read_to_string(format!("fixtures/bitnami/{fixture}.yaml")).expect("values");
        let values: Value = serde_saphyr::from_str(&text).expect("values parse");
        let mut leaves = Vec::new();
        leaf_paths(&values, "", &mut leaves);
        let named = named_in(&report);
        for leaf in &leaves {
            let covered = named
                .iter()
                .any(|k| leaf == k || leaf.starts_with(&format!("{k}.")));
            assert!(
                covered,
                "{fixture}: `{leaf}` is neither mapped, reported nor a default\n{report}"
            );
        }
    }
}

#[test]
fn a_value_equal_to_the_charts_default_is_recognised_and_not_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let values = values_file(
        dir.path(),
        "architecture: standalone\nauth:\n  enablePostgresUser: true\n  database: shop\nprimary:\n  persistence:\n    mountPath: /bitnami/postgresql\n  podSecurityContext:\n    fsGroup: 1001\n  livenessProbe:\n    periodSeconds: 10\nmetrics:\n  enabled: false\n",
    );
    let (code, out, err) = from_bitnami(values.to_str().expect("utf-8"), "-", &[]);
    assert_eq!(code, 0, "{err}");
    let defaults = err
        .lines()
        .find_map(|l| l.strip_prefix("same as the chart's default, nothing to carry over: "))
        .unwrap_or_else(|| panic!("no list of defaults\n{err}"));
    for key in [
        "architecture",
        "auth.enablePostgresUser",
        "primary.persistence.mountPath",
        "primary.podSecurityContext.fsGroup",
        "primary.livenessProbe.periodSeconds",
        "metrics.enabled",
    ] {
        assert!(
            defaults.split(", ").any(|k| k == key),
            "{key} is a default\n{err}"
        );
    }
    assert!(!err.contains("no equivalent"), "nothing to report\n{err}");
    assert!(
        !out.contains("probes"),
        "a default probe timing is not written\n{out}"
    );
    assert!(out.contains("database: shop"), "{out}");
    // Changed from the default, the same key is mapped (or reported).
    std::fs::write(&values, "primary:\n  livenessProbe:\n    periodSeconds: 30\n  podSecurityContext:\n    fsGroup: 2000\n").expect("write");
    let (code, out, err) = from_bitnami(values.to_str().expect("utf-8"), "-", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("liveness:\n      periodSeconds: 30"), "{out}");
    assert!(
        err.contains("primary.podSecurityContext.fsGroup: pgstate's security context is fixed"),
        "{err}"
    );
}

#[test]
fn plain_text_passwords_never_reach_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, report) = convert(dir.path(), "no-equivalent", Some("legacy"));
    assert!(!config.contains("change-me"), "{config}");
    assert!(
        report.contains("auth.postgresPassword: a password in plain text"),
        "{report}"
    );
    assert!(
        config.contains("secret: legacy-postgresql-pg-credentials"),
        "the config names a Secret to create\n{config}"
    );
    assert!(
        report.contains(
            "kubectl get secret legacy-postgresql -o jsonpath='{.data.postgres-password}'"
        ),
        "the report says where the release keeps the password\n{report}"
    );
}

#[test]
fn init_scripts_become_sql_files_beside_the_config_and_shell_scripts_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, report) = convert(dir.path(), "no-equivalent", Some("legacy"));
    let sql = dir.path().join("legacy-postgresql-pg-initdb/01-schema.sql");
    assert!(
        std::fs::read_to_string(&sql)
            .expect("written")
            .contains("CREATE TABLE IF NOT EXISTS notes"),
        "the script's text"
    );
    assert!(
        config.contains("- legacy-postgresql-pg-initdb/01-schema.sql"),
        "{config}"
    );
    assert!(
        !dir.path()
            .join("legacy-postgresql-pg-initdb/00-tune.sh")
            .exists()
    );
    assert!(
        report.contains("primary.initdb.scripts.00-tune.sh: a shell script"),
        "{report}"
    );
    let docs = documents(&pgstate(&[
        "render",
        "-c",
        dir.path().join("pgstate.yaml").to_str().expect("utf-8"),
    ]));
    let cm = find(&docs, "ConfigMap");
    assert!(
        cm["data"]["11-01-schema.sql"]
            .as_str()
            .is_some_and(|s| s.contains("notes")),
        "{cm}"
    );
    // stdout has no place for the files: refused, nothing written.
    let (code, out, err) = from_bitnami("fixtures/bitnami/no-equivalent.yaml", "-", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty() && err.contains("pass -o FILE"), "{err}");
}

#[test]
fn an_existing_file_is_kept_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("pgstate.yaml");
    std::fs::write(&config, "keep me\n").expect("write");
    let path = config.to_str().expect("utf-8");
    let (code, _, err) = from_bitnami("fixtures/bitnami/small.yaml", path, &[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read_to_string(&config).expect("read"), "keep me\n");
    let (code, _, err) = from_bitnami("fixtures/bitnami/small.yaml", path, &["--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(&config)
            .expect("read")
            .contains("name: ")
    );
}

#[test]
fn every_invalid_values_file_fails_with_its_snapshot() {
    insta::glob!("../fixtures/bitnami/invalid", "*.yaml", |path| {
        let name = path.file_name().and_then(|n| n.to_str()).expect("name");
        let rel = format!("fixtures/bitnami/invalid/{name}");
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("pgstate.yaml");
        let (code, out, err) = from_bitnami(&rel, config.to_str().expect("utf-8"), &[]);
        assert_eq!(code, 2, "{rel}: {err}");
        assert!(out.is_empty(), "{rel}: nothing on stdout");
        assert!(!config.exists(), "{rel}: nothing written");
        let place = err
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(&format!("--> {rel}:")))
            .unwrap_or_else(|| panic!("{rel}: the place is file:line:col\n{err}"));
        assert!(
            place
                .split(':')
                .all(|n| n.parse::<usize>().is_ok_and(|n| n > 0)),
            "{place}"
        );
        assert!(err.contains("= help: "), "{rel}: a hint\n{err}");
        insta::assert_snapshot!(err);
    });
}

// ---------------------------------------------------------------------------------------------
// Pod settings

const POD_SETTINGS: &str = "name: shop\nnamespace: shop\npostgres:\n  image: postgres:17.6\n  resources: {limits: {memory: 2Gi}}\n  pod:\n    annotations: {example.com/team: \"a: b #c\"}\n    labels: {cost-center: cc-1}\n    imagePullSecrets: [regcred]\n    priorityClassName: database-critical\n    serviceAccountName: shop-db\n    terminationGracePeriodSeconds: 120\n    shmSize: 1Gi\nbackup:\n  pod:\n    imagePullSecrets: [regcred]\n    labels: {kind: nightly}\napp:\n  image: ghcr.io/acme/shop:1.0.0\n  pod:\n    annotations: {sidecar.istio.io/inject: \"false\"}\n    automountServiceAccountToken: true\n    serviceAccountName: shop\n";

#[test]
fn pod_settings_land_on_the_database_backup_and_app_pods() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = render_config(dir.path(), POD_SETTINGS);
    let sts = find(&docs, "StatefulSet");
    let pod = &sts["spec"]["template"];
    assert_eq!(
        pod["metadata"]["annotations"]["example.com/team"],
        "a: b #c"
    );
    assert_eq!(pod["metadata"]["labels"]["cost-center"], "cc-1");
    assert_eq!(
        pod["metadata"]["labels"]["app.kubernetes.io/component"],
        "database"
    );
    let spec = &pod["spec"];
    assert_eq!(spec["imagePullSecrets"][0]["name"], "regcred");
    assert_eq!(spec["priorityClassName"], "database-critical");
    assert_eq!(spec["serviceAccountName"], "shop-db");
    assert_eq!(
        spec["automountServiceAccountToken"], false,
        "still no token unless asked"
    );
    assert_eq!(spec["terminationGracePeriodSeconds"], 120);
    let shm = spec["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "shm")
        .expect("shm");
    assert_eq!(shm["emptyDir"]["sizeLimit"], "1Gi");
    let stop = &spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"];
    assert!(
        stop.as_array()
            .expect("command")
            .iter()
            .any(|a| a == "--timeout=110"),
        "the fast shutdown gets the grace period but 10 s: {stop}"
    );
    let cron = find(&docs, "CronJob");
    let job_pod = &cron["spec"]["jobTemplate"]["spec"]["template"];
    assert_eq!(job_pod["spec"]["imagePullSecrets"][0]["name"], "regcred");
    assert_eq!(job_pod["metadata"]["labels"]["kind"], "nightly");
    assert!(
        job_pod["spec"].get("priorityClassName").is_none(),
        "the database's settings stay on the database"
    );
    let app = &find(&docs, "Deployment")["spec"]["template"];
    assert_eq!(app["spec"]["automountServiceAccountToken"], true);
    assert_eq!(app["spec"]["serviceAccountName"], "shop");
    assert_eq!(
        app["metadata"]["annotations"]["sidecar.istio.io/inject"],
        "false"
    );
    // The restore Job takes the backup pod's settings.
    let restore = documents(&pgstate(&[
        "restore",
        "--latest",
        "-c",
        dir.path().join("pgstate.yaml").to_str().expect("utf-8"),
    ]));
    let job = find(&restore, "Job");
    assert_eq!(
        job["spec"]["template"]["spec"]["imagePullSecrets"][0]["name"],
        "regcred"
    );
}

#[test]
fn pod_settings_map_onto_the_operators_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cnpg = "name: shop\ntarget: cloudnativepg\npostgres:\n  image: ghcr.io/cloudnative-pg/postgresql:17.6\n  user: shop\n  replicas: 3\n  pod:\n    labels: {cost-center: cc-1}\n    annotations: {example.com/team: a}\n    imagePullSecrets: [regcred]\n    priorityClassName: database-critical\n    serviceAccountName: shop-db\n    terminationGracePeriodSeconds: 600\n    shmSize: 512Mi\n";
    let docs = render_config(dir.path(), cnpg);
    let spec = &find(&docs, "Cluster")["spec"];
    assert_eq!(spec["inheritedMetadata"]["labels"]["cost-center"], "cc-1");
    assert_eq!(
        spec["inheritedMetadata"]["annotations"]["example.com/team"],
        "a"
    );
    assert_eq!(spec["imagePullSecrets"][0]["name"], "regcred");
    assert_eq!(spec["priorityClassName"], "database-critical");
    assert_eq!(spec["serviceAccountName"], "shop-db");
    assert_eq!(spec["stopDelay"], 600);
    assert_eq!(spec["ephemeralVolumesSizeLimit"]["shm"], "512Mi");
    assert!(
        spec.get("enablePDB").is_none(),
        "three instances: the operator's budget is kept"
    );
    let single = render_config(dir.path(), &cnpg.replace("replicas: 3", "replicas: 1"));
    assert_eq!(
        find(&single, "Cluster")["spec"]["enablePDB"],
        false,
        "one instance: no budget that blocks drains"
    );
    let percona = "name: shop\ntarget: percona\npostgres:\n  image: postgres:17.6\n  user: shop\n  replicas: 2\n  pod:\n    labels: {cost-center: cc-1}\n    imagePullSecrets: [regcred]\n    priorityClassName: database-critical\n";
    let docs = render_config(dir.path(), percona);
    let spec = &find(&docs, "PerconaPGCluster")["spec"];
    assert_eq!(spec["imagePullSecrets"][0]["name"], "regcred");
    assert_eq!(
        spec["instances"][0]["metadata"]["labels"]["cost-center"],
        "cc-1"
    );
    assert_eq!(
        spec["instances"][0]["priorityClassName"],
        "database-critical"
    );
}

// ---------------------------------------------------------------------------------------------
// The runbook's dump, run verbatim, restores with pgstate's restore Job

/// The runbook's dump Pod (docs/from-bitnami.md, step 4) with its placeholders filled in.
fn runbook_dump_pod() -> Value {
    let doc = std::fs::read_to_string("docs/from-bitnami.md").expect("the runbook");
    let start = doc
        .find("   ```yaml\n   apiVersion: v1\n   kind: Pod\n")
        .expect("the runbook shows the dump Pod");
    let body = &doc[start + "   ```yaml\n".len()..];
    let end = body.find("   ```").expect("the block ends");
    let yaml: String = body[..end]
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("   ").unwrap_or(l)))
        .collect();
    let filled = yaml
        .replace("NAME", "shop-pg")
        .replace("FULL", "shop-postgresql")
        .replace(": DB}", &format!(": {}}}", crate::support::DATABASE))
        .replace("namespace: NS", "namespace: shop");
    serde_saphyr::from_str(&filled).expect("the dump Pod is YAML")
}

#[test]
fn the_runbooks_dump_restores_with_pgstate_restore() {
    use crate::support::{
        DATABASE, PASSWORD, PodUser, Server, USER, Volumes, assert_same, bounded, current_uid,
        restore_container, volume_dir,
    };
    use std::os::unix::fs::PermissionsExt as _;
    let mut pg = Server::start();
    pg.load_data();
    let expected = pg.checksums(DATABASE);
    let work = tempfile::Builder::new()
        .prefix("pgstate-bitnami-")
        .tempdir()
        .expect("tempdir");
    let root = current_uid() == 0;
    if root {
        std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }

    // The dump, as the runbook's Pod runs it: its command, its env, its user.
    let pod = runbook_dump_pod();
    let container = &pod["spec"]["containers"][0];
    let user = PodUser::of(&pod, container);
    assert_eq!(user.uid, 10001, "the dump runs as pgstate's jobs do");
    let backups = volume_dir(work.path(), "backups", root.then_some(&user), &[]);
    let mount = container["volumeMounts"][0]["mountPath"]
        .as_str()
        .expect("mountPath");
    let command: Vec<String> = container["command"]
        .as_array()
        .expect("command")
        .iter()
        .map(|c| {
            c.as_str()
                .expect("string")
                .replace(mount, &backups.display().to_string())
        })
        .collect();
    let mut cmd = user.command(&command);
    cmd.env_clear()
        .env("PATH", pg.path_var())
        .current_dir(work.path());
    for e in container["env"].as_array().expect("env") {
        let name = e["name"].as_str().expect("name");
        match e["value"].as_str() {
            Some(value) => cmd.env(name, value),
            // The release's Secret key: the server's password.
            None => cmd.env(name, PASSWORD),
        };
    }
    // The release's host, port and superuser are the throwaway server's.
    cmd.env("PGHOST", "127.0.0.1")
        .env("PGPORT", pg.port.to_string())
        .env("PGUSER", USER);
    let out = bounded(&mut cmd, None);
    out.assert_success("the runbook's dump");
    let dump = out
        .stdout
        .trim()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        dump.starts_with("shop-pg-") && dump.ends_with("-00.sql.gz"),
        "the dump is named as pgstate's own: {dump}"
    );
    let left: Vec<_> = std::fs::read_dir(&backups)
        .expect("backups")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left.len(), 1, "one verified file, no partial: {left:?}");

    // pgstate's restore Job, `--latest`, picks it and restores it exactly.
    let config = work.path().join("pgstate.yaml");
    std::fs::write(
        &config,
        format!(
            "name: shop-pg\npostgres:\n  image: postgres:17.6\n  port: {}\n  database: {DATABASE}\n  user: {USER}\n  password: {{secret: shop-pg-credentials}}\nbackup: {{}}\n",
            pg.port
        ),
    )
    .expect("config");
    let restore = restore_container(config.to_str().expect("utf-8"), &["--latest"]);
    let credentials = volume_dir(
        work.path(),
        "credentials",
        root.then_some(&restore.user),
        &[(restore.password_path(), PASSWORD.as_bytes())],
    );
    let tmp = volume_dir(work.path(), "tmp", root.then_some(&restore.user), &[]);
    let volumes = Volumes {
        backups,
        credentials,
        tmp,
    };
    pg.psql("postgres", "CREATE DATABASE from_bitnami");
    restore
        .run(&volumes, &pg, &[("PGDATABASE", "from_bitnami")])
        .assert_success("pgstate restore --latest of the runbook's dump");
    assert_same(
        &pg.checksums("from_bitnami"),
        &expected,
        "the runbook's dump restored by pgstate",
    );
}

#[test]
fn any_yaml_as_values_is_refused_or_converted_never_a_panic() {
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in [
        "fixtures",
        "fixtures/invalid",
        "fixtures/bitnami",
        "fixtures/bitnami/invalid",
    ] {
        for entry in std::fs::read_dir(dir).expect("dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|x| x == "yaml") {
                files.push(path);
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "").expect("write");
    files.push(empty);
    for file in files {
        let path = file.to_str().expect("utf-8");
        let (code, out, err) = from_bitnami(path, "-", &[]);
        assert!(code == 0 || code == 2, "{path}: exit {code}\n{err}");
        if code == 2 {
            assert!(
                out.is_empty() && err.starts_with("error: "),
                "{path}: {err}"
            );
        }
    }
}

#[test]
fn the_flags_of_from_bitnami_go_together() {
    let (code, _, err) = pgstate_status(&[
        "init",
        "--preset",
        "ha",
        "--from-bitnami",
        "fixtures/bitnami/small.yaml",
    ]);
    assert_eq!(
        code, 2,
        "a preset and a values file exclude each other: {err}"
    );
    let (code, _, err) = pgstate_status(&["init", "--release", "shop"]);
    assert_eq!(code, 2, "--release needs --from-bitnami: {err}");
    let (code, out, err) = pgstate_status(&[
        "init",
        "--from-bitnami",
        "fixtures/bitnami/small.yaml",
        "--release",
        "shop",
        "--name",
        "shop-db",
        "--namespace",
        "shop",
        "-o",
        "-",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\nname: shop-db  #") && out.contains("\nnamespace: shop\n"),
        "{out}"
    );
    assert!(!err.contains("PGS005"), "a namespace is given: {err}");
    let (code, _, err) = pgstate_status(&[
        "init",
        "--from-bitnami",
        "fixtures/bitnami/small.yaml",
        "--name",
        "Shop_DB",
        "-o",
        "-",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("error: --name Shop_DB: a Kubernetes name"),
        "{err}"
    );
}

#[test]
fn pg_hba_rules_and_a_tls_secret_carry_over_where_pgstate_has_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let values = values_file(
        dir.path(),
        "auth:\n  username: shop\n  database: shop\n  existingSecret: shop-db\ntls:\n  enabled: true\n  certificatesSecret: shop-tls\n  certFilename: tls.crt\n  certKeyFilename: tls.key\n  certCAFilename: ca.crt\nprimary:\n  pgHbaConfiguration: |\n    # TYPE DATABASE USER ADDRESS METHOD\n    local all all trust\n    hostssl shop shop 10.0.0.0 255.0.0.0 scram-sha-256\n    host all all 0.0.0.0/0 md5\n    host all all 0.0.0.0/0 ldap ldapserver=ldap.example.com\n    host shop +admins 10.0.0.0/8 scram-sha-256\n",
    );
    let config = dir.path().join("pgstate.yaml");
    let (code, _, err) = from_bitnami(
        values.to_str().expect("utf-8"),
        config.to_str().expect("utf-8"),
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(
        text.contains("  tls:\n    secret: shop-tls\n    required: false"),
        "{text}"
    );
    assert!(
        text.contains("      address: \"10.0.0.0/8\"\n      method: scram-sha-256"),
        "a netmask becomes CIDR\n{text}"
    );
    assert!(text.contains("    - type: hostssl"), "{text}");
    assert!(
        err.contains("primary.pgHbaConfiguration -> postgres.hba (2 of 5 rules)"),
        "{err}"
    );
    for (line, why) in [
        (14, "the socket's rules are pgstate's"),
        (17, "no `ldap` authentication"),
        (18, "`+admins` is not one name"),
    ] {
        assert!(
            err.contains(&format!("values.yaml:{line}:5: primary.pgHbaConfiguration"))
                && err.contains(why),
            "line {line}: {why}\n{err}"
        );
    }
    let (code, _, findings) = pgstate_status(&["check", "-c", config.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{findings}");
    let docs = documents(&pgstate(&["render", "-c", config.to_str().expect("utf-8")]));
    let hba = docs
        .iter()
        .find(|d| {
            d["kind"] == "ConfigMap"
                && d["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with("-hba"))
        })
        .map_or_else(String::new, |d| {
            d["data"]["pg_hba.conf"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        });
    assert!(
        hba.contains("hostssl \"shop\" \"shop\" 10.0.0.0/8 scram-sha-256\n"),
        "the rule reaches pg_hba.conf: {hba}"
    );
}

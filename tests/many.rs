//! Many databases in one run (`-c` repeated or a folder): isolation of the course's two
//! databases, the grouped `--out-dir` layout and its drift check, `--name`, and what every
//! command does with several configs.
//!
//! Over 500 lines: a split would rename its snapshots, whose file names hold the module name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{by_identity, documents, find_named, kustomize, pgstate_status};

const COURSE: &str = "fixtures/course/";

/// Whether a `matchLabels` map selects a pod with these labels.
fn selects(match_labels: &Value, labels: &Value) -> bool {
    let wanted = match_labels.as_object().expect("matchLabels is a map");
    assert!(!wanted.is_empty(), "an empty selector selects every pod");
    wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Every pod template of the render: ("Kind/name", namespace, pod labels).
fn pods(docs: &[Value]) -> Vec<(String, String, Value)> {
    docs.iter()
        .filter_map(|d| {
            let spec = &d["spec"];
            let template = match d["kind"].as_str()? {
                "StatefulSet" | "Deployment" => &spec["template"],
                "CronJob" => &spec["jobTemplate"]["spec"]["template"],
                _ => return None,
            };
            Some((
                format!(
                    "{}/{}",
                    d["kind"].as_str()?,
                    d["metadata"]["name"].as_str()?
                ),
                d["metadata"]["namespace"].as_str()?.to_owned(),
                template["metadata"]["labels"].clone(),
            ))
        })
        .collect()
}

/// The owners of the pods a selector in `namespace` picks.
fn picked(
    pods: &[(String, String, Value)],
    namespace: &Value,
    match_labels: &Value,
) -> BTreeSet<String> {
    pods.iter()
        .filter(|(_, ns, labels)| namespace == ns.as_str() && selects(match_labels, labels))
        .map(|(owner, _, _)| owner.clone())
        .collect()
}

/// Runs pgstate, which must refuse with exit 2, print nothing, and say `says` on stderr.
fn refused(args: &[&str], says: &str) {
    let (code, out, err) = pgstate_status(args);
    assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_course_renders_two_isolated_databases() {
    let (code, out, err) = pgstate_status(&["render", "-c", COURSE]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    let pods = pods(&docs);
    let databases = [
        ("users-db", "users-backend", "todos-db", "todos-backend"),
        ("todos-db", "todos-backend", "users-db", "users-backend"),
    ];
    for (db, app, other_db, other_app) in databases {
        let policy = find_named(&docs, "NetworkPolicy", db);
        let ns = &policy["metadata"]["namespace"];
        assert_eq!(ns, "course", "both databases share a namespace");
        assert_eq!(
            picked(&pods, ns, &policy["spec"]["podSelector"]["matchLabels"]),
            set(&[&format!("StatefulSet/{db}")]),
            "NetworkPolicy {db} guards its own database only"
        );
        let rules = policy["spec"]["ingress"].as_array().expect("ingress");
        assert_eq!(
            rules.len(),
            2,
            "{db}: the database port, then the metrics port"
        );
        assert_eq!(rules[0]["ports"][0]["port"], 5432);
        // The metrics rule opens only the exporter's port, to pods labelled as its scrapers
        // (in any namespace); none of the course's own pods carries that label.
        assert_eq!(
            rules[1]["ports"],
            serde_json::json!([{"protocol": "TCP", "port": 9187}])
        );
        let scraper = &rules[1]["from"][0];
        assert_eq!(scraper["namespaceSelector"], serde_json::json!({}));
        let scraper_labels = &scraper["podSelector"]["matchLabels"];
        assert_eq!(
            scraper_labels,
            &serde_json::json!({format!("{db}-metrics-client"): "true"})
        );
        assert!(
            pods.iter()
                .all(|(_, _, labels)| !selects(scraper_labels, labels)),
            "{db}: no rendered pod is a metrics scraper"
        );
        let peers = rules[0]["from"].as_array().expect("from");
        let mut admitted = BTreeSet::new();
        for peer in peers {
            let keys: Vec<&String> = peer.as_object().expect("peer").keys().collect();
            assert_eq!(keys, ["podSelector"], "{db}: peers in its namespace only");
            admitted.extend(picked(&pods, ns, &peer["podSelector"]["matchLabels"]));
        }
        assert_eq!(
            admitted,
            set(&[
                &format!("Deployment/{app}"),
                &format!("CronJob/{db}-backup")
            ]),
            "{db} admits its own backend and backup job, nothing else"
        );
        let other = pods
            .iter()
            .find(|(owner, _, _)| *owner == format!("Deployment/{other_app}"))
            .expect("the other app");
        assert!(
            peers
                .iter()
                .all(|p| !selects(&p["podSelector"]["matchLabels"], &other.2)),
            "{other_app}'s labels match no peer of {db}'s policy"
        );
        // Each app's own policy guards its own pods, and the app connects to its own database.
        let app_policy = find_named(&docs, "NetworkPolicy", app);
        assert_eq!(
            picked(&pods, ns, &app_policy["spec"]["podSelector"]["matchLabels"]),
            set(&[&format!("Deployment/{app}")])
        );
        let env = &find_named(&docs, "Deployment", app)["spec"]["template"]["spec"]["containers"]
            [0]["env"];
        let host = env
            .as_array()
            .expect("env")
            .iter()
            .find(|e| e["name"] == "DB_HOST")
            .expect("DB_HOST");
        assert_eq!(host["value"], db);
        assert_ne!(host["value"], other_db);
    }
}

#[test]
fn the_course_in_production_keeps_each_backend_on_its_own_database() {
    let (code, out, err) = pgstate_status(&["render", "-c", COURSE, "--env", "prod"]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    for (db, app, host) in [
        (
            "users-db",
            "users-backend",
            "users.c7x2kq9w1a.eu-central-1.rds.amazonaws.com",
        ),
        (
            "todos-db",
            "todos-backend",
            "todos.c7x2kq9w1a.eu-central-1.rds.amazonaws.com",
        ),
    ] {
        let service = find_named(&docs, "Service", db);
        assert_eq!(service["spec"]["type"], "ExternalName");
        assert_eq!(service["spec"]["externalName"], host);
        let env = &find_named(&docs, "Deployment", app)["spec"]["template"]["spec"]["containers"]
            [0]["env"];
        assert!(
            env.as_array()
                .expect("env")
                .iter()
                .any(|e| e["name"] == "DB_HOST" && e["value"] == db),
            "{app} connects to {db}"
        );
        find_named(&docs, "NetworkPolicy", app);
    }
    insta::assert_snapshot!(out);
}

fn relative_files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("dir").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("inside");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Every file below `dir` with its bytes.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    relative_files(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).expect("read");
            (f, bytes)
        })
        .collect()
}

fn render_to(out: &Path, configs: &[&str]) -> (u8, String) {
    let mut args = vec!["render"];
    for c in configs {
        args.extend(["-c", c]);
    }
    let out = out.to_str().expect("path");
    args.extend(["--out-dir", out]);
    let (code, _, err) = pgstate_status(&args);
    (code, err)
}

#[test]
fn out_dir_gives_each_database_a_folder_that_kustomize_reads() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("k8s-files");
    let (code, err) = render_to(&out, &[COURSE]);
    assert_eq!(code, 0, "{err}");
    let files = relative_files(&out);
    insta::assert_debug_snapshot!(files);
    let top = std::fs::read_to_string(out.join("kustomization.yaml")).expect("top");
    assert!(top.starts_with("# Generated by pgstate"), "{top}");
    let (_, stdout, _) = pgstate_status(&["render", "-c", COURSE]);
    assert_eq!(
        by_identity(documents(&kustomize(&out))),
        by_identity(documents(&stdout)),
        "kubectl kustomize sees every object of both databases"
    );
    // Each database's folder is a kustomization of its own.
    let users = documents(&kustomize(&out.join("course/users-db")));
    assert!(users.iter().all(|d| {
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        name.starts_with("users-")
    }));
    // In sync: --check is clean. A changed file is drift, and so is a database folder's file
    // that the render no longer has.
    let check = |only: &[&str]| {
        let mut args = vec!["render", "-c", COURSE, "--check", "--out-dir"];
        args.push(out.to_str().expect("path"));
        args.extend(only);
        pgstate_status(&args)
    };
    let (code, out_text, err) = check(&[]);
    assert_eq!((code, out_text.as_str()), (0, ""), "{err}");
    let sts = out.join("course/todos-db/statefulset-todos-db.yaml");
    let text = std::fs::read_to_string(&sts).expect("read");
    std::fs::write(&sts, text.replace("storage: 2Gi", "storage: 1Gi")).expect("write");
    let (code, diff, err) = check(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        diff.contains("course/todos-db/statefulset-todos-db.yaml (on disk)"),
        "{diff}"
    );
    assert!(
        err.contains("the volume size changes from 1Gi to 2Gi"),
        "{err}"
    );
    let (code, diff, _) = check(&["--only", "StatefulSet"]);
    assert_eq!(code, 1);
    assert!(
        diff.contains("course/users-db/cronjob-users-db-backup.yaml (on disk)"),
        "a file the render would remove is drift: {diff}"
    );
    assert_eq!(relative_files(&out), files, "--check writes nothing");
}

#[test]
fn out_dir_removes_only_what_pgstate_wrote_when_the_databases_change() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("k8s-files");
    assert_eq!(render_to(&out, &[COURSE]).0, 0);
    // Something of the user's beside a database's files stays where it is.
    let notes = out.join("course/users-db/NOTES.md");
    std::fs::write(&notes, "mine").expect("write");
    // One database: the flat layout of a single config; the other folder goes entirely.
    let (code, err) = render_to(&out, &["fixtures/course/todos.yaml"]);
    assert_eq!(code, 0, "{err}");
    let files = relative_files(&out);
    assert!(
        files.contains(&"statefulset-todos-db.yaml".to_owned()),
        "{files:?}"
    );
    assert!(!out.join("course/todos-db").exists(), "{files:?}");
    assert_eq!(
        files
            .iter()
            .filter(|f| f.starts_with("course/"))
            .collect::<Vec<_>>(),
        ["course/users-db/NOTES.md"],
        "only the user's file is left in the old folders"
    );
    // Back to both: the flat files go, the folders come back.
    assert_eq!(render_to(&out, &[COURSE]).0, 0);
    let files = relative_files(&out);
    assert!(
        files
            .iter()
            .all(|f| f.contains('/') || f == "kustomization.yaml"),
        "{files:?}"
    );
    assert_eq!(std::fs::read_to_string(&notes).expect("kept"), "mine");
    // A kustomization.yaml in a database's folder that pgstate did not write is never replaced.
    let theirs = out.join("course/todos-db/kustomization.yaml");
    std::fs::write(&theirs, "resources: [mine.yaml]\n").expect("write");
    let before = relative_files(&out);
    let (code, err) = render_to(&out, &[COURSE]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("course/todos-db/kustomization.yaml was not written by pgstate"),
        "{err}"
    );
    assert_eq!(relative_files(&out), before);
}

#[test]
fn out_dir_failing_in_a_database_folder_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("k8s-files");
    // A flat render first, then the grouped one fails: a file stands where a folder must go.
    assert_eq!(render_to(&out, &["fixtures/course/users.yaml"]).0, 0);
    std::fs::write(out.join("course"), "in the way").expect("write");
    let before = contents(&out);
    let (code, err) = render_to(&out, &[COURSE]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("a file is in the way"), "{err}");
    assert_eq!(contents(&out), before, "nothing written, nothing removed");
    // A folder where one database's file goes: the other database's new folder is not left.
    std::fs::remove_file(out.join("course")).expect("rm");
    let blocker = out.join("course/users-db/statefulset-users-db.yaml");
    std::fs::create_dir_all(&blocker).expect("mkdir");
    let (code, err) = render_to(&out, &[COURSE]);
    assert_eq!(code, 3, "{err}");
    assert!(!out.join("course/todos-db").exists());
    assert!(
        relative_files(&out)
            .iter()
            .all(|f| !f.contains(".pgstate-")),
        "no temporaries"
    );
}

/// A folder of configs written from (file name, text) pairs.
fn configs(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("databases");
    std::fs::create_dir(&dir).expect("mkdir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
    }
    (tmp, dir)
}

#[test]
fn the_same_file_twice_is_refused() {
    let twice = "fixtures/calculator.yaml";
    refused(
        &["render", "-c", twice, "-c", twice],
        "error: fixtures/calculator.yaml is given twice; each config is one database, so give it once",
    );
    // A folder and a link to one of its files' target.
    refused(
        &["render", "-c", COURSE, "-c", "fixtures/course-hybrid.yaml"],
        "fixtures/course/todos.yaml and fixtures/course-hybrid.yaml are the same file",
    );
    // Two names of one file (a hard link): one file, whatever its path says.
    let (_tmp, dir) = configs(&[("a.yaml", "name: a\n")]);
    std::fs::hard_link(dir.join("a.yaml"), dir.join("b.yaml")).expect("hard link");
    let (code, _, err) = pgstate_status(&["render", "-c", dir.to_str().expect("path")]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("a.yaml and ") && err.contains("b.yaml are the same file"),
        "{err}"
    );
}

#[test]
fn databases_sharing_a_namespace_and_labels_do_not_clash() {
    let config = |name: &str| {
        format!(
            "name: {name}\nnamespace: shop\nlabels: {{team: web}}\nbackup: {{schedule: \"@daily\"}}\napp: {{image: \"ghcr.io/acme/{name}:1.0\"}}\n"
        )
    };
    let (_tmp, dir) = configs(&[("a.yaml", &config("orders")), ("b.yaml", &config("stock"))]);
    let (code, out, err) = pgstate_status(&["render", "-c", dir.to_str().expect("path")]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    assert!(
        docs.iter()
            .all(|d| d["metadata"]["labels"]["team"] == "web"),
        "every object of both databases carries the shared label"
    );
    let sets = docs.iter().filter(|d| d["kind"] == "StatefulSet").count();
    assert_eq!(sets, 2);
}

#[test]
fn the_same_name_in_two_namespaces_is_two_databases_and_name_picks_one() {
    let (_tmp, dir) = configs(&[
        ("a.yaml", "name: shop\nnamespace: team-a\n"),
        ("b.yaml", "name: shop\nnamespace: team-b\n"),
        ("c.yaml", "name: stock\nnamespace: team-b\n"),
    ]);
    let dir = dir.to_str().expect("path");
    let (code, out, err) = pgstate_status(&["render", "-c", dir]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        documents(&out)
            .iter()
            .filter(|d| d["kind"] == "StatefulSet")
            .count(),
        3
    );
    let (code, out, err) = pgstate_status(&["render", "-c", dir, "--name", "team-b/shop"]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    assert!(docs.iter().all(|d| {
        d["metadata"]["namespace"] == "team-b"
            && d["metadata"]["name"]
                .as_str()
                .expect("name")
                .starts_with("shop")
    }));
    let (code, out, err) = pgstate_status(&[
        "render",
        "-c",
        dir,
        "--name",
        "stock",
        "--name",
        "team-a/shop",
    ]);
    assert_eq!(code, 0, "{err}");
    let sets: Vec<String> = documents(&out)
        .iter()
        .filter(|d| d["kind"] == "StatefulSet")
        .map(|d| {
            format!(
                "{}/{}",
                d["metadata"]["namespace"].as_str().expect("ns"),
                d["metadata"]["name"].as_str().expect("name")
            )
        })
        .collect();
    assert_eq!(
        sets,
        ["team-a/shop", "team-b/stock"],
        "in the order of the files"
    );
    refused(
        &["render", "-c", dir, "--name", "shop"],
        "in each of the namespaces team-a, team-b; pass NAMESPACE/NAME, e.g. --name team-a/shop",
    );
    refused(
        &["render", "-c", dir, "--name", "stok"],
        "--name stok: no database of this run has that name; did you mean `stock`?",
    );
}

#[test]
fn commands_about_one_database_ask_which() {
    refused(
        &["restore", "-c", COURSE, "--latest"],
        "error: restore works on one database, and 2 databases were given (todos-db, users-db); pick one with --name NAME\n",
    );
    let (code, out, err) =
        pgstate_status(&["restore", "-c", COURSE, "--latest", "--name", "users-db"]);
    assert_eq!(code, 0, "{err}");
    find_named(&documents(&out), "Job", "users-db-restore");
    refused(
        &["connection", "-c", COURSE, "--format", "url"],
        "--format url prints one URL, and 2 databases were given",
    );
    let (code, out, err) = pgstate_status(&[
        "connection",
        "-c",
        COURSE,
        "--format",
        "url",
        "--name",
        "todos-db",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "postgresql://todos_app@todos-db.course.svc:5432/todos\n"
    );
    refused(
        &["secret", "-c", COURSE, "--from-env", "PATH"],
        "--from-env gives one password, and 2 databases were given",
    );
}

#[test]
fn connection_and_graph_show_every_database() {
    for format in ["env", "yaml"] {
        let (code, out, err) = pgstate_status(&["connection", "-c", COURSE, "--format", format]);
        assert_eq!(code, 0, "{err}");
        insta::assert_snapshot!(format!("connection_{format}"), out);
    }
    let (_, yaml, _) = pgstate_status(&["connection", "-c", COURSE, "--format", "yaml"]);
    let blocks = documents(&yaml);
    let hosts: Vec<&Value> = blocks.iter().map(|b| &b["host"]).collect();
    assert_eq!(hosts, ["todos-db.course.svc", "users-db.course.svc"]);
    for format in ["mermaid", "dot"] {
        let (code, out, err) = pgstate_status(&["graph", "-c", COURSE, "--format", format]);
        assert_eq!(code, 0, "{err}");
        insta::assert_snapshot!(format!("graph_{format}"), out);
    }
    // One database is drawn as before: no boxes, no prefixes.
    let (_, one, _) = pgstate_status(&["graph", "-c", "fixtures/course/users.yaml"]);
    assert!(
        !one.contains("subgraph") && one.contains("  sts[\"StatefulSet users-db\"]"),
        "{one}"
    );
}

#[test]
fn secret_generate_writes_a_secret_per_database_and_one_for_a_shared_one() {
    let (code, out, err) = pgstate_status(&["secret", "-c", COURSE, "--generate"]);
    assert_eq!(code, 0, "{err}");
    let secrets = documents(&out);
    let names: Vec<&Value> = secrets.iter().map(|s| &s["metadata"]["name"]).collect();
    assert_eq!(names, ["todos-db-credentials", "users-db-credentials"]);
    assert_ne!(
        secrets[0]["data"]["password"], secrets[1]["data"]["password"],
        "a password each"
    );
    // Two databases reading one Secret: one manifest; a key each, or one shared key.
    let shared = "postgres: {password: {secret: shared, key: KEY}}\n";
    let (_tmp, dir) = configs(&[
        (
            "a.yaml",
            &format!("name: a\nnamespace: ns\n{}", shared.replace("KEY", "a")),
        ),
        (
            "b.yaml",
            &format!("name: b\nnamespace: ns\n{}", shared.replace("KEY", "b")),
        ),
        (
            "c.yaml",
            &format!("name: c\nnamespace: ns\n{}", shared.replace("KEY", "b")),
        ),
    ]);
    let (code, out, err) =
        pgstate_status(&["secret", "-c", dir.to_str().expect("path"), "--generate"]);
    assert_eq!(code, 0, "{err}");
    let secrets = documents(&out);
    assert_eq!(secrets.len(), 1, "{out}");
    let keys: Vec<&String> = secrets[0]["data"]
        .as_object()
        .expect("data")
        .keys()
        .collect();
    assert_eq!(keys, ["a", "b"]);
}

#[test]
fn check_reports_findings_with_their_files_and_clashes_as_config_errors() {
    let (code, human, err) = pgstate_status(&["check", "-c", COURSE]);
    assert_eq!(code, 0, "{err}");
    for file in ["todos", "users"] {
        assert!(
            human.contains(&format!("--> fixtures/course/{file}.yaml:")),
            "{human}"
        );
    }
    assert!(
        human.contains(" allowed in 2 configs ("),
        "{}",
        human.lines().last().unwrap_or_default()
    );
    let (code, out, err) = pgstate_status(&["check", "-c", COURSE, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).expect("json");
    let files: BTreeSet<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["file"].as_str().expect("file"))
        .collect();
    assert_eq!(
        files,
        ["fixtures/course/todos.yaml", "fixtures/course/users.yaml"]
            .into_iter()
            .collect()
    );
    let (code, out, _) = pgstate_status(&[
        "check",
        "-c",
        "fixtures/invalid/clash-app-name",
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let report: Value = serde_json::from_str(&out).expect("json");
    let error = &report["configErrors"][0];
    assert_eq!(error["file"], "fixtures/invalid/clash-app-name/b.yaml");
    assert_eq!(error["path"], "app.name");
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("fixtures/invalid/clash-app-name/a.yaml:5:9"),
        "{error}"
    );
}

//! The operator and external targets: every custom resource pgstate renders passes the
//! operators' CRD schemas strictly (unknown fields rejected), and the app is wired to each
//! target's Service and Secret.

use serde_json::Value;

use crate::support::{
    custom_resource_problems, documents, pgstate_status, validate_custom_resource,
};

/// Configs that reach the branches the fixtures do not: our own basic-auth Secret, percona
/// with an S3 repository and no pooler, no backup, a single instance.
const VARIANTS: &[(&str, &str)] = &[
    (
        "cnpg-owned-password.yaml",
        "name: shop\ntarget: cloudnativepg\npostgres:\n  image: ghcr.io/cloudnative-pg/postgresql:16.4\n  database: shop\n  user: shop\n  password: {value: s3cret}\n  nodeSelector: {disk: ssd}\n  tolerations: [{key: db, operator: Exists, effect: NoSchedule}]\nbackup:\n  schedule: \"30 2 * * 7\"\n  timeZone: Europe/Berlin\n  keep: 4\n  s3: {bucket: b-backups, secret: s3}\napp: {image: ghcr.io/acme/shop:1.0.0}\n",
    ),
    (
        "percona-s3.yaml",
        "name: shop\ntarget: percona\npostgres:\n  image: postgres:16.4\n  database: shop\n  user: shop\nbackup:\n  keep: 2\n  s3: {bucket: b-backups, region: eu-west-1, secret: shop-pgbackrest}\napp: {image: ghcr.io/acme/shop:1.0.0}\n",
    ),
    (
        "cnpg-tls-hba.yaml",
        "name: shop\ntarget: cloudnativepg\npostgres:\n  image: ghcr.io/cloudnative-pg/postgresql:16.4\n  database: shop\n  user: shop\n  tls: {issuer: {name: team-ca, kind: ClusterIssuer}}\n  hba:\n    - {type: hostssl, database: shop, user: reporting, address: 10.20.0.0/16, method: scram-sha-256}\napp: {image: ghcr.io/acme/shop:1.0.0}\n",
    ),
    (
        "cnpg-pod-settings.yaml",
        "name: shop\ntarget: cloudnativepg\npostgres:\n  image: ghcr.io/cloudnative-pg/postgresql:17.6\n  user: shop\n  replicas: 2\n  pod:\n    labels: {cost-center: cc-1}\n    annotations: {example.com/team: a}\n    imagePullSecrets: [regcred]\n    priorityClassName: database-critical\n    serviceAccountName: shop-db\n    terminationGracePeriodSeconds: 600\n    shmSize: 512Mi\n",
    ),
    (
        "percona-pod-settings.yaml",
        "name: shop\ntarget: percona\npostgres:\n  image: postgres:17.6\n  user: shop\n  replicas: 2\n  pod:\n    labels: {cost-center: cc-1}\n    annotations: {example.com/team: a}\n    imagePullSecrets: [regcred]\n    priorityClassName: database-critical\n",
    ),
    (
        "percona-minimal.yaml",
        "name: shop\ntarget: percona\npostgres:\n  image: postgres:15-alpine\n  user: app\n",
    ),
];

#[test]
fn every_custom_resource_passes_its_crd_strictly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut renders: Vec<(String, Vec<String>)> = Vec::new();
    for entry in std::fs::read_dir("fixtures").expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|x| x == "yaml") {
            let file = path.to_string_lossy().into_owned();
            renders.push((file.clone(), vec!["render".into(), "-c".into(), file]));
        }
    }
    renders.push((
        "course-hybrid --env prod".into(),
        [
            "render",
            "-c",
            "fixtures/course-hybrid.yaml",
            "--env",
            "prod",
        ]
        .map(String::from)
        .to_vec(),
    ));
    for (name, text) in VARIANTS {
        let config = dir.path().join(name);
        std::fs::write(&config, text).expect("write config");
        let file = config.to_string_lossy().into_owned();
        renders.push((file.clone(), vec!["render".into(), "-c".into(), file]));
    }
    let mut kinds = std::collections::BTreeSet::new();
    let mut checked = 0;
    let mut problems = Vec::new();
    for (name, args) in &renders {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = pgstate_status(&args);
        assert_eq!(code, 0, "{name}: {err}");
        for doc in documents(&out) {
            kinds.insert(doc["kind"].as_str().unwrap_or_default().to_owned());
            if let Some(found) = custom_resource_problems(&doc) {
                checked += 1;
                problems.extend(found.into_iter().map(|p| format!("{name}: {p}")));
            }
        }
    }
    for kind in [
        "Cluster",
        "ScheduledBackup",
        "Pooler",
        "PerconaPGCluster",
        "ObjectStore",
    ] {
        assert!(kinds.contains(kind), "no config renders a {kind}");
    }
    assert!(
        checked >= 8,
        "only {checked} custom resources had a pinned CRD"
    );
    assert!(
        problems.is_empty(),
        "custom resources fail their CRDs:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_crd_check_rejects_unknown_fields_and_wrong_types() {
    let out = pgstate_status(&["render", "-c", "fixtures/direktiv-ha.yaml"]).1;
    let docs = documents(&out);
    let cluster = docs
        .iter()
        .find(|d| d["kind"] == "PerconaPGCluster")
        .expect("a PerconaPGCluster");
    validate_custom_resource(cluster);
    let mut typo = cluster.clone();
    typo["spec"]["instances"][0]["replicaz"] = 2.into();
    let mut wrong = cluster.clone();
    wrong["spec"]["instances"][0]["replicas"] = "two".into();
    for (what, doc) in [("an unknown field", typo), ("a wrong type", wrong)] {
        let problems = custom_resource_problems(&doc).expect("a pinned CRD");
        assert!(
            problems.iter().any(|p| p.contains("/spec/instances/0")),
            "{what} passes: {problems:?}"
        );
    }
    // Under x-kubernetes-preserve-unknown-fields anything goes, as in the API server.
    let mut free = cluster.clone();
    free["spec"]["patroni"]["dynamicConfiguration"]["anything"] = "goes".into();
    assert_eq!(custom_resource_problems(&free), Some(vec![]));
}

fn env_of(docs: &[Value], app: &str) -> Vec<Value> {
    docs.iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == app)
        .unwrap_or_else(|| panic!("no Deployment/{app}"))["spec"]["template"]["spec"]["containers"]
        [0]["env"]
        .as_array()
        .expect("env")
        .clone()
}

fn var<'a>(env: &'a [Value], name: &str) -> &'a Value {
    env.iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn percona_wires_the_app_to_the_operators_user_secret_and_pgbouncer() {
    let (code, out, err) = pgstate_status(&["render", "-c", "fixtures/direktiv-ha.yaml"]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    // Install order: the policy first, the custom resource last.
    assert_eq!(kinds, ["NetworkPolicy", "Deployment", "PerconaPGCluster"]);
    let spec = &docs[2]["spec"];
    assert!(spec.get("pmm").is_none(), "no pmm block unless enabled");
    assert_eq!(spec["postgresVersion"], 17);
    assert_eq!(spec["instances"][0]["replicas"], 2);
    assert_eq!(spec["proxy"]["pgBouncer"]["replicas"], 2);
    let repo = &spec["backups"]["pgbackrest"]["repos"][0];
    assert_eq!(repo["schedules"]["full"], "0 1 * * 0");
    assert_eq!(repo["schedules"]["differential"], "0 1 * * 1-6");
    assert_eq!(
        spec["backups"]["pgbackrest"]["global"]["repo1-retention-full"],
        "4"
    );
    let env = env_of(&docs, "direktiv");
    for (name, key) in [
        ("DB_HOST", "pgbouncer-host"),
        ("DB_PORT", "pgbouncer-port"),
        ("DB_NAME", "dbname"),
        ("DB_USER", "user"),
        ("DB_PASSWORD", "password"),
    ] {
        let r = &var(&env, name)["valueFrom"]["secretKeyRef"];
        assert_eq!(r["name"], "direktiv-db-pguser-direktiv", "{name}");
        assert_eq!(r["key"], key, "{name}");
    }
}

#[test]
fn cloudnativepg_wires_the_app_to_the_pooler_and_the_app_secret() {
    let (code, out, err) = pgstate_status(&["render", "-c", "fixtures/direktiv-ha-cnpg.yaml"]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    let env = env_of(&docs, "direktiv");
    assert_eq!(var(&env, "DB_HOST")["value"], "direktiv-db-pooler-rw");
    assert_eq!(
        var(&env, "DB_PASSWORD")["valueFrom"]["secretKeyRef"]["name"],
        "direktiv-db-app"
    );
    let backup = docs
        .iter()
        .find(|d| d["kind"] == "ScheduledBackup")
        .expect("ScheduledBackup");
    assert_eq!(backup["spec"]["schedule"], "0 0 1 * * *");
    let cluster = docs
        .iter()
        .find(|d| d["kind"] == "Cluster")
        .expect("Cluster");
    assert!(
        cluster["spec"].get("enablePDB").is_none(),
        "two instances keep their PDB"
    );

    let (code, out, _) = pgstate_status(&[
        "render",
        "-c",
        "fixtures/direktiv-ha-cnpg.yaml",
        "--env",
        "x",
    ]);
    assert_ne!(code, 0, "an unknown environment is refused: {out}");
}

#[test]
fn external_keeps_the_app_wiring_and_adds_the_ssl_mode() {
    let (_, dev, _) = pgstate_status(&["render", "-c", "fixtures/course-hybrid.yaml"]);
    let (code, prod, err) = pgstate_status(&[
        "render",
        "-c",
        "fixtures/course-hybrid.yaml",
        "--env",
        "prod",
    ]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&prod);
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["NetworkPolicy", "Service", "Deployment"]);
    assert_eq!(docs[1]["spec"]["type"], "ExternalName");
    assert_eq!(docs[1]["metadata"]["name"], "todos-db");
    let (dev_env, prod_env) = (
        env_of(&documents(&dev), "todos-backend"),
        env_of(&docs, "todos-backend"),
    );
    for name in ["DB_HOST", "DB_PORT", "DB_NAME"] {
        assert_eq!(var(&dev_env, name), var(&prod_env, name), "{name}");
    }
    // In the cluster the app logs in as its own role (key app-password); the managed database's
    // login is postgres.user (key password), a role the provider's admin made.
    assert_eq!(var(&dev_env, "DB_USER")["value"], "todos_app");
    assert_eq!(var(&prod_env, "DB_USER")["value"], "todos");
    assert_eq!(
        var(&dev_env, "DB_PASSWORD")["valueFrom"]["secretKeyRef"]["key"],
        "app-password"
    );
    assert_eq!(
        var(&prod_env, "DB_PASSWORD")["valueFrom"]["secretKeyRef"]["key"],
        "password"
    );
    assert_eq!(var(&prod_env, "DB_SSLMODE")["value"], "require");
    assert!(
        var(&prod_env, "DATABASE_URL")["value"]
            .as_str()
            .expect("url")
            .ends_with("?sslmode=$(DB_SSLMODE)")
    );
    insta::assert_snapshot!(prod);
}

#[test]
fn only_knows_the_operator_kinds() {
    let (code, out, err) = pgstate_status(&[
        "render",
        "-c",
        "fixtures/direktiv-ha-cnpg.yaml",
        "--only",
        "cluster,ScheduledBackup",
    ]);
    assert_eq!(code, 0, "{err}");
    let kinds: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    assert_eq!(kinds, ["Cluster", "ScheduledBackup"]);
    let (code, _, err) = pgstate_status(&["render", "--only", "PerconaPGClustr"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean PerconaPGCluster?"), "{err}");
}

/// `check` speaks of the images that run: Percona's build for percona, none for external, the
/// exporter beside the statefulset.
#[test]
fn the_digest_finding_names_the_image_that_runs() {
    let findings = |args: &[&str]| -> Vec<(String, String)> {
        let (code, out, err) = pgstate_status(args);
        assert!(code <= 1, "{err}");
        let report: Value = serde_json::from_str(&out).expect("json");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["id"] == "PGS002")
            .map(|f| {
                let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
                (text("path"), text("message"))
            })
            .collect()
    };
    let percona = findings(&[
        "check",
        "-c",
        "fixtures/direktiv-ha.yaml",
        "--format",
        "json",
    ]);
    let database = percona.iter().find(|(path, _)| path == "postgres.image");
    assert!(
        database.is_some_and(|(_, m)| m.contains("percona-distribution-postgresql:17.9-1")),
        "{percona:?}"
    );
    let external = findings(&[
        "check",
        "-c",
        "fixtures/course-hybrid.yaml",
        "--env",
        "prod",
        "--format",
        "json",
    ]);
    assert!(
        external
            .iter()
            .all(|(path, _)| !path.starts_with("postgres.")),
        "{external:?}"
    );
    // The exporter sidecar runs an image of its own; CloudNativePG's PodMonitor adds none.
    let course = findings(&[
        "check",
        "-c",
        "fixtures/course-hybrid.yaml",
        "--format",
        "json",
    ]);
    assert!(
        course
            .iter()
            .any(|(path, m)| path == "postgres.metrics.image"
                && m.contains("postgres-exporter:v0.20.1")),
        "{course:?}"
    );
    let cnpg = findings(&[
        "check",
        "-c",
        "fixtures/direktiv-ha-cnpg.yaml",
        "--format",
        "json",
    ]);
    assert!(
        cnpg.iter()
            .all(|(path, _)| path != "postgres.metrics.image"),
        "{cnpg:?}"
    );
}

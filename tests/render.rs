//! Rendering the user stories: snapshots, determinism, safe quoting, and kustomize agreement.
//!
//! Over 500 lines: a split would rename its snapshots, whose file names hold the module name.

use serde_json::Value;

use crate::support::{by_identity, documents, find_named, kustomize, pgstate_status};

#[test]
fn every_fixture_renders_as_its_snapshot() {
    insta::glob!("../fixtures", "*.yaml", |path| {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name");
        let rel = format!("fixtures/{name}");
        let (code, out, err) = pgstate_status(&["render", "-c", &rel]);
        assert_eq!(code, 0, "{rel}: {err}");
        insta::assert_snapshot!(out);
    });
}

/// Every folder of fixtures (but invalid/, and bitnami/ which holds the Bitnami chart's values
/// files for `init --from-bitnami`) is a run of several databases: `-c fixtures/DIR/`.
#[test]
fn every_fixture_folder_renders_as_its_snapshot() {
    let mut folders: Vec<String> = std::fs::read_dir("fixtures")
        .expect("fixtures")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir() && e.file_name() != "invalid" && e.file_name() != "bitnami")
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert!(!folders.is_empty(), "fixtures/course/ at least");
    for name in folders {
        let rel = format!("fixtures/{name}/");
        let (code, out, err) = pgstate_status(&["render", "-c", &rel]);
        assert_eq!(code, 0, "{rel}: {err}");
        assert!(
            documents(&out)
                .iter()
                .filter(|d| d["kind"] == "StatefulSet" || d["kind"] == "Service")
                .count()
                >= 2,
            "{rel}: several databases"
        );
        insta::assert_snapshot!(format!("folder_{name}"), out);
    }
}

#[test]
fn output_is_byte_identical_run_after_run() {
    let first = pgstate_status(&["render", "-c", "fixtures/tfvisualizer.yaml"]);
    for _ in 0..3 {
        assert_eq!(
            pgstate_status(&["render", "-c", "fixtures/tfvisualizer.yaml"]),
            first
        );
    }
}

#[test]
fn calculator_tells_the_story() {
    let (code, out, _) = pgstate_status(&["render", "-c", "fixtures/calculator.yaml"]);
    assert_eq!(code, 0);
    let docs = documents(&out);
    let sts = find_named(&docs, "StatefulSet", "postgresql");
    let pod = &sts["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(sts["spec"]["serviceName"], "postgresql-hl");
    assert_eq!(c["ports"][0]["containerPort"], 5432);
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"],
        "data-storage"
    );
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "1Gi"
    );
    let env = |name: &str| {
        c["env"]
            .as_array()
            .expect("env")
            .iter()
            .find(|e| e["name"] == name)
            .cloned()
    };
    assert_eq!(env("POSTGRES_DB").expect("db")["value"], "calculator");
    assert_eq!(
        env("PGDATA").expect("pgdata")["value"],
        "/var/lib/postgresql/data/pgdata"
    );
    assert_eq!(
        env("POSTGRES_PASSWORD_FILE").expect("file")["value"],
        "/etc/pgstate/password"
    );
    assert!(
        env("POSTGRES_PASSWORD").is_none(),
        "the password is never a literal env value"
    );
    find_named(&docs, "Service", "postgresql");
    let headless = find_named(&docs, "Service", "postgresql-hl");
    assert_eq!(headless["spec"]["clusterIP"], "None");
    let app = find_named(&docs, "Deployment", "calculator-backend");
    let app_env = &app["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(
        app_env
            .as_array()
            .expect("env")
            .iter()
            .any(|e| e["name"] == "PG_HOST" && e["value"] == "postgresql")
    );
    let password = app_env
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == "DB_PASSWORD")
        .expect("password");
    assert_eq!(
        password["valueFrom"]["secretKeyRef"]["name"],
        "postgresql-credentials"
    );
}

#[test]
fn the_database_pod_is_hardened() {
    let (_, out, _) = pgstate_status(&["render", "-c", "fixtures/healthcare.yaml"]);
    let docs = documents(&out);
    for (kind, name, pod) in [
        ("StatefulSet", "postgres", "/spec/template/spec"),
        (
            "CronJob",
            "postgres-backup",
            "/spec/jobTemplate/spec/template/spec",
        ),
    ] {
        let pod = find_named(&docs, kind, name)
            .pointer(pod)
            .expect("pod spec");
        assert_eq!(pod["automountServiceAccountToken"], false, "{kind}");
        let sc = &pod["securityContext"];
        assert_eq!(sc["runAsNonRoot"], true);
        assert!(sc["runAsUser"].as_i64().expect("uid") >= 10000);
        assert_eq!(sc["fsGroup"], sc["runAsUser"]);
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
        let c = &pod["containers"][0];
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
        assert!(c["resources"]["limits"]["memory"].is_string());
        assert!(c["resources"]["requests"]["cpu"].is_string());
        let env = c["env"].as_array().expect("env");
        assert!(
            env.iter().all(
                |e| !e["name"].as_str().unwrap_or_default().contains("PASSWORD")
                    || e["value"].as_str().is_some_and(|v| v.starts_with('/'))
            ),
            "{kind}: the password is a file"
        );
    }
    let pv = find_named(&docs, "PersistentVolume", "healthcare-data-postgres-0");
    assert_eq!(pv["spec"]["claimRef"]["name"], "data-postgres-0");
    assert_eq!(pv["spec"]["storageClassName"], "local-path");
    assert_eq!(
        pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
            [0],
        "node2"
    );
}

/// Strings that YAML would read as something else if printed bare.
const TRICKY: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "0755",
    "1e3",
    "~",
    "null",
    "a: b #c",
    "say \"hi\"",
    "it's",
    "naïve ünïcödé ✓",
    "- x",
    "[a]",
    "{b}",
    "*ref",
    "&anchor",
    "!tag",
    "@at",
    "%p",
    "`tick`",
    "line\nbreak",
    "tab\there",
    "$(NOT_EXPANDED)",
    "true",
    "1:20",
    "0x1F",
    " lead",
    "trail ",
];
/// The subset that is also a valid label value.
const TRICKY_LABELS: &[&str] = &[
    "yes", "no", "on", "off", "0755", "1e3", "null", "true", "0x1F", "Y",
];

#[test]
fn config_values_come_back_as_the_same_strings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut yaml = String::from("name: tricky\nnamespace: quoting\nlabels:\n");
    for (i, v) in TRICKY_LABELS.iter().enumerate() {
        yaml.push_str(&format!(
            "  l{i}: {}\n",
            serde_json::to_string(v).expect("json")
        ));
    }
    yaml.push_str("service:\n  annotations:\n");
    for (i, v) in TRICKY.iter().enumerate() {
        yaml.push_str(&format!(
            "    a{i}: {}\n",
            serde_json::to_string(v).expect("json")
        ));
    }
    yaml.push_str("postgres:\n  image: postgres:17.2\n  database: \"on\"\n  user: \"yes\"\n  password:\n    value: \"a: b #c $(X) ~\"\n  env:\n");
    for (i, v) in TRICKY.iter().enumerate() {
        yaml.push_str(&format!(
            "    E{i}: {}\n",
            serde_json::to_string(v).expect("json")
        ));
    }
    yaml.push_str("app:\n  image: example/app:1.0\n  password: {value: \"yes\"}\n");
    let path = dir.path().join("tricky.yaml");
    std::fs::write(&path, &yaml).expect("write");
    let (code, out, err) = pgstate_status(&["render", "-c", path.to_str().expect("utf-8 path")]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    let sts = find_named(&docs, "StatefulSet", "tricky");
    for (i, v) in TRICKY_LABELS.iter().enumerate() {
        assert_eq!(sts["metadata"]["labels"][format!("l{i}")], *v, "label l{i}");
    }
    let svc = find_named(&docs, "Service", "tricky");
    for (i, v) in TRICKY.iter().enumerate() {
        assert_eq!(
            svc["metadata"]["annotations"][format!("a{i}")],
            *v,
            "annotation a{i}"
        );
    }
    let env = sts["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env");
    let value = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(value("POSTGRES_DB"), "on");
    assert_eq!(value("POSTGRES_USER"), "yes");
    for (i, v) in TRICKY.iter().enumerate() {
        // Kubernetes turns `$$` into `$`, so a literal `$` is written doubled.
        assert_eq!(value(&format!("E{i}")).replace("$$", "$"), *v, "env E{i}");
    }
    let secret = find_named(&docs, "Secret", "tricky-credentials");
    let data = secret["data"]["password"].as_str().expect("data");
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64");
    assert_eq!(decoded, b"a: b #c $(X) ~");
}

#[test]
fn kubectl_kustomize_accepts_out_dir_and_sees_the_same_objects() {
    for fixture in ["calculator", "tfvisualizer", "healthcare"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = format!("fixtures/{fixture}.yaml");
        let out_dir = dir.path().join("k8s-files");
        let (code, _, err) = pgstate_status(&[
            "render",
            "-c",
            &config,
            "--out-dir",
            out_dir.to_str().expect("path"),
        ]);
        assert_eq!(code, 0, "{err}");
        assert!(out_dir.join("kustomization.yaml").is_file());
        assert!(
            out_dir
                .join(format!(
                    "statefulset-{}.yaml",
                    documents(
                        &pgstate_status(&["render", "-c", &config, "--only", "StatefulSet"]).1
                    )[0]["metadata"]["name"]
                        .as_str()
                        .expect("name")
                ))
                .is_file()
        );
        let (_, stdout, _) = pgstate_status(&["render", "-c", &config]);
        let via_kustomize = by_identity(documents(&kustomize(&out_dir)));
        let direct = by_identity(documents(&stdout));
        assert_eq!(
            via_kustomize, direct,
            "{fixture}: kustomize and stdout disagree"
        );
    }
}

#[test]
fn kubectl_reads_tricky_strings_the_same_way() {
    // kubectl parses with YAML 1.1 rules (yes/no/on/off, octal): make sure it agrees with us.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut yaml = String::from("name: tricky\nnamespace: quoting\nservice:\n  annotations:\n");
    for (i, v) in TRICKY.iter().enumerate() {
        yaml.push_str(&format!(
            "    a{i}: {}\n",
            serde_json::to_string(v).expect("json")
        ));
    }
    let config = dir.path().join("c.yaml");
    std::fs::write(&config, yaml).expect("write");
    let out_dir = dir.path().join("out");
    let (code, _, err) = pgstate_status(&[
        "render",
        "-c",
        config.to_str().expect("path"),
        "--out-dir",
        out_dir.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&kustomize(&out_dir));
    let svc = find_named(&docs, "Service", "tricky");
    for (i, v) in TRICKY.iter().enumerate() {
        assert_eq!(
            svc["metadata"]["annotations"][format!("a{i}")],
            *v,
            "annotation a{i}"
        );
    }
}

#[test]
fn json_output_is_a_list_of_the_same_objects() {
    let (_, yaml, _) = pgstate_status(&["render", "-c", "fixtures/healthcare.yaml"]);
    let (code, json, _) = pgstate_status(&[
        "render",
        "-c",
        "fixtures/healthcare.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().expect("items"), &documents(&yaml));
}

#[test]
fn only_filters_kinds() {
    let (code, out, _) = pgstate_status(&[
        "render",
        "-c",
        "fixtures/healthcare.yaml",
        "--only",
        "statefulset,Service",
    ]);
    assert_eq!(code, 0);
    let kinds: Vec<String> = documents(&out)
        .iter()
        .map(|d| d["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(kinds, ["Service", "Service", "StatefulSet"]);
}

#[test]
fn restore_job_names_the_dump() {
    let (code, out, err) = pgstate_status(&[
        "restore",
        "-c",
        "fixtures/healthcare.yaml",
        "--from",
        "postgres-20260101T013000Z-00.dump",
    ]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    let job = find_named(&docs, "Job", "postgres-restore");
    let env = job["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env");
    assert!(
        env.iter()
            .any(|e| e["name"] == "DUMP" && e["value"] == "postgres-20260101T013000Z-00.dump")
    );
    insta::assert_snapshot!(out);
}

/// The exporter sidecar reads the database the postgres container serves: its DATA_SOURCE_*
/// variables name that port, database and user, and the password file of the volume both
/// containers mount; postgres stays the first container.
#[test]
fn the_metrics_exporter_connects_to_its_own_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("pgstate.yaml");
    let text = |metrics: &str| {
        format!(
            "name: shop\npostgres:\n  image: postgres:17.5\n  port: 6543\n  database: \"my.db-x\"\n  user: owner\n  metrics: {metrics}\n"
        )
    };
    std::fs::write(
        &config,
        text("{enabled: true, port: 9300, serviceMonitor: true}"),
    )
    .expect("write");
    let (code, out, err) = pgstate_status(&["render", "-c", &config.to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    let sts = find_named(&docs, "StatefulSet", "shop");
    let pod = &sts["spec"]["template"];
    let containers = pod["spec"]["containers"].as_array().expect("containers");
    let names: Vec<&str> = containers
        .iter()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["postgres", "metrics"]);
    let (postgres, exporter) = (&containers[0], &containers[1]);
    let env = |c: &Value, name: &str| -> String {
        c["env"]
            .as_array()
            .expect("env")
            .iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_else(|| panic!("no {name}"))
            .to_owned()
    };
    assert_eq!(
        env(exporter, "DATA_SOURCE_URI"),
        "127.0.0.1:6543/my.db-x?sslmode=disable"
    );
    assert_eq!(env(exporter, "DATA_SOURCE_USER"), "owner");
    // The password file: the same file postgres reads, on a mount of the same Secret volume.
    let pass_file = env(exporter, "DATA_SOURCE_PASS_FILE");
    assert_eq!(pass_file, env(postgres, "POSTGRES_PASSWORD_FILE"));
    let mount_of = |c: &Value| -> Value {
        c["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .find(|m| {
                pass_file.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap_or("-")))
            })
            .cloned()
            .expect("a mount holding the password file")
    };
    let mount = mount_of(exporter);
    assert_eq!(mount, mount_of(postgres));
    let volume = pod["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume");
    let file = pass_file.rsplit('/').next().expect("file name");
    assert_eq!(volume["secret"]["secretName"], "shop-credentials");
    assert_eq!(volume["secret"]["items"][0]["path"], file);
    // Its port, the Service port and the scrape annotations agree.
    assert_eq!(
        exporter["ports"],
        serde_json::json!([{"name": "metrics", "containerPort": 9300, "protocol": "TCP"}])
    );
    assert_eq!(exporter["readinessProbe"]["httpGet"]["port"], "metrics");
    assert_eq!(pod["metadata"]["annotations"]["prometheus.io/port"], "9300");
    let service = find_named(&docs, "Service", "shop");
    let ports = service["spec"]["ports"].as_array().expect("ports");
    assert!(
        ports
            .iter()
            .any(|p| p["name"] == "metrics" && p["port"] == 9300 && p["targetPort"] == "metrics")
    );
    let monitor = find_named(&docs, "ServiceMonitor", "shop");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    let wanted = monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("selector");
    assert!(
        wanted
            .iter()
            .all(|(k, v)| service["metadata"]["labels"][k] == *v)
    );
    let policy = find_named(&docs, "NetworkPolicy", "shop");
    assert_eq!(policy["spec"]["ingress"][1]["ports"][0]["port"], 9300);

    // Off: one container, one Service port, no ServiceMonitor.
    std::fs::write(&config, text("{enabled: false, serviceMonitor: true}")).expect("write");
    let (code, out, err) = pgstate_status(&["render", "-c", &config.to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let docs = documents(&out);
    let sts = find_named(&docs, "StatefulSet", "shop");
    assert_eq!(
        sts["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        find_named(&docs, "Service", "shop")["spec"]["ports"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert!(docs.iter().all(|d| d["kind"] != "ServiceMonitor"));
    assert!(
        sts["spec"]["template"]["metadata"]
            .get("annotations")
            .is_none()
    );
}

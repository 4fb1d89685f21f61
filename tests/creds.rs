//! What `postgres.tls`, `postgres.hba` and `app.role` render: the cert-manager Certificate
//! against cert-manager's own CRD schema (a pinned copy in tests/data/crds, checked by support), pg_hba.conf in its
//! order, and what the app, the backup job and `connection` get.

use serde_json::Value;

use crate::support::{
    custom_resource_problems, documents, find_named, pgstate, render_config,
    validate_custom_resource,
};

const CONFIG: &str = "name: shop-db
namespace: shop
postgres:
  image: postgres:17.2
  database: shop
  user: postgres
  tls:
    issuer: {name: team-ca, kind: ClusterIssuer}
  hba:
    - {type: hostssl, database: shop, user: reporting, address: 10.20.0.0/16, method: scram-sha-256}
    - {type: host, user: all, address: 192.168.0.0/16, method: reject}
backup: {keep: 3}
app:
  image: ghcr.io/acme/shop:1.0.0
";

#[test]
fn the_certificate_passes_cert_managers_crd_and_names_every_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = render_config(dir.path(), CONFIG);
    let cert = find_named(&docs, "Certificate", "shop-db-tls");
    validate_custom_resource(cert);
    // The check is not a rubber stamp: a misspelt key and a bad enum value fail it.
    let mut broken = cert.clone();
    broken["spec"]["issuerRef"]["nmae"] = "x".into();
    broken["spec"]["privateKey"]["algorithm"] = "DSA".into();
    let found = custom_resource_problems(&broken).expect("the Certificate CRD is pinned");
    assert_eq!(found.len(), 2, "{found:#?}");

    assert_eq!(cert["spec"]["secretName"], "shop-db-tls");
    assert_eq!(cert["spec"]["issuerRef"]["kind"], "ClusterIssuer");
    let names: Vec<&str> = cert["spec"]["dnsNames"]
        .as_array()
        .expect("dnsNames")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in [
        "shop-db",
        "shop-db.shop.svc",
        "shop-db.shop.svc.cluster.local",
        "shop-db-hl.shop.svc",
        "shop-db-0.shop-db-hl.shop.svc.cluster.local",
    ] {
        assert!(names.contains(&name), "{name} is not in {names:?}");
    }
    // The pod mounts the Secret cert-manager writes, key and all, in the mode PostgreSQL takes.
    let sts = find_named(&docs, "StatefulSet", "shop-db");
    let tls = sts["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "tls")
        .expect("tls volume");
    assert_eq!(tls["secret"]["secretName"], "shop-db-tls");
    assert_eq!(tls["secret"]["defaultMode"], 0o640);
}

#[test]
fn pg_hba_puts_the_configs_rules_first_and_refuses_plaintext() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = render_config(dir.path(), CONFIG);
    let hba = find_named(&docs, "ConfigMap", "shop-db-hba")["data"]["pg_hba.conf"]
        .as_str()
        .expect("pg_hba.conf")
        .to_owned();
    let rules: Vec<&str> = hba
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        rules,
        [
            "hostssl \"shop\" \"reporting\" 10.20.0.0/16 scram-sha-256",
            "host all all 192.168.0.0/16 reject",
            "local all all trust",
            "local replication all trust",
            "hostssl \"shop\" \"shop_app\" all scram-sha-256",
            "host all \"shop_app\" all reject",
            "hostssl all all all scram-sha-256",
        ]
    );
    let sts = find_named(&docs, "StatefulSet", "shop-db");
    let args = crate::support::strings(
        &sts["spec"]["template"]["spec"]["containers"][0]["args"],
        "args",
    );
    for setting in [
        "hba_file=/etc/pgstate-hba/pg_hba.conf",
        "ssl=on",
        "ssl_key_file=/etc/pgstate-tls/tls.key",
        "ssl_min_protocol_version=TLSv1.2",
    ] {
        assert!(
            args.iter().any(|a| a == setting),
            "{setting} not in {args:?}"
        );
    }
}

#[test]
fn the_app_and_the_backup_verify_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = render_config(dir.path(), CONFIG);
    let app = &find_named(&docs, "Deployment", "shop-db-app")["spec"]["template"]["spec"];
    let env = &app["containers"][0]["env"];
    let var = |name: &str| -> Value {
        env.as_array()
            .expect("env")
            .iter()
            .find(|e| e["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(var("DB_USER")["value"], "shop_app");
    assert_eq!(
        var("DB_PASSWORD")["valueFrom"]["secretKeyRef"]["key"],
        "app-password"
    );
    assert_eq!(var("DB_SSLMODE")["value"], "verify-full");
    assert_eq!(var("DB_SSLROOTCERT")["value"], "/etc/pgstate-tls/ca.crt");
    assert_eq!(
        var("DATABASE_URL")["value"],
        "postgresql://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST):$(DB_PORT)/$(DB_NAME)?sslmode=$(DB_SSLMODE)&sslrootcert=$(DB_SSLROOTCERT)"
    );
    // The app mounts the CA only, never the key.
    let ca = app["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .find(|v| v["name"] == "tls-ca")
        .expect("tls-ca volume");
    assert_eq!(ca["secret"]["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(ca["secret"]["items"][0]["key"], "ca.crt");
    let job = &find_named(&docs, "CronJob", "shop-db-backup")["spec"]["jobTemplate"]["spec"]["template"]
        ["spec"]["containers"][0];
    let text = job["env"].to_string();
    assert!(
        text.contains("PGSSLMODE") && text.contains("verify-full"),
        "{text}"
    );
    // `connection` names the app role and its key.
    let config = dir.path().join("pgstate.yaml");
    let out = pgstate(&["connection", "-c", config.to_str().expect("utf-8")]);
    assert!(out.contains("DB_USER=shop_app"), "{out}");
    assert!(out.contains("key `app-password`"), "{out}");
    // `secret --generate` writes both passwords.
    let secret = documents(&pgstate(&[
        "secret",
        "--generate",
        "-c",
        config.to_str().expect("utf-8"),
    ]));
    let data = secret[0]["data"].as_object().expect("data");
    assert!(data.contains_key("password") && data.contains_key("app-password"));
}

#[test]
fn cloudnativepg_takes_the_certificate_and_the_rules_in_its_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = render_config(
        dir.path(),
        "name: shop
namespace: shop
target: cloudnativepg
postgres:
  image: ghcr.io/cloudnative-pg/postgresql:16.4
  database: shop
  user: shop
  tls:
    issuer: {name: team-ca, kind: ClusterIssuer}
  hba:
    - {type: hostssl, database: shop, user: reporting, address: 10.20.0.0/16, method: scram-sha-256}
app: {image: ghcr.io/acme/shop:1.0.0}
",
    );
    let cluster = &find_named(&docs, "Cluster", "shop")["spec"];
    assert_eq!(cluster["certificates"]["serverTLSSecret"], "shop-tls");
    assert_eq!(cluster["certificates"]["serverCASecret"], "shop-tls");
    assert_eq!(
        cluster["postgresql"]["pg_hba"],
        serde_json::json!([
            "hostssl \"shop\" \"reporting\" 10.20.0.0/16 scram-sha-256",
            "hostnossl all all 0.0.0.0/0 reject",
            "hostnossl all all ::/0 reject"
        ])
    );
    let cert = find_named(&docs, "Certificate", "shop-tls");
    validate_custom_resource(cert);
    let names = cert["spec"]["dnsNames"].to_string();
    for name in [
        "\"shop-rw\"",
        "\"shop-ro.shop.svc\"",
        "\"shop-r.shop.svc.cluster.local\"",
    ] {
        assert!(names.contains(name), "{name} not in {names}");
    }
    let app = find_named(&docs, "Deployment", "shop-app")["spec"]["template"]["spec"]["containers"]
        [0]["env"]
        .to_string();
    assert!(
        app.contains("verify-full") && app.contains("DB_SSLROOTCERT"),
        "{app}"
    );
}

//! What `postgres.tls`, `postgres.hba` and `app.role` render: the cert-manager Certificate
//! against cert-manager's own CRD schema (a pinned copy in tests/data/crds), pg_hba.conf in its
//! order, and what the app, the backup job and `connection` get.

use serde_json::Value;

use crate::support::{documents, pgstate, render_config};

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

fn object<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}

/// The openAPIV3Schema of the Certificate CRD's served version.
fn certificate_schema() -> Value {
    let text = std::fs::read_to_string("tests/data/crds/cert-manager.io_certificates.yaml")
        .expect("the pinned cert-manager CRD");
    let crd: Value = serde_saphyr::from_str(&text).expect("the CRD parses");
    crd["spec"]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["name"] == "v1")
        .expect("v1")["schema"]["openAPIV3Schema"]
        .clone()
}

/// Strict structural validation as the API server does it for a CRD: types, required keys,
/// enums, and no unknown fields (pruning would drop them silently). Patterns are not checked.
fn validate(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {allowed:?}"));
    }
    let ty = schema["type"].as_str().unwrap_or("");
    let int_or_string = schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    let ok = match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string() || (int_or_string && value.is_i64()),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{path}: {value} is not of type {ty}"));
        return;
    }
    if let Some(map) = value.as_object() {
        let properties = schema["properties"].as_object();
        for key in schema["required"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or("");
            if !map.contains_key(key) {
                errors.push(format!("{path}: required key {key} is missing"));
            }
        }
        for (key, child) in map {
            let sub = properties
                .and_then(|p| p.get(key))
                .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
            match sub {
                Some(sub) => validate(sub, child, &format!("{path}.{key}"), errors),
                None => errors.push(format!("{path}.{key}: unknown field")),
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, item) in list.iter().enumerate() {
            validate(items, item, &format!("{path}[{i}]"), errors);
        }
    }
}

#[test]
fn the_certificate_passes_cert_managers_crd_and_names_every_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = render_config(dir.path(), CONFIG);
    let cert = object(&docs, "Certificate", "shop-db-tls");
    let schema = certificate_schema();
    let mut errors = Vec::new();
    // metadata is the API server's ObjectMeta, checked by the typed check instead.
    let mut body = cert.clone();
    body.as_object_mut().expect("object").remove("metadata");
    validate(&schema, &body, "", &mut errors);
    assert!(
        errors.is_empty(),
        "the Certificate fails cert-manager's CRD:\n{errors:#?}"
    );
    // The validator is not a rubber stamp: a misspelt key and a bad enum value fail it.
    let mut broken = body.clone();
    broken["spec"]["issuerRef"]["nmae"] = "x".into();
    broken["spec"]["privateKey"]["algorithm"] = "DSA".into();
    let mut found = Vec::new();
    validate(&schema, &broken, "", &mut found);
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
    let sts = object(&docs, "StatefulSet", "shop-db");
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
    let hba = object(&docs, "ConfigMap", "shop-db-hba")["data"]["pg_hba.conf"]
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
    let sts = object(&docs, "StatefulSet", "shop-db");
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
    let app = &object(&docs, "Deployment", "shop-db-app")["spec"]["template"]["spec"];
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
    let job = &object(&docs, "CronJob", "shop-db-backup")["spec"]["jobTemplate"]["spec"]["template"]
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
    let cluster = &object(&docs, "Cluster", "shop")["spec"];
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
    let cert = object(&docs, "Certificate", "shop-tls");
    let mut errors = Vec::new();
    let mut body = cert.clone();
    body.as_object_mut().expect("object").remove("metadata");
    validate(&certificate_schema(), &body, "", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
    let names = cert["spec"]["dnsNames"].to_string();
    for name in [
        "\"shop-rw\"",
        "\"shop-ro.shop.svc\"",
        "\"shop-r.shop.svc.cluster.local\"",
    ] {
        assert!(names.contains(name), "{name} not in {names}");
    }
    let app = object(&docs, "Deployment", "shop-app")["spec"]["template"]["spec"]["containers"][0]
        ["env"]
        .to_string();
    assert!(
        app.contains("verify-full") && app.contains("DB_SSLROOTCERT"),
        "{app}"
    );
}

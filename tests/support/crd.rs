//! Custom resources checked against their operators' pinned CRDs, strictly.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde_json::Value;

/// The pinned CRD files (tests/data/crds/README.md names their source and version).
const CRD_DIR: &str = "tests/data/crds";

/// Every served version of every pinned CRD, by (apiVersion, kind), made strict and compiled.
static CRD_SCHEMAS: std::sync::LazyLock<BTreeMap<(String, String), jsonschema::Validator>> =
    std::sync::LazyLock::new(|| {
        let mut schemas = BTreeMap::new();
        let mut files: Vec<PathBuf> = fs::read_dir(CRD_DIR)
            .unwrap_or_else(|e| panic!("{CRD_DIR}: {e}"))
            .map(|entry| entry.expect("a CRD folder entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for file in files {
            let text = fs::read_to_string(&file).expect("read a CRD file");
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for crd in docs
                .iter()
                .filter(|d| d["kind"] == "CustomResourceDefinition")
            {
                let group = crd["spec"]["group"].as_str().expect("spec.group");
                let kind = crd["spec"]["names"]["kind"]
                    .as_str()
                    .expect("spec.names.kind");
                for version in crd["spec"]["versions"].as_array().expect("spec.versions") {
                    let name = version["name"].as_str().expect("a version's name");
                    let mut schema = strict(&version["schema"]["openAPIV3Schema"]);
                    let properties = schema
                        .as_object_mut()
                        .expect("openAPIV3Schema is an object")
                        .entry("properties")
                        .or_insert_with(|| Value::Object(serde_json::Map::new()))
                        .as_object_mut()
                        .expect("properties is an object");
                    properties.insert("apiVersion".into(), serde_json::json!({"type": "string"}));
                    properties.insert("kind".into(), serde_json::json!({"type": "string"}));
                    properties.insert("metadata".into(), serde_json::json!({"type": "object"}));
                    let validator = jsonschema::draft7::options()
                        .should_validate_formats(false)
                        .build(&schema)
                        .unwrap_or_else(|e| panic!("{} {kind}/{name}: {e}", file.display()));
                    schemas.insert((format!("{group}/{name}"), kind.to_owned()), validator);
                }
            }
        }
        schemas
    });

/// A CRD schema as the API server applies it to a client that rejects unknown fields: every
/// object schema with `properties` forbids other keys, unless it says
/// `x-kubernetes-preserve-unknown-fields`; `x-kubernetes-int-or-string` allows both types.
fn strict(schema: &Value) -> Value {
    let Some(map) = schema.as_object() else {
        return schema.clone();
    };
    let mut map = map.clone();
    if map.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        map.remove("type");
        map.insert(
            "anyOf".into(),
            serde_json::json!([{"type": "integer"}, {"type": "string"}]),
        );
    }
    if map.contains_key("properties")
        && map.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true))
    {
        map.entry("additionalProperties")
            .or_insert(Value::Bool(false));
    }
    for key in ["properties", "patternProperties", "definitions"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            for child in children.values_mut() {
                *child = strict(child);
            }
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child @ Value::Object(_)) = map.get_mut(key) {
            *child = strict(child);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            for child in children.iter_mut() {
                *child = strict(child);
            }
        }
    }
    Value::Object(map)
}

/// What is wrong with a custom resource by its pinned CRD (unknown fields included), one line
/// per problem; `None` when no pinned CRD defines its apiVersion and kind.
pub(crate) fn custom_resource_problems(doc: &Value) -> Option<Vec<String>> {
    let key = (
        doc["apiVersion"].as_str().unwrap_or_default().to_owned(),
        doc["kind"].as_str().unwrap_or_default().to_owned(),
    );
    let validator = CRD_SCHEMAS.get(&key)?;
    Some(
        validator
            .iter_errors(doc)
            .map(|e| {
                let mut message = e.to_string();
                message.truncate(300);
                format!(
                    "{}/{}: {}: {message}",
                    key.1,
                    doc["metadata"]["name"].as_str().unwrap_or("?"),
                    e.instance_path()
                )
            })
            .collect(),
    )
}

/// Fails the test unless a pinned CRD defines this custom resource and it passes that CRD's
/// schema strictly (unknown fields rejected, as `kubectl apply --validate=strict` does).
pub(crate) fn validate_custom_resource(doc: &Value) {
    match custom_resource_problems(doc) {
        None => panic!(
            "no CRD in {CRD_DIR} defines {} {}; add a pinned copy there (and a line to its README.md)",
            doc["apiVersion"], doc["kind"]
        ),
        Some(problems) => assert!(
            problems.is_empty(),
            "a custom resource fails its CRD:\n{}",
            problems.join("\n")
        ),
    }
}

//! The JSON Schema of a config file, from the types, with the reader's leniencies; and the line
//! that points an editor at it.

use super::Config;

/// The schema line editors read (yaml-language-server), written first in every `init` config.
pub(crate) const SCHEMA_LINE: &str = "# yaml-language-server: $schema=pgstate.schema.json\n# (write the schema beside this file with: pgstate schema > pgstate.schema.json)\n";

/// The JSON Schema of a config file, for editors and CI: the types' schema, plus
/// `environments` (taken out before the config is typed, so not a field of [`Config`]): a map
/// from an environment's name to the keys it changes, each a part of a config.
pub(crate) fn schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default();
    plain_scalars_as_text(&mut schema);
    if let Some(properties) = schema
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut)
    {
        properties.insert(
            "environments".into(),
            serde_json::json!({
                "description": "Environment name -> the keys it changes, merged over the config when chosen with --env",
                "type": ["object", "null"],
                "additionalProperties": {"type": ["object", "null"]}
            }),
        );
    }
    schema
}

/// The reader takes a number or a boolean where it wants text (`env: {WORKERS: 4}` is the
/// string "4"), as YAML users expect: so does the schema, or editors would flag a config
/// pgstate accepts. Strings with a fixed set of values (enums) stay strings.
fn plain_scalars_as_text(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(serde_json::Value::as_str) == Some("string")
                && !map.contains_key("enum")
                && !map.contains_key("const")
            {
                map.insert(
                    "type".into(),
                    serde_json::json!(["string", "number", "boolean"]),
                );
            }
            if let Some(types) = map
                .get_mut("type")
                .and_then(serde_json::Value::as_array_mut)
                && types.iter().any(|t| t == "string")
                && !types.iter().any(|t| t == "number")
            {
                types.extend([serde_json::json!("number"), serde_json::json!("boolean")]);
            }
            for value in map.values_mut() {
                plain_scalars_as_text(value);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(plain_scalars_as_text),
        _ => {}
    }
}

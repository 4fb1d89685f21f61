//! Generated docs stay current: the config reference (from the JSON Schema, whose text is the
//! doc comments of `src/config/model/`) and the man pages (from the clap definitions). Each
//! test fails when its file is stale and says how to regenerate it:
//!
//! ```sh
//! PGSTATE_REGENERATE=1 cargo test --test main docs::
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use clap::CommandFactory as _;
use serde_json::Value;

const REGENERATE: &str = "PGSTATE_REGENERATE=1 cargo test --test main docs::";

/// Compares `path` (relative to the repository) with `want`; writes it instead when
/// `PGSTATE_REGENERATE` is set.
fn current(path: &str, want: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("PGSTATE_REGENERATE").is_some() {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).expect("create the docs folder");
        }
        std::fs::write(&file, want).expect("write the generated file");
        return;
    }
    let have = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        have == want,
        "{path} is stale (or missing); regenerate it with:\n  {REGENERATE}\nthen commit it"
    );
}

// ---------------------------------------------------------------------------------------------
// The config reference

const REFERENCE_HEAD: &str = "\
<!-- Generated from the config's JSON Schema (the doc comments in src/config/model/) by
     tests/docs.rs. Do not edit: change the doc comments, then run
     PGSTATE_REGENERATE=1 cargo test --test main docs:: -->

# Config reference

Every key of `pgstate.yaml`, with its default. Keys are camelCase, like Kubernetes. An unknown
key is an error with a \"did you mean\" hint, and so is a value of the wrong type; pgstate
reports every error of a file at once, each with file:line:col, the key path and what would be
right, and exits with code 2. `pgstate schema` prints the same information as a JSON Schema for
editors.

Defaults that depend on other keys (the Secret's name, PGDATA, the app's name) are written as
`<name>-credentials` and so on. *none* means the key is off or left to Kubernetes.

`DATABASE_URL` is `postgresql://$(DB_USER):$(DB_PASSWORD)@$(DB_HOST):$(DB_PORT)/$(DB_NAME)`,
composed by Kubernetes from the other variables, so the password stays in the Secret. Kubernetes
cannot percent-encode: keep URL-reserved characters (`@ : / ? #`) out of the password when the
app reads the URL (`pgstate secret --generate` makes URL-safe passwords).
";

/// The definition a `$ref` names.
fn definition<'a>(schema: &'a Value, reference: &str) -> &'a Value {
    let name = reference.trim_start_matches("#/$defs/");
    &schema["$defs"][name]
}

/// A property's own schema, past `anyOf: [X, null]`, with whether null is allowed.
fn unwrap_optional(prop: &Value) -> (&Value, bool) {
    if let Some(any) = prop["anyOf"].as_array()
        && any.len() == 2
        && any.iter().any(|s| s["type"] == "null")
        && let Some(inner) = any.iter().find(|s| s["type"] != "null")
    {
        return (inner, true);
    }
    (prop, false)
}

/// How many properties point at each definition: those used more than once are documented
/// once, as a shape of their own.
fn uses(schema: &Value) -> BTreeMap<String, usize> {
    fn walk(value: &Value, counts: &mut BTreeMap<String, usize>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    *counts
                        .entry(r.trim_start_matches("#/$defs/").to_owned())
                        .or_default() += 1;
                }
                for (key, child) in map {
                    if key != "default" {
                        walk(child, counts);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, counts)),
            _ => {}
        }
    }
    let mut counts = BTreeMap::new();
    walk(schema, &mut counts);
    counts
}

fn describe_type(schema: &Value, prop: &Value) -> String {
    let (inner, _) = unwrap_optional(prop);
    if let Some(r) = inner["$ref"].as_str() {
        let def = definition(schema, r);
        if let Some(values) = def["enum"].as_array() {
            return one_of(values);
        }
        if def.get("properties").is_some() {
            return "map".to_owned();
        }
        return describe_type(schema, def);
    }
    if let Some(values) = inner["enum"].as_array() {
        return one_of(values);
    }
    if let Some(any) = inner["anyOf"].as_array() {
        let kinds: Vec<String> = any.iter().map(|s| describe_type(schema, s)).collect();
        return kinds.join(" or ");
    }
    let kind = match &inner["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("any")
            .to_owned(),
        _ => "any".to_owned(),
    };
    match kind.as_str() {
        "array" => match describe_type(schema, &inner["items"]).as_str() {
            "any" => "list".to_owned(),
            item => format!("list of {item}"),
        },
        "object" if inner["additionalProperties"]["type"] == "string" => {
            "map of strings".to_owned()
        }
        "object" if inner.get("properties").is_some() => "map".to_owned(),
        "object" => "map".to_owned(),
        "integer" => "whole number".to_owned(),
        other => other.to_owned(),
    }
}

fn one_of(values: &[Value]) -> String {
    let names: Vec<String> = values
        .iter()
        .map(|v| {
            format!(
                "`{}`",
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            )
        })
        .collect();
    names.join(", ")
}

fn describe_default(prop: &Value, optional: bool) -> String {
    match prop.get("default") {
        None if optional => "none".to_owned(),
        None => String::new(),
        Some(Value::Null) => "none".to_owned(),
        Some(Value::String(s)) => format!("`{s}`"),
        Some(Value::Bool(b)) => format!("`{b}`"),
        Some(Value::Number(n)) => format!("`{n}`"),
        Some(Value::Array(a)) if a.is_empty() => "`[]`".to_owned(),
        Some(Value::Object(o)) if o.is_empty() => "`{}`".to_owned(),
        Some(_) => "see below".to_owned(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// Rows for the properties of `object`, under key path `path`; a property whose shape is
/// documented once (used in several places) links there, one used here only is inlined.
fn rows(
    schema: &Value,
    object: &Value,
    path: &str,
    shared: &BTreeMap<String, usize>,
    out: &mut String,
) {
    let Some(props) = object["properties"].as_object() else {
        return;
    };
    for (key, prop) in props {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let (inner, optional) = unwrap_optional(prop);
        let target = inner["$ref"].as_str().map(|r| {
            let name = r.trim_start_matches("#/$defs/").to_owned();
            (name, definition(schema, r))
        });
        let mut kind = describe_type(schema, prop);
        let mut description = prop["description"]
            .as_str()
            .or_else(|| target.as_ref().and_then(|(_, d)| d["description"].as_str()))
            .map(one_line)
            .unwrap_or_default();
        let nested = target
            .as_ref()
            .filter(|(_, d)| d.get("properties").is_some());
        if let Some((name, _)) = nested
            && shared.get(name).copied().unwrap_or(0) > 1
        {
            kind = format!("[{name}](#{})", name.to_lowercase());
        }
        if optional && !description.is_empty() && kind == "map" {
            description.push_str(" Absent = off.");
        }
        let required = object["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|k| k == key.as_str()));
        let nullable = optional
            || inner["type"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "null"));
        let default = if required {
            "**required**".to_owned()
        } else {
            describe_default(prop, nullable)
        };
        let _ = writeln!(out, "| `{full}` | {kind} | {default} | {description} |");
        if let Some((name, def)) = nested
            && shared.get(name).copied().unwrap_or(0) <= 1
        {
            rows(schema, def, &full, shared, out);
        }
    }
}

const TABLE_HEAD: &str = "| key | type | default | meaning |\n|---|---|---|---|\n";

fn config_reference() -> String {
    let (code, schema_text, err) = crate::support::pgstate_status(&["schema"]);
    assert_eq!(code, 0, "{err}");
    let schema: Value = serde_json::from_str(&schema_text).expect("the schema is JSON");
    let shared = uses(&schema);
    let mut out = String::from(REFERENCE_HEAD);
    let props = schema["properties"].as_object().expect("properties");
    // The top-level scalars first, then a section per map.
    let mut top = String::new();
    let mut sections = Vec::new();
    for (key, prop) in props {
        let (inner, _) = unwrap_optional(prop);
        let def = inner["$ref"].as_str().map(|r| definition(&schema, r));
        if def.is_some_and(|d| d.get("properties").is_some()) {
            sections.push(key.clone());
        }
    }
    let scalars = serde_json::json!({
        "properties": props
            .iter()
            .filter(|(k, _)| !sections.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<serde_json::Map<String, Value>>()
    });
    rows(&schema, &scalars, "", &shared, &mut top);
    let _ = write!(out, "\n## Top level\n\n{TABLE_HEAD}{top}");
    for key in &sections {
        let prop = &props[key];
        let (inner, optional) = unwrap_optional(prop);
        let def = definition(&schema, inner["$ref"].as_str().expect("a $ref"));
        let _ = write!(out, "\n## `{key}`\n\n");
        let about = prop["description"]
            .as_str()
            .or_else(|| def["description"].as_str());
        if let Some(about) = about {
            let _ = write!(out, "{}", one_line(about));
            if optional {
                out.push_str(" Absent = off.");
            }
            out.push_str("\n\n");
        }
        out.push_str(TABLE_HEAD);
        rows(&schema, def, key, &shared, &mut out);
    }
    out.push_str("\n## Shapes used in several places\n");
    for (name, count) in &shared {
        let def = &schema["$defs"][name];
        if *count <= 1 || def.get("properties").is_none() {
            continue;
        }
        let _ = write!(out, "\n### {name}\n\n");
        if let Some(about) = def["description"].as_str() {
            let _ = write!(out, "{}\n\n", one_line(about));
        }
        out.push_str(TABLE_HEAD);
        rows(&schema, def, "", &shared, &mut out);
    }
    out
}

#[test]
fn config_reference_is_current() {
    current("docs/config-reference.md", &config_reference());
}

#[test]
fn config_reference_documents_every_key() {
    let reference = config_reference();
    for row in reference.lines().filter(|l| l.starts_with("| `")) {
        let columns: Vec<&str> = row.split(" | ").collect();
        let meaning = columns
            .last()
            .map_or("", |m| m.trim_end_matches('|').trim());
        assert!(
            columns.len() == 4 && !meaning.is_empty(),
            "a key without a doc comment in src/config/model/: {row}"
        );
    }
    for key in [
        "`postgres.storage.size`",
        "`backup.keep`",
        "`app.image`",
        "[Resources](#resources)",
    ] {
        assert!(reference.contains(key), "{key} is missing");
    }
}

// ---------------------------------------------------------------------------------------------
// The man pages

/// `pgstate.1` and a `pgstate-<command>.1` per command, as `clap_mangen::generate_to` names
/// them.
fn man_pages() -> Vec<(String, String)> {
    let mut cli = pgstate::cli::Cli::command().disable_help_subcommand(true);
    cli.build();
    let mut commands: Vec<clap::Command> = cli.get_subcommands().cloned().collect();
    commands.push(cli);
    commands
        .into_iter()
        .map(|cmd| {
            let man = clap_mangen::Man::new(cmd);
            let mut buf = Vec::new();
            man.render(&mut buf).expect("render a man page");
            (
                format!("docs/man/{}", man.get_filename()),
                String::from_utf8(buf).expect("UTF-8"),
            )
        })
        .collect()
}

#[test]
fn man_pages_are_current() {
    let pages = man_pages();
    assert!(pages.len() > 10, "a page per command");
    for (path, text) in &pages {
        current(path, text);
    }
    // No page is left behind for a command that is gone.
    if std::env::var_os("PGSTATE_REGENERATE").is_none() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/man");
        for entry in std::fs::read_dir(dir).expect("docs/man") {
            let name = format!(
                "docs/man/{}",
                entry.expect("entry").file_name().to_string_lossy()
            );
            assert!(
                pages.iter().any(|(p, _)| *p == name),
                "{name} belongs to no command; remove it"
            );
        }
    }
}

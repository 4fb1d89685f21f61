//! The written config: a tree of values with a comment per key, printed as block YAML.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::error::Location;

/// The config being built, and what each key came from.
#[derive(Debug, Default)]
pub(super) struct Config {
    pub(super) name: String,
    /// The release's fullname, for the notes (or a placeholder when unknown).
    pub(super) release_fullname: String,
    pub(super) storage_class: Option<String>,
    pub(super) pull_secrets: Vec<String>,
    /// SQL files to write beside the config: (path relative to it, text).
    pub(super) files: Vec<(String, String)>,
    root: Map<String, Value>,
    comments: BTreeMap<String, String>,
    /// Config key path -> the values key it came from, and where that is.
    pub(super) origins: BTreeMap<String, (Location, String)>,
}

impl Config {
    /// Sets the value at a dotted path, making the maps above it.
    pub(super) fn set(&mut self, path: &str, value: Value, comment: &str) {
        let parts: Vec<&str> = path.split('.').collect();
        let (last, parents) = parts.split_last().unwrap_or((&"", &[]));
        let mut map = &mut self.root;
        for part in parents {
            let entry = map
                .entry((*part).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(inner) = entry else {
                return;
            };
            map = inner;
        }
        map.insert((*last).to_owned(), value);
        if !comment.is_empty() {
            self.comments.insert(path.to_owned(), comment.to_owned());
        }
    }

    pub(super) fn get(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut value = self.root.get(parts.next()?)?;
        for part in parts {
            value = value.get(part)?;
        }
        Some(value)
    }

    pub(super) fn origin(&mut self, path: &str, loc: Location, from: &str) {
        self.origins
            .entry(path.to_owned())
            .or_insert((loc, from.to_owned()));
    }

    /// The config text (schema line, header, keys) and the SQL files.
    pub(super) fn finish(&self, values_name: &str) -> (String, Vec<(String, String)>) {
        let mut text = String::from(crate::config::model::SCHEMA_LINE);
        let _ = writeln!(
            text,
            "# Written by `pgstate init --from-bitnami {values_name}` from a Bitnami PostgreSQL chart's\n# values. The comments name the values key each setting came from; what has no equivalent\n# was listed when this was written. Moving the data: docs/from-bitnami.md."
        );
        // The pod settings read best after the database's own keys.
        let mut root = self.root.clone();
        if let Some(Value::Object(pg)) = root.get_mut("postgres")
            && let Some(pod) = pg.remove("pod")
        {
            pg.insert("pod".to_owned(), pod);
        }
        emit_map(&mut text, &root, 0, "", &self.comments, &self.origins);
        (text, self.files.clone())
    }
}

/// A scalar as YAML: plain when it reads back as the same string, else JSON-quoted.
pub(super) fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => {
            let plain = s.bytes().any(|b| b.is_ascii_alphabetic()) && crate::yaml::plain_is_safe(s);
            if plain {
                s.clone()
            } else {
                serde_json::to_string(s).unwrap_or_default()
            }
        }
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

fn key_text(key: &str) -> String {
    scalar(&Value::String(key.to_owned()))
}

fn comment_for(
    path: &str,
    comments: &BTreeMap<String, String>,
    origins: &BTreeMap<String, (Location, String)>,
) -> Option<String> {
    let from = origins.get(path).map(|(_, f)| format!("from {f}"));
    let note = comments.get(path).cloned();
    match (from, note) {
        (Some(f), Some(n)) => Some(format!("{f}: {n}")),
        (Some(f), None) => Some(f),
        (None, Some(n)) => Some(n),
        (None, None) => None,
    }
}

fn emit_map(
    out: &mut String,
    map: &Map<String, Value>,
    indent: usize,
    path: &str,
    comments: &BTreeMap<String, String>,
    origins: &BTreeMap<String, (Location, String)>,
) {
    let pad = " ".repeat(indent);
    for (key, value) in map {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let comment = comment_for(&full, comments, origins);
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                if let Some(c) = &comment {
                    let _ = writeln!(out, "{pad}# {c}");
                }
                let _ = writeln!(out, "{pad}{}:", key_text(key));
                emit_map(out, inner, indent + 2, &full, comments, origins);
            }
            Value::Array(items) if !items.is_empty() => {
                if let Some(c) = &comment {
                    let _ = writeln!(out, "{pad}# {c}");
                }
                let _ = writeln!(out, "{pad}{}:", key_text(key));
                emit_list(out, items, indent + 2);
            }
            _ => {
                let shown = match value {
                    Value::Object(_) => "{}".to_owned(),
                    Value::Array(_) => "[]".to_owned(),
                    other => scalar(other),
                };
                match comment {
                    Some(c) => {
                        let _ = writeln!(out, "{pad}{}: {shown}  # {c}", key_text(key));
                    }
                    None => {
                        let _ = writeln!(out, "{pad}{}: {shown}", key_text(key));
                    }
                }
            }
        }
    }
}

fn emit_list(out: &mut String, items: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(m) if !m.is_empty() => {
                let mut inner = String::new();
                emit_map(
                    &mut inner,
                    m,
                    indent + 2,
                    "\u{0}",
                    &BTreeMap::new(),
                    &BTreeMap::new(),
                );
                let body = inner.get(indent + 2..).unwrap_or_default();
                let _ = write!(out, "{pad}- {body}");
            }
            Value::Array(a) if !a.is_empty() => {
                let _ = writeln!(out, "{pad}-");
                emit_list(out, a, indent + 2);
            }
            Value::Object(_) => {
                let _ = writeln!(out, "{pad}- {{}}");
            }
            Value::Array(_) => {
                let _ = writeln!(out, "{pad}- []");
            }
            other => {
                let _ = writeln!(out, "{pad}- {}", scalar(other));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_that_yaml_would_retype_are_quoted() {
        for (value, shown) in [
            ("yes", "\"yes\""),
            ("0755", "\"0755\""),
            ("200", "\"200\""),
            ("a: b #c", "\"a: b #c\""),
            ("8Gi", "8Gi"),
            ("1", "\"1\""),
            ("standard", "standard"),
            ("", "\"\""),
        ] {
            assert_eq!(scalar(&Value::String(value.into())), shown, "{value}");
        }
    }

    #[test]
    fn lists_of_maps_print_as_blocks() {
        let mut cfg = Config::default();
        cfg.set(
            "postgres.tolerations",
            serde_json::json!([{"key": "db", "operator": "Exists"}, {"key": "x"}]),
            "",
        );
        let mut text = String::new();
        emit_map(
            &mut text,
            &cfg.root,
            0,
            "",
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(
            text,
            "postgres:\n  tolerations:\n    - key: db\n      operator: Exists\n    - key: x\n"
        );
    }
}

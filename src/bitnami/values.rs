//! The values file as the rules read it: typed look-ups by dotted path, and what the rules found
//! (mapped keys, notes, errors).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::keys::{ChartKeys, free_form, leaves, same};
use super::out;
use crate::config::node::{Kind, Node, Plain, resolve_plain};
use crate::error::{Diagnostic, Location};

/// One key with no equivalent: where it is, why, and what to do instead.
#[derive(Debug)]
pub(super) struct Note {
    pub(super) path: String,
    pub(super) loc: Location,
    pub(super) why: String,
    pub(super) instead: String,
}

/// The values file, and what the rules found in it.
pub(super) struct Values<'a> {
    pub(super) root: &'a Node,
    pub(super) keys: ChartKeys,
    pub(super) errors: Vec<Diagnostic>,
    pub(super) notes: Vec<Note>,
    pub(super) mapped: Vec<(String, String)>,
    pub(super) general: Vec<String>,
}

impl<'a> Values<'a> {
    pub(super) fn node(&self, path: &str) -> Option<&'a Node> {
        let mut node = self.root;
        for key in path.split('.') {
            node = node.get(key)?;
        }
        Some(node)
    }

    /// Where a message about `path` points: the value, or the nearest parent present.
    pub(super) fn loc(&self, path: &str) -> Location {
        let parts: Vec<&str> = path.split('.').collect();
        self.root.place(&parts)
    }

    /// The node at `path` if it is written and not null.
    pub(super) fn take(&mut self, path: &str) -> Option<&'a Node> {
        self.node(path).filter(|n| !n.is_null())
    }

    pub(super) fn wrong_type(&mut self, path: &str, node: &Node, wanted: &str) {
        self.errors.push(
            Diagnostic::new(
                node.loc,
                format!("expected {wanted}, found {}", node.describe()),
            )
            .with_path(path.to_owned())
            .with_help(format!("write {wanted} here, as the chart expects")),
        );
    }

    /// A string value; an empty string counts as not set (the chart's `""` defaults).
    pub(super) fn string(&mut self, path: &str) -> Option<String> {
        let node = self.take(path)?;
        match &node.kind {
            Kind::Scalar { text, .. } if text.is_empty() => None,
            Kind::Scalar { text, .. } => Some(text.clone()),
            _ => {
                self.wrong_type(path, node, "a string");
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, path: &str) -> Option<bool> {
        let node = self.take(path)?;
        match &node.kind {
            Kind::Scalar { text, plain: true } => match resolve_plain(text) {
                Plain::Bool(b) => Some(b),
                _ => {
                    self.wrong_type(path, node, "true or false");
                    None
                }
            },
            _ => {
                self.wrong_type(path, node, "true or false");
                None
            }
        }
    }

    /// A whole number; the chart also takes one quoted, and `""` for "not set".
    pub(super) fn int(&mut self, path: &str) -> Option<i64> {
        let node = self.take(path)?;
        match &node.kind {
            Kind::Scalar { text, .. } if text.is_empty() => None,
            Kind::Scalar { text, .. } => match text.trim().parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.wrong_type(path, node, "a whole number");
                    None
                }
            },
            _ => {
                self.wrong_type(path, node, "a whole number");
                None
            }
        }
    }

    /// A map of strings (labels, annotations, nodeSelector); an empty map is None.
    pub(super) fn string_map(&mut self, path: &str) -> Option<BTreeMap<String, String>> {
        let node = self.take(path)?;
        let Some(entries) = node.as_map() else {
            self.wrong_type(path, node, "a map of names to strings");
            return None;
        };
        let mut map = BTreeMap::new();
        for (k, v) in entries {
            match (&k.as_str(), &v.kind) {
                (Some(k), Kind::Scalar { text, .. }) => {
                    map.insert((*k).to_owned(), text.clone());
                }
                _ => {
                    let at = format!("{path}.{}", k.as_str().unwrap_or_default());
                    self.wrong_type(&at, v, "a string");
                }
            }
        }
        (!map.is_empty()).then_some(map)
    }

    /// Any value as JSON (affinity, tolerations, ...), with YAML's plain scalars resolved; an
    /// empty map or list is None.
    pub(super) fn json(&mut self, path: &str) -> Option<Value> {
        let node = self.take(path)?;
        let value = to_json(node);
        (!free_form(&value) || !value.is_object() && !value.is_array()).then_some(value)
    }

    pub(super) fn note(&mut self, path: &str, why: impl Into<String>, instead: impl Into<String>) {
        let loc = self.loc(path);
        self.notes.push(Note {
            path: path.to_owned(),
            loc,
            why: why.into(),
            instead: instead.into(),
        });
    }

    /// Reports `path` when it is written and differs from the chart's default.
    pub(super) fn note_if_set(&mut self, path: &str, why: &str, instead: &str) {
        if self.node(path).is_some() && !self.is_default(path) {
            self.note(path, why, instead);
        }
    }

    /// Whether every key written under `path` equals the chart's default.
    pub(super) fn is_default(&self, path: &str) -> bool {
        let Some(node) = self.node(path) else {
            return true;
        };
        leaves(node, path)
            .iter()
            .all(|(p, n)| self.keys.defaults.get(p).is_some_and(|d| same(d, n)))
    }

    pub(super) fn map(&mut self, from: &str, to: &str) {
        self.mapped.push((from.to_owned(), to.to_owned()));
    }
}

/// A node as JSON: plain scalars resolved under YAML 1.2, quoted ones strings.
pub(crate) fn to_json(node: &Node) -> Value {
    match &node.kind {
        Kind::Scalar { text, plain: true } => match resolve_plain(text) {
            Plain::Null => Value::Null,
            Plain::Bool(b) => Value::Bool(b),
            Plain::Int(i) => json!(i),
            Plain::Float(f) => serde_json::Number::from_f64(f)
                .map_or_else(|| Value::String(text.clone()), Value::Number),
            Plain::Str => Value::String(text.clone()),
        },
        Kind::Scalar { text, .. } => Value::String(text.clone()),
        Kind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Kind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), to_json(v)))
                .collect(),
        ),
    }
}

/// Writes `value` at the config key `to` and records that it came from the values key `from`:
/// mapped (for the report) and its place (for errors in the written config).
pub(super) fn carry(
    v: &mut Values<'_>,
    cfg: &mut out::Config,
    from: &str,
    to: &str,
    value: Value,
    comment: &str,
) {
    cfg.set(to, value, comment);
    v.map(from, to);
    cfg.origin(to, v.loc(from), from);
}

/// The volume size at `from`, carried to `to`; when not set, the chart's default (8Gi), said so.
pub(super) fn size_or_default(v: &mut Values<'_>, cfg: &mut out::Config, from: &str, to: &str) {
    match v.string(from) {
        Some(size) => carry(v, cfg, from, to, json!(size), ""),
        None => cfg.set(to, json!("8Gi"), "the chart's default size"),
    }
}

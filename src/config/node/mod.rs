//! YAML text -> a tree of nodes that remember where they came from.
//!
//! The config is read in two steps: this module turns YAML into a [`Node`] tree (every node
//! keeps its file, line and column), and `de` turns the tree into the typed config. The
//! tree is what environment overlays are merged on, and what validation errors point into.
//!
//! mod.rs is the tree (and merging one over another); parse.rs builds it from YAML.

mod parse;

use crate::error::Location;
pub use parse::parse;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub loc: Location,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A scalar with its text after YAML escapes; `plain` scalars may resolve to
    /// null, booleans and numbers, quoted and block scalars are always strings.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true } if is_null_text(text))
    }

    pub(crate) fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value under `key` in a map node.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The entry (key node, value node) under a dotted path of map keys.
    pub(crate) fn entry(&self, path: &[&str]) -> Option<(&Node, &Node)> {
        let (last, parents) = path.split_last()?;
        let mut node = self;
        for key in parents {
            node = node.get(key)?;
        }
        node.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(last))
            .map(|(k, v)| (k, v))
    }

    /// Where the value at `path` is, or the nearest existing parent when it is absent.
    pub(crate) fn locate(&self, path: &[&str]) -> Location {
        let mut node = self;
        for key in path {
            match node.get(key) {
                Some(child) => node = child,
                None => return node.loc,
            }
        }
        node.loc
    }

    /// Where a message about the value at `path` should point: a scalar value itself, the key
    /// of a map or list, or the nearest existing parent when the key is absent.
    pub(crate) fn place(&self, path: &[&str]) -> Location {
        match self.entry(path) {
            Some((_, value)) if matches!(value.kind, Kind::Scalar { .. }) => value.loc,
            Some((key, _)) => key.loc,
            None => self.locate(path),
        }
    }

    /// Where the entry at a JSON-style path relative to this node is, e.g. `a.b[0].c`: its key
    /// (or the list item); the deepest place found when the path ends early.
    pub(crate) fn find(&self, path: &str) -> Location {
        let mut node = self;
        let mut at = self.loc;
        for part in path.split('.').filter(|p| !p.is_empty()) {
            let (key, indexes) = part.split_at(part.find('[').unwrap_or(part.len()));
            if !key.is_empty() {
                let Some((k, v)) = node
                    .as_map()
                    .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(key)))
                else {
                    return at;
                };
                at = k.loc;
                node = v;
            }
            for index in indexes.split(['[', ']']).filter(|i| !i.is_empty()) {
                match (&node.kind, index.parse::<usize>()) {
                    (Kind::Seq(items), Ok(i)) if i < items.len() => {
                        node = &items[i];
                        at = node.loc;
                    }
                    _ => return at,
                }
            }
        }
        at
    }

    /// A short description of the node's YAML type, for "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a map",
            Kind::Scalar { plain: false, .. } => "a string",
            Kind::Scalar { text, plain: true } => match resolve_plain(text) {
                Plain::Null => "null",
                Plain::Bool(_) => "a boolean",
                Plain::Int(_) => "an integer",
                Plain::Float(_) => "a number",
                Plain::Str => "a string",
            },
        }
    }
}

pub(crate) fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// What a plain scalar means under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

pub fn resolve_plain(text: &str) -> Plain {
    if is_null_text(text) {
        return Plain::Null;
    }
    match text {
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return Plain::Int(i);
    }
    let digits = text.trim_start_matches(['+', '-']);
    let numeric = !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if numeric && let Ok(f) = text.parse::<f64>() {
        return Plain::Float(f);
    }
    match digits {
        ".inf" | ".Inf" | ".INF" if text.starts_with('-') => Plain::Float(f64::NEG_INFINITY),
        ".inf" | ".Inf" | ".INF" => Plain::Float(f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" if digits == text => Plain::Float(f64::NAN),
        _ => Plain::Str,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let value = if let Some(hex) = body.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = body.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) {
        body.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -value } else { value })
}

/// Merges `overlay` over `base`: maps merge key by key, anything else is replaced.
pub fn merge(base: &mut Node, overlay: Node) {
    match (&mut base.kind, overlay.kind) {
        (Kind::Map(entries), Kind::Map(over)) => {
            for (key, value) in over {
                match entries.iter_mut().find(|(k, _)| k.as_str() == key.as_str()) {
                    Some((_, existing)) => merge(existing, value),
                    None => entries.push((key, value)),
                }
            }
        }
        (_, kind) => {
            base.kind = kind;
            base.loc = overlay.loc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Diagnostic, SourceId};

    pub(super) fn p(text: &str) -> Result<Node, Diagnostic> {
        parse(SourceId(0), text)
    }

    #[test]
    fn plain_scalars_resolve_like_yaml_1_2() {
        assert_eq!(resolve_plain("0755"), Plain::Int(755));
        assert_eq!(resolve_plain("yes"), Plain::Str);
        assert_eq!(resolve_plain("1e3"), Plain::Float(1000.0));
        assert_eq!(resolve_plain("~"), Plain::Null);
        assert_eq!(resolve_plain("1Gi"), Plain::Str);
        assert_eq!(resolve_plain("-.inf"), Plain::Float(f64::NEG_INFINITY));
    }

    #[test]
    fn overlay_merges_maps_and_replaces_the_rest() {
        let mut base = p("a: {b: 1, c: [1, 2]}\n").expect("base");
        let over = p("a: {c: [3], d: x}\n").expect("over");
        merge(&mut base, over);
        let a = base.get("a").expect("a");
        assert_eq!(a.get("b").and_then(Node::as_str), Some("1"));
        assert!(matches!(&a.get("c").expect("c").kind, Kind::Seq(items) if items.len() == 1));
        assert_eq!(a.get("d").and_then(Node::as_str), Some("x"));
    }
}

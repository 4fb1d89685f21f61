//! The node tree -> typed config, as a serde `Deserializer`.
//!
//! Deserializing from our own tree (rather than straight from YAML text) means every error,
//! including serde's own "unknown field" and "invalid type", knows the node it is about: its
//! file, line and column, and its key path. Unknown keys get a "did you mean" from the list of
//! keys serde expected.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, EnumAccess, Expected, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};

use super::node::{Kind, Node, Plain, resolve_plain};
use crate::error::{Diagnostic, Location, closest};

/// A deserialization error; the deserializer fills in where it happened. Boxed, because
/// serde passes it back through every level of the config.
#[derive(Debug)]
pub struct DeError(Box<Inner>);

#[derive(Debug)]
pub struct Inner {
    loc: Option<Location>,
    path: Option<String>,
    message: String,
    help: Option<String>,
    /// What the value should have been, when it has the wrong type or shape.
    wanted: Option<String>,
    /// The required key that is missing, if that is the error.
    missing: Option<&'static str>,
}

impl std::ops::Deref for DeError {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::ops::DerefMut for DeError {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.0
    }
}

impl DeError {
    fn new(message: String) -> Self {
        DeError(Box::new(Inner {
            loc: None,
            path: None,
            message,
            help: None,
            wanted: None,
            missing: None,
        }))
    }

    fn shape(message: String, wanted: &str) -> Self {
        let mut e = DeError::new(message);
        e.wanted = Some(wanted.to_owned());
        e.help = Some(format!("write {wanted} here"));
        e
    }

    fn at(mut self, node: &Node, path: &str) -> Self {
        if self.loc.is_none() {
            self.loc = Some(node.loc);
            self.path = Some(path.to_owned());
            if let Some(wanted) = &self.wanted
                && let Some(hint) = key_hint(path, node, wanted)
            {
                self.help = Some(hint);
            }
            if let Some(field) = self.missing {
                let under = path.rsplit('.').next().unwrap_or(path);
                let example = match (path, field) {
                    ("app", "image") => ", e.g. image: ghcr.io/acme/shop:1.4.2",
                    ("postgres.storage.local", "node") => ", the name `kubectl get nodes` shows",
                    ("postgres.storage.local", "path") => ", e.g. path: /data/postgres",
                    _ => "",
                };
                self.help = Some(if under.is_empty() {
                    format!("add `{field}:`{example}")
                } else {
                    format!("add `{field}:` under `{under}:`{example}")
                });
            }
        }
        self
    }

    /// An error about a whole map or list that is a map value points at its key instead: the
    /// key is the line a reader looks for, the collection's first line is its first child.
    fn reanchor(mut self, value: &Node, key: Location) -> Self {
        if self.loc == Some(value.loc) && !matches!(value.kind, Kind::Scalar { .. }) {
            self.loc = Some(key);
        }
        self
    }

    pub fn into_diagnostic(self, fallback: Location) -> Diagnostic {
        let inner = *self.0;
        let mut d = Diagnostic::new(inner.loc.unwrap_or(fallback), inner.message)
            .with_path(inner.path.unwrap_or_default());
        d.help = inner.help;
        d
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

/// Turns serde's names for what it expected into words a config author uses.
fn friendly(exp: &dyn fmt::Display) -> String {
    let text = exp.to_string();
    let type_name = |t: &str| {
        t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && t.chars().all(|c| c.is_ascii_alphanumeric())
    };
    // Derived structs say "struct Postgres", Kubernetes types their own name ("Toleration").
    if text.starts_with("struct ") || text == "a map" || type_name(&text) {
        return "a map".to_owned();
    }
    match text.as_str() {
        "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "usize" => {
            "a whole number".to_owned()
        }
        "f32" | "f64" => "a number".to_owned(),
        "a sequence" => "a list".to_owned(),
        "field identifier" | "variant identifier" => "a key name".to_owned(),
        _ if text.starts_with("enum ") => "one of the names this key takes".to_owned(),
        _ => text,
    }
}

/// A hint for a key whose value has the wrong shape, where a general one would not help.
fn key_hint(path: &str, node: &Node, wanted: &str) -> Option<String> {
    let scalar = matches!(node.kind, Kind::Scalar { .. }) && !node.is_null();
    let hint = match path {
        "postgres.password" if scalar => {
            "password is a map with one of: `secret: NAME` (an existing Secret), \
             `fromEnv: VARIABLE` (read at render time) or `value: TEXT` (plain text)"
        }
        "backup" if scalar => {
            "write `backup: {}` to back up daily at 02:00 with the defaults, \
             or remove the key to turn backups off"
        }
        "app" if scalar => {
            "app is a map with at least the image, e.g. app: {image: ghcr.io/acme/shop:1.4.2}"
        }
        "lint.allow" => "write a list of ids, e.g. allow: [PGS005], or a map from id to the reason",
        "postgres.affinity" if matches!(node.kind, Kind::Seq(_)) => {
            "affinity is one map, as in a pod spec: write `nodeAffinity:` (or podAntiAffinity) under it, without a `-`"
        }
        "postgres.storage" | "backup.storage" if !node.is_null() => {
            return Some(match (&node.kind, node.as_str()) {
                (Kind::Scalar { .. }, Some(size)) => {
                    format!(
                        "storage is a map of settings; for the size write storage: {{size: {size}}}"
                    )
                }
                _ => "storage is a map of settings, e.g. storage: {size: 1Gi}".to_owned(),
            });
        }
        _ if wanted == "a key name" => "write a key name before the colon, or remove the line",
        _ if node.is_null() && wanted == "a map" => {
            "nothing is written under this key; indent its keys under it, or remove the line"
        }
        _ if node.is_null() => "write the value after the colon, or remove the line",
        _ => return None,
    };
    Some(hint.to_owned())
}

fn unexpected(unexp: &Unexpected<'_>) -> String {
    match unexp {
        Unexpected::Bool(b) => format!("the boolean {b}"),
        Unexpected::Unsigned(n) => format!("the number {n}"),
        Unexpected::Signed(n) => format!("the number {n}"),
        Unexpected::Float(n) => format!("the number {n}"),
        Unexpected::Str(s) => format!("the string {s:?}"),
        Unexpected::Unit => "null".to_owned(),
        Unexpected::Seq => "a list".to_owned(),
        Unexpected::Map => "a map".to_owned(),
        other => other.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        let wanted = friendly(&Expecting(exp));
        DeError::shape(
            format!("expected {wanted}, found {}", unexpected(&unexp)),
            &wanted,
        )
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn Expected) -> Self {
        let wanted = friendly(&Expecting(exp));
        DeError::shape(
            format!(
                "{} is not allowed here, expected {wanted}",
                unexpected(&unexp)
            ),
            &wanted,
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(format!("unknown key `{field}`"));
        e.help = Some(match closest(field, expected) {
            Some(near) => format!("did you mean `{near}`?"),
            None if field == "<<" => {
                "pgstate does not expand YAML merge keys; write the keys out, \
                 or use `environments:` for variants of one config"
                    .to_owned()
            }
            // The backup's parts, written at the top: they describe the backup and need one.
            None if matches!(field, "drill" | "s3" | "compression")
                && expected.contains(&"backup") =>
            {
                format!(
                    "`{field}` belongs under `backup:` (the {} the backup's dumps); move it there, and add `backup: {{}}` if there is none",
                    if field == "drill" {
                        "drill restores"
                    } else {
                        "bucket or compression of"
                    }
                )
            }
            None => format!("the keys allowed here are: {}", expected.join(", ")),
        });
        e
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(format!("`{variant}` is not a value this key takes"));
        e.help = Some(match closest(variant, expected) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("use one of: {}", expected.join(", ")),
        });
        e
    }

    fn missing_field(field: &'static str) -> Self {
        let mut e = DeError::new(format!("the required key `{field}` is missing here"));
        e.help = Some(format!("add `{field}:` to this map"));
        e.missing = Some(field);
        e
    }
}

struct Expecting<'a>(&'a dyn Expected);

impl fmt::Display for Expecting<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Deserializes `T` from a node; the error is a diagnostic pointing into the config.
pub fn from_node<T: de::DeserializeOwned>(node: &Node) -> Result<T, Diagnostic> {
    from_node_at(node, "")
}

/// Deserializes `T` from the node at key path `path` (for the paths in its errors).
pub fn from_node_at<T: de::DeserializeOwned>(node: &Node, path: &str) -> Result<T, Diagnostic> {
    T::deserialize(NodeDe {
        node,
        path: path.to_owned(),
    })
    .map_err(|e| e.into_diagnostic(node.loc))
}

/// The most errors one config reports before the rest is left unread.
const MOST_ERRORS: usize = 100;

/// Deserializes `T` from a node and goes on past the errors it can: a key or list item that is
/// unknown, of the wrong type or of a wrong value is reported and left out, and the rest is
/// read again (a key left out takes its default; a map that misses a required key, a list item
/// too, is left out whole). Returns the value when everything left could be read, the tree it was read from
/// (the original when nothing was left out), and every error.
pub fn from_node_collecting<T: de::DeserializeOwned>(node: &Node) -> Collected<'_, T> {
    let first = match T::deserialize(NodeDe {
        node,
        path: String::new(),
    }) {
        Ok(value) => {
            return Collected {
                value: Some(value),
                tree: std::borrow::Cow::Borrowed(node),
                errors: Vec::new(),
                removed: Vec::new(),
            };
        }
        Err(e) => e,
    };
    let mut tree = node.clone();
    let mut found = Vec::new();
    let mut error = first;
    // The key path of what was left out last.
    let mut left_out: Option<String> = None;
    let mut removed: Vec<(String, usize)> = Vec::new();
    loop {
        let path = error.path.clone().unwrap_or_default();
        let (loc, missing) = (error.loc, error.missing);
        // Leaving out a required key's wrong value makes its map miss the key: that is not
        // another error, and the map goes as a whole.
        let ours = missing
            .is_some_and(|field| left_out.as_deref() == Some(child_path(&path, field).as_str()));
        if !ours {
            let mut d = error.into_diagnostic(tree.loc);
            d.path = original_path(&d.path, &removed);
            found.push(d);
        }
        let pruned = found.len() < MOST_ERRORS
            && match missing {
                // A map that misses a required key is left out whole (not the document).
                Some(_) => !path.is_empty() && prune_path(&mut tree, &path),
                None => loc.is_some_and(|at| prune(&mut tree, at)),
            };
        if !pruned {
            return Collected {
                value: None,
                tree: std::borrow::Cow::Owned(tree),
                errors: found,
                removed,
            };
        }
        // A list item left out moves the later ones up: their paths are told as written.
        if let Some((list, index)) = path.rsplit_once('[')
            && let Some(Ok(index)) = index.strip_suffix(']').map(str::parse)
        {
            removed.push((list.to_owned(), index));
        }
        left_out = Some(path);
        match T::deserialize(NodeDe {
            node: &tree,
            path: String::new(),
        }) {
            Ok(value) => {
                return Collected {
                    value: Some(value),
                    tree: std::borrow::Cow::Owned(tree),
                    errors: found,
                    removed,
                };
            }
            Err(e) => error = e,
        }
    }
}

/// What [`from_node_collecting`] read: the value when everything left could be read, the tree it
/// was read from, and every error.
pub struct Collected<'a, T> {
    pub value: Option<T>,
    pub tree: std::borrow::Cow<'a, Node>,
    pub errors: Vec<Diagnostic>,
    /// The list items left out, in order: the list's path then and the item's index then.
    removed: Vec<(String, usize)>,
}

impl<T> Collected<'_, T> {
    /// A key path of the tree read, as it is in the file (list indexes before items were left
    /// out), for the errors found in that tree afterwards.
    pub fn original_path(&self, path: &str) -> String {
        original_path(path, &self.removed)
    }
}

fn original_path(path: &str, removed: &[(String, usize)]) -> String {
    let mut path = path.to_owned();
    for (list, gone) in removed.iter().rev() {
        let Some(rest) = path
            .strip_prefix(list.as_str())
            .and_then(|r| r.strip_prefix('['))
        else {
            continue;
        };
        let Some((index, after)) = rest.split_once(']') else {
            continue;
        };
        if let Ok(index) = index.parse::<usize>()
            && index >= *gone
        {
            path = format!("{list}[{}]{after}", index + 1);
        }
    }
    path
}

/// Removes the map entry or list item at a key path such as `postgres.hba[0]` (as the
/// deserializer writes them).
fn prune_path(node: &mut Node, path: &str) -> bool {
    enum Step<'a> {
        Key(&'a str),
        Item(usize),
    }
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            steps.push(Step::Key(key));
        }
        while let Some((index, after)) = rest.split_once(']') {
            match index.parse() {
                Ok(i) => steps.push(Step::Item(i)),
                Err(_) => return false,
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut node = node;
    for step in parents {
        let next = match (step, &mut node.kind) {
            (Step::Key(key), Kind::Map(entries)) => entries
                .iter_mut()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            (Step::Item(i), Kind::Seq(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    match (last, &mut node.kind) {
        (Step::Key(key), Kind::Map(entries)) => {
            match entries.iter().position(|(k, _)| k.as_str() == Some(key)) {
                Some(i) => {
                    entries.remove(i);
                    true
                }
                None => false,
            }
        }
        (Step::Item(i), Kind::Seq(items)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// Removes the deepest map entry (by its key or its value) or list item found at `at`.
/// A map's location is that of its first key, so children are searched before their parent.
fn prune(node: &mut Node, at: Location) -> bool {
    match &mut node.kind {
        Kind::Scalar { .. } => false,
        Kind::Seq(items) => {
            if items.iter_mut().any(|item| prune(item, at)) {
                return true;
            }
            match items.iter().position(|item| item.loc == at) {
                Some(i) => {
                    items.remove(i);
                    true
                }
                None => false,
            }
        }
        Kind::Map(entries) => {
            if entries.iter_mut().any(|(_, value)| prune(value, at)) {
                return true;
            }
            match entries
                .iter()
                .position(|(key, value)| key.loc == at || value.loc == at)
            {
                Some(i) => {
                    entries.remove(i);
                    true
                }
                None => false,
            }
        }
    }
}

pub struct NodeDe<'a> {
    node: &'a Node,
    path: String,
}

fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl NodeDe<'_> {
    fn mismatch<T>(&self, exp: &dyn Expected) -> Result<T, DeError> {
        let wanted = friendly(&Expecting(exp));
        let mut e = DeError::shape(
            format!("expected {wanted}, found {}", self.node.describe()),
            &wanted,
        );
        e.help = Some(match wanted.as_str() {
            "a whole number" | "a number" => match &self.node.kind {
                Kind::Scalar { text, plain: false } if text.trim().parse::<f64>().is_ok() => {
                    format!("write the number without quotes: {}", text.trim())
                }
                _ if wanted == "a whole number" => {
                    "write a whole number in digits, e.g. 2".to_owned()
                }
                _ => "write a number in digits, e.g. 0.5".to_owned(),
            },
            "a boolean" => match self.node.as_str() {
                Some(
                    text @ ("yes" | "no" | "on" | "off" | "y" | "n" | "Yes" | "No" | "On" | "Off"),
                ) => {
                    format!("YAML 1.2 reads `{text}` as a string; write true or false")
                }
                _ => "write true or false".to_owned(),
            },
            "a map" => {
                "indent its keys under it, one per line (`key: value`), or write {key: value}"
                    .to_owned()
            }
            "a list" => "write one `- item` per line under it, or [a, b]".to_owned(),
            "a string" => {
                "write the text, quoted if it contains `: ` or starts with a special character"
                    .to_owned()
            }
            _ => format!("write {wanted} here"),
        });
        Err(e.at(self.node, &self.path))
    }

    fn plain(&self) -> Option<Plain> {
        match &self.node.kind {
            Kind::Scalar { text, plain: true } => Some(resolve_plain(text)),
            _ => None,
        }
    }

    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some(Plain::Int(i)) => visitor
                .visit_i64(i)
                .map_err(|e: DeError| e.at(self.node, &self.path)),
            _ => self.mismatch(&visitor),
        }
    }
}

macro_rules! integers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.integer(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.node;
        let result = match &node.kind {
            Kind::Scalar { text, plain } => match (plain, resolve_plain(text)) {
                (false, _) | (true, Plain::Str) => visitor.visit_str(text),
                (true, Plain::Null) => visitor.visit_unit(),
                (true, Plain::Bool(b)) => visitor.visit_bool(b),
                (true, Plain::Int(i)) => visitor.visit_i64(i),
                (true, Plain::Float(f)) => visitor.visit_f64(f),
            },
            Kind::Seq(_) => return self.deserialize_seq(visitor),
            Kind::Map(_) => return self.deserialize_map(visitor),
        };
        result.map_err(|e: DeError| e.at(node, &self.path))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some(Plain::Bool(b)) => visitor
                .visit_bool(b)
                .map_err(|e: DeError| e.at(self.node, &self.path)),
            _ => self.mismatch(&visitor),
        }
    }

    integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
              deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some(Plain::Int(i)) => visitor.visit_i64(i),
            Some(Plain::Float(f)) => visitor.visit_f64(f),
            _ => return self.mismatch(&visitor),
        }
        .map_err(|e: DeError| e.at(self.node, &self.path))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    /// Any scalar reads as a string, exactly as written: `0755` stays "0755", `true` "true".
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Scalar { text, .. } if !self.node.is_null() => visitor
                .visit_str(text)
                .map_err(|e: DeError| e.at(self.node, &self.path)),
            _ => self.mismatch(&visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor
                .visit_none()
                .map_err(|e: DeError| e.at(self.node, &self.path))
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor
                .visit_unit()
                .map_err(|e: DeError| e.at(self.node, &self.path))
        } else {
            self.mismatch(&visitor)
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Seq(items) => {
                let access = Seq {
                    items: items.iter().enumerate(),
                    path: &self.path,
                };
                visitor
                    .visit_seq(access)
                    .map_err(|e: DeError| e.at(self.node, &self.path))
            }
            _ => self.mismatch(&visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Map(entries) => {
                let access = Map {
                    entries: entries.iter(),
                    value: None,
                    path: &self.path,
                };
                visitor
                    .visit_map(access)
                    .map_err(|e: DeError| e.at(self.node, &self.path))
            }
            _ => self.mismatch(&visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Scalar { .. } if !self.node.is_null() => visitor
                .visit_enum(Enum {
                    key: self.node,
                    value: None,
                    path: &self.path,
                })
                .map_err(|e: DeError| e.at(self.node, &self.path)),
            Kind::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor
                    .visit_enum(Enum {
                        key,
                        value: Some(value),
                        path: &self.path,
                    })
                    .map_err(|e: DeError| e.at(self.node, &self.path))
            }
            _ => {
                let mut e = DeError::new(format!(
                    "expected one of {}, found {}",
                    variants.join(", "),
                    self.node.describe()
                ));
                e.help = Some(match variants.first() {
                    Some(first) => format!("write one of them, e.g. `{first}`"),
                    None => "remove the key".to_owned(),
                });
                Err(e.at(self.node, &self.path))
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct Seq<'a, I> {
    items: I,
    path: &'a str,
}

impl<'de, 'a, I: Iterator<Item = (usize, &'a Node)>> SeqAccess<'de> for Seq<'a, I> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => seed
                .deserialize(NodeDe {
                    node,
                    path: format!("{}[{i}]", self.path),
                })
                .map(Some),
        }
    }
}

struct Map<'a, I> {
    entries: I,
    value: Option<(&'a Node, String, Location)>,
    path: &'a str,
}

impl<'de, 'a, I: Iterator<Item = &'a (Node, Node)>> MapAccess<'de> for Map<'a, I> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let path = child_path(self.path, key.as_str().unwrap_or("?"));
        let result = seed.deserialize(NodeDe {
            node: key,
            path: path.clone(),
        });
        self.value = Some((value, path, key.loc));
        result.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some((node, path, key)) => seed
                .deserialize(NodeDe { node, path })
                .map_err(|e| e.reanchor(node, key)),
            None => Err(DeError::new(
                "a map value was read before its key".to_owned(),
            )),
        }
    }
}

struct Enum<'a> {
    key: &'a Node,
    value: Option<&'a Node>,
    path: &'a str,
}

impl<'de, 'a> EnumAccess<'de> for Enum<'a> {
    type Error = DeError;
    type Variant = Variant<'a>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Variant<'a>), DeError> {
        let path = self.path.to_owned();
        let tag = seed.deserialize(NodeDe {
            node: self.key,
            path: path.clone(),
        })?;
        Ok((
            tag,
            Variant {
                value: self.value,
                path,
            },
        ))
    }
}

struct Variant<'a> {
    value: Option<&'a Node>,
    path: String,
}

impl<'de> VariantAccess<'de> for Variant<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            None => Ok(()),
            Some(node) if node.is_null() => Ok(()),
            Some(node) => Err(DeError::new(format!(
                "expected a plain value, found {}",
                node.describe()
            ))
            .at(node, &self.path)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        match self.value {
            Some(node) => seed.deserialize(NodeDe {
                node,
                path: self.path,
            }),
            None => Err(DeError::new(
                "this value needs settings under it".to_owned(),
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_seq(
                NodeDe {
                    node,
                    path: self.path,
                },
                visitor,
            ),
            None => Err(DeError::new("this value needs a list under it".to_owned())),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_map(
                NodeDe {
                    node,
                    path: self.path,
                },
                visitor,
            ),
            None => Err(DeError::new("this value needs a map under it".to_owned())),
        }
    }
}

impl<'de> IntoDeserializer<'de, DeError> for NodeDe<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

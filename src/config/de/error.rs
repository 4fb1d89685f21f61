//! `DeError`: what went wrong while reading the node tree into the typed config, and how it
//! reads as a diagnostic (friendly type names, "did you mean" for unknown keys).

use std::fmt;

use serde::de::{self, Expected, Unexpected};

use crate::config::node::{Kind, Node};
use crate::error::{Diagnostic, Location, closest};

/// A deserialization error; the deserializer fills in where it happened. Boxed, because
/// serde passes it back through every level of the config.
#[derive(Debug)]
pub(crate) struct DeError(Box<Inner>);

#[derive(Debug)]
pub(crate) struct Inner {
    pub(super) loc: Option<Location>,
    pub(super) path: Option<String>,
    pub(super) message: String,
    pub(super) help: Option<String>,
    /// What the value should have been, when it has the wrong type or shape.
    pub(super) wanted: Option<String>,
    /// The required key that is missing, if that is the error.
    pub(super) missing: Option<&'static str>,
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
    pub(super) fn new(message: String) -> Self {
        DeError(Box::new(Inner {
            loc: None,
            path: None,
            message,
            help: None,
            wanted: None,
            missing: None,
        }))
    }

    pub(super) fn shape(message: String, wanted: &str) -> Self {
        let mut e = DeError::new(message);
        e.wanted = Some(wanted.to_owned());
        e.help = Some(format!("write {wanted} here"));
        e
    }

    pub(super) fn at(mut self, node: &Node, path: &str) -> Self {
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
    pub(super) fn reanchor(mut self, value: &Node, key: Location) -> Self {
        if self.loc == Some(value.loc) && !matches!(value.kind, Kind::Scalar { .. }) {
            self.loc = Some(key);
        }
        self
    }

    pub(crate) fn into_diagnostic(self, fallback: Location) -> Diagnostic {
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
pub(super) fn friendly(exp: &dyn fmt::Display) -> String {
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

pub(super) struct Expecting<'a>(pub(super) &'a dyn Expected);

impl fmt::Display for Expecting<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

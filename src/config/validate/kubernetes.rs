//! Pass-through Kubernetes fields (tolerations, affinity, topology spread): each must read as its
//! Kubernetes type with nothing lost.

use serde_json::Value;

use super::Checker;
use crate::config::node::{Kind, Node};
use crate::error::{Diagnostic, closest};

/// Pass-through Kubernetes fields (a list of items, or one value): each must read as its
/// Kubernetes type with nothing lost, every required key given, and known names where
/// Kubernetes takes only a few.
pub(super) fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(
    c: &mut Checker<'_>,
    path: &[&str],
    items: &[Value],
    list: bool,
) {
    let Some((key, field)) = c.root.entry(path) else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let (node, shown) = match (&field.kind, list) {
            (Kind::Seq(nodes), true) => match nodes.get(i) {
                Some(n) => (n, format!("{}[{i}]", path.join("."))),
                None => continue,
            },
            _ => (field, path.join(".")),
        };
        // Wrong types and shapes, at the exact key, from the config's own reader.
        if let Err(mut d) = crate::config::de::from_node_at::<T>(node, &shown) {
            // A whole map or list that is wrong: its key is the line a reader looks for.
            if !list && d.loc == node.loc && !matches!(node.kind, Kind::Scalar { .. }) {
                d.loc = key.loc;
            }
            c.found.push(d);
            continue;
        }
        // What YAML made of a plain value: `value: 123` is a number, where Kubernetes wants a string.
        let typed = match serde_json::from_value::<T>(item.clone()) {
            Ok(t) => t,
            Err(e) => {
                c.found.push(json_type_error(node, &shown, &e.to_string()));
                continue;
            }
        };
        let Ok(back) = serde_json::to_value(&typed) else {
            continue;
        };
        let help = "write it as in a Kubernetes pod spec (the same camelCase keys)";
        // The value is passed through as written, so a key with no value would be rendered.
        if let Some((loc, path)) = find_null(node, &shown) {
            let key = path.rsplit('.').next().unwrap_or(&path).to_owned();
            c.found.push(
                Diagnostic::new(loc, format!("`{key}` has no value"))
                    .with_path(path)
                    .with_help("give it a value, or remove the key"),
            );
            continue;
        }
        if let Some(inner) = crate::config::diff::first_difference(item, &back) {
            let key = inner.rsplit('.').next().unwrap_or(&inner).to_owned();
            let key = key.split('[').next().unwrap_or(&key).to_owned();
            c.found.push(
                Diagnostic::new(
                    node.find(&inner),
                    format!("`{key}` is not a field Kubernetes knows here"),
                )
                .with_path(format!("{shown}.{inner}"))
                .with_help(help),
            );
            continue;
        }
        // A key the Kubernetes type always has but the config left out is a required one.
        if let Some(inner) = crate::config::diff::first_difference(&back, item) {
            let (parent, missing) = inner.rsplit_once('.').unwrap_or(("", &inner));
            let at = if parent.is_empty() {
                node.loc
            } else {
                node.find(parent)
            };
            let shown_parent = if parent.is_empty() {
                shown.clone()
            } else {
                format!("{shown}.{parent}")
            };
            c.found.push(
                Diagnostic::new(at, format!("the required key `{missing}` is missing here"))
                    .with_path(shown_parent)
                    .with_help(format!(
                        "add `{missing}:` to it; Kubernetes requires this key"
                    )),
            );
            continue;
        }
        known_values(c, node, &shown, path.last().copied().unwrap_or_default());
    }
}

/// The first null value under `node` (a key written with nothing after it), with its path.
fn find_null(node: &Node, path: &str) -> Option<(crate::error::Location, String)> {
    match &node.kind {
        Kind::Scalar { .. } if node.is_null() => Some((node.loc, path.to_owned())),
        Kind::Scalar { .. } => None,
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, n)| find_null(n, &format!("{path}[{i}]"))),
        Kind::Map(entries) => entries
            .iter()
            .find_map(|(k, v)| find_null(v, &format!("{path}.{}", k.as_str().unwrap_or("?")))),
    }
}

/// A serde_json type error on a pass-through value, at the plain value it is about.
fn json_type_error(node: &Node, shown: &str, error: &str) -> Diagnostic {
    let quoted = error
        .split_once('`')
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(text, _)| text);
    if let Some(text) = quoted
        && error.ends_with("expected a string")
        && let Some((loc, path)) = find_plain(node, text, shown)
    {
        let what = if error.contains("boolean") {
            "a boolean"
        } else {
            "a number"
        };
        return Diagnostic::new(
            loc,
            format!("YAML reads `{text}` as {what}, and Kubernetes wants a string here"),
        )
        .with_path(path)
        .with_help(format!("quote it: \"{text}\""));
    }
    Diagnostic::new(node.loc, error.to_owned())
        .with_path(shown)
        .with_help("write it as in a Kubernetes pod spec (the same camelCase keys)")
}

/// The first plain scalar with this text under `node`, with its key path.
fn find_plain(node: &Node, text: &str, path: &str) -> Option<(crate::error::Location, String)> {
    match &node.kind {
        Kind::Scalar {
            text: t,
            plain: true,
        } if t == text => Some((node.loc, path.to_owned())),
        Kind::Scalar { .. } => None,
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, n)| find_plain(n, text, &format!("{path}[{i}]"))),
        Kind::Map(entries) => entries.iter().find_map(|(k, v)| {
            find_plain(v, text, &format!("{path}.{}", k.as_str().unwrap_or("?")))
        }),
    }
}

const NODE_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];

const LABEL_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist"];

/// The values Kubernetes takes for a key of a pass-through field, where it takes only a few.
fn allowed_values(field: &str, path: &str, key: &str) -> Option<&'static [&'static str]> {
    Some(match (field, key) {
        ("tolerations", "operator") => &["Exists", "Equal"],
        ("tolerations", "effect") => &["NoSchedule", "PreferNoSchedule", "NoExecute"],
        ("topologySpread", "whenUnsatisfiable") => &["DoNotSchedule", "ScheduleAnyway"],
        ("topologySpread", "nodeAffinityPolicy" | "nodeTaintsPolicy") => &["Honor", "Ignore"],
        (_, "operator") if path.contains("nodeAffinity") => NODE_OPERATORS,
        (_, "operator") => LABEL_OPERATORS,
        _ => return None,
    })
}

fn known_values(c: &mut Checker<'_>, node: &Node, shown: &str, field: &str) {
    match &node.kind {
        Kind::Map(entries) => {
            for (k, v) in entries {
                let key = k.as_str().unwrap_or_default();
                let path = format!("{shown}.{key}");
                if let Some(text) = v.as_str()
                    && let Some(allowed) = allowed_values(field, &path, key)
                    && !allowed.contains(&text)
                {
                    let help = match closest(text, allowed) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("use one of: {}", allowed.join(", ")),
                    };
                    c.found.push(
                        Diagnostic::new(
                            v.loc,
                            format!("`{text}` is not a value Kubernetes takes for `{key}`"),
                        )
                        .with_path(path.clone())
                        .with_help(help),
                    );
                }
                known_values(c, v, &path, field);
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                known_values(c, item, &format!("{shown}[{i}]"), field);
            }
        }
        Kind::Scalar { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::config::validate::tests::problems;

    #[test]
    fn pass_through_fields_are_checked_like_kubernetes() {
        let found = problems("postgres:\n  tolerations:\n    - {key: a, operator: Exist}\n");
        assert!(found[0].contains("did you mean `Exists`?"), "{found:?}");
        let found = problems(
            "postgres:\n  tolerations:\n    - {key: a, operator: Exists, tolerationSeconds: null}\n",
        );
        assert!(
            found[0].starts_with(
                "postgres.tolerations[0].tolerationSeconds: `tolerationSeconds` has no value"
            ),
            "{found:?}"
        );
        let found = problems(
            "postgres:\n  topologySpread:\n    - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n",
        );
        assert!(found[0].contains("the required key `maxSkew`"), "{found:?}");
        let found =
            problems("postgres:\n  tolerations:\n    - {key: a, operator: Equal, value: true}\n");
        assert!(
            found[0].starts_with("postgres.tolerations[0].value: YAML reads `true` as a boolean"),
            "{found:?}"
        );
        let ok = "postgres:\n  tolerations:\n    - {key: a, operator: Equal, value: b, effect: NoSchedule}\n  affinity:\n    podAntiAffinity:\n      preferredDuringSchedulingIgnoredDuringExecution:\n        - weight: 100\n          podAffinityTerm:\n            topologyKey: kubernetes.io/hostname\n            labelSelector: {matchExpressions: [{key: app, operator: In, values: [x]}]}\n";
        assert_eq!(problems(ok), Vec::<String>::new());
    }
}

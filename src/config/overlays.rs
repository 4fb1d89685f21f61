//! Environments: the overlays under `environments:`, each merged over the base config. Every
//! one is checked, chosen or not; a problem is reported at its place in the overlay.

use super::node::{self, Kind, Node};
use super::vars::{self, Vars};
use super::{Config, de, validate};
use crate::error::{Diagnostic, Location, SourceId, closest};

/// An environment merged over the base: its name, the merged tree, and the lines of its overlay.
pub(super) type Merged = (String, Node, (usize, usize));

/// Each environment of `overlays` (the `environments:` entry) merged over `root`; a problem
/// with the overlays themselves goes to `found`.
pub(super) fn merged(
    root: &Node,
    overlays: Option<&(Node, Node)>,
    found: &mut Vec<Diagnostic>,
) -> Vec<Merged> {
    let mut merged_envs: Vec<Merged> = Vec::new();
    if let Some((key, overlays)) = overlays {
        match &overlays.kind {
            Kind::Map(envs) => {
                for (name, overlay) in envs {
                    let env_name = name.as_str().unwrap_or_default().to_owned();
                    if !matches!(overlay.kind, Kind::Map(_)) && !overlay.is_null() {
                        found.push(
                            Diagnostic::new(
                                overlay.loc,
                                format!(
                                    "environment `{env_name}` must be a map of keys to change, not {}",
                                    overlay.describe()
                                ),
                            )
                            .with_path(format!("environments.{env_name}"))
                            .with_help(format!(
                                "e.g. {env_name}: {{namespace: {env_name}}}"
                            )),
                        );
                        continue;
                    }
                    let mut merged = root.clone();
                    node::merge(
                        &mut merged,
                        if overlay.is_null() {
                            Node {
                                loc: overlay.loc,
                                kind: Kind::Map(Vec::new()),
                            }
                        } else {
                            overlay.clone()
                        },
                    );
                    let lines = (name.loc.line, last_line(overlay).max(name.loc.line));
                    merged_envs.push((env_name, merged, lines));
                }
            }
            _ if overlays.is_null() => {}
            _ => found.push(
                Diagnostic::new(
                    key.loc,
                    "environments is a map from an environment name to the keys it changes",
                )
                .with_path("environments")
                .with_help("e.g. environments: {prod: {namespace: prod}}"),
            ),
        }
    }
    merged_envs
}

/// The index of environment `env` among `merged_envs`; a name that is none of them is a problem.
pub(super) fn select(
    id: SourceId,
    env: Option<&str>,
    merged_envs: &[Merged],
    overlays: Option<&(Node, Node)>,
    found: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let selected = env.and_then(|e| merged_envs.iter().position(|(name, _, _)| name == e));
    if let Some(env) = env
        && selected.is_none()
    {
        let known: Vec<&str> = merged_envs.iter().map(|(n, _, _)| n.as_str()).collect();
        let help = match (closest(env, &known), known.is_empty()) {
            (Some(near), _) => format!("did you mean `{near}`?"),
            (None, true) => "this config has no `environments:`".to_owned(),
            (None, false) => format!("the environments here are: {}", known.join(", ")),
        };
        let loc = overlays.map_or(Location::new(id, 1, 1, 1), |(k, _)| k.loc);
        found.push(
            Diagnostic::new(loc, format!("there is no environment `{env}`"))
                .with_path("environments")
                .with_help(help),
        );
    }
    selected
}

/// The other environments: their own problems, each one not already in `seen` reported once.
pub(super) fn check_others(
    merged_envs: &[Merged],
    vars: &dyn Vars,
    seen: &mut Vec<(Location, String)>,
    found: &mut Vec<Diagnostic>,
) {
    // The other environments: problems of their own, each reported once. Their variables
    // are not read: they may be set only where that environment is rendered.
    for (name, merged, lines) in merged_envs {
        let read = de::from_node_collecting::<Config>(merged);
        let mut problems = read.errors.clone();
        if let Some(config) = &read.value {
            for mut d in validate::validate(config, &read.tree, &vars::AnyVars(vars)) {
                d.path = read.original_path(&d.path);
                problems.push(d);
            }
        }
        for mut d in problems {
            let key = (d.loc, d.message.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            in_overlay(&mut d, name, *lines, true);
            found.push(d);
        }
    }
}

/// The last line a node (and everything under it) is on.
fn last_line(node: &Node) -> usize {
    match &node.kind {
        Kind::Scalar { .. } => node.loc.line,
        Kind::Seq(items) => items.iter().map(last_line).max().unwrap_or(node.loc.line),
        Kind::Map(entries) => entries
            .iter()
            .map(|(_, v)| last_line(v))
            .max()
            .unwrap_or(node.loc.line),
    }
}

/// A problem found with environment `env` merged in: inside its overlay, the key path is the
/// overlay's; elsewhere (a base value the overlay makes wrong), the message names the
/// environment, unless it is the one asked for.
pub(super) fn in_overlay(d: &mut Diagnostic, env: &str, lines: (usize, usize), note: bool) {
    if (lines.0..=lines.1).contains(&d.loc.line) {
        d.path = if d.path.is_empty() {
            format!("environments.{env}")
        } else {
            format!("environments.{env}.{}", d.path)
        };
    } else if note {
        d.message.push_str(&format!(" (with environment `{env}`)"));
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load;
    use crate::config::tests::Only;
    use crate::error::SourceId;

    const TEXT: &str = "name: shop\n\
        postgres:\n  password: {fromEnv: PGSTATE_DEV_PASSWORD}\n\
        environments:\n  prod:\n    postgres:\n      password: {fromEnv: PGSTATE_PROD_PASSWORD}\n      port: 0\n";

    #[test]
    fn every_overlay_is_checked_but_only_the_chosen_one_reads_variables() {
        let found =
            load(SourceId(0), TEXT, None, &Only("PGSTATE_DEV_PASSWORD")).expect_err("port 0");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "environments.prod.postgres.port");
        assert_eq!(found[0].loc.line, 8);
        let found = load(
            SourceId(0),
            TEXT,
            Some("prod"),
            &Only("PGSTATE_DEV_PASSWORD"),
        )
        .expect_err("unset");
        let paths: Vec<&str> = found.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "environments.prod.postgres.password.fromEnv",
                "environments.prod.postgres.port"
            ]
        );
    }

    #[test]
    fn a_base_value_an_overlay_makes_wrong_names_the_overlay() {
        let text = "app: {image: a/b:1, poolSize: 10}\nenvironments:\n  prod: {app: {poolSize: 50}}\n  dev: {}\n";
        let found = load(SourceId(0), text, None, &Only("")).expect_err("budget");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path, "environments.prod.app.poolSize");
        let text = "app: {image: a/b:1}\nenvironments:\n  prod: {app: {replicas: 12}}\n";
        let found = load(SourceId(0), text, None, &Only("")).expect_err("budget");
        assert_eq!(found[0].path, "environments.prod.app.replicas", "{found:?}");
        let text = "app: {image: a/b:1, replicas: 5, poolSize: 20}\nenvironments:\n  prod: {namespace: prod}\n";
        let found = load(SourceId(0), text, None, &Only("")).expect_err("budget");
        assert_eq!(
            found.len(),
            1,
            "reported once, not once per environment: {found:?}"
        );
    }
}

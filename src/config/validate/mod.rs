//! The semantic rules: a config that parsed can still be wrong. Each rule reports the key path,
//! the place in the file, what is wrong and what would be right. `validate()` runs the rules of
//! each area (one module each) and the input boundary's; `Checker` is what they report to.

mod app;
mod backup;
pub(crate) mod boundary;
mod credentials;
mod kubernetes;
pub(crate) mod names;
mod pods;
pub(crate) mod postgres;
mod redis;
mod resources;
mod targets;

use app::app_rules;
use backup::backup_rules;
use pods::pod_rules;
use postgres::{init_sql, metrics};
use redis::redis_rules;
use targets::target_rules;

use super::lint_id::LintId;
use super::model::Config;
use super::node::{Kind, Node};
use super::vars::Vars;
use crate::error::{Diagnostic, closest};

struct Checker<'a> {
    root: &'a Node,
    found: Vec<Diagnostic>,
}

impl Checker<'_> {
    /// An error about the value at `path` (or its nearest parent, when it was defaulted).
    fn value(&mut self, path: &[&str], message: impl Into<String>, help: impl Into<String>) {
        let loc = self.root.place(path);
        self.found.push(
            Diagnostic::new(loc, message)
                .with_path(path.join("."))
                .with_help(help),
        );
    }

    /// An error about the value at a dotted `path` that may index lists (`a.b[2]`).
    fn at(&mut self, path: String, message: impl Into<String>, help: impl Into<String>) {
        let loc = self.root.find(&path);
        self.found.push(
            Diagnostic::new(loc, message)
                .with_path(path)
                .with_help(help),
        );
    }

    /// An error about a key itself (a map key under `path`).
    fn key(
        &mut self,
        path: &[&str],
        key: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let mut full: Vec<&str> = path.to_vec();
        full.push(key);
        let loc = match self.root.entry(&full) {
            Some((k, _)) => k.loc,
            None => self.root.locate(path),
        };
        self.found.push(
            Diagnostic::new(loc, message)
                .with_path(full.join("."))
                .with_help(help),
        );
    }
}

fn port(c: &mut Checker<'_>, path: &[&str], port: i64) {
    if !(1..=65535).contains(&port) {
        c.value(
            path,
            format!("{port} is not a port"),
            "a port is between 1 and 65535; PostgreSQL's is 5432",
        );
    }
}

/// Checks every rule; returns all problems found, in file order.
pub fn validate(config: &Config, root: &Node, vars: &dyn Vars) -> Vec<Diagnostic> {
    let mut c = Checker {
        root,
        found: Vec::new(),
    };
    names::names(&mut c, config);
    empty_sections(&mut c);
    postgres::postgres(&mut c, config, vars);
    if let Some(init) = &config.postgres.init_sql {
        init_sql(&mut c, init);
    }
    metrics(&mut c, config);
    if let Some(app) = &config.app {
        app_rules(&mut c, config, app);
    }
    if let Some(redis) = &config.redis {
        redis_rules(&mut c, config, redis, vars);
    }
    if let Some(backup) = &config.backup {
        backup_rules(&mut c, config, backup);
    }
    lint_allow(&mut c, config);
    target_rules(&mut c, config);
    credentials::credentials(&mut c, config, vars);
    pod_rules(&mut c, config);
    boundary::check(&mut c, config);
    c.found
        .sort_by_key(|d| (d.loc.source, d.loc.line, d.loc.col));
    c.found
}

/// `lint.allow`: every id is a finding id.
fn lint_allow(c: &mut Checker<'_>, config: &Config) {
    let root = c.root;
    let ids: Vec<&str> = LintId::ALL.iter().map(|id| id.as_str()).collect();
    for id in config.lint.allow.0.keys() {
        if !ids.contains(&id.as_str()) {
            let help = match closest(id, &ids) {
                Some(near) => {
                    format!("did you mean {near}? `pgstate check` prints each finding's id")
                }
                None => format!("the finding ids are {}", ids.join(", ")),
            };
            let allow = root.entry(&["lint", "allow"]).map(|(_, v)| v);
            let (loc, path) = match allow.map(|a| &a.kind) {
                Some(Kind::Seq(items)) => items
                    .iter()
                    .enumerate()
                    .find(|(_, n)| n.as_str() == Some(id.as_str()))
                    .map_or_else(
                        || (root.place(&["lint", "allow"]), "lint.allow".to_owned()),
                        |(i, n)| (n.loc, format!("lint.allow[{i}]")),
                    ),
                _ => match root.entry(&["lint", "allow", id]) {
                    Some((k, _)) => (k.loc, format!("lint.allow.{id}")),
                    None => (root.place(&["lint", "allow"]), "lint.allow".to_owned()),
                },
            };
            c.found.push(
                Diagnostic::new(loc, format!("`{id}` is not a finding id"))
                    .with_path(path)
                    .with_help(help),
            );
        }
    }
}

/// `backup:` or `app:` with nothing under it reads as null, which turns the part off: say so
/// rather than render without it. (`backup: null` says it on purpose, e.g. in an overlay.)
fn empty_sections(c: &mut Checker<'_>) {
    for (key, message, help) in [
        (
            "backup",
            "nothing is written under it, which reads as null and turns backups off",
            "write `backup: {}` to back up daily at 02:00 with the defaults, or `backup: null` to turn backups off",
        ),
        (
            "redis",
            "nothing is written under it, which reads as null: no Redis is rendered",
            "give Redis's image under it (redis: {image: redis:7.4-alpine}), or write `redis: null`",
        ),
        (
            "app",
            "nothing is written under it, which reads as null: no app is rendered",
            "give the app's image under it (app: {image: ghcr.io/acme/shop:1.4.2}), or write `app: null`",
        ),
    ] {
        if let Some((k, v)) = c.root.entry(&[key])
            && matches!(&v.kind, Kind::Scalar { text, plain: true } if text.is_empty())
        {
            let loc = k.loc;
            c.found
                .push(Diagnostic::new(loc, message).with_path(key).with_help(help));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SourceId;

    struct NoVars;

    impl Vars for NoVars {
        fn get(&self, _name: &str) -> Option<String> {
            None
        }
    }

    /// The problems of a config text, as `path: message` lines.
    pub(super) fn problems(text: &str) -> Vec<String> {
        match crate::config::load(SourceId(0), text, None, &NoVars) {
            Ok(_) => Vec::new(),
            Err(found) => found
                .iter()
                .map(|d| {
                    format!(
                        "{}: {} ({})",
                        d.path,
                        d.message,
                        d.help.clone().unwrap_or_default()
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn empty_sections_are_errors_and_null_is_off() {
        assert!(problems("backup:\n")[0].starts_with("backup: nothing is written"));
        assert!(problems("app:\n")[0].starts_with("app: nothing is written"));
        assert_eq!(problems("backup: null\napp: ~\n"), Vec::<String>::new());
    }
}

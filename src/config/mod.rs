//! Reading configs: file -> node tree (with places) -> overlay -> typed config -> validated.
//!
//! config is the ground floor: it imports nothing of pgstate but `error` and `pool`
//! (the crate-wide layering test in src/layers.rs says so). `load()` takes one config text the whole way; `load_all()`
//! (in load.rs) finds and reads the files of a run.

pub(crate) mod cron;
pub mod de;
pub(crate) mod defaults;
pub(crate) mod diff;
pub(crate) mod image;
mod init_sql;
pub(crate) mod lint_id;
mod load;
pub(crate) mod model;
pub(crate) mod names;
pub mod node;
mod overlays;
pub(crate) mod paths;
pub(crate) mod units;
pub mod validate;
pub mod vars;

pub(crate) use init_sql::{MAX_INIT_FILES, read_init_files};
pub(crate) use load::{BUILTIN_NAME, DEFAULT_FILE, load_all};
pub use model::Config;

use crate::error::{Diagnostic, Location, Sources};
use node::{Kind, Node};
use vars::Vars;

/// One config, ready to render: the typed config and the tree it came from. The config is
/// boxed: it is a few kilobytes, and a run of many configs moves each one several times (out of
/// the threads that load them, into the list of configs) before rendering.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Box<Config>,
    pub(crate) root: Node,
}

/// The config files of a run, in order, and the sources their diagnostics point into.
#[derive(Debug, Default)]
pub(crate) struct Configs {
    pub(crate) sources: Sources,
    pub(crate) items: Vec<Loaded>,
}

/// Parses, overlays, types and validates one config text. Every environment overlay is
/// checked, chosen or not; `env` picks the one whose config is returned.
pub fn load(
    id: crate::error::SourceId,
    text: &str,
    env: Option<&str>,
    vars: &dyn Vars,
) -> Result<Loaded, Vec<Diagnostic>> {
    let mut root = node::parse(id, text).map_err(|d| vec![d])?;
    let Kind::Map(entries) = &mut root.kind else {
        return Err(vec![
            Diagnostic::new(
                root.loc,
                format!(
                    "a config is a map of keys, this document is {}",
                    root.describe()
                ),
            )
            .with_help("start with `name: postgresql` and `postgres:` (see `pgstate init`)"),
        ]);
    };
    let overlays = entries
        .iter()
        .position(|(k, _)| k.as_str() == Some("environments"))
        .map(|i| entries.remove(i));
    let mut found = Vec::new();
    let mut merged_envs = overlays::merged(&root, overlays.as_ref(), &mut found);
    let selected = overlays::select(id, env, &merged_envs, overlays.as_ref(), &mut found);
    // The config asked for: the base, or the chosen environment merged over it.
    let (chosen, chosen_env) = match selected {
        Some(i) => {
            let (name, merged, lines) = merged_envs.remove(i);
            (merged, Some((name, lines)))
        }
        None => (root, None),
    };
    // Every unknown key and wrong type is reported, and the value rules still run on what
    // could be read.
    let read = de::from_node_collecting::<Config>(&chosen);
    let mut own = read.errors.clone();
    if let Some(config) = &read.value {
        for mut d in validate::validate(config, &read.tree, vars) {
            d.path = read.original_path(&d.path);
            own.push(d);
        }
    }
    let result = read.value;
    if let Some((name, lines)) = &chosen_env {
        for d in &mut own {
            overlays::in_overlay(d, name, *lines, false);
        }
    }
    let mut seen: Vec<(Location, String)> =
        own.iter().map(|d| (d.loc, d.message.clone())).collect();
    found.append(&mut own);
    overlays::check_others(&merged_envs, vars, &mut seen, &mut found);
    found.sort_by_key(|d| (d.loc.source, d.loc.line, d.loc.col));
    match result {
        Some(config) if found.is_empty() => Ok(Loaded {
            config: Box::new(config),
            root: chosen,
        }),
        _ => Err(found),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::vars::Vars;

    /// Variables where only the one named is set.
    pub(super) struct Only(pub(super) &'static str);

    impl Vars for Only {
        fn get(&self, name: &str) -> Option<String> {
            (name == self.0).then(|| "secret".to_owned())
        }
    }
}

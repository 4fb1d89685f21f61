//! The command bodies, one file per command; each runs the pipeline as far as it needs. Below,
//! what several of them share: the built-in example's note, and how a run's databases are named.

pub(crate) mod check;
pub(crate) mod connection;
pub(crate) mod graph;
pub(crate) mod init;
pub(crate) mod kubectl;
pub(crate) mod render;
pub mod restore;
pub(crate) mod schema;
pub(crate) mod secret;
pub(crate) mod upgrade;

use std::io::Write;

use crate::cli::ConfigArgs;
use crate::config::vars::Vars;
use crate::error::{self, Error};
use crate::pipeline::{Document, render_all};
use crate::{config, output};

/// The configs of a command that prints about them rather than their objects: every one loads
/// and renders (a config that does not render is refused here too), and the built-in example
/// says so on stderr.
pub(crate) fn rendered_configs(
    args: &ConfigArgs,
    vars: &dyn Vars,
    stderr: &mut dyn Write,
) -> Result<config::Configs, Error> {
    let (configs, _) = render_all(args, vars)?;
    example_note(&configs, stderr);
    Ok(configs)
}

/// Whether a run fell back to the built-in example because it found no config.
pub(crate) fn is_example(configs: &config::Configs) -> bool {
    configs.sources.name(error::SourceId(0)) == config::BUILTIN_NAME
}

/// Says on stderr that the run uses the built-in example, so that nobody mistakes its output
/// for their own database's.
pub(crate) fn example_note(configs: &config::Configs, stderr: &mut dyn Write) {
    if is_example(configs) {
        let _ = writeln!(
            stderr,
            "note: no pgstate.yaml here, so this is the built-in calculator example; `pgstate init` writes a config to start from"
        );
    }
}

/// A database of a run, for messages: `namespace/name (file)`.
pub(crate) fn about(configs: &config::Configs, loaded: &config::Loaded) -> String {
    format!(
        "{}/{} ({})",
        loaded.config.namespace,
        loaded.config.name,
        configs.sources.name(loaded.root.loc.source)
    )
}

/// "N databases were given (a, b, ...)", for errors that ask to pick one.
pub(crate) fn several(configs: &config::Configs) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<&str> = configs
        .items
        .iter()
        .take(SHOWN)
        .map(|l| l.config.name.as_str())
        .collect();
    if configs.items.len() > SHOWN {
        names.push("...");
    }
    format!(
        "{} databases were given ({})",
        configs.items.len(),
        names.join(", ")
    )
}

/// Each database's objects with the folder `--out-dir` gives them.
pub(crate) fn groups(configs: &config::Configs, docs: Vec<Vec<Document>>) -> Vec<output::Group> {
    configs
        .items
        .iter()
        .zip(docs)
        .map(|(loaded, docs)| output::Group {
            folder: format!("{}/{}", loaded.config.namespace, loaded.config.name),
            docs,
        })
        .collect()
}

//! `pgstate schema` (the config's JSON Schema) and `pgstate completions` (shell completions).

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Error;
use crate::{config, output};

/// Prints the JSON Schema of pgstate.yaml.
pub(crate) fn schema(stdout: &mut dyn Write) -> Result<u8, Error> {
    let schema = config::model::schema();
    let mut text = serde_json::to_string_pretty(&schema).map_err(|e| Error::Bug(e.to_string()))?;
    text.push('\n');
    output::write_stdout(stdout, text.as_bytes())?;
    Ok(0)
}

/// Prints the completion script for `shell`.
pub(crate) fn completions(shell: Shell, stdout: &mut dyn Write) -> Result<u8, Error> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "pgstate", &mut buf);
    output::write_stdout(stdout, &buf)?;
    Ok(0)
}

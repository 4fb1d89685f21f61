//! `run()`: arguments in, exit code out. clap parses the command line, and `dispatch` hands
//! each command to its body in `commands/`; the stages a render goes through are in
//! `pipeline.rs` (load → validate → view → render → read back → typed check → collisions →
//! selection), and output is each command's last step.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands;
use crate::config::vars::{ProcessEnv, Vars};
use crate::error::Error;

/// Runs pgstate with these arguments; returns the exit code. Manifests and asked-for data go
/// to `stdout`, everything else to `stderr`.
pub fn run<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            let code = u8::try_from(e.exit_code()).unwrap_or(2);
            let stream: &mut dyn Write = if code == 0 { stdout } else { stderr };
            let _ = stream.write_all(text.as_bytes());
            return code;
        }
    };
    let vars = ProcessEnv {
        allow: cli.allow_env,
    };
    match dispatch(cli.command, stdout, stderr, &vars) {
        Ok(code) => code,
        Err(e) => {
            let _ = write!(stderr, "{e}");
            e.exit_code()
        }
    }
}

fn dispatch(
    command: Command,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    match command {
        Command::Render(args) => commands::render::run(&args, stdout, stderr, vars),
        Command::Restore(args) => commands::restore::run(&args, stdout, stderr, vars),
        Command::Check(args) => commands::check::run(&args, stdout, stderr, vars),
        Command::Upgrade(args) => commands::upgrade::run(&args, stdout, stderr, vars),
        Command::Schema => commands::schema::schema(stdout),
        Command::Apply(args) => commands::kubectl::apply(&args, stdout, stderr, vars),
        Command::Diff(args) => commands::kubectl::diff(&args, stdout, stderr, vars),
        Command::Connection(args) => commands::connection::run(&args, stdout, stderr, vars),
        Command::Secret(args) => commands::secret::run(&args, stdout, stderr, vars),
        Command::Graph(args) => commands::graph::run(&args, stdout, stderr, vars),
        Command::Init(args) => commands::init::run(&args, stdout, stderr),
        Command::Completions { shell } => commands::schema::completions(shell, stdout),
    }
}

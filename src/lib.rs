//! pgstate: one small, typed YAML file in; the Kubernetes manifests that run PostgreSQL out.

pub mod cli;
pub mod config;
pub mod error;
pub mod manifest;
pub mod output;
pub mod render;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

use cli::{Cli, Command, ConfigArgs, RenderArgs, RestoreArgs};
use config::validate::{ProcessEnv, Vars};
use error::{Error, closest};
use render::Document;

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
            let text = e.render().ansi().to_string();
            let code = u8::try_from(e.exit_code()).unwrap_or(2);
            let stream: &mut dyn Write = if code == 0 { stdout } else { stderr };
            let _ = stream.write_all(text.as_bytes());
            return code;
        }
    };
    match dispatch(cli.command, stdout, stderr, &ProcessEnv) {
        Ok(code) => code,
        Err(e) => {
            let _ = write!(stderr, "{e}");
            e.exit_code()
        }
    }
}

fn dispatch(command: Command, stdout: &mut dyn Write, stderr: &mut dyn Write, vars: &dyn Vars) -> Result<u8, Error> {
    match command {
        Command::Render(args) => render_command(&args, stdout, stderr, vars),
        Command::Restore(args) => restore_command(&args, stdout, vars),
    }
}

/// Renders every config of a run.
pub fn render_all(args: &ConfigArgs, vars: &dyn Vars) -> Result<(config::Configs, Vec<Document>), Error> {
    let configs = config::load_all(&args.config, args.env.as_deref(), vars)?;
    let mut docs = Vec::new();
    for loaded in &configs.items {
        docs.extend(render::render(&loaded.config, vars)?);
    }
    Ok((configs, docs))
}

/// The kinds `--only` accepts.
const KINDS: &[&str] = &[
    "Secret",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Service",
    "StatefulSet",
    "CronJob",
    "Deployment",
    "NetworkPolicy",
];

fn only(docs: Vec<Document>, kinds: &[String]) -> Result<Vec<Document>, Error> {
    if kinds.is_empty() {
        return Ok(docs);
    }
    let mut wanted = Vec::new();
    for kind in kinds {
        match KINDS.iter().find(|k| k.eq_ignore_ascii_case(kind.trim())) {
            Some(k) => wanted.push(*k),
            None => {
                let hint = closest(kind, KINDS).map_or_else(
                    || format!("the kinds are {}", KINDS.join(", ")),
                    |k| format!("did you mean {k}?"),
                );
                return Err(Error::Usage(format!("--only: `{kind}` is not a kind pgstate renders; {hint}")));
            }
        }
    }
    Ok(docs.into_iter().filter(|d| wanted.contains(&d.kind.as_str())).collect())
}

fn render_command(args: &RenderArgs, stdout: &mut dyn Write, stderr: &mut dyn Write, vars: &dyn Vars) -> Result<u8, Error> {
    let (configs, docs) = render_all(&args.config, vars)?;
    let docs = only(docs, &args.only)?;
    output::emit(&docs, &args.output, stdout)?;
    if configs.sources.name(error::SourceId(0)) == config::BUILTIN_NAME
        && let Some(loaded) = configs.items.first()
        && loaded.config.postgres.password.secret.is_none()
        && loaded.config.postgres.password.value.is_none()
        && loaded.config.postgres.password.from_env.is_none()
    {
        let name = format!("{}-credentials", loaded.config.name);
        let _ = writeln!(
            stderr,
            "note: no pgstate.yaml here, so this is the built-in calculator example.\n      Its password is read from Secret {name}; create it once with:\n      kubectl create secret generic {name} --from-literal=password=\"$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')\""
        );
    }
    Ok(0)
}

fn restore_command(args: &RestoreArgs, stdout: &mut dyn Write, vars: &dyn Vars) -> Result<u8, Error> {
    let configs = config::load_all(&args.config.config, args.config.env.as_deref(), vars)?;
    let [loaded] = configs.items.as_slice() else {
        return Err(Error::Usage("restore works on one config at a time; pass one -c FILE".into()));
    };
    let dump = match (&args.from, args.latest) {
        (Some(from), false) => from.clone(),
        _ => "latest".to_owned(),
    };
    if dump.contains('/') || dump.starts_with('.') || dump.is_empty() {
        return Err(Error::Usage(format!("--from takes a file name on the backup volume, such as {}-20260101T020000Z-00.dump, not `{dump}`", loaded.config.name)));
    }
    let doc = render::restore_job(&loaded.config, &dump, vars)?;
    output::emit(&[doc], &args.output, stdout)?;
    Ok(0)
}

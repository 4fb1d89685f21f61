//! pgstate: one small, typed YAML file in; the Kubernetes manifests that run PostgreSQL out.

pub mod bitnami;
pub mod check;
pub mod cli;
pub mod collide;
pub mod commands;
pub mod config;
pub mod drift;
pub mod error;
pub mod inspect;
pub mod manifest;
pub mod output;
pub mod pipeline;
mod pool;
pub mod readback;
pub mod render;
pub mod upgrade;
pub mod yaml;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

use clap::CommandFactory;
use cli::{Cli, Command, ConfigArgs, DryRun, KubectlArgs, RenderArgs};
use config::vars::{ProcessEnv, Vars};
use error::{Error, closest};
use pipeline::Document;

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
        Command::Render(args) => render_command(&args, stdout, stderr, vars),
        Command::Restore(args) => commands::restore::restore_command(&args, stdout, stderr, vars),
        Command::Check(args) => check::run(&args, stdout, stderr, vars),
        Command::Upgrade(args) => upgrade::run(&args, stdout, stderr, vars),
        Command::Schema => {
            let schema = config::model::schema();
            let mut text =
                serde_json::to_string_pretty(&schema).map_err(|e| Error::Bug(e.to_string()))?;
            text.push('\n');
            output::write_stdout(stdout, text.as_bytes())?;
            Ok(0)
        }
        Command::Apply(args) => kubectl_command(
            "apply",
            &args.config,
            &args.kubectl,
            Apply {
                dry_run: args.dry_run,
                example: args.example,
            },
            (stdout, stderr),
            vars,
        ),
        Command::Diff(args) => kubectl_command(
            "diff",
            &args.config,
            &args.kubectl,
            Apply {
                dry_run: None,
                example: true,
            },
            (stdout, stderr),
            vars,
        ),
        Command::Connection(args) => {
            let (configs, _) = render_all(&args.config, vars)?;
            example_note(&configs, stderr);
            if configs.items.len() > 1 && args.format == cli::ConnectionFormat::Url {
                return Err(Error::Usage(format!(
                    "--format url prints one URL, and {}; pick one with --name, or use --format env or yaml for a block each",
                    several(&configs)
                )));
            }
            let blocks: Vec<(String, String)> = configs
                .items
                .iter()
                .map(|loaded| {
                    let ctx = render::Context::new(&loaded.config, vars);
                    (
                        about(&configs, loaded),
                        inspect::connection(&loaded.config, &ctx, args.format),
                    )
                })
                .collect();
            output::write_stdout(stdout, inspect::blocks(&blocks, args.format).as_bytes())?;
            Ok(0)
        }
        Command::Secret(args) => {
            let password = match &args.from_env {
                // The command line names this variable itself: it needs no --allow-env.
                Some(var) => match std::env::var(var).ok() {
                    Some(v) if !v.is_empty() => Some(v),
                    _ => {
                        return Err(Error::Usage(format!(
                            "the variable {var} is not set or empty"
                        )));
                    }
                },
                None => None,
            };
            let (configs, _) = render_all(&args.config, vars)?;
            example_note(&configs, stderr);
            if password.is_some() && configs.items.len() > 1 {
                return Err(Error::Usage(format!(
                    "--from-env gives one password, and {}; pick one with --name, or use --generate for a password each",
                    several(&configs)
                )));
            }
            let ctxs: Vec<render::Context> = configs
                .items
                .iter()
                .map(|loaded| render::Context::new(&loaded.config, vars))
                .collect();
            let text = inspect::secret_manifests(&ctxs, || match &password {
                Some(p) => Ok(p.clone()),
                None => inspect::generate_password(),
            })?;
            output::write_stdout(stdout, text.as_bytes())?;
            Ok(0)
        }
        Command::Graph(args) => {
            let (configs, _) = render_all(&args.config, vars)?;
            example_note(&configs, stderr);
            let ctxs: Vec<render::Context> = configs
                .items
                .iter()
                .map(|loaded| render::Context::new(&loaded.config, vars))
                .collect();
            output::write_stdout(stdout, inspect::graph(&ctxs, args.format).as_bytes())?;
            Ok(0)
        }
        Command::Init(args) if args.from_bitnami.is_some() => {
            bitnami::init_command(&args, stdout, stderr)
        }
        Command::Init(args) => {
            let text = inspect::init_config(args.preset);
            if args.output.as_os_str() == "-" {
                output::write_stdout(stdout, text.as_bytes())?;
                return Ok(0);
            }
            if args.output.exists() && !args.force {
                return Err(Error::Usage(format!(
                    "{} exists; pass --force to overwrite it",
                    args.output.display()
                )));
            }
            output::write_atomic(&args.output, text.as_bytes())?;
            // `render` finds ./pgstate.yaml by itself; any other file must be named.
            let next = if args.output == std::path::Path::new(config::DEFAULT_FILE) {
                "pgstate render".to_owned()
            } else {
                format!(
                    "pgstate render -c {}",
                    shell_word(&args.output.to_string_lossy())
                )
            };
            let _ = writeln!(stderr, "wrote {}; next: {next}", args.output.display());
            Ok(0)
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "pgstate", &mut buf);
            output::write_stdout(stdout, &buf)?;
            Ok(0)
        }
    }
}

/// Whether a run fell back to the built-in example because it found no config.
fn is_example(configs: &config::Configs) -> bool {
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

/// A word a POSIX shell reads back as itself: as it is when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A database of a run, for messages: `namespace/name (file)`.
fn about(configs: &config::Configs, loaded: &config::Loaded) -> String {
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

fn kubectl_common(args: &KubectlArgs, argv: &mut Vec<String>) {
    if let Some(context) = &args.context {
        argv.push(format!("--context={context}"));
    }
    if let Some(ns) = &args.namespace {
        argv.push(format!("--namespace={ns}"));
    }
    argv.extend(["-f".to_owned(), "-".to_owned()]);
    argv.extend(args.extra.iter().cloned());
}

/// How `kubectl_command` sends the objects.
struct Apply {
    dry_run: Option<DryRun>,
    /// Whether the built-in example may go to a cluster when no config is found.
    example: bool,
}

/// Pipes the render to `kubectl apply` or `kubectl diff`; kubectl's exit code decides ours.
fn kubectl_command(
    verb: &str,
    config: &ConfigArgs,
    kubectl: &KubectlArgs,
    how: Apply,
    out: (&mut dyn Write, &mut dyn Write),
    vars: &dyn Vars,
) -> Result<u8, Error> {
    let (stdout, stderr) = out;
    let (configs, docs) = render_all(config, vars)?;
    if is_example(&configs) && !how.example {
        return Err(Error::Usage(format!(
            "no pgstate.yaml here: {verb} would send the built-in calculator example to your cluster; \
             write your config with `pgstate init` (or name one with -c FILE), or pass --example to {verb} the example on purpose"
        )));
    }
    example_note(&configs, stderr);
    let input = output::stream(&groups(&configs, docs), cli::Format::Yaml)?;
    // Server-side apply, except for a client-side dry run: kubectl refuses
    // `--dry-run=client` together with `--server-side`.
    let mut argv: Vec<String> = vec![verb.to_owned()];
    match how.dry_run {
        Some(DryRun::Client) => argv.push("--dry-run=client".to_owned()),
        Some(DryRun::Server) => {
            argv.push("--server-side".to_owned());
            argv.push("--dry-run=server".to_owned());
        }
        None => argv.push("--server-side".to_owned()),
    }
    argv.push("--field-manager=pgstate".to_owned());
    kubectl_common(kubectl, &mut argv);
    let majors = if verb == "diff" {
        deployed_major_changes(kubectl, &input, stderr)?
    } else {
        0
    };
    match output::kubectl(&argv, input.as_bytes(), stdout, stderr)? {
        0 if majors > 0 => Ok(1),
        0 => Ok(0),
        // `kubectl diff` exits 1 when there are differences: a finding, not a failure.
        1 if verb == "diff" => Ok(1),
        code => {
            let _ = writeln!(
                stderr,
                "error: kubectl {verb} failed (exit code {code}); its message is above"
            );
            Ok(3)
        }
    }
}

/// For `diff`: reads the deployed objects (`kubectl get -f -`) and says on stderr where the
/// render changes the PostgreSQL major version; returns how many do.
fn deployed_major_changes(
    kubectl: &KubectlArgs,
    input: &str,
    stderr: &mut dyn Write,
) -> Result<usize, Error> {
    let mut argv = vec![
        "get".to_owned(),
        "--ignore-not-found".to_owned(),
        "--output=yaml".to_owned(),
    ];
    if let Some(context) = &kubectl.context {
        argv.push(format!("--context={context}"));
    }
    argv.extend(["-f".to_owned(), "-".to_owned()]);
    let mut live = Vec::new();
    let mut errors = Vec::new();
    if output::kubectl(&argv, input.as_bytes(), &mut live, &mut errors)? != 0 {
        // kubectl diff, next, reports what is wrong with the connection.
        return Ok(0);
    }
    let notes = drift::major_changes(&String::from_utf8_lossy(&live), input);
    for note in &notes {
        let _ = writeln!(stderr, "error: {note}");
    }
    Ok(notes.len())
}

/// Loads and renders every config of a run, checks that no two of them collide, and keeps the
/// ones `--name` picks (all without it), each with its objects.
pub fn render_all(
    args: &ConfigArgs,
    vars: &dyn Vars,
) -> Result<(config::Configs, Vec<Vec<Document>>), Error> {
    load_and_render(args, vars, Keep::All)
}

/// What [`load_and_render`] keeps of each config's objects once they are checked and their
/// claims taken: dropping them at once keeps a run over many configs small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Nothing: the lists returned are empty.
    Nothing,
    /// The printed YAML, not the parsed values (left as null).
    Text,
    /// Everything.
    All,
}

/// [`render_all`], keeping what `keep` says of the objects.
pub(crate) fn load_and_render(
    args: &ConfigArgs,
    vars: &dyn Vars,
    keep: Keep,
) -> Result<(config::Configs, Vec<Vec<Document>>), Error> {
    let mut configs = config::load_all(&args.config, args.env.as_deref(), vars)?;
    // One config cannot collide with another.
    let many = configs.items.len() > 1;
    let want = match keep {
        Keep::All => pipeline::Want::Json,
        Keep::Nothing | Keep::Text => pipeline::Want::Yaml,
    };
    let rendered = pool::each(&configs.items, |loaded| {
        let mut claims = many.then(|| collide::Claims::new(loaded));
        let mut docs =
            pipeline::render_with(&loaded.config, vars, want, &mut |kind, name, tree| {
                if let Some(claims) = &mut claims {
                    claims.object(loaded, kind, name, tree);
                }
            })?;
        if keep == Keep::Nothing {
            docs.clear();
        }
        Ok((docs, claims))
    })?;
    let (docs, claims): (Vec<_>, Vec<_>) = rendered.into_iter().unzip();
    if many {
        let claims: Vec<collide::Claims> = claims.into_iter().flatten().collect();
        collide::check(&configs, &claims)?;
    }
    if args.names.is_empty() {
        return Ok((configs, docs));
    }
    let picked = select(&configs, &args.names)?;
    let (items, docs) = configs
        .items
        .into_iter()
        .zip(docs)
        .zip(picked)
        .filter_map(|(pair, picked)| picked.then_some(pair))
        .unzip();
    configs.items = items;
    Ok((configs, docs))
}

/// Which configs `--name` picks: each NAME or NAMESPACE/NAME must name exactly one.
fn select(configs: &config::Configs, names: &[String]) -> Result<Vec<bool>, Error> {
    let mut picked = vec![false; configs.items.len()];
    for wanted in names {
        let (ns, name) = match wanted.split_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, wanted.as_str()),
        };
        let found: Vec<usize> = configs
            .items
            .iter()
            .enumerate()
            .filter(|(_, l)| l.config.name == name && ns.is_none_or(|ns| l.config.namespace == ns))
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [i] => picked[*i] = true,
            [] => {
                let known: Vec<&str> = configs
                    .items
                    .iter()
                    .map(|l| l.config.name.as_str())
                    .collect();
                let hint = match closest(name, &known) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("the names are: {}", known.join(", ")),
                };
                return Err(Error::Usage(format!(
                    "--name {wanted}: no database of this run has that name; {hint}"
                )));
            }
            several => {
                let spaces: Vec<&str> = several
                    .iter()
                    .map(|i| configs.items[*i].config.namespace.as_str())
                    .collect();
                return Err(Error::Usage(format!(
                    "--name {wanted}: there is a database of that name in each of the namespaces {}; pass NAMESPACE/NAME, e.g. --name {}/{name}",
                    spaces.join(", "),
                    spaces[0]
                )));
            }
        }
    }
    Ok(picked)
}

/// Each database's objects with the folder `--out-dir` gives them.
fn groups(configs: &config::Configs, docs: Vec<Vec<Document>>) -> Vec<output::Group> {
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

/// The kinds `--only` accepts: those of the templates, in their order.
fn kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = Vec::new();
    // The PerconaPGUpgrade is `pgstate upgrade`'s only, never `render`'s.
    let rendered = render::TemplateId::ALL
        .iter()
        .filter(|t| **t != render::TemplateId::PerconaUpgrade);
    for kind in rendered.filter_map(|t| t.kind()) {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

fn only(docs: Vec<Document>, kinds: &[String]) -> Result<Vec<Document>, Error> {
    if kinds.is_empty() {
        return Ok(docs);
    }
    let known = self::kinds();
    let mut wanted = Vec::new();
    for kind in kinds {
        match known.iter().find(|k| k.eq_ignore_ascii_case(kind.trim())) {
            Some(k) => wanted.push(*k),
            None => {
                let hint = closest(kind, &known).map_or_else(
                    || format!("the kinds are {}", known.join(", ")),
                    |k| format!("did you mean {k}?"),
                );
                return Err(Error::Usage(format!(
                    "--only: `{kind}` is not a kind pgstate renders; {hint}"
                )));
            }
        }
    }
    Ok(docs
        .into_iter()
        .filter(|d| wanted.contains(&d.kind.as_str()))
        .collect())
}

fn render_command(
    args: &RenderArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    // YAML output is the templates' text: the parsed values are needed only for JSON.
    let keep = match args.output.format {
        cli::Format::Yaml => Keep::Text,
        cli::Format::Json => Keep::All,
    };
    let (configs, docs) = load_and_render(&args.config, vars, keep)?;
    let mut groups = groups(&configs, docs);
    for group in &mut groups {
        group.docs = only(std::mem::take(&mut group.docs), &args.only)?;
    }
    if args.check {
        let drift = match (&args.output.output, &args.output.out_dir) {
            (Some(file), _) => {
                drift::check_file(file, &output::stream(&groups, args.output.format)?)
            }
            (None, Some(dir)) => {
                drift::check_dir(dir, &output::files(&groups, args.output.format)?)
            }
            (None, None) => {
                return Err(Error::Usage(
                    "--check compares with files on disk: add -o FILE or --out-dir DIR".into(),
                ));
            }
        };
        output::write_stdout(stdout, drift.diff.as_bytes())?;
        for note in &drift.notes {
            let _ = writeln!(stderr, "note: {note}");
        }
        if drift.is_clean() {
            return Ok(0);
        }
        let _ = writeln!(
            stderr,
            "error: the files on disk differ from what the config renders; run the same command without --check to update them"
        );
        return Ok(1);
    }
    output::emit(&groups, &args.output, stdout)?;
    if is_example(&configs)
        && let Some(loaded) = configs.items.first()
    {
        let name = format!("{}-credentials", loaded.config.name);
        let ns = &loaded.config.namespace;
        let _ = writeln!(
            stderr,
            "note: no pgstate.yaml here, so this is the built-in calculator example (`pgstate init` writes a config to start from).\n      \
             Its objects go to namespace {ns}; its passwords (the superuser's and the app role's) are read from Secret {name} there. Create both once with:\n      \
             kubectl create namespace {ns}\n      \
             pgstate secret --generate | kubectl apply -f -"
        );
    }
    Ok(0)
}

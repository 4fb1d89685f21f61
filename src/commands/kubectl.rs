//! `pgstate apply` and `pgstate diff`: the render piped to kubectl, whose exit code decides ours.

use std::io::Write;

use super::{example_note, groups, is_example};
use crate::cli::{self, ApplyArgs, ConfigArgs, DiffArgs, DryRun, KubectlArgs};
use crate::config::vars::Vars;
use crate::error::Error;
use crate::pipeline::render_all;
use crate::{drift, output};

pub(crate) fn apply(
    args: &ApplyArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    kubectl_command(
        "apply",
        &args.config,
        &args.kubectl,
        Apply {
            dry_run: args.dry_run,
            example: args.example,
        },
        (stdout, stderr),
        vars,
    )
}

pub(crate) fn diff(
    args: &DiffArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    kubectl_command(
        "diff",
        &args.config,
        &args.kubectl,
        Apply {
            dry_run: None,
            example: true,
        },
        (stdout, stderr),
        vars,
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

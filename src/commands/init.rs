//! `pgstate init`: a commented starting config for a preset, or (`--from-bitnami`) one
//! converted from a Bitnami chart's values.

use std::fmt::Write as _;
use std::io::Write;

use crate::cli::InitArgs;
use crate::config::model::SCHEMA_LINE;
use crate::error::Error;
use crate::{config, output};

pub(crate) fn run(
    args: &InitArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, Error> {
    if args.from_bitnami.is_some() {
        return crate::bitnami::init_command(args, stdout, stderr);
    }
    let text = init_config(args.preset);
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

/// A word a POSIX shell reads back as itself: as it is when it is plain, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A commented starting config for a preset; it renders as it is.
pub(crate) fn init_config(preset: crate::cli::Preset) -> String {
    use crate::cli::Preset;
    let story = match preset {
        Preset::Calculator => include_str!("../../fixtures/calculator.yaml"),
        Preset::Tfvisualizer => include_str!("../../fixtures/tfvisualizer.yaml"),
        Preset::Healthcare => include_str!("../../fixtures/healthcare.yaml"),
        Preset::Ha => include_str!("../../fixtures/direktiv-ha.yaml"),
    };
    let mut text = format!(
        "{SCHEMA_LINE}{story}{}",
        include_str!("../../templates/init/more-options.yaml")
    );
    text.push_str(&starter_allowances(&text));
    text
}

/// The `lint.allow` block that lets a starting config pass the CI step
/// (`pgstate check --deny-warnings`): each warning it still has (an image not pinned by
/// digest, a storage class it cannot know, ...) allowed with what to do about it, so the file
/// is a to-do list rather than a failing build. Empty when there is nothing to allow.
fn starter_allowances(text: &str) -> String {
    use crate::config::lint_id::Severity;
    use crate::config::vars::{AnyVars, ProcessEnv};
    use crate::manifest::lint;
    let process = ProcessEnv::default();
    let Ok(loaded) = crate::config::load(crate::error::SourceId(0), text, None, &AnyVars(&process))
    else {
        return String::new();
    };
    let mut todo: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for finding in lint::lint(&loaded) {
        if finding.severity == Severity::Error {
            continue;
        }
        let fixes = todo.entry(finding.id).or_default();
        if !fixes.contains(&finding.fix) {
            fixes.push(finding.fix);
        }
    }
    if todo.is_empty() {
        return String::new();
    }
    let mut block = String::from(
        "\n# What `pgstate check --deny-warnings` (the CI step) would stop on until you decide it:\n\
         # each finding is allowed with what to do. Do it, then remove its line.\nlint:\n  allow:\n",
    );
    for (id, fixes) in todo {
        let reason = format!("to do: {}", fixes.join("; "));
        // A JSON string is a YAML double-quoted scalar.
        let quoted = serde_json::to_string(&reason).unwrap_or_else(|_| "\"to do\"".to_owned());
        let _ = writeln!(block, "    {id}: {quoted}");
    }
    block
}

//! `pgstate render`: every object to stdout, a file or an --out-dir tree, or with `--check` a
//! diff against what is on disk.

use std::io::Write;

use super::{groups, is_example};
use crate::cli::{self, RenderArgs};
use crate::config::vars::Vars;
use crate::error::Error;
use crate::pipeline::{Keep, load_and_render};
use crate::{drift, output, select};

pub(crate) fn run(
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
        group.docs = select::only(std::mem::take(&mut group.docs), &args.only)?;
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

//! `pgstate check`: config errors, lint findings and the typed check, for people and for CI.

use std::fmt::Write as _;
use std::io::Write;

use serde_json::json;

use crate::cli::{CheckArgs, CheckFormat};
use crate::config::lint_id::Severity;
use crate::config::vars::Vars;
use crate::error::{Diagnostic, Error, Sources, visible};
use crate::manifest::lint::{self, Finding};
use crate::output;

/// Runs the check; returns the exit code (0 clean, 1 findings, 2 invalid config).
pub(crate) fn run(
    args: &CheckArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    // The typed check of every object happens while rendering (a failure is a pgstate bug);
    // each config's objects are dropped once checked.
    let configs = match crate::pipeline::load_and_render(
        &args.config,
        vars,
        crate::pipeline::Keep::Nothing,
    ) {
        Ok((configs, _)) => configs,
        Err(Error::Config {
            sources,
            diagnostics,
        }) if args.format != CheckFormat::Human => {
            output::write_stdout(
                stdout,
                config_errors(&sources, &diagnostics, args.format).as_bytes(),
            )?;
            return Ok(2);
        }
        Err(e) => return Err(e),
    };
    super::example_note(&configs, stderr);
    let mut findings = Vec::new();
    let mut allowed = 0usize;
    for loaded in &configs.items {
        let major = args
            .deployed_major
            .and_then(|deployed| lint::major_change(loaded, deployed));
        for finding in lint::lint(loaded).into_iter().chain(major) {
            if loaded.config.lint.allow.0.contains_key(finding.id) {
                allowed += 1;
            } else {
                findings.push(finding);
            }
        }
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let report = match args.format {
        CheckFormat::Human => human(
            &configs.sources,
            &findings,
            [errors, warnings, allowed],
            configs.items.len(),
        ),
        CheckFormat::Json => {
            let items: Vec<_> = findings
                .iter()
                .map(|f| finding_json(&configs.sources, f))
                .collect();
            let mut text = serde_json::to_string_pretty(&json!({"findings": items, "errors": errors, "warnings": warnings, "allowed": allowed}))
                .map_err(|e| Error::Bug(e.to_string()))?;
            text.push('\n');
            text
        }
        CheckFormat::Github => findings
            .iter()
            .map(|f| github(&configs.sources, f))
            .collect(),
    };
    output::write_stdout(stdout, report.as_bytes())?;
    if args.format == CheckFormat::Github {
        let _ = writeln!(
            stderr,
            "pgstate check: {errors} errors, {warnings} warnings, {allowed} allowed"
        );
    }
    Ok(u8::from(errors > 0 || (args.deny_warnings && warnings > 0)))
}

fn as_diagnostic(f: &Finding) -> Diagnostic {
    Diagnostic::new(f.loc, f.message.clone()).with_path(f.path.clone())
}

/// The findings as compiler-style messages, then a summary line (which counts the configs when
/// there are several: each finding names its own file).
fn human(
    sources: &Sources,
    findings: &[Finding],
    [errors, warnings, allowed]: [usize; 3],
    configs: usize,
) -> String {
    let mut out = String::new();
    for f in findings {
        let label = match f.severity {
            Severity::Error => format!("error[{}]", f.id),
            Severity::Warning => format!("warning[{}]", f.id),
        };
        out.push_str(&as_diagnostic(f).render_as(
            sources,
            &label,
            &[("why", f.why), ("fix", &f.fix)],
        ));
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "pgstate check: {errors} errors, {warnings} warnings, {allowed} allowed{} (allow a finding with `lint: {{allow: {{PGS0NN: reason}}}}`)",
        if configs > 1 {
            format!(" in {configs} configs")
        } else {
            String::new()
        }
    );
    out
}

fn finding_json(sources: &Sources, f: &Finding) -> serde_json::Value {
    json!({
        "id": f.id, "severity": f.severity, "message": visible(&f.message, false), "why": f.why,
        "fix": visible(&f.fix, false), "path": visible(&f.path, false),
        "file": visible(sources.name(f.loc.source), false), "line": f.loc.line, "column": f.loc.col,
    })
}

/// GitHub workflow commands escape data and property values differently.
fn escape(text: &str, property: bool) -> String {
    let out = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    // Every other control character, shown: none may end the command or start another.
    let mut out = visible(&out, false).into_owned();
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

fn github(sources: &Sources, f: &Finding) -> String {
    let level = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    format!(
        "::{level} file={},line={},col={},title={}::{}\n",
        escape(sources.name(f.loc.source), true),
        f.loc.line,
        f.loc.col,
        escape(&format!("{} {}", f.id, f.path), true),
        escape(
            &format!("{}. Why: {}. Fix: {}.", f.message, f.why, f.fix),
            false
        )
    )
}

fn config_errors(sources: &Sources, diagnostics: &[Diagnostic], format: CheckFormat) -> String {
    match format {
        CheckFormat::Github => diagnostics
            .iter()
            .map(|d| {
                format!(
                    "::error file={},line={},col={},title={}::{}\n",
                    escape(sources.name(d.loc.source), true),
                    d.loc.line,
                    d.loc.col,
                    escape(&format!("invalid config {}", d.path), true),
                    escape(
                        &format!(
                            "{}{}",
                            d.message,
                            d.help
                                .as_deref()
                                .map(|h| format!(". {h}"))
                                .unwrap_or_default()
                        ),
                        false
                    )
                )
            })
            .collect(),
        _ => {
            let items: Vec<_> = diagnostics
                .iter()
                .map(|d| json!({"message": visible(&d.message, false), "help": d.help.as_deref().map(|h| visible(h, false)), "path": visible(&d.path, false), "file": visible(sources.name(d.loc.source), false), "line": d.loc.line, "column": d.loc.col}))
                .collect();
            let mut text =
                serde_json::to_string_pretty(&json!({"configErrors": items})).unwrap_or_default();
            text.push('\n');
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn github_escaping() {
        assert_eq!(escape("a: b,c\n100%", true), "a%3A b%2Cc%0A100%25");
        assert_eq!(escape("a: b,c\n", false), "a: b,c%0A");
        assert_eq!(
            escape("x\u{85}::warning::y\u{7}", false),
            "x\\u{85}::warning::y\\u{7}"
        );
    }
}

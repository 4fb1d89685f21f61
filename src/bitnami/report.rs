//! The report printed after converting: what has no equivalent, and what needs a hand.

use super::values::{Note, Values};
use crate::error::Sources;

/// The stderr report: mapped keys, keys with no equivalent, defaults, general notes.
pub(super) fn report(v: &Values<'_>, defaults: &[String], sources: &Sources) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let _ = writeln!(text, "mapped ({} keys):", v.mapped.len());
    for (from, to) in &v.mapped {
        let _ = writeln!(text, "  {from} -> {to}");
    }
    let mut notes: Vec<&Note> = v.notes.iter().collect();
    notes.sort_by_key(|n| (n.loc.line, n.loc.col, n.path.clone()));
    if !notes.is_empty() {
        let _ = writeln!(
            text,
            "no equivalent ({} keys), with what to do instead:",
            notes.len()
        );
        for n in notes {
            let _ = writeln!(
                text,
                "  {}:{}:{}: {}: {}\n      instead: {}",
                sources.name(n.loc.source),
                n.loc.line,
                n.loc.col,
                n.path,
                n.why,
                n.instead
            );
        }
    }
    if !defaults.is_empty() {
        let _ = writeln!(
            text,
            "same as the chart's default, nothing to carry over: {}",
            defaults.join(", ")
        );
    }
    if !v.general.is_empty() {
        let _ = writeln!(text, "before you switch:");
        for g in &v.general {
            let _ = writeln!(text, "  - {g}");
        }
    }
    text
}

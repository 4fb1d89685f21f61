//! Selection: which databases of a run `--name` keeps, and which kinds of object `--only` keeps.

use crate::config;
use crate::error::{Error, closest};
use crate::pipeline::Document;
use crate::render;

/// Which configs `--name` picks: each NAME or NAMESPACE/NAME must name exactly one.
pub(crate) fn select(configs: &config::Configs, names: &[String]) -> Result<Vec<bool>, Error> {
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

pub(crate) fn only(docs: Vec<Document>, kinds: &[String]) -> Result<Vec<Document>, Error> {
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

//! `pgstate init --from-bitnami VALUES.yaml`: a pgstate.yaml that means what a Bitnami
//! PostgreSQL chart's values override meant, and a report of what has no equivalent.
//!
//! Every key of the values file ends up in exactly one of three lists: mapped to a pgstate key,
//! reported (no equivalent: why, and what to do instead), or recognised as equal to the chart's
//! default (nothing to carry over). A key the chart does not have is an error, as in a config.

mod conf;
mod database;
mod identity;
mod keys;
mod out;
mod pods;
mod report;
mod values;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::node::{self, Kind};
use crate::error::{Diagnostic, Error, Location, SourceId, Sources};

use database::{initdb, postgres_conf, storage, tls};
use identity::{auth, image, names};
use keys::{ChartKeys, free_form, generic_reason, leaves, same, unknown_keys};
use pods::{backup, chart_wide, metrics, network_policy, primary_pod, service};
use report::report;
use values::Values;

/// What the command line adds to the values file.
#[derive(Debug, Default, Clone)]
pub(crate) struct Options {
    /// The Helm release's name: the chart's object names derive from it.
    pub(crate) release: Option<String>,
    /// The pgstate name to use instead of `<fullname>-pg`.
    pub(crate) name: Option<String>,
    /// The namespace to write instead of namespaceOverride (or `default`).
    pub(crate) namespace: Option<String>,
}

/// The result: the config text, the SQL files it names (relative paths), and the report.
#[derive(Debug)]
pub(crate) struct Converted {
    pub(crate) config: String,
    pub(crate) files: Vec<(String, String)>,
    pub(crate) report: String,
}

/// Each config key path and the values key (and place) it came from.
type Origins = BTreeMap<String, (Location, String)>;

/// Converts the values text (already added to `sources` as `source`).
pub(crate) fn convert(
    sources: &Sources,
    source: SourceId,
    options: &Options,
) -> Result<Converted, Error> {
    let fail = |diagnostics: Vec<Diagnostic>| Error::Config {
        sources: sources.clone(),
        diagnostics,
    };
    let converted = read(sources, source, options).map_err(fail)?;
    check_written(&converted, source).map_err(|e| match e {
        Checked::Values(d) => fail(d),
        Checked::Bug(e) => e,
    })?;
    Ok(converted.0)
}

enum Checked {
    Values(Vec<Diagnostic>),
    Bug(Error),
}

/// The written config must load, validate and render like any config; a problem is one of a
/// values key (shown at that key), or a bug.
fn check_written(converted: &(Converted, Origins), source: SourceId) -> Result<(), Checked> {
    let (conv, origins) = converted;
    // Every variable set, and only PGSTATE_* ones readable, as for a config written by hand.
    let process = crate::config::vars::ProcessEnv::default();
    let vars = crate::config::vars::AnyVars(&process);
    let loaded =
        crate::config::load(SourceId(u32::MAX), &conv.config, None, &vars).map_err(|found| {
            Checked::Values(
                found
                    .into_iter()
                    .map(|d| {
                        let origin = origins
                            .iter()
                            .filter(|(k, _)| d.path == **k || d.path.starts_with(&format!("{k}.")))
                            .max_by_key(|(k, _)| k.len());
                        let mut help = d.help.clone().unwrap_or_default();
                        if d.path == "name" {
                            help = format!("{help}; pass --name NAME to choose the pgstate name");
                        }
                        match origin {
                            Some((_, (loc, from))) => Diagnostic::new(
                                *loc,
                                format!("as the config's {}: {}", d.path, d.message),
                            )
                            .with_path(from.clone())
                            .with_help(help),
                            None => Diagnostic::new(
                                Location::new(source, 1, 1, 1),
                                format!("the written config's {}: {}", d.path, d.message),
                            )
                            .with_help(help),
                        }
                    })
                    .collect(),
            )
        })?;
    let mut config = loaded.config;
    if let Some(init) = &mut config.postgres.init_sql {
        for file in &mut init.files {
            file.text = conv
                .files
                .iter()
                .find(|(path, _)| *path == file.path)
                .map(|(_, text)| text.clone());
        }
    }
    crate::pipeline::render(&config, &vars).map_err(Checked::Bug)?;
    Ok(())
}

/// Reads the values and builds the config, with the origins of its keys.
fn read(
    sources: &Sources,
    source: SourceId,
    options: &Options,
) -> Result<(Converted, Origins), Vec<Diagnostic>> {
    let text = sources.text(source);
    let root = node::parse(source, text).map_err(|d| vec![d])?;
    if root.as_map().is_none() {
        return Err(vec![
            Diagnostic::new(
                root.loc,
                format!(
                    "a Helm values file is a map of keys, this document is {}",
                    root.describe()
                ),
            )
            .with_help("pass the values override you give `helm install -f`"),
        ]);
    }
    let keys = ChartKeys::load();
    let unknown = unknown_keys(&root, "", &keys);
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let mut v = Values {
        root: &root,
        keys,
        errors: Vec::new(),
        notes: Vec::new(),
        mapped: Vec::new(),
        general: Vec::new(),
    };
    let mut cfg = out::Config::default();
    rules(&mut v, &mut cfg, options);
    // Every written key is mapped, reported, or the chart's default; anything else a rule
    // read without a word is reported with its section's reason.
    let mut defaults = Vec::new();
    for (path, node) in leaves(&root, "")
        .iter()
        .filter_map(|(p, n)| Some((p.strip_prefix('.')?, *n)))
    {
        let owner = v.keys.owner(path).unwrap_or(path).to_owned();
        let covers = |p: &str| {
            let p = p.split(':').next().unwrap_or(p);
            owner == p || owner.starts_with(&format!("{p}.")) || p.starts_with(&format!("{owner}."))
        };
        if v.mapped.iter().any(|(from, _)| covers(from)) || v.notes.iter().any(|n| covers(&n.path))
        {
            continue;
        }
        let default = v.keys.defaults.get(&owner).is_some_and(|d| same(d, node))
            || (node.is_null() || matches!(&node.kind, Kind::Map(m) if m.is_empty()))
                && v.keys.defaults.get(&owner).is_some_and(free_form);
        if default {
            defaults.push(owner);
        } else {
            let (why, instead) = generic_reason(&owner);
            v.note(&owner, why, instead);
        }
    }
    if !v.errors.is_empty() {
        return Err(v.errors);
    }
    let (config, files) = cfg.finish(sources.name(source));
    let report = report(&v, &defaults, sources);
    Ok((
        Converted {
            config,
            files,
            report,
        },
        cfg.origins,
    ))
}

/// Every rule, in the order of the written config.
fn rules(v: &mut Values<'_>, cfg: &mut out::Config, options: &Options) {
    names(v, cfg, options);
    image(v, cfg);
    auth(v, cfg);
    storage(v, cfg);
    tls(v, cfg);
    postgres_conf(v, cfg);
    initdb(v, cfg);
    primary_pod(v, cfg);
    service(v, cfg);
    metrics(v, cfg);
    backup(v, cfg);
    network_policy(v, cfg);
    chart_wide(v);
    check_findings(v, cfg);
}

/// The warnings `pgstate check` will give the written config, and why they remain.
fn check_findings(v: &mut Values<'_>, cfg: &out::Config) {
    let image = cfg
        .get("postgres.image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !image.contains('@') {
        v.general.push(format!(
            "`pgstate check` warns (PGS002) that {image} is not pinned by digest: a Bitnami digest cannot carry over; pin the official image's (docker buildx imagetools inspect {image})"
        ));
    }
    if cfg.get("namespace").and_then(Value::as_str) == Some("default") {
        v.general.push("`pgstate check` warns (PGS005) about the `default` namespace: the values do not name the release's namespace; pass --namespace NS (or edit `namespace:`)".to_owned());
    }
}

/// The largest values file read: a values override is a few kilobytes.
const MAX_VALUES_BYTES: u64 = 1024 * 1024;

/// `pgstate init --from-bitnami VALUES.yaml [-o FILE]`: reads the values, writes the config
/// and its SQL files (nothing when anything is wrong), prints the report on stderr.
pub(crate) fn init_command(
    args: &crate::cli::InitArgs,
    stdout: &mut dyn std::io::Write,
    stderr: &mut dyn std::io::Write,
) -> Result<u8, Error> {
    use std::io::Read as _;
    let Some(path) = &args.from_bitnami else {
        return Err(Error::Usage("--from-bitnami names a values file".into()));
    };
    let shown = path.display().to_string();
    let cannot =
        |e: std::io::Error| Error::Usage(format!("cannot read the values file {shown}: {e}"));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "{shown} is not a regular file; pass the values file you give helm -f"
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_VALUES_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_VALUES_BYTES {
        return Err(Error::Usage(format!(
            "{shown} is larger than 1 MiB; a values override is small"
        )));
    }
    let text =
        String::from_utf8(bytes).map_err(|_| Error::Usage(format!("{shown} is not UTF-8 text")))?;
    use crate::config::validate::names::{MAX_NAME, is_dns_label};
    for (flag, value, max) in [
        ("--name", &args.name, MAX_NAME),
        ("--namespace", &args.namespace, 63),
        ("--release", &args.release, 53),
    ] {
        if let Some(v) = value
            && !(is_dns_label(v) && v.len() <= max)
        {
            return Err(Error::Usage(format!(
                "{flag} {v}: a Kubernetes name of at most {max} characters is lowercase letters, digits and '-'"
            )));
        }
    }
    let mut sources = Sources::default();
    let id = sources.add(shown.clone(), text);
    let options = Options {
        release: args.release.clone(),
        name: args.name.clone(),
        namespace: args.namespace.clone(),
    };
    let converted = convert(&sources, id, &options)?;
    let to_stdout = args.output.as_os_str() == "-";
    if to_stdout {
        if !converted.files.is_empty() {
            return Err(Error::Usage(
                "primary.initdb.scripts become SQL files beside the config: pass -o FILE".into(),
            ));
        }
        crate::output::write_stdout(stdout, converted.config.as_bytes())?;
    } else {
        let folder = crate::output::parent(&args.output);
        let targets: Vec<std::path::PathBuf> = converted
            .files
            .iter()
            .map(|(rel, _)| folder.join(rel))
            .chain(std::iter::once(args.output.clone()))
            .collect();
        if !args.force
            && let Some(existing) = targets.iter().find(|t| t.exists())
        {
            return Err(Error::Usage(format!(
                "{} exists; pass --force to overwrite it",
                existing.display()
            )));
        }
        for ((_, sql), target) in converted.files.iter().zip(&targets) {
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("create the folder", dir, e))?;
            }
            crate::output::write_atomic(target, sql.as_bytes())?;
        }
        crate::output::write_atomic(&args.output, converted.config.as_bytes())?;
    }
    let _ = stderr.write_all(converted.report.as_bytes());
    if !to_stdout {
        let _ = writeln!(
            stderr,
            "wrote {}{}; next: pgstate check -c {0}, then the runbook in docs/from-bitnami.md",
            args.output.display(),
            if converted.files.is_empty() {
                String::new()
            } else {
                format!(" and {} SQL file(s)", converted.files.len())
            }
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::identity::{fullname, version};
    use super::*;

    #[test]
    fn bitnami_tags_give_the_official_version() {
        assert_eq!(version("17.6.0-debian-12-r4"), Some((17, Some(6))));
        assert_eq!(version("16"), Some((16, None)));
        assert_eq!(version("11.22.0"), Some((11, Some(22))));
        assert_eq!(version("latest"), None);
        assert_eq!(
            version("0.17.1-debian-12-r16"),
            None,
            "not a PostgreSQL version"
        );
    }

    #[test]
    fn fullname_follows_helm() {
        let mut sources = Sources::default();
        let id = sources.add("v.yaml", "nameOverride: db\n");
        let root = node::parse(id, sources.text(id)).expect("yaml");
        let mut v = Values {
            root: &root,
            keys: ChartKeys::load(),
            errors: Vec::new(),
            notes: Vec::new(),
            mapped: Vec::new(),
            general: Vec::new(),
        };
        assert_eq!(fullname(&mut v, Some("shop")).0.as_deref(), Some("shop-db"));
        assert_eq!(
            fullname(&mut v, Some("shopdb")).0.as_deref(),
            Some("shopdb"),
            "the release contains the name"
        );
        assert_eq!(fullname(&mut v, None).0, None);
        let long = "a".repeat(70);
        assert_eq!(fullname(&mut v, Some(&long)).0.map(|f| f.len()), Some(63));
    }

    #[test]
    fn chart_keys_know_sections_and_free_form_values() {
        let keys = ChartKeys::load();
        assert!(keys.is_section("primary"));
        assert!(keys.is_section("auth.secretKeys"));
        assert_eq!(
            keys.owner("primary.podLabels.team"),
            Some("primary.podLabels")
        );
        assert_eq!(
            keys.owner("primary.persistence.size"),
            Some("primary.persistence.size")
        );
        assert_eq!(
            keys.owner("primary.persistence.size.x"),
            None,
            "a scalar key holds no keys"
        );
        assert_eq!(keys.owner("primary.persistance"), None);
    }
}

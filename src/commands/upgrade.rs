//! `pgstate upgrade`: the objects that move a database to the PostgreSQL major version of
//! `postgres.image`, from the major it runs now (`--from`).
//!
//! The statefulset target gets Jobs on its volumes (see docs/upgrade.md for the runbook):
//! `link` runs pg_upgrade --link from `<pgdata>` into a sibling folder and swaps the names, so
//! the old directory stays as `<pgdata>.<old major>`; `dump` dumps every database with the old
//! server running and restores it into a new cluster built the same way. The operator targets
//! get their operator's way.

use std::io::Write;

use serde::Serialize;

use crate::cli::{UpgradeArgs, UpgradeMethod};
use crate::config::defaults::{self, JOB_RESOURCES, ResolvedResources};
use crate::config::image::postgres_major;
use crate::config::model::{Config, Target};
use crate::config::paths::{BACKUP_DIR, PASSWORD_FILE};
use crate::config::vars::Vars;
use crate::error::Error;
use crate::pipeline::{self, Document};
use crate::render::context::{self, EnvVar, Map};
use crate::render::{self, Context, TemplateId, workload};

/// The newest major version pgstate knows an upgrade image for.
pub(crate) const NEWEST_MAJOR: i64 = 18;
/// The image that holds both majors' server binaries for `--method link`: the docker-library
/// maintainer's `tianon/postgres-upgrade:OLD-to-NEW`, the official image of the new major with
/// the old major's Debian packages added, both under /usr/lib/postgresql/N/bin.
pub(crate) const LINK_IMAGE: &str = "tianon/postgres-upgrade";
/// How many majors one `tianon/postgres-upgrade` image spans at most (e.g. 13-to-18).
const LINK_SPAN: i64 = 5;
/// The label that tells the steps of an upgrade apart, for `kubectl apply -l`.
pub(crate) const STEP_LABEL: &str = "pgstate.dev/upgrade-step";

/// The two majors of an upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Majors {
    pub(crate) from: i64,
    pub(crate) to: i64,
}

/// Reads `--from` and the image's major; every way they can be wrong is a usage error.
pub(crate) fn majors(from: &str, image: &str, file: &str) -> Result<Majors, Error> {
    let from_major: i64 = match from.trim() {
        f if !f.is_empty() && f.len() <= 3 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse().map_err(|_| bad_from(from))?
        }
        _ => return Err(bad_from(from)),
    };
    let Some(to) = postgres_major(image) else {
        return Err(Error::Usage(format!(
            "postgres.image `{image}` ({file}) has no PostgreSQL major version in its tag, so pgstate cannot tell what to upgrade to; give the tag with the version, e.g. `postgres:17.6` or `postgres:17.6@sha256:...`"
        )));
    };
    if from_major < 10 {
        return Err(Error::Usage(format!(
            "--from {from_major}: pgstate upgrades from PostgreSQL 10 or newer"
        )));
    }
    if from_major >= to {
        return Err(Error::Usage(format!(
            "--from {from_major} is not older than the major of postgres.image `{image}` ({to}, in {file}); set postgres.image to the new major first, then run `pgstate upgrade --from {from_major}`{}",
            if from_major > to {
                " (a major version cannot go back: restore a dump instead)"
            } else {
                ""
            }
        )));
    }
    Ok(Majors {
        from: from_major,
        to,
    })
}

fn bad_from(from: &str) -> Error {
    Error::Usage(format!(
        "--from takes the major version the database runs now, a number such as 15, not `{from}`"
    ))
}

/// The image of `--method link` for these majors, or why there is none.
pub(crate) fn link_image(m: Majors, given: Option<&str>) -> Result<String, Error> {
    if let Some(image) = given {
        return Ok(image.to_owned());
    }
    if m.to > NEWEST_MAJOR || m.to - m.from > LINK_SPAN {
        return Err(Error::Usage(format!(
            "{LINK_IMAGE} has no image for {}-to-{} (it covers up to {LINK_SPAN} majors at a time, up to {NEWEST_MAJOR}); upgrade in two steps, use --method dump, or name an image with both majors' binaries in /usr/lib/postgresql/N/bin with --image",
            m.from, m.to
        )));
    }
    Ok(format!("{LINK_IMAGE}:{}-to-{}", m.from, m.to))
}

#[derive(Serialize)]
struct JobView<'a> {
    #[serde(flatten)]
    ctx: &'a Context,
    job: Job,
}

#[derive(Serialize)]
struct Job {
    name: String,
    step: &'static str,
    labels: Map,
    image: String,
    /// The script's template, included by the Job's template.
    script: String,
    env: Vec<EnvVar>,
    resources: ResolvedResources,
    /// Mounts the database's volume.
    data: bool,
    /// The backup volume's claim, when the step mounts it.
    backups: Option<String>,
    /// Mounts the password file.
    credentials: bool,
}

#[derive(Serialize)]
struct PerconaView<'a> {
    #[serde(flatten)]
    ctx: &'a Context,
    upgrade: PerconaUpgrade,
}

#[derive(Serialize)]
struct PerconaUpgrade {
    name: String,
    image: String,
    from: i64,
    to: i64,
}

#[derive(Serialize)]
struct PolicyView<'a> {
    #[serde(flatten)]
    ctx: &'a Context,
    upgrade: Policy,
}

#[derive(Serialize)]
struct Policy {
    name: String,
    labels: Map,
    selector: Map,
}

fn var(name: &str, value: impl AsRef<str>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(context::literal(value.as_ref())),
        secret: None,
    }
}

/// What `pgstate upgrade` renders for one config.
pub(crate) fn objects(
    config: &Config,
    args: &UpgradeArgs,
    file: &str,
    vars: &dyn Vars,
    notes: &mut Vec<String>,
) -> Result<Vec<Document>, Error> {
    let m = majors(&args.from, &config.postgres.image, file)?;
    match config.target {
        Target::Statefulset => statefulset(config, args, m, file, vars, notes),
        Target::Cloudnativepg => {
            no_method(args, "cloudnativepg", "CloudNativePG 1.26 and newer upgrade the major version in place when the Cluster's imageName changes")?;
            let docs = pipeline::render(config, vars)?;
            notes.push(crate::manifest::lint::cnpg_major_note(config, m.from, m.to));
            Ok(docs.into_iter().filter(|d| d.kind == "Cluster").collect())
        }
        Target::Percona => {
            no_method(args, "percona", "the Percona operator upgrades through a PerconaPGUpgrade resource")?;
            let ctx = Context::new(config, vars);
            let view = PerconaView {
                ctx: &ctx,
                upgrade: PerconaUpgrade {
                    name: format!("{}-{}-to-{}", config.name, m.from, m.to),
                    image: format!(
                        "docker.io/percona/percona-postgresql-operator:{}-upgrade",
                        crate::render::targets::PERCONA_CR_VERSION
                    ),
                    from: m.from,
                    to: m.to,
                },
            };
            notes.push(format!(
                "apply only this PerconaPGUpgrade, not the PerconaPGCluster of the new image: the operator pauses cluster {ns}/{name}, runs pg_upgrade in Jobs, and starts it on {to} with the images named here (then `pgstate render` matches it again). If it fails, the cluster stays paused on {from}; see `kubectl -n {ns} get perconapgupgrade {name}-{from}-to-{to} -o yaml`",
                ns = config.namespace,
                name = config.name,
                from = m.from,
                to = m.to,
            ));
            Ok(vec![pipeline::render_template(
                TemplateId::PerconaUpgrade,
                &render::view(&view),
            )?])
        }
        Target::External => Err(Error::Usage(
            "target external: the provider upgrades a managed database (e.g. RDS, Cloud SQL); pgstate renders nothing to upgrade it".into(),
        )),
    }
}

fn no_method(args: &UpgradeArgs, target: &str, how: &str) -> Result<(), Error> {
    match args.method {
        None if !args.rollback && args.image.is_none() => Ok(()),
        _ => Err(Error::Usage(format!(
            "--method, --image and --rollback are for the statefulset target; with target {target}, {how}: leave them out"
        ))),
    }
}

fn statefulset(
    config: &Config,
    args: &UpgradeArgs,
    m: Majors,
    file: &str,
    vars: &dyn Vars,
    notes: &mut Vec<String>,
) -> Result<Vec<Document>, Error> {
    let ctx = Context::new(config, vars);
    let pg = &ctx.postgres;
    let mount = pg.mount_path.trim_end_matches('/');
    let in_volume = pg
        .pgdata
        .strip_prefix(mount)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| !rest.is_empty());
    if !in_volume {
        return Err(Error::Usage(format!(
            "postgres.pgdata `{}` ({file}) must be a folder inside postgres.mountPath `{mount}`: the upgrade builds the new data directory beside it on the same volume",
            pg.pgdata
        )));
    }
    if let (Some(backup), Some(image)) = (
        &ctx.backup,
        config.backup.as_ref().and_then(|b| b.image.as_deref()),
    ) && let Some(client) = postgres_major(image)
        && client < m.to
    {
        return Err(Error::Usage(format!(
            "backup.image `{image}` ({file}) is PostgreSQL {client}, and pg_dump cannot dump the newer server {}: leave backup.image unset (it follows postgres.image) or set it to {} or newer. The CronJob is {}",
            m.to, m.to, backup.name
        )));
    }
    let method = args.method.unwrap_or(UpgradeMethod::Link);
    let step_labels = |step: &str, network: bool| {
        let mut labels = workload::labels(config, "upgrade", "postgresql");
        labels.insert(STEP_LABEL.into(), step.into());
        if network {
            // The database's NetworkPolicy lets pods with this label in.
            labels.insert(format!("{}-client", config.name), "true".into());
        }
        labels
    };
    let base = |step: &'static str, image: String, network: bool| Job {
        name: format!("{}-upgrade-{step}", config.name),
        step,
        labels: step_labels(step, network),
        image,
        script: format!("partials/upgrade-{step}.sh"),
        env: Vec::new(),
        resources: defaults::resolve_resources(&Default::default(), &JOB_RESOURCES),
        data: false,
        backups: None,
        credentials: network,
    };
    let majors_env = || {
        vec![
            var("OLD_MAJOR", m.from.to_string()),
            var("NEW_MAJOR", m.to.to_string()),
        ]
    };
    let data_env = |job: &mut Job| {
        job.data = true;
        job.env.push(var("PGDATA", &pg.pgdata));
        job.env.extend(majors_env());
        job.env.push(var("PGUSER", &pg.user));
    };
    let initdb_args = config.postgres.initdb_args.as_deref();
    let network_env = |job: &mut Job| {
        job.env.push(var("PGHOST", &config.name));
        job.env.push(var("PGPORT", pg.port.to_string()));
        job.env.push(var("PGUSER", &pg.user));
        job.env.push(var("PASSWORD_FILE", PASSWORD_FILE));
    };
    let bin = |major: i64| format!("/usr/lib/postgresql/{major}/bin");
    let dump = format!("{}-upgrade-{}-to-{}.sql.gz", config.name, m.from, m.to);
    let mut jobs = Vec::new();
    match method {
        UpgradeMethod::Link => {
            if args.image.is_none()
                && crate::config::image::image_tag(&config.postgres.image)
                    .is_some_and(|tag| tag.contains("alpine"))
            {
                return Err(Error::Usage(format!(
                    "postgres.image `{}` ({file}) is an Alpine image, and {LINK_IMAGE} is Debian's: text sorts differently under musl and glibc, so the linked indexes on text would be wrong. Use --method dump, or name an Alpine image with both majors' binaries with --image",
                    config.postgres.image
                )));
            }
            let image = link_image(m, args.image.as_deref())?;
            let mut job = base(
                if args.rollback { "rollback" } else { "link" },
                image,
                false,
            );
            data_env(&mut job);
            job.env.push(var("PGBINOLD", bin(m.from)));
            job.env.push(var("PGBINNEW", bin(m.to)));
            if !args.rollback
                && let Some(a) = initdb_args
            {
                job.env.push(var("INITDB_ARGS", a));
            }
            job.resources = defaults::resolve_resources(
                &config.postgres.resources,
                &defaults::POSTGRES_RESOURCES,
            );
            jobs.push(job);
        }
        UpgradeMethod::Dump if args.rollback => {
            let mut job = base("rollback", config.postgres.image.clone(), false);
            data_env(&mut job);
            jobs.push(job);
        }
        UpgradeMethod::Dump => {
            let Some(backup) = &ctx.backup else {
                return Err(Error::Usage(format!(
                    "--method dump keeps its dump on the backup volume, and {file} has no `backup:`; add one (e.g. `backup: {{schedule: \"0 2 * * *\"}}`), or use --method link"
                )));
            };
            let image = args
                .image
                .clone()
                .unwrap_or_else(|| config.postgres.image.clone());
            let mut dumper = base("dump", image.clone(), true);
            network_env(&mut dumper);
            dumper.env.push(var("BACKUP_DIR", BACKUP_DIR));
            dumper.env.push(var("DUMP", &dump));
            dumper.env.extend(majors_env());
            dumper.backups = Some(backup.claim.clone());
            jobs.push(dumper);
            let mut restore = base("restore", image, false);
            data_env(&mut restore);
            restore.env.push(var("BACKUP_DIR", BACKUP_DIR));
            restore.env.push(var("DUMP", &dump));
            if let Some(a) = initdb_args {
                restore.env.push(var("INITDB_ARGS", a));
            }
            restore.backups = Some(backup.claim.clone());
            restore.resources = defaults::resolve_resources(
                &config.postgres.resources,
                &defaults::POSTGRES_RESOURCES,
            );
            jobs.push(restore);
        }
    }
    if !args.rollback {
        let mut after = base("after", config.postgres.image.clone(), true);
        network_env(&mut after);
        after.env.push(var("NEW_MAJOR", m.to.to_string()));
        jobs.push(after);
    }
    let _ = &notes;
    let mut docs = Vec::new();
    if ctx.network_policy().is_some() {
        let view = PolicyView {
            ctx: &ctx,
            upgrade: Policy {
                name: format!("{}-upgrade", config.name),
                // Every step's `kubectl apply -l '... in (all,STEP)'` applies it too.
                labels: {
                    let mut labels = workload::labels(config, "upgrade", "postgresql");
                    labels.insert(STEP_LABEL.into(), "all".into());
                    labels
                },
                selector: workload::selector(config, "upgrade"),
            },
        };
        docs.push(pipeline::render_template(
            TemplateId::UpgradeNetworkPolicy,
            &render::view(&view),
        )?);
    }
    for job in jobs {
        let view = JobView { ctx: &ctx, job };
        docs.push(pipeline::render_template(
            TemplateId::UpgradeJob,
            &render::view(&view),
        )?);
    }
    Ok(docs)
}

/// `pgstate upgrade`: renders, prints notes to stderr.
pub(crate) fn run(
    args: &UpgradeArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    let (configs, _) = crate::pipeline::render_all(&args.config, vars)?;
    if configs.items.len() != 1 {
        return Err(Error::Usage(format!(
            "upgrade works on one database, and {} were given; pick one with --name NAME",
            configs.items.len()
        )));
    }
    let loaded = &configs.items[0];
    let file = configs.sources.name(loaded.root.loc.source).to_owned();
    let mut notes = Vec::new();
    let docs = objects(&loaded.config, args, &file, vars, &mut notes)?;
    let group = crate::output::Group {
        folder: String::new(),
        docs,
    };
    crate::output::emit(&[group], &args.output, stdout)?;
    for note in notes {
        let _ = writeln!(stderr, "note: {note}");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::cli::{Cli, Command};
    use crate::config::vars::ProcessEnv;

    /// Every object `pgstate upgrade` renders for every fixture (link, dump and rollback) keeps
    /// the input boundary, as `render`'s objects do.
    #[test]
    fn upgrade_objects_keep_the_input_boundary() {
        let files = crate::pipeline::fixture_files();
        let vars = ProcessEnv::default();
        let mut checked = 0;
        let mut planted_caught = 0;
        for path in &files {
            let text = std::fs::read_to_string(path).expect("fixture");
            let loaded =
                crate::config::load(crate::error::SourceId(0), &text, None, &vars).expect("loads");
            let Some(major) = super::postgres_major(&loaded.config.postgres.image) else {
                continue;
            };
            let from = (major - 2).to_string();
            for extra in [&[][..], &["--method", "dump"], &["--rollback"]] {
                let mut argv = vec!["pgstate", "upgrade", "--from", from.as_str()];
                argv.extend_from_slice(extra);
                let Ok(Cli {
                    command: Command::Upgrade(args),
                    ..
                }) = Cli::try_parse_from(&argv)
                else {
                    panic!("parses: {argv:?}");
                };
                let mut notes = Vec::new();
                let Ok(docs) = super::objects(&loaded.config, &args, "f", &vars, &mut notes) else {
                    continue;
                };
                for doc in &docs {
                    let found = crate::render::boundary::breaches(&loaded.config, &doc.value);
                    assert!(
                        found.is_empty(),
                        "{} {extra:?} {}: {found:?}",
                        path.display(),
                        doc.kind
                    );
                    checked += 1;
                    // The oracle reads these scripts: one with a word added is caught.
                    let mut planted = doc.value.clone();
                    let containers = &mut planted["spec"]["template"]["spec"]["containers"];
                    if let Some(script) = containers[0]["command"][2].as_str() {
                        containers[0]["command"][2] = format!("{script}\nid").into();
                        let found = crate::render::boundary::breaches(&loaded.config, &planted);
                        assert!(
                            !found.is_empty(),
                            "{}: a planted word is not caught",
                            doc.kind
                        );
                        planted_caught += 1;
                    }
                }
            }
        }
        assert!(checked > 10, "only {checked} upgrade objects checked");
        assert!(
            planted_caught > 5,
            "only {planted_caught} upgrade scripts planted"
        );
    }
}

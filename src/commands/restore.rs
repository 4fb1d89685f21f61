//! `pgstate restore`: which dump to restore, and the Job (with its NetworkPolicy) that restores it.

use std::io::Write;

use super::{rendered_configs, several};
use crate::cli::RestoreArgs;
use crate::config::Config;
use crate::config::vars::Vars;
use crate::error::Error;
use crate::output;
use crate::pipeline::{self, Document};
use crate::render::{self, Context, TemplateId, context};

/// A bucket key the download step may fetch: plain characters, no empty, `.` or `..` folder,
/// the file a dump.
fn is_dump_key(key: &str) -> bool {
    key.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && !key.rsplit('/').next().unwrap_or(key).starts_with('.')
        && (key.ends_with(".dump") || key.ends_with(".sql.gz"))
}

pub(crate) fn run(
    args: &RestoreArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    if args.from.is_none() && !args.latest {
        return Err(Error::Usage(
            "restore needs the dump to restore: --latest for the newest one, or --from DUMP for \
             a file name on the backup volume or s3://BUCKET/KEY (the backup job's log names each \
             dump it writes)"
                .into(),
        ));
    }
    let configs = rendered_configs(&args.config, vars, stderr)?;
    if configs.items.len() != 1 {
        return Err(Error::Usage(format!(
            "restore works on one database, and {}; pick one with --name NAME",
            several(&configs)
        )));
    }
    let loaded = &configs.items[0];
    let config = &loaded.config;
    let s3 = config.backup.as_ref().and_then(|b| b.s3.as_ref());
    let source = match (&args.from, args.latest) {
        (Some(from), false) => match from.strip_prefix("s3://") {
            Some(rest) => {
                let Some(s3) = s3 else {
                    return Err(Error::Usage(format!(
                        "`{from}` is in a bucket, and this config has no backup.s3 to read it with"
                    )));
                };
                let key = match rest.split_once('/') {
                    Some((bucket, key)) if bucket == s3.bucket => key,
                    _ => {
                        return Err(Error::Usage(format!(
                            "`{from}` is not in the bucket of backup.s3; give s3://{}/KEY",
                            s3.bucket
                        )));
                    }
                };
                if !is_dump_key(key) {
                    return Err(Error::Usage(format!(
                        "`{from}` is not a dump pgstate reads: a key of letters, digits, `.`, `_`, `-` and `/` (no `..`) ending in .dump or .sql.gz, such as s3://{}/{}/{}-20260101T020000Z-00.dump",
                        s3.bucket,
                        render::backup::s3_folder(config, s3),
                        config.name
                    )));
                }
                RestoreSource::Bucket(key.to_owned())
            }
            None => {
                if from.contains('/') || from.starts_with('.') || from.is_empty() {
                    return Err(Error::Usage(format!(
                        "--from takes a file name on the backup volume, such as {}-20260101T020000Z-00.dump, or s3://BUCKET/KEY, not `{from}`",
                        config.name
                    )));
                }
                RestoreSource::Volume(from.clone())
            }
        },
        // With a bucket, the newest dump there: it outlives the cluster and its volumes.
        _ if s3.is_some() => RestoreSource::Bucket("latest".to_owned()),
        _ => RestoreSource::Volume("latest".to_owned()),
    };
    let docs = restore_job(config, &source, vars)?;
    let group = output::Group {
        folder: String::new(),
        docs,
    };
    output::emit(&[group], &args.output, stdout)?;
    Ok(0)
}

#[derive(serde::Serialize)]
struct RestoreView<'a> {
    #[serde(flatten)]
    ctx: &'a Context,
    restore: Restore,
}

#[derive(serde::Serialize)]
struct Restore {
    name: String,
    env: Vec<context::EnvVar>,
    /// The bucket's key the download step fetches first (or "latest"); none: from the volume.
    s3_key: Option<String>,
}

/// Where a restore reads its dump.
pub enum RestoreSource {
    /// A file name on the backup volume, or "latest".
    Volume(String),
    /// A key in the bucket of `backup.s3`, or "latest".
    Bucket(String),
}

/// A Job that restores a dump, after the NetworkPolicy that closes backup and restore pods to
/// ingress (so the Job is safe on its own). From the bucket, a download step comes first and
/// the backup volume is an empty folder: it works on a new cluster without the old claim.
pub fn restore_job(
    config: &Config,
    source: &RestoreSource,
    vars: &dyn Vars,
) -> Result<Vec<Document>, Error> {
    if config.target != crate::config::model::Target::Statefulset {
        return Err(Error::Usage(format!(
            "restore reads pg_dump files of the statefulset target; with `target: {}` restore with the operator's or the provider's own recovery",
            crate::config::names::target_name(config.target)
        )));
    }
    let ctx = Context::new(config, vars);
    let Some(backup) = &ctx.backup else {
        return Err(Error::Usage(
            "restore reads dumps from the backup volume, and this config has no `backup:`".into(),
        ));
    };
    let mut env: Vec<context::EnvVar> = backup
        .env
        .iter()
        .filter(|e| !matches!(e.name.as_str(), "FORMAT" | "KEEP" | "COMPRESSION"))
        .map(|e| context::EnvVar {
            name: e.name.clone(),
            value: e.value.clone(),
            secret: None,
        })
        .collect();
    let (dump, s3_key) = match source {
        RestoreSource::Volume(dump) => (dump.clone(), None),
        RestoreSource::Bucket(key) => {
            if backup.s3.is_none() {
                return Err(Error::Usage(
                    "restore from s3:// reads the bucket of `backup.s3`, and this config has none"
                        .into(),
                ));
            }
            let name = key.rsplit('/').next().unwrap_or(key).to_owned();
            (name, Some(key.clone()))
        }
    };
    env.push(context::EnvVar {
        name: "DUMP".into(),
        value: Some(context::literal(&dump)),
        secret: None,
    });
    env.push(context::EnvVar {
        name: "JOBS".into(),
        value: Some(render::backup::RESTORE_JOBS.into()),
        secret: None,
    });
    let view = RestoreView {
        restore: Restore {
            name: format!("{}-restore", config.name),
            env,
            s3_key,
        },
        ctx: &ctx,
    };
    let mut docs = Vec::new();
    if ctx.network_policy().is_some() {
        docs.push(pipeline::render_template(
            TemplateId::BackupNetworkPolicy,
            &render::view(&ctx),
        )?);
    }
    docs.push(pipeline::render_template(
        TemplateId::RestoreJob,
        &render::view(&view),
    )?);
    Ok(docs)
}

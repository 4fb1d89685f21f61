//! The backup jobs' view (statefulset target): the nightly dump's CronJob, its upload to a
//! bucket, and the restore drill; the restore Job reuses their variables.

use serde::Serialize;

use super::context::{EnvVar, Map, PodView, literal, pod_view};
use super::postgres_files::TlsView;
use super::workload::labels;
use crate::config::defaults::{JOB_RESOURCES, ResolvedResources, resolve_resources};
use crate::config::model::{BackupFormat, Config, SslMode};
use crate::config::paths::{BACKUP_DIR, PASSWORD_FILE, S3_CREDENTIALS_DIR, TMP_DIR};

#[derive(Debug, Serialize)]
pub(crate) struct Backup {
    pub(crate) name: String,
    pub(crate) schedule: String,
    pub(crate) time_zone: Option<String>,
    pub(crate) keep: i64,
    pub(crate) format: &'static str,
    pub(crate) extension: &'static str,
    pub(crate) image: String,
    /// The claim the CronJob mounts; `render_claim` says whether pgstate renders it.
    pub(crate) claim: String,
    pub(crate) render_claim: bool,
    pub(crate) size: String,
    pub(crate) class: Option<String>,
    pub(crate) env: Vec<EnvVar>,
    pub(crate) resources: ResolvedResources,
    pub(crate) pod: PodView,
    /// The bucket each verified dump is uploaded to.
    pub(crate) s3: Option<BackupS3>,
    /// The CronJob that restores the newest dump into a scratch database and checks it.
    pub(crate) drill: Option<Drill>,
}

/// The upload (and download) step of the backup jobs: rclone, configured by env literals, the
/// keys read from the mounted Secret.
#[derive(Debug, Serialize)]
pub(crate) struct BackupS3 {
    pub(crate) image: String,
    pub(crate) secret: String,
    pub(crate) bucket: String,
    pub(crate) folder: String,
    pub(crate) env: Vec<EnvVar>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Drill {
    pub(crate) name: String,
    pub(crate) schedule: String,
    pub(crate) env: Vec<EnvVar>,
}

/// The uploader's default image: rclone, the version whose commands the tests run.
pub(crate) const RCLONE_IMAGE: &str = "rclone/rclone:1.60.1";
/// pg_restore's parallel jobs in the restore Job and the drill.
pub(crate) const RESTORE_JOBS: &str = "4";

/// The bucket's folder for a config: `prefix` (or its former name `path`), else the config's name.
pub(crate) fn s3_folder(config: &Config, s3: &crate::config::model::S3) -> String {
    s3.prefix
        .clone()
        .or_else(|| s3.path.clone())
        .unwrap_or_else(|| config.name.clone())
        .trim_matches('/')
        .to_owned()
}

fn backup_s3(config: &Config, b: &crate::config::model::Backup) -> Option<BackupS3> {
    let s3 = b.s3.as_ref()?;
    let lit = |name: &str, value: &str| EnvVar {
        name: name.into(),
        value: Some(literal(value)),
        secret: None,
    };
    let folder = s3_folder(config, s3);
    let mut env = vec![
        lit("BACKUP_DIR", BACKUP_DIR),
        lit("BACKUP_PREFIX", &config.name),
        lit("KEEP", &b.keep.to_string()),
        lit("S3_BUCKET", &s3.bucket),
        lit("S3_PREFIX", &folder),
        lit("S3_CREDENTIALS", S3_CREDENTIALS_DIR),
        lit("HOME", TMP_DIR),
        lit("RCLONE_CONFIG_PGSTATE_TYPE", "s3"),
        lit(
            "RCLONE_CONFIG_PGSTATE_PROVIDER",
            if s3.endpoint.is_some() {
                "Other"
            } else {
                "AWS"
            },
        ),
        lit("RCLONE_CONFIG_PGSTATE_ENV_AUTH", "false"),
        lit(
            "RCLONE_CONFIG_PGSTATE_REGION",
            s3.region.as_deref().unwrap_or("us-east-1"),
        ),
    ];
    if let Some(endpoint) = &s3.endpoint {
        env.push(lit("RCLONE_CONFIG_PGSTATE_ENDPOINT", endpoint));
    }
    // The bucket exists (creating it needs more rights than writing to it); a few retries,
    // then fail: the next night's run tries again.
    env.push(lit("RCLONE_S3_NO_CHECK_BUCKET", "true"));
    env.push(lit("RCLONE_RETRIES", "3"));
    env.push(lit("RCLONE_LOW_LEVEL_RETRIES", "3"));
    Some(BackupS3 {
        image: s3.image.clone().unwrap_or_else(|| RCLONE_IMAGE.to_owned()),
        secret: s3.secret.clone(),
        bucket: s3.bucket.clone(),
        folder,
        env,
    })
}

/// The view of `backup:` on the statefulset target: the CronJob's dump settings as variables of
/// its script, and the drill's.
pub(crate) fn view(
    config: &Config,
    b: &crate::config::model::Backup,
    tls: Option<&TlsView>,
) -> Backup {
    let pg = &config.postgres;
    let (format, extension) = match b.format {
        BackupFormat::Custom => ("custom", "dump"),
        BackupFormat::Gzip => ("gzip", "sql.gz"),
    };
    let lit = |name: &str, value: String| EnvVar {
        name: name.into(),
        value: Some(literal(&value)),
        secret: None,
    };
    let env = vec![
        lit("PGHOST", config.name.clone()),
        lit("PGPORT", pg.port.to_string()),
        lit("PGDATABASE", pg.database.clone()),
        lit("PGUSER", pg.user.clone()),
        lit("PASSWORD_FILE", PASSWORD_FILE.into()),
        lit("BACKUP_DIR", BACKUP_DIR.into()),
        lit("BACKUP_PREFIX", config.name.clone()),
        lit("FORMAT", format.into()),
        lit("COMPRESSION", b.compression.as_str().into()),
        lit("KEEP", b.keep.to_string()),
    ];
    let mut env = env;
    if let Some(t) = &tls {
        env.push(lit("PGSSLMODE", SslMode::VerifyFull.as_str().into()));
        env.push(lit("PGSSLROOTCERT", t.ca_file.clone()));
    }
    let drill = b.drill.as_ref().map(|d| {
        let mut env: Vec<EnvVar> = env
            .iter()
            .filter(|e| {
                !matches!(
                    e.name.as_str(),
                    "PGDATABASE" | "FORMAT" | "COMPRESSION" | "KEEP"
                )
            })
            .map(|e| EnvVar {
                name: e.name.clone(),
                value: e.value.clone(),
                secret: None,
            })
            .collect();
        env.push(lit("JOBS", RESTORE_JOBS.into()));
        Drill {
            name: format!("{}-drill", config.name),
            schedule: d.schedule.clone(),
            env,
        }
    });
    Backup {
        name: format!("{}-backup", config.name),
        schedule: b.schedule.clone(),
        time_zone: b.time_zone.clone(),
        keep: b.keep,
        format,
        extension,
        image: b.image.clone().unwrap_or_else(|| pg.image.clone()),
        claim: b
            .storage
            .claim
            .clone()
            .unwrap_or_else(|| format!("{}-backup", config.name)),
        render_claim: b.storage.claim.is_none(),
        size: b.storage.size.clone(),
        class: b.storage.class.clone(),
        env,
        resources: resolve_resources(&b.resources, &JOB_RESOURCES),
        pod: pod_view(&b.pod, &labels(config, "backup", "postgresql"), &Map::new()),
        s3: backup_s3(config, b),
        drill,
    }
}

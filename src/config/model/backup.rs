//! `backup:`: the schedule, the dumps kept, their volume and the copy to S3-compatible storage.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Pod, Resources};

/// Present = enabled: a CronJob that dumps, verifies, and keeps the newest `keep` dumps.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Backup {
    /// When: a 5-field cron expression or @daily, @hourly, ...; checked field by field.
    pub(crate) schedule: String,
    /// The CronJob's time zone, an IANA name such as Europe/Berlin; default the cluster's (UTC).
    pub(crate) time_zone: Option<String>,
    /// How many dumps are kept (the newest); older ones are pruned only after a verified dump.
    pub(crate) keep: i64,
    /// `custom` (pg_dump -Fc, for pg_restore) or `gzip` (plain SQL, gzipped).
    pub(crate) format: BackupFormat,
    /// The backup job's image; default `postgres.image` (a pg_dump older than the server refuses to
    /// run).
    pub(crate) image: Option<String>,
    /// The backup volume.
    pub(crate) storage: BackupStorage,
    /// The backup job's requests and limits.
    pub(crate) resources: Resources,
    /// Object storage: the operator targets back up there; the statefulset target uploads each
    /// verified dump there too, and keeps the newest `keep` in the bucket as well.
    pub(crate) s3: Option<S3>,
    /// How dumps of `format: custom` are compressed: auto = zstd when the backup image's client
    /// is PostgreSQL 16 or newer, else gzip. `format: gzip` is always gzip.
    pub(crate) compression: Compression,
    /// A CronJob that restores the newest dump into a scratch database, checks it and drops it.
    pub(crate) drill: Option<Drill>,
    /// pgBackRest full backups (`target: percona`); default: `schedule`.
    pub(crate) full: Option<String>,
    /// pgBackRest differential backups (`target: percona`).
    pub(crate) differential: Option<String>,
    /// Settings of the backup CronJob's and the restore Job's pods.
    pub(crate) pod: Pod,
}

/// A bucket for the backups, and the Secret with its credentials.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct S3 {
    /// The bucket's name, as S3 allows it (3-63 characters: a-z, 0-9, `.` and `-`).
    pub(crate) bucket: String,
    /// The S3 endpoint: an https URL (statefulset, cloudnativepg) or a host (percona);
    /// default AWS.
    pub(crate) endpoint: Option<String>,
    /// The bucket's region, e.g. eu-central-1; default us-east-1 (statefulset target).
    pub(crate) region: Option<String>,
    /// The Secret with the credentials: keys ACCESS_KEY_ID and ACCESS_SECRET_KEY (statefulset,
    /// cloudnativepg; percona reads pgBackRest's s3.conf from it).
    pub(crate) secret: String,
    /// The folder in the bucket; default: the config's `name`.
    pub(crate) prefix: Option<String>,
    /// The former name of `prefix`; still read.
    pub(crate) path: Option<String>,
    /// Allow an `http://` endpoint (an object store inside the cluster); default false.
    #[serde(default)]
    pub(crate) allow_http: bool,
    /// The uploader's image (statefulset target): rclone, pinned; default rclone/rclone:1.60.1.
    pub(crate) image: Option<String>,
}

/// The drill: restore the newest dump into a scratch database on a schedule, and check it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Drill {
    /// 5-field cron or @daily/@weekly/...; e.g. "0 5 * * 0" for 05:00 on Sundays.
    pub(crate) schedule: String,
}

/// How a custom-format dump is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Compression {
    /// zstd with a PostgreSQL 16 or newer client, gzip with an older one.
    #[default]
    Auto,
    Gzip,
    /// Needs a PostgreSQL 16 or newer client in the backup image.
    Zstd,
}

impl Compression {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Compression::Auto => "auto",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum BackupFormat {
    #[default]
    Custom,
    Gzip,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub(crate) struct BackupStorage {
    /// The backup volume's size (default 5Gi).
    pub(crate) size: String,
    /// Its StorageClass; unset = the cluster's default.
    pub(crate) class: Option<String>,
    /// An existing PVC to write the dumps to, instead of `<name>-backup`.
    pub(crate) claim: Option<String>,
}

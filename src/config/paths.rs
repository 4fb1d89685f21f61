//! The folders pgstate mounts in its containers and the file modes of its volumes, each spelt
//! once: the view prints them (render/) and the validation keeps a config off them.

/// `/etc/pgstate`, spelt once for [`SECRET_DIR`] and the files in it.
macro_rules! secret_dir {
    () => {
        "/etc/pgstate"
    };
}

/// Where the password file is mounted in every container that needs it.
pub(crate) const SECRET_DIR: &str = secret_dir!();
pub(crate) const PASSWORD_FILE: &str = concat!(secret_dir!(), "/password");
/// Where the database container finds the whole credentials Secret (the app role's password).
pub(crate) const APP_SECRET_DIR: &str = "/etc/pgstate-app";
/// Where the server's certificate, key and CA are mounted (the CA alone in the clients).
pub(crate) const TLS_DIR: &str = "/etc/pgstate-tls";
/// Where the rendered pg_hba.conf is mounted.
pub(crate) const HBA_DIR: &str = "/etc/pgstate-hba";
/// Where the postgres image's entrypoint looks for scripts to run on an empty data directory.
pub(crate) const INITDB_DIR: &str = "/docker-entrypoint-initdb.d";
/// Where the postgres image keeps its socket.
pub(crate) const SOCKET_DIR: &str = "/var/run/postgresql";
/// The database pod's in-memory shared memory folder.
pub(crate) const SHM_DIR: &str = "/dev/shm";
/// Every pgstate container's writable /tmp (its root file system is read-only).
pub(crate) const TMP_DIR: &str = "/tmp";
/// Where the backup volume is mounted in the backup, restore, drill and upgrade Jobs.
pub(crate) const BACKUP_DIR: &str = "/backups";
/// Where the S3 credentials Secret is mounted in the upload and download steps.
pub(crate) const S3_CREDENTIALS_DIR: &str = "/etc/pgstate-s3";
/// Where the Redis password file is mounted.
pub(crate) const REDIS_SECRET_DIR: &str = "/etc/pgstate-redis";
/// Where the rendered redis.conf (without the password) is mounted.
pub(crate) const REDIS_CONF_DIR: &str = "/etc/redis";
/// The memory-backed folder the start script writes the complete redis.conf to.
pub(crate) const REDIS_RUN_DIR: &str = "/run/redis";
/// Where Redis keeps its data (the volume).
pub(crate) const REDIS_DATA_DIR: &str = "/data";

/// `defaultMode` 0440 of a Secret volume: readable by the pod's group (fsGroup) only.
pub(crate) const SECRET_MODE: i64 = 0o440;
/// `defaultMode` 0444 of a volume whose files the container only reads: a ConfigMap, the CA.
pub(crate) const CONFIG_MODE: i64 = 0o444;
/// `defaultMode` 0640 of the TLS Secret: PostgreSQL accepts a key owned by root with group
/// fsGroup and this mode.
pub(crate) const TLS_MODE: i64 = 0o640;

/// The folders the database container mounts besides its data volume: `postgres.mountPath`
/// may not be one of them.
pub(crate) const DATABASE_MOUNTS: [&str; 4] = [SOCKET_DIR, TMP_DIR, SHM_DIR, SECRET_DIR];

/// Where pgstate itself mounts volumes: its own folders, fine even under system folders (the
/// boundary oracle's list).
pub(crate) const OWN_MOUNTS: &[&str] = &[
    SOCKET_DIR,
    TMP_DIR,
    SHM_DIR,
    SECRET_DIR,
    APP_SECRET_DIR,
    TLS_DIR,
    HBA_DIR,
    S3_CREDENTIALS_DIR,
    INITDB_DIR,
    REDIS_SECRET_DIR,
    REDIS_CONF_DIR,
    REDIS_RUN_DIR,
];

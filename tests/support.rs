//! What the integration tests share: running pgstate (in-process or as the built binary, with a
//! stand-in kubectl), reading its output, running a rendered container's command as its pod would
//! (UID, volumes, Secret files with their modes), commands bounded in time, a throwaway
//! PostgreSQL server, a real S3 server, and the operators' CRDs.

mod crd;
mod pod;
mod postgres;
mod process;
mod run;
mod s3;

pub(crate) use crd::{custom_resource_problems, validate_custom_resource};
pub(crate) use pod::{
    Container, PodUser, RCLONE_PATH, Step, Volumes, dir_files, literal_env, localized_env,
    mount_paths, pod_steps, probes_answer, restore_container, run_pod, secret_password, volume_dir,
};
pub(crate) use postgres::{
    Checksums, DATA_SQL, DATABASE, PASSWORD, Server, USER, USER_TABLES, assert_same,
    fingerprint_sql, pg_bin_dir, pg_major_bin,
};
pub(crate) use process::{Output, bounded, current_uid, free_port};
pub(crate) use run::{
    FakeKubectl, by_identity, ci_test_with_cargo, documents, find, find_named, folder_with_config,
    kustomize, pgstate, pgstate_bin, pgstate_command, pgstate_in, pgstate_status, render_config,
    strings,
};
pub(crate) use s3::{S3_ACCESS_KEY, S3_SECRET_KEY, S3Server};

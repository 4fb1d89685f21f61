//! One integration test binary: render snapshots, error snapshots, the CLI, and end-to-end
//! tests against a real PostgreSQL.

mod backup_e2e;
mod bitnami;
mod boundary;
mod boundary_e2e;
mod ci;
mod cli;
mod creds;
mod creds_e2e;
mod docs;
mod errors;
mod first_hour;
mod initsql_e2e;
mod many;
mod metrics_e2e;
mod offsite_e2e;
mod readme;
mod redis_e2e;
mod render;
mod support;
mod targets;
mod upgrade_e2e;

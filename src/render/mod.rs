//! Rendering: which templates a config renders (`templates_for`) and each object's YAML from
//! the view model; the pipeline reads that YAML back and checks it.

pub(crate) mod app;
pub(crate) mod backup;
mod blocks;
pub mod boundary;
pub(crate) mod context;
mod env;
pub(crate) mod postgres;
pub(crate) mod postgres_files;
pub(crate) mod redis;
pub(crate) mod targets;
pub(crate) mod workload;

use crate::config::Config;
use crate::config::vars::Vars;
use crate::error::Error;
pub(crate) use context::Context;
pub(crate) use env::END;
pub use env::environment;
use env::{OBJECTS, compiled};
pub(crate) use env::{TemplateId, embedded_scripts};

/// What the templates see: the context converted once, shared by every template of a config.
pub(crate) fn view<S: serde::Serialize>(ctx: &S) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(ctx))
}

/// Renders every object of one config: the YAML of each template [`templates_for`] picks.
pub(crate) fn objects(
    config: &Config,
    vars: &dyn Vars,
) -> Result<Vec<(TemplateId, String)>, Error> {
    let init_files = config.postgres.init_sql.iter().flat_map(|i| &i.files);
    if let Some(file) = init_files.into_iter().find(|f| f.text.is_none()) {
        return Err(Error::Bug(format!(
            "the init SQL file {} was not read before rendering",
            file.path
        )));
    }
    let ctx = Context::new(config, vars);
    let view = view(&ctx);
    let ids = templates_for(&ctx);
    let yamls = render_objects(&ids, &view)?;
    Ok(ids.into_iter().zip(yamls).collect())
}

/// The YAML of one template rendered with a view (see [`view`]).
pub(crate) fn object(id: TemplateId, view: &minijinja::Value) -> Result<String, Error> {
    Ok(render_objects(&[id], view)?.pop().unwrap_or_default())
}

/// The YAML of each template of `ids`, rendered with `view` in one run of [`OBJECTS`].
fn render_objects(ids: &[TemplateId], view: &minijinja::Value) -> Result<Vec<String>, Error> {
    let names: Vec<&str> = ids.iter().map(|id| id.file()).collect();
    let objects: Vec<[&str; 2]> = ids.iter().map(|id| [id.file(), id.workload()]).collect();
    let ctx = minijinja::context! { objects => &objects, ..view.clone() };
    let text = compiled(OBJECTS)?
        .render(ctx)
        .map_err(|e| Error::Bug(format!("template {} failed: {e:#}", names.join(", "))))?;
    let mut yamls = Vec::with_capacity(ids.len() + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(END, text.as_bytes()) {
        yamls.push(text[start..end].to_owned());
        start = end + 1;
    }
    yamls.push(text[start..].to_owned());
    // Each object ends with END: the last piece is empty.
    if yamls.pop().as_deref() != Some("") || yamls.len() != ids.len() {
        return Err(Error::Bug(format!(
            "templates {} printed {} objects",
            names.join(", "),
            yamls.len()
        )));
    }
    Ok(yamls)
}

/// Where a kind of object goes in the output: Helm's install order, so that `kubectl apply`
/// creates the NetworkPolicies, Secrets, ConfigMaps, volumes and Services before the workloads
/// that need them. A stream cut short (a failed apply) then never leaves a running database
/// without its policy. Custom resources come last.
pub fn install_rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "NetworkPolicy" => 1,
        "Secret" => 2,
        "ConfigMap" => 3,
        "PersistentVolume" => 4,
        "PersistentVolumeClaim" => 5,
        "Service" => 6,
        "StatefulSet" => 7,
        "Deployment" => 8,
        "Job" => 9,
        "CronJob" => 10,
        _ => 11,
    }
}

/// Which objects a config renders, in output order: [`install_rank`], and within a kind the
/// database's before Redis's.
pub(crate) fn templates_for(ctx: &Context) -> Vec<TemplateId> {
    let mut ids = ordered_templates(ctx);
    ids.sort_by_key(|id| install_rank(id.kind().unwrap_or_default()));
    ids
}

fn ordered_templates(ctx: &Context) -> Vec<TemplateId> {
    let mut ids = database_templates(ctx);
    if let Some(redis) = &ctx.redis {
        // Redis runs in the cluster whatever runs the database.
        if redis.secret.data.is_some() {
            ids.push(TemplateId::RedisSecret);
        }
        ids.extend([
            TemplateId::RedisConfig,
            TemplateId::RedisHeadlessService,
            TemplateId::RedisService,
            TemplateId::RedisStatefulSet,
        ]);
        if redis.workload.policy.is_some() {
            ids.push(TemplateId::RedisNetworkPolicy);
        }
    }
    ids
}

fn database_templates(ctx: &Context) -> Vec<TemplateId> {
    let mut ids = Vec::new();
    if ctx.secret.data.is_some() {
        ids.push(TemplateId::Secret);
    }
    if ctx.initdb.is_some() {
        ids.push(TemplateId::InitdbConfigMap);
    }
    if ctx.hba.is_some() {
        ids.push(TemplateId::HbaConfigMap);
    }
    if ctx.tls.as_ref().is_some_and(|t| t.certificate.is_some()) {
        ids.push(TemplateId::Certificate);
    }
    if ctx.local_volume.is_some() {
        ids.push(TemplateId::PersistentVolume);
    }
    if let Some(cnpg) = &ctx.cnpg {
        if cnpg.backup.is_some() {
            ids.push(TemplateId::CnpgObjectStore);
        }
        ids.push(TemplateId::CnpgCluster);
        if cnpg.backup.is_some() {
            ids.push(TemplateId::CnpgScheduledBackup);
        }
        if cnpg.pooler.is_some() {
            ids.push(TemplateId::CnpgPooler);
        }
    }
    if ctx.percona.is_some() {
        ids.push(TemplateId::PerconaCluster);
    }
    if ctx.external.is_some() {
        ids.push(TemplateId::ExternalService);
    }
    if ctx.target != "statefulset" {
        // The operator or the provider runs the database; the app's policy is still ours.
        if ctx.app.is_some() {
            ids.push(TemplateId::Deployment);
            if ctx.app_policy {
                ids.push(TemplateId::AppNetworkPolicy);
            }
        }
        return ids;
    }
    if ctx.backup.as_ref().is_some_and(|b| b.render_claim) {
        ids.push(TemplateId::BackupClaim);
    }
    ids.extend([
        TemplateId::HeadlessService,
        TemplateId::Service,
        TemplateId::StatefulSet,
    ]);
    if let Some(backup) = &ctx.backup {
        ids.push(TemplateId::BackupCronJob);
        if backup.drill.is_some() {
            ids.push(TemplateId::DrillCronJob);
        }
    }
    if ctx.app.is_some() {
        ids.push(TemplateId::Deployment);
    }
    if ctx
        .metrics
        .as_ref()
        .is_some_and(|m| m.service_monitor.is_some())
    {
        ids.push(TemplateId::ServiceMonitor);
    }
    if ctx.network_policy().is_some() {
        ids.push(TemplateId::NetworkPolicy);
        if ctx.app.is_some() {
            ids.push(TemplateId::AppNetworkPolicy);
        }
        if ctx.backup.is_some() {
            ids.push(TemplateId::BackupNetworkPolicy);
        }
    }
    ids
}

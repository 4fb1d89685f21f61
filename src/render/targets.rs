//! The view models of the operator and external targets, and the translations they need
//! (cron with seconds, a dump count as a recovery window, the operator's label selectors).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::context::Map;
use crate::config::defaults::{POSTGRES_RESOURCES, ResolvedResources, resolve_resources};
use crate::config::image::{percona_image, postgres_major};
use crate::config::model::{Backup, Config, S3};

/// The Percona operator version whose CRD pgstate writes for.
pub(crate) const PERCONA_CR_VERSION: &str = "2.9.0";

pub(crate) const PERCONA_PGBOUNCER_IMAGE: &str = "docker.io/percona/percona-pgbouncer:1.25.1-1";
pub(crate) const PERCONA_PGBACKREST_IMAGE: &str = "docker.io/percona/percona-pgbackrest:2.58.0-1";

/// The Barman Cloud plugin's name, as a Cluster and a ScheduledBackup refer to it.
pub(crate) const BARMAN_PLUGIN: &str = "barman-cloud.cloudnative-pg.io";
/// CloudNativePG's PostgreSQL port: the operator does not let it change.
pub(crate) const CNPG_PORT: i64 = 5432;
/// The one instance set of a PerconaPGCluster.
pub(crate) const PERCONA_INSTANCE_SET: &str = "instance1";

/// `target: cloudnativepg`: a Cluster, and its backup, pooler and object store.
#[derive(Debug, Serialize)]
pub(crate) struct Cnpg {
    pub(crate) instances: i64,
    pub(crate) image: String,
    pub(crate) size: String,
    pub(crate) class: Option<String>,
    pub(crate) resources: ResolvedResources,
    pub(crate) parameters: Map,
    /// `postgresql.shared_preload_libraries`: added to the operator's own.
    pub(crate) preload: Vec<String>,
    /// `bootstrap.initdb.postInitApplicationSQL`.
    pub(crate) post_init_sql: Vec<String>,
    /// One instance: no PodDisruptionBudget, or a node drain would wait forever.
    pub(crate) enable_pdb: bool,
    /// `monitoring.enablePodMonitor`: the operator's PodMonitor for the instances' exporter.
    pub(crate) pod_monitor: bool,
    /// The `kubernetes.io/basic-auth` Secret initdb takes the owner's password from.
    pub(crate) initdb_secret: Option<String>,
    pub(crate) node_selector: Map,
    pub(crate) tolerations: Vec<Value>,
    pub(crate) node_affinity: Option<Value>,
    pub(crate) pod_affinity: Option<Value>,
    pub(crate) pod_anti_affinity: Option<Value>,
    pub(crate) topology_spread: Vec<Value>,
    pub(crate) backup: Option<CnpgBackup>,
    pub(crate) pooler: Option<PoolerView>,
    pub(crate) rw_service: String,
    /// `spec.certificates`: the server's kubernetes.io/tls Secret, also the CA's (`postgres.tls`).
    pub(crate) tls_secret: Option<String>,
    /// `spec.postgresql.pg_hba`: `postgres.hba`, then the refusal of plaintext when TLS is
    /// required; the operator's own rules come before, its default after.
    pub(crate) pg_hba: Vec<String>,
    /// `postgres.pod`: labels and annotations become `inheritedMetadata` (the operator puts
    /// them on every object it makes, the pods included); the grace period is `stopDelay`.
    pub(crate) pod: OperatorPod,
}

/// The pod settings an operator's custom resource takes (validation refuses the others).
#[derive(Debug, Serialize)]
pub(crate) struct OperatorPod {
    pub(crate) labels: Map,
    pub(crate) annotations: Map,
    pub(crate) image_pull_secrets: Vec<String>,
    pub(crate) priority_class_name: Option<String>,
    pub(crate) service_account_name: Option<String>,
    pub(crate) termination_grace_period_seconds: Option<i64>,
    pub(crate) shm_size: Option<String>,
}

fn operator_pod(config: &Config) -> OperatorPod {
    let pod = &config.postgres.pod;
    OperatorPod {
        labels: pod.labels.clone(),
        annotations: pod.annotations.clone(),
        image_pull_secrets: pod.image_pull_secrets.clone(),
        priority_class_name: pod.priority_class_name.clone(),
        service_account_name: pod.service_account_name.clone(),
        termination_grace_period_seconds: pod.termination_grace_period_seconds,
        shm_size: pod.shm_size.clone(),
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct CnpgBackup {
    pub(crate) name: String,
    pub(crate) object_store: String,
    pub(crate) plugin: &'static str,
    /// Six fields, seconds first (CloudNativePG's cron).
    pub(crate) schedule: String,
    pub(crate) destination_path: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) secret: String,
    pub(crate) region: bool,
    pub(crate) retention: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct PoolerView {
    pub(crate) name: String,
    pub(crate) replicas: i64,
    pub(crate) mode: &'static str,
}

/// `target: percona`: one PerconaPGCluster.
#[derive(Debug, Serialize)]
pub(crate) struct Percona {
    pub(crate) cr_version: &'static str,
    pub(crate) image: String,
    pub(crate) pgbouncer_image: &'static str,
    pub(crate) pgbackrest_image: &'static str,
    pub(crate) postgres_version: i64,
    pub(crate) instance_set: &'static str,
    pub(crate) replicas: i64,
    pub(crate) resources: ResolvedResources,
    pub(crate) size: String,
    pub(crate) class: Option<String>,
    pub(crate) access_mode: &'static str,
    pub(crate) tolerations: Vec<Value>,
    pub(crate) affinity: Option<Value>,
    pub(crate) topology_spread: Vec<Value>,
    pub(crate) parameters: Map,
    pub(crate) user_secret: String,
    pub(crate) pooler: Option<PoolerView>,
    pub(crate) backup: Option<PerconaBackup>,
    /// `postgres.pod`: the instance set's metadata and priority class, the cluster's pull
    /// secrets.
    pub(crate) pod: OperatorPod,
}

#[derive(Debug, Serialize)]
pub(crate) struct PerconaBackup {
    pub(crate) full: String,
    pub(crate) differential: Option<String>,
    pub(crate) global: Map,
    pub(crate) s3: Option<PerconaS3>,
    pub(crate) size: String,
    pub(crate) class: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PerconaS3 {
    pub(crate) bucket: String,
    pub(crate) endpoint: String,
    pub(crate) region: String,
    pub(crate) secret: String,
}

/// `target: external`: an ExternalName Service in front of a managed database.
#[derive(Debug, Serialize)]
pub(crate) struct ExternalView {
    pub(crate) host: String,
    pub(crate) port: i64,
    pub(crate) ssl_mode: &'static str,
}

/// Adds the operator's pod labels as the selector of a spread constraint that has none.
fn with_selector(spread: &[Value], labels: &Value) -> Vec<Value> {
    spread
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if let Some(map) = c.as_object_mut() {
                map.entry("labelSelector")
                    .or_insert_with(|| json!({"matchLabels": labels}));
            }
            c
        })
        .collect()
}

fn pooler(config: &Config, name: String) -> Option<PoolerView> {
    config.pooler.as_ref().map(|p| PoolerView {
        name,
        replicas: p.replicas,
        mode: p.mode.as_str(),
    })
}

fn s3_path(config: &Config, s3: &S3) -> String {
    super::backup::s3_folder(config, s3)
}

pub(crate) fn cnpg(config: &Config, initdb_secret: Option<String>) -> Cnpg {
    let pg = &config.postgres;
    let affinity = pg.affinity.as_ref();
    let part = |key: &str| affinity.and_then(|a| a.get(key)).cloned();
    let backup = config.backup.as_ref().and_then(|b| {
        let s3 = b.s3.as_ref()?;
        Some(CnpgBackup {
            name: format!("{}-backup", config.name),
            object_store: format!("{}-backup", config.name),
            plugin: BARMAN_PLUGIN,
            schedule: cnpg_schedule(&b.schedule, b.time_zone.as_deref()),
            destination_path: format!("s3://{}/{}", s3.bucket, s3_path(config, s3)),
            endpoint: s3.endpoint.clone(),
            secret: s3.secret.clone(),
            region: s3.region.is_some(),
            retention: retention_window(&b.schedule, b.keep),
        })
    });
    Cnpg {
        instances: pg.replicas,
        image: pg.image.clone(),
        size: pg.storage.size.clone(),
        class: pg.storage.class.clone(),
        resources: resolve_resources(&pg.resources, &POSTGRES_RESOURCES),
        parameters: {
            let mut parameters = pg.settings.clone();
            parameters.remove("shared_preload_libraries");
            parameters
        },
        preload: super::postgres_files::preload_libraries(pg),
        post_init_sql: if pg.statements {
            vec![super::postgres_files::STATEMENTS_SQL.trim_end().to_owned()]
        } else {
            Vec::new()
        },
        enable_pdb: pg.replicas > 1,
        pod_monitor: pg.metrics.enabled,
        initdb_secret,
        node_selector: pg.node_selector.clone(),
        tolerations: pg.tolerations.clone(),
        node_affinity: part("nodeAffinity"),
        pod_affinity: part("podAffinity"),
        pod_anti_affinity: part("podAntiAffinity"),
        topology_spread: with_selector(
            &pg.topology_spread,
            &json!({"cnpg.io/cluster": config.name, "cnpg.io/podRole": "instance"}),
        ),
        backup,
        pooler: pooler(config, format!("{}-pooler-rw", config.name)),
        rw_service: format!("{}-rw", config.name),
        tls_secret: pg
            .tls
            .as_ref()
            .map(|_| super::postgres_files::tls_secret(config)),
        pg_hba: {
            let mut lines: Vec<String> =
                pg.hba.iter().map(super::postgres_files::hba_line).collect();
            if pg.tls.as_ref().is_some_and(|t| t.required) {
                lines.push("hostnossl all all 0.0.0.0/0 reject".into());
                lines.push("hostnossl all all ::/0 reject".into());
            }
            lines
        },
        pod: operator_pod(config),
    }
}

pub(crate) fn percona(config: &Config) -> Percona {
    let pg = &config.postgres;
    let backup = config.backup.as_ref().map(|b| percona_backup(config, b));
    Percona {
        cr_version: PERCONA_CR_VERSION,
        image: percona_image(&pg.image).unwrap_or_default(),
        pgbouncer_image: PERCONA_PGBOUNCER_IMAGE,
        pgbackrest_image: PERCONA_PGBACKREST_IMAGE,
        postgres_version: postgres_major(&pg.image).unwrap_or_default(),
        instance_set: PERCONA_INSTANCE_SET,
        replicas: pg.replicas,
        resources: resolve_resources(&pg.resources, &POSTGRES_RESOURCES),
        size: pg.storage.size.clone(),
        class: pg.storage.class.clone(),
        access_mode: pg.storage.access_mode.as_str(),
        tolerations: pg.tolerations.clone(),
        affinity: pg.affinity.clone(),
        topology_spread: with_selector(
            &pg.topology_spread,
            &json!({
                "postgres-operator.crunchydata.com/cluster": config.name,
                "postgres-operator.crunchydata.com/instance-set": PERCONA_INSTANCE_SET,
            }),
        ),
        parameters: pg.settings.clone(),
        user_secret: percona_user_secret(config),
        pooler: pooler(config, format!("{}-pgbouncer", config.name)),
        backup,
        pod: operator_pod(config),
    }
}

/// The Secret the Percona operator writes for the app's user.
pub(crate) fn percona_user_secret(config: &Config) -> String {
    format!("{}-pguser-{}", config.name, config.postgres.user)
}

fn percona_backup(config: &Config, b: &Backup) -> PerconaBackup {
    let mut global = BTreeMap::from([
        ("repo1-retention-full".to_owned(), b.keep.to_string()),
        ("repo1-retention-full-type".to_owned(), "count".to_owned()),
    ]);
    let s3 = b.s3.as_ref().map(|s3| {
        global.insert(
            "repo1-path".into(),
            format!("/pgbackrest/{}/repo1", s3_path(config, s3)),
        );
        PerconaS3 {
            bucket: s3.bucket.clone(),
            endpoint: s3
                .endpoint
                .clone()
                .unwrap_or_else(|| "s3.amazonaws.com".to_owned()),
            region: s3.region.clone().unwrap_or_default(),
            secret: s3.secret.clone(),
        }
    });
    PerconaBackup {
        full: b.full.clone().unwrap_or_else(|| b.schedule.clone()),
        differential: b.differential.clone(),
        global,
        s3,
        size: b.storage.size.clone(),
        class: b.storage.class.clone(),
    }
}

pub(crate) fn external(config: &Config) -> Option<ExternalView> {
    config.external.as_ref().map(|e| ExternalView {
        host: e.host.clone(),
        port: e.port.unwrap_or(config.postgres.port),
        ssl_mode: e.ssl_mode.as_str(),
    })
}

/// A five-field schedule (or @macro) in CloudNativePG's six-field cron, seconds first, with
/// the time zone as robfig/cron's `CRON_TZ=` prefix. Sunday is 0 there, never 7.
pub(crate) fn cnpg_schedule(schedule: &str, time_zone: Option<&str>) -> String {
    let six = match schedule.trim() {
        "@yearly" | "@annually" => "0 0 0 1 1 *".to_owned(),
        "@monthly" => "0 0 0 1 * *".to_owned(),
        "@weekly" => "0 0 0 * * 0".to_owned(),
        "@daily" | "@midnight" => "0 0 0 * * *".to_owned(),
        "@hourly" => "0 0 * * * *".to_owned(),
        five => {
            let mut fields: Vec<String> = five.split_whitespace().map(str::to_owned).collect();
            if let Some(dow) = fields.get_mut(4) {
                *dow = sunday_as_zero(dow);
            }
            format!("0 {}", fields.join(" "))
        }
    };
    match time_zone {
        Some(tz) => format!("CRON_TZ={tz} {six}"),
        None => six,
    }
}

/// A day-of-week field with 7 (Sunday, which robfig/cron does not take) written as 0.
fn sunday_as_zero(field: &str) -> String {
    field
        .split(',')
        .map(|part| {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            let range = match range.split_once('-') {
                Some((a, "7")) if a == "0" || a == "1" => "*".to_owned(),
                Some((a, "7")) => format!("{a}-6,0"),
                _ if range == "7" => "0".to_owned(),
                _ => range.to_owned(),
            };
            match step {
                Some(s) if !range.contains(',') => format!("{range}/{s}"),
                _ => range,
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// How many values a cron field takes between lo and hi (names count as one value each).
fn field_count(field: &str, lo: u32, hi: u32) -> u32 {
    let mut n = 0;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().unwrap_or(1).max(1)),
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (a.parse().unwrap_or(lo), b.parse().unwrap_or(hi))
        } else if step > 1 {
            (range.parse().unwrap_or(lo), hi)
        } else {
            (0, 0)
        };
        n += if b >= a { (b - a) / step + 1 } else { 1 };
    }
    n.max(1)
}

/// `keep` backups on `schedule`, as CloudNativePG's recovery window (`7d`, `4w`, `3m`): the
/// span that `keep` runs of the schedule cover.
pub(crate) fn retention_window(schedule: &str, keep: i64) -> String {
    let keep = keep.max(1);
    let fields: Vec<&str> = match schedule.trim() {
        "@yearly" | "@annually" => return format!("{}m", keep * 12),
        "@monthly" => return format!("{keep}m"),
        "@weekly" => return format!("{keep}w"),
        "@daily" | "@midnight" => return format!("{keep}d"),
        "@hourly" => return format!("{}d", (keep + 23) / 24),
        five => five.split_whitespace().collect(),
    };
    let [minute, hour, dom, month, dow] = fields[..] else {
        return format!("{keep}d");
    };
    if month != "*" {
        return format!("{}m", keep * 12);
    }
    if dom != "*" {
        return format!("{keep}m");
    }
    if dow != "*" {
        let days = i64::from(field_count(dow, 0, 6));
        return if days == 1 {
            format!("{keep}w")
        } else {
            format!("{}d", (keep * 7 + days - 1) / days)
        };
    }
    let per_day = i64::from(field_count(minute, 0, 59) * field_count(hour, 0, 23));
    format!("{}d", ((keep + per_day - 1) / per_day).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_get_seconds_and_a_sunday_cnpg_takes() {
        assert_eq!(cnpg_schedule("0 2 * * *", None), "0 0 2 * * *");
        assert_eq!(cnpg_schedule("30 1 * * 7", None), "0 30 1 * * 0");
        assert_eq!(cnpg_schedule("0 1 * * 5-7", None), "0 0 1 * * 5-6,0");
        assert_eq!(cnpg_schedule("0 1 * * SUN", None), "0 0 1 * * SUN");
        assert_eq!(cnpg_schedule("@weekly", None), "0 0 0 * * 0");
        assert_eq!(
            cnpg_schedule("0 2 * * *", Some("Europe/Berlin")),
            "CRON_TZ=Europe/Berlin 0 0 2 * * *"
        );
    }

    #[test]
    fn keep_becomes_the_window_its_runs_cover() {
        assert_eq!(retention_window("0 2 * * *", 7), "7d");
        assert_eq!(retention_window("0 1 * * 0", 4), "4w");
        assert_eq!(retention_window("0 1 * * 1-6", 6), "7d");
        assert_eq!(retention_window("0 3 1 * *", 3), "3m");
        assert_eq!(retention_window("0 */6 * * *", 8), "2d");
        assert_eq!(retention_window("@hourly", 48), "2d");
    }
}

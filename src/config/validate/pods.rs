//! `pod:` blocks: labels, annotations, grace periods and the other pod settings of each workload.

use super::Checker;
use super::names::{dns_hint, is_dns_subdomain, is_label_key, is_label_value, subdomain};
use super::resources::quantity;
use crate::config::defaults::{POSTGRES_RESOURCES, resolve_resources};
use crate::config::model::{Config, Target};
use crate::config::names::target_name;
use crate::config::paths::SHM_DIR;
use crate::config::units::parse_quantity;

// ---------------------------------------------------------------------------------------------
// Pod settings: `postgres.pod`, `backup.pod`, `app.pod`.
// ---------------------------------------------------------------------------------------------

/// The labels pgstate selects pods by: a pod label may not set them.
const SELECTOR_LABELS: &[&str] = &["app.kubernetes.io/instance", "app.kubernetes.io/component"];

/// The longest grace period accepted: a day. Longer is a typo, and holds a node drain as long.
const MAX_GRACE_SECONDS: i64 = 86_400;

/// CloudNativePG's default smart-shutdown window: its `stopDelay` must leave room beyond it.
const CNPG_SMART_SHUTDOWN_SECONDS: i64 = 180;

/// Kubernetes caps a pod's annotations at 256 KiB together.
const MAX_ANNOTATION_BYTES: usize = 256 * 1024;

/// An annotation key: like a label key (optional DNS prefix and '/', then a name).
fn is_annotation_key(s: &str) -> bool {
    is_label_key(s)
}

/// Which pods a `pod:` block of `section` applies to, for messages.
fn pod_owner(section: &str) -> &'static str {
    match section {
        "postgres" => "the database pod",
        "backup" => "the backup and restore pods",
        _ => "the app's pods",
    }
}

pub(super) fn pod_rules(c: &mut Checker<'_>, config: &Config) {
    let mut blocks: Vec<(&str, &crate::config::model::Pod)> =
        vec![("postgres", &config.postgres.pod)];
    if let Some(b) = &config.backup {
        blocks.push(("backup", &b.pod));
    }
    if let Some(a) = &config.app {
        blocks.push(("app", &a.pod));
    }
    for (section, pod) in blocks {
        pod_block(c, section, pod, config);
    }
    pod_targets(c, config);
}

fn pod_block(c: &mut Checker<'_>, section: &str, pod: &crate::config::model::Pod, config: &Config) {
    let base = [section, "pod"];
    let at = |key: &'static str| -> Vec<&str> {
        let mut p = base.to_vec();
        p.push(key);
        p
    };
    for (key, value) in &pod.labels {
        let path = at("labels");
        if !is_label_key(key) {
            c.key(&path, key, format!("`{key}` is not a valid label key"), "a label key is an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.'");
        } else if SELECTOR_LABELS.contains(&key.as_str()) {
            c.key(
                &path,
                key,
                format!("`{key}` selects {}; pgstate sets it", pod_owner(section)),
                "choose another key; the pods already carry app.kubernetes.io/instance and component",
            );
        }
        if !is_label_value(value) {
            let mut p = path.clone();
            p.push(key);
            c.value(&p, format!("`{value}` is not a valid label value"), "a label value has at most 63 letters, digits, '-', '_' or '.', and starts and ends with a letter or digit");
        }
    }
    let mut bytes = 0;
    for (key, value) in &pod.annotations {
        let path = at("annotations");
        bytes += key.len() + value.len();
        if !is_annotation_key(key) {
            c.key(&path, key, format!("`{key}` is not a valid annotation key"), "an annotation key is an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.', e.g. example.com/team");
        }
    }
    if bytes > MAX_ANNOTATION_BYTES {
        c.value(
            &at("annotations"),
            format!("the annotations have {bytes} bytes, more than Kubernetes' 256 KiB"),
            "keep large data in a ConfigMap",
        );
    }
    for (i, name) in pod.image_pull_secrets.iter().enumerate() {
        let path = format!("{section}.pod.imagePullSecrets[{i}]");
        let problem = if !is_dns_subdomain(name) {
            Some((
                format!("`{name}` is not a valid Secret name"),
                dns_hint(name),
            ))
        } else if pod.image_pull_secrets[..i].contains(name) {
            Some((format!("`{name}` is listed twice"), "keep one".to_owned()))
        } else {
            None
        };
        if let Some((message, help)) = problem {
            c.at(path, message, help);
        }
    }
    for (key, value) in [
        ("priorityClassName", &pod.priority_class_name),
        ("serviceAccountName", &pod.service_account_name),
    ] {
        if let Some(name) = value {
            subdomain(c, &at(key), name);
        }
    }
    if let Some(grace) = pod.termination_grace_period_seconds {
        let least = if section == "postgres" && config.target == Target::Statefulset {
            crate::config::defaults::STOP_MARGIN + 5
        } else {
            0
        };
        if !(least..=MAX_GRACE_SECONDS).contains(&grace) {
            let help = if least > 0 {
                format!(
                    "the database's fast shutdown gets all of it but {} s: give it {least} to {MAX_GRACE_SECONDS}; the default is {}",
                    crate::config::defaults::STOP_MARGIN,
                    crate::config::defaults::DATABASE_GRACE_SECONDS
                )
            } else {
                format!("write 0 to {MAX_GRACE_SECONDS} seconds; Kubernetes' default is 30")
            };
            c.value(
                &at("terminationGracePeriodSeconds"),
                format!("{grace} seconds is not a grace period pgstate accepts here"),
                help,
            );
        }
    }
    if let Some(size) = &pod.shm_size {
        if section != "postgres" {
            c.key(
                &base,
                "shmSize",
                format!("`{section}.pod.shmSize` has no meaning"),
                "only the database pod has an in-memory /dev/shm; set postgres.pod.shmSize",
            );
        } else if let Some(shm) = quantity(c, &at("shmSize"), size, false) {
            let limits = resolve_resources(&config.postgres.resources, &POSTGRES_RESOURCES).limits;
            let limit = limits.get("memory").cloned().unwrap_or_default();
            if parse_quantity(&limit).is_some_and(|l| shm >= l) {
                c.value(
                    &at("shmSize"),
                    format!("{SHM_DIR} of {size} would fill the memory limit {limit}"),
                    "/dev/shm is memory the pod's limit counts; keep it well below the limit (256Mi by default)",
                );
            }
        }
    }
}

/// What each target does with `postgres.pod` and `backup.pod`: the operators take some keys,
/// a managed database none.
fn pod_targets(c: &mut Checker<'_>, config: &Config) {
    let pod = &config.postgres.pod;
    let shown = target_name(config.target);
    let refuse = |c: &mut Checker<'_>, section: &str, key: &str, why: &str| {
        c.key(
            &[section, "pod"],
            key,
            format!("`{section}.pod.{key}` has no meaning with `target: {shown}`"),
            format!("{why}; remove it"),
        );
    };
    let set = |pod: &crate::config::model::Pod| -> Vec<&'static str> {
        let mut keys = Vec::new();
        let checks: [(&'static str, bool); 8] = [
            ("annotations", !pod.annotations.is_empty()),
            ("labels", !pod.labels.is_empty()),
            ("imagePullSecrets", !pod.image_pull_secrets.is_empty()),
            ("priorityClassName", pod.priority_class_name.is_some()),
            ("serviceAccountName", pod.service_account_name.is_some()),
            (
                "automountServiceAccountToken",
                pod.automount_service_account_token.is_some(),
            ),
            (
                "terminationGracePeriodSeconds",
                pod.termination_grace_period_seconds.is_some(),
            ),
            ("shmSize", pod.shm_size.is_some()),
        ];
        for (key, on) in checks {
            if on {
                keys.push(key);
            }
        }
        keys
    };
    match config.target {
        Target::Statefulset => {}
        Target::External => {
            for key in set(pod) {
                refuse(
                    c,
                    "postgres",
                    key,
                    "the provider runs the database: there is no database pod",
                );
            }
        }
        Target::Cloudnativepg => {
            if pod.automount_service_account_token.is_some() {
                refuse(
                    c,
                    "postgres",
                    "automountServiceAccountToken",
                    "CloudNativePG's instance manager always uses its service account's token",
                );
            }
            if let Some(grace) = pod.termination_grace_period_seconds
                && grace <= CNPG_SMART_SHUTDOWN_SECONDS
            {
                c.value(
                    &["postgres", "pod", "terminationGracePeriodSeconds"],
                    format!("CloudNativePG's stopDelay of {grace} s leaves no time after its {CNPG_SMART_SHUTDOWN_SECONDS} s smart shutdown"),
                    "give more than 180 seconds (the operator's default is 1800), or remove the key",
                );
            }
        }
        Target::Percona => {
            for key in [
                "serviceAccountName",
                "automountServiceAccountToken",
                "terminationGracePeriodSeconds",
                "shmSize",
            ] {
                if set(pod).contains(&key) {
                    refuse(
                        c,
                        "postgres",
                        key,
                        "the PerconaPGCluster has no such field for its instances (it takes annotations, labels, imagePullSecrets and priorityClassName)",
                    );
                }
            }
        }
    }
    if config.target != Target::Statefulset
        && let Some(b) = &config.backup
    {
        for key in set(&b.pod) {
            refuse(
                c,
                "backup",
                key,
                "pgstate renders no backup or restore pods for this target (the operator runs its own)",
            );
        }
    }
}

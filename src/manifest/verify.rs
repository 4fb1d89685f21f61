//! The typed round trip: every rendered object goes through its k8s-openapi type and back, and
//! must come back unchanged. k8s-openapi ignores keys it does not know, so a key that disappears
//! is a template typo that Kubernetes would reject (or, worse, silently ignore).

use k8s_openapi::api::{apps, batch, core, networking};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{crd, same};
use crate::config::diff::first_difference;
use crate::readback::tree::Node;

#[cfg(test)]
thread_local! {
    /// How many checks on this thread took the slow path.
    static SLOW_CHECKS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn round_trip<T: DeserializeOwned + Serialize>(value: &Node) -> Result<(), String> {
    // Deserializing from the read-back tree: no copy of the whole document first.
    let typed = T::deserialize(value).map_err(|e| e.to_string())?;
    if same::reproduces(&typed, value) {
        return Ok(());
    }
    // Something differs (or the comparer did not know a form): build the typed tree and find
    // the first difference to name it.
    #[cfg(test)]
    SLOW_CHECKS.with(|n| n.set(n.get() + 1));
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    match first_difference(&value.to_value(), &back) {
        None => Ok(()),
        Some(path) => Err(format!(
            "`{path}` does not survive the Kubernetes type (a misspelt or misplaced key)"
        )),
    }
}

/// Checks one rendered object against its Kubernetes type.
pub fn verify(value: &Node) -> Result<(), String> {
    let api = value["apiVersion"].as_str().unwrap_or_default();
    let kind = value["kind"].as_str().unwrap_or_default();
    let result = match (api, kind) {
        ("v1", "Secret") => round_trip::<core::v1::Secret>(value),
        ("v1", "Service") => round_trip::<core::v1::Service>(value),
        ("v1", "PersistentVolume") => round_trip::<core::v1::PersistentVolume>(value),
        ("v1", "PersistentVolumeClaim") => round_trip::<core::v1::PersistentVolumeClaim>(value),
        ("v1", "ConfigMap") => round_trip::<core::v1::ConfigMap>(value),
        ("apps/v1", "StatefulSet") => round_trip::<apps::v1::StatefulSet>(value),
        ("apps/v1", "Deployment") => round_trip::<apps::v1::Deployment>(value),
        ("batch/v1", "CronJob") => round_trip::<batch::v1::CronJob>(value),
        ("batch/v1", "Job") => round_trip::<batch::v1::Job>(value),
        ("networking.k8s.io/v1", "NetworkPolicy") => {
            round_trip::<networking::v1::NetworkPolicy>(value)
        }
        ("postgresql.cnpg.io/v1", "Cluster") => {
            round_trip::<crd::Resource<crd::ClusterSpec>>(value)
        }
        ("postgresql.cnpg.io/v1", "ScheduledBackup") => {
            round_trip::<crd::Resource<crd::ScheduledBackupSpec>>(value)
        }
        ("postgresql.cnpg.io/v1", "Pooler") => round_trip::<crd::Resource<crd::PoolerSpec>>(value),
        ("barmancloud.cnpg.io/v1", "ObjectStore") => {
            round_trip::<crd::Resource<crd::ObjectStoreSpec>>(value)
        }
        ("cert-manager.io/v1", "Certificate") => {
            round_trip::<crd::Resource<crd::CertificateSpec>>(value)
        }
        ("monitoring.coreos.com/v1", "ServiceMonitor") => {
            round_trip::<crd::Resource<crd::ServiceMonitorSpec>>(value)
        }
        ("pgv2.percona.com/v2", "PerconaPGUpgrade") => {
            round_trip::<crd::Resource<crd::PerconaUpgradeSpec>>(value)
        }
        ("pgv2.percona.com/v2", "PerconaPGCluster") => {
            round_trip::<crd::Resource<crd::PerconaSpec>>(value)
        }
        _ => Err(format!("pgstate has no type to check {api} {kind} against")),
    }
    .and_then(|()| crd::rules(value));
    let name = value["metadata"]["name"].as_str().unwrap_or("?");
    result.map_err(|e| format!("{kind}/{name}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readback::tree::with_tree;
    use serde_json::json;

    #[test]
    fn a_misspelt_key_is_found() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
            "spec": {"selector": {"a": "b"}, "ports": [{"port": 5432, "targetPrt": 5432}]}});
        let err = with_tree(&svc, verify).expect_err("typo");
        assert!(err.contains("spec.ports[0].targetPrt"), "{err}");
    }

    /// Every fixture's every object is checked without building a second tree.
    #[test]
    fn fixture_renders_take_the_fast_path() {
        let before = SLOW_CHECKS.with(std::cell::Cell::get);
        let renders = crate::pipeline::fixture_renders();
        assert!(renders.len() > 60);
        assert_eq!(SLOW_CHECKS.with(std::cell::Cell::get), before);
    }

    #[test]
    fn a_correct_object_passes() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
            "spec": {"selector": {"a": "b"}, "ports": [{"port": 5432, "targetPort": "postgres"}]}});
        assert_eq!(with_tree(&svc, verify), Ok(()));
    }
}

//! `render --check`: compare what is on disk with what the config renders, like
//! `dist generate --check`. A unified diff for every difference, and for StatefulSet fields that
//! Kubernetes will not change in place, the way to make the change.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;
use similar::TextDiff;

/// The outcome: a unified diff (empty when in sync) and notes on immutable fields.
#[derive(Debug, Default)]
pub(crate) struct Drift {
    pub(crate) diff: String,
    pub(crate) notes: Vec<String>,
}

impl Drift {
    pub(crate) fn is_clean(&self) -> bool {
        self.diff.is_empty()
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// What is on disk at `dir/name`, read only when no part of it is a symbolic link (which could
/// lead out of the folder and print another file in the diff); a link is a note, and reads as
/// nothing, so the check fails.
fn read_inside(dir: &Path, name: &str, notes: &mut Vec<String>) -> String {
    match crate::output::link_in(dir, name) {
        Some(link) => {
            notes.push(format!(
                "{} is a symbolic link; pgstate does not follow it (render writes regular files)",
                link.display()
            ));
            String::new()
        }
        None => read(&dir.join(name)).unwrap_or_default(),
    }
}

fn unified(old: &str, new: &str, name: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name} (on disk)"), &format!("{name} (rendered)"))
        .to_string()
}

/// Compares one file with its rendered content.
pub(crate) fn check_file(path: &Path, rendered: &str) -> Drift {
    let mut links = Vec::new();
    let old = match (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        (Some(dir), Some(file)) => read_inside(dir, file, &mut links),
        _ => read(path).unwrap_or_default(),
    };
    let name = path.display().to_string();
    let mut notes = immutable_changes(&old, rendered);
    notes.append(&mut links);
    Drift {
        diff: unified(&old, rendered, &name),
        notes,
    }
}

/// Compares an `--out-dir` folder with the rendered files.
pub(crate) fn check_dir(dir: &Path, files: &[(String, String)]) -> Drift {
    let mut drift = Drift::default();
    let mut links = Vec::new();
    let mut old_all = String::new();
    let mut new_all = String::new();
    for (name, text) in files {
        let path = dir.join(name);
        let old = read_inside(dir, name, &mut links);
        drift
            .diff
            .push_str(&unified(&old, text, &path.display().to_string()));
        old_all.push_str("\n---\n");
        old_all.push_str(&old);
        new_all.push_str("\n---\n");
        new_all.push_str(text);
    }
    let rendered: std::collections::HashSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for stale in crate::output::generated(dir) {
        if !rendered.contains(stale.as_str()) {
            let path = dir.join(&stale);
            let old = read_inside(dir, &stale, &mut links);
            drift
                .diff
                .push_str(&unified(&old, "", &path.display().to_string()));
            old_all.push_str("\n---\n");
            old_all.push_str(&old);
        }
    }
    drift.notes = immutable_changes(&old_all, &new_all);
    drift.notes.append(&mut links);
    drift
}

fn of_kind(yaml: &str, kind: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d["kind"] == kind)
        .collect()
}

/// The PostgreSQL major of the database objects in `yaml`: (kind, namespace, name) -> major,
/// from the StatefulSet's `postgres` container, CloudNativePG's imageName or Percona's
/// postgresVersion.
fn majors(yaml: &str) -> Vec<((String, String, String), i64)> {
    let major = |image: &Value| {
        image
            .as_str()
            .and_then(crate::config::image::postgres_major)
    };
    serde_saphyr::from_multiple::<Value>(yaml)
        .unwrap_or_default()
        .into_iter()
        // `kubectl get -o yaml` answers with a List of the objects.
        .flat_map(|d| match d["items"].as_array() {
            Some(items) if d["kind"] == "List" => items.clone(),
            _ => vec![d],
        })
        .filter_map(|d| {
            let found = match d["kind"].as_str()? {
                "StatefulSet" => d["spec"]["template"]["spec"]["containers"]
                    .as_array()?
                    .iter()
                    .find(|c| c["name"] == "postgres")
                    .and_then(|c| major(&c["image"])),
                "Cluster" => major(&d["spec"]["imageName"]),
                "PerconaPGCluster" => d["spec"]["postgresVersion"].as_i64(),
                _ => None,
            }?;
            let key = (
                d["kind"].as_str()?.to_owned(),
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("default")
                    .to_owned(),
                d["metadata"]["name"].as_str()?.to_owned(),
            );
            Some((key, found))
        })
        .collect()
}

/// A change of PostgreSQL major version between the files on disk and the render: never let
/// through silently, since the new server cannot start on the old data directory.
pub(crate) fn major_changes(old: &str, new: &str) -> Vec<String> {
    let before = majors(old);
    let mut notes = Vec::new();
    for ((kind, ns, name), to) in majors(new) {
        let Some((_, from)) = before
            .iter()
            .find(|(k, _)| *k == (kind.clone(), ns.clone(), name.clone()))
        else {
            continue;
        };
        let from = *from;
        if from == to {
            continue;
        }
        notes.push(if to < from {
            format!("{kind} {ns}/{name}: the PostgreSQL major goes back from {from} to {to}, which no server can do on the same data: keep {from}, or restore a dump into a new database")
        } else {
            match kind.as_str() {
                "StatefulSet" => format!("{kind} {ns}/{name}: the PostgreSQL major changes from {from} to {to}, and a {to} server cannot start on the {from} data directory (the pod would crash-loop with \"database files are incompatible with server\"). Do not apply this as is: run `pgstate upgrade --from {from}` and follow its runbook (docs/upgrade.md)"),
                "Cluster" => format!("{kind} {ns}/{name}: the PostgreSQL major changes from {from} to {to}: CloudNativePG 1.26 or newer upgrades in place when this is applied (all instances stop, pg_upgrade --link runs, replicas are re-cloned); take a backup first (`pgstate upgrade --from {from}` says more)"),
                _ => format!("{kind} {ns}/{name}: the PostgreSQL major changes from {from} to {to}: the Percona operator upgrades a major version through a PerconaPGUpgrade, not by a changed postgresVersion: do not apply this; apply the one `pgstate upgrade --from {from}` prints"),
            }
        });
    }
    notes
}

/// StatefulSet fields the API server refuses to change, with what to do instead.
fn immutable_changes(old: &str, new: &str) -> Vec<String> {
    let mut notes = major_changes(old, new);
    let old_sets = of_kind(old, "StatefulSet");
    let cronjobs = of_kind(new, "CronJob");
    for new_set in of_kind(new, "StatefulSet") {
        let name = new_set["metadata"]["name"].as_str().unwrap_or_default();
        let ns = new_set["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default");
        let Some(old_set) = old_sets.iter().find(|o| {
            o["metadata"]["name"] == new_set["metadata"]["name"]
                && o["metadata"]["namespace"] == new_set["metadata"]["namespace"]
        }) else {
            continue;
        };
        let recreate = format!(
            "delete only the StatefulSet object and apply again; its pod and volume stay:\n  kubectl -n {ns} delete statefulset {name} --cascade=orphan\n  pgstate apply"
        );
        for (field, label) in [
            ("selector", "spec.selector"),
            ("serviceName", "spec.serviceName"),
            ("podManagementPolicy", "spec.podManagementPolicy"),
        ] {
            if old_set["spec"][field] != new_set["spec"][field] {
                notes.push(format!("StatefulSet {ns}/{name}: {label} changed, and Kubernetes will not update it in place; {recreate}"));
            }
        }
        let (old_t, new_t) = (
            &old_set["spec"]["volumeClaimTemplates"],
            &new_set["spec"]["volumeClaimTemplates"],
        );
        if old_t == new_t {
            continue;
        }
        let size = |t: &Value| {
            t[0]["spec"]["resources"]["requests"]["storage"]
                .as_str()
                .map(str::to_owned)
        };
        let mut only_size = old_t.clone();
        if let (Some(o), Some(n)) = (size(old_t), size(new_t)) {
            only_size[0]["spec"]["resources"]["requests"]["storage"] = Value::String(n.clone());
            if only_size == *new_t {
                let claim = new_t[0]["metadata"]["name"].as_str().unwrap_or("data");
                let pvc = format!("{claim}-{name}-0");
                let mut note = format!(
                    "StatefulSet {ns}/{name}: the volume size changes from {o} to {n}, and Kubernetes will not update volumeClaimTemplates in place.\n"
                );
                let _ = write!(
                    note,
                    "  If the StorageClass allows expansion (kubectl get storageclass -o jsonpath='{{.items[*].allowVolumeExpansion}}'):\n    kubectl -n {ns} patch pvc {pvc} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{n}\"}}}}}}}}'\n    kubectl -n {ns} delete statefulset {name} --cascade=orphan\n    pgstate apply          # the new StatefulSet adopts the running pod\n    kubectl -n {ns} rollout restart statefulset {name}   # if the file system needs a restart to grow\n"
                );
                let backup = format!("{name}-backup");
                let backed_up = cronjobs.iter().any(|c| {
                    c["metadata"]["name"] == backup.as_str()
                        && c["metadata"]["namespace"] == new_set["metadata"]["namespace"]
                });
                let _ = if backed_up {
                    write!(
                        note,
                        "  Otherwise: back up, recreate, restore:\n    kubectl -n {ns} create job --from=cronjob/{backup} {name}-before-resize\n    kubectl -n {ns} delete statefulset {name} && kubectl -n {ns} delete pvc {pvc}\n    pgstate apply\n    pgstate restore --latest | kubectl apply -f -"
                    )
                } else {
                    write!(
                        note,
                        "  Otherwise: copy the data out of the pod, delete the StatefulSet and PVC {pvc}, apply, and copy it back (no backup CronJob of {name} is rendered to do it)"
                    )
                };
                notes.push(note);
                continue;
            }
        }
        notes.push(format!("StatefulSet {ns}/{name}: spec.volumeClaimTemplates changed, and Kubernetes will not update it in place; existing volumes keep their old settings. To change them: back up, delete the StatefulSet and its PVC, apply, and restore (pgstate restore --latest)."));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\nspec:\n  serviceName: db-hl\n  selector: {matchLabels: {a: b}}\n  volumeClaimTemplates:\n    - metadata: {name: data}\n      spec: {resources: {requests: {storage: 1Gi}}}\n";

    #[test]
    fn a_size_change_explains_the_resize() {
        let new = OLD.replace("1Gi", "5Gi");
        let notes = immutable_changes(OLD, &new);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("patch pvc data-db-0"), "{}", notes[0]);
        assert!(notes[0].contains("--cascade=orphan"));
        // No backup CronJob: the advice does not name one (Redis, or a database without backup).
        assert!(!notes[0].contains("cronjob/"), "{}", notes[0]);
        let cronjob = "---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: db-backup, namespace: shop}\n";
        let notes = immutable_changes(OLD, &format!("{new}{cronjob}"));
        assert!(
            notes[0].contains("--from=cronjob/db-backup"),
            "{}",
            notes[0]
        );
        assert!(
            notes[0].contains("pgstate restore --latest"),
            "{}",
            notes[0]
        );
    }

    #[test]
    fn a_service_name_change_says_recreate() {
        let new = OLD.replace("db-hl", "db-headless");
        let notes = immutable_changes(OLD, &new);
        assert!(notes[0].contains("spec.serviceName"), "{notes:?}");
    }

    #[test]
    fn a_major_change_points_at_upgrade() {
        let set = |image: &str| {
            format!(
                "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, namespace: shop}}\nspec:\n  template:\n    spec:\n      containers:\n        - {{name: postgres, image: \"{image}\"}}\n        - {{name: metrics, image: \"exporter:0.17\"}}\n"
            )
        };
        let notes = immutable_changes(&set("postgres:15.8"), &set("postgres:17.6"));
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("from 15 to 17"), "{}", notes[0]);
        assert!(
            notes[0].contains("pgstate upgrade --from 15"),
            "{}",
            notes[0]
        );
        assert!(immutable_changes(&set("postgres:15.8"), &set("postgres:15.10-alpine")).is_empty());
        let back = immutable_changes(&set("postgres:17.6"), &set("postgres:15.8"));
        assert!(back[0].contains("goes back"), "{back:?}");
        let cluster = |image: &str| {
            format!(
                "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {{name: db, namespace: shop}}\nspec: {{imageName: \"{image}\"}}\n"
            )
        };
        let notes = immutable_changes(
            &cluster("ghcr.io/cloudnative-pg/postgresql:16.4"),
            &cluster("ghcr.io/cloudnative-pg/postgresql:17.6"),
        );
        assert!(notes[0].contains("CloudNativePG 1.26"), "{notes:?}");
    }

    #[test]
    fn same_content_is_clean() {
        assert!(unified(OLD, OLD, "x").is_empty());
        assert!(immutable_changes(OLD, OLD).is_empty());
    }
}

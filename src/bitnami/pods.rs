//! The pods around the database: the primary's pod settings, the Service, metrics, the backup
//! CronJob, the network policy, and what holds chart-wide.
//!
//! Over 500 lines: one function per section of the chart's values, each read top to bottom
//! beside the values.yaml block it converts; splitting them further would split a section.

use serde_json::{Map, Value, json};

use super::out;
use super::values::{Values, carry, size_or_default};

pub(super) fn primary_pod(v: &mut Values<'_>, cfg: &mut out::Config) {
    let p = "primary";
    if let Some(res) = v.json(&format!("{p}.resources")) {
        let mut out = Map::new();
        for group in ["requests", "limits"] {
            if let Some(m) = res.get(group).and_then(Value::as_object) {
                let mut g = Map::new();
                for (k, val) in m {
                    let text = match val {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if k == "cpu" || k == "memory" {
                        g.insert(k.clone(), Value::String(text));
                    } else {
                        v.note(
                            &format!("{p}.resources.{group}.{k}"),
                            format!("pgstate sets cpu and memory only, not {k}"),
                            "nothing; the emptyDirs have their own size limits",
                        );
                    }
                }
                if !g.is_empty() {
                    out.insert(group.into(), Value::Object(g));
                }
            }
        }
        if !out.is_empty() {
            carry(
                v,
                cfg,
                &format!("{p}.resources"),
                "postgres.resources",
                Value::Object(out),
                "",
            );
        }
    } else if let Some(preset) = v.string(&format!("{p}.resourcesPreset")) {
        v.note(
            &format!("{p}.resourcesPreset"),
            format!("the preset `{preset}` is the chart's; pgstate sizes the database with its own defaults (requests 250m/512Mi, limits 1 CPU/1Gi)"),
            "set postgres.resources to what the database needs",
        );
    }
    for (from, to) in [
        ("nodeSelector", "postgres.nodeSelector"),
        ("tolerations", "postgres.tolerations"),
        ("affinity", "postgres.affinity"),
        ("topologySpreadConstraints", "postgres.topologySpread"),
    ] {
        let path = format!("{p}.{from}");
        if let Some(value) = v.json(&path) {
            carry(v, cfg, &path, to, value, "");
        }
    }
    if cfg.get("postgres.affinity").is_none() {
        let kind = v.string(&format!("{p}.nodeAffinityPreset.type"));
        let key = v.string(&format!("{p}.nodeAffinityPreset.key"));
        let values = v.json(&format!("{p}.nodeAffinityPreset.values"));
        if let (Some(kind), Some(key), Some(values)) = (kind, key, values) {
            let term =
                json!({"matchExpressions": [{"key": key, "operator": "In", "values": values}]});
            let affinity = if kind == "hard" {
                json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}})
            } else {
                json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": term}]}})
            };
            cfg.set(
                "postgres.affinity",
                affinity,
                "from primary.nodeAffinityPreset",
            );
            v.map(
                &format!("{p}.nodeAffinityPreset"),
                "postgres.affinity.nodeAffinity",
            );
        }
    }
    for key in ["podAffinityPreset", "podAntiAffinityPreset"] {
        v.note_if_set(
            &format!("{p}.{key}"),
            "pod (anti-)affinity between the instances of one database means nothing with one instance",
            "nothing; an operator target spreads its instances by itself",
        );
    }
    if let Some(labels) = v.string_map(&format!("{p}.podLabels")) {
        carry(
            v,
            cfg,
            &format!("{p}.podLabels"),
            "postgres.pod.labels",
            json!(labels),
            "",
        );
    }
    if let Some(ann) = v.string_map(&format!("{p}.podAnnotations")) {
        carry(
            v,
            cfg,
            &format!("{p}.podAnnotations"),
            "postgres.pod.annotations",
            json!(ann),
            "",
        );
    }
    if let Some(pc) = v.string(&format!("{p}.priorityClassName")) {
        carry(
            v,
            cfg,
            &format!("{p}.priorityClassName"),
            "postgres.pod.priorityClassName",
            json!(pc),
            "",
        );
    }
    if let Some(grace) = v.int(&format!("{p}.terminationGracePeriodSeconds")) {
        carry(
            v,
            cfg,
            &format!("{p}.terminationGracePeriodSeconds"),
            "postgres.pod.terminationGracePeriodSeconds",
            json!(grace),
            "",
        );
    }
    if v.boolean(&format!("{p}.automountServiceAccountToken")) == Some(true) {
        cfg.set("postgres.pod.automountServiceAccountToken", json!(true), "");
        v.map(
            &format!("{p}.automountServiceAccountToken"),
            "postgres.pod.automountServiceAccountToken",
        );
    }
    if v.boolean("shmVolume.enabled") == Some(false) {
        v.note(
            "shmVolume.enabled",
            "pgstate always mounts an in-memory /dev/shm (PostgreSQL's parallel queries need more than the runtime's 64 MB)",
            "size it with postgres.pod.shmSize",
        );
    }
    if let Some(size) = v.string("shmVolume.sizeLimit") {
        carry(
            v,
            cfg,
            "shmVolume.sizeLimit",
            "postgres.pod.shmSize",
            json!(size),
            "",
        );
    }
    if let Some(port) = v.int("containerPorts.postgresql") {
        carry(
            v,
            cfg,
            "containerPorts.postgresql",
            "postgres.port",
            json!(port),
            "",
        );
    }
    for (probe, to) in [
        ("livenessProbe", "liveness"),
        ("readinessProbe", "readiness"),
        ("startupProbe", "startup"),
    ] {
        let base = format!("{p}.{probe}");
        if v.boolean(&format!("{base}.enabled")) == Some(false) {
            v.note(
                &format!("{base}.enabled"),
                "pgstate always probes the database with pg_isready",
                "tune the probe's timing under postgres.probes instead",
            );
        }
        let mut timing = Map::new();
        for key in [
            "initialDelaySeconds",
            "periodSeconds",
            "timeoutSeconds",
            "failureThreshold",
        ] {
            let path = format!("{base}.{key}");
            if v.node(&path).is_some()
                && !v.is_default(&path)
                && let Some(n) = v.int(&path)
            {
                timing.insert(key.into(), json!(n));
            }
        }
        v.note_if_set(
            &format!("{base}.successThreshold"),
            "Kubernetes takes 1 for liveness and startup probes; pgstate keeps 1",
            "nothing",
        );
        if !timing.is_empty() {
            cfg.set(&format!("postgres.probes.{to}"), Value::Object(timing), "");
            v.map(&base, &format!("postgres.probes.{to}"));
        }
    }
    v.note_if_set(
        &format!("{p}.pdb"),
        "a PodDisruptionBudget for one instance either blocks every node drain or allows the only pod to go: pgstate renders none for one instance",
        "for availability through drains use an operator target with several instances (it makes the budget)",
    );
}

pub(super) fn service(v: &mut Values<'_>, cfg: &mut out::Config) {
    let s = "primary.service";
    if let Some(kind) = v.string(&format!("{s}.type")) {
        if matches!(kind.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
            if kind != "ClusterIP" {
                cfg.set("service.type", json!(kind), "");
            }
            v.map(&format!("{s}.type"), "service.type");
            cfg.origin(
                "service.type",
                v.loc(&format!("{s}.type")),
                &format!("{s}.type"),
            );
        } else {
            v.note(
                &format!("{s}.type"),
                format!("pgstate's Service is ClusterIP, NodePort or LoadBalancer, not {kind}"),
                "choose one of them",
            );
        }
    }
    if let Some(ann) = v.string_map(&format!("{s}.annotations")) {
        carry(
            v,
            cfg,
            &format!("{s}.annotations"),
            "service.annotations",
            json!(ann),
            "",
        );
    }
    let port = cfg
        .get("postgres.port")
        .and_then(Value::as_i64)
        .unwrap_or(5432);
    for path in [
        format!("{s}.ports.postgresql"),
        "global.postgresql.service.ports.postgresql".to_owned(),
    ] {
        if let Some(p) = v.int(&path) {
            if p == port {
                v.map(
                    &path,
                    "postgres.port (the Service's port is the database's)",
                );
            } else {
                v.note(
                    &path,
                    format!("the release's Service listened on {p} and its container on {port}; pgstate's Service uses the container's port"),
                    format!("connect the app to port {port}, or set postgres.port: {p}"),
                );
            }
        }
    }
}

pub(super) fn metrics(v: &mut Values<'_>, cfg: &mut out::Config) {
    if v.boolean("metrics.enabled") == Some(true) {
        cfg.set(
            "postgres.metrics.enabled",
            json!(true),
            "postgres_exporter beside the database",
        );
        v.map("metrics.enabled", "postgres.metrics.enabled");
        if let Some(port) = v.int("metrics.containerPorts.metrics")
            && port != 9187
        {
            cfg.set("postgres.metrics.port", json!(port), "");
            v.map("metrics.containerPorts.metrics", "postgres.metrics.port");
        }
        if v.boolean("metrics.serviceMonitor.enabled") == Some(true) {
            cfg.set("postgres.metrics.serviceMonitor", json!(true), "");
            v.map(
                "metrics.serviceMonitor.enabled",
                "postgres.metrics.serviceMonitor",
            );
        }
        if let Some(res) = v.json("metrics.resources") {
            let out = cpu_and_memory(&res);
            if !out.is_empty() {
                cfg.set("postgres.metrics.resources", Value::Object(out), "");
                v.map("metrics.resources", "postgres.metrics.resources");
            }
        }
        if v.node("metrics.image").is_some() {
            v.note(
                "metrics.image",
                "the chart's exporter image is Bitnami's; pgstate runs prometheus-community's postgres_exporter",
                "pin another build with postgres.metrics.image if you must",
            );
        }
    }
}

pub(super) fn backup(v: &mut Values<'_>, cfg: &mut out::Config) {
    if v.boolean("backup.enabled") != Some(true) {
        if v.node("backup.cronjob").is_some() && !v.is_default("backup.cronjob") {
            v.note(
                "backup.cronjob",
                "backup.enabled is not true, so the release makes no backups with these settings",
                "add `backup:` to the config to back up with pgstate",
            );
        }
        cfg.set(
            "backup",
            json!({}),
            "the release had none; a verified nightly dump, and the volume the runbook restores from",
        );
        v.general.push("the release had no backup CronJob (backup.enabled is not true); the config adds pgstate's nightly verified dump (`backup: {}`), whose volume the runbook's restore reads".to_owned());
        return;
    }
    v.map("backup.enabled", "backup");
    let c = "backup.cronjob";
    let schedule = v
        .string(&format!("{c}.schedule"))
        .unwrap_or_else(|| "@daily".to_owned());
    carry(
        v,
        cfg,
        &format!("{c}.schedule"),
        "backup.schedule",
        json!(schedule),
        "",
    );
    if let Some(tz) = v.string(&format!("{c}.timeZone")) {
        carry(
            v,
            cfg,
            &format!("{c}.timeZone"),
            "backup.timeZone",
            json!(tz),
            "",
        );
    }
    cfg.set(
        "backup.keep",
        json!(7),
        "the chart kept every dump; pgstate prunes beyond the newest 7",
    );
    let st = format!("{c}.storage");
    if v.boolean(&format!("{st}.enabled")) == Some(false) {
        v.note(
            &format!("{st}.enabled"),
            "without storage the chart's dumps went to an emptyDir and were lost with the pod",
            "nothing: pgstate's dumps go to a volume",
        );
    }
    if let Some(claim) = v.string(&format!("{st}.existingClaim")) {
        carry(
            v,
            cfg,
            &format!("{st}.existingClaim"),
            "backup.storage.claim",
            json!(claim),
            "the release's backup claim, kept (its old pg_dumpall files stay beside pgstate's dumps)",
        );
    } else {
        size_or_default(v, cfg, &format!("{st}.size"), "backup.storage.size");
        let class = v
            .string(&format!("{st}.storageClass"))
            .or_else(|| cfg.storage_class.clone());
        if let Some(class) = class {
            cfg.set("backup.storage.class", json!(class), "");
            v.map(&format!("{st}.storageClass"), "backup.storage.class");
        }
    }
    if let Some(res) = v.json(&format!("{c}.resources")) {
        let out = cpu_and_memory(&res);
        if !out.is_empty() {
            cfg.set("backup.resources", Value::Object(out), "");
            v.map(&format!("{c}.resources"), "backup.resources");
        }
    }
    if let Some(labels) = v.string_map(&format!("{c}.labels")) {
        cfg.set("backup.pod.labels", json!(labels), "");
        v.map(&format!("{c}.labels"), "backup.pod.labels");
    }
    if let Some(ann) = v.string_map(&format!("{c}.annotations")) {
        cfg.set("backup.pod.annotations", json!(ann), "");
        v.map(&format!("{c}.annotations"), "backup.pod.annotations");
    }
    if !cfg.pull_secrets.is_empty() {
        let secrets = cfg.pull_secrets.clone();
        cfg.set("backup.pod.imagePullSecrets", json!(secrets), "");
    }
    v.general.push("the chart's job ran pg_dumpall (every database and the roles, as one SQL file); pgstate's dumps postgres.database with pg_dump -Fc and verifies it: other databases and roles need their own dump (see the runbook)".to_owned());
    if v.node(&format!("{c}.command")).is_some() {
        v.note(
            &format!("{c}.command"),
            "pgstate's backup script is fixed (dump, verify, rename, prune) and tested as the pod runs it",
            "nothing; backup.format: gzip writes plain SQL if you need it",
        );
    }
}

pub(super) fn network_policy(v: &mut Values<'_>, cfg: &mut out::Config) {
    let enabled = v
        .boolean("primary.networkPolicy.enabled")
        .map(|e| (e, "primary.networkPolicy.enabled"))
        .or_else(|| {
            v.boolean("networkPolicy.enabled")
                .map(|e| (e, "networkPolicy.enabled"))
        });
    if let Some((false, from)) = enabled {
        cfg.set("networkPolicy", json!(false), "the release had none");
        v.map(from, "networkPolicy");
    } else if let Some((true, from)) = enabled {
        v.map(from, "networkPolicy (true, pgstate's default)");
    }
    if cfg.get("networkPolicy") != Some(&json!(false)) {
        v.general.push(format!(
            "pgstate's NetworkPolicy admits only the app it renders, the backup job, and pods labelled `{}-client: \"true\"`; the chart's let every pod in (allowExternal): label your app's pods before switching",
            cfg.name
        ));
    }
}

/// Chart-wide keys with rules of their own.
pub(super) fn chart_wide(v: &mut Values<'_>) {
    if let Some(arch) = v.string("architecture")
        && arch == "replication"
    {
        let replicas = v.int("readReplicas.replicaCount").unwrap_or(1);
        v.note(
                "architecture",
                format!("streaming replication with {replicas} read replica(s): pgstate's statefulset target runs one instance"),
                format!("for replicas and failover switch the config to an operator: `target: cloudnativepg` with `postgres: {{replicas: {}}}` (the operator then makes the replication users, Services and the PodDisruptionBudget)", replicas + 1),
            );
    }
    v.note_if_set(
        "kubeVersion",
        "pgstate renders for Kubernetes 1.33 to 1.37",
        "nothing",
    );
    v.note_if_set(
        "clusterDomain",
        "pgstate uses short Service names, which resolve in any cluster domain",
        "nothing",
    );
    v.note_if_set(
        "commonAnnotations",
        "pgstate puts no annotation on every object",
        "use postgres.pod.annotations and service.annotations",
    );
    v.note_if_set(
        "secretAnnotations",
        "pgstate renders no Secret for an existing one",
        "annotate your Secret yourself",
    );
    v.note_if_set(
        "extraDeploy",
        "pgstate renders only its own objects",
        "apply these objects with your own manifests",
    );
    v.note_if_set(
        "postgresqlDataDir",
        "the data directory is the Bitnami image's layout",
        "nothing: the official image's is postgres.pgdata",
    );
    v.note_if_set(
        "diagnosticMode",
        "pgstate has no diagnostic mode",
        "kubectl debug the pod",
    );
    v.note_if_set(
        "global.security.allowInsecureImages",
        "it lets the chart run images other than Bitnami's; pgstate runs the official image",
        "nothing",
    );
    v.note_if_set(
        "global.compatibility.openshift.adaptSecurityContext",
        "pgstate's pods run as UID 10001",
        "on OpenShift give the namespace an SCC that allows UID 10001 (nonroot-v2)",
    );
    if v.node("serviceAccount.name").is_some()
        && v.boolean("serviceAccount.create") == Some(false)
        && let Some(sa) = v.string("serviceAccount.name")
    {
        v.note(
                "serviceAccount.name",
                format!("the release ran under the existing ServiceAccount {sa}"),
                format!("if the pods need it (e.g. for workload identity), set postgres.pod.serviceAccountName: {sa}"),
            );
    }
    v.general.push("the release ran as UID 1001; pgstate's pods run as UID/GID/fsGroup 10001: files the app shares with the database by volume (none, usually) change owner".to_owned());
}

/// The cpu and memory of a resources value's requests and limits, as strings; the chart's
/// other resources (ephemeral storage, ...) are dropped.
fn cpu_and_memory(res: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for group in ["requests", "limits"] {
        if let Some(m) = res.get(group).and_then(Value::as_object) {
            let g: Map<String, Value> = m
                .iter()
                .filter(|(k, _)| *k == "cpu" || *k == "memory")
                .map(|(k, val)| {
                    (
                        k.clone(),
                        Value::String(val.as_str().map_or_else(|| val.to_string(), str::to_owned)),
                    )
                })
                .collect();
            if !g.is_empty() {
                out.insert(group.into(), Value::Object(g));
            }
        }
    }
    out
}

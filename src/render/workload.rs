//! The view shape the database and Redis share: a StatefulSet with its headless and client
//! Services and its NetworkPolicy. templates/statefulset.yaml.j2, service*.yaml.j2 and
//! networkpolicy.yaml.j2 render either one as `w`; every port, path, probe timing and volume
//! is decided here or by the builder of each workload (postgres.rs, redis.rs).

use std::collections::BTreeMap;

use serde::Serialize;

use super::context::{EnvVar, Map, PodView};
use crate::config::defaults::ResolvedResources;
use crate::config::model::{Config, ProbeTiming};

/// The UID, GID and fsGroup every pgstate container runs as: high enough that it is no
/// host user, and any UID works with the postgres image (its entrypoint fakes a passwd entry).
pub(crate) const UID: i64 = 10001;
/// Every pgstate container's writable /tmp (its root file system is read-only).
pub(crate) const TMP_DIR: &str = "/tmp";
/// `defaultMode` 0440 of a Secret volume: readable by the pod's group (fsGroup) only.
pub(crate) const SECRET_MODE: i64 = 0o440;
/// `defaultMode` 0444 of a ConfigMap volume whose files the container only reads.
pub(crate) const CONFIG_MODE: i64 = 0o444;

/// One StatefulSet workload: what its objects print.
#[derive(Debug, Serialize)]
pub(crate) struct Workload {
    /// The StatefulSet's name.
    pub name: String,
    /// The headless Service (the StatefulSet's `serviceName`).
    pub headless: String,
    pub labels: Map,
    pub selector: Map,
    /// The port the headless Service names.
    pub port: Port,
    pub service: ClientService,
    /// The NetworkPolicy, when `networkPolicy` is on.
    pub policy: Option<Policy>,
    pub pod: PodView,
    pub uid: i64,
    pub node_selector: Map,
    pub tolerations: Vec<serde_json::Value>,
    pub affinity: Option<serde_json::Value>,
    pub topology_spread: Vec<serde_json::Value>,
    pub containers: Vec<Container>,
    pub volumes: Vec<Volume>,
    pub claim: Claim,
}

/// A named TCP port: a container's, or a Service's (which targets the container port of the
/// same name).
#[derive(Debug, Serialize)]
pub(crate) struct Port {
    pub name: &'static str,
    pub port: i64,
}

/// The client Service: the name clients dial.
#[derive(Debug, Serialize)]
pub(crate) struct ClientService {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub annotations: Map,
    pub ports: Vec<Port>,
}

/// A NetworkPolicy: ingress only, each rule admitting its peers to one port.
#[derive(Debug, Serialize)]
pub(crate) struct Policy {
    pub name: String,
    pub rules: Vec<PolicyRule>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PolicyRule {
    pub from: Vec<Peer>,
    pub port: i64,
}

/// Pods admitted by their labels: in the workload's namespace, or (`any_namespace`) in any.
#[derive(Debug, Serialize)]
pub(crate) struct Peer {
    pub any_namespace: bool,
    pub labels: Map,
}

impl Peer {
    /// Pods with `labels` in the workload's own namespace.
    pub(crate) fn pods(labels: Map) -> Peer {
        Peer {
            any_namespace: false,
            labels,
        }
    }
}

/// The pods labelled `<name>-client: "true"`, admitted besides pgstate's own.
pub(crate) fn client_label(name: &str) -> Map {
    BTreeMap::from([(format!("{name}-client"), "true".to_owned())])
}

/// One container of the pod.
#[derive(Debug, Serialize)]
pub(crate) struct Container {
    pub name: &'static str,
    pub image: String,
    /// A shell script run as the container's command, instead of the image's entrypoint.
    pub command: Option<Command>,
    pub args: Vec<String>,
    pub port: Port,
    pub env: Vec<EnvVar>,
    pub resources: ResolvedResources,
    /// What the exec probes run; with `probe_script`, the script (a template) is its last word.
    pub probe_command: Vec<String>,
    pub probe_script: Option<&'static str>,
    pub probes: Vec<Probe>,
    /// preStop's command, if any.
    pub stop_command: Vec<String>,
    pub mounts: Vec<Mount>,
}

/// `SHELL -c SCRIPT ARGS...`, the script a template (templates/partials/start.sh, ...).
#[derive(Debug, Serialize)]
pub(crate) struct Command {
    pub shell: &'static str,
    pub script: &'static str,
    pub args: Vec<&'static str>,
}

/// A probe (`startupProbe`, `readinessProbe` or `livenessProbe`): an HTTP GET, a TCP connect,
/// or else the container's probe command; a timing left `None` is not printed.
#[derive(Debug, Serialize)]
pub(crate) struct Probe {
    pub kind: &'static str,
    pub http_get: Option<HttpGet>,
    /// The named port a TCP connect probes.
    pub tcp_socket: Option<&'static str>,
    pub initial_delay_seconds: Option<i64>,
    pub period_seconds: i64,
    pub timeout_seconds: Option<i64>,
    pub failure_threshold: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct HttpGet {
    pub path: String,
    /// The container port's name.
    pub port: &'static str,
}

/// Default timings of one probe: period, timeout and failures; no initial delay.
pub(crate) struct ProbeDefaults {
    pub period: i64,
    pub timeout: i64,
    pub failures: i64,
}

impl ProbeDefaults {
    /// Period and timeout in seconds, then how many failures in a row fail the probe.
    pub(crate) const fn new(period: i64, timeout: i64, failures: i64) -> Self {
        ProbeDefaults {
            period,
            timeout,
            failures,
        }
    }
}

impl Probe {
    /// An exec probe of `kind`: the config's `timing` over `defaults`.
    pub(crate) fn exec(
        kind: &'static str,
        timing: &ProbeTiming,
        defaults: &ProbeDefaults,
    ) -> Probe {
        Probe {
            kind,
            http_get: None,
            tcp_socket: None,
            initial_delay_seconds: Some(timing.initial_delay_seconds.unwrap_or(0)),
            period_seconds: timing.period_seconds.unwrap_or(defaults.period),
            timeout_seconds: Some(timing.timeout_seconds.unwrap_or(defaults.timeout)),
            failure_threshold: timing.failure_threshold.unwrap_or(defaults.failures),
        }
    }
}

/// The startup, readiness and liveness probes of a StatefulSet's main container, from the
/// config's `probes` over `defaults` (in that order).
pub(crate) fn exec_probes(
    probes: &crate::config::model::Probes,
    defaults: &[ProbeDefaults; 3],
) -> Vec<Probe> {
    let [startup, readiness, liveness] = defaults;
    vec![
        Probe::exec("startupProbe", &probes.startup, startup),
        Probe::exec("readinessProbe", &probes.readiness, readiness),
        Probe::exec("livenessProbe", &probes.liveness, liveness),
    ]
}

/// A volume mounted at `path`.
#[derive(Debug, Serialize)]
pub(crate) struct Mount {
    pub name: String,
    pub path: String,
    pub read_only: bool,
}

impl Mount {
    pub(crate) fn new(name: impl Into<String>, path: impl Into<String>, read_only: bool) -> Mount {
        Mount {
            name: name.into(),
            path: path.into(),
            read_only,
        }
    }
}

/// A pod volume: exactly one of `empty_dir`, `secret`, `config_map`.
#[derive(Debug, Serialize)]
pub(crate) struct Volume {
    pub name: &'static str,
    pub empty_dir: Option<EmptyDir>,
    pub secret: Option<SecretVolume>,
    pub config_map: Option<ConfigMapVolume>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EmptyDir {
    /// `Memory` for a tmpfs.
    pub medium: Option<&'static str>,
    pub size_limit: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SecretVolume {
    pub name: String,
    pub mode: i64,
    /// The keys mounted, each as a file; none: every key.
    pub items: Vec<KeyToPath>,
    pub optional: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct KeyToPath {
    pub key: String,
    pub path: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ConfigMapVolume {
    pub name: String,
    pub mode: Option<i64>,
}

impl Volume {
    fn of(name: &'static str) -> Volume {
        Volume {
            name,
            empty_dir: None,
            secret: None,
            config_map: None,
        }
    }

    /// An empty folder of at most `size_limit`, in memory with `medium` `Memory`.
    pub(crate) fn empty_dir(
        name: &'static str,
        medium: Option<&'static str>,
        size_limit: &str,
    ) -> Volume {
        Volume {
            empty_dir: Some(EmptyDir {
                medium,
                size_limit: size_limit.to_owned(),
            }),
            ..Volume::of(name)
        }
    }

    /// The keys `items` (key, file) of Secret `secret`, or all of them.
    pub(crate) fn secret(
        name: &'static str,
        secret: &str,
        mode: i64,
        items: &[(&str, &str)],
        optional: bool,
    ) -> Volume {
        Volume {
            secret: Some(SecretVolume {
                name: secret.to_owned(),
                mode,
                items: items
                    .iter()
                    .map(|(key, path)| KeyToPath {
                        key: (*key).to_owned(),
                        path: (*path).to_owned(),
                    })
                    .collect(),
                optional,
            }),
            ..Volume::of(name)
        }
    }

    /// The password Secret's key as the file `password`, readable by the pod's group only.
    pub(crate) fn credentials(secret: &str, key: &str) -> Volume {
        Volume::secret(
            "credentials",
            secret,
            SECRET_MODE,
            &[(key, "password")],
            false,
        )
    }

    pub(crate) fn config_map(name: &'static str, config_map: &str, mode: Option<i64>) -> Volume {
        Volume {
            config_map: Some(ConfigMapVolume {
                name: config_map.to_owned(),
                mode,
            }),
            ..Volume::of(name)
        }
    }
}

/// The data volume's claim template.
#[derive(Debug, Serialize)]
pub(crate) struct Claim {
    pub name: String,
    pub size: String,
    pub class: Option<String>,
    pub access_mode: &'static str,
    /// `Retain` or `Delete`, when the StatefulSet is deleted or scaled down.
    pub retention: &'static str,
}

/// The claim's retention policy for `storage.retain`.
pub(crate) fn retention(retain: bool) -> &'static str {
    if retain { "Retain" } else { "Delete" }
}

/// The labels of a component's objects: the config's own, the selector, and the well-known
/// `app.kubernetes.io` ones with `name` (what runs: postgresql, redis, the app's name).
pub(crate) fn labels(config: &Config, component: &str, name: &str) -> Map {
    let mut labels = config.labels.clone();
    labels.extend(selector(config, component));
    labels.insert("app.kubernetes.io/name".into(), name.into());
    labels.insert("app.kubernetes.io/part-of".into(), config.name.clone());
    labels.insert("app.kubernetes.io/managed-by".into(), "pgstate".into());
    labels
}

/// What selects a component's pods: the config's name and the component.
pub(crate) fn selector(config: &Config, component: &str) -> Map {
    BTreeMap::from([
        ("app.kubernetes.io/instance".into(), config.name.clone()),
        ("app.kubernetes.io/component".into(), component.into()),
    ])
}

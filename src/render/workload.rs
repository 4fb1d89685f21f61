//! The view shape the database and Redis share: a StatefulSet with its headless and client
//! Services and its NetworkPolicy. templates/statefulset.yaml.j2, service*.yaml.j2 and
//! networkpolicy.yaml.j2 render either one as `w`; every port, path, probe timing and volume
//! is decided here or by the builder of each workload (postgres.rs, redis.rs).

use std::collections::BTreeMap;

use serde::Serialize;

use super::blocks::Printed;
use super::context::{EnvVar, Map, PodView};
use crate::config::defaults::ResolvedResources;
use crate::config::model::{Config, ProbeTiming};
use crate::config::paths::SECRET_MODE;

/// The UID, GID and fsGroup every pgstate container runs as: high enough that it is no
/// host user, and any UID works with the postgres image (its entrypoint fakes a passwd entry).
pub(crate) const UID: i64 = 10001;

/// One StatefulSet workload: what its objects print.
#[derive(Debug, Serialize)]
pub(crate) struct Workload {
    /// The StatefulSet's name.
    pub(crate) name: String,
    /// The headless Service (the StatefulSet's `serviceName`).
    pub(crate) headless: String,
    pub(crate) labels: Map,
    pub(crate) selector: Map,
    /// The port the headless Service names.
    pub(crate) port: Port,
    pub(crate) service: ClientService,
    /// The NetworkPolicy, when `networkPolicy` is on.
    pub(crate) policy: Option<Policy>,
    pub(crate) pod: PodView,
    pub(crate) uid: i64,
    pub(crate) node_selector: Map,
    pub(crate) tolerations: Vec<serde_json::Value>,
    pub(crate) affinity: Option<serde_json::Value>,
    pub(crate) topology_spread: Vec<serde_json::Value>,
    pub(crate) containers: Vec<Container>,
    pub(crate) volumes: Printed<Volume>,
    pub(crate) claim: Claim,
}

/// A named TCP port: a container's, or a Service's (which targets the container port of the
/// same name).
#[derive(Debug, Serialize)]
pub(crate) struct Port {
    pub(crate) name: &'static str,
    pub(crate) port: i64,
}

/// The client Service: the name clients dial.
#[derive(Debug, Serialize)]
pub(crate) struct ClientService {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) annotations: Map,
    pub(crate) ports: Vec<Port>,
}

/// A NetworkPolicy: ingress only, each rule admitting its peers to one port.
#[derive(Debug, Serialize)]
pub(crate) struct Policy {
    pub(crate) name: String,
    pub(crate) rules: Vec<PolicyRule>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PolicyRule {
    pub(crate) from: Vec<Peer>,
    pub(crate) port: i64,
}

/// Pods admitted by their labels: in the workload's namespace, or (`any_namespace`) in any.
#[derive(Debug, Serialize)]
pub(crate) struct Peer {
    pub(crate) any_namespace: bool,
    pub(crate) labels: Map,
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
    pub(crate) name: &'static str,
    pub(crate) image: String,
    /// A shell script run as the container's command, instead of the image's entrypoint.
    pub(crate) command: Option<Command>,
    pub(crate) args: Vec<String>,
    pub(crate) port: Port,
    pub(crate) env: Vec<EnvVar>,
    pub(crate) resources: ResolvedResources,
    /// What the exec probes run; with `probe_script`, the script (a template) is its last word.
    pub(crate) probe_command: Vec<String>,
    pub(crate) probe_script: Option<&'static str>,
    pub(crate) probes: Printed<Probe>,
    /// preStop's command, if any.
    pub(crate) stop_command: Vec<String>,
    pub(crate) mounts: Printed<Mount>,
}

/// `SHELL -c SCRIPT ARGS...`, the script a template (templates/partials/start.sh, ...).
#[derive(Debug, Serialize)]
pub(crate) struct Command {
    pub(crate) shell: &'static str,
    pub(crate) script: &'static str,
    pub(crate) args: Vec<&'static str>,
}

/// A probe (`startupProbe`, `readinessProbe` or `livenessProbe`): an HTTP GET, a TCP connect,
/// or else the container's probe command; a timing left `None` is not printed.
#[derive(Debug, Serialize)]
pub(crate) struct Probe {
    pub(crate) kind: &'static str,
    pub(crate) http_get: Option<HttpGet>,
    /// The named port a TCP connect probes.
    pub(crate) tcp_socket: Option<&'static str>,
    pub(crate) initial_delay_seconds: Option<i64>,
    pub(crate) period_seconds: i64,
    pub(crate) timeout_seconds: Option<i64>,
    pub(crate) failure_threshold: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct HttpGet {
    pub(crate) path: String,
    /// The container port's name.
    pub(crate) port: &'static str,
}

/// Default timings of one probe: period, timeout and failures; no initial delay.
pub(crate) struct ProbeDefaults {
    pub(crate) period: i64,
    pub(crate) timeout: i64,
    pub(crate) failures: i64,
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
) -> Printed<Probe> {
    let [startup, readiness, liveness] = defaults;
    Printed::from(vec![
        Probe::exec("startupProbe", &probes.startup, startup),
        Probe::exec("readinessProbe", &probes.readiness, readiness),
        Probe::exec("livenessProbe", &probes.liveness, liveness),
    ])
}

/// A volume mounted at `path`.
#[derive(Debug, Serialize)]
pub(crate) struct Mount {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) read_only: bool,
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
    pub(crate) name: &'static str,
    pub(crate) empty_dir: Option<EmptyDir>,
    pub(crate) secret: Option<SecretVolume>,
    pub(crate) config_map: Option<ConfigMapVolume>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EmptyDir {
    /// `Memory` for a tmpfs.
    pub(crate) medium: Option<&'static str>,
    pub(crate) size_limit: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SecretVolume {
    pub(crate) name: String,
    pub(crate) mode: i64,
    /// The keys mounted, each as a file; none: every key.
    pub(crate) items: Vec<KeyToPath>,
    pub(crate) optional: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct KeyToPath {
    pub(crate) key: String,
    pub(crate) path: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ConfigMapVolume {
    pub(crate) name: String,
    pub(crate) mode: Option<i64>,
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
    pub(crate) name: String,
    pub(crate) size: String,
    pub(crate) class: Option<String>,
    pub(crate) access_mode: &'static str,
    /// `Retain` or `Delete`, when the StatefulSet is deleted or scaled down.
    pub(crate) retention: &'static str,
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

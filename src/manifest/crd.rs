//! Typed custom resources: the fields pgstate writes of CloudNativePG's Cluster, ScheduledBackup
//! and Pooler (v1.30), the Barman Cloud plugin's ObjectStore, and Percona's PerconaPGCluster
//! (v2.9). Every struct rejects unknown keys, so a misspelt or misplaced key fails the typed
//! check even where the operators' CRD files are not at hand; the tests also validate the
//! output against those CRD files.
//!
//! Only what pgstate emits is modelled: a field missing here is an error until it is added on
//! purpose, after reading the operator's CRD.
//!
//! Over 500 lines because it is one struct per object part pgstate prints, for every custom
//! resource kind; splitting them by operator would scatter the parts they share.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    NodeAffinity, PersistentVolumeClaimSpec, PodAffinity, PodAntiAffinity, ResourceRequirements,
    Toleration, TopologySpreadConstraint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};

type Map = BTreeMap<String, String>;

/// apiVersion, kind, metadata and a typed spec.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Resource<S> {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) metadata: ObjectMeta,
    pub(crate) spec: S,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Name {
    pub(crate) name: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyRef {
    pub(crate) name: String,
    pub(crate) key: String,
}

// --- prometheus-operator (monitoring.coreos.com/v1), shaped after its API docs ---

/// A ServiceMonitor: which Services (by label, in which namespaces) and which of their ports
/// Prometheus scrapes.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ServiceMonitorSpec {
    pub(crate) selector: LabelSelector,
    pub(crate) namespace_selector: MonitorNamespaces,
    pub(crate) endpoints: Vec<MonitorEndpoint>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct MonitorNamespaces {
    pub(crate) match_names: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonitorEndpoint {
    /// The name of a Service port.
    pub(crate) port: String,
    pub(crate) path: String,
    pub(crate) scheme: MonitorScheme,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum MonitorScheme {
    Http,
    Https,
}

// --- cert-manager (cert-manager.io/v1 Certificate, v1.19), shaped after its CRD ---

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CertificateSpec {
    pub(crate) secret_name: String,
    pub(crate) common_name: String,
    pub(crate) dns_names: Vec<String>,
    pub(crate) usages: Vec<String>,
    pub(crate) private_key: CertificatePrivateKey,
    pub(crate) issuer_ref: IssuerRef,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CertificatePrivateKey {
    pub(crate) algorithm: String,
    pub(crate) size: u32,
    pub(crate) rotation_policy: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssuerRef {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) group: String,
}

// --- CloudNativePG (postgresql.cnpg.io/v1) ---

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ClusterSpec {
    pub(crate) instances: u32,
    pub(crate) image_name: String,
    #[serde(rename = "enablePDB", skip_serializing_if = "Option::is_none")]
    pub(crate) enable_pdb: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) enable_superuser_access: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) inherited_metadata: Option<PodMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) image_pull_secrets: Option<Vec<Name>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) priority_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service_account_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stop_delay: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ephemeral_volumes_size_limit: Option<CnpgEphemeralLimits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) monitoring: Option<CnpgMonitoring>,
    pub(crate) storage: CnpgStorage,
    pub(crate) resources: ResourceRequirements,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) certificates: Option<CnpgCertificates>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) postgresql: Option<CnpgClusterPostgresql>,
    pub(crate) bootstrap: CnpgBootstrap,
    pub(crate) affinity: CnpgAffinity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plugins: Option<Vec<CnpgPlugin>>,
}

/// Labels and annotations: CloudNativePG's `inheritedMetadata`, Percona's instance `metadata`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PodMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<Map>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) annotations: Option<Map>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgEphemeralLimits {
    pub(crate) shm: k8s_openapi::apimachinery::pkg::api::resource::Quantity,
}

/// `spec.certificates`: the server's certificate and its CA, from the user's Secrets.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgCertificates {
    #[serde(rename = "serverTLSSecret")]
    pub(crate) server_tls_secret: String,
    #[serde(rename = "serverCASecret")]
    pub(crate) server_ca_secret: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgMonitoring {
    pub(crate) enable_pod_monitor: bool,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgStorage {
    pub(crate) size: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) storage_class: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgPostgresql {
    pub(crate) parameters: Map,
}

/// A Cluster's `postgresql`: parameters, and libraries added to the operator's preloaded ones.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgClusterPostgresql {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pg_hba: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parameters: Option<Map>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shared_preload_libraries: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgSqlRefs {
    pub(crate) config_map_refs: Vec<KeyRef>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgBootstrap {
    pub(crate) initdb: CnpgInitdb,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgInitdb {
    pub(crate) database: String,
    pub(crate) owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<Name>,
    #[serde(
        rename = "postInitApplicationSQL",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) post_init_application_sql: Option<Vec<String>>,
    #[serde(
        rename = "postInitApplicationSQLRefs",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) post_init_application_sql_refs: Option<CnpgSqlRefs>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AntiAffinityType {
    Preferred,
    Required,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgAffinity {
    pub(crate) enable_pod_anti_affinity: bool,
    pub(crate) topology_key: String,
    pub(crate) pod_anti_affinity_type: AntiAffinityType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) node_selector: Option<Map>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tolerations: Option<Vec<Toleration>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) node_affinity: Option<NodeAffinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) additional_pod_affinity: Option<PodAffinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) additional_pod_anti_affinity: Option<PodAntiAffinity>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgPlugin {
    pub(crate) name: String,
    #[serde(rename = "isWALArchiver")]
    pub(crate) is_wal_archiver: bool,
    pub(crate) parameters: Map,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum BackupMethod {
    Plugin,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum OwnerReference {
    None,
    #[serde(rename = "self")]
    Itself,
    Cluster,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ScheduledBackupSpec {
    pub(crate) cluster: Name,
    pub(crate) schedule: String,
    pub(crate) backup_owner_reference: OwnerReference,
    pub(crate) method: BackupMethod,
    pub(crate) plugin_configuration: Name,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PoolMode {
    Session,
    Transaction,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PoolerType {
    Rw,
    Ro,
    R,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PoolerSpec {
    pub(crate) cluster: Name,
    pub(crate) instances: u32,
    #[serde(rename = "type")]
    pub(crate) kind: PoolerType,
    pub(crate) pgbouncer: PgBouncer,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PgBouncer {
    pub(crate) pool_mode: PoolMode,
}

// --- Barman Cloud plugin (barmancloud.cnpg.io/v1) ---

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ObjectStoreSpec {
    pub(crate) retention_policy: String,
    pub(crate) configuration: BarmanConfiguration,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BarmanConfiguration {
    pub(crate) destination_path: String,
    #[serde(rename = "endpointURL", skip_serializing_if = "Option::is_none")]
    pub(crate) endpoint_url: Option<String>,
    pub(crate) s3_credentials: S3Credentials,
    pub(crate) wal: Compression,
    pub(crate) data: Compression,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct S3Credentials {
    pub(crate) access_key_id: KeyRef,
    pub(crate) secret_access_key: KeyRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<KeyRef>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Compressor {
    Gzip,
    Bzip2,
    Snappy,
    Lz4,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Compression {
    pub(crate) compression: Compressor,
}

// --- Percona Operator for PostgreSQL (pgv2.percona.com/v2) ---

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaSpec {
    pub(crate) cr_version: String,
    pub(crate) image: String,
    pub(crate) postgres_version: u32,
    pub(crate) port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) image_pull_secrets: Option<Vec<Name>>,
    pub(crate) instances: Vec<PerconaInstanceSet>,
    pub(crate) users: Vec<PerconaUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) patroni: Option<PerconaPatroni>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) proxy: Option<PerconaProxy>,
    pub(crate) backups: PerconaBackups,
}

/// Percona's PerconaPGUpgrade (v2.9): a major-version upgrade of a PerconaPGCluster.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaUpgradeSpec {
    pub(crate) postgres_cluster_name: String,
    pub(crate) image: String,
    pub(crate) from_postgres_version: u32,
    pub(crate) to_postgres_version: u32,
    pub(crate) to_postgres_image: String,
    pub(crate) to_pg_bouncer_image: String,
    pub(crate) to_pg_back_rest_image: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaInstanceSet {
    pub(crate) name: String,
    pub(crate) replicas: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metadata: Option<PodMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) priority_class_name: Option<String>,
    pub(crate) resources: ResourceRequirements,
    pub(crate) data_volume_claim_spec: PersistentVolumeClaimSpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tolerations: Option<Vec<Toleration>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) affinity: Option<k8s_openapi::api::core::v1::Affinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaUser {
    pub(crate) name: String,
    pub(crate) databases: Vec<String>,
    pub(crate) secret_name: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaPatroni {
    pub(crate) dynamic_configuration: PatroniDynamic,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatroniDynamic {
    pub(crate) postgresql: CnpgPostgresql,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaProxy {
    pub(crate) pg_bouncer: PerconaPgBouncer,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PerconaPgBouncer {
    pub(crate) image: String,
    pub(crate) replicas: u32,
    pub(crate) config: PgBouncerConfig,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBouncerConfig {
    pub(crate) global: Map,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PerconaBackups {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pgbackrest: Option<PgBackRest>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRest {
    pub(crate) image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) configuration: Option<Vec<PgBackRestConfiguration>>,
    pub(crate) global: Map,
    pub(crate) repos: Vec<PgBackRestRepo>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRestConfiguration {
    pub(crate) secret: Name,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRestRepo {
    pub(crate) name: String,
    pub(crate) schedules: PgBackRestSchedules,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) s3: Option<PgBackRestS3>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) volume: Option<PgBackRestVolume>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRestSchedules {
    pub(crate) full: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) differential: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRestS3 {
    pub(crate) bucket: String,
    pub(crate) endpoint: String,
    pub(crate) region: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PgBackRestVolume {
    pub(crate) volume_claim_spec: PersistentVolumeClaimSpec,
}

/// Rules of the CRDs that a type alone does not say.
pub(crate) fn rules(value: &crate::readback::tree::Node) -> Result<(), String> {
    let kind = value["kind"].as_str().unwrap_or("");
    let spec = &value["spec"];
    match kind {
        "ObjectStore" => {
            let retention = spec["retentionPolicy"].as_str().unwrap_or("");
            let (number, unit) = retention.split_at(retention.len().saturating_sub(1));
            let ok = matches!(unit, "d" | "w" | "m")
                && !number.starts_with('0')
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(format!(
                    "spec.retentionPolicy `{retention}` is not <number><d|w|m>"
                ));
            }
        }
        "Cluster" if spec["instances"].as_u64() == Some(0) => {
            return Err("spec.instances must be at least 1".into());
        }
        "PerconaPGCluster" => {
            let version = spec["postgresVersion"].as_u64().unwrap_or(0);
            if !(12..=18).contains(&version) {
                return Err(format!("spec.postgresVersion {version} is not 12-18"));
            }
            for repo in spec["backups"]["pgbackrest"]["repos"]
                .as_array()
                .unwrap_or_default()
            {
                let name = repo["name"].as_str().unwrap_or("");
                if !matches!(name, "repo1" | "repo2" | "repo3" | "repo4") {
                    return Err(format!("a pgBackRest repo is named repo1-4, not `{name}`"));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

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
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: S,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Name {
    pub name: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyRef {
    pub name: String,
    pub key: String,
}

// --- prometheus-operator (monitoring.coreos.com/v1), shaped after its API docs ---

/// A ServiceMonitor: which Services (by label, in which namespaces) and which of their ports
/// Prometheus scrapes.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ServiceMonitorSpec {
    pub selector: LabelSelector,
    pub namespace_selector: MonitorNamespaces,
    pub endpoints: Vec<MonitorEndpoint>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct MonitorNamespaces {
    pub match_names: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonitorEndpoint {
    /// The name of a Service port.
    pub port: String,
    pub path: String,
    pub scheme: MonitorScheme,
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
    pub secret_name: String,
    pub common_name: String,
    pub dns_names: Vec<String>,
    pub usages: Vec<String>,
    pub private_key: CertificatePrivateKey,
    pub issuer_ref: IssuerRef,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CertificatePrivateKey {
    pub algorithm: String,
    pub size: u32,
    pub rotation_policy: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssuerRef {
    pub name: String,
    pub kind: String,
    pub group: String,
}

// --- CloudNativePG (postgresql.cnpg.io/v1) ---

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ClusterSpec {
    pub instances: u32,
    pub image_name: String,
    #[serde(rename = "enablePDB", skip_serializing_if = "Option::is_none")]
    pub enable_pdb: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_superuser_access: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherited_metadata: Option<PodMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<Name>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_delay: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemeral_volumes_size_limit: Option<CnpgEphemeralLimits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<CnpgMonitoring>,
    pub storage: CnpgStorage,
    pub resources: ResourceRequirements,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificates: Option<CnpgCertificates>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgresql: Option<CnpgClusterPostgresql>,
    pub bootstrap: CnpgBootstrap,
    pub affinity: CnpgAffinity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugins: Option<Vec<CnpgPlugin>>,
}

/// Labels and annotations: CloudNativePG's `inheritedMetadata`, Percona's instance `metadata`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PodMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Map>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgEphemeralLimits {
    pub shm: k8s_openapi::apimachinery::pkg::api::resource::Quantity,
}

/// `spec.certificates`: the server's certificate and its CA, from the user's Secrets.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgCertificates {
    #[serde(rename = "serverTLSSecret")]
    pub server_tls_secret: String,
    #[serde(rename = "serverCASecret")]
    pub server_ca_secret: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgMonitoring {
    pub enable_pod_monitor: bool,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgStorage {
    pub size: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgPostgresql {
    pub parameters: Map,
}

/// A Cluster's `postgresql`: parameters, and libraries added to the operator's preloaded ones.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgClusterPostgresql {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pg_hba: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Map>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_preload_libraries: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgSqlRefs {
    pub config_map_refs: Vec<KeyRef>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgBootstrap {
    pub initdb: CnpgInitdb,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CnpgInitdb {
    pub database: String,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Name>,
    #[serde(
        rename = "postInitApplicationSQL",
        skip_serializing_if = "Option::is_none"
    )]
    pub post_init_application_sql: Option<Vec<String>>,
    #[serde(
        rename = "postInitApplicationSQLRefs",
        skip_serializing_if = "Option::is_none"
    )]
    pub post_init_application_sql_refs: Option<CnpgSqlRefs>,
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
    pub enable_pod_anti_affinity: bool,
    pub topology_key: String,
    pub pod_anti_affinity_type: AntiAffinityType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<Map>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<NodeAffinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_pod_affinity: Option<PodAffinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_pod_anti_affinity: Option<PodAntiAffinity>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CnpgPlugin {
    pub name: String,
    #[serde(rename = "isWALArchiver")]
    pub is_wal_archiver: bool,
    pub parameters: Map,
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
    pub cluster: Name,
    pub schedule: String,
    pub backup_owner_reference: OwnerReference,
    pub method: BackupMethod,
    pub plugin_configuration: Name,
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
    pub cluster: Name,
    pub instances: u32,
    #[serde(rename = "type")]
    pub kind: PoolerType,
    pub pgbouncer: PgBouncer,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PgBouncer {
    pub pool_mode: PoolMode,
}

// --- Barman Cloud plugin (barmancloud.cnpg.io/v1) ---

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ObjectStoreSpec {
    pub retention_policy: String,
    pub configuration: BarmanConfiguration,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BarmanConfiguration {
    pub destination_path: String,
    #[serde(rename = "endpointURL", skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    pub s3_credentials: S3Credentials,
    pub wal: Compression,
    pub data: Compression,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct S3Credentials {
    pub access_key_id: KeyRef,
    pub secret_access_key: KeyRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<KeyRef>,
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
    pub compression: Compressor,
}

// --- Percona Operator for PostgreSQL (pgv2.percona.com/v2) ---

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaSpec {
    pub cr_version: String,
    pub image: String,
    pub postgres_version: u32,
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<Vec<Name>>,
    pub instances: Vec<PerconaInstanceSet>,
    pub users: Vec<PerconaUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patroni: Option<PerconaPatroni>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<PerconaProxy>,
    pub backups: PerconaBackups,
}

/// Percona's PerconaPGUpgrade (v2.9): a major-version upgrade of a PerconaPGCluster.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaUpgradeSpec {
    pub postgres_cluster_name: String,
    pub image: String,
    pub from_postgres_version: u32,
    pub to_postgres_version: u32,
    pub to_postgres_image: String,
    pub to_pg_bouncer_image: String,
    pub to_pg_back_rest_image: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaInstanceSet {
    pub name: String,
    pub replicas: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<PodMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    pub resources: ResourceRequirements,
    pub data_volume_claim_spec: PersistentVolumeClaimSpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<Vec<Toleration>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity: Option<k8s_openapi::api::core::v1::Affinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaUser {
    pub name: String,
    pub databases: Vec<String>,
    pub secret_name: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaPatroni {
    pub dynamic_configuration: PatroniDynamic,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatroniDynamic {
    pub postgresql: CnpgPostgresql,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PerconaProxy {
    pub pg_bouncer: PerconaPgBouncer,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PerconaPgBouncer {
    pub image: String,
    pub replicas: u32,
    pub config: PgBouncerConfig,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBouncerConfig {
    pub global: Map,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PerconaBackups {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pgbackrest: Option<PgBackRest>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRest {
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Vec<PgBackRestConfiguration>>,
    pub global: Map,
    pub repos: Vec<PgBackRestRepo>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRestConfiguration {
    pub secret: Name,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRestRepo {
    pub name: String,
    pub schedules: PgBackRestSchedules,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3: Option<PgBackRestS3>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<PgBackRestVolume>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRestSchedules {
    pub full: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differential: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PgBackRestS3 {
    pub bucket: String,
    pub endpoint: String,
    pub region: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PgBackRestVolume {
    pub volume_claim_spec: PersistentVolumeClaimSpec,
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

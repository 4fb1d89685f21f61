//! The lint's vocabulary: every finding id (`PGS0NN`), its severity and its one-line why. The
//! config names these ids in `lint.allow`, so they live here; `manifest::lint` finds them.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// A finding id; [`LintId::as_str`] is how it is written (`PGS001`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LintId {
    /// PGS001
    PlainPassword,
    /// PGS002
    UnpinnedImage,
    /// PGS003
    NoBackup,
    /// PGS004
    DefaultResources,
    /// PGS005
    DefaultNamespace,
    /// PGS006
    DefaultStorageClass,
    /// PGS007
    OneDump,
    /// PGS008
    OldBackupClient,
    /// PGS009
    NoNetworkPolicy,
    /// PGS010
    ExposedService,
    /// PGS011
    VolumeNotRetained,
    /// PGS012
    NoHealthCheck,
    /// PGS018
    TrustAuth,
    /// PGS020
    MajorChange,
    /// PGS025
    TolerateEveryTaint,
    /// PGS026
    UnsafeSetting,
}

impl LintId {
    /// Every id, in order.
    pub(crate) const ALL: [LintId; 16] = [
        Self::PlainPassword,
        Self::UnpinnedImage,
        Self::NoBackup,
        Self::DefaultResources,
        Self::DefaultNamespace,
        Self::DefaultStorageClass,
        Self::OneDump,
        Self::OldBackupClient,
        Self::NoNetworkPolicy,
        Self::ExposedService,
        Self::VolumeNotRetained,
        Self::NoHealthCheck,
        Self::TrustAuth,
        Self::MajorChange,
        Self::TolerateEveryTaint,
        Self::UnsafeSetting,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::PlainPassword => "PGS001",
            Self::UnpinnedImage => "PGS002",
            Self::NoBackup => "PGS003",
            Self::DefaultResources => "PGS004",
            Self::DefaultNamespace => "PGS005",
            Self::DefaultStorageClass => "PGS006",
            Self::OneDump => "PGS007",
            Self::OldBackupClient => "PGS008",
            Self::NoNetworkPolicy => "PGS009",
            Self::ExposedService => "PGS010",
            Self::VolumeNotRetained => "PGS011",
            Self::NoHealthCheck => "PGS012",
            Self::TrustAuth => "PGS018",
            Self::MajorChange => "PGS020",
            Self::TolerateEveryTaint => "PGS025",
            Self::UnsafeSetting => "PGS026",
        }
    }

    pub(crate) fn severity(self) -> Severity {
        match self {
            Self::OldBackupClient | Self::MajorChange => Severity::Error,
            _ => Severity::Warning,
        }
    }

    /// The one-line why.
    pub(crate) fn why(self) -> &'static str {
        match self {
            Self::PlainPassword => {
                "anyone who can read the config (and its Git history) can read the password"
            }
            Self::UnpinnedImage => "a tag can be moved to a different image; a digest cannot",
            Self::NoBackup => {
                "without a backup, a deleted volume or a bad migration loses the data"
            }
            Self::DefaultResources => {
                "the default requests and limits are a guess; sized ones keep the database from being evicted or starved"
            }
            Self::DefaultNamespace => {
                "objects in `default` mix with everything else and are easy to delete by accident"
            }
            Self::DefaultStorageClass => {
                "the cluster's default StorageClass may not keep data on delete, or may not exist"
            }
            Self::OneDump => "one dump is one corrupted file away from none",
            Self::OldBackupClient => "pg_dump refuses to dump a server newer than itself",
            Self::NoNetworkPolicy => {
                "without a NetworkPolicy every pod in the cluster can reach the database port"
            }
            Self::ExposedService => {
                "a NodePort or LoadBalancer Service puts the database on the network outside the cluster"
            }
            Self::VolumeNotRetained => {
                "with retain: false, deleting or scaling the StatefulSet deletes the volume and the data"
            }
            Self::NoHealthCheck => {
                "an app without an HTTP health check is routed traffic as soon as its port opens"
            }
            Self::TrustAuth => {
                "trust lets anyone who reaches the port log in as any role, with no password"
            }
            Self::MajorChange => {
                "a new PostgreSQL major cannot start on the old major's data directory: the pod crash-loops"
            }
            Self::TolerateEveryTaint => {
                "a toleration without a key tolerates every taint, so the database may run on control-plane or other reserved nodes"
            }
            Self::UnsafeSetting => {
                "this setting runs a command, loads code or chooses files as the postgres user; a reviewer should know it is there"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_in_order() {
        let ids: Vec<&str> = LintId::ALL.iter().map(|id| id.as_str()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert!(LintId::ALL.iter().all(|id| !id.why().is_empty()));
    }
}

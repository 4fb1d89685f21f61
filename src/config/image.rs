//! Container image references: how well one is pinned, its tag, its PostgreSQL major version,
//! and the Percona build that the Percona target runs for an official image.

/// Why an image reference is not pinned well enough, if it is not.
pub(crate) fn image_problem(image: &str) -> Option<&'static str> {
    if image.is_empty() {
        return Some("the image is empty");
    }
    if image.chars().any(char::is_whitespace) {
        return Some("an image reference has no spaces");
    }
    let name = image.split('@').next().unwrap_or(image);
    let mut parts = name.split('/');
    let first = parts.next().unwrap_or_default();
    let registry = name.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    let repository: Vec<&str> = if registry {
        parts.collect()
    } else {
        name.split('/').collect()
    };
    let last = repository.len().saturating_sub(1);
    let upper = repository.iter().enumerate().any(|(i, part)| {
        let part = if i == last {
            part.split(':').next().unwrap_or(part)
        } else {
            part
        };
        part.bytes().any(|b| b.is_ascii_uppercase())
    });
    if upper {
        return Some("an image repository is written in lowercase");
    }
    if let Some((_, digest)) = image.split_once('@') {
        let ok = digest
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        return (!ok).then_some("the digest must be sha256: followed by 64 hex digits");
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("the image has no tag, so every pull may bring a different version"),
        Some((_, "latest")) => Some("`:latest` changes under you; pin a version"),
        Some((_, "")) => Some("the image tag is empty"),
        Some(_) => None,
    }
}

/// A hint for an image with a problem: the lowercase spelling when case is the problem.
pub(crate) fn image_hint(image: &str, example: &str) -> String {
    // Lowercase the repository only: a tag may have capitals, a digest is hex.
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, format!("@{d}")),
        None => (image, String::new()),
    };
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match name[slash..].find(':') {
        Some(i) => name.split_at(slash + i),
        None => (name, ""),
    };
    let lower = format!("{}{tag}{digest}", repository.to_ascii_lowercase());
    if lower != image && image_problem(&lower).is_none() {
        format!("did you mean `{lower}`?")
    } else {
        example.to_owned()
    }
}

/// The tag of an image reference, if it has one.
pub(crate) fn image_tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    name.rsplit('/').next()?.split_once(':').map(|(_, t)| t)
}

/// The major version of an image tag such as `17.2`, `15-alpine` or `17.5-bookworm`.
pub(crate) fn postgres_major(image: &str) -> Option<i64> {
    image_tag(image)?.split(['.', '-']).next()?.parse().ok()
}

/// Percona's certified PostgreSQL images for operator 2.9.0, by major version (the release's
/// `deploy/cr.yaml` and `e2e-tests/release_versions`). The operator's own Deployment sets no
/// `RELATED_IMAGE_*` defaults, so the cluster must name every image.
pub(crate) const PERCONA_POSTGRES_IMAGES: [(i64, &str); 5] = [
    (
        14,
        "docker.io/percona/percona-distribution-postgresql:14.22-1",
    ),
    (
        15,
        "docker.io/percona/percona-distribution-postgresql:15.17-1",
    ),
    (
        16,
        "docker.io/percona/percona-distribution-postgresql:16.13-1",
    ),
    (
        17,
        "docker.io/percona/percona-distribution-postgresql:17.9-1",
    ),
    (
        18,
        "docker.io/percona/percona-distribution-postgresql:18.3-1",
    ),
];

/// The image the Percona cluster runs: the official `postgres` image stands for Percona's
/// build of the same major version (Patroni needs Percona's); any other image is taken as is.
pub(crate) fn percona_image(image: &str) -> Option<String> {
    let repository = image.split(['@', ':']).next().unwrap_or(image);
    let official = matches!(
        repository,
        "postgres" | "library/postgres" | "docker.io/postgres" | "docker.io/library/postgres"
    );
    if !official {
        return Some(image.to_owned());
    }
    let major = postgres_major(image)?;
    PERCONA_POSTGRES_IMAGES
        .iter()
        .find(|(m, _)| *m == major)
        .map(|(_, i)| (*i).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_major_version_comes_from_the_tag() {
        assert_eq!(postgres_major("postgres:17.2"), Some(17));
        assert_eq!(postgres_major("postgres:15-alpine"), Some(15));
        assert_eq!(
            postgres_major("ghcr.io/cloudnative-pg/postgresql:16.4"),
            Some(16)
        );
        assert_eq!(postgres_major("postgres@sha256:abc"), None);
    }

    #[test]
    fn image_hints_lowercase_only_the_repository() {
        assert_eq!(
            image_hint("Postgres:17.2", "x"),
            "did you mean `postgres:17.2`?"
        );
        assert_eq!(
            image_hint("ghcr.io/Acme/Shop:V1", "x"),
            "did you mean `ghcr.io/acme/shop:V1`?"
        );
        assert_eq!(image_hint("postgres", "x"), "x");
        assert_eq!(image_problem("registry.example.com:5000/team/pg:17"), None);
        assert!(image_problem("Team/pg:17").is_some());
    }

    #[test]
    fn percona_runs_its_certified_build_of_the_official_image_major() {
        assert_eq!(
            percona_image("postgres:17.5").as_deref(),
            Some("docker.io/percona/percona-distribution-postgresql:17.9-1")
        );
        assert_eq!(
            percona_image("docker.io/library/postgres:16-alpine").as_deref(),
            Some("docker.io/percona/percona-distribution-postgresql:16.13-1")
        );
        assert_eq!(percona_image("postgres:13"), None);
        let own = "registry.example.com/percona-distribution-postgresql:17.9-1";
        assert_eq!(percona_image(own).as_deref(), Some(own));
    }
}

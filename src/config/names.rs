//! The names pgstate derives from a config (Secrets, roles, Redis, the target): decided once
//! here, for the validation and the view alike (the folders they are mounted at are in
//! paths.rs).

use super::model::{Config, Target};

/// The key of the credentials Secret that holds the app role's password.
pub(crate) const APP_PASSWORD_KEY: &str = "app-password";

/// The Secret pgstate renders for a database password given as fromEnv or value.
pub(crate) fn credentials_secret(config: &Config) -> String {
    format!("{}-credentials", config.name)
}

/// The app's login role on the statefulset target: `app.role`, or `<database>_app` spelt as a
/// plain role name (lowercase; other characters become `_`; at most 63 bytes).
pub(crate) fn app_role_name(config: &Config) -> Option<String> {
    let app = config.app.as_ref()?;
    if config.target != Target::Statefulset {
        return None;
    }
    Some(
        app.role
            .clone()
            .unwrap_or_else(|| default_app_role(&config.postgres.database)),
    )
}

/// `<database>_app` as a plain role name.
pub(crate) fn default_app_role(database: &str) -> String {
    let mut role: String = database
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_') => c,
            _ => '_',
        })
        .collect();
    if role.starts_with(|c: char| c.is_ascii_digit()) {
        role.insert(0, '_');
    }
    role.truncate(59);
    role.push_str("_app");
    role
}

/// Redis's name: the StatefulSet, its client Service, the ConfigMap, and the Secret pgstate
/// renders for a password given as fromEnv or value.
pub(crate) fn redis_name(config: &Config) -> String {
    format!("{}-redis", config.name)
}

/// The target's name as the config spells it.
pub(crate) fn target_name(target: Target) -> &'static str {
    match target {
        Target::Statefulset => "statefulset",
        Target::Cloudnativepg => "cloudnativepg",
        Target::Percona => "percona",
        Target::External => "external",
    }
}

//! `pgstate secret`: the Secret manifests for the passwords the databases read.

use std::fmt::Write as _;
use std::io::Write;

use base64::Engine as _;

use super::{rendered_configs, several};
use crate::cli::SecretArgs;
use crate::config::vars::Vars;
use crate::error::Error;
use crate::output;
use crate::render::context::base64;
use crate::render::{self, Context};

pub(crate) fn run(
    args: &SecretArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    vars: &dyn Vars,
) -> Result<u8, Error> {
    let password = match &args.from_env {
        // The command line names this variable itself: it needs no --allow-env.
        Some(var) => match std::env::var(var).ok() {
            Some(v) if !v.is_empty() => Some(v),
            _ => {
                return Err(Error::Usage(format!(
                    "the variable {var} is not set or empty"
                )));
            }
        },
        None => None,
    };
    let configs = rendered_configs(&args.config, vars, stderr)?;
    if password.is_some() && configs.items.len() > 1 {
        return Err(Error::Usage(format!(
            "--from-env gives one password, and {}; pick one with --name, or use --generate for a password each",
            several(&configs)
        )));
    }
    let ctxs: Vec<render::Context> = configs
        .items
        .iter()
        .map(|loaded| render::Context::new(&loaded.config, vars))
        .collect();
    let text = secret_manifests(&ctxs, || match &password {
        Some(p) => Ok(p.clone()),
        None => generate_password(),
    })?;
    output::write_stdout(stdout, text.as_bytes())?;
    Ok(0)
}

/// A password from the OS random source: 32 bytes, URL-safe base64 (43 characters).
pub(crate) fn generate_password() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::io(
            "read",
            "the OS random source",
            std::io::Error::other(e.to_string()),
        )
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A Secret to write: namespace, name, and its keys with their passwords.
type SecretKeys<'a> = (&'a str, &'a str, Vec<(&'a str, String)>);

/// The Secret manifests for the passwords the databases read: one per Secret, with a password
/// from `password` for each of its keys (databases that read the same key share it).
pub(crate) fn secret_manifests(
    ctxs: &[Context],
    mut password: impl FnMut() -> Result<String, Error>,
) -> Result<String, Error> {
    // (namespace, name) -> index in `secrets`, which keeps the order they are first read in.
    let mut index = std::collections::HashMap::new();
    let mut secrets: Vec<SecretKeys<'_>> = Vec::new();
    for ctx in ctxs {
        let at = *index
            .entry((ctx.namespace.as_str(), ctx.secret.name.as_str()))
            .or_insert_with(|| {
                secrets.push((&ctx.namespace, &ctx.secret.name, Vec::new()));
                secrets.len() - 1
            });
        let keys = &mut secrets[at].2;
        if !keys.iter().any(|(k, _)| *k == ctx.secret.key) {
            keys.push((&ctx.secret.key, password()?));
        }
        // The app role's password, in the same Secret (statefulset target with an app).
        if let Some(role) = &ctx.app_role
            && !keys.iter().any(|(k, _)| *k == role.key)
        {
            keys.push((role.key, password()?));
        }
    }
    let q = |s: &str| crate::yaml::yaml_json(s).unwrap_or_default();
    let mut out = String::new();
    for (namespace, name, keys) in &secrets {
        if secrets.len() > 1 {
            out.push_str("---\n");
        }
        let _ = write!(
            out,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {}\n  namespace: {}\ntype: Opaque\ndata:\n",
            q(name),
            q(namespace)
        );
        for (key, password) in keys {
            let _ = writeln!(out, "  {}: {}", q(key), q(&base64(password)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_url_safe_and_long() {
        let a = generate_password().expect("random");
        let b = generate_password().expect("random");
        assert_ne!(a, b);
        assert!(a.len() >= 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{a}"
        );
    }
}

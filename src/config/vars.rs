//! The environment variables a config may read (`fromEnv`): the process's, or a test's.

use super::validate::boundary;

/// Looks up environment variables (the process's, or a test's). `Sync`, because a run with many
/// configs renders them on several threads.
pub trait Vars: Sync {
    fn get(&self, name: &str) -> Option<String>;

    /// Variables named on the command line (`--allow-env`) that a config may read beside
    /// those starting with [`boundary::ENV_PREFIX`].
    fn allowed(&self) -> &[String] {
        &[]
    }
}

/// The process's variables; a config reads only those [`boundary::env_readable`] allows.
#[derive(Debug, Default)]
pub struct ProcessEnv {
    pub(crate) allow: Vec<String>,
}

/// Every variable set: for checking an environment that is not the one rendered, whose
/// variables may exist only where it is. What may be read is still what `0` allows.
pub(crate) struct AnyVars<'a>(pub(crate) &'a dyn Vars);

impl Vars for AnyVars<'_> {
    fn get(&self, _name: &str) -> Option<String> {
        Some("set".to_owned())
    }

    fn allowed(&self) -> &[String] {
        self.0.allowed()
    }
}

impl Vars for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        boundary::env_readable(name, &self.allow)
            .then(|| std::env::var(name).ok())
            .flatten()
    }

    fn allowed(&self) -> &[String] {
        &self.allow
    }
}

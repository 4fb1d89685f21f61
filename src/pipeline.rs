//! The stages of a run, in order: load and validate every config (config), then per config
//! view and render (render), read each object back (readback) and check it against its
//! Kubernetes type (manifest::verify); then collisions across configs (collide) and `--name`
//! (select). [`load_and_render`] is the whole run, [`render`] one config's part; what comes out
//! is a [`Document`] per object.

use serde_json::Value;

use crate::cli::ConfigArgs;
use crate::config::vars::Vars;
use crate::config::{self, Config};
use crate::error::Error;
use crate::manifest;
use crate::readback::{self, tree::Node};
use crate::render::{self, TemplateId};
use crate::{collide, pool, select};

/// Loads and renders every config of a run, checks that no two of them collide, and keeps the
/// ones `--name` picks (all without it), each with its objects.
pub(crate) fn render_all(
    args: &ConfigArgs,
    vars: &dyn Vars,
) -> Result<(config::Configs, Vec<Vec<Document>>), Error> {
    load_and_render(args, vars, Keep::All)
}

/// What [`load_and_render`] keeps of each config's objects once they are checked and their
/// claims taken: dropping them at once keeps a run over many configs small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Nothing: the lists returned are empty.
    Nothing,
    /// The printed YAML, not the parsed values (left as null).
    Text,
    /// Everything.
    All,
}

/// [`render_all`], keeping what `keep` says of the objects.
pub(crate) fn load_and_render(
    args: &ConfigArgs,
    vars: &dyn Vars,
    keep: Keep,
) -> Result<(config::Configs, Vec<Vec<Document>>), Error> {
    // load → validate
    let mut configs = config::load_all(&args.config, args.env.as_deref(), vars)?;
    // One config cannot collide with another.
    let many = configs.items.len() > 1;
    let want = match keep {
        Keep::All => Want::Json,
        Keep::Nothing | Keep::Text => Want::Yaml,
    };
    // view → render → read back → typed check, each config on the pool
    let rendered = pool::each(&configs.items, |loaded| {
        let mut claims = many.then(|| collide::Claims::new(loaded));
        let mut docs = render_with(&loaded.config, vars, want, &mut |kind, name, tree| {
            if let Some(claims) = &mut claims {
                claims.object(loaded, kind, name, tree);
            }
        })?;
        if keep == Keep::Nothing {
            docs.clear();
        }
        Ok((docs, claims))
    })?;
    let (docs, claims): (Vec<_>, Vec<_>) = rendered.into_iter().unzip();
    // collisions
    if many {
        let claims: Vec<collide::Claims> = claims.into_iter().flatten().collect();
        collide::check(&configs, &claims)?;
    }
    if args.names.is_empty() {
        return Ok((configs, docs));
    }
    // selection
    let picked = select::select(&configs, &args.names)?;
    let (items, docs) = configs
        .items
        .into_iter()
        .zip(docs)
        .zip(picked)
        .filter_map(|(pair, picked)| picked.then_some(pair))
        .unzip();
    configs.items = items;
    Ok((configs, docs))
}

/// One rendered Kubernetes object.
#[derive(Debug, Clone)]
pub struct Document {
    pub kind: String,
    pub name: String,
    /// The YAML as the template printed it (what `render` writes).
    pub yaml: String,
    /// The same object parsed, for the typed check and JSON output.
    pub value: Value,
}

impl Document {
    /// The file name used by `--out-dir`, e.g. `statefulset-postgresql.yaml`.
    pub(crate) fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name)
    }
}

/// Renders every object of one config.
pub fn render(config: &Config, vars: &dyn Vars) -> Result<Vec<Document>, Error> {
    render_with(config, vars, Want::Json, &mut |_, _, _| {})
}

/// [`render`], with the value only if `want` says so; `seen` gets each object's kind, name and
/// tree as it is checked.
pub(crate) fn render_with(
    config: &Config,
    vars: &dyn Vars,
    want: Want,
    seen: &mut dyn FnMut(&str, &str, &Node),
) -> Result<Vec<Document>, Error> {
    render::objects(config, vars)?
        .into_iter()
        .map(|(id, yaml)| verified(id, yaml, want, seen))
        .collect()
}

/// Renders one template with a view (see [`render::view`]) and checks the object it produced.
pub(crate) fn render_template(id: TemplateId, view: &minijinja::Value) -> Result<Document, Error> {
    let yaml = render::object(id, view)?;
    verified(id, yaml, Want::Json, &mut |_, _, _| {})
}

/// Whether a rendered [`Document`] carries its parsed value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Only the printed YAML; `value` is null.
    Yaml,
    /// The YAML and the value (for JSON output).
    Json,
}

/// Reads the YAML template `id` printed back and checks it against its Kubernetes type; `seen`
/// gets the kind, name and tree of the object.
fn verified(
    id: TemplateId,
    yaml: String,
    want: Want,
    seen: &mut dyn FnMut(&str, &str, &Node),
) -> Result<Document, Error> {
    let arena = bumpalo::Bump::with_capacity(yaml.len() * 4);
    let tree = readback::read(&yaml, &arena).map_err(|e| {
        Error::Bug(format!(
            "template {} printed YAML that does not parse: {e}\n{yaml}",
            id.file()
        ))
    })?;
    manifest::verify(&tree).map_err(|e| Error::Bug(format!("template {}: {e}", id.file())))?;
    let kind = tree["kind"].as_str().unwrap_or_default().to_owned();
    let name = tree["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    seen(&kind, &name, &tree);
    let value = match want {
        Want::Json => tree.to_value(),
        Want::Yaml => Value::Null,
    };
    drop(arena);
    Ok(Document {
        kind,
        name,
        yaml,
        value,
    })
}

/// Every fixture config file (those of `fixtures/` and `fixtures/course/`), in order.
#[cfg(test)]
pub(crate) fn fixture_files() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files: Vec<_> = ["", "course"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).expect("fixtures"))
        .map(|entry| entry.expect("fixture").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Every document every fixture renders, each environment too, named by file, environment
/// and kind: the tests of the fast paths run over all of them.
#[cfg(test)]
pub(crate) fn fixture_renders() -> Vec<(String, Document)> {
    let files = fixture_files();
    let vars = crate::config::vars::ProcessEnv::default();
    let mut renders = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("fixture");
        for env in [None, Some("prod")] {
            let id = crate::error::SourceId(0);
            let Ok(mut loaded) = crate::config::load(id, &text, env, &vars) else {
                assert!(env.is_some(), "{} loads", path.display());
                continue;
            };
            let found = crate::config::read_init_files(&mut loaded, path.parent());
            assert!(found.is_empty(), "{}: {found:?}", path.display());
            for doc in render(&loaded.config, &vars).expect("renders") {
                renders.push((format!("{} {env:?} {}", path.display(), doc.kind), doc));
            }
        }
    }
    renders
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The character that ends each object in the one run of the object templates cannot come
    /// from a config: the config refuses it, and a value holding it all the same is printed
    /// quoted, and every object comes back whole.
    #[test]
    fn a_value_with_the_end_character_stays_inside_its_object() {
        let vars = crate::config::vars::ProcessEnv::default();
        let text =
            "name: shop\napp:\n  image: ghcr.io/acme/shop:1.0.0\n  env: {NOTE: \"a\\u001eb\"}\n";
        let refused = crate::config::load(crate::error::SourceId(0), text, None, &vars)
            .expect_err("a control character is refused");
        assert_eq!(refused[0].path, "app.env.NOTE");
        let text = "name: shop\napp:\n  image: ghcr.io/acme/shop:1.0.0\n  env: {NOTE: ab}\n";
        let mut loaded =
            crate::config::load(crate::error::SourceId(0), text, None, &vars).expect("loads");
        if let Some(app) = loaded.config.app.as_mut() {
            app.env.insert("NOTE".into(), "a\u{1e}b".into());
        }
        let plain = render(&loaded.config, &vars).expect("renders");
        let ids = render::templates_for(&render::Context::new(&loaded.config, &vars));
        assert_eq!(plain.len(), ids.len());
        let app = plain.iter().find(|d| d.kind == "Deployment").expect("app");
        assert!(!app.yaml.contains(char::from(render::END)), "{}", app.yaml);
        let env = &app.value["spec"]["template"]["spec"]["containers"][0]["env"];
        let note = env
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == "NOTE");
        assert_eq!(note.map(|e| &e["value"]), Some(&Value::from("a\u{1e}b")));
    }
}

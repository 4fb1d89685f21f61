//! Arbitrary bytes as a config file, through the whole path: load (parse, overlay, type,
//! validate) -> render -> the typed check -> lint -> what it takes in the cluster -> both output
//! formats, as one database and split in two. Anything may be an error; nothing may panic, hang
//! or allocate without bound. What is accepted must keep the input boundary: no rendered object
//! may break `pgstate::render::boundary::breaches` (a script with anything from the config in
//! it, a host path in a system folder, a variable the shell or libpq reads, ...), and every
//! string must read the same to a YAML 1.1 reader (no character it reads differently).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgstate::cli::Format;
use pgstate::config::vars::Vars;
use pgstate::error::SourceId;

/// A fixed environment, so that `fromEnv` passwords are deterministic; like the process's, it
/// lets a config read only PGSTATE_* variables.
struct FakeEnv;

impl Vars for FakeEnv {
    fn get(&self, name: &str) -> Option<String> {
        (name == "PGSTATE_PASSWORD" || name == "PGSTATE_DB_PASSWORD")
            .then(|| "s3cret: yes #1".to_owned())
    }
}

/// The boundary oracle on every object, and no character YAML 1.1 reads differently in the text.
fn keeps_the_boundary(config: &pgstate::config::Config, docs: &[pgstate::pipeline::Document]) {
    for doc in docs {
        let breaches = pgstate::render::boundary::breaches(config, &doc.value);
        assert!(breaches.is_empty(), "{breaches:?}\n{}", doc.yaml);
        assert!(
            !doc.yaml.chars().any(pgstate::yaml::needs_yaml_escape),
            "{}",
            doc.yaml
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line may choose an environment: `#env NAME`.
    let env = text
        .strip_prefix("#env ")
        .and_then(|rest| rest.lines().next())
        .map(str::trim);
    let Ok(loaded) = pgstate::config::load(SourceId(0), text, env, &FakeEnv) else {
        return;
    };
    let _ = pgstate::manifest::lint::lint(&loaded);
    if let Ok(docs) = pgstate::pipeline::render(&loaded.config, &FakeEnv) {
        keeps_the_boundary(&loaded.config, &docs);
        // The fast reader answers only when it reads what serde-saphyr reads.
        for doc in &docs {
            let arena = bumpalo::Bump::new();
            if let Some(fast) = pgstate::readback::fast(&doc.yaml, &arena) {
                let slow: Option<serde_json::Value> = serde_saphyr::from_str(&doc.yaml).ok();
                assert_eq!(Some(fast.to_value()), slow, "{}", doc.yaml);
            }
        }
        let mut claims = pgstate::collide::Claims::new(&loaded);
        for doc in &docs {
            pgstate::readback::tree::with_tree(&doc.value, |tree| {
                claims.object(&loaded, &doc.kind, &doc.name, tree);
            });
        }
        let (first, second) = docs.split_at(docs.len() / 2);
        let group = |folder: &str, docs: &[pgstate::pipeline::Document]| pgstate::output::Group {
            folder: folder.to_owned(),
            docs: docs.to_vec(),
        };
        let two = [group("a/one", first), group("a/two", second)];
        let _ = pgstate::output::files(&two, Format::Yaml);
        let one = [group("a/one", &docs)];
        let _ = pgstate::output::stream(&one, Format::Yaml);
        let _ = pgstate::output::stream(&one, Format::Json);
        let _ = pgstate::output::files(&one, Format::Yaml);
    }
    if let Ok(docs) = pgstate::commands::restore::restore_job(
        &loaded.config,
        &pgstate::commands::restore::RestoreSource::Volume("latest".into()),
        &FakeEnv,
    ) {
        keeps_the_boundary(&loaded.config, &docs);
    }
});

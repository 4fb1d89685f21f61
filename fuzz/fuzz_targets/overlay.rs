//! Overlay merging: two YAML texts (split at the first line `---8<---`) parsed into node
//! trees, the second merged over the first, the result typed as a config. Checks that merging
//! never panics and that merging an empty map changes nothing. A merged config that validates
//! must render objects that keep the input boundary (`pgstate::render::boundary::breaches`):
//! an overlay cannot bring in what the base config could not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgstate::config::Config;
use pgstate::config::node::{self, Kind, Node};
use pgstate::config::vars::Vars;
use pgstate::error::{Location, SourceId};

/// No variable is set; a config may read only PGSTATE_* ones.
struct NoVars;

impl Vars for NoVars {
    fn get(&self, _name: &str) -> Option<String> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (base, overlay) = text.split_once("\n---8<---\n").unwrap_or((text, ""));
    let Ok(mut base) = node::parse(SourceId(0), base) else {
        return;
    };
    let overlay = match node::parse(SourceId(1), overlay) {
        Ok(n) => n,
        Err(_) => Node {
            loc: Location::new(SourceId(1), 1, 1, 1),
            kind: Kind::Map(Vec::new()),
        },
    };
    let before = base.clone();
    let mut unchanged = base.clone();
    node::merge(
        &mut unchanged,
        Node {
            loc: Location::new(SourceId(1), 1, 1, 1),
            kind: Kind::Map(Vec::new()),
        },
    );
    if matches!(before.kind, Kind::Map(_)) {
        assert_eq!(before, unchanged, "merging an empty map changed the tree");
    }
    node::merge(&mut base, overlay);
    let Ok(config) = pgstate::config::de::from_node::<Config>(&base) else {
        return;
    };
    if !pgstate::config::validate::validate(&config, &base, &NoVars).is_empty() {
        return;
    }
    if let Ok(docs) = pgstate::pipeline::render(&config, &NoVars) {
        for doc in &docs {
            let breaches = pgstate::render::boundary::breaches(&config, &doc.value);
            assert!(breaches.is_empty(), "{breaches:?}\n{}", doc.yaml);
        }
    }
});

//! Many databases in one run: what each config takes in the cluster (its name, the objects it
//! renders, the volumes its StatefulSet claims, a node's folder), the labels of its pods and the
//! selectors that pick pods; and the check that no two configs take the same thing or select
//! each other's pods. Everything is read from the rendered objects, so the check sees exactly
//! what would be applied. Hash maps keep it linear in the number of configs.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;

use crate::config::{Configs, Loaded};
use crate::error::{Diagnostic, Error, Location};
use crate::readback::tree::Node;

/// What a StatefulSet's or a Deployment's selector does to the pods it picks.
const OWN: &str = "it would count them as its own";
/// (what or label, namespace, name or value): the key of the maps below.
type Key<'a> = (&'a str, &'a str, &'a str);
/// A fast hash (the keys are names from the configs: nothing to defend against).
type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
/// A piece of [`Claims::text`].
type Span = Range<u32>;

/// The config key a claim comes from: where its error points.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Name,
    AppName,
    ClaimName,
    Local,
    LocalPath,
}

impl Origin {
    fn path(&self) -> &'static [&'static str] {
        match self {
            Origin::Name => &["name"],
            Origin::AppName => &["app", "name"],
            Origin::ClaimName => &["postgres", "storage", "claimName"],
            Origin::Local => &["postgres", "storage", "local"],
            Origin::LocalPath => &["postgres", "storage", "local", "path"],
        }
    }

    /// What to change, said for this key.
    fn fix(&self) -> &'static str {
        match self {
            Origin::Name => "rename one database (`name`), or give it another `namespace`",
            Origin::AppName => {
                "give one app another `app.name`, or the database another `namespace`"
            }
            Origin::ClaimName => {
                "the claim is `<claimName>-<name>-0`: change one `postgres.storage.claimName` or `name`"
            }
            Origin::Local => {
                "the PersistentVolume is named `<namespace>-<claimName>-<name>-0`: change one of the three"
            }
            Origin::LocalPath => {
                "both databases would write into the same folder: give each its own `postgres.storage.local.path`"
            }
        }
    }
}

/// Something only one config may take: an object (kind, namespace, name) or a local folder.
#[derive(Debug)]
struct Claim {
    /// An object's kind, or what else is taken ("database name", "local folder").
    what: Span,
    /// Whether the whole cluster shares it (a PersistentVolume, a node's folder); else it is in
    /// the config's namespace.
    cluster_wide: bool,
    name: Span,
    origin: Origin,
}

/// The labels (`Claims::labels[labels]`) of the pods one object (`Claims::claims[owner]`) runs,
/// or of a selector of one object that picks pods in its namespace, with what picking them
/// means.
#[derive(Debug)]
struct Labelled {
    owner: usize,
    role: &'static str,
    labels: Range<usize>,
}

/// What one config takes, read from its rendered objects (all in the config's namespace).
/// Every string is a span of one text, so that a thousand configs' claims are a few
/// allocations each.
#[derive(Debug, Default)]
pub struct Claims {
    text: String,
    namespace: Span,
    claims: Vec<Claim>,
    /// (key, value) of the labels of `pods` and `selectors`.
    labels: Vec<(Span, Span)>,
    pods: Vec<Labelled>,
    selectors: Vec<Labelled>,
}

impl Claims {
    /// What `loaded` takes by its name; [`Claims::object`] adds each object it renders.
    pub fn new(loaded: &Loaded) -> Claims {
        let config = &loaded.config;
        let mut c = Claims {
            claims: Vec::with_capacity(16),
            ..Claims::default()
        };
        c.namespace = c.add(&config.namespace);
        let what = c.add("database name");
        let name = c.add(&config.name);
        c.claim(what, false, name, Origin::Name);
        c
    }

    /// What the object `kind`/`name` (read back as `tree`) of `loaded` takes.
    pub fn object(&mut self, loaded: &Loaded, kind: &str, name: &str, tree: &Node) {
        let c = self;
        let config = &loaded.config;
        let app_name = config.app.as_ref().and_then(|a| a.name.as_deref());
        let spec = &tree["spec"];
        let origin = match kind {
            "PersistentVolume" => Origin::Local,
            "Deployment" | "NetworkPolicy" if Some(name) == app_name => Origin::AppName,
            _ => Origin::Name,
        };
        let what = c.add(kind);
        let object = c.add(name);
        c.claim(what, kind == "PersistentVolume", object, origin);
        // The claim of this object names it in messages about its pods and selectors.
        let owner = c.claims.len() - 1;
        match kind {
            "StatefulSet" => {
                c.pods(owner, &spec["template"]["metadata"]["labels"]);
                c.selector(owner, OWN, &spec["selector"]["matchLabels"]);
                let replicas = spec["replicas"].as_u64().unwrap_or(1);
                let what = c.add("PersistentVolumeClaim");
                for template in spec["volumeClaimTemplates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let claim = template["metadata"]["name"].as_str().unwrap_or_default();
                    for i in 0..replicas {
                        let pvc = c.add_fmt(format_args!("{claim}-{name}-{i}"));
                        c.claim(what.clone(), false, pvc, Origin::ClaimName);
                    }
                }
            }
            "Deployment" => {
                c.pods(owner, &spec["template"]["metadata"]["labels"]);
                c.selector(owner, OWN, &spec["selector"]["matchLabels"]);
            }
            "CronJob" => {
                let template = &spec["jobTemplate"]["spec"]["template"];
                c.pods(owner, &template["metadata"]["labels"]);
            }
            "Service" => {
                c.selector(
                    owner,
                    "it would send its clients to them",
                    &spec["selector"],
                );
            }
            "NetworkPolicy" => {
                let applies = "its rules would apply to them";
                c.selector(owner, applies, &spec["podSelector"]["matchLabels"]);
                for rule in spec["ingress"].as_array().into_iter().flatten() {
                    for peer in rule["from"].as_array().into_iter().flatten() {
                        // A peer without a namespaceSelector is in the policy's namespace.
                        if peer.get("namespaceSelector").is_none() {
                            let admits = "it admits them to the database port";
                            c.selector(owner, admits, &peer["podSelector"]["matchLabels"]);
                        }
                    }
                }
            }
            "PersistentVolume" => {
                if let Some(local) = &config.postgres.storage.local {
                    let what = c.add("local folder");
                    let path = local.path.trim_end_matches('/');
                    let name = c.add_fmt(format_args!("{}:{path}", local.node));
                    c.claim(what, true, name, Origin::LocalPath);
                }
            }
            _ => {}
        }
    }

    /// Appends `text` to the config's text.
    fn add(&mut self, text: &str) -> Span {
        let start = self.offset();
        self.text.push_str(text);
        start..self.offset()
    }

    fn add_fmt(&mut self, args: std::fmt::Arguments<'_>) -> Span {
        let start = self.offset();
        let _ = self.text.write_fmt(args);
        start..self.offset()
    }

    fn offset(&self) -> u32 {
        u32::try_from(self.text.len()).unwrap_or(u32::MAX)
    }

    fn pods(&mut self, owner: usize, labels: &Node) {
        let labels = self.add_labels(labels);
        self.pods.push(Labelled {
            owner,
            role: "",
            labels,
        });
    }

    fn selector(&mut self, owner: usize, role: &'static str, labels: &Node) {
        let labels = self.add_labels(labels);
        if !labels.is_empty() {
            self.selectors.push(Labelled {
                owner,
                role,
                labels,
            });
        }
    }

    /// "Kind name" of the object whose claim is `claims[owner]`.
    fn owner(&self, item: &Labelled) -> String {
        let claim = &self.claims[item.owner];
        format!("{} {}", self.str(&claim.what), self.str(&claim.name))
    }

    fn add_labels(&mut self, map: &Node) -> Range<usize> {
        let start = self.labels.len();
        for (key, value) in map.as_object().into_iter().flatten() {
            if let Some(value) = value.as_str() {
                let pair = (self.add(key), self.add(value));
                self.labels.push(pair);
            }
        }
        start..self.labels.len()
    }

    fn claim(&mut self, what: Span, cluster_wide: bool, name: Span, origin: Origin) {
        self.claims.push(Claim {
            what,
            cluster_wide,
            name,
            origin,
        });
    }

    fn str(&self, span: &Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    fn namespace(&self) -> &str {
        self.str(&self.namespace)
    }

    /// The namespace of a claim; empty for what the whole cluster shares.
    fn namespace_of(&self, claim: &Claim) -> &str {
        if claim.cluster_wide {
            ""
        } else {
            self.namespace()
        }
    }

    fn labels_of(&self, item: &Labelled) -> impl Iterator<Item = (&str, &str)> {
        self.labels[item.labels.clone()]
            .iter()
            .map(|(k, v)| (self.str(k), self.str(v)))
    }
}

/// Where a claim comes from in its config, and that key's path: the key of `origin` when the
/// config has it; else `name`, which every derived name starts from (else the config's start).
fn place(loaded: &Loaded, origin: &Origin) -> (Location, String) {
    let path = if loaded.root.entry(origin.path()).is_some() {
        origin.path()
    } else {
        Origin::Name.path()
    };
    (loaded.root.place(path), path.join("."))
}

fn shown(configs: &Configs, loc: Location) -> String {
    format!(
        "{}:{}:{}",
        configs.sources.name(loc.source),
        loc.line,
        loc.col
    )
}

fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("`{name}`")
    } else {
        format!("`{namespace}/{name}`")
    }
}

/// Checks that no two configs take the same thing or select each other's pods. `claims[i]`
/// belongs to `configs.items[i]`. Each pair of configs is reported once, at the later one.
pub(crate) fn check(configs: &Configs, claims: &[Claims]) -> Result<(), Error> {
    let items = &configs.items;
    let mut reported: HashSet<(usize, usize)> = HashSet::new();
    let mut diagnostics = Vec::new();
    let total = claims.iter().map(|c| c.claims.len()).sum();
    let mut taken: Map<Key<'_>, (usize, &Claim)> =
        Map::with_capacity_and_hasher(total, Default::default());
    for (i, own) in claims.iter().enumerate() {
        for claim in &own.claims {
            let what = own.str(&claim.what);
            let namespace = own.namespace_of(claim);
            let name = own.str(&claim.name);
            let (j, first) = *taken.entry((what, namespace, name)).or_insert((i, claim));
            if j == i || !reported.insert((j, i)) {
                continue;
            }
            let there = shown(configs, place(&items[j], &first.origin).0);
            let message = if what == "database name" {
                format!(
                    "the database `{name}` in namespace `{namespace}` is also configured in {there}"
                )
            } else if let Some((node, path)) = name.split_once(':')
                && what == "local folder"
            {
                format!(
                    "the folder {path} on node {node} is also the local volume of the database in {there}"
                )
            } else if what == "PersistentVolumeClaim" {
                format!(
                    "the data volume claim {} of the StatefulSet is also the claim of the database in {there}",
                    qualified(namespace, name)
                )
            } else {
                format!(
                    "{what} {} would also be rendered for the database in {there}",
                    qualified(namespace, name)
                )
            };
            let (loc, path) = place(&items[i], &claim.origin);
            diagnostics.push(
                Diagnostic::new(loc, message)
                    .with_path(path)
                    .with_help(format!(
                        "every database needs its own; {}",
                        claim.origin.fix()
                    )),
            );
        }
    }
    // Pods by (namespace, label, value), as lists linked through `next`: the map holds the
    // first entry and the length. A selector looks among the pods that carry the label of its
    // own that the fewest pods carry.
    let mut index: Map<Key<'_>, (usize, usize)> = Map::default();
    let mut next: Vec<(usize, &Labelled, usize)> = Vec::new();
    for (i, own) in claims.iter().enumerate() {
        for pods in &own.pods {
            for (k, v) in own.labels_of(pods) {
                let head = index
                    .entry((own.namespace(), k, v))
                    .or_insert((usize::MAX, 0));
                next.push((i, pods, head.0));
                *head = (next.len() - 1, head.1 + 1);
            }
        }
    }
    for (i, own) in claims.iter().enumerate() {
        let ns = own.namespace();
        for selector in &own.selectors {
            let Some(&(mut at, _)) = own
                .labels_of(selector)
                .map(|(k, v)| index.get(&(ns, k, v)))
                .min_by_key(|c| c.map_or(0, |(_, len)| *len))
                .flatten()
            else {
                continue;
            };
            while let Some(&(j, pods, after)) = next.get(at) {
                at = after;
                let pair = (j.min(i), j.max(i));
                if j == i
                    || reported.contains(&pair)
                    || !own
                        .labels_of(selector)
                        .all(|wanted| claims[j].labels_of(pods).any(|label| label == wanted))
                {
                    continue;
                }
                reported.insert(pair);
                diagnostics.push(selects(configs, claims, (i, selector), (j, pods)));
            }
        }
    }
    if diagnostics.is_empty() {
        return Ok(());
    }
    diagnostics.sort_by_key(|d| (d.loc.source, d.loc.line, d.loc.col));
    Err(Error::Config {
        sources: configs.sources.clone(),
        diagnostics,
    })
}

/// The error for a selector of one config that picks the pods of another, at the pods' config:
/// at the label that makes them match (or at its name, which its selectors are built from).
fn selects(
    configs: &Configs,
    claims: &[Claims],
    (s, selector): (usize, &Labelled),
    (p, pods): (usize, &Labelled),
) -> Diagnostic {
    let items = &configs.items;
    let there = shown(configs, place(&items[s], &Origin::Name).0);
    let message = format!(
        "the pods of {} are selected by {} of the database in {there}; {}",
        claims[p].owner(pods),
        claims[s].owner(selector),
        selector.role
    );
    let label = claims[s]
        .labels_of(selector)
        .find(|(k, v)| items[p].config.labels.get(*k).map(String::as_str) == Some(*v));
    let (loc, path, help) = match label {
        Some((key, _)) => (
            items[p].root.place(&["labels", key]),
            format!("labels.{key}"),
            format!(
                "`labels` go on every pod of this database, its database pods included; remove `{key}` here, and label only the pods that need the other database"
            ),
        ),
        None => {
            let (loc, path) = place(&items[p], &Origin::Name);
            let help = format!(
                "every database selects its pods by its name; {}",
                Origin::Name.fix()
            );
            (loc, path, help)
        }
    };
    Diagnostic::new(loc, message)
        .with_path(path)
        .with_help(help)
}

//! The node tree -> typed config, as a serde `Deserializer`.
//!
//! Deserializing from our own tree (rather than straight from YAML text) means every error,
//! including serde's own "unknown field" and "invalid type", knows the node it is about: its
//! file, line and column, and its key path. Unknown keys get a "did you mean" from the list of
//! keys serde expected.
//!
//! mod.rs reads a tree (and goes on past errors: `from_node_collecting`); deserializer.rs is the
//! `Deserializer`; error.rs the error type and its messages.

mod deserializer;
mod error;

use serde::de;

use crate::config::node::{Kind, Node};
use crate::error::{Diagnostic, Location};
pub(crate) use deserializer::NodeDe;
use deserializer::child_path;

/// Deserializes `T` from a node; the error is a diagnostic pointing into the config.
pub fn from_node<T: de::DeserializeOwned>(node: &Node) -> Result<T, Diagnostic> {
    from_node_at(node, "")
}

/// Deserializes `T` from the node at key path `path` (for the paths in its errors).
pub(crate) fn from_node_at<T: de::DeserializeOwned>(
    node: &Node,
    path: &str,
) -> Result<T, Diagnostic> {
    T::deserialize(NodeDe {
        node,
        path: path.to_owned(),
    })
    .map_err(|e| e.into_diagnostic(node.loc))
}

/// The most errors one config reports before the rest is left unread.
const MOST_ERRORS: usize = 100;

/// Deserializes `T` from a node and goes on past the errors it can: a key or list item that is
/// unknown, of the wrong type or of a wrong value is reported and left out, and the rest is
/// read again (a key left out takes its default; a map that misses a required key, a list item
/// too, is left out whole). Returns the value when everything left could be read, the tree it was read from
/// (the original when nothing was left out), and every error.
pub(crate) fn from_node_collecting<T: de::DeserializeOwned>(node: &Node) -> Collected<'_, T> {
    let first = match T::deserialize(NodeDe {
        node,
        path: String::new(),
    }) {
        Ok(value) => {
            return Collected {
                value: Some(value),
                tree: std::borrow::Cow::Borrowed(node),
                errors: Vec::new(),
                removed: Vec::new(),
            };
        }
        Err(e) => e,
    };
    let mut tree = node.clone();
    let mut found = Vec::new();
    let mut error = first;
    // The key path of what was left out last.
    let mut left_out: Option<String> = None;
    let mut removed: Vec<(String, usize)> = Vec::new();
    loop {
        let path = error.path.clone().unwrap_or_default();
        let (loc, missing) = (error.loc, error.missing);
        // Leaving out a required key's wrong value makes its map miss the key: that is not
        // another error, and the map goes as a whole.
        let ours = missing
            .is_some_and(|field| left_out.as_deref() == Some(child_path(&path, field).as_str()));
        if !ours {
            let mut d = error.into_diagnostic(tree.loc);
            d.path = original_path(&d.path, &removed);
            found.push(d);
        }
        let pruned = found.len() < MOST_ERRORS
            && match missing {
                // A map that misses a required key is left out whole (not the document).
                Some(_) => !path.is_empty() && prune_path(&mut tree, &path),
                None => loc.is_some_and(|at| prune(&mut tree, at)),
            };
        if !pruned {
            return Collected {
                value: None,
                tree: std::borrow::Cow::Owned(tree),
                errors: found,
                removed,
            };
        }
        // A list item left out moves the later ones up: their paths are told as written.
        if let Some((list, index)) = path.rsplit_once('[')
            && let Some(Ok(index)) = index.strip_suffix(']').map(str::parse)
        {
            removed.push((list.to_owned(), index));
        }
        left_out = Some(path);
        match T::deserialize(NodeDe {
            node: &tree,
            path: String::new(),
        }) {
            Ok(value) => {
                return Collected {
                    value: Some(value),
                    tree: std::borrow::Cow::Owned(tree),
                    errors: found,
                    removed,
                };
            }
            Err(e) => error = e,
        }
    }
}

/// What [`from_node_collecting`] read: the value when everything left could be read, the tree it
/// was read from, and every error.
pub(crate) struct Collected<'a, T> {
    pub(crate) value: Option<T>,
    pub(crate) tree: std::borrow::Cow<'a, Node>,
    pub(crate) errors: Vec<Diagnostic>,
    /// The list items left out, in order: the list's path then and the item's index then.
    removed: Vec<(String, usize)>,
}

impl<T> Collected<'_, T> {
    /// A key path of the tree read, as it is in the file (list indexes before items were left
    /// out), for the errors found in that tree afterwards.
    pub(crate) fn original_path(&self, path: &str) -> String {
        original_path(path, &self.removed)
    }
}

fn original_path(path: &str, removed: &[(String, usize)]) -> String {
    let mut path = path.to_owned();
    for (list, gone) in removed.iter().rev() {
        let Some(rest) = path
            .strip_prefix(list.as_str())
            .and_then(|r| r.strip_prefix('['))
        else {
            continue;
        };
        let Some((index, after)) = rest.split_once(']') else {
            continue;
        };
        if let Ok(index) = index.parse::<usize>()
            && index >= *gone
        {
            path = format!("{list}[{}]{after}", index + 1);
        }
    }
    path
}

/// Removes the map entry or list item at a key path such as `postgres.hba[0]` (as the
/// deserializer writes them).
fn prune_path(node: &mut Node, path: &str) -> bool {
    enum Step<'a> {
        Key(&'a str),
        Item(usize),
    }
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            steps.push(Step::Key(key));
        }
        while let Some((index, after)) = rest.split_once(']') {
            match index.parse() {
                Ok(i) => steps.push(Step::Item(i)),
                Err(_) => return false,
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut node = node;
    for step in parents {
        let next = match (step, &mut node.kind) {
            (Step::Key(key), Kind::Map(entries)) => entries
                .iter_mut()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            (Step::Item(i), Kind::Seq(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    match (last, &mut node.kind) {
        (Step::Key(key), Kind::Map(entries)) => {
            match entries.iter().position(|(k, _)| k.as_str() == Some(key)) {
                Some(i) => {
                    entries.remove(i);
                    true
                }
                None => false,
            }
        }
        (Step::Item(i), Kind::Seq(items)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// Removes the deepest map entry (by its key or its value) or list item found at `at`.
/// A map's location is that of its first key, so children are searched before their parent.
fn prune(node: &mut Node, at: Location) -> bool {
    match &mut node.kind {
        Kind::Scalar { .. } => false,
        Kind::Seq(items) => {
            if items.iter_mut().any(|item| prune(item, at)) {
                return true;
            }
            match items.iter().position(|item| item.loc == at) {
                Some(i) => {
                    items.remove(i);
                    true
                }
                None => false,
            }
        }
        Kind::Map(entries) => {
            if entries.iter_mut().any(|(_, value)| prune(value, at)) {
                return true;
            }
            match entries
                .iter()
                .position(|(key, value)| key.loc == at || value.loc == at)
            {
                Some(i) => {
                    entries.remove(i);
                    true
                }
                None => false,
            }
        }
    }
}

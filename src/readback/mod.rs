//! Reading rendered YAML back into a tree: the fast reader for the templates' regular YAML
//! (reader.rs, fuzzed against serde-saphyr), and serde-saphyr for anything it is not sure of.

mod reader;
pub mod tree;

use bumpalo::Bump;
use serde_json::Value;

pub use reader::fast;
use tree::Node;

/// Reads one printed object back. The templates' regular YAML is read by a fast reader;
/// anything it is not sure of goes through serde-saphyr, so the tree is the same either way
/// (see reader.rs). The error is serde-saphyr's.
pub(crate) fn read<'a>(yaml: &'a str, arena: &'a Bump) -> Result<Node<'a>, String> {
    match fast(yaml, arena) {
        Some(tree) => Ok(tree),
        None => {
            let value = serde_saphyr::from_str::<Value>(yaml).map_err(|e| e.to_string())?;
            Ok(Node::from_value(arena, &value))
        }
    }
}

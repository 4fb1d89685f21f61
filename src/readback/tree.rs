//! A rendered document read back, as the checks walk it.
//!
//! Every rendered object is read back once for the typed check (and, with many configs, for the
//! collision check). A `serde_json::Value` made that reading cost more than rendering: a
//! `String` per key and per scalar, a hash table per mapping, SipHash on every insert and lookup,
//! and freeing it all again. A [`Node`] borrows its keys and strings from the printed YAML, and
//! its lists and mappings (entries in printed order) live in an arena that is dropped whole once
//! the object is checked; it is turned into a `serde_json::Value` only when JSON output asks for
//! one. It deserializes (into the k8s-openapi types) as a `serde_json::Value` would.

use std::fmt;

use bumpalo::Bump;
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use serde_json::{Number, Value};

/// One value of a read-back document.
#[derive(Debug, Clone, Copy, Default)]
pub enum Node<'a> {
    #[default]
    Null,
    Bool(bool),
    Number(&'a Number),
    String(&'a str),
    Array(&'a [Node<'a>]),
    Object(Map<'a>),
}

/// A mapping's entries in printed order. Lookups scan the entries; a large mapping (a user's
/// labels, say) also keeps its entries' positions sorted by key, so that looking up every key
/// of it stays O(n log n).
#[derive(Debug, Clone, Copy, Default)]
pub struct Map<'a> {
    entries: &'a [(&'a str, Node<'a>)],
    sorted: Option<&'a [u32]>,
}

/// Mappings with more entries than this get a sorted index.
const SCAN: usize = 16;

static NULL: Node<'static> = Node::Null;

impl<'a> Map<'a> {
    /// The mapping of `entries` (kept in `arena`), or `None` when a key repeats.
    pub(crate) fn new(arena: &'a Bump, entries: &'a [(&'a str, Node<'a>)]) -> Option<Self> {
        if entries.len() <= SCAN {
            let repeats = entries
                .iter()
                .enumerate()
                .any(|(i, (key, _))| entries[..i].iter().any(|(k, _)| k == key));
            return (!repeats).then_some(Map {
                entries,
                sorted: None,
            });
        }
        let len = u32::try_from(entries.len()).ok()?;
        let sorted = arena.alloc_slice_fill_iter(0..len);
        sorted.sort_unstable_by(|&a, &b| entries[a as usize].0.cmp(entries[b as usize].0));
        let repeats = sorted
            .windows(2)
            .any(|w| entries[w[0] as usize].0 == entries[w[1] as usize].0);
        (!repeats).then_some(Map {
            entries,
            sorted: Some(sorted),
        })
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Node<'a>> {
        let entries = self.entries;
        match self.sorted {
            None => entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            Some(sorted) => sorted
                .binary_search_by(|&i| entries[i as usize].0.cmp(key))
                .ok()
                .map(|at| &entries[sorted[at] as usize].1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries in printed order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'a str, &'a Node<'a>)> + use<'a> {
        self.into_iter()
    }
}

impl<'a> Node<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&'a Node<'a>> {
        match self {
            Node::Object(map) => map.get(key),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&'a str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Node::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Node::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> Option<&'a [Node<'a>]> {
        match self {
            Node::Array(items) => Some(items),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Node::Object(map) => Some(map),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// The same value as a `serde_json::Value` (for JSON output).
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number((*n).clone()),
            Node::String(s) => Value::String((*s).to_owned()),
            Node::Array(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Node::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// `value` as a node in `arena` (its strings copied there).
    pub fn from_value(arena: &'a Bump, value: &Value) -> Node<'a> {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(arena.alloc(n.clone())),
            Value::String(s) => Node::String(arena.alloc_str(s)),
            Value::Array(items) => Node::Array(
                arena.alloc_slice_fill_iter(items.iter().map(|v| Node::from_value(arena, v))),
            ),
            Value::Object(map) => {
                let entries = arena.alloc_slice_fill_iter(
                    map.iter()
                        .map(|(k, v)| (&*arena.alloc_str(k), Node::from_value(arena, v))),
                );
                // A JSON object's keys are already unique.
                Node::Object(Map::new(arena, entries).unwrap_or_default())
            }
        }
    }
}

/// `f` of `value` as a node (in an arena of its own, dropped after).
pub fn with_tree<R>(value: &Value, f: impl FnOnce(&Node<'_>) -> R) -> R {
    let arena = Bump::new();
    f(&Node::from_value(&arena, value))
}

impl<'a> std::ops::Index<&str> for Node<'a> {
    type Output = Node<'a>;

    /// The value under `key`, or null (as `serde_json::Value` indexes).
    fn index(&self, key: &str) -> &Node<'a> {
        self.get(key).unwrap_or(&NULL)
    }
}

impl<'a> IntoIterator for &Map<'a> {
    type Item = (&'a str, &'a Node<'a>);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (&'a str, Node<'a>)>,
        fn(&'a (&'a str, Node<'a>)) -> (&'a str, &'a Node<'a>),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (*k, v))
    }
}

/// Why a node does not deserialize into a type.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl<'de> IntoDeserializer<'de, Error> for &'de Node<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl Node<'_> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            Node::Null => de::Unexpected::Unit,
            Node::Bool(b) => de::Unexpected::Bool(*b),
            Node::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => de::Unexpected::Unsigned(u),
                (_, Some(i)) => de::Unexpected::Signed(i),
                _ => de::Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Node::String(s) => de::Unexpected::Str(s),
            Node::Array(_) => de::Unexpected::Seq,
            Node::Object(_) => de::Unexpected::Map,
        }
    }
}

impl<'de> de::Deserializer<'de> for &'de Node<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(*b),
            Node::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (_, Some(i), _) => visitor.visit_i64(i),
                (_, _, f) => visitor.visit_f64(f.unwrap_or(f64::NAN)),
            },
            Node::String(s) => visitor.visit_borrowed_str(s),
            Node::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Node::Object(map) => {
                let mut entries = MapDeserializer::new(map.iter());
                let value = visitor.visit_map(&mut entries)?;
                entries.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Node::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Node::String(s) => visitor.visit_enum(s.into_deserializer()),
            // `{variant: value}`
            Node::Object(map) if map.len() == 1 => {
                let (variant, value) = &map.entries[0];
                visitor.visit_enum(Variant { variant, value })
            }
            other => Err(de::Error::invalid_type(
                other.unexpected(),
                &"a string or a map with one key",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// An enum written as a map with one key: the variant and its content.
struct Variant<'de> {
    variant: &'de str,
    value: &'de Node<'de>,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: de::DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let variant = seed.deserialize(self.variant.into_deserializer())?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self.value)
    }

    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self.value)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Node::Array(_) => de::Deserializer::deserialize_any(self.value, visitor),
            other => Err(de::Error::invalid_type(
                other.unexpected(),
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Node::Object(_) => de::Deserializer::deserialize_any(self.value, visitor),
            other => Err(de::Error::invalid_type(
                other.unexpected(),
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    /// Deserializing from a node gives what deserializing from the same `serde_json::Value`
    /// gives, errors included.
    #[test]
    fn deserializes_as_serde_json_does() {
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct T {
            a: i32,
            b: Option<String>,
            c: Vec<u8>,
            d: std::collections::BTreeMap<String, Value>,
            e: Option<E>,
        }
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum E {
            One,
            Two,
        }
        for value in [
            json!({"a": -3, "b": "x", "c": [1, 2], "d": {"k": [1.5, null, true]}, "e": "two"}),
            json!({"a": 3, "b": null, "c": [], "d": {}}),
            json!({"a": 3, "c": [], "d": {}, "f": 1}),
            json!({"a": "3", "c": [], "d": {}}),
            json!({"a": 3, "c": [256], "d": {}}),
            json!({"a": 3, "c": [], "d": {}, "e": "three"}),
            json!({"a": 3, "c": [], "d": {}, "e": {"one": null}}),
            json!({"a": 3, "c": [], "d": {}, "e": {"one": 1}}),
            json!({"a": 3, "c": [], "d": {}, "e": {"one": null, "two": null}}),
            json!({"a": 3, "c": [], "d": {}, "e": 1}),
            json!([1, 2]),
            json!([1, [], {}, null, true, null]),
            json!([1, [], {}, null, true]),
        ] {
            let arena = Bump::new();
            let node = Node::from_value(&arena, &value);
            let ours = T::deserialize(&node).map_err(|e| e.to_string());
            let theirs = T::deserialize(&value).map_err(|e| e.to_string());
            match (&ours, &theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(_), Err(_)) => {}
                _ => panic!("{value}: {ours:?} but serde_json: {theirs:?}"),
            }
            assert_eq!(node.to_value(), value);
        }
    }

    #[test]
    fn enums_with_content_deserialize_as_serde_json_does() {
        #[derive(Debug, PartialEq, Deserialize)]
        enum F {
            N(u8),
            T(u8, String),
            S { x: u8 },
        }
        for value in [
            json!({"N": 1}),
            json!({"T": [1, "a"]}),
            json!({"S": {"x": 2}}),
            json!({"S": [2]}),
            json!({"N": "1"}),
            json!({"T": [1]}),
            json!({"X": 1}),
            json!("N"),
        ] {
            let arena = Bump::new();
            let node = Node::from_value(&arena, &value);
            let ours = F::deserialize(&node).map_err(|e| e.to_string());
            let theirs = F::deserialize(&value).map_err(|e| e.to_string());
            assert_eq!(
                ours.is_ok(),
                theirs.is_ok(),
                "{value}: {ours:?} / {theirs:?}"
            );
            if let (Ok(a), Ok(b)) = (ours, theirs) {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn maps_find_keys_and_refuse_repeats() {
        let arena = Bump::new();
        for n in [3, SCAN, SCAN + 1, 200] {
            let keys: Vec<String> = (0..n).rev().map(|i| format!("k{i}")).collect();
            let entries: Vec<(&str, Node)> = keys
                .iter()
                .map(|k| (k.as_str(), Node::Bool(k.len() % 2 == 0)))
                .collect();
            let map = Map::new(&arena, arena.alloc_slice_copy(&entries)).expect("unique");
            assert_eq!(map.len(), n);
            for key in &keys {
                assert_eq!(
                    map.get(key).and_then(Node::as_bool),
                    Some(key.len() % 2 == 0)
                );
            }
            assert!(map.get("k").is_none());
            assert_eq!(map.iter().next().map(|(k, _)| k), Some(keys[0].as_str()));
            let mut repeated = entries;
            repeated.push(("k1", Node::Null));
            assert!(
                Map::new(&arena, arena.alloc_slice_copy(&repeated)).is_none(),
                "{n}"
            );
        }
    }
}

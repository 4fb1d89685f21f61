//! Whether a typed object serializes back to what the template printed, without building the
//! serialized tree.
//!
//! The typed check used to serialize each object into a second `serde_json::Value` and compare
//! the two trees: allocating, hashing and freeing a copy of every object cost more than reading
//! the template's output. [`reproduces`] instead drives the typed object's `Serialize` against
//! the printed value as a serde `Serializer` that compares as it goes: every key and item the
//! template printed must come out of the type unchanged, keys the type adds are ignored, and
//! nothing is allocated (map keys are looked up as they are serialized). It answers only "yes,
//! reproduced"; whenever it says no, the caller takes the slow path that builds the tree and
//! names the first differing path.
//!
//! Over 500 lines because a serde `Serializer` has one method per data-model type; its tests
//! start at the `#[cfg(test)]` module below.

use crate::readback::tree::{Map, Node};
use serde::Serialize;
use serde::ser::{self, Impossible};

/// Whether serializing `typed` gives back every key and item of `printed`, with equal values
/// (numbers compared as numbers; keys only in the typed form do not matter).
pub(super) fn reproduces<T: Serialize>(typed: &T, printed: &Node) -> bool {
    typed.serialize(Same(Some(printed))).is_ok()
}

/// Not reproduced (or not something this comparer knows): take the slow path.
#[derive(Debug)]
pub(super) struct Differs;

impl std::fmt::Display for Differs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("differs")
    }
}

impl std::error::Error for Differs {}

impl ser::Error for Differs {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Differs
    }
}

/// Compares what is serialized with the printed value; `None` means the printed document has
/// nothing here (a key only the type adds), so anything goes.
struct Same<'a>(Option<&'a Node<'a>>);

fn check(ok: bool) -> Result<(), Differs> {
    if ok { Ok(()) } else { Err(Differs) }
}

impl Same<'_> {
    fn number(&self, exact: Option<bool>, as_f64: f64) -> Result<(), Differs> {
        match self.0 {
            None => Ok(()),
            Some(Node::Number(n)) => check(exact.unwrap_or(false) || n.as_f64() == Some(as_f64)),
            Some(_) => Err(Differs),
        }
    }

    fn signed(&self, v: i64) -> Result<(), Differs> {
        let exact = self.0.and_then(Node::as_i64).map(|e| e == v);
        self.number(exact, v as f64)
    }

    fn unsigned(&self, v: u64) -> Result<(), Differs> {
        let exact = self.0.and_then(Node::as_u64).map(|e| e == v);
        self.number(exact, v as f64)
    }
}

/// A sequence or map being compared: the printed items and how many were matched.
struct Items<'a> {
    printed: Option<ItemsOf<'a>>,
    matched: usize,
    /// For a map: the printed value of the key just serialized (`None`: not printed).
    key: Option<Option<&'a Node<'a>>>,
}

enum ItemsOf<'a> {
    Array(&'a [Node<'a>]),
    Object(&'a Map<'a>),
}

impl<'a> Items<'a> {
    fn array(printed: Option<&'a Node<'a>>) -> Result<Self, Differs> {
        let printed = match printed {
            None => None,
            Some(Node::Array(items)) => Some(ItemsOf::Array(items)),
            Some(_) => return Err(Differs),
        };
        Ok(Items {
            printed,
            matched: 0,
            key: None,
        })
    }

    fn object(printed: Option<&'a Node<'a>>) -> Result<Self, Differs> {
        let printed = match printed {
            None => None,
            Some(Node::Object(map)) => Some(ItemsOf::Object(map)),
            Some(_) => return Err(Differs),
        };
        Ok(Items {
            printed,
            matched: 0,
            key: None,
        })
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
        let printed = match &self.printed {
            None => None,
            Some(ItemsOf::Array(items)) => Some(items.get(self.matched).ok_or(Differs)?),
            Some(ItemsOf::Object(_)) => return Err(Differs),
        };
        self.matched += 1;
        value.serialize(Same(printed))
    }

    /// The printed value of `key`, when this is a printed map.
    fn printed_field(&self, key: &str) -> Result<Option<&'a Node<'a>>, Differs> {
        match &self.printed {
            None => Ok(None),
            Some(ItemsOf::Object(map)) => Ok(map.get(key)),
            Some(ItemsOf::Array(_)) => Err(Differs),
        }
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Differs> {
        let printed = self.printed_field(key)?;
        self.value(printed, value)
    }

    fn value<T: Serialize + ?Sized>(
        &mut self,
        printed: Option<&'a Node<'a>>,
        value: &T,
    ) -> Result<(), Differs> {
        if printed.is_some() {
            self.matched += 1;
        }
        value.serialize(Same(printed))
    }

    /// Every printed item was matched.
    fn end(self) -> Result<(), Differs> {
        match self.printed {
            None => Ok(()),
            Some(ItemsOf::Array(items)) => check(self.matched == items.len()),
            Some(ItemsOf::Object(map)) => check(self.matched == map.len()),
        }
    }
}

/// Integers of every width, compared as the widest of their sign.
macro_rules! integers {
    ($($method:ident($ty:ty) => $compare:ident),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<(), Differs> {
            self.$compare(v.into())
        })*
    };
}

impl<'a> ser::Serializer for Same<'a> {
    type Ok = ();
    type Error = Differs;
    type SerializeSeq = Items<'a>;
    type SerializeTuple = Items<'a>;
    type SerializeTupleStruct = Items<'a>;
    type SerializeTupleVariant = Impossible<(), Differs>;
    type SerializeMap = Items<'a>;
    type SerializeStruct = Items<'a>;
    type SerializeStructVariant = Impossible<(), Differs>;

    fn serialize_bool(self, v: bool) -> Result<(), Differs> {
        check(self.0.is_none_or(|p| p.as_bool() == Some(v)))
    }

    integers! {
        serialize_i8(i8) => signed, serialize_i16(i16) => signed, serialize_i32(i32) => signed,
        serialize_i64(i64) => signed, serialize_u8(u8) => unsigned, serialize_u16(u16) => unsigned,
        serialize_u32(u32) => unsigned, serialize_u64(u64) => unsigned,
    }

    fn serialize_f32(self, v: f32) -> Result<(), Differs> {
        self.number(None, v.into())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Differs> {
        self.number(None, v)
    }

    fn serialize_char(self, v: char) -> Result<(), Differs> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Differs> {
        check(self.0.is_none_or(|p| p.as_str() == Some(v)))
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Differs> {
        Err(Differs)
    }

    fn serialize_none(self) -> Result<(), Differs> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Differs> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Differs> {
        check(self.0.is_none_or(Node::is_null))
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Differs> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Differs> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Differs> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Differs> {
        Err(Differs)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Items<'a>, Differs> {
        Items::array(self.0)
    }

    fn serialize_tuple(self, _: usize) -> Result<Items<'a>, Differs> {
        Items::array(self.0)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Items<'a>, Differs> {
        Items::array(self.0)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Differs> {
        Err(Differs)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Items<'a>, Differs> {
        Items::object(self.0)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Items<'a>, Differs> {
        Items::object(self.0)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Differs> {
        Err(Differs)
    }
}

/// Sequences, tuples and tuple structs: items compared in order.
macro_rules! items_in_order {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for Items<'_> {
            type Ok = ();
            type Error = Differs;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
                self.item(value)
            }

            fn end(self) -> Result<(), Differs> {
                Items::end(self)
            }
        })*
    };
}

items_in_order!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl ser::SerializeMap for Items<'_> {
    type Ok = ();
    type Error = Differs;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Differs> {
        self.key = Some(key.serialize(KeyOf(self))?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Differs> {
        let printed = self.key.take().ok_or(Differs)?;
        self.value(printed, value)
    }

    fn end(self) -> Result<(), Differs> {
        Items::end(self)
    }
}

impl ser::SerializeStruct for Items<'_> {
    type Ok = ();
    type Error = Differs;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Differs> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Differs> {
        Items::end(self)
    }
}

/// A map key, looked up in the printed map as it is serialized (no copy of the key): only
/// strings are keys in what the templates print.
struct KeyOf<'i, 'a>(&'i Items<'a>);

/// What a key serializes to: the printed value under it, if any.
type Looked<'a> = Option<&'a Node<'a>>;

macro_rules! not_a_key {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Looked<'a>, Differs> {
            Err(Differs)
        })*
    };
}

impl<'a> ser::Serializer for KeyOf<'_, 'a> {
    type Ok = Looked<'a>;
    type Error = Differs;
    type SerializeSeq = Impossible<Looked<'a>, Differs>;
    type SerializeTuple = Impossible<Looked<'a>, Differs>;
    type SerializeTupleStruct = Impossible<Looked<'a>, Differs>;
    type SerializeTupleVariant = Impossible<Looked<'a>, Differs>;
    type SerializeMap = Impossible<Looked<'a>, Differs>;
    type SerializeStruct = Impossible<Looked<'a>, Differs>;
    type SerializeStructVariant = Impossible<Looked<'a>, Differs>;

    fn serialize_str(self, v: &str) -> Result<Looked<'a>, Differs> {
        self.0.printed_field(v)
    }

    not_a_key! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
        serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Looked<'a>, Differs> {
        Err(Differs)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Looked<'a>, Differs> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Looked<'a>, Differs> {
        Err(Differs)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Differs> {
        Err(Differs)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Differs> {
        Err(Differs)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Differs> {
        Err(Differs)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Differs> {
        Err(Differs)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Differs> {
        Err(Differs)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Differs> {
        Err(Differs)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Differs> {
        Err(Differs)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::readback::tree::with_tree;
    use serde_json::json;

    #[derive(Serialize)]
    struct Port {
        name: String,
        port: i32,
        #[serde(skip_serializing_if = "Option::is_none")]
        protocol: Option<String>,
        labels: BTreeMap<String, String>,
        extra: Vec<u8>,
    }

    fn port() -> Port {
        Port {
            name: "pg".into(),
            port: 5432,
            protocol: Some("TCP".into()),
            labels: BTreeMap::from([("a".into(), "b".into())]),
            extra: vec![1, 2],
        }
    }

    #[test]
    fn what_the_type_gives_back_is_the_same() {
        // Keys only the type has (`extra`, `protocol`) do not matter.
        let printed = json!({"name": "pg", "port": 5432, "labels": {"a": "b"}});
        assert!(with_tree(&printed, |t| reproduces(&port(), t)));
        let printed = json!({"name": "pg", "port": 5432.0, "labels": {"a": "b"}, "extra": [1, 2]});
        assert!(with_tree(&printed, |t| reproduces(&port(), t)));
    }

    #[test]
    fn a_dropped_or_changed_key_or_item_differs() {
        for printed in [
            json!({"name": "pg", "port": 5432, "labels": {"a": "b"}, "typo": 1}),
            json!({"name": "pg", "port": "5432", "labels": {"a": "b"}}),
            json!({"name": "pg", "port": 5433, "labels": {"a": "b"}}),
            json!({"name": "pg", "port": 5432, "labels": {"a": "b", "c": "d"}}),
            json!({"name": "pg", "port": 5432, "labels": {"a": "c"}}),
            json!({"name": "pg", "port": 5432, "labels": {"a": "b"}, "extra": [1]}),
            json!({"name": "pg", "port": 5432, "labels": {"a": "b"}, "extra": [1, 2, 3]}),
            json!({"name": "pg", "port": 5432, "labels": {"a": "b"}, "protocol": null}),
            json!({"name": "pg", "port": 5432, "labels": []}),
            json!(["pg"]),
        ] {
            assert!(
                !with_tree(&printed, |t| reproduces(&port(), t)),
                "{printed}"
            );
        }
    }
}

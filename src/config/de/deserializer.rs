//! `NodeDe`: serde's `Deserializer` over a [`Node`], so every error knows its node and key path.

use serde::de::{
    self, DeserializeSeed, EnumAccess, Expected, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::error::{DeError, Expecting, friendly};
use crate::config::node::{Kind, Node, Plain, resolve_plain};
use crate::error::Location;

pub(crate) struct NodeDe<'a> {
    pub(super) node: &'a Node,
    pub(super) path: String,
}

pub(super) fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

impl NodeDe<'_> {
    fn mismatch<T>(&self, exp: &dyn Expected) -> Result<T, DeError> {
        let wanted = friendly(&Expecting(exp));
        let mut e = DeError::shape(
            format!("expected {wanted}, found {}", self.node.describe()),
            &wanted,
        );
        e.help = Some(match wanted.as_str() {
            "a whole number" | "a number" => match &self.node.kind {
                Kind::Scalar { text, plain: false } if text.trim().parse::<f64>().is_ok() => {
                    format!("write the number without quotes: {}", text.trim())
                }
                _ if wanted == "a whole number" => {
                    "write a whole number in digits, e.g. 2".to_owned()
                }
                _ => "write a number in digits, e.g. 0.5".to_owned(),
            },
            "a boolean" => match self.node.as_str() {
                Some(
                    text @ ("yes" | "no" | "on" | "off" | "y" | "n" | "Yes" | "No" | "On" | "Off"),
                ) => {
                    format!("YAML 1.2 reads `{text}` as a string; write true or false")
                }
                _ => "write true or false".to_owned(),
            },
            "a map" => {
                "indent its keys under it, one per line (`key: value`), or write {key: value}"
                    .to_owned()
            }
            "a list" => "write one `- item` per line under it, or [a, b]".to_owned(),
            "a string" => {
                "write the text, quoted if it contains `: ` or starts with a special character"
                    .to_owned()
            }
            _ => format!("write {wanted} here"),
        });
        Err(e.at(self.node, &self.path))
    }

    fn plain(&self) -> Option<Plain> {
        match &self.node.kind {
            Kind::Scalar { text, plain: true } => Some(resolve_plain(text)),
            _ => None,
        }
    }

    fn integer<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some(Plain::Int(i)) => visitor
                .visit_i64(i)
                .map_err(|e: DeError| e.at(self.node, &self.path)),
            _ => self.mismatch(&visitor),
        }
    }
}

macro_rules! integers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.integer(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = self.node;
        let result = match &node.kind {
            Kind::Scalar { text, plain } => match (plain, resolve_plain(text)) {
                (false, _) | (true, Plain::Str) => visitor.visit_str(text),
                (true, Plain::Null) => visitor.visit_unit(),
                (true, Plain::Bool(b)) => visitor.visit_bool(b),
                (true, Plain::Int(i)) => visitor.visit_i64(i),
                (true, Plain::Float(f)) => visitor.visit_f64(f),
            },
            Kind::Seq(_) => return self.deserialize_seq(visitor),
            Kind::Map(_) => return self.deserialize_map(visitor),
        };
        result.map_err(|e: DeError| e.at(node, &self.path))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some(Plain::Bool(b)) => visitor
                .visit_bool(b)
                .map_err(|e: DeError| e.at(self.node, &self.path)),
            _ => self.mismatch(&visitor),
        }
    }

    integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
              deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain() {
            Some(Plain::Int(i)) => visitor.visit_i64(i),
            Some(Plain::Float(f)) => visitor.visit_f64(f),
            _ => return self.mismatch(&visitor),
        }
        .map_err(|e: DeError| e.at(self.node, &self.path))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    /// Any scalar reads as a string, exactly as written: `0755` stays "0755", `true` "true".
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Scalar { text, .. } if !self.node.is_null() => visitor
                .visit_str(text)
                .map_err(|e: DeError| e.at(self.node, &self.path)),
            _ => self.mismatch(&visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor
                .visit_none()
                .map_err(|e: DeError| e.at(self.node, &self.path))
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            visitor
                .visit_unit()
                .map_err(|e: DeError| e.at(self.node, &self.path))
        } else {
            self.mismatch(&visitor)
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Seq(items) => {
                let access = Seq {
                    items: items.iter().enumerate(),
                    path: &self.path,
                };
                visitor
                    .visit_seq(access)
                    .map_err(|e: DeError| e.at(self.node, &self.path))
            }
            _ => self.mismatch(&visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Map(entries) => {
                let access = Map {
                    entries: entries.iter(),
                    value: None,
                    path: &self.path,
                };
                visitor
                    .visit_map(access)
                    .map_err(|e: DeError| e.at(self.node, &self.path))
            }
            _ => self.mismatch(&visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.kind {
            Kind::Scalar { .. } if !self.node.is_null() => visitor
                .visit_enum(Enum {
                    key: self.node,
                    value: None,
                    path: &self.path,
                })
                .map_err(|e: DeError| e.at(self.node, &self.path)),
            Kind::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                visitor
                    .visit_enum(Enum {
                        key,
                        value: Some(value),
                        path: &self.path,
                    })
                    .map_err(|e: DeError| e.at(self.node, &self.path))
            }
            _ => {
                let mut e = DeError::new(format!(
                    "expected one of {}, found {}",
                    variants.join(", "),
                    self.node.describe()
                ));
                e.help = Some(match variants.first() {
                    Some(first) => format!("write one of them, e.g. `{first}`"),
                    None => "remove the key".to_owned(),
                });
                Err(e.at(self.node, &self.path))
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct Seq<'a, I> {
    items: I,
    path: &'a str,
}

impl<'de, 'a, I: Iterator<Item = (usize, &'a Node)>> SeqAccess<'de> for Seq<'a, I> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, node)) => seed
                .deserialize(NodeDe {
                    node,
                    path: format!("{}[{i}]", self.path),
                })
                .map(Some),
        }
    }
}

struct Map<'a, I> {
    entries: I,
    value: Option<(&'a Node, String, Location)>,
    path: &'a str,
}

impl<'de, 'a, I: Iterator<Item = &'a (Node, Node)>> MapAccess<'de> for Map<'a, I> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let path = child_path(self.path, key.as_str().unwrap_or("?"));
        let result = seed.deserialize(NodeDe {
            node: key,
            path: path.clone(),
        });
        self.value = Some((value, path, key.loc));
        result.map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some((node, path, key)) => seed
                .deserialize(NodeDe { node, path })
                .map_err(|e| e.reanchor(node, key)),
            None => Err(DeError::new(
                "a map value was read before its key".to_owned(),
            )),
        }
    }
}

struct Enum<'a> {
    key: &'a Node,
    value: Option<&'a Node>,
    path: &'a str,
}

impl<'de, 'a> EnumAccess<'de> for Enum<'a> {
    type Error = DeError;
    type Variant = Variant<'a>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Variant<'a>), DeError> {
        let path = self.path.to_owned();
        let tag = seed.deserialize(NodeDe {
            node: self.key,
            path: path.clone(),
        })?;
        Ok((
            tag,
            Variant {
                value: self.value,
                path,
            },
        ))
    }
}

struct Variant<'a> {
    value: Option<&'a Node>,
    path: String,
}

impl<'de> VariantAccess<'de> for Variant<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            None => Ok(()),
            Some(node) if node.is_null() => Ok(()),
            Some(node) => Err(DeError::new(format!(
                "expected a plain value, found {}",
                node.describe()
            ))
            .at(node, &self.path)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        match self.value {
            Some(node) => seed.deserialize(NodeDe {
                node,
                path: self.path,
            }),
            None => Err(DeError::new(
                "this value needs settings under it".to_owned(),
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_seq(
                NodeDe {
                    node,
                    path: self.path,
                },
                visitor,
            ),
            None => Err(DeError::new("this value needs a list under it".to_owned())),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_map(
                NodeDe {
                    node,
                    path: self.path,
                },
                visitor,
            ),
            None => Err(DeError::new("this value needs a map under it".to_owned())),
        }
    }
}

impl<'de> IntoDeserializer<'de, DeError> for NodeDe<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

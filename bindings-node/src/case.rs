//! Field names between the core (snake_case, as in its JSON files and the Python package) and
//! JavaScript (camelCase). Only the names of struct fields change: keys of maps are data
//! (attribute names, identifier kinds, column names) and cross unchanged both ways.
//!
//! Out: [`Camel`] wraps a value's `Serialize` so every struct is written as a map with its field
//! names in camelCase. In: [`Snake`] is a `Deserializer` over a `serde_json::Value` that gives a
//! struct the camelCase keys of the object renamed to the fields it asks for.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize, SerializeMap};
use serde_json::{Map, Value};

/// `touchpoint_id` → `touchpointId`.
pub(crate) fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `touchpointId` → `touchpoint_id`; a name without capitals is unchanged.
pub(crate) fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A value whose struct field names serialize in camelCase (see the module docs).
pub(crate) struct Camel<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: Serialize + ?Sized> Serialize for Camel<'_, T> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(CamelSerializer(serializer))
    }
}

/// The serializer behind [`Camel`]: forwards everything, wrapping nested values and writing
/// structs as maps with renamed keys.
struct CamelSerializer<S>(S);

/// A compound being written (sequence, tuple, map or struct), its values wrapped in [`Camel`].
struct Compound<C>(C);

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $method(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> { self.0.$method($($arg),*) })*
    };
}

impl<S: ser::Serializer> ser::Serializer for CamelSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<S::SerializeSeq>;
    type SerializeTuple = Compound<S::SerializeTuple>;
    type SerializeTupleStruct = Compound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<S::SerializeTupleVariant>;
    type SerializeMap = Compound<S::SerializeMap>;
    type SerializeStruct = Compound<S::SerializeMap>;
    type SerializeStructVariant = VariantStruct<S::SerializeMap>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Camel(value))
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Camel(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_variant(name, index, variant, &Camel(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Compound)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Compound)
    }

    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Compound)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0.serialize_tuple_variant(name, index, variant, len).map(Compound)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Compound)
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_map(Some(len)).map(Compound)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        // `{"variant": {fields}}`, as serde writes an externally tagged struct variant.
        let mut outer = self.0.serialize_map(Some(1))?;
        outer.serialize_key(variant)?;
        Ok(VariantStruct { outer, fields: Map::with_capacity(len), error: None })
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl<C: ser::$trait> ser::$trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                self.0.$method(&Camel(value))
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl<C: SerializeMap> SerializeMap for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.0.serialize_key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_value(&Camel(value))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: SerializeMap> ser::SerializeStruct for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), C::Error> {
        self.0.serialize_entry(&camel(key), &Camel(value))
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

/// A struct variant (rare in the core's output): its fields gathered as JSON, then written as
/// the one value of the outer map.
struct VariantStruct<C> {
    outer: C,
    fields: Map<String, Value>,
    error: Option<String>,
}

impl<C: SerializeMap> ser::SerializeStructVariant for VariantStruct<C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), C::Error> {
        match serde_json::to_value(Camel(value)) {
            Ok(value) => {
                self.fields.insert(camel(key), value);
            }
            Err(e) => self.error = Some(e.to_string()),
        }
        Ok(())
    }
    fn end(mut self) -> Result<C::Ok, C::Error> {
        if let Some(error) = self.error {
            return Err(ser::Error::custom(error));
        }
        self.outer.serialize_value(&Value::Object(self.fields))?;
        self.outer.end()
    }
}

/// A JSON value read into a core type with camelCase keys accepted for struct fields (see the
/// module docs). `serde_json::Error` is the error: it says what was expected where.
pub(crate) struct Snake(pub(crate) Value);

/// How the keys of one object are read.
#[derive(Clone, Copy)]
enum Keys {
    /// A map's keys: data, unchanged.
    AsIs,
    /// A struct's keys: renamed to the field they name in camelCase.
    Fields(&'static [&'static str]),
    /// An object read without a known shape (a tagged enum's buffered body): camelCase keys
    /// become snake_case.
    Snake,
}

impl Keys {
    fn rename(self, key: String) -> String {
        match self {
            Keys::AsIs => key,
            Keys::Fields(fields) => {
                if fields.contains(&key.as_str()) {
                    return key;
                }
                let renamed = snake(&key);
                if fields.contains(&renamed.as_str()) {
                    renamed
                } else {
                    key
                }
            }
            Keys::Snake => snake(&key),
        }
    }
}

/// The entries of an object, values read through [`Snake`].
struct Entries {
    entries: serde_json::map::IntoIter,
    keys: Keys,
    value: Option<Value>,
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some(value);
        let key: de::value::StringDeserializer<serde_json::Error> = self.keys.rename(key).into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        let value = self.value.take().ok_or_else(|| de::Error::custom("a value was asked for before its key"))?;
        seed.deserialize(Snake(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// The elements of an array, read through [`Snake`].
struct Elements(std::vec::IntoIter<Value>);

impl<'de> de::SeqAccess<'de> for Elements {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|v| seed.deserialize(Snake(v))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

impl Snake {
    fn object<'de, V: Visitor<'de>>(
        map: Map<String, Value>,
        keys: Keys,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        visitor.visit_map(Entries { entries: map.into_iter(), keys, value: None })
    }
}

impl<'de> de::Deserializer<'de> for Snake {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => Snake::object(map, Keys::Snake, visitor),
            Value::Array(items) => visitor.visit_seq(Elements(items.into_iter())),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Snake(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => Snake::object(map, Keys::AsIs, visitor),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => Snake::object(map, Keys::Fields(fields), visitor),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Elements(items.into_iter())),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) if map.len() == 1 => {
                let Some((variant, value)) = map.into_iter().next() else {
                    return Err(de::Error::custom("an enum object with one key"));
                };
                visitor.visit_enum(Variant { variant, value })
            }
            other => other.deserialize_enum(name, variants, visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct identifier ignored_any
    }
}

/// An externally tagged enum value `{"variant": value}`.
struct Variant {
    variant: String,
    value: Value,
}

impl<'de> de::EnumAccess<'de> for Variant {
    type Error = serde_json::Error;
    type Variant = Snake;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Snake), Self::Error> {
        let name: de::value::StringDeserializer<serde_json::Error> = self.variant.into_deserializer();
        Ok((seed.deserialize(name)?, Snake(self.value)))
    }
}

impl<'de> de::VariantAccess<'de> for Snake {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Self::Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Self::Error> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        first_seen: Option<i64>,
        by_kind: BTreeMap<String, u32>,
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(tag = "status", rename_all = "snake_case")]
    enum Tagged {
        Linked { link_weight: f64 },
        Refused,
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        profile_id: String,
        items: Vec<Inner>,
        steps: Vec<Tagged>,
    }

    fn sample() -> Outer {
        Outer {
            profile_id: "P1".into(),
            items: vec![Inner {
                first_seen: Some(3),
                by_kind: [("customer_id".into(), 2), ("loyaltyTier".into(), 1)].into(),
            }],
            steps: vec![Tagged::Linked { link_weight: 1.5 }, Tagged::Refused],
        }
    }

    #[test]
    fn names_change_case_but_map_keys_do_not() {
        assert_eq!(camel("touchpoint_id"), "touchpointId");
        assert_eq!(camel("a"), "a");
        assert_eq!(snake("touchpointId"), "touchpoint_id");
        assert_eq!(snake("email"), "email");
        let json = serde_json::to_value(Camel(&sample())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "profileId": "P1",
                "items": [{"firstSeen": 3, "byKind": {"customer_id": 2, "loyaltyTier": 1}}],
                "steps": [{"status": "linked", "linkWeight": 1.5}, {"status": "refused"}],
            })
        );
        let back: Outer = serde::Deserialize::deserialize(Snake(json)).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn snake_case_keys_are_read_too_and_unknown_keys_refused() {
        let json = serde_json::json!({"profile_id": "P1", "items": [], "steps": []});
        let read: Outer = serde::Deserialize::deserialize(Snake(json)).unwrap();
        assert_eq!(read.profile_id, "P1");
        let json = serde_json::json!({"profileId": "P1", "items": [], "steps": [], "extraThing": 1});
        let err = <Outer as serde::Deserialize>::deserialize(Snake(json)).unwrap_err();
        assert!(err.to_string().contains("extraThing"), "{err}");
    }
}

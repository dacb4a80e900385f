//! Serde helpers for the lists of 2017-07-05 answers.
//!
//! CCC's 2017 JSON keeps the XML nesting: every list sits one level deeper, in an
//! object whose one key is the element name (`{"SkillGroup":[..]}`), empty lists
//! included. The typed answers hold such a list as a `Vec`; [`list`] reads it wrapped
//! or not (the Java demo proxy sends the bare array), and [`wrap`] writes it back
//! wrapped, as CCC does.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// Reads a list: `[..]`, `{"Element": [..]}`, `{"Element": {..}}` (one item), `{}`
/// or `null` (empty).
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_any(ListVisitor(PhantomData))
}

/// Writes `items` as CCC does: `{"<element>": [..]}`.
pub fn wrap<S, T>(element: &'static str, items: &[T], serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: Serialize,
{
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(element, items)?;
    map.end()
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list, bare or wrapped in an object")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        // Bounded by the input: the size hint is never trusted beyond 1024.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(items)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::new();
        while let Some(_key) = map.next_key::<de::IgnoredAny>()? {
            let OneOrMany(more) = map.next_value()?;
            items.extend(more);
        }
        Ok(items)
    }
}

/// The value inside a wrapper: the array, or a single object.
struct OneOrMany<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Inner<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Inner<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array or one item")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                ListVisitor(PhantomData).visit_seq(seq).map(OneOrMany)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|one| OneOrMany(vec![one]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::new(v)).map(|one| OneOrMany(vec![one]))
            }
        }
        deserializer.deserialize_any(Inner(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Item {
        #[serde(rename = "N")]
        n: i64,
    }

    #[derive(Debug, PartialEq, Deserialize, Serialize)]
    struct Holder {
        #[serde(
            rename = "Items",
            default,
            deserialize_with = "super::list",
            serialize_with = "wrap_item"
        )]
        items: Vec<Item>,
    }

    fn wrap_item<S: serde::Serializer>(v: &[Item], s: S) -> Result<S::Ok, S::Error> {
        super::wrap("Item", v, s)
    }

    fn read(json: &str) -> Result<Vec<i64>, serde_json::Error> {
        serde_json::from_str::<Holder>(json).map(|h| h.items.iter().map(|i| i.n).collect())
    }

    #[test]
    fn every_list_shape() {
        assert_eq!(
            read(r#"{"Items":{"Item":[{"N":1},{"N":2}]}}"#).unwrap(),
            [1, 2]
        );
        assert_eq!(read(r#"{"Items":[{"N":1}]}"#).unwrap(), [1]);
        assert_eq!(read(r#"{"Items":{"Item":{"N":3}}}"#).unwrap(), [3]);
        assert_eq!(read(r#"{"Items":{"Item":[]}}"#).unwrap(), Vec::<i64>::new());
        assert_eq!(read(r#"{"Items":{}}"#).unwrap(), Vec::<i64>::new());
        assert_eq!(read(r#"{"Items":null}"#).unwrap(), Vec::<i64>::new());
        assert_eq!(read(r#"{}"#).unwrap(), Vec::<i64>::new());
        assert_eq!(
            read(r#"{"Items":{"Item":null}}"#).unwrap(),
            Vec::<i64>::new()
        );
        assert!(read(r#"{"Items":7}"#).is_err());
        assert!(read(r#"{"Items":{"Item":[{"N":"x"}]}}"#).is_err());
        let back = serde_json::to_string(&Holder { items: vec![] }).unwrap();
        assert_eq!(back, r#"{"Items":{"Item":[]}}"#);
        let value: serde_json::Value = serde_json::json!({"Items": {"Item": [{"N": 1}]}});
        let h = Holder::deserialize(&value).unwrap();
        assert_eq!(serde_json::to_value(&h).unwrap(), value);
    }

    #[test]
    fn lists_of_strings() {
        #[derive(Deserialize)]
        struct S {
            #[serde(default, deserialize_with = "super::list")]
            n: Vec<String>,
        }
        let s: S = serde_json::from_str(r#"{"n":{"Number":["a","b"]}}"#).unwrap();
        assert_eq!(s.n, ["a", "b"]);
        let s: S = serde_json::from_str(r#"{"n":{"Number":"one"}}"#).unwrap();
        assert_eq!(s.n, ["one"]);
    }
}

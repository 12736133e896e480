//! Answers' JSON text to `serde_json::Value`: the same tree `serde_json::from_str` makes,
//! with each object's map made at its final size. serde_json's own parser grows every map
//! entry by entry (a map and its index reallocated and rehashed as it grows): on a list of
//! a thousand entities that was the largest part of the client's time. Here an object's
//! entries are gathered on one scratch stack shared by the whole document, then moved into
//! a map allocated once.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `text` as `serde_json::from_str::<Value>` does (same values, same key order,
/// a repeated key keeps its first place and its last value; same errors).
pub fn parse(text: &str) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut scratch = Vec::new();
    let v = Tree(&mut scratch).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// The visits of a scalar (and `expecting`), the same for every visitor here.
macro_rules! scalar_visits {
    () => {
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any valid JSON value")
        }
        fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
            Ok(Value::Bool(b))
        }
        fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
            Ok(Value::Number(n.into()))
        }
        fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
            Ok(Value::Number(n.into()))
        }
        fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
            Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, s: &str) -> Result<Value, E> {
            Ok(Value::String(s.to_owned()))
        }
        fn visit_string<E>(self, s: String) -> Result<Value, E> {
            Ok(Value::String(s))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
    };
}

/// Makes one value; the entries of the objects being made wait on the scratch stack.
struct Tree<'s>(&'s mut Vec<(String, Value)>);

impl<'de> DeserializeSeed<'de> for Tree<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Tree<'_> {
    type Value = Value;

    scalar_visits!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Tree(&mut *self.0))? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let base = self.0.len();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(Tree(&mut *self.0))?;
            self.0.push((k, v));
        }
        let m: Map<String, Value> = self.0.drain(base..).collect();
        Ok(Value::Object(m))
    }
}

/// Parses list page `text` as [`parse`] does, but keeps of each item of its `data` array
/// only what a list shows: the item's members other than `links`, and of its `attributes`
/// those named in `attrs`. What is left out is read past without being made: on a page of
/// a hundred devices most of the text is attributes a list does not show.
pub fn parse_list(text: &str, attrs: &[&str]) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut scratch = Vec::new();
    let v = Part {
        scratch: &mut scratch,
        at: At::Page(attrs),
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Where in a list page a value is.
#[derive(Clone, Copy)]
enum At<'a> {
    /// The document.
    Page(&'a [&'a str]),
    /// Its `data` array.
    Items(&'a [&'a str]),
    /// One of its items.
    Item(&'a [&'a str]),
    /// An item's `attributes`.
    Attrs(&'a [&'a str]),
}

impl<'a> At<'a> {
    /// Where the value of member `key` of an object here is; `None` to leave it out.
    fn member(self, key: &str) -> Option<Option<At<'a>>> {
        match self {
            At::Page(a) if key == "data" => Some(Some(At::Items(a))),
            At::Item(_) if key == "links" => None,
            At::Item(a) if key == "attributes" => Some(Some(At::Attrs(a))),
            At::Attrs(a) if !a.contains(&key) => None,
            _ => Some(None),
        }
    }
}

/// One value of a list page: a [`Tree`] where nothing is left out, else made part by part.
struct Part<'s, 'a> {
    scratch: &'s mut Vec<(String, Value)>,
    at: At<'a>,
}

impl<'de> DeserializeSeed<'de> for Part<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A member name, borrowed from the text when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(s))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Visitor<'de> for Part<'_, '_> {
    type Value = Value;

    scalar_visits!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let At::Items(attrs) = self.at else {
            return Tree(self.scratch).visit_seq(seq);
        };
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Part {
            scratch: &mut *self.scratch,
            at: At::Item(attrs),
        })? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if let At::Items(_) = self.at {
            return Tree(self.scratch).visit_map(map);
        }
        let base = self.scratch.len();
        while let Some(k) = map.next_key::<Key>()? {
            let k = match k {
                Key::Borrowed(k) => std::borrow::Cow::Borrowed(k),
                Key::Owned(k) => std::borrow::Cow::Owned(k),
            };
            match self.at.member(&k) {
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
                Some(None) => {
                    let v = map.next_value_seed(Tree(&mut *self.scratch))?;
                    self.scratch.push((k.into_owned(), v));
                }
                Some(Some(at)) => {
                    let v = map.next_value_seed(Part {
                        scratch: &mut *self.scratch,
                        at,
                    })?;
                    self.scratch.push((k.into_owned(), v));
                }
            }
        }
        let m: Map<String, Value> = self.scratch.drain(base..).collect();
        Ok(Value::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_tree_as_serde_json() {
        let texts = [
            r#"{"data":[{"type":"device","id":"a","attributes":{"name":null,"n":-3,"f":1.5,
               "big":18446744073709551615,"t":true,"s":"\u00e9\n\"x\"","e":[],"o":{}}},
               {"id":"b","relationships":{"owner":{"type":"account","id":"me"}}}],
               "links":{"self":"s","next":"n"}}"#,
            r#"{"b":1,"a":{"z":[1,{"y":2,"x":[{"w":{}}]}],"c":3},"b":2,"d":1e300}"#,
            "[]",
            " \"text\" ",
            "12",
            "null",
        ];
        for t in texts {
            let ours = parse(t).unwrap();
            let theirs: Value = serde_json::from_str(t).unwrap();
            assert_eq!(ours, theirs, "{t}");
            assert_eq!(ours.to_string(), theirs.to_string(), "{t}");
        }
        let dup = parse(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        assert_eq!(dup.to_string(), r#"{"b":3,"a":2}"#);
    }

    #[test]
    fn the_same_errors_as_serde_json() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for t in [
            "",
            "{",
            "1e400",
            "[1,]",
            r#"{"a":1}x"#,
            "nul",
            deep.as_str(),
        ] {
            let ours = parse(t).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Value>(t).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{t}");
        }
    }

    #[test]
    fn a_list_page_keeps_only_what_a_list_shows() {
        let text = r#"{"data":[{"type":"device","id":"a","links":{"self":"s"},
            "attributes":{"name":"x","swversion":"long text","mac_address":null,"n":[1,{"k":2}],
            "na\u006de":"escaped key"},"relationships":{"owner":{"type":"account","id":"me"}}},
            {"id":"b","attributes":null}, 3, "text"],
            "links":{"self":"s","next":"n","last":"l"},"meta":{"a":[{"b":1}]}}"#;
        let page = parse_list(text, &["name", "mac_address", "missing"]).unwrap();
        let mut all = parse(text).unwrap();
        // What is kept is what `parse` makes; only the item links and other attributes go.
        let first = all["data"][0].as_object_mut().unwrap();
        first.shift_remove("links");
        let attrs = first["attributes"].as_object_mut().unwrap();
        attrs.retain(|k, _| k == "name" || k == "mac_address");
        assert_eq!(page, all);
        assert_eq!(page.to_string(), all.to_string());
        assert_eq!(page["data"][0]["attributes"]["name"], "escaped key");
        // Not a list page: the same as `parse`.
        for t in [
            r#"{"data":{"id":"a","links":{"self":"s"}}}"#,
            "[1,2]",
            r#"{"data":null}"#,
        ] {
            assert_eq!(parse_list(t, &[]).unwrap(), parse(t).unwrap(), "{t}");
        }
    }

    #[test]
    fn a_bad_list_page_fails_as_parse_does() {
        for t in [
            "",
            r#"{"data":[{"attributes":{"skipped":tru}}]}"#,
            r#"{"data":[{"links":{"self":"s"]}}]}"#,
            r#"{"data":[]}x"#,
        ] {
            assert!(parse_list(t, &["name"]).is_err(), "{t}");
            assert!(parse(t).is_err(), "{t}");
        }
    }
}

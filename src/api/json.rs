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
}

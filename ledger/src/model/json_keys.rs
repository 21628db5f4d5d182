//! SPEC.md §1: a JSON object MUST NOT repeat a key. A general JSON parser keeps the last of
//! two equal keys, so a body `{"brand":"A",…,"brand":"B"}` would be read, logged and signed as
//! if only `"B"` were there. [`repeated_key`] finds the first repeated key and its path, so that
//! the record is refused for what it is, naming the field.
//!
//! Canonical text (RFC 8785, what [`crate::canonical::is_jcs`] accepts) never repeats a key:
//! its keys are strictly increasing. Only text in any other form is scanned, once, before it
//! is parsed.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a JSON path.
enum Step {
    Key(String),
    Index(usize),
}

/// The path of the first repeated key in the JSON text `text`, as the ledger names fields
/// (`delivery.creative.brand`, `targeting.criteria[0].id`), looking `levels` levels of nesting
/// deep (the top object's own keys are level 1). `None` when no key is repeated there, or when
/// `text` is not JSON (the caller's parse then says what is wrong with it).
pub fn repeated_key(text: &str, levels: usize) -> Option<String> {
    let mut path = Vec::new();
    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = Scan { path: &mut path, found: &mut found, levels }.deserialize(&mut de);
    found
}

/// A path as the ledger's field names write it.
fn spell(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Walks one value; records the path of the first repeated key and stops there.
struct Scan<'p> {
    path: &'p mut Vec<Step>,
    found: &'p mut Option<String>,
    /// Levels of objects and arrays still to look into.
    levels: usize,
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.contains(&key) {
                self.path.push(Step::Key(key));
                *self.found = Some(spell(self.path));
                return Err(A::Error::custom("a repeated key"));
            }
            if self.levels > 1 {
                self.path.push(Step::Key(key.clone()));
                map.next_value_seed(Scan { path: self.path, found: self.found, levels: self.levels - 1 })?;
                self.path.pop();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            keys.insert(key);
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            let more = if self.levels > 1 {
                self.path.push(Step::Index(i));
                let more = seq.next_element_seed(Scan { path: self.path, found: self.found, levels: self.levels - 1 })?;
                self.path.pop();
                more
            } else {
                seq.next_element::<IgnoredAny>()?.map(|_| ())
            };
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::repeated_key;

    #[test]
    fn the_first_repeated_key_is_named_by_its_path() {
        let deep = usize::MAX;
        assert_eq!(repeated_key(r#"{"a":1,"b":2,"a":3}"#, deep).as_deref(), Some("a"));
        assert_eq!(repeated_key(r#"{"d":{"c":{"brand":"A","x":1,"brand":"B"}}}"#, deep).as_deref(), Some("d.c.brand"));
        assert_eq!(repeated_key(r#"{"t":{"criteria":[{"id":"c1"},{"id":"c2","id":"c3"}]}}"#, deep).as_deref(), Some("t.criteria[1].id"));
        // The same key written with an escape is the same key.
        assert_eq!(repeated_key(r#"{"ab":1,"\u0061b":2}"#, deep).as_deref(), Some("ab"));
        // Equal keys in different objects are not repeated.
        assert_eq!(repeated_key(r#"{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}]}"#, deep), None);
        // Not JSON: left to the caller's parse.
        assert_eq!(repeated_key(r#"{"a":1,"b""#, deep), None);
    }

    #[test]
    fn it_looks_only_as_deep_as_asked() {
        let batch = r#"{"records":[{"body":{"k":1,"k":2},"sig":"x"}]}"#;
        assert_eq!(repeated_key(batch, 3), None);
        assert_eq!(repeated_key(batch, 4).as_deref(), Some("records[0].body.k"));
        let envelope = r#"{"records":[{"body":{},"sig":"x","sig":"y"}]}"#;
        assert_eq!(repeated_key(envelope, 3).as_deref(), Some("records[0].sig"));
    }
}

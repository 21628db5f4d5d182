//! Disclosable fields (SPEC.md §1): a field that holds its value or the explicit string
//! `"not_disclosed"`, never silence.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};

/// The literal that stands for a field the submitter chose not to disclose.
pub const NOT_DISCLOSED: &str = "not_disclosed";

/// A field that may be `null` but never left out (SPEC.md §1: nothing is silent). Derived
/// decoders read a missing `Option` as `None`, which would log an omitted `sponsor.political`
/// as "not political"; a field decoded through a function is required instead.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// A disclosable field: its value, or the explicit string `"not_disclosed"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Disclosed<T> {
    /// The value.
    Value(T),
    #[serde(serialize_with = "ser_not_disclosed")]
    /// `"not_disclosed"`: the submitter chose not to say.
    NotDisclosed,
}

fn ser_not_disclosed<S: serde::Serializer>(s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(NOT_DISCLOSED)
}

/// Decodes `"not_disclosed"` or a `T`, handing whatever the input holds
/// straight to `T` (no intermediate `serde_json::Value`: records have dozens of
/// these fields, and records are decoded on every append and every page).
impl<'de, T: DeserializeOwned> Deserialize<'de> for Disclosed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        use serde::de::{IntoDeserializer, MapAccess, SeqAccess, Visitor};

        struct V<T>(std::marker::PhantomData<T>);
        type R<T, E> = std::result::Result<Disclosed<T>, E>;

        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = Disclosed<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value or \"not_disclosed\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> R<T, E> {
                if v == NOT_DISCLOSED {
                    return Ok(Disclosed::NotDisclosed);
                }
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> R<T, E> {
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> R<T, E> {
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> R<T, E> {
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> R<T, E> {
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_unit<E: serde::de::Error>(self) -> R<T, E> {
                T::deserialize(().into_deserializer()).map(Disclosed::Value)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> R<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Disclosed::Value)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> R<T, A::Error> {
                T::deserialize(SeqAccessDeserializer::new(seq)).map(Disclosed::Value)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T> Disclosed<T> {
    /// The value, if disclosed.
    pub fn value(&self) -> Option<&T> {
        match self {
            Disclosed::Value(v) => Some(v),
            Disclosed::NotDisclosed => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde::Deserialize;
    use serde_json::Value;

    use super::*;
    use crate::model::record::{Amount, LegalBasis, ModelRef, SpecialCategory};

    /// What `Disclosed<T>` decoded to through a `serde_json::Value` (its former implementation).
    fn via_value<T: DeserializeOwned>(json: &str) -> Option<Disclosed<T>> {
        let v: Value = serde_json::from_str(json).ok()?;
        if v.as_str() == Some(NOT_DISCLOSED) {
            return Some(Disclosed::NotDisclosed);
        }
        T::deserialize(v).ok().map(Disclosed::Value)
    }

    fn same<T: DeserializeOwned + PartialEq + std::fmt::Debug>(json: &str) {
        let from_str = serde_json::from_str::<Disclosed<T>>(json).ok();
        let from_value = serde_json::from_str::<Value>(json).ok().and_then(|v| Disclosed::<T>::deserialize(&v).ok());
        let want = via_value::<T>(json);
        assert_eq!(from_str, want, "from text: {json}");
        assert_eq!(from_value, want, "from a Value: {json}");
    }

    #[test]
    fn disclosed_decodes_every_kind_of_value_directly_as_through_a_value() {
        let inputs = [
            r#""not_disclosed""#,
            r#""NOT_DISCLOSED""#,
            r#""consent""#,
            r#""text with \"escapes\" and é""#,
            "42",
            "-1",
            "4.5",
            "true",
            "null",
            "[]",
            r#"["a"]"#,
            r#"{"value":"12.00","currency":"EUR"}"#,
            r#"{"value":"12.00","currency":"EUR","extra":1}"#,
            r#"{"name":"ocean-v2","version":"2.1"}"#,
            "{}",
        ];
        for json in inputs {
            same::<String>(json);
            same::<u32>(json);
            same::<Amount>(json);
            same::<ModelRef>(json);
            same::<LegalBasis>(json);
            same::<SpecialCategory>(json);
        }
        assert_eq!(serde_json::from_str::<Disclosed<u32>>("30").unwrap(), Disclosed::Value(30));
        assert_eq!(serde_json::from_str::<Disclosed<LegalBasis>>(r#""not_disclosed""#).unwrap(), Disclosed::NotDisclosed);
    }
}

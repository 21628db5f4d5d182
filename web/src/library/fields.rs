//! The fields of a logged entry that the library index reads, decoded in one pass straight
//! from the entry's bytes: strings borrowed where they hold no escape, every other field
//! skipped without being built. Decoding a whole entry into a `serde_json::Value` first cost
//! most of the server's start-up on a large log and ran on the ledger's commit thread for
//! every new entry (BENCHMARKS.md).
//!
//! Reading is as forgiving as looking into a `Value`: a field that is missing or of another
//! type reads as `""`, `false`, an empty list or absent, so one odd field never hides an
//! entry (a test feeds every field the wrong type).

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A logged entry, as the index sees it. Each struct here borrows from the entry's bytes: the
/// bound `'de: 'a` lets every field hand out borrowed strings (in place of `#[serde(borrow)]` on
/// each field).
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
pub(super) struct Entry<'a> {
    pub body: Body<'a>,
    #[serde(default)]
    pub flags: List<Text<'a>>,
}

/// The body fields of the record kinds the index reads (party, submitter, message, tally).
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Body<'a> {
    pub kind: Text<'a>,
    pub signer: Text<'a>,
    pub name: Text<'a>,
    pub party: Text<'a>,
    pub submitter: Text<'a>,
    pub delivery: Obj<Delivery<'a>>,
    pub sponsor: Obj<Sponsor<'a>>,
    pub targeting: Obj<Targeting<'a>>,
    pub lineage: List<Obj<Source<'a>>>,
    /// A tally's fields (SPEC.md §3.8).
    pub campaign_id: Text<'a>,
    pub day: Text<'a>,
    pub delivered: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Delivery<'a> {
    pub channel: Text<'a>,
    pub served_at: Text<'a>,
    pub member_state: Text<'a>,
    pub creative: Obj<Creative<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Creative<'a> {
    pub campaign_id: Text<'a>,
    pub language: Text<'a>,
    pub brand: Text<'a>,
    pub subject: Text<'a>,
    pub creative_id: Text<'a>,
    pub ad_id: Text<'a>,
    pub sha256: Text<'a>,
    /// `public` or `audience_only` (revision 3).
    pub visibility: Text<'a>,
    pub content: Obj<Content<'a>>,
}

/// A creative's content (revision 3): its text and assets.
#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Content<'a> {
    pub text: Text<'a>,
    pub assets: List<Obj<Asset<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Asset<'a> {
    pub sha256: Text<'a>,
    pub url: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Sponsor<'a> {
    pub on_behalf_of: Text<'a>,
    pub payer: Text<'a>,
    /// The political label exactly as logged (canonical JSON, so equal labels have equal text).
    pub political: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Targeting<'a> {
    pub criteria: List<Obj<Criterion<'a>>>,
    pub delivery_optimisation: Obj<Optimisation<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Criterion<'a> {
    pub effect: Text<'a>,
    #[serde(rename = "type")]
    pub kind: Text<'a>,
    pub description: Text<'a>,
    pub special_category: Text<'a>,
    pub minor: Flag,
    pub ai_selected: Flag,
    /// Revision 3: the Art. 9(2) condition, match keys and a lookalike's seed audience.
    pub art9_condition: Text<'a>,
    pub match_keys: List<Text<'a>>,
    pub seed_audience: Obj<Seed<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Seed<'a> {
    pub description: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Optimisation<'a> {
    pub ai_system: Flag,
    pub goal: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Source<'a> {
    pub kind: Text<'a>,
    pub provider: Text<'a>,
    /// Revision 3's data-label fields (IAB Data Transparency Standard).
    pub precision: Text<'a>,
    pub id_types: List<Text<'a>>,
    pub onboarder: Obj<Onboarder<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(super) struct Onboarder<'a> {
    pub name: Text<'a>,
}

impl Entry<'_> {
    /// Decode the index's fields of a logged entry (bytes read through the ledger).
    pub fn parse(bytes: &[u8]) -> Option<Entry<'_>> {
        // UTF-8 checked once, not again for every string by the decoder.
        serde_json::from_str(std::str::from_utf8(bytes).ok()?).ok()
    }
}

/// A JSON string, or `None` for any other value (which is skipped).
#[derive(Default, Debug, PartialEq, Eq)]
pub(super) struct Text<'a>(pub Option<Cow<'a, str>>);

impl Text<'_> {
    /// The string, or `""` when the value was not a string.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
}

/// `true` only for the JSON value `true`.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Flag(pub bool);

/// A JSON object decoded as `T`, or `None` for any other value (which is skipped).
pub(super) struct Obj<T>(pub Option<T>);

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

/// The items of a JSON array that decode as `T`; any other value is an empty list.
pub(super) struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

/// The visitor methods that skip every JSON value a type does not want and give its default:
/// `expecting`, `visit_unit`, the listed scalar methods and the listed compound kinds.
macro_rules! skip_others {
    ($de:lifetime; $($m:ident: $t:ty),*; $($compound:ident),*) => {
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        $(fn $m<E: serde::de::Error>(self, _: $t) -> Result<Self::Value, E> {
            Ok(Default::default())
        })*
        $(skip_others!(@$compound $de);)*
    };
    (@seq $de:lifetime) => {
        fn visit_seq<A: SeqAccess<$de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
    };
    (@map $de:lifetime) => {
        fn visit_map<A: MapAccess<$de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
    };
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Borrowed(s))))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(s.to_owned()))))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Text(Some(Cow::Owned(s))))
            }
            skip_others!('de; visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64; seq, map);
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Flag;
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Flag(b))
            }
            skip_others!('de; visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str; seq, map);
        }
        d.deserialize_any(V)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = List<T>;
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0).min(64));
                while let Some(item) = a.next_element()? {
                    out.push(item);
                }
                Ok(List(out))
            }
            skip_others!('de; visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str; map);
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(a)).map(|t| Obj(Some(t)))
            }
            skip_others!('de; visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str; seq);
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bytes(v: serde_json::Value) -> Vec<u8> {
        serde_jcs::to_vec(&v).expect("canonical JSON")
    }

    #[test]
    fn reads_the_fields_of_a_message() {
        let b = bytes(json!({"v": 1, "index": 9, "flags": ["objected:3"], "sig": "x", "body": {
            "kind": "message", "signer": "acme", "message_id": "m1",
            "delivery": {"channel": "email", "served_at": "2026-11-20T18:04:05Z", "member_state": "DE",
                "creative": {"campaign_id": "c", "language": "de", "brand": "Say \"hi\"", "subject": "s",
                    "creative_id": "cr", "ad_id": "ad", "sha256": "ab"}, "email_headers": null},
            "sponsor": {"on_behalf_of": "p1", "payer": "p2", "political": {"kind": "election", "linked_to": "X"}},
            "targeting": {"criteria": [{"effect": "include", "type": "modelled", "description": "d",
                "special_category": null, "minor": true, "ai_selected": false, "lineage": ["s1"]}],
                "delivery_optimisation": {"ai_system": true, "goal": "not_disclosed"}},
            "lineage": [{"id": "s1", "kind": "broker", "provider": "B", "derived_from": []}]}}));
        let e = Entry::parse(&b).expect("parses");
        assert_eq!(e.flags.0.iter().map(Text::as_str).collect::<Vec<_>>(), ["objected:3"]);
        assert_eq!((e.body.kind.as_str(), e.body.signer.as_str()), ("message", "acme"));
        let d = e.body.delivery.0.as_ref().expect("delivery");
        assert_eq!((d.channel.as_str(), d.member_state.as_str()), ("email", "DE"));
        let c = d.creative.0.as_ref().expect("creative");
        // An escaped string is decoded (owned); a plain one is borrowed from the bytes.
        assert_eq!(c.brand.as_str(), "Say \"hi\"");
        assert!(matches!(c.brand.0, Some(Cow::Owned(_))));
        assert!(matches!(c.subject.0, Some(Cow::Borrowed("s"))));
        let s = e.body.sponsor.0.as_ref().expect("sponsor");
        assert_eq!(s.political.map(RawValue::get), Some(r#"{"kind":"election","linked_to":"X"}"#));
        let t = e.body.targeting.0.as_ref().expect("targeting");
        let cr = t.criteria.0[0].0.as_ref().expect("criterion");
        assert_eq!((cr.effect.as_str(), cr.kind.as_str(), cr.description.as_str()), ("include", "modelled", "d"));
        assert_eq!((cr.special_category.0.as_deref(), cr.minor, cr.ai_selected), (None, Flag(true), Flag(false)));
        let o = t.delivery_optimisation.0.as_ref().expect("optimisation");
        assert_eq!((o.ai_system, o.goal.as_str()), (Flag(true), "not_disclosed"));
        let l = e.body.lineage.0[0].0.as_ref().expect("source");
        assert_eq!((l.kind.as_str(), l.provider.as_str()), ("broker", "B"));
    }

    #[test]
    fn a_field_of_another_type_reads_as_blank_and_keeps_the_entry() {
        let odd = [json!(null), json!(true), json!(7), json!(-1.5), json!("s"), json!([1, {"a": [2]}]), json!({"b": {"c": 3}})];
        for v in odd {
            let b = bytes(json!({"flags": v, "body": {
                "kind": v, "signer": v, "name": v, "party": v, "submitter": v, "lineage": [v, v],
                "delivery": {"channel": v, "served_at": v, "member_state": v, "creative": v},
                "sponsor": {"on_behalf_of": v, "payer": v, "political": v},
                "targeting": {"criteria": [v, {"effect": v, "type": v, "description": v, "special_category": v,
                    "minor": v, "ai_selected": v}], "delivery_optimisation": {"ai_system": v, "goal": v}}}}));
            let e = Entry::parse(&b).unwrap_or_else(|| panic!("an entry with {v} everywhere still parses"));
            let is_str = v.is_string();
            assert_eq!(e.body.kind.0.is_some(), is_str, "{v}");
            assert_eq!(e.flags.0.len(), usize::from(v.is_array()) * 2, "{v}");
            let t = e.body.targeting.0.as_ref().expect("targeting is an object");
            assert_eq!(t.criteria.0.len(), 2, "{v}");
            let cr = t.criteria.0[1].0.as_ref().expect("the second criterion is an object");
            assert_eq!(cr.minor, Flag(v == json!(true)), "{v}");
            assert_eq!(cr.effect.0.is_some(), is_str, "{v}");
            assert_eq!(t.criteria.0[0].0.is_some(), v.is_object(), "{v}");
            let d = e.body.delivery.0.as_ref().expect("delivery is an object");
            assert_eq!(d.creative.0.is_some(), v.is_object(), "{v}");
        }
        assert!(Entry::parse(b"{\"body\": 1").is_none(), "broken JSON is not an entry");
    }
}

//! The audience of a message and one recipient's place in it (SPEC.md §3.4 `targeting.audience`
//! and §7 `evaluation`, revision 3).
//!
//! The **audience** is a boolean expression over the record's criterion ids, as ad servers
//! already write it: `all_of`, `any_of` and `none_of` groups, nested at most [`MAX_DEPTH`]
//! deep. An include criterion stands where it lets people in (under an even number of
//! `none_of`), an exclude criterion where it keeps them out (under an odd number).
//!
//! The **evaluation**, in the personal part, says for each criterion whether it held for this
//! recipient: `matched`, `not_matched`, or `not_evaluated` (a contextual criterion concerns the
//! page or programme, not the person, and is always `not_evaluated`). It is read with three
//! values: a contextual criterion held as the advertiser asked (the message was placed there), and
//! any other criterion not evaluated is unknown. The ledger refuses a record whose own evaluation
//! does not show that the audience held for the person, naming the criterion that decided it,
//! and a page then says only what the evaluation proves: both are in
//! [`selection`](crate::selection).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// How deep groups may nest (the top group is depth 1).
pub const MAX_DEPTH: usize = 4;
/// How many members a group may hold.
pub const MAX_MEMBERS: usize = 64;

/// A boolean expression over criterion ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// A criterion of the record, by its id.
    Criterion(String),
    /// Every member holds.
    AllOf(Vec<Audience>),
    /// At least one member holds.
    AnyOf(Vec<Audience>),
    /// No member holds.
    NoneOf(Vec<Audience>),
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (op, members) = match self {
            Audience::Criterion(id) => return s.serialize_str(id),
            Audience::AllOf(m) => ("all_of", m),
            Audience::AnyOf(m) => ("any_of", m),
            Audience::NoneOf(m) => ("none_of", m),
        };
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(op, members)?;
        map.end()
    }
}

/// A criterion id (a JSON string) or a group (an object with exactly one operator).
impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a criterion id, or an object with one of all_of, any_of, none_of holding a list")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience::Criterion(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Audience, A::Error> {
                let Some(op) = map.next_key::<String>()? else {
                    return Err(de::Error::custom("is an empty object; a group holds one of all_of, any_of, none_of"));
                };
                let members: Vec<Audience> = match op.as_str() {
                    "all_of" | "any_of" | "none_of" => map.next_value()?,
                    other => {
                        return Err(de::Error::custom(format!(
                            "`{other}` is not a group operator; expected one of all_of, any_of, none_of"
                        )))
                    }
                };
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom(
                        "a group holds exactly one operator (all_of, any_of or none_of); nest groups to combine them",
                    ));
                }
                Ok(match op.as_str() {
                    "all_of" => Audience::AllOf(members),
                    "any_of" => Audience::AnyOf(members),
                    _ => Audience::NoneOf(members),
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Audience, A::Error> {
                Err(de::Error::custom("is a list; write a group such as {\"all_of\": [\"c1\", \"c2\"]}"))
            }
        }
        d.deserialize_any(V)
    }
}

/// What the evaluation says about one criterion for one recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The criterion held for the person.
    Matched,
    /// It was checked and did not hold.
    NotMatched,
    /// It was not checked for the person (a contextual criterion never is).
    NotEvaluated,
}

/// One criterion's result for the recipient, and the personal value it used, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    /// Whether it held.
    pub result: Outcome,
    /// The value about the person the result rests on (`null` where there is none; always
    /// `null` for `not_evaluated`).
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub value: Option<String>,
}

impl Evaluation {
    /// `matched`, with the value used.
    pub fn matched(value: &str) -> Evaluation {
        Evaluation { result: Outcome::Matched, value: Some(value.to_string()) }
    }
    /// `not_matched`, with the value checked if there is one.
    pub fn not_matched(value: Option<&str>) -> Evaluation {
        Evaluation { result: Outcome::NotMatched, value: value.map(str::to_string) }
    }
    /// `not_evaluated`.
    pub fn not_evaluated() -> Evaluation {
        Evaluation { result: Outcome::NotEvaluated, value: None }
    }
}

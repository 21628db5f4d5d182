//! What a recipient's evaluation proves about the audience of their message (SPEC.md §3.4
//! `targeting.audience`, §7 `evaluation`, revision 3): the rules an audience must keep against
//! its record's criteria, the three-valued reading of an evaluation, the check that it proves
//! the person was selected (or the criterion that decides otherwise), and the criteria that
//! selected them, which is all a page may name. The expression and the evaluation themselves
//! are in `audience.rs`.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::model::audience::{Audience, Evaluation, Outcome, MAX_DEPTH, MAX_MEMBERS};
use crate::model::fields::{check_text, invalid};
use crate::model::record::{Criterion, CriterionType, Effect, MessageBody};

/// A three-valued truth: what the evaluation proves about part of the audience.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    /// The evaluation proves it holds.
    True,
    /// The evaluation proves it does not.
    False,
    /// The evaluation does not tell.
    Unknown,
}

/// What a rule about the audience found wrong, in words, with the criterion concerned when
/// there is one (the caller names the field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The criterion the fault is about, if it is about one.
    pub criterion: Option<String>,
    /// What is wrong, in words.
    pub why: String,
}

fn fault(criterion: Option<&str>, why: impl Into<String>) -> Fault {
    Fault { criterion: criterion.map(str::to_string), why: why.into() }
}

/// Checks an audience against its record's criteria (SPEC.md §3.4): the expression is `null`
/// exactly when there are no criteria; groups nest at most [`MAX_DEPTH`] deep and hold 1 to
/// [`MAX_MEMBERS`] members; every id is a criterion of the record and every criterion stands
/// in it; include criteria stand where they let people in, exclude criteria where they keep
/// people out.
pub fn check(audience: Option<&Audience>, criteria: &[Criterion]) -> Result<(), Fault> {
    let Some(a) = audience else {
        return match criteria.first() {
            None => Ok(()),
            Some(c) => Err(fault(
                Some(&c.id),
                "is null, but the record has criteria: write how they combine, e.g. {\"all_of\": [\"c1\", {\"none_of\": [\"c2\"]}]}",
            )),
        };
    };
    if criteria.is_empty() {
        return Err(fault(None, "must be null when the record has no criteria"));
    }
    let mut seen = vec![false; criteria.len()];
    walk(a, 0, false, criteria, &mut seen)?;
    match seen.iter().position(|s| !s) {
        Some(i) => Err(fault(
            Some(&criteria[i].id),
            format!("does not use criterion `{}`; every criterion of the record stands in the audience", criteria[i].id),
        )),
        None => Ok(()),
    }
}

fn walk(a: &Audience, depth: usize, negated: bool, criteria: &[Criterion], seen: &mut [bool]) -> Result<(), Fault> {
    let (members, negate) = match a {
        Audience::Criterion(id) => {
            let Some(i) = criteria.iter().position(|c| &c.id == id) else {
                return Err(fault(None, format!("names `{id}`, which is not a criterion id of this record")));
            };
            seen[i] = true;
            return match (criteria[i].effect, negated) {
                (Effect::Include, true) => Err(fault(
                    Some(id),
                    format!("puts criterion `{id}` (effect include) under none_of, where it would keep people out; an include criterion lets people in"),
                )),
                (Effect::Exclude, false) => Err(fault(
                    Some(id),
                    format!("uses criterion `{id}` (effect exclude) where it would let people in; an exclusion stands under none_of"),
                )),
                _ => Ok(()),
            };
        }
        Audience::AllOf(m) | Audience::AnyOf(m) => (m, false),
        Audience::NoneOf(m) => (m, true),
    };
    if depth + 1 > MAX_DEPTH {
        return Err(fault(None, format!("nests groups more than {MAX_DEPTH} deep")));
    }
    if members.is_empty() || members.len() > MAX_MEMBERS {
        return Err(fault(None, format!("has a group with {} members; a group holds 1 to {MAX_MEMBERS}", members.len())));
    }
    members.iter().try_for_each(|m| walk(m, depth + 1, negated != negate, criteria, seen))
}

/// The truth of one criterion for one recipient: a contextual criterion held as the advertiser
/// asked (it concerns where the message was placed), any other is what its result says.
fn leaf_truth(c: &Criterion, e: Option<&Evaluation>) -> Truth {
    match e.map(|e| e.result) {
        Some(Outcome::Matched) => Truth::True,
        Some(Outcome::NotMatched) => Truth::False,
        _ if c.kind == CriterionType::Contextual => match c.effect {
            Effect::Include => Truth::True,
            Effect::Exclude => Truth::False,
        },
        _ => Truth::Unknown,
    }
}

/// The criteria by id, with their results.
pub struct Results<'a> {
    criteria: &'a [Criterion],
    evaluation: &'a BTreeMap<String, Evaluation>,
}

impl<'a> Results<'a> {
    /// A record's criteria with one recipient's evaluation.
    pub fn new(criteria: &'a [Criterion], evaluation: &'a BTreeMap<String, Evaluation>) -> Results<'a> {
        Results { criteria, evaluation }
    }

    fn leaf(&self, id: &str) -> Truth {
        match self.criteria.iter().find(|c| c.id == id) {
            Some(c) => leaf_truth(c, self.evaluation.get(id)),
            None => Truth::Unknown,
        }
    }

    /// What the evaluation proves about `a`.
    pub fn truth(&self, a: &Audience) -> Truth {
        match a {
            Audience::Criterion(id) => self.leaf(id),
            Audience::AllOf(m) => fold(m.iter().map(|x| self.truth(x)), Truth::False, Truth::True),
            Audience::AnyOf(m) => fold(m.iter().map(|x| self.truth(x)), Truth::True, Truth::False),
            Audience::NoneOf(m) => opposite(fold(m.iter().map(|x| self.truth(x)), Truth::True, Truth::False)),
        }
    }

    /// The criterion that keeps `a` from being proved `want`, followed down through the members:
    /// where the group is unknown, its first unknown member; where it is the opposite of `want`,
    /// its first member that is the opposite of what the group needs of it.
    fn blame<'x>(&self, a: &'x Audience, want: Truth) -> Option<&'x str> {
        let (members, member_want) = match a {
            Audience::Criterion(id) => return Some(id),
            Audience::AllOf(m) | Audience::AnyOf(m) => (m, want),
            Audience::NoneOf(m) => (m, opposite(want)),
        };
        let wrong = if self.truth(a) == Truth::Unknown { Truth::Unknown } else { opposite(member_want) };
        let at = members.iter().position(|x| self.truth(x) == wrong).unwrap_or(0);
        members.get(at).and_then(|x| self.blame(x, member_want))
    }
}

fn opposite(t: Truth) -> Truth {
    match t {
        Truth::True => Truth::False,
        Truth::False => Truth::True,
        Truth::Unknown => Truth::Unknown,
    }
}

/// Kleene's fold: `decisive` if any member is, `otherwise` if all are that, else unknown.
fn fold(members: impl Iterator<Item = Truth>, decisive: Truth, otherwise: Truth) -> Truth {
    let mut out = otherwise;
    for t in members {
        if t == decisive {
            return decisive;
        }
        if t == Truth::Unknown {
            out = Truth::Unknown;
        }
    }
    out
}

/// Checks that a recipient's evaluation proves they belonged to the audience (SPEC.md §7). The
/// fault names the criterion that decides otherwise: an exclusion that matched, an inclusion
/// that did not and had no alternative that held, or a criterion left unevaluated where the
/// audience needs its answer.
pub fn check_selected(audience: Option<&Audience>, criteria: &[Criterion], evaluation: &BTreeMap<String, Evaluation>) -> Result<(), Fault> {
    let Some(a) = audience else { return Ok(()) };
    let results = Results::new(criteria, evaluation);
    if results.truth(a) == Truth::True {
        return Ok(());
    }
    let id = results.blame(a, Truth::True).unwrap_or_default();
    let exclusion = criteria.iter().find(|c| c.id == id).is_some_and(|c| c.effect == Effect::Exclude);
    let why = match (evaluation.get(id).map(|e| e.result), exclusion) {
        (Some(Outcome::Matched), true) => format!(
            "says exclusion `{id}` matched this person, so by the record's own evaluation they were not in the audience; a message is logged only for someone the audience selected"
        ),
        (Some(Outcome::NotMatched), false) => format!(
            "says `{id}` did not match this person and nothing else let them in where it stands, so by the record's own evaluation they were not in the audience"
        ),
        _ => format!(
            "leaves `{id}` not evaluated where the audience needs its answer, so the record does not show this person was in the audience; evaluate it (not_evaluated is for contextual criteria and for ways in that another met criterion made unnecessary)"
        ),
    };
    Err(fault(Some(id), why))
}

/// The include criteria that let this recipient in: every criterion that held on a way through
/// the audience that held (all members of an `all_of`, each member of an `any_of` that held),
/// in record order, contextual ones included. Empty unless the evaluation proves the audience.
pub fn selected_by(audience: &Audience, criteria: &[Criterion], evaluation: &BTreeMap<String, Evaluation>) -> Vec<String> {
    let results = Results::new(criteria, evaluation);
    let mut ids = Vec::new();
    if results.truth(audience) == Truth::True {
        collect(&results, audience, &mut ids);
    }
    criteria.iter().filter(|c| ids.contains(&c.id.as_str())).map(|c| c.id.clone()).collect()
}

fn collect<'x>(results: &Results<'_>, a: &'x Audience, out: &mut Vec<&'x str>) {
    match a {
        Audience::Criterion(id) => out.push(id),
        Audience::AllOf(m) | Audience::AnyOf(m) => {
            for x in m.iter().filter(|x| results.truth(x) == Truth::True) {
                collect(results, x, out);
            }
        }
        Audience::NoneOf(_) => {}
    }
}

/// The evaluation of a submitted personal part (SPEC.md §7): one result for each criterion of
/// the body and for nothing else, a contextual criterion `not_evaluated`, a value only with a
/// result, and together a proof that the audience selected this person.
/// `revision_2_matched` says the part holds revision 2's `matched`.
pub(crate) fn check_evaluation(
    revision_2_matched: bool,
    evaluation: Option<&BTreeMap<String, Evaluation>>,
    body: &MessageBody,
    r: usize,
) -> Result<()> {
    if revision_2_matched {
        return Err(invalid(
            r,
            "personal.matched",
            "is how revision 2 wrote the values used; from revision 3 on a personal part holds `evaluation` instead: for each criterion {\"result\": \"matched\" | \"not_matched\" | \"not_evaluated\", \"value\": text or null}",
        ));
    }
    let Some(evaluation) = evaluation else {
        return Err(invalid(
            r,
            "personal.evaluation",
            "is missing: every field must be present, with null or \"not_disclosed\" where the schema allows it (SPEC.md §1, §7)",
        ));
    };
    let criteria = &body.targeting.criteria;
    for (id, e) in evaluation {
        let field = || format!("personal.evaluation.{id}");
        let Some(c) = criteria.iter().find(|c| &c.id == id) else {
            return Err(invalid(r, &field(), "is not a criterion id of the record"));
        };
        if c.kind == CriterionType::Contextual && e.result != Outcome::NotEvaluated {
            return Err(invalid(
                r,
                &field(),
                "is a contextual criterion: it concerns the placement, not the person, so its result is not_evaluated",
            ));
        }
        match (&e.value, e.result) {
            (Some(_), Outcome::NotEvaluated) => {
                return Err(invalid(r, &format!("personal.evaluation.{id}.value"), "must be null for a criterion not evaluated"))
            }
            (Some(v), _) => check_text(r, || format!("personal.evaluation.{id}.value"), v)?,
            (None, _) => {}
        }
    }
    if let Some(c) = criteria.iter().find(|c| !evaluation.contains_key(&c.id)) {
        return Err(invalid(
            r,
            &format!("personal.evaluation.{}", c.id),
            "is missing: the evaluation gives every criterion its result (not_evaluated where it was not checked)",
        ));
    }
    if let Err(fault) = check_selected(body.targeting.audience.as_ref(), criteria, evaluation) {
        let field = fault.criterion.map(|id| format!("personal.evaluation.{id}")).unwrap_or_else(|| "personal.evaluation".into());
        return Err(invalid(r, &field, fault.why));
    }
    Ok(())
}

#[cfg(test)]
#[path = "audience_tests.rs"]
mod tests;

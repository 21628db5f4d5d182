//! How the recipient was selected, in words, saying only what the record proves: the audience
//! the advertiser asked for, and for each criterion whether it let this recipient in, was
//! another way in that did not apply, was an exclusion they were checked against, or concerns
//! the context. The proof is the personal part's `evaluation` (SPEC.md §7), read against the
//! body's `targeting.audience` by [`sightline_ledger::selection`]; an entry without them (logged
//! before revision 3) says the record does not tell which criteria applied.

use std::collections::BTreeMap;

use sightline_ledger::audience::{Audience, Evaluation, Outcome};
use sightline_ledger::selection::{selected_by, Results, Truth};

use super::*;

/// What the page can say about the recipient's criteria: a proof (an audience and an
/// evaluation that shows it held), or why it cannot say.
enum Proof<'a> {
    Proved {
        evaluation: &'a BTreeMap<String, Evaluation>,
        held: Vec<String>,
    },
    /// The record holds no evaluation (or no audience): logged before revision 3.
    Unstated {
        matched: Option<&'a BTreeMap<String, String>>,
    },
    /// The evaluation does not show the audience held (the ledger refuses such a record, so
    /// only a record it did not check can get here).
    Contradicted,
    Erased,
    Absent,
}

fn proof<'a>(m: &'a MessageBody, personal: PersonalRef<'a>) -> Proof<'a> {
    let criteria = &m.targeting.criteria;
    match personal {
        PersonalRef::Erased => Proof::Erased,
        PersonalRef::Absent => Proof::Absent,
        PersonalRef::Present(p) => match (&p.evaluation, &m.targeting.audience) {
            (Some(evaluation), None) if criteria.is_empty() => Proof::Proved { evaluation, held: Vec::new() },
            (Some(evaluation), Some(a)) => {
                if Results::new(criteria, evaluation).truth(a) == Truth::True {
                    Proof::Proved { evaluation, held: selected_by(a, criteria, evaluation) }
                } else {
                    Proof::Contradicted
                }
            }
            _ => Proof::Unstated { matched: p.matched.as_ref() },
        },
    }
}

fn standing(kind: &'static str, words: &str, value: Option<&String>, value_words: &'static str) -> StandingView {
    StandingView { kind, words: words.to_string(), value: value.cloned(), value_words }
}

/// Each criterion's standing for the recipient, in record order.
pub fn standings(m: &MessageBody, personal: PersonalRef<'_>) -> Vec<StandingView> {
    let p = proof(m, personal);
    m.targeting.criteria.iter().map(|c| criterion_standing(c, &p)).collect()
}

fn criterion_standing(c: &Criterion, p: &Proof<'_>) -> StandingView {
    const USED: &str = "The value about you that was used:";
    const CHECKED: &str = "The value about you that was checked:";
    let (evaluation, held) = match p {
        Proof::Proved { evaluation, held, .. } => (*evaluation, held),
        Proof::Unstated { matched } => {
            return standing(
                "unstated",
                "The record does not say whether this criterion applied to you.",
                matched.and_then(|m| m.get(&c.id)),
                "The record holds this value about you for it:",
            )
        }
        Proof::Contradicted => {
            return standing("unstated", "The record's own evaluation does not show that you belonged to this audience, so this page does not say what this criterion did for you.", None, "")
        }
        Proof::Erased => {
            return standing("erased", "Whether this applied to you was part of your personal data, which was erased on request.", None, "")
        }
        Proof::Absent => {
            return standing("absent", "This ledger holds no personal part for this message, so it cannot say whether this applied to you.", None, "")
        }
    };
    let Some(e) = evaluation.get(&c.id) else {
        return standing("unstated", "The record does not say whether this criterion applied to you.", None, "");
    };
    let value = e.value.as_ref();
    if c.kind == CriterionType::Contextual {
        return standing(
            "context",
            "This concerns where the message was placed (the page, programme or search), not you: nothing about you was checked for it.",
            value,
            CHECKED,
        );
    }
    match (c.effect, e.result, held.contains(&c.id)) {
        (Effect::Include, Outcome::Matched, true) => {
            standing("selected", "This held for you, and it is part of why you were selected.", value, USED)
        }
        (Effect::Include, Outcome::Matched, false) => standing(
            "held_not_decisive",
            "This held for you, but the part of the audience it belongs to did not, so it is not why you were selected.",
            value,
            CHECKED,
        ),
        (Effect::Include, Outcome::NotMatched, _) => {
            standing("other_way", "This was another way into this audience, and it did not apply to you.", value, CHECKED)
        }
        (Effect::Include, Outcome::NotEvaluated, _) => standing(
            "not_checked",
            "This was another way into this audience; it was not checked for you, because you were in the audience another way.",
            None,
            "",
        ),
        (Effect::Exclude, Outcome::NotMatched, _) => {
            standing("exclusion_checked", "You were checked against this exclusion and were not in it.", value, CHECKED)
        }
        (Effect::Exclude, Outcome::Matched, _) => standing(
            "exclusion_other_way",
            "You were in this exclusion: it closed one way into the audience, and you were selected by another.",
            value,
            CHECKED,
        ),
        (Effect::Exclude, Outcome::NotEvaluated, _) => standing(
            "not_checked",
            "This exclusion was not checked for you: it guards a way into the audience that was not the one you were selected by.",
            None,
            "",
        ),
    }
}

/// "criterion 2 (“Lives in …”)".
fn named(c: &Criterion, position: usize) -> String {
    format!("criterion {position} (“{}”)", c.description)
}

/// A list in words: "a", "a and b", "a, b and c".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The summary of how the recipient was selected.
pub fn selection_view(m: &MessageBody, personal: PersonalRef<'_>) -> SelectionView {
    let criteria = &m.targeting.criteria;
    let audience = match (&m.targeting.audience, criteria.is_empty()) {
        (_, true) => "Everyone the message could reach: the advertiser asked for no criteria.".to_string(),
        (Some(a), false) => format!("Who the advertiser asked for: people matching {}.", audience_words(a, criteria, true)),
        (None, false) => "The record does not state how these criteria combine (whether any one of them was enough, or all were needed): it was logged before the log asked for it.".to_string(),
    };
    let positioned = |pick: &dyn Fn(&Criterion) -> bool| -> Vec<String> {
        criteria.iter().enumerate().filter(|(_, c)| pick(c)).map(|(i, c)| named(c, i + 1)).collect()
    };
    let sentences = match proof(m, personal) {
        Proof::Proved { evaluation, held, .. } => {
            let result = |c: &Criterion| evaluation.get(&c.id).map(|e| e.result);
            let mut out = Vec::new();
            let by_you = positioned(&|c| held.contains(&c.id) && c.kind != CriterionType::Contextual);
            let context = positioned(&|c| held.contains(&c.id) && c.kind == CriterionType::Contextual);
            if !by_you.is_empty() {
                out.push(format!("You were selected because {} held for you.", and_list(&by_you)));
            } else if !criteria.is_empty() {
                out.push(
                    "No data about you selected you: the criteria that let this message reach you concern where it was placed.".into(),
                );
            }
            if !context.is_empty() {
                out.push(format!("It was placed where {} applied; that concerns the context, not you.", and_list(&context)));
            }
            let checked = positioned(&|c| c.effect == Effect::Exclude && result(c) == Some(Outcome::NotMatched));
            if !checked.is_empty() {
                let word = if checked.len() == 1 { "exclusion" } else { "exclusions" };
                out.push(format!("You were checked against {word} {} and were not in it.", and_list(&checked)));
            }
            for other in positioned(&|c| c.effect == Effect::Include && result(c) == Some(Outcome::NotMatched)) {
                out.push(format!("{} was another way into this audience, and it did not apply to you.", capitalised(&other)));
            }
            out
        }
        Proof::Unstated { .. } => {
            vec!["The record does not say which of these criteria applied to you: it was logged before the log asked for each recipient's result, so this page claims no match.".into()]
        }
        Proof::Contradicted => vec!["The record's own evaluation does not show that you belonged to this audience.".into()],
        Proof::Erased => vec!["Which criteria applied to you was part of your personal data, which was erased on request.".into()],
        Proof::Absent => {
            vec!["This ledger holds no personal part for this message, so it cannot say which criteria applied to you.".into()]
        }
    };
    SelectionView { audience, sentences }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The audience expression in words, criteria by position: "(criterion 1 or criterion 2) and
/// criterion 4 and not criterion 3".
pub fn audience_words(a: &Audience, criteria: &[Criterion], top: bool) -> String {
    let join = |m: &[Audience], word: &str| m.iter().map(|x| audience_words(x, criteria, false)).collect::<Vec<_>>().join(word);
    let group = |text: String, members: usize| if top || members == 1 { text } else { format!("({text})") };
    match a {
        Audience::Criterion(id) => match criteria.iter().position(|c| &c.id == id) {
            Some(i) => format!("criterion {}", i + 1),
            None => format!("“{id}” (not a criterion of this record)"),
        },
        Audience::AllOf(m) => group(join(m, " and "), m.len()),
        Audience::AnyOf(m) => group(join(m, " or "), m.len()),
        Audience::NoneOf(m) => {
            let inner = join(m, " or ");
            if m.len() == 1 {
                format!("not {inner}")
            } else {
                format!("not ({inner})")
            }
        }
    }
}

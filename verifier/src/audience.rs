//! SPEC §3.4 `targeting.audience` and §7 `evaluation` (revision 3), read by the verifier's own
//! code: a body that holds an audience is a revision-3 body, and must hold every field revision 3
//! added, with an expression that uses each criterion where its effect says; a personal part
//! shipped with such a body must give each criterion a result that, read with three values,
//! proves the audience held for the person. A revision-2 body (no audience) and its personal part
//! (`matched`) are not held to either rule.
//!
//! The three values: `matched` is true, `not_matched` false, `not_evaluated` unknown, except for a
//! contextual criterion, which concerns the placement and counts as the advertiser asked it
//! (true for an inclusion, false for an exclusion).

use std::collections::HashMap;

use crate::json::{Doc, Kind};

/// How deep groups may nest (SPEC §3.4).
const DEPTH: usize = 4;
/// Members a group may hold.
const MEMBERS: usize = 64;

/// Every field revision 3 added, as (object path from the body, key); `[]` is each element.
const REVISION_3_FIELDS: [(&str, &str); 18] = [
    ("delivery", "address_lineage"),
    ("delivery.creative", "visibility"),
    ("delivery.creative", "content"),
    ("sponsor.political", "period"),
    ("sponsor.political", "other_benefits"),
    ("sponsor.political", "funding_source"),
    ("sponsor.political", "repository_url"),
    ("sponsor.political", "report_url"),
    ("sponsor.political", "suspension"),
    ("targeting", "audience"),
    ("targeting.criteria[]", "art9_condition"),
    ("targeting.criteria[]", "match_keys"),
    ("targeting.criteria[]", "seed_audience"),
    ("lineage[]", "entry"),
    ("lineage[]", "audience_size"),
    ("lineage[]", "precision"),
    ("lineage[]", "id_types"),
    ("lineage[]", "onboarder"),
];

/// One criterion as the audience rules need it.
struct Criterion {
    include: bool,
    contextual: bool,
}

/// The criteria of a body by id, in record order.
fn criteria(doc: &Doc<'_>, b: usize) -> Vec<(String, Criterion)> {
    let list = doc.get(b, "targeting").and_then(|t| doc.get(t, "criteria")).map(|c| doc.items(c)).unwrap_or_default();
    list.into_iter()
        .filter_map(|c| {
            let text = |k: &str| doc.get(c, k).and_then(|i| doc.str(i)).map(|s| s.into_owned()).unwrap_or_default();
            let id = text("id");
            (!id.is_empty()).then(|| (id, Criterion { include: text("effect") != "exclude", contextual: text("type") == "contextual" }))
        })
        .collect()
}

/// The nodes at `path` (dots between keys, `[]` for each element of a list) below `at`.
fn nodes(doc: &Doc<'_>, at: usize, path: &str) -> Vec<(String, usize)> {
    let mut out = vec![(String::new(), at)];
    for step in path.split('.').filter(|s| !s.is_empty()) {
        let (key, each) = step.strip_suffix("[]").map_or((step, false), |k| (k, true));
        let mut next = Vec::new();
        for (name, node) in out {
            let Some(child) = doc.get(node, key).filter(|&c| doc.kind(c) != Some(Kind::Null)) else { continue };
            let name = if name.is_empty() { key.to_string() } else { format!("{name}.{key}") };
            if each {
                next.extend(doc.items(child).into_iter().enumerate().map(|(i, c)| (format!("{name}[{i}]"), c)));
            } else {
                next.push((name, child));
            }
        }
        out = next;
    }
    out
}

/// Whether node `b` (a message body) is a revision-3 body: its targeting holds `audience`.
pub fn is_revision_3(doc: &Doc<'_>, b: usize) -> bool {
    doc.get(b, "targeting").and_then(|t| doc.get(t, "audience")).is_some()
}

/// Checks a revision-3 body (node `b`): every field revision 3 added is present, and the
/// audience is an expression over its criteria as §3.4 says. The error names the field.
pub fn check_body(doc: &Doc<'_>, b: usize) -> Result<(), String> {
    if !is_revision_3(doc, b) {
        return Ok(());
    }
    for (path, key) in REVISION_3_FIELDS {
        for (name, node) in nodes(doc, b, path) {
            if doc.kind(node) == Some(Kind::Obj) && doc.get(node, key).is_none() {
                return Err(format!(
                    "body.{name}.{key} is missing; a revision-3 body (one with targeting.audience) holds every field revision 3 added (SPEC §3.4)"
                ));
            }
        }
    }
    let criteria = criteria(doc, b);
    let audience = doc.get(b, "targeting").and_then(|t| doc.get(t, "audience")).ok_or("body.targeting.audience is missing")?;
    if doc.kind(audience) == Some(Kind::Null) {
        return match criteria.first() {
            None => Ok(()),
            Some((id, _)) => Err(format!("body.targeting.audience is null, but the record has criteria (such as {id:?})")),
        };
    }
    let mut used = HashMap::new();
    expression(doc, audience, 0, false, &criteria, &mut used)?;
    match criteria.iter().find(|(id, _)| !used.contains_key(id.as_str())) {
        Some((id, _)) => Err(format!("body.targeting.audience does not use criterion {id:?}; every criterion stands in it (SPEC §3.4)")),
        None => Ok(()),
    }
}

fn expression<'d>(
    doc: &Doc<'d>,
    at: usize,
    groups: usize,
    negated: bool,
    criteria: &[(String, Criterion)],
    used: &mut HashMap<String, ()>,
) -> Result<(), String> {
    let bad = |why: String| Err(format!("body.targeting.audience {why}"));
    match doc.kind(at) {
        Some(Kind::Str) => {
            let id = doc.str(at).unwrap_or_default().into_owned();
            let Some((_, c)) = criteria.iter().find(|(k, _)| *k == id) else {
                return bad(format!("names {id:?}, which is not a criterion of this record"));
            };
            if c.include == negated {
                let effect = if c.include { "include" } else { "exclude" };
                return bad(format!("uses criterion {id:?} (effect {effect}) where it would do the opposite: an exclusion stands under an odd number of none_of, an inclusion under an even number"));
            }
            used.insert(id, ());
            Ok(())
        }
        Some(Kind::Obj) => {
            let members = doc.members(at);
            let [(op, list)] = members.as_slice() else {
                return bad("has a group that does not hold exactly one of all_of, any_of, none_of".into());
            };
            if !matches!(op.as_ref(), "all_of" | "any_of" | "none_of") {
                return bad(format!("has a group operator {op:?}; expected all_of, any_of or none_of"));
            }
            if groups + 1 > DEPTH {
                return bad(format!("nests groups more than {DEPTH} deep"));
            }
            if doc.kind(*list) != Some(Kind::Arr) {
                return bad(format!("has a {op} that is not a list"));
            }
            let items = doc.items(*list);
            if items.is_empty() || items.len() > MEMBERS {
                return bad(format!("has a group of {} members; a group holds 1 to {MEMBERS}", items.len()));
            }
            let negated = negated != (op == "none_of");
            items.into_iter().try_for_each(|m| expression(doc, m, groups + 1, negated, criteria, used))
        }
        _ => bad("holds something that is neither a criterion id nor a group".into()),
    }
}

/// A truth of three values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Three {
    Yes,
    No,
    Unknown,
}

fn not(t: Three) -> Three {
    match t {
        Three::Yes => Three::No,
        Three::No => Three::Yes,
        Three::Unknown => Three::Unknown,
    }
}

/// What the evaluation proves about node `at` of the audience.
fn value(doc: &Doc<'_>, at: usize, results: &HashMap<String, Three>) -> Three {
    if doc.kind(at) == Some(Kind::Str) {
        return doc.str(at).and_then(|id| results.get(id.as_ref()).copied()).unwrap_or(Three::Unknown);
    }
    let Some((op, list)) = doc.members(at).into_iter().next() else { return Three::Unknown };
    let values: Vec<Three> = doc.items(list).into_iter().map(|m| value(doc, m, results)).collect();
    let any = |t: Three| values.contains(&t);
    let or = if any(Three::Yes) {
        Three::Yes
    } else if any(Three::Unknown) {
        Three::Unknown
    } else {
        Three::No
    };
    match op.as_ref() {
        "all_of" => {
            if any(Three::No) {
                Three::No
            } else if any(Three::Unknown) {
                Three::Unknown
            } else {
                Three::Yes
            }
        }
        "any_of" => or,
        _ => not(or),
    }
}

/// Checks a personal part's evaluation (node `p` of `pdoc`) against its revision-3 body (node `b`
/// of `doc`): one result per criterion, contextual ones `not_evaluated`, and together a proof
/// that the audience held for the person. The error names the criterion.
pub fn check_evaluation(doc: &Doc<'_>, b: usize, pdoc: &Doc<'_>, p: usize) -> Result<(), String> {
    if !is_revision_3(doc, b) {
        return Ok(());
    }
    let Some(evaluation) = pdoc.get(p, "evaluation").filter(|&e| pdoc.kind(e) == Some(Kind::Obj)) else {
        return Err("its personal part has no evaluation, which a revision-3 record's personal part holds (SPEC §7)".into());
    };
    let criteria = criteria(doc, b);
    let mut results = HashMap::new();
    for (id, c) in &criteria {
        let result = pdoc.get(evaluation, id).and_then(|e| pdoc.get(e, "result")).and_then(|r| pdoc.str(r));
        let three = match result.as_deref() {
            Some("matched") if !c.contextual => Three::Yes,
            Some("not_matched") if !c.contextual => Three::No,
            Some("not_evaluated") if c.contextual => {
                if c.include {
                    Three::Yes
                } else {
                    Three::No
                }
            }
            Some("not_evaluated") => Three::Unknown,
            Some(other) if c.contextual => {
                return Err(format!(
                    "the evaluation of criterion {id:?} is {other:?}, but a contextual criterion is not_evaluated (SPEC §7)"
                ))
            }
            _ => return Err(format!("the evaluation gives criterion {id:?} no result of matched, not_matched or not_evaluated (SPEC §7)")),
        };
        results.insert(id.clone(), three);
    }
    let Some(audience) = doc.get(b, "targeting").and_then(|t| doc.get(t, "audience")).filter(|&a| doc.kind(a) != Some(Kind::Null)) else {
        return Ok(());
    };
    if value(doc, audience, &results) == Three::Yes {
        return Ok(());
    }
    let decisive = blame(doc, audience, Three::Yes, &results).unwrap_or_default();
    let said = results.get(&decisive).map_or("no result", |t| match t {
        Three::Yes => "held",
        Three::No => "did not hold",
        Three::Unknown => "was not evaluated",
    });
    Err(format!(
        "the personal part's evaluation contradicts the record's audience: criterion {decisive:?} {said} for this recipient, so the evaluation does not show they were in the audience the record states (SPEC §7)"
    ))
}

/// The criterion that keeps node `at` from being `want`: in a group that is unknown, its first
/// unknown member; otherwise its first member that is the opposite of what the group needs.
fn blame(doc: &Doc<'_>, at: usize, want: Three, results: &HashMap<String, Three>) -> Option<String> {
    if doc.kind(at) == Some(Kind::Str) {
        return doc.str(at).map(|s| s.into_owned());
    }
    let (op, list) = doc.members(at).into_iter().next()?;
    let member_want = if op == "none_of" { not(want) } else { want };
    let wrong = if value(doc, at, results) == Three::Unknown { Three::Unknown } else { not(member_want) };
    let items = doc.items(list);
    let pick = items.iter().copied().find(|&m| value(doc, m, results) == wrong).or(items.first().copied())?;
    blame(doc, pick, member_want, results)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"targeting":{"audience":{"all_of":[{"any_of":["c1","c2"]},"c4",{"none_of":["c3"]}]},"criteria":[
        {"id":"c1","effect":"include","type":"modelled"},{"id":"c2","effect":"include","type":"uploaded_list"},
        {"id":"c3","effect":"exclude","type":"declared"},{"id":"c4","effect":"include","type":"contextual"}]}}"#;

    fn evaluate(results: &[(&str, &str)]) -> Result<(), String> {
        let doc = crate::json::parse(BODY.as_bytes()).unwrap();
        let items: Vec<String> = results.iter().map(|(id, r)| format!(r#""{id}":{{"result":"{r}","value":null}}"#)).collect();
        let personal = format!(r#"{{"evaluation":{{{}}}}}"#, items.join(","));
        let pdoc = crate::json::parse(personal.as_bytes()).unwrap();
        check_evaluation(&doc, 0, &pdoc, 0)
    }

    #[test]
    fn an_evaluation_proves_the_audience_or_names_the_criterion_that_contradicts_it() {
        let ne = "not_evaluated";
        assert!(evaluate(&[("c1", "matched"), ("c2", "not_matched"), ("c3", "not_matched"), ("c4", ne)]).is_ok());
        assert!(evaluate(&[("c1", ne), ("c2", "matched"), ("c3", "not_matched"), ("c4", ne)]).is_ok());
        let e = evaluate(&[("c1", "matched"), ("c2", ne), ("c3", "matched"), ("c4", ne)]).unwrap_err();
        assert!(e.contains("criterion \"c3\" held"), "{e}");
        let e = evaluate(&[("c1", "not_matched"), ("c2", "not_matched"), ("c3", "not_matched"), ("c4", ne)]).unwrap_err();
        assert!(e.contains("criterion \"c1\" did not hold"), "{e}");
        let e = evaluate(&[("c1", "matched"), ("c2", ne), ("c3", ne), ("c4", ne)]).unwrap_err();
        assert!(e.contains("criterion \"c3\" was not evaluated"), "{e}");
        let e = evaluate(&[("c1", "matched"), ("c2", ne), ("c3", "not_matched"), ("c4", "matched")]).unwrap_err();
        assert!(e.contains("contextual criterion is not_evaluated"), "{e}");
        let e = evaluate(&[("c1", "matched"), ("c3", "not_matched"), ("c4", ne)]).unwrap_err();
        assert!(e.contains("criterion \"c2\" no result"), "{e}");
    }

    #[test]
    fn an_expression_uses_each_criterion_where_its_effect_says() {
        let check = |audience: &str| {
            let body = BODY.replacen(r#"{"all_of":[{"any_of":["c1","c2"]},"c4",{"none_of":["c3"]}]}"#, audience, 1);
            let doc = crate::json::parse(body.as_bytes()).unwrap();
            let targeting = doc.get(0, "targeting").unwrap();
            let mut used = HashMap::new();
            let criteria = criteria(&doc, 0);
            expression(&doc, doc.get(targeting, "audience").unwrap(), 0, false, &criteria, &mut used).and_then(|()| {
                if used.len() == criteria.len() {
                    Ok(())
                } else {
                    Err("unused".into())
                }
            })
        };
        assert!(check(r#"{"all_of":["c1","c2","c4",{"none_of":["c3"]}]}"#).is_ok());
        assert!(check(r#"{"all_of":["c1","c2","c3","c4"]}"#).unwrap_err().contains("\"c3\" (effect exclude)"));
        assert!(check(r#"{"all_of":["c1","c2","c4",{"none_of":["c3","c9"]}]}"#).unwrap_err().contains("\"c9\""));
        assert!(check(r#"{"all_of":["c1","c4",{"none_of":["c3"]}]}"#).is_err());
        assert!(check(r#"{"all_of":["c1"],"any_of":["c2"]}"#).unwrap_err().contains("exactly one"));
        assert!(check(r#"{"all_of":[{"all_of":[{"all_of":[{"all_of":[{"all_of":["c1","c2","c4",{"none_of":["c3"]}]}]}]}]}]}"#)
            .unwrap_err()
            .contains("more than 4 deep"));
    }
}

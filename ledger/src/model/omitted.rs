//! Reading a `message` body logged before a field was required (SPEC.md §1, §3.4): the field is
//! read as `null`, and reported where `null` would say something the record never said, so that
//! a page says "the record does not state this" instead of reading the silence as an answer.
//!
//! Two sets of fields: the nullable fields that revision 2 already defined but did not yet
//! enforce ([`NULLABLE_FIELDS`]), and the fields revision 3 added ([`REVISION_3_FIELDS`]), which
//! no revision-2 body holds. A revision-3 field is reported only where the rules would need a
//! value: an e-mail's address lineage, the Art. 9 condition of a special category, the match
//! keys of an uploaded list, and so on; where `null` is what the rules ask for anyway (the
//! address lineage of a social ad), filling it in states nothing new.

use serde_json::Value;

/// The nullable fields of revision 2, as JSON paths with `[]` for "every element".
pub const NULLABLE_FIELDS: [&str; 4] =
    ["delivery.email_headers", "sponsor.political", "targeting.criteria[].special_category", "lineage[].model"];

/// The fields revision 3 added to a message body, as JSON paths with `[]` for "every element"
/// (the `sponsor.political` ones only where the body has a political label).
pub const REVISION_3_FIELDS: [&str; 18] = [
    "delivery.address_lineage",
    "delivery.creative.visibility",
    "delivery.creative.content",
    "sponsor.political.period",
    "sponsor.political.other_benefits",
    "sponsor.political.funding_source",
    "sponsor.political.repository_url",
    "sponsor.political.report_url",
    "sponsor.political.suspension",
    "targeting.audience",
    "targeting.criteria[].art9_condition",
    "targeting.criteria[].match_keys",
    "targeting.criteria[].seed_audience",
    "lineage[].entry",
    "lineage[].audience_size",
    "lineage[].precision",
    "lineage[].id_types",
    "lineage[].onboarder",
];

/// Sets each field of [`NULLABLE_FIELDS`] and [`REVISION_3_FIELDS`] that a message body leaves
/// out to `null`; returns the paths (with indexes) of those whose `null` the rules would not
/// accept now, which the record therefore does not state.
pub(crate) fn fill_omitted(body: &mut Value) -> Vec<String> {
    let mut omitted = Vec::new();
    let channel = body.pointer("/delivery/channel").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut fill = |object: Option<&mut Value>, key: &str, path: String, stated: bool| {
        if let Some(Value::Object(o)) = object {
            if !o.contains_key(key) {
                o.insert(key.to_string(), Value::Null);
                if stated {
                    omitted.push(path);
                }
            }
        }
    };
    fill(body.get_mut("delivery"), "email_headers", "delivery.email_headers".into(), true);
    fill(body.get_mut("delivery"), "address_lineage", "delivery.address_lineage".into(), channel == "email");
    for key in ["visibility", "content"] {
        fill(body.pointer_mut("/delivery/creative"), key, format!("delivery.creative.{key}"), true);
    }
    fill(body.get_mut("sponsor"), "political", "sponsor.political".into(), true);
    for key in ["period", "other_benefits", "funding_source", "repository_url", "report_url", "suspension"] {
        fill(body.pointer_mut("/sponsor/political"), key, format!("sponsor.political.{key}"), true);
    }
    let has_criteria = body.pointer("/targeting/criteria").and_then(Value::as_array).is_some_and(|c| !c.is_empty());
    fill(body.get_mut("targeting"), "audience", "targeting.audience".into(), has_criteria);
    if let Some(Value::Array(criteria)) = body.pointer_mut("/targeting/criteria") {
        for (i, c) in criteria.iter_mut().enumerate() {
            let kind = text(c, "type").to_string();
            let listed = kind == "uploaded_list" || kind == "lookalike";
            fill(Some(c), "special_category", format!("targeting.criteria[{i}].special_category"), true);
            let special = c.get("special_category").is_some_and(|s| !s.is_null());
            fill(Some(c), "art9_condition", format!("targeting.criteria[{i}].art9_condition"), special);
            fill(Some(c), "match_keys", format!("targeting.criteria[{i}].match_keys"), listed);
            fill(Some(c), "seed_audience", format!("targeting.criteria[{i}].seed_audience"), kind == "lookalike");
        }
    }
    if let Some(Value::Array(lineage)) = body.get_mut("lineage") {
        for (i, l) in lineage.iter_mut().enumerate() {
            fill(Some(l), "model", format!("lineage[{i}].model"), true);
            fill(Some(l), "entry", format!("lineage[{i}].entry"), false);
            for key in ["audience_size", "precision", "id_types", "onboarder"] {
                fill(Some(l), key, format!("lineage[{i}].{key}"), true);
            }
        }
    }
    omitted
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

//! The rules of what revision 3 asks a `message` to disclose (SPEC.md §3.4; the types are in
//! `disclosures.rs`): how an e-mail address was obtained, the creative's visibility and content,
//! a special category's Art. 9(2) condition, match keys and seed audiences, a contextual
//! criterion without sources, an earlier message as a source, the data-label fields and the
//! rest of the TTPA notice. Each failure names its field.

use crate::error::Result;
use crate::model::canonical::MAX_SAFE_INTEGER;
use crate::model::disclosed::Disclosed;
use crate::model::fields::{check_hex32, check_text, check_url, invalid};
use crate::model::record::{Channel, Criterion, CriterionType, LineageLabel, MessageBody, Political, SourceKind};

/// How many assets a creative lists.
const MAX_ASSETS: usize = 16;

fn date_ok(s: &str) -> bool {
    time::Date::parse(s, &time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

/// A count of people: an integer up to 2^53 − 1 (SPEC.md §1), or `not_disclosed`.
fn check_count(r: usize, field: &str, n: &Disclosed<u64>) -> Result<()> {
    match n {
        Disclosed::Value(n) if *n > MAX_SAFE_INTEGER => Err(invalid(r, field, "must be an integer from 0 to 2^53-1")),
        _ => Ok(()),
    }
}

/// Lineage ids: non-empty, each a label of the record.
fn check_lineage_ids(r: usize, field: &str, ids: &[String], lineage_ids: &[&str]) -> Result<()> {
    if ids.is_empty() {
        return Err(invalid(r, field, "must name at least one lineage id of this record"));
    }
    match ids.iter().find(|id| !lineage_ids.contains(&id.as_str())) {
        Some(id) => Err(invalid(r, field, format!("`{id}` is not a lineage id of this record"))),
        None => Ok(()),
    }
}

/// `delivery.address_lineage`, `delivery.creative.visibility` and `.content`.
pub(crate) fn check_delivery(m: &MessageBody, r: usize, lineage_ids: &[&str]) -> Result<()> {
    let d = &m.delivery;
    match (d.channel, &d.address_lineage) {
        (Channel::Email, None) => {
            return Err(invalid(
                r,
                "delivery.address_lineage",
                "an email must say how the recipient's address was obtained: the lineage ids behind it",
            ))
        }
        (Channel::Email, Some(ids)) => check_lineage_ids(r, "delivery.address_lineage", ids, lineage_ids)?,
        (_, Some(_)) => return Err(invalid(r, "delivery.address_lineage", "must be null unless channel is email")),
        (_, None) => {}
    }
    let c = &d.creative;
    if c.visibility.is_none() {
        return Err(invalid(
            r,
            "delivery.creative.visibility",
            "must say \"public\" or \"audience_only\" (shown only to the audience targeted)",
        ));
    }
    let Some(content) = &c.content else {
        return Err(invalid(r, "delivery.creative.content", "must hold the creative's text and its assets (DSA Art. 39(2)(a))"));
    };
    check_text(r, "delivery.creative.content.text", &content.text)?;
    if content.assets.len() > MAX_ASSETS {
        return Err(invalid(r, "delivery.creative.content.assets", format!("at most {MAX_ASSETS} assets per creative")));
    }
    for (i, a) in content.assets.iter().enumerate() {
        check_hex32(r, || format!("delivery.creative.content.assets[{i}].sha256"), &a.sha256)?;
        if let Some(u) = &a.url {
            check_url(r, &format!("delivery.creative.content.assets[{i}].url"), u, false)?;
        }
    }
    Ok(())
}

/// A criterion's `art9_condition`, `match_keys` and `seed_audience`, and its lineage (which a
/// contextual criterion may leave empty: it concerns the placement, not the person).
pub(crate) fn check_criterion(c: &Criterion, i: usize, r: usize, lineage_ids: &[&str]) -> Result<()> {
    let f = |name: &str| format!("targeting.criteria[{i}].{name}");
    if c.lineage.is_empty() && c.kind != CriterionType::Contextual {
        return Err(invalid(r, &f("lineage"), "every criterion but a contextual one must name where its data came from (a lineage id)"));
    }
    let special = matches!(c.special_category, Some(Disclosed::Value(_) | Disclosed::NotDisclosed));
    match (special, &c.art9_condition) {
        (true, None) => {
            return Err(invalid(
                r,
                &f("art9_condition"),
                "a special category of data needs the GDPR Art. 9(2) condition relied on (or \"none\", or \"not_disclosed\")",
            ))
        }
        (false, Some(_)) => return Err(invalid(r, &f("art9_condition"), "must be null when special_category is null")),
        _ => {}
    }
    let listed = matches!(c.kind, CriterionType::UploadedList | CriterionType::Lookalike);
    match (listed, &c.match_keys) {
        (true, None) => {
            return Err(invalid(
                r,
                &f("match_keys"),
                "an uploaded list or a lookalike must name the identifiers its list was matched by (or \"not_disclosed\")",
            ))
        }
        (true, Some(Disclosed::Value(keys))) if keys.is_empty() => {
            return Err(invalid(r, &f("match_keys"), "must name at least one kind of identifier (or say \"not_disclosed\")"))
        }
        (false, Some(_)) => return Err(invalid(r, &f("match_keys"), "must be null unless type is uploaded_list or lookalike")),
        _ => {}
    }
    match (c.kind == CriterionType::Lookalike, &c.seed_audience) {
        (true, None) => return Err(invalid(r, &f("seed_audience"), "a lookalike must describe the audience it was grown from")),
        (true, Some(s)) => {
            check_text(r, || f("seed_audience.description"), &s.description)?;
            check_lineage_ids(r, &f("seed_audience.lineage"), &s.lineage, lineage_ids)?;
            check_count(r, &f("seed_audience.size"), &s.size)?;
        }
        (false, Some(_)) => return Err(invalid(r, &f("seed_audience"), "must be null unless type is lookalike")),
        (false, None) => {}
    }
    Ok(())
}

/// A lineage label's `entry` (an earlier entry of this log, for `kind = earlier_message`) and
/// its data-label fields.
pub(crate) fn check_label(l: &LineageLabel, i: usize, r: usize) -> Result<()> {
    let f = |name: &str| format!("lineage[{i}].{name}");
    match (l.kind == SourceKind::EarlierMessage, l.entry) {
        (true, None) => {
            return Err(invalid(r, &f("entry"), "a source of kind earlier_message names the index of that message's entry in this log"))
        }
        (true, Some(n)) if n > MAX_SAFE_INTEGER => return Err(invalid(r, &f("entry"), "must be an entry index from 0 to 2^53-1")),
        (false, Some(_)) => return Err(invalid(r, &f("entry"), "must be null unless kind is earlier_message")),
        _ => {}
    }
    if let Some(size) = &l.audience_size {
        check_count(r, &f("audience_size"), size)?;
    }
    if let Some(Disclosed::Value(ids)) = &l.id_types {
        if ids.is_empty() {
            return Err(invalid(r, &f("id_types"), "must name at least one kind of identifier (or say \"not_disclosed\", or be null)"));
        }
    }
    if let Some(Disclosed::Value(o)) = &l.onboarder {
        check_text(r, || f("onboarder.name"), &o.name)?;
        check_text(r, || f("onboarder.match_method"), &o.match_method)?;
    }
    Ok(())
}

/// The TTPA notice fields revision 3 adds to `sponsor.political`.
pub(crate) fn check_notice(p: &Political, r: usize) -> Result<()> {
    let f = |name: &str| format!("sponsor.political.{name}");
    match &p.period {
        None => return Err(invalid(r, &f("period"), "must give the dissemination period {from, to} or say \"not_disclosed\"")),
        Some(Disclosed::Value(period)) => {
            if !date_ok(&period.from) || !date_ok(&period.to) {
                return Err(invalid(r, &f("period"), "`from` and `to` must be dates YYYY-MM-DD"));
            }
            if period.to < period.from {
                return Err(invalid(r, &f("period.to"), "is before `from`"));
            }
        }
        Some(Disclosed::NotDisclosed) => {}
    }
    match &p.other_benefits {
        None => {
            return Err(invalid(
                r,
                &f("other_benefits"),
                "must describe other benefits received (text, e.g. \"none\") or say \"not_disclosed\"",
            ))
        }
        Some(Disclosed::Value(t)) => check_text(r, || f("other_benefits"), t)?,
        Some(Disclosed::NotDisclosed) => {}
    }
    if p.funding_source.is_none() {
        return Err(invalid(r, &f("funding_source"), "must give {sector, territory} of the funds or say \"not_disclosed\""));
    }
    match &p.repository_url {
        None => {
            return Err(invalid(
                r,
                &f("repository_url"),
                "must link the European repository entry of this advertisement or say \"not_disclosed\"",
            ))
        }
        Some(Disclosed::Value(u)) => check_url(r, &f("repository_url"), u, false)?,
        Some(Disclosed::NotDisclosed) => {}
    }
    match &p.report_url {
        None => {
            return Err(invalid(
                r,
                &f("report_url"),
                "must say where to report this advertisement as unlawful (an https URL or a mailto: address)",
            ))
        }
        Some(u) => check_url(r, &f("report_url"), u, true)?,
    }
    if let Some(s) = &p.suspension {
        check_text(r, || f("suspension"), s)?;
    }
    Ok(())
}

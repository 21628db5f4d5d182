//! The field rules of SPEC.md §3 that need no log state: [`validate`] for a body of any kind,
//! and the rules of a `message` body (§3.4), one check per rule. Whether parties and submitters
//! are registered is checked by the write pipeline (`pipeline/prepare.rs`).

use crate::error::Result;
use crate::model::canonical::decode_public_key;
use crate::model::codes::{is_currency, is_language, is_member_state};
use crate::model::fields::check_url;
use crate::model::record::{
    check_country, check_hex32, check_id, check_text, check_time, invalid, Body, Channel, Disclosed, MessageBody, SourceKind, ERASED_BY,
    NOT_DISCLOSED,
};
use crate::model::signatures::unusable_key;
use crate::tlog::note::NoteVerifier;

/// The field rules of SPEC.md §3 that need no log state, for a body of any kind. `r` is the
/// record's position in its batch, for error messages.
pub(crate) fn validate(body: &Body, r: usize) -> Result<()> {
    let log_signed = |signer: &str| {
        if signer == "log" {
            Ok(())
        } else {
            Err(invalid(r, "signer", "must be \"log\" for records the log operator writes"))
        }
    };
    match body {
        Body::LogKey(b) => {
            log_signed(&b.signer)?;
            check_time(r, "announced_at", &b.announced_at)?;
            NoteVerifier::from_vkey(&b.vkey).map_err(|e| invalid(r, "vkey", e.to_string()))?;
        }
        Body::Submitter(b) => {
            log_signed(&b.signer)?;
            check_id(r, "submitter", &b.submitter)?;
            if b.submitter == "log" {
                return Err(invalid(r, "submitter", "`log` is reserved for the log operator"));
            }
            check_text(r, "name", &b.name)?;
            check_text(r, "contact", &b.contact)?;
            let key = decode_public_key(&b.public_key).map_err(|e| invalid(r, "public_key", e))?;
            if let Some(why) = unusable_key(&key) {
                return Err(invalid(r, "public_key", why));
            }
            check_time(r, "registered_at", &b.registered_at)?;
        }
        Body::Party(b) => {
            log_signed(&b.signer)?;
            check_id(r, "party", &b.party)?;
            check_text(r, "name", &b.name)?;
            check_text(r, "contact", &b.contact)?;
            check_country(r, "established_in", &b.established_in)?;
            if b.ultimately_controlled_by != "self" && b.ultimately_controlled_by != NOT_DISCLOSED {
                check_id(r, "ultimately_controlled_by", &b.ultimately_controlled_by)?;
            }
        }
        Body::Objection(b) => {
            log_signed(&b.signer)?;
            check_id(r, "advertiser", &b.advertiser)?;
            check_hex32(r, "recipient.commitment", &b.recipient.commitment)?;
            if b.scope != "all_targeting" {
                return Err(invalid(r, "scope", "must be \"all_targeting\" in v1"));
            }
            check_time(r, "received_at", &b.received_at)?;
        }
        Body::Erasure(b) => {
            log_signed(&b.signer)?;
            if !ERASED_BY.contains(&b.by.as_str()) {
                return Err(invalid(r, "by", "must be \"link_holder\", \"compliance\" or (in entries before revision 3) \"recipient\""));
            }
            check_time(r, "requested_at", &b.requested_at)?;
        }
        Body::Message(m) => validate_message(m, r)?,
        Body::Tally(t) => t.validate(r)?,
    }
    Ok(())
}

const MAX_CRITERIA: usize = 64;
const MAX_LINEAGE: usize = 64;

pub(crate) fn validate_message(m: &MessageBody, r: usize) -> Result<()> {
    check_id(r, "signer", &m.signer)?;
    check_id(r, "message_id", &m.message_id)?;
    check_delivery(m, r)?;
    check_sponsor(m, r)?;
    check_hex32(r, "recipient.commitment", &m.recipient.commitment)?;
    check_hex32(r, "personal_commitment", &m.personal_commitment)?;
    let lineage_ids = check_lineage(m, r)?;
    check_targeting(m, r, &lineage_ids)?;
    crate::model::disclosure_rules::check_delivery(m, r, &lineage_ids)?;
    check_controls(m, r)?;
    Ok(())
}

fn check_delivery(m: &MessageBody, r: usize) -> Result<()> {
    let d = &m.delivery;
    check_time(r, "delivery.served_at", &d.served_at)?;
    if !is_member_state(&d.member_state) {
        return Err(invalid(
            r,
            "delivery.member_state",
            format!("`{}` is not an EU Member State code (use EL for Greece)", d.member_state),
        ));
    }
    let c = &d.creative;
    check_hex32(r, "delivery.creative.sha256", &c.sha256)?;
    check_text(r, "delivery.creative.brand", &c.brand)?;
    check_text(r, "delivery.creative.subject", &c.subject)?;
    if !is_language(&c.language) {
        return Err(invalid(
            r,
            "delivery.creative.language",
            format!("`{}` is not an ISO 639-1 language code (such as de or fr)", c.language),
        ));
    }
    check_id(r, "delivery.creative.campaign_id", &c.campaign_id)?;
    check_id(r, "delivery.creative.ad_id", &c.ad_id)?;
    check_id(r, "delivery.creative.creative_id", &c.creative_id)?;
    match (&d.channel, &d.email_headers) {
        (Channel::Email, None) => {
            return Err(invalid(r, "delivery.email_headers", "an email must carry its List-Unsubscribe headers (RFC 2369/8058)"))
        }
        (Channel::Email, Some(h)) => {
            check_text(r, "delivery.email_headers.list_unsubscribe", &h.list_unsubscribe)?;
            if let Disclosed::Value(p) = &h.list_unsubscribe_post {
                check_text(r, "delivery.email_headers.list_unsubscribe_post", p)?;
            }
        }
        (_, Some(_)) => return Err(invalid(r, "delivery.email_headers", "must be null unless channel is email")),
        (_, None) => {}
    }
    Ok(())
}

fn check_sponsor(m: &MessageBody, r: usize) -> Result<()> {
    let s = &m.sponsor;
    check_id(r, "sponsor.on_behalf_of", &s.on_behalf_of)?;
    check_id(r, "sponsor.payer", &s.payer)?;
    if let Some(p) = &s.political {
        check_text(r, "sponsor.political.linked_to", &p.linked_to)?;
        if let Disclosed::Value(date) = &p.date {
            if time::Date::parse(date, &time::macros::format_description!("[year]-[month]-[day]")).is_err() {
                return Err(invalid(r, "sponsor.political.date", "must be a date YYYY-MM-DD or \"not_disclosed\""));
            }
        }
        if let Disclosed::Value(a) = &p.amount {
            if !is_decimal(&a.value) {
                return Err(invalid(
                    r,
                    "sponsor.political.amount.value",
                    "must be a decimal string with at most 2 decimals, e.g. \"48000.00\"",
                ));
            }
            if !is_currency(&a.currency) {
                return Err(invalid(
                    r,
                    "sponsor.political.amount.currency",
                    format!("`{}` is not an ISO 4217 currency code (such as EUR)", a.currency),
                ));
            }
        }
        if let Disclosed::Value(f) = &p.funding_origin {
            check_text(r, "sponsor.political.funding_origin", f)?;
        }
        check_url(r, "sponsor.political.notice_url", &p.notice_url, false)?;
        crate::model::disclosure_rules::check_notice(p, r)?;
    }
    Ok(())
}

fn is_decimal(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !int.is_empty()
        && int.len() <= 15
        && int.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'))
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(s.contains('.') && frac.is_empty())
}

/// Checks the lineage labels and their `derived_from` graph; returns the labels' ids in order.
/// A record has at most 64 labels, so a set of them is one `u64` (bit `i` is `lineage[i]`) and
/// the graph needs no hashing or allocation beyond the id list.
fn check_lineage(m: &MessageBody, r: usize) -> Result<Vec<&str>> {
    if m.lineage.len() > MAX_LINEAGE {
        return Err(invalid(r, "lineage", format!("at most {MAX_LINEAGE} labels per record")));
    }
    let mut ids: Vec<&str> = Vec::with_capacity(m.lineage.len());
    for (i, l) in m.lineage.iter().enumerate() {
        let f = |name: &str| format!("lineage[{i}].{name}");
        check_id(r, || f("id"), &l.id)?;
        if ids.contains(&l.id.as_str()) {
            return Err(invalid(r, &f("id"), format!("duplicate lineage id `{}`", l.id)));
        }
        ids.push(&l.id);
        check_text(r, || f("provider"), &l.provider)?;
        check_text(r, || f("contact"), &l.contact)?;
        check_text(r, || f("collection_method"), &l.collection_method)?;
        match (l.kind, &l.model) {
            (SourceKind::Inferred, None) => {
                return Err(invalid(r, &f("model"), "an inferred source must name its model {name, version} or say \"not_disclosed\""))
            }
            (SourceKind::Inferred, Some(Disclosed::Value(model))) => {
                check_text(r, || f("model.name"), &model.name)?;
                check_text(r, || f("model.version"), &model.version)?;
            }
            (SourceKind::Inferred, Some(Disclosed::NotDisclosed)) => {}
            (_, Some(_)) => return Err(invalid(r, &f("model"), "must be null unless kind is inferred")),
            (_, None) => {}
        }
        if let Disclosed::Value(d) = &l.collected_at {
            if time::Date::parse(d, &time::macros::format_description!("[year]-[month]-[day]")).is_err() {
                return Err(invalid(r, &f("collected_at"), "must be a date YYYY-MM-DD or \"not_disclosed\""));
            }
        }
        if let Disclosed::Value(t) = &l.refresh {
            check_text(r, || f("refresh"), t)?;
        }
        crate::model::disclosure_rules::check_label(l, i, r)?;
    }
    // derived_from: known ids, no cycles. `parents[i]` is the set lineage[i] is derived from
    // (an unknown id is refused below, at its own label, in record order).
    let bit = |id: &str| ids.iter().position(|&known| known == id).map(|i| 1u64 << i);
    let parents: Vec<u64> = m.lineage.iter().map(|l| l.derived_from.iter().filter_map(|d| bit(d)).fold(0, |set, b| set | b)).collect();
    for (i, l) in m.lineage.iter().enumerate() {
        if let Some(d) = l.derived_from.iter().find(|d| bit(d).is_none()) {
            return Err(invalid(r, &format!("lineage[{i}].derived_from"), format!("`{d}` is not a lineage id of this record")));
        }
        if derives_from_itself(&parents, i) {
            return Err(invalid(r, &format!("lineage[{i}].derived_from"), format!("`{}` is derived from itself (a cycle)", l.id)));
        }
    }
    Ok(ids)
}

/// Whether label `i` is among its own ancestors: the labels reachable from its parents, one
/// generation at a time, as bit sets.
fn derives_from_itself(parents: &[u64], i: usize) -> bool {
    let (mut seen, mut frontier) = (0u64, parents.get(i).copied().unwrap_or(0));
    while frontier != 0 {
        seen |= frontier;
        let mut next = 0;
        let mut rest = frontier;
        while rest != 0 {
            let j = rest.trailing_zeros() as usize;
            next |= parents.get(j).copied().unwrap_or(0);
            rest &= rest - 1;
        }
        frontier = next & !seen;
    }
    seen & (1u64 << i) != 0
}

fn check_targeting(m: &MessageBody, r: usize, lineage_ids: &[&str]) -> Result<()> {
    let t = &m.targeting;
    if t.criteria.len() > MAX_CRITERIA {
        return Err(invalid(r, "targeting.criteria", format!("at most {MAX_CRITERIA} criteria per record")));
    }
    for (i, c) in t.criteria.iter().enumerate() {
        let f = |name: &str| format!("targeting.criteria[{i}].{name}");
        check_id(r, || f("id"), &c.id)?;
        if t.criteria.iter().take(i).any(|earlier| earlier.id == c.id) {
            return Err(invalid(r, &f("id"), format!("duplicate criterion id `{}`", c.id)));
        }
        check_text(r, || f("description"), &c.description)?;
        crate::model::disclosure_rules::check_criterion(c, i, r, lineage_ids)?;
        for l in &c.lineage {
            if !lineage_ids.contains(&l.as_str()) {
                return Err(invalid(r, &f("lineage"), format!("`{l}` is not a lineage id of this record")));
            }
        }
    }
    if let Err(fault) = crate::model::selection::check(t.audience.as_ref(), &t.criteria) {
        return Err(invalid(r, "targeting.audience", fault.why));
    }
    if let Disclosed::Value(g) = &t.delivery_optimisation.goal {
        check_text(r, "targeting.delivery_optimisation.goal", g)?;
    }
    Ok(())
}

fn check_controls(m: &MessageBody, r: usize) -> Result<()> {
    let c = &m.controls;
    for (name, v, mailto) in [
        ("controls.change_parameters_url", &c.change_parameters_url, false),
        ("controls.object_url", &c.object_url, false),
        ("controls.opt_out_url", &c.opt_out_url, false),
        ("controls.controller_contact", &c.controller_contact, true),
    ] {
        if let Disclosed::Value(u) = v {
            check_url(r, name, u, mailto)?;
        }
    }
    Ok(())
}

//! What revision 3 asks a `message` to disclose beyond revision 2 (SPEC.md §3.4), as types
//! and their rules: the creative's content and whether it was published openly (DSA Art.
//! 39(2)(a)), the GDPR Art. 9(2) condition of special-category data, the match keys of an
//! uploaded list and the seed audience of a lookalike, the IAB Data Transparency Standard's
//! data-label fields of a source, a source that is an earlier entry of this log, how an e-mail
//! address was obtained, and the full TTPA notice (Reg. 2024/900 Art. 12).
//!
//! Each field is required (a nullable one as `null` where it does not apply), like every field
//! of §3. An entry logged before revision 3 leaves them out; it is read with them `null` and the
//! pages say the record does not state them (`omitted.rs`).

use serde::{Deserialize, Serialize};

use crate::canonical::MAX_SAFE_INTEGER;
use crate::error::Result;
use crate::record::Channel;
use crate::record::{
    check_hex32, check_text, invalid, Criterion, CriterionType, Disclosed, LineageLabel, MessageBody, Political, SourceKind,
};

/// Whether a creative was also published openly, or shown only to the audience it targeted
/// (a "dark post").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Public,
    AudienceOnly,
}

/// The content of a creative (DSA Art. 39(2)(a)): its text, and each asset by hash and link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreativeContent {
    pub text: String,
    pub assets: Vec<Asset>,
}

/// One asset of a creative: the SHA-256 of its bytes, and where it can be fetched (`null` when
/// it is not published anywhere).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    pub sha256: String,
    #[serde(deserialize_with = "crate::record::nullable")]
    pub url: Option<String>,
}

/// The GDPR Art. 9(2) condition relied on to use a special category of personal data, or
/// `none` (a plain Art. 6 basis, which Art. 9(1) forbids for such data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Art9Condition {
    /// (a)
    ExplicitConsent,
    /// (b)
    EmploymentAndSocialProtection,
    /// (c)
    VitalInterests,
    /// (d)
    NotForProfitMembers,
    /// (e)
    ManifestlyMadePublic,
    /// (f)
    LegalClaims,
    /// (g)
    SubstantialPublicInterest,
    /// (h)
    HealthOrSocialCare,
    /// (i)
    PublicHealth,
    /// (j)
    ArchivingResearchOrStatistics,
    /// No Art. 9(2) condition: only the source's Art. 6 basis.
    None,
}

/// A kind of identifier a list is matched by or a segment is keyed on (the IAB Data
/// Transparency Standard's ID types, with the voter id that electoral data is keyed on).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    Email,
    HashedEmail,
    Phone,
    HashedPhone,
    PostalAddress,
    VoterId,
    CustomerId,
    MobileAdId,
    CookieId,
    PlatformId,
    CtvId,
    IpAddress,
}

/// The audience a lookalike was grown from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAudience {
    pub description: String,
    /// Lineage ids of the record the seed list came from.
    pub lineage: Vec<String>,
    pub size: Disclosed<u64>,
}

/// How precisely a segment describes people (IAB Data Transparency Standard).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Individual,
    Household,
    Device,
    Browser,
    Business,
    Geography,
}

/// Who matched offline data to online identifiers, and how (IAB Data Transparency Standard).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Onboarder {
    pub name: String,
    pub match_method: String,
}

/// When a political advertisement is disseminated (TTPA Art. 12(1)(d)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub from: String,
    pub to: String,
}

/// Where the money for a political advertisement comes from (TTPA Art. 12(1)(f)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingSource {
    pub sector: FundingSector,
    pub territory: FundingTerritory,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingSector {
    Public,
    Private,
    PublicAndPrivate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingTerritory {
    InsideEu,
    OutsideEu,
    InsideAndOutsideEu,
}

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
            crate::record_rules::check_url(r, &format!("delivery.creative.content.assets[{i}].url"), u, false)?;
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
        Some(Disclosed::Value(u)) => crate::record_rules::check_url(r, &f("repository_url"), u, false)?,
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
        Some(u) => crate::record_rules::check_url(r, &f("report_url"), u, true)?,
    }
    if let Some(s) = &p.suspension {
        check_text(r, || f("suspension"), s)?;
    }
    Ok(())
}

//! The TTPA (Reg. 2024/900) label and transparency notice of a political campaign as the library
//! shows it (SPEC.md §3.4, §12): the label exactly as logged, and its fields in words, "not
//! stated" where an older record leaves one out.

use serde::Serialize;
use serde_json::Value;

use super::str_at;

/// The TTPA (Reg. 2024/900) label of a political message.
#[derive(Clone, Debug, Serialize)]
pub struct PoliticalLabel {
    /// `election`, `referendum`, `legislative_process` or `regulatory_process`.
    pub kind: String,
    /// The election, referendum or process it is linked to.
    pub linked_to: String,
    /// A date or `not_disclosed`.
    pub date: String,
    /// `{value, currency}` or `"not_disclosed"`.
    pub amount: Value,
    /// Text or `not_disclosed`.
    pub funding_origin: String,
    /// The transparency notice.
    pub notice_url: String,
    /// The rest of the TTPA notice (revision 3), as logged; `null` where an older record leaves
    /// it out: `{from, to}` or `"not_disclosed"`.
    pub period: Value,
    /// Benefits other than money: text or `"not_disclosed"`.
    pub other_benefits: Value,
    /// `{sector, territory}` or `"not_disclosed"`.
    pub funding_source: Value,
    /// The European repository entry: an https URL or `"not_disclosed"`.
    pub repository_url: Value,
    /// Where to report it as unlawful.
    pub report_url: Value,
    /// An earlier suspension or removal; `null`: none (or, in an older record, not stated).
    pub suspension: Value,
    /// Whether the label holds the fields revision 3 added (`report_url` is one of them).
    #[serde(skip)]
    pub stated: bool,
}

impl PoliticalLabel {
    pub(super) fn from_value(v: &Value) -> PoliticalLabel {
        PoliticalLabel {
            kind: str_at(v, "kind").to_owned(),
            linked_to: str_at(v, "linked_to").to_owned(),
            date: str_at(v, "date").to_owned(),
            amount: v.get("amount").cloned().unwrap_or(Value::Null),
            funding_origin: str_at(v, "funding_origin").to_owned(),
            notice_url: str_at(v, "notice_url").to_owned(),
            period: v.get("period").cloned().unwrap_or(Value::Null),
            other_benefits: v.get("other_benefits").cloned().unwrap_or(Value::Null),
            funding_source: v.get("funding_source").cloned().unwrap_or(Value::Null),
            repository_url: v.get("repository_url").cloned().unwrap_or(Value::Null),
            report_url: v.get("report_url").cloned().unwrap_or(Value::Null),
            suspension: v.get("suspension").cloned().unwrap_or(Value::Null),
            stated: v.get("report_url").is_some(),
        }
    }

    /// Other benefits in words.
    pub fn other_benefits_text(&self) -> String {
        Self::notice_text(&self.other_benefits)
    }
    /// The repository entry in words.
    pub fn repository_text(&self) -> String {
        Self::notice_text(&self.repository_url)
    }
    /// Where to report it, in words.
    pub fn report_text(&self) -> String {
        Self::notice_text(&self.report_url)
    }

    /// An earlier suspension in words: its text, `none`, or `not stated` (an older record).
    pub fn suspension_text(&self) -> String {
        match (self.suspension.as_str(), self.stated) {
            (Some(s), _) => s.to_owned(),
            (None, true) => "none".into(),
            (None, false) => "not stated".into(),
        }
    }

    /// `2026-11-01 to 2026-11-30`, `not disclosed`, or `not stated` (an older record).
    pub fn period_text(&self) -> String {
        match (&self.period, self.period.get("from").and_then(Value::as_str), self.period.get("to").and_then(Value::as_str)) {
            (_, Some(from), Some(to)) => format!("{from} to {to}"),
            (Value::String(s), _, _) => s.replace('_', " "),
            _ => "not stated".into(),
        }
    }

    /// `private funds from inside the EU`, `not disclosed`, or `not stated`.
    pub fn funding_source_text(&self) -> String {
        let field = |k: &str| self.funding_source.get(k).and_then(Value::as_str).map(|s| s.replace('_', " "));
        match (&self.funding_source, field("sector"), field("territory")) {
            (_, Some(sector), Some(territory)) => format!("{sector} funds, {territory}"),
            (Value::String(s), _, _) => s.replace('_', " "),
            _ => "not stated".into(),
        }
    }

    /// A text field of the notice in words: its value, `not disclosed`, or `not stated`.
    pub fn notice_text(v: &Value) -> String {
        match v.as_str() {
            Some(s) => s.replace("not_disclosed", "not disclosed"),
            None => "not stated".into(),
        }
    }

    /// `48000.00 EUR`, or `not disclosed`.
    pub fn amount_text(&self) -> String {
        match (self.amount.get("value").and_then(Value::as_str), self.amount.get("currency").and_then(Value::as_str)) {
            (Some(v), Some(c)) => format!("{v} {c}"),
            _ => "not disclosed".into(),
        }
    }

    /// `election`, `legislative process`, ...
    pub fn kind_text(&self) -> String {
        self.kind.replace('_', " ")
    }

    /// Whether the notice URL may be shown as a link (it is always https).
    pub fn notice_is_link(&self) -> bool {
        self.notice_url.starts_with("https://")
    }
}

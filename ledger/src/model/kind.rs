//! The kinds of record (SPEC.md §3): the `kind` member every body starts from.

use serde::{Deserialize, Serialize};

/// `kind` of a record body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `log_key` (§3.1).
    LogKey,
    /// `submitter` (§3.2).
    Submitter,
    /// `party` (§3.3).
    Party,
    /// `message` (§3.4).
    Message,
    /// `objection` (§3.5).
    Objection,
    /// `erasure` (§3.7).
    Erasure,
    /// `tally` (§3.8).
    Tally,
}

impl Kind {
    /// The kind as `kind` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LogKey => "log_key",
            Kind::Submitter => "submitter",
            Kind::Party => "party",
            Kind::Message => "message",
            Kind::Objection => "objection",
            Kind::Erasure => "erasure",
            Kind::Tally => "tally",
        }
    }
}

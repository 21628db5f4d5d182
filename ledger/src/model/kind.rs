//! The kinds of record (SPEC.md §3): the `kind` member every body starts from.

use serde::{Deserialize, Serialize};

/// `kind` of a record body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    LogKey,
    Submitter,
    Party,
    Message,
    Objection,
    Erasure,
    Tally,
}

impl Kind {
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

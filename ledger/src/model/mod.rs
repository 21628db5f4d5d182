//! What a record is and how it is written (SPEC.md §1–§4, §12): the bytes, the entries, the
//! record types and their rules, and who may sign them.
//!
//! | file | concern |
//! |---|---|
//! | `canonical.rs` | RFC 8785 bytes (`jcs`, `is_jcs`) and the message a signer signs |
//! | `json_text.rs` | the one JSON string writer (escaping), shared with the server's responses |
//! | `entry.rs` | the entry envelope of §2: built, parsed strictly, read as logged |
//! | `kind.rs`, `record.rs` | the record types of §3 |
//! | `parse.rs` | a body from JSON: typed and validated, or read as logged |
//! | `rules.rs`, `fields.rs` | the rules of §3 that need no log state, and the field checks of §1 |
//! | `tally.rs` | the `tally` record of §3.8 |
//! | `audience.rs`, `selection.rs` | the audience expression and a recipient's evaluation (revision 3), and what the evaluation proves: the rules, the check that the person was selected, the criteria that selected them |
//! | `disclosures.rs`, `disclosure_rules.rs` | what revision 3 adds to a message (creative content, Art. 9 conditions, match keys, data labels, the TTPA notice), and its rules |
//! | `omitted.rs` | reading a body logged before a field was required |
//! | `disclosed.rs`, `codes.rs`, `text.rs` | `not_disclosed`, the ISO code lists, free text |
//! | `json_keys.rs`, `serde_words.rs` | a repeated JSON key, and a decoding error in plain words |
//! | `signatures.rs` | how a record signature is checked (ZIP 215), alone and in batches |
//! | `registry.rs` | log keys, submitters and parties learned from the log |
//! | `request_auth.rs` | the submitter's signed `Authorization` header (§12) |
//!
//! Nothing here knows the store, the tree or the threads that append.

pub mod audience;
pub mod canonical;
pub mod codes;
pub(crate) mod disclosed;
pub(crate) mod disclosure_rules;
pub(crate) mod disclosures;
pub mod entry;
pub(crate) mod fields;
pub(crate) mod json_keys;
pub mod json_text;
pub(crate) mod kind;
pub(crate) mod omitted;
pub(crate) mod parse;
pub mod record;
pub mod registry;
pub mod request_auth;
pub(crate) mod rules;
pub mod selection;
pub mod serde_words;
pub(crate) mod signatures;
pub mod tally;
pub mod text;

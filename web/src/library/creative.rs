//! One creative of a campaign as the library shows it: its ids and digest and, from revision 3,
//! whether it was published openly and its content (SPEC.md §3.4 `delivery.creative`), as the
//! first message that carried it states them. No personal data.

use serde::{Deserialize, Serialize};

/// One creative as served (no personal data): ids, digest, and (revision 3) whether it was
/// also published openly and its content, as the first message that carried it states them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreativeRef {
    /// Its creative id.
    pub creative_id: String,
    /// Its ad id.
    pub ad_id: String,
    /// The content hash of what was served.
    pub sha256: String,
    /// `public`, `audience_only` (a dark post), or `None` where the record does not state it.
    pub visibility: Option<String>,
    /// Its text, where the record holds it.
    pub text: Option<String>,
    /// Its assets.
    pub assets: Vec<AssetRef>,
}

impl CreativeRef {
    /// Whether it was published openly, in words.
    pub fn visibility_text(&self) -> &'static str {
        match self.visibility.as_deref() {
            Some("public") => "published openly as well",
            Some("audience_only") => "shown only to the people targeted (a dark post)",
            _ => "whether it was published openly is not stated",
        }
    }
}

/// One asset of a creative: its digest, and where it is published (if anywhere).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRef {
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Where it is published, if anywhere.
    pub url: Option<String>,
}

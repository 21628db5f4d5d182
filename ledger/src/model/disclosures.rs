//! What revision 3 asks a `message` to disclose beyond revision 2 (SPEC.md §3.4), as types
//! (their rules are in `disclosure_rules.rs`): the creative's content and whether it was published openly (DSA Art.
//! 39(2)(a)), the GDPR Art. 9(2) condition of special-category data, the match keys of an
//! uploaded list and the seed audience of a lookalike, the IAB Data Transparency Standard's
//! data-label fields of a source, a source that is an earlier entry of this log, how an e-mail
//! address was obtained, and the full TTPA notice (Reg. 2024/900 Art. 12).
//!
//! Each field is required (a nullable one as `null` where it does not apply), like every field
//! of §3. An entry logged before revision 3 leaves them out; it is read with them `null` and the
//! pages say the record does not state them (`omitted.rs`).

use serde::{Deserialize, Serialize};

use crate::model::disclosed::Disclosed;

/// Whether a creative was also published openly, or shown only to the audience it targeted
/// (a "dark post").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Also published openly (for example on the sponsor's own page).
    Public,
    /// Shown only to the audience targeted.
    AudienceOnly,
}

/// The content of a creative (DSA Art. 39(2)(a)): its text, and each asset by hash and link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreativeContent {
    /// Its text (a video's or TV spot's script).
    pub text: String,
    /// Its images, videos or documents.
    pub assets: Vec<Asset>,
}

/// One asset of a creative: the SHA-256 of its bytes, and where it can be fetched (`null` when
/// it is not published anywhere).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// SHA-256 of its bytes, 64 lowercase hex digits.
    pub sha256: String,
    /// An https URL where it is published.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
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
    /// An e-mail address.
    Email,
    /// A hashed e-mail address.
    HashedEmail,
    /// A phone number.
    Phone,
    /// A hashed phone number.
    HashedPhone,
    /// A postal address.
    PostalAddress,
    /// A voter id from an electoral register.
    VoterId,
    /// A customer or loyalty-card number.
    CustomerId,
    /// A mobile advertising id.
    MobileAdId,
    /// A cookie id.
    CookieId,
    /// An account on the platform.
    PlatformId,
    /// A TV or streaming device id.
    CtvId,
    /// An IP address.
    IpAddress,
}

/// The audience a lookalike was grown from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAudience {
    /// Who is in it, in words.
    pub description: String,
    /// Lineage ids of the record the seed list came from.
    pub lineage: Vec<String>,
    /// How many people it holds.
    pub size: Disclosed<u64>,
}

/// How precisely a segment describes people (IAB Data Transparency Standard).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// Individual people.
    Individual,
    /// Households.
    Household,
    /// Devices.
    Device,
    /// Browsers.
    Browser,
    /// Businesses.
    Business,
    /// Places, not people.
    Geography,
}

/// Who matched offline data to online identifiers, and how (IAB Data Transparency Standard).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Onboarder {
    /// Who onboarded the data.
    pub name: String,
    /// How offline records were matched to online identifiers.
    pub match_method: String,
}

/// When a political advertisement is disseminated (TTPA Art. 12(1)(d)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day, `YYYY-MM-DD`.
    pub to: String,
}

/// Where the money for a political advertisement comes from (TTPA Art. 12(1)(f)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingSource {
    /// Public or private funds.
    pub sector: FundingSector,
    /// From inside or outside the EU.
    pub territory: FundingTerritory,
}

/// Whether funds are public or private.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingSector {
    /// Public funds.
    Public,
    /// Private funds.
    Private,
    /// Both.
    PublicAndPrivate,
}

/// Whether funds come from inside or outside the EU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingTerritory {
    /// From inside the EU.
    InsideEu,
    /// From outside the EU.
    OutsideEu,
    /// From both.
    InsideAndOutsideEu,
}

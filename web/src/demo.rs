//! The demo data set (`sightline serve --demo`): two demo submitters, the parties
//! behind six campaigns, and about 130 served messages with full targeting and
//! data lineage, showing the practices transparency exists for:
//!
//! | campaign | practice |
//! |---|---|
//! | `ocean-2026` | personality-targeted political "dark post" (quiz-app data via friends' permissions, OCEAN model) |
//! | `rally-mobility-2026` | political rally ads by location and declared/observed interests, under-18s excluded |
//! | `prosperity-fund-2026` | political fundraiser: voter file bought from a broker, lookalike model |
//! | `baby-welcome-2026` | retailer's offer to people its model predicts are pregnant (health, inferred) |
//! | `club-vivo-2026` | loyalty-card purchase segments, with TCF consent strings |
//! | `winter-escape-2026` | marketing email to addresses rented from a data broker, with a consent receipt |
//!
//! Then alice@example.org objects to Civic Future and receives one more of its
//! messages (flagged `objected:<n>`), and recipient-017@example.net erases their
//! personal data, so that every state of the recipient pages can be clicked.
//!
//! Loading is idempotent: when the party `p-civic-future` is already registered
//! nothing is appended, and the links are rebuilt from the log. Everything but
//! salts, keys and the time of the one post-objection message is deterministic.

use std::collections::{BTreeMap, HashMap};

use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sightline_ledger::entry::Entry;
use sightline_ledger::privacy::{ConsentEvidence, Personal};
use sightline_ledger::record::format_time;
use sightline_ledger::submitter::{public_key_b64, sign_message};
use sightline_ledger::{Ledger, PersonalState};

use crate::error::{WebError, WebResult};

/// The party whose registration marks the demo as loaded.
const MARKER_PARTY: &str = "p-civic-future";
const SOCIAL: &str = "demo-social";
const MAIL: &str = "demo-mail";
const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
/// The generated recipient who erases their personal data.
const ERASED: &str = "recipient-017@example.net";

/// `(party, name, contact, established_in, ultimately_controlled_by)`, in
/// registration order (controllers first; the marker party last).
const PARTIES: [(&str, &str, &str, &str, &str); 14] = [
    ("p-meridian-strategies", "Meridian Strategic Communications Ltd", "compliance@meridian-strategies.example", "GB", "self"),
    ("p-civic-holding", "Civic Holding GmbH", "office@civic-holding.example", "DE", "p-meridian-strategies"),
    ("p-europe-now", "Europe Now AISBL", "hello@europe-now.example", "BE", "self"),
    ("p-aegean-ventures", "Aegean Ventures Ltd", "info@aegean-ventures.example", "CY", "not_disclosed"),
    ("p-prosperity-fund", "Prosperity Fund CLG", "treasurer@prosperity-fund.example", "IE", "p-aegean-ventures"),
    ("p-alliance-prosperity", "Alliance for Prosperity", "info@allianceforprosperity.example", "IE", "self"),
    ("p-kaufwelt-holding", "Kaufwelt Holding SE", "ir@kaufwelt-holding.example", "LU", "self"),
    ("p-kaufwelt", "Kaufwelt SE & Co. KG", "datenschutz@kaufwelt.example", "DE", "p-kaufwelt-holding"),
    ("p-lusitania-capital", "Lusitania Capital Partners SCA", "legal@lusitania-capital.example", "LU", "self"),
    ("p-mercado-vivo", "Mercado Vivo S.A.", "privacidad@mercadovivo.example", "ES", "p-lusitania-capital"),
    ("p-adverta", "Adverta Media Iberia S.L.", "billing@adverta.example", "ES", "self"),
    ("p-nordlys-group", "Nordlys Group AB", "legal@nordlys-group.example", "SE", "self"),
    ("p-nordlys-travel", "Nordlys Travel ApS", "privacy@nordlys-travel.example", "DK", "p-nordlys-group"),
    ("p-civic-future", "Civic Future e.V.", "info@civic-future.example", "DE", "p-civic-holding"),
];

/// Campaign ids and what the printed links call them, in campaign order.
const CAMPAIGN_LABELS: [(&str, &str); 6] = [
    ("ocean-2026", "Campaign 1: personality-targeted political dark post (Civic Future)"),
    ("rally-mobility-2026", "Campaign 2: rally ads by location and interests (Europe Now)"),
    ("prosperity-fund-2026", "Campaign 3: voter-file lookalike fundraiser (Alliance for Prosperity)"),
    ("baby-welcome-2026", "Campaign 4: offer to people predicted to be pregnant (Kaufwelt)"),
    ("club-vivo-2026", "Campaign 5: loyalty-card segment offers (Mercado Vivo)"),
    ("winter-escape-2026", "Campaign 6: marketing email to a broker-rented address (Nordlys Travel)"),
];

// ---------------------------------------------------------------- recipients

/// A demo recipient: identifier, home Member State and city.
struct Person {
    id: String,
    state: &'static str,
    city: &'static str,
}

/// Named recipients to log in as, and generated ones.
fn people() -> Vec<Person> {
    let named = [
        (ALICE, "DE", "Munich"),
        (BOB, "FR", "Lyon"),
        ("chiara@example.org", "IT", "Milan"),
        ("dimitra@example.org", "EL", "Athens"),
        ("eva@example.org", "AT", "Vienna"),
        ("joost@example.org", "NL", "Amsterdam"),
        ("niamh@example.org", "IE", "Dublin"),
        ("lars@example.org", "DK", "Copenhagen"),
    ];
    let generated: [(&str, &[&str], usize); 15] = [
        ("DE", &["Munich", "Berlin", "Hamburg", "Cologne", "Leipzig"], 20),
        ("FR", &["Lyon", "Paris", "Lille"], 8),
        ("IE", &["Dublin", "Cork", "Galway"], 8),
        ("NL", &["Amsterdam", "Utrecht"], 6),
        ("AT", &["Vienna", "Graz"], 4),
        ("EL", &["Athens", "Thessaloniki"], 4),
        ("ES", &["Madrid", "Valencia", "Seville"], 6),
        ("PT", &["Lisbon", "Porto"], 4),
        ("IT", &["Milan", "Rome", "Turin"], 4),
        ("DK", &["Copenhagen", "Aarhus"], 4),
        ("SE", &["Stockholm", "Gothenburg"], 4),
        ("PL", &["Kraków", "Warsaw"], 4),
        ("BE", &["Brussels", "Ghent"], 3),
        ("FI", &["Helsinki", "Tampere"], 3),
        ("LU", &["Luxembourg"], 2),
    ];
    let mut out: Vec<Person> = named.iter().map(|(id, state, city)| Person { id: id.to_string(), state, city }).collect();
    let mut n = 0;
    for (state, cities, count) in generated {
        for i in 0..count {
            n += 1;
            out.push(Person { id: format!("recipient-{n:03}@example.net"), state, city: cities[i % cities.len()] });
        }
    }
    out
}

/// The language a campaign speaks to people in a Member State.
fn language_of(state: &str) -> &'static str {
    match state {
        "DE" | "AT" => "de",
        "FR" | "BE" | "LU" => "fr",
        "NL" => "nl",
        "IE" => "en",
        "EL" => "el",
        "ES" => "es",
        "PT" => "pt",
        "IT" => "it",
        "DK" => "da",
        "SE" => "sv",
        "PL" => "pl",
        "FI" => "fi",
        _ => "en",
    }
}

/// A small deterministic generator (SplitMix64), so that the plan is the same
/// on every run and every build; only salts and keys come from the OS.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        // FNV-1a of the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform-enough in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------- campaigns

/// One creative of a campaign. `tag` is the rally city (campaign 2) or the
/// loyalty segment (campaign 5); empty otherwise.
struct Creative {
    ad_id: &'static str,
    creative_id: &'static str,
    language: &'static str,
    tag: &'static str,
    subject: &'static str,
    text: &'static str,
}

type Matched = BTreeMap<String, String>;
type Consent = BTreeMap<String, ConsentEvidence>;

/// Builds a person's personal values; the generator is seeded per campaign and
/// person, so that the same person always has the same values in a campaign.
type PersonalFn = fn(&Person, &Creative, &mut Rng) -> (Matched, Consent);

struct Campaign {
    id: &'static str,
    signer: &'static str,
    channel: &'static str,
    brand: &'static str,
    on_behalf_of: &'static str,
    payer: &'static str,
    political: Value,
    /// Member States the campaign runs in (recipients live there).
    states: &'static [&'static str],
    /// Only recipients living in a creative's `tag` city (the rallies).
    by_city: bool,
    /// One language for every Member State (else the local one).
    language: Option<&'static str>,
    /// Days of November 2026 on which the messages were served.
    days: (u64, u64),
    count: usize,
    /// Recipients who must receive the campaign, and how often.
    forced: &'static [(&'static str, usize)],
    creatives: Vec<Creative>,
    criteria: Value,
    lineage: Value,
    optimisation: Value,
    controls: Value,
    personal: PersonalFn,
}

impl Campaign {
    fn eligible(&self, p: &Person) -> bool {
        if self.by_city {
            self.creatives.iter().any(|c| c.tag == p.city)
        } else {
            self.states.contains(&p.state)
        }
    }

    fn creatives_for(&self, p: &Person) -> Vec<&Creative> {
        let lang = self.language.unwrap_or_else(|| language_of(p.state));
        let fit: Vec<&Creative> = self.creatives.iter().filter(|c| c.language == lang && (!self.by_city || c.tag == p.city)).collect();
        if fit.is_empty() {
            self.creatives.iter().collect()
        } else {
            fit
        }
    }
}

fn matched(pairs: Vec<(&str, String)>) -> Matched {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn evidence(id: &str, format: &str, value: String) -> (String, ConsentEvidence) {
    (id.to_string(), ConsentEvidence { format: format.to_string(), value })
}

fn social_controls(object_url: &str, controller: &str) -> Value {
    json!({
        "change_parameters_url": "https://demo-social.example/settings/ads",
        "object_url": object_url,
        "opt_out_url": "https://demo-social.example/settings/ads/opt-out",
        "controller_contact": controller
    })
}

/// IAB TCF v2.2 consent strings as a CMP would store them.
const TCF_STRINGS: [&str; 3] = [
    "CQHqVYAQHqVYAAGABCENBOFsAP_gAEPgAAqIKftV_G__bWlr8X73aftkeY1P9_h77sQxBhfJE-4FzLvW_JwXx2ExNA36tqIKmRIAu3bBIQNlGJDUTVCgaogVryDMaE2coTNKJ6BkiFMRM2dYCF5vm4tj-QKY5vr991dx2B-t7dr83dzyz4VHn3a5_2a0WJCdA5-tDfv9bROb-9IOd_x8v4v8_F_rE2_eT1l_tevp7D9-cts7_XW-9_fff79Ll9-gAAAAA",
    "CQJ0mMAQJ0mMAAKA1AENBPFgAP_gAEPgAAqIKgtV_G__bWlr8X73aftkeY1P9_h77sQxBhfJE-4FzLvW_JwXx2ExNA36tqIKmRIAu3bBIQNlGJDUTVCgaogVryDMaE2coTNKJ6BkiFMRM2dYCF5vm4tj-QKY5vr991dx2B-t7dr83dzyz4VHn3a5_2a0WJCdA5-tDfv9bROb-9IOd_x8v4v8_F_rE2_eT1l_tevp7D9-cts7_XW-9_fff79Ll9-gAAAAA",
    "CQKB2gAQKB2gAAGABBENBPFsAP_gAEPgAAqIKftV_G__bWlr8X73aftkeY1P9_h77sQxBhfJE-4FzLvW_JwXx2ExNA36tqIKmRIAu3bBIQNlGJDUTVCgaogVryDMaE2coTNKJ6BkiFMRM2dYCF5vm4tj-QKY5vr991dx2B-t7dr83dzyz4VHn3a5_2a0WJCdA5-tDfv9bROb-9IOd_x8v4v8_F_rE2_eT1l_tevp7D9-cts7_XW-9_fff79Ll9-gAAAAA.YAAAAAAAAAAA",
];

fn campaigns() -> Vec<Campaign> {
    vec![ocean(), rally(), fundraiser(), pregnancy(), loyalty(), broker_email()]
}

/// 1. A personality-targeted political "dark post" (not on the sponsor's page).
fn ocean() -> Campaign {
    Campaign {
        id: "ocean-2026",
        signer: SOCIAL,
        channel: "social",
        brand: "Civic Future",
        on_behalf_of: "p-civic-future",
        payer: "p-civic-holding",
        political: json!({
            "kind": "election",
            "linked_to": "Bundestag election 2029",
            "date": "2029-09-23",
            "amount": { "value": "48000.00", "currency": "EUR" },
            "funding_origin": "private donations from within the EU",
            "notice_url": "https://civic-future.example/transparency/ocean-2026"
        }),
        states: &["DE"],
        by_city: false,
        language: None,
        days: (1, 20),
        count: 24,
        forced: &[(ALICE, 3), (ERASED, 1)],
        creatives: vec![
            Creative {
                ad_id: "ad-11",
                creative_id: "cr-fear-1",
                language: "de",
                tag: "",
                subject: "Sie sollen nicht erfahren, was auf uns zukommt",
                text: "Sie sollen nicht erfahren, was auf uns zukommt. Steigende Mieten, leere Konten, unsichere Straßen. Wer schützt Ihre Familie, wenn es ernst wird? Civic Future. (Unveröffentlichter Beitrag, nur für ausgewählte Nutzer sichtbar.)",
            },
            Creative {
                ad_id: "ad-12",
                creative_id: "cr-fear-2",
                language: "de",
                tag: "",
                subject: "Ist Ihr Arbeitsplatz nächstes Jahr noch sicher?",
                text: "Ist Ihr Arbeitsplatz nächstes Jahr noch sicher? Tausende Stellen stehen auf der Kippe, und in Berlin schaut man weg. Civic Future sagt, was andere verschweigen.",
            },
            Creative {
                ad_id: "ad-17",
                creative_id: "cr-fear-3",
                language: "de",
                tag: "",
                subject: "Nachts allein unterwegs? Das muss nicht so bleiben.",
                text: "Nachts allein unterwegs und ein ungutes Gefühl? Das muss nicht so bleiben. Sicherheit zuerst: Civic Future.",
            },
        ],
        criteria: json!([
            { "id": "c1", "effect": "include", "type": "modelled",
              "description": "Personality score: high neuroticism (OCEAN model)",
              "special_category": null, "minor": false, "ai_selected": true, "lineage": ["s-quiz-model"] },
            { "id": "c2", "effect": "include", "type": "location",
              "description": "Lives in a Bundestag constituency the sponsor rates as a 'swing' constituency",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-location"] },
            { "id": "c3", "effect": "exclude", "type": "declared",
              "description": "People who follow the party's own page (so that its supporters do not see this post)",
              "special_category": "political_opinion", "minor": false, "ai_selected": false, "lineage": ["s-page-follows"] }
        ]),
        lineage: json!([
            { "id": "s-quiz-app", "provider": "ThisIsYourDigitalLife quiz", "contact": "dpo@quiz.example",
              "kind": "via_other_person_permission", "model": null,
              "collection_method": "A friend installed a personality quiz app that read their friends' page likes",
              "collected_at": "2026-03-01", "refresh": "once", "lookback_days": "not_disclosed",
              "legal_basis": "not_disclosed", "derived_from": [] },
            { "id": "s-quiz-model", "provider": "Civic Holding GmbH", "contact": "datenschutz@civic-holding.example",
              "kind": "inferred", "model": { "name": "ocean-v2", "version": "2.3.1" },
              "collection_method": "Model inferring the five OCEAN personality traits from page likes, trained on quiz answers",
              "collected_at": "2026-11-01", "refresh": "weekly", "lookback_days": 365,
              "legal_basis": "legitimate_interests", "derived_from": ["s-quiz-app"] },
            { "id": "s-location", "provider": "Demo Social Ltd", "contact": "dpo@demo-social.example",
              "kind": "observed", "model": null,
              "collection_method": "Home area estimated from IP addresses and the location given in the profile",
              "collected_at": "not_disclosed", "refresh": "daily", "lookback_days": 90,
              "legal_basis": "legitimate_interests", "derived_from": [] },
            { "id": "s-page-follows", "provider": "Demo Social Ltd", "contact": "dpo@demo-social.example",
              "kind": "observed", "model": null, "collection_method": "Page follows on the platform",
              "collected_at": "not_disclosed", "refresh": "daily", "lookback_days": 30,
              "legal_basis": "contract", "derived_from": [] }
        ]),
        optimisation: json!({ "ai_system": true, "goal": "engagement (reactions, comments and shares)" }),
        controls: social_controls("https://demo-social.example/settings/ads/object", "mailto:datenschutz@civic-future.example"),
        personal: |p, _c, r| {
            let score = r.range(71, 93);
            let top = 3 + (93 - score) / 2;
            let m = matched(vec![
                ("c1", format!("neuroticism score 0.{score} (top {top}% of people scored)")),
                ("c2", format!("lives in {}, in a constituency the sponsor rates 'swing'", p.city)),
            ]);
            let day = r.range(20, 28);
            let consent = [evidence(
                "s-quiz-app",
                "other",
                format!("No consent from you on record: your page likes were read through the user_friends and user_likes permissions a friend granted the quiz app on 2026-02-{day}"),
            )]
            .into_iter()
            .collect();
            (m, consent)
        },
    }
}

/// 2. Rally ads by location and interests; under-18s excluded.
fn rally() -> Campaign {
    Campaign {
        id: "rally-mobility-2026",
        signer: SOCIAL,
        channel: "social",
        brand: "Europe Now",
        on_behalf_of: "p-europe-now",
        payer: "p-europe-now",
        political: json!({
            "kind": "legislative_process",
            "linked_to": "EU Clean Mobility Package, plenary vote in the European Parliament",
            "date": "2026-12-09",
            "amount": { "value": "12500.00", "currency": "EUR" },
            "funding_origin": "membership fees and donations under 500 EUR from people living in the EU",
            "notice_url": "https://europe-now.example/transparency/rally-mobility-2026"
        }),
        states: &["DE", "AT", "FR", "EL", "NL"],
        by_city: true,
        language: None,
        days: (8, 20),
        count: 30,
        forced: &[(ALICE, 2), (BOB, 1), ("eva@example.org", 1), ("dimitra@example.org", 1), ("joost@example.org", 1)],
        creatives: vec![
            Creative {
                ad_id: "ad-muc",
                creative_id: "cr-rally-muc",
                language: "de",
                tag: "Munich",
                subject: "Kundgebung für saubere Mobilität: Marienplatz, Sa 28.11., 14 Uhr",
                text: "Kundgebung für saubere Mobilität! Marienplatz, München, Samstag 28. November, 14 Uhr. Bus und Bahn für alle, sichere Radwege. Am 9. Dezember stimmt das Europaparlament ab. Komm vorbei!",
            },
            Creative {
                ad_id: "ad-vie",
                creative_id: "cr-rally-vie",
                language: "de",
                tag: "Vienna",
                subject: "Kundgebung für saubere Mobilität: Heldenplatz, Sa 28.11., 14 Uhr",
                text: "Kundgebung für saubere Mobilität! Heldenplatz, Wien, Samstag 28. November, 14 Uhr. Am 9. Dezember stimmt das Europaparlament ab. Komm vorbei!",
            },
            Creative {
                ad_id: "ad-lyo",
                creative_id: "cr-rally-lyo",
                language: "fr",
                tag: "Lyon",
                subject: "Rassemblement pour une mobilité propre : place Bellecour, samedi 28 novembre, 14 h",
                text: "Rassemblement pour une mobilité propre ! Place Bellecour, Lyon, samedi 28 novembre à 14 h. Le Parlement européen vote le 9 décembre. Venez nombreux !",
            },
            Creative {
                ad_id: "ad-ath",
                creative_id: "cr-rally-ath",
                language: "el",
                tag: "Athens",
                subject: "Συγκέντρωση για καθαρή κινητικότητα: Σύνταγμα, Σάββατο 28 Νοεμβρίου, 14:00",
                text: "Συγκέντρωση για καθαρή κινητικότητα! Πλατεία Συντάγματος, Αθήνα, Σάββατο 28 Νοεμβρίου, 14:00. Το Ευρωπαϊκό Κοινοβούλιο ψηφίζει στις 9 Δεκεμβρίου.",
            },
            Creative {
                ad_id: "ad-ams",
                creative_id: "cr-rally-ams",
                language: "nl",
                tag: "Amsterdam",
                subject: "Manifestatie voor schone mobiliteit: de Dam, zaterdag 28 november, 14.00 uur",
                text: "Manifestatie voor schone mobiliteit! De Dam, Amsterdam, zaterdag 28 november, 14.00 uur. Het Europees Parlement stemt op 9 december. Kom ook!",
            },
        ],
        criteria: json!([
            { "id": "c1", "effect": "include", "type": "location",
              "description": "Lives within 5 km of the rally venue, or was there in the last 30 days",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-device-location"] },
            { "id": "c2", "effect": "include", "type": "declared",
              "description": "Declared interests: climate policy or European politics",
              "special_category": "political_opinion", "minor": false, "ai_selected": false, "lineage": ["s-profile-interests"] },
            { "id": "c3", "effect": "include", "type": "observed",
              "description": "Engaged with posts about public transport or climate in the last 30 days",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-engagement"] },
            { "id": "c4", "effect": "exclude", "type": "declared",
              "description": "People under 18 (age from the date of birth given at sign-up)",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-profile-age"] }
        ]),
        lineage: json!([
            { "id": "s-device-location", "provider": "Demo Social Ltd", "contact": "dpo@demo-social.example",
              "kind": "observed", "model": null,
              "collection_method": "Location services of the Demo Social app (GPS and Wi-Fi)",
              "collected_at": "not_disclosed", "refresh": "continuous", "lookback_days": 30,
              "legal_basis": "consent", "derived_from": [] },
            { "id": "s-profile-interests", "provider": "Demo Social Ltd", "contact": "dpo@demo-social.example",
              "kind": "provided_by_person", "model": null,
              "collection_method": "Interests you selected in your profile",
              "collected_at": "not_disclosed", "refresh": "when you edit your profile", "lookback_days": "not_disclosed",
              "legal_basis": "consent", "derived_from": [] },
            { "id": "s-engagement", "provider": "Demo Social Ltd", "contact": "dpo@demo-social.example",
              "kind": "observed", "model": null,
              "collection_method": "Likes, shares and comments on posts",
              "collected_at": "not_disclosed", "refresh": "daily", "lookback_days": 30,
              "legal_basis": "legitimate_interests", "derived_from": [] },
            { "id": "s-profile-age", "provider": "Demo Social Ltd", "contact": "dpo@demo-social.example",
              "kind": "provided_by_person", "model": null,
              "collection_method": "Date of birth given at sign-up",
              "collected_at": "not_disclosed", "refresh": "not_disclosed", "lookback_days": "not_disclosed",
              "legal_basis": "contract", "derived_from": [] }
        ]),
        optimisation: json!({ "ai_system": true, "goal": "reach among people likely to attend" }),
        controls: social_controls("https://demo-social.example/settings/ads/object", "mailto:privacy@europe-now.example"),
        personal: |p, _c, r| {
            let venue = match p.city {
                "Munich" => "Marienplatz",
                "Vienna" => "Heldenplatz",
                "Lyon" => "place Bellecour",
                "Athens" => "Syntagma Square",
                _ => "Dam Square",
            };
            let km = r.range(8, 49);
            let interests = *r.pick(&["climate policy, European politics", "European politics, cycling", "climate policy, public transport"]);
            let posts = r.range(3, 19);
            let m = matched(vec![
                ("c1", format!("lives within 5 km of {venue}, {} ({}.{} km from your home area in your location history)", p.city, km / 10, km % 10)),
                ("c2", format!("declared interests: {interests}")),
                ("c3", format!("liked or shared {posts} posts about public transport or climate in the 30 days before this ad")),
            ]);
            let consent = [
                evidence("s-device-location", "other", "Location permission 'precise, while using the app' granted in the Demo Social app on 2025-04-02 (Android)".to_string()),
                evidence("s-profile-interests", "other", "Explicit consent to use sensitive profile interests for ads, given in Settings > Ads on 2024-11-30".to_string()),
            ]
            .into_iter()
            .collect();
            (m, consent)
        },
    }
}

/// 3. A fundraiser aimed at a voter file bought from a broker, and its lookalikes.
fn fundraiser() -> Campaign {
    Campaign {
        id: "prosperity-fund-2026",
        signer: SOCIAL,
        channel: "social",
        brand: "Alliance for Prosperity",
        on_behalf_of: "p-alliance-prosperity",
        payer: "p-prosperity-fund",
        political: json!({
            "kind": "election",
            "linked_to": "next general election to Dáil Éireann",
            "date": "not_disclosed",
            "amount": { "value": "86000.00", "currency": "EUR" },
            "funding_origin": "donations from individuals in Ireland and one company registered in Cyprus (Aegean Ventures Ltd)",
            "notice_url": "https://allianceforprosperity.example/transparency/prosperity-fund-2026"
        }),
        states: &["IE", "FR", "BE", "NL", "LU"],
        by_city: false,
        language: Some("en"),
        days: (3, 19),
        count: 20,
        forced: &[(BOB, 2), ("niamh@example.org", 2)],
        creatives: vec![
            Creative {
                ad_id: "ad-fund-1",
                creative_id: "cr-fund-midnight",
                language: "en",
                tag: "",
                subject: "Chip in €25 before midnight: we can't let them win",
                text: "Chip in €25 before midnight. They have the money, we have you. Every euro goes to the campaign that puts Irish families first. Donate now: allianceforprosperity.example/give",
            },
            Creative {
                ad_id: "ad-fund-2",
                creative_id: "cr-fund-neighbours",
                language: "en",
                tag: "",
                subject: "Your neighbours are giving. Will you?",
                text: "312 people in your area gave this month. Will you join them? Give €10, €25 or €50 to Alliance for Prosperity today.",
            },
        ],
        criteria: json!([
            { "id": "c1", "effect": "include", "type": "uploaded_list",
              "description": "On the voter file the campaign uploaded (matched by hashed email address or phone number)",
              "special_category": "political_opinion", "minor": false, "ai_selected": false, "lineage": ["s-voter-file"] },
            { "id": "c2", "effect": "include", "type": "lookalike",
              "description": "Similar to past donors on the voter file (top 3% similarity)",
              "special_category": "not_disclosed", "minor": false, "ai_selected": true, "lineage": ["s-lookalike"] },
            { "id": "c3", "effect": "exclude", "type": "uploaded_list",
              "description": "People who already donated in 2026",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-donor-records"] }
        ]),
        lineage: json!([
            { "id": "s-register", "provider": "Local authorities of Ireland (edited register of electors)",
              "contact": "franchise@dublincity.example", "kind": "public_record", "model": null,
              "collection_method": "Edited register of electors 2026-2027: names and addresses of electors who did not opt out of commercial use",
              "collected_at": "2026-02-15", "refresh": "yearly", "lookback_days": "not_disclosed",
              "legal_basis": "public_task", "derived_from": [] },
            { "id": "s-voter-file", "provider": "Harbour Data Partners Ltd", "contact": "dpo@harbourdata.example",
              "kind": "bought_from_broker", "model": null,
              "collection_method": "Register records matched to email addresses and mobile numbers from consumer marketing databases, and scored for party affinity",
              "collected_at": "2026-06-30", "refresh": "quarterly", "lookback_days": "not_disclosed",
              "legal_basis": "legitimate_interests", "derived_from": ["s-register"] },
            { "id": "s-donor-records", "provider": "Alliance for Prosperity", "contact": "dataprotection@allianceforprosperity.example",
              "kind": "provided_by_person", "model": null,
              "collection_method": "Donations made through the party's website (records the law requires the party to keep)",
              "collected_at": "not_disclosed", "refresh": "daily", "lookback_days": 365,
              "legal_basis": "legal_obligation", "derived_from": [] },
            { "id": "s-platform-activity", "provider": "Demo Social Ltd", "contact": "dpo@demo-social.example",
              "kind": "observed", "model": null,
              "collection_method": "Pages, posts and ads you interacted with on Demo Social",
              "collected_at": "not_disclosed", "refresh": "daily", "lookback_days": 90,
              "legal_basis": "legitimate_interests", "derived_from": [] },
            { "id": "s-lookalike", "provider": "Demo Social Ltd", "contact": "dpo@demo-social.example",
              "kind": "inferred", "model": { "name": "demo-social lookalike audiences", "version": "2026.10" },
              "collection_method": "Model scoring platform users by similarity to the donors on the uploaded voter file",
              "collected_at": "2026-10-30", "refresh": "weekly", "lookback_days": 90,
              "legal_basis": "legitimate_interests", "derived_from": ["s-voter-file", "s-platform-activity"] }
        ]),
        optimisation: json!({ "ai_system": true, "goal": "donations (conversions)" }),
        controls: social_controls("https://demo-social.example/settings/ads/object", "mailto:dataprotection@allianceforprosperity.example"),
        personal: |p, _c, r| {
            let similarity = r.range(90, 99);
            let top = 1 + (99 - similarity) / 3;
            let mut pairs = Vec::new();
            if p.state == "IE" {
                let constituency = match p.city {
                    "Dublin" => "Dublin Bay South",
                    "Cork" => "Cork South-Central",
                    _ => "Galway West",
                };
                let affinity = r.range(55, 92);
                pairs.push(("c1", format!("on the edited register of electors for {constituency}; email address matched by Harbour Data Partners on 2026-06-30; party-affinity score {affinity}/100")));
            }
            if p.state != "IE" || similarity > 95 {
                pairs.push(("c2", format!("similarity 0.{similarity} to past donors (top {top}% of Demo Social users in your country)")));
            }
            (matched(pairs), Consent::new())
        },
    }
}

/// 4. A retailer's offer to people its model predicts are pregnant.
fn pregnancy() -> Campaign {
    Campaign {
        id: "baby-welcome-2026",
        signer: SOCIAL,
        channel: "social",
        brand: "Kaufwelt",
        on_behalf_of: "p-kaufwelt",
        payer: "p-kaufwelt",
        political: Value::Null,
        states: &["DE", "AT", "NL", "PL"],
        by_city: false,
        language: None,
        days: (2, 18),
        count: 18,
        forced: &[(ALICE, 1), (ERASED, 1)],
        creatives: vec![
            Creative {
                ad_id: "ad-baby-de-1",
                creative_id: "cr-baby-welcome-de",
                language: "de",
                tag: "",
                subject: "Willkommen, kleines Wunder: 20 % auf Babyausstattung",
                text: "Willkommen, kleines Wunder! Exklusiv für Kaufwelt-Plus-Mitglieder: 20 % auf Kinderwagen, Babybetten und Erstausstattung. Nur bis 30. November.",
            },
            Creative {
                ad_id: "ad-baby-de-2",
                creative_id: "cr-baby-checklist-de",
                language: "de",
                tag: "",
                subject: "Ihre Checkliste für die ersten Wochen, mit Gutschein",
                text: "Was Sie in den ersten Wochen wirklich brauchen: unsere Checkliste, dazu ein 15-Euro-Gutschein auf Windeln und Pflegeprodukte. Kaufwelt Plus.",
            },
            Creative {
                ad_id: "ad-baby-nl",
                creative_id: "cr-baby-welcome-nl",
                language: "nl",
                tag: "",
                subject: "Welkom, kleintje: 20% korting op babyspullen",
                text: "Welkom, kleintje! Speciaal voor Kaufwelt Plus-leden: 20% korting op kinderwagens, bedjes en de eerste uitzet. Alleen tot 30 november.",
            },
            Creative {
                ad_id: "ad-baby-pl",
                creative_id: "cr-baby-welcome-pl",
                language: "pl",
                tag: "",
                subject: "Witaj, maleństwo: 20% rabatu na wyprawkę",
                text: "Witaj, maleństwo! Tylko dla członków Kaufwelt Plus: 20% rabatu na wózki, łóżeczka i wyprawkę. Oferta ważna do 30 listopada.",
            },
        ],
        criteria: json!([
            { "id": "c1", "effect": "include", "type": "inferred",
              "description": "Predicted to be pregnant (model based on purchases made with the loyalty card)",
              "special_category": "health", "minor": false, "ai_selected": true, "lineage": ["s-pregnancy-model"] },
            { "id": "c2", "effect": "include", "type": "uploaded_list",
              "description": "Kaufwelt Plus loyalty-card members (matched by hashed email address)",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-loyalty"] },
            { "id": "c3", "effect": "exclude", "type": "observed",
              "description": "People who bought baby formula or nappies in the last 12 months",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-loyalty"] }
        ]),
        lineage: json!([
            { "id": "s-loyalty", "provider": "Kaufwelt SE & Co. KG", "contact": "datenschutz@kaufwelt.example",
              "kind": "observed", "model": null,
              "collection_method": "Products bought with the Kaufwelt Plus loyalty card, in stores and online",
              "collected_at": "not_disclosed", "refresh": "daily", "lookback_days": 365,
              "legal_basis": "contract", "derived_from": [] },
            { "id": "s-pregnancy-model", "provider": "Kaufwelt SE & Co. KG", "contact": "datenschutz@kaufwelt.example",
              "kind": "inferred", "model": { "name": "maternity-propensity", "version": "4.1.0" },
              "collection_method": "Model scoring about 25 products (unscented lotion, calcium, magnesium and zinc supplements, large bags of cotton wool...) for pregnancy and due date",
              "collected_at": "2026-10-28", "refresh": "weekly", "lookback_days": 180,
              "legal_basis": "legitimate_interests", "derived_from": ["s-loyalty"] }
        ]),
        optimisation: json!({ "ai_system": true, "goal": "purchases (conversions)" }),
        controls: json!({
            "change_parameters_url": "https://demo-social.example/settings/ads",
            "object_url": "https://www.kaufwelt.example/datenschutz/widerspruch",
            "opt_out_url": "https://www.kaufwelt.example/plus/einstellungen/werbung",
            "controller_contact": "mailto:datenschutz@kaufwelt.example"
        }),
        personal: |_p, _c, r| {
            let probability = r.range(62, 93);
            let (trimester, due) = *r.pick(&[("first", "May 2027"), ("second", "March 2027"), ("third", "January 2027")]);
            let card = r.range(1000, 9999);
            let m = matched(vec![
                ("c1", format!("predicted pregnancy probability 0.{probability}, {trimester} trimester (estimated due date {due})")),
                ("c2", format!("Kaufwelt Plus card ending {card}, matched by your email address")),
            ]);
            (m, Consent::new())
        },
    }
}

/// 5. Offers to loyalty-card purchase segments, with TCF consent strings.
fn loyalty() -> Campaign {
    Campaign {
        id: "club-vivo-2026",
        signer: SOCIAL,
        channel: "social",
        brand: "Mercado Vivo",
        on_behalf_of: "p-mercado-vivo",
        payer: "p-adverta",
        political: Value::Null,
        states: &["ES", "PT", "FR", "IT"],
        by_city: false,
        language: None,
        days: (1, 15),
        count: 20,
        forced: &[(BOB, 2), ("chiara@example.org", 1)],
        creatives: vec![
            Creative {
                ad_id: "ad-org-es",
                creative_id: "cr-organic-es",
                language: "es",
                tag: "organic",
                subject: "Tu cesta ecológica, un 15 % más barata esta semana",
                text: "Socio Club Vivo: tu cesta ecológica y vegetal, un 15 % más barata esta semana en todas las tiendas Mercado Vivo.",
            },
            Creative {
                ad_id: "ad-wine-es",
                creative_id: "cr-wine-es",
                language: "es",
                tag: "wine",
                subject: "Vinos de Rioja: 3x2 para socios Club Vivo",
                text: "Vinos de Rioja y Ribera del Duero: 3x2 para socios Club Vivo hasta el domingo.",
            },
            Creative {
                ad_id: "ad-org-pt",
                creative_id: "cr-organic-pt",
                language: "pt",
                tag: "organic",
                subject: "O seu cabaz biológico 15% mais barato esta semana",
                text: "Sócio Club Vivo: o seu cabaz biológico e vegetal 15% mais barato esta semana nas lojas Mercado Vivo.",
            },
            Creative {
                ad_id: "ad-org-fr",
                creative_id: "cr-organic-fr",
                language: "fr",
                tag: "organic",
                subject: "Votre panier bio 15 % moins cher cette semaine",
                text: "Membre Club Vivo : votre panier bio et végétal 15 % moins cher cette semaine dans les magasins Mercado Vivo.",
            },
            Creative {
                ad_id: "ad-wine-fr",
                creative_id: "cr-wine-fr",
                language: "fr",
                tag: "wine",
                subject: "Vins d'Espagne : 3 pour 2 pour les membres Club Vivo",
                text: "Rioja, Ribera del Duero, Priorat : 3 bouteilles pour le prix de 2 pour les membres Club Vivo, jusqu'à dimanche.",
            },
            Creative {
                ad_id: "ad-org-it",
                creative_id: "cr-organic-it",
                language: "it",
                tag: "organic",
                subject: "La tua spesa bio il 15% in meno questa settimana",
                text: "Socio Club Vivo: la tua spesa bio e vegetale il 15% in meno questa settimana nei negozi Mercado Vivo.",
            },
        ],
        criteria: json!([
            { "id": "c1", "effect": "include", "type": "observed",
              "description": "Club Vivo loyalty segment based on your purchases ('organic & plant-based' or 'wine enthusiasts')",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-club-vivo"] },
            { "id": "c2", "effect": "include", "type": "retargeting",
              "description": "Visited mercadovivo.example in the last 14 days",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-web-pixel"] }
        ]),
        lineage: json!([
            { "id": "s-club-vivo", "provider": "Mercado Vivo S.A.", "contact": "dpo@mercadovivo.example",
              "kind": "observed", "model": null,
              "collection_method": "Purchases recorded with the Club Vivo loyalty card, grouped into segments",
              "collected_at": "not_disclosed", "refresh": "weekly", "lookback_days": 90,
              "legal_basis": "consent", "derived_from": [] },
            { "id": "s-web-pixel", "provider": "Mercado Vivo S.A.", "contact": "dpo@mercadovivo.example",
              "kind": "observed", "model": null,
              "collection_method": "Tracking pixel on mercadovivo.example, shared with Demo Social",
              "collected_at": "not_disclosed", "refresh": "real time", "lookback_days": 14,
              "legal_basis": "consent", "derived_from": [] }
        ]),
        optimisation: json!({ "ai_system": true, "goal": "store visits" }),
        controls: json!({
            "change_parameters_url": "https://demo-social.example/settings/ads",
            "object_url": "https://www.mercadovivo.example/privacidad/oposicion",
            "opt_out_url": "https://www.mercadovivo.example/club/preferencias",
            "controller_contact": "mailto:dpo@mercadovivo.example"
        }),
        personal: |_p, c, r| {
            let c1 = if c.tag == "wine" {
                format!(
                    "segment 'wine enthusiasts': {} bottles of wine bought with your Club Vivo card in the last 90 days",
                    r.range(9, 40)
                )
            } else {
                format!(
                    "segment 'organic & plant-based': {}% of your Club Vivo basket in the last 90 days was organic or plant-based",
                    r.range(28, 64)
                )
            };
            let visits = r.range(2, 7);
            let m = matched(vec![
                ("c1", c1),
                ("c2", format!("visited mercadovivo.example {visits} times in the 14 days before this ad, last on the weekly offers page")),
            ]);
            let tcf = *r.pick(&TCF_STRINGS);
            let app_tcf = *r.pick(&TCF_STRINGS);
            let consent = [evidence("s-club-vivo", "tcf", app_tcf.to_string()), evidence("s-web-pixel", "tcf", tcf.to_string())]
                .into_iter()
                .collect();
            (m, consent)
        },
    }
}

/// 6. A marketing email to addresses rented from a data broker.
fn broker_email() -> Campaign {
    Campaign {
        id: "winter-escape-2026",
        signer: MAIL,
        channel: "email",
        brand: "Nordlys Travel",
        on_behalf_of: "p-nordlys-travel",
        payer: "p-nordlys-travel",
        political: Value::Null,
        states: &["DK", "SE", "DE", "FI", "FR"],
        by_city: false,
        language: None,
        days: (12, 20),
        count: 16,
        forced: &[(BOB, 1), (ALICE, 1), ("lars@example.org", 1)],
        creatives: vec![
            Creative {
                ad_id: "mail-da",
                creative_id: "cr-canaries-da",
                language: "da",
                tag: "",
                subject: "Flygt fra vinteren: De Kanariske Øer fra 2.999 kr.",
                text: "Flygt fra vinteren! En uge på Gran Canaria med fly og hotel fra 2.999 kr. Kun for nyhedsbrevsmodtagere, til 30. november. Nordlys Travel ApS.",
            },
            Creative {
                ad_id: "mail-sv",
                creative_id: "cr-canaries-sv",
                language: "sv",
                tag: "",
                subject: "Fly vintern: Kanarieöarna från 3 999 kr",
                text: "Fly vintern! En vecka på Gran Canaria med flyg och hotell från 3 999 kr. Bara till 30 november. Nordlys Travel.",
            },
            Creative {
                ad_id: "mail-de",
                creative_id: "cr-canaries-de",
                language: "de",
                tag: "",
                subject: "Dem Winter entfliehen: Kanaren ab 399 €",
                text: "Dem Winter entfliehen! Eine Woche Gran Canaria mit Flug und Hotel ab 399 €. Nur bis 30. November. Nordlys Travel ApS, Kopenhagen.",
            },
            Creative {
                ad_id: "mail-fi",
                creative_id: "cr-canaries-fi",
                language: "fi",
                tag: "",
                subject: "Pakoon talvesta: Kanariansaaret alk. 399 €",
                text: "Pakoon talvesta! Viikko Gran Canarialla lentoineen ja hotelleineen alkaen 399 €. Vain 30.11. asti. Nordlys Travel.",
            },
            Creative {
                ad_id: "mail-fr",
                creative_id: "cr-canaries-fr",
                language: "fr",
                tag: "",
                subject: "Fuyez l'hiver : les Canaries dès 399 €",
                text: "Fuyez l'hiver ! Une semaine à Gran Canaria, vol et hôtel compris, dès 399 €. Jusqu'au 30 novembre seulement. Nordlys Travel ApS.",
            },
        ],
        criteria: json!([
            { "id": "c1", "effect": "include", "type": "uploaded_list",
              "description": "Email address on a list rented from a data broker (people said to have agreed to 'offers from partners')",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-broker-list"] },
            { "id": "c2", "effect": "include", "type": "declared",
              "description": "Interest 'travel' ticked when entering an online prize draw",
              "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-prize-draw"] }
        ]),
        lineage: json!([
            { "id": "s-prize-draw", "provider": "Gewinnspiel-Paradies (run by ListHaus Direct GmbH)", "contact": "datenschutz@listhaus.example",
              "kind": "provided_by_person", "model": null,
              "collection_method": "Entry form of an online prize draw ('Win a cruise for two') with a pre-ticked box for offers from partners",
              "collected_at": "not_disclosed", "refresh": "once", "lookback_days": "not_disclosed",
              "legal_basis": "consent", "derived_from": [] },
            { "id": "s-broker-list", "provider": "ListHaus Direct GmbH", "contact": "datenschutz@listhaus.example",
              "kind": "bought_from_broker", "model": null,
              "collection_method": "Email list rented for one mailing: 120,000 addresses with the interest 'travel'",
              "collected_at": "2026-10-15", "refresh": "once", "lookback_days": "not_disclosed",
              "legal_basis": "consent", "derived_from": ["s-prize-draw"] }
        ]),
        optimisation: json!({ "ai_system": false, "goal": "not_disclosed" }),
        controls: json!({
            "change_parameters_url": "not_disclosed",
            "object_url": "https://www.nordlys-travel.example/privacy/object",
            "opt_out_url": "https://esp.demo-mail.example/preferences",
            "controller_contact": "mailto:privacy@nordlys-travel.example"
        }),
        personal: |p, _c, r| {
            let month = r.range(3, 9);
            let day = r.range(1, 28);
            let date = format!("2025-{month:02}-{day:02}");
            let receipt = format!(
                "ListHaus consent receipt LH-CR-{date}-{:06}: box 'Yes, I would like to receive offers from ListHaus partners by email' (pre-ticked) on gewinnspiel-paradies.example, {date}T{:02}:{:02}:{:02}Z, IP 203.0.113.{}",
                r.range(1, 999_999),
                r.range(7, 23),
                r.range(0, 59),
                r.range(0, 59),
                r.range(2, 254)
            );
            let m = matched(vec![
                ("c1", format!("your address {} was on ListHaus list LH-TRAVEL-2026-10 (rented for this one mailing)", p.id)),
                ("c2", format!("interest 'travel' ticked when you entered the prize draw on {date}")),
            ]);
            (m, [evidence("s-broker-list", "receipt", receipt)].into_iter().collect())
        },
    }
}

// ---------------------------------------------------------------- plan

/// One message to submit: its body (commitments still to fill) and personal part.
struct Planned {
    recipient: String,
    body: Value,
    personal: Personal,
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn message(c: &Campaign, number: usize, p: &Person, served_at: String, pick: &mut Rng) -> Planned {
    let choices = c.creatives_for(p);
    let cr = *pick.pick(&choices);
    let message_id = format!("{}/{number:06}", c.id);
    let email_headers = if c.channel == "email" {
        let token = &sha256_hex(&message_id)[..16];
        json!({
            "list_unsubscribe": format!("<https://esp.demo-mail.example/u/{token}>, <mailto:unsubscribe+{token}@esp.demo-mail.example>"),
            "list_unsubscribe_post": "List-Unsubscribe=One-Click"
        })
    } else {
        Value::Null
    };
    let body = json!({
        "kind": "message",
        "signer": c.signer,
        "message_id": message_id,
        "delivery": {
            "channel": c.channel,
            "served_at": served_at,
            "member_state": p.state,
            "creative": {
                "sha256": sha256_hex(cr.text),
                "brand": c.brand,
                "subject": cr.subject,
                "language": cr.language,
                "campaign_id": c.id,
                "ad_id": cr.ad_id,
                "creative_id": cr.creative_id
            },
            "email_headers": email_headers
        },
        "sponsor": { "on_behalf_of": c.on_behalf_of, "payer": c.payer, "political": c.political },
        "targeting": { "criteria": c.criteria, "delivery_optimisation": c.optimisation },
        "lineage": c.lineage,
        "controls": c.controls
    });
    let mut own = Rng::new(&format!("{}|{}", c.id, p.id));
    let (matched, consent) = (c.personal)(p, cr, &mut own);
    Planned { recipient: p.id.clone(), body, personal: Personal::new(&p.id, matched, consent) }
}

/// The messages of a campaign, numbered in the order they were served.
fn plan(c: &Campaign, people: &[Person]) -> WebResult<Vec<Planned>> {
    let mut r = Rng::new(c.id);
    let eligible: Vec<&Person> = people.iter().filter(|p| c.eligible(p)).collect();
    let mut slots: Vec<&Person> = Vec::with_capacity(c.count);
    for (id, times) in c.forced {
        let p =
            eligible.iter().find(|p| p.id == *id).ok_or_else(|| WebError::Setup(format!("demo: {id} cannot receive campaign {}", c.id)))?;
        slots.extend(std::iter::repeat_n(*p, *times));
    }
    while slots.len() < c.count {
        slots.push(*r.pick(&eligible));
    }
    let mut timed: Vec<(String, &Person)> = slots
        .into_iter()
        .map(|p| {
            let t =
                format!("2026-11-{:02}T{:02}:{:02}:{:02}Z", r.range(c.days.0, c.days.1), r.range(7, 22), r.range(0, 59), r.range(0, 59));
            (t, p)
        })
        .collect();
    timed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(timed.into_iter().enumerate().map(|(i, (t, p))| message(c, i + 1, p, t, &mut r)).collect())
}

// ---------------------------------------------------------------- load

/// Loads the demo data set once per ledger and returns `(label, URL)` pairs to
/// click. A second call appends nothing and returns the same links.
pub fn load(ledger: &Ledger, public_url: &str) -> WebResult<Vec<(String, String)>> {
    if !ledger.registry()?.parties.contains_key(MARKER_PARTY) {
        populate(ledger)?;
    }
    links(ledger, public_url)
}

fn populate(ledger: &Ledger) -> WebResult<()> {
    // The demo platforms' keys live only as long as this call: nothing else signs for them.
    let social_key = SigningKey::generate(&mut OsRng);
    let mail_key = SigningKey::generate(&mut OsRng);
    ledger.register_submitter(
        SOCIAL,
        "Demo Social Ltd (a social network)",
        "transparency@demo-social.example",
        &public_key_b64(&social_key),
    )?;
    ledger.register_submitter(
        MAIL,
        "Demo Mail Delivery B.V. (an email service provider)",
        "abuse@demo-mail.example",
        &public_key_b64(&mail_key),
    )?;
    for (party, name, contact, established_in, controlled_by) in PARTIES {
        ledger.register_party(party, name, contact, established_in, controlled_by)?;
    }

    let people = people();
    let campaigns = campaigns();
    let mut objected_to = None;
    let mut erase_via = None;
    for (i, c) in campaigns.iter().enumerate() {
        let key = if c.signer == MAIL { &mail_key } else { &social_key };
        let planned = plan(c, &people)?;
        let subs = planned.iter().map(|m| sign_message(key, m.body.clone(), &m.personal)).collect::<Result<Vec<_>, _>>()?;
        let ack = ledger.submit(subs)?;
        for (m, a) in planned.iter().zip(&ack.acks) {
            if i == 0 && m.recipient == ALICE && objected_to.is_none() {
                objected_to = Some(a.index);
            }
            if m.recipient == ERASED {
                erase_via = Some(a.index);
            }
        }
    }

    // Alice objects to Civic Future; the platform still shows her its dark post.
    let objected_to = objected_to.ok_or_else(|| WebError::Setup("demo: alice received no message of campaign 1".into()))?;
    ledger.object(objected_to, ALICE)?;
    let ocean = &campaigns[0];
    let alice = people.iter().find(|p| p.id == ALICE).ok_or_else(|| WebError::Setup("demo: alice is missing".into()))?;
    let served_at = format_time(time::OffsetDateTime::now_utc() - time::Duration::minutes(1));
    let late = message(ocean, ocean.count + 1, alice, served_at, &mut Rng::new("ocean-2026|late"));
    ledger.submit(vec![sign_message(&social_key, late.body, &late.personal)?])?;

    // A generated recipient has their personal data erased (crypto-shredding).
    let erase_via = erase_via.ok_or_else(|| WebError::Setup(format!("demo: {ERASED} received no message")))?;
    ledger.erase_recipient_of(erase_via, ERASED)?;
    Ok(())
}

/// The links to print, rebuilt from the log (so that they are the same on every start).
fn links(ledger: &Ledger, public_url: &str) -> WebResult<Vec<(String, String)>> {
    let base = public_url.trim_end_matches('/');
    let why = |index: u64| format!("{base}/why/{}", ledger.why_token(index));
    // Per campaign: the first message to alice, else the first to bob.
    let mut per_campaign: HashMap<String, (u8, u64)> = HashMap::new();
    let mut alice_first = None;
    let mut erased = None;
    let mut flagged: Option<(u64, String)> = None;
    let size = ledger.size();
    let mut start = 0;
    while start < size {
        let end = (start + 1000).min(size);
        for (offset, bytes) in ledger.entries(start, end)?.iter().enumerate() {
            let index = start + offset as u64;
            let entry = Entry::parse(bytes)?;
            let body = &entry.body;
            let signer = body.get("signer").and_then(Value::as_str).unwrap_or_default();
            if body.get("kind").and_then(Value::as_str) != Some("message") || (signer != SOCIAL && signer != MAIL) {
                continue;
            }
            if flagged.is_none() {
                if let Some(flag) = entry.flags.iter().find(|f| f.starts_with("objected:")) {
                    flagged = Some((index, flag.clone()));
                }
            }
            let campaign = body.pointer("/delivery/creative/campaign_id").and_then(Value::as_str).unwrap_or_default().to_string();
            match ledger.personal(index)? {
                Some(PersonalState::Present(p)) => {
                    let rank = match p.recipient.as_str() {
                        ALICE => 0,
                        BOB => 1,
                        _ => continue,
                    };
                    if rank == 0 && alice_first.is_none() {
                        alice_first = Some(index);
                    }
                    let slot = per_campaign.entry(campaign).or_insert((rank, index));
                    if rank < slot.0 {
                        *slot = (rank, index);
                    }
                }
                Some(PersonalState::Erased) => {
                    erased.get_or_insert(index);
                }
                None => {}
            }
        }
        start = end;
    }

    let mut out = Vec::new();
    for (id, label) in CAMPAIGN_LABELS {
        if let Some((rank, index)) = per_campaign.get(id) {
            let who = if *rank == 0 { ALICE } else { BOB };
            out.push((format!("{label}, as seen by {who}"), why(*index)));
        }
    }
    if let Some(index) = alice_first {
        out.push((format!("Every message one platform sent {ALICE} (the page asks for her address)"), format!("{}/messages", why(index))));
    }
    if let Some((index, flag)) = flagged {
        out.push((format!("A message served after its recipient objected (flag {flag})"), why(index)));
    }
    if let Some(index) = erased {
        out.push(("A message whose recipient erased their personal data".to_string(), why(index)));
    }
    out.push(("Public ad library".to_string(), format!("{base}/library")));
    Ok(out)
}

//! The demo data set (`sightline serve --demo`), kept as data files in `web/demo/` and compiled
//! into the binary: `demo.json` names the demo submitters and the parties behind the campaigns,
//! and each `NN-*.json` is one of the ten seed scenarios of issue 23, with its recipients
//! selected through different branches of its audience where that makes sense
//! (`scenario.rs` reads one):
//!
//! | file | practice |
//! |---|---|
//! | `01-ocean-dark-post` | personality-targeted political dark post (quiz-app data via friends' permissions, OCEAN model) |
//! | `02-follow-up` | the automatic follow-up after a response to it: more of the same, or a test of another trait |
//! | `03-rally-location-topic` | rally ads by location and by declared interest or observed topic, under-18s excluded |
//! | `04-voter-file-warehouse` | a voter-file warehouse keyed by one voter id, with purchased consumer data |
//! | `05-friend-to-friend` | friend-to-friend mobilisation: texts to the contacts a supporter's app shared |
//! | `06-fundraiser-lookalike` | a fundraiser aimed at a voter file or its lookalikes, with the seed audience |
//! | `07-predicted-pregnancy` | an offer to people a model predicts are pregnant, on no Art. 9(2) condition |
//! | `08-loyalty-segments` | loyalty-card segment offers, and where to change the segments |
//! | `09-contextual-tv` | a contextual TV and streaming buy in a programme: nothing about the viewer |
//! | `10-broker-email` | a marketing e-mail to an address rented from a data broker |
//!
//! Then alice@example.org objects to Civic Future and receives one more of its messages
//! (flagged `objected:<n>`), and one generated recipient erases their personal data, so that
//! every state of the recipient pages can be clicked.
//!
//! Loading is idempotent: when the demo's first submitter is registered nothing is appended,
//! and the links are rebuilt from the log. Everything but salts, keys and the time of the
//! message served after the objection is deterministic.

mod scenario;

use std::collections::HashMap;

use ed25519_dalek::SigningKey;
use rand_core::OsRng;
use serde::Deserialize;
use serde_json::Value;
use sightline_ledger::entry::Entry;
use sightline_ledger::privacy::Personal;
use sightline_ledger::record::format_time;
use sightline_ledger::submitter::{public_key_b64, sign_message};
use sightline_ledger::{Ledger, PersonalState};

use crate::error::{WebError, WebResult};
use scenario::Scenario;

/// `demo.json`: who reports the demo, who pays for it, and who objects and erases.
const DEMO: &str = include_str!("../../demo/demo.json");

/// The scenario files, in campaign order.
const SCENARIOS: [(&str, &str); 10] = [
    ("01-ocean-dark-post.json", include_str!("../../demo/01-ocean-dark-post.json")),
    ("02-follow-up.json", include_str!("../../demo/02-follow-up.json")),
    ("03-rally-location-topic.json", include_str!("../../demo/03-rally-location-topic.json")),
    ("04-voter-file-warehouse.json", include_str!("../../demo/04-voter-file-warehouse.json")),
    ("05-friend-to-friend.json", include_str!("../../demo/05-friend-to-friend.json")),
    ("06-fundraiser-lookalike.json", include_str!("../../demo/06-fundraiser-lookalike.json")),
    ("07-predicted-pregnancy.json", include_str!("../../demo/07-predicted-pregnancy.json")),
    ("08-loyalty-segments.json", include_str!("../../demo/08-loyalty-segments.json")),
    ("09-contextual-tv.json", include_str!("../../demo/09-contextual-tv.json")),
    ("10-broker-email.json", include_str!("../../demo/10-broker-email.json")),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Demo {
    submitters: Vec<SubmitterSpec>,
    parties: Vec<crate::admin::NewParty>,
    /// Who objects, through which message (to that message's advertiser).
    objection: Act,
    /// Who erases their personal data (through their first message).
    erasure: Erasure,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitterSpec {
    id: String,
    name: String,
    contact: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Act {
    recipient: String,
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Erasure {
    recipient: String,
}

fn demo() -> WebResult<Demo> {
    serde_json::from_str(DEMO).map_err(|e| WebError::Setup(format!("demo.json: {e}")))
}

/// The scenarios, read from their files.
fn scenarios() -> WebResult<Vec<Scenario>> {
    SCENARIOS.iter().map(|(file, text)| Scenario::parse(file, text)).collect()
}

/// Loads the demo data set once per ledger and returns `(label, URL)` pairs to click. A second
/// call appends nothing and returns the same links.
pub fn load(ledger: &Ledger, public_url: &str) -> WebResult<Vec<(String, String)>> {
    let demo = demo()?;
    let scenarios = scenarios()?;
    let marker = demo.submitters.first().map(|s| s.id.as_str()).unwrap_or_default();
    if !ledger.registry()?.submitters.contains_key(marker) {
        populate(ledger, &demo, &scenarios)?;
    }
    links(ledger, public_url, &demo, &scenarios)
}

fn populate(ledger: &Ledger, demo: &Demo, scenarios: &[Scenario]) -> WebResult<()> {
    // The demo platforms' keys live only as long as this call: nothing else signs for them.
    let mut keys: HashMap<&str, SigningKey> = HashMap::new();
    for s in &demo.submitters {
        let key = SigningKey::generate(&mut OsRng);
        ledger.register_submitter(&s.id, &s.name, &s.contact, &public_key_b64(&key))?;
        keys.insert(&s.id, key);
    }
    for p in &demo.parties {
        p.register(ledger)?;
    }
    // Message id → entry, so that a follow-up names the entry of the message it follows.
    let mut entries: HashMap<String, u64> = HashMap::new();
    let mut later = Vec::new();
    for ((file, _), s) in SCENARIOS.iter().zip(scenarios) {
        let key = keys.get(s.submitter.as_str()).ok_or_else(|| WebError::Setup(format!("demo scenario {file}: unknown submitter")))?;
        let mut planned = s.plan(file)?;
        planned.sort_by(|a, b| a.served_at.cmp(&b.served_at));
        let (now, logged): (Vec<_>, Vec<_>) = planned.into_iter().partition(|p| p.served_at == "now");
        let mut subs = Vec::with_capacity(logged.len());
        for p in &logged {
            let earlier = earlier_entry(&entries, p.follows.as_deref(), &p.id)?;
            let personal = Personal::new(&p.recipient, p.evaluation.clone(), p.consent.clone());
            subs.push(sign_message(key, s.body(p, &p.served_at, earlier), &personal)?);
        }
        let ack = ledger.submit(subs)?;
        entries.extend(logged.iter().zip(&ack.acks).map(|(p, a)| (p.id.clone(), a.index)));
        later.extend(now.into_iter().map(|p| (s, key, p)));
    }

    // Alice objects to Civic Future; the platform still shows her its dark post.
    let objected = entries.get(&demo.objection.message).copied();
    let objected = objected.ok_or_else(|| WebError::Setup(format!("demo: {} was not loaded", demo.objection.message)))?;
    ledger.object(objected, &demo.objection.recipient)?;
    let served_at = format_time(time::OffsetDateTime::now_utc() - time::Duration::minutes(1));
    for (s, key, p) in later {
        let personal = Personal::new(&p.recipient, p.evaluation.clone(), p.consent.clone());
        let earlier = earlier_entry(&entries, p.follows.as_deref(), &p.id)?;
        ledger.submit(vec![sign_message(key, s.body(&p, &served_at, earlier), &personal)?])?;
    }

    // A generated recipient has their personal data erased (crypto-shredding).
    let who = &demo.erasure.recipient;
    let first = scenarios.iter().flat_map(|s| s.ids_to(who)).find_map(|id| entries.get(&id).copied());
    let first = first.ok_or_else(|| WebError::Setup(format!("demo: {who} received no message")))?;
    ledger.erase_recipient_of(first, who)?;
    Ok(())
}

fn earlier_entry(entries: &HashMap<String, u64>, follows: Option<&str>, id: &str) -> WebResult<Option<u64>> {
    match follows {
        None => Ok(None),
        Some(f) => entries
            .get(f)
            .copied()
            .map(Some)
            .ok_or_else(|| WebError::Setup(format!("demo: {id} follows {f}, which is not loaded before it"))),
    }
}

/// The links to print, rebuilt from the log (so that they are the same on every start).
fn links(ledger: &Ledger, public_url: &str, demo: &Demo, scenarios: &[Scenario]) -> WebResult<Vec<(String, String)>> {
    let base = public_url.trim_end_matches('/');
    let why = |index: u64| format!("{base}/why/{}", ledger.why_token(index));
    let signers: Vec<&str> = demo.submitters.iter().map(|s| s.id.as_str()).collect();
    let mut entries: HashMap<String, u64> = HashMap::new();
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
            if body.get("kind").and_then(Value::as_str) != Some("message") || !signers.contains(&signer) {
                continue;
            }
            if flagged.is_none() {
                if let Some(flag) = entry.flags.iter().find(|f| f.starts_with("objected:")) {
                    flagged = Some((index, flag.clone()));
                }
            }
            if erased.is_none() && matches!(ledger.personal(index)?, Some(PersonalState::Erased)) {
                erased = Some(index);
            }
            if let Some(id) = body.get("message_id").and_then(Value::as_str) {
                entries.insert(id.to_string(), index);
            }
        }
        start = end;
    }

    let mut out = Vec::new();
    for s in scenarios {
        for who in &s.show {
            if let Some(index) = s.messages.iter().filter(|m| &m.to == who).find_map(|m| entries.get(&m.id)) {
                out.push((format!("{}, as seen by {who}", s.label), why(*index)));
            }
        }
    }
    let objector = &demo.objection.recipient;
    if let Some(index) = entries.get(&demo.objection.message) {
        out.push((
            format!("Every message one platform sent {objector} (the page asks for her address)"),
            format!("{}/messages", why(*index)),
        ));
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

//! One demo scenario as its data file holds it (`web/demo/NN-*.json`), and the messages it
//! plans: the body every message of the campaign shares, its creatives, the named recipients'
//! messages with their evaluation and consent evidence, and a crowd of generated recipients
//! that gives the ad library its reach.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sightline_ledger::audience::Evaluation;
use sightline_ledger::privacy::ConsentEvidence;

use crate::error::{WebError, WebResult};

/// A scenario file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Scenario {
    /// The campaign id every message carries.
    pub campaign: String,
    /// What the printed link calls it.
    pub label: String,
    /// The demo submitter that reports it.
    pub submitter: String,
    /// The recipients whose page is printed, each with their first message.
    pub show: Vec<String>,
    /// The message body, without what each message fills in: `kind`, `signer`, `message_id`,
    /// the served time and Member State, the creative's own fields, the e-mail headers and the
    /// commitments. A source of kind `earlier_message` gets the entry of the message `follows`
    /// names.
    pub body: Value,
    pub creatives: Vec<CreativeSpec>,
    pub messages: Vec<MessageSpec>,
    pub crowd: Option<Crowd>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreativeSpec {
    pub ad_id: String,
    pub creative_id: String,
    pub language: String,
    pub subject: String,
    /// The creative's text, which its content hash is taken over.
    pub text: String,
    /// The Member States it is shown in (empty: any).
    #[serde(default)]
    pub states: Vec<String>,
    /// Where its asset is published, if anywhere.
    pub asset_url: Option<String>,
}

/// One named recipient's message.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MessageSpec {
    pub id: String,
    pub to: String,
    pub state: String,
    /// An RFC 3339 time, or `now`: a message served after the demo's objection.
    pub served_at: String,
    /// A `creative_id` of the scenario.
    pub creative: String,
    /// The message id of the earlier message this one follows up.
    #[serde(default)]
    pub follows: Option<String>,
    pub evaluation: BTreeMap<String, Evaluation>,
    pub consent: BTreeMap<String, ConsentEvidence>,
}

/// Generated recipients `numbers[0] ..= numbers[1]`, all with the same values.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Crowd {
    /// The identifier, with `{n}` for the recipient's number (three digits).
    pub recipient: String,
    pub numbers: [u32; 2],
    /// Member States, taken in turn.
    pub states: Vec<String>,
    /// First and last day served.
    pub days: [String; 2],
    /// The message each one follows up, with `{n}` as above.
    #[serde(default)]
    pub follows: Option<String>,
    pub evaluation: BTreeMap<String, Evaluation>,
    pub consent: BTreeMap<String, ConsentEvidence>,
}

/// A message ready to be signed, but for the earlier entry it may follow up.
pub(super) struct Planned<'a> {
    pub id: String,
    pub recipient: String,
    pub state: String,
    pub served_at: String,
    pub creative: &'a CreativeSpec,
    pub follows: Option<String>,
    pub evaluation: BTreeMap<String, Evaluation>,
    pub consent: BTreeMap<String, ConsentEvidence>,
}

fn bad(file: &str, why: impl std::fmt::Display) -> WebError {
    WebError::Setup(format!("demo scenario {file}: {why}"))
}

impl Scenario {
    pub(super) fn parse(file: &str, text: &str) -> WebResult<Scenario> {
        serde_json::from_str(text).map_err(|e| bad(file, e))
    }

    fn creative(&self, file: &str, id: &str) -> WebResult<&CreativeSpec> {
        self.creatives.iter().find(|c| c.creative_id == id).ok_or_else(|| bad(file, format!("no creative `{id}`")))
    }

    /// The creative for a generated recipient in `state`: the first shown there, else one in turn.
    fn creative_for(&self, state: &str, n: u32) -> Option<&CreativeSpec> {
        let len = self.creatives.len().max(1);
        self.creatives.iter().find(|c| c.states.iter().any(|s| s == state)).or_else(|| self.creatives.get(n as usize % len))
    }

    /// The ids of the messages this scenario sends `who`, named ones first.
    pub(super) fn ids_to(&self, who: &str) -> Vec<String> {
        let named = self.messages.iter().filter(|m| m.to == who).map(|m| m.id.clone());
        let crowd = self.crowd.iter().flat_map(|c| {
            (c.numbers[0]..=c.numbers[1])
                .map(|n| format!("{n:03}"))
                .filter(|n| c.recipient.replace("{n}", n) == who)
                .map(|n| format!("{}/crowd-{n}", self.campaign))
        });
        named.chain(crowd).collect()
    }

    /// Every message of the scenario: the named ones in file order, then the crowd's.
    pub(super) fn plan(&self, file: &str) -> WebResult<Vec<Planned<'_>>> {
        let mut out = Vec::new();
        for m in &self.messages {
            out.push(Planned {
                id: m.id.clone(),
                recipient: m.to.clone(),
                state: m.state.clone(),
                served_at: m.served_at.clone(),
                creative: self.creative(file, &m.creative)?,
                follows: m.follows.clone(),
                evaluation: m.evaluation.clone(),
                consent: m.consent.clone(),
            });
        }
        let Some(crowd) = &self.crowd else { return Ok(out) };
        let date = |d: &str| time::Date::parse(d, &time::macros::format_description!("[year]-[month]-[day]")).map_err(|e| bad(file, e));
        let (first, last) = (date(&crowd.days[0])?, date(&crowd.days[1])?);
        let span = (last - first).whole_days().max(0) as u32 + 1;
        for n in crowd.numbers[0]..=crowd.numbers[1] {
            let number = format!("{n:03}");
            let state =
                crowd.states.get(n as usize % crowd.states.len().max(1)).ok_or_else(|| bad(file, "the crowd names no Member State"))?;
            let day = first + time::Duration::days(i64::from(n * 7 % span));
            out.push(Planned {
                id: format!("{}/crowd-{number}", self.campaign),
                recipient: crowd.recipient.replace("{n}", &number),
                state: state.clone(),
                served_at: format!("{day}T{:02}:{:02}:{:02}Z", 7 + n * 5 % 15, n * 13 % 60, n * 29 % 60),
                creative: self.creative_for(state, n).ok_or_else(|| bad(file, "no creatives"))?,
                follows: crowd.follows.as_ref().map(|f| f.replace("{n}", &number)),
                evaluation: crowd.evaluation.clone(),
                consent: crowd.consent.clone(),
            });
        }
        Ok(out)
    }

    /// The body of one planned message, `earlier` the entry it follows up.
    pub(super) fn body(&self, p: &Planned<'_>, served_at: &str, earlier: Option<u64>) -> Value {
        let mut b = self.body.clone();
        let c = p.creative;
        let sha256 = hex::encode(Sha256::digest(c.text.as_bytes()));
        b["kind"] = json!("message");
        b["signer"] = json!(self.submitter);
        b["message_id"] = json!(p.id);
        let email = b["delivery"]["channel"] == "email";
        let d = &mut b["delivery"];
        d["served_at"] = json!(served_at);
        d["member_state"] = json!(p.state);
        d["email_headers"] = if email {
            let token = &hex::encode(Sha256::digest(p.id.as_bytes()))[..16];
            json!({
                "list_unsubscribe": format!("<https://esp.demo-mail.example/u/{token}>, <mailto:unsubscribe+{token}@esp.demo-mail.example>"),
                "list_unsubscribe_post": "List-Unsubscribe=One-Click"
            })
        } else {
            Value::Null
        };
        let assets: Vec<Value> = c.asset_url.iter().map(|u| json!({ "sha256": sha256, "url": u })).collect();
        let cr = &mut d["creative"];
        cr["sha256"] = json!(sha256);
        cr["subject"] = json!(c.subject);
        cr["language"] = json!(c.language);
        cr["campaign_id"] = json!(self.campaign);
        cr["ad_id"] = json!(c.ad_id);
        cr["creative_id"] = json!(c.creative_id);
        cr["content"] = json!({ "text": c.text, "assets": assets });
        if let Some(Value::Array(labels)) = b.get_mut("lineage") {
            for l in labels.iter_mut().filter(|l| l["kind"] == "earlier_message") {
                l["entry"] = earlier.map_or(Value::Null, |i| json!(i));
            }
        }
        b
    }
}

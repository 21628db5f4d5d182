//! Reading observations: an `.eml` file, or a JSON observation of an ad (one object; in a
//! batch, one per line), into an [`Observation`].
//!
//! A JSON observation:
//!
//! ```json
//! { "channel": "display", "asset_sha256": "<hex>" | "asset_base64": "<base64 of the asset bytes>",
//!   "seen_at": "2026-11-20T18:04:05Z", "seen_where": "https://news.example/ (Berlin)",
//!   "member_state": "DE", "advertiser": "Civic Future",
//!   "reference": "<origin> <index> <leaf hash>", "why_url": "https://…", "platform": "acme-ads" }
//! ```
//!
//! Only `channel` and the asset (its bytes or hash) are required. In a batch a line may instead
//! name an e-mail: `{ "eml_file": "mail/0001.eml" }` (relative to the batch file's folder) or
//! `{ "eml_base64": "…" }`, with the same optional `seen_where`, `member_state`, `platform`.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::email::{parse_email, MAX_MESSAGE};
use super::reference::{from_why_url, parse_reference};
use super::Observation;
use crate::error::{Error, Result};

/// The channels of SPEC §3.4.
pub const CHANNELS: [&str; 8] = ["display", "social", "search", "video", "email", "sms", "push", "tv"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Json {
    channel: Option<String>,
    asset_base64: Option<String>,
    asset_sha256: Option<String>,
    seen_at: Option<String>,
    seen_where: Option<String>,
    member_state: Option<String>,
    advertiser: Option<String>,
    why_url: Option<String>,
    reference: Option<String>,
    platform: Option<String>,
    eml_file: Option<String>,
    eml_base64: Option<String>,
}

/// Reads the observation in `bytes`: JSON when it starts with `{`, else an e-mail message.
/// `what` names it in messages; `base` is where an `eml_file` is looked for.
pub fn read_observation(bytes: &[u8], what: &str, base: &Path) -> Result<Observation> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        let json: Json = serde_json::from_slice(bytes)
            .map_err(|e| Error::unusable(what, format!("it is not a JSON observation: {e}. The fields are channel, asset_sha256 or asset_base64, seen_at, seen_where, member_state, advertiser, why_url, reference, platform (or eml_file / eml_base64)")))?;
        from_json(json, what, base)
    } else {
        from_email(bytes, what)
    }
}

/// Reads an `.eml` file (at most [`MAX_MESSAGE`] bytes are read).
pub fn read_email_file(path: &Path, what: &str) -> Result<Observation> {
    let bytes = read_capped(path)?;
    from_email(&bytes, what)
}

/// Reads a file, refusing one larger than [`MAX_MESSAGE`] without reading it whole.
pub fn read_capped(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |e| Error::Io { path: path.display().to_string(), source: e };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_MESSAGE + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_MESSAGE {
        return Err(Error::unusable(
            path.display().to_string(),
            format!("it is larger than the {} MiB this tool reads (a message with a gigantic attachment?)", MAX_MESSAGE >> 20),
        ));
    }
    Ok(bytes)
}

fn from_email(bytes: &[u8], what: &str) -> Result<Observation> {
    let m = parse_email(bytes, what)?;
    let mut notes = Vec::new();
    for (bh, same) in &m.dkim_body_hashes {
        notes.push(if *same {
            "a DKIM-Signature of the message carries this body hash (bh=), so its sender signed this body".to_string()
        } else {
            format!("a DKIM-Signature carries another body hash (bh={}): the body was changed after it was signed", B64.encode(bh))
        });
    }
    if let Some(s) = &m.subject {
        notes.push(format!("subject: {s}"));
    }
    Ok(Observation {
        source: what.to_string(),
        channel: "email".into(),
        content_sha256: m.body_sha256,
        message_sha256: Some(m.message_sha256),
        reference: m.reference.as_ref().map(|r| r.text()),
        parsed_reference: m.reference,
        seen_at: m.date.as_ref().map(|(_, text)| text.clone()),
        seen_unix: m.date.map(|(t, _)| t),
        seen_where: None,
        member_state: None,
        advertiser: m.from,
        why_url: None,
        platform: None,
        notes,
    })
}

fn from_json(j: Json, what: &str, base: &Path) -> Result<Observation> {
    let bad = |d: String| Error::unusable(what, d);
    let mut obs = match (&j.eml_file, &j.eml_base64) {
        (Some(_), Some(_)) => return Err(bad("it names both eml_file and eml_base64; give one".into())),
        (Some(f), None) => read_email_file(&base.join(f), &format!("{what} ({f})"))?,
        (None, Some(b)) => {
            let bytes = B64.decode(b.as_bytes()).map_err(|_| bad("eml_base64 is not standard base64".into()))?;
            from_email(&bytes, what)?
        }
        (None, None) => {
            let channel =
                j.channel.clone().ok_or_else(|| bad("it has no channel (display, social, search, video, email, sms or push)".into()))?;
            Observation {
                source: what.to_string(),
                content_sha256: asset_hash(&j, &bad)?,
                channel,
                message_sha256: None,
                reference: None,
                parsed_reference: None,
                seen_at: None,
                seen_unix: None,
                seen_where: None,
                member_state: None,
                advertiser: None,
                why_url: None,
                platform: None,
                notes: Vec::new(),
            }
        }
    };
    if let Some(c) = &j.channel {
        if !CHANNELS.contains(&c.as_str()) {
            return Err(bad(format!("channel {c:?} is not one of {}", CHANNELS.join(", "))));
        }
        if obs.channel != *c {
            return Err(bad(format!("channel {c:?} contradicts the e-mail it names")));
        }
    }
    if let Some(t) = &j.seen_at {
        let unix = super::index::unix_seconds(t)
            .ok_or_else(|| bad(format!("seen_at {t:?} is not an RFC 3339 UTC time such as 2026-11-20T18:04:05Z")))?;
        obs.seen_at = Some(t.clone());
        obs.seen_unix = Some(unix);
    }
    if let Some(r) = &j.reference {
        if obs.parsed_reference.is_some() {
            return Err(bad("it gives a reference and names an e-mail that carries its own".into()));
        }
        let parsed = parse_reference(r, &format!("the reference of {what}"))?;
        obs.reference = Some(parsed.text());
        obs.parsed_reference = Some(parsed);
    }
    if let Some(u) = &j.why_url {
        if let Some(parsed) = from_why_url(u, &format!("the why link of {what}"))? {
            match &obs.parsed_reference {
                Some(r) if r.index != parsed.index || r.leaf != parsed.leaf => {
                    return Err(bad("its why link names another entry than its reference".into()))
                }
                Some(_) => {}
                None => {
                    obs.reference = Some(parsed.text());
                    obs.parsed_reference = Some(parsed);
                }
            }
        }
        obs.why_url = Some(u.clone());
    }
    if let Some(ms) = &j.member_state {
        if !(ms.len() == 2 && ms.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(bad(format!("member_state {ms:?} is not a two-letter code such as DE")));
        }
    }
    obs.member_state = j.member_state.or(obs.member_state);
    obs.seen_where = j.seen_where.or(obs.seen_where);
    obs.advertiser = j.advertiser.or(obs.advertiser);
    obs.platform = j.platform.or(obs.platform);
    Ok(obs)
}

fn asset_hash(j: &Json, bad: &dyn Fn(String) -> Error) -> Result<crate::merkle::Hash> {
    let from_hex = |h: &str| crate::record::hex32(&h.to_ascii_lowercase());
    match (&j.asset_base64, &j.asset_sha256) {
        (None, None) => Err(bad("it has neither asset_base64 (the asset's bytes) nor asset_sha256 (their SHA-256)".into())),
        (Some(b), hash) => {
            if b.len() as u64 > MAX_MESSAGE / 3 * 4 + 4 {
                return Err(bad(format!("asset_base64 is larger than the {} MiB this tool reads", MAX_MESSAGE >> 20)));
            }
            let bytes = B64.decode(b.as_bytes()).map_err(|_| bad("asset_base64 is not standard base64".into()))?;
            let digest: crate::merkle::Hash = Sha256::digest(&bytes).into();
            if let Some(h) = hash {
                if from_hex(h) != Some(digest) {
                    return Err(bad("asset_sha256 is not the SHA-256 of asset_base64".into()));
                }
            }
            Ok(digest)
        }
        (None, Some(h)) => from_hex(h).ok_or_else(|| bad(format!("asset_sha256 {h:?} is not 64 hex digits"))),
    }
}

/// RFC 3339 UTC of Unix seconds.
pub fn format_unix(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_unix_inverts_unix_seconds() {
        for t in ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2026-11-20T18:04:05Z"] {
            assert_eq!(format_unix(super::super::index::unix_seconds(t).unwrap()), t);
        }
    }

    #[test]
    fn an_ad_observation_needs_its_channel_and_its_asset() {
        let base = Path::new(".");
        let read = |s: &str| read_observation(s.as_bytes(), "obs", base);
        assert!(read(r#"{"channel":"display","asset_sha256":"00"}"#).unwrap_err().to_string().contains("64 hex"));
        assert!(read(r#"{"asset_sha256":"x"}"#).unwrap_err().to_string().contains("no channel"));
        assert!(read(r#"{"channel":"billboard","asset_base64":"AA=="}"#).unwrap_err().to_string().contains("not one of"));
        assert!(read(r#"{"channel":"display","asset_base64":"AA==","colour":"red"}"#).unwrap_err().to_string().contains("unknown field"));
        let o = read(r#"{"channel":"display","asset_base64":"aGk=","seen_at":"2026-11-20T18:04:05Z","advertiser":"Shoes"}"#).unwrap();
        assert_eq!(o.content_sha256, <[u8; 32]>::from(Sha256::digest(b"hi")));
        assert_eq!(o.seen_unix, Some(1_795_716_245 - 6 * 86_400));
        assert!(o.parsed_reference.is_none());
    }
}

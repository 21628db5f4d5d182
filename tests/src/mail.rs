//! A platform's side of e-mail completeness (SPEC.md §3.9, §10.2), for the end-to-end tests:
//! build a real RFC 5322 message, sign it with DKIM (`mail-auth`, relaxed body
//! canonicalisation, Ed25519), log it with the body hash DKIM put in `bh=` as its
//! `delivery.creative.sha256`, and insert the `Sightline-Entry` header the log answered with.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use serde_json::{json, Value};

/// A platform's DKIM key (PKCS #8).
pub struct DkimKey(Vec<u8>);

impl DkimKey {
    /// A fresh key.
    pub fn generate() -> DkimKey {
        DkimKey(Ed25519Key::generate_pkcs8().expect("generate a DKIM key"))
    }

    fn key(&self) -> Ed25519Key {
        Ed25519Key::from_pkcs8_der(&self.0).expect("read the DKIM key")
    }
}

/// An e-mail as the platform sends it, before its reference is inserted.
pub struct Mail {
    /// The header section after the DKIM-Signature, ending with the empty line.
    pub headers: String,
    /// The body, as sent.
    pub body: String,
    /// The `DKIM-Signature` header.
    pub dkim_signature: String,
    /// The body hash DKIM computed (`bh=`), 32 bytes.
    pub body_hash: [u8; 32],
}

impl Mail {
    /// Builds and DKIM-signs a message `From: <from_name> <news@shoes.example>`.
    pub fn new(key: &DkimKey, from_name: &str, to: &str, subject: &str, date: &str, body: &str) -> Mail {
        let headers = format!(
            "From: {from_name} <news@shoes.example>\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{}@shoes.example>\r\nList-Unsubscribe: <https://shoes.example/unsub>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
            hex::encode(subject.as_bytes())
        );
        let body = body.replace('\n', "\r\n");
        let signed = format!("{headers}{body}");
        let signature = DkimSigner::from_key(key.key())
            .domain("shoes.example")
            .selector("s2026")
            .headers(["From", "To", "Subject", "Date", "Message-ID"])
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed)
            .sign(signed.as_bytes())
            .expect("DKIM-sign the message");
        let dkim_signature = signature.to_header();
        let bh = dkim_signature
            .split(';')
            .map(str::trim)
            .find_map(|t| t.strip_prefix("bh="))
            .map(|b| b.chars().filter(|c| !c.is_whitespace()).collect::<String>())
            .expect("the DKIM-Signature has bh=");
        let body_hash = B64.decode(bh).expect("bh= is base64").try_into().expect("bh= is 32 bytes");
        Mail { headers, body, dkim_signature, body_hash }
    }

    /// The message as delivered, with `reference` (a whole header line, or none) before the rest.
    pub fn delivered(&self, reference: Option<&str>) -> Vec<u8> {
        let reference = reference.map(|r| format!("{r}\r\n")).unwrap_or_default();
        format!("{reference}{}{}{}", self.dkim_signature, self.headers, self.body).into_bytes()
    }

    /// The `message` body (SPEC.md §3.4) that logs this e-mail: channel `email`, its content
    /// hash the DKIM body hash.
    pub fn message_body(&self, signer: &str, message_id: &str, served_at: &str, campaign: &str, subject: &str) -> Value {
        let mut body = crate::plain_message(signer, message_id, subject);
        body["delivery"]["channel"] = json!("email");
        body["delivery"]["served_at"] = json!(served_at);
        body["delivery"]["member_state"] = json!("DE");
        body["delivery"]["creative"]["sha256"] = json!(hex::encode(self.body_hash));
        body["delivery"]["creative"]["campaign_id"] = json!(campaign);
        body["delivery"]["creative"]["language"] = json!("de");
        body["delivery"]["email_headers"] =
            json!({ "list_unsubscribe": "<https://shoes.example/unsub>", "list_unsubscribe_post": "not_disclosed" });
        body["delivery"]["address_lineage"] = json!(["s-customers"]);
        body
    }
}

/// RFC 5322 date of Unix seconds (UTC).
pub fn rfc5322(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let t = crate::rfc3339(unix);
    let (y, m, d) = (&t[0..4], t[5..7].parse::<usize>().unwrap_or(1), &t[8..10]);
    let weekday = DAYS[unix.div_euclid(86_400).rem_euclid(7) as usize];
    format!("{weekday}, {d} {} {y} {} +0000", MONTHS[m - 1], &t[11..19])
}

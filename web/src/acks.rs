//! The answer to acknowledged records (SPEC.md §12), as the ingestion API, the admin API and
//! `sightline import` write it: the checkpoint, and per record its index, receipt, reference,
//! warnings and why link. Written by hand, members in sorted order, into one buffer.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use sightline_ledger::json_text;
use sightline_ledger::{Ack, BatchAck};

use crate::error::WebResult;

/// The response to an acknowledged batch (SPEC.md §12), written straight from the
/// acknowledgement into one buffer sized up front: a batch's receipts are megabytes.
pub fn batch_response(public_url: &str, ack: &BatchAck) -> WebResult<Response> {
    let body = batch_body(public_url, ack);
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response())
}

/// Writes the response by hand, members in sorted order: `serde_json` scans each of a batch's
/// megabytes of receipt text one byte at a time, [`json_text::push_str`] 16 at a time. The test
/// below holds the bytes to what `serde_json` writes for the same members.
fn batch_body(public_url: &str, ack: &BatchAck) -> Vec<u8> {
    let size: usize = ack.acks.iter().map(|a| a.receipt.entry.len() + a.receipt.tlog_proof.len() + public_url.len() + 256).sum();
    let mut out = Vec::with_capacity(ack.checkpoint.len() + size + 64);
    out.extend_from_slice(b"{\"checkpoint\":");
    json_text::push_str(&mut out, &ack.checkpoint);
    out.extend_from_slice(b",\"receipts\":[");
    for (i, a) in ack.acks.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_acked(&mut out, public_url, a);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Appends one acknowledged record as the response lists it (SPEC.md §12), members in sorted
/// order; `sightline import` writes the same objects, one per line.
pub fn push_acked(out: &mut Vec<u8>, public_url: &str, a: &Ack) {
    use std::io::Write;
    out.extend_from_slice(if a.duplicate { b"{\"duplicate\":true,\"index\":" } else { b"{\"duplicate\":false,\"index\":" });
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{}", a.index);
    out.extend_from_slice(b",\"message_id\":");
    json_text::push_opt_str(out, a.message_id.as_deref());
    out.extend_from_slice(b",\"receipt\":{\"entry\":");
    json_text::push_str(out, &a.receipt.entry);
    out.extend_from_slice(b",\"format\":");
    json_text::push_str(out, &a.receipt.format);
    out.extend_from_slice(b",\"tlog_proof\":");
    json_text::push_str(out, &a.receipt.tlog_proof);
    // The exact header, attribute or link the platform puts into the message (SPEC.md §10.2).
    let why_url = a.why_token.as_ref().map(|t| format!("{public_url}/why/{t}"));
    out.extend_from_slice(b"},\"reference\":");
    json_text::push_opt_str(out, a.reference.as_ref().map(|r| r.carrier(why_url.as_deref())).as_deref());
    out.extend_from_slice(b",\"warnings\":[");
    for (j, w) in a.warnings.iter().enumerate() {
        if j > 0 {
            out.push(b',');
        }
        json_text::push_str(out, w);
    }
    out.extend_from_slice(b"],\"why_url\":");
    json_text::push_opt_str(out, why_url.as_deref());
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sightline_ledger::receipt::Receipt;
    use sightline_ledger::record::Channel;
    use sightline_ledger::reference::{EntryRef, MessageRef};
    use sightline_ledger::{Ack, BatchAck};

    /// The response names exactly the members of SPEC.md §12, in sorted order,
    /// byte for byte what a `serde_json::Value` of them serializes to.
    #[test]
    fn batch_body_is_the_spec_members_in_sorted_order() {
        let receipt = |i: u64| Receipt {
            format: "sightline-receipt/v1".into(),
            entry: format!("ZW50cnk{i}"),
            tlog_proof: format!("c2sp.org/tlog-proof@v1\nindex {i}\n\"quoted\" <b>\n"),
        };
        let ack = BatchAck {
            checkpoint: "example.org/log\n7\nroot\n\n— sig\n".into(),
            acks: vec![
                Ack {
                    index: 5,
                    message_id: Some("m-\"1\"\\ ☃".into()),
                    duplicate: false,
                    why_token: Some("TOKEN5".into()),
                    warnings: vec![],
                    receipt: receipt(5),
                    reference: Some(MessageRef {
                        channel: Channel::Email,
                        entry: EntryRef { origin: "log.example/log".into(), index: 5, leaf: [7; 32] },
                    }),
                },
                Ack {
                    index: 3,
                    message_id: None,
                    duplicate: true,
                    why_token: None,
                    warnings: vec!["the recipient objected".into(), "control \u{1}\t<b>".into()],
                    receipt: receipt(3),
                    reference: None,
                },
            ],
        };
        let url = "https://log.example";
        let expected = json!({
            "checkpoint": ack.checkpoint,
            "receipts": ack.acks.iter().map(|a| json!({
                "message_id": a.message_id,
                "index": a.index,
                "duplicate": a.duplicate,
                "why_url": a.why_token.as_ref().map(|t| format!("{url}/why/{t}")),
                "receipt": a.receipt,
                "reference": a.reference.as_ref().map(|r| r.carrier(None)),
                "warnings": a.warnings,
            })).collect::<Vec<_>>(),
        });
        let got = super::batch_body(url, &ack);
        assert_eq!(String::from_utf8(got).unwrap(), serde_json::to_string(&expected).unwrap());
    }
}

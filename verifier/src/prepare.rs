//! The parallel stage of verification for one entry: canonical bytes, leaf hash, fields and
//! the signed message, ready for the in-order walk of [`crate::chain`].

use crate::chain::Rec;
use crate::error::{Error, Result};
use crate::json::{self, Doc};
use crate::record::{entry_from_doc, Detail, Entry, SIG_CONTEXT};

/// The parallel stage for one entry: canonical bytes, leaf hash, fields, signed message.
///
/// `at` is the entry object's node in `doc`. `raw` entries (from entry bundles and receipts)
/// must already be canonical; a bundle's entry object is canonicalised (`JCS(entry)`).
pub fn prepare(position: u64, doc: &Doc<'_>, at: usize, raw: bool, signatures: bool) -> Result<Rec> {
    let fail = |d: String| Error::Integrity { what: format!("record {position}"), detail: d };
    let node = doc.node(at).ok_or_else(|| fail("the entry is missing".into()))?;
    if node.canonical {
        let bytes = doc.raw(at).as_bytes();
        let entry = entry_from_doc(doc, at).map_err(|d| name_index(doc, at, d, &fail))?;
        return finish(position, bytes, doc.src.as_bytes(), entry, signatures);
    }
    let src = doc.raw(at).as_bytes();
    let (bytes, canonical) = json::canonicalize(src).map_err(|e| fail(format!("the entry is not valid JSON ({e})")))?;
    let doc2 = json::parse(&bytes).map_err(|e| fail(format!("the entry is not valid JSON ({e})")))?;
    let entry = entry_from_doc(&doc2, 0).map_err(|d| name_index(&doc2, 0, d, &fail))?;
    if raw && !canonical {
        return Err(Error::entry(entry.index, "its bytes are not in canonical JSON form (RFC 8785): they were re-encoded or altered"));
    }
    finish(position, &bytes, &bytes, entry, signatures)
}

fn name_index(doc: &Doc<'_>, at: usize, d: String, fail: &dyn Fn(String) -> Error) -> Error {
    match doc.get(at, "index").and_then(|i| doc.u64(i)) {
        Some(i) => Error::entry(i, d),
        None => fail(format!("the entry {d}")),
    }
}

fn finish(position: u64, bytes: &[u8], src: &[u8], entry: Entry, signatures: bool) -> Result<Rec> {
    if bytes.len() > crate::record::MAX_ENTRY {
        return Err(Error::entry(entry.index, format!("it is {} bytes, over the 65,535-byte entry limit", bytes.len())));
    }
    let leaf = crate::merkle::leaf_hash(bytes);
    let msg = if signatures || matches!(entry.detail, Detail::LogKey { .. }) {
        let body = src.get(entry.body.0..entry.body.1).unwrap_or_default();
        let mut m = Vec::with_capacity(SIG_CONTEXT.len() + body.len());
        m.extend_from_slice(SIG_CONTEXT);
        m.extend_from_slice(body);
        m
    } else {
        Vec::new()
    };
    Ok(Rec { position, leaf, entry, msg })
}

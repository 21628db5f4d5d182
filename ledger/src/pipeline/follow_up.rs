//! A source that is an earlier entry of this log (SPEC.md §3.4, `lineage[].kind =
//! earlier_message`): the automatic follow-up after a recipient clicked or answered a message.
//! The ledger checks, when the follow-up is prepared, that the entry it names is a message of
//! the same submitter already in the log and, privately, that it went to the same recipient:
//! its lookup record holds the same recipient handle (SPEC.md §7: the same normalised identifier
//! in that submitter's scope). The public record shows only the index.
//!
//! What a refusal says reveals nothing a submitter does not know: the entry named must be its
//! own message, whose recipient it reported itself.

use crate::error::{Error, Result};
use crate::model::entry::LoggedEntry;
use crate::model::record::{invalid, Body, MessageBody};
use crate::pipeline::state::{check_leaf, Shared};
use crate::privacy::lookup::{self, Handle};
use crate::tlog::merkle::Subtrees;

/// Checks every earlier entry that `m`'s lineage names, for the recipient `handle`.
pub(crate) fn check_earlier_entries(shared: &Shared, m: &MessageBody, handle: &Handle, r: usize) -> Result<()> {
    for (i, n) in m.lineage.iter().enumerate().filter_map(|(i, l)| l.entry.map(|n| (i, n))) {
        let field = format!("lineage[{i}].entry");
        let tree = shared.tree()?;
        let size = tree.size();
        let Some(leaf) = (n < size).then(|| tree.leaf(n)).transpose()? else {
            return Err(invalid(
                r,
                &field,
                format!("entry {n} is not in this log yet (it holds {size} entries); name the entry of the message this one follows up"),
            ));
        };
        let bytes = shared.store.entry(n)?.ok_or_else(|| Error::Corrupt(format!("published entry {n} is missing")))?;
        check_leaf(n, &bytes, &leaf)?;
        let own = matches!(&LoggedEntry::parse(&bytes)?.body, Body::Message(earlier) if earlier.signer == m.signer);
        if !own {
            return Err(invalid(
                r,
                &field,
                format!(
                    "entry {n} is not a message of submitter `{}`; a follow-up names an earlier message of its own submitter",
                    m.signer
                ),
            ));
        }
        let record = shared.store.lookups(n, n + 1)?;
        match record.first().map(lookup::parts) {
            Some((_, Some((earlier, _)))) if earlier == *handle => {}
            Some((_, Some(_))) => {
                return Err(invalid(r, &field, format!("entry {n} went to another recipient; a follow-up names an earlier message sent to the same person")))
            }
            _ => {
                return Err(invalid(
                    r,
                    &field,
                    format!("the personal data of entry {n} was erased, so the log cannot check that it went to this recipient; do not follow up on it"),
                ))
            }
        }
    }
    Ok(())
}

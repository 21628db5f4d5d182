//! The caller's side after a write is durable: its receipts and acknowledgements, built on the
//! caller's thread from what the sequencer or the committer handed back, so that those threads
//! start on the next group at once.

use crate::error::Result;
use crate::evidence::receipt::Receipt;
use crate::evidence::reference::{EntryRef, MessageRef};
use crate::pipeline::jobs::Durable;
use crate::pipeline::state::Shared;
use crate::tlog::merkle::{self, Hash};

/// The acknowledgement of one durable record.
#[derive(Clone, Debug)]
pub struct Ack {
    /// The record's entry.
    pub index: u64,
    /// A message's id.
    pub message_id: Option<String>,
    /// The record was in the log already (sent again, or twice in one batch): nothing new was appended for it.
    pub duplicate: bool,
    /// A message's why-token, for its why link.
    pub why_token: Option<String>,
    /// What the submitter should know (an objection on file), naming nobody.
    pub warnings: Vec<String>,
    /// The offline receipt of the entry.
    pub receipt: Receipt,
    /// For a message: the reference it carries to its entry (SPEC.md §10.2).
    pub reference: Option<MessageRef>,
}

/// The acknowledgement of a whole batch, with the checkpoint its receipts use.
#[derive(Clone, Debug)]
pub struct BatchAck {
    /// The signed checkpoint every receipt of the batch leads to.
    pub checkpoint: String,
    /// One acknowledgement per record, in the batch's order.
    pub acks: Vec<Ack>,
}

impl Durable {
    /// Builds the receipts: inclusion proofs against the checkpoint's tree size
    /// (the tree only grows, so later commits do not disturb them).
    pub(crate) fn into_ack(self, shared: &Shared) -> Result<BatchAck> {
        let indexes: Vec<u64> = self.records.iter().map(|r| r.index).collect();
        let (proofs, leaves) = {
            let tree = shared.tree()?;
            let leaves: Vec<Option<Hash>> =
                self.records.iter().map(|r| r.channel.map(|_| tree.leaf(r.index)).transpose()).collect::<Result<_>>()?;
            (merkle::inclusion_proofs(&tree, &indexes, self.size)?, leaves)
        };
        let origin = &shared.options.origin;
        let acks = self
            .records
            .into_iter()
            .zip(proofs)
            .zip(leaves)
            .map(|((r, proof), leaf)| Ack {
                reference: r
                    .channel
                    .zip(leaf)
                    .map(|(channel, leaf)| MessageRef { channel, entry: EntryRef { origin: origin.clone(), index: r.index, leaf } }),
                index: r.index,
                message_id: r.message_id,
                duplicate: r.duplicate,
                why_token: r.why_link.then(|| shared.secret.why_token(r.index)),
                warnings: r.warnings,
                receipt: Receipt::new(&r.bytes, r.index, &proof, &self.checkpoint),
            })
            .collect();
        Ok(BatchAck { checkpoint: self.checkpoint, acks })
    }
}

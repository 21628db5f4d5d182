//! A recipient's rights through a message's why link (SPEC.md §7, §12 "Recipients"):
//! listing their other messages, objecting (GDPR Art. 21) and erasing (Art. 17), each
//! only for whoever gives the address the message was sent to; and erasure asked for by
//! the operator's compliance team.
//!
//! A why link alone proves nothing about its holder: it travels in forwarded e-mails,
//! screenshots and logs. So every right here first checks the address given against the
//! message's private record (`Ledger::claim`), and everything after that stays within
//! the scope of the submitter that reported the message: the recipient handle is keyed by
//! the message's signer (`ServerSecret::recipient_handle`), so no address given through one
//! submitter's message reaches another submitter's records. Compliance erasure is the one
//! act across scopes.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::ledger::write::{now, to_value};
use crate::ledger::Ledger;
use crate::model::entry::Entry;
use crate::model::record::{ErasureBody, Kind, ObjectionBody, RecipientRef};
use crate::pipeline::jobs::Effect;
use crate::pipeline::receipts::BatchAck;
use crate::privacy::lookup::Handle;
use crate::privacy::{normalise, recipient_commitment, Personal};
use crate::store::{keys, Space};

/// What giving the right address for a message proved.
struct Claim {
    /// The recipient's handle in the scope of the message's submitter.
    handle: Handle,
    /// `sponsor.on_behalf_of` of the message: whom an objection is against.
    advertiser: String,
}

impl Ledger {
    /// Every message entry of the recipient of message `index`, in the scope of the submitter
    /// that reported it and in log order, once `address` is the one the message was sent to
    /// ([`Error::NotTheRecipient`] if not). An erasure removes the erased entries from the
    /// list; messages to the same address logged after it are listed again.
    pub fn recipient_entries(&self, index: u64, address: &str) -> Result<Vec<u64>> {
        let claim = self.claim(index, address)?;
        self.entries_of(&claim.handle)
    }

    /// Records that the recipient of message `index`, who gave `address`, objects to further
    /// targeting by its sponsor (SPEC.md §3.5): later messages of the same submitter to the
    /// same address on behalf of that sponsor are flagged (§3.6). It works after an erasure
    /// too, through the erased message's suppression tag (§7).
    ///
    /// Idempotent per recipient and sponsor: a second objection appends nothing, and its
    /// acknowledgement is the first objection's entry, marked `duplicate`.
    pub fn object(&self, index: u64, address: &str) -> Result<BatchAck> {
        let claim = self.claim(index, address)?;
        // A commitment under a fresh salt that is then forgotten: it names nobody, and links
        // this objection to no other record.
        let identifier = normalise(address);
        let salt = Personal::new(&identifier, Default::default(), Default::default()).salt_bytes().map_err(|e| Error::Storage(e.into()))?;
        let body = ObjectionBody {
            kind: Kind::Objection,
            signer: "log".into(),
            advertiser: claim.advertiser.clone(),
            recipient: RecipientRef { commitment: recipient_commitment(&salt, &identifier) },
            scope: "all_targeting".into(),
            received_at: now(),
        };
        self.append_log(to_value(&body)?, Effect::Objection { handle: claim.handle, advertiser: claim.advertiser })
    }

    /// Erases (crypto-shreds) every personal part of the recipient of message `index` in the
    /// scope of its submitter, for whoever gives `address`, and appends an `erasure` record
    /// with `by: "link_holder"` (SPEC.md §3.7): the log knows only that someone holding the
    /// message's link, who also knew its address, asked. [`Error::Erased`] when nothing is
    /// left to erase.
    pub fn erase_recipient_of(&self, index: u64, address: &str) -> Result<BatchAck> {
        let claim = self.claim(index, address)?;
        let count = self.entries_of(&claim.handle)?.len();
        if count == 0 {
            return Err(Error::Erased);
        }
        self.append_erasure("link_holder", count, vec![claim.handle])
    }

    /// Erases every personal part the log holds for `identifier`, in the scope of every
    /// registered submitter, and appends one `erasure` record with `by: "compliance"` that
    /// counts them all (SPEC.md §3.7): the operator's compliance team asked, for a person
    /// whose identity it checked. The public log is untouched and still verifies.
    pub fn erase_recipient(&self, identifier: &str) -> Result<BatchAck> {
        let registry = self.registry()?;
        let mut signers: Vec<&String> = registry.submitters.keys().collect();
        signers.sort();
        let (mut handles, mut count) = (Vec::new(), 0);
        for signer in signers {
            let handle = self.shared.secret.recipient_handle(signer, identifier);
            let n = self.entries_of(&handle)?.len();
            if n > 0 {
                handles.push(handle);
                count += n;
            }
        }
        if count == 0 {
            return Err(Error::OutOfRange(
                "this ledger holds no personal data for that recipient (never received a message, or already erased)".into(),
            ));
        }
        self.append_erasure("compliance", count, handles)
    }

    fn append_erasure(&self, by: &str, count: usize, handles: Vec<Handle>) -> Result<BatchAck> {
        let body = ErasureBody { kind: Kind::Erasure, signer: "log".into(), by: by.into(), records: count as u64, requested_at: now() };
        self.append_log(to_value(&body)?, Effect::Erase { handles })
    }

    /// The entries the recipient `handle` has personal data in, in log order.
    fn entries_of(&self, handle: &Handle) -> Result<Vec<u64>> {
        self.shared.layout.entries(self.shared.store.as_ref(), handle, self.latest_of(handle)?)
    }

    /// Checks that `address` is the one message `index` was sent to: against the handle in
    /// its private record, or, once erased, against the suppression tag the erasure kept.
    /// Both comparisons are keyed MACs compared in constant time.
    fn claim(&self, index: u64, address: &str) -> Result<Claim> {
        let bytes = self.entry(index)?.ok_or_else(|| Error::OutOfRange(format!("entry {index} does not exist")))?;
        let entry = Entry::parse(&bytes)?;
        let field = |pointer: &str| entry.body.pointer(pointer).and_then(Value::as_str);
        let (Some("message"), Some(signer), Some(advertiser)) = (field("/kind"), field("/signer"), field("/sponsor/on_behalf_of")) else {
            return Err(Error::OutOfRange(format!("entry {index} is not a message")));
        };
        let secret = &self.shared.secret;
        let handle = secret.recipient_handle(signer, address);
        let store = &self.shared.store;
        let record = store.private(index)?.unwrap_or_default();
        let matches = match self.shared.layout.split(index, &record)? {
            Some(part) => secret.is_recipient_handle(signer, address, part.handle),
            None if record.is_empty() => return Err(Error::OutOfRange(format!("entry {index} has no personal part"))),
            None => match store.get(Space::Private, &keys::suppression(index))? {
                Some(tag) => secret.is_suppression_tag(index, &handle, &tag),
                // Erased before erasures kept a suppression tag (SPEC.md revision 2): nothing
                // is left to check an address against.
                None => return Err(Error::Erased),
            },
        };
        if !matches {
            return Err(Error::NotTheRecipient);
        }
        Ok(Claim { handle, advertiser: advertiser.to_string() })
    }
}

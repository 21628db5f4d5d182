//! What the log knows about its own participants, learned only from the log:
//! log keys (§3.1, §8), submitters and their keys (§3.2), parties (§3.3).

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;

use crate::error::{Error, Result};
use crate::model::canonical::decode_public_key;
use crate::model::entry::Entry;
use crate::model::record::{Body, PartyBody, SubmitterBody};
use crate::tlog::note::NoteVerifier;

/// A registered submitter.
#[derive(Clone, Debug)]
pub struct SubmitterInfo {
    /// Its registration (the latest, after a re-key).
    pub body: SubmitterBody,
    /// The key its records must verify with.
    pub key: VerifyingKey,
    /// The entry that registered (or last re-keyed) it.
    pub index: u64,
}

/// A registered party.
#[derive(Clone, Debug)]
pub struct PartyInfo {
    /// Its registration.
    pub body: PartyBody,
    /// The entry that registered it.
    pub index: u64,
}

/// The registry rebuilt from `log_key`, `submitter` and `party` entries.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// `(announcing entry index, key)` in log order; the last one is current.
    pub log_keys: Vec<(u64, NoteVerifier)>,
    /// Submitters by id.
    pub submitters: HashMap<String, SubmitterInfo>,
    /// Parties by id.
    pub parties: HashMap<String, PartyInfo>,
}

impl Registry {
    /// The key that signs log records and checkpoints now.
    pub fn current_log_key(&self) -> Option<&NoteVerifier> {
        self.log_keys.last().map(|(_, k)| k)
    }

    /// Every log key ever announced.
    pub fn all_log_keys(&self) -> Vec<NoteVerifier> {
        self.log_keys.iter().map(|(_, k)| k.clone()).collect()
    }

    /// Applies a registry entry (other kinds are ignored).
    pub fn apply(&mut self, index: u64, body: &Body) -> Result<()> {
        match body {
            Body::LogKey(b) => {
                let k = NoteVerifier::from_vkey(&b.vkey)?;
                self.log_keys.push((index, k));
            }
            Body::Submitter(b) => {
                let key = decode_public_key(&b.public_key).map_err(|e| Error::Corrupt(format!("entry {index}: public_key {e}")))?;
                self.submitters.insert(b.submitter.clone(), SubmitterInfo { body: b.clone(), key, index });
            }
            Body::Party(b) => {
                self.parties.insert(b.party.clone(), PartyInfo { body: b.clone(), index });
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies a stored entry, parsing its body.
    pub fn apply_entry(&mut self, index: u64, bytes: &[u8]) -> Result<()> {
        let e = Entry::parse(bytes).map_err(|err| Error::Corrupt(format!("registry entry {index}: {err}")))?;
        // Read as logged, not checked again: a rule added since (a code list, a character
        // refused from revision 3 on) must not make a log that was valid when written unreadable.
        let body = Body::parse_logged(&e.body.to_string()).map_err(|err| Error::Corrupt(format!("registry entry {index}: {err}")))?;
        self.apply(index, &body)
    }
}

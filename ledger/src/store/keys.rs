//! The names of the rows the ledger keeps in the store's two key spaces ([`Space::Index`] and
//! [`Space::Private`]): the only place they are spelled, and where they are read back.
//!
//! | row | space | value |
//! |---|---|---|
//! | `reg/` index | Index | empty: entry `index` is a registration (log key, submitter, party) |
//! | `mk/` message key | Index | the entry of the message (or tally) with that keyed digest (16 bytes) |
//! | `rc/` handle | Private | a recipient's key (32 bytes) and latest entry; deleted by their erasure |
//! | `d/` name `/` key | Index | a derived index kept by the server beside the log (the ad library, `web/`) |
//! | `ob/` handle advertiser | Private | the objection's entry index: recipient `handle` objected to `advertiser` |
//! | `sup/` index | Private | the suppression tag an erasure keeps of message `index` (SPEC.md §7) |
//! | `layout/recipients` | Private | the private index's layout digit and its first chained entry |
//! | `rl/` handle | Private | the frozen layout 1 list of a recipient's entries |
//! | `rk/` handle | Private | layout 1 and 2 only: a recipient's key (and list), converted on open |
//! | `msg/` signer NUL id | Index | layout 2 only: a message id's entry, converted on open |
//!
//! Integers are big-endian, so that rows sort in log order. A backend stores these keys as it
//! likes; the spaces themselves are [`crate::store`]'s. The sled store keeps the two rows
//! written for every message, `mk/` and `rc/`, in hash tables of its own ([`hashed`]).

use crate::store::Space;

/// Prefix of the registry rows.
pub(crate) const REGISTRY: &[u8] = b"reg/";
/// Prefix of the message key rows.
const MESSAGE_KEY: &[u8] = b"mk/";
/// Prefix of the recipient rows.
pub(crate) const RECIPIENT: &[u8] = b"rc/";
/// Prefix of the derived indexes' rows.
const DERIVED: &[u8] = b"d/";
/// Prefix of the objection rows.
pub(crate) const OBJECTION: &[u8] = b"ob/";
/// Prefix of the suppression tags.
const SUPPRESSION: &[u8] = b"sup/";
/// The marker of the private recipient index's layout.
pub(crate) const LAYOUT: &[u8] = b"layout/recipients";
/// Prefix of the frozen layout 1 lists.
pub(crate) const LEGACY_LIST: &[u8] = b"rl/";
/// Prefix of the layout 1 and 2 recipient rows.
pub(crate) const RECIPIENT_ROW: &[u8] = b"rk/";
/// Prefix of the layout 2 message id rows.
pub(crate) const MESSAGE_ROW: &[u8] = b"msg/";

/// The registry row of entry `index`.
pub(crate) fn registry(index: u64) -> Vec<u8> {
    [REGISTRY, &index.to_be_bytes()].concat()
}

/// The entry a registry row names; `None` if the key is not one [`registry`] writes.
pub(crate) fn registry_index(key: &[u8]) -> Option<u64> {
    key.get(REGISTRY.len()..REGISTRY.len() + 8).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes)
}

/// The row of a message (or tally) key: the entry it names.
pub(crate) fn message_key(key: &[u8; 16]) -> Vec<u8> {
    [MESSAGE_KEY, key].concat()
}

/// A row the sled store keeps in its hash tables (`store/sled/hashed_rows.rs`) instead of as
/// a sled key: a message key row (table 0: 16-byte keys) or a recipient row (table 1: 32-byte
/// handles), and its key within the table; `None` for every other row.
pub(crate) fn hashed(space: Space, key: &[u8]) -> Option<(usize, &[u8])> {
    match space {
        Space::Index => key.strip_prefix(MESSAGE_KEY).filter(|k| k.len() == 16).map(|k| (0, k)),
        Space::Private => key.strip_prefix(RECIPIENT).filter(|k| k.len() == 32).map(|k| (1, k)),
    }
}

/// The space and prefix of the rows of hash table `t` (see [`hashed`]).
pub(crate) fn hashed_prefix(t: usize) -> (Space, &'static [u8]) {
    if t == 0 {
        (Space::Index, MESSAGE_KEY)
    } else {
        (Space::Private, RECIPIENT)
    }
}

/// The row of recipient `handle`: their key and latest entry.
pub(crate) fn recipient(handle: &[u8; 32]) -> Vec<u8> {
    [RECIPIENT, handle].concat()
}

/// The prefix of derived index `name`'s rows. `None` for a name that is empty, or holds a
/// `/` (so that no index's rows are a prefix of another's).
pub(crate) fn derived(name: &str) -> Option<Vec<u8>> {
    (!name.is_empty() && !name.contains('/')).then(|| [DERIVED, name.as_bytes(), b"/"].concat())
}

/// The objection row of recipient `handle` against `advertiser`.
pub(crate) fn objection(handle: &[u8], advertiser: &str) -> Vec<u8> {
    [OBJECTION, handle, advertiser.as_bytes()].concat()
}

/// The recipient handle and the advertiser's bytes of an objection row; `None` if the key is
/// too short to hold a handle.
pub(crate) fn objection_parts(key: &[u8]) -> Option<([u8; 32], &[u8])> {
    let handle = key.get(OBJECTION.len()..OBJECTION.len() + 32).and_then(|h| <[u8; 32]>::try_from(h).ok())?;
    Some((handle, &key[OBJECTION.len() + 32..]))
}

/// The suppression tag an erasure keeps of message `index` (SPEC.md §7).
pub(crate) fn suppression(index: u64) -> Vec<u8> {
    [SUPPRESSION, &index.to_be_bytes()].concat()
}

/// The frozen layout 1 list of recipient `handle`'s entries.
pub(crate) fn legacy_list(handle: &[u8]) -> Vec<u8> {
    [LEGACY_LIST, handle].concat()
}

/// The layout 1 and 2 row of recipient `handle`.
pub(crate) fn recipient_row(handle: &[u8]) -> Vec<u8> {
    [RECIPIENT_ROW, handle].concat()
}

/// The handle a layout 1 or 2 recipient row names.
pub(crate) fn recipient_row_handle(key: &[u8]) -> &[u8] {
    key.get(RECIPIENT_ROW.len()..).unwrap_or_default()
}

/// What a layout 2 message id row names after its prefix: `signer NUL message_id`.
pub(crate) fn message_row_name(key: &[u8]) -> &[u8] {
    key.get(MESSAGE_ROW.len()..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_reads_back_what_it_names() {
        assert_eq!(registry_index(&registry(70_000)), Some(70_000));
        assert_eq!(registry_index(b"reg/1234"), None, "too short to hold an index");
        let row = objection(&[7; 32], "p-civic");
        assert_eq!(objection_parts(&row), Some(([7; 32], b"p-civic".as_slice())));
        assert_eq!(objection_parts(b"ob/short"), None);
        assert_eq!(recipient_row_handle(&recipient_row(&[5; 32])), [5; 32]);
        assert_eq!(message_row_name(b"msg/acme\0m-1"), b"acme\0m-1");
        assert_eq!(message_key(&[1; 16]).len(), 3 + 16);
        assert_eq!(recipient(&[2; 32]).len(), 3 + 32);
        assert_eq!(derived("library"), Some(b"d/library/".to_vec()));
        assert_eq!(hashed(Space::Index, &message_key(&[1; 16])), Some((0, [1u8; 16].as_slice())));
        assert_eq!(hashed(Space::Private, &recipient(&[2; 32])), Some((1, [2u8; 32].as_slice())));
        assert_eq!(hashed(Space::Private, &message_key(&[1; 16])), None, "a row in the other space");
        assert_eq!(hashed(Space::Index, b"mk/short"), None, "a row of another width stays a sled key");
        for t in 0..2 {
            let (space, prefix) = hashed_prefix(t);
            let key = [prefix, &[3; 32][..if t == 0 { 16 } else { 32 }]].concat();
            assert_eq!(hashed(space, &key).map(|(table, _)| table), Some(t));
        }
        assert_eq!((derived(""), derived("a/b")), (None, None), "no name whose rows another's could hold");
        // Prefixes are distinct, so that a scan of one never reads another's rows.
        let prefixes = [REGISTRY, OBJECTION, SUPPRESSION, LAYOUT, LEGACY_LIST, RECIPIENT_ROW, MESSAGE_ROW, MESSAGE_KEY, RECIPIENT, DERIVED];
        for (i, a) in prefixes.iter().enumerate() {
            for b in &prefixes[i + 1..] {
                assert!(!a.starts_with(b) && !b.starts_with(a), "{a:?} and {b:?}");
            }
        }
    }
}

//! Entry references (SPEC.md §10.2): the compact pointer a served message carries to its
//! entry, so that a message seen in the wild either names its entry or is itself evidence that
//! it was never logged.
//!
//! A reference is `<origin> <index> <leaf hash, 64 lowercase hex>`: small enough for a mail
//! header, with no signature of its own. Whoever holds the message fetches the entry and its
//! inclusion proof from the log (or a mirror) and checks them against a signed checkpoint.

use crate::model::record::Channel;
use crate::tlog::merkle::Hash;

/// The e-mail header field that carries a reference (SPEC.md §10.2).
pub const EMAIL_HEADER: &str = "Sightline-Entry";
/// The HTML attribute that carries a reference in an ad's markup.
pub const HTML_ATTRIBUTE: &str = "data-sightline-entry";
/// The fragment key of the why link that carries a reference in a text message or a push.
pub const LINK_FRAGMENT: &str = "sightline-entry";

/// What a served message carries to name its entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRef {
    /// The log's origin.
    pub origin: String,
    /// The entry's index.
    pub index: u64,
    /// The RFC 6962 leaf hash of the entry bytes.
    pub leaf: Hash,
}

impl EntryRef {
    /// The reference value: `<origin> <index> <leaf hash hex>`.
    pub fn value(&self) -> String {
        format!("{} {} {}", self.origin, self.index, hex::encode(self.leaf))
    }

    /// What the platform inserts into a message of `channel`: the e-mail header line, the
    /// HTML attribute, or (text messages, pushes and television, which have neither) the why
    /// link with the reference as its fragment, `#sightline-entry=<index>.<leaf hash hex>` (the origin is the
    /// log that serves the link).
    pub fn carrier(&self, channel: Channel, why_url: Option<&str>) -> String {
        match channel {
            Channel::Email => format!("{EMAIL_HEADER}: {}", self.value()),
            Channel::Display | Channel::Social | Channel::Search | Channel::Video => format!("{HTML_ATTRIBUTE}=\"{}\"", self.value()),
            Channel::Sms | Channel::Push | Channel::Tv => {
                format!("{}#{LINK_FRAGMENT}={}.{}", why_url.unwrap_or_default(), self.index, hex::encode(self.leaf))
            }
        }
    }
}

/// A logged message's reference and the channel it was served on, as an acknowledgement
/// carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRef {
    /// The channel the message was served on, which decides where the reference goes.
    pub channel: Channel,
    /// The reference to the message's entry.
    pub entry: EntryRef,
}

impl MessageRef {
    /// See [`EntryRef::carrier`].
    pub fn carrier(&self, why_url: Option<&str>) -> String {
        self.entry.carrier(self.channel, why_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> EntryRef {
        EntryRef { origin: "sightline.example/log".into(), index: 41, leaf: [0xab; 32] }
    }

    #[test]
    fn the_value_is_origin_index_and_leaf_hash_in_hex() {
        assert_eq!(example().value(), format!("sightline.example/log 41 {}", "ab".repeat(32)));
    }

    #[test]
    fn each_channel_gets_its_carrier() {
        let r = example();
        let v = r.value();
        assert_eq!(r.carrier(Channel::Email, None), format!("Sightline-Entry: {v}"));
        for c in [Channel::Display, Channel::Social, Channel::Search, Channel::Video] {
            assert_eq!(r.carrier(c, None), format!("data-sightline-entry=\"{v}\""));
        }
        let link = "https://log.example/why/TOKEN";
        for c in [Channel::Sms, Channel::Push, Channel::Tv] {
            assert_eq!(r.carrier(c, Some(link)), format!("{link}#sightline-entry=41.{}", "ab".repeat(32)));
        }
    }

    #[test]
    fn an_email_header_line_stays_within_the_rfc_5322_line_limit() {
        let r = EntryRef { origin: "x".repeat(120), index: u64::MAX, leaf: [0; 32] };
        assert!(r.carrier(Channel::Email, None).len() < 998);
    }
}

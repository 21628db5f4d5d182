//! A submission as it arrives (SPEC.md §12): one record ([`Submission`], `{body, sig, personal}`),
//! a batch parsed the general way ([`Submissions`]), or a batch's JSON text
//! (`{"records":[{"body":…,"personal":…,"sig":"…"},…]}`) split into its records in one pass
//! ([`BatchText`]).
//!
//! Parsing a batch into [`Submission`]s reads every record's bytes twice before its fields are
//! decoded: once to find where the raw body ends, then again to check that it is canonical.
//! [`BatchText::split`] does both at once for the common case, a batch whose bodies and
//! personal parts are all canonical, and borrows each record's text from the batch instead of
//! copying it out.
//!
//! It only ever accepts what the general parse accepts, with the same records. Everything
//! else (whitespace inside a body, a key it does not know, a repeated key, an escape in a
//! signature, a syntax error) makes it answer `None`. The caller then parses the batch as
//! [`Submissions`], which accepts the same batches and names what is wrong. A test and the
//! `submission` fuzz body hold the two to the same records.

use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::model::canonical::jcs_value_at;
use crate::model::serde_words::field_and_reason;

/// One submitted record: a signed body and its personal part (SPEC.md §12).
///
/// The body is kept as the JSON text it arrived in. Text already in canonical
/// form (what [`crate::submitter::sign_message`] builds, and what a submitter
/// that sends the bytes it signed has at hand) is decoded straight into its
/// record type and is its own canonical bytes; any other form is parsed and
/// canonicalised first, with the same checks and messages.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The body, as the JSON text it arrived in.
    pub body: Box<RawValue>,
    /// The signature over the body's canonical bytes, standard base64.
    pub sig: String,
    /// The personal part as the JSON text it arrived in (SPEC.md §7), like `body`. A message
    /// without one (the member missing, or `null`) is refused as an envelope error naming the
    /// record and `personal`; a `tally` (SPEC.md §3.8) has none.
    #[serde(default)]
    pub personal: Option<Box<RawValue>>,
}

/// One record's text as `prepare.rs` reads it: borrowed from a [`Submission`], or from a batch
/// split by [`BatchText`], which has already found its body canonical.
pub(crate) struct RecordText<'a> {
    pub(crate) body: &'a str,
    /// The body is known to be canonical (RFC 8785), so its check is not repeated.
    pub(crate) body_canonical: bool,
    pub(crate) sig: &'a str,
    pub(crate) personal: Option<&'a str>,
}

impl Submission {
    pub(crate) fn text(&self) -> RecordText<'_> {
        RecordText { body: self.body.get(), body_canonical: false, sig: &self.sig, personal: self.personal.as_deref().map(RawValue::get) }
    }
}

/// A submission batch parsed the general way (`serde_json`): any JSON form, and an error that
/// names what is wrong. What [`BatchText::split`] takes, this takes as the same records.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submissions {
    /// The batch's records, in order.
    pub records: Vec<Submission>,
}

impl Submissions {
    /// Parses a batch's text the general way. An error is [`Error::BadBatch`], in plain words,
    /// naming the record and the member when there is one (`record 2: field `sig`: is
    /// missing`); a repeated member is refused, not read as the last one (SPEC.md §1).
    pub fn parse(text: &str) -> Result<Submissions> {
        decode(text)
    }
}

impl Submission {
    /// Parses one record, `{body, sig, personal}` (a line of an import file), as
    /// [`Submissions::parse`] parses each of a batch's records.
    pub fn parse(text: &str) -> Result<Submission> {
        decode(text)
    }
}

/// Decodes an envelope; on failure, says where and what in plain words.
fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    let plain = match serde_json::from_str(text) {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    if !matches!(plain.classify(), serde_json::error::Category::Data) {
        let why = format!("the request body is not valid JSON: {plain}");
        return Err(Error::BadBatch { record: None, field: None, why });
    }
    let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut serde_json::Deserializer::from_str(text)) {
        Err(e) => (e.path().to_string(), e.into_inner().to_string()),
        Ok(_) => (String::new(), plain.to_string()),
    };
    let (field, why) = field_and_reason(&path, &message);
    // `records[2].sig` is member `sig` of record 2.
    let (record, field) = match field.strip_prefix("records[").and_then(|rest| rest.split_once(']')) {
        Some((n, rest)) if n.parse::<usize>().is_ok() => (n.parse().ok(), rest.strip_prefix('.').unwrap_or(rest).to_string()),
        _ => (None, field),
    };
    let field = (!field.is_empty()).then_some(field);
    let why = if field.is_none() && record.is_some() { format!("the record {why}") } else { why };
    Err(Error::BadBatch { record, field, why })
}

/// A batch split into its records; see the module docs. Append it with
/// [`crate::Ledger::submit_batch`].
pub struct BatchText<'a> {
    pub(crate) records: Vec<RecordText<'a>>,
}

/// A cursor over the batch text.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while matches!(self.text.as_bytes().get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Skips whitespace, then consumes `token` if it is next.
    fn eat(&mut self, token: &str) -> bool {
        self.ws();
        if self.text.as_bytes().get(self.pos..self.pos + token.len()) == Some(token.as_bytes()) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// A canonical JSON value, as text. Its nesting counts from itself, as the general parse
    /// counts it: `serde_json` finds a raw value's end at any depth, and the ledger then
    /// checks each body alone.
    fn canonical_value(&mut self) -> Option<&'a str> {
        self.ws();
        let start = self.pos;
        jcs_value_at(self.text, &mut self.pos, 0).then(|| self.text.get(start..self.pos)).flatten()
    }

    /// A string with no escapes and no control characters, as its content.
    fn plain_string(&mut self) -> Option<&'a str> {
        if !self.eat("\"") {
            return None;
        }
        let start = self.pos;
        let len = self.text.as_bytes().get(start..)?.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        // Only a closing quote ends it here: an escape or a control byte is left to the general parse.
        if self.text.as_bytes().get(start + len) != Some(&b'"') {
            return None;
        }
        self.pos = start + len + 1;
        self.text.get(start..start + len)
    }

    /// One record object; `None` unless it has exactly the members the general parse takes.
    fn record(&mut self) -> Option<RecordText<'a>> {
        if !self.eat("{") {
            return None;
        }
        let (mut body, mut sig, mut personal) = (None, None, None);
        loop {
            // The whole key is read before it is matched: a key is never half-consumed.
            let key = self.plain_string()?;
            self.eat(":").then_some(())?;
            match key {
                "body" if body.is_none() => body = Some(self.canonical_value()?),
                "sig" if sig.is_none() => sig = Some(self.plain_string()?),
                // `null` is a missing personal part, as the general parse reads it.
                "personal" if personal.is_none() => personal = Some(if self.eat("null") { None } else { Some(self.canonical_value()?) }),
                _ => return None,
            }
            if self.eat("}") {
                break;
            }
            self.eat(",").then_some(())?;
        }
        // A missing `personal` member reads as `null`, as the general parse reads it: a message
        // without one is refused when it is prepared, a tally has none (SPEC.md §12).
        Some(RecordText { body: body?, body_canonical: true, sig: sig?, personal: personal.flatten() })
    }
}

impl<'a> BatchText<'a> {
    /// Splits a batch whose bodies and personal parts are all canonical; `None` for anything
    /// else, which the caller then parses as [`Submissions`].
    pub fn split(text: &'a str) -> Option<Self> {
        let mut c = Cursor { text, pos: 0 };
        if !(c.eat("{") && c.eat("\"records\"") && c.eat(":") && c.eat("[")) {
            return None;
        }
        let mut records = Vec::new();
        if !c.eat("]") {
            loop {
                records.push(c.record()?);
                if c.eat("]") {
                    break;
                }
                c.eat(",").then_some(())?;
            }
        }
        if !c.eat("}") {
            return None;
        }
        c.ws();
        (c.pos == text.len()).then_some(BatchText { records })
    }

    /// How many records the batch holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::{BatchText, Submissions};

    /// What the general parse makes of `text`: each record's body, signature and personal part.
    fn general(text: &str) -> Option<Vec<(String, String, Option<String>)>> {
        let batch: Submissions = serde_json::from_str(text).ok()?;
        Some(
            batch
                .records
                .iter()
                .map(|s| (s.body.get().to_string(), s.sig.clone(), s.personal.as_ref().map(|p| p.get().to_string())))
                .collect(),
        )
    }

    fn split(text: &str) -> Option<Vec<(String, String, Option<String>)>> {
        let batch = BatchText::split(text)?;
        Some(batch.records.iter().map(|r| (r.body.to_string(), r.sig.to_string(), r.personal.map(str::to_string))).collect())
    }

    /// Whatever the split accepts, the general parse accepts as the same records.
    fn agrees(text: &str) -> bool {
        match split(text) {
            Some(records) => general(text) == Some(records),
            None => true,
        }
    }

    const BODY: &str = r#"{"a":[1,"x\n",{"b":null}],"k":"message"}"#;

    #[test]
    fn canonical_batches_split_into_the_general_parse_records() {
        let compact = format!(
            r#"{{"records":[{{"body":{BODY},"personal":{{"v":1}},"sig":"c2ln"}},{{"sig":"AA==","body":{BODY},"personal":null}}]}}"#
        );
        let spaced = format!("\n{{ \"records\" : [ {{ \"body\" : {BODY} , \"personal\" : null, \"sig\" : \"c2ln\" }} ] }}\n");
        // A record without `personal` (a tally has none) reads as one whose `personal` is null.
        let without = format!(r#"{{"records":[{{"body":{BODY},"sig":"c2ln"}}]}}"#);
        for text in [compact.as_str(), spaced.as_str(), without.as_str(), r#"{"records":[]}"#] {
            let records = split(text).unwrap_or_else(|| panic!("not split: {text}"));
            assert_eq!(Some(records), general(text), "{text}");
        }
        assert_eq!(split(&compact).unwrap()[0], (BODY.to_string(), "c2ln".to_string(), Some(r#"{"v":1}"#.to_string())));
        assert_eq!(split(&spaced).unwrap()[0].2, None);
    }

    #[test]
    fn anything_else_is_left_to_the_general_parse() {
        let cases = [
            // Not canonical: whitespace or key order inside a body, a personal part with a fraction.
            r#"{"records":[{"body":{"k": 1},"sig":"c2ln","personal":null}]}"#.to_string(),
            r#"{"records":[{"body":{"z":1,"a":2},"sig":"c2ln","personal":null}]}"#.to_string(),
            format!(r#"{{"records":[{{"body":{BODY},"personal":{{"v":1.5}},"sig":"c2ln"}}]}}"#),
            // Members the general parse refuses or reads otherwise.
            format!(r#"{{"records":[{{"body":{BODY},"body":{BODY},"sig":"c2ln","personal":null}}]}}"#),
            // A repeated key with nothing after it (found by the fuzzer: the key was consumed and
            // the next one read as if it were the first).
            format!(r#"{{"records":[{{"body":{BODY},"body""sig":"c2ln","personal":null}}]}}"#),
            format!(r#"{{"records":[{{"body":{BODY},"sig":"c2ln","sig""personal":null}}]}}"#),
            format!(r#"{{"records":[{{"body":{BODY},"sig":"c2ln","extra":1}}]}}"#),
            format!(r#"{{"records":[{{"body":{BODY}}}]}}"#),
            format!(r#"{{"records":[{{"body":{BODY},"sig":"c2\u006Cn"}}]}}"#),
            format!(r#"{{"records":[{{"body":{BODY},"sig":7}}]}}"#),
            format!("{{\"records\":[{{\"body\":{BODY},\"sig\":\"c2ln\n\"}}]}}"),
            format!(r#"{{"records":[{{"body":{BODY},"sig":"c2ln","personal":null}}],"more":1}}"#),
            // Syntax errors and trailing text.
            format!(r#"{{"records":[{{"body":{BODY},"sig":"c2ln","personal":null}},]}}"#),
            format!(r#"{{"records":[{{"body":{BODY},"sig":"c2ln","personal":null}}]}} x"#),
            format!(r#"{{"records":[{{"body":{BODY},"sig":"c2ln","personal":null}}"#),
            r#"{"records":{}}"#.to_string(),
            String::new(),
        ];
        for text in &cases {
            assert!(BatchText::split(text).is_none(), "split: {text}");
        }
    }

    /// A body's nesting counts from the body: as deep as a canonical body may be (127 levels,
    /// what `serde_json` parses alone), the split agrees with the general parse; one level
    /// deeper, it leaves the batch to the general parse.
    #[test]
    fn nesting_is_counted_from_the_body() {
        let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        let batch = |levels: usize| format!(r#"{{"records":[{{"body":{},"sig":"c2ln","personal":null}}]}}"#, nested(levels));
        assert!(split(&batch(127)).is_some() && agrees(&batch(127)));
        assert!(split(&batch(128)).is_none() && general(&batch(128)).is_some());
    }

    proptest::proptest! {
        /// Batches built from random canonical and non-canonical pieces, with random spacing.
        #[test]
        fn the_split_never_disagrees_with_the_general_parse(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "{", "}", "[", "]", ",", ":", " ", "\n", "null", "1", "1.5", "\"records\"", "\"body\"", "\"sig\"",
                "\"personal\"", "\"c2ln\"", "\"x\\n\"", "\"\\u0041\"", r#"{"a":1}"#, r#"{"a": 1}"#, r#"{"b":2,"a":1}"#,
            ]), 0..40)
        ) {
            let text: String = pieces.concat();
            proptest::prop_assert!(agrees(&text), "{}", text);
            let wrapped = format!(r#"{{"records":[{{"body":{text},"sig":"c2ln","personal":null}}]}}"#);
            proptest::prop_assert!(agrees(&wrapped), "{}", wrapped);
        }
    }
}

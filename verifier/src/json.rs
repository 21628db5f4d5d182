//! A strict, allocation-light JSON reader that also tells whether each value is already in
//! RFC 8785 (JCS) canonical form.
//!
//! It validates RFC 8259 JSON (UTF-8, no duplicate keys, nesting at most 64 deep) into a flat
//! tape of nodes that borrow the input. A node is marked canonical only when its bytes are
//! certainly what `serde_jcs` would write: no white space, keys in UTF-16 order, only the
//! escapes JCS uses, and non-negative integers up to 2^53-1. Anything else is settled by the
//! slow path in [`canonicalize`].

use std::borrow::Cow;

mod parser;

/// A parse result; the error says what is wrong and at which byte.
pub type PResult<T> = Result<T, String>;

/// Parse `src` as exactly one JSON value (white space around it allowed).
pub fn parse(src: &[u8]) -> PResult<Doc<'_>> {
    parser::parse(src)
}

/// The type of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Num,
    /// A string.
    Str,
    /// An array.
    Arr,
    /// An object.
    Obj,
}

/// One value of the tape.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    /// The value's type.
    pub kind: Kind,
    /// Byte span of the value.
    pub start: usize,
    /// The end of that span (exclusive).
    pub end: usize,
    /// Byte span of the member key (inside the quotes); empty when not an object member.
    pub key: (usize, usize),
    /// The member key holds an escape.
    pub key_escaped: bool,
    /// For strings: contains an escape.
    pub escaped: bool,
    /// Tape index just after this value and its descendants.
    pub next: usize,
    /// The value's bytes are in JCS canonical form.
    pub canonical: bool,
}

/// A validated JSON document.
#[derive(Debug)]
pub struct Doc<'a> {
    /// The document's text.
    pub src: &'a str,
    /// Its values in document order, each followed by its descendants.
    pub nodes: Vec<Node>,
}

/// The maximum nesting depth.
pub const MAX_DEPTH: usize = 64;
pub(crate) const MAX_SAFE: u64 = (1 << 53) - 1;

pub(crate) fn key_text(s: &str, key: (usize, usize), escaped: bool) -> Cow<'_, str> {
    let raw = s.get(key.0..key.1).unwrap_or_default();
    if escaped {
        Cow::Owned(unescape(raw))
    } else {
        Cow::Borrowed(raw)
    }
}

/// Decode the inside of a validated JSON string.
pub fn unescape(raw: &str) -> String {
    serde_json::from_str::<String>(&format!("\"{raw}\"")).unwrap_or_default()
}

impl<'a> Doc<'a> {
    /// The node at tape index `i`.
    pub fn node(&self, i: usize) -> Option<&Node> {
        self.nodes.get(i)
    }

    /// The raw text of value `i`.
    pub fn raw(&self, i: usize) -> &'a str {
        self.nodes.get(i).and_then(|n| self.src.get(n.start..n.end)).unwrap_or_default()
    }

    /// The members of object `i` as (key, tape index).
    pub fn members(&self, i: usize) -> Vec<(Cow<'a, str>, usize)> {
        let mut out = Vec::new();
        let Some(obj) = self.nodes.get(i).filter(|n| n.kind == Kind::Obj) else {
            return out;
        };
        let mut c = i + 1;
        while c < obj.next {
            let Some(n) = self.nodes.get(c) else { break };
            out.push((key_text(self.src, n.key, n.key_escaped), c));
            c = n.next.max(c + 1);
        }
        out
    }

    /// The first key of object `i` that is not in `allowed`.
    pub fn unknown_key(&self, i: usize, allowed: &[&str]) -> Option<Cow<'a, str>> {
        let obj = self.nodes.get(i).filter(|n| n.kind == Kind::Obj)?;
        let mut c = i + 1;
        while c < obj.next {
            let n = self.nodes.get(c)?;
            let k = key_text(self.src, n.key, n.key_escaped);
            if !allowed.contains(&k.as_ref()) {
                return Some(k);
            }
            c = n.next.max(c + 1);
        }
        None
    }

    /// Whether the keys of object `i` are exactly `keys` (any order; keys are unique). Keys in
    /// the order given (a canonical object against a sorted list) are settled in one pass.
    pub fn keys_are(&self, i: usize, keys: &[&str]) -> bool {
        if self.keys_in_order(i, keys) {
            return true;
        }
        let Some(obj) = self.nodes.get(i).filter(|n| n.kind == Kind::Obj) else {
            return false;
        };
        let (mut c, mut count) = (i + 1, 0);
        while c < obj.next {
            let Some(n) = self.nodes.get(c) else {
                return false;
            };
            let k = key_text(self.src, n.key, n.key_escaped);
            if !keys.contains(&k.as_ref()) {
                return false;
            }
            count += 1;
            c = n.next.max(c + 1);
        }
        count == keys.len()
    }

    /// The members of object `i` when its keys are exactly `keys`, in that order (so `keys`
    /// sorted as JCS sorts them matches a canonical object): one pass, one comparison per key.
    /// `None` when they are not, which the caller settles with [`Doc::keys_are`] and
    /// [`Doc::get`].
    pub fn fields<const N: usize>(&self, i: usize, keys: &[&str; N]) -> Option<[usize; N]> {
        let mut out = [0usize; N];
        let mut slots = out.iter_mut();
        self.in_order(i, keys, |c| {
            if let Some(s) = slots.next() {
                *s = c;
            }
        })
        .then_some(out)
    }

    /// Whether the keys of object `i` are exactly `keys`, in that order (see [`Doc::fields`]).
    pub fn keys_in_order(&self, i: usize, keys: &[&str]) -> bool {
        self.in_order(i, keys, |_| {})
    }

    fn in_order(&self, i: usize, keys: &[&str], mut found: impl FnMut(usize)) -> bool {
        let Some(obj) = self.nodes.get(i).filter(|n| n.kind == Kind::Obj) else {
            return false;
        };
        let mut c = i + 1;
        for key in keys {
            let Some(n) = self.nodes.get(c).filter(|_| c < obj.next) else {
                return false;
            };
            if n.key_escaped || self.src.as_bytes().get(n.key.0..n.key.1) != Some(key.as_bytes()) {
                return false;
            }
            found(c);
            c = n.next.max(c + 1);
        }
        c >= obj.next
    }

    /// The member `key` of object `i`.
    pub fn get(&self, i: usize, key: &str) -> Option<usize> {
        let obj = self.nodes.get(i).filter(|n| n.kind == Kind::Obj)?;
        let mut c = i + 1;
        while c < obj.next {
            let n = self.nodes.get(c)?;
            let hit = if n.key_escaped {
                key_text(self.src, n.key, true) == key
            } else {
                n.key.1.wrapping_sub(n.key.0) == key.len()
                    && self.src.as_bytes().get(n.key.0..n.key.1).is_some_and(|k| k.iter().zip(key.as_bytes()).all(|(a, b)| a == b))
            };
            if hit {
                return Some(c);
            }
            c = n.next.max(c + 1);
        }
        None
    }

    /// The items of array `i`.
    pub fn items(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let Some(arr) = self.nodes.get(i).filter(|n| n.kind == Kind::Arr) else {
            return out;
        };
        let mut c = i + 1;
        while c < arr.next {
            out.push(c);
            c = self.nodes.get(c).map_or(c + 1, |n| n.next.max(c + 1));
        }
        out
    }

    /// The kind of value `i`.
    pub fn kind(&self, i: usize) -> Option<Kind> {
        self.nodes.get(i).map(|n| n.kind)
    }

    /// Value `i` as a string.
    pub fn str(&self, i: usize) -> Option<Cow<'a, str>> {
        let n = self.nodes.get(i).filter(|n| n.kind == Kind::Str)?;
        let raw = self.src.get(n.start + 1..n.end.checked_sub(1)?)?;
        Some(if n.escaped { Cow::Owned(unescape(raw)) } else { Cow::Borrowed(raw) })
    }

    /// Value `i` as a non-negative integer written without fraction or exponent.
    pub fn u64(&self, i: usize) -> Option<u64> {
        let n = self.nodes.get(i).filter(|n| n.kind == Kind::Num)?;
        let raw = self.src.get(n.start..n.end)?;
        if raw.bytes().all(|b| b.is_ascii_digit()) {
            raw.parse().ok()
        } else {
            None
        }
    }

    /// Value `i` as a boolean.
    pub fn bool(&self, i: usize) -> Option<bool> {
        match self.raw(i) {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

/// The JCS bytes of `src` (one JSON value): `src` itself when already canonical, else
/// re-serialised with `serde_jcs`. Returns the canonical bytes and whether `src` was canonical.
pub fn canonicalize(src: &[u8]) -> PResult<(Cow<'_, [u8]>, bool)> {
    let doc = parse(src)?;
    let whole = doc.nodes.first().is_some_and(|n| n.canonical && n.start == 0 && n.end == src.len());
    if whole {
        return Ok((Cow::Borrowed(src), true));
    }
    let v: serde_json::Value = serde_json::from_slice(src).map_err(|e| e.to_string())?;
    let out = serde_jcs::to_vec(&v).map_err(|e| e.to_string())?;
    let same = out == src;
    Ok((Cow::Owned(out), same))
}

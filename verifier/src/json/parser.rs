//! The validating scanner behind [`super::parse`].

use std::borrow::Cow;
use std::cmp::Ordering;

use super::{key_text, Doc, Kind, Node, PResult, MAX_DEPTH, MAX_SAFE};

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    nodes: Vec<Node>,
    violations: u64,
}

/// Parse `src` as exactly one JSON value (white space around it allowed).
pub(super) fn parse(src: &[u8]) -> PResult<Doc<'_>> {
    let text = std::str::from_utf8(src).map_err(|e| format!("not UTF-8 at byte {}", e.valid_up_to()))?;
    let mut p = Parser { s: src, text, pos: 0, nodes: Vec::with_capacity(16 + src.len() / 12), violations: 0 };
    p.ws();
    p.value(0, (0, 0), false)?;
    p.ws();
    if p.pos != src.len() {
        return Err(format!("unexpected data after the JSON value at byte {}", p.pos));
    }
    Ok(Doc { src: text, nodes: p.nodes })
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
        if self.pos != start {
            self.violations += 1;
        }
    }

    fn eat(&mut self, b: u8) -> PResult<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", b as char, self.pos))
        }
    }

    fn value(&mut self, depth: usize, key: (usize, usize), key_escaped: bool) -> PResult<()> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        let at = self.nodes.len();
        let start = self.pos;
        let before = self.violations;
        let mut escaped = false;
        let kind = match self.peek() {
            Some(b'{') => {
                self.nodes.push(blank(Kind::Obj, start, key, key_escaped));
                self.object(depth, at)?;
                Kind::Obj
            }
            Some(b'[') => {
                self.nodes.push(blank(Kind::Arr, start, key, key_escaped));
                self.array(depth)?;
                Kind::Arr
            }
            Some(b'"') => {
                self.nodes.push(blank(Kind::Str, start, key, key_escaped));
                escaped = self.string()?;
                Kind::Str
            }
            Some(b't') => self.literal(b"true", Kind::Bool, start, key, key_escaped)?,
            Some(b'f') => self.literal(b"false", Kind::Bool, start, key, key_escaped)?,
            Some(b'n') => self.literal(b"null", Kind::Null, start, key, key_escaped)?,
            Some(b'-' | b'0'..=b'9') => {
                self.nodes.push(blank(Kind::Num, start, key, key_escaped));
                self.number()?;
                Kind::Num
            }
            _ => return Err(format!("expected a JSON value at byte {start}")),
        };
        let next = self.nodes.len();
        let (end, canonical) = (self.pos, self.violations == before);
        if let Some(n) = self.nodes.get_mut(at) {
            n.kind = kind;
            n.end = end;
            n.next = next;
            n.escaped = escaped;
            n.canonical = canonical;
        }
        Ok(())
    }

    fn literal(&mut self, lit: &[u8], kind: Kind, start: usize, key: (usize, usize), ke: bool) -> PResult<Kind> {
        if self.s.get(start..start + lit.len()) != Some(lit) {
            return Err(format!("invalid literal at byte {start}"));
        }
        self.pos += lit.len();
        self.nodes.push(blank(kind, start, key, ke));
        Ok(kind)
    }

    fn object(&mut self, depth: usize, at: usize) -> PResult<()> {
        self.eat(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        let mut prev: Option<(usize, usize, bool)> = None;
        let mut sorted = true;
        loop {
            let ks = self.pos + 1;
            let ke_escaped = self.string()?;
            let key = (ks, self.pos - 1);
            if let Some(p) = prev {
                match self.cmp_keys(p, (key.0, key.1, ke_escaped)) {
                    Ordering::Less => {}
                    Ordering::Equal => return Err(format!("duplicate key at byte {}", key.0)),
                    Ordering::Greater => {
                        sorted = false;
                        self.violations += 1;
                    }
                }
            }
            prev = Some((key.0, key.1, ke_escaped));
            self.ws();
            self.eat(b':')?;
            self.ws();
            self.value(depth + 1, key, ke_escaped)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(format!("expected ',' or '}}' at byte {}", self.pos)),
            }
        }
        if !sorted {
            self.check_duplicates(at)?;
        }
        Ok(())
    }

    fn check_duplicates(&self, at: usize) -> PResult<()> {
        let mut keys: Vec<Cow<str>> = Vec::new();
        let mut i = at + 1;
        while let Some(n) = self.nodes.get(i) {
            keys.push(key_text(self.text, n.key, n.key_escaped));
            i = n.next.max(i + 1);
        }
        keys.sort();
        if keys.windows(2).any(|w| w.first() == w.get(1)) {
            return Err("an object repeats a key".into());
        }
        Ok(())
    }

    fn cmp_keys(&self, a: (usize, usize, bool), b: (usize, usize, bool)) -> Ordering {
        if !a.2 && !b.2 {
            let ra = self.s.get(a.0..a.1).unwrap_or_default();
            let rb = self.s.get(b.0..b.1).unwrap_or_default();
            // The first differing byte decides UTF-8 order. Before it the keys agree, so it is
            // ASCII or the lead byte of a character in both keys, or a continuation byte of
            // characters with the same lead. UTF-16 order differs from UTF-8 order only between
            // U+E000..U+FFFF (lead 0xEE, 0xEF) and supplementary characters (0xF0..): both
            // bytes at or above 0xEE, which the slow path below settles.
            match ra.iter().zip(rb).find(|(x, y)| x != y) {
                Some((x, y)) if *x < 0xEE || *y < 0xEE => return x.cmp(y),
                Some(_) => {}
                None => return ra.len().cmp(&rb.len()),
            }
        }
        let ka = key_text(self.text, (a.0, a.1), a.2);
        let kb = key_text(self.text, (b.0, b.1), b.2);
        if ka.is_ascii() && kb.is_ascii() {
            ka.as_bytes().cmp(kb.as_bytes())
        } else {
            ka.encode_utf16().cmp(kb.encode_utf16())
        }
    }

    fn array(&mut self, depth: usize) -> PResult<()> {
        self.eat(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value(depth + 1, (0, 0), false)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(format!("expected ',' or ']' at byte {}", self.pos)),
            }
        }
    }

    /// A string starting at `pos`; returns whether it holds an escape.
    fn string(&mut self) -> PResult<bool> {
        self.eat(b'"')?;
        let mut escaped = false;
        loop {
            // Skip plain bytes (no quote, backslash or control character) 16 at a time, then
            // byte by byte to the block's first byte that is not plain.
            while let Some(block) = self.s.get(self.pos..self.pos + 16).and_then(|b| <&[u8; 16]>::try_from(b).ok()) {
                if has_stop(block) {
                    break;
                }
                self.pos += 16;
            }
            loop {
                let b = self.peek().ok_or("unterminated string")?;
                self.pos += 1;
                match b {
                    b'"' => return Ok(escaped),
                    b'\\' => {
                        escaped = true;
                        self.escape()?;
                        break;
                    }
                    0..=0x1f => return Err(format!("raw control character in a string at byte {}", self.pos - 1)),
                    _ => {}
                }
            }
        }
    }

    fn escape(&mut self) -> PResult<()> {
        let c = self.peek().ok_or("unterminated escape")?;
        self.pos += 1;
        match c {
            b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'/' => {
                self.violations += 1;
                Ok(())
            }
            b'u' => {
                let cp = self.hex4()?;
                if (0xD800..0xDC00).contains(&cp) {
                    if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                        return Err("lone surrogate in a string".into());
                    }
                    self.pos += 2;
                    if !(0xDC00..0xE000).contains(&self.hex4()?) {
                        return Err("lone surrogate in a string".into());
                    }
                    self.violations += 1;
                } else if (0xDC00..0xE000).contains(&cp) {
                    return Err("lone surrogate in a string".into());
                } else {
                    let raw = self.s.get(self.pos - 4..self.pos).unwrap_or_default();
                    let lower = raw.iter().all(|b| !b.is_ascii_uppercase());
                    let short = matches!(cp, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d);
                    if cp >= 0x20 || short || !lower {
                        self.violations += 1;
                    }
                }
                Ok(())
            }
            _ => Err(format!("invalid escape at byte {}", self.pos - 1)),
        }
    }

    fn hex4(&mut self) -> PResult<u32> {
        let raw = self.s.get(self.pos..self.pos + 4).ok_or("short \\u escape")?;
        let txt = std::str::from_utf8(raw).map_err(|_| "bad \\u escape")?;
        if !txt.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("bad \\u escape".into());
        }
        self.pos += 4;
        u32::from_str_radix(txt, 16).map_err(|_| "bad \\u escape".into())
    }

    fn number(&mut self) -> PResult<()> {
        let start = self.pos;
        let neg = self.peek() == Some(b'-');
        if neg {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(format!("bad number at byte {start}")),
        }
        let int_end = self.pos;
        let mut plain = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            plain = false;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(format!("bad fraction at byte {start}"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            plain = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(format!("bad exponent at byte {start}"));
            }
            self.digits();
        }
        let small = self
            .s
            .get(int_start..int_end)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse::<u64>().ok())
            .is_some_and(|v| v <= MAX_SAFE);
        if neg || !plain || !small {
            self.violations += 1;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }
}

fn blank(kind: Kind, start: usize, key: (usize, usize), key_escaped: bool) -> Node {
    Node { kind, start, end: start, key, key_escaped, escaped: false, next: 0, canonical: false }
}

/// Whether a 16-byte block holds a byte that ends a run of plain string bytes: a quote, a
/// backslash or a control character. Written with no branch over a fixed-size block so that the
/// compiler makes it a few vector compares.
fn has_stop(block: &[u8; 16]) -> bool {
    let mut stop = false;
    for &b in block {
        stop |= (b == b'"') | (b == b'\\') | (b < 0x20);
    }
    stop
}

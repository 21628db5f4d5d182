//! Search parameters and URL query strings: parsing, validation and the links that rebuild them.

use super::*;

/// Where a query comes from: the HTML page or the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// `GET /library`.
    Html,
    /// `GET /api/v1/library`.
    Api,
}

/// Output format of the API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    /// JSON (the default).
    Json,
    /// CSV, for a bulk download.
    Csv,
    /// The HTML page.
    Html,
}

/// A validated library search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryQuery {
    /// Lower-cased substring of an advertiser's party id or name.
    pub advertiser: Option<String>,
    /// Lower-cased substring of a payer's party id or name.
    pub payer: Option<String>,
    /// Political campaigns only, or non-political only.
    pub political: Option<bool>,
    /// Lower-cased substring of a political label's `linked_to`.
    pub election: Option<String>,
    /// Campaigns served in this Member State.
    pub member_state: Option<String>,
    /// `YYYY-MM-DD`: campaigns shown on at least one day of `from..=to`.
    pub from: Option<String>,
    /// The last day of the range.
    pub to: Option<String>,
    /// Lower-cased text in a brand, subject or criterion description.
    pub q: Option<String>,
    /// The page, from 1.
    pub page: u64,
    /// Campaigns per page.
    pub per_page: u64,
    /// The answer's format.
    pub format: Format,
    /// The search parameters as given (trimmed), to rebuild links and the form.
    given: Vec<(&'static str, String)>,
    per_page_given: bool,
}

impl Default for LibraryQuery {
    fn default() -> Self {
        LibraryQuery {
            advertiser: None,
            payer: None,
            political: None,
            election: None,
            member_state: None,
            from: None,
            to: None,
            q: None,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            format: Format::Json,
            given: Vec::new(),
            per_page_given: false,
        }
    }
}

const SEARCH_PARAMS: [&str; 8] = ["advertiser", "payer", "political", "election", "member_state", "from", "to", "q"];

fn text_param(name: &str, v: &str) -> Result<String, String> {
    if v.chars().count() > MAX_PARAM_CHARS {
        return Err(format!("`{name}` is longer than {MAX_PARAM_CHARS} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("`{name}` must not contain control characters"));
    }
    Ok(v.to_lowercase())
}

fn date_param(name: &str, v: &str) -> Result<String, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(v, &fmt) {
        Ok(d) if v.len() == 10 => Ok(d.to_string()),
        _ => Err(format!("`{name}` must be a date YYYY-MM-DD, e.g. 2026-11-20 (got `{v}`)")),
    }
}

fn number_param(name: &str, v: &str, max: u64) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("`{name}` must be a whole number from 1 to {max} (got `{v}`)")),
    }
}

impl LibraryQuery {
    /// Validates decoded query parameters. Empty values count as absent (an
    /// HTML form sends every field); unknown or repeated parameters are errors.
    pub fn parse<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)], surface: Surface) -> Result<LibraryQuery, String> {
        let mut q = LibraryQuery { format: if surface == Surface::Html { Format::Html } else { Format::Json }, ..LibraryQuery::default() };
        let mut seen: Vec<&str> = Vec::new();
        let (mut page, mut per_page) = (None, None);
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref().trim());
            if seen.contains(&k) {
                return Err(format!("`{k}` is given more than once"));
            }
            seen.push(k);
            let known = SEARCH_PARAMS.contains(&k) || ["page", "per_page", "format"].contains(&k);
            if !known {
                return Err(format!(
                    "unknown parameter `{k}`; use advertiser, payer, political, election, member_state, from, to, q, page, per_page{}",
                    if surface == Surface::Api { ", format" } else { "" }
                ));
            }
            if v.is_empty() {
                continue;
            }
            if let Some(name) = SEARCH_PARAMS.iter().find(|p| **p == k) {
                q.given.push((name, v.to_owned()));
            }
            match k {
                "advertiser" => q.advertiser = Some(text_param(k, v)?),
                "payer" => q.payer = Some(text_param(k, v)?),
                "election" => q.election = Some(text_param(k, v)?),
                "q" => q.q = Some(text_param(k, v)?),
                "political" => {
                    q.political = Some(match v {
                        "true" => true,
                        "false" => false,
                        _ => return Err(format!("`political` must be true or false (got `{v}`)")),
                    })
                }
                "member_state" => {
                    let ms = v.to_ascii_uppercase();
                    if ms == "GR" {
                        return Err("`member_state`: use EL for Greece (EU usage), not GR".into());
                    }
                    if !MEMBER_STATES.contains(&ms.as_str()) {
                        return Err(format!(
                            "`member_state` must be the code of an EU Member State, one of {} (got `{v}`)",
                            MEMBER_STATES.join(" ")
                        ));
                    }
                    q.member_state = Some(ms);
                }
                "from" => q.from = Some(date_param(k, v)?),
                "to" => q.to = Some(date_param(k, v)?),
                "page" => page = Some(v),
                "per_page" => per_page = Some(v),
                "format" if surface == Surface::Api => {
                    q.format = match v {
                        "json" => Format::Json,
                        "csv" => Format::Csv,
                        _ => return Err(format!("`format` must be json or csv (got `{v}`)")),
                    }
                }
                "format" => return Err("`format` is for /api/v1/library (json or csv); this page is HTML".into()),
                _ => {} // unknown names were refused above
            }
        }
        if let (Some(from), Some(to)) = (&q.from, &q.to) {
            if from > to {
                return Err(format!("`from` ({from}) is after `to` ({to})"));
            }
        }
        let max = if q.format == Format::Csv { MAX_PER_PAGE_CSV } else { MAX_PER_PAGE };
        if let Some(v) = per_page {
            q.per_page = number_param("per_page", v, max)?;
            q.per_page_given = true;
        }
        if let Some(v) = page {
            q.page = number_param("page", v, u64::MAX)?;
        }
        Ok(q)
    }

    /// The value given for a search parameter (as typed, trimmed).
    pub fn given(&self, name: &str) -> &str {
        self.given.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The search parameters as a query string (no paging, no format).
    pub fn search_query_string(&self) -> String {
        encode_pairs(self.given.iter().map(|(k, v)| (*k, v.as_str())))
    }

    pub(super) fn link(&self, path: &str, extra: &[(&str, String)]) -> String {
        let mut s = self.search_query_string();
        let rest = encode_pairs(extra.iter().map(|(k, v)| (*k, v.as_str())));
        if !rest.is_empty() {
            if !s.is_empty() {
                s.push('&');
            }
            s.push_str(&rest);
        }
        if s.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{s}")
        }
    }

    pub(super) fn paging(&self, page: u64) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        if page != 1 {
            v.push(("page", page.to_string()));
        }
        if self.per_page_given {
            v.push(("per_page", self.per_page.to_string()));
        }
        v
    }
}

// ---------------------------------------------------------------------------
// URL query strings (application/x-www-form-urlencoded)
// ---------------------------------------------------------------------------

/// Decodes a query string into pairs (`+` is a space, `%XX` a byte; the
/// result must be UTF-8).
pub fn parse_query_string(raw: &str) -> Result<Vec<(String, String)>, String> {
    fn decode(s: &str) -> Result<String, String> {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
                    out.push(hex.ok_or("the query string has a malformed %-escape")?);
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| "the query string is not UTF-8".to_string())
    }
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Encodes pairs as a query string.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    fn enc(s: &str, out: &mut String) {
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        enc(k, &mut out);
        out.push('=');
        enc(v, &mut out);
    }
    out
}

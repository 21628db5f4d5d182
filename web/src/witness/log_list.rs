//! The logs a witness knows, in the public witness network's log-list format
//! (`logs/v0`, as transparency-dev/witness-network documents it), so that a list written for
//! other witnesses works here too:
//!
//! ```text
//! logs/v0
//! vkey sightline.example/log+6b8a2f1c+AQ…
//! vkey other.example/log+01234567+AQ…
//! origin other.example/log/v2
//! contact ops@other.example
//! ```
//!
//! `vkey` starts a log (its origin is the key's name unless an `origin` line follows); `qpd`
//! and `contact` lines are accepted and not used. Blank lines and `#` comments are skipped. Two
//! entries with the same origin are one log with two keys: that is how a log's key rotation is
//! followed (Sightline names every key of a log after its origin).

use sightline_ledger::note::NoteVerifier;
use sightline_ledger::tlog_witness::KnownLog;

use crate::error::{WebError, WebResult};

/// Parses a log list; `source` names it in errors.
pub fn parse(text: &str, source: &str) -> WebResult<Vec<KnownLog>> {
    let bad = |n: usize, why: String| WebError::BadRequest(format!("{source} line {n}: {why}"));
    let mut logs: Vec<KnownLog> = Vec::new();
    let mut header = false;
    let mut current: Option<KnownLog> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (keyword, arg) = line.split_once(' ').map_or((line, ""), |(k, a)| (k, a.trim()));
        match keyword {
            "logs/v0" if !header && logs.is_empty() && current.is_none() => header = true,
            _ if !header => return Err(bad(n, "the list must start with the line `logs/v0`".into())),
            "vkey" => {
                let key = NoteVerifier::from_vkey(arg)
                    .map_err(|e| bad(n, format!("{e}; a log key looks like <name>+<8 hex digits>+<base64>")))?;
                logs.extend(current.take());
                current = Some(KnownLog { origin: key.name().to_string(), keys: vec![key] });
            }
            "origin" => match current.as_mut() {
                Some(log) if !arg.is_empty() => log.origin = arg.to_string(),
                _ => return Err(bad(n, "`origin` must follow a `vkey` line and name an origin".into())),
            },
            "qpd" | "contact" if current.is_some() => {}
            other => return Err(bad(n, format!("unknown keyword `{other}`; use vkey, origin, qpd or contact"))),
        }
    }
    logs.extend(current.take());
    if !header {
        return Err(WebError::BadRequest(format!("{source} is empty; it must start with the line `logs/v0`")));
    }
    Ok(merge(logs))
}

/// Adds logs given by key alone (their origin is the key's name).
pub fn from_vkeys(vkeys: &[String]) -> WebResult<Vec<KnownLog>> {
    let logs = vkeys
        .iter()
        .map(|v| {
            let key = NoteVerifier::from_vkey(v.trim()).map_err(|e| WebError::BadRequest(format!("--log {v}: {e}")))?;
            Ok(KnownLog { origin: key.name().to_string(), keys: vec![key] })
        })
        .collect::<WebResult<Vec<_>>>()?;
    Ok(merge(logs))
}

/// One entry per origin, with every key given for it.
pub fn merge(logs: Vec<KnownLog>) -> Vec<KnownLog> {
    let mut out: Vec<KnownLog> = Vec::new();
    for log in logs {
        match out.iter_mut().find(|l| l.origin == log.origin) {
            Some(l) => {
                for k in log.keys {
                    if !l.keys.iter().any(|have| have.vkey() == k.vkey()) {
                        l.keys.push(k);
                    }
                }
            }
            None => out.push(log),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_ledger::note::NoteSigner;

    #[test]
    fn the_public_list_format_parses_and_rotations_merge() {
        let a = NoteSigner::from_seed("sightline.example/log", &[1; 32]).unwrap();
        let b = NoteSigner::from_seed("sightline.example/log", &[2; 32]).unwrap();
        let c = NoteSigner::from_seed("monkeys", &[3; 32]).unwrap();
        let text = format!(
            "# witnessed logs\nlogs/v0\nvkey {}\nqpd 86400\n\nvkey {}\nvkey {}\norigin Log Checkpoint v0\ncontact ops@example.org\n",
            a.vkey(),
            b.vkey(),
            c.vkey()
        );
        let logs = parse(&text, "logs.txt").unwrap();
        assert_eq!(logs.len(), 2);
        assert_eq!(logs[0].origin, "sightline.example/log");
        assert_eq!(logs[0].keys.len(), 2);
        assert_eq!(logs[1].origin, "Log Checkpoint v0");
    }

    #[test]
    fn mistakes_are_named_by_line() {
        let a = NoteSigner::from_seed("l", &[1; 32]).unwrap().vkey();
        for (text, words) in [
            (format!("vkey {a}\n"), "line 1: the list must start"),
            ("logs/v0\norigin x\n".to_string(), "line 2: `origin` must follow"),
            ("logs/v0\nvkey nonsense\n".to_string(), "line 2:"),
            (format!("logs/v0\nvkey {a}\nweight 3\n"), "line 3: unknown keyword `weight`"),
            (String::new(), "must start with the line `logs/v0`"),
        ] {
            let e = parse(&text, "logs.txt").unwrap_err().to_string();
            assert!(e.contains(words), "{text:?}: {e}");
        }
    }
}

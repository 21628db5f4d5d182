//! The log's witness list: `witnesses.txt` in the data folder (or `--witnesses FILE`), and
//! `--witness 'VKEY URL'` / `--witness-quorum K` flags.
//!
//! ```text
//! # witness <vkey> <submission URL prefix>: where add-checkpoint is POSTed ({prefix}/add-checkpoint)
//! witness witness.example.org/w1+9a1b2c3d+BF… https://witness.example.org
//! witness w2.example+01234567+BA… https://w2.example/tlog
//! witness w3.example+89abcdef+BB… https://w3.example
//! # group <name> <k | any | all> <member>…   (members: witnesses or groups defined above)
//! group europe 1 witness.example.org/w1 w2.example
//! # quorum <group | k | any | all>            (default: all witnesses)
//! quorum 2
//! ```
//!
//! A witness key may be given in the type 0x04 form `sightline witness init` prints or in the
//! plain Ed25519 form (type 0x01) some witnesses publish; both name the same key.

use std::path::Path;

use sightline_ledger::cosignature::CosignatureVerifier;

use super::policy::{Policy, Rule};
use crate::error::{WebError, WebResult};

/// One witness the log submits its checkpoints to.
#[derive(Clone, Debug)]
pub struct WitnessEntry {
    /// The witness's name and cosignature key.
    pub verifier: CosignatureVerifier,
    /// Submission prefix, without a trailing slash.
    pub url: String,
}

impl WitnessEntry {
    /// The witness's name.
    pub fn name(&self) -> &str {
        self.verifier.name()
    }
}

/// The witnesses and the policy their cosignatures must meet.
#[derive(Clone, Debug)]
pub struct WitnessConfig {
    /// The witnesses, in configuration order.
    pub witnesses: Vec<WitnessEntry>,
    /// Which of them must cosign.
    pub policy: Policy,
}

impl WitnessConfig {
    /// The witnesses' names, in configuration order.
    pub fn names(&self) -> Vec<String> {
        self.witnesses.iter().map(|w| w.name().to_string()).collect()
    }
}

fn witness_line(arg: &str) -> Result<WitnessEntry, String> {
    let mut parts = arg.split_whitespace();
    let (Some(vkey), Some(url), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("a witness is `<vkey> <submission URL>`".into());
    };
    let verifier = CosignatureVerifier::from_vkey(vkey).map_err(|e| e.to_string())?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("the submission URL `{url}` must start with http:// or https://"));
    }
    Ok(WitnessEntry { verifier, url: url.trim_end_matches('/').to_string() })
}

/// `k`, `any` or `all` over `n` members.
fn count(word: &str, n: usize) -> Result<usize, String> {
    let k = match word {
        "any" => 1,
        "all" => n,
        k => k.parse().map_err(|_| format!("`{k}` is not a number, any or all"))?,
    };
    if k == 0 || k > n {
        return Err(format!("{k} of {n} can never be met sensibly; give 1 to {n}"));
    }
    Ok(k)
}

/// Builds the configuration from the file's text (if any), `--witness` flags and
/// `--witness-quorum`. `None` when no witness is configured.
pub fn build(file: Option<(&str, &str)>, flags: &[String], quorum: Option<usize>) -> WebResult<Option<WitnessConfig>> {
    let mut witnesses: Vec<WitnessEntry> = Vec::new();
    let mut groups: Vec<(String, Rule)> = Vec::new();
    let mut quorum_rule: Option<Rule> = None;
    let add = |witnesses: &mut Vec<WitnessEntry>, w: WitnessEntry| -> Result<(), String> {
        if witnesses.iter().any(|have| have.name() == w.name()) {
            return Err(format!("the witness `{}` is listed twice", w.name()));
        }
        witnesses.push(w);
        Ok(())
    };
    if let Some((text, source)) = file {
        for (i, raw) in text.lines().enumerate() {
            let bad = |why: String| WebError::BadRequest(format!("{source} line {}: {why}", i + 1));
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, arg) = line.split_once(char::is_whitespace).map_or((line, ""), |(k, a)| (k, a.trim()));
            match keyword {
                "witness" => witness_line(arg).and_then(|w| add(&mut witnesses, w)).map_err(bad)?,
                "group" => {
                    let words: Vec<&str> = arg.split_whitespace().collect();
                    let [name, k, members @ ..] = words.as_slice() else {
                        return Err(bad("a group is `group <name> <k|any|all> <member>…`".into()));
                    };
                    if members.is_empty() || groups.iter().any(|(g, _)| g == name) || witnesses.iter().any(|w| w.name() == *name) {
                        return Err(bad(format!("group `{name}` needs members and a name no witness or group has")));
                    }
                    let members = members.iter().map(|m| member(m, &witnesses, &groups)).collect::<Result<Vec<_>, _>>().map_err(bad)?;
                    let k = count(k, members.len()).map_err(bad)?;
                    groups.push((name.to_string(), Rule::Group { name: name.to_string(), k, members }));
                }
                "quorum" => {
                    let rule = match groups.iter().find(|(g, _)| g == arg) {
                        Some((_, g)) => g.clone(),
                        None => {
                            let k = count(arg, witnesses.len()).map_err(bad)?;
                            Policy::threshold(k, witnesses.len()).rule
                        }
                    };
                    quorum_rule = Some(rule);
                }
                other => return Err(bad(format!("unknown keyword `{other}`; use witness, group or quorum"))),
            }
        }
    }
    for f in flags {
        witness_line(f).and_then(|w| add(&mut witnesses, w)).map_err(|e| WebError::BadRequest(format!("--witness {f}: {e}")))?;
    }
    if witnesses.is_empty() {
        if quorum.is_some() || quorum_rule.is_some() {
            return Err(WebError::BadRequest("a witness quorum was given but no witness: add `witness <vkey> <url>` lines".into()));
        }
        return Ok(None);
    }
    let n = witnesses.len();
    let rule = match (quorum, quorum_rule) {
        (Some(k), _) => {
            Policy::threshold(count(&k.to_string(), n).map_err(|e| WebError::BadRequest(format!("--witness-quorum: {e}")))?, n).rule
        }
        (None, Some(rule)) => rule,
        (None, None) => Policy::threshold(n, n).rule,
    };
    Ok(Some(WitnessConfig { witnesses, policy: Policy { rule } }))
}

fn member(name: &str, witnesses: &[WitnessEntry], groups: &[(String, Rule)]) -> Result<Rule, String> {
    if let Some(i) = witnesses.iter().position(|w| w.name() == name) {
        return Ok(Rule::Witness(i));
    }
    groups
        .iter()
        .find(|(g, _)| g == name)
        .map(|(_, r)| r.clone())
        .ok_or_else(|| format!("`{name}` is neither a witness nor a group listed above"))
}

/// Reads `--witnesses FILE` (or `DATA/witnesses.txt` when it exists) and the flags.
pub fn load(data: &Path, file: Option<&Path>, flags: &[String], quorum: Option<usize>) -> WebResult<Option<WitnessConfig>> {
    let default = data.join("witnesses.txt");
    let path = file.map(Path::to_path_buf).or_else(|| default.exists().then_some(default));
    let text = match &path {
        Some(p) => Some(
            std::fs::read_to_string(p).map_err(|e| WebError::BadRequest(format!("cannot read the witness list {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let source = path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    build(text.as_deref().map(|t| (t, source.as_str())), flags, quorum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_ledger::cosignature::Cosigner;

    fn vkey(name: &str, seed: u8) -> String {
        Cosigner::from_seed(name, &[seed; 32]).unwrap().vkey()
    }

    #[test]
    fn a_list_with_groups_and_a_quorum() {
        let text = format!(
            "# three witnesses\nwitness {} https://a.example/\nwitness {} http://127.0.0.1:7380\nwitness {} https://c.example/tlog\ngroup ab 1 a b\nquorum 2\n",
            vkey("a", 1),
            vkey("b", 2),
            vkey("c", 3)
        );
        let c = build(Some((&text, "witnesses.txt")), &[], None).unwrap().unwrap();
        assert_eq!(c.names(), ["a", "b", "c"]);
        assert_eq!(c.witnesses[0].url, "https://a.example");
        assert_eq!(c.policy, Policy::threshold(2, 3));
        let grouped = text.replace("quorum 2", "group all2 2 ab c\nquorum all2");
        let c = build(Some((&grouped, "w")), &[], None).unwrap().unwrap();
        assert!(!c.policy.met(&[true, true, false]));
        assert!(c.policy.met(&[false, true, true]));
        let flags = build(None, &[format!("{} https://d.example", vkey("d", 4))], None).unwrap().unwrap();
        assert_eq!(flags.policy, Policy::threshold(1, 1), "all witnesses by default");
        assert!(build(None, &[], None).unwrap().is_none());
    }

    #[test]
    fn mistakes_are_refused_with_the_line() {
        let a = vkey("a", 1);
        for (text, words) in [
            (format!("witness {a}\n"), "line 1: a witness is"),
            (format!("witness {a} ftp://x\n"), "must start with http"),
            (format!("witness {a} https://x\nwitness {a} https://y\n"), "listed twice"),
            (format!("witness {a} https://x\nquorum 2\n"), "line 2: 2 of 1"),
            (format!("witness {a} https://x\ngroup g 1 zz\n"), "`zz` is neither"),
            ("threshold 2\n".to_string(), "unknown keyword"),
        ] {
            let e = build(Some((&text, "witnesses.txt")), &[], None).unwrap_err().to_string();
            assert!(e.contains(words), "{text:?}: {e}");
        }
        assert!(build(None, &[format!("{a} https://x")], Some(0)).is_err());
    }
}

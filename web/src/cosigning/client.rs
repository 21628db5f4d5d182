//! One `add-checkpoint` submission to one witness over HTTP (C2SP tlog-witness), and what its
//! answer means. Cosignatures are checked with the witness's configured key before they are
//! kept: a line by another key is ignored, a line by its key that does not verify is an error.

use std::time::Duration;

use sightline_ledger::tlog_witness::{parse_cosignatures, parse_size_body, AddCheckpoint};

use super::config::WitnessEntry;

/// How long one submission may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What one submission came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The witness cosigned: its verified signature line and timestamp.
    Cosigned {
        /// The cosignature line, verified.
        line: String,
        /// When the witness made it (POSIX seconds).
        timestamp: u64,
    },
    /// 409: the witness holds this size (its body).
    Conflict(u64),
    /// Another status: the witness refused, with what it said.
    Refused {
        /// The HTTP status.
        status: u16,
        /// What the witness said.
        said: String,
    },
    /// No answer (connection refused, timeout, …).
    Unreachable(String),
    /// An answer that does not follow the protocol.
    BadAnswer(String),
}

/// An HTTP client for witnesses (keep-alive connections, bounded waits).
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(3)).timeout(TIMEOUT).redirects(0).build()
}

/// Posts `req` to `witness`; `text` is the checkpoint text the cosignature must cover.
pub fn submit(agent: &ureq::Agent, witness: &WitnessEntry, req: &AddCheckpoint, text: &str) -> Outcome {
    let url = format!("{}/add-checkpoint", witness.url);
    let answer = agent.post(&url).set("content-type", "text/plain; charset=utf-8").send_string(&req.to_body());
    let (status, resp) = match answer {
        Ok(r) => (r.status(), r),
        Err(ureq::Error::Status(code, r)) => (code, r),
        Err(e) => return Outcome::Unreachable(e.to_string()),
    };
    let mut body = Vec::new();
    if let Err(e) = std::io::Read::read_to_end(&mut std::io::Read::take(resp.into_reader(), 1 << 20), &mut body) {
        return Outcome::Unreachable(format!("the answer could not be read: {e}"));
    }
    match status {
        200 => cosignature(witness, &body, text),
        409 => match parse_size_body(&body) {
            Some(size) => Outcome::Conflict(size),
            None => Outcome::BadAnswer("a 409 answer whose body is not a tree size".into()),
        },
        status => {
            let said: String = String::from_utf8_lossy(&body).chars().take(300).collect();
            Outcome::Refused { status, said: said.trim().to_string() }
        }
    }
}

fn cosignature(witness: &WitnessEntry, body: &[u8], text: &str) -> Outcome {
    let lines = match parse_cosignatures(body) {
        Ok(l) => l,
        Err(e) => return Outcome::BadAnswer(format!("a 200 answer that is not cosignature lines ({e})")),
    };
    let mut found = None;
    for sig in lines.iter().filter(|s| witness.verifier.claims(s)) {
        match witness.verifier.verify(text, sig) {
            Ok(timestamp) => found = Some(Outcome::Cosigned { line: sig.to_line(), timestamp }),
            Err(e) => return Outcome::BadAnswer(e.to_string()),
        }
    }
    found.unwrap_or_else(|| Outcome::BadAnswer(format!("the answer carries no cosignature by the key configured for {}", witness.name())))
}

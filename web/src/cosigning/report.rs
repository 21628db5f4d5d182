//! What the log says about its witnesses: the status of the current round, the `/healthz`
//! line, the `/metrics` lines, and the sentence a recipient's page shows.
//!
//! `GET /healthz` (`health.rs`) stays `200` while the server is alive (it is a liveness check)
//! and adds one line, `witness policy met: …`, `witness policy unmet: …` or `witness policy
//! pending: …`. `GET /healthz?witnessed` is a readiness check: `503` unless the last settled
//! round met the policy (SPEC.md §12).

use std::fmt::Write;

use super::rounds::{all_answered, cosigned_target};
use super::{Cosigning, Counts};

/// Where the current round stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    /// No checkpoint was submitted yet.
    Idle,
    /// Submitted; not enough cosignatures yet, and not every witness answered.
    Pending,
    /// Enough witnesses cosigned the current checkpoint.
    Met,
    /// Every witness answered and the cosignatures do not meet the policy.
    Unmet,
}

/// One witness, as the log sees it.
#[derive(Clone, Debug)]
pub struct WitnessStatus {
    /// Its name.
    pub name: String,
    /// The size the witness holds, as it last said.
    pub held: Option<u64>,
    /// The size of its latest cosignature of this log, and when it made it (POSIX seconds).
    pub cosigned: Option<(u64, u64)>,
    /// Why its last request failed, if it did.
    pub error: Option<String>,
    /// It holds another tree of a size this log signed: the evidence, in words.
    pub alarm: Option<String>,
    /// Its requests, by how they ended.
    pub counts: Counts,
}

/// The state of witnessing.
#[derive(Clone, Debug)]
pub struct Status {
    /// The policy in words.
    pub policy: String,
    /// The fewest cosignatures that can meet it.
    pub needed: usize,
    /// Where the current round stands.
    pub round: Round,
    /// The size of the checkpoint the current round submits.
    pub target_size: Option<u64>,
    /// Who cosigned the current round's checkpoint.
    pub cosigned: Vec<String>,
    /// Whether the last settled round met the policy.
    pub met: bool,
    /// The size of the newest checkpoint that met the policy.
    pub witnessed_size: Option<u64>,
    /// Each witness, in configuration order.
    pub witnesses: Vec<WitnessStatus>,
}

impl Cosigning {
    /// The state of witnessing now.
    pub fn status(&self) -> Status {
        let g = self.lock();
        let flags = cosigned_target(&g);
        let names = self.config.names();
        let round = match &g.target {
            None => Round::Idle,
            Some(_) if self.config.policy.met(&flags) => Round::Met,
            Some(_) if all_answered(&g) => Round::Unmet,
            Some(_) => Round::Pending,
        };
        let witnesses = names
            .iter()
            .zip(&g.per)
            .map(|(name, p)| WitnessStatus {
                name: name.clone(),
                held: p.held,
                cosigned: p.cosig.as_ref().map(|c| (c.size, c.timestamp)),
                error: p.last_error.clone(),
                alarm: p.alarm.clone(),
                counts: p.counts,
            })
            .collect();
        Status {
            policy: self.policy_words.clone(),
            needed: self.config.policy.needed(),
            round,
            target_size: g.target.as_ref().map(|t| t.size),
            cosigned: names.iter().zip(&flags).filter(|(_, f)| **f).map(|(n, _)| n.clone()).collect(),
            met: match round {
                Round::Met => true,
                Round::Unmet => false,
                Round::Idle | Round::Pending => g.settled.unwrap_or(false),
            },
            witnessed_size: g.witnessed.as_ref().map(|w| w.size),
            witnesses,
        }
    }
}

impl Status {
    /// The `/healthz` line: whether the policy is met, by whom, and why not.
    pub fn health_line(&self) -> String {
        let got = self.cosigned.len();
        let size = self.target_size.map_or("no checkpoint yet".to_string(), |s| format!("the checkpoint of size {s}"));
        let mut out = match self.round {
            Round::Met => format!("witness policy met: {got} cosignatures ({} required) for {size}", self.needed),
            Round::Unmet => format!("witness policy unmet: {got} of {} required cosignatures for {size}", self.needed),
            Round::Pending | Round::Idle => format!(
                "witness policy pending: {got} of {} required cosignatures so far for {size}; the last settled checkpoint {}",
                self.needed,
                if self.met { "met it" } else { "did not" }
            ),
        };
        let _ = write!(out, "; policy: {}", self.policy);
        if !self.cosigned.is_empty() {
            let _ = write!(out, "; cosigned by: {}", self.cosigned.join(", "));
        }
        let missing: Vec<String> = self
            .witnesses
            .iter()
            .filter(|w| !self.cosigned.contains(&w.name))
            .map(|w| match &w.error {
                Some(e) => format!("{} ({e})", w.name),
                None => w.name.clone(),
            })
            .collect();
        if !missing.is_empty() {
            let _ = write!(out, "; not cosigned by: {}", missing.join(", "));
        }
        out
    }

    /// Prometheus lines (`sightline_witness_*`), witness names as labels.
    pub fn metrics(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP sightline_witness_policy_met Whether the last settled round of witnessing met the witness policy (1) or not (0).\n# TYPE sightline_witness_policy_met gauge\nsightline_witness_policy_met {}",
            u8::from(self.met)
        );
        let _ = writeln!(
            out,
            "# HELP sightline_witnessed_tree_size Size of the newest checkpoint whose cosignatures met the policy.\n# TYPE sightline_witnessed_tree_size gauge\nsightline_witnessed_tree_size {}",
            self.witnessed_size.unwrap_or(0)
        );
        let _ = writeln!(out, "# HELP sightline_witness_cosigned_tree_size Size of each witness's latest cosignature of this log.\n# TYPE sightline_witness_cosigned_tree_size gauge");
        for w in &self.witnesses {
            let _ =
                writeln!(out, "sightline_witness_cosigned_tree_size{{witness=\"{}\"}} {}", label(&w.name), w.cosigned.map_or(0, |c| c.0));
        }
        let _ = writeln!(out, "# HELP sightline_witness_split_view Whether a witness holds another tree of a size this log signed (1).\n# TYPE sightline_witness_split_view gauge");
        for w in &self.witnesses {
            let _ = writeln!(out, "sightline_witness_split_view{{witness=\"{}\"}} {}", label(&w.name), u8::from(w.alarm.is_some()));
        }
        let _ = writeln!(out, "# HELP sightline_witness_requests_total add-checkpoint requests by witness and result.\n# TYPE sightline_witness_requests_total counter");
        for w in &self.witnesses {
            let c = w.counts;
            for (result, n) in [("cosigned", c.cosigned), ("conflict", c.conflicts), ("refused", c.refused), ("unreachable", c.unreachable)]
            {
                let _ = writeln!(out, "sightline_witness_requests_total{{witness=\"{}\",result=\"{result}\"}} {n}", label(&w.name));
            }
        }
        out
    }
}

/// A Prometheus label value: backslashes, quotes and newlines escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// What a recipient's page says about the witnesses of the receipt's checkpoint.
pub fn words(witnessed: Option<&super::Witnessed>, index: u64, policy: &str) -> String {
    match witnessed.filter(|w| w.size > index) {
        Some(w) => format!(
            "The receipt leads to the log's checkpoint of {} entries, which {} independent witness{} cosigned ({}), as the log's witness policy requires ({policy}). A witness cosigns a checkpoint only if it extends every checkpoint of this log it saw before, so the log cannot show you a history different from the one these witnesses saw.",
            w.size,
            w.names.len(),
            if w.names.len() == 1 { "" } else { "es" },
            w.names.join(", ")
        ),
        None => format!(
            "No checkpoint that includes this record has been cosigned by the log's witnesses yet ({policy}); until then, its proof rests on the log's own signature."
        ),
    }
}

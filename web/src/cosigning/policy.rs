//! A witness policy: which sets of witnesses must cosign a checkpoint before the log treats it
//! as witnessed. A policy is a threshold over witnesses and groups ("2 of a, b, c"), and a group
//! is itself such a threshold, so "one European witness and one other, 2 of 3 overall" can be
//! written down (SPEC.md §8.1).

/// One rule: a witness (by its position in the configuration) or `k` of some rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The witness at this position of the configuration.
    Witness(usize),
    /// `k` of the members.
    Group {
        /// The group's name (empty for the whole policy).
        name: String,
        /// How many of the members must be met.
        k: usize,
        /// The members: witnesses and groups.
        members: Vec<Rule>,
    },
}

impl Rule {
    /// Whether the witnesses marked in `cosigned` satisfy the rule.
    pub fn met(&self, cosigned: &[bool]) -> bool {
        match self {
            Rule::Witness(i) => cosigned.get(*i).copied().unwrap_or(false),
            Rule::Group { k, members, .. } => members.iter().filter(|m| m.met(cosigned)).count() >= *k,
        }
    }

    /// The fewest cosigners that can satisfy the rule.
    pub fn needed(&self) -> usize {
        match self {
            Rule::Witness(_) => 1,
            Rule::Group { k, members, .. } => {
                let mut costs: Vec<usize> = members.iter().map(Rule::needed).collect();
                costs.sort_unstable();
                costs.iter().take(*k).sum()
            }
        }
    }

    /// The rule in words, with witness names.
    pub fn describe(&self, names: &[String]) -> String {
        match self {
            Rule::Witness(i) => names.get(*i).cloned().unwrap_or_default(),
            Rule::Group { name, k, members } => {
                let inner: Vec<String> = members.iter().map(|m| m.describe(names)).collect();
                let what = if members.iter().all(|m| matches!(m, Rule::Witness(_))) { "witnesses " } else { "" };
                let head = if name.is_empty() { String::new() } else { format!("group {name}: ") };
                format!("{head}{k} of {} {what}({})", members.len(), inner.join(", "))
            }
        }
    }
}

/// The log's witness policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The rule every witnessed checkpoint meets.
    pub rule: Rule,
}

impl Policy {
    /// `k` of all `n` witnesses.
    pub fn threshold(k: usize, n: usize) -> Policy {
        Policy { rule: Rule::Group { name: String::new(), k, members: (0..n).map(Rule::Witness).collect() } }
    }

    /// Whether the witnesses marked in `cosigned` meet the policy.
    pub fn met(&self, cosigned: &[bool]) -> bool {
        self.rule.met(cosigned)
    }

    /// The fewest cosigners that can meet it.
    pub fn needed(&self) -> usize {
        self.rule.needed()
    }

    /// The policy in words, with witness names.
    pub fn describe(&self, names: &[String]) -> String {
        self.rule.describe(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_and_groups() {
        let names: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let p = Policy::threshold(2, 3);
        assert!(!p.met(&[true, false, false]));
        assert!(p.met(&[true, false, true]));
        assert_eq!(p.needed(), 2);
        assert_eq!(p.describe(&names), "2 of 3 witnesses (a, b, c)");
        let eu = Rule::Group { name: "eu".into(), k: 1, members: vec![Rule::Witness(0), Rule::Witness(1)] };
        let p = Policy { rule: Rule::Group { name: String::new(), k: 2, members: vec![eu, Rule::Witness(2), Rule::Witness(3)] } };
        assert!(!p.met(&[true, true, false, false]), "two of one group count once");
        assert!(p.met(&[false, true, false, true]));
        assert_eq!(p.needed(), 2);
        assert_eq!(p.describe(&names), "2 of 3 (group eu: 1 of 2 witnesses (a, b), c, d)");
    }
}

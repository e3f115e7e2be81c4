//! The rule catalogue: every local validation rule with a stable id, its
//! source and its default severity, and per-run severity overrides.
//!
//! Rule ids are stable, dotted, lowercase (`house.export.eidr-road-only`):
//! they appear in contract profiles (`[rules]` in a profile TOML), in the
//! gateway's stored findings and in the generated source table, so renaming
//! one is a breaking change.
//!
//! A finding of a rule whose effective severity is [`Severity::Warning`] is
//! reported in [`crate::ValidationReport::warnings`] instead of failing the
//! message; [`Severity::Off`] drops it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a rule's finding is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The finding rejects the message (400, FAILURE or INCOMPLETE, as the
    /// rule's channel says).
    Error,
    /// The finding is reported as a warning; the message passes.
    Warning,
    /// The rule is not checked.
    Off,
}

impl Severity {
    /// Every severity, in the order a profile lists them.
    pub const ALL: [Severity; 3] = [Self::Error, Self::Warning, Self::Off];

    /// The word used in profiles and on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Off => "off",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity word that is not `error`, `warning` or `off`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}`: expected one of error, warning, off")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownSeverity(s.to_owned()))
    }
}

/// Where a fact about Toll comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Toll's documentation: the page (path under toll.github.io, or the
    /// S-number of `digitoll-api.md`).
    Documented(&'static str),
    /// Seen in public client code: repository and path.
    SeenInCode {
        /// `owner/name`.
        repo: &'static str,
        /// Path in the repository.
        path: &'static str,
    },
    /// Our inference, with the reason.
    Inferred(&'static str),
}

/// One local validation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id (`transport.operator.required`).
    pub id: &'static str,
    /// One line: what the rule checks.
    pub summary: &'static str,
    /// The severity when no profile overrides it.
    pub default: Severity,
    /// Where the rule comes from (at least one entry).
    pub sources: &'static [Source],
}

/// Every rule local validation knows, in a stable order.
pub fn all() -> &'static [RuleInfo] {
    RULES
}

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

/// The catalogue. Filled in as rules get ids.
static RULES: &[RuleInfo] = &[];

/// A rule id that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule id `{0}`")]
pub struct UnknownRule(pub String);

/// Severity overrides for one validation run (from a contract profile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleOverrides {
    map: BTreeMap<&'static str, Severity>,
}

impl RuleOverrides {
    /// No overrides: every rule at its default severity.
    pub fn new() -> Self {
        Self::default()
    }

    /// Overrides the severity of the rule `id`.
    pub fn set(&mut self, id: &str, severity: Severity) -> Result<(), UnknownRule> {
        let rule = find(id).ok_or_else(|| UnknownRule(id.to_owned()))?;
        self.map.insert(rule.id, severity);
        Ok(())
    }

    /// The effective severity of the rule `id` (its default when not
    /// overridden; [`Severity::Error`] for an id not in the catalogue).
    pub fn severity(&self, id: &str) -> Severity {
        self.map
            .get(id)
            .copied()
            .or_else(|| find(id).map(|r| r.default))
            .unwrap_or(Severity::Error)
    }

    /// The overridden rules, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Severity)> + '_ {
        self.map.iter().map(|(k, v)| (*k, *v))
    }

    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

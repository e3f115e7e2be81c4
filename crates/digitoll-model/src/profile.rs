//! Contract profiles: what we believe Toll's contract is, as data, so a user
//! can correct our reading without a new release.
//!
//! A profile is a TOML file. The built-in default ([`ContractProfile::default`])
//! is our current reading of Toll's documentation. The CLI (`--profile`), the
//! gateway (per instance and per tenant) and the simulator all read the same
//! type, so the simulator can be made to behave as Toll turns out to behave.
//!
//! ```toml
//! name = "toll-test as seen 2026-12-04"
//!
//! [rules]
//! "house.export.eidr-road-only" = "warning"
//! ```
//!
//! Parsing is pure (`&str` in, no file access): the caller reads the file and
//! passes its name for error messages. Every error carries the 1-based line
//! and column and says what is allowed.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::rules::{self, RuleOverrides, Severity};

/// A contract profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractProfile {
    /// A label for reports (`name = "..."`).
    pub name: Option<String>,
    /// `[rules]`: severity per rule id.
    pub rules: RuleOverrides,
}

/// A profile that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ProfileError {
    /// The file name (or `<profile>`) as given by the caller.
    pub origin: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.origin, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.origin, self.message)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    #[serde(default)]
    rules: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
}

impl ContractProfile {
    /// Parses a profile. `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ProfileError> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = line_col(text, span.start);
            ProfileError {
                origin: origin.to_owned(),
                line,
                column,
                message,
            }
        };
        let raw: Raw = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => at(span, e.message().to_owned()),
            None => ProfileError {
                origin: origin.to_owned(),
                line: 0,
                column: 0,
                message: e.message().to_owned(),
            },
        })?;
        let mut rules = RuleOverrides::new();
        for (id, severity) in raw.rules {
            let sev: Severity = severity
                .get_ref()
                .parse()
                .map_err(|e: rules::UnknownSeverity| at(severity.span(), e.to_string()))?;
            rules.set(id.get_ref(), sev).map_err(|e| {
                at(
                    id.span(),
                    format!("{e}: see `digitoll rules` for the rule ids"),
                )
            })?;
        }
        Ok(Self {
            name: raw.name,
            rules,
        })
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_top_level_key_is_refused_with_its_line() {
        let err = ContractProfile::from_toml("name = \"x\"\n\nbogus = 1\n", "p.toml").unwrap_err();
        assert_eq!((err.line, err.column), (3, 1), "{err}");
        assert!(err.to_string().starts_with("p.toml:3:1: "), "{err}");
    }

    #[test]
    fn an_unknown_rule_id_is_refused_with_its_line() {
        let err = ContractProfile::from_toml("[rules]\n\"no.such.rule\" = \"off\"\n", "p.toml")
            .unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(
            err.message.contains("unknown rule id `no.such.rule`"),
            "{err}"
        );
    }

    #[test]
    fn the_empty_profile_is_the_default() {
        assert_eq!(
            ContractProfile::from_toml("", "p.toml").unwrap(),
            ContractProfile::default()
        );
    }
}

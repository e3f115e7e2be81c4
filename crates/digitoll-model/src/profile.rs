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
//! [rules]                      # rule id → error | warning | off
//! "house.export.eidr-road-only" = "warning"
//!
//! [endpoints]                  # endpoint id → path template (see `endpoints()`)
//! "presentation.validation-status" = "/api/movement/presentation/v1/validation-status/{requestId}"
//!
//! [rule_text]                  # rule id → the wording the simulator answers with
//!
//! [response_fields]            # simulator only: JSON key in its answers → the key Toll uses
//! "validationErrorList" = "validationErrors"
//!
//! [simulator]
//! failure_status = 202         # HTTP status of a ready FAILURE validation status
//! success_status = 200         # … of a ready SUCCESS
//!
//! [maskinporten]
//! accept_claims = ["nbf"]      # registered claims the Maskinporten simulator tolerates
//! ```
//!
//! Parsing is pure (`&str` in, no file access): the caller reads the file and
//! passes its name for error messages. Every error carries the 1-based line
//! and column and says what is allowed.

mod endpoints;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rules::{self, RuleOverrides, Severity};

pub use endpoints::{EndpointInfo, PLACEHOLDERS, endpoint, endpoints};

/// Registered JWT claims (RFC 7519 §4.1) that Digdir does not document for
/// grants, which `[maskinporten] accept_claims` may name. Digdir: "Adding
/// claims not present in the documentation will result in 400 … Invalid
/// assertion" [D docs.digdir.no `maskinporten_protocol_jwtgrant`]; nais/texas,
/// used in production, sends `nbf` [C nais/texas].
pub const ACCEPTABLE_CLAIMS: &[&str] = &["nbf", "sub"];

/// A contract profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractProfile {
    /// A label for reports (`name = "..."`).
    pub name: Option<String>,
    /// `[rules]`: severity per rule id, and `[rule_text]`: the wording of a
    /// rule's findings (what the simulator answers with, and local
    /// validation reports), see [`RuleOverrides::set_text`].
    pub rules: RuleOverrides,
    /// `[endpoints]`: template overrides by endpoint id (checked).
    endpoints: BTreeMap<&'static str, String>,
    /// `[response_fields]`: JSON key renames the simulator applies to the
    /// bodies it answers (our name → the name Toll turns out to use).
    pub response_fields: BTreeMap<String, String>,
    /// `[simulator]`: behaviour knobs of the Toll simulator.
    pub simulator: SimulatorSettings,
    /// `[maskinporten]`: behaviour knobs of the Maskinporten simulator.
    pub maskinporten: MaskinportenSettings,
}

/// `[simulator]` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulatorSettings {
    /// HTTP status of a ready FAILURE validation status: 202 as Toll's prose
    /// says [D api/mo/asynkrone-valideringsfeil-EN.html] (the v1 Swagger said
    /// 200 [D road v1 Swagger snapshot]).
    pub failure_status: u16,
    /// HTTP status of a ready SUCCESS validation status (200 [D road v1 Swagger]).
    pub success_status: u16,
}

impl Default for SimulatorSettings {
    fn default() -> Self {
        Self {
            failure_status: 202,
            success_status: 200,
        }
    }
}

/// `[maskinporten]` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaskinportenSettings {
    /// Registered claims (from [`ACCEPTABLE_CLAIMS`]) the Maskinporten
    /// simulator tolerates in a grant instead of answering MP-011. Default:
    /// none, as Digdir documents.
    pub accept_claims: BTreeSet<String>,
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

/// An endpoint id, template or path parameter that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The id is not in [`endpoints`].
    #[error(
        "unknown endpoint id `{id}`; nearest: {nearest}; see `digitoll profile default` for every id"
    )]
    UnknownId {
        /// The id given.
        id: String,
        /// The closest known ids, comma-separated.
        nearest: String,
    },
    /// The template is not a path from the host root.
    #[error("template `{template}` must start with `/`")]
    NotAbsolute {
        /// The template given.
        template: String,
    },
    /// The template is not well formed.
    #[error("template `{template}`: {reason}")]
    Malformed {
        /// The template given.
        template: String,
        /// What is wrong.
        reason: String,
    },
    /// The template names a placeholder the endpoint does not have.
    #[error(
        "template `{template}`: unknown placeholder `{{{name}}}` for `{id}`; allowed: {allowed}"
    )]
    UnknownPlaceholder {
        /// The endpoint id.
        id: String,
        /// The template given.
        template: String,
        /// The placeholder.
        name: String,
        /// The endpoint's placeholders.
        allowed: String,
    },
    /// The template lacks a placeholder the endpoint needs.
    #[error(
        "template `{template}` for `{id}` lacks the placeholder `{{{name}}}` (needs: {needed})"
    )]
    MissingPlaceholder {
        /// The endpoint id.
        id: String,
        /// The template given.
        template: String,
        /// The missing placeholder.
        name: String,
        /// Every placeholder the endpoint needs.
        needed: String,
    },
    /// Rendering: no value for a path placeholder.
    #[error("no value for `{{{name}}}` in `{id}`")]
    MissingValue {
        /// The endpoint id.
        id: String,
        /// The placeholder.
        name: String,
    },
}

/// One part of a template's query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryValue {
    /// `key={name}`: the value of a placeholder (left out when it has none).
    Placeholder(String),
    /// `key=value`: a fixed value.
    Literal(String),
}

/// A template split for a server: the path (with `{name}` segments, the
/// syntax axum routes use) and the query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTemplate {
    /// The path, e.g. `/api/movement/road/v2/transport/{mrn}`.
    pub path: String,
    /// Query parameters, in template order.
    pub query: Vec<(String, QueryValue)>,
}

impl RouteTemplate {
    /// Parses a template without checking its placeholders against an endpoint.
    pub fn parse(template: &str) -> Result<Self, EndpointError> {
        let malformed = |reason: &str| EndpointError::Malformed {
            template: template.to_owned(),
            reason: reason.to_owned(),
        };
        if !template.starts_with('/') {
            return Err(EndpointError::NotAbsolute {
                template: template.to_owned(),
            });
        }
        if let Some(c) = template
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || *c == '#')
        {
            return Err(malformed(&format!(
                "`{}` is not allowed in a path template",
                c.escape_default()
            )));
        }
        let (path, query) = match template.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (template, None),
        };
        for segment in path.split('/').skip(1) {
            if segment.contains(['{', '}']) {
                placeholder_name(segment).ok_or_else(|| {
                    malformed(&format!(
                        "`{segment}`: a placeholder must be a whole path segment `{{name}}`"
                    ))
                })?;
            }
        }
        let mut pairs = Vec::new();
        if let Some(q) = query {
            for pair in q.split('&') {
                let (key, value) = pair
                    .split_once('=')
                    .ok_or_else(|| malformed(&format!("query part `{pair}` is not `key=value`")))?;
                if key.is_empty() || key.contains(['{', '}', '?']) {
                    return Err(malformed(&format!("query key `{key}` is not a plain name")));
                }
                let value = if value.contains(['{', '}']) {
                    QueryValue::Placeholder(
                        placeholder_name(value)
                            .ok_or_else(|| {
                                malformed(&format!(
                                    "`{value}`: a placeholder must be a whole query value `{{name}}`"
                                ))
                            })?
                            .to_owned(),
                    )
                } else {
                    QueryValue::Literal(value.to_owned())
                };
                pairs.push((key.to_owned(), value));
            }
        }
        Ok(Self {
            path: path.to_owned(),
            query: pairs,
        })
    }

    /// Every placeholder, path first, in order.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.path.split('/').filter_map(placeholder_name).collect();
        out.extend(self.query.iter().filter_map(|(_, v)| match v {
            QueryValue::Placeholder(p) => Some(p.as_str()),
            QueryValue::Literal(_) => None,
        }));
        out
    }
}

/// `name` of a segment `{name}` (name: ASCII letters, digits, `_`).
fn placeholder_name(segment: &str) -> Option<&str> {
    let name = segment.strip_prefix('{')?.strip_suffix('}')?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Checks an override template against endpoint `info`.
fn check_template(info: &EndpointInfo, template: &str) -> Result<(), EndpointError> {
    let parsed = RouteTemplate::parse(template)?;
    let needed = info.placeholders();
    let have = parsed.placeholders();
    let list = |v: &[&str]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.iter()
                .map(|p| format!("{{{p}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    if let Some(name) = have.iter().find(|p| !needed.contains(p)) {
        return Err(EndpointError::UnknownPlaceholder {
            id: info.id.to_owned(),
            template: template.to_owned(),
            name: (*name).to_owned(),
            allowed: list(&needed),
        });
    }
    if let Some(name) = needed.iter().find(|p| !have.contains(p)) {
        return Err(EndpointError::MissingPlaceholder {
            id: info.id.to_owned(),
            template: template.to_owned(),
            name: (*name).to_owned(),
            needed: list(&needed),
        });
    }
    Ok(())
}

/// The endpoint `id`, or an error naming the nearest ids.
fn known_endpoint(id: &str) -> Result<&'static EndpointInfo, EndpointError> {
    endpoint(id).ok_or_else(|| {
        let mut scored: Vec<(usize, &str)> = endpoints()
            .iter()
            .map(|e| (edit_distance(id, e.id), e.id))
            .collect();
        scored.sort();
        EndpointError::UnknownId {
            id: id.to_owned(),
            nearest: scored
                .iter()
                .take(3)
                .map(|(_, i)| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    })
}

/// Levenshtein distance (for "did you mean").
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    #[serde(default)]
    rules: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    #[serde(default)]
    endpoints: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    #[serde(default)]
    rule_text: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    #[serde(default)]
    response_fields: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    #[serde(default)]
    simulator: RawSimulator,
    #[serde(default)]
    maskinporten: RawMaskinporten,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSimulator {
    failure_status: Option<toml::Spanned<i64>>,
    success_status: Option<toml::Spanned<i64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMaskinporten {
    #[serde(default)]
    accept_claims: Vec<toml::Spanned<String>>,
}

/// What [`ContractProfile::to_toml`] writes.
#[derive(Serialize)]
struct Out<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    rules: BTreeMap<&'static str, Severity>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    endpoints: &'a BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    rule_text: BTreeMap<&'static str, &'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    response_fields: &'a BTreeMap<String, String>,
    simulator: SimulatorSettings,
    maskinporten: OutMaskinporten<'a>,
}

#[derive(Serialize)]
struct OutMaskinporten<'a> {
    accept_claims: &'a BTreeSet<String>,
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
        let mut profile = Self {
            name: raw.name,
            ..Self::default()
        };
        for (id, severity) in raw.rules {
            let sev: Severity = severity
                .get_ref()
                .parse()
                .map_err(|e: rules::UnknownSeverity| at(severity.span(), e.to_string()))?;
            profile.rules.set(id.get_ref(), sev).map_err(|e| {
                at(
                    id.span(),
                    format!("{e}: see `digitoll rules` for the rule ids"),
                )
            })?;
        }
        for (id, template) in raw.endpoints {
            let info = known_endpoint(id.get_ref()).map_err(|e| at(id.span(), e.to_string()))?;
            profile
                .set_endpoint(info.id, template.get_ref())
                .map_err(|e| at(template.span(), e.to_string()))?;
        }
        for (id, text) in raw.rule_text {
            if text.get_ref().trim().is_empty() {
                return Err(at(text.span(), "a rule text must not be empty".to_owned()));
            }
            profile
                .set_rule_text(id.get_ref(), text.get_ref())
                .map_err(|e| {
                    at(
                        id.span(),
                        format!("{e}: see `digitoll rules` for the rule ids"),
                    )
                })?;
        }
        let mut targets = BTreeSet::new();
        for (from, to) in raw.response_fields {
            for s in [&from, &to] {
                if s.get_ref().is_empty() || s.get_ref().chars().any(char::is_control) {
                    return Err(at(
                        s.span(),
                        "a JSON key must be non-empty without control characters".to_owned(),
                    ));
                }
            }
            if from.get_ref() == to.get_ref() {
                return Err(at(
                    to.span(),
                    format!("`{}` is renamed to itself", from.get_ref()),
                ));
            }
            if !targets.insert(to.get_ref().clone()) {
                return Err(at(
                    to.span(),
                    format!("two keys are renamed to `{}`", to.get_ref()),
                ));
            }
            profile
                .response_fields
                .insert(from.into_inner(), to.into_inner());
        }
        let status = |v: Option<toml::Spanned<i64>>, default: u16| {
            match v {
            None => Ok(default),
            Some(v) => u16::try_from(*v.get_ref())
                .ok()
                .filter(|s| (200..=299).contains(s))
                .ok_or_else(|| {
                    at(
                        v.span(),
                        format!(
                            "status {} is not allowed: a ready validation status is a 2xx (200..=299)",
                            v.get_ref()
                        ),
                    )
                }),
        }
        };
        let defaults = SimulatorSettings::default();
        profile.simulator = SimulatorSettings {
            failure_status: status(raw.simulator.failure_status, defaults.failure_status)?,
            success_status: status(raw.simulator.success_status, defaults.success_status)?,
        };
        for claim in raw.maskinporten.accept_claims {
            if !ACCEPTABLE_CLAIMS.contains(&claim.get_ref().as_str()) {
                return Err(at(
                    claim.span(),
                    format!(
                        "`{}` cannot be accepted: allowed are the registered claims Digdir does not document: {}",
                        claim.get_ref(),
                        ACCEPTABLE_CLAIMS.join(", ")
                    ),
                ));
            }
            profile
                .maskinporten
                .accept_claims
                .insert(claim.into_inner());
        }
        Ok(profile)
    }

    /// Writes the profile as TOML that [`ContractProfile::from_toml`] reads
    /// back to the same value.
    pub fn to_toml(&self) -> String {
        let out = Out {
            name: self.name.as_deref(),
            rules: self.rules.iter().collect(),
            endpoints: &self.endpoints,
            rule_text: self.rules.texts().collect(),
            response_fields: &self.response_fields,
            simulator: self.simulator,
            maskinporten: OutMaskinporten {
                accept_claims: &self.maskinporten.accept_claims,
            },
        };
        // Serialising maps of strings and integers cannot fail.
        toml::to_string(&out).unwrap_or_else(|e| format!("# cannot write the profile: {e}\n"))
    }

    /// [`ContractProfile::to_toml`] followed by every endpoint's effective
    /// template as a comment, with its method and sources: what
    /// `digitoll profile default` prints.
    pub fn to_toml_annotated(&self) -> String {
        let mut out = String::from(
            "# A digitoll contract profile. Every endpoint with its effective template\n\
             # follows as a comment: copy a line into [endpoints] to move a path.\n\n",
        );
        out.push_str(&self.to_toml());
        out.push_str("\n# [endpoints]\n");
        for e in endpoints() {
            out.push_str(&format!(
                "# {:?} = {:?}    # {} [{}]\n",
                e.id,
                self.template(e.id).unwrap_or(e.template),
                e.method,
                e.sources
                    .iter()
                    .map(source_tag)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        out
    }

    /// Overrides the template of endpoint `id` (checked as in a profile file).
    pub fn set_endpoint(&mut self, id: &str, template: &str) -> Result<(), EndpointError> {
        let info = known_endpoint(id)?;
        check_template(info, template)?;
        if template == info.template {
            self.endpoints.remove(info.id);
        } else {
            self.endpoints.insert(info.id, template.to_owned());
        }
        Ok(())
    }

    /// The overridden endpoints (id → template).
    pub fn endpoint_overrides(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.endpoints.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The effective template of endpoint `id` (`None` for an unknown id).
    pub fn template(&self, id: &str) -> Option<&str> {
        let info = endpoint(id)?;
        Some(
            self.endpoints
                .get(info.id)
                .map_or(info.template, String::as_str),
        )
    }

    /// The effective template of `id` split for a server.
    pub fn route(&self, id: &str) -> Result<RouteTemplate, EndpointError> {
        let template = self
            .template(id)
            .ok_or_else(|| known_endpoint(id).unwrap_err())?;
        RouteTemplate::parse(template)
    }

    /// Renders the path (and query) of endpoint `id` with `params`
    /// (placeholder → value), percent-encoding every value. A query
    /// parameter whose placeholder has no value is left out; a path
    /// placeholder without one is an error.
    pub fn path(&self, id: &str, params: &[(&str, &str)]) -> Result<String, EndpointError> {
        let route = self.route(id)?;
        let value = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let mut out = String::new();
        for segment in route.path.split('/').skip(1) {
            out.push('/');
            match placeholder_name(segment) {
                Some(name) => encode(
                    value(name).ok_or_else(|| EndpointError::MissingValue {
                        id: id.to_owned(),
                        name: name.to_owned(),
                    })?,
                    &mut out,
                ),
                None => out.push_str(segment),
            }
        }
        let mut first = true;
        for (key, v) in &route.query {
            let v = match v {
                QueryValue::Literal(l) => l.as_str(),
                QueryValue::Placeholder(name) => match value(name) {
                    Some(v) => v,
                    None => continue,
                },
            };
            out.push(if first { '?' } else { '&' });
            first = false;
            out.push_str(key);
            out.push('=');
            encode(v, &mut out);
        }
        Ok(out)
    }

    /// Sets the wording the simulator answers with for rule `id`.
    pub fn set_rule_text(&mut self, id: &str, text: &str) -> Result<(), rules::UnknownRule> {
        self.rules.set_text(id, text)
    }

    /// The simulator's wording for rule `id`, when the profile sets one.
    pub fn rule_text(&self, id: &str) -> Option<&str> {
        self.rules.text(id)
    }

    /// Every `[rule_text]` entry (rule id → text).
    pub fn rule_texts(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.rules.texts()
    }

    /// The key the simulator writes for `key` (`[response_fields]`).
    pub fn response_field<'a>(&'a self, key: &'a str) -> &'a str {
        self.response_fields.get(key).map_or(key, String::as_str)
    }
}

/// `[D page]`, `[C repo path]` or `[I why]`.
pub fn source_tag(s: &rules::Source) -> String {
    match s {
        rules::Source::Documented(page) => format!("D {page}"),
        rules::Source::SeenInCode { repo, path } => format!("C {repo} {path}"),
        rules::Source::Inferred(why) => format!("I {why}"),
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

    fn err(text: &str) -> ProfileError {
        ContractProfile::from_toml(text, "p.toml").unwrap_err()
    }

    #[test]
    fn an_unknown_top_level_key_is_refused_with_its_line() {
        let err = err("name = \"x\"\n\nbogus = 1\n");
        assert_eq!((err.line, err.column), (3, 1), "{err}");
        assert!(err.to_string().starts_with("p.toml:3:1: "), "{err}");
    }

    #[test]
    fn an_unknown_rule_id_is_refused_with_its_line() {
        let err = err("[rules]\n\"no.such.rule\" = \"off\"\n");
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

    #[test]
    fn the_catalogue_has_unique_ids_and_well_formed_templates() {
        let mut ids = BTreeSet::new();
        for e in endpoints() {
            assert!(ids.insert(e.id), "duplicate id {}", e.id);
            assert!(!e.sources.is_empty(), "{} has no source", e.id);
            let route = RouteTemplate::parse(e.template).unwrap();
            for p in route.placeholders() {
                assert!(PLACEHOLDERS.contains(&p), "{}: {p}", e.id);
            }
            assert!(["GET", "POST", "PUT", "DELETE"].contains(&e.method));
        }
        for id in [
            "road.transport.create",
            "air.house.validation-status",
            "presentation.validation-status",
            "arrival.entry-status",
            "maritime.entry-status",
            "token-exchange",
            "document.upload",
            "routing.house-consignment",
        ] {
            assert!(endpoint(id).is_some(), "{id}");
        }
    }

    #[test]
    fn paths_render_with_percent_encoding_and_optional_query_values() {
        let p = ContractProfile::default();
        assert_eq!(
            p.path("road.transport.update", &[("mrn", "26NO A/1")])
                .unwrap(),
            "/api/movement/road/v2/transport/26NO%20A%2F1"
        );
        assert_eq!(
            p.path("presentation.validation-status", &[("requestId", "a&b")])
                .unwrap(),
            "/api/movement/presentation/v1/validation-status?requestId=a%26b"
        );
        assert_eq!(
            p.path("routing.transport", &[]).unwrap(),
            "/api/movement/routing/v1/transport"
        );
        assert_eq!(
            p.path(
                "air.master.lookup",
                &[
                    ("documentNumber", "X1"),
                    ("type", "N741"),
                    ("carrierId", "9")
                ]
            )
            .unwrap(),
            "/api/movement/air/status/v1/master-consignment/transport-document/status?documentNumber=X1&type=N741&carrierId=9"
        );
        assert!(matches!(
            p.path("road.transport.update", &[]),
            Err(EndpointError::MissingValue { .. })
        ));
        assert!(matches!(
            p.path("road.nope", &[]),
            Err(EndpointError::UnknownId { .. })
        ));
    }

    #[test]
    fn an_endpoint_override_moves_the_path() {
        let p = ContractProfile::from_toml(
            "[endpoints]\n\"road.transport.update\" = \"/v9/transports/{mrn}?x=1\"\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(
            p.path("road.transport.update", &[("mrn", "M")]).unwrap(),
            "/v9/transports/M?x=1"
        );
        assert_eq!(
            p.template("road.transport.create"),
            Some("/api/movement/road/v2/transport")
        );
    }

    #[test]
    fn an_unknown_endpoint_id_names_the_nearest_ids() {
        let e = err("name = \"x\"\n[endpoints]\n\"road.transprot.create\" = \"/x\"\n");
        assert_eq!((e.line, e.column), (3, 1), "{e}");
        assert!(
            e.message
                .contains("unknown endpoint id `road.transprot.create`")
                && e.message.contains("`road.transport.create`"),
            "{e}"
        );
    }

    #[test]
    fn a_template_not_starting_with_a_slash_is_refused_at_the_value() {
        let e = err("[endpoints]\n\"road.transport.create\" = \"api/transport\"\n");
        assert_eq!((e.line, e.column), (2, 27), "{e}");
        assert!(e.message.contains("must start with `/`"), "{e}");
    }

    #[test]
    fn an_unknown_placeholder_is_refused_with_the_allowed_ones() {
        let e = err("[endpoints]\n\"road.transport.update\" = \"/t/{mrn}/{requestId}\"\n");
        assert_eq!(e.line, 2, "{e}");
        assert!(
            e.message.contains("unknown placeholder `{requestId}`")
                && e.message.contains("allowed: {mrn}"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_placeholder_is_refused() {
        let e = err("\n[endpoints]\n\"arrival.entry-status\" = \"/entry/status\"\n");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("lacks the placeholder `{mrn}`"), "{e}");
    }

    #[test]
    fn a_placeholder_inside_a_segment_is_refused() {
        let e = err("[endpoints]\n\"road.transport.update\" = \"/t/x{mrn}\"\n");
        assert!(e.message.contains("whole path segment"), "{e}");
    }

    #[test]
    fn simulator_and_maskinporten_settings_parse_and_are_checked() {
        let p = ContractProfile::from_toml(
            "[simulator]\nfailure_status = 200\n[maskinporten]\naccept_claims = [\"nbf\"]\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.simulator.failure_status, 200);
        assert_eq!(p.simulator.success_status, 200);
        assert!(p.maskinporten.accept_claims.contains("nbf"));
        assert_eq!(ContractProfile::default().simulator.failure_status, 202);

        let e = err("[simulator]\nfailure_status = 404\n");
        assert_eq!((e.line, e.column), (2, 18), "{e}");
        assert!(e.message.contains("200..=299"), "{e}");
        let e = err("[simulator]\nfailure_code = 202\n");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("failure_status"), "{e}");
        let e = err("[maskinporten]\naccept_claims = [\"nbf\", \"foo\"]\n");
        assert_eq!((e.line, e.column), (2, 25), "{e}");
        assert!(e.message.contains("nbf, sub"), "{e}");
    }

    #[test]
    fn response_fields_are_checked() {
        let p = ContractProfile::from_toml(
            "[response_fields]\nvalidationErrorList = \"validationErrors\"\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.response_field("validationErrorList"), "validationErrors");
        assert_eq!(p.response_field("mrn"), "mrn");
        let e = err("[response_fields]\na = \"c\"\nb = \"c\"\n");
        assert_eq!(e.line, 3, "{e}");
        let e = err("[response_fields]\na = \"a\"\n");
        assert!(e.message.contains("renamed to itself"), "{e}");
    }

    #[test]
    fn an_unknown_rule_in_rule_text_is_refused_with_its_line() {
        let e = err("[rule_text]\n\"no.such.rule\" = \"x\"\n");
        assert_eq!((e.line, e.column), (2, 1), "{e}");
        assert!(e.message.contains("unknown rule id"), "{e}");
    }

    #[test]
    fn profiles_round_trip_through_toml() {
        let mut p = ContractProfile {
            name: Some("toll \"test\"".into()),
            ..ContractProfile::default()
        };
        p.set_endpoint(
            "presentation.validation-status",
            "/api/movement/presentation/v1/validation-status/{requestId}",
        )
        .unwrap();
        p.response_fields.insert("mrn".into(), "MRN".into());
        p.rules.set("codelist.cl141", Severity::Warning).unwrap();
        p.set_rule_text("codelist.cl141", "Ugyldig \"tollsted\"")
            .unwrap();
        p.simulator.failure_status = 200;
        p.maskinporten.accept_claims.insert("nbf".into());
        let text = p.to_toml();
        assert_eq!(
            ContractProfile::from_toml(&text, "out.toml").unwrap(),
            p,
            "{text}"
        );

        let d = ContractProfile::default();
        assert_eq!(ContractProfile::from_toml(&d.to_toml(), "d").unwrap(), d);
        let annotated = d.to_toml_annotated();
        assert_eq!(ContractProfile::from_toml(&annotated, "d").unwrap(), d);
        for e in endpoints() {
            assert!(
                annotated.contains(&format!("# {:?} = {:?}", e.id, e.template)),
                "{}",
                e.id
            );
        }
    }

    #[test]
    fn rule_text_goes_into_the_rule_overrides() {
        let p = ContractProfile::from_toml(
            "[rule_text]\n\"codelist.cl141\" = \"Ugyldig tollsted\"\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.rule_text("codelist.cl141"), Some("Ugyldig tollsted"));
        assert_eq!(p.rules.text("codelist.cl141"), Some("Ugyldig tollsted"));
        let e = err("[rule_text]\n\"codelist.cl141\" = \" \"\n");
        assert_eq!((e.line, e.column), (2, 20), "{e}");
    }

    #[test]
    fn setting_the_default_template_is_no_override() {
        let mut p = ContractProfile::default();
        p.set_endpoint("road.test-auth", "/api/movement/road/v2/test-auth")
            .unwrap();
        assert_eq!(p, ContractProfile::default());
    }
}

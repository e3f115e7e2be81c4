//! Per-tenant validation: the mode (strict / advisory / off) and the
//! effective rule severities from the instance's and the tenant's contract
//! profiles.
//!
//! **How the two profiles combine.** The instance's profile
//! (`GatewayConfig::profile`, `digitoll serve --profile FILE`) applies to
//! every tenant. A tenant's own profile (stored as TOML text, checked when
//! set) is laid over it rule by rule: each rule id in the tenant's `[rules]`
//! overrides the instance's entry for that id; rules the tenant does not name
//! keep the instance's severity, and rules neither names keep the catalogue
//! default. Endpoint paths combine the same way: each id in the tenant's
//! `[endpoints]` overrides the instance's template, so the tenant's clients
//! call Toll where the combined profile says ([`effective_profile_for`]).
//! The tenant's `name` is only a label.
//!
//! **What each mode does** (`POST /v1/messages`, PUT, DELETE, the dashboard):
//!
//! * `strict` (default): findings of rules at `error` refuse the message
//!   (422, nothing stored or sent); findings of rules at `warning` are stored
//!   with the message and it is sent; the worker's client checks again with
//!   the same severities.
//! * `advisory`: every finding is stored with the message (shown as
//!   warnings next to Toll's answer) and the message is sent without the
//!   client's check: Toll judges.
//! * `off`: no rule is checked and nothing is stored as a finding; only a
//!   body that is not a JSON object, or not the kind it claims (by its
//!   top-level fields, [`MessageKind::detect`]), is refused, since there is
//!   nothing to send.

use digitoll_model::{
    ContractProfile, Finding, MessageKind, PlaygroundFixtures, ProfileError, RuleOverrides,
    ValidationContext, validate_json_for,
};
use digitoll_store::ValidationMode;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::message::ApiMode;

/// The name a stored tenant profile has in errors (`contract_profile:3:1: …`).
pub const TENANT_PROFILE_ORIGIN: &str = "contract_profile";

/// Parses a tenant's contract profile (TOML), as when it is set.
///
/// # Errors
/// [`ProfileError`] with the line and column of the first problem.
pub fn parse_tenant_profile(text: &str) -> Result<ContractProfile, ProfileError> {
    ContractProfile::from_toml(text, TENANT_PROFILE_ORIGIN)
}

/// The effective severities: the instance's `[rules]`, each overridden by
/// the tenant's entry for the same rule id.
pub fn effective_rules(
    instance: &ContractProfile,
    tenant: Option<&ContractProfile>,
) -> RuleOverrides {
    let mut out = instance.rules.clone();
    if let Some(t) = tenant {
        for (id, severity) in t.rules.iter() {
            // Ids of a parsed profile are in the catalogue, so `set` cannot fail.
            let _ = out.set(id, severity);
        }
    }
    out
}

/// The effective severities for a stored tenant profile text.
///
/// # Errors
/// [`ProfileError`] when the stored text no longer parses (e.g. a rule id
/// was removed from the catalogue since it was set).
pub fn effective_rules_for(
    instance: &ContractProfile,
    tenant_profile: Option<&str>,
) -> Result<RuleOverrides, ProfileError> {
    let tenant = tenant_profile.map(parse_tenant_profile).transpose()?;
    Ok(effective_rules(instance, tenant.as_ref()))
}

/// The effective contract profile of a tenant's Toll clients: the
/// instance's, with the tenant's `[endpoints]` laid over it path by path and
/// its `[rules]` rule by rule ([`effective_rules`]).
///
/// # Errors
/// [`ProfileError`] when the stored tenant text no longer parses.
pub fn effective_profile_for(
    instance: &ContractProfile,
    tenant_profile: Option<&str>,
) -> Result<ContractProfile, ProfileError> {
    let tenant = tenant_profile.map(parse_tenant_profile).transpose()?;
    let mut out = instance.clone();
    if let Some(t) = &tenant {
        for (id, template) in t.endpoint_overrides() {
            out.set_endpoint(id, template).map_err(|e| ProfileError {
                origin: TENANT_PROFILE_ORIGIN.to_owned(),
                line: 0,
                column: 0,
                message: e.to_string(),
            })?;
        }
    }
    out.rules = effective_rules(instance, tenant.as_ref());
    Ok(out)
}

/// How one tenant's messages are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantValidation {
    /// The tenant's mode.
    pub mode: ValidationMode,
    /// Effective rule severities.
    pub rules: RuleOverrides,
    /// TEST and simulator tenants validate against Toll's playground fixtures.
    pub playground: bool,
}

/// What the local check found, for a message it lets through.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The mode it was checked under (stored with the message).
    pub mode: ValidationMode,
    /// The findings to keep with the message (empty: none).
    pub findings: Vec<Finding>,
}

impl Checked {
    /// The findings as stored (`None` when there are none).
    pub fn stored_findings(&self) -> Option<Value> {
        (!self.findings.is_empty())
            .then(|| serde_json::to_value(&self.findings).ok())
            .flatten()
    }
}

impl TenantValidation {
    /// The same settings in strict mode (the dashboard form shows every
    /// finding as a remark whatever the mode).
    pub fn strict(&self) -> Self {
        Self {
            mode: ValidationMode::Strict,
            ..self.clone()
        }
    }

    fn context(&self, first: bool) -> ValidationContext {
        let ctx = ValidationContext::new(OffsetDateTime::now_utc())
            .with_first_submission(first)
            .with_rule_overrides(self.rules.clone());
        if self.playground {
            ctx.with_playground(PlaygroundFixtures::default())
        } else {
            ctx
        }
    }

    /// Checks a body of `kind` for `mode`'s API as this tenant's mode says.
    ///
    /// # Errors
    /// 400 for a body that is not a JSON object or (advisory, off) not the
    /// kind it claims; 422 with Toll's lists in strict mode when a rule at
    /// `error` fails.
    pub fn check(
        &self,
        mode: ApiMode,
        kind: MessageKind,
        body: &Value,
        first: bool,
    ) -> Result<Checked, ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request(
                "invalid_value",
                "body: must be a JSON object (the Toll message)",
                Some("body".into()),
            ));
        }
        if self.mode != ValidationMode::Strict {
            let detected = MessageKind::detect(body);
            if detected != Some(kind) {
                let found = detected.map_or_else(
                    || "its top-level fields fit no Toll message".to_owned(),
                    |k| format!("its top-level fields are those of a {}", k.path_segment()),
                );
                return Err(ApiError::bad_request(
                    "invalid_value",
                    format!(
                        "body: is not a {} message ({found}); nothing to send",
                        kind.path_segment()
                    ),
                    Some("body".into()),
                ));
            }
        }
        if self.mode == ValidationMode::Off {
            return Ok(Checked {
                mode: self.mode,
                findings: Vec::new(),
            });
        }
        let text = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))?;
        let (_, report) = validate_json_for(mode.client_mode(), kind, &text, &self.context(first))
            .map_err(|e| {
                ApiError::bad_request("invalid_json", e.to_string(), Some("body".into()))
            })?;
        if self.mode == ValidationMode::Strict && !report.is_valid() {
            return Err(ApiError::Validation {
                sync: report.sync_errors().to_vec(),
                business: report.business_errors().to_vec(),
            });
        }
        Ok(Checked {
            mode: self.mode,
            findings: report.findings(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_tenant_profile_keeps_the_instance_rules() {
        let instance = ContractProfile::default();
        let t = parse_tenant_profile("name = \"t\"\n").unwrap();
        assert_eq!(effective_rules(&instance, Some(&t)), instance.rules);
        assert_eq!(effective_rules(&instance, None), instance.rules);
    }

    #[test]
    fn the_tenant_entry_overrides_the_instance_entry_rule_by_rule() {
        use digitoll_model::Severity;
        let instance = ContractProfile::from_toml(
            "[rules]\n\"place.unlocode.format\" = \"warning\"\n\"playground.n820-state\" = \"off\"\n",
            "i.toml",
        )
        .unwrap();
        let tenant =
            parse_tenant_profile("[rules]\n\"place.unlocode.format\" = \"error\"\n").unwrap();
        let rules = effective_rules(&instance, Some(&tenant));
        assert_eq!(rules.severity("place.unlocode.format"), Severity::Error);
        assert_eq!(rules.severity("playground.n820-state"), Severity::Off);
        assert_eq!(
            rules.severity("field.required"),
            digitoll_model::rules::find("field.required")
                .unwrap()
                .default
        );
    }

    #[test]
    fn a_bad_tenant_profile_names_its_line_and_column() {
        let err = effective_rules_for(
            &ContractProfile::default(),
            Some("name = \"t\"\nbogus = 1\n"),
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (2, 1), "{err}");
        assert!(
            err.to_string().starts_with("contract_profile:2:1: "),
            "{err}"
        );
    }

    #[test]
    fn off_refuses_a_body_of_another_kind() {
        let v = TenantValidation {
            mode: ValidationMode::Off,
            ..TenantValidation::default()
        };
        let master = serde_json::json!({"consignmentMasterLevel": {}});
        let err = v
            .check(ApiMode::Road, MessageKind::Transport, &master, true)
            .unwrap_err();
        assert!(
            err.to_string().contains("those of a master-consignment"),
            "{err}"
        );
        let ok = v
            .check(ApiMode::Road, MessageKind::MasterConsignment, &master, true)
            .unwrap();
        assert!(ok.findings.is_empty() && ok.stored_findings().is_none());
    }
}

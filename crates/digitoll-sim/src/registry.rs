//! What the simulator knows about organisations, clients, scope grants and delegations.
//!
//! This mirrors the state Maskinporten consults when judging a grant: the client
//! registered in Samarbeidsportalen (owner org, scopes, keys), the API owner's list
//! of organisations granted each scope, and Altinn delegations from a consumer
//! organisation to a supplier organisation.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::SimError;

/// Maskinporten's limit on keys per client.
const MAX_KEYS_PER_CLIENT: usize = 5;

/// True if `org_no` is a Norwegian organisation number: 9 digits whose last digit is
/// the mod-11 check digit over weights 3,2,7,6,5,4,3,2 (11 becomes 0, 10 is invalid).
pub fn is_valid_org_no(org_no: &str) -> bool {
    expected_check_digit(org_no).is_some_and(|d| org_no.as_bytes()[8] - b'0' == d)
}

/// The check digit the first 8 digits call for, if `org_no` is 9 digits and one exists.
fn expected_check_digit(org_no: &str) -> Option<u8> {
    let bytes = org_no.as_bytes();
    if bytes.len() != 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = bytes[..8]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        d => u8::try_from(d).ok(),
    }
}

/// Checks an org number and says what is wrong with it (`field` names the input).
pub(crate) fn check_org_no(field: &str, org_no: &str) -> Result<(), SimError> {
    if is_valid_org_no(org_no) {
        return Ok(());
    }
    let hint = match expected_check_digit(org_no) {
        Some(d) => format!("the check digit should be {d}"),
        None if org_no.len() == 9 && org_no.bytes().all(|b| b.is_ascii_digit()) => {
            "its first 8 digits give check digit 10, so no valid number starts with them".into()
        }
        None => "it must be exactly 9 digits".into(),
    };
    Err(SimError::InvalidInput(format!(
        "{field}: {org_no:?} is not a valid organisation number ({hint})"
    )))
}

/// A Maskinporten client as registered in Samarbeidsportalen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRegistration {
    /// The client id (a UUID in real Maskinporten; any non-empty string here).
    pub client_id: String,
    /// The organisation that owns the client.
    pub org_no: String,
    /// Scopes registered on the client (else MP-200).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Registered public JWKs, each with a `kid`. Empty means a certificate client
    /// that must send its business certificate chain in `x5c`.
    #[serde(default)]
    pub keys: Vec<serde_json::Value>,
}

impl ClientRegistration {
    /// A client that authenticates with registered keys (`kid` in the grant header).
    pub fn with_keys(
        client_id: impl Into<String>,
        org_no: impl Into<String>,
        scopes: impl IntoIterator<Item = impl Into<String>>,
        keys: Vec<serde_json::Value>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            org_no: org_no.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            keys,
        }
    }

    /// A client that authenticates with a business certificate (`x5c` in the grant header).
    pub fn with_certificate(
        client_id: impl Into<String>,
        org_no: impl Into<String>,
        scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::with_keys(client_id, org_no, scopes, Vec::new())
    }

    /// Checks the registration the way the self-service API would.
    pub(crate) fn validate(&self) -> Result<(), SimError> {
        if self.client_id.trim().is_empty() {
            return Err(SimError::InvalidInput(
                "client_id: must not be empty".into(),
            ));
        }
        check_org_no("org_no", &self.org_no)?;
        if self.keys.len() > MAX_KEYS_PER_CLIENT {
            return Err(SimError::InvalidInput(format!(
                "keys: {} keys given, Maskinporten allows at most {MAX_KEYS_PER_CLIENT}",
                self.keys.len()
            )));
        }
        let mut kids = BTreeSet::new();
        for (i, key) in self.keys.iter().enumerate() {
            let field = |name: &str| key.get(name).and_then(serde_json::Value::as_str);
            let kid = field("kid").ok_or_else(|| {
                SimError::InvalidInput(format!(
                    "keys[{i}].kid: missing (every registered key needs a kid)"
                ))
            })?;
            if kid.is_empty()
                || !kid
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(SimError::InvalidInput(format!(
                    "keys[{i}].kid: {kid:?} must be non-empty alphanumerics and ._-"
                )));
            }
            if !kids.insert(kid) {
                return Err(SimError::InvalidInput(format!(
                    "keys[{i}].kid: {kid:?} is used twice"
                )));
            }
            if field("kty") != Some("RSA") {
                return Err(SimError::InvalidInput(format!(
                    "keys[{i}].kty: must be \"RSA\""
                )));
            }
            for name in ["n", "e"] {
                if field(name).is_none() {
                    return Err(SimError::InvalidInput(format!("keys[{i}].{name}: missing")));
                }
            }
        }
        Ok(())
    }

    /// The registered JWK with this `kid`.
    pub(crate) fn key(&self, kid: &str) -> Option<&serde_json::Value> {
        self.keys
            .iter()
            .find(|k| k.get("kid").and_then(serde_json::Value::as_str) == Some(kid))
    }
}

/// An Altinn delegation: `consumer_org` lets `supplier_org` fetch tokens for `scope`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Delegation {
    /// The organisation that delegates (the token's `consumer`).
    pub consumer_org: String,
    /// The organisation that receives the delegation (the token's `supplier`).
    pub supplier_org: String,
    /// The delegated scope.
    pub scope: String,
}

/// A scope an API owner has granted to an organisation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScopeGrant {
    /// The organisation allowed to use the scope.
    pub org_no: String,
    /// The scope.
    pub scope: String,
}

/// A registered organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Organisation number.
    pub org_no: String,
    /// Display name.
    pub name: String,
}

/// All registrations, behind one lock in [`crate::state::SimState`].
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) organisations: BTreeMap<String, String>,
    pub(crate) clients: BTreeMap<String, ClientRegistration>,
    pub(crate) scope_grants: BTreeSet<ScopeGrant>,
    pub(crate) delegations: BTreeSet<Delegation>,
}

impl Registry {
    pub(crate) fn is_granted(&self, org_no: &str, scope: &str) -> bool {
        self.scope_grants.contains(&ScopeGrant {
            org_no: org_no.to_owned(),
            scope: scope.to_owned(),
        })
    }

    pub(crate) fn is_delegated(&self, consumer: &str, supplier: &str, scope: &str) -> bool {
        self.delegations.contains(&Delegation {
            consumer_org: consumer.to_owned(),
            supplier_org: supplier.to_owned(),
            scope: scope.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_numbers() {
        assert!(is_valid_org_no("314159268"));
        assert!(is_valid_org_no("310000000"));
        assert!(is_valid_org_no("987654325"));
        assert!(!is_valid_org_no("314159260"));
        assert!(!is_valid_org_no("91234567x"));
        assert!(!is_valid_org_no("12345678"));
        // 91234567 gives check digit 10: no valid number starts with it.
        for d in 0..10 {
            assert!(!is_valid_org_no(&format!("91234567{d}")));
        }
        let err = check_org_no("org_no", "314159260").unwrap_err().to_string();
        assert!(err.contains("check digit should be 8"), "{err}");
    }
}

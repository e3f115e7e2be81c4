//! Judging a JWT grant the way Maskinporten documents it (maskinporten.md §1.3–1.7).
//!
//! [`judge`] runs one function per check, in this order:
//!
//! 1. [`check_grant_type`]: `grant_type` is the JWT bearer grant and `assertion` is present.
//! 2. [`parse_assertion`]: a JWS compact serialisation with JSON header and claims (MP-011).
//! 3. [`check_algorithm`]: `alg` is RS256, RS384 or RS512 (MP-011).
//! 4. [`check_x5c_shape`]: `x5c`, if present, is an array of strings (MP-123).
//! 5. [`check_known_claims`]: only documented claims (MP-011 "Invalid assertion").
//! 6. [`parse_claims`]: required claims present with the right types (MP-011).
//! 7. [`check_audience`]: `aud` equals the issuer exactly (MP-110).
//! 8. [`find_client`]: `iss` names a registered client (MP-100).
//! 9. [`select_key`]: `kid` for key clients (MP-100 texts), `x5c` chain for certificate
//!    clients (MP-123, MP-120 other environment, MP-124 untrusted/expired, MP-122 org).
//! 10. [`check_signature`]: the signature verifies (MP-124).
//! 11. [`check_times`]: not expired, lifetime ≤ 120 s, `iat` not in the future, with
//!     10 s skew (MP-130).
//! 12. [`check_replay`]: the `jti` was not used before (MP-012); it is remembered
//!     until its `exp` + skew.
//! 13. [`check_consumer_org`]: valid org number, not the client's own org (MP-011).
//! 14. [`check_scopes`]: registered on the client (MP-200) unless delegated; delegated
//!     by the consumer to the client's org (MP-251); granted to the consumer (MP-250).
//! 15. [`check_authorization_details`]: RAR types and fields (MP-301/302/303).

use std::collections::HashSet;

use aws_lc_rs::signature::{self, RsaParameters, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::error::MpError;
use crate::ca::ChainError;
use crate::registry::{ClientRegistration, is_valid_org_no};
use crate::state::SimState;

/// The only grant type Maskinporten accepts.
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Allowed clock difference, seconds.
pub(crate) const SKEW_SECS: i64 = 10;
/// Longest allowed `exp - iat`, seconds.
pub(crate) const MAX_LIFETIME_SECS: i64 = 120;
/// RAR type for Altinn system users.
pub(crate) const RAR_SYSTEMUSER: &str = "urn:altinn:systemuser";
/// RAR type for Altinn consent.
pub(crate) const RAR_CONSENT: &str = "urn:altinn:consent";

const DOCUMENTED_CLAIMS: &[&str] = &[
    "aud",
    "iss",
    "iat",
    "exp",
    "jti",
    "scope",
    "resource",
    "pid",
    "consumer_org",
    "iss_onbehalfof",
    "authorization_details",
];

/// base64url that tolerates padding.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How the client authenticated (the token's `client_amr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAmr {
    PrivateKeyJwt,
    BusinessCertificate,
}

impl ClientAmr {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::BusinessCertificate => "virksomhetssertifikat",
        }
    }
}

/// A decoded (not yet verified) assertion.
#[derive(Debug)]
pub(crate) struct Assertion {
    signing_input: String,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signature: Vec<u8>,
}

/// The typed claims of a grant.
#[derive(Debug)]
pub(crate) struct GrantClaims {
    pub(crate) aud: String,
    pub(crate) iss: String,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) jti: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) resource: Option<Value>,
    pub(crate) pid: Option<String>,
    pub(crate) consumer_org: Option<String>,
    pub(crate) authorization_details: Option<Vec<Map<String, Value>>>,
}

/// The public key a grant must verify against.
#[derive(Debug)]
pub(crate) enum VerifyingKey {
    /// From a registered JWK.
    Components { n: Vec<u8>, e: Vec<u8> },
    /// PKCS#1 `RSAPublicKey` DER from a certificate.
    Der(Vec<u8>),
}

/// A grant that passed every check.
#[derive(Debug)]
pub(crate) struct AcceptedGrant {
    pub(crate) client: ClientRegistration,
    pub(crate) claims: GrantClaims,
    pub(crate) amr: ClientAmr,
    /// Org the token is issued for (`consumer`).
    pub(crate) consumer_org: String,
    /// Set when `consumer_org` was used: the client's org.
    pub(crate) supplier_org: Option<String>,
    /// RAR entries to echo into the token.
    pub(crate) authorization_details: Option<Vec<Value>>,
}

/// Runs every check in the documented order.
pub(crate) fn judge(state: &SimState, form: &[(String, String)]) -> Result<AcceptedGrant, MpError> {
    let now = state.clock.now();
    let assertion_text = check_grant_type(form)?;
    let assertion = parse_assertion(assertion_text)?;
    let alg = check_algorithm(&assertion)?;
    check_x5c_shape(&assertion)?;
    check_known_claims(&assertion, &state.profile.maskinporten.accept_claims)?;
    let claims = parse_claims(&assertion)?;
    check_audience(state, &claims)?;
    let client = find_client(state, &claims)?;
    let (key, amr) = select_key(state, &assertion, &client, now)?;
    check_signature(&assertion, alg, &key)?;
    check_times(&claims, now)?;
    check_replay(state, &client, &claims, now)?;
    let consumer_org = check_consumer_org(&claims, &client)?;
    check_scopes(state, &claims, &client, consumer_org.as_deref())?;
    let authorization_details = check_authorization_details(&claims, &client)?;
    let supplier_org = consumer_org.as_ref().map(|_| client.org_no.clone());
    Ok(AcceptedGrant {
        consumer_org: consumer_org.unwrap_or_else(|| client.org_no.clone()),
        supplier_org,
        client,
        claims,
        amr,
        authorization_details,
    })
}

/// Check 1: the form must carry the JWT bearer `grant_type` and an `assertion`.
pub(crate) fn check_grant_type(form: &[(String, String)]) -> Result<&str, MpError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match field("grant_type") {
        Some(JWT_BEARER) => {}
        Some(other) => return Err(MpError::unsupported_grant_type(other)),
        None => {
            return Err(MpError {
                error: "invalid_request",
                ..MpError::unsupported_grant_type("")
            }
            .with_description("Missing form field grant_type"));
        }
    }
    field("assertion")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| MpError::invalid_assertion("missing form field assertion"))
}

/// Check 2: decode the compact JWS: three base64url parts, JSON objects in the first two.
pub(crate) fn parse_assertion(text: &str) -> Result<Assertion, MpError> {
    let parts: Vec<&str> = text.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err(MpError::invalid_assertion(format!(
            "assertion has {} dot-separated parts, a JWS has 3",
            parts.len()
        )));
    };
    let json_part = |name: &str, part: &str| -> Result<Map<String, Value>, MpError> {
        let bytes = B64URL
            .decode(part)
            .map_err(|e| MpError::invalid_assertion(format!("JWT {name} is not base64url: {e}")))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(MpError::invalid_assertion(format!(
                "JWT {name} is not a JSON object"
            ))),
            Err(e) => Err(MpError::invalid_assertion(format!(
                "JWT {name} is not JSON: {e}"
            ))),
        }
    };
    let header = json_part("header", h)?;
    let claims = json_part("claims", c)?;
    let signature = B64URL
        .decode(s)
        .map_err(|e| MpError::invalid_assertion(format!("JWT signature is not base64url: {e}")))?;
    Ok(Assertion {
        signing_input: format!("{h}.{c}"),
        header,
        claims,
        signature,
    })
}

/// Check 3: only RS256, RS384 and RS512 are supported.
pub(crate) fn check_algorithm(assertion: &Assertion) -> Result<&'static RsaParameters, MpError> {
    match assertion.header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Ok(&signature::RSA_PKCS1_2048_8192_SHA256),
        Some("RS384") => Ok(&signature::RSA_PKCS1_2048_8192_SHA384),
        Some("RS512") => Ok(&signature::RSA_PKCS1_2048_8192_SHA512),
        Some(other) => Err(MpError::invalid_assertion(format!(
            "unsupported JWT header alg {other:?} (supported: RS256, RS384, RS512)"
        ))),
        None => Err(MpError::invalid_assertion("JWT header alg is missing")),
    }
}

/// Check 4: `x5c` must be a JSON array of strings.
pub(crate) fn check_x5c_shape(assertion: &Assertion) -> Result<(), MpError> {
    match assertion.header.get("x5c") {
        None => Ok(()),
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {
            Ok(())
        }
        Some(Value::Array(_)) => Err(MpError::bad_x5c(
            "x5c must be a non-empty array of base64 certificates",
        )),
        Some(_) => Err(MpError::bad_x5c("x5c must be an array, not a single value")),
    }
}

/// Check 5: undocumented claims are rejected, except those the contract
/// profile's `[maskinporten] accept_claims` tolerates (Digdir documents a 400
/// for any undocumented claim [D docs.digdir.no `maskinporten_protocol_jwtgrant`],
/// yet nais/texas, used in production, sends `nbf` [C nais/texas]; what real
/// Maskinporten does is unknown, so it is a setting). A tolerated claim is
/// only tolerated, not checked.
pub(crate) fn check_known_claims(
    assertion: &Assertion,
    accepted: &std::collections::BTreeSet<String>,
) -> Result<(), MpError> {
    let unknown: Vec<&str> = assertion
        .claims
        .keys()
        .map(String::as_str)
        .filter(|k| !DOCUMENTED_CLAIMS.contains(k) && !accepted.contains(*k))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(MpError::invalid_assertion(format!(
            "undocumented claim(s) {}",
            unknown.join(", ")
        )))
    }
}

/// Check 6: required claims with the right types.
pub(crate) fn parse_claims(assertion: &Assertion) -> Result<GrantClaims, MpError> {
    let c = &assertion.claims;
    let string = |name: &str| -> Result<Option<String>, MpError> {
        match c.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(MpError::invalid_assertion(format!(
                "claim {name} must be a string"
            ))),
        }
    };
    let required = |name: &str| -> Result<String, MpError> {
        string(name)?.ok_or_else(|| MpError::invalid_assertion(format!("claim {name} is missing")))
    };
    let number = |name: &str| -> Result<i64, MpError> {
        match c.get(name) {
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f.floor() as i64))
                .ok_or_else(|| MpError::invalid_assertion(format!("claim {name} is not a number"))),
            Some(_) => Err(MpError::invalid_assertion(format!(
                "claim {name} must be a NumericDate"
            ))),
            None => Err(MpError::invalid_assertion(format!(
                "claim {name} is missing"
            ))),
        }
    };
    // A non-string `aud` (e.g. an array) can never equal the issuer: MP-110, not MP-011.
    let aud = match c.get("aud") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(MpError::wrong_audience()),
        None => return Err(MpError::invalid_assertion("claim aud is missing")),
    };
    let scope = required("scope")?;
    let scopes: Vec<String> = scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return Err(MpError::invalid_assertion("claim scope is empty"));
    }
    let resource = match c.get("resource") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(Value::String(s.clone())),
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_string) => {
            Some(Value::Array(items.clone()))
        }
        Some(_) => {
            return Err(MpError::invalid_assertion(
                "claim resource must be a string or a non-empty array of strings",
            ));
        }
    };
    let consumer_org = string("consumer_org")?;
    if consumer_org.is_some() && c.contains_key("iss_onbehalfof") {
        return Err(MpError::invalid_assertion(
            "consumer_org and iss_onbehalfof cannot be used together",
        ));
    }
    let authorization_details = match c.get("authorization_details") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(m) => Ok(m.clone()),
                    _ => Err(MpError::rar(
                        "MP-303",
                        format!("Invalid authorization_details: entry {i} is not a JSON object"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => {
            return Err(MpError::rar(
                "MP-303",
                "Invalid authorization_details: must be a JSON array".into(),
            ));
        }
    };
    Ok(GrantClaims {
        aud,
        iss: required("iss")?,
        iat: number("iat")?,
        exp: number("exp")?,
        jti: string("jti")?,
        scopes,
        resource,
        pid: string("pid")?,
        consumer_org,
        authorization_details,
    })
}

/// Check 7: `aud` must equal the issuer exactly (trailing slash included).
pub(crate) fn check_audience(state: &SimState, claims: &GrantClaims) -> Result<(), MpError> {
    if claims.aud == state.issuer {
        Ok(())
    } else {
        Err(MpError::wrong_audience())
    }
}

/// Check 8: `iss` must be a registered client id.
pub(crate) fn find_client(
    state: &SimState,
    claims: &GrantClaims,
) -> Result<ClientRegistration, MpError> {
    state
        .registry()
        .clients
        .get(&claims.iss)
        .cloned()
        .ok_or_else(|| MpError::client_auth("Client not found"))
}

/// Check 9: pick the verifying key: a registered JWK by `kid`, or the `x5c` leaf.
pub(crate) fn select_key(
    state: &SimState,
    assertion: &Assertion,
    client: &ClientRegistration,
    now: OffsetDateTime,
) -> Result<(VerifyingKey, ClientAmr), MpError> {
    let kid = assertion.header.get("kid").and_then(Value::as_str);
    if !client.keys.is_empty() {
        let Some(kid) = kid else {
            return Err(MpError::client_auth(
                "The client requires pre-registered jwk and no key identifier (kid) provided",
            ));
        };
        let jwk = client
            .key(kid)
            .ok_or_else(|| MpError::client_auth("Unknown key identifier (kid) for client"))?;
        crate::selfservice::check_key_expiry(jwk, now)?;
        let component = |name: &str| {
            jwk.get(name)
                .and_then(Value::as_str)
                .and_then(|v| B64URL.decode(v).ok())
                .ok_or_else(|| MpError::bad_signature(Some("the registered key is unusable")))
        };
        let key = VerifyingKey::Components {
            n: component("n")?,
            e: component("e")?,
        };
        return Ok((key, ClientAmr::PrivateKeyJwt));
    }
    let Some(Value::Array(x5c)) = assertion.header.get("x5c") else {
        return Err(match kid {
            Some(_) => MpError::client_auth("Unknown key identifier (kid) for client"),
            None => MpError::bad_x5c(
                "this client authenticates with a business certificate: send its chain in x5c",
            ),
        });
    };
    let chain = x5c
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .and_then(|s| {
                    STANDARD
                        .decode(s)
                        .or_else(|_| general_purpose::URL_SAFE.decode(s))
                        .ok()
                })
                .ok_or_else(|| MpError::bad_x5c(&format!("x5c[{i}] is not base64")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = state
        .ca
        .verify_chain(state.environment, &chain, now)
        .map_err(|e| match e {
            ChainError::Malformed(d) => MpError::bad_x5c(&d),
            ChainError::OtherEnvironment => MpError::wrong_environment_certificate(),
            ChainError::Untrusted(d) => {
                MpError::bad_signature(Some(&format!("Untrusted certificate: {d}")))
            }
            ChainError::Expired(d) => {
                MpError::bad_signature(Some(&format!("Certificate expired: {d}")))
            }
        })?;
    if leaf.org_no.as_deref() != Some(client.org_no.as_str()) {
        return Err(MpError::certificate_org_mismatch());
    }
    Ok((
        VerifyingKey::Der(leaf.rsa_public_key_der),
        ClientAmr::BusinessCertificate,
    ))
}

/// Check 10: the signature must verify with the selected key and algorithm.
pub(crate) fn check_signature(
    assertion: &Assertion,
    params: &'static RsaParameters,
    key: &VerifyingKey,
) -> Result<(), MpError> {
    let msg = assertion.signing_input.as_bytes();
    let ok = match key {
        VerifyingKey::Components { n, e } => RsaPublicKeyComponents { n, e }
            .verify(params, msg, &assertion.signature)
            .is_ok(),
        VerifyingKey::Der(der) => UnparsedPublicKey::new(params, der)
            .verify(msg, &assertion.signature)
            .is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(MpError::bad_signature(None))
    }
}

/// Check 11: expiry, lifetime and issue time, with [`SKEW_SECS`] of tolerance.
pub(crate) fn check_times(claims: &GrantClaims, now: OffsetDateTime) -> Result<(), MpError> {
    let now = now.unix_timestamp();
    if now - SKEW_SECS > claims.exp {
        return Err(MpError::timing("JWT is expired"));
    }
    if claims.exp < claims.iat {
        return Err(MpError::invalid_assertion("claim exp is before iat"));
    }
    if claims.exp - claims.iat > MAX_LIFETIME_SECS {
        return Err(MpError::timing("JWT has too long lifetime"));
    }
    if claims.iat > now + SKEW_SECS {
        return Err(MpError::timing("Issue time is after now"));
    }
    Ok(())
}

/// Check 12: a `jti` may be used once; it is remembered until `exp` + skew.
pub(crate) fn check_replay(
    state: &SimState,
    client: &ClientRegistration,
    claims: &GrantClaims,
    now: OffsetDateTime,
) -> Result<(), MpError> {
    let Some(jti) = &claims.jti else {
        return Ok(());
    };
    let key = format!("{}\n{jti}", client.client_id);
    let forget_at = OffsetDateTime::from_unix_timestamp(claims.exp)
        .unwrap_or(now)
        .saturating_add(Duration::seconds(SKEW_SECS));
    let mut used = state.used_jtis.lock().unwrap_or_else(|e| e.into_inner());
    used.retain(|_, until| *until >= now);
    if used.contains_key(&key) {
        return Err(MpError::replayed());
    }
    used.insert(key, forget_at);
    Ok(())
}

/// Check 13: `consumer_org` must be a valid org number other than the client's own.
pub(crate) fn check_consumer_org(
    claims: &GrantClaims,
    client: &ClientRegistration,
) -> Result<Option<String>, MpError> {
    let Some(org) = &claims.consumer_org else {
        return Ok(None);
    };
    if !is_valid_org_no(org) {
        return Err(MpError::invalid_assertion(format!(
            "consumer_org {org:?} is not a valid organisation number"
        )));
    }
    if *org == client.org_no {
        return Err(MpError::consumer_org_is_own_org());
    }
    Ok(Some(org.clone()))
}

/// Check 14: every scope must be registered on the client (MP-200) unless the
/// consumer delegated it to the client's org (else MP-251), and be granted to the
/// consumer (MP-250).
pub(crate) fn check_scopes(
    state: &SimState,
    claims: &GrantClaims,
    client: &ClientRegistration,
    consumer_org: Option<&str>,
) -> Result<(), MpError> {
    let registry = state.registry();
    let mut seen = HashSet::new();
    for scope in claims.scopes.iter().filter(|s| seen.insert(s.as_str())) {
        let consumer = match consumer_org {
            Some(consumer) => {
                if !registry.is_delegated(consumer, &client.org_no, scope) {
                    return Err(MpError::not_delegated(consumer, scope, &client.org_no));
                }
                consumer
            }
            None => {
                if !client.scopes.iter().any(|s| s == scope) {
                    return Err(MpError::scope_not_on_client(scope));
                }
                client.org_no.as_str()
            }
        };
        if !registry.is_granted(consumer, scope) {
            return Err(MpError::scope_not_granted(scope));
        }
    }
    Ok(())
}

/// Check 15: `authorization_details` has known types (MP-301), known fields
/// (MP-302) and valid values (MP-303). Returns the entries to put in the token.
pub(crate) fn check_authorization_details(
    claims: &GrantClaims,
    client: &ClientRegistration,
) -> Result<Option<Vec<Value>>, MpError> {
    let Some(entries) = &claims.authorization_details else {
        return Ok(None);
    };
    entries
        .iter()
        .enumerate()
        .map(
            |(i, entry)| match entry.get("type").and_then(Value::as_str) {
                Some(RAR_SYSTEMUSER) => systemuser_entry(i, entry, client),
                Some(RAR_CONSENT) => consent_entry(i, entry),
                Some(other) => Err(MpError::rar(
                    "MP-301",
                    format!("Unknown authorization_details type {other:?}"),
                )),
                None => Err(MpError::rar(
                    "MP-303",
                    format!("Invalid authorization_details[{i}]: type is missing"),
                )),
            },
        )
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn unknown_fields(i: usize, entry: &Map<String, Value>, allowed: &[&str]) -> Result<(), MpError> {
    match entry.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(MpError::rar(
            "MP-302",
            format!("Unknown field {k:?} in authorization_details[{i}]"),
        )),
        None => Ok(()),
    }
}

fn systemuser_entry(
    i: usize,
    entry: &Map<String, Value>,
    client: &ClientRegistration,
) -> Result<Value, MpError> {
    unknown_fields(i, entry, &["type", "systemuser_org", "externalRef"])?;
    let invalid = |what: &str| {
        MpError::rar(
            "MP-303",
            format!("Invalid authorization_details[{i}]: {what}"),
        )
    };
    let org = entry
        .get("systemuser_org")
        .ok_or_else(|| invalid("systemuser_org is missing"))?;
    let authority = org.get("authority").and_then(Value::as_str);
    let id = org.get("ID").and_then(Value::as_str);
    let org_no = match (authority, id.and_then(|id| id.strip_prefix("0192:"))) {
        (Some("iso6523-actorid-upis"), Some(org_no)) if is_valid_org_no(org_no) => org_no,
        _ => {
            return Err(invalid(
                "systemuser_org must be {\"authority\":\"iso6523-actorid-upis\",\"ID\":\"0192:<orgno>\"}",
            ));
        }
    };
    if let Some(ext) = entry.get("externalRef") {
        let valid = ext.as_str().is_some_and(|s| {
            !s.is_empty()
                && s.chars().count() <= 255
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "øØæÆåÅ_-".contains(c))
        });
        if !valid {
            return Err(MpError::rar(
                "MP-302",
                format!(
                    "Invalid externalRef in authorization_details[{i}]: up to 255 of [a-zA-Z0-9øØæÆåÅ_-]"
                ),
            ));
        }
    }
    // The token names the system user; externalRef is not echoed (as observed upstream).
    let system_id = format!("{}_system", client.client_id);
    let ext = entry
        .get("externalRef")
        .and_then(Value::as_str)
        .unwrap_or(org_no);
    Ok(serde_json::json!({
        "type": RAR_SYSTEMUSER,
        "systemuser_id": [systemuser_id(&client.client_id, org_no, ext)],
        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{org_no}")},
        "system_id": system_id,
    }))
}

/// A stable UUID-shaped id for (system, customer, externalRef), so repeated
/// requests name the same system user.
fn systemuser_id(client_id: &str, org_no: &str, external_ref: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("{client_id}\n{org_no}\n{external_ref}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn consent_entry(i: usize, entry: &Map<String, Value>) -> Result<Value, MpError> {
    unknown_fields(i, entry, &["type", "id", "from"])?;
    let field = |name: &str| entry.get(name).and_then(Value::as_str);
    match (field("id"), field("from")) {
        (Some(id), Some(from))
            if uuid::Uuid::parse_str(id).is_ok() && from.starts_with("urn:altinn:") =>
        {
            Ok(Value::Object(entry.clone()))
        }
        _ => Err(MpError::rar(
            "MP-303",
            format!(
                "Invalid authorization_details[{i}]: consent needs a UUID id and an urn:altinn: from"
            ),
        )),
    }
}

impl MpError {
    fn with_description(mut self, text: &str) -> Self {
        self.description = text.to_owned();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, exp: i64) -> GrantClaims {
        GrantClaims {
            aud: String::new(),
            iss: String::new(),
            iat,
            exp,
            jti: None,
            scopes: vec!["s".into()],
            resource: None,
            pid: None,
            consumer_org: None,
            authorization_details: None,
        }
    }

    fn timing_text(iat: i64, exp: i64, now: i64) -> Option<String> {
        let now = OffsetDateTime::from_unix_timestamp(now).unwrap();
        check_times(&claims(iat, exp), now)
            .err()
            .map(|e| e.description)
    }

    #[test]
    fn time_checks_use_ten_seconds_of_skew() {
        let t = 1_800_000_000;
        assert_eq!(timing_text(t, t + 120, t), None);
        assert_eq!(
            timing_text(t, t + 121, t).as_deref(),
            Some("JWT has too long lifetime")
        );
        assert_eq!(timing_text(t + 10, t + 60, t), None);
        assert_eq!(
            timing_text(t + 11, t + 60, t).as_deref(),
            Some("Issue time is after now")
        );
        assert_eq!(timing_text(t - 60, t - 10, t), None);
        assert_eq!(
            timing_text(t - 60, t - 11, t).as_deref(),
            Some("JWT is expired")
        );
        assert!(timing_text(t, t - 1, t).is_some_and(|d| d.contains("exp is before iat")));
    }

    #[test]
    fn system_user_ids_are_stable_per_external_ref() {
        let a = systemuser_id("c", "310000000", "x");
        assert_eq!(a, systemuser_id("c", "310000000", "x"));
        assert_ne!(a, systemuser_id("c", "310000000", "y"));
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}

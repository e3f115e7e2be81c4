//! Toll tokens: issued by the exchange, checked on every API call.
//!
//! Toll tokens are opaque random strings (32 random bytes, base64url). Only their
//! SHA-256 hash is kept, so neither `Debug` output of the state nor a lookup
//! table ever holds a usable token.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use serde_json::json;
use sha2::Digest as _;
use time::OffsetDateTime;

use digitoll_model::TransportMode;

/// What the simulator remembers about an issued Toll token.
#[derive(Debug, Clone)]
pub(crate) struct TollToken {
    /// The consumer organisation of the Maskinporten token.
    pub(crate) org: String,
    /// The Maskinporten token's scopes.
    pub(crate) scopes: Vec<String>,
    /// Expiry on the sim clock.
    pub(crate) expires_at: OffsetDateTime,
}

/// Issued tokens by SHA-256 hash.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    tokens: Mutex<HashMap<[u8; 32], TollToken>>,
}

fn hash(token: &str) -> [u8; 32] {
    sha2::Sha256::digest(token.as_bytes()).into()
}

impl TokenStore {
    /// Issues a new random token for `info`; expired tokens are forgotten on the way.
    pub(crate) fn issue(&self, info: TollToken, now: OffsetDateTime) -> SecretString {
        let mut bytes = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.retain(|_, t| t.expires_at > now);
        tokens.insert(hash(&token), info);
        SecretString::from(token)
    }

    fn find(&self, token: &str) -> Option<TollToken> {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash(token))
            .cloned()
    }
}

/// The authenticated caller of a Toll API.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// Its organisation number.
    pub(crate) org: String,
    /// The movement API called (road for the non-movement APIs).
    pub(crate) mode: TransportMode,
}

/// A 401/403 answer.
pub(crate) fn auth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    let challenge = format!("Bearer error=\"{error}\", error_description=\"{description}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Checks the Bearer Toll token and the scope of `mode`'s movement API.
pub(crate) fn authenticate_mode(
    tokens: &TokenStore,
    headers: &HeaderMap,
    now: OffsetDateTime,
    mode: TransportMode,
) -> Result<Caller, Box<Response>> {
    let org = authenticate(tokens, headers, now, &[mode.scope(), mode.eu_scope()])?;
    Ok(Caller { org, mode })
}

/// Checks the Bearer Toll token and that it carries one of `scopes` (the
/// first is named in the 403); returns the caller's organisation.
pub(crate) fn authenticate(
    tokens: &TokenStore,
    headers: &HeaderMap,
    now: OffsetDateTime,
    scopes: &[&str],
) -> Result<String, Box<Response>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Box::new(auth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "missing Authorization: Bearer <Toll token>",
        )));
    };
    let value = value.to_str().unwrap_or_default();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(Box::new(auth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the Authorization header is not a Bearer token",
            )));
        }
    };
    let Some(info) = tokens.find(token) else {
        return Err(Box::new(auth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "unknown access token (send the Toll token from the token exchange, not the Maskinporten token)",
        )));
    };
    if info.expires_at <= now {
        return Err(Box::new(auth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token has expired",
        )));
    }
    if !info.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
        return Err(Box::new(auth_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            &format!(
                "requires scope {}",
                scopes.first().copied().unwrap_or_default()
            ),
        )));
    }
    Ok(info.org)
}

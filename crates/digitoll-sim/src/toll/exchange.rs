//! `POST /api/access/external/oauth/token`: Maskinporten token → Toll token.
//!
//! The form is `grant_type=token-exchange&subject_token_type=access_token&subject_token=<token>`
//! (digitoll-api.md §4 step 5, \[D S21\]). The subject token must be an access token
//! this simulator issued: an RS256 JWT whose `kid` is the sim's signing key, whose
//! signature verifies against that key, whose `iss` is the sim's issuer and whose
//! `exp` has not passed on the sim clock. Answers:
//!
//! - 200 `{"issued_token_type":"access_token","access_token","token_type":"Bearer","expires_in"}`
//!   (`expires_in` 970 s by default, like Toll's example);
//! - 400 `{"error":"unsupported_grant_type"}` or `{"error":"invalid_request"}` for a
//!   malformed form \[I\];
//! - 401 `{"error":"invalid_token","error_description"}` for a bad, foreign or
//!   expired subject token.
//!
//! The Toll token carries the Maskinporten token's scopes and consumer organisation
//! (`consumer.ID` = `0192:<orgno>`); the scope is checked on each API call.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use super::auth::{TollToken, auth_error};
use super::paths::mount;
use crate::state::SimState;
use digitoll_model::profile::ContractProfile;

pub(super) fn routes(profile: &ContractProfile) -> Router<Arc<SimState>> {
    mount(Router::new(), profile, "token-exchange", exchange)
}

fn bad_request(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn invalid_token(description: &str) -> Response {
    auth_error(StatusCode::UNAUTHORIZED, "invalid_token", description)
}

async fn exchange(State(state): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return bad_request(
            "invalid_request",
            &format!(
                "the token exchange must be application/x-www-form-urlencoded, not {content_type:?}"
            ),
        );
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match field("grant_type") {
        Some("token-exchange") => {}
        Some(other) => {
            return bad_request(
                "unsupported_grant_type",
                &format!("grant_type: {other:?} is not supported; use token-exchange"),
            );
        }
        None => return bad_request("invalid_request", "grant_type: missing"),
    }
    match field("subject_token_type") {
        Some("access_token") => {}
        Some(other) => {
            return bad_request(
                "invalid_request",
                &format!("subject_token_type: {other:?} is not supported; use access_token"),
            );
        }
        None => return bad_request("invalid_request", "subject_token_type: missing"),
    }
    let Some(subject) = field("subject_token").filter(|t| !t.is_empty()) else {
        return bad_request("invalid_request", "subject_token: missing");
    };
    let now = state.clock.now();
    let claims = match verify_subject_token(&state, subject, now) {
        Ok(claims) => claims,
        Err(description) => {
            tracing::debug!(%description, "token exchange rejected");
            return invalid_token(&description);
        }
    };
    let lifetime = state.toll.config().token_lifetime;
    let token = state.toll.tokens.issue(
        TollToken {
            org: claims.org,
            scopes: claims.scopes,
            expires_at: now + lifetime,
        },
        now,
    );
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "issued_token_type": "access_token",
            "access_token": token.expose_secret(),
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
        })),
    )
        .into_response()
}

/// What the exchange takes from a verified Maskinporten token.
#[derive(Debug)]
struct SubjectClaims {
    org: String,
    scopes: Vec<String>,
}

/// Verifies that `token` is a current access token issued by this simulator.
/// The error is the `error_description` (it never contains the token).
fn verify_subject_token(
    state: &SimState,
    token: &str,
    now: time::OffsetDateTime,
) -> Result<SubjectClaims, String> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| format!("subject_token is not a signed JWT: {e}"))?;
    if header.alg != jsonwebtoken::Algorithm::RS256 {
        return Err(format!(
            "subject_token: alg {:?} is not RS256, so it was not issued by Maskinporten",
            header.alg
        ));
    }
    if header.kid.as_deref() != Some(state.signer.kid()) {
        return Err(
            "subject_token: kid does not name a Maskinporten signing key (token from another issuer?)"
                .into(),
        );
    }
    let key = state
        .signer
        .decoding_key()
        .map_err(|e| format!("server: {e}"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    // Times are checked on the sim clock below, not on the system clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|e| format!("subject_token: signature or claims do not verify: {e}"))?
        .claims;
    let iss = claims["iss"].as_str().unwrap_or_default();
    if iss != state.issuer {
        return Err(format!(
            "subject_token: issuer {iss:?} is not the trusted Maskinporten issuer {:?}",
            state.issuer
        ));
    }
    let Some(exp) = claims["exp"].as_i64() else {
        return Err("subject_token: exp claim missing".into());
    };
    if exp <= now.unix_timestamp() {
        return Err(format!(
            "subject_token: expired at {} (now {})",
            fmt_unix(exp),
            fmt_unix(now.unix_timestamp())
        ));
    }
    let org = claims["consumer"]["ID"]
        .as_str()
        .and_then(|id| id.strip_prefix("0192:"))
        .filter(|org| !org.is_empty())
        .ok_or("subject_token: consumer.ID (0192:<orgno>) missing")?
        .to_owned();
    let scopes = claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    Ok(SubjectClaims { org, scopes })
}

fn fmt_unix(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(|t| digitoll_model::TollInstant::from(t).to_string())
        .unwrap_or_else(|_| secs.to_string())
}

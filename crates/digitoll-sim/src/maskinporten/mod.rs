//! The Maskinporten endpoints: metadata, `/jwk` and `POST /token`.
//!
//! Grants are judged in [`grant`] (one function per documented check); accepted
//! grants get a self-contained RS256 access token signed with the simulator's own
//! key, whose public half `/jwk` publishes with its `kid`.

mod error;
pub(crate) mod grant;

use std::fmt;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use sha2::Digest as _;

pub(crate) use error::MpError;
use grant::AcceptedGrant;

use crate::SimError;
use crate::keys::RsaPrivateKey;
use crate::state::SimState;

/// The sim's token-signing key and its public JWK.
pub(crate) struct TokenSigner {
    encoding_key: EncodingKey,
    kid: String,
    jwk: Value,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// Uses `key`; the `kid` is the key's RFC 7638 thumbprint.
    pub(crate) fn new(key: &RsaPrivateKey) -> Result<Self, SimError> {
        let encoding_key = EncodingKey::from_rsa_pem(key.pkcs8_pem().expose_secret().as_bytes())
            .map_err(|e| SimError::Crypto(format!("loading the token-signing key: {e}")))?;
        let mut jwk = key.public_jwk("");
        let thumbprint_input = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            jwk["e"].as_str().unwrap_or_default(),
            jwk["n"].as_str().unwrap_or_default()
        );
        let kid = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(thumbprint_input));
        jwk["kid"] = json!(kid);
        Ok(Self {
            encoding_key,
            kid,
            jwk,
        })
    }

    /// The `kid` in issued tokens' headers.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a `jsonwebtoken` decoding key, so the Toll token
    /// exchange can verify access tokens this simulator issued.
    pub(crate) fn decoding_key(&self) -> Result<jsonwebtoken::DecodingKey, SimError> {
        jsonwebtoken::DecodingKey::from_rsa_components(
            self.jwk["n"].as_str().unwrap_or_default(),
            self.jwk["e"].as_str().unwrap_or_default(),
        )
        .map_err(|e| SimError::Crypto(format!("loading the token-verification key: {e}")))
    }

    fn sign(&self, claims: &Value) -> Result<String, SimError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding_key)
            .map_err(|e| SimError::Crypto(format!("signing an access token: {e}")))
    }
}

/// Routes for the Maskinporten endpoints.
pub(crate) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(well_known))
        .route("/jwk", get(jwks))
        .route("/token", post(token))
        .route("/health", get(|| async { "OK" }))
}

/// RFC 8414 metadata shaped like Maskinporten's.
async fn well_known(State(state): State<Arc<SimState>>) -> Json<Value> {
    Json(json!({
        "issuer": state.issuer,
        "token_endpoint": format!("{}token", state.issuer),
        "jwks_uri": format!("{}jwk", state.issuer),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "grant_types_supported": [grant::JWT_BEARER],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512"],
        "authorization_details_types_supported": [grant::RAR_SYSTEMUSER, grant::RAR_CONSENT],
    }))
}

/// The public key(s) that verify access tokens.
async fn jwks(State(state): State<Arc<SimState>>) -> Json<Value> {
    Json(json!({ "keys": [state.signer.jwk] }))
}

/// `POST /token`: judge the grant, then issue an access token.
async fn token(State(state): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return MpError::invalid_assertion(format!(
            "the token request must be application/x-www-form-urlencoded, not {content_type:?}"
        ))
        .into_response_with(&state.issuer);
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let accepted = match grant::judge(&state, &form) {
        Ok(accepted) => accepted,
        Err(e) => {
            tracing::debug!(code = ?e.code, description = %e.description, "grant rejected");
            return e.into_response_with(&state.issuer);
        }
    };
    match issue(&state, &accepted) {
        Ok(body) => ([("cache-control", "no-store")], Json(body)).into_response(),
        Err(e) => (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "server_error", "error_description": e.to_string()})),
        )
            .into_response(),
    }
}

fn party(org_no: &str) -> Value {
    json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{org_no}")})
}

/// Builds and signs the access token and the token response.
fn issue(state: &SimState, grant: &AcceptedGrant) -> Result<Value, SimError> {
    let now = state.clock.now().unix_timestamp();
    let lifetime = state.token_lifetime().as_secs();
    let expires_in = i64::try_from(lifetime).unwrap_or(i64::MAX);
    let scope = grant.claims.scopes.join(" ");
    let mut claims = json!({
        "iss": state.issuer,
        "client_id": grant.client.client_id,
        "client_amr": grant.amr.as_str(),
        "token_type": "Bearer",
        "aud": grant.claims.resource.clone().unwrap_or_else(|| json!("unspecified")),
        "scope": scope,
        "consumer": party(&grant.consumer_org),
        "iat": now,
        "exp": now.saturating_add(expires_in),
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    if let Some(supplier) = &grant.supplier_org {
        claims["supplier"] = party(supplier);
        claims["delegation_source"] = json!(match state.environment {
            crate::CertEnvironment::Test => "https://tt02.altinn.no",
            crate::CertEnvironment::Prod => "https://www.altinn.no",
        });
    }
    if let Some(details) = &grant.authorization_details {
        claims["authorization_details"] = json!(details);
    }
    if let Some(pid) = &grant.claims.pid {
        claims["pid"] = json!(pid);
    }
    let access_token = state.signer.sign(&claims)?;
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scope,
    }))
}

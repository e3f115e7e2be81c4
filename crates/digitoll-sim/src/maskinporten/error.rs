//! Maskinporten's error answers.
//!
//! Body: `{"error", "error_description" (ending in "(trace_id: <hex>)"), "error_uri"}`
//! where `error_uri` is `<issuer>errors/MP-xxx`, as seen from the real service.
//! HTTP status is 400 for every rejection except MP-250 and MP-251, which the
//! troubleshooting page labels "Forbidden"; the simulator answers those with 403
//! and `error` = `access_denied`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::RngCore as _;
use serde_json::json;

/// One rejected token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MpError {
    pub(crate) status: StatusCode,
    /// OAuth error code (`invalid_grant`, `invalid_request`, …).
    pub(crate) error: &'static str,
    /// Maskinporten code such as `MP-110`, if the docs name one.
    pub(crate) code: Option<&'static str>,
    /// Human text without the trace id.
    pub(crate) description: String,
}

impl MpError {
    fn new(
        error: &'static str,
        code: Option<&'static str>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            code,
            description: description.into(),
        }
    }

    /// `grant_type` is not the JWT bearer grant (no MP code in the docs).
    pub(crate) fn unsupported_grant_type(got: &str) -> Self {
        Self::new(
            "unsupported_grant_type",
            None,
            format!(
                "Unsupported grant_type {got:?}: use urn:ietf:params:oauth:grant-type:jwt-bearer"
            ),
        )
    }

    /// MP-011: malformed assertion, unknown claims or invalid values.
    pub(crate) fn invalid_assertion(detail: impl AsRef<str>) -> Self {
        Self::new(
            "invalid_request",
            Some("MP-011"),
            format!(
                "Invalid assertion. Invalid parameter value: {}",
                detail.as_ref()
            ),
        )
    }

    /// MP-012: the `jti` was used before.
    pub(crate) fn replayed() -> Self {
        Self::new("invalid_grant", Some("MP-012"), "Grant is used before")
    }

    /// MP-100: client unknown or client authentication failed (also used for `kid` problems).
    pub(crate) fn client_auth(detail: &str) -> Self {
        Self::new(
            "invalid_grant",
            Some("MP-100"),
            format!("Invalid assertion. Client authentication failed. {detail}"),
        )
    }

    /// MP-110: `aud` is not the issuer.
    pub(crate) fn wrong_audience() -> Self {
        Self::new(
            "invalid_grant",
            Some("MP-110"),
            "Invalid assertion. Client authentication failed. Invalid JWT claim aud",
        )
    }

    /// MP-120: certificate from the other environment.
    pub(crate) fn wrong_environment_certificate() -> Self {
        Self::new(
            "invalid_grant",
            Some("MP-120"),
            "Invalid assertion. Client authentication failed. The JWT is signed with an invalid certificate.",
        )
    }

    /// MP-122: certificate org differs from the client's org.
    pub(crate) fn certificate_org_mismatch() -> Self {
        Self::new(
            "invalid_grant",
            Some("MP-122"),
            "Invalid organization number for client. Does not match certificate orgno",
        )
    }

    /// MP-123: `x5c` is not an array of base64 certificates.
    pub(crate) fn bad_x5c(detail: &str) -> Self {
        Self::new(
            "invalid_grant",
            Some("MP-123"),
            format!("Invalid JWT header x5c. {detail}"),
        )
    }

    /// MP-124: bad signature, untrusted chain or expired certificate.
    pub(crate) fn bad_signature(detail: Option<&str>) -> Self {
        let text = match detail {
            Some(d) => format!("Invalid JWT signature. {d}"),
            None => "Invalid JWT signature".to_owned(),
        };
        Self::new("invalid_grant", Some("MP-124"), text)
    }

    /// MP-130: timing (`JWT is expired`, `JWT has too long lifetime`, `Issue time is after now`).
    pub(crate) fn timing(text: &str) -> Self {
        Self::new("invalid_grant", Some("MP-130"), text)
    }

    /// `consumer_org` equals the client's own organisation.
    pub(crate) fn consumer_org_is_own_org() -> Self {
        Self::new(
            "invalid_request",
            Some("MP-011"),
            "Invalid assertion. combination consumer_org in claim and delegation scope on client is invalid",
        )
    }

    /// MP-200: scope not registered on the client.
    pub(crate) fn scope_not_on_client(scope: &str) -> Self {
        Self::new(
            "invalid_scope",
            Some("MP-200"),
            format!("Token request contains invalid scopes for client, {scope}"),
        )
    }

    /// MP-250: the API owner has not granted the consumer the scope.
    pub(crate) fn scope_not_granted(scope: &str) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            ..Self::new(
                "access_denied",
                Some("MP-250"),
                format!("Consumer has not been granted access to the scope {scope}"),
            )
        }
    }

    /// MP-251: no Altinn delegation from consumer to supplier for the scope.
    pub(crate) fn not_delegated(consumer: &str, scope: &str, supplier: &str) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            ..Self::new(
                "access_denied",
                Some("MP-251"),
                format!(
                    "Consumer {consumer} has not delegated access to the scope {scope} to supplier {supplier}"
                ),
            )
        }
    }

    /// MP-301/302/303: authorization_details problems.
    pub(crate) fn rar(code: &'static str, description: String) -> Self {
        Self::new("invalid_authorization_details", Some(code), description)
    }

    /// The `error_description` with a fresh trace id appended.
    pub(crate) fn into_response_with(self, issuer: &str) -> Response {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let trace_id = hex::encode(bytes);
        let mut body = json!({
            "error": self.error,
            "error_description": format!("{} (trace_id: {trace_id})", self.description),
        });
        if let Some(code) = self.code {
            body["error_uri"] = json!(format!("{issuer}errors/{code}"));
        }
        (self.status, [("cache-control", "no-store")], Json(body)).into_response()
    }
}

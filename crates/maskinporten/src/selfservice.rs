//! Digdir's self-service API for Maskinporten clients
//! (`https://api[.test].samarbeid.digdir.no/api/v1/clients`): list, read and
//! create clients, change their scopes, manage their public keys (JWKS), warn
//! before keys expire, and rotate a key without downtime.
//!
//! The API is called with a Maskinporten token of a separate **admin client**
//! (authenticated with the business certificate) holding the scopes
//! [`SCOPE_READ`], [`SCOPE_MODIFY`] and [`SCOPE_WRITE`], granted by
//! servicedesk@digdir.no. Each call asks for the one scope it needs, through
//! any [`TokenProvider`] (normally a [`crate::MaskinportenClient`] for the admin
//! client), so tokens are cached and renewed as usual.
//!
//! Rules the API enforces and this client checks before sending:
//!
//! - at most [`MAX_KEYS`] keys per client, and a POST/PUT of the JWKS
//!   **replaces the whole set**: to add a key, send the old keys and the new one;
//! - every key needs `kty` (`RSA`), `kid` (alphanumerics and `._-`, unique),
//!   `alg` (RS256/384/512), `use` (mandatory since 2025-05), `n` and `e`;
//! - the last key cannot be removed with an empty set: it takes
//!   `DELETE /clients/{id}/jwks` ([`SelfServiceClient::delete_jwks`]);
//! - a key lives at most one year after it was posted; the API returns each
//!   key's `exp`, and [`key_expiry`] says how many days are left.
//!
//! A changed key set reaches the token endpoint within 0–2 minutes, so
//! [`rotate_key`] registers the new key next to the old one, waits until
//! Maskinporten issues a token for a grant signed with the new key, switches
//! a [`RotatingSigner`] to it, waits a grace period and only then removes the
//! old key.
//!
//! ```no_run
//! use std::sync::Arc;
//! use maskinporten::selfservice::{NewClient, SelfServiceClient, SelfServiceEnvironment};
//! use maskinporten::{Environment, MaskinportenClient, RsaSigner};
//! use secrecy::SecretString;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let admin_signer = RsaSigner::from_pkcs12_file("virksomhet.p12", &SecretString::from("pw"))?;
//! let admin = MaskinportenClient::builder(Environment::Test, "admin-client-id", Arc::new(admin_signer))
//!     .build()?;
//! let api = SelfServiceClient::new(SelfServiceEnvironment::Test, Arc::new(admin))?;
//! let created = api
//!     .create_maskinporten_client(&NewClient::new("Digitoll", "Toll road API", ["toll:movement/road/v2"]))
//!     .await?;
//! let pair = maskinporten::generate_key_pair(2048, maskinporten::Algorithm::RS256)?;
//! api.add_key(&created.client_id, pair.public_jwk.try_into()?).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

use crate::client::{JWT_BEARER_GRANT_TYPE, MaskinportenClient, error_chain};
use crate::env::Environment;
use crate::provider::TokenProvider;
use crate::request::TokenRequest;
use crate::rotating::RotatingSigner;
use crate::signer::{KeyBinding, Signer};

/// Scope for reading clients and keys.
pub const SCOPE_READ: &str = "idporten:dcr.read";
/// Scope for changing existing clients (scopes, keys).
pub const SCOPE_MODIFY: &str = "idporten:dcr.modify";
/// Scope for creating clients.
pub const SCOPE_WRITE: &str = "idporten:dcr.write";
/// The admin scopes, in the order [`SCOPE_READ`], [`SCOPE_MODIFY`], [`SCOPE_WRITE`].
pub const ADMIN_SCOPES: [&str; 3] = [SCOPE_READ, SCOPE_MODIFY, SCOPE_WRITE];
/// Maskinporten's limit on keys per client.
pub const MAX_KEYS: usize = 5;
/// How long a key is valid after it was posted (re-posting renews it).
pub const KEY_LIFETIME: time::Duration = time::Duration::days(365);
/// `integration_type` of a Maskinporten client.
pub const INTEGRATION_TYPE: &str = "maskinporten";
/// `token_endpoint_auth_method` of a Maskinporten client.
pub const AUTH_METHOD: &str = "private_key_jwt";

/// Where the self-service API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelfServiceEnvironment {
    /// `https://api.samarbeid.digdir.no/api/v1/`.
    Prod,
    /// `https://api.test.samarbeid.digdir.no/api/v1/`.
    Test,
    /// Any base URL ending in `/api/v1/` (e.g. the digitoll simulator).
    Custom(Url),
}

impl SelfServiceEnvironment {
    /// The environment that manages clients of the Maskinporten environment
    /// `env`. For a custom issuer (the simulator) the API is expected under
    /// `<issuer>api/v1/`.
    ///
    /// # Errors
    /// [`SelfServiceError::Config`] if a custom issuer is not a URL.
    pub fn for_maskinporten(env: &Environment) -> Result<Self, SelfServiceError> {
        Ok(match env {
            Environment::Prod => Self::Prod,
            Environment::Test => Self::Test,
            other => {
                let issuer = other.issuer();
                let base = if issuer.ends_with('/') {
                    issuer.to_owned()
                } else {
                    format!("{issuer}/")
                };
                let url = Url::parse(&base)
                    .and_then(|u| u.join("api/v1/"))
                    .map_err(|e| {
                        SelfServiceError::Config(format!("issuer {issuer:?} is not a URL: {e}"))
                    })?;
                Self::Custom(url)
            }
        })
    }

    /// The API base URL, ending in `/api/v1/`.
    pub fn base_url(&self) -> Url {
        match self {
            // Both constants are valid URLs (unit-tested).
            Self::Prod => Url::parse("https://api.samarbeid.digdir.no/api/v1/")
                .unwrap_or_else(|_| unreachable!()),
            Self::Test => Url::parse("https://api.test.samarbeid.digdir.no/api/v1/")
                .unwrap_or_else(|_| unreachable!()),
            Self::Custom(u) => {
                let mut u = u.clone();
                if !u.path().ends_with('/') {
                    let p = format!("{}/", u.path());
                    u.set_path(&p);
                }
                u
            }
        }
    }
}

/// What went wrong talking to the self-service API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SelfServiceError {
    /// Invalid configuration (base URL, HTTP client).
    #[error("self-service configuration: {0}")]
    Config(String),
    /// The admin client could not get a Maskinporten token.
    #[error("admin token for the self-service API: {0}")]
    Token(#[source] crate::Error),
    /// The request failed before a response (connect, TLS, timeout).
    #[error("{method} {url} failed: {message}")]
    Http {
        /// HTTP method.
        method: &'static str,
        /// URL called.
        url: String,
        /// Transport error with its causes.
        message: String,
    },
    /// 401/403: the admin token was refused or lacks the scope.
    #[error(
        "{method} {url} answered {status}: {}; the admin client needs the scope {scope} (granted by servicedesk@digdir.no)",
        .detail.as_deref().unwrap_or("not allowed")
    )]
    Unauthorized {
        /// HTTP method.
        method: &'static str,
        /// URL called.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The scope the call used.
        scope: &'static str,
        /// `error_description` or body text.
        detail: Option<String>,
    },
    /// 404: no such client (or it belongs to another organisation).
    #[error("{url}: not found (no such client for this organisation)")]
    NotFound {
        /// URL called.
        url: String,
    },
    /// Any other error status; `error`/`error_description` when the body had them.
    #[error("{method} {url} answered HTTP {status}: {}", describe(.error.as_deref(), .description.as_deref(), .body))]
    Api {
        /// HTTP method.
        method: &'static str,
        /// URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// `error` of the body.
        error: Option<String>,
        /// `error_description` of the body.
        description: Option<String>,
        /// The body text (at most 2000 characters).
        body: String,
    },
    /// A response could not be parsed.
    #[error("cannot parse the answer of {url}: {reason}")]
    InvalidResponse {
        /// URL called.
        url: String,
        /// The parse error with its JSON path.
        reason: String,
    },
    /// A key is not acceptable to the API; nothing was sent.
    #[error("keys[{index}].{field}: {reason}")]
    InvalidKey {
        /// Position in the set.
        index: usize,
        /// The JWK member.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The set would have more than [`MAX_KEYS`] keys; nothing was sent.
    #[error(
        "client {client_id} would have {count} keys; Maskinporten allows at most {MAX_KEYS}: remove an old key first"
    )]
    TooManyKeys {
        /// The client.
        client_id: String,
        /// Keys in the set that was refused.
        count: usize,
    },
    /// A key with this `kid` is already registered.
    #[error("client {client_id} already has a key with kid {kid:?}")]
    DuplicateKid {
        /// The client.
        client_id: String,
        /// The `kid`.
        kid: String,
    },
    /// No key with this `kid` is registered.
    #[error("client {client_id} has no key with kid {kid:?}")]
    UnknownKid {
        /// The client.
        client_id: String,
        /// The `kid`.
        kid: String,
    },
    /// An empty key set cannot be posted; use `delete_jwks`.
    #[error(
        "an empty key set cannot be posted for client {client_id}: the last key is removed with DELETE /clients/{client_id}/jwks"
    )]
    EmptyKeySet {
        /// The client.
        client_id: String,
    },
    /// Key rotation: Maskinporten did not accept the new key in time.
    #[error(
        "the new key {kid:?} was registered but Maskinporten did not accept it within {waited:?} ({probes} attempts); the old key is still in use. Last answer: {last}"
    )]
    Propagation {
        /// The new key's `kid`.
        kid: String,
        /// How long the rotation waited.
        waited: Duration,
        /// Token requests made with the new key.
        probes: u32,
        /// The last token error.
        last: Box<crate::Error>,
    },
}

fn describe(error: Option<&str>, description: Option<&str>, body: &str) -> String {
    match (error, description) {
        (Some(e), Some(d)) => format!("{e}: {d}"),
        (Some(e), None) => e.to_owned(),
        (None, Some(d)) => d.to_owned(),
        (None, None) if body.is_empty() => "(empty body)".to_owned(),
        (None, None) => body.to_owned(),
    }
}

/// A Maskinporten client as the API shows it. Fields this crate does not
/// model are kept in `extra` and sent back unchanged on update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    /// The client id (a UUID), the grant's `iss`.
    pub client_id: String,
    /// Display name.
    #[serde(default)]
    pub client_name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// `maskinporten` for Maskinporten clients (immutable).
    #[serde(default)]
    pub integration_type: Option<String>,
    /// Registered scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `private_key_jwt`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    /// `["urn:ietf:params:oauth:grant-type:jwt-bearer"]`.
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// The owning organisation.
    #[serde(default)]
    pub client_orgno: Option<String>,
    /// Everything else the API sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A client to create: a Maskinporten client with `private_key_jwt` and the
/// JWT-bearer grant type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    /// Display name.
    pub client_name: String,
    /// Description (shown in Samarbeidsportalen).
    pub description: String,
    /// Scopes to register (each still needs the API owner's grant).
    pub scopes: Vec<String>,
}

impl NewClient {
    /// A new client description.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            client_name: name.into(),
            description: description.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }

    /// The request body.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "integration_type": INTEGRATION_TYPE,
            "application_type": "web",
            "client_name": self.client_name,
            "description": self.description,
            "token_endpoint_auth_method": AUTH_METHOD,
            "grant_types": [JWT_BEARER_GRANT_TYPE],
            "scopes": self.scopes,
        })
    }
}

/// A public JWK as registered on a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwk {
    /// `RSA`.
    pub kty: String,
    /// The key id (unique per client).
    pub kid: String,
    /// `RS256`, `RS384` or `RS512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig`; mandatory for the API since 2025-05.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Modulus (base64url).
    pub n: String,
    /// Exponent (base64url).
    pub e: String,
    /// When the key expires (Unix seconds), as returned by the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Other members (`x5c`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TryFrom<Value> for Jwk {
    type Error = SelfServiceError;

    /// A public JWK from JSON, e.g. [`crate::GeneratedKeyPair::public_jwk`].
    fn try_from(v: Value) -> Result<Self, Self::Error> {
        serde_json::from_value(v).map_err(|e| SelfServiceError::InvalidKey {
            index: 0,
            field: "(document)",
            reason: e.to_string(),
        })
    }
}

impl Jwk {
    /// When the key expires, if the API said.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.exp
            .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok())
    }

    /// Whole days until expiry at `now` (negative once expired).
    pub fn days_left(&self, now: OffsetDateTime) -> Option<i64> {
        self.expires_at().map(|exp| (exp - now).whole_days())
    }

    /// The key as it is posted: without the server-set `exp`.
    fn for_upload(&self) -> Jwk {
        Jwk {
            exp: None,
            ..self.clone()
        }
    }
}

/// Checks a key set the way the API does, before anything is sent.
///
/// # Errors
/// [`SelfServiceError::InvalidKey`], [`SelfServiceError::TooManyKeys`] or
/// [`SelfServiceError::EmptyKeySet`].
pub fn check_key_set(client_id: &str, keys: &[Jwk]) -> Result<(), SelfServiceError> {
    if keys.is_empty() {
        return Err(SelfServiceError::EmptyKeySet {
            client_id: client_id.to_owned(),
        });
    }
    if keys.len() > MAX_KEYS {
        return Err(SelfServiceError::TooManyKeys {
            client_id: client_id.to_owned(),
            count: keys.len(),
        });
    }
    let bad = |index, field, reason: String| SelfServiceError::InvalidKey {
        index,
        field,
        reason,
    };
    let mut kids = std::collections::BTreeSet::new();
    for (i, k) in keys.iter().enumerate() {
        if k.kty != "RSA" {
            return Err(bad(i, "kty", format!("{:?} is not \"RSA\"", k.kty)));
        }
        if k.kid.is_empty()
            || !k
                .kid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(bad(
                i,
                "kid",
                format!("{:?} must be non-empty alphanumerics and ._-", k.kid),
            ));
        }
        if !kids.insert(k.kid.as_str()) {
            return Err(SelfServiceError::DuplicateKid {
                client_id: client_id.to_owned(),
                kid: k.kid.clone(),
            });
        }
        match k.use_.as_deref() {
            Some("sig") => {}
            Some(other) => return Err(bad(i, "use", format!("{other:?} must be \"sig\""))),
            None => {
                return Err(bad(
                    i,
                    "use",
                    "missing; the API requires \"use\":\"sig\" on every key".into(),
                ));
            }
        }
        match k.alg.as_deref() {
            Some("RS256" | "RS384" | "RS512") => {}
            Some(other) => {
                return Err(bad(
                    i,
                    "alg",
                    format!("{other:?} is not RS256, RS384 or RS512"),
                ));
            }
            None => return Err(bad(i, "alg", "missing".into())),
        }
        if k.n.is_empty() {
            return Err(bad(i, "n", "empty".into()));
        }
        if k.e.is_empty() {
            return Err(bad(i, "e", "empty".into()));
        }
    }
    Ok(())
}

/// How close a key is to its one-year expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryStatus {
    /// More than the warning period left.
    Ok,
    /// Expires within the warning period: rotate or re-post it.
    ExpiresSoon,
    /// Expired: Maskinporten answers MP-121.
    Expired,
    /// The API gave no `exp`.
    Unknown,
}

/// One key's expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyExpiry {
    /// The key.
    pub kid: String,
    /// When it expires, if known.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Whole days left (negative once expired).
    pub days_left: Option<i64>,
    /// The verdict.
    pub status: ExpiryStatus,
}

/// The expiry of every key at `now`, warning `warn_within` ahead.
///
/// ```
/// use maskinporten::selfservice::{key_expiry, ExpiryStatus, Jwk};
/// let now = time::OffsetDateTime::now_utc();
/// let jwk: Jwk = serde_json::from_value(serde_json::json!({
///     "kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": "AQAB", "e": "AQAB",
///     "exp": (now + time::Duration::days(10)).unix_timestamp(),
/// })).unwrap();
/// let e = &key_expiry(&[jwk], now, time::Duration::days(30))[0];
/// assert_eq!(e.status, ExpiryStatus::ExpiresSoon);
/// assert_eq!(e.days_left, Some(9));
/// ```
pub fn key_expiry(
    keys: &[Jwk],
    now: OffsetDateTime,
    warn_within: time::Duration,
) -> Vec<KeyExpiry> {
    keys.iter()
        .map(|k| {
            let expires_at = k.expires_at();
            let status = match expires_at {
                None => ExpiryStatus::Unknown,
                Some(at) if at <= now => ExpiryStatus::Expired,
                Some(at) if at - now <= warn_within => ExpiryStatus::ExpiresSoon,
                Some(_) => ExpiryStatus::Ok,
            };
            KeyExpiry {
                kid: k.kid.clone(),
                expires_at,
                days_left: k.days_left(now),
                status,
            }
        })
        .collect()
}

#[derive(Deserialize, Serialize)]
struct JwksBody {
    keys: Vec<Jwk>,
}

/// A client of the self-service API. Cheap to clone.
#[derive(Clone)]
pub struct SelfServiceClient {
    http: reqwest::Client,
    base: Url,
    tokens: Arc<dyn TokenProvider>,
    read: TokenRequest,
    modify: TokenRequest,
    write: TokenRequest,
}

impl fmt::Debug for SelfServiceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelfServiceClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy)]
enum Access {
    Read,
    Modify,
    Write,
}

impl SelfServiceClient {
    /// A client for `env`, authenticated with tokens from `tokens` (the admin
    /// client). The HTTP client times out after 30 s and follows no redirects.
    ///
    /// # Errors
    /// [`SelfServiceError::Config`] if the HTTP client cannot be built.
    pub fn new(
        env: SelfServiceEnvironment,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<Self, SelfServiceError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| SelfServiceError::Config(format!("HTTP client: {}", error_chain(&e))))?;
        Self::with_http(env, tokens, http)
    }

    /// As [`SelfServiceClient::new`] with your own reqwest client.
    ///
    /// # Errors
    /// Never today; kept fallible for configuration checks.
    pub fn with_http(
        env: SelfServiceEnvironment,
        tokens: Arc<dyn TokenProvider>,
        http: reqwest::Client,
    ) -> Result<Self, SelfServiceError> {
        let req = |scope: &str| {
            TokenRequest::for_scopes([scope])
                .map_err(|e| SelfServiceError::Config(format!("token request for {scope}: {e}")))
        };
        Ok(Self {
            http,
            base: env.base_url(),
            tokens,
            read: req(SCOPE_READ)?,
            modify: req(SCOPE_MODIFY)?,
            write: req(SCOPE_WRITE)?,
        })
    }

    /// The API base URL (ending in `/api/v1/`).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut s) = url.path_segments_mut() {
            s.pop_if_empty();
            s.extend(segments);
        }
        url
    }

    fn request_for(&self, access: Access) -> (&TokenRequest, &'static str) {
        match access {
            Access::Read => (&self.read, SCOPE_READ),
            Access::Modify => (&self.modify, SCOPE_MODIFY),
            Access::Write => (&self.write, SCOPE_WRITE),
        }
    }

    /// Sends one request with an admin token; on 401 the token is invalidated
    /// and the request repeated once. Returns status and body.
    async fn send(
        &self,
        method: reqwest::Method,
        url: Url,
        access: Access,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), SelfServiceError> {
        let (request, scope) = self.request_for(access);
        let method_name: &'static str = match method.as_str() {
            "GET" => "GET",
            "POST" => "POST",
            "PUT" => "PUT",
            "DELETE" => "DELETE",
            _ => "REQUEST",
        };
        let mut retried = false;
        loop {
            let token = match self.tokens.cached(request) {
                Some(t) => t,
                None => self
                    .tokens
                    .token(request)
                    .await
                    .map_err(SelfServiceError::Token)?,
            };
            let mut builder = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.secret())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = body {
                builder = builder.json(b);
            }
            let resp = builder.send().await.map_err(|e| SelfServiceError::Http {
                method: method_name,
                url: url.to_string(),
                message: error_chain(&e),
            })?;
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.map_err(|e| SelfServiceError::Http {
                method: method_name,
                url: url.to_string(),
                message: error_chain(&e),
            })?;
            if status == 401 && !retried {
                retried = true;
                self.tokens.invalidate(request, &token);
                continue;
            }
            if (200..300).contains(&status) {
                return Ok((status, bytes.to_vec()));
            }
            let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
            let field = |name: &str| {
                parsed
                    .as_ref()
                    .and_then(|v| v.get(name))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let text: String = String::from_utf8_lossy(&bytes).chars().take(2000).collect();
            return Err(match status {
                401 | 403 => SelfServiceError::Unauthorized {
                    method: method_name,
                    url: url.to_string(),
                    status,
                    scope,
                    detail: field("error_description")
                        .or(field("error"))
                        .or_else(|| (!text.is_empty()).then_some(text)),
                },
                404 => SelfServiceError::NotFound {
                    url: url.to_string(),
                },
                _ => SelfServiceError::Api {
                    method: method_name,
                    url: url.to_string(),
                    status,
                    error: field("error"),
                    description: field("error_description"),
                    body: text,
                },
            });
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: Url,
        access: Access,
        body: Option<&Value>,
    ) -> Result<T, SelfServiceError> {
        let (_, bytes) = self.send(method, url.clone(), access, body).await?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|e| SelfServiceError::InvalidResponse {
            url: url.to_string(),
            reason: format!("at `{}`: {}", e.path(), e.inner()),
        })
    }

    /// `GET /clients`: the organisation's clients.
    ///
    /// # Errors
    /// Token, HTTP and API errors.
    pub async fn list_clients(&self) -> Result<Vec<ClientInfo>, SelfServiceError> {
        self.json(
            reqwest::Method::GET,
            self.url(&["clients"]),
            Access::Read,
            None,
        )
        .await
    }

    /// `GET /clients/{id}`.
    ///
    /// # Errors
    /// [`SelfServiceError::NotFound`] for an unknown client; token, HTTP and API errors.
    pub async fn get_client(&self, client_id: &str) -> Result<ClientInfo, SelfServiceError> {
        self.json(
            reqwest::Method::GET,
            self.url(&["clients", client_id]),
            Access::Read,
            None,
        )
        .await
    }

    /// `POST /clients`: creates a Maskinporten client (`private_key_jwt`, JWT-bearer grant).
    ///
    /// # Errors
    /// [`SelfServiceError::Config`] for an empty name; token, HTTP and API errors.
    pub async fn create_maskinporten_client(
        &self,
        client: &NewClient,
    ) -> Result<ClientInfo, SelfServiceError> {
        if client.client_name.trim().is_empty() {
            return Err(SelfServiceError::Config(
                "client_name: must not be empty".into(),
            ));
        }
        self.json(
            reqwest::Method::POST,
            self.url(&["clients"]),
            Access::Write,
            Some(&client.to_json()),
        )
        .await
    }

    /// `PUT /clients/{id}` with the whole client (the API replaces it).
    ///
    /// # Errors
    /// Token, HTTP and API errors.
    pub async fn update_client(&self, client: &ClientInfo) -> Result<ClientInfo, SelfServiceError> {
        let body = serde_json::to_value(client).map_err(|e| {
            SelfServiceError::Config(format!("client {} as JSON: {e}", client.client_id))
        })?;
        self.json(
            reqwest::Method::PUT,
            self.url(&["clients", &client.client_id]),
            Access::Modify,
            Some(&body),
        )
        .await
    }

    /// Adds scopes to a client (read, merge, PUT). Scopes already there are kept once.
    ///
    /// # Errors
    /// As [`SelfServiceClient::update_client`].
    pub async fn add_scopes(
        &self,
        client_id: &str,
        scopes: &[&str],
    ) -> Result<ClientInfo, SelfServiceError> {
        let mut client = self.get_client(client_id).await?;
        for s in scopes {
            if !client.scopes.iter().any(|x| x == s) {
                client.scopes.push((*s).to_owned());
            }
        }
        self.update_client(&client).await
    }

    /// Removes scopes from a client (read, filter, PUT).
    ///
    /// # Errors
    /// As [`SelfServiceClient::update_client`].
    pub async fn remove_scopes(
        &self,
        client_id: &str,
        scopes: &[&str],
    ) -> Result<ClientInfo, SelfServiceError> {
        let mut client = self.get_client(client_id).await?;
        client.scopes.retain(|s| !scopes.contains(&s.as_str()));
        self.update_client(&client).await
    }

    /// `GET /clients/{id}/jwks`: the registered keys, each with its `exp`.
    ///
    /// # Errors
    /// Token, HTTP and API errors.
    pub async fn get_jwks(&self, client_id: &str) -> Result<Vec<Jwk>, SelfServiceError> {
        let body: JwksBody = self
            .json(
                reqwest::Method::GET,
                self.url(&["clients", client_id, "jwks"]),
                Access::Read,
                None,
            )
            .await?;
        Ok(body.keys)
    }

    /// `POST /clients/{id}/jwks`: **replaces** the whole key set with `keys`
    /// (checked first with [`check_key_set`]). Every key posted gets a new
    /// one-year lifetime.
    ///
    /// # Errors
    /// Local key errors (nothing sent), token, HTTP and API errors.
    pub async fn replace_jwks(
        &self,
        client_id: &str,
        keys: &[Jwk],
    ) -> Result<Vec<Jwk>, SelfServiceError> {
        check_key_set(client_id, keys)?;
        let body =
            serde_json::json!({ "keys": keys.iter().map(Jwk::for_upload).collect::<Vec<_>>() });
        let back: JwksBody = self
            .json(
                reqwest::Method::POST,
                self.url(&["clients", client_id, "jwks"]),
                Access::Modify,
                Some(&body),
            )
            .await?;
        Ok(back.keys)
    }

    /// `DELETE /clients/{id}/jwks`: removes every key (the only way to remove the last one).
    ///
    /// # Errors
    /// Token, HTTP and API errors.
    pub async fn delete_jwks(&self, client_id: &str) -> Result<(), SelfServiceError> {
        self.send(
            reqwest::Method::DELETE,
            self.url(&["clients", client_id, "jwks"]),
            Access::Modify,
            None,
        )
        .await
        .map(|_| ())
    }

    /// Adds `key` next to the registered keys (read, merge, replace). The
    /// existing keys are re-posted as they are, which renews their lifetime.
    ///
    /// # Errors
    /// [`SelfServiceError::DuplicateKid`], [`SelfServiceError::TooManyKeys`]
    /// (nothing sent), token, HTTP and API errors.
    pub async fn add_key(&self, client_id: &str, key: Jwk) -> Result<Vec<Jwk>, SelfServiceError> {
        let mut keys = self.get_jwks(client_id).await?;
        if keys.iter().any(|k| k.kid == key.kid) {
            return Err(SelfServiceError::DuplicateKid {
                client_id: client_id.to_owned(),
                kid: key.kid,
            });
        }
        keys.push(key);
        self.replace_jwks(client_id, &keys).await
    }

    /// Removes the key `kid` (read, filter, replace; DELETE when it was the last one).
    ///
    /// # Errors
    /// [`SelfServiceError::UnknownKid`], token, HTTP and API errors.
    pub async fn remove_key(
        &self,
        client_id: &str,
        kid: &str,
    ) -> Result<Vec<Jwk>, SelfServiceError> {
        let mut keys = self.get_jwks(client_id).await?;
        let before = keys.len();
        keys.retain(|k| k.kid != kid);
        if keys.len() == before {
            return Err(SelfServiceError::UnknownKid {
                client_id: client_id.to_owned(),
                kid: kid.to_owned(),
            });
        }
        if keys.is_empty() {
            self.delete_jwks(client_id).await?;
            return Ok(Vec::new());
        }
        self.replace_jwks(client_id, &keys).await
    }
}

/// Settings for [`rotate_key`].
#[derive(Debug, Clone)]
pub struct RotationConfig {
    /// The token request used to probe the new key: one scope the client has
    /// (and is granted), so a success proves the key works end to end.
    pub probe: TokenRequest,
    /// Time between probes (default 2 s).
    pub poll_interval: Duration,
    /// Give up (keeping the old key in use) after this long (default 150 s:
    /// Digdir documents 0–2 minutes).
    pub propagation_timeout: Duration,
    /// After switching, how long the old key stays registered (default 5
    /// minutes), for grants already in flight and other instances still
    /// signing with it.
    pub grace_period: Duration,
    /// Remove the old key after the grace period (default true).
    pub remove_old: bool,
    /// When the set is full, drop keys that have already expired to make room
    /// (default true). Keys still valid are never dropped.
    pub prune_expired: bool,
}

impl RotationConfig {
    /// Defaults with `probe` as the probe request.
    pub fn new(probe: TokenRequest) -> Self {
        Self {
            probe,
            poll_interval: Duration::from_secs(2),
            propagation_timeout: Duration::from_secs(150),
            grace_period: Duration::from_secs(300),
            remove_old: true,
            prune_expired: true,
        }
    }
}

/// What [`rotate_key`] did.
#[derive(Debug, Clone, Serialize)]
pub struct RotationReport {
    /// The client.
    pub client_id: String,
    /// The `kid` signing before the rotation, if it was a `kid` signer.
    pub old_kid: Option<String>,
    /// The new key's `kid`.
    pub new_kid: String,
    /// Expired keys dropped to make room.
    pub pruned: Vec<String>,
    /// How long until Maskinporten accepted the new key.
    pub propagation: Duration,
    /// Token requests made with the new key.
    pub probes: u32,
    /// Whether the old key was removed.
    pub old_removed: bool,
    /// The key set at the end.
    pub keys: Vec<Jwk>,
}

/// Rotates the signing key of `client` without downtime:
///
/// 1. registers `new_jwk` next to the keys already there (at most
///    [`MAX_KEYS`]; expired keys are pruned if needed and allowed);
/// 2. polls Maskinporten with grants signed by `new_signer` until a token is
///    issued (bounded by [`RotationConfig::propagation_timeout`]); until then
///    `signer` keeps using the old key, which stays registered;
/// 3. swaps `signer` to `new_signer`: every following grant uses the new key;
/// 4. waits [`RotationConfig::grace_period`] and removes the old key.
///
/// `client` must be the [`MaskinportenClient`] built with `signer`. If step 2
/// times out, nothing is switched and the new key stays registered (harmless;
/// run the rotation again or remove it).
///
/// # Errors
/// [`SelfServiceError::Propagation`] when the new key is not accepted in time;
/// API errors from the key changes.
pub async fn rotate_key(
    api: &SelfServiceClient,
    client: &MaskinportenClient,
    signer: &RotatingSigner,
    new_signer: Arc<dyn Signer>,
    new_jwk: Jwk,
    config: &RotationConfig,
) -> Result<RotationReport, SelfServiceError> {
    let client_id = client.client_id().to_owned();
    let old_kid = match signer.load().key_binding() {
        KeyBinding::Kid(k) => Some(k.clone()),
        KeyBinding::X5c(_) => None,
    };
    let new_kid = new_jwk.kid.clone();
    match new_signer.key_binding() {
        KeyBinding::Kid(k) if *k == new_kid => {}
        other => {
            return Err(SelfServiceError::Config(format!(
                "the new signer uses {other:?}, but the new JWK has kid {new_kid:?}"
            )));
        }
    }

    // 1. Merge the new key into the set.
    let mut keys = api.get_jwks(&client_id).await?;
    if keys.iter().any(|k| k.kid == new_kid) {
        return Err(SelfServiceError::DuplicateKid {
            client_id,
            kid: new_kid,
        });
    }
    let mut pruned = Vec::new();
    if keys.len() >= MAX_KEYS && config.prune_expired {
        let now = OffsetDateTime::now_utc();
        keys.retain(|k| {
            let expired = k.expires_at().is_some_and(|e| e <= now);
            if expired && Some(&k.kid) != old_kid.as_ref() {
                pruned.push(k.kid.clone());
                false
            } else {
                true
            }
        });
    }
    keys.push(new_jwk);
    api.replace_jwks(&client_id, &keys).await?;
    tracing::info!(client_id = %client_id, kid = %new_kid, "new key registered; waiting for Maskinporten to accept it");

    // 2. Wait until Maskinporten accepts grants signed with the new key.
    let probe_client = client.with_signer(new_signer.clone());
    let started = Instant::now();
    let mut probes = 0u32;
    loop {
        probes += 1;
        match probe_client.fetch(&config.probe).await {
            Ok(_) => break,
            Err(e) => {
                let waited = started.elapsed();
                // Only a Maskinporten rejection (unknown kid, bad signature)
                // can be propagation; anything else is a real failure.
                let retryable = e.maskinporten().is_some() || e.is_retryable();
                if !retryable || waited + config.poll_interval > config.propagation_timeout {
                    return Err(SelfServiceError::Propagation {
                        kid: new_kid,
                        waited,
                        probes,
                        last: Box::new(e),
                    });
                }
                tracing::debug!(error = %e, probes, "new key not accepted yet");
                tokio::time::sleep(config.poll_interval).await;
            }
        }
    }
    let propagation = started.elapsed();

    // 3. Switch.
    signer.swap(new_signer);
    tracing::info!(client_id = %client_id, kid = %new_kid, ?propagation, "signing with the new key");

    // 4. Grace period, then remove the old key.
    let mut old_removed = false;
    if config.remove_old
        && let Some(old) = old_kid.as_deref().filter(|k| *k != new_kid)
    {
        tokio::time::sleep(config.grace_period).await;
        match api.remove_key(&client_id, old).await {
            Ok(_) => old_removed = true,
            // Someone removed it already: that is the goal.
            Err(SelfServiceError::UnknownKid { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let keys = api.get_jwks(&client_id).await?;
    Ok(RotationReport {
        client_id,
        old_kid,
        new_kid,
        pruned,
        propagation,
        probes,
        old_removed,
        keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(kid: &str) -> Jwk {
        serde_json::from_value(serde_json::json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": "AQAB", "e": "AQAB"
        }))
        .unwrap()
    }

    #[test]
    fn base_urls() {
        assert_eq!(
            SelfServiceEnvironment::Test.base_url().as_str(),
            "https://api.test.samarbeid.digdir.no/api/v1/"
        );
        assert_eq!(
            SelfServiceEnvironment::Prod.base_url().as_str(),
            "https://api.samarbeid.digdir.no/api/v1/"
        );
        let sim = SelfServiceEnvironment::for_maskinporten(&Environment::custom(
            "http://127.0.0.1:4100/",
        ))
        .unwrap();
        assert_eq!(sim.base_url().as_str(), "http://127.0.0.1:4100/api/v1/");
    }

    #[test]
    fn key_set_rules() {
        assert!(check_key_set("c", &[jwk("a"), jwk("b")]).is_ok());
        assert!(matches!(
            check_key_set("c", &[]),
            Err(SelfServiceError::EmptyKeySet { .. })
        ));
        let six: Vec<Jwk> = (0..6).map(|i| jwk(&format!("k{i}"))).collect();
        assert!(matches!(
            check_key_set("c", &six),
            Err(SelfServiceError::TooManyKeys { count: 6, .. })
        ));
        let mut no_use = jwk("a");
        no_use.use_ = None;
        let err = check_key_set("c", &[jwk("x"), no_use]).unwrap_err();
        assert!(err.to_string().starts_with("keys[1].use: missing"), "{err}");
        assert!(matches!(
            check_key_set("c", &[jwk("a"), jwk("a")]),
            Err(SelfServiceError::DuplicateKid { .. })
        ));
        assert!(check_key_set("c", &[jwk("bad kid")]).is_err());
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let v = serde_json::json!({"client_id": "x", "scopes": ["a"], "jwks_uri": "u", "client_orgno": "1"});
        let c: ClientInfo = serde_json::from_value(v).unwrap();
        assert_eq!(c.extra["jwks_uri"], "u");
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["jwks_uri"], "u");
        assert_eq!(back["client_orgno"], "1");
    }
}

//! Digdir's self-service API for Maskinporten clients, under `/api/v1/clients`
//! (maskinporten.md §2.1), as the real `api[.test].samarbeid.digdir.no` behaves:
//!
//! | Method and path | Scope | What |
//! |---|---|---|
//! | `GET /api/v1/clients` | `idporten:dcr.read` | the admin organisation's clients |
//! | `POST /api/v1/clients` | `idporten:dcr.write` | create a client: `integration_type` `maskinporten`, `token_endpoint_auth_method` `private_key_jwt`, `grant_types` with the JWT-bearer grant; answers it with a new UUID `client_id` |
//! | `GET /api/v1/clients/{id}` | `idporten:dcr.read` | one client |
//! | `PUT /api/v1/clients/{id}` | `idporten:dcr.modify` | replace name, description and scopes (`integration_type` is immutable) |
//! | `GET /api/v1/clients/{id}/jwks` | `idporten:dcr.read` | `{"keys":[…]}`, each key with its `exp` |
//! | `POST`/`PUT /api/v1/clients/{id}/jwks` | `idporten:dcr.modify` | **replace the whole set**: 1–5 keys, each with `kty` RSA, unique `kid` (alphanumerics and `._-`), `alg` RS256/384/512, `use` (mandatory), `n`, `e`; every posted key gets `exp` = now + 1 year |
//! | `DELETE /api/v1/clients/{id}/jwks` | `idporten:dcr.modify` | remove every key (the only way to remove the last one; an empty set is refused) |
//!
//! The admin token must be an access token this simulator issued (signature,
//! issuer, `exp` on the sim clock) carrying the scope the call needs
//! (`dcr.write` also allows `dcr.modify` calls); otherwise 401 `invalid_token`
//! or 403 `insufficient_scope`. Only clients of the token's `consumer`
//! organisation are visible (others answer 404).
//!
//! **Propagation.** The API shows a new key set at once, but `/token` uses it
//! only after the propagation delay ([`SimControl::set_key_propagation_delay`],
//! wall clock, default 0 = at once); Digdir documents 0–2 minutes.
//!
//! **Expiry.** Keys uploaded here carry `exp` (upload time on the sim clock +
//! 365 days); a grant signed with a key whose `exp` has passed gets MP-121
//! "Expired key". Keys registered through `/sim/clients` without `exp` never expire.

// Handlers return their error answer directly; boxing it would add noise only.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::SimControl;
use crate::maskinporten::MpError;
use crate::registry::ClientRegistration;
use crate::state::SimState;

/// Scope for reading.
pub const SCOPE_READ: &str = "idporten:dcr.read";
/// Scope for changing clients and keys.
pub const SCOPE_MODIFY: &str = "idporten:dcr.modify";
/// Scope for creating clients.
pub const SCOPE_WRITE: &str = "idporten:dcr.write";
/// Most keys a client may have.
const MAX_KEYS: usize = 5;
/// A key's lifetime after upload.
pub const KEY_LIFETIME: time::Duration = time::Duration::days(365);
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The self-service part of the simulator's state.
#[derive(Debug, Default)]
pub(crate) struct SelfServiceState {
    inner: Mutex<Inner>,
    delay_ms: AtomicU64,
}

#[derive(Debug, Default)]
struct Inner {
    /// The key sets as the API shows them (clients changed through the API).
    api_keys: HashMap<String, Vec<Value>>,
    /// Upload time of each key: `client_id \n kid`.
    uploaded: HashMap<String, OffsetDateTime>,
    /// Per client: the newest key-set version, and the one `/token` uses.
    versions: HashMap<String, (u64, u64)>,
    /// Per client: name and description (not part of the registry).
    meta: HashMap<String, (String, String)>,
}

impl SelfServiceState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn delay(&self) -> StdDuration {
        StdDuration::from_millis(self.delay_ms.load(Ordering::Relaxed))
    }
}

impl MpError {
    /// MP-121: the registered key is older than a year.
    pub(crate) fn expired_key() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_grant",
            code: Some("MP-121"),
            description: "Invalid assertion. Client authentication failed. Expired key".into(),
        }
    }
}

/// Grant check 9, for a registered key: MP-121 once its `exp` has passed.
pub(crate) fn check_key_expiry(jwk: &Value, now: OffsetDateTime) -> Result<(), MpError> {
    match jwk.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp <= now.unix_timestamp() => Err(MpError::expired_key()),
        _ => Ok(()),
    }
}

impl SimControl {
    /// How long a key set changed through the self-service API takes to reach
    /// `/token` (wall clock; default zero: at once).
    pub fn set_key_propagation_delay(&self, delay: StdDuration) {
        self.state
            .selfservice
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    /// When the key `kid` of `client_id` was uploaded through the self-service
    /// API (sim clock).
    pub fn key_uploaded_at(&self, client_id: &str, kid: &str) -> Option<OffsetDateTime> {
        self.state
            .selfservice
            .lock()
            .uploaded
            .get(&format!("{client_id}\n{kid}"))
            .copied()
    }

    /// Registers an admin client of `org_no` for the self-service API: a key
    /// client with the `idporten:dcr.*` scopes, granted to the organisation
    /// (as Digdir's service desk does).
    ///
    /// # Panics
    /// If the registration is invalid.
    pub fn register_admin_client(&self, client_id: &str, org_no: &str, keys: Vec<Value>) {
        self.register_client(ClientRegistration::with_keys(
            client_id,
            org_no,
            [SCOPE_READ, SCOPE_MODIFY, SCOPE_WRITE],
            keys,
        ));
        for s in [SCOPE_READ, SCOPE_MODIFY, SCOPE_WRITE] {
            self.grant_scope(org_no, s);
        }
    }
}

/// Routes under `/api/v1/clients` and `/sim/selfservice/…`.
pub(crate) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/api/v1/clients", get(list).post(create))
        .route("/api/v1/clients/{id}", get(get_one).put(update))
        .route(
            "/api/v1/clients/{id}/jwks",
            get(get_jwks)
                .post(replace_jwks)
                .put(replace_jwks)
                .delete(delete_jwks),
        )
        .route(
            "/sim/selfservice/propagation-delay",
            put(set_delay).get(get_delay),
        )
}

fn error(status: StatusCode, error: &str, description: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description.into()})),
    )
        .into_response()
}

fn bad(description: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("client {id} not found"),
    )
}

/// Checks the bearer token and scope; returns the admin organisation.
fn admin_org(state: &SimState, headers: &HeaderMap, scopes: &[&str]) -> Result<String, Response> {
    let unauthorized = |d: &str| {
        let mut r = error(StatusCode::UNAUTHORIZED, "invalid_token", d);
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        r
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            unauthorized("missing bearer token (a Maskinporten token of the admin client)")
        })?;
    let key = state.signer.decoding_key().map_err(|e| {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            e.to_string(),
        )
    })?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims = Default::default();
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|e| unauthorized(&format!("the token does not verify: {e}")))?
        .claims;
    if claims["iss"].as_str() != Some(state.issuer.as_str()) {
        return Err(unauthorized(
            "the token was not issued by this Maskinporten",
        ));
    }
    if claims["exp"]
        .as_i64()
        .is_none_or(|exp| exp <= state.clock.now().unix_timestamp())
    {
        return Err(unauthorized("the token has expired"));
    }
    let has: Vec<&str> = claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    if !scopes.iter().any(|s| has.contains(s)) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!(
                "this call needs the scope {} (the token has: {})",
                scopes.join(" or "),
                has.join(" ")
            ),
        ));
    }
    claims["consumer"]["ID"]
        .as_str()
        .and_then(|id| id.strip_prefix("0192:"))
        .map(str::to_owned)
        .ok_or_else(|| unauthorized("the token has no consumer organisation"))
}

/// The API's view of a client.
fn client_json(c: &ClientRegistration) -> Value {
    json!({
        "client_id": c.client_id,
        "client_name": format!("Client {}", c.client_id),
        "description": "",
        "integration_type": "maskinporten",
        "application_type": "web",
        "token_endpoint_auth_method": "private_key_jwt",
        "grant_types": [JWT_BEARER],
        "scopes": c.scopes,
        "client_orgno": c.org_no,
    })
}

/// The client with its name and description.
fn with_meta(state: &SimState, c: &ClientRegistration) -> Value {
    let mut v = client_json(c);
    if let Some((name, description)) = state.selfservice.lock().meta.get(&c.client_id) {
        v["client_name"] = json!(name);
        v["description"] = json!(description);
    }
    v
}

fn store_meta(state: &SimState, id: &str, name: &str, description: &str) {
    state
        .selfservice
        .lock()
        .meta
        .insert(id.to_owned(), (name.to_owned(), description.to_owned()));
}

fn own_client(state: &SimState, org: &str, id: &str) -> Result<ClientRegistration, Response> {
    state
        .registry()
        .clients
        .get(id)
        .filter(|c| c.org_no == org)
        .cloned()
        .ok_or_else(|| not_found(id))
}

fn parse(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON: {e}")))
}

async fn list(State(state): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    let org = match admin_org(&state, &headers, &[SCOPE_READ]) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let clients: Vec<ClientRegistration> = state
        .registry()
        .clients
        .values()
        .filter(|c| c.org_no == org)
        .cloned()
        .collect();
    Json(
        clients
            .iter()
            .map(|c| with_meta(&state, c))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

async fn get_one(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let org = match admin_org(&state, &headers, &[SCOPE_READ]) {
        Ok(o) => o,
        Err(r) => return r,
    };
    match own_client(&state, &org, &id) {
        Ok(c) => Json(with_meta(&state, &c)).into_response(),
        Err(r) => r,
    }
}

/// Checks the fields a Maskinporten client must have; returns name, description, scopes.
fn client_fields(v: &Value) -> Result<(String, String, Vec<String>), Response> {
    let s = |name: &str| v.get(name).and_then(Value::as_str);
    match s("integration_type") {
        Some("maskinporten") => {}
        other => {
            return Err(bad(format!(
                "integration_type: {other:?}; a Maskinporten client needs \"maskinporten\""
            )));
        }
    }
    if let Some(m) = s("token_endpoint_auth_method")
        && m != "private_key_jwt"
    {
        return Err(bad(format!(
            "token_endpoint_auth_method: {m:?}; Maskinporten clients use \"private_key_jwt\""
        )));
    }
    if let Some(g) = v.get("grant_types") {
        let ok = g
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(JWT_BEARER)));
        if !ok {
            return Err(bad(format!("grant_types: must contain {JWT_BEARER}")));
        }
    }
    let name = s("client_name").unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(bad("client_name: must not be empty"));
    }
    let scopes = match v.get("scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str()
                    .filter(|x| !x.is_empty() && !x.contains(char::is_whitespace))
                    .map(str::to_owned)
                    .ok_or_else(|| bad(format!("scopes[{i}]: must be one scope without spaces")))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("scopes: must be an array of strings")),
    };
    Ok((
        name,
        s("description").unwrap_or_default().to_owned(),
        scopes,
    ))
}

async fn create(State(state): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let org = match admin_org(&state, &headers, &[SCOPE_WRITE]) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let v = match parse(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (name, description, scopes) = match client_fields(&v) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let id = uuid::Uuid::new_v4().to_string();
    let client = ClientRegistration::with_keys(id.clone(), org, scopes, Vec::new());
    state
        .registry_mut()
        .clients
        .insert(id.clone(), client.clone());
    store_meta(&state, &id, &name, &description);
    (StatusCode::CREATED, Json(with_meta(&state, &client))).into_response()
}

async fn update(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let org = match admin_org(&state, &headers, &[SCOPE_MODIFY, SCOPE_WRITE]) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if let Err(r) = own_client(&state, &org, &id) {
        return r;
    }
    let v = match parse(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if v.get("integration_type").and_then(Value::as_str) != Some("maskinporten") {
        return bad("integration_type: cannot be changed (it is \"maskinporten\")");
    }
    let (name, description, scopes) = match client_fields(&v) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let client = {
        let mut reg = state.registry_mut();
        let Some(c) = reg.clients.get_mut(&id) else {
            return not_found(&id);
        };
        c.scopes = scopes;
        c.clone()
    };
    store_meta(&state, &id, &name, &description);
    Json(with_meta(&state, &client)).into_response()
}

/// The key set the API shows: the API's own view, else the registered keys.
fn api_keys(state: &SimState, client: &ClientRegistration) -> Vec<Value> {
    state
        .selfservice
        .lock()
        .api_keys
        .get(&client.client_id)
        .cloned()
        .unwrap_or_else(|| client.keys.clone())
}

async fn get_jwks(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let org = match admin_org(&state, &headers, &[SCOPE_READ]) {
        Ok(o) => o,
        Err(r) => return r,
    };
    match own_client(&state, &org, &id) {
        Ok(c) => Json(json!({"keys": api_keys(&state, &c)})).into_response(),
        Err(r) => r,
    }
}

/// Checks a posted key set the way the API does (the first problem wins).
fn check_keys(keys: &[Value]) -> Result<(), String> {
    if keys.is_empty() {
        return Err(
            "keys: an empty key set cannot be posted; remove the last key with DELETE /clients/{id}/jwks"
                .into(),
        );
    }
    if keys.len() > MAX_KEYS {
        return Err(format!(
            "keys: {} keys given; a client may have at most {MAX_KEYS}",
            keys.len()
        ));
    }
    let mut kids = std::collections::HashSet::new();
    for (i, k) in keys.iter().enumerate() {
        let f = |n: &str| k.get(n).and_then(Value::as_str);
        if k.get("d").is_some() {
            return Err(format!(
                "keys[{i}]: a private key (member d) must never be uploaded"
            ));
        }
        if f("kty") != Some("RSA") {
            return Err(format!("keys[{i}].kty: must be \"RSA\""));
        }
        let kid = f("kid").unwrap_or_default();
        if kid.is_empty()
            || !kid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(format!(
                "keys[{i}].kid: {kid:?} must be non-empty alphanumerics and ._-"
            ));
        }
        if !kids.insert(kid) {
            return Err(format!("keys[{i}].kid: {kid:?} is used twice"));
        }
        if f("use").is_none() {
            return Err(format!("keys[{i}].use: is mandatory (\"sig\")"));
        }
        if !matches!(f("alg"), Some("RS256" | "RS384" | "RS512")) {
            return Err(format!("keys[{i}].alg: must be RS256, RS384 or RS512"));
        }
        for n in ["n", "e"] {
            if f(n).is_none_or(str::is_empty) {
                return Err(format!("keys[{i}].{n}: missing"));
            }
        }
    }
    Ok(())
}

async fn replace_jwks(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let org = match admin_org(&state, &headers, &[SCOPE_MODIFY, SCOPE_WRITE]) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if let Err(r) = own_client(&state, &org, &id) {
        return r;
    }
    let v = match parse(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(keys) = v.get("keys").and_then(Value::as_array) else {
        return bad("keys: missing; send {\"keys\":[…]}");
    };
    if let Err(e) = check_keys(keys) {
        return bad(e);
    }
    let now = state.clock.now();
    let exp = (now + KEY_LIFETIME).unix_timestamp();
    let stamped: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut k = k.clone();
            k["exp"] = json!(exp);
            k
        })
        .collect();
    {
        let mut inner = state.selfservice.lock();
        for k in &stamped {
            let kid = k["kid"].as_str().unwrap_or_default();
            inner.uploaded.insert(format!("{id}\n{kid}"), now);
        }
    }
    set_keys(&state, &id, stamped.clone());
    Json(json!({"keys": stamped})).into_response()
}

async fn delete_jwks(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let org = match admin_org(&state, &headers, &[SCOPE_MODIFY, SCOPE_WRITE]) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if let Err(r) = own_client(&state, &org, &id) {
        return r;
    }
    set_keys(&state, &id, Vec::new());
    StatusCode::NO_CONTENT.into_response()
}

/// Shows `keys` in the API at once; `/token` uses them after the propagation delay.
fn set_keys(state: &Arc<SimState>, id: &str, keys: Vec<Value>) {
    let version = {
        let mut inner = state.selfservice.lock();
        inner.api_keys.insert(id.to_owned(), keys.clone());
        let v = inner.versions.entry(id.to_owned()).or_default();
        v.0 += 1;
        v.0
    };
    let delay = state.selfservice.delay();
    if delay.is_zero() {
        apply(state, id, version, keys);
    } else {
        let state = state.clone();
        let id = id.to_owned();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            apply(&state, &id, version, keys);
        });
    }
}

/// Puts a key set into the registry `/token` reads, unless a newer one is there.
fn apply(state: &SimState, id: &str, version: u64, keys: Vec<Value>) {
    {
        let mut inner = state.selfservice.lock();
        let v = inner.versions.entry(id.to_owned()).or_default();
        if v.1 >= version {
            return;
        }
        v.1 = version;
    }
    if let Some(c) = state.registry_mut().clients.get_mut(id) {
        c.keys = keys;
    }
}

#[derive(Deserialize)]
struct DelayBody {
    #[serde(default)]
    secs: Option<f64>,
    #[serde(default)]
    millis: Option<u64>,
}

async fn set_delay(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let b: DelayBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad(format!("expected {{\"secs\":n}} or {{\"millis\":n}}: {e}")),
    };
    let ms = match (b.millis, b.secs) {
        (Some(ms), _) => ms,
        (None, Some(s)) if s >= 0.0 && s.is_finite() => (s * 1000.0) as u64,
        _ => return bad("secs: must be a number ≥ 0"),
    };
    SimControl {
        state: state.clone(),
    }
    .set_key_propagation_delay(StdDuration::from_millis(ms));
    Json(json!({"millis": ms})).into_response()
}

async fn get_delay(State(state): State<Arc<SimState>>) -> Response {
    Json(json!({"millis": state.selfservice.delay().as_millis() as u64})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str) -> Value {
        json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": "AQAB", "e": "AQAB"})
    }

    #[test]
    fn key_set_rules() {
        assert!(check_keys(&[key("a")]).is_ok());
        assert!(check_keys(&[]).unwrap_err().contains("DELETE"));
        let six: Vec<Value> = (0..6).map(|i| key(&format!("k{i}"))).collect();
        assert!(check_keys(&six).unwrap_err().contains("at most 5"));
        let mut no_use = key("a");
        no_use.as_object_mut().unwrap().remove("use");
        assert!(check_keys(&[no_use]).unwrap_err().contains("use"));
        assert!(
            check_keys(&[key("a"), key("a")])
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn expired_keys_give_mp_121() {
        let now = OffsetDateTime::now_utc();
        let mut k = key("a");
        assert!(check_key_expiry(&k, now).is_ok());
        k["exp"] = json!(now.unix_timestamp() - 1);
        assert_eq!(check_key_expiry(&k, now).unwrap_err().code, Some("MP-121"));
    }
}

//! Tenant pages (operator only): health from digitoll-doctor's checks (key
//! and certificate expiry, scopes granted, token per scope, Toll exchange,
//! API probes), key rotation and API keys.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use digitoll_client::TollEnvironment;
use digitoll_doctor::{DoctorInput, Report, Status, Subject};
use digitoll_store::{
    ApiKeyId, ApiKeyScope, Environment, TenantId, TenantKeyMaterial, ValidationMode,
};
use maskinporten::{OrgNumber, RsaKey, RsaSigner, Signer};
use secrecy::ExposeSecret;
use serde_json::json;
use time::OffsetDateTime;

use super::{Ctx, Form, Layout, WebError, parse_id};
use crate::state::GatewayState;

/// The last doctor run of a tenant.
#[derive(Debug, Clone)]
pub(crate) struct HealthSnapshot {
    at: OffsetDateTime,
    report: Report,
    last_token: Option<OffsetDateTime>,
}

/// Key validity: Maskinporten keys registered through the self-service API
/// expire after a year; the time the gateway set the key is in the audit log.
async fn key_set_at(state: &GatewayState, tenant: TenantId) -> Option<OffsetDateTime> {
    let log = state.store().audit_log(Some(tenant), 1000).await.ok()?;
    log.iter()
        .filter(|e| e.action == "tenant.create" || e.action == "tenant.rotate_key")
        .map(|e| e.at)
        .max()
}

/// Builds the doctor's input for a stored tenant: the same signer and
/// environments its runtime uses.
async fn doctor_input(state: &GatewayState, tenant: TenantId) -> Result<DoctorInput, WebError> {
    let t = state.store().tenant(tenant).await?;
    let signer: Result<Arc<dyn Signer>, String> = match state.store().tenant_key(tenant).await {
        Ok(TenantKeyMaterial::KeyPair { kid, private_key }) => {
            RsaKey::from_pem(private_key.expose_secret(), None)
                .or_else(|_| RsaKey::from_pkcs8_der(private_key.expose_secret()))
                .map(|k| Arc::new(RsaSigner::with_kid(k, kid)) as Arc<dyn Signer>)
                .map_err(|e| format!("stored private key: {e}"))
        }
        Ok(TenantKeyMaterial::Certificate { p12, password }) => {
            RsaSigner::from_pkcs12(p12.expose_secret(), &password)
                .map(|s| Arc::new(s) as Arc<dyn Signer>)
                .map_err(|e| format!("stored business certificate: {e}"))
        }
        Err(e) => Err(format!("stored key: {e}")),
    };
    let sim = state.config().runtime.sim_base_url.clone();
    let envs = match t.environment {
        Environment::Prod => Ok((maskinporten::Environment::Prod, TollEnvironment::Prod)),
        Environment::Test => Ok((maskinporten::Environment::Test, TollEnvironment::Test)),
        Environment::Sim => match sim.map(|u| u.to_string()).or_else(|| t.issuer_url.clone()) {
            Some(base) => {
                let mut issuer = base.clone();
                if !issuer.ends_with('/') {
                    issuer.push('/');
                }
                TollEnvironment::custom(&base)
                    .map(|toll| (maskinporten::Environment::custom(issuer), toll))
                    .map_err(|e| e.to_string())
            }
            None => Err("a sim tenant needs an issuer URL".to_owned()),
        },
    };
    let envs = envs.map(|(mp, toll)| match (&t.environment, &t.issuer_url) {
        (Environment::Sim, _) | (_, None) => (mp, toll),
        (_, Some(issuer)) => (maskinporten::Environment::custom(issuer.clone()), toll),
    });
    let (subject, toll) = match envs {
        Ok((env, toll)) => (
            Ok(Subject {
                source: format!("tenant {} ({})", t.name, t.id),
                env,
                client_id: t.client_id.clone(),
            }),
            Some(toll),
        ),
        Err(e) => (Err(e), None),
    };
    let mut input = DoctorInput::new(subject, signer);
    input.scopes = t.scopes.clone();
    input.expect_org = OrgNumber::parse(&t.org_number).ok();
    input.toll = toll;
    input.http = Some(state.http().clone());
    if t.kid.is_some() {
        input.key_expires_at = key_set_at(state, tenant)
            .await
            .map(|at| at + time::Duration::days(365));
    }
    Ok(input)
}

/// A tenant row of the list.
#[derive(Debug, Clone)]
pub(crate) struct TenantRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) org: String,
    pub(crate) env: String,
    pub(crate) key_kind: String,
    pub(crate) scopes: String,
    pub(crate) enabled: bool,
    pub(crate) health: String,
    pub(crate) checked: String,
}

#[derive(Template)]
#[template(path = "tenants.html")]
struct TenantsPage {
    l: Layout,
    rows: Vec<TenantRow>,
}

/// `GET /ui/tenants`.
pub(crate) async fn tenants(
    State(state): State<GatewayState>,
    ctx: Ctx,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let health = state
        .web()
        .health
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let rows = state
        .store()
        .tenants()
        .await?
        .into_iter()
        .map(|t| {
            let h = health.get(&t.id);
            TenantRow {
                id: t.id.to_string(),
                name: t.name,
                org: t.org_number,
                env: t.environment.as_str().into(),
                key_kind: t.key_kind.as_str().into(),
                scopes: t.scopes.join(" "),
                enabled: t.enabled,
                health: h
                    .map(|h| h.report.worst().as_str().to_owned())
                    .unwrap_or_default(),
                checked: h.map(|h| super::oslo_text(h.at)).unwrap_or_default(),
            }
        })
        .collect();
    Ok(Html(
        TenantsPage {
            l: ctx.layout("tenants.title", "tenants"),
            rows,
        }
        .render()?,
    )
    .into_response())
}

/// A check as shown.
#[derive(Debug, Clone)]
pub(crate) struct CheckRow {
    pub(crate) title: String,
    pub(crate) status: &'static str,
    pub(crate) detail: String,
    pub(crate) fix: String,
}

#[derive(Template)]
#[template(path = "tenant.html")]
struct TenantPage {
    l: Layout,
    id: String,
    name: String,
    org: String,
    env: String,
    client_id: String,
    key_kind: String,
    scopes: Vec<String>,
    enabled: bool,
    checks: Vec<CheckRow>,
    checked: String,
    last_token: String,
    key_expiry: String,
    keys: Vec<(String, String, String, String, bool)>,
    new_key: String,
    new_jwk: String,
    validation_mode: String,
    /// (mode, selected)
    modes: Vec<(String, bool)>,
    profile: String,
    validation_error: String,
}

async fn render_tenant(
    state: &GatewayState,
    ctx: &Ctx,
    id: TenantId,
    new_key: String,
    new_jwk: String,
) -> Result<Response, WebError> {
    render_tenant_with(state, ctx, id, new_key, new_jwk, None).await
}

/// As [`render_tenant`]; `refused` is a refused validation form (its text
/// and why), shown with a 422.
async fn render_tenant_with(
    state: &GatewayState,
    ctx: &Ctx,
    id: TenantId,
    new_key: String,
    new_jwk: String,
    refused: Option<(String, String)>,
) -> Result<Response, WebError> {
    let t = state.store().tenant(id).await?;
    let snap = state
        .web()
        .health
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned();
    let key_expiry = if t.kid.is_some() {
        key_set_at(state, id)
            .await
            .map(|at| super::oslo_text(at + time::Duration::days(365)))
            .unwrap_or_default()
    } else {
        snap.as_ref()
            .and_then(|s| s.report.get("key_validity"))
            .map(|c| c.detail.clone())
            .unwrap_or_default()
    };
    let keys = state
        .store()
        .api_keys(ApiKeyScope::Tenant(id))
        .await?
        .into_iter()
        .map(|k| {
            (
                k.id.to_string(),
                k.label,
                k.prefix,
                super::oslo_text(k.created_at),
                k.revoked_at.is_some(),
            )
        })
        .collect();
    let page = TenantPage {
        l: ctx.layout("tenant.title", "tenants"),
        id: t.id.to_string(),
        name: t.name.clone(),
        org: t.org_number.clone(),
        env: t.environment.as_str().into(),
        client_id: t.client_id.clone(),
        key_kind: t.key_kind.as_str().into(),
        scopes: t.scopes.clone(),
        enabled: t.enabled,
        checks: snap
            .as_ref()
            .map(|s| {
                s.report
                    .checks
                    .iter()
                    .map(|c| CheckRow {
                        title: c.title.clone(),
                        status: c.status.as_str(),
                        detail: super::pages::redact(&c.detail),
                        fix: c.fix.clone().unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        checked: snap
            .as_ref()
            .map(|s| super::oslo_text(s.at))
            .unwrap_or_default(),
        last_token: snap
            .as_ref()
            .and_then(|s| s.last_token)
            .map(super::oslo_text)
            .unwrap_or_default(),
        key_expiry,
        keys,
        new_key,
        new_jwk,
        validation_mode: t.validation_mode.as_str().into(),
        modes: ValidationMode::ALL
            .iter()
            .map(|m| (m.as_str().to_owned(), *m == t.validation_mode))
            .collect(),
        profile: refused
            .as_ref()
            .map(|(text, _)| text.clone())
            .or_else(|| t.contract_profile.clone())
            .unwrap_or_default(),
        validation_error: refused.map(|(_, e)| e).unwrap_or_default(),
    };
    let status = if page.validation_error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Html(page.render()?),
    )
        .into_response())
}

/// `GET /ui/tenants/{id}`.
pub(crate) async fn tenant(
    State(state): State<GatewayState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let id: TenantId = parse_id(&id)?;
    render_tenant(&state, &ctx, id, String::new(), String::new()).await
}

/// `POST /ui/tenants/{id}/check`: runs the doctor's checks now.
pub(crate) async fn check(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    ctx.check_csrf(&headers, &Form::parse(&body))?;
    let id: TenantId = parse_id(&id)?;
    let input = doctor_input(&state, id).await?;
    let report = digitoll_doctor::run(input).await;
    let now = OffsetDateTime::now_utc();
    let token_ok = report
        .checks
        .iter()
        .any(|c| c.id.starts_with("token:") && c.status == Status::Pass);
    {
        let mut health = state.web().health.lock().unwrap_or_else(|e| e.into_inner());
        let previous = health.get(&id).and_then(|h| h.last_token);
        health.insert(
            id,
            HealthSnapshot {
                at: now,
                report,
                last_token: if token_ok { Some(now) } else { previous },
            },
        );
    }
    Ok(super::see_other(&ctx, &format!("/ui/tenants/{id}")))
}

async fn audit(
    state: &GatewayState,
    ctx: &Ctx,
    tenant: TenantId,
    action: &str,
    detail: serde_json::Value,
) {
    if let Err(e) = state
        .store()
        .audit(digitoll_store::NewAuditEntry {
            tenant_id: Some(tenant),
            actor: format!("dashboard:{}", ctx.principal.actor()),
            action: action.into(),
            detail,
        })
        .await
    {
        tracing::warn!(error = %e, "cannot write the audit log");
    }
}

/// `POST /ui/tenants/{id}/rotate-key`: a new generated key pair; the page
/// shows the public JWK to upload.
pub(crate) async fn rotate(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    ctx.check_csrf(&headers, &Form::parse(&body))?;
    let id: TenantId = parse_id(&id)?;
    state.store().tenant(id).await?;
    let prepared =
        crate::keys::generate_key_pair().map_err(|e| WebError::Internal(e.to_string()))?;
    let tenant = state.store().set_tenant_key(id, prepared.key).await?;
    state.runtimes().invalidate(id).await;
    audit(
        &state,
        &ctx,
        id,
        "tenant.rotate_key",
        json!({"key_kind": tenant.key_kind}),
    )
    .await;
    let jwk = prepared
        .public_jwk
        .map(|j| serde_json::to_string_pretty(&j).unwrap_or_default())
        .unwrap_or_default();
    render_tenant(&state, &ctx, id, String::new(), jwk).await
}

/// `POST /ui/tenants/{id}/api-keys`: a new key, shown once.
pub(crate) async fn create_key(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let form = Form::parse(&body);
    ctx.check_csrf(&headers, &form)?;
    let id: TenantId = parse_id(&id)?;
    state.store().tenant(id).await?;
    let label = match form.text("label") {
        l if l.is_empty() => "dashboard".to_owned(),
        l => l,
    };
    let (info, secret) = state
        .store()
        .create_api_key(ApiKeyScope::Tenant(id), &label)
        .await?;
    audit(
        &state,
        &ctx,
        id,
        "api_key.create",
        json!({"key": info.id, "label": info.label}),
    )
    .await;
    render_tenant(&state, &ctx, id, secret.expose().to_owned(), String::new()).await
}

/// `POST /ui/tenants/{id}/api-keys/{key}/revoke`.
pub(crate) async fn revoke_key(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path((id, key)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    ctx.check_csrf(&headers, &Form::parse(&body))?;
    let id: TenantId = parse_id(&id)?;
    let key: ApiKeyId = parse_id(&key)?;
    state
        .store()
        .revoke_api_key(ApiKeyScope::Tenant(id), key)
        .await?;
    state.auth().clear();
    audit(&state, &ctx, id, "api_key.revoke", json!({"key": key})).await;
    Ok(super::see_other(&ctx, &format!("/ui/tenants/{id}")))
}

/// `POST /ui/tenants/{id}/validation`: the tenant's validation mode and
/// contract profile (TOML; empty removes it). A bad profile is refused with
/// its line and column, and nothing changes.
pub(crate) async fn set_validation(
    State(state): State<GatewayState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, WebError> {
    ctx.require_admin()?;
    let form = Form::parse(&body);
    ctx.check_csrf(&headers, &form)?;
    let id: TenantId = parse_id(&id)?;
    let mode: ValidationMode = form
        .text("mode")
        .parse()
        .map_err(|e: digitoll_store::Error| WebError::BadRequest(e.to_string()))?;
    let text = form.text("profile");
    if !text.is_empty()
        && let Err(e) = crate::validation::parse_tenant_profile(&text)
    {
        return render_tenant_with(
            &state,
            &ctx,
            id,
            String::new(),
            String::new(),
            Some((text, e.to_string())),
        )
        .await;
    }
    let profile = (!text.is_empty()).then(|| format!("{text}\n"));
    state
        .store()
        .update_tenant(
            id,
            digitoll_store::TenantUpdate {
                validation_mode: Some(mode),
                contract_profile: Some(profile),
                ..digitoll_store::TenantUpdate::default()
            },
        )
        .await?;
    state.runtimes().invalidate(id).await;
    state.auth().clear();
    audit(
        &state,
        &ctx,
        id,
        "tenant.update",
        json!({"validation_mode": mode, "contract_profile_changed": true}),
    )
    .await;
    Ok(super::see_other(&ctx, &format!("/ui/tenants/{id}")))
}

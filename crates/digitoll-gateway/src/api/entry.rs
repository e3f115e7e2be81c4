//! The entry side of Digitoll through the gateway: goods presentation
//! (`/v1/presentations`, Toll's presentation API, scope `toll:movement/entry`),
//! arrival at an unmanned border crossing (`/v1/arrivals`, Toll's arrival API,
//! which the client calls with the road scope `toll:movement/road/v2`) and a
//! transport's entry status (`/v1/entry-status/{mrn}`, the mode's scope).
//!
//! These are synchronous pass-throughs with the tenant's own Toll token, like
//! the document upload: nothing is stored in the gateway. Bodies are checked
//! first with digitoll-model's rules (422 with Toll's lists, nothing sent).
//!
//! A presentation carries a **client-chosen** `requestId` and Toll refuses a
//! reused one, which makes it idempotent: the gateway fills in `requestId`
//! from the `Idempotency-Key` header (a UUID derived from the tenant and the
//! key) or a fresh UUID, and a re-sent request with the same id is answered
//! with the earlier presentation's result instead of a second presentation.
//!
//! Validation results are read live from Toll, which answers them only to the
//! organisation that sent the request and answers 404 until it has processed
//! it; the gateway keeps that meaning (404 = not processed yet, or not this
//! tenant's organisation's request).

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use digitoll_client::{
    ArrivalClient, Error as ClientError, PollConfig, PresentationClient, PresentationConfirmation,
    Service,
};
use digitoll_model::entry::{ENTRY_SCOPE, PresentationKind};
use digitoll_model::responses::{EntryStatus, ValidationStatus};
use digitoll_model::{
    Mrn, PlaygroundFixtures, RequestId, ValidationContext, ValidationReport, validate_arrival_json,
    validate_presentation_json,
};
use digitoll_store::TenantId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::{JsonBody, parse_id, tenant_of};
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::message::ApiMode;
use crate::runtime::TenantRuntime;
use crate::state::GatewayState;

/// The header that fixes a presentation's `requestId` (same key, same id).
const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// How long `?wait=true` waits for Toll's validation result before answering
/// 202 with the request still pending.
pub(crate) const WAIT_DEADLINE: Duration = Duration::from_secs(30);

/// Polling of validation status while a request waits (`?wait=true`, and
/// the confirmation of a presentation whose `requestId` Toll already had).
fn poll_config() -> PollConfig {
    PollConfig {
        first_delay: Duration::from_millis(200),
        interval: Duration::from_millis(500),
        max_interval: Duration::from_secs(2),
        deadline: WAIT_DEADLINE,
    }
}

/// A presentation or arrival request and, once Toll processed it, its result.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryRequestView {
    /// Toll's `requestId`: keep it to read the result (and, for a
    /// presentation, to send the same presentation again safely).
    pub request_id: String,
    /// The presentation kind (`house`, `master`, `container`, `receptacle`,
    /// `entry-summary-declaration`); absent for arrivals and status reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `PENDING` until Toll processed it, then Toll's `SUCCESS` or `FAILURE`.
    pub status: String,
    /// True when Toll already had this `requestId` (an earlier send of the
    /// same presentation arrived); the result is the earlier one's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_presented: Option<bool>,
    /// POSTs sent to Toll (more than 1 when responses were lost and the
    /// presentation was re-sent with the same id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// Toll's validation status (`status`, `requestId`, `notificationDate`,
    /// `mrn`, `validationErrorList`, …) once processed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub validation: Option<ValidationStatus>,
}

impl EntryRequestView {
    fn pending(request_id: &RequestId) -> Self {
        Self {
            request_id: request_id.to_string(),
            kind: None,
            status: "PENDING".into(),
            already_presented: None,
            attempts: None,
            validation: None,
        }
    }

    fn processed(status: ValidationStatus) -> Self {
        Self {
            request_id: status.request_id.to_string(),
            kind: None,
            status: status.status.as_str().to_owned(),
            already_presented: None,
            attempts: None,
            validation: Some(status),
        }
    }
}

/// `?wait=true|false` of the POST routes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WaitQuery {
    /// `true`: wait (at most 30 s) for Toll's validation result and answer
    /// 200 with it; 202 when it is still pending then.
    pub wait: Option<String>,
}

impl WaitQuery {
    fn wait(&self) -> Result<bool, ApiError> {
        match self.wait.as_deref() {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1" | "") => Ok(true),
            Some(other) => Err(ApiError::bad_request(
                "invalid_query",
                format!("wait: expected true or false, got {other:?}"),
                Some("wait".into()),
            )),
        }
    }
}

/// `?mode=` of the entry status route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ModeQuery {
    /// The transport's movement API: road (default), air, rail or maritime.
    pub mode: Option<String>,
}

/// The gateway's names of the presentation kinds (Toll's path segments are
/// accepted too, and `ens` for the entry summary declaration).
fn presentation_kind(segment: &str) -> Option<PresentationKind> {
    match segment {
        "house" => Some(PresentationKind::HouseConsignment),
        "master" => Some(PresentationKind::MasterConsignment),
        "ens" => Some(PresentationKind::EntrySummaryDeclaration),
        other => PresentationKind::from_path_segment(other),
    }
}

fn kind_name(kind: PresentationKind) -> &'static str {
    match kind {
        PresentationKind::HouseConsignment => "house",
        PresentationKind::MasterConsignment => "master",
        other => other.path_segment(),
    }
}

/// The tenant's runtime, refusing a tenant that does not hold `scope`.
async fn runtime_with_scope(
    state: &GatewayState,
    tenant: TenantId,
    scope: &str,
    what: &str,
) -> Result<std::sync::Arc<TenantRuntime>, ApiError> {
    let rt = state.runtimes().get(tenant).await?;
    if !rt.tenant.scopes.iter().any(|s| s == scope) {
        return Err(ApiError::Forbidden(format!(
            "the tenant does not hold the scope {scope} that {what} needs; \
             an operator adds it to the tenant (and Toll must grant it to the organisation)"
        )));
    }
    Ok(rt)
}

fn validation_context(playground: bool) -> ValidationContext {
    let ctx = ValidationContext::new(OffsetDateTime::now_utc());
    if playground {
        ctx.with_playground(PlaygroundFixtures::default())
    } else {
        ctx
    }
}

/// A report with errors as the 422 every local check answers with.
fn check(report: &ValidationReport) -> Result<(), ApiError> {
    if report.is_valid() {
        Ok(())
    } else {
        Err(ApiError::Validation {
            sync: report.sync_errors().to_vec(),
            business: report.business_errors().to_vec(),
        })
    }
}

fn malformed(e: &digitoll_model::MalformedJson) -> ApiError {
    ApiError::bad_request(
        "invalid_json",
        format!("the body cannot be read as JSON: {}", e.message),
        Some("body".into()),
    )
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let bad = |m: &str| ApiError::bad_request("invalid_header", m, Some("Idempotency-Key".into()));
    let s = v
        .to_str()
        .map_err(|_| bad("Idempotency-Key must be visible ASCII"))?;
    if s.is_empty() || s.len() > 255 {
        return Err(bad("Idempotency-Key must be 1 to 255 characters"));
    }
    Ok(Some(s.to_owned()))
}

/// The `requestId` an idempotency key stands for: a UUID (version 8) from
/// SHA-256 over the tenant and the key, so the same key of the same tenant
/// always gives the same id and two tenants never share one (Toll's ids are
/// global).
fn request_id_for_key(tenant: TenantId, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"digitoll-gateway presentation requestId\0");
    h.update(tenant.0.as_bytes());
    h.update(key.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Toll's and the client's errors as answers.
fn client_error(what: &str, e: ClientError) -> ApiError {
    match e {
        ClientError::RequestRejected { errors, .. } => ApiError::Validation {
            sync: errors,
            business: Vec::new(),
        },
        ClientError::InvalidInput { field, reason } => {
            ApiError::bad_request("invalid_value", format!("{field}: {reason}"), Some(field))
        }
        ClientError::Forbidden { scope, .. } => ApiError::Forbidden(format!(
            "Toll refused the tenant's token for the {what}: the organisation is not granted \
             scope {scope} at Toll"
        )),
        ClientError::NotFound { .. } => ApiError::NotFound(what.to_owned()),
        ClientError::OutcomeUnknown {
            request_id, cause, ..
        } => ApiError::Upstream(match request_id {
            Some(id) => format!(
                "the outcome of the {what} at Toll is unknown ({cause}); send it again with \
                 requestId {id} (Toll refuses a reused id, so this is safe) or read its validation status"
            ),
            None => format!(
                "the outcome of the {what} at Toll is unknown ({cause}); read the transport's \
                 entry status before sending it again"
            ),
        }),
        other => ApiError::Upstream(format!("the {what} at Toll failed: {other}")),
    }
}

/// 404 for a request Toll has no result for.
fn not_processed(what: &str, request_id: &RequestId) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(ErrorBody {
            error: ErrorDetail {
                code: "not_found",
                message: format!(
                    "no validation result for {what} {request_id}: Toll has not processed it yet, \
                     or it was not sent by this tenant's organisation; poll again"
                ),
                field: None,
            },
            validation_errors: None,
            validation_error_list: None,
        }),
    )
        .into_response()
}

fn with_location(mut resp: Response, path: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(path) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn presentation_client(
    state: &GatewayState,
    rt: &TenantRuntime,
) -> Result<PresentationClient, ApiError> {
    PresentationClient::builder(rt.toll.clone())
        .http_client(state.http().clone())
        .timeout(state.config().runtime.toll_timeout)
        .retry(state.config().runtime.retry)
        .poll(poll_config())
        .playground_rules(rt.playground)
        .build()
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn arrival_client(state: &GatewayState, rt: &TenantRuntime) -> Result<ArrivalClient, ApiError> {
    ArrivalClient::builder(rt.toll.clone())
        .http_client(state.http().clone())
        .timeout(state.config().runtime.toll_timeout)
        .retry(state.config().runtime.retry)
        .poll(poll_config())
        .playground_rules(rt.playground)
        .build()
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Presents goods to customs (Toll's presentation API, scope
/// `toll:movement/entry`), passed through with the tenant's token.
///
/// The body is Toll's presentation body for the kind. `requestId` may be
/// given (a UUID of the client's choosing); otherwise the gateway sets one,
/// derived from `Idempotency-Key` when that header is sent. Sending the same
/// presentation again with the same id (or key) is safe: Toll refuses a
/// reused id, and the answer is the earlier presentation's result
/// (`already_presented: true`).
#[utoipa::path(
    post, path = "/v1/presentations/{kind}", tag = "entry",
    params(
        ("kind" = String, Path, description = "house, master, container, receptacle or entry-summary-declaration (Toll's segments house-consignment, master-consignment are accepted too)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Fixes the requestId (a UUID derived from the tenant and the key) when the body has none; the same key re-sends the same presentation safely"),
        WaitQuery,
    ),
    request_body(content = Object, description = "Toll's presentation body, e.g. {\"customsOfficeOfPresentation\":\"NO371001\",\"consignmentHouseLevel\":{\"transportDocumentHouseLevel\":{\"documentNumber\":\"…\",\"type\":\"N730\"}}}"),
    responses(
        (status = 200, description = "Processed (with ?wait=true, or an already presented requestId): SUCCESS or FAILURE with Toll's validationErrorList", body = EntryRequestView),
        (status = 202, description = "Sent; Toll processes it (read the result at Location)", body = EntryRequestView),
        (status = 400, description = "Malformed JSON, requestId together with Idempotency-Key, bad wait", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The tenant lacks toll:movement/entry", body = ErrorBody),
        (status = 404, description = "Unknown kind", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "Toll would reject it (validationErrors / validationErrorList); nothing sent", body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 502, description = "Toll or Maskinporten failed, or the outcome is unknown (re-send with the same requestId)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn present(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<WaitQuery>,
    JsonBody(mut body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let kind = presentation_kind(&kind).ok_or_else(|| {
        ApiError::NotFound(
            "presentation kind (expected house, master, container, receptacle or entry-summary-declaration)"
                .into(),
        )
    })?;
    let wait = q.wait()?;
    let key = idempotency_key(&headers)?;
    let rt = runtime_with_scope(&state, tenant, ENTRY_SCOPE, "presentation").await?;

    let Some(obj) = body.as_object_mut() else {
        return Err(ApiError::bad_request(
            "invalid_value",
            "body: must be a JSON object (Toll's presentation body)",
            Some("body".into()),
        ));
    };
    let given = obj.get("requestId").is_some_and(|v| !v.is_null());
    match (given, key) {
        (true, Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_header",
                "give the requestId either in the body or through Idempotency-Key, not both",
                Some("Idempotency-Key".into()),
            ));
        }
        (true, None) => {}
        (false, Some(key)) => {
            obj.insert(
                "requestId".into(),
                Value::String(request_id_for_key(tenant, &key)),
            );
        }
        (false, None) => {
            obj.insert(
                "requestId".into(),
                Value::String(PresentationClient::new_request_id().to_string()),
            );
        }
    }
    let text = serde_json::to_string(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let (presentation, report) =
        validate_presentation_json(kind, &text, &validation_context(rt.playground))
            .map_err(|e| malformed(&e))?;
    check(&report)?;

    let client = presentation_client(&state, &rt)?;
    let what = format!("presentation of {}", kind_name(kind));
    let presented = match client.present(kind, &presentation).await {
        Ok(p) => p,
        Err(ClientError::RequestPending { request_id, .. }) => {
            // Toll already had the id but has not processed it within the wait.
            let mut view = EntryRequestView::pending(&request_id);
            view.kind = Some(kind_name(kind).into());
            view.already_presented = Some(true);
            return Ok(accepted_presentation(view));
        }
        Err(e) => return Err(client_error(&what, e)),
    };
    metrics::counter!("digitoll_gateway_presentations_total", "kind" => kind_name(kind))
        .increment(1);
    tracing::info!(tenant = %tenant, kind = kind_name(kind), request_id = %presented.request_id,
        attempts = presented.attempts, "presentation sent");

    let (status, already) = match presented.confirmation {
        PresentationConfirmation::AlreadyPresented(s) => (Some(s), true),
        _ if wait => match client
            .wait_for_validation(kind, &presented.request_id)
            .await
        {
            Ok(s) => (Some(s), false),
            Err(ClientError::RequestPending { .. }) => (None, false),
            Err(e) => return Err(client_error(&what, e)),
        },
        _ => (None, false),
    };
    let mut view = match status {
        Some(s) => EntryRequestView::processed(s),
        None => EntryRequestView::pending(&presented.request_id),
    };
    view.kind = Some(kind_name(kind).into());
    view.already_presented = Some(already);
    view.attempts = Some(presented.attempts);
    if view.validation.is_some() {
        let path = format!("/v1/presentations/validation-status/{}", view.request_id);
        Ok(with_location(
            (StatusCode::OK, Json(view)).into_response(),
            &path,
        ))
    } else {
        Ok(accepted_presentation(view))
    }
}

fn accepted_presentation(view: EntryRequestView) -> Response {
    let path = format!("/v1/presentations/validation-status/{}", view.request_id);
    with_location((StatusCode::ACCEPTED, Json(view)).into_response(), &path)
}

/// A presentation's validation result, read live from Toll.
#[utoipa::path(
    get, path = "/v1/presentations/validation-status/{requestId}", tag = "entry",
    params(("requestId" = String, Path, description = "The presentation's requestId")),
    responses(
        (status = 200, description = "Processed: SUCCESS or FAILURE with Toll's validationErrorList", body = EntryRequestView),
        (status = 403, description = "The tenant lacks toll:movement/entry", body = ErrorBody),
        (status = 404, description = "Not processed yet, or not this tenant's organisation's request (Toll does not tell them apart)", body = ErrorBody),
        (status = 502, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn presentation_status(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let request_id: RequestId = parse_id("presentation", &request_id)?;
    let rt = runtime_with_scope(&state, tenant, ENTRY_SCOPE, "presentation").await?;
    let client = presentation_client(&state, &rt)?;
    match client.validation_status(&request_id).await {
        Ok(Some(s)) => Ok(Json(EntryRequestView::processed(s)).into_response()),
        Ok(None) => Ok(not_processed("presentation", &request_id)),
        Err(e) => Err(client_error("presentation", e)),
    }
}

/// Reports a transport's arrival at an unmanned border crossing (Toll's
/// arrival API; the client uses scope `toll:movement/road/v2`).
///
/// Toll issues the `requestId`; an arrival has no client-chosen id, so a
/// request whose response was lost is not re-sent (502 saying so: read the
/// transport's entry status before sending it again).
#[utoipa::path(
    post, path = "/v1/arrivals", tag = "entry",
    params(WaitQuery),
    request_body(content = Object, description = "{\"transportMRN\":\"…\",\"timeOfArrival\":\"2025-01-01T12:00:00Z\",\"customsOfficeOfArrival\":\"NO371001\"}"),
    responses(
        (status = 200, description = "Processed (?wait=true): SUCCESS or FAILURE with Toll's validationErrorList", body = EntryRequestView),
        (status = 202, description = "Sent; Toll processes it (read the result at Location)", body = EntryRequestView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "The tenant lacks toll:movement/road/v2", body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "Toll would reject it; nothing sent", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 502, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn submit_arrival(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Query(q): Query<WaitQuery>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let wait = q.wait()?;
    let scope = Service::Arrival.scope(false);
    let rt = runtime_with_scope(&state, tenant, scope, "arrival").await?;
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "invalid_value",
            "body: must be a JSON object (Toll's arrival body)",
            Some("body".into()),
        ));
    }
    let text = serde_json::to_string(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let (arrival, report) = validate_arrival_json(&text, &validation_context(rt.playground))
        .map_err(|e| malformed(&e))?;
    check(&report)?;

    let client = arrival_client(&state, &rt)?;
    let request_id = client
        .submit(&arrival)
        .await
        .map_err(|e| client_error("arrival", e))?;
    metrics::counter!("digitoll_gateway_arrivals_total").increment(1);
    tracing::info!(tenant = %tenant, request_id = %request_id, "arrival sent");
    let status = if wait {
        match client.wait_for_validation(&request_id).await {
            Ok(s) => Some(s),
            Err(ClientError::RequestPending { .. }) => None,
            Err(e) => return Err(client_error("arrival", e)),
        }
    } else {
        None
    };
    let path = format!("/v1/arrivals/validation-status/{request_id}");
    Ok(match status {
        Some(s) => with_location(
            (StatusCode::OK, Json(EntryRequestView::processed(s))).into_response(),
            &path,
        ),
        None => with_location(
            (
                StatusCode::ACCEPTED,
                Json(EntryRequestView::pending(&request_id)),
            )
                .into_response(),
            &path,
        ),
    })
}

/// An arrival's validation result, read live from Toll.
#[utoipa::path(
    get, path = "/v1/arrivals/validation-status/{requestId}", tag = "entry",
    params(("requestId" = String, Path, description = "The requestId Toll issued for the arrival")),
    responses(
        (status = 200, description = "Processed: SUCCESS or FAILURE", body = EntryRequestView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Not processed yet, or not this tenant's organisation's request", body = ErrorBody),
        (status = 502, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn arrival_status(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let request_id: RequestId = parse_id("arrival", &request_id)?;
    let rt = runtime_with_scope(&state, tenant, Service::Arrival.scope(false), "arrival").await?;
    let client = arrival_client(&state, &rt)?;
    match client.validation_status(&request_id).await {
        Ok(Some(s)) => Ok(Json(EntryRequestView::processed(s)).into_response()),
        Ok(None) => Ok(not_processed("arrival", &request_id)),
        Err(e) => Err(client_error("arrival", e)),
    }
}

/// A transport's entry status, read live from the mode's query API:
/// `validEntry: true` means the goods may be unloaded.
#[utoipa::path(
    get, path = "/v1/entry-status/{mrn}", tag = "entry",
    params(("mrn" = String, Path, description = "The transport MRN"), ModeQuery),
    responses(
        (status = 200, description = "Toll's entry status ({validEntry, customsOfficeOfEntry, timeOfEntry, mrn})", body = Object),
        (status = 400, body = ErrorBody),
        (status = 403, description = "The tenant lacks the mode's scope", body = ErrorBody),
        (status = 404, description = "Unknown MRN (or not visible to the tenant's organisation)", body = ErrorBody),
        (status = 502, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn entry_status(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(mrn): Path<String>,
    Query(q): Query<ModeQuery>,
) -> Result<Json<EntryStatus>, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let mode: ApiMode = q
        .mode
        .as_deref()
        .unwrap_or("road")
        .parse()
        .map_err(|e: String| ApiError::bad_request("invalid_query", e, Some("mode".into())))?;
    let mrn: Mrn = parse_id("transport", &mrn)?;
    let mode = mode.client_mode();
    let rt = runtime_with_scope(&state, tenant, mode.scope(), "the entry status").await?;
    let client = arrival_client(&state, &rt)?;
    client
        .entry_status(mode, &mrn)
        .await
        .map(Json)
        .map_err(|e| client_error("entry status", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_give_stable_distinct_uuids() {
        let a = TenantId(uuid::Uuid::from_u128(1));
        let b = TenantId(uuid::Uuid::from_u128(2));
        let id = request_id_for_key(a, "order-1");
        assert_eq!(id, request_id_for_key(a, "order-1"));
        assert_ne!(id, request_id_for_key(a, "order-2"));
        assert_ne!(id, request_id_for_key(b, "order-1"));
        assert!(RequestId::parse(&id).is_ok(), "{id}");
    }

    #[test]
    fn kinds_by_gateway_and_toll_names() {
        assert_eq!(
            presentation_kind("house"),
            Some(PresentationKind::HouseConsignment)
        );
        assert_eq!(
            presentation_kind("master-consignment"),
            Some(PresentationKind::MasterConsignment)
        );
        assert_eq!(
            presentation_kind("entry-summary-declaration"),
            Some(PresentationKind::EntrySummaryDeclaration)
        );
        assert_eq!(presentation_kind("pallet"), None);
        for k in PresentationKind::ALL {
            assert_eq!(presentation_kind(kind_name(k)), Some(k));
        }
    }

    #[test]
    fn wait_query() {
        let w = |s: Option<&str>| {
            WaitQuery {
                wait: s.map(str::to_owned),
            }
            .wait()
        };
        assert!(!w(None).expect("none"));
        assert!(w(Some("true")).expect("true"));
        assert!(!w(Some("false")).expect("false"));
        assert!(w(Some("soon")).is_err());
    }
}

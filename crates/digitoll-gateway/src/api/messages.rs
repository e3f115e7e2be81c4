//! `/v1/messages`: submit, update, delete, read, list, and the transport tree.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use digitoll_model::MessageKind;
use digitoll_store::{
    Attempt, Message, MessageFilter, MessageId, MessageState, NewMessage, Operation, StateChange,
    TenantId, ValidationMode,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::{JsonBody, parse_id, tenant_of};
use crate::error::{ApiError, ErrorBody};
use crate::message::{ApiKind, ApiMode, document_fields};
use crate::state::GatewayState;
use crate::validation::{Checked, TenantValidation};
use crate::worker::split_envelope;

/// The header that makes a submission idempotent per tenant.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// `POST /v1/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// The movement API: road, air, rail or maritime.
    pub mode: ApiMode,
    /// transport, master or house.
    pub kind: ApiKind,
    /// The Toll message, exactly as Toll's API takes it.
    #[schema(value_type = Object)]
    pub body: Value,
}

/// A stored message as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    /// The gateway's id (use it in `/v1/messages/{id}`).
    #[schema(value_type = String, format = "uuid")]
    pub id: MessageId,
    /// road, air, rail or maritime.
    pub mode: String,
    /// transport, master or house.
    pub kind: String,
    /// create, update or delete.
    #[schema(value_type = String)]
    pub operation: Operation,
    /// received, queued, sending, submitted, accepted, incomplete, rejected, failed or dead.
    #[schema(value_type = String)]
    pub state: MessageState,
    /// The MRN once Toll accepted the message.
    pub mrn: Option<String>,
    /// Toll's requestId once submitted.
    pub request_id: Option<String>,
    /// For updates and deletes: the MRN they address.
    pub target_mrn: Option<String>,
    /// Document number (a transport's licence plate).
    pub document_number: Option<String>,
    /// Toll's errors (`validationErrors` / `validationErrorList`) or INCOMPLETE reasons.
    #[schema(value_type = Option<Object>)]
    pub validation_errors: Option<Value>,
    /// The tenant's validation mode when the message was accepted: strict,
    /// advisory or off.
    #[schema(value_type = String)]
    pub validation_mode: ValidationMode,
    /// How many findings the gateway's own validation kept (see `local_findings`).
    pub local_finding_count: usize,
    /// The gateway's own validation findings, kept next to Toll's answer
    /// (`state`, `mrn`, `validation_errors`): each `{rule, path, message,
    /// severity (error|warning), channel (sync|business|incomplete)}`. In
    /// strict mode only rules at `warning` (the message passed); in advisory
    /// mode every finding (the message was sent anyway and Toll judged).
    /// Single-message reads and submission answers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub local_findings: Option<Value>,
    /// The client's idempotency key.
    pub idempotency_key: Option<String>,
    /// Dead because the outcome at Toll is unknown: an operator must decide
    /// (details in the history). Only in single-message reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_attention: Option<bool>,
    /// Created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The Toll message (single-message reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub body: Option<Value>,
    /// State history, oldest first (single-message reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub history: Option<Vec<StateChange>>,
    /// Send attempts (single-message reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub attempts: Option<Vec<Attempt>>,
}

impl MessageView {
    /// The full view's findings (`[]` when none).
    pub(crate) fn with_findings(mut self, findings: Option<Value>) -> Self {
        self.local_findings = Some(findings.unwrap_or_else(|| Value::Array(Vec::new())));
        self
    }

    pub(crate) fn summary(m: Message) -> Self {
        // Only the target MRN of an update/delete: cloning the body (as
        // `split_envelope` does) would copy the whole message for every answer.
        let target_mrn = match m.operation {
            Operation::Create => None,
            _ => m.body.get("mrn").and_then(Value::as_str).map(str::to_owned),
        };
        Self {
            id: m.id,
            mode: m.api,
            kind: m.kind,
            operation: m.operation,
            state: m.state,
            mrn: m.mrn,
            request_id: m.request_id,
            target_mrn,
            document_number: m.document_number,
            validation_errors: m.validation_errors,
            validation_mode: m.validation_mode,
            local_finding_count: m
                .local_findings
                .as_ref()
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            local_findings: None,
            idempotency_key: m.idempotency_key,
            needs_attention: None,
            created_at: m.created_at,
            updated_at: m.updated_at,
            body: None,
            history: None,
            attempts: None,
        }
    }
}

/// A page of messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// Newest first.
    pub messages: Vec<MessageView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /v1/messages`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only this state.
    pub state: Option<String>,
    /// Only this kind (transport, master, house).
    pub kind: Option<String>,
    /// Only this mode (road, air, rail, maritime).
    pub mode: Option<String>,
    /// Only messages created at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Only this document number (a transport's licence plate).
    pub document_number: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Checks a message as the tenant's validation mode says (see
/// [`crate::validation`]): 422 with Toll's lists in strict mode when a rule
/// at `error` fails; otherwise the findings to keep with the message.
pub(crate) fn validate(
    mode: ApiMode,
    kind: MessageKind,
    body: &Value,
    validation: &TenantValidation,
    first: bool,
) -> Result<Checked, ApiError> {
    validation.check(mode, kind, body, first)
}

/// The tenant's validation settings (cached with its other facts).
pub(crate) async fn tenant_validation(
    state: &GatewayState,
    tenant: TenantId,
) -> Result<TenantValidation, ApiError> {
    Ok(state.auth().tenant(tenant).await?.validation()?.clone())
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get(IDEMPOTENCY_HEADER) {
        None => Ok(None),
        Some(v) => {
            let s = v.to_str().map_err(|_| {
                ApiError::bad_request(
                    "invalid_header",
                    "Idempotency-Key must be visible ASCII",
                    Some("Idempotency-Key".into()),
                )
            })?;
            if s.is_empty() || s.len() > 255 {
                return Err(ApiError::bad_request(
                    "invalid_header",
                    "Idempotency-Key must be 1 to 255 characters",
                    Some("Idempotency-Key".into()),
                ));
            }
            Ok(Some(s.to_owned()))
        }
    }
}

fn accepted(sub: digitoll_store::Submission) -> Response {
    let replayed = sub.replayed;
    let id = sub.message.id;
    let findings = sub.message.local_findings.clone();
    let mut resp = (
        StatusCode::ACCEPTED,
        Json(MessageView::summary(sub.message).with_findings(findings)),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/messages/{id}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// Submit a message: checked locally with Toll's rules as the tenant's
/// validation mode says (strict: 422, nothing stored; advisory: the findings
/// are stored and the message is sent; off: no rule checks), then stored with
/// its outbox job and its local findings in one transaction (202).
#[utoipa::path(
    post, path = "/v1/messages", tag = "messages",
    request_body = SubmitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the original message; another body with the same key is 409")),
    responses(
        (status = 202, description = "Stored and queued, with its local_findings", body = MessageView),
        (status = 400, description = "Malformed JSON, wrong type, unknown mode or kind, a body that is not the kind it claims (advisory, off)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, description = "Idempotency key reused with another body", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "Strict mode: Toll would reject it (validationErrors / validationErrorList)", body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn submit(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<SubmitRequest>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let key = idempotency_key(&headers)?;
    let validation = tenant_validation(&state, tenant).await?;
    let checked = validate(
        req.mode,
        req.kind.message_kind(),
        &req.body,
        &validation,
        true,
    )?;
    let (document_number, document_type, carrier_id) = document_fields(req.kind, &req.body);
    let sub = state
        .store()
        .submit_message(NewMessage {
            tenant_id: tenant,
            api: req.mode.as_str().into(),
            kind: req.kind.as_str().into(),
            operation: Operation::Create,
            body: req.body,
            document_number,
            document_type,
            carrier_id,
            idempotency_key: key,
            local_findings: checked.stored_findings(),
            validation_mode: checked.mode,
        })
        .await?;
    metrics::counter!("digitoll_gateway_messages_received_total", "api" => req.mode.as_str(), "kind" => req.kind.as_str()).increment(1);
    Ok(accepted(sub))
}

async fn target(
    state: &GatewayState,
    tenant: TenantId,
    id: &str,
) -> Result<(Message, ApiMode, ApiKind, String), ApiError> {
    let id: MessageId = parse_id("message", id)?;
    let original = state.store().message(tenant, id).await?;
    let mode: ApiMode = original.api.parse().map_err(ApiError::Internal)?;
    let kind: ApiKind = original.kind.parse().map_err(ApiError::Internal)?;
    let mrn = original
        .mrn
        .clone()
        .or_else(|| split_envelope(&original).0)
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "message {id} has no MRN yet (state {}); wait until Toll accepted it",
                original.state
            ))
        })?;
    Ok((original, mode, kind, mrn))
}

async fn change(
    state: GatewayState,
    headers: HeaderMap,
    id: String,
    body: Value,
    op: Operation,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let key = idempotency_key(&headers)?;
    let (original, mode, kind, mrn) = target(&state, tenant, &id).await?;
    let validation = tenant_validation(&state, tenant).await?;
    let mk = if op == Operation::Delete {
        MessageKind::Delete
    } else {
        kind.message_kind()
    };
    let checked = validate(mode, mk, &body, &validation, false)?;
    let (document_number, document_type, carrier_id) = if op == Operation::Update {
        document_fields(kind, &body)
    } else {
        (
            original.document_number.clone(),
            original.document_type.clone(),
            original.carrier_id.clone(),
        )
    };
    let sub = state
        .store()
        .submit_message(NewMessage {
            tenant_id: tenant,
            api: mode.as_str().into(),
            kind: kind.as_str().into(),
            operation: op,
            body: json!({ "mrn": mrn, "message": body }),
            document_number,
            document_type,
            carrier_id,
            idempotency_key: key,
            local_findings: checked.stored_findings(),
            validation_mode: checked.mode,
        })
        .await?;
    Ok(accepted(sub))
}

/// Replace a message at Toll (PUT by its MRN): a new message with operation
/// `update`, queued like a submission. The body is the full Toll message.
#[utoipa::path(
    put, path = "/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "The message to replace (must have an MRN)"),
           ("Idempotency-Key" = Option<String>, Header, description = "As for POST")),
    request_body(content = Object, description = "The full replacement Toll message"),
    responses((status = 202, body = MessageView), (status = 404, body = ErrorBody),
              (status = 409, description = "No MRN yet, or idempotency conflict", body = ErrorBody),
              (status = 422, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn update(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    change(state, headers, id, body, Operation::Update).await
}

/// Cancel a message at Toll (DELETE by its MRN): a new message with operation
/// `delete`. The body is Toll's delete body (`documentIssueDate`, …).
#[utoipa::path(
    delete, path = "/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "The message to cancel (must have an MRN)"),
           ("Idempotency-Key" = Option<String>, Header, description = "As for POST")),
    request_body(content = Object, description = "Toll's delete body"),
    responses((status = 202, body = MessageView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn delete(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    change(state, headers, id, body, Operation::Delete).await
}

/// One message with its body, state history and send attempts.
#[utoipa::path(
    get, path = "/v1/messages/{id}", tag = "messages",
    params(("id" = String, Path, description = "Message id")),
    responses((status = 200, body = MessageView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn get_one(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let id: MessageId = parse_id("message", &id)?;
    let m = state.store().message(tenant, id).await?;
    let history = state.store().history(tenant, id).await?;
    let attempts = state.store().attempts(tenant, id).await?;
    let needs_attention = m.state == MessageState::Dead
        && history
            .last()
            .and_then(|h| h.detail.as_deref())
            .is_some_and(|d| d.starts_with("needs attention"));
    let body = split_envelope(&m).1;
    let findings = m.local_findings.clone();
    let mut view = MessageView::summary(m).with_findings(findings);
    view.needs_attention = Some(needs_attention);
    view.body = Some(body);
    view.history = Some(history);
    view.attempts = Some(attempts);
    Ok(Json(view))
}

/// The tenant's messages, newest first, filtered, with cursor pagination.
#[utoipa::path(
    get, path = "/v1/messages", tag = "messages",
    params(ListQuery),
    responses((status = 200, body = MessagePage), (status = 400, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn list(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let bad =
        |field: &str, msg: String| ApiError::bad_request("invalid_query", msg, Some(field.into()));
    let st = q
        .state
        .as_deref()
        .map(str::parse::<MessageState>)
        .transpose()
        .map_err(|e| bad("state", e.to_string()))?;
    let kind = q
        .kind
        .as_deref()
        .map(str::parse::<ApiKind>)
        .transpose()
        .map_err(|e| bad("kind", e))?;
    let mode = q
        .mode
        .as_deref()
        .map(str::parse::<ApiMode>)
        .transpose()
        .map_err(|e| bad("mode", e))?;
    let since = q
        .since
        .as_deref()
        .map(|s| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339))
        .transpose()
        .map_err(|e| bad("since", format!("not an RFC 3339 time: {e}")))?;
    let cursor = q
        .cursor
        .as_deref()
        .map(str::parse::<MessageId>)
        .transpose()
        .map_err(|_| bad("cursor", "not a cursor from a previous page".into()))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(bad("limit", "must be 1 to 200".into()));
    }
    // The store filters by state and document number; the rest is filtered
    // here over the newest 1000 rows (see the README's limits).
    let rows = state
        .store()
        .messages(
            tenant,
            MessageFilter {
                state: st,
                document_number: q.document_number.clone(),
                limit: Some(1000),
            },
        )
        .await?;
    let mut matching = rows
        .into_iter()
        .skip_while(|m| cursor.is_some_and(|c| m.id != c))
        .skip(usize::from(cursor.is_some()))
        .filter(|m| kind.is_none_or(|k| m.kind == k.as_str()))
        .filter(|m| mode.is_none_or(|md| m.api == md.as_str()))
        .filter(|m| since.is_none_or(|s| m.created_at >= s));
    let page: Vec<Message> = matching.by_ref().take(limit as usize).collect();
    let more = matching.next().is_some();
    let next_cursor = if more {
        page.last().map(|m| m.id.to_string())
    } else {
        None
    };
    Ok(Json(MessagePage {
        messages: page.into_iter().map(MessageView::summary).collect(),
        next_cursor,
    }))
}

/// The message's tree at Toll (a transport or master with its linked
/// masters and houses; a house's document status), read live from Toll.
#[utoipa::path(
    get, path = "/v1/messages/{id}/tree", tag = "messages",
    params(("id" = String, Path, description = "Message id (must have an MRN)")),
    responses((status = 200, description = "Toll's status-with-descendants", body = Object),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn tree(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let (_, mode, kind, mrn) = target(&state, tenant, &id).await?;
    let mrn = digitoll_model::Mrn::parse(&mrn).map_err(|e| ApiError::Internal(e.to_string()))?;
    let rt = state.runtimes().get(tenant).await?;
    let client = rt.client(mode.client_mode());
    let upstream = |e: digitoll_client::Error| match e {
        digitoll_client::Error::NotFound { .. } => ApiError::NotFound("tree".into()),
        other => ApiError::Upstream(format!("Toll: {}", other.label())),
    };
    let value = match kind {
        ApiKind::Transport => serde_json::to_value(
            client
                .transport_status_with_descendants(&mrn)
                .await
                .map_err(upstream)?,
        ),
        ApiKind::Master => serde_json::to_value(
            client
                .master_status_with_descendants(&mrn)
                .await
                .map_err(upstream)?,
        ),
        ApiKind::House => {
            serde_json::to_value(client.house_document_status(&mrn).await.map_err(upstream)?)
        }
    }
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(value))
}

//! `GET /v1/messages/by-mrn/{mrn}`: a message found by the MRN Toll gave it,
//! for callers that keep Toll's MRN rather than the gateway's id.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use digitoll_store::MessageState;

use super::messages::MessageView;
use super::tenant_of;
use crate::error::{ApiError, ErrorBody};
use crate::state::GatewayState;
use crate::worker::split_envelope;

/// The tenant's newest message with this MRN (the declaration, or a later
/// update or cancellation sent by that MRN), with body, history and attempts.
/// Another tenant's MRN answers 404 like an unknown one.
#[utoipa::path(
    get, path = "/v1/messages/by-mrn/{mrn}", tag = "messages",
    params(("mrn" = String, Path, description = "The MRN Toll assigned")),
    responses((status = 200, body = MessageView), (status = 404, body = ErrorBody)),
    security(("api_key" = []))
)]
pub(crate) async fn by_mrn(
    State(state): State<GatewayState>,
    headers: HeaderMap,
    Path(mrn): Path<String>,
) -> Result<Json<MessageView>, ApiError> {
    let tenant = tenant_of(&state, &headers).await?;
    let Some(m) = state
        .store()
        .messages_by_mrn(tenant, &mrn)
        .await?
        .into_iter()
        .next()
    else {
        return Err(ApiError::NotFound("message".into()));
    };
    let history = state.store().history(tenant, m.id).await?;
    let attempts = state.store().attempts(tenant, m.id).await?;
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

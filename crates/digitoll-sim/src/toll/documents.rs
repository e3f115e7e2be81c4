//! The document upload API: `POST /api/goodsdeclaration/document/v2/declaration-id/{declarationId}/document`
//! (scope `toll:goodsdeclaration/document.write`, digitoll-api.md §1.10).
//!
//! `multipart/form-data` with the parts `metadata` (`{"documentType":"faktura"}`,
//! Norwegian tokens only on the wire) and then `file`. Answers:
//!
//! | Case | Answer |
//! |---|---|
//! | `declarationId` not `<9–11 digits>-<ddmmyyyy>-<1–6 digits>` | 400 field `declarationId` |
//! | not multipart, `file` before `metadata`, missing part | 400 field `metadata` / `file` |
//! | `metadata` not JSON or unknown `documentType` | 400 field `metadata` / `metadata.documentType` |
//! | empty file | 400 field `file` |
//! | file over 10 MB (10 × 1024 × 1024 bytes) | 413 \[I\] |
//! | content not pdf/jpg/png/txt/docx/xlsx (magic bytes), or a known extension / content type that contradicts the content | 415 \[I\] |
//! | success | 201 `{"documentId","declarationId","documentType","fileName","size"}` \[I\] |
//!
//! The whole file check is `digitoll_model::check_upload`, shared with the
//! client. axum's body limit is raised for this route only (to 10 MB plus
//! 1 MB for the multipart framing); larger bodies are cut off with 413.
//! Uploaded documents' metadata (not their bytes; a SHA-256 instead) is kept
//! for [`crate::SimControl::uploaded_documents`].

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use digitoll_model::documents::{DOCUMENT_SCOPE, DOCUMENT_SCOPE_EU, DocumentUploadResponse};
use digitoll_model::{DeclarationId, DocumentType, FileKind, MAX_DOCUMENT_BYTES, UploadError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest as _;
use time::OffsetDateTime;
use uuid::Uuid;

use super::auth::authenticate;
use super::paths::{Params, mount};
use crate::state::SimState;
use digitoll_model::profile::ContractProfile;

/// Room for the multipart framing and the metadata part above the file limit.
const FRAMING_BYTES: usize = 1024 * 1024;

/// An uploaded document as [`crate::SimControl::uploaded_documents`] lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadedDocument {
    /// The id answered in the 201.
    pub document_id: Uuid,
    /// The declaration from the path.
    pub declaration_id: String,
    /// Norwegian token.
    pub document_type: DocumentType,
    /// File name as sent.
    pub file_name: String,
    /// Content type as sent.
    pub content_type: Option<String>,
    /// What the bytes are.
    pub file_kind: FileKind,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Uploading organisation.
    pub org: String,
    /// When it arrived (sim clock).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
}

pub(super) fn routes(profile: &ContractProfile) -> Router<Arc<SimState>> {
    mount(Router::new(), profile, "document.upload", upload)
        .layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES + FRAMING_BYTES))
}

fn error(status: StatusCode, field: &str, message: impl Into<String>) -> Response {
    let message = message.into();
    if status == StatusCode::BAD_REQUEST {
        (
            status,
            Json(json!({"validationErrors": [{"field": field, "error": message}]})),
        )
            .into_response()
    } else {
        (
            status,
            Json(json!({
                "status": status.as_u16(),
                "error": status.canonical_reason().unwrap_or_default(),
                "message": message,
            })),
        )
            .into_response()
    }
}

fn multipart_error(e: &axum::extract::multipart::MultipartError, field: &str) -> Response {
    let status = e.status();
    let status = if status == StatusCode::PAYLOAD_TOO_LARGE {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    error(status, field, format!("reading multipart {field}: {e}"))
}

async fn upload(
    State(state): State<Arc<SimState>>,
    params: Params,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let now = state.clock.now();
    let org = match authenticate(
        &state.toll.tokens,
        &headers,
        now,
        &[DOCUMENT_SCOPE, DOCUMENT_SCOPE_EU],
    ) {
        Ok(org) => org,
        Err(response) => return *response,
    };
    let declaration_id = params.get("declarationId");
    let declaration = match DeclarationId::parse(&declaration_id) {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, "declarationId", e.to_string()),
    };
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "metadata",
                format!("expected multipart/form-data with parts metadata and file: {e}"),
            );
        }
    };
    // Part 1: metadata.
    let first = match multipart.next_field().await {
        Ok(Some(f)) => f,
        Ok(None) => {
            return error(StatusCode::BAD_REQUEST, "metadata", "must not be null");
        }
        Err(e) => return multipart_error(&e, "metadata"),
    };
    if first.name() != Some("metadata") {
        return error(
            StatusCode::BAD_REQUEST,
            "metadata",
            format!(
                "the metadata part must come first, before file (found part {:?})",
                first.name().unwrap_or_default()
            ),
        );
    }
    let text = match first.text().await {
        Ok(t) => t,
        Err(e) => return multipart_error(&e, "metadata"),
    };
    let metadata: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "metadata",
                format!("metadata is not JSON: {e}"),
            );
        }
    };
    let document_type = match metadata.get("documentType").and_then(|v| v.as_str()) {
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "metadata.documentType",
                "must not be blank",
            );
        }
        Some(t) => match DocumentType::from_wire(t) {
            Some(t) => t,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "metadata.documentType",
                    format!(
                        "Must be one of [{}]",
                        DocumentType::wire_tokens().join(", ")
                    ),
                );
            }
        },
    };
    // Part 2: file.
    let field = match multipart.next_field().await {
        Ok(Some(f)) => f,
        Ok(None) => return error(StatusCode::BAD_REQUEST, "file", "must not be null"),
        Err(e) => return multipart_error(&e, "file"),
    };
    if field.name() != Some("file") {
        return error(
            StatusCode::BAD_REQUEST,
            "file",
            format!(
                "expected the part file after metadata, found {:?}",
                field.name().unwrap_or_default()
            ),
        );
    }
    let file_name = field.file_name().unwrap_or("document").to_owned();
    let content_type = field.content_type().map(str::to_owned);
    let bytes = match field.bytes().await {
        Ok(b) => b,
        Err(e) => return multipart_error(&e, "file"),
    };
    let kind = match digitoll_model::check_upload(&file_name, content_type.as_deref(), &bytes) {
        Ok(kind) => kind,
        Err(e @ UploadError::Empty { .. }) => {
            return error(StatusCode::BAD_REQUEST, "file", e.to_string());
        }
        Err(e @ UploadError::TooLarge { .. }) => {
            return error(StatusCode::PAYLOAD_TOO_LARGE, "file", e.to_string());
        }
        Err(e) => return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "file", e.to_string()),
    };
    let record = UploadedDocument {
        document_id: Uuid::new_v4(),
        declaration_id: declaration.to_string(),
        document_type,
        file_name: file_name.clone(),
        content_type,
        file_kind: kind,
        size: bytes.len() as u64,
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        org,
        received_at: now,
    };
    let response = DocumentUploadResponse {
        document_id: record.document_id,
        declaration_id: record.declaration_id.clone(),
        document_type: document_type.as_str().to_owned(),
        file_name,
        size: record.size,
    };
    state
        .toll
        .documents
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(record);
    (StatusCode::CREATED, Json(response)).into_response()
}

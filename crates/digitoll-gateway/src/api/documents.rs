//! `POST /v1/documents/{declarationId}`: a document (invoice, permit, …)
//! attached to a goods declaration, passed through to Toll's document upload
//! API with the tenant's own token.
//!
//! The request is `multipart/form-data` like Toll's: a `metadata` part
//! (`{"documentType":"faktura"}`, Norwegian token or English alias) and then
//! a `file` part. The file is read chunk by chunk and refused as soon as it
//! passes 10 MB (the route's body limit is 10 MB plus room for the multipart
//! framing, so a larger body is cut off at the HTTP layer too). Before
//! anything is sent, the declaration id and the file are checked with the
//! model's `check_upload` (empty, too large, type by content, disguised
//! files), so Toll's 400/413/415 are answered locally with the reason.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use digitoll_client::{DocumentClient, Error as ClientError, UploadError, UploadFile};
use digitoll_model::{DocumentType, MAX_DOCUMENT_BYTES};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tenant_of;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::state::GatewayState;

/// The scope Toll's document upload API needs.
pub(crate) const DOCUMENT_SCOPE: &str = "toll:goodsdeclaration/document.write";

/// Body limit of the upload route: the file limit plus the multipart framing
/// and the metadata part.
pub(crate) const MAX_UPLOAD_BODY: usize = MAX_DOCUMENT_BYTES + 64 * 1024;

/// The `metadata` part.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadMetadata {
    /// `faktura`, `tillatelse`, `fraktbrev`, … or the English alias
    /// (`invoice`, `permit`, `waybill`, …).
    #[schema(value_type = String, example = "faktura")]
    pub document_type: DocumentType,
}

/// The answer to an accepted upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadedDocumentView {
    /// The declaration the document was attached to.
    pub declaration_id: String,
    /// The type sent (Norwegian token).
    pub document_type: String,
    /// The file name sent.
    pub file_name: String,
    /// The file type found in the content (`pdf`, `jpg`, `png`, `txt`, `docx`, `xlsx`).
    pub file_kind: String,
    /// Bytes sent.
    pub size: u64,
    /// Toll's HTTP status.
    pub toll_status: u16,
    /// Toll's receipt (`documentId`, …) when it sent one.
    #[schema(value_type = Option<Object>)]
    pub receipt: Option<serde_json::Value>,
}

/// A 4xx with a reason and the part at fault, in the gateway's error shape.
fn refuse(status: StatusCode, code: &'static str, message: String, field: &str) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code,
                message,
                field: Some(field.to_owned()),
            },
            validation_errors: None,
            validation_error_list: None,
        }),
    )
        .into_response()
}

fn too_large(what: &str) -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("{what} is larger than {MAX_DOCUMENT_BYTES} bytes (10 MB); split it"),
        "file",
    )
}

/// The local pre-check's and Toll's upload errors as answers.
fn upload_error(e: &UploadError) -> Response {
    let msg = e.to_string();
    match e {
        UploadError::InvalidDeclarationId { .. } => refuse(
            StatusCode::BAD_REQUEST,
            "invalid_value",
            msg,
            "declarationId",
        ),
        UploadError::EmptyFile { .. } | UploadError::Rejected { .. } => {
            refuse(StatusCode::BAD_REQUEST, "invalid_value", msg, "file")
        }
        UploadError::TooLarge { .. } | UploadError::PayloadTooLarge { .. } => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            msg,
            "file",
        ),
        UploadError::UnsupportedFileType { .. }
        | UploadError::ExtensionMismatch { .. }
        | UploadError::UnsupportedMediaType { .. } => refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            msg,
            "file",
        ),
        _ => refuse(StatusCode::BAD_REQUEST, "invalid_value", msg, "file"),
    }
}

fn multipart_error(e: &axum::extract::multipart::MultipartError) -> Response {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large("the request body")
    } else {
        refuse(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("cannot read the multipart body: {}", e.body_text()),
            "body",
        )
    }
}

/// Uploads a document to a declaration at Toll (synchronous pass-through).
#[utoipa::path(
    post, path = "/v1/documents/{declarationId}", tag = "documents",
    params(("declarationId" = String, Path, description = "The goods declaration, e.g. `123456789-01092023-1`")),
    request_body(content_type = "multipart/form-data", description = "Part `metadata` (JSON `{\"documentType\":\"faktura\"}`) first, then part `file` (at most 10 MB; pdf, jpg, png, txt, docx, xlsx)"),
    responses(
        (status = 201, body = UploadedDocumentView),
        (status = 400, body = ErrorBody, description = "bad declaration id, missing or bad metadata, empty file"),
        (status = 403, body = ErrorBody, description = "the tenant lacks toll:goodsdeclaration/document.write"),
        (status = 413, body = ErrorBody, description = "file over 10 MB"),
        (status = 415, body = ErrorBody, description = "not multipart, or a file type Toll refuses / a disguised file"),
        (status = 502, body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn upload(
    State(state): State<GatewayState>,
    Path(declaration_id): Path<String>,
    req: Request,
) -> Response {
    match run(state, declaration_id, req).await {
        Ok(r) | Err(r) => r,
    }
}

async fn run(
    state: GatewayState,
    declaration_id: String,
    req: Request,
) -> Result<Response, Response> {
    let tenant = tenant_of(&state, req.headers())
        .await
        .map_err(IntoResponse::into_response)?;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !is_multipart {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "content type must be multipart/form-data (parts `metadata`, then `file`)".into(),
            "content-type",
        ));
    }
    let mut multipart = Multipart::from_request(req, &state)
        .await
        .map_err(IntoResponse::into_response)?;

    let mut metadata: Option<UploadMetadata> = None;
    let mut file: Option<(String, BytesMut)> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        match field.name().unwrap_or_default() {
            "metadata" => {
                let text = field.bytes().await.map_err(|e| multipart_error(&e))?;
                let m = serde_json::from_slice::<UploadMetadata>(&text).map_err(|e| {
                    refuse(
                        StatusCode::BAD_REQUEST,
                        "invalid_value",
                        format!(
                            "metadata: {e} (expected {{\"documentType\":\"faktura\"}} or an English alias)"
                        ),
                        "metadata",
                    )
                })?;
                metadata = Some(m);
            }
            "file" => {
                if metadata.is_none() {
                    return Err(refuse(
                        StatusCode::BAD_REQUEST,
                        "invalid_value",
                        "the `metadata` part must come before the `file` part".into(),
                        "metadata",
                    ));
                }
                let name = field.file_name().unwrap_or("document").to_owned();
                let mut buf = BytesMut::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
                    if buf.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                        return Err(too_large(&format!("file '{name}'")));
                    }
                    buf.extend_from_slice(&chunk);
                }
                file = Some((name, buf));
            }
            other => {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "invalid_value",
                    format!("unknown part '{other}'; expected `metadata`, then `file`"),
                    other,
                ));
            }
        }
    }
    let Some(metadata) = metadata else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_value",
            "the `metadata` part is missing".into(),
            "metadata",
        ));
    };
    let Some((name, bytes)) = file else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_value",
            "the `file` part is missing".into(),
            "file",
        ));
    };
    let upload = UploadFile::from_bytes(name, bytes.freeze());
    if let Err(e) = DocumentClient::check(&declaration_id, &upload) {
        return Err(client_error(e));
    }

    let rt = state
        .runtimes()
        .get(tenant)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    if !rt.tenant.scopes.iter().any(|s| s == DOCUMENT_SCOPE) {
        return Err(ApiError::Forbidden(format!(
            "the tenant does not hold the scope {DOCUMENT_SCOPE} that document upload needs"
        ))
        .into_response());
    }
    let client = DocumentClient::builder(rt.toll.clone())
        .http_client(state.http().clone())
        .timeout(state.config().runtime.toll_timeout)
        .build()
        .map_err(|e| ApiError::Internal(e.to_string()).into_response())?;
    let done = client
        .upload(&declaration_id, metadata.document_type, upload)
        .await
        .map_err(client_error)?;
    tracing::info!(tenant = %tenant, size = done.size, "document uploaded");
    Ok((
        StatusCode::CREATED,
        Json(UploadedDocumentView {
            declaration_id: done.declaration_id.to_string(),
            document_type: done.document_type.as_str().to_owned(),
            file_name: done.file_name,
            file_kind: serde_json::to_value(done.file_kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            size: done.size,
            toll_status: done.status,
            receipt: done.receipt.and_then(|r| serde_json::to_value(r).ok()),
        }),
    )
        .into_response())
}

fn client_error(e: ClientError) -> Response {
    match &e {
        ClientError::Upload(u) => upload_error(u),
        _ => ApiError::Upstream(format!("document upload at Toll failed: {e}")).into_response(),
    }
}

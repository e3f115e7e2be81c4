//! The document upload API (`POST /api/goodsdeclaration/document/v2/
//! declaration-id/{declarationId}/document`, scope
//! `toll:goodsdeclaration/document.write`): attaching invoices, permits,
//! waybills, … to a TVINN declaration.
//!
//! Everything Toll would refuse is checked before a byte is sent (with
//! digitoll-model's `check_upload`, which the simulator uses too): the
//! declaration id's format, an empty file, the 10 MB limit, and the file type
//! by **content** (pdf, jpg, png, txt, docx, xlsx), which must agree with the
//! name's extension. The body is `multipart/form-data` with `metadata`
//! (`{"documentType":"faktura"}`) first and `file` second, as Toll requires;
//! the file part is streamed in 64 KiB chunks with an optional progress
//! callback.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use digitoll_model::documents::{
    DeclarationId, DocumentMetadata, DocumentType, DocumentUploadResponse, FileKind,
    MAX_DOCUMENT_BYTES, UploadError as CheckError, check_upload,
};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use tokio::io::{AsyncRead, AsyncReadExt};
use url::Url;

use crate::core::{Body, Failure};
use crate::env::Service;
use crate::error::{Error, Operation, UploadError};
use crate::http::RawResponse;
use crate::service::{ApiClientBuilder, BuildClient, Parts, Sealed, sync_errors};
use crate::token::TollTokenProvider;

/// Size of the chunks the file part is streamed in (and the progress step).
const CHUNK: usize = 64 * 1024;

fn limit() -> u64 {
    MAX_DOCUMENT_BYTES as u64
}

/// A file to upload: a name (its extension must match the content) and the
/// bytes. Files are at most 10 MB, so the bytes are held in memory; that
/// lets the client check the content type before sending and stream the
/// same bytes again if a 401 forces a second attempt.
#[derive(Clone)]
pub struct UploadFile {
    file_name: String,
    bytes: Bytes,
}

impl fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadFile")
            .field("file_name", &self.file_name)
            .field("size", &self.bytes.len())
            .finish()
    }
}

impl UploadFile {
    /// A file from bytes in memory.
    pub fn from_bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            file_name: file_name.into(),
            bytes: bytes.into(),
        }
    }

    /// Reads a file; its name is the path's file name. A file over 10 MB is
    /// refused from its metadata, without reading it.
    ///
    /// # Errors
    /// [`UploadError::Read`], [`UploadError::TooLarge`] (as [`Error::Upload`]).
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let read_err = |e: std::io::Error| {
            Error::Upload(UploadError::Read {
                path: path.display().to_string(),
                message: e.to_string(),
            })
        };
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                Error::Upload(UploadError::Read {
                    path: path.display().to_string(),
                    message: "the path has no file name".into(),
                })
            })?;
        let size = tokio::fs::metadata(path).await.map_err(read_err)?.len();
        if size > limit() {
            return Err(too_large(&file_name, size));
        }
        let bytes = tokio::fs::read(path).await.map_err(read_err)?;
        Ok(Self::from_bytes(file_name, bytes))
    }

    /// Reads `reader` to its end. Reading stops holding data past 10 MB; the
    /// rest is only counted, for the error.
    ///
    /// # Errors
    /// [`UploadError::Read`], [`UploadError::TooLarge`] (as [`Error::Upload`]).
    pub async fn from_reader<R: AsyncRead + Unpin>(
        file_name: impl Into<String>,
        mut reader: R,
    ) -> Result<Self, Error> {
        let file_name = file_name.into();
        let read_err = |e: std::io::Error| {
            Error::Upload(UploadError::Read {
                path: format!("reader for {file_name:?}"),
                message: e.to_string(),
            })
        };
        let mut held = Vec::new();
        (&mut reader)
            .take(limit() + 1)
            .read_to_end(&mut held)
            .await
            .map_err(read_err)?;
        if held.len() as u64 > limit() {
            let rest = tokio::io::copy(&mut reader, &mut tokio::io::sink())
                .await
                .map_err(read_err)?;
            return Err(too_large(&file_name, held.len() as u64 + rest));
        }
        Ok(Self::from_bytes(file_name, held))
    }

    /// The file name sent.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The size in bytes.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

fn too_large(file_name: &str, size: u64) -> Error {
    Error::Upload(UploadError::TooLarge {
        file_name: file_name.to_owned(),
        size,
        limit: limit(),
    })
}

/// Upload progress: bytes of the file handed to the connection so far, of
/// the total. Reported once per 64 KiB chunk; starts again from 0 if the
/// upload is re-sent after a 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes sent so far.
    pub sent: u64,
    /// The file size.
    pub total: u64,
}

/// A document Toll accepted (any 2xx).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedDocument {
    /// The declaration it was attached to.
    pub declaration_id: DeclarationId,
    /// The type sent (Norwegian token on the wire).
    pub document_type: DocumentType,
    /// The file name sent.
    pub file_name: String,
    /// The file type found in the content (sent as the part's content type).
    pub file_kind: FileKind,
    /// Bytes sent.
    pub size: u64,
    /// HTTP status (Toll documents none; digitoll's simulator answers 201).
    pub status: u16,
    /// The response body when it has the shape digitoll's simulator sends
    /// (`documentId`, …; \[I\], Toll documents no body).
    pub receipt: Option<DocumentUploadResponse>,
}

/// A client of the document upload API. Cheap to clone.
#[derive(Clone)]
pub struct DocumentClient {
    parts: Arc<Parts>,
}

impl fmt::Debug for DocumentClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentClient")
            .field("base", &self.parts.base.as_str())
            .field("token_request", &self.parts.core.token_request)
            .finish_non_exhaustive()
    }
}

impl Sealed for DocumentClient {}

impl BuildClient for DocumentClient {
    const SERVICE: Service = Service::DocumentUpload;
    fn from_parts(parts: Parts) -> Self {
        Self {
            parts: Arc::new(parts),
        }
    }
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

impl DocumentClient {
    /// Starts a builder; the host comes from the token provider's environment.
    pub fn builder(tokens: TollTokenProvider) -> ApiClientBuilder<Self> {
        ApiClientBuilder::new(tokens)
    }

    /// A client with defaults.
    ///
    /// # Errors
    /// As [`ApiClientBuilder::build`].
    pub fn new(tokens: TollTokenProvider) -> Result<Self, Error> {
        Self::builder(tokens).build()
    }

    /// The API base URL (`{host}/api/goodsdeclaration/document/v2`).
    pub fn base_url(&self) -> &Url {
        &self.parts.base
    }

    /// The checks [`DocumentClient::upload`] makes before sending, on their
    /// own (e.g. for a dry run): the declaration id's format, then the file
    /// (not empty, at most 10 MB, an accepted type by content, the same type
    /// as the name's extension). Returns the parsed id and the file type.
    ///
    /// # Errors
    /// [`Error::Upload`] with [`UploadError::InvalidDeclarationId`],
    /// [`UploadError::EmptyFile`], [`UploadError::TooLarge`],
    /// [`UploadError::UnsupportedFileType`] or [`UploadError::ExtensionMismatch`].
    pub fn check(
        declaration_id: &str,
        file: &UploadFile,
    ) -> Result<(DeclarationId, FileKind), Error> {
        let id = DeclarationId::parse(declaration_id).map_err(|e| {
            Error::Upload(UploadError::InvalidDeclarationId {
                value: declaration_id.to_owned(),
                reason: e.to_string(),
            })
        })?;
        let kind = check_upload(&file.file_name, None, &file.bytes).map_err(|e| {
            Error::Upload(match e {
                CheckError::Empty { file_name } => UploadError::EmptyFile { file_name },
                CheckError::TooLarge { file_name, size } => UploadError::TooLarge {
                    file_name,
                    size: size as u64,
                    limit: limit(),
                },
                CheckError::UnsupportedContent { file_name } => UploadError::UnsupportedFileType {
                    reason: describe_content(&file.bytes),
                    file_name,
                },
                CheckError::Mismatch {
                    file_name,
                    detected,
                    ..
                } => UploadError::ExtensionMismatch {
                    extension: extension_of(&file_name),
                    detected: detected.extension().to_owned(),
                    file_name,
                },
            })
        })?;
        Ok((id, kind))
    }

    /// Uploads `file` as a `document_type` document of the declaration.
    /// See [`DocumentClient::upload_with_progress`].
    ///
    /// # Errors
    /// As [`DocumentClient::upload_with_progress`].
    pub async fn upload(
        &self,
        declaration_id: &str,
        document_type: DocumentType,
        file: UploadFile,
    ) -> Result<UploadedDocument, Error> {
        self.send(declaration_id, document_type, file, None).await
    }

    /// Uploads `file`, calling `progress` as the file part is streamed.
    ///
    /// [`DocumentClient::check`] runs first; nothing is sent when it fails.
    /// The request is `multipart/form-data` with the part `metadata`
    /// (`{"documentType":"<Norwegian token>"}`, `application/json`) first and
    /// `file` (file name, the detected type's MIME type, streamed with its
    /// length) second. An upload is not idempotent (a second one stores the
    /// document twice), so it is re-sent only when the connection could not
    /// be opened or after a 401; a lost response gives
    /// [`Error::OutcomeUnknown`].
    ///
    /// # Errors
    /// The errors of [`DocumentClient::check`]; Toll's 400 as
    /// [`UploadError::Rejected`], 413 as [`UploadError::PayloadTooLarge`],
    /// 415 as [`UploadError::UnsupportedMediaType`] (all in
    /// [`Error::Upload`]); [`Error::OutcomeUnknown`]; auth and transport errors.
    pub async fn upload_with_progress(
        &self,
        declaration_id: &str,
        document_type: DocumentType,
        file: UploadFile,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<UploadedDocument, Error> {
        self.send(
            declaration_id,
            document_type,
            file,
            Some(Arc::new(progress)),
        )
        .await
    }

    async fn send(
        &self,
        declaration_id: &str,
        document_type: DocumentType,
        file: UploadFile,
        progress: Option<ProgressFn>,
    ) -> Result<UploadedDocument, Error> {
        let (id, kind) = Self::check(declaration_id, &file)?;
        let url = self
            .parts
            .endpoint("document.upload", &[("declarationId", id.as_str())])?;
        let metadata = serde_json::to_string(&DocumentMetadata { document_type }).map_err(|e| {
            Error::InvalidInput {
                field: "metadata".into(),
                reason: e.to_string(),
            }
        })?;
        let size = file.len();
        let name = file.file_name.clone();
        let bytes = file.bytes.clone();
        let build = move || -> Form {
            let meta = || Part::text(metadata.clone());
            let meta = meta()
                .mime_str("application/json")
                .unwrap_or_else(|_| meta());
            let body = || {
                Part::stream_with_length(
                    reqwest::Body::wrap_stream(chunks(bytes.clone(), progress.clone())),
                    size,
                )
                .file_name(name.clone())
            };
            let body = body().mime_str(kind.mime()).unwrap_or_else(|_| body());
            Form::new().part("metadata", meta).part("file", body)
        };
        match self
            .parts
            .core
            .execute(
                self.parts.label(),
                Method::POST,
                &url,
                Body::Multipart(&build),
            )
            .await
        {
            Ok(r) if r.status.is_success() => Ok(UploadedDocument {
                receipt: serde_json::from_slice(&r.body).ok(),
                status: r.status.as_u16(),
                declaration_id: id,
                document_type,
                file_name: file.file_name,
                file_kind: kind,
                size,
            }),
            Ok(r) => Err(self.upload_error(&url, &file.file_name, size, r)),
            Err(Failure::Error(e)) => Err(e),
            Err(Failure::Ambiguous(cause)) => Err(Error::OutcomeUnknown {
                operation: Operation::DocumentUpload,
                method: "POST",
                path: url.path().to_owned(),
                cause: format!(
                    "{cause}; not re-sent, since a second upload would attach the document twice"
                ),
                request_id: None,
            }),
        }
    }

    fn upload_error(&self, url: &Url, file_name: &str, size: u64, r: RawResponse) -> Error {
        match r.status.as_u16() {
            400 => match sync_errors(&r.body) {
                Some(errors) => Error::Upload(UploadError::Rejected {
                    file_name: file_name.to_owned(),
                    errors,
                }),
                None => self.parts.core.status_error("POST", url, r),
            },
            413 => Error::Upload(UploadError::PayloadTooLarge {
                file_name: file_name.to_owned(),
                size,
                body: r.text(),
            }),
            415 => Error::Upload(UploadError::UnsupportedMediaType {
                file_name: file_name.to_owned(),
                body: r.text(),
            }),
            _ => self.parts.core.status_error("POST", url, r),
        }
    }
}

/// The file as a stream of 64 KiB chunks, reporting progress as each is taken.
fn chunks(
    bytes: Bytes,
    progress: Option<ProgressFn>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let total = bytes.len() as u64;
    let pieces: Vec<Bytes> = (0..bytes.len())
        .step_by(CHUNK)
        .map(|at| bytes.slice(at..(at + CHUNK).min(bytes.len())))
        .collect();
    let mut sent = 0u64;
    futures::stream::iter(pieces.into_iter().map(move |piece| {
        sent += piece.len() as u64;
        if let Some(p) = &progress {
            p(Progress { sent, total });
        }
        Ok(piece)
    }))
}

/// The extension of a file name, lower case (empty without one).
fn extension_of(file_name: &str) -> String {
    file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// A hint of what unsupported content is: the first bytes in hex.
fn describe_content(bytes: &[u8]) -> String {
    let head: Vec<String> = bytes.iter().take(8).map(|b| hex::encode([*b])).collect();
    let hint = if bytes.starts_with(b"PK\x03\x04") {
        " (a ZIP without word/ or xl/ entries)"
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        " (an old Office .doc/.xls file, no longer accepted)"
    } else if bytes.starts_with(b"GIF8") {
        " (a GIF image)"
    } else {
        ""
    };
    format!("its content starts with {}{hint}", head.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mime_parses() {
        for k in FileKind::ALL {
            assert!(Part::text("x").mime_str(k.mime()).is_ok(), "{}", k.mime());
        }
    }

    #[test]
    fn extension_and_description() {
        assert_eq!(extension_of("Faktura.PDF"), "pdf");
        assert_eq!(extension_of("noext"), "");
        assert!(describe_content(b"GIF89a").contains("GIF"));
        assert!(describe_content(b"GIF89a").starts_with("its content starts with 47 49 46"));
    }
}

//! The document upload API (`POST /api/goodsdeclaration/document/v2/
//! declaration-id/{declarationId}/document`, digitoll-api.md §1.10).
//!
//! * [`DeclarationId`]: the TVINN declaration id in the path,
//!   `<declarantNumber 9–11 digits>-<ddmmyyyy>-<sequence 1–6 digits>`.
//! * [`DocumentType`]: Toll's Norwegian `documentType` tokens, which are what
//!   is sent; the English words of Toll's English page are accepted on input.
//! * [`FileKind`] and [`detect_file_kind`]: the allowed file types (pdf, jpg,
//!   png, txt, docx, xlsx) recognised by **content** (magic bytes), and
//!   [`check_upload`], the whole local check (size, emptiness, content type,
//!   consistency with the file name and declared content type) shared by the
//!   client and the simulator.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Base path of the document upload API.
pub const DOCUMENT_BASE: &str = "/api/goodsdeclaration/document/v2";
/// Scope of the document upload API (Norwegian organisations).
pub const DOCUMENT_SCOPE: &str = "toll:goodsdeclaration/document.write";
/// Scope of the document upload API (foreign organisations).
pub const DOCUMENT_SCOPE_EU: &str = "toll:eu/goodsdeclaration/document.write";
/// Largest file Toll accepts: 10 MB, read as 10 × 1024 × 1024 bytes \[D S20; I
/// for the binary megabyte\].
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// Why a string is not a [`DeclarationId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "declarationId '{value}' {reason}; expected <declarantNumber 9-11 digits>-<ddmmyyyy>-<sequence 1-6 digits>, e.g. 123456789-01092023-1"
)]
pub struct DeclarationIdError {
    /// The rejected value.
    pub value: String,
    /// Which part is wrong.
    pub reason: &'static str,
}

/// A TVINN declaration id as used in the upload path, e.g.
/// `123456789-01092023-1` \[D S20\].
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct DeclarationId(String);

impl DeclarationId {
    /// Checks the three parts: 9–11 digits, a real calendar date as
    /// `ddmmyyyy`, 1–6 digits.
    pub fn parse(s: &str) -> Result<Self, DeclarationIdError> {
        let err = |reason| DeclarationIdError {
            value: s.to_owned(),
            reason,
        };
        let parts: Vec<&str> = s.split('-').collect();
        let [declarant, date, sequence] = parts.as_slice() else {
            return Err(err("must have three parts separated by '-'"));
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !(9..=11).contains(&declarant.len()) || !digits(declarant) {
            return Err(err("has a declarant number that is not 9-11 digits"));
        }
        if date.len() != 8 || !digits(date) {
            return Err(err("has a date that is not 8 digits (ddmmyyyy)"));
        }
        let day: u8 = date[0..2].parse().map_err(|_| err("has a bad day"))?;
        let month: u8 = date[2..4].parse().map_err(|_| err("has a bad month"))?;
        let year: i32 = date[4..8].parse().map_err(|_| err("has a bad year"))?;
        let month = time::Month::try_from(month).map_err(|_| err("has a month outside 01-12"))?;
        time::Date::from_calendar_date(year, month, day)
            .map_err(|_| err("has a date that does not exist"))?;
        if !(1..=6).contains(&sequence.len()) || !digits(sequence) {
            return Err(err("has a sequence number that is not 1-6 digits"));
        }
        Ok(Self(s.to_owned()))
    }

    /// Builds the id from a message's CUDE fields (`declarationDate` as
    /// `yyyy-MM-dd`).
    pub fn from_parts(
        declarant_number: &str,
        declaration_date: &str,
        sequence_number: &str,
    ) -> Result<Self, DeclarationIdError> {
        let compact = match declaration_date.split('-').collect::<Vec<_>>().as_slice() {
            [y, m, d] => format!("{d}{m}{y}"),
            _ => declaration_date.to_owned(),
        };
        Self::parse(&format!("{declarant_number}-{compact}-{sequence_number}"))
    }

    /// The id as written in the path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeclarationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DeclarationId {
    type Err = DeclarationIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DeclarationId {
    type Error = DeclarationIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DeclarationId> for String {
    fn from(v: DeclarationId) -> String {
        v.0
    }
}

/// `documentType` of an upload \[D S20\]. Serialises as Toll's Norwegian
/// token; parsing also accepts the English words (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentType {
    /// `faktura` (invoice).
    Invoice,
    /// `tillatelser` (permits).
    Permits,
    /// `fraktregning` (freight invoice).
    FreightInvoice,
    /// `opprinnelsesdokumentasjon` (proof of origin).
    ProofOfOrigin,
    /// `fraktbrev` (waybill).
    Waybill,
    /// `eksportdokumentasjon` (export documentation).
    ExportDocumentation,
}

impl DocumentType {
    /// Every type, in Toll's order.
    pub const ALL: [DocumentType; 6] = [
        Self::Invoice,
        Self::Permits,
        Self::FreightInvoice,
        Self::ProofOfOrigin,
        Self::Waybill,
        Self::ExportDocumentation,
    ];

    /// The Norwegian token Toll expects on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Invoice => "faktura",
            Self::Permits => "tillatelser",
            Self::FreightInvoice => "fraktregning",
            Self::ProofOfOrigin => "opprinnelsesdokumentasjon",
            Self::Waybill => "fraktbrev",
            Self::ExportDocumentation => "eksportdokumentasjon",
        }
    }

    /// The English alias accepted on input.
    pub const fn english(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Permits => "permits",
            Self::FreightInvoice => "freight-invoice",
            Self::ProofOfOrigin => "proof-of-origin",
            Self::Waybill => "waybill",
            Self::ExportDocumentation => "export-documentation",
        }
    }

    /// The Norwegian tokens, for error messages.
    pub fn wire_tokens() -> Vec<&'static str> {
        Self::ALL.iter().map(|t| t.as_str()).collect()
    }

    /// Only the Norwegian token (what the server accepts on the wire).
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no document type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown documentType '{0}': expected one of faktura, tillatelser, fraktregning, opprinnelsesdokumentasjon, fraktbrev, eksportdokumentasjon (or invoice, permits, freight-invoice, proof-of-origin, waybill, export-documentation)"
)]
pub struct UnknownDocumentType(pub String);

impl FromStr for DocumentType {
    type Err = UnknownDocumentType;
    /// Norwegian token or English alias, any case; `_` and spaces count as `-`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == norm || t.english() == norm)
            .ok_or_else(|| UnknownDocumentType(s.to_owned()))
    }
}

impl Serialize for DocumentType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DocumentType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for DocumentType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DocumentType".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let tokens = Self::wire_tokens();
        schemars::json_schema!({ "type": "string", "enum": tokens })
    }
}

/// The `metadata` part: `{"documentType":"faktura"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentMetadata {
    /// The document's type.
    pub document_type: DocumentType,
}

/// The `201` body of a successful upload (\[I\]: Toll documents none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentUploadResponse {
    /// Id of the stored document.
    pub document_id: uuid::Uuid,
    /// The declaration it belongs to.
    pub declaration_id: String,
    /// Norwegian token.
    pub document_type: String,
    /// The file name as sent.
    pub file_name: String,
    /// Size in bytes.
    pub size: u64,
}

/// A file type the upload API accepts \[D S20\] (doc and xls were removed in
/// February 2026).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// `%PDF-`.
    Pdf,
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
    /// Plain text: valid UTF-8 without NUL bytes.
    Txt,
    /// Office Open XML word processing: a ZIP with `word/` entries.
    Docx,
    /// Office Open XML spreadsheet: a ZIP with `xl/` entries.
    Xlsx,
}

impl FileKind {
    /// Every kind.
    pub const ALL: [FileKind; 6] = [
        Self::Pdf,
        Self::Jpeg,
        Self::Png,
        Self::Txt,
        Self::Docx,
        Self::Xlsx,
    ];

    /// The usual extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Txt => "txt",
            Self::Docx => "docx",
            Self::Xlsx => "xlsx",
        }
    }

    /// The MIME type to send.
    pub const fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Txt => "text/plain",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The kind a file name's extension claims (`.jpeg` and `.jpg` both
    /// Jpeg; case-insensitive); `None` without a known extension.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let (_, ext) = name.rsplit_once('.')?;
        let ext = ext.to_ascii_lowercase();
        match ext.as_str() {
            "jpeg" | "jpe" => Some(Self::Jpeg),
            _ => Self::ALL.into_iter().find(|k| k.extension() == ext),
        }
    }

    /// The kind a MIME type claims (parameters ignored); `None` for others,
    /// including `application/octet-stream`.
    pub fn from_mime(mime: &str) -> Option<Self> {
        let base = mime
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if base == "image/jpg" || base == "image/pjpeg" {
            return Some(Self::Jpeg);
        }
        Self::ALL.into_iter().find(|k| k.mime() == base)
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// Recognises an allowed file type by its content (magic bytes), or `None`
/// (empty input, other binary formats, a ZIP that is neither docx nor xlsx).
///
/// ```
/// use digitoll_model::documents::{detect_file_kind, FileKind};
/// assert_eq!(detect_file_kind(b"%PDF-1.7\n..."), Some(FileKind::Pdf));
/// assert_eq!(detect_file_kind("Faktura nr. 17\n".as_bytes()), Some(FileKind::Txt));
/// assert_eq!(detect_file_kind(b"GIF89a\x01\x00"), None);
/// ```
pub fn detect_file_kind(bytes: &[u8]) -> Option<FileKind> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.is_empty() {
        return None;
    }
    if bytes.starts_with(b"%PDF-") {
        return Some(FileKind::Pdf);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(FileKind::Jpeg);
    }
    if bytes.starts_with(PNG) {
        return Some(FileKind::Png);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return zip_kind(bytes);
    }
    if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return Some(FileKind::Txt);
    }
    None
}

/// Reads the entry names of a ZIP from its local and central directory
/// headers and decides docx (`word/`) or xlsx (`xl/`).
fn zip_kind(bytes: &[u8]) -> Option<FileKind> {
    let le16 = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at + 2)?;
        Some(usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let mut word = false;
    let mut xl = false;
    let mut i = 0;
    while i + 4 <= bytes.len() {
        let sig = &bytes[i..i + 4];
        // Local file header: name length at +26, name at +30.
        // Central directory header: name length at +28, name at +46.
        let name = if sig == b"PK\x03\x04" {
            le16(i + 26).and_then(|n| bytes.get(i + 30..i + 30 + n))
        } else if sig == b"PK\x01\x02" {
            le16(i + 28).and_then(|n| bytes.get(i + 46..i + 46 + n))
        } else {
            None
        };
        if let Some(name) = name {
            word |= name.starts_with(b"word/");
            xl |= name.starts_with(b"xl/");
        }
        i += 1;
    }
    match (word, xl) {
        (true, false) => Some(FileKind::Docx),
        (false, true) => Some(FileKind::Xlsx),
        _ => None,
    }
}

/// Why a file cannot be uploaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// The file has no bytes (server: 400 field `file`).
    #[error("file '{file_name}' is empty")]
    Empty {
        /// The file name.
        file_name: String,
    },
    /// Over [`MAX_DOCUMENT_BYTES`] (server: 413); split larger files.
    #[error(
        "file '{file_name}' has {size} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes (10 MB), split it"
    )]
    TooLarge {
        /// The file name.
        file_name: String,
        /// Its size.
        size: usize,
    },
    /// The content is none of pdf, jpg, png, txt, docx, xlsx (server: 415).
    #[error("file '{file_name}' is not a pdf, jpg, png, txt, docx or xlsx file by its content")]
    UnsupportedContent {
        /// The file name.
        file_name: String,
    },
    /// The content is an allowed type, but not the one the file name or the
    /// declared content type claims (server: 415).
    #[error(
        "file '{file_name}' claims to be {claimed} ({source_of_claim}) but its content is {detected}"
    )]
    Mismatch {
        /// The file name.
        file_name: String,
        /// What the name or content type says.
        claimed: FileKind,
        /// `file name` or `content type`.
        source_of_claim: &'static str,
        /// What the bytes are.
        detected: FileKind,
    },
}

/// The full local check of a file before (client) or on (server) upload:
/// not empty, at most [`MAX_DOCUMENT_BYTES`], an allowed type by content, and
/// not disguised (a known extension or a specific content type must match
/// the content; unknown extensions and `application/octet-stream` are
/// accepted \[I\]). Returns the detected kind.
pub fn check_upload(
    file_name: &str,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<FileKind, UploadError> {
    let name = || file_name.to_owned();
    if bytes.is_empty() {
        return Err(UploadError::Empty { file_name: name() });
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(UploadError::TooLarge {
            file_name: name(),
            size: bytes.len(),
        });
    }
    let detected = detect_file_kind(bytes)
        .ok_or_else(|| UploadError::UnsupportedContent { file_name: name() })?;
    let claims = [
        (FileKind::from_file_name(file_name), "file name"),
        (content_type.and_then(FileKind::from_mime), "content type"),
    ];
    for (claimed, source_of_claim) in claims {
        if let Some(claimed) = claimed
            && claimed != detected
        {
            return Err(UploadError::Mismatch {
                file_name: name(),
                claimed,
                source_of_claim,
                detected,
            });
        }
    }
    Ok(detected)
}

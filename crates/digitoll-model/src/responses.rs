//! Response bodies of the road v2 submission and query APIs.
//!
//! Toll ships backward-compatible additions without a new version (S19), so
//! none of these types deny unknown fields, and code-valued fields use the
//! open enums of [`crate::codes`]. Optional fields default when absent. Times
//! that Toll documents in its instant format are kept as strings where a
//! public client shows other shapes (`timeOfEntry`), and as [`TollInstant`]
//! where Toll's docs show the format (`notificationDate`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::codes::{DocumentStatusCode, IncompleteDocumentationReason, ProcessingStatus};
use crate::newtypes::{Mrn, RequestId, TollInstant};

/// `202 {"requestId": "..."}` from POST, PUT and DELETE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestIdResponse {
    /// Poll `validation-status/{requestId}` with this.
    pub request_id: RequestId,
}

/// `pointer` of an asynchronous validation error.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pointer {
    /// Dotted path, e.g. `consignmentHouseLevel.exportFromEU[0].exportId`.
    pub message_element_path: String,
}

/// One entry of `validationErrorList` (asynchronous, S10).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AsyncValidationError {
    /// Toll's text, e.g. `Country is invalid`.
    pub description: String,
    /// Where.
    pub pointer: Pointer,
}

impl AsyncValidationError {
    /// Builds an error at `path`.
    pub fn new(path: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            pointer: Pointer {
                message_element_path: path.into(),
            },
        }
    }
}

/// Result of `GET .../validation-status/{requestId}` once processing is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationStatus {
    /// SUCCESS or FAILURE.
    pub status: ProcessingStatus,
    /// The submission's request id.
    pub request_id: RequestId,
    /// When the result was ready (some of Toll's examples omit it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_date: Option<TollInstant>,
    /// The MRN (on SUCCESS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrn: Option<Mrn>,
    /// Asynchronous errors (on FAILURE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_error_list: Vec<AsyncValidationError>,
    /// Missing-documentation reasons (accepted but INCOMPLETE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete_documentation_reason_list: Vec<IncompleteDocumentationReason>,
}

/// Document status of one master or house (S10, S5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentStatus {
    /// Waybill number.
    pub document_number: String,
    /// CL754 type.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// SUCCESS or INCOMPLETE (absent in some list replies, e.g. the masters on
    /// a transport, which carry `received` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_status: Option<DocumentStatusCode>,
    /// Whether Toll has received the referenced message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<bool>,
    /// Reasons when INCOMPLETE.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete_documentation_reason_list: Vec<IncompleteDocumentationReason>,
}

/// A house in a status-with-descendants tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HouseStatusNode {
    /// Waybill number.
    pub document_number: String,
    /// CL754 type.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// Declared weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Number>,
    /// Processing status as Toll reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The house's MRN, when reported (not in Toll's docs; digitoll's
    /// simulator sends it, \[I\]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrn: Option<String>,
    /// `false` when the house is referenced but its message has not arrived
    /// (\[I\], by analogy with masters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<bool>,
}

/// A master in a status-with-descendants tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MasterStatusNode {
    /// Waybill number.
    pub document_number: String,
    /// CL754 type.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// Declared weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Number>,
    /// Sum of the houses' weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_of_weight_for_house_consignments: Option<Number>,
    /// `false` when the transport references a master not yet received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<bool>,
    /// The master's MRN, when reported (\[I\], as for houses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrn: Option<String>,
    /// Houses under this master.
    #[serde(default)]
    pub house_consignments: Vec<HouseStatusNode>,
}

/// `GET /transport/{mrn}/status-with-descendants` (and the master variant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusWithDescendants {
    /// Sum of master weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_of_weight_for_master_consignments: Option<Number>,
    /// Sum of house weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_of_weight_for_house_consignments: Option<Number>,
    /// The masters.
    #[serde(default)]
    pub master_consignments: Vec<MasterStatusNode>,
    /// Houses linked straight to the transport (direct consignments). Toll
    /// does not document where they appear; digitoll's simulator lists them
    /// here (\[I\]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub house_consignments: Vec<HouseStatusNode>,
}

/// `GET /entry/status/{mrn}` (field names from the public client, \[C S37\]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryStatus {
    /// Whether entry was granted.
    pub valid_entry: bool,
    /// Office of entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs_office_of_entry: Option<String>,
    /// Time of entry (format undocumented; kept verbatim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_of_entry: Option<String>,
    /// The transport MRN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrn: Option<String>,
}

/// One entry of a synchronous 400 body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct SyncValidationError {
    /// Dotted field path, e.g. `consignmentHouseLevel.goodsItem[0].value`.
    pub field: String,
    /// Toll's text, e.g. `must not be null`.
    pub error: String,
}

impl SyncValidationError {
    /// Builds an error at `field`.
    pub fn new(field: impl Into<String>, error: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            error: error.into(),
        }
    }
}

/// The synchronous `400` body `{"validationErrors": [...]}` (S9).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncErrorBody {
    /// The errors.
    #[serde(default)]
    pub validation_errors: Vec<SyncValidationError>,
}

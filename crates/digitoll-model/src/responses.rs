//! Response bodies of the road v2 submission and query APIs.
//!
//! Toll ships backward-compatible additions without a new version (S19), so
//! none of these types deny unknown fields, and code-valued fields use the
//! open enums of [`crate::codes`]. Optional fields default when absent. Times
//! that Toll documents in its instant format are kept as strings where a
//! public client shows other shapes (`timeOfEntry`), and as [`TollInstant`]
//! where Toll's docs show the format (`notificationDate`).
//!
//! Reading is tolerant of what Toll may legitimately vary (requests keep
//! Toll's exact forms): numbers sent as strings (weights and sums; the public
//! client's DTOs declare them `String`, \[C `SystemaAS/syjservicestn-expft`
//! `src/no/systema/jservices/tvinn/expressfortolling2/dto/MasterConsignments.java`\]),
//! booleans sent as strings or `0`/`1` (`received`, a `String` in the same
//! DTO), `null` for a boolean or a list, fractional seconds and offsets in
//! instants (converted to UTC, whole seconds), unknown codes (`Other`) and
//! unknown fields (ignored). A validation-status body that still does not
//! parse is kept raw by [`ValidationStatus::from_body`] instead of failing.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::codes::{DocumentStatusCode, IncompleteDocumentationReason, ProcessingStatus};
use crate::newtypes::{Mrn, RequestId, TollInstant};

/// Tolerant deserialisers for response fields (see the module docs).
mod lenient {
    use serde::Deserialize;
    use serde::de::{DeserializeOwned, Deserializer, Error};
    use serde_json::{Number, Value};
    use time::format_description::well_known::Rfc3339;

    use crate::newtypes::TollInstant;

    fn kind(v: &Value) -> &'static str {
        crate::road::json_kind(v)
    }

    /// A number, or a string holding one (`"12.5"`); `null` and `""` are `None`.
    pub(super) fn opt_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Number>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n)),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => match serde_json::from_str::<Number>(s.trim()) {
                Ok(n) => Ok(Some(n)),
                Err(_) => Err(D::Error::custom(format!(
                    "invalid value: \"{s}\", expected a number"
                ))),
            },
            Some(other) => Err(D::Error::custom(format!(
                "invalid type: {}, expected a number",
                kind(&other)
            ))),
        }
    }

    /// A boolean, `"true"`/`"false"` (any case), `0`/`1` or `"0"`/`"1"`;
    /// `null` and `""` are `None`.
    pub(super) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let v = Option::<Value>::deserialize(d)?;
        let fail = |v: &Value| D::Error::custom(format!("invalid value: {v}, expected a boolean"));
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::Number(ref n)) => match n.as_u64() {
                Some(0) => Ok(Some(false)),
                Some(1) => Ok(Some(true)),
                _ => Err(fail(v.as_ref().unwrap_or(&Value::Null))),
            },
            Some(Value::String(ref s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(fail(v.as_ref().unwrap_or(&Value::Null))),
            },
            Some(other) => Err(fail(&other)),
        }
    }

    /// [`opt_bool`] with `null` (and absence, with `#[serde(default)]`) as `false`.
    pub(super) fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        opt_bool(d).map(Option::unwrap_or_default)
    }

    /// A list, with `null` as empty.
    pub(super) fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: DeserializeOwned,
    {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }

    /// An instant in Toll's form, or any RFC 3339 instant (fractional
    /// seconds, an offset), or a local date-time without an offset (read as
    /// UTC, \[I\]: what a Java `LocalDateTime` serialises to); converted to
    /// UTC and whole seconds.
    pub(super) fn opt_instant<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<TollInstant>, D::Error> {
        let Some(s) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        parse_instant(s).map(Some).ok_or_else(|| {
            D::Error::custom(format!(
                "invalid value: \"{s}\", expected an ISO-8601 instant"
            ))
        })
    }

    pub(super) fn parse_instant(s: &str) -> Option<TollInstant> {
        if let Ok(t) = TollInstant::parse(s) {
            return Some(t);
        }
        if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
            return Some(TollInstant::from_offset_date_time(t));
        }
        let local = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        time::PrimitiveDateTime::parse(s, local)
            .ok()
            .map(|p| TollInstant::from_offset_date_time(p.assume_utc()))
    }
}

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
    #[serde(
        default,
        deserialize_with = "lenient::opt_instant",
        skip_serializing_if = "Option::is_none"
    )]
    pub notification_date: Option<TollInstant>,
    /// The MRN (on SUCCESS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrn: Option<Mrn>,
    /// Asynchronous errors (on FAILURE).
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub validation_error_list: Vec<AsyncValidationError>,
    /// Missing-documentation reasons (accepted but INCOMPLETE).
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub incomplete_documentation_reason_list: Vec<IncompleteDocumentationReason>,
    /// Set by [`ValidationStatus::from_body`] when Toll's body did not parse:
    /// the fields above are then what could be salvaged from it. Never
    /// serialised.
    #[serde(skip)]
    pub unparsed: Option<UnparsedBody>,
}

/// A response body that did not parse as the type expected, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnparsedBody {
    /// The HTTP status it came with.
    pub http_status: u16,
    /// The body as received (lossy UTF-8).
    pub body: String,
    /// The parse error, with its JSON path (`notificationDate: invalid
    /// value …`).
    pub error: String,
}

impl std::fmt::Display for UnparsedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "HTTP {} body did not parse ({}): {}",
            self.http_status, self.error, self.body
        )
    }
}

impl ValidationStatus {
    /// Reads a validation-status answer without ever failing: the body
    /// parsed as [`ValidationStatus`] when it can be, else what can be
    /// salvaged (`status`, `mrn`, the error and reason lists, each element
    /// on its own) with [`ValidationStatus::unparsed`] holding the raw body
    /// and the parse error. `request_id` is the id that was polled, used when
    /// the body's own is missing or unreadable. Unknown status codes are
    /// `ProcessingStatus::Other`, an unreadable status `Other("")`.
    pub fn from_body(request_id: RequestId, http_status: u16, body: &[u8]) -> Self {
        let mut de = serde_json::Deserializer::from_slice(body);
        let error = match serde_path_to_error::deserialize::<_, ValidationStatus>(&mut de) {
            Ok(status) => return status,
            Err(e) => {
                let path = e.path().to_string();
                if path == "." || path.is_empty() {
                    e.into_inner().to_string()
                } else {
                    format!("{path}: {}", e.into_inner())
                }
            }
        };
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let field = |name: &str| value.get(name).cloned().unwrap_or_default();
        let list = |name: &str| -> Vec<serde_json::Value> {
            field(name).as_array().cloned().unwrap_or_default()
        };
        Self {
            status: field("status").as_str().map_or_else(
                || ProcessingStatus::Other(String::new()),
                ProcessingStatus::from_code,
            ),
            request_id: serde_json::from_value(field("requestId")).unwrap_or(request_id),
            notification_date: field("notificationDate")
                .as_str()
                .and_then(lenient::parse_instant),
            mrn: serde_json::from_value(field("mrn")).ok(),
            validation_error_list: list("validationErrorList")
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
            incomplete_documentation_reason_list: list("incompleteDocumentationReasonList")
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
            unparsed: Some(UnparsedBody {
                http_status,
                body: String::from_utf8_lossy(body).into_owned(),
                error,
            }),
        }
    }
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
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub received: Option<bool>,
    /// Reasons when INCOMPLETE.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
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
    #[serde(
        default,
        deserialize_with = "lenient::opt_number",
        skip_serializing_if = "Option::is_none"
    )]
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
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
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
    #[serde(
        default,
        deserialize_with = "lenient::opt_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub weight: Option<Number>,
    /// Sum of the houses' weights.
    #[serde(
        default,
        deserialize_with = "lenient::opt_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub sum_of_weight_for_house_consignments: Option<Number>,
    /// `false` when the transport references a master not yet received.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub received: Option<bool>,
    /// The master's MRN, when reported (\[I\], as for houses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrn: Option<String>,
    /// Houses under this master.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub house_consignments: Vec<HouseStatusNode>,
}

/// `GET /transport/{mrn}/status-with-descendants` (and the master variant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusWithDescendants {
    /// Sum of master weights.
    #[serde(
        default,
        deserialize_with = "lenient::opt_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub sum_of_weight_for_master_consignments: Option<Number>,
    /// Sum of house weights.
    #[serde(
        default,
        deserialize_with = "lenient::opt_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub sum_of_weight_for_house_consignments: Option<Number>,
    /// The masters.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub master_consignments: Vec<MasterStatusNode>,
    /// Houses linked straight to the transport (direct consignments). Toll
    /// does not document where they appear; digitoll's simulator lists them
    /// here (\[I\]).
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub house_consignments: Vec<HouseStatusNode>,
}

/// `GET /entry/status/{mrn}` (field names from the public client, \[C S37\]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryStatus {
    /// Whether entry was granted. `null` or absent reads as `false` (not
    /// granted yet, \[I\]).
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
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
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub validation_errors: Vec<SyncValidationError>,
}

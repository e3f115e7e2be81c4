//! Request bodies of the road v2 submission API (`/api/movement/road/v2`).
//!
//! Design: every field is an `Option` and most leaf values are plain strings,
//! so that any JSON Toll would accept far enough to *report* errors also
//! deserialises here, and [`crate::validate`] can list every missing field,
//! length and code problem with its path, as Toll's 400 body does, instead of
//! stopping at the first serde error. Dates are [`TollInstant`] (a bad date is
//! a structural error that `validate_json` reports and then skips). Fields
//! serialise in camelCase and `None` is skipped. Unknown JSON fields are
//! ignored on input, as Toll's Spring/Jackson stack does by default.
//!
//! Spelling conflicts between Toll's sources (digitoll-api.md §1.3) are
//! accepted in both spellings on input; the one written is noted on the field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Number;

use crate::codes::{ImportProcedure, ObjectType, OutgoingProcedure, TypeOfExport};
use crate::newtypes::TollInstant;

/// Deserialisers that accept a number where Toll's v1 schema used a string and
/// vice versa (v1 had `containerIndicator` as both, `typeOfIdentification` as
/// both); Jackson coerces these silently, so we do too.
mod lenient {
    use serde::Deserialize;
    use serde::de::{Deserializer, Error};
    use serde_json::Value;

    pub(super) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(D::Error::custom(format!(
                "invalid type: {}, expected a string",
                super::json_kind(&other)
            ))),
        }
    }

    pub(super) fn opt_u8<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|v| u8::try_from(v).ok())
                .map(Some)
                .ok_or_else(|| {
                    D::Error::custom(format!("invalid value: {n}, expected a small integer"))
                }),
            Some(Value::String(s)) => s.trim().parse::<u8>().map(Some).map_err(|_| {
                D::Error::custom(format!("invalid value: \"{s}\", expected a small integer"))
            }),
            Some(other) => Err(D::Error::custom(format!(
                "invalid type: {}, expected a small integer",
                super::json_kind(&other)
            ))),
        }
    }
}

pub(crate) fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// A postal address. Since 2024-04 consignor and consignee need country, city,
/// postcode and a street line or PO box (digitoll-api.md §1.3, \[D S27\]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// City, 1–35 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 2))]
    pub country: Option<String>,
    /// Postcode, 1–17 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 17))]
    pub postcode: Option<String>,
    /// Street, 1–70 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub street_line: Option<String>,
    /// Second street line, 1–70 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub street_additional_line: Option<String>,
    /// House number, 1–35 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub number: Option<String>,
    /// PO box, 1–70 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub po_box: Option<String>,
    /// Sub-division (state/county), 1–35 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub sub_division: Option<String>,
}

/// A phone number or e-mail address (CL707: `TE`, `EM`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["identifier", "type"]))]
pub struct Communication {
    /// The number or address, 1–512 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub identifier: Option<String>,
    /// CL707 code.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2))]
    pub kind: Option<String>,
}

/// A party: carrier, consignor, consignee or representative.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["name"]))]
pub struct Party {
    /// Name, 1–70 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub name: Option<String>,
    /// Org no, EORI or national id, 1–17 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 17))]
    pub identification_number: Option<String>,
    /// CL729 (1 natural, 2 legal, 3 association); not used on the carrier.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u8",
        skip_serializing_if = "Option::is_none"
    )]
    pub type_of_person: Option<u8>,
    /// Representative status, CL094 (2 direct, 3 indirect); representative only.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// Postal address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Contact details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communication: Option<Vec<Communication>>,
}

/// The driver (`operator`), mandatory on a transport.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["name"]))]
pub struct Operator {
    /// Driver's name, 1–70 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub name: Option<String>,
    /// Driver's phone (`TE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communication: Option<Vec<Communication>>,
}

/// The vehicle crossing the border.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["identificationNumber", "typeOfIdentification", "typeOfMeansOfTransport", "countryCode", "modeOfTransportCode"]))]
pub struct ActiveBorderTransportMeans {
    /// Licence plate, 1–35 characters; immutable key on PUT.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub identification_number: Option<String>,
    /// CL750 (30 = road vehicle); immutable key on PUT.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 2, max = 2))]
    pub type_of_identification: Option<String>,
    /// CL751.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1, max = 4))]
    pub type_of_means_of_transport: Option<String>,
    /// Route number for scheduled traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub conveyance_reference_number: Option<String>,
    /// Nationality of the vehicle.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 2))]
    pub country_code: Option<String>,
    /// CL018 (3 = road).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1, max = 1))]
    pub mode_of_transport_code: Option<String>,
    /// The driver.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
}

/// `{"referenceNumber": "NO371001"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["referenceNumber"]))]
pub struct CustomsOfficeRef {
    /// CL141 code, exactly 8 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 8, max = 8))]
    pub reference_number: Option<String>,
}

/// A transport document reference as it appears in messages (lenient form of
/// [`crate::TransportDocument`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["documentNumber", "type"]))]
pub struct DocumentRef {
    /// 1–70 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub document_number: Option<String>,
    /// CL754, exactly 4 characters.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 4, max = 4))]
    pub doc_type: Option<String>,
}

impl DocumentRef {
    /// Convenience constructor.
    pub fn new(document_number: impl Into<String>, doc_type: impl Into<String>) -> Self {
        Self {
            document_number: Some(document_number.into()),
            doc_type: Some(doc_type.into()),
        }
    }
}

/// A house reference on a transport (direct consignment). The nesting
/// `consignmentMasterLevel[].consignmentHouseLevel[].transportDocumentHouseLevel`
/// follows the v1→v2 changelog (S26); whether `consignmentHouseLevel` is a list
/// is unverified (\[I\]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["transportDocumentHouseLevel"]))]
pub struct TransportHouseRef {
    /// The house waybill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_document_house_level: Option<DocumentRef>,
}

/// One entry of `transport.consignmentMasterLevel`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransportConsignment {
    /// The master waybill carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_document_master_level: Option<DocumentRef>,
    /// Direct consignments (houses linked straight to the transport).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consignment_house_level: Option<Vec<TransportHouseRef>>,
}

/// `POST /transport` and `PUT /transport/{MRN}` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["documentIssueDate", "activeBorderTransportMeans", "carrier", "customsOfficeOfFirstEntry", "scheduledDateAndTimeOfArrival", "estimatedDateAndTimeOfArrival"]))]
pub struct Transport {
    /// When the message was issued (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_issue_date: Option<TollInstant>,
    /// Submitting representative (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["identificationNumber"]))]
    pub representative: Option<Party>,
    /// The vehicle and driver (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_border_transport_means: Option<ActiveBorderTransportMeans>,
    /// The carrier (required; moved to the root in v2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["identificationNumber"]))]
    pub carrier: Option<Party>,
    /// Border office (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customs_office_of_first_entry: Option<CustomsOfficeRef>,
    /// Planned arrival (required since 2024-04-01; immutable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_date_and_time_of_arrival: Option<TollInstant>,
    /// Expected arrival (required; equals scheduled on the first POST).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_date_and_time_of_arrival: Option<TollInstant>,
    /// Masters (and direct houses) on board.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consignment_master_level: Option<Vec<TransportConsignment>>,
}

/// Container data (`transportEquipment[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransportEquipment {
    /// CL710.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub container_size_and_type: Option<String>,
    /// CL709 (A empty, B not empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_packed_status: Option<String>,
    /// CL711.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub container_supplier_type: Option<String>,
    /// Container number, 1–17 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 17))]
    pub container_identification_number: Option<String>,
}

/// A place (loading, unloading, acceptance, delivery). If neither `location`
/// nor `address` is given, `unloCode` is required (S10).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Place {
    /// Free-text location, 1–35 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub location: Option<String>,
    /// UN/LOCODE, 1–17 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 17))]
    pub unlo_code: Option<String>,
    /// Address (often only the country).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A postal receptacle (mail bag) listed on a master (UPU post).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Receptacle {
    /// Receptacle ids, e.g. `GBASFZMLBKONAUN30001001019999`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(inner(length(min = 1, max = 35)))]
    pub receptacle_identification_number: Option<Vec<String>>,
}

/// `consignmentMasterLevel.consignmentHouseLevel` of a master (postal only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MasterHouseLevel {
    /// Mail bags in this master.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receptacle: Option<Vec<Receptacle>>,
}

/// `consignmentMasterLevel` of a master consignment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["containerIndicator", "grossMass", "carrier", "consignor", "consignee", "transportDocumentMasterLevel"]))]
pub struct MasterConsignmentLevel {
    /// CL708 (0/1), required.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u8",
        skip_serializing_if = "Option::is_none"
    )]
    pub container_indicator: Option<u8>,
    /// Gross mass in kg, required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross_mass: Option<Number>,
    /// Carrier; its id must equal the transport's carrier id for the link.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["identificationNumber"]))]
    pub carrier: Option<Party>,
    /// Sender (required since 2024-04).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["typeOfPerson", "address"], "properties" = {"address": {"required": ["country", "city", "postcode"]}}))]
    pub consignor: Option<Party>,
    /// Receiver (required since 2024-04).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["typeOfPerson", "address"], "properties" = {"address": {"required": ["country", "city", "postcode"]}}))]
    pub consignee: Option<Party>,
    /// Master waybill; immutable key with the carrier id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_document_master_level: Option<DocumentRef>,
    /// Containers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_equipment: Option<Vec<TransportEquipment>>,
    /// Postal receptacles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consignment_house_level: Option<MasterHouseLevel>,
    /// Place of loading (recommended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_of_loading: Option<Place>,
    /// Place of unloading (recommended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_of_unloading: Option<Place>,
}

/// `POST /master-consignment` and `PUT /master-consignment/{MRN}` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["documentIssueDate", "consignmentMasterLevel"]))]
pub struct MasterConsignment {
    /// When the message was issued (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_issue_date: Option<TollInstant>,
    /// Submitting representative (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["identificationNumber"]))]
    pub representative: Option<Party>,
    /// The consignment (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consignment_master_level: Option<MasterConsignmentLevel>,
}

/// Link of a direct consignment to the transport's carrier. Written as
/// `tranportLevel`, Toll's verbatim spelling on S4 (the only source);
/// `transportLevel` is accepted on input in case the live schema fixed it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransportLevelRef {
    /// The transport's carrier id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 17))]
    pub carrier_identification_number: Option<String>,
}

/// Link from a house to its master.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HouseMasterRef {
    /// The master's carrier id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 17))]
    pub carrier_identification_number: Option<String>,
    /// The master waybill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_document_master_level: Option<DocumentRef>,
}

/// `importProcedure` block of a house.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportProcedureBlock {
    /// The procedure at the border.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_procedure: Option<ImportProcedure>,
    /// The procedure up to the border (TRA, EXP, TRE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outgoing_procedure: Option<OutgoingProcedure>,
    /// `false` when there is no outgoing procedure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_outgoing_procedure: Option<bool>,
}

/// `previousDocuments[]`: a CUDE (TVINN declaration id) or a reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["typeOfReference"]))]
pub struct PreviousDocument {
    /// CL228 or CUDE/RETR/GONU/C624, exactly 4 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 4, max = 4))]
    pub type_of_reference: Option<String>,
    /// The reference (not for CUDE), 1–70 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 70))]
    pub reference_number: Option<String>,
    /// CUDE: declarant number, 9–11 characters.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 9, max = 11))]
    pub declarant_number: Option<String>,
    /// CUDE: declaration date, `yyyy-MM-dd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration_date: Option<String>,
    /// CUDE: sequence number, 1–6 characters.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1, max = 6))]
    pub sequence_number: Option<String>,
}

/// `exportFromEU[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["typeOfExport"]))]
pub struct ExportFromEu {
    /// TB_EXPORTTYPE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_of_export: Option<TypeOfExport>,
    /// The export id; format depends on the type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_id: Option<String>,
}

/// `goodsItem[].itemAmountInvoicedVOEC`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["value"]))]
pub struct ItemAmountInvoicedVoec {
    /// Invoiced value in NOK; over 3000 is rejected (S10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Number>,
    /// Number of items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_items: Option<Number>,
}

/// `goodsItem[].commodityCodeVOEC`. Written as
/// `harmonizedSystemSubheadingCode` (S1's current procedure table, the S26
/// changelog and the public client agree); S13's example spelling
/// `harmonizedSystemSubHeadingCode` is accepted on input.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("required" = ["harmonizedSystemSubheadingCode"]))]
pub struct CommodityCodeVoec {
    /// HS subheading, exactly 6 characters.
    #[serde(
        rename = "harmonizedSystemSubheadingCode",
        alias = "harmonizedSystemSubHeadingCode",
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 6, max = 6))]
    pub harmonized_system_subheading_code: Option<String>,
}

/// `goodsItem[].additionalFiscalReferences` (the VOEC number).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["vatIdentificationNumber"]))]
pub struct AdditionalFiscalReference {
    /// VOEC number, 1–17 characters.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1, max = 17))]
    pub vat_identification_number: Option<String>,
    /// CL756, e.g. FR5 (VOEC vendor).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 3))]
    pub role: Option<String>,
}

/// A VOEC goods item (only with `IMMEDIATE_RELEASE_VOEC`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GoodsItem {
    /// Value and count.
    #[serde(
        rename = "itemAmountInvoicedVOEC",
        skip_serializing_if = "Option::is_none"
    )]
    pub item_amount_invoiced_voec: Option<ItemAmountInvoicedVoec>,
    /// HS code.
    #[serde(rename = "commodityCodeVOEC", skip_serializing_if = "Option::is_none")]
    pub commodity_code_voec: Option<CommodityCodeVoec>,
    /// VOEC number. Written as `additionalFiscalReferences` (S13 example and
    /// S1 table); the S26 changelog's `additionalFiscalReference` is accepted.
    #[serde(
        rename = "additionalFiscalReferences",
        alias = "additionalFiscalReference",
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_fiscal_references: Option<AdditionalFiscalReference>,
}

/// `consignmentHouseLevel` of a house consignment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["containerIndicator", "totalGrossMass", "numberOfPackages", "goodsDescription", "transportDocumentHouseLevel", "consignor", "consignee"]))]
pub struct HouseConsignmentLevel {
    /// Postal item in a receptacle (links to the master by receptacle id).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub receptacle_identification_number: Option<String>,
    /// `true` for a house linked straight to a transport.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_consignment: Option<bool>,
    /// Direct consignment link (see [`TransportLevelRef`] for the spelling).
    #[serde(
        rename = "tranportLevel",
        alias = "transportLevel",
        skip_serializing_if = "Option::is_none"
    )]
    pub transport_level: Option<TransportLevelRef>,
    /// CL708 (0/1), required.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u8",
        skip_serializing_if = "Option::is_none"
    )]
    pub container_indicator: Option<u8>,
    /// Gross mass in kg with up to 6 decimals, required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_gross_mass: Option<Number>,
    /// Number of packages, required (v2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_packages: Option<Number>,
    /// Goods description, required (v2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub goods_description: Option<String>,
    /// House waybill (required; immutable key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_document_house_level: Option<DocumentRef>,
    /// Link to the master (not for post or direct consignments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consignment_master_level: Option<HouseMasterRef>,
    /// Procedure at and up to the border.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_procedure: Option<ImportProcedureBlock>,
    /// Declarations and other references.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_documents: Option<Vec<PreviousDocument>>,
    /// Exports from the EU/Sweden to clear at the border.
    #[serde(rename = "exportFromEU", skip_serializing_if = "Option::is_none")]
    pub export_from_eu: Option<Vec<ExportFromEu>>,
    /// Sender (required; address required since 2024-04).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["typeOfPerson", "address"], "properties" = {"address": {"required": ["country", "city", "postcode"]}}))]
    pub consignor: Option<Party>,
    /// Receiver (required; address required since 2024-04).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["typeOfPerson", "address"], "properties" = {"address": {"required": ["country", "city", "postcode"]}}))]
    pub consignee: Option<Party>,
    /// Place of acceptance (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_of_acceptance: Option<Place>,
    /// Place of delivery (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_of_delivery: Option<Place>,
    /// VOEC goods items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_item: Option<Vec<GoodsItem>>,
    /// Containers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_equipment: Option<Vec<TransportEquipment>>,
}

/// `POST /house-consignment` and `PUT /house-consignment/{MRN}` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["documentIssueDate", "consignmentHouseLevel"]))]
pub struct HouseConsignment {
    /// When the message was issued (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_issue_date: Option<TollInstant>,
    /// Submitting representative (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["identificationNumber"]))]
    pub representative: Option<Party>,
    /// The consignment (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consignment_house_level: Option<HouseConsignmentLevel>,
}

/// Relation create body (S6): links two existing messages by MRN. The path
/// (`POST /relation`) is a guess (\[I\]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["representative", "parentObjectType", "parentObjectReference", "childObjectType", "childObjectReference"]))]
pub struct Relation {
    /// The representative's org no (a plain string here, per S6's example).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 17))]
    pub representative: Option<String>,
    /// TRANSPORT, MASTER_CONSIGNMENT, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_object_type: Option<ObjectType>,
    /// The parent's MRN.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 18, max = 18))]
    pub parent_object_reference: Option<String>,
    /// The child's type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_object_type: Option<ObjectType>,
    /// The child's MRN.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 18, max = 18))]
    pub child_object_reference: Option<String>,
}

/// DELETE body for transport, master, house and relation: at least
/// `documentIssueDate`; the public client also sends the representative.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["documentIssueDate"]))]
pub struct DeleteBody {
    /// When the deletion was issued (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_issue_date: Option<TollInstant>,
    /// Submitting representative (optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("required" = ["identificationNumber"]))]
    pub representative: Option<Party>,
}

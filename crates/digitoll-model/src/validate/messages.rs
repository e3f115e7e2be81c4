//! Toll's error texts, verbatim where Toll documents them.
//!
//! Synchronous texts come from S9 (`synkrone-valideringsfeil-EN.html`),
//! asynchronous ones from S10 (`asynkrone-valideringsfeil-EN.html` @e57bc09).
//! Texts marked \[I\] are ours: Toll documents the rule but not its message.

/// \[D S9\] Required object/number/list missing.
pub const NOT_NULL: &str = "must not be null";
/// \[D S9\] Required string missing or empty.
pub const NOT_BLANK: &str = "must not be blank";
/// \[D S9\] Bad date-time format.
pub const INSTANT: &str = "invalid ISO-8601 instant in UTC (yyyy-MM-ddTHH:mm:ssZ)";
/// \[I\] Bad `yyyy-MM-dd` date (Toll's v1 schema had a pattern; its message is
/// undocumented).
pub const DATE: &str = "invalid ISO-8601 date (yyyy-MM-dd)";

/// \[D S9\] `size must be between {min} and {max}`.
pub fn size(min: usize, max: usize) -> String {
    format!("size must be between {min} and {max}")
}

/// \[D S9\] `numeric value out of bounds (<{int} digits>.<{frac} digits> expected)`.
pub fn digits(int: usize, frac: usize) -> String {
    format!("numeric value out of bounds (<{int} digits>.<{frac} digits> expected)")
}

/// \[D S9\] `At least one of the following fields should be non null: [a, b]`.
pub fn at_least_one(fields: &[&str]) -> String {
    format!(
        "At least one of the following fields should be non null: [{}]",
        fields.join(", ")
    )
}

/// \[D S9\] `Must be one of [x, y]`.
pub fn one_of<S: AsRef<str>>(values: &[S]) -> String {
    format!("Must be one of [{}]", join(values))
}

/// \[D S10\] `Invalid code. Expected codes are one of [...]`.
pub fn invalid_code<S: AsRef<str>>(codes: &[S]) -> String {
    format!("Invalid code. Expected codes are one of [{}]", join(codes))
}

/// \[D S10\] Country not in ISO 3166-1 alpha-2.
pub const COUNTRY_INVALID: &str = "Country is invalid";
/// \[D S10\] Customs office not in CL141.
pub const CUSTOMS_OFFICE_INVALID: &str = "Must be a valid customs office";

/// \[D S10\] Export id does not fit its `typeOfExport`.
pub fn export_id_format(type_of_export: &str) -> String {
    format!("Invalid MRN format for export of type {type_of_export}")
}

/// \[D S10\] Unknown outgoing procedure.
pub fn outgoing_procedure_codes<S: AsRef<str>>(codes: &[S]) -> String {
    format!(
        "When field is provided, it has to be one of [{}]",
        join(codes)
    )
}

/// \[D S10\] exportFromEU given with outgoing procedure TRA.
pub const EXPORT_WITH_TRA: &str =
    "Field cannot have values when consignmentHouseLevel.importProcedure.outgoingProcedure is TRA";
/// \[D S10\] N820 given with outgoing procedure EXP (Toll's wording, typo included).
pub const N820_WITH_EXP: &str =
    "Field cannot have value N820 out when consignmentHouseLevel.outgoingProcedure is EXP";
/// \[D S10\] A place without location, address and UN/LOCODE.
pub const UNLOCODE_REQUIRED: &str =
    "If location AND address is not provided, then unloCode is required";
/// \[D S10\] A `unloCode` not in CL144 UN/LOCODE.
pub const UNLOCODE_INVALID: &str = "Invalid code. Expected valid UNLOCODE";
/// \[D S10\] Transit reference not in a usable state.
pub const N820_WRONG_STATE: &str =
    "Document with typeOfReference N820 contains a referenceNumber in wrong state";
/// \[D S10\] VOEC item over the limit.
pub const VOEC_OVER_LIMIT: &str =
    "When item value exceeds NOK 3000, a regular import declaration has to be submitted";
/// \[D S10\] VOEC number without a permit.
pub const VOEC_UNKNOWN: &str = "Unknown vatIdentificationNumber";
/// \[D S10\] goodsItem without the VOEC procedure.
pub const GOODS_ITEM_NOT_VOEC: &str = "If consignmentHouseLevel.importProcedure.importProcedure is not IMMEDIATE_RELEASE_VOEC, it should not be provided.";

/// \[D S10\] CUDE fields with a procedure that takes no declaration.
pub fn cude_field_not_allowed(import_procedure: &str) -> String {
    format!(
        "Field cannot be filled out when consignmentHouseLevel.importProcedure is {import_procedure}"
    )
}

/// \[D S10\] CUDE without one of its three fields.
pub const CUDE_FIELD_REQUIRED: &str = "Required field when typeReference is CUDE";
/// \[D S10\] previousDocuments without importProcedure.
pub const IMPORT_PROCEDURE_REQUIRED: &str =
    "importProcedure is required when any consignmentHouseLevel.previousDocuments[] is provided";
/// \[D S10\] More than one CUDE.
pub const ONE_CUDE_ONLY: &str = "PreviousDocuments can only contain one document of type CUDE";
/// \[D S10\] Non-CUDE reference without referenceNumber.
pub const REFERENCE_NUMBER_REQUIRED: &str =
    "Field should have value unless typeOfReference is CUDE";

/// \[D S10\] Duplicate previous-document reference.
pub fn duplicate_reference(reference: &str) -> String {
    format!("Duplicate PreviousDocuments with referenceNumber: {reference}")
}

/// \[D S10\] Duplicate CUDE.
pub fn duplicate_cude(declarant: &str, date: &str, sequence: &str) -> String {
    format!(
        "Duplicate PreviousDocuments of type CUDE with declarantNumber: {declarant}, declarationDate: {date} and sequenceNumber: {sequence}"
    )
}

/// \[D S10\] Duplicate export id.
pub fn duplicate_export(export_id: &str) -> String {
    format!("Duplicate ExportFromEU with exportId: {export_id}")
}

/// \[I\] text for the \[D S27\] rule that estimated and scheduled arrival are
/// equal on the first submission.
pub const ESTIMATED_NOT_SCHEDULED: &str = "estimatedDateAndTimeOfArrival must be equal to scheduledDateAndTimeOfArrival on first submission";

/// \[I\] text for the \[D S1\] end of the GONU transitional arrangement.
pub const GONU_EXPIRED: &str =
    "Goods number (GONU) with WAREHOUSE_RELEASE is only allowed until 2027-03-01";

fn join<S: AsRef<str>>(values: &[S]) -> String {
    values
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

/// \[I\] an identifier that should be an MRN but is not of its shape (Toll's
/// S10 wording for export MRNs, without the type).
pub const INVALID_MRN: &str = "Invalid MRN format";
/// \[I\] a client-supplied `requestId` that is not a UUID.
pub const NOT_UUID: &str = "must be a valid UUID";
/// \[I\] a presentation `requestId` that was used before (contract text).
pub const REQUEST_ID_USED: &str = "requestId already used";
/// \[I\] a presented document, or an arriving transport, Toll does not know.
pub const DOCUMENT_NOT_FOUND: &str = "Document not found";

/// \[I\] An outgoing procedure the mode's procedure page does not list for
/// the import procedure (S1, S17; Toll's answer is unknown).
pub fn outgoing_not_listed(
    mode: &str,
    import_procedure: &str,
    outgoing: Option<&str>,
    listed: &[Option<&str>],
) -> String {
    let show = |o: Option<&str>| o.unwrap_or("none").to_owned();
    let listed: Vec<String> = listed.iter().map(|o| show(*o)).collect();
    format!(
        "outgoingProcedure {} is not documented with importProcedure {import_procedure} for {mode} (documented: [{}])",
        show(outgoing),
        listed.join(", ")
    )
}

/// \[I\] WAREHOUSE_RELEASE with GONU outside road (only S1 lists GONU).
pub fn gonu_not_listed(mode: &str) -> String {
    format!("WAREHOUSE_RELEASE with goods number (GONU) is not documented for {mode}")
}

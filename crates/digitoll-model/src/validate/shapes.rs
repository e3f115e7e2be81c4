//! The field shapes local validation enforces: string length limits, number
//! digits and text formats, each with its source. The validator reads these
//! constants, and [`crate::sources::render_markdown`] renders the same
//! tables, so the documentation cannot drift from the checks.
//!
//! Length limits come from the road v1 Swagger \[D S28\] (digitoll-api.md
//! §1.3) unless marked otherwise; limits marked \[I\] are in no source and are
//! our conservative choice.

use crate::rules::Source;

const S9: Source = Source::Documented("S9 api/mo/synkrone-valideringsfeil-EN.html");
const S10: Source = Source::Documented("S10 api/mo/asynkrone-valideringsfeil-EN.html");
const S12: Source = Source::Documented("S12 api/mo/mo-kodeverk-EN.html");
const S28: Source = Source::Documented("S28 api/movement-road-api.html (v1 Swagger, git 98d26b6)");

/// A string length limit (`size must be between {min} and {max}`, rule
/// `field.size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldShape {
    /// Short name of the limit.
    pub name: &'static str,
    /// The fields it applies to.
    pub applies_to: &'static str,
    /// Minimum length in characters.
    pub min: usize,
    /// Maximum length in characters.
    pub max: usize,
    /// Where the limit comes from.
    pub sources: &'static [Source],
}

/// A number's digits (`numeric value out of bounds`, rule `field.digits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberShape {
    /// Short name.
    pub name: &'static str,
    /// The fields it applies to.
    pub applies_to: &'static str,
    /// Digits before the decimal point.
    pub integer: usize,
    /// Digits after the decimal point.
    pub fraction: usize,
    /// Where it comes from.
    pub sources: &'static [Source],
}

/// A text format checked in code (documented here with the rule that checks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatShape {
    /// The fields.
    pub applies_to: &'static str,
    /// The format, in words.
    pub format: &'static str,
    /// The rule id that reports a mismatch.
    pub rule: &'static str,
    /// Where it comes from.
    pub sources: &'static [Source],
}

const fn len(
    name: &'static str,
    applies_to: &'static str,
    min: usize,
    max: usize,
    sources: &'static [Source],
) -> FieldShape {
    FieldShape {
        name,
        applies_to,
        min,
        max,
        sources,
    }
}

const V1: &[Source] = &[S28];
const OURS: &[Source] = &[Source::Inferred(
    "no source gives this limit; our conservative choice",
)];

pub(crate) const NAME: FieldShape = len("name", "party and operator `name`", 1, 70, V1);
pub(crate) const PARTY_ID: FieldShape = len(
    "party-id",
    "`identificationNumber` of parties, relation `representative`",
    1,
    17,
    V1,
);
pub(crate) const CITY: FieldShape = len("city", "`address.city`", 1, 35, V1);
pub(crate) const COUNTRY: FieldShape = len("country", "`country`, `countryCode`", 2, 2, V1);
pub(crate) const POSTCODE: FieldShape = len("postcode", "`address.postcode`", 1, 17, V1);
pub(crate) const STREET: FieldShape = len(
    "street",
    "`streetLine`, `streetAdditionalLine`, `poBox`",
    1,
    70,
    V1,
);
pub(crate) const HOUSE_NUMBER: FieldShape = len("house-number", "`address.number`", 1, 35, V1);
pub(crate) const SUB_DIVISION: FieldShape = len("sub-division", "`address.subDivision`", 1, 35, V1);
pub(crate) const COMM_ID: FieldShape = len(
    "communication-id",
    "`communication[].identifier`",
    1,
    512,
    V1,
);
pub(crate) const COMM_TYPE: FieldShape =
    len("communication-type", "`communication[].type`", 1, 2, OURS);
pub(crate) const DOC_NUMBER: FieldShape = len(
    "document-number",
    "`documentNumber` of transport documents",
    1,
    70,
    V1,
);
pub(crate) const DOC_TYPE: FieldShape =
    len("document-type", "`type` of transport documents", 4, 4, V1);
pub(crate) const OFFICE: FieldShape = len(
    "customs-office",
    "customs office reference numbers",
    8,
    8,
    V1,
);
pub(crate) const UNLOCODE: FieldShape = len(
    "unlocode",
    "`unloCode` (the format rule then wants 5)",
    1,
    17,
    V1,
);
pub(crate) const LOCATION: FieldShape = len("location", "place `location`", 1, 35, V1);
pub(crate) const CONTAINER_ID: FieldShape =
    len("container-id", "`containerIdentificationNumber`", 1, 17, V1);
pub(crate) const MEANS_ID: FieldShape = len(
    "means-id",
    "`activeBorderTransportMeans.identificationNumber`",
    1,
    35,
    V1,
);
pub(crate) const TYPE_OF_ID: FieldShape =
    len("type-of-identification", "`typeOfIdentification`", 2, 2, V1);
pub(crate) const MEANS_TYPE: FieldShape = len("means-type", "`typeOfMeansOfTransport`", 1, 4, V1);
pub(crate) const MODE: FieldShape = len("mode", "`modeOfTransportCode`", 1, 1, V1);
pub(crate) const PREV_REF: FieldShape = len(
    "previous-reference",
    "`previousDocuments[].referenceNumber`",
    1,
    70,
    V1,
);
pub(crate) const PREV_TYPE: FieldShape = len(
    "previous-type",
    "`previousDocuments[].typeOfReference`",
    4,
    4,
    V1,
);
pub(crate) const DECLARANT: FieldShape = len(
    "declarant",
    "`previousDocuments[].declarantNumber`",
    9,
    11,
    V1,
);
pub(crate) const SEQUENCE: FieldShape =
    len("sequence", "`previousDocuments[].sequenceNumber`", 1, 6, V1);
pub(crate) const VAT: FieldShape = len("vat", "`vatIdentificationNumber`", 1, 17, V1);
pub(crate) const HS: FieldShape = len("hs", "`harmonizedSystemSubheadingCode`", 6, 6, V1);
pub(crate) const FISCAL_ROLE: FieldShape =
    len("fiscal-role", "`additionalFiscalReferences.role`", 1, 3, V1);
pub(crate) const GOODS_DESCRIPTION: FieldShape =
    len("goods-description", "`goodsDescription`", 1, 512, V1);
pub(crate) const PROCEDURE: FieldShape = len(
    "procedure",
    "`importProcedure`, `outgoingProcedure`",
    1,
    35,
    OURS,
);
pub(crate) const CONVEYANCE: FieldShape = len(
    "conveyance",
    "`conveyanceReferenceNumber` (Systema's UI allows 17)",
    1,
    35,
    &[Source::Inferred(
        "no Toll source; SystemaAS/espedsgtvinnsad's UI has maxLength 17 for the flight number",
    )],
);
pub(crate) const CARRIER_LINK: FieldShape = len(
    "carrier-link",
    "`carrierIdentificationNumber` links",
    1,
    17,
    OURS,
);
pub(crate) const RECEPTACLE: FieldShape = len("receptacle", "receptacle ids", 1, 35, OURS);
pub(crate) const MRN_LEN: FieldShape = len(
    "mrn",
    "MRN references",
    18,
    18,
    &[Source::Inferred("every MRN Toll shows has 18 characters")],
);
pub(crate) const REQUEST_ID: FieldShape = len(
    "request-id",
    "presentation `requestId`",
    1,
    36,
    &[Source::Inferred("a UUID has 36 characters")],
);

/// Every length limit, in the order the documentation lists them.
pub static FIELD_SHAPES: &[FieldShape] = &[
    NAME,
    PARTY_ID,
    CITY,
    COUNTRY,
    POSTCODE,
    STREET,
    HOUSE_NUMBER,
    SUB_DIVISION,
    COMM_ID,
    COMM_TYPE,
    DOC_NUMBER,
    DOC_TYPE,
    OFFICE,
    UNLOCODE,
    LOCATION,
    CONTAINER_ID,
    MEANS_ID,
    TYPE_OF_ID,
    MEANS_TYPE,
    MODE,
    PREV_REF,
    PREV_TYPE,
    DECLARANT,
    SEQUENCE,
    VAT,
    HS,
    FISCAL_ROLE,
    GOODS_DESCRIPTION,
    PROCEDURE,
    CONVEYANCE,
    CARRIER_LINK,
    RECEPTACLE,
    MRN_LEN,
    REQUEST_ID,
];

/// `totalGrossMass`, `grossMass`: "up to 6 decimals" \[D S28\]; integer part \[I\].
pub(crate) const MASS_DIGITS: NumberShape = NumberShape {
    name: "mass",
    applies_to: "`totalGrossMass`, `grossMass`",
    integer: 16,
    fraction: 6,
    sources: &[S9, S28, Source::Inferred("the integer part is ours")],
};
/// VOEC value in NOK with øre \[I\].
pub(crate) const AMOUNT_DIGITS: NumberShape = NumberShape {
    name: "amount",
    applies_to: "`itemAmountInvoicedVOEC.value`",
    integer: 16,
    fraction: 2,
    sources: &[Source::Inferred("NOK with øre")],
};
/// Counts are integers \[I\].
pub(crate) const COUNT_DIGITS: NumberShape = NumberShape {
    name: "count",
    applies_to: "`numberOfPackages`, `numberOfItems`",
    integer: 9,
    fraction: 0,
    sources: &[Source::Inferred("counts are whole numbers")],
};

/// Every number shape.
pub static NUMBER_SHAPES: &[NumberShape] = &[MASS_DIGITS, AMOUNT_DIGITS, COUNT_DIGITS];

/// Every text format checked in code.
pub static FORMATS: &[FormatShape] = &[
    FormatShape {
        applies_to: "date-times (`documentIssueDate`, arrival times, …)",
        format: "`yyyy-MM-ddTHH:mm:ssZ` exactly (UTC, no fraction)",
        rule: "field.instant-format",
        sources: &[S9],
    },
    FormatShape {
        applies_to: "`previousDocuments[].declarationDate`",
        format: "`yyyy-MM-dd`",
        rule: "field.date-format",
        sources: &[S28],
    },
    FormatShape {
        applies_to: "`unloCode`",
        format: "5 characters: an ISO 3166-1 alpha-2 country in the country list + 3 of `[A-Z2-9]`",
        rule: "place.unlocode.format",
        sources: &[
            S10,
            Source::Inferred("UN/LOCODE's published syntax; no CL144 list is embedded"),
        ],
    },
    FormatShape {
        applies_to: "MRN references (relations, presentations, arrival, AES export ids)",
        format: "18 characters: 2 digits, 2 uppercase letters, 14 uppercase letters or digits",
        rule: "mrn.format",
        sources: &[Source::Inferred(
            "from Toll's example MRNs; Toll documents no syntax",
        )],
    },
    FormatShape {
        applies_to: "`exportId` with EUEIR_EXPORT",
        format: "1 to 35 characters",
        rule: "house.export.id-format",
        sources: &[S10, S12],
    },
    FormatShape {
        applies_to: "`exportId` with EIDR_EXPORT",
        format: "18 alphanumerics, 1–2 digits, 3–4 `SE`, 16–17 `AE`",
        rule: "house.export.id-format",
        sources: &[S10, S12],
    },
    FormatShape {
        applies_to: "presentation `requestId`",
        format: "a UUID",
        rule: "presentation.request-id.uuid",
        sources: &[Source::Inferred("the ids Toll issues are UUIDs")],
    },
];

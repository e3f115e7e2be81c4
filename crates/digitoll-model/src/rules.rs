//! The rule catalogue: every local validation rule with a stable id, its
//! source and its default severity, and per-run severity overrides.
//!
//! Rule ids are stable, dotted, lowercase (`house.export.eidr-road-only`):
//! they appear in contract profiles (`[rules]` in a profile TOML), in the
//! gateway's stored findings and in the generated source table, so renaming
//! one is a breaking change.
//!
//! A finding of a rule whose effective severity is [`Severity::Warning`] is
//! reported in [`crate::ValidationReport::warnings`] instead of failing the
//! message; [`Severity::Off`] drops it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::validate::Channel;

/// How a rule's finding is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The finding rejects the message (400, FAILURE or INCOMPLETE, as the
    /// rule's channel says).
    Error,
    /// The finding is reported as a warning; the message passes.
    Warning,
    /// The rule is not checked.
    Off,
}

impl Severity {
    /// Every severity, in the order a profile lists them.
    pub const ALL: [Severity; 3] = [Self::Error, Self::Warning, Self::Off];

    /// The word used in profiles and on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Off => "off",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity word that is not `error`, `warning` or `off`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}`: expected one of error, warning, off")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownSeverity(s.to_owned()))
    }
}

/// Where a fact about Toll comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Toll's documentation: the page (path under toll.github.io, or the
    /// S-number of `digitoll-api.md`).
    Documented(&'static str),
    /// Seen in public client code: repository and path.
    SeenInCode {
        /// `owner/name`.
        repo: &'static str,
        /// Path in the repository.
        path: &'static str,
    },
    /// Our inference, with the reason.
    Inferred(&'static str),
}

/// One local validation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id (`transport.operator.required`).
    pub id: &'static str,
    /// One line: what the rule checks.
    pub summary: &'static str,
    /// How Toll reports a finding of this rule (400, FAILURE, INCOMPLETE).
    pub channel: Channel,
    /// The severity when no profile overrides it.
    pub default: Severity,
    /// Where the rule comes from (at least one entry).
    pub sources: &'static [Source],
}

/// Every rule local validation knows, in a stable order.
pub fn all() -> &'static [RuleInfo] {
    RULES
}

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

// -- sources ------------------------------------------------------------------
// Pages are paths under toll.github.io; `Sn` is the source number in
// shared/docs/digitoll-api.md.

const S1: Source = Source::Documented("S1 api/mo/prosedyre-mo-vei-ferge-EN.html");
const S4: Source = Source::Documented("S4 api/mo/kobling-oppdatering-og-sletting-EN.html");
const S6: Source = Source::Documented("S6 api/mo/beskrivelse-av-koblings-api-EN.html");
const S9: Source = Source::Documented("S9 api/mo/synkrone-valideringsfeil-EN.html");
const S10: Source = Source::Documented("S10 api/mo/asynkrone-valideringsfeil-EN.html");
const S10_INCOMPLETE: Source = Source::Documented("S10 api/mo/ufullstendig-dokumentasjon-EN.html");
const S12: Source = Source::Documented("S12 api/mo/mo-kodeverk-EN.html");
const S13: Source = Source::Documented("S13 api/mo/mo-eksempler-EN.html");
const S15: Source = Source::Documented("S15 api/mo/sentrale-dataelementer-EN.html");
const S19: Source = Source::Documented("S19 api/ics2/ics2-forsendelser-EN.html");
const S26: Source = Source::Documented("S26 api/mo/mo-vei-endringer-v1-v2.html (git 553674a^)");
const S27: Source = Source::Documented("S27 api/mo/mo-obligatorisk-2024-04-EN.html (git 553674a^)");
const S28: Source = Source::Documented("S28 api/movement-road-api.html (v1 Swagger, git 98d26b6)");
const AIR: Source = Source::Documented("S17 api/mo/prosedyre-mo-fly-EN.html");
const SEA: Source = Source::Documented("S17 api/mo/prosedyre-mo-sjo-EN.html");
const RAIL: Source = Source::Documented("S17 api/mo/prosedyre-mo-tog-EN.html");
const SYSTEMA_TRANSPORT: Source = Source::SeenInCode {
    repo: "SystemaAS/syjservicestn-expft",
    path: "src/no/systema/jservices/tvinn/digitoll/v2/services/MapperTransport.java",
};

const fn rule(
    id: &'static str,
    channel: Channel,
    default: Severity,
    summary: &'static str,
    sources: &'static [Source],
) -> RuleInfo {
    RuleInfo {
        id,
        summary,
        channel,
        default,
        sources,
    }
}

use Channel::{Business as FAIL, Incomplete as INC, Sync as SYNC};
use Severity::{Error as E, Warning as W};

/// The catalogue.
///
/// Granularity: a generic check applied to many fields (required, blank,
/// size, number format, instant format, each code list) is **one rule per
/// kind of check** (and one per code list), because what a user switches off
/// is "Toll no longer checks CL751" or "our size limits are wrong", not one
/// field's limit; a profile that needs a single field relaxed is better served
/// by fixing the limit table. Rules that encode one documented business
/// decision (the operator requirement, a per-mode procedure table, a
/// deadline) are one rule each, so exactly that decision can be switched off
/// or downgraded when Toll's live answer differs.
static RULES: &[RuleInfo] = &[
    // -- 400: generic field checks ------------------------------------------
    rule(
        "json.type",
        SYNC,
        E,
        "A JSON value of the wrong type is reported at its path (serde's text)",
        &[Source::Inferred(
            "Toll's Spring/Jackson answers type errors with 400; the text is ours",
        )],
    ),
    rule(
        "field.required",
        SYNC,
        E,
        "Required objects, numbers and lists are present (`must not be null`)",
        &[S9, S15, S27, S28],
    ),
    rule(
        "field.not-blank",
        SYNC,
        E,
        "Required strings are present and not blank (`must not be blank`)",
        &[S9, S28],
    ),
    rule(
        "field.size",
        SYNC,
        E,
        "String lengths within the field's limits (`size must be between {min} and {max}`); limits in the field-shape table",
        &[
            S9,
            S28,
            Source::Inferred("limits without a source are marked [I] in the field-shape table"),
        ],
    ),
    rule(
        "field.instant-format",
        SYNC,
        E,
        "Date-times are exactly `yyyy-MM-ddTHH:mm:ssZ`",
        &[S9],
    ),
    rule(
        "field.date-format",
        SYNC,
        E,
        "`previousDocuments[].declarationDate` is `yyyy-MM-dd`",
        &[
            S28,
            Source::Inferred("the v1 schema has the pattern; the message text is ours"),
        ],
    ),
    rule(
        "field.digits",
        SYNC,
        E,
        "Masses have at most 6 decimals, counts are integers (`numeric value out of bounds`)",
        &[
            S9,
            S28,
            Source::Inferred("integer parts and the VOEC amount's 2 decimals are ours"),
        ],
    ),
    rule(
        "address.street-or-po-box",
        SYNC,
        E,
        "A consignor/consignee address has `streetLine` or `poBox`",
        &[
            S27,
            Source::Inferred(
                "the S9 'At least one of' text fits; Toll's actual text is undocumented",
            ),
        ],
    ),
    rule(
        "transport.master-or-house-document",
        SYNC,
        E,
        "Each `consignmentMasterLevel[]` of a transport has a master or a house document",
        &[
            S26,
            Source::Inferred("text from S9's 'At least one of' pattern"),
        ],
    ),
    rule(
        "codelist.cl708",
        SYNC,
        E,
        "`containerIndicator` is in CL708 (0, 1), reported as `Must be one of`",
        &[
            S9,
            S12,
            Source::Inferred("sync channel: the field is an integer enum"),
        ],
    ),
    rule(
        "codelist.cl729",
        SYNC,
        E,
        "`typeOfPerson` is in CL729 (1, 2, 3), reported as `Must be one of`",
        &[S9, S12, S27],
    ),
    rule(
        "relation.object-type",
        SYNC,
        E,
        "Relation `parentObjectType`/`childObjectType` are TRANSPORT, MASTER_CONSIGNMENT or HOUSE_CONSIGNMENT",
        &[
            S6,
            Source::Inferred("HOUSE_CONSIGNMENT and the sync channel are ours"),
        ],
    ),
    // -- 400: per-mode transport requirements -------------------------------
    rule(
        "transport.operator.required",
        SYNC,
        E,
        "`activeBorderTransportMeans.operator` is present in road, air and rail",
        &[S15, S27],
    ),
    rule(
        "transport.operator.required-maritime",
        SYNC,
        W,
        "`activeBorderTransportMeans.operator` is present in maritime (Toll's answer unknown: warning)",
        &[
            S15,
            SEA,
            Source::Inferred(
                "only the generic transport table (S15) marks the driver mandatory; S27 names road, train and air, no maritime page names the operator",
            ),
        ],
    ),
    rule(
        "transport.operator.communication-required",
        SYNC,
        E,
        "Air: `operator.communication` is present (name and telephone)",
        &[S27],
    ),
    rule(
        "transport.conveyance-reference.required",
        SYNC,
        E,
        "Air: `conveyanceReferenceNumber` (flight number) is present; it is a transport key",
        &[S4],
    ),
    // -- FAILURE: code lists ------------------------------------------------
    rule(
        "codelist.cl018",
        FAIL,
        E,
        "`modeOfTransportCode` is in CL018 (road)",
        &[S10, S12],
    ),
    rule(
        "codelist.cl094",
        FAIL,
        E,
        "Representative `status` is in CL094",
        &[S10, S12],
    ),
    rule(
        "codelist.cl141",
        FAIL,
        E,
        "Customs offices are in CL141 (`Must be a valid customs office`)",
        &[S10, S12],
    ),
    rule(
        "codelist.cl228",
        FAIL,
        E,
        "`previousDocuments[].typeOfReference` is in CL228 or AdditionalPreviousDocumentType",
        &[S10, S12],
    ),
    rule(
        "codelist.cl707",
        FAIL,
        E,
        "`communication[].type` is in CL707",
        &[S10, S12],
    ),
    rule(
        "codelist.cl709",
        FAIL,
        E,
        "`containerPackedStatus` is in CL709",
        &[S10, S12],
    ),
    rule(
        "codelist.cl710",
        FAIL,
        E,
        "`containerSizeAndType` is in CL710",
        &[S10, S12],
    ),
    rule(
        "codelist.cl711",
        FAIL,
        E,
        "`containerSupplierType` is in CL711",
        &[S10, S12],
    ),
    rule(
        "codelist.cl750",
        FAIL,
        E,
        "`typeOfIdentification` is in CL750 (road)",
        &[S10, S12],
    ),
    rule(
        "codelist.cl751",
        FAIL,
        E,
        "`typeOfMeansOfTransport` is in CL751 (with 12 and T from a real Toll answer)",
        &[S10, S12, SYSTEMA_TRANSPORT],
    ),
    rule(
        "codelist.cl754",
        FAIL,
        E,
        "Transport document `type` is in CL754",
        &[S10, S12],
    ),
    rule(
        "codelist.cl756",
        FAIL,
        E,
        "`additionalFiscalReferences.role` is in CL756",
        &[S10, S12],
    ),
    rule(
        "codelist.country",
        FAIL,
        E,
        "Countries are ISO 3166-1 alpha-2 (`Country is invalid`)",
        &[S10, S12],
    ),
    rule(
        "codelist.import-procedure",
        FAIL,
        E,
        "`importProcedure` is in ImportProcedure (plus NATO_FORM_302 from S1)",
        &[S10, S12, S1],
    ),
    rule(
        "codelist.outgoing-procedure",
        FAIL,
        E,
        "`outgoingProcedure` is TRA, EXP or TRE",
        &[S10, S12],
    ),
    rule(
        "codelist.export-type",
        FAIL,
        E,
        "`typeOfExport` is in TB_EXPORTTYPE",
        &[S10, S12],
    ),
    // -- FAILURE: per-mode transport codes ----------------------------------
    rule(
        "transport.mode-of-transport.mode",
        FAIL,
        E,
        "Air, rail, maritime: `modeOfTransportCode` is the mode's own CL018 code (4, 2, 1)",
        &[
            S12,
            Source::Inferred(
                "each mode's API carries its own mode; the text is the S10 code-list text",
            ),
        ],
    ),
    rule(
        "transport.type-of-identification.mode",
        FAIL,
        E,
        "Air, rail, maritime: `typeOfIdentification` is the mode's CL750 codes (41; 20, 21; 10)",
        &[S12],
    ),
    // -- FAILURE: places ----------------------------------------------------
    rule(
        "place.unlocode.required",
        FAIL,
        E,
        "A place without location and address has an `unloCode`",
        &[S10],
    ),
    rule(
        "place.unlocode.format",
        FAIL,
        E,
        "`unloCode` is a UN/LOCODE: an ISO 3166 country that exists + 3 of [A-Z2-9] (`Invalid code. Expected valid UNLOCODE`)",
        &[
            S10,
            Source::Inferred(
                "format only: no UN/LOCODE (CL144) list is available to us under a licence that allows embedding",
            ),
        ],
    ),
    // -- FAILURE: transport -------------------------------------------------
    rule(
        "transport.arrival.estimated-equals-scheduled",
        FAIL,
        E,
        "On the first POST, estimated arrival equals scheduled arrival",
        &[S27, Source::Inferred("the message text is ours")],
    ),
    // -- FAILURE: house procedures ------------------------------------------
    rule(
        "house.export.id-format",
        FAIL,
        E,
        "`exportId` fits its `typeOfExport` (AES MRN shape, EUEIR ≤ 35, EIDR `NNSE…AE.`)",
        &[S10, S12, Source::Inferred("the AES id is read as an MRN")],
    ),
    rule(
        "house.export.with-tra",
        FAIL,
        E,
        "No `exportFromEU` when `outgoingProcedure` is TRA",
        &[S10],
    ),
    rule(
        "house.export.eidr-road-only",
        FAIL,
        E,
        "Air, rail, maritime: `typeOfExport` is AES_EXPORT or EUEIR_EXPORT (EIDR_EXPORT only on the road page)",
        &[AIR, SEA, RAIL, S1],
    ),
    rule(
        "house.n820.with-exp",
        FAIL,
        E,
        "No N820 previous document when `outgoingProcedure` is EXP",
        &[S10],
    ),
    rule(
        "house.voec.item-limit",
        FAIL,
        E,
        "A VOEC goods item's value is at most NOK 3000",
        &[
            S10,
            Source::Inferred("compared per item, on `value` as given"),
        ],
    ),
    rule(
        "house.goods-item.voec-only",
        FAIL,
        E,
        "`goodsItem` only with IMMEDIATE_RELEASE_VOEC",
        &[S10],
    ),
    rule(
        "house.cude.procedure",
        FAIL,
        E,
        "CUDE fields only with IMMEDIATE_RELEASE_IMPORT, CUSTOMS_DECLARATION or WAREHOUSE_RELEASE",
        &[S10, S1, S13],
    ),
    rule(
        "house.cude.fields",
        FAIL,
        E,
        "A CUDE has declarantNumber, declarationDate and sequenceNumber",
        &[S10],
    ),
    rule("house.cude.one-only", FAIL, E, "At most one CUDE", &[S10]),
    rule(
        "house.previous-documents.import-procedure",
        FAIL,
        E,
        "`previousDocuments` need an `importProcedure`",
        &[S10],
    ),
    rule(
        "house.previous-documents.reference-number",
        FAIL,
        E,
        "Non-CUDE previous documents have a `referenceNumber`",
        &[S10],
    ),
    rule(
        "house.duplicate-reference",
        FAIL,
        E,
        "No duplicate referenceNumber, CUDE or exportId",
        &[S10],
    ),
    rule(
        "house.gonu.deadline",
        FAIL,
        E,
        "WAREHOUSE_RELEASE with GONU only before 2027-03-01",
        &[S1, Source::Inferred("the message text is ours")],
    ),
    rule(
        "house.import-procedure.mode",
        FAIL,
        W,
        "Air, maritime: no TRANSIT_IMPORT, TRANSIT_RELEASE, NATO_FORM_302; rail: no TRANSIT_RELEASE, NATO_FORM_302 (pages omit them; Toll's answer unknown: warning)",
        &[
            AIR,
            SEA,
            RAIL,
            S1,
            Source::Inferred(
                "an omission on the mode's page, not a documented rejection; text is the S10 code-list text",
            ),
        ],
    ),
    rule(
        "house.outgoing-procedure.mode",
        FAIL,
        W,
        "The `outgoingProcedure` is one the mode's page lists for the import procedure (Toll's answer unknown: warning)",
        &[
            AIR,
            SEA,
            RAIL,
            S1,
            Source::Inferred(
                "an omission on the mode's page, not a documented rejection; the text is ours",
            ),
        ],
    ),
    rule(
        "house.gonu.road-only",
        FAIL,
        W,
        "Air, rail, maritime: no WAREHOUSE_RELEASE with GONU (only the road page has GONU variants; warning)",
        &[
            AIR,
            SEA,
            RAIL,
            S1,
            Source::Inferred("an omission on the mode's page; the text is ours"),
        ],
    ),
    // -- FAILURE: identifiers -----------------------------------------------
    rule(
        "mrn.format",
        FAIL,
        E,
        "References that must be MRNs have the MRN shape (`Invalid MRN format`)",
        &[Source::Inferred(
            "Toll documents no MRN syntax; an MRN of another shape can never match (S10 wording)",
        )],
    ),
    rule(
        "presentation.request-id.uuid",
        SYNC,
        E,
        "A presentation's client-chosen `requestId` is a UUID",
        &[
            S19,
            Source::Inferred("the ids Toll issues are UUIDs; the text is ours"),
        ],
    ),
    // -- playground fixtures ------------------------------------------------
    rule(
        "playground.voec-number",
        FAIL,
        E,
        "Playground: the VOEC number is 2056550",
        &[S10, S13],
    ),
    rule(
        "playground.n820-state",
        FAIL,
        E,
        "Playground: an N820 is 18 alphanumerics without INVALID",
        &[S10, S13],
    ),
    rule(
        "playground.cude-unverified",
        INC,
        E,
        "Playground: a CUDE not among the fixtures is CANNOT_VERIFY_CUDE_DOCUMENTATION",
        &[
            S13,
            S12,
            Source::Inferred("which reason the playground gives is ours"),
        ],
    ),
    // -- INCOMPLETE ---------------------------------------------------------
    rule(
        "incomplete.cude",
        INC,
        E,
        "IMMEDIATE_RELEASE_IMPORT, CUSTOMS_DECLARATION, WAREHOUSE_RELEASE without a complete CUDE",
        &[S1, S10_INCOMPLETE, S12],
    ),
    rule(
        "incomplete.gonu",
        INC,
        E,
        "WAREHOUSE_RELEASE with GONU but no goods number",
        &[S10_INCOMPLETE, S12],
    ),
    rule(
        "incomplete.tra",
        INC,
        E,
        "TRANSIT_IMPORT without N820, TRANSIT_RELEASE without RETR, outgoing TRA/TRE without N820",
        &[S1, S10_INCOMPLETE],
    ),
    rule(
        "incomplete.exp",
        INC,
        E,
        "Outgoing EXP/TRE without `exportFromEU`",
        &[S1, S10_INCOMPLETE],
    ),
    rule(
        "incomplete.voec",
        INC,
        E,
        "IMMEDIATE_RELEASE_VOEC without complete goods items",
        &[S1, S10_INCOMPLETE],
    ),
    rule(
        "incomplete.documentation",
        INC,
        E,
        "ATA_CARNET, TIR_CARNET, NATO_FORM_302 without N955, N952, C624",
        &[S1, S10_INCOMPLETE],
    ),
];

/// A rule id that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule id `{0}`")]
pub struct UnknownRule(pub String);

/// Severity overrides for one validation run (from a contract profile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleOverrides {
    map: BTreeMap<&'static str, Severity>,
    texts: BTreeMap<&'static str, String>,
}

impl RuleOverrides {
    /// No overrides: every rule at its default severity.
    pub fn new() -> Self {
        Self::default()
    }

    /// Overrides the severity of the rule `id`.
    pub fn set(&mut self, id: &str, severity: Severity) -> Result<(), UnknownRule> {
        let rule = find(id).ok_or_else(|| UnknownRule(id.to_owned()))?;
        self.map.insert(rule.id, severity);
        Ok(())
    }

    /// The effective severity of the rule `id` (its default when not
    /// overridden; [`Severity::Error`] for an id not in the catalogue).
    pub fn severity(&self, id: &str) -> Severity {
        self.map
            .get(id)
            .copied()
            .or_else(|| find(id).map(|r| r.default))
            .unwrap_or(Severity::Error)
    }

    /// Replaces the text of the rule `id`'s findings (a profile's
    /// `[rule_text]`, e.g. Toll's real wording seen in a live answer).
    pub fn set_text(&mut self, id: &str, text: impl Into<String>) -> Result<(), UnknownRule> {
        let rule = find(id).ok_or_else(|| UnknownRule(id.to_owned()))?;
        self.texts.insert(rule.id, text.into());
        Ok(())
    }

    /// The replacement text for the rule `id`'s findings, when one is set.
    pub fn text(&self, id: &str) -> Option<&str> {
        self.texts.get(id).map(String::as_str)
    }

    /// The rules with a replacement text, by id.
    pub fn texts(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.texts.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The overridden rules, by id.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Severity)> + '_ {
        self.map.iter().map(|(k, v)| (*k, *v))
    }

    /// Whether nothing is overridden (no severity, no text).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty() && self.texts.is_empty()
    }
}

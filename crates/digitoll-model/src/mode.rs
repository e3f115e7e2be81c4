//! Modes of transport (road, air, rail, maritime) and the per-mode rules.
//!
//! Toll publishes one message model for all modes (digitoll-api.md §1.5, \[D
//! S3\]) but no per-mode schemas, so the air, rail and maritime APIs are
//! validated as road v2 messages plus the differences listed in **one** table,
//! [`ModeRules`] (one entry per mode, returned by [`TransportMode::rules`]).
//! Road's entry reproduces the road rules exactly as they were before the other
//! modes existed, so [`crate::validate_json`] and
//! [`crate::validate_json_for`]`(TransportMode::Road, ..)` agree.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Digitoll movement API, by mode of transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportMode {
    /// Road v2 (`/api/movement/road/v2`).
    Road,
    /// Air (`/api/movement/air/v1`).
    Air,
    /// Rail (`/api/movement/rail/v1`).
    Rail,
    /// Maritime (`/api/movement/maritime/v1`).
    Maritime,
}

/// How strongly a mode requires a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Required: a missing field is reported under the rule's id (default
    /// severity error).
    Required,
    /// Expected: reported under a rule whose default severity is warning,
    /// because the sources only imply the requirement.
    Expected,
    /// Not required.
    Optional,
}

/// One import procedure a mode's procedure page lists, with the outgoing
/// procedures its variants use (`None`: no outgoing procedure, `-` on the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcedureVariants {
    /// The `importProcedure` code.
    pub import: &'static str,
    /// The `outgoingProcedure` values its variants list.
    pub outgoing: &'static [Option<&'static str>],
}

const fn pv(import: &'static str, outgoing: &'static [Option<&'static str>]) -> ProcedureVariants {
    ProcedureVariants { import, outgoing }
}

const NONE_EXP_TRE_TRA: &[Option<&str>] = &[None, Some("EXP"), Some("TRE"), Some("TRA")];
const NONE: &[Option<&str>] = &[None];
const NONE_TRA: &[Option<&str>] = &[None, Some("TRA")];
const TRA: &[Option<&str>] = &[Some("TRA")];

/// Road's procedure variants, from the tables of
/// `api/mo/prosedyre-mo-vei-ferge-EN.html` \[D S1\] (e57bc09), checked
/// against the Norwegian page (the air, sea and rail pages agree in both
/// languages).
const ROAD_PROCEDURES: &[ProcedureVariants] = &[
    pv("IMMEDIATE_RELEASE_IMPORT", NONE_EXP_TRE_TRA),
    pv("TRANSIT_IMPORT", TRA),
    pv("TRANSIT_RELEASE", &[Some("EXP")]),
    pv("IMMEDIATE_RELEASE_VOEC", NONE_EXP_TRE_TRA),
    pv("WAREHOUSE_RELEASE", NONE_EXP_TRE_TRA),
    pv("COLLECTIVE_RELEASE", NONE_EXP_TRE_TRA),
    // The English page lists none/EXP/TRA, the Norwegian
    // `prosedyre-mo-vei-ferge.html` also TRE: both are accepted.
    pv("DOCUMENTS_NOT_OBLIGED_RELEASE", NONE_EXP_TRE_TRA),
    pv("ATA_CARNET", NONE),
    pv("TIR_CARNET", NONE),
    pv("NATO_FORM_302", NONE),
    pv("CUSTOMS_DECLARATION", NONE_EXP_TRE_TRA),
];

/// Air's and maritime's variants: `api/mo/prosedyre-mo-fly-EN.html` and
/// `api/mo/prosedyre-mo-sjo-EN.html` \[D S17\] list the same tables: every
/// procedure without an outgoing procedure, except CUSTOMS_DECLARATION (all
/// four); no TRANSIT_IMPORT, TRANSIT_RELEASE or NATO_FORM_302.
const AIR_SEA_PROCEDURES: &[ProcedureVariants] = &[
    pv("IMMEDIATE_RELEASE_IMPORT", NONE),
    pv("IMMEDIATE_RELEASE_VOEC", NONE),
    pv("WAREHOUSE_RELEASE", NONE),
    pv("COLLECTIVE_RELEASE", NONE),
    pv("DOCUMENTS_NOT_OBLIGED_RELEASE", NONE),
    pv("ATA_CARNET", NONE),
    pv("TIR_CARNET", NONE),
    pv("CUSTOMS_DECLARATION", NONE_EXP_TRE_TRA),
];

/// Rail's variants: `api/mo/prosedyre-mo-tog-EN.html` \[D S17\]: transit
/// (TRA) where a train continues under NCTS, TRANSIT_IMPORT but no
/// TRANSIT_RELEASE, no NATO_FORM_302, exports only with CUSTOMS_DECLARATION.
const RAIL_PROCEDURES: &[ProcedureVariants] = &[
    pv("IMMEDIATE_RELEASE_IMPORT", NONE_TRA),
    pv("TRANSIT_IMPORT", TRA),
    pv("IMMEDIATE_RELEASE_VOEC", NONE_TRA),
    pv("WAREHOUSE_RELEASE", TRA),
    pv("COLLECTIVE_RELEASE", NONE),
    pv("DOCUMENTS_NOT_OBLIGED_RELEASE", TRA),
    pv("ATA_CARNET", NONE),
    pv("TIR_CARNET", NONE),
    pv("CUSTOMS_DECLARATION", NONE_EXP_TRE_TRA),
];

const ALL_EXPORT_TYPES: &[&str] = &["AES_EXPORT", "EUEIR_EXPORT", "EIDR_EXPORT"];
const AES_EUEIR: &[&str] = &["AES_EXPORT", "EUEIR_EXPORT"];

/// What differs between the modes. Everything not listed here is the road v2
/// rule set of [`crate::validate`]. Each field names the rule id that
/// reports it (see [`crate::rules`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeRules {
    /// The CL018 code `activeBorderTransportMeans.modeOfTransportCode` must
    /// have (FAILURE `Invalid code. Expected codes are one of [4]`, rule
    /// `transport.mode-of-transport.mode`). `None`: any CL018 code passes
    /// (road, rule `codelist.cl018`).
    pub mode_of_transport_code: Option<&'static str>,
    /// The CL750 codes `typeOfIdentification` may have (rule
    /// `transport.type-of-identification.mode`). `None`: any CL750 code
    /// passes (road, rule `codelist.cl750`).
    pub type_of_identification: Option<&'static [&'static str]>,
    /// `conveyanceReferenceNumber` (the flight number) is required: sync 400
    /// `must not be blank` \[D S4\] (rule `transport.conveyance-reference.required`).
    pub conveyance_reference_required: bool,
    /// `conveyanceReferenceNumber` is an immutable key on PUT \[D S4\]
    /// (checked by the server, which knows the stored version).
    pub conveyance_reference_immutable: bool,
    /// `operator` (sync 400 `must not be null`): `Required` reports under
    /// `transport.operator.required`, `Expected` under
    /// `transport.operator.required-maritime` (default warning).
    pub operator: Requirement,
    /// `operator.communication` is required too (air: "name and phone" \[D
    /// S27\], rule `transport.operator.communication-required`).
    pub operator_communication_required: bool,
    /// The import procedures the mode's procedure page lists, each with the
    /// outgoing procedures of its variants (rules
    /// `house.import-procedure.mode` and `house.outgoing-procedure.mode`,
    /// default warning: the pages omit, they do not forbid).
    pub procedures: &'static [ProcedureVariants],
    /// The `typeOfExport` codes the page allows (rule
    /// `house.export.eidr-road-only`: the air, sea and rail pages say "must
    /// be one of [AES_EXPORT, EUEIR_EXPORT]").
    pub export_types: &'static [&'static str],
    /// WAREHOUSE_RELEASE with a GONU goods number is listed (only road's page
    /// has GONU variants; rule `house.gonu.road-only`, default warning).
    pub gonu_warehouse: bool,
}

impl ModeRules {
    /// The variants the mode lists for an import procedure (`None`: the
    /// mode's page does not list the procedure).
    pub fn procedure(&self, import: &str) -> Option<&'static ProcedureVariants> {
        self.procedures.iter().find(|p| p.import == import)
    }
}

impl TransportMode {
    /// Every mode, road first.
    pub const ALL: [TransportMode; 4] = [Self::Road, Self::Air, Self::Rail, Self::Maritime];

    /// The per-mode rules: the single table of differences between the modes.
    ///
    /// **Operator.** Toll's April 2024 change made the air operator mandatory,
    /// "identical to road and train" \[D S27 `api/mo/mo-obligatorisk-2024-04-EN.html`,
    /// git 553674a^\], and the generic transport table marks the driver
    /// mandatory \[D S15 `api/mo/sentrale-dataelementer-EN.html`\]: road, air
    /// and rail require it (error). For maritime only the generic table
    /// implies it (S27 names road, train and air; no maritime page mentions
    /// the operator), so maritime *expects* it: a warning by default, which a
    /// profile can raise to an error once Toll's answer is known.
    ///
    /// **House procedures.** Each mode's procedure page (S1 road, S17 air,
    /// sea, rail) lists the import procedures and their variants; air and
    /// maritime list no transit procedures, no outgoing procedure except with
    /// CUSTOMS_DECLARATION and no GONU; rail has TRANSIT_IMPORT but not
    /// TRANSIT_RELEASE. What a page merely omits is a warning (Toll's answer
    /// is unknown); the export types, which the pages spell out as "must be
    /// one of [AES_EXPORT, EUEIR_EXPORT]", are an error.
    ///
    /// Maritime's "24 h before arrival, or at departure from the previous
    /// port" deadline (S18) cannot be checked from the message (the departure
    /// time is not in it), so it is deliberately not enforced.
    pub const fn rules(self) -> ModeRules {
        match self {
            Self::Road => ModeRules {
                mode_of_transport_code: None,
                type_of_identification: None,
                conveyance_reference_required: false,
                conveyance_reference_immutable: false,
                operator: Requirement::Required,
                operator_communication_required: false,
                procedures: ROAD_PROCEDURES,
                export_types: ALL_EXPORT_TYPES,
                gonu_warehouse: true,
            },
            Self::Air => ModeRules {
                mode_of_transport_code: Some("4"),
                type_of_identification: Some(&["41"]),
                conveyance_reference_required: true,
                conveyance_reference_immutable: true,
                operator: Requirement::Required,
                operator_communication_required: true,
                procedures: AIR_SEA_PROCEDURES,
                export_types: AES_EUEIR,
                gonu_warehouse: false,
            },
            Self::Rail => ModeRules {
                mode_of_transport_code: Some("2"),
                type_of_identification: Some(&["20", "21"]),
                conveyance_reference_required: false,
                conveyance_reference_immutable: false,
                operator: Requirement::Required,
                operator_communication_required: false,
                procedures: RAIL_PROCEDURES,
                export_types: AES_EUEIR,
                gonu_warehouse: false,
            },
            Self::Maritime => ModeRules {
                mode_of_transport_code: Some("1"),
                type_of_identification: Some(&["10"]),
                conveyance_reference_required: false,
                conveyance_reference_immutable: false,
                operator: Requirement::Expected,
                operator_communication_required: false,
                procedures: AIR_SEA_PROCEDURES,
                export_types: AES_EUEIR,
                gonu_warehouse: false,
            },
        }
    }

    /// The mode's CL018 code: road 3, air 4, rail 2, maritime 1.
    pub const fn cl018_code(self) -> &'static str {
        match self {
            Self::Road => "3",
            Self::Air => "4",
            Self::Rail => "2",
            Self::Maritime => "1",
        }
    }

    /// The mode for a CL018 code (`None` for codes without a Digitoll API).
    pub fn from_cl018_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.cl018_code() == code)
    }

    /// The path segment in Toll's URLs (`road`, `air`, `rail`, `maritime`).
    pub const fn path_segment(self) -> &'static str {
        match self {
            Self::Road => "road",
            Self::Air => "air",
            Self::Rail => "rail",
            Self::Maritime => "maritime",
        }
    }

    /// The API version in the base path: road is v2, the others v1 (§1).
    pub const fn version(self) -> &'static str {
        match self {
            Self::Road => "v2",
            _ => "v1",
        }
    }

    /// Base path of the submission API, e.g. `/api/movement/air/v1`.
    pub fn submission_base(self) -> String {
        format!("/api/movement/{}/{}", self.path_segment(), self.version())
    }

    /// Base path of the query API, e.g. `/api/movement/air/status/v1`.
    pub fn query_base(self) -> String {
        format!(
            "/api/movement/{}/status/{}",
            self.path_segment(),
            self.version()
        )
    }

    /// The Maskinporten scope for Norwegian organisations (`toll:movement/air`, …).
    pub const fn scope(self) -> &'static str {
        match self {
            Self::Road => "toll:movement/road/v2",
            Self::Air => "toll:movement/air",
            Self::Rail => "toll:movement/rail",
            Self::Maritime => "toll:movement/maritime",
        }
    }

    /// The scope for foreign organisations with an eSeal (`toll:eu/movement/air`, …).
    pub const fn eu_scope(self) -> &'static str {
        match self {
            Self::Road => "toll:eu/movement/road/v2",
            Self::Air => "toll:eu/movement/air",
            Self::Rail => "toll:eu/movement/rail",
            Self::Maritime => "toll:eu/movement/maritime",
        }
    }
}

impl fmt::Display for TransportMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path_segment())
    }
}

/// A string that names no mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transport mode '{0}': expected road, air, rail or maritime")]
pub struct UnknownMode(pub String);

impl FromStr for TransportMode {
    type Err = UnknownMode;

    /// Accepts the path segment in any case (`air`, `AIR`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.path_segment().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownMode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_paths_and_scopes() {
        assert_eq!(TransportMode::Air.cl018_code(), "4");
        assert_eq!(TransportMode::Rail.cl018_code(), "2");
        assert_eq!(TransportMode::Maritime.cl018_code(), "1");
        assert_eq!(TransportMode::Road.cl018_code(), "3");
        assert_eq!(
            TransportMode::from_cl018_code("1"),
            Some(TransportMode::Maritime)
        );
        assert_eq!(TransportMode::from_cl018_code("7"), None);
        assert_eq!(
            TransportMode::Road.submission_base(),
            "/api/movement/road/v2"
        );
        assert_eq!(
            TransportMode::Maritime.query_base(),
            "/api/movement/maritime/status/v1"
        );
        assert_eq!(TransportMode::Rail.scope(), "toll:movement/rail");
        assert_eq!(TransportMode::Air.eu_scope(), "toll:eu/movement/air");
        assert_eq!("AIR".parse::<TransportMode>(), Ok(TransportMode::Air));
        assert!("bus".parse::<TransportMode>().is_err());
        assert_eq!(
            serde_json::to_string(&TransportMode::Maritime).unwrap(),
            "\"maritime\""
        );
    }

    #[test]
    fn every_non_road_mode_pins_its_own_cl018_code() {
        for m in TransportMode::ALL {
            let rules = m.rules();
            if m == TransportMode::Road {
                assert_eq!(rules.mode_of_transport_code, None);
            } else {
                assert_eq!(rules.mode_of_transport_code, Some(m.cl018_code()));
                assert!(rules.type_of_identification.is_some());
            }
        }
    }

    #[test]
    fn procedure_tables_use_known_codes_and_road_lists_everything() {
        use crate::codes::{ImportProcedure, OutgoingProcedure, TypeOfExport};
        for m in TransportMode::ALL {
            let r = m.rules();
            for v in r.procedures {
                assert!(
                    ImportProcedure::from_code(v.import).is_known(),
                    "{m}: {}",
                    v.import
                );
                assert!(!v.outgoing.is_empty(), "{m}: {}", v.import);
                for o in v.outgoing.iter().flatten() {
                    assert!(OutgoingProcedure::from_code(o).is_known(), "{m}: {o}");
                }
            }
            for e in r.export_types {
                assert!(TypeOfExport::from_code(e).is_known(), "{m}: {e}");
            }
        }
        // Road's page lists every import procedure; the others list fewer.
        let road = TransportMode::Road.rules();
        for p in ImportProcedure::KNOWN {
            assert!(road.procedure(p.as_str()).is_some(), "{p}");
        }
        assert!(
            TransportMode::Air
                .rules()
                .procedure("TRANSIT_IMPORT")
                .is_none()
        );
        assert!(
            TransportMode::Rail
                .rules()
                .procedure("TRANSIT_IMPORT")
                .is_some()
        );
        assert!(
            TransportMode::Rail
                .rules()
                .procedure("TRANSIT_RELEASE")
                .is_none()
        );
        assert_eq!(
            TransportMode::Maritime.rules().operator,
            Requirement::Expected
        );
        assert_eq!(TransportMode::Rail.rules().operator, Requirement::Required);
    }
}

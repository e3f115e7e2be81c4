//! Request bodies of the entry side of Digitoll: the presentation API
//! (`/api/movement/presentation/v1`, digitoll-api.md §1.6) and the arrival API
//! (`/api/movement/arrival/v1`, §1.8).
//!
//! As in [`crate::road`], every field is an `Option` and leaves are plain
//! strings, so local validation ([`crate::validate_presentation_json`],
//! [`crate::validate_arrival_json`]) can report every problem with its path.
//! Field names follow the shared HTTP contract (\[I\] where Toll is silent:
//! the arrival field names are not documented).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::newtypes::TollInstant;
use crate::road::DocumentRef;

/// Which presentation endpoint a body is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PresentationKind {
    /// `POST /house-consignment`: a house waybill.
    HouseConsignment,
    /// `POST /master-consignment`: a master waybill (Toll's recommended
    /// replacement for ENS presentation, \[D S26\]).
    MasterConsignment,
    /// `POST /container`: a container number.
    Container,
    /// `POST /receptacle`: a UPU postal receptacle.
    Receptacle,
    /// `POST /entry-summary-declaration`: an ICS2 ENS MRN.
    EntrySummaryDeclaration,
}

impl PresentationKind {
    /// Every kind, in Toll's order.
    pub const ALL: [PresentationKind; 5] = [
        Self::HouseConsignment,
        Self::MasterConsignment,
        Self::Container,
        Self::Receptacle,
        Self::EntrySummaryDeclaration,
    ];

    /// The path segment under `/api/movement/presentation/v1`.
    pub const fn path_segment(self) -> &'static str {
        match self {
            Self::HouseConsignment => "house-consignment",
            Self::MasterConsignment => "master-consignment",
            Self::Container => "container",
            Self::Receptacle => "receptacle",
            Self::EntrySummaryDeclaration => "entry-summary-declaration",
        }
    }

    /// The kind for a path segment.
    pub fn from_path_segment(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.path_segment() == segment)
    }
}

/// Base path of the presentation API.
pub const PRESENTATION_BASE: &str = "/api/movement/presentation/v1";
/// Base path of the routing API.
pub const ROUTING_BASE: &str = "/api/movement/routing/v1";
/// Base path of the arrival API.
pub const ARRIVAL_BASE: &str = "/api/movement/arrival/v1";
/// Scope of the presentation and routing APIs (Norwegian organisations).
pub const ENTRY_SCOPE: &str = "toll:movement/entry";
/// Scope of the presentation and routing APIs (foreign organisations).
pub const ENTRY_SCOPE_EU: &str = "toll:eu/movement/entry";

/// `consignmentHouseLevel` of a house presentation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["transportDocumentHouseLevel"]))]
pub struct PresentedHouseLevel {
    /// The house waybill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_document_house_level: Option<DocumentRef>,
}

/// `consignmentMasterLevel` of a master presentation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["transportDocumentMasterLevel"]))]
pub struct PresentedMasterLevel {
    /// The master waybill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_document_master_level: Option<DocumentRef>,
}

/// A presentation body, for any [`PresentationKind`]. Which fields are
/// required depends on the kind (see [`crate::validate_presentation`]).
///
/// `requestId` is supplied by the **client**: re-sending the same body with
/// the same id is answered 400 `requestId already used`, which makes
/// presentation idempotent \[D S19\].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["requestId", "customsOfficeOfPresentation"]))]
pub struct Presentation {
    /// Client-supplied UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 36))]
    pub request_id: Option<String>,
    /// CL141 office where the goods are presented.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 8, max = 8))]
    pub customs_office_of_presentation: Option<String>,
    /// The transport MRN (house, master, container, receptacle; optional).
    #[serde(rename = "transportMRN", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 18, max = 18))]
    pub transport_mrn: Option<String>,
    /// House kind: the house waybill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consignment_house_level: Option<PresentedHouseLevel>,
    /// Master kind: the master waybill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consignment_master_level: Option<PresentedMasterLevel>,
    /// Container kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 17))]
    pub container_identification_number: Option<String>,
    /// Receptacle kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 35))]
    pub receptacle_identification_number: Option<String>,
    /// Entry summary declaration kind: the ENS MRN.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 18, max = 18))]
    pub mrn: Option<String>,
}

impl Presentation {
    fn base(request_id: &str, office: &str) -> Self {
        Self {
            request_id: Some(request_id.to_owned()),
            customs_office_of_presentation: Some(office.to_owned()),
            ..Self::default()
        }
    }

    /// A house presentation.
    pub fn house(request_id: &str, office: &str, document: DocumentRef) -> Self {
        Self {
            consignment_house_level: Some(PresentedHouseLevel {
                transport_document_house_level: Some(document),
            }),
            ..Self::base(request_id, office)
        }
    }

    /// A master presentation.
    pub fn master(request_id: &str, office: &str, document: DocumentRef) -> Self {
        Self {
            consignment_master_level: Some(PresentedMasterLevel {
                transport_document_master_level: Some(document),
            }),
            ..Self::base(request_id, office)
        }
    }

    /// A container presentation.
    pub fn container(request_id: &str, office: &str, container: &str) -> Self {
        Self {
            container_identification_number: Some(container.to_owned()),
            ..Self::base(request_id, office)
        }
    }

    /// A receptacle presentation.
    pub fn receptacle(request_id: &str, office: &str, receptacle: &str) -> Self {
        Self {
            receptacle_identification_number: Some(receptacle.to_owned()),
            ..Self::base(request_id, office)
        }
    }

    /// An ENS presentation.
    pub fn entry_summary_declaration(request_id: &str, office: &str, ens_mrn: &str) -> Self {
        Self {
            mrn: Some(ens_mrn.to_owned()),
            ..Self::base(request_id, office)
        }
    }

    /// Sets `transportMRN`.
    pub fn with_transport_mrn(mut self, mrn: &str) -> Self {
        self.transport_mrn = Some(mrn.to_owned());
        self
    }

    /// The presented identifier for messages and lookups: the document
    /// number, container or receptacle id, or ENS MRN of `kind`.
    pub fn identifier(&self, kind: PresentationKind) -> Option<&str> {
        match kind {
            PresentationKind::HouseConsignment => self
                .consignment_house_level
                .as_ref()?
                .transport_document_house_level
                .as_ref()?
                .document_number
                .as_deref(),
            PresentationKind::MasterConsignment => self
                .consignment_master_level
                .as_ref()?
                .transport_document_master_level
                .as_ref()?
                .document_number
                .as_deref(),
            PresentationKind::Container => self.container_identification_number.as_deref(),
            PresentationKind::Receptacle => self.receptacle_identification_number.as_deref(),
            PresentationKind::EntrySummaryDeclaration => self.mrn.as_deref(),
        }
    }
}

/// `POST /api/movement/arrival/v1/arrival` (unmanned border crossings,
/// \[D S7\]; field names \[I\]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("required" = ["transportMRN", "timeOfArrival", "customsOfficeOfArrival"]))]
pub struct ArrivalRequest {
    /// The arriving transport.
    #[serde(rename = "transportMRN", skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 18, max = 18))]
    pub transport_mrn: Option<String>,
    /// When it arrived (`yyyy-MM-ddTHH:mm:ssZ`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_of_arrival: Option<TollInstant>,
    /// CL141 office of arrival.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 8, max = 8))]
    pub customs_office_of_arrival: Option<String>,
}

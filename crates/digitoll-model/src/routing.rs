//! Routing signals from the routing API (`GET /api/movement/routing/v1/
//! house-consignment?marker=…` and `…/transport?marker=…`, digitoll-api.md
//! §1.7).
//!
//! The feed is pulled: the first call has no marker, each later call passes
//! the `routingResult.id` of the last item read, and an empty array means
//! caught up. At most [`MAX_ROUTING_PAGE`] items per call, oldest first. The
//! last signal for a document wins \[D S8\].
//!
//! Like the other response types these tolerate change: no unknown fields are
//! denied, codes are open enums, and the times are kept as strings (Toll's
//! exact format for them is not documented).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::road::DocumentRef;

/// Most signals one routing call returns \[D S8\].
pub const MAX_ROUTING_PAGE: usize = 1000;

macro_rules! open_code {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know (kept verbatim).
            Other(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(s) => s,
                }
            }

            /// Maps a wire value, keeping unknown ones.
            pub fn from_code(s: &str) -> Self {
                match s {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }

            /// Whether this is a known value (not `Other`).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                Ok(Self::from_code(&s))
            }
        }

        /// A string enum of the known codes (what we send; unknown codes
        /// are still read as `Other`).
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "type": "string", "enum": [$($wire),+] })
            }
        }
    };
}

open_code! {
    /// The routing decision \[D S8\]. S14 says only TO_ENTRY, TO_CONTROL and
    /// ENTRY_DENIED are in use so far.
    Routing {
        /// Go to entry: no control.
        ToEntry = "TO_ENTRY",
        /// Report for control.
        ToControl = "TO_CONTROL",
        /// Entry not yet decided.
        EntryPending = "ENTRY_PENDING",
        /// Entry refused.
        EntryDenied = "ENTRY_DENIED",
    }
}

open_code! {
    /// Where a control takes place \[D S8\].
    RoutingControlLocation {
        /// At the border.
        OnEntry = "ON_ENTRY",
        /// After entry (at the destination).
        AfterEntry = "AFTER_ENTRY",
    }
}

/// `routingResult` of a routing item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoutingResult {
    /// The signal's id: the marker for the next call.
    pub id: uuid::Uuid,
    /// The decision.
    pub routing: Routing,
    /// Where a control happens (position in the item is \[I\], §1.7 gap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_control_location: Option<RoutingControlLocation>,
    /// When the signal was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_issue_date: Option<String>,
}

/// `activeBorderTransportMeans` of a routing item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoutingTransportMeans {
    /// Plate, flight number, IMO, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification_number: Option<String>,
    /// CL750.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_of_identification: Option<String>,
}

/// `transportDocumentHouseLevel` of a routing item (`referenceNumber` here,
/// not `documentNumber`, \[D S30\]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoutingDocument {
    /// The waybill number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_number: Option<String>,
    /// CL754.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub doc_type: Option<String>,
}

impl From<&DocumentRef> for RoutingDocument {
    fn from(d: &DocumentRef) -> Self {
        Self {
            reference_number: d.document_number.clone(),
            doc_type: d.doc_type.clone(),
        }
    }
}

/// One item of either routing feed. House items carry the house document
/// (and `houseMRN`, \[I\]); transport items carry `transportMRN` and the
/// means of transport. Every field but `routingResult` is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoutingSignal {
    /// The decision and the signal's id.
    pub routing_result: RoutingResult,
    /// The house waybill (house feed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_document_house_level: Option<RoutingDocument>,
    /// ICS2 ENS MRN, when the goods were declared by ENS.
    #[serde(
        rename = "entrySummaryDeclarationMRN",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub entry_summary_declaration_mrn: Option<String>,
    /// Postal receptacle id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receptacle_id: Option<String>,
    /// The vehicle, aircraft, train or vessel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_border_transport_means: Option<RoutingTransportMeans>,
    /// Estimated arrival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_time_of_arrival: Option<String>,
    /// Scheduled arrival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_time_of_arrival: Option<String>,
    /// The transport's MRN.
    #[serde(
        rename = "transportMRN",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub transport_mrn: Option<String>,
    /// The house's MRN (\[I\]).
    #[serde(rename = "houseMRN", default, skip_serializing_if = "Option::is_none")]
    pub house_mrn: Option<String>,
}

impl RoutingSignal {
    /// The key "last signal wins" applies to: the house document
    /// (`referenceNumber` + type), else the ENS MRN, receptacle, house MRN or
    /// transport MRN.
    pub fn document_key(&self) -> Option<String> {
        if let Some(d) = &self.transport_document_house_level
            && let Some(n) = &d.reference_number
        {
            return Some(format!("{n}/{}", d.doc_type.as_deref().unwrap_or("")));
        }
        self.entry_summary_declaration_mrn
            .clone()
            .or_else(|| self.receptacle_id.clone())
            .or_else(|| self.house_mrn.clone())
            .or_else(|| self.transport_mrn.clone())
    }
}

/// Keeps the newest signal per document from a feed page read oldest first
/// ("the last signal received wins", \[D S8\]).
pub fn latest_per_document(signals: &[RoutingSignal]) -> Vec<&RoutingSignal> {
    let mut out: Vec<&RoutingSignal> = Vec::new();
    for s in signals {
        let key = s.document_key();
        if let Some(pos) = out
            .iter()
            .position(|o| key.is_some() && o.document_key() == key)
        {
            out.remove(pos);
        }
        out.push(s);
    }
    out
}

//! Modes, kinds and the fields the gateway reads from a Toll message.

use std::fmt;
use std::str::FromStr;

use digitoll_client::{DocumentKey, DocumentKind};
use digitoll_model::{MessageKind, TransportMode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A movement API family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiMode {
    /// Road v2.
    Road,
    /// Air.
    Air,
    /// Rail.
    Rail,
    /// Maritime.
    Maritime,
}

impl ApiMode {
    /// The model's mode (which the client takes).
    pub fn client_mode(self) -> TransportMode {
        match self {
            Self::Road => TransportMode::Road,
            Self::Air => TransportMode::Air,
            Self::Rail => TransportMode::Rail,
            Self::Maritime => TransportMode::Maritime,
        }
    }

    /// The text stored as the message's `api`.
    pub fn as_str(self) -> &'static str {
        self.client_mode().path_segment()
    }
}

impl FromStr for ApiMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "road" => Ok(Self::Road),
            "air" => Ok(Self::Air),
            "rail" => Ok(Self::Rail),
            "maritime" => Ok(Self::Maritime),
            other => Err(format!(
                "unknown mode '{other}', expected one of road, air, rail, maritime"
            )),
        }
    }
}

impl fmt::Display for ApiMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A declaration kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiKind {
    /// The transport (vehicle, crossing).
    Transport,
    /// A master consignment (waybill).
    Master,
    /// A house consignment.
    House,
}

impl ApiKind {
    /// The client's document kind.
    pub fn document_kind(self) -> DocumentKind {
        match self {
            Self::Transport => DocumentKind::Transport,
            Self::Master => DocumentKind::MasterConsignment,
            Self::House => DocumentKind::HouseConsignment,
        }
    }

    /// The model's message kind.
    pub fn message_kind(self) -> MessageKind {
        self.document_kind().message_kind()
    }

    /// The text stored as the message's `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transport => "transport",
            Self::Master => "master",
            Self::House => "house",
        }
    }
}

impl FromStr for ApiKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "transport" => Ok(Self::Transport),
            "master" => Ok(Self::Master),
            "house" => Ok(Self::House),
            other => Err(format!(
                "unknown kind '{other}', expected one of transport, master, house"
            )),
        }
    }
}

impl fmt::Display for ApiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The document number, type and carrier id stored with a message (for
/// filtering and for reconciling an interrupted send). A transport's
/// "document number" is its licence plate.
pub(crate) fn document_fields(
    kind: ApiKind,
    body: &Value,
) -> (Option<String>, Option<String>, Option<String>) {
    let own = |s: Option<&str>| s.map(str::to_owned);
    match kind {
        ApiKind::Transport => (
            own(str_at(
                body,
                "/activeBorderTransportMeans/identificationNumber",
            )),
            None,
            own(str_at(body, "/carrier/identificationNumber")),
        ),
        ApiKind::Master => (
            own(str_at(
                body,
                "/consignmentMasterLevel/transportDocumentMasterLevel/documentNumber",
            )),
            own(str_at(
                body,
                "/consignmentMasterLevel/transportDocumentMasterLevel/type",
            )),
            own(str_at(
                body,
                "/consignmentMasterLevel/carrier/identificationNumber",
            )),
        ),
        ApiKind::House => (
            own(str_at(
                body,
                "/consignmentHouseLevel/transportDocumentHouseLevel/documentNumber",
            )),
            own(str_at(
                body,
                "/consignmentHouseLevel/transportDocumentHouseLevel/type",
            )),
            own(str_at(
                body,
                "/consignmentHouseLevel/consignmentMasterLevel/carrierIdentificationNumber",
            )
            .or_else(|| {
                str_at(
                    body,
                    "/consignmentHouseLevel/tranportLevel/carrierIdentificationNumber",
                )
            })
            .or_else(|| {
                str_at(
                    body,
                    "/consignmentHouseLevel/transportLevel/carrierIdentificationNumber",
                )
            })),
        ),
    }
}

/// The lookup key of a master or house, for reconciliation.
pub(crate) fn document_key(kind: ApiKind, body: &Value) -> Option<DocumentKey> {
    if kind == ApiKind::Transport {
        return None;
    }
    let (number, doc_type, carrier) = document_fields(kind, body);
    Some(DocumentKey {
        document_number: number?,
        doc_type: doc_type?,
        carrier_id: carrier?,
    })
}

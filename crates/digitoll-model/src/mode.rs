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

/// What differs between the modes. Everything not listed here is the road v2
/// rule set of [`crate::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeRules {
    /// The CL018 code `activeBorderTransportMeans.modeOfTransportCode` must
    /// have (FAILURE `Invalid code. Expected codes are one of [4]`). `None`:
    /// any CL018 code passes (road, unchanged behaviour).
    pub mode_of_transport_code: Option<&'static str>,
    /// The CL750 codes `typeOfIdentification` may have (FAILURE with the
    /// code-list text). `None`: any CL750 code passes (road, unchanged).
    pub type_of_identification: Option<&'static [&'static str]>,
    /// `conveyanceReferenceNumber` (the flight number) is required: sync 400
    /// `must not be blank` \[D S4\].
    pub conveyance_reference_required: bool,
    /// `conveyanceReferenceNumber` is an immutable key on PUT \[D S4\]
    /// (checked by the server, which knows the stored version).
    pub conveyance_reference_immutable: bool,
    /// `operator` is required (sync 400 `must not be null`): road's driver
    /// \[D S15\], air's operator \[D S27\].
    pub operator_required: bool,
    /// `operator.communication` is required too (air: "name and phone" \[D S27\]).
    pub operator_communication_required: bool,
}

impl TransportMode {
    /// Every mode, road first.
    pub const ALL: [TransportMode; 4] = [Self::Road, Self::Air, Self::Rail, Self::Maritime];

    /// The per-mode rules: the single table of differences between the modes.
    ///
    /// Rail and maritime do not require `operator` \[I\]: Toll documents the
    /// operator only as the road driver (S15) and the air operator (S27).
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
                operator_required: true,
                operator_communication_required: false,
            },
            Self::Air => ModeRules {
                mode_of_transport_code: Some("4"),
                type_of_identification: Some(&["41"]),
                conveyance_reference_required: true,
                conveyance_reference_immutable: true,
                operator_required: true,
                operator_communication_required: true,
            },
            Self::Rail => ModeRules {
                mode_of_transport_code: Some("2"),
                type_of_identification: Some(&["20", "21"]),
                conveyance_reference_required: false,
                conveyance_reference_immutable: false,
                operator_required: false,
                operator_communication_required: false,
            },
            Self::Maritime => ModeRules {
                mode_of_transport_code: Some("1"),
                type_of_identification: Some(&["10"]),
                conveyance_reference_required: false,
                conveyance_reference_immutable: false,
                operator_required: false,
                operator_communication_required: false,
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
}

//! Validated identifier newtypes.
//!
//! Each type parses with [`FromStr`], converts with `TryFrom<String>`, and
//! (de)serialises through that conversion, so a value of the type is always
//! well-formed. The message structs in [`crate::road`] deliberately keep plain
//! strings for the same data so that local validation can report *every*
//! problem with a field path; these newtypes are for code that has already
//! validated (clients building requests, the simulator's keys).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

use crate::codes;

/// Why a string is not a valid value of one of the identifier newtypes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// An MRN must have exactly 18 characters.
    #[error("MRN '{value}' must have 18 characters, found {len}")]
    MrnLength {
        /// The rejected value.
        value: String,
        /// Its length in characters.
        len: usize,
    },
    /// The MRN's parts (`YY`, country, serial) are malformed.
    #[error("MRN '{value}': {reason}")]
    MrnFormat {
        /// The rejected value.
        value: String,
        /// Which part is wrong.
        reason: &'static str,
    },
    /// Not a UUID in its hyphenated form.
    #[error("requestId '{value}' is not a UUID: {reason}")]
    RequestId {
        /// The rejected value.
        value: String,
        /// The UUID parser's explanation.
        reason: String,
    },
    /// Not nine digits.
    #[error("organisation number '{value}' must be exactly 9 digits")]
    OrgNumberFormat {
        /// The rejected value.
        value: String,
    },
    /// Nine digits, but the mod-11 check digit does not match.
    #[error("organisation number '{value}' fails the mod-11 check digit")]
    OrgNumberCheckDigit {
        /// The rejected value.
        value: String,
    },
    /// Not `NO` followed by six digits.
    #[error("customs office '{value}' must be 'NO' followed by 6 digits")]
    CustomsOfficeFormat {
        /// The rejected value.
        value: String,
    },
    /// Well-formed, but not in code list CL141.
    #[error("customs office '{value}' is not in code list CL141")]
    CustomsOfficeUnknown {
        /// The rejected value.
        value: String,
    },
    /// Not an ISO 3166-1 alpha-2 code.
    #[error("country code '{value}' is not an ISO 3166-1 alpha-2 code")]
    Country {
        /// The rejected value.
        value: String,
    },
    /// A transport document number must have 1 to 70 characters.
    #[error("transport document number must have 1 to 70 characters, found {len}")]
    DocumentNumberLength {
        /// Its length in characters.
        len: usize,
    },
    /// The transport document type is not in code list CL754.
    #[error("transport document type '{value}' is not in code list CL754")]
    DocumentType {
        /// The rejected value.
        value: String,
    },
    /// Not Toll's `yyyy-MM-ddTHH:mm:ssZ`.
    #[error("'{value}': {}", crate::validate::messages::INSTANT)]
    Instant {
        /// The rejected value.
        value: String,
    },
}

macro_rules! string_newtype_impls {
    ($ty:ident) => {
        impl FromStr for $ty {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl TryFrom<String> for $ty {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl TryFrom<&str> for $ty {
            type Error = ParseError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }
        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl $ty {
            /// The value as Toll writes it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

/// Movement Reference Number issued by Toll for a transport, master or house
/// message (the key for later PUT and DELETE).
///
/// Toll documents no format or check digit. Reading of the examples
/// `22NO4TU2HUD59UCBT8` and `24NO02091D3HAVFST5` (digitoll-api.md §2, \[I\]):
/// 18 characters = 2 digits (year) + 2 uppercase letters (country, `NO` for
/// Toll-issued ones, but NCTS MRNs such as `22FR98765273876523` share the
/// shape, so any A–Z pair is accepted) + 14 uppercase alphanumerics. Lowercase
/// input is rejected rather than normalised, because Toll's MRNs are
/// case-sensitive keys in URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mrn(String);

impl Mrn {
    /// Parses and checks the 18-character form described on the type.
    ///
    /// # Errors
    /// [`ParseError::MrnLength`] or [`ParseError::MrnFormat`].
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let len = s.chars().count();
        if len != 18 {
            return Err(ParseError::MrnLength {
                value: s.to_owned(),
                len,
            });
        }
        let b = s.as_bytes();
        let fail = |reason| {
            Err(ParseError::MrnFormat {
                value: s.to_owned(),
                reason,
            })
        };
        if !b[..2].iter().all(u8::is_ascii_digit) {
            return fail("characters 1-2 must be digits (year)");
        }
        if !b[2..4].iter().all(u8::is_ascii_uppercase) {
            return fail("characters 3-4 must be an uppercase country code");
        }
        if !b[4..]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        {
            return fail("characters 5-18 must be uppercase letters or digits");
        }
        Ok(Self(s.to_owned()))
    }

    /// The two-digit year prefix.
    pub fn year(&self) -> u8 {
        let b = self.0.as_bytes();
        (b[0] - b'0') * 10 + (b[1] - b'0')
    }

    /// The two-letter country part (`NO` for Toll-issued MRNs).
    pub fn country(&self) -> &str {
        &self.0[2..4]
    }
}
string_newtype_impls!(Mrn);

/// The UUID Toll returns from POST/PUT/DELETE (`{"requestId": "..."}`), used to
/// poll `validation-status/{requestId}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId(uuid::Uuid);

impl RequestId {
    /// Parses the hyphenated UUID form (the form Toll returns).
    ///
    /// # Errors
    /// [`ParseError::RequestId`] when `s` is not a hyphenated UUID.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.len() != 36 {
            return Err(ParseError::RequestId {
                value: s.to_owned(),
                reason: "expected the 36-character hyphenated form".to_owned(),
            });
        }
        uuid::Uuid::parse_str(s)
            .map(Self)
            .map_err(|e| ParseError::RequestId {
                value: s.to_owned(),
                reason: e.to_string(),
            })
    }

    /// Wraps an existing UUID (e.g. a freshly generated v4 in the simulator).
    pub fn from_uuid(id: uuid::Uuid) -> Self {
        Self(id)
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> &uuid::Uuid {
        &self.0
    }
}

impl FromStr for RequestId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl TryFrom<String> for RequestId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<RequestId> for String {
    fn from(v: RequestId) -> String {
        v.0.hyphenated().to_string()
    }
}
impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// Norwegian organisation number (Enhetsregisteret): 9 digits whose last digit
/// is a mod-11 check digit over weights 3,2,7,6,5,4,3,2 (check = 11 − sum mod
/// 11; 11 becomes 0; 10 means the number cannot exist).
///
/// Toll's playground fixtures use `123456789`, which fails this check, and
/// carrier/party ids may also be EORI or foreign numbers, so the Toll
/// validation in [`crate::validate`] does **not** apply this type to message
/// fields; it is for our own configuration (tenants, certificates).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgNumber(String);

impl OrgNumber {
    /// Parses and checks the mod-11 digit.
    ///
    /// # Errors
    /// [`ParseError::OrgNumberFormat`] or [`ParseError::OrgNumberCheckDigit`].
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let b = s.as_bytes();
        if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
            return Err(ParseError::OrgNumberFormat {
                value: s.to_owned(),
            });
        }
        match Self::check_digit(&b[..8]) {
            Some(c) if c == b[8] - b'0' => Ok(Self(s.to_owned())),
            _ => Err(ParseError::OrgNumberCheckDigit {
                value: s.to_owned(),
            }),
        }
    }

    /// Computes the check digit for the first 8 ASCII digits, or `None` when the
    /// remainder makes the number impossible (check value 10).
    pub fn check_digit(first8: &[u8]) -> Option<u8> {
        const W: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
        let sum: u32 = first8
            .iter()
            .zip(W)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            c => u8::try_from(c).ok(),
        }
    }
}
string_newtype_impls!(OrgNumber);

/// A customs office reference number: `NO` + 6 digits and listed in CL141
/// (e.g. `NO371001` Svinesund).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomsOffice(String);

impl CustomsOffice {
    /// Checks the shape and membership of CL141.
    ///
    /// # Errors
    /// [`ParseError::CustomsOfficeFormat`] or [`ParseError::CustomsOfficeUnknown`].
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let b = s.as_bytes();
        if b.len() != 8 || &b[..2] != b"NO" || !b[2..].iter().all(u8::is_ascii_digit) {
            return Err(ParseError::CustomsOfficeFormat {
                value: s.to_owned(),
            });
        }
        if !codes::CodeList::Cl141.contains(s) {
            return Err(ParseError::CustomsOfficeUnknown {
                value: s.to_owned(),
            });
        }
        Ok(Self(s.to_owned()))
    }
}
string_newtype_impls!(CustomsOffice);

/// ISO 3166-1 alpha-2 country code (uppercase), as Toll requires for every
/// `country`/`countryCode` field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(String);

impl CountryCode {
    /// Checks membership of the embedded ISO 3166-1 list.
    ///
    /// # Errors
    /// [`ParseError::Country`].
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if codes::CodeList::Country.contains(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::Country {
                value: s.to_owned(),
            })
        }
    }
}
string_newtype_impls!(CountryCode);

/// A transport document reference: number (1–70 characters) and CL754 type.
/// Together with the carrier id this is the immutable key of a master or
/// house message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawTransportDocument")]
pub struct TransportDocument {
    document_number: String,
    #[serde(rename = "type")]
    doc_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTransportDocument {
    document_number: String,
    #[serde(rename = "type")]
    doc_type: String,
}

impl TryFrom<RawTransportDocument> for TransportDocument {
    type Error = ParseError;
    fn try_from(r: RawTransportDocument) -> Result<Self, Self::Error> {
        Self::new(r.document_number, r.doc_type)
    }
}

impl TransportDocument {
    /// Checks the number length and the CL754 type.
    ///
    /// # Errors
    /// [`ParseError::DocumentNumberLength`] or [`ParseError::DocumentType`].
    pub fn new(
        document_number: impl Into<String>,
        doc_type: impl Into<String>,
    ) -> Result<Self, ParseError> {
        let document_number = document_number.into();
        let doc_type = doc_type.into();
        let len = document_number.chars().count();
        if len == 0 || len > 70 {
            return Err(ParseError::DocumentNumberLength { len });
        }
        if !codes::CodeList::Cl754.contains(&doc_type) {
            return Err(ParseError::DocumentType { value: doc_type });
        }
        Ok(Self {
            document_number,
            doc_type,
        })
    }

    /// The waybill/consignment note number.
    pub fn document_number(&self) -> &str {
        &self.document_number
    }

    /// The CL754 code, e.g. `N730`.
    pub fn doc_type(&self) -> &str {
        &self.doc_type
    }
}

impl fmt::Display for TransportDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.doc_type, self.document_number)
    }
}

impl FromStr for TransportDocument {
    type Err = ParseError;
    /// Parses the [`Display`](fmt::Display) form `TYPE NUMBER`, e.g. `N730 CMR-1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (t, n) = s.split_once(' ').ok_or(ParseError::DocumentType {
            value: s.to_owned(),
        })?;
        Self::new(n, t)
    }
}

/// Toll's exact instant format `yyyy-MM-ddTHH:mm:ssZ`, always UTC, whole seconds.
static INSTANT_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// A UTC instant in Toll's wire format `yyyy-MM-ddTHH:mm:ssZ` (no fractional
/// seconds, no offset other than `Z`). Parsing anything else fails with Toll's
/// own text `invalid ISO-8601 instant in UTC (yyyy-MM-ddTHH:mm:ssZ)`, which is
/// also what a serde error on such a field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TollInstant(OffsetDateTime);

impl TollInstant {
    /// Parses the exact wire format.
    ///
    /// # Errors
    /// [`ParseError::Instant`].
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.len() != 20 {
            return Err(ParseError::Instant {
                value: s.to_owned(),
            });
        }
        time::PrimitiveDateTime::parse(s, INSTANT_FORMAT)
            .map(|p| Self(p.assume_utc()))
            .map_err(|_| ParseError::Instant {
                value: s.to_owned(),
            })
    }

    /// Converts any instant to UTC, truncating sub-second precision (Toll's
    /// format carries whole seconds only).
    pub fn from_offset_date_time(t: OffsetDateTime) -> Self {
        let utc = t.to_offset(time::UtcOffset::UTC);
        Self(utc.replace_nanosecond(0).unwrap_or(utc))
    }

    /// The instant as a `time` value in UTC.
    pub fn to_offset_date_time(self) -> OffsetDateTime {
        self.0
    }
}

impl From<OffsetDateTime> for TollInstant {
    fn from(t: OffsetDateTime) -> Self {
        Self::from_offset_date_time(t)
    }
}

impl FromStr for TollInstant {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for TollInstant {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl fmt::Display for TollInstant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Years outside 0000-9999 cannot be written in this format; fall back
        // to the debug form rather than panicking.
        match self.0.format(INSTANT_FORMAT) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{:?}", self.0),
        }
    }
}

impl Serialize for TollInstant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TollInstant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = TollInstant;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(crate::validate::messages::INSTANT)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TollInstant, E> {
                TollInstant::parse(v).map_err(|_| E::custom(crate::validate::messages::INSTANT))
            }
        }
        d.deserialize_str(V)
    }
}

/// JSON Schemas of the newtypes (for [`crate::spec`]): strings with the
/// pattern and length each type's parser enforces.
mod schema {
    use std::borrow::Cow;

    use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

    macro_rules! string_schema {
        ($ty:ty, $name:literal, $schema:tt) => {
            impl JsonSchema for $ty {
                fn inline_schema() -> bool {
                    true
                }
                fn schema_name() -> Cow<'static, str> {
                    $name.into()
                }
                fn json_schema(_: &mut SchemaGenerator) -> Schema {
                    json_schema!($schema)
                }
            }
        };
    }

    string_schema!(super::Mrn, "Mrn", {
        "type": "string", "minLength": 18, "maxLength": 18,
        "pattern": "^[0-9]{2}[A-Z]{2}[A-Z0-9]{14}$"
    });
    string_schema!(super::RequestId, "RequestId", {
        "type": "string", "format": "uuid"
    });
    string_schema!(super::OrgNumber, "OrgNumber", {
        "type": "string", "pattern": "^[0-9]{9}$"
    });
    string_schema!(super::CustomsOffice, "CustomsOffice", {
        "type": "string", "minLength": 8, "maxLength": 8, "pattern": "^NO[0-9]{6}$"
    });
    string_schema!(super::CountryCode, "CountryCode", {
        "type": "string", "minLength": 2, "maxLength": 2
    });
    // Toll's instant format [D S9]: `yyyy-MM-ddTHH:mm:ssZ`.
    string_schema!(super::TollInstant, "TollInstant", {
        "type": "string", "format": "date-time",
        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
    });

    impl JsonSchema for super::TransportDocument {
        fn schema_name() -> Cow<'static, str> {
            "TransportDocument".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "object",
                "properties": {
                    "documentNumber": {"type": "string", "minLength": 1, "maxLength": 70},
                    "type": {"type": "string", "minLength": 4, "maxLength": 4}
                },
                "required": ["documentNumber", "type"]
            })
        }
    }
}

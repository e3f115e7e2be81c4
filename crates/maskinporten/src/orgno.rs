//! Norwegian organisation numbers (organisasjonsnummer) with their mod-11 check digit.

use std::fmt;
use std::str::FromStr;

/// A validated nine-digit Norwegian organisation number.
///
/// Maskinporten rejects grants for unknown organisations with errors that are
/// hard to tell apart from delegation problems, so the number is checked
/// locally (length, digits and the mod-11 check digit) before any grant is
/// built.
///
/// ```
/// use maskinporten::OrgNumber;
/// let org: OrgNumber = "974760673".parse()?; // Brønnøysundregistrene
/// assert_eq!(org.as_str(), "974760673");
/// assert!("974760674".parse::<OrgNumber>().is_err());
/// # Ok::<(), maskinporten::OrgNumberError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgNumber(String);

/// Why a string is not a valid organisation number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrgNumberError {
    /// The value does not have exactly nine characters.
    #[error("organisation number '{value}' must have exactly 9 digits, found {len} characters")]
    Length {
        /// The rejected input.
        value: String,
        /// Its length in characters.
        len: usize,
    },
    /// The value contains something other than ASCII digits.
    #[error("organisation number '{value}' must contain only digits 0-9")]
    NotDigits {
        /// The rejected input.
        value: String,
    },
    /// The mod-11 check digit does not match.
    #[error(
        "organisation number '{value}' has an invalid check digit (mod-11 with weights 3,2,7,6,5,4,3,2)"
    )]
    CheckDigit {
        /// The rejected input.
        value: String,
    },
}

const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

impl OrgNumber {
    /// Parses and validates an organisation number (nine digits, mod-11 check digit).
    ///
    /// # Errors
    /// [`OrgNumberError`] says which rule the value breaks.
    pub fn parse(value: &str) -> Result<Self, OrgNumberError> {
        let len = value.chars().count();
        if len != 9 {
            return Err(OrgNumberError::Length {
                value: value.to_owned(),
                len,
            });
        }
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OrgNumberError::NotDigits {
                value: value.to_owned(),
            });
        }
        let digits: Vec<u32> = value.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => {
                return Err(OrgNumberError::CheckDigit {
                    value: value.to_owned(),
                });
            }
            c => c,
        };
        if check != digits[8] {
            return Err(OrgNumberError::CheckDigit {
                value: value.to_owned(),
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// The nine digits as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISO 6523 form used by Maskinporten and Altinn (`0192:<orgno>`).
    pub fn iso6523(&self) -> String {
        format!("0192:{}", self.0)
    }
}

impl FromStr for OrgNumber {
    type Err = OrgNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgNumber({})", self.0)
    }
}

impl fmt::Display for OrgNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for OrgNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers() {
        // Brønnøysundregistrene, Equinor, Digdir.
        for n in ["974760673", "923609016", "991825827"] {
            assert!(OrgNumber::parse(n).is_ok(), "{n}");
        }
        assert!(matches!(
            OrgNumber::parse("974760674"),
            Err(OrgNumberError::CheckDigit { .. })
        ));
    }

    #[test]
    fn check_digit_eleven_maps_to_zero() {
        // A prefix whose weighted sum is divisible by 11 needs check digit 0.
        let found = (0..100_000_000u32)
            .step_by(7919)
            .map(|n| format!("{n:08}"))
            .find(|p| {
                let s: u32 = p
                    .bytes()
                    .zip(WEIGHTS)
                    .map(|(d, w)| u32::from(d - b'0') * w)
                    .sum();
                s.is_multiple_of(11)
            })
            .expect("some prefix has a sum divisible by 11");
        assert!(OrgNumber::parse(&format!("{found}0")).is_ok());
        assert!(OrgNumber::parse(&format!("{found}1")).is_err());
    }

    #[test]
    fn remainder_one_is_invalid() {
        // 11 - 10 = check 10 can never be a digit: every ending must fail.
        let prefix = (0..100_000_000u32)
            .step_by(7919)
            .map(|n| format!("{n:08}"))
            .find(|p| {
                let s: u32 = p
                    .bytes()
                    .zip(WEIGHTS)
                    .map(|(d, w)| u32::from(d - b'0') * w)
                    .sum();
                s % 11 == 1
            })
            .expect("prefix with remainder 1");
        for d in 0..10 {
            assert!(matches!(
                OrgNumber::parse(&format!("{prefix}{d}")),
                Err(OrgNumberError::CheckDigit { .. })
            ));
        }
    }

    #[test]
    fn rejects_shape_errors() {
        assert!(matches!(
            OrgNumber::parse("12345678"),
            Err(OrgNumberError::Length { len: 8, .. })
        ));
        assert!(matches!(
            OrgNumber::parse("12345678a"),
            Err(OrgNumberError::NotDigits { .. })
        ));
        assert_eq!(
            OrgNumber::parse("974760673").unwrap().iso6523(),
            "0192:974760673"
        );
    }
}

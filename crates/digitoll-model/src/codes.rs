//! Toll's code lists (S12, `mo-kodeverk-EN.html` @e57bc09) embedded as data,
//! plus open enums for the codes the message logic branches on.
//!
//! The tables live in `data/code-lists.json` inside this crate (copied from the
//! project's derived code lists; the country table from ISO 3166-1). They are
//! compiled in with `include_str!` and parsed once on first use, so nothing
//! reads files at run time.
//!
//! Enums here are *open*: an unknown code deserialises to `Other(String)` and
//! serialises back unchanged. Toll adds codes without a new API version, so a
//! response must never fail to parse because of a new code; input validation
//! ([`crate::validate`]) reports `Other` values as invalid codes instead.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

const RAW: &str = include_str!("../data/code-lists.json");

#[derive(Deserialize)]
struct RawFile {
    lists: BTreeMap<String, RawList>,
}

#[derive(Deserialize)]
struct RawList {
    title: String,
    codes: Vec<String>,
    /// Codes added to Toll's published table from another public source.
    #[serde(default)]
    added: Vec<Addition>,
}

/// Codes added to a list beyond Toll's code-list page, with where they were
/// seen (`added` in `data/code-lists.json`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Addition {
    /// The added codes.
    pub codes: Vec<String>,
    /// The public repository they were seen in (`owner/name`).
    pub repo: String,
    /// The path in that repository.
    pub path: String,
    /// Why they were added.
    pub why: String,
}

struct Table {
    title: String,
    codes: Vec<String>,
    set: HashSet<String>,
    added: Vec<Addition>,
}

static TABLES: LazyLock<BTreeMap<String, Table>> = LazyLock::new(|| {
    // The JSON is compiled into the crate and covered by tests, so a parse
    // failure is a build defect, not a run-time condition.
    let raw: RawFile = serde_json::from_str(RAW).expect("embedded data/code-lists.json is valid");
    raw.lists
        .into_iter()
        .map(|(k, l)| {
            let set = l.codes.iter().cloned().collect();
            (
                k,
                Table {
                    title: l.title,
                    codes: l.codes,
                    set,
                    added: l.added,
                },
            )
        })
        .collect()
});

/// The code lists this crate knows, by Toll's identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeList {
    /// CL017 package type.
    Cl017,
    /// CL018 mode of transport at the border.
    Cl018,
    /// CL094 representative status.
    Cl094,
    /// CL141 customs office reference number.
    Cl141,
    /// CL228 previous document type.
    Cl228,
    /// CL704 additional supply chain actor role.
    Cl704,
    /// CL707 communication means type (EM, TE).
    Cl707,
    /// CL708 container indicator (0, 1).
    Cl708,
    /// CL709 container packed status (A, B).
    Cl709,
    /// CL710 container size and type.
    Cl710,
    /// CL711 container supplier type.
    Cl711,
    /// CL729 type of person (1, 2, 3).
    Cl729,
    /// CL749 type of goods.
    Cl749,
    /// CL750 type of identification of means of transport.
    Cl750,
    /// CL751 type of means of transport.
    Cl751,
    /// CL754 transport document type.
    Cl754,
    /// CL756 additional fiscal references role.
    Cl756,
    /// ISO 3166-1 alpha-2 countries.
    Country,
    /// ImportProcedure.
    ImportProcedure,
    /// OutgoingProcedure.
    OutgoingProcedure,
    /// Additional previous document types (CUDE, RETR, GONU, C624).
    AdditionalPreviousDocumentType,
    /// TB_EXPORTTYPE.
    ExportType,
    /// IncompleteDocumentationReason.
    IncompleteDocumentationReason,
}

impl CodeList {
    /// Every list, in Toll's order.
    pub const ALL: [CodeList; 23] = [
        Self::Cl017,
        Self::Cl018,
        Self::Cl094,
        Self::Cl141,
        Self::Cl228,
        Self::Cl704,
        Self::Cl707,
        Self::Cl708,
        Self::Cl709,
        Self::Cl710,
        Self::Cl711,
        Self::Cl729,
        Self::Cl749,
        Self::Cl750,
        Self::Cl751,
        Self::Cl754,
        Self::Cl756,
        Self::Country,
        Self::ImportProcedure,
        Self::OutgoingProcedure,
        Self::AdditionalPreviousDocumentType,
        Self::ExportType,
        Self::IncompleteDocumentationReason,
    ];

    /// The key of the list in `data/code-lists.json` (`cl751`, `country`, …).
    pub fn id(self) -> &'static str {
        self.key()
    }

    /// Codes added beyond Toll's code-list page, with their sources.
    pub fn additions(self) -> &'static [Addition] {
        &self.table().added
    }

    fn key(self) -> &'static str {
        match self {
            Self::Cl017 => "cl017",
            Self::Cl018 => "cl018",
            Self::Cl094 => "cl094",
            Self::Cl141 => "cl141",
            Self::Cl228 => "cl228",
            Self::Cl704 => "cl704",
            Self::Cl707 => "cl707",
            Self::Cl708 => "cl708",
            Self::Cl709 => "cl709",
            Self::Cl710 => "cl710",
            Self::Cl711 => "cl711",
            Self::Cl729 => "cl729",
            Self::Cl749 => "cl749",
            Self::Cl750 => "cl750",
            Self::Cl751 => "cl751",
            Self::Cl754 => "cl754",
            Self::Cl756 => "cl756",
            Self::Country => "country",
            Self::ImportProcedure => "importprocedure",
            Self::OutgoingProcedure => "outgoingprocedure",
            Self::AdditionalPreviousDocumentType => "additionalpreviousdocumenttype",
            Self::ExportType => "tb_eksporttype",
            Self::IncompleteDocumentationReason => "incompleteDocumentationReason",
        }
    }

    fn table(self) -> &'static Table {
        // Every key above exists in the embedded file (tested).
        &TABLES[self.key()]
    }

    /// Whether `code` is in the list (exact, case-sensitive match as Toll does).
    pub fn contains(self, code: &str) -> bool {
        self.table().set.contains(code)
    }

    /// The codes in Toll's table order.
    pub fn codes(self) -> &'static [String] {
        &self.table().codes
    }

    /// The table title, e.g. `CL141 Customs office reference number`.
    pub fn title(self) -> &'static str {
        &self.table().title
    }
}

/// Previous-document types accepted in `previousDocuments[].typeOfReference`:
/// CL228 plus Toll's national additions (CUDE, RETR, GONU, C624).
pub fn is_previous_document_type(code: &str) -> bool {
    CodeList::Cl228.contains(code) || CodeList::AdditionalPreviousDocumentType.contains(code)
}

/// All previous-document codes in the order Toll would list them.
pub fn previous_document_types() -> Vec<&'static str> {
    CodeList::Cl228
        .codes()
        .iter()
        .chain(CodeList::AdditionalPreviousDocumentType.codes())
        .map(String::as_str)
        .collect()
}

macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A code this crate does not know (kept verbatim).
            Other(String),
        }

        impl $name {
            /// Every known variant, in Toll's order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The wire code.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(s) => s,
                }
            }

            /// Whether this is a known code (not [`Self::Other`]).
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }

            /// Maps a wire code, keeping unknown ones.
            pub fn from_code(s: &str) -> Self {
                match s {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }

            /// The known wire codes.
            pub fn known_codes() -> Vec<&'static str> {
                vec![$($wire),+]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::from_code(s)
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
    };
}

open_enum! {
    /// `importProcedure.importProcedure` (code list ImportProcedure), plus
    /// `NATO_FORM_302`, which S1's procedure table documents (variant 29) but
    /// the code-list page does not list.
    ImportProcedure {
        /// Release for free circulation at the border (needs a CUDE).
        ImmediateReleaseImport = "IMMEDIATE_RELEASE_IMPORT",
        /// A TVINN declaration of either kind (needs a CUDE).
        CustomsDeclaration = "CUSTOMS_DECLARATION",
        /// Transit to be completed at unloading (needs an N820).
        TransitImport = "TRANSIT_IMPORT",
        /// Transit to be started at the border (needs a RETR).
        TransitRelease = "TRANSIT_RELEASE",
        /// VOEC consignment (needs goodsItem).
        ImmediateReleaseVoec = "IMMEDIATE_RELEASE_VOEC",
        /// Collective clearance after the border.
        CollectiveRelease = "COLLECTIVE_RELEASE",
        /// Customs warehouse entry (CUDE, or GONU until 2027-03-01).
        WarehouseRelease = "WAREHOUSE_RELEASE",
        /// Exempt documents and goods.
        DocumentsNotObligedRelease = "DOCUMENTS_NOT_OBLIGED_RELEASE",
        /// ATA carnet (needs N955).
        AtaCarnet = "ATA_CARNET",
        /// TIR carnet (needs N952).
        TirCarnet = "TIR_CARNET",
        /// NATO form 302 (needs C624); from S1, absent from S12.
        NatoForm302 = "NATO_FORM_302",
    }
}

open_enum! {
    /// `importProcedure.outgoingProcedure`: the procedure up to the border.
    OutgoingProcedure {
        /// Transit.
        Tra = "TRA",
        /// Export.
        Exp = "EXP",
        /// Export and transit.
        Tre = "TRE",
    }
}

open_enum! {
    /// `exportFromEU[].typeOfExport` (TB_EXPORTTYPE).
    TypeOfExport {
        /// EU export (AES); id of 18 characters.
        AesExport = "AES_EXPORT",
        /// Swedish export (EUEIR); id of up to 35 characters.
        EueirExport = "EUEIR_EXPORT",
        /// Swedish entry in declarant's records; 18 characters, `NNSE...AE.`.
        EidrExport = "EIDR_EXPORT",
    }
}

open_enum! {
    /// Reasons Toll gives for `documentStatus: INCOMPLETE`.
    IncompleteDocumentationReason {
        /// No CUDE where the procedure needs one.
        IncompleteCudeDocumentation = "INCOMPLETE_CUDE_DOCUMENTATION",
        /// No export reference where outgoingProcedure is EXP/TRE.
        IncompleteExpDocumentation = "INCOMPLETE_EXP_DOCUMENTATION",
        /// No transit reference where one is needed.
        IncompleteTraDocumentation = "INCOMPLETE_TRA_DOCUMENTATION",
        /// VOEC goods items missing or incomplete.
        IncompleteVoecDocumentation = "INCOMPLETE_VOEC_DOCUMENTATION",
        /// Anything else missing.
        IncompleteDocumentation = "INCOMPLETE_DOCUMENTATION",
        /// TVINN could not be reached.
        IncompleteCudeValidation = "INCOMPLETE_CUDE_VALIDATION",
        /// GONU chosen without a goods number.
        IncompleteGonuDocumentation = "INCOMPLETE_GONU_DOCUMENTATION",
        /// The declaration id could not be verified.
        CannotVerifyCudeDocumentation = "CANNOT_VERIFY_CUDE_DOCUMENTATION",
        /// The NCTS MRN could not be verified.
        CannotVerifyTraDocumentation = "CANNOT_VERIFY_TRA_DOCUMENTATION",
    }
}

open_enum! {
    /// `status` of a validation-status result.
    ProcessingStatus {
        /// Accepted; an MRN is issued.
        Success = "SUCCESS",
        /// Rejected; see `validationErrorList`.
        Failure = "FAILURE",
    }
}

open_enum! {
    /// `documentStatus` of a transport-document status.
    DocumentStatusCode {
        /// Complete.
        Success = "SUCCESS",
        /// Accepted but missing documentation; see the reasons.
        Incomplete = "INCOMPLETE",
    }
}

open_enum! {
    /// `parentObjectType` / `childObjectType` of a relation. Only TRANSPORT and
    /// MASTER_CONSIGNMENT are documented (S6); HOUSE_CONSIGNMENT is inferred.
    ObjectType {
        /// A transport message.
        Transport = "TRANSPORT",
        /// A master consignment message.
        MasterConsignment = "MASTER_CONSIGNMENT",
        /// A house consignment message (\[I\]).
        HouseConsignment = "HOUSE_CONSIGNMENT",
    }
}

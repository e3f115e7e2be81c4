//! Result types of submissions and lookups.

use digitoll_model::codes::IncompleteDocumentationReason;
use digitoll_model::responses::{DocumentStatus, ValidationStatus};
use digitoll_model::{MessageKind, Mrn, RequestId};
use serde::Deserialize;

/// The three message documents of a movement API, with their path segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// `/transport`.
    Transport,
    /// `/master-consignment`.
    MasterConsignment,
    /// `/house-consignment`.
    HouseConsignment,
}

impl DocumentKind {
    /// The three documents, transport first.
    pub const ALL: [DocumentKind; 3] = [
        Self::Transport,
        Self::MasterConsignment,
        Self::HouseConsignment,
    ];

    /// The URL path segment, e.g. `master-consignment` (the model's
    /// [`MessageKind::path_segment`], the one place these names live).
    pub fn path_segment(self) -> &'static str {
        self.message_kind().path_segment()
    }

    /// The matching digitoll-model message kind.
    pub fn message_kind(self) -> MessageKind {
        match self {
            Self::Transport => MessageKind::Transport,
            Self::MasterConsignment => MessageKind::MasterConsignment,
            Self::HouseConsignment => MessageKind::HouseConsignment,
        }
    }
}

/// What a POST of a message led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Submission {
    /// `202 {"requestId"}`: poll validation status with the id.
    Accepted {
        /// The request id.
        request_id: RequestId,
        /// True when the first POST's response was lost, the lookup found
        /// nothing, and the message was sent a second time.
        resent: bool,
    },
    /// The POST's response was lost, but a lookup by document number, type
    /// and carrier id shows that Toll has the message: it was not re-sent.
    Reconciled(DocumentLookup),
}

/// A transport-document status found by a lookup, with the MRN when Toll
/// reports one (the contract's `"mrn"` field, \[I\]).
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentLookup {
    /// The MRN of the document, when reported.
    pub mrn: Option<Mrn>,
    /// Document number, type, status and incomplete reasons.
    pub status: DocumentStatus,
}

#[derive(Deserialize)]
pub(crate) struct LookupWire {
    #[serde(default)]
    pub(crate) mrn: Option<String>,
    #[serde(flatten)]
    pub(crate) status: DocumentStatus,
}

impl From<LookupWire> for DocumentLookup {
    fn from(w: LookupWire) -> Self {
        Self {
            mrn: w.mrn.and_then(|m| Mrn::parse(&m).ok()),
            status: w.status,
        }
    }
}

/// A body that is either one object or a list of them (Toll's docs show
/// both shapes for document-status replies).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self {
            Self::One(t) => vec![t],
            Self::Many(v) => v,
        }
    }
}

/// How a [`Completed`] submission was confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// Validation status polled to `SUCCESS`.
    Validated,
    /// The POST's response was lost; a lookup found the message (no re-send).
    Reconciled,
}

/// A message Toll accepted and gave an MRN.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    /// The MRN, the key for later PUT and DELETE.
    pub mrn: Mrn,
    /// The request id (absent when reconciled).
    pub request_id: Option<RequestId>,
    /// Missing-documentation reasons: not an error, the message is accepted
    /// but must be completed before the border crossing.
    pub incomplete: Vec<IncompleteDocumentationReason>,
    /// Validated or reconciled.
    pub confirmation: Confirmation,
    /// The full validation result (absent when reconciled).
    pub validation: Option<ValidationStatus>,
}

impl Completed {
    /// Whether the message was accepted as INCOMPLETE.
    pub fn is_incomplete(&self) -> bool {
        !self.incomplete.is_empty()
    }
}

//! Where Toll lives and what each movement API is called: hosts, base paths
//! and Maskinporten scopes, in one place.

use std::fmt;

use digitoll_model::ContractProfile;
use digitoll_model::{TransportMode, documents, entry};
use url::Url;

use crate::error::Error;

/// A Toll environment: the host that serves the token exchange and every API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TollEnvironment {
    /// Production, `https://api.toll.no` (Maskinporten `https://maskinporten.no/`).
    Prod,
    /// The playground, `https://api-test.toll.no` (Maskinporten test).
    Test,
    /// Any other base URL, e.g. the digitoll simulator on `http://127.0.0.1:port/`.
    Custom(Url),
}

impl TollEnvironment {
    /// Production base URL.
    pub const PROD_URL: &'static str = "https://api.toll.no";
    /// Playground base URL.
    pub const TEST_URL: &'static str = "https://api-test.toll.no";

    /// A custom environment from a base URL text (a path prefix is kept).
    ///
    /// # Errors
    /// [`Error::Config`] when `base` is not an absolute `http`/`https` URL.
    pub fn custom(base: &str) -> Result<Self, Error> {
        let url = Url::parse(base)
            .map_err(|e| Error::Config(format!("Toll base URL {base:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "Toll base URL {base:?} must be an absolute http(s) URL"
            )));
        }
        Ok(Self::Custom(url))
    }

    /// The base URL (no trailing slash in the path).
    pub fn base_url(&self) -> Url {
        let mut url = match self {
            // Both constants are valid URLs (tested).
            Self::Prod => Url::parse(Self::PROD_URL).unwrap_or_else(|_| unreachable!()),
            Self::Test => Url::parse(Self::TEST_URL).unwrap_or_else(|_| unreachable!()),
            Self::Custom(u) => u.clone(),
        };
        let trimmed = url.path().trim_end_matches('/').to_owned();
        url.set_path(&trimmed);
        url.set_query(None);
        url.set_fragment(None);
        url
    }

    /// `{base}{path}`, where `path` starts with `/`.
    pub(crate) fn join(&self, path: &str) -> Url {
        let mut url = self.base_url();
        let full = format!("{}{}", url.path().trim_end_matches('/'), path);
        url.set_path(&full);
        url
    }

    /// The URL of endpoint `id` of `profile` (path template from the
    /// profile, or the built-in catalogue) on this host, with `params`
    /// (placeholder → value) percent-encoded into it.
    ///
    /// # Errors
    /// [`Error::Config`] for an id the catalogue lacks or a missing value (a
    /// programming error: profiles are checked when parsed).
    pub fn endpoint_url(
        &self,
        profile: &ContractProfile,
        id: &str,
        params: &[(&str, &str)],
    ) -> Result<Url, Error> {
        let rendered = profile
            .path(id, params)
            .map_err(|e| Error::Config(format!("endpoint {id}: {e}")))?;
        let (path, query) = match rendered.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rendered.as_str(), None),
        };
        let mut url = self.join(path);
        url.set_query(query);
        Ok(url)
    }

    /// The token-exchange endpoint, `{base}/api/access/external/oauth/token`.
    pub fn token_exchange_url(&self) -> Url {
        self.join("/api/access/external/oauth/token")
    }

    /// Whether this is the playground, whose validation uses fixed fixtures
    /// (TVINN, NCTS, VOEC): the client then applies the same fixture rules locally.
    pub fn is_playground(&self) -> bool {
        matches!(self, Self::Test)
    }
}

/// The Maskinporten scope for both the submission and the query API of a
/// movement mode. `foreign` picks the `toll:eu/…` scope of businesses that
/// authenticate with an eIDAS eSeal. Entry status
/// (`GET …/status/v2/entry/status/{mrn}`) is on the query API, so it uses
/// this scope too, not `toll:movement/entry`.
///
/// The mode itself is the model's [`TransportMode`] (base paths, scopes,
/// CL018 code, rule set): the client declares no mode of its own.
pub fn mode_scope(mode: TransportMode, foreign: bool) -> &'static str {
    if foreign {
        mode.eu_scope()
    } else {
        mode.scope()
    }
}

/// Metric label of a mode's query API (`road-query`, …).
pub(crate) fn query_label(mode: TransportMode) -> &'static str {
    match mode {
        TransportMode::Road => "road-query",
        TransportMode::Air => "air-query",
        TransportMode::Rail => "rail-query",
        TransportMode::Maritime => "maritime-query",
    }
}

/// The Digitoll APIs beside the four movement families: everything that
/// differs between them (base path, scope, metric label) is here, as
/// [`TransportMode`] holds it for the movement APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// `movement-presentation-api`, `/api/movement/presentation/v1`.
    Presentation,
    /// `movement-routing-api`, `/api/movement/routing/v1`.
    Routing,
    /// `movement-arrival-api`, `/api/movement/arrival/v1` (unmanned crossings).
    Arrival,
    /// The document upload API, `/api/goodsdeclaration/document/v2`.
    DocumentUpload,
}

impl Service {
    /// The API's base path.
    pub fn base_path(self) -> &'static str {
        match self {
            Self::Presentation => entry::PRESENTATION_BASE,
            Self::Routing => entry::ROUTING_BASE,
            Self::Arrival => entry::ARRIVAL_BASE,
            Self::DocumentUpload => documents::DOCUMENT_BASE,
        }
    }

    /// The Maskinporten scope (`foreign`: the `toll:eu/…` one of eSeal
    /// businesses). Presentation and routing share `toll:movement/entry`.
    /// Toll does not document the arrival API's scope; digitoll uses the
    /// road scope, since arrival reports a road transport's crossing \[I\].
    pub fn scope(self, foreign: bool) -> &'static str {
        match (self, foreign) {
            (Self::Presentation | Self::Routing, false) => entry::ENTRY_SCOPE,
            (Self::Presentation | Self::Routing, true) => entry::ENTRY_SCOPE_EU,
            (Self::Arrival, false) => "toll:movement/road/v2",
            (Self::Arrival, true) => "toll:eu/movement/road/v2",
            (Self::DocumentUpload, false) => documents::DOCUMENT_SCOPE,
            (Self::DocumentUpload, true) => documents::DOCUMENT_SCOPE_EU,
        }
    }

    /// Short name used in metric labels (`api="presentation"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Presentation => "presentation",
            Self::Routing => "routing",
            Self::Arrival => "arrival",
            Self::DocumentUpload => "document",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            TollEnvironment::Prod.token_exchange_url().as_str(),
            "https://api.toll.no/api/access/external/oauth/token"
        );
        assert_eq!(
            TollEnvironment::Test
                .join("/api/movement/road/v2/test-auth")
                .as_str(),
            "https://api-test.toll.no/api/movement/road/v2/test-auth"
        );
        let sim = TollEnvironment::custom("http://127.0.0.1:4100/").unwrap();
        assert_eq!(
            sim.join(&TransportMode::Road.query_base()).as_str(),
            "http://127.0.0.1:4100/api/movement/road/status/v2"
        );
        let prefixed = TollEnvironment::custom("http://proxy.local/toll/").unwrap();
        assert_eq!(
            prefixed.token_exchange_url().as_str(),
            "http://proxy.local/toll/api/access/external/oauth/token"
        );
        assert!(TollEnvironment::custom("ftp://x").is_err());
        assert!(TollEnvironment::custom("not a url").is_err());
    }

    #[test]
    fn scopes() {
        assert_eq!(
            mode_scope(TransportMode::Road, false),
            "toll:movement/road/v2"
        );
        assert_eq!(
            mode_scope(TransportMode::Road, true),
            "toll:eu/movement/road/v2"
        );
        assert_eq!(mode_scope(TransportMode::Air, false), "toll:movement/air");
        assert_eq!(
            TransportMode::Maritime.query_base(),
            "/api/movement/maritime/status/v1"
        );
        assert_eq!(Service::Presentation.scope(false), "toll:movement/entry");
        assert_eq!(Service::Routing.scope(true), "toll:eu/movement/entry");
        assert_eq!(Service::Arrival.scope(false), "toll:movement/road/v2");
        assert_eq!(
            Service::DocumentUpload.scope(false),
            "toll:goodsdeclaration/document.write"
        );
        assert_eq!(
            Service::DocumentUpload.base_path(),
            "/api/goodsdeclaration/document/v2"
        );
    }
}

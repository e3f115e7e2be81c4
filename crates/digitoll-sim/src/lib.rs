//! `digitoll-sim`: a simulator of Maskinporten and the Toll road v2 APIs for
//! digitoll's tests and demos.
//!
//! It runs in-process from tests (bound to `127.0.0.1:0`) or standalone (the CLI
//! binds a fixed address and writes demo credentials), and serves:
//!
//! - `GET /.well-known/oauth-authorization-server`: Maskinporten-shaped metadata;
//! - `GET /jwk`: the public key that signs access tokens (with `kid`);
//! - `POST /token`: the JWT bearer grant, judged the way Maskinporten documents it
//!   (see the check list in the `maskinporten::grant` module), answering with
//!   Maskinporten's error body (`error`, `error_description` with
//!   `(trace_id: …)`, `error_uri` = `<issuer>errors/MP-xxx`) or an RS256 access
//!   token;
//! - the Toll part (see [`toll`]): `POST /api/access/external/oauth/token` (token
//!   exchange), the road v2 submission API under `/api/movement/road/v2` and the
//!   query API under `/api/movement/road/status/v2`, with asynchronous processing,
//!   linking, auto-cancellation and per-organisation visibility; the same for air,
//!   rail and maritime (`/api/movement/{mode}/v1`); presentation, routing feeds,
//!   arrival (with a simulated border crossing) and document upload;
//! - with [`SimulatorBuilder::replay`], instead of all the above: the answers
//!   recorded in a `digitoll conformance` transcript (see [`replay`]);
//! - `/sim/…`: the admin API (see [`admin`]) for registering organisations,
//!   clients, scope grants and delegations, moving the clock, injecting faults and
//!   reading recorded requests. [`SimControl`] offers the same operations in Rust.
//!
//! # Behaviour worth knowing
//!
//! - **Clock.** Every check, the tokens' `iat`/`exp` and the HTTP `Date` header
//!   follow the sim clock (system clock + offset, see [`SimControl::set_clock_offset`]).
//! - **Errors.** 400 for every rejection except MP-250/MP-251 (403, `access_denied`:
//!   the Digdir troubleshooting page labels them "Forbidden"). Problems with `kid`
//!   ("The client requires pre-registered jwk and no key identifier (kid) provided",
//!   "Unknown key identifier (kid) for client") carry MP-100, unsupported `alg`
//!   MP-011, and a wrong `grant_type` `unsupported_grant_type` without an MP code.
//! - **Scopes.** Without `consumer_org`, each scope must be on the client (MP-200)
//!   and granted to the client's org (MP-250). With `consumer_org`, each scope must
//!   be delegated by the consumer to the client's org (MP-251, the client need not
//!   list it: "unless it is Altinn-delegated") and granted to the consumer (MP-250).
//! - **Replay.** A `jti` is remembered, per client, from the moment the grant's
//!   signature and times check out until its `exp` + 10 s on the sim clock.
//! - **Claims.** Undocumented grant claims (even `nbf`, `sub`) are rejected with MP-011.
//! - **Environment.** The simulator plays TEST by default: it trusts its Test CA,
//!   and certificates from its Prod CA get MP-120 (see [`SimulatorBuilder::environment`]).
//!
//! # Example
//!
//! ```no_run
//! use digitoll_sim::{ClientRegistration, Fault, RsaPrivateKey, Simulator};
//!
//! # async fn demo() -> Result<(), digitoll_sim::SimError> {
//! let sim = Simulator::builder().start().await?;
//! let ctl = sim.control();
//!
//! // A key client of org 310000000 with one registered key.
//! let key = RsaPrivateKey::generate()?;
//! ctl.register_organisation("310000000", "Kunde AS");
//! ctl.register_client(ClientRegistration::with_keys(
//!     "my-client", "310000000", ["toll:movement/air"], vec![key.public_jwk("k1")],
//! ));
//! ctl.grant_scope("310000000", "toll:movement/air");
//!
//! // Sign a grant with aud = sim.issuer(), iss = "my-client", kid = "k1", then
//! // POST it to sim.token_endpoint(). To test retries, make the next token call fail:
//! ctl.add_fault(Fault::status("/token", 502).times(1));
//! // ... and check what the client sent:
//! let sent = ctl.requests();
//! # let _ = sent;
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! With curl against a running simulator (port 4100 here):
//!
//! ```text
//! curl -s localhost:4100/.well-known/oauth-authorization-server
//! curl -s -XPOST localhost:4100/sim/organisations -d '{"org_no":"310000000","name":"Kunde AS"}'
//! curl -s -XPOST localhost:4100/sim/clients \
//!   -d '{"client_id":"c1","org_no":"310000000","scopes":["toll:movement/air"],"keys":[{"kty":"RSA","kid":"k1","n":"…","e":"AQAB"}]}'
//! curl -s -XPOST localhost:4100/sim/scope-grants -d '{"org_no":"310000000","scope":"toll:movement/air"}'
//! curl -s -XPOST localhost:4100/sim/delegations \
//!   -d '{"consumer_org":"311000004","supplier_org":"310000000","scope":"toll:movement/air"}'
//! curl -s -XPUT  localhost:4100/sim/clock -d '{"offset_secs":3600}'
//! curl -s -XPOST localhost:4100/sim/faults -d '{"path_prefix":"/token","kind":{"type":"status","status":502},"times":2}'
//! curl -s -XPOST localhost:4100/sim/faults -d '{"path_prefix":"/token","kind":{"type":"outage"},"for_secs":30}'
//! curl -s -XPOST localhost:4100/sim/faults -d '{"path_prefix":"/token","kind":{"type":"rate_limited","retry_after_secs":5},"probability":0.3}'
//! curl -s -XPOST localhost:4100/sim/faults -d '{"path_prefix":"/token","kind":{"type":"drop_response"},"times":1}'
//! curl -s localhost:4100/sim/requests
//! curl -s -XDELETE localhost:4100/sim/requests
//! ```

pub mod admin;
mod ca;
mod clock;
pub mod demo;
mod faults;
mod keys;
mod maskinporten;
mod record;
mod registry;
pub mod replay;
pub mod selfservice;
mod server;
mod state;
pub mod toll;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use ca::{BusinessCertificate, CertEnvironment, CertOptions, TestCa};
pub use clock::SimClock;
pub use demo::{
    DEMO_CERT_CLIENT_ID, DEMO_CLIENT_ID, DEMO_KID, DEMO_ORG_NAME, DEMO_ORG_NO, DEMO_P12_PASSWORD,
    TOLL_SCOPES,
};
pub use faults::{ActiveFault, Fault, FaultKind, FaultUntil};
pub use keys::RsaPrivateKey;
pub use record::{RecordedBody, RecordedRequest};
pub use registry::{ClientRegistration, Delegation, Organisation, ScopeGrant, is_valid_org_no};
pub use replay::{Exchange, Remote, TranscriptError, parse_transcript};
pub use server::{RunningSimulator, Simulator, SimulatorBuilder};
pub use toll::{
    BorderCrossing, EntryApi, MessageState, PresentationInfo, PresentationSource, ROAD_SCOPE,
    ROAD_SCOPE_EU, RoutingChoice, RoutingFeed, RoutingSignalInfo, SubmissionOperation,
    SubmissionStatus, TollMessageInfo, TollMessageKind, TollSubmissionInfo, UploadedDocument,
};

use state::SimState;

/// Why the simulator could not start or an admin operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("writing {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Key generation, certificate issuing or signing failed.
    #[error("crypto: {0}")]
    Crypto(String),
    /// An admin input is invalid; the message names the field.
    #[error("{0}")]
    InvalidInput(String),
    /// The server could not be set up.
    #[error("server: {0}")]
    Server(String),
    /// An admin operation named something that does not exist (e.g. an unknown MRN).
    #[error("{0}")]
    NotFound(String),
}

/// A cheap, cloneable handle to a running simulator's state: the same operations
/// as the admin API under `/sim/`.
///
/// The `register_*`/`grant_*`/`add_*` methods panic on invalid input (with a
/// message naming the field) because they are test set-up calls; the `try_*`
/// variants return the error instead.
#[derive(Debug, Clone)]
pub struct SimControl {
    pub(crate) state: Arc<SimState>,
}

fn or_panic<T>(result: Result<T, SimError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("digitoll-sim: {e}"),
    }
}

impl SimControl {
    /// The Maskinporten issuer (`http://127.0.0.1:PORT/`).
    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    /// The simulator's base URL (`http://127.0.0.1:PORT/`).
    pub fn base_url(&self) -> url::Url {
        self.state.base_url.clone()
    }

    /// The environment the simulator plays.
    pub fn environment(&self) -> CertEnvironment {
        self.state.environment
    }

    /// The `kid` of the key that signs access tokens.
    pub fn token_signing_kid(&self) -> String {
        self.state.signer.kid().to_owned()
    }

    /// Registers (or renames) an organisation.
    ///
    /// # Panics
    /// If `org_no` is not a valid organisation number.
    pub fn register_organisation(&self, org_no: &str, name: &str) {
        or_panic(self.try_register_organisation(org_no, name));
    }

    /// Registers (or renames) an organisation, or says why `org_no` is invalid.
    pub fn try_register_organisation(&self, org_no: &str, name: &str) -> Result<(), SimError> {
        registry::check_org_no("org_no", org_no)?;
        self.state
            .registry_mut()
            .organisations
            .insert(org_no.to_owned(), name.to_owned());
        Ok(())
    }

    /// Registered organisations.
    pub fn organisations(&self) -> Vec<Organisation> {
        self.state
            .registry()
            .organisations
            .iter()
            .map(|(org_no, name)| Organisation {
                org_no: org_no.clone(),
                name: name.clone(),
            })
            .collect()
    }

    /// Registers a client, replacing one with the same id. An unknown org is
    /// registered with the name `Org <org_no>`.
    ///
    /// # Panics
    /// If the registration is invalid (bad org number, key without `kid`, …).
    pub fn register_client(&self, client: ClientRegistration) {
        or_panic(self.try_register_client(client));
    }

    /// Registers a client, or says which field is invalid.
    pub fn try_register_client(&self, client: ClientRegistration) -> Result<(), SimError> {
        client.validate()?;
        let mut registry = self.state.registry_mut();
        registry
            .organisations
            .entry(client.org_no.clone())
            .or_insert_with(|| format!("Org {}", client.org_no));
        registry.clients.insert(client.client_id.clone(), client);
        Ok(())
    }

    /// Removes a client; false if it was not registered.
    pub fn remove_client(&self, client_id: &str) -> bool {
        self.state
            .registry_mut()
            .clients
            .remove(client_id)
            .is_some()
    }

    /// Registered clients.
    pub fn clients(&self) -> Vec<ClientRegistration> {
        self.state.registry().clients.values().cloned().collect()
    }

    /// The API owner grants `org_no` access to `scope` (else MP-250).
    ///
    /// # Panics
    /// If `org_no` is invalid or `scope` is empty.
    pub fn grant_scope(&self, org_no: &str, scope: &str) {
        or_panic(self.try_grant_scope(org_no, scope));
    }

    /// Grants a scope, or says which field is invalid.
    pub fn try_grant_scope(&self, org_no: &str, scope: &str) -> Result<(), SimError> {
        registry::check_org_no("org_no", org_no)?;
        check_scope(scope)?;
        self.state.registry_mut().scope_grants.insert(ScopeGrant {
            org_no: org_no.to_owned(),
            scope: scope.to_owned(),
        });
        Ok(())
    }

    /// Withdraws a scope grant; false if there was none.
    pub fn revoke_scope(&self, org_no: &str, scope: &str) -> bool {
        self.state.registry_mut().scope_grants.remove(&ScopeGrant {
            org_no: org_no.to_owned(),
            scope: scope.to_owned(),
        })
    }

    /// Scope grants.
    pub fn scope_grants(&self) -> Vec<ScopeGrant> {
        self.state.registry().scope_grants.iter().cloned().collect()
    }

    /// Records an Altinn delegation: `consumer_org` delegates `scope` to `supplier_org`.
    ///
    /// # Panics
    /// If an org number is invalid, the two are equal, or `scope` is empty.
    pub fn add_delegation(&self, consumer_org: &str, supplier_org: &str, scope: &str) {
        or_panic(self.try_add_delegation(consumer_org, supplier_org, scope));
    }

    /// Records a delegation, or says which field is invalid.
    pub fn try_add_delegation(
        &self,
        consumer_org: &str,
        supplier_org: &str,
        scope: &str,
    ) -> Result<(), SimError> {
        registry::check_org_no("consumer_org", consumer_org)?;
        registry::check_org_no("supplier_org", supplier_org)?;
        check_scope(scope)?;
        if consumer_org == supplier_org {
            return Err(SimError::InvalidInput(format!(
                "supplier_org: {supplier_org} equals consumer_org; an organisation cannot delegate to itself"
            )));
        }
        self.state.registry_mut().delegations.insert(Delegation {
            consumer_org: consumer_org.to_owned(),
            supplier_org: supplier_org.to_owned(),
            scope: scope.to_owned(),
        });
        Ok(())
    }

    /// Removes a delegation; false if there was none.
    pub fn remove_delegation(&self, consumer_org: &str, supplier_org: &str, scope: &str) -> bool {
        self.state.registry_mut().delegations.remove(&Delegation {
            consumer_org: consumer_org.to_owned(),
            supplier_org: supplier_org.to_owned(),
            scope: scope.to_owned(),
        })
    }

    /// Delegations.
    pub fn delegations(&self) -> Vec<Delegation> {
        self.state.registry().delegations.iter().cloned().collect()
    }

    /// Sets sim clock = system clock + `offset`.
    pub fn set_clock_offset(&self, offset: time::Duration) {
        self.state.clock.set_offset(offset);
    }

    /// Moves the sim clock by `delta` from where it is.
    pub fn advance_clock(&self, delta: time::Duration) {
        self.state.clock.advance(delta);
    }

    /// Sets the offset so the sim clock reads `at` now.
    pub fn set_now(&self, at: time::OffsetDateTime) {
        self.state.clock.set_now(at);
    }

    /// The current offset from the system clock.
    pub fn clock_offset(&self) -> time::Duration {
        self.state.clock.offset()
    }

    /// The sim clock's current time.
    pub fn now(&self) -> time::OffsetDateTime {
        self.state.clock.now()
    }

    /// Sets `expires_in` for tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: std::time::Duration) {
        *self
            .state
            .token_lifetime
            .write()
            .unwrap_or_else(|e| e.into_inner()) = lifetime;
    }

    /// Adds a fault and returns its id.
    ///
    /// # Panics
    /// If the fault is invalid (probability outside 0–1, a `/sim/` prefix, …).
    pub fn add_fault(&self, fault: Fault) -> u64 {
        or_panic(self.try_add_fault(fault))
    }

    /// Adds a fault, or says which field is invalid.
    pub fn try_add_fault(&self, fault: Fault) -> Result<u64, SimError> {
        fault.validate()?;
        Ok(self.state.faults.add(fault))
    }

    /// Removes one fault; false if it was not active.
    pub fn remove_fault(&self, id: u64) -> bool {
        self.state.faults.remove(id)
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Active faults with their remaining counts.
    pub fn faults(&self) -> Vec<ActiveFault> {
        self.state.faults.list()
    }

    /// Reseeds the RNG behind probabilistic faults.
    pub fn seed_faults(&self, seed: u64) {
        self.state.faults.reseed(seed);
    }

    /// Requests received so far (outside `/sim/`), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.recorder.all()
    }

    /// Forgets recorded requests.
    pub fn clear_requests(&self) {
        self.state.recorder.clear();
    }

    /// The simulator's Test and Prod CAs, for issuing business certificates.
    pub fn ca(&self) -> &TestCa {
        &self.state.ca
    }
}

fn check_scope(scope: &str) -> Result<(), SimError> {
    if scope.is_empty() || scope.contains(char::is_whitespace) {
        return Err(SimError::InvalidInput(format!(
            "scope: {scope:?} must be one non-empty scope without spaces"
        )));
    }
    Ok(())
}

//! The simulator's shared state: one [`SimState`] behind an `Arc`, used by every
//! route and by [`crate::SimControl`]. The Toll APIs keep theirs in
//! [`TollState`].

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::Duration as StdDuration;

use time::OffsetDateTime;
use url::Url;

use crate::ca::{CertEnvironment, TestCa};
use crate::clock::SimClock;
use crate::faults::FaultSet;
use crate::maskinporten::TokenSigner;
use crate::record::Recorder;
use crate::registry::Registry;
use crate::toll::TollState;

/// Everything the running simulator knows.
#[derive(Debug)]
pub(crate) struct SimState {
    /// Base URL with a trailing slash, e.g. `http://127.0.0.1:4100/`.
    pub(crate) base_url: Url,
    /// Maskinporten issuer (= `base_url` as a string).
    pub(crate) issuer: String,
    /// Which environment the simulator plays (decides the trusted CA).
    pub(crate) environment: CertEnvironment,
    pub(crate) clock: SimClock,
    pub(crate) registry: RwLock<Registry>,
    pub(crate) faults: FaultSet,
    pub(crate) recorder: Recorder,
    pub(crate) ca: TestCa,
    pub(crate) signer: TokenSigner,
    /// Used grant ids: key `client_id \n jti`, value = when the entry may be forgotten.
    pub(crate) used_jtis: Mutex<HashMap<String, OffsetDateTime>>,
    /// `expires_in` of issued access tokens.
    pub(crate) token_lifetime: RwLock<StdDuration>,
    /// The Toll part: tokens, settings and the message store.
    pub(crate) toll: TollState,
    /// Digdir's self-service API: key sets as shown, upload times, propagation.
    pub(crate) selfservice: crate::selfservice::SelfServiceState,
    /// The contract profile the simulator behaves by.
    pub(crate) profile: std::sync::Arc<digitoll_model::ContractProfile>,
}

impl SimState {
    pub(crate) fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn registry_mut(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn token_lifetime(&self) -> StdDuration {
        *self
            .token_lifetime
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }
}

//! A Maskinporten (Digdir) client: signed JWT grants (RFC 7523) with `kid` or
//! a full `x5c` chain, a fast single-flight token cache with refresh-ahead,
//! classified retries with a fresh `jti` per attempt, server-clock
//! correction, and typed MP error codes with fix hints.
//!
//! ```no_run
//! use std::sync::Arc;
//! use maskinporten::{Environment, MaskinportenClient, RsaSigner, TokenRequest};
//! use secrecy::SecretString;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // A business certificate: the whole chain goes into `x5c`.
//! let signer = RsaSigner::from_pkcs12_file("virksomhet.p12", &SecretString::from("password"))?;
//! let client = MaskinportenClient::builder(Environment::Test, "my-client-id", Arc::new(signer))
//!     .build_with_discovery()
//!     .await?;
//! let request = TokenRequest::builder()
//!     .scope("toll:movement/road/v2")
//!     .consumer_org("974760673".parse()?)
//!     .build()?;
//! let token = client.token(&request).await?;
//! assert!(!token.secret().is_empty());
//! # Ok(()) }
//! ```
//!
//! Secrets (keys, grants, tokens) have redacted `Debug` output and no `Display`.

#![warn(missing_docs)]

mod backoff;
mod cache;
mod cert;
mod client;
mod clock;
mod env;
mod error;
mod grant;
mod http;
mod orgno;
mod pem;
mod provider;
mod request;
mod rotating;
pub mod selfservice;
mod signer;
mod token;

pub use backoff::{backoff, backoff_cap};
pub use cache::{expiry_safety, refresh_margin};
pub use cert::{CertEnvironmentHint, CertificateError, CertificateInfo, ChainEntry};
pub use client::{
    CLOCK_CORRECTION_THRESHOLD, ClientBuilder, JWT_BEARER_GRANT_TYPE, MaskinportenClient,
    RetryPolicy, Stats, metric_names,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use env::{Environment, Metadata, discover};
pub use error::{Error, MaskinportenError, MpCode, RawBody};
pub use grant::{Assertion, GrantBuilder, MAX_GRANT_LIFETIME};
pub use http::AuthorizedClient;
pub use orgno::{OrgNumber, OrgNumberError};
pub use provider::{TokenFuture, TokenProvider};
pub use request::{SystemUser, TokenRequest, TokenRequestBuilder};
pub use rotating::RotatingSigner;
pub use signer::{
    Algorithm, GeneratedKeyPair, KeyBinding, KeyError, RsaKey, RsaSigner, SignError, SignFuture,
    Signer, generate_key_pair, inspect_pem_certificates, inspect_pkcs12,
};
pub use token::AccessToken;

//! The seam API clients depend on: anything that hands out tokens.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::error::Error;
use crate::request::TokenRequest;
use crate::token::AccessToken;

/// A boxed token future, so [`TokenProvider`] stays object-safe.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>;

/// Hands out access tokens. API clients take an `Arc<dyn TokenProvider>`, so
/// they work with [`crate::MaskinportenClient`], a token service, or a test double.
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// A token for `request` (cached or fetched).
    fn token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a>;

    /// A cached token without waiting, if one is fresh. The default has no
    /// cache; implementations with one avoid allocating a future on hits.
    fn cached(&self, request: &TokenRequest) -> Option<AccessToken> {
        let _ = request;
        None
    }

    /// Forgets `token` if it is still the one cached for `request` (after the
    /// API answered 401 with it). Returns whether it was removed.
    fn invalidate(&self, request: &TokenRequest, token: &AccessToken) -> bool;
}

//! A signer whose key can be replaced while grants are being signed, for key
//! rotation without downtime (see [`crate::selfservice::KeyRotation`]).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::signer::{Algorithm, KeyBinding, SignFuture, Signer};

/// A [`Signer`] that delegates to another signer which can be swapped
/// atomically with [`RotatingSigner::swap`].
///
/// Build the [`crate::MaskinportenClient`] with a `RotatingSigner` and keep an
/// `Arc` to it; after the new key is registered (and Maskinporten accepts it),
/// `swap` makes every following grant use the new key. The grant builder asks
/// for one snapshot per grant ([`Signer::current`]), so a grant's header
/// (`kid`, `alg`) and signature always come from the same key. Tokens already
/// cached stay valid: a token does not depend on the key that obtained it.
///
/// ```
/// use std::sync::Arc;
/// use maskinporten::{KeyBinding, RotatingSigner, RsaKey, RsaSigner, Signer};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let old = Arc::new(RsaSigner::with_kid(RsaKey::generate(2048)?, "key-2025"));
/// let rotating = Arc::new(RotatingSigner::new(old));
/// let new = Arc::new(RsaSigner::with_kid(RsaKey::generate(2048)?, "key-2026"));
/// let previous = rotating.swap(new);
/// assert_eq!(previous.key_binding(), &KeyBinding::Kid("key-2025".into()));
/// assert_eq!(rotating.load().key_binding(), &KeyBinding::Kid("key-2026".into()));
/// assert_eq!(rotating.generation(), 1);
/// # Ok(()) }
/// ```
pub struct RotatingSigner {
    current: RwLock<Arc<dyn Signer>>,
    /// The binding of the first key; grants use the current key's binding.
    initial_binding: KeyBinding,
    identity: String,
    generation: AtomicU64,
}

impl fmt::Debug for RotatingSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingSigner")
            .field("current", &self.load())
            .field("generation", &self.generation())
            .finish()
    }
}

impl RotatingSigner {
    /// Starts with `initial`.
    pub fn new(initial: Arc<dyn Signer>) -> Self {
        Self {
            initial_binding: initial.key_binding().clone(),
            identity: format!("rotating:{}", initial.key_identity()),
            current: RwLock::new(initial),
            generation: AtomicU64::new(0),
        }
    }

    /// The signer in use now.
    pub fn load(&self) -> Arc<dyn Signer> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Makes `next` the signer for every grant built from now on and returns
    /// the previous one. Grants being signed keep the key they started with.
    pub fn swap(&self, next: Arc<dyn Signer>) -> Arc<dyn Signer> {
        let mut guard = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let previous = std::mem::replace(&mut *guard, next);
        self.generation.fetch_add(1, Ordering::Relaxed);
        previous
    }

    /// How many times the signer was swapped.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }
}

impl Signer for RotatingSigner {
    fn algorithm(&self) -> Algorithm {
        self.load().algorithm()
    }

    /// The binding of the key the signer was created with (a reference cannot
    /// follow swaps); grants use [`Signer::current`], which does.
    fn key_binding(&self) -> &KeyBinding {
        &self.initial_binding
    }

    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        let signer = self.load();
        Box::pin(async move { signer.sign(message).await })
    }

    fn current(&self) -> Option<Arc<dyn Signer>> {
        Some(self.load())
    }

    /// Stable across swaps, so cached tokens (still valid) are kept.
    fn key_identity(&self) -> String {
        self.identity.clone()
    }
}

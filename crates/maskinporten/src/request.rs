//! What a token is for: scopes, `resource`, `consumer_org` and Altinn system-user
//! authorisation details, validated and normalised once.

use std::collections::BTreeSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::error::Error;
use crate::orgno::OrgNumber;

/// An Altinn system user (RFC 9396 `authorization_details` entry of type
/// `urn:altinn:systemuser`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUser {
    org: OrgNumber,
    external_ref: Option<String>,
}

impl SystemUser {
    /// The system user of the customer `org`, optionally told apart from the
    /// customer's other system users of the same system by `external_ref`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] if `external_ref` is longer than 255 characters
    /// or has characters outside `[a-zA-Z0-9øØæÆåÅ_-]` (Maskinporten answers MP-302).
    pub fn new(org: OrgNumber, external_ref: Option<&str>) -> Result<Self, Error> {
        if let Some(r) = external_ref {
            let len = r.chars().count();
            if len == 0 || len > 255 {
                return Err(Error::InvalidRequest {
                    field: "authorization_details.externalRef",
                    reason: format!("must be 1 to 255 characters, found {len}"),
                });
            }
            if let Some(bad) = r
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || "øØæÆåÅ_-".contains(*c)))
            {
                return Err(Error::InvalidRequest {
                    field: "authorization_details.externalRef",
                    reason: format!(
                        "character {bad:?} is not allowed (only a-z, A-Z, 0-9, æøå, ÆØÅ, _ and -)"
                    ),
                });
            }
        }
        Ok(Self {
            org,
            external_ref: external_ref.map(str::to_owned),
        })
    }

    fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": self.org.iso6523()},
        });
        if let Some(r) = &self.external_ref {
            v["externalRef"] = serde_json::Value::String(r.clone());
        }
        v
    }
}

/// A normalised, validated token request. Cheap to clone (an `Arc`); its cache
/// key and hash are computed once at build time so a cached lookup only
/// compares a pointer or a short string.
///
/// ```
/// use maskinporten::{OrgNumber, TokenRequest};
/// let req = TokenRequest::builder()
///     .scope("toll:movement/road/v2 toll:declaration.feed")
///     .scope("toll:declaration.feed")
///     .consumer_org("974760673".parse::<OrgNumber>()?)
///     .build()?;
/// assert_eq!(req.scope(), "toll:declaration.feed toll:movement/road/v2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokenRequest(pub(crate) Arc<RequestInner>);

pub(crate) struct RequestInner {
    pub(crate) scopes: Vec<String>,
    pub(crate) scope: String,
    pub(crate) resources: Vec<String>,
    pub(crate) consumer_org: Option<OrgNumber>,
    pub(crate) system_user: Option<SystemUser>,
    /// `,"scope":…` and the optional claims, already JSON.
    pub(crate) claims_tail: String,
    /// Canonical text of everything above; the request part of the cache key.
    pub(crate) key: String,
    pub(crate) hash: u64,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("scopes", &self.0.scopes)
            .field("resources", &self.0.resources)
            .field("consumer_org", &self.0.consumer_org)
            .field("system_user", &self.0.system_user)
            .finish()
    }
}

impl PartialEq for TokenRequest {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || (self.0.hash == other.0.hash && self.0.key == other.0.key)
    }
}
impl Eq for TokenRequest {}

impl TokenRequest {
    /// Starts a builder.
    pub fn builder() -> TokenRequestBuilder {
        TokenRequestBuilder::default()
    }

    /// A request for scopes only.
    ///
    /// # Errors
    /// As [`TokenRequestBuilder::build`].
    pub fn for_scopes<I, S>(scopes: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut b = Self::builder();
        for s in scopes {
            b = b.scope(s.as_ref());
        }
        b.build()
    }

    /// The scopes, sorted and de-duplicated.
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }
    /// The `scope` claim value (space-separated).
    pub fn scope(&self) -> &str {
        &self.0.scope
    }
    /// The `resource` values.
    pub fn resources(&self) -> &[String] {
        &self.0.resources
    }
    /// The `consumer_org`, if any.
    pub fn consumer_org(&self) -> Option<&OrgNumber> {
        self.0.consumer_org.as_ref()
    }
    /// The system user, if any.
    pub fn system_user(&self) -> Option<&SystemUser> {
        self.0.system_user.as_ref()
    }
    /// The canonical cache-key text of this request (no secrets in it).
    pub fn cache_key(&self) -> &str {
        &self.0.key
    }
}

/// Builder for [`TokenRequest`].
#[derive(Debug, Default, Clone)]
pub struct TokenRequestBuilder {
    scopes: Vec<String>,
    resources: Vec<String>,
    consumer_org: Option<OrgNumber>,
    system_user: Option<SystemUser>,
}

impl TokenRequestBuilder {
    /// Adds one scope, or several separated by whitespace.
    #[must_use]
    pub fn scope(mut self, scope: &str) -> Self {
        self.scopes
            .extend(scope.split_whitespace().map(str::to_owned));
        self
    }

    /// Adds scopes.
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for s in scopes {
            self = self.scope(s.as_ref());
        }
        self
    }

    /// Adds an audience restriction (RFC 8707 `resource`). One value is sent
    /// as a string (what Maskinporten clients send in practice); several as an array.
    #[must_use]
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resources.push(resource.into());
        self
    }

    /// Acts for a customer who delegated the scope in Altinn (`consumer_org`).
    #[must_use]
    pub fn consumer_org(mut self, org: OrgNumber) -> Self {
        self.consumer_org = Some(org);
        self
    }

    /// Acts as an Altinn system user (`authorization_details`).
    #[must_use]
    pub fn system_user(mut self, user: SystemUser) -> Self {
        self.system_user = Some(user);
        self
    }

    /// Validates and normalises: scopes sorted and de-duplicated, at least one
    /// scope, `resource` absolute URIs without fragment, and at most one party
    /// (`consumer_org` or a system user).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] naming the field.
    pub fn build(self) -> Result<TokenRequest, Error> {
        let scopes: Vec<String> = self
            .scopes
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if scopes.is_empty() {
            return Err(Error::InvalidRequest {
                field: "scope",
                reason: "at least one scope is required".into(),
            });
        }
        if let Some(bad) = scopes
            .iter()
            .find(|s| s.chars().any(|c| c.is_control() || c == '"' || c == '\\'))
        {
            return Err(Error::InvalidRequest {
                field: "scope",
                reason: format!("scope {bad:?} contains a control character, quote or backslash"),
            });
        }
        let mut resources = self.resources;
        resources.sort();
        resources.dedup();
        for r in &resources {
            match url::Url::parse(r) {
                Ok(u) if u.fragment().is_none() => {}
                Ok(_) => {
                    return Err(Error::InvalidRequest {
                        field: "resource",
                        reason: format!(
                            "{r:?} has a fragment; Maskinporten answers invalid_target"
                        ),
                    });
                }
                Err(e) => {
                    return Err(Error::InvalidRequest {
                        field: "resource",
                        reason: format!("{r:?} is not an absolute URI: {e}"),
                    });
                }
            }
        }
        if self.consumer_org.is_some() && self.system_user.is_some() {
            return Err(Error::InvalidRequest {
                field: "consumer_org",
                reason: "a grant acts for one party: use consumer_org or a system user, not both"
                    .into(),
            });
        }
        let scope = scopes.join(" ");
        let mut tail = String::with_capacity(64 + scope.len());
        let json = |v: &serde_json::Value| v.to_string();
        tail.push_str(",\"scope\":");
        tail.push_str(&json(&serde_json::Value::String(scope.clone())));
        match resources.as_slice() {
            [] => {}
            [one] => {
                tail.push_str(",\"resource\":");
                tail.push_str(&json(&serde_json::Value::String(one.clone())));
            }
            many => {
                tail.push_str(",\"resource\":");
                tail.push_str(&json(&serde_json::json!(many)));
            }
        }
        if let Some(org) = &self.consumer_org {
            tail.push_str(",\"consumer_org\":");
            tail.push_str(&json(&serde_json::Value::String(org.as_str().to_owned())));
        }
        if let Some(user) = &self.system_user {
            tail.push_str(",\"authorization_details\":");
            tail.push_str(&json(&serde_json::Value::Array(vec![user.to_json()])));
        }
        // The tail is an unambiguous rendering of every request field, so it
        // doubles as the request part of the cache key.
        let key = tail.clone();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        Ok(TokenRequest(Arc::new(RequestInner {
            scopes,
            scope,
            resources,
            consumer_org: self.consumer_org,
            system_user: self.system_user,
            claims_tail: tail,
            key,
            hash: h.finish(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_sorted_deduplicated_and_keyed() {
        let a = TokenRequest::for_scopes(["b a", "a"]).unwrap();
        let b = TokenRequest::for_scopes(["a", "b"]).unwrap();
        assert_eq!(a.scope(), "a b");
        assert_eq!(a, b);
        assert_eq!(a.cache_key(), b.cache_key());
        let c = TokenRequest::builder()
            .scope("a b")
            .consumer_org("974760673".parse().unwrap())
            .build()
            .unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn validation() {
        assert!(matches!(
            TokenRequest::for_scopes(Vec::<String>::new()),
            Err(Error::InvalidRequest { field: "scope", .. })
        ));
        assert!(matches!(
            TokenRequest::builder()
                .scope("s")
                .resource("https://x.no/api#frag")
                .build(),
            Err(Error::InvalidRequest {
                field: "resource",
                ..
            })
        ));
        assert!(matches!(
            TokenRequest::builder()
                .scope("s")
                .resource("not a uri")
                .build(),
            Err(Error::InvalidRequest {
                field: "resource",
                ..
            })
        ));
        let org: OrgNumber = "974760673".parse().unwrap();
        assert!(SystemUser::new(org.clone(), Some("kunde_1-ÆØÅ")).is_ok());
        assert!(SystemUser::new(org.clone(), Some("has space")).is_err());
        assert!(SystemUser::new(org.clone(), Some(&"x".repeat(256))).is_err());
        let both = TokenRequest::builder()
            .scope("s")
            .consumer_org(org.clone())
            .system_user(SystemUser::new(org, None).unwrap())
            .build();
        assert!(both.is_err());
    }

    #[test]
    fn claims_tail_shapes() {
        let org: OrgNumber = "974760673".parse().unwrap();
        let r = TokenRequest::builder()
            .scope("s")
            .resource("https://a.no/")
            .system_user(SystemUser::new(org, Some("ref")).unwrap())
            .build()
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&format!("{{\"x\":1{}}}", r.0.claims_tail)).unwrap();
        assert_eq!(v["resource"], "https://a.no/");
        assert_eq!(
            v["authorization_details"][0]["systemuser_org"]["ID"],
            "0192:974760673"
        );
        assert_eq!(
            v["authorization_details"][0]["systemuser_org"]["authority"],
            "iso6523-actorid-upis"
        );
        assert_eq!(v["authorization_details"][0]["externalRef"], "ref");
        let many = TokenRequest::builder()
            .scope("s")
            .resource("https://b.no/")
            .resource("https://a.no/")
            .build()
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&format!("{{\"x\":1{}}}", many.0.claims_tail)).unwrap();
        assert_eq!(
            v["resource"],
            serde_json::json!(["https://a.no/", "https://b.no/"])
        );
    }
}

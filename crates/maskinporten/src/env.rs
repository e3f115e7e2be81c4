//! Maskinporten environments: issuer (= grant `aud`) and token endpoint, and
//! optional discovery from RFC 8414 metadata.

use url::Url;

use crate::error::Error;

/// Which Maskinporten to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// Production: issuer `https://maskinporten.no/`.
    Prod,
    /// Test: issuer `https://test.maskinporten.no/`.
    Test,
    /// Any other issuer, e.g. the digitoll simulator or Skyporten. The token
    /// endpoint defaults to the issuer + `token`.
    Custom {
        /// The issuer URL exactly as the server announces it.
        issuer: String,
    },
}

impl Environment {
    /// A custom issuer (e.g. `http://127.0.0.1:8080/`).
    pub fn custom(issuer: impl Into<String>) -> Self {
        Self::Custom {
            issuer: issuer.into(),
        }
    }

    /// The issuer identifier, which is also the grant's `aud` (trailing slash included).
    pub fn issuer(&self) -> &str {
        match self {
            Self::Prod => "https://maskinporten.no/",
            Self::Test => "https://test.maskinporten.no/",
            Self::Custom { issuer } => issuer,
        }
    }

    fn base(&self) -> Result<Url, Error> {
        let issuer = self.issuer();
        let with_slash = if issuer.ends_with('/') {
            issuer.to_owned()
        } else {
            format!("{issuer}/")
        };
        Url::parse(&with_slash)
            .map_err(|e| Error::Config(format!("issuer {issuer:?} is not a valid URL: {e}")))
    }

    /// The token endpoint (`<issuer>token`).
    ///
    /// # Errors
    /// [`Error::Config`] if the issuer is not a URL.
    pub fn token_endpoint(&self) -> Result<Url, Error> {
        self.base()?
            .join("token")
            .map_err(|e| Error::Config(format!("token endpoint: {e}")))
    }

    /// The RFC 8414 metadata URL (`<issuer>.well-known/oauth-authorization-server`).
    ///
    /// # Errors
    /// [`Error::Config`] if the issuer is not a URL.
    pub fn metadata_url(&self) -> Result<Url, Error> {
        self.base()?
            .join(".well-known/oauth-authorization-server")
            .map_err(|e| Error::Config(format!("metadata URL: {e}")))
    }
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// `issuer`, verified to equal the configured issuer.
    pub issuer: String,
    /// `token_endpoint`.
    pub token_endpoint: Url,
    /// `token_endpoint_auth_signing_alg_values_supported`, if present.
    pub signing_algs: Vec<String>,
    /// `authorization_details_types_supported`, if present.
    pub authorization_details_types: Vec<String>,
}

/// Fetches `/.well-known/oauth-authorization-server` and checks that its
/// `issuer` equals the environment's issuer exactly (a mismatch would make
/// every grant fail with MP-110).
///
/// # Errors
/// [`Error::Discovery`] for HTTP failures, bad JSON, or an issuer mismatch.
pub async fn discover(http: &reqwest::Client, env: &Environment) -> Result<Metadata, Error> {
    #[derive(serde::Deserialize)]
    struct Raw {
        issuer: String,
        token_endpoint: String,
        #[serde(default)]
        token_endpoint_auth_signing_alg_values_supported: Vec<String>,
        #[serde(default)]
        authorization_details_types_supported: Vec<String>,
    }
    let url = env.metadata_url()?;
    let fail = |reason: String| Error::Discovery {
        url: url.to_string(),
        reason,
    };
    let resp = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| fail(crate::client::error_chain(&e)))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| fail(crate::client::error_chain(&e)))?;
    if !status.is_success() {
        return Err(fail(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(500)
                .collect::<String>()
        )));
    }
    let raw: Raw =
        serde_json::from_slice(&body).map_err(|e| fail(format!("invalid metadata JSON: {e}")))?;
    if raw.issuer.is_empty() || raw.issuer != env.issuer() {
        return Err(fail(format!(
            "metadata issuer {:?} does not match the configured issuer {:?}",
            raw.issuer,
            env.issuer()
        )));
    }
    let token_endpoint = Url::parse(&raw.token_endpoint)
        .map_err(|e| fail(format!("token_endpoint {:?}: {e}", raw.token_endpoint)))?;
    Ok(Metadata {
        issuer: raw.issuer,
        token_endpoint,
        signing_algs: raw.token_endpoint_auth_signing_alg_values_supported,
        authorization_details_types: raw.authorization_details_types_supported,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            Environment::Prod.token_endpoint().unwrap().as_str(),
            "https://maskinporten.no/token"
        );
        assert_eq!(
            Environment::Test.metadata_url().unwrap().as_str(),
            "https://test.maskinporten.no/.well-known/oauth-authorization-server"
        );
        let sim = Environment::custom("http://127.0.0.1:9999/");
        assert_eq!(sim.issuer(), "http://127.0.0.1:9999/");
        assert_eq!(
            sim.token_endpoint().unwrap().as_str(),
            "http://127.0.0.1:9999/token"
        );
        assert!(Environment::custom("not a url").token_endpoint().is_err());
    }
}

//! Maskinporten probes with grants that can do no harm: each asks for a
//! token the client already may have, so the worst outcome is a refusal.
//!
//! - `nbf`: a grant with an extra registered claim `nbf` (= `iat`). Digdir:
//!   "Adding claims not present in the documentation will result in 400 …
//!   Invalid assertion" \[D docs.digdir.no `maskinporten_protocol_jwtgrant`\],
//!   yet nais/texas sends `nbf` in production \[C `nais/texas`\]
//!   (`reviews.md` §1 #13);
//! - `sub`: an extra `sub` (= the client id), RFC 7523's subject;
//! - replay: the same grant (same `jti`) posted twice: Maskinporten documents
//!   that a `jti` may be used once \[D `maskinporten_protocol_jwtgrant`\];
//!   the second answer shows whether and how it refuses.
//!
//! The token lifetime (`expires_in`) is read from every token response in
//! the transcript (see [`crate::compare::maskinporten_findings`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maskinporten::{JWT_BEARER_GRANT_TYPE, KeyBinding};
use serde_json::{Value, json};

use crate::scenario::Side;

/// One probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    Nbf,
    Sub,
    Replay,
}

impl Probe {
    pub(crate) const ALL: [Probe; 3] = [Self::Nbf, Self::Sub, Self::Replay];

    pub(crate) fn step_id(self) -> &'static str {
        match self {
            Self::Nbf => "maskinporten.probe.nbf",
            Self::Sub => "maskinporten.probe.sub",
            Self::Replay => "maskinporten.probe.replay",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Nbf => "a grant with an extra `nbf` claim",
            Self::Sub => "a grant with an extra `sub` claim",
            Self::Replay => "the same grant (same jti) twice",
        }
    }
}

/// Signs a grant for `scope` with the probe's extra claims.
async fn grant(side: &Side, probe: Probe, scope: &str) -> Result<String, String> {
    let signer = side.signer.current().unwrap_or_else(|| side.signer.clone());
    let mut header = serde_json::Map::new();
    header.insert("alg".into(), signer.algorithm().as_str().into());
    match signer.key_binding() {
        KeyBinding::Kid(kid) => {
            header.insert("kid".into(), kid.as_str().into());
        }
        KeyBinding::X5c(chain) => {
            header.insert("x5c".into(), json!(chain));
        }
    }
    let iat = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = json!({
        "aud": side.env.issuer(),
        "iss": side.client_id,
        "scope": scope,
        "iat": iat,
        "exp": iat + 60,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    match probe {
        Probe::Nbf => claims["nbf"] = Value::from(iat),
        Probe::Sub => claims["sub"] = Value::from(side.client_id.clone()),
        Probe::Replay => {}
    }
    let mut jws = URL_SAFE_NO_PAD.encode(Value::Object(header).to_string());
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = signer
        .sign(jws.as_bytes())
        .await
        .map_err(|e| format!("signing the probe grant: {}", e.0))?;
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jws)
}

/// Sends the probe and summarises the answer(s) without any token.
pub(crate) async fn send(side: &Side, probe: Probe, scope: &str) -> Result<String, String> {
    let assertion = grant(side, probe, scope).await?;
    let http = reqwest::Client::builder()
        .timeout(side.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let url = side
        .maskinporten_proxy
        .join("token")
        .map_err(|e| format!("token endpoint: {e}"))?;
    let times = if probe == Probe::Replay { 2 } else { 1 };
    let mut answers = Vec::new();
    for _ in 0..times {
        let resp = http
            .post(url.clone())
            .form(&[
                ("grant_type", JWT_BEARER_GRANT_TYPE),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        answers.push(match body.get("error").and_then(Value::as_str) {
            Some(error) => format!(
                "HTTP {status} {error}: {}",
                body.get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
            ),
            None => format!(
                "HTTP {status}{}",
                body.get("expires_in")
                    .map(|e| format!(", expires_in {e}"))
                    .unwrap_or_default()
            ),
        });
    }
    Ok(answers.join(" / "))
}

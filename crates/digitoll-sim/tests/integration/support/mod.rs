//! Helpers for the simulator's integration tests: cached RSA keys, a running
//! simulator with a standard set of clients, grant construction and assertions.

#![allow(dead_code, unreachable_pub)]

pub mod toll;

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use digitoll_sim::{
    BusinessCertificate, CertEnvironment, CertOptions, ClientRegistration, RsaPrivateKey,
    RunningSimulator, SimControl, Simulator,
};
use serde_json::{Map, Value, json};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Org of the standard clients.
pub const ORG: &str = "310000000";
/// A second org (customer in delegation tests, wrong org in certificate tests).
pub const OTHER_ORG: &str = "311000004";
/// A third org.
pub const THIRD_ORG: &str = "312000008";
pub const KEY_CLIENT: &str = "key-client";
pub const CERT_CLIENT: &str = "cert-client";
pub const KID: &str = "k1";
/// Registered on both standard clients and granted to [`ORG`].
pub const SCOPE: &str = "toll:movement/air";
/// Registered on both standard clients but not granted to anyone.
pub const UNGRANTED_SCOPE: &str = "toll:movement/rail";

/// RSA keys generated once per test binary (RSA keygen is slow in debug builds).
pub struct Keys {
    pub signing: RsaPrivateKey,
    pub demo: RsaPrivateKey,
    pub client: RsaPrivateKey,
    pub other: RsaPrivateKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let handles: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| RsaPrivateKey::generate().expect("RSA keygen")))
            .collect();
        let mut keys = handles
            .into_iter()
            .map(|h| h.join().expect("keygen thread"));
        let mut next = || keys.next().expect("four keys");
        Keys {
            signing: next(),
            demo: next(),
            client: next(),
            other: next(),
        }
    })
}

/// Standard business certificates (Test CA, issued by one simulator instance's CA,
/// so they must be issued per simulator).
pub struct Sim {
    pub sim: RunningSimulator,
    pub ctl: SimControl,
    pub http: reqwest::Client,
}

/// Starts a simulator with the cached keys and the standard clients:
/// [`KEY_CLIENT`] (kid [`KID`], key `keys().client`) and [`CERT_CLIENT`], both of
/// [`ORG`] with scopes [`SCOPE`] and [`UNGRANTED_SCOPE`]; [`SCOPE`] granted to [`ORG`].
pub async fn start() -> Sim {
    start_with(Simulator::builder()).await
}

pub async fn start_with(builder: digitoll_sim::SimulatorBuilder) -> Sim {
    let k = keys();
    let sim = builder
        .signing_key(k.signing.clone())
        .demo_key(k.demo.clone())
        .start()
        .await
        .expect("simulator starts");
    let ctl = sim.control();
    ctl.register_organisation(ORG, "Leverandør AS");
    ctl.register_organisation(OTHER_ORG, "Kunde AS");
    ctl.register_client(ClientRegistration::with_keys(
        KEY_CLIENT,
        ORG,
        [SCOPE, UNGRANTED_SCOPE],
        vec![k.client.public_jwk(KID)],
    ));
    ctl.register_client(ClientRegistration::with_certificate(
        CERT_CLIENT,
        ORG,
        [SCOPE, UNGRANTED_SCOPE],
    ));
    ctl.grant_scope(ORG, SCOPE);
    Sim {
        sim,
        ctl,
        http: reqwest::Client::new(),
    }
}

/// A certificate for `org` from the simulator's CA, certifying `key`.
pub fn certificate(
    ctl: &SimControl,
    org: &str,
    opts: CertOptions,
    key: &RsaPrivateKey,
) -> BusinessCertificate {
    ctl.ca()
        .try_issue_business_certificate(org, "Leverandør AS", opts, Some(key))
        .expect("certificate")
}

pub fn test_cert_opts() -> CertOptions {
    CertOptions {
        environment: CertEnvironment::Test,
        ..CertOptions::default()
    }
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A grant under construction: header and claims as JSON, signed by hand so tests
/// can produce any shape, including invalid ones.
#[derive(Clone)]
pub struct Grant {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

impl Grant {
    /// A valid grant for [`KEY_CLIENT`] at system time `now`.
    pub fn for_key_client(issuer: &str) -> Self {
        Self::at(issuer, KEY_CLIENT, now()).header("kid", json!(KID))
    }

    /// A valid grant for [`CERT_CLIENT`] carrying `cert` in `x5c`.
    pub fn for_cert_client(issuer: &str, cert: &BusinessCertificate) -> Self {
        Self::at(issuer, CERT_CLIENT, now()).header("x5c", json!(cert.x5c()))
    }

    /// Claims aud/iss/iat/exp(+60)/jti/scope at time `iat`, header alg RS256 only.
    pub fn at(issuer: &str, client_id: &str, iat: i64) -> Self {
        let mut header = Map::new();
        header.insert("alg".into(), json!("RS256"));
        let mut claims = Map::new();
        claims.insert("aud".into(), json!(issuer));
        claims.insert("iss".into(), json!(client_id));
        claims.insert("iat".into(), json!(iat));
        claims.insert("exp".into(), json!(iat + 60));
        claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        claims.insert("scope".into(), json!(SCOPE));
        Self { header, claims }
    }

    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.into(), value);
        self
    }

    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Signs with `key` using the header's `alg` (RS256/384/512; anything else signs as RS256).
    pub fn sign(&self, key: &RsaPrivateKey) -> String {
        let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&self.header).expect("header json"));
        let c = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&self.claims).expect("claims json"));
        let input = format!("{h}.{c}");
        let pair = RsaKeyPair::from_pkcs8(key.pkcs8_der()).expect("rsa key");
        let alg = match self.header.get("alg").and_then(Value::as_str) {
            Some("RS384") => &signature::RSA_PKCS1_SHA384,
            Some("RS512") => &signature::RSA_PKCS1_SHA512,
            _ => &signature::RSA_PKCS1_SHA256,
        };
        let mut sig = vec![0u8; pair.public_modulus_len()];
        pair.sign(alg, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .expect("sign");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// POSTs a grant to `/token`; returns status, headers and the JSON body.
pub async fn token_request(s: &Sim, assertion: &str) -> (u16, Value) {
    let response = s
        .http
        .post(s.sim.token_endpoint())
        .form(&[("grant_type", JWT_BEARER), ("assertion", assertion)])
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Asserts a Maskinporten error body: status, `MP-xxx` code in `error_uri`, text in
/// `error_description`, and a hex trace id.
#[track_caller]
pub fn assert_mp_error(
    issuer: &str,
    case: &str,
    got: &(u16, Value),
    status: u16,
    code: &str,
    text: &str,
) {
    let (got_status, body) = got;
    assert_eq!(*got_status, status, "{case}: status, body {body}");
    let uri = body["error_uri"].as_str().unwrap_or_default();
    assert_eq!(
        uri,
        format!("{issuer}errors/{code}"),
        "{case}: error_uri, body {body}"
    );
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.contains(text),
        "{case}: {description:?} should contain {text:?}"
    );
    let trace = description
        .rsplit_once("(trace_id: ")
        .and_then(|(_, t)| t.strip_suffix(')'))
        .unwrap_or_default();
    assert!(
        trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit()),
        "{case}: trace id in {description:?}"
    );
    assert!(body["error"].is_string(), "{case}: error field in {body}");
}

/// Decodes and verifies an access token against the simulator's `/jwk`.
pub async fn verify_access_token(s: &Sim, token: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = s
        .http
        .get(s.sim.url("jwk"))
        .send()
        .await
        .expect("jwk request")
        .json()
        .await
        .expect("jwk json");
    let header = jsonwebtoken::decode_header(token).expect("token header");
    let kid = header.kid.expect("token kid");
    let jwk = jwks.find(&kid).expect("kid published in /jwk");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("decoding key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[s.sim.issuer()]);
    validation.validate_aud = false;
    validation.leeway = 5;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("access token verifies against /jwk")
        .claims
}

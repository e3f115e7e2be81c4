//! Shared test helpers: keys, certificate chains, openssl-made PKCS#12 files,
//! grant decoding and token-endpoint responses.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::OnceLock;

use maskinporten::RsaKey;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use secrecy::ExposeSecret;
use time::OffsetDateTime;

/// One RSA key per test binary: generation is the slow part of these tests.
pub fn shared_key() -> &'static RsaKey {
    static KEY: OnceLock<RsaKey> = OnceLock::new();
    KEY.get_or_init(|| RsaKey::generate(2048).unwrap())
}

pub fn key_pem(key: &RsaKey) -> String {
    key.to_pkcs8_pem().unwrap().expose_secret().to_owned()
}

pub fn rcgen_key(key: &RsaKey) -> KeyPair {
    KeyPair::from_pem(&key_pem(key)).unwrap()
}

/// A business-certificate chain: root → intermediate → leaf (leaf key = `leaf_key`).
pub struct Chain {
    pub root_der: Vec<u8>,
    pub root_pem: String,
    pub inter_der: Vec<u8>,
    pub inter_pem: String,
    pub leaf_der: Vec<u8>,
    pub leaf_pem: String,
}

pub fn issue_chain(
    leaf_key: &RsaKey,
    org_no: &str,
    issuer_cn: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Chain {
    static CA_KEYS: OnceLock<(RsaKey, RsaKey)> = OnceLock::new();
    let (root_key, inter_key) = CA_KEYS.get_or_init(|| {
        (
            RsaKey::generate(2048).unwrap(),
            RsaKey::generate(2048).unwrap(),
        )
    });
    let root_kp = rcgen_key(root_key);
    let inter_kp = rcgen_key(inter_key);
    let leaf_kp = rcgen_key(leaf_key);

    let mut root = CertificateParams::new(Vec::<String>::new()).unwrap();
    root.distinguished_name
        .push(DnType::CommonName, format!("{issuer_cn} Root"));
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_cert = root.self_signed(&root_kp).unwrap();
    let root_issuer = Issuer::new(root, &root_kp);

    let mut inter = CertificateParams::new(Vec::<String>::new()).unwrap();
    inter.distinguished_name.push(DnType::CommonName, issuer_cn);
    inter.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let inter_cert = inter.signed_by(&inter_kp, &root_issuer).unwrap();
    let inter_issuer = Issuer::new(inter, &inter_kp);

    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "ACME AS");
    leaf.distinguished_name
        .push(DnType::OrganizationName, "ACME AS");
    leaf.distinguished_name
        .push(DnType::CustomDnType(vec![2, 5, 4, 5]), org_no);
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let leaf_cert = leaf.signed_by(&leaf_kp, &inter_issuer).unwrap();

    Chain {
        root_der: root_cert.der().to_vec(),
        root_pem: root_cert.pem(),
        inter_der: inter_cert.der().to_vec(),
        inter_pem: inter_cert.pem(),
        leaf_der: leaf_cert.der().to_vec(),
        leaf_pem: leaf_cert.pem(),
    }
}

/// Runs the `openssl` CLI, panicking with its stderr on failure.
pub fn openssl(args: &[&str]) {
    let out = digitoll_testkit::openssl()
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Packs key + chain into a .p12 with `openssl pkcs12 -export` (optionally `-legacy`).
pub fn make_p12(
    dir: &Path,
    name: &str,
    key_pem: &str,
    chain: &Chain,
    password: &str,
    legacy: bool,
) -> Vec<u8> {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.crt"));
    let ca = dir.join(format!("{name}-ca.crt"));
    let out = dir.join(format!("{name}.p12"));
    std::fs::write(&key, key_pem).unwrap();
    std::fs::write(&cert, &chain.leaf_pem).unwrap();
    std::fs::write(&ca, format!("{}{}", chain.inter_pem, chain.root_pem)).unwrap();
    let pass = format!("pass:{password}");
    let mut args = vec![
        "pkcs12",
        "-export",
        "-inkey",
        key.to_str().unwrap(),
        "-in",
        cert.to_str().unwrap(),
        "-certfile",
        ca.to_str().unwrap(),
        "-out",
        out.to_str().unwrap(),
        "-passout",
        &pass,
        "-name",
        "virksomhetssertifikat",
    ];
    if legacy {
        args.push("-legacy");
    }
    openssl(&args);
    std::fs::read(out).unwrap()
}

/// Decodes and verifies a grant with jsonwebtoken against `key`'s public part.
pub fn verify_grant(
    jws: &str,
    key: &RsaKey,
    alg: jsonwebtoken::Algorithm,
    aud: &str,
) -> (jsonwebtoken::Header, serde_json::Value) {
    let jwk = key.public_jwk(maskinporten::Algorithm::RS256, "x");
    let dk = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap(),
        jwk["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(alg);
    v.set_audience(&[aud]);
    v.leeway = 0;
    let data = jsonwebtoken::decode::<serde_json::Value>(jws, &dk, &v).expect("grant verifies");
    (data.header, data.claims)
}

/// Claims of a grant without verification.
pub fn grant_claims(jws: &str) -> serde_json::Value {
    let part = jws.split('.').nth(1).expect("JWS has claims");
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, part).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The `assertion` parameter of a recorded token request.
pub fn assertion_of(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "assertion")
        .map(|(_, v)| v.into_owned())
        .expect("assertion parameter")
}

pub fn grant_type_of(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.into_owned())
        .expect("grant_type parameter")
}

/// A successful token response.
pub fn token_ok(token: &str, expires_in: u64) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": "toll:test"
    }))
}

/// A Maskinporten error response.
pub fn mp_error(
    status: u16,
    error: &str,
    description: &str,
    code: &str,
) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "error": error,
        "error_description": format!("{description} (trace_id: abc123def)"),
        "error_uri": format!("https://test.maskinporten.no/errors/{code}"),
    }))
}

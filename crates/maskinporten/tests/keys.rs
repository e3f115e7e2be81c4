//! Key and certificate loading, grant shape and signature.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use maskinporten::{
    Algorithm, CertEnvironmentHint, Error, GrantBuilder, KeyBinding, KeyError, OrgNumber, RsaKey,
    RsaSigner, Signer, SystemUser, TokenRequest, inspect_pem_certificates, inspect_pkcs12,
};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

const AUD: &str = "https://test.maskinporten.no/";

fn valid_chain(key: &RsaKey) -> Chain {
    let now = OffsetDateTime::now_utc();
    issue_chain(
        key,
        "974760673",
        "Buypass Class 3 Test4 CA 3",
        now - time::Duration::days(1),
        now + time::Duration::days(365),
    )
}

async fn build(signer: Arc<dyn Signer>, req: &TokenRequest) -> String {
    let grants = GrantBuilder::new(signer, AUD, "client-123");
    grants
        .build(req, OffsetDateTime::now_utc(), Duration::from_secs(300))
        .await
        .unwrap()
        .secret()
        .to_owned()
}

#[tokio::test]
async fn kid_grant_has_documented_claims_and_verifies() {
    let key = shared_key().clone();
    let signer = Arc::new(RsaSigner::with_kid(key.clone(), "kid-1"));
    let org: OrgNumber = "974760673".parse().unwrap();
    let req = TokenRequest::builder()
        .scope("toll:b toll:a")
        .scope("toll:a")
        .resource("https://api.toll.no/")
        .consumer_org(org)
        .build()
        .unwrap();
    let jws = build(signer, &req).await;
    let (header, claims) = verify_grant(&jws, &key, jsonwebtoken::Algorithm::RS256, AUD);
    assert_eq!(header.kid.as_deref(), Some("kid-1"));
    assert!(header.x5c.is_none());
    assert_eq!(claims["aud"], AUD);
    assert_eq!(claims["iss"], "client-123");
    assert_eq!(claims["scope"], "toll:a toll:b");
    assert_eq!(claims["resource"], "https://api.toll.no/");
    assert_eq!(claims["consumer_org"], "974760673");
    // Lifetime asked for 300 s is clamped to 120 s.
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
    let mut names: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "aud",
            "consumer_org",
            "exp",
            "iat",
            "iss",
            "jti",
            "resource",
            "scope"
        ]
    );
    // Only alg + kid in the header.
    let raw_header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            jws.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        raw_header,
        serde_json::json!({"alg": "RS256", "kid": "kid-1"})
    );
}

#[tokio::test]
async fn system_user_grant_and_rs512() {
    let key = shared_key().clone();
    let signer = Arc::new(RsaSigner::with_kid(key.clone(), "k").with_algorithm(Algorithm::RS512));
    let user = SystemUser::new("974760673".parse().unwrap(), Some("kunde-1")).unwrap();
    let req = TokenRequest::builder()
        .scope("s")
        .system_user(user)
        .build()
        .unwrap();
    let jws = build(signer, &req).await;
    let (header, claims) = verify_grant(&jws, &key, jsonwebtoken::Algorithm::RS512, AUD);
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS512);
    assert_eq!(
        claims["authorization_details"],
        serde_json::json!([{"type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:974760673"},
            "externalRef": "kunde-1"}])
    );
}

#[tokio::test]
async fn every_grant_has_a_new_jti() {
    let signer = Arc::new(RsaSigner::with_kid(shared_key().clone(), "k"));
    let req = TokenRequest::for_scopes(["s"]).unwrap();
    let a = grant_claims(&build(signer.clone(), &req).await);
    let b = grant_claims(&build(signer, &req).await);
    assert_ne!(a["jti"], b["jti"]);
}

#[tokio::test]
async fn p12_default_and_legacy_send_full_chain_leaf_first() {
    let dir = tempfile::tempdir().unwrap();
    let key = shared_key().clone();
    let chain = valid_chain(&key);
    for legacy in [false, true] {
        let p12 = make_p12(
            dir.path(),
            &format!("c{legacy}"),
            &key_pem(&key),
            &chain,
            "hemmelig",
            legacy,
        );
        let signer = RsaSigner::from_pkcs12(&p12, &SecretString::from("hemmelig")).unwrap();
        let KeyBinding::X5c(x5c) = signer.key_binding() else {
            panic!("x5c expected")
        };
        assert_eq!(x5c.len(), 3, "leaf, intermediate, root (legacy={legacy})");
        let der = |s: &String| {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).unwrap()
        };
        assert_eq!(der(&x5c[0]), chain.leaf_der);
        assert_eq!(der(&x5c[1]), chain.inter_der);
        assert_eq!(der(&x5c[2]), chain.root_der);
        let info = signer.certificate().unwrap();
        assert_eq!(
            info.org_number.as_ref().map(OrgNumber::as_str),
            Some("974760673")
        );
        assert_eq!(info.environment_hint, CertEnvironmentHint::Test);

        let jws = build(Arc::new(signer), &TokenRequest::for_scopes(["s"]).unwrap()).await;
        let (header, _) = verify_grant(&jws, &key, jsonwebtoken::Algorithm::RS256, AUD);
        assert_eq!(header.x5c.as_ref().map(Vec::len), Some(3));
        assert!(header.kid.is_none());
        // x5c is a JSON array in the raw header.
        let raw: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                jws.split('.').next().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(raw["x5c"].is_array());
    }
    let p12 = make_p12(dir.path(), "wrong", &key_pem(&key), &chain, "riktig", false);
    let err = RsaSigner::from_pkcs12(&p12, &SecretString::from("feil")).unwrap_err();
    assert!(matches!(err, KeyError::Pkcs12(_)), "{err}");
    assert!(!err.to_string().contains("feil"));
}

#[tokio::test]
async fn expired_certificate_is_an_error_before_signing() {
    let dir = tempfile::tempdir().unwrap();
    let key = shared_key().clone();
    let now = OffsetDateTime::now_utc();
    let chain = issue_chain(
        &key,
        "974760673",
        "Private CA",
        now - time::Duration::days(400),
        now - time::Duration::days(35),
    );
    let p12 = make_p12(dir.path(), "expired", &key_pem(&key), &chain, "pw", false);
    let info = inspect_pkcs12(&p12, &SecretString::from("pw")).unwrap();
    assert!(!info.is_valid_at(now));
    let signer = Arc::new(RsaSigner::from_pkcs12(&p12, &SecretString::from("pw")).unwrap());
    let grants = GrantBuilder::new(signer, AUD, "c");
    let err = grants
        .build(
            &TokenRequest::for_scopes(["s"]).unwrap(),
            now,
            Duration::from_secs(60),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Certificate(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("not valid") && msg.contains("ACME"), "{msg}");
    // Not yet valid is an error too.
    let future = issue_chain(
        &key,
        "974760673",
        "Private CA",
        now + time::Duration::days(2),
        now + time::Duration::days(30),
    );
    let signer = Arc::new(RsaSigner::with_certificate_chain(key, &[future.leaf_der]).unwrap());
    let err = GrantBuilder::new(signer, AUD, "c")
        .build(
            &TokenRequest::for_scopes(["s"]).unwrap(),
            now,
            Duration::from_secs(60),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Certificate(_)));
}

#[test]
fn certificate_with_other_key_is_rejected() {
    let key = shared_key().clone();
    let other = RsaKey::generate(2048).unwrap();
    let chain = valid_chain(&other);
    let err = RsaSigner::with_certificate_chain(key, &[chain.leaf_der]).unwrap_err();
    assert!(matches!(err, KeyError::KeyMismatch { .. }), "{err}");
}

#[test]
fn pem_formats_pkcs8_pkcs1_and_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let key = shared_key();
    let pkcs8 = dir.path().join("k8.pem");
    std::fs::write(&pkcs8, key_pem(key)).unwrap();
    let thumb = key.thumbprint();
    assert_eq!(
        RsaKey::from_pem_file(&pkcs8, None).unwrap().thumbprint(),
        thumb
    );

    // PKCS#1 via openssl (-traditional gives "RSA PRIVATE KEY").
    let pkcs1 = dir.path().join("k1.pem");
    openssl(&[
        "rsa",
        "-in",
        pkcs8.to_str().unwrap(),
        "-traditional",
        "-out",
        pkcs1.to_str().unwrap(),
    ]);
    assert!(
        std::fs::read_to_string(&pkcs1)
            .unwrap()
            .contains("BEGIN RSA PRIVATE KEY")
    );
    assert_eq!(
        RsaKey::from_pem_file(&pkcs1, None).unwrap().thumbprint(),
        thumb
    );

    // Encrypted PKCS#8, PBES2 with AES-256-CBC.
    let enc = dir.path().join("enc.pem");
    openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        pkcs8.to_str().unwrap(),
        "-out",
        enc.to_str().unwrap(),
        "-passout",
        "pass:s3cret-pass",
    ]);
    assert!(
        std::fs::read_to_string(&enc)
            .unwrap()
            .contains("BEGIN ENCRYPTED PRIVATE KEY")
    );
    let pass = SecretString::from("s3cret-pass");
    assert_eq!(
        RsaKey::from_pem_file(&enc, Some(&pass))
            .unwrap()
            .thumbprint(),
        thumb
    );
    let no_pass = RsaKey::from_pem_file(&enc, None).unwrap_err();
    assert!(matches!(no_pass, KeyError::Decrypt(_)), "{no_pass}");
    let wrong = RsaKey::from_pem_file(&enc, Some(&SecretString::from("xq-bad-pass"))).unwrap_err();
    assert!(matches!(wrong, KeyError::Decrypt(_)), "{wrong}");
    assert!(!wrong.to_string().contains("xq-bad-pass"));

    let missing = RsaKey::from_pem_file(dir.path().join("nope.pem"), None).unwrap_err();
    assert!(missing.to_string().contains("nope.pem"));
    let cert_only = RsaKey::from_pem(valid_chain(key).leaf_pem.as_bytes(), None).unwrap_err();
    assert!(cert_only.to_string().contains("CERTIFICATE"), "{cert_only}");
}

#[test]
fn private_jwk_round_trip() {
    // Build a private JWK from the components openssl prints, then check it is the same key.
    let dir = tempfile::tempdir().unwrap();
    let key = shared_key();
    let pem_path = dir.path().join("k.pem");
    std::fs::write(&pem_path, key_pem(key)).unwrap();
    let out = std::process::Command::new("/usr/bin/openssl")
        .args(["rsa", "-in", pem_path.to_str().unwrap(), "-noout", "-text"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| -> String {
        let start = text.find(&format!("{name}:")).unwrap() + name.len() + 1;
        let hex: String = text[start..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("    "))
            .collect::<String>()
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect();
        let mut bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        while bytes.first() == Some(&0) {
            bytes.remove(0);
        }
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    };
    let jwk = serde_json::json!({
        "kty": "RSA", "kid": "jwk-kid", "alg": "RS384",
        "n": field("modulus"), "e": "AQAB", "d": field("privateExponent"),
        "p": field("prime1"), "q": field("prime2"), "dp": field("exponent1"),
        "dq": field("exponent2"), "qi": field("coefficient"),
    });
    let signer = RsaSigner::from_jwk(&jwk.to_string()).unwrap();
    assert_eq!(signer.key().thumbprint(), key.thumbprint());
    assert_eq!(signer.algorithm(), Algorithm::RS384);
    assert_eq!(signer.key_binding(), &KeyBinding::Kid("jwk-kid".into()));
    let mut no_d = jwk.clone();
    no_d.as_object_mut().unwrap().remove("d");
    let err = RsaSigner::from_jwk(&no_d.to_string()).unwrap_err();
    assert!(matches!(err, KeyError::Jwk { field: "d", .. }), "{err}");
}

#[test]
fn key_generation_and_thumbprint_match_jsonwebtoken() {
    for bits in [2048, 3072] {
        let pair = maskinporten::generate_key_pair(bits, Algorithm::RS256).unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(pair.public_jwk.clone()).unwrap();
        assert_eq!(
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .unwrap(),
            pair.kid
        );
        assert_eq!(pair.public_jwk["use"], "sig");
        assert_eq!(pair.public_jwk["alg"], "RS256");
        let key = RsaKey::from_pem(pair.private_pem.expose_secret().as_bytes(), None).unwrap();
        assert_eq!(key.bits(), bits as usize);
        assert_eq!(key.thumbprint(), pair.kid);
    }
    assert!(maskinporten::generate_key_pair(1024, Algorithm::RS256).is_err());
}

#[test]
fn secrets_not_in_debug_output() {
    let key = shared_key().clone();
    let pem = key_pem(&key);
    let body_line = pem.lines().nth(1).unwrap().to_owned();
    let signer = RsaSigner::with_kid(key.clone(), "k");
    let pair = maskinporten::generate_key_pair(2048, Algorithm::RS256).unwrap();
    let dbg = format!(
        "{key:?} {signer:?} {pair:?} {:?}",
        key.to_pkcs8_pem().unwrap()
    );
    assert!(!dbg.contains(&body_line), "{dbg}");
    assert!(
        !dbg.contains(
            &pair
                .private_pem
                .expose_secret()
                .lines()
                .nth(1)
                .unwrap()
                .to_owned()
        )
    );
    assert!(dbg.contains("REDACTED"));
}

#[test]
fn inspect_pem_chain_and_organization_identifier() {
    let key = shared_key();
    let chain = valid_chain(key);
    let info =
        inspect_pem_certificates(format!("{}{}", chain.leaf_pem, chain.inter_pem).as_bytes())
            .unwrap();
    assert_eq!(info.chain.len(), 2);
    assert!(info.subject.contains("ACME AS"));
    assert!(info.issuer.contains("Buypass Class 3 Test4 CA 3"));
    assert_eq!(info.sha256_thumbprint.len(), 64);

    // organizationIdentifier (2.5.4.97) = NTRNO-<orgno>.
    let kp = rcgen_key(key);
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Seal AS");
    params.distinguished_name.push(
        rcgen::DnType::CustomDnType(vec![2, 5, 4, 97]),
        "NTRNO-923609016",
    );
    let cert = params.self_signed(&kp).unwrap();
    let info = inspect_pem_certificates(cert.pem().as_bytes()).unwrap();
    assert_eq!(
        info.org_number.as_ref().map(OrgNumber::as_str),
        Some("923609016")
    );
    assert_eq!(info.environment_hint, CertEnvironmentHint::Unknown);
}

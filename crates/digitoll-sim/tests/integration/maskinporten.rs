//! Integration tests of the Maskinporten simulator over real HTTP on 127.0.0.1:0.

use crate::support;

use std::time::{Duration, Instant};

use digitoll_sim::{
    CertEnvironment, CertOptions, ClientRegistration, DEMO_CERT_CLIENT_ID, DEMO_CLIENT_ID,
    DEMO_KID, DEMO_ORG_NO, Fault, RecordedBody, RsaPrivateKey, Simulator, TOLL_SCOPES, TestCa,
};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use support::*;
use time::OffsetDateTime;

#[tokio::test]
async fn metadata_and_jwk_describe_the_simulator() {
    let s = start().await;
    let issuer = s.sim.issuer();
    assert!(issuer.starts_with("http://127.0.0.1:") && issuer.ends_with('/'));
    let meta: Value = s
        .http
        .get(s.sim.url(".well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["issuer"], json!(issuer));
    assert_eq!(
        meta["token_endpoint"],
        json!(s.sim.token_endpoint().as_str())
    );
    assert_eq!(meta["jwks_uri"], json!(format!("{issuer}jwk")));
    assert_eq!(meta["grant_types_supported"], json!([JWT_BEARER]));
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    assert_eq!(
        meta["token_endpoint_auth_signing_alg_values_supported"],
        json!(["RS256", "RS384", "RS512"])
    );
    assert_eq!(
        meta["authorization_details_types_supported"],
        json!(["urn:altinn:systemuser", "urn:altinn:consent"])
    );
    let jwk: Value = s
        .http
        .get(s.sim.url("jwk"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwk["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["kid"], json!(s.ctl.token_signing_kid()));
    assert!(key["n"].as_str().is_some_and(|n| n.len() > 300));
}

#[tokio::test]
async fn kid_client_gets_a_token_that_verifies_against_jwk() {
    let s = start().await;
    let issuer = s.sim.issuer();
    let grant = Grant::for_key_client(&issuer).sign(&keys().client);
    let (status, body) = token_request(&s, &grant).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["scope"], SCOPE);
    let token = body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(
        header.kid.as_deref(),
        Some(s.ctl.token_signing_kid().as_str())
    );
    let claims = verify_access_token(&s, token).await;
    assert_eq!(claims["iss"], json!(issuer));
    assert_eq!(claims["client_id"], KEY_CLIENT);
    assert_eq!(claims["client_amr"], "private_key_jwt");
    assert_eq!(claims["token_type"], "Bearer");
    assert_eq!(claims["scope"], SCOPE);
    assert_eq!(claims["aud"], "unspecified");
    assert_eq!(
        claims["consumer"],
        json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{ORG}")})
    );
    assert!(claims.get("supplier").is_none());
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 120);
    assert!((iat - now()).abs() <= 2);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
}

#[tokio::test]
async fn grants_made_with_jsonwebtoken_and_rs384_rs512_are_accepted() {
    let s = start().await;
    let issuer = s.sim.issuer();
    // jsonwebtoken-built grant (what a Rust client would do).
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KID.into());
    let claims = json!({"aud": issuer, "iss": KEY_CLIENT, "iat": now(), "exp": now() + 120,
        "jti": uuid::Uuid::new_v4().to_string(), "scope": SCOPE});
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(
        keys().client.pkcs8_pem().expose_secret().as_bytes(),
    )
    .unwrap();
    let grant = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let got = token_request(&s, &grant).await;
    assert_eq!(got.0, 200, "{}", got.1);
    for alg in ["RS384", "RS512"] {
        let grant = Grant::for_key_client(&issuer)
            .header("alg", json!(alg))
            .sign(&keys().client);
        let got = token_request(&s, &grant).await;
        assert_eq!(got.0, 200, "{alg}: {}", got.1);
    }
}

#[tokio::test]
async fn resource_becomes_the_token_audience() {
    let s = start().await;
    let issuer = s.sim.issuer();
    for (resource, aud) in [
        (json!("https://api.toll.no"), json!("https://api.toll.no")),
        (
            json!(["https://a.example", "https://b.example"]),
            json!(["https://a.example", "https://b.example"]),
        ),
    ] {
        let grant = Grant::for_key_client(&issuer)
            .claim("resource", resource)
            .sign(&keys().client);
        let (status, body) = token_request(&s, &grant).await;
        assert_eq!(status, 200, "{body}");
        let claims = verify_access_token(&s, body["access_token"].as_str().unwrap()).await;
        assert_eq!(claims["aud"], aud);
    }
}

#[tokio::test]
async fn certificate_client_with_full_chain_gets_a_token() {
    let s = start().await;
    let issuer = s.sim.issuer();
    for use_org_id in [false, true] {
        let opts = CertOptions {
            use_organization_identifier: use_org_id,
            ..test_cert_opts()
        };
        let cert = certificate(&s.ctl, ORG, opts, &keys().other);
        assert_eq!(cert.chain_der.len(), 2);
        assert!(cert.chain_pem().matches("BEGIN CERTIFICATE").count() == 2);
        let grant = Grant::for_cert_client(&issuer, &cert).sign(&keys().other);
        let (status, body) = token_request(&s, &grant).await;
        assert_eq!(status, 200, "organizationIdentifier={use_org_id}: {body}");
        let claims = verify_access_token(&s, body["access_token"].as_str().unwrap()).await;
        assert_eq!(claims["client_amr"], "virksomhetssertifikat");
        assert_eq!(claims["client_id"], CERT_CLIENT);
        assert_eq!(claims["consumer"]["ID"], json!(format!("0192:{ORG}")));
    }
}

#[tokio::test]
async fn certificate_issuance_generates_a_key_when_none_is_given() {
    let ca = TestCa::generate().unwrap();
    let cert = ca.issue_business_certificate(ORG, "Leverandør AS", CertOptions::default());
    assert!(
        cert.key_pem()
            .expose_secret()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert!(
        !format!("{cert:?}").contains("PRIVATE"),
        "Debug must not show the key"
    );
    assert_eq!(cert.private_key().unwrap().public_jwk("x")["kty"], "RSA");
}

/// Every documented rejection, against one simulator.
#[tokio::test]
async fn grants_are_rejected_with_maskinporten_codes() {
    let s = start().await;
    let issuer = s.sim.issuer();
    let k = keys();
    let good = || Grant::for_key_client(&issuer);
    let t = now();

    // Wrong grant_type: OAuth error without an MP code.
    let response = s
        .http
        .post(s.sim.token_endpoint())
        .form(&[("grant_type", "client_credentials"), ("assertion", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("(trace_id: ")
    );

    let cases: Vec<(&str, String, u16, &str, &str)> = vec![
        ("malformed JWT", "not.a-jwt".into(), 400, "MP-011", "Invalid assertion"),
        ("garbage", "abc".into(), 400, "MP-011", "Invalid assertion"),
        ("alg HS256", good().header("alg", json!("HS256")).sign(&k.client), 400, "MP-011", "HS256"),
        ("alg ES256", good().header("alg", json!("ES256")).sign(&k.client), 400, "MP-011", "ES256"),
        ("aud = token endpoint", good().claim("aud", json!(format!("{issuer}token"))).sign(&k.client), 400, "MP-110", "Invalid JWT claim aud"),
        ("aud without trailing slash", good().claim("aud", json!(issuer.trim_end_matches('/'))).sign(&k.client), 400, "MP-110", "Invalid JWT claim aud"),
        ("aud of real TEST", good().claim("aud", json!("https://test.maskinporten.no/")).sign(&k.client), 400, "MP-110", "Invalid JWT claim aud"),
        ("aud as array", good().claim("aud", json!([issuer])).sign(&k.client), 400, "MP-110", "Invalid JWT claim aud"),
        ("unknown client", good().claim("iss", json!("nobody")).sign(&k.client), 400, "MP-100", "Client not found"),
        ("key client without kid", good().without_header("kid").sign(&k.client), 400, "MP-100",
            "The client requires pre-registered jwk and no key identifier (kid) provided"),
        ("key client sending only x5c", good().without_header("kid").header("x5c", json!(["AAAA"])).sign(&k.client), 400, "MP-100",
            "The client requires pre-registered jwk and no key identifier (kid) provided"),
        ("unknown kid", good().header("kid", json!("k2")).sign(&k.client), 400, "MP-100", "Unknown key identifier (kid) for client"),
        ("signed with another key", good().sign(&k.other), 400, "MP-124", "Invalid JWT signature"),
        ("undocumented claim nbf", good().claim("nbf", json!(t)).sign(&k.client), 400, "MP-011", "Invalid assertion"),
        ("undocumented claim sub", good().claim("sub", json!("x")).sign(&k.client), 400, "MP-011", "sub"),
        ("missing scope", good().without_claim("scope").sign(&k.client), 400, "MP-011", "scope"),
        ("missing exp", good().without_claim("exp").sign(&k.client), 400, "MP-011", "exp"),
        ("expired grant", good().claim("iat", json!(t - 90)).claim("exp", json!(t - 11)).sign(&k.client), 400, "MP-130", "JWT is expired"),
        ("lifetime 121 s", good().claim("iat", json!(t)).claim("exp", json!(t + 121)).sign(&k.client), 400, "MP-130", "JWT has too long lifetime"),
        ("iat 15 s in the future", good().claim("iat", json!(t + 15)).claim("exp", json!(t + 60)).sign(&k.client), 400, "MP-130", "Issue time is after now"),
        ("scope not on client", good().claim("scope", json!("toll:movement/maritime")).sign(&k.client), 400, "MP-200",
            "Token request contains invalid scopes for client, toll:movement/maritime"),
        ("second scope not on client", good().claim("scope", json!(format!("{SCOPE} toll:x"))).sign(&k.client), 400, "MP-200", "toll:x"),
        ("scope not granted", good().claim("scope", json!(UNGRANTED_SCOPE)).sign(&k.client), 403, "MP-250",
            "Consumer has not been granted access to the scope"),
        ("consumer_org not an org number", good().claim("consumer_org", json!("123456789")).sign(&k.client), 400, "MP-011", "consumer_org"),
        ("consumer_org = own org", good().claim("consumer_org", json!(ORG)).sign(&k.client), 400, "MP-011",
            "combination consumer_org in claim and delegation scope on client is invalid"),
        ("consumer_org without delegation", good().claim("consumer_org", json!(OTHER_ORG)).sign(&k.client), 403, "MP-251",
            &*Box::leak(format!("Consumer {OTHER_ORG} has not delegated access to the scope {SCOPE} to supplier {ORG}").into_boxed_str())),
        ("unknown RAR type", good().claim("authorization_details", json!([{"type": "urn:example:x"}])).sign(&k.client), 400, "MP-301",
            "Unknown authorization_details type"),
        ("unknown RAR field", good().claim("authorization_details", json!([{"type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{OTHER_ORG}")}, "extra": 1}])).sign(&k.client),
            400, "MP-302", "extra"),
        ("bad externalRef", good().claim("authorization_details", json!([{"type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{OTHER_ORG}")}, "externalRef": "a b"}])).sign(&k.client),
            400, "MP-302", "externalRef"),
        ("bad systemuser_org", good().claim("authorization_details", json!([{"type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:123"}}])).sign(&k.client),
            400, "MP-303", "systemuser_org"),
    ];
    for (case, assertion, status, code, text) in &cases {
        let got = token_request(&s, assertion).await;
        assert_mp_error(&issuer, case, &got, *status, code, text);
    }

    // Within the 10 s skew: 8 s ahead and 8 s past exp are still accepted.
    let t = now();
    for (case, iat, exp) in [
        ("iat 8 s ahead", t + 8, t + 60),
        ("exp 8 s ago", t - 60, t - 8),
    ] {
        let grant = good()
            .claim("iat", json!(iat))
            .claim("exp", json!(exp))
            .sign(&k.client);
        let got = token_request(&s, &grant).await;
        assert_eq!(got.0, 200, "{case}: {}", got.1);
    }
}

#[tokio::test]
async fn certificate_problems_are_rejected() {
    let s = start().await;
    let issuer = s.sim.issuer();
    let key = &keys().other;
    let now_dt = OffsetDateTime::now_utc();
    let prod = certificate(
        &s.ctl,
        ORG,
        CertOptions {
            environment: CertEnvironment::Prod,
            ..test_cert_opts()
        },
        key,
    );
    let expired = certificate(
        &s.ctl,
        ORG,
        CertOptions {
            not_before: now_dt - time::Duration::days(400),
            not_after: now_dt - time::Duration::days(1),
            ..test_cert_opts()
        },
        key,
    );
    let other_org = certificate(&s.ctl, OTHER_ORG, test_cert_opts(), key);
    let foreign_ca = TestCa::generate().unwrap();
    let untrusted = foreign_ca
        .try_issue_business_certificate(ORG, "Leverandør AS", test_cert_opts(), Some(key))
        .unwrap();
    let good = certificate(&s.ctl, ORG, test_cert_opts(), key);
    let leaf_only = {
        let mut c = good.clone();
        c.chain_der.truncate(1);
        c
    };
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "x5c as a string",
            Grant::at(&issuer, CERT_CLIENT, now())
                .header("x5c", json!(good.x5c()[0]))
                .sign(key),
            "MP-123",
            "Invalid JWT header x5c",
        ),
        (
            "x5c not base64",
            Grant::at(&issuer, CERT_CLIENT, now())
                .header("x5c", json!(["%%%"]))
                .sign(key),
            "MP-123",
            "Invalid JWT header x5c",
        ),
        (
            "no x5c for a certificate client",
            Grant::at(&issuer, CERT_CLIENT, now()).sign(key),
            "MP-123",
            "Invalid JWT header x5c",
        ),
        (
            "kid for a certificate client",
            Grant::at(&issuer, CERT_CLIENT, now())
                .header("kid", json!("k"))
                .sign(key),
            "MP-100",
            "Unknown key identifier (kid) for client",
        ),
        (
            "Prod certificate in TEST",
            Grant::for_cert_client(&issuer, &prod).sign(key),
            "MP-120",
            "The JWT is signed with an invalid certificate.",
        ),
        (
            "expired certificate",
            Grant::for_cert_client(&issuer, &expired).sign(key),
            "MP-124",
            "Invalid JWT signature",
        ),
        (
            "unknown CA",
            Grant::for_cert_client(&issuer, &untrusted).sign(key),
            "MP-124",
            "Invalid JWT signature",
        ),
        (
            "certificate of another org",
            Grant::for_cert_client(&issuer, &other_org).sign(key),
            "MP-122",
            "Invalid organization number for client. Does not match certificate orgno",
        ),
        (
            "signed with a key the certificate does not certify",
            Grant::for_cert_client(&issuer, &good).sign(&keys().client),
            "MP-124",
            "Invalid JWT signature",
        ),
    ];
    for (case, assertion, code, text) in &cases {
        let got = token_request(&s, assertion).await;
        assert_mp_error(&issuer, case, &got, 400, code, text);
    }
    // The intermediate is a trust anchor too, so a leaf-only x5c verifies.
    let got = token_request(&s, &Grant::for_cert_client(&issuer, &leaf_only).sign(key)).await;
    assert_eq!(got.0, 200, "leaf only: {}", got.1);
}

#[tokio::test]
async fn a_prod_simulator_rejects_test_certificates() {
    let s = start_with(Simulator::builder().environment(CertEnvironment::Prod)).await;
    let issuer = s.sim.issuer();
    let key = &keys().other;
    let test = certificate(&s.ctl, ORG, test_cert_opts(), key);
    let got = token_request(&s, &Grant::for_cert_client(&issuer, &test).sign(key)).await;
    assert_mp_error(
        &issuer,
        "Test cert in PROD",
        &got,
        400,
        "MP-120",
        "invalid certificate",
    );
    let prod = certificate(
        &s.ctl,
        ORG,
        CertOptions {
            environment: CertEnvironment::Prod,
            ..test_cert_opts()
        },
        key,
    );
    let got = token_request(&s, &Grant::for_cert_client(&issuer, &prod).sign(key)).await;
    assert_eq!(got.0, 200, "{}", got.1);
}

#[tokio::test]
async fn a_reused_jti_is_rejected_until_it_expires() {
    let s = start().await;
    let issuer = s.sim.issuer();
    let grant = Grant::for_key_client(&issuer);
    let first = token_request(&s, &grant.sign(&keys().client)).await;
    assert_eq!(first.0, 200, "{}", first.1);
    let again = token_request(&s, &grant.sign(&keys().client)).await;
    assert_mp_error(
        &issuer,
        "same jti",
        &again,
        400,
        "MP-012",
        "Grant is used before",
    );
    // The same jti from another client is a different grant.
    s.ctl.register_client(ClientRegistration::with_keys(
        "second",
        ORG,
        [SCOPE],
        vec![keys().other.public_jwk("k9")],
    ));
    let other = grant
        .clone()
        .claim("iss", json!("second"))
        .header("kid", json!("k9"))
        .sign(&keys().other);
    assert_eq!(token_request(&s, &other).await.0, 200);
    // After exp + skew the jti is forgotten; a grant with the same jti and fresh times passes.
    s.ctl.advance_clock(time::Duration::seconds(75));
    let t = s.ctl.now().unix_timestamp();
    let renewed = grant
        .claim("iat", json!(t))
        .claim("exp", json!(t + 60))
        .sign(&keys().client);
    let got = token_request(&s, &renewed).await;
    assert_eq!(got.0, 200, "{}", got.1);
}

#[tokio::test]
async fn consumer_org_with_delegation_gives_consumer_and_supplier() {
    let s = start().await;
    let issuer = s.sim.issuer();
    s.ctl.add_delegation(OTHER_ORG, ORG, SCOPE);
    // The consumer has not been granted the scope by the API owner yet.
    let grant = || Grant::for_key_client(&issuer).claim("consumer_org", json!(OTHER_ORG));
    let got = token_request(&s, &grant().sign(&keys().client)).await;
    assert_mp_error(&issuer, "consumer lacks grant", &got, 403, "MP-250", SCOPE);
    s.ctl.grant_scope(OTHER_ORG, SCOPE);
    let (status, body) = token_request(&s, &grant().sign(&keys().client)).await;
    assert_eq!(status, 200, "{body}");
    let claims = verify_access_token(&s, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["consumer"]["ID"], json!(format!("0192:{OTHER_ORG}")));
    assert_eq!(
        claims["supplier"],
        json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{ORG}")})
    );
    assert!(
        claims["delegation_source"]
            .as_str()
            .is_some_and(|d| d.contains("altinn"))
    );
    // A delegated scope need not be registered on the client.
    s.ctl
        .add_delegation(OTHER_ORG, ORG, "toll:movement/maritime");
    s.ctl.grant_scope(OTHER_ORG, "toll:movement/maritime");
    let got = token_request(
        &s,
        &grant()
            .claim("scope", json!("toll:movement/maritime"))
            .sign(&keys().client),
    )
    .await;
    assert_eq!(got.0, 200, "{}", got.1);
    // A third org never delegated anything.
    let got = token_request(
        &s,
        &grant()
            .claim("consumer_org", json!(THIRD_ORG))
            .sign(&keys().client),
    )
    .await;
    assert_mp_error(&issuer, "third org", &got, 403, "MP-251", THIRD_ORG);
}

#[tokio::test]
async fn systemuser_authorization_details_are_echoed() {
    let s = start().await;
    let issuer = s.sim.issuer();
    let org = json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{OTHER_ORG}")});
    let rar = |ext: Option<&str>| {
        let mut entry = json!({"type": "urn:altinn:systemuser", "systemuser_org": org});
        if let Some(e) = ext {
            entry["externalRef"] = json!(e);
        }
        json!([entry])
    };
    let mut ids = Vec::new();
    for ext in [None, Some("lager-øst_1"), Some("lager-øst_1")] {
        let grant = Grant::for_key_client(&issuer)
            .claim("authorization_details", rar(ext))
            .sign(&keys().client);
        let (status, body) = token_request(&s, &grant).await;
        assert_eq!(status, 200, "{body}");
        let claims = verify_access_token(&s, body["access_token"].as_str().unwrap()).await;
        let details = &claims["authorization_details"][0];
        assert_eq!(details["type"], "urn:altinn:systemuser");
        assert_eq!(details["systemuser_org"], org);
        assert!(details["system_id"].is_string());
        assert!(details.get("externalRef").is_none());
        // The consumer is the vendor (client org), as Digdir documents for system users.
        assert_eq!(claims["consumer"]["ID"], json!(format!("0192:{ORG}")));
        ids.push(details["systemuser_id"][0].as_str().unwrap().to_owned());
    }
    assert_ne!(ids[0], ids[1], "externalRef selects another system user");
    assert_eq!(ids[1], ids[2], "same externalRef, same system user");
}

#[tokio::test]
async fn the_sim_clock_drives_checks_tokens_and_the_date_header() {
    let s = start().await;
    let issuer = s.sim.issuer();
    s.ctl.set_clock_offset(time::Duration::hours(3));
    let response = s.http.get(s.sim.url("jwk")).send().await.unwrap();
    let dates: Vec<_> = response.headers().get_all("date").iter().collect();
    assert_eq!(dates.len(), 1, "exactly one Date header: {dates:?}");
    let date = httpdate::parse_http_date(dates[0].to_str().unwrap()).unwrap();
    let date = OffsetDateTime::from(date);
    let expected = OffsetDateTime::now_utc() + time::Duration::hours(3);
    assert!(
        (date - expected).abs() < time::Duration::seconds(3),
        "Date {date} vs {expected}"
    );

    // A grant made on the system clock is 3 h old for the simulator.
    let stale = Grant::for_key_client(&issuer).sign(&keys().client);
    assert_mp_error(
        &issuer,
        "stale",
        &token_request(&s, &stale).await,
        400,
        "MP-130",
        "JWT is expired",
    );
    // One made on the sim clock works, and the token uses sim time.
    let t = s.ctl.now().unix_timestamp();
    let fresh = Grant::at(&issuer, KEY_CLIENT, t)
        .header("kid", json!(KID))
        .sign(&keys().client);
    let (status, body) = token_request(&s, &fresh).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims;
    assert!((claims["iat"].as_i64().unwrap() - t).abs() <= 2);

    // Error answers carry the sim Date too; the clock can go back.
    s.ctl.set_clock_offset(time::Duration::days(-1));
    let response = s
        .http
        .post(s.sim.token_endpoint())
        .form(&[("grant_type", "x")])
        .send()
        .await
        .unwrap();
    let date = OffsetDateTime::from(
        httpdate::parse_http_date(response.headers()["date"].to_str().unwrap()).unwrap(),
    );
    assert!(
        (date - (OffsetDateTime::now_utc() - time::Duration::days(1))).abs()
            < time::Duration::seconds(3)
    );
}

#[tokio::test]
async fn token_lifetime_is_configurable() {
    let s = start_with(Simulator::builder().token_lifetime(Duration::from_secs(599))).await;
    let grant = Grant::for_key_client(&s.sim.issuer()).sign(&keys().client);
    let (_, body) = token_request(&s, &grant).await;
    assert_eq!(body["expires_in"], 599);
    s.ctl.set_token_lifetime(Duration::from_secs(3599));
    let grant = Grant::for_key_client(&s.sim.issuer()).sign(&keys().client);
    let (_, body) = token_request(&s, &grant).await;
    assert_eq!(body["expires_in"], 3599);
    let claims = verify_access_token(&s, body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3599
    );
}

async fn status_of(s: &Sim, path: &str) -> Result<reqwest::Response, reqwest::Error> {
    s.http.get(s.sim.url(path)).send().await
}

#[tokio::test]
async fn status_faults_fire_for_the_next_n_requests() {
    let s = start().await;
    s.ctl.add_fault(Fault::status("/jwk", 502).times(2));
    s.ctl.add_fault(Fault::status("/token", 500).times(1));
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 502);
    // Other prefixes are not affected.
    assert_eq!(status_of(&s, "health").await.unwrap().status(), 200);
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 502);
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 200);
    let grant = Grant::for_key_client(&s.sim.issuer()).sign(&keys().client);
    assert_eq!(token_request(&s, &grant).await.0, 500);
    // The 500 did not reach the token endpoint, so the same grant still works.
    assert_eq!(token_request(&s, &grant).await.0, 200);
    assert!(s.ctl.faults().is_empty());
    let recorded = s.ctl.requests();
    assert_eq!(recorded.iter().filter(|r| !r.faults.is_empty()).count(), 3);
}

#[tokio::test]
async fn latency_fault_delays_the_answer() {
    let s = start().await;
    s.ctl
        .add_fault(Fault::latency("/jwk", Duration::from_millis(300)).times(1));
    let started = Instant::now();
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    status_of(&s, "jwk").await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn outage_lasts_until_a_sim_or_wall_deadline() {
    let s = start().await;
    let until = s.ctl.now() + time::Duration::minutes(5);
    s.ctl.add_fault(
        Fault::new(
            "/token",
            digitoll_sim::FaultKind::Outage {
                retry_after_secs: Some(30),
            },
        )
        .until_sim(until),
    );
    let grant = Grant::for_key_client(&s.sim.issuer()).sign(&keys().client);
    let response = s
        .http
        .post(s.sim.token_endpoint())
        .form(&[("grant_type", JWT_BEARER), ("assertion", &grant)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "30");
    assert_eq!(token_request(&s, &grant).await.0, 503);
    s.ctl.advance_clock(time::Duration::minutes(6));
    assert!(
        s.ctl
            .faults()
            .iter()
            .all(|f| f.fault.path_prefix == "/token")
    );
    let t = s.ctl.now().unix_timestamp();
    let grant = Grant::at(&s.sim.issuer(), KEY_CLIENT, t)
        .header("kid", json!(KID))
        .sign(&keys().client);
    assert_eq!(token_request(&s, &grant).await.0, 200);
    assert!(s.ctl.faults().is_empty(), "expired outage removed");

    s.ctl.add_fault(
        Fault::outage("/jwk").until_wall(OffsetDateTime::now_utc() + time::Duration::seconds(1)),
    );
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 503);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 200);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let s = start().await;
    s.ctl.add_fault(Fault::rate_limited("/token", 7).times(1));
    let grant = Grant::for_key_client(&s.sim.issuer()).sign(&keys().client);
    let response = s
        .http
        .post(s.sim.token_endpoint())
        .form(&[("grant_type", JWT_BEARER), ("assertion", &grant)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert!(response.headers().contains_key("date"));
}

#[tokio::test]
async fn dropped_connection_gives_no_response_and_nothing_is_processed() {
    let s = start().await;
    s.ctl.add_fault(Fault::drop_connection("/token").times(1));
    let grant = Grant::for_key_client(&s.sim.issuer()).sign(&keys().client);
    let err = s
        .http
        .post(s.sim.token_endpoint())
        .form(&[("grant_type", JWT_BEARER), ("assertion", &grant)])
        .send()
        .await
        .expect_err("the connection is closed without a response");
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err:?}"
    );
    // The grant never reached the token endpoint: it is still unused.
    assert_eq!(token_request(&s, &grant).await.0, 200);
    let recorded = s.ctl.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].faults.len(), 1);
    assert!(recorded[0].faults[0].contains("drop_connection"));
}

#[tokio::test]
async fn dropped_response_processes_the_request_first() {
    let s = start().await;
    s.ctl
        .add_fault(Fault::drop_response("/token").method("POST").times(1));
    let grant = Grant::for_key_client(&s.sim.issuer()).sign(&keys().client);
    let result = s
        .http
        .post(s.sim.token_endpoint())
        .form(&[("grant_type", JWT_BEARER), ("assertion", &grant)])
        .send()
        .await;
    assert!(result.is_err(), "the response is lost");
    // The token was issued (the jti is spent), so resending the same grant fails:
    // exactly why clients must build a new grant for every retry.
    let again = token_request(&s, &grant).await;
    assert_mp_error(
        &s.sim.issuer(),
        "resend",
        &again,
        400,
        "MP-012",
        "Grant is used before",
    );
}

#[tokio::test]
async fn probabilistic_faults_repeat_with_the_same_seed() {
    async fn pattern(seed: u64) -> Vec<u16> {
        let s = start_with(Simulator::builder().fault_seed(seed)).await;
        s.ctl
            .add_fault(Fault::status("/health", 503).probability(0.5));
        let mut out = Vec::new();
        for _ in 0..24 {
            out.push(status_of(&s, "health").await.unwrap().status().as_u16());
        }
        out
    }
    let a = pattern(42).await;
    assert_eq!(a, pattern(42).await);
    let failures = a.iter().filter(|s| **s == 503).count();
    assert!((3..=21).contains(&failures), "{a:?}");
    assert!(a.iter().all(|s| *s == 200 || *s == 503));
}

#[tokio::test]
async fn requests_are_recorded_with_decoded_bodies() {
    let s = start().await;
    let grant = Grant::for_key_client(&s.sim.issuer()).sign(&keys().client);
    token_request(&s, &grant).await;
    s.http
        .get(s.sim.url("jwk?x=1"))
        .bearer_auth("very-secret-token")
        .send()
        .await
        .unwrap();
    s.http.get(s.sim.url("sim/requests")).send().await.unwrap();
    let recorded = s.ctl.requests();
    assert_eq!(recorded.len(), 2, "admin calls are not recorded");
    let token_call = &recorded[0];
    assert_eq!(token_call.method, "POST");
    assert_eq!(token_call.path, "/token");
    assert_eq!(token_call.body.form_value("grant_type"), Some(JWT_BEARER));
    assert_eq!(
        token_call.body.form_value("assertion"),
        Some(grant.as_str())
    );
    assert!((token_call.received_at - s.ctl.now()).abs() < time::Duration::seconds(5));
    let jwk_call = &recorded[1];
    assert_eq!(jwk_call.query.as_deref(), Some("x=1"));
    assert_eq!(jwk_call.header("authorization"), Some("Bearer [REDACTED]"));
    assert_eq!(jwk_call.body, RecordedBody::Empty);
    assert!(jwk_call.id > token_call.id);

    // Over HTTP too, then cleared.
    let listed: Value = s
        .http
        .get(s.sim.url("sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["path"], "/token");
    assert_eq!(listed[0]["body"]["kind"], "form");
    let deleted = s
        .http
        .delete(s.sim.url("sim/requests"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(s.ctl.requests().is_empty());
}

#[tokio::test]
async fn admin_http_api_sets_up_clients_grants_delegations_clock_and_faults() {
    let s = start_with(Simulator::builder().demo(false)).await;
    let base = s.sim.base_url();
    let post = |path: &str, body: Value| s.http.post(base.join(path).unwrap()).json(&body).send();
    let key = &keys().other;

    let r = post(
        "sim/organisations",
        json!({"org_no": THIRD_ORG, "name": "Tredje AS"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let r = post(
        "sim/organisations",
        json!({"org_no": "312000009", "name": "Feil AS"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("org_no"), "{err}");
    let r = post(
        "sim/clients",
        json!({"client_id": "http-client", "org_no": THIRD_ORG,
        "scopes": [SCOPE], "keys": [key.public_jwk("hk")]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let r = post(
        "sim/clients",
        json!({"client_id": "bad", "org_no": THIRD_ORG, "keys": [{"kty": "RSA"}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("keys[0].kid"));
    let r = post("sim/clients", json!({"client_id": 5})).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("client_id"));
    assert_eq!(
        post(
            "sim/scope-grants",
            json!({"org_no": THIRD_ORG, "scope": SCOPE})
        )
        .await
        .unwrap()
        .status(),
        201
    );
    assert_eq!(
        post(
            "sim/scope-grants",
            json!({"org_no": OTHER_ORG, "scope": SCOPE})
        )
        .await
        .unwrap()
        .status(),
        201
    );
    assert_eq!(
        post(
            "sim/delegations",
            json!({"consumer_org": OTHER_ORG, "supplier_org": THIRD_ORG, "scope": SCOPE})
        )
        .await
        .unwrap()
        .status(),
        201
    );
    let clients: Value = s
        .http
        .get(base.join("sim/clients").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        clients
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["client_id"] == "http-client")
    );
    let grants: Value = s
        .http
        .get(base.join("sim/scope-grants").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(grants.as_array().unwrap().len(), 3, "{grants}");
    let delegations: Value = s
        .http
        .get(base.join("sim/delegations").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(delegations[0]["supplier_org"], THIRD_ORG);

    // The HTTP-registered client can get a delegated token.
    let issuer = s.sim.issuer();
    let grant = Grant::at(&issuer, "http-client", now())
        .header("kid", json!("hk"))
        .claim("consumer_org", json!(OTHER_ORG))
        .sign(key);
    let (status, body) = token_request(&s, &grant).await;
    assert_eq!(status, 200, "{body}");

    // Clock.
    let r = s
        .http
        .put(base.join("sim/clock").unwrap())
        .json(&json!({"offset_secs": 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let clock: Value = s
        .http
        .get(base.join("sim/clock").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["offset_secs"], 3600.0);
    assert_eq!(s.ctl.clock_offset(), time::Duration::hours(1));
    let r = s
        .http
        .put(base.join("sim/clock").unwrap())
        .json(&json!({"now": "2030-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.ctl.now().year(), 2030);
    let r = s
        .http
        .put(base.join("sim/clock").unwrap())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    s.ctl.set_clock_offset(time::Duration::ZERO);

    // Faults.
    let r = post(
        "sim/faults",
        json!({"path_prefix": "/jwk", "kind": {"type": "status", "status": 502}, "times": 1}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    let listed: Value = s
        .http
        .get(base.join("sim/faults").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["kind"]["type"], "status");
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 502);
    let r = post(
        "sim/faults",
        json!({"path_prefix": "/jwk", "kind": {"type": "outage"}, "for_secs": 60}),
    )
    .await
    .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"].as_u64().unwrap();
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 503);
    assert!(matches!(
        s.ctl.faults()[0].fault.until,
        Some(digitoll_sim::FaultUntil::Sim { .. })
    ));
    assert_eq!(
        s.http
            .delete(base.join(&format!("sim/faults/{id}")).unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 200);
    post(
        "sim/faults",
        json!({"path_prefix": "/jwk", "kind": {"type": "rate_limited", "retry_after_secs": 2}}),
    )
    .await
    .unwrap();
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 429);
    assert_eq!(
        s.http
            .delete(base.join("sim/faults").unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(status_of(&s, "jwk").await.unwrap().status(), 200);
    let r = post(
        "sim/faults",
        json!({"path_prefix": "/jwk", "kind": {"type": "explode"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = post(
        "sim/faults",
        json!({"path_prefix": "/sim/clock", "kind": {"type": "drop_connection"}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = post(
        "sim/faults",
        json!({"path_prefix": "/jwk", "kind": {"type": "drop_connection"}, "probability": 2.0}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("probability"));

    // Token lifetime and certificates.
    let r = s
        .http
        .put(base.join("sim/token-lifetime").unwrap())
        .json(&json!({"secs": 42}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let grant = Grant::at(&issuer, "http-client", now())
        .header("kid", json!("hk"))
        .claim("consumer_org", json!(OTHER_ORG))
        .sign(key);
    assert_eq!(token_request(&s, &grant).await.1["expires_in"], 42);
    let r = post(
        "sim/certificates",
        json!({"org_no": THIRD_ORG, "name": "Tredje AS", "environment": "prod"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let cert: Value = r.json().await.unwrap();
    assert!(
        cert["key_pem"]
            .as_str()
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    );
    assert_eq!(cert["x5c"].as_array().unwrap().len(), 2);

    // Removing the client.
    assert_eq!(
        s.http
            .delete(base.join("sim/clients/http-client").unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        s.http
            .delete(base.join("sim/clients/http-client").unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn demo_credentials_are_written_and_work() {
    let dir = tempfile::tempdir().unwrap();
    let s = start_with(Simulator::builder().write_demo_credentials(dir.path())).await;
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("demo-client.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["client_id"], DEMO_CLIENT_ID);
    assert_eq!(manifest["kid"], DEMO_KID);
    assert_eq!(manifest["org_no"], DEMO_ORG_NO);
    assert_eq!(manifest["issuer"], json!(s.sim.issuer()));
    assert_eq!(
        manifest["token_endpoint"],
        json!(s.sim.token_endpoint().as_str())
    );
    assert_eq!(manifest["key_file"], "demo-key.pem");
    assert_eq!(manifest["certificate_client_id"], DEMO_CERT_CLIENT_ID);
    assert!(digitoll_sim::is_valid_org_no(DEMO_ORG_NO));
    let key_path = dir.path().join("demo-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The PKCS#12 file opens with the documented password and holds key + chain.
    assert_eq!(manifest["certificate_file"], "demo-cert.p12");
    let p12 = std::fs::read(dir.path().join("demo-cert.p12")).unwrap();
    let store = p12_keystore::KeyStore::from_pkcs12(
        &p12,
        manifest["certificate_password"].as_str().unwrap(),
        p12_keystore::Pkcs12ImportPolicy::default(),
    )
    .unwrap();
    let (_, chain) = store
        .private_key_chain()
        .expect("key chain in demo-cert.p12");
    assert_eq!(chain.certs().len(), 2);
    let pem = std::fs::read_to_string(&key_path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    )
    .unwrap();
    let key = RsaPrivateKey::from_pkcs8_der(&der).unwrap();
    assert_eq!(
        chain.key().as_der(),
        key.pkcs8_der(),
        "the p12 holds the demo key"
    );
    let issuer = s.sim.issuer();
    let all_scopes = TOLL_SCOPES.join(" ");

    // Key client with kid.
    let grant = Grant::at(&issuer, DEMO_CLIENT_ID, now())
        .header("kid", json!(DEMO_KID))
        .claim("scope", json!(all_scopes))
        .sign(&key);
    let (status, body) = token_request(&s, &grant).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], json!(all_scopes));
    let claims = verify_access_token(&s, body["access_token"].as_str().unwrap()).await;
    assert_eq!(
        claims["consumer"]["ID"],
        json!(format!("0192:{DEMO_ORG_NO}"))
    );

    // Certificate client with the written chain.
    let chain_pem = std::fs::read_to_string(
        dir.path()
            .join(manifest["certificate_chain_file"].as_str().unwrap()),
    )
    .unwrap();
    let x5c: Vec<String> = chain_pem
        .split("-----END CERTIFICATE-----")
        .filter(|b| b.contains("BEGIN"))
        .map(|b| {
            b.lines()
                .filter(|l| !l.starts_with("-----") && !l.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(x5c.len(), 2);
    let grant = Grant::at(&issuer, DEMO_CERT_CLIENT_ID, now())
        .header("x5c", json!(x5c))
        .claim("scope", json!("toll:movement/road/v2"))
        .sign(&key);
    let (status, body) = token_request(&s, &grant).await;
    assert_eq!(status, 200, "{body}");
    let claims = verify_access_token(&s, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["client_amr"], "virksomhetssertifikat");
    s.sim.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_the_server_and_invalid_setup_is_explained() {
    let s = start().await;
    let url = s.sim.url("health");
    let err = s
        .ctl
        .try_register_organisation("12345678", "Kort AS")
        .unwrap_err()
        .to_string();
    assert!(err.contains("org_no") && err.contains("9 digits"), "{err}");
    let err = s
        .ctl
        .try_add_delegation(ORG, ORG, SCOPE)
        .unwrap_err()
        .to_string();
    assert!(err.contains("supplier_org"), "{err}");
    assert!(s.ctl.try_add_fault(Fault::status("/x", 42)).is_err());
    assert!(
        !format!("{:?}", keys().client).contains("MII"),
        "keys are redacted in Debug"
    );
    assert_eq!(reqwest::get(url.clone()).await.unwrap().status(), 200);
    s.sim.shutdown().await;
    assert!(reqwest::get(url).await.is_err());
    let no_demo = Simulator::builder()
        .demo(false)
        .signing_key(keys().signing.clone())
        .write_demo_credentials("/nonexistent")
        .start()
        .await;
    assert!(no_demo.is_err());
}

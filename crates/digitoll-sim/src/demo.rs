//! The built-in demo organisation and clients, and the credential files for the CLI.
//!
//! With the demo enabled (the default) the simulator registers:
//!
//! - organisation [`DEMO_ORG_NO`] ("Digitoll Demo AS"), granted every scope in [`TOLL_SCOPES`];
//! - client [`DEMO_CLIENT_ID`], a key client: one RSA key registered under `kid`
//!   [`DEMO_KID`] (its JWK also carries the demo business certificate in `x5c`), all
//!   Toll scopes;
//! - client [`DEMO_CERT_CLIENT_ID`], a certificate client (no registered keys) for
//!   the same organisation and scopes: it signs with the same key and sends the
//!   demo business certificate chain in `x5c`.
//!
//! The demo RSA key is generated at every start unless
//! [`crate::SimulatorBuilder::demo_key`] supplies one, so credentials written by
//! [`crate::SimulatorBuilder::write_demo_credentials`] are valid only for the run
//! that wrote them. Files written into the directory:
//!
//! - `demo-client.json`: `{"client_id","kid","org_no","org_name","issuer","token_endpoint",
//!   "scopes","key_file":"demo-key.pem","certificate_chain_file":"demo-cert-chain.pem",
//!   "certificate_client_id"}`;
//! - `demo-key.pem`: the private key, PKCS#8 PEM, mode 0600 on Unix;
//! - `demo-cert-chain.pem`: the demo business certificate chain, leaf first;
//! - `demo-cert.p12`: key and chain as PKCS#12 (mode 0600), password
//!   [`DEMO_P12_PASSWORD`] (also in the JSON as `certificate_password`; it protects
//!   demo material only).

use std::fs;
use std::path::Path;

use secrecy::ExposeSecret as _;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::ca::{BusinessCertificate, CertOptions};
use crate::keys::RsaPrivateKey;
use crate::registry::ClientRegistration;
use crate::{SimControl, SimError};

/// Organisation number of the demo organisation (valid mod-11 check digit).
pub const DEMO_ORG_NO: &str = "314159268";
/// Name of the demo organisation.
pub const DEMO_ORG_NAME: &str = "Digitoll Demo AS";
/// Client id of the demo key client (`kid` [`DEMO_KID`]).
pub const DEMO_CLIENT_ID: &str = "8f2b0c4e-3d6a-4b1e-9c7d-2a5e6f1b3c9d";
/// Client id of the demo certificate client (`x5c`).
pub const DEMO_CERT_CLIENT_ID: &str = "8f2b0c4e-3d6a-4b1e-9c7d-2a5e6f1b3c9e";
/// `kid` of the demo client's registered key.
pub const DEMO_KID: &str = "digitoll-demo";
/// Password of `demo-cert.p12` (demo material only).
pub const DEMO_P12_PASSWORD: &str = "digitoll-demo";
/// The Toll scopes the demo organisation and clients get.
pub const TOLL_SCOPES: &[&str] = &[
    "toll:movement/road/v2",
    "toll:movement/air",
    "toll:movement/rail",
    "toll:movement/maritime",
    "toll:movement/entry",
    "toll:goodsdeclaration/document.write",
];

/// What [`install`] created, for writing the credential files.
#[derive(Debug)]
pub(crate) struct DemoSetup {
    key: RsaPrivateKey,
    certificate: BusinessCertificate,
}

/// Registers the demo organisation, its scope grants and both demo clients.
pub(crate) fn install(control: &SimControl, key: &RsaPrivateKey) -> Result<DemoSetup, SimError> {
    control.try_register_organisation(DEMO_ORG_NO, DEMO_ORG_NAME)?;
    let now = OffsetDateTime::now_utc();
    let certificate = control.ca().try_issue_business_certificate(
        DEMO_ORG_NO,
        DEMO_ORG_NAME,
        CertOptions {
            environment: control.environment(),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(3 * 365),
            use_organization_identifier: false,
        },
        Some(key),
    )?;
    let mut jwk = key.public_jwk(DEMO_KID);
    jwk["x5c"] = json!(certificate.x5c());
    control.try_register_client(ClientRegistration::with_keys(
        DEMO_CLIENT_ID,
        DEMO_ORG_NO,
        TOLL_SCOPES.iter().copied(),
        vec![jwk],
    ))?;
    control.try_register_client(ClientRegistration::with_certificate(
        DEMO_CERT_CLIENT_ID,
        DEMO_ORG_NO,
        TOLL_SCOPES.iter().copied(),
    ))?;
    for scope in TOLL_SCOPES {
        control.try_grant_scope(DEMO_ORG_NO, scope)?;
    }
    Ok(DemoSetup {
        key: key.clone(),
        certificate,
    })
}

/// Writes `demo-client.json`, `demo-key.pem` (0600) and `demo-cert-chain.pem` into `dir`.
pub(crate) fn write_credentials(
    control: &SimControl,
    demo: &DemoSetup,
    dir: &Path,
) -> Result<(), SimError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SimError::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let key_path = dir.join("demo-key.pem");
    // The demo files are regenerated on every run: overwrite.
    digitoll_fs::write_private(
        &key_path,
        demo.key.pkcs8_pem().expose_secret().as_bytes(),
        true,
    )
    .map_err(io(&key_path))?;
    let chain_path = dir.join("demo-cert-chain.pem");
    fs::write(&chain_path, demo.certificate.chain_pem()).map_err(io(&chain_path))?;
    let p12_path = dir.join("demo-cert.p12");
    let p12 = demo.certificate.to_pkcs12(DEMO_P12_PASSWORD)?;
    digitoll_fs::write_private(&p12_path, &p12, true).map_err(io(&p12_path))?;
    let issuer = control.issuer();
    let manifest = json!({
        "client_id": DEMO_CLIENT_ID,
        "kid": DEMO_KID,
        "org_no": DEMO_ORG_NO,
        "org_name": DEMO_ORG_NAME,
        "issuer": issuer,
        "token_endpoint": format!("{issuer}token"),
        "scopes": TOLL_SCOPES,
        "key_file": "demo-key.pem",
        "certificate_chain_file": "demo-cert-chain.pem",
        "certificate_file": "demo-cert.p12",
        "certificate_password": DEMO_P12_PASSWORD,
        "certificate_client_id": DEMO_CERT_CLIENT_ID,
    });
    let json_path = dir.join("demo-client.json");
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    fs::write(&json_path, text + "\n").map_err(io(&json_path))?;
    Ok(())
}

//! Turns `--credentials` or identity flags into a [`MaskinportenClient`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use maskinporten::{Environment, MaskinportenClient, RsaKey, RsaSigner, Signer};
use secrecy::SecretString;
use serde::Deserialize;

use crate::cli::{EnvArg, IdentityArgs};

/// A credentials file. The simulator's `demo-client.json` has this shape, and
/// so will the files `digitoll onboard` writes. Relative paths are relative to
/// the file's folder.
#[derive(Debug, Deserialize)]
pub(crate) struct CredentialsFile {
    pub(crate) client_id: String,
    #[serde(default)]
    pub(crate) issuer: Option<String>,
    #[serde(default)]
    pub(crate) environment: Option<String>,
    #[serde(default)]
    pub(crate) kid: Option<String>,
    #[serde(default)]
    pub(crate) key_file: Option<PathBuf>,
    #[serde(default)]
    pub(crate) certificate_chain_file: Option<PathBuf>,
    #[serde(default)]
    pub(crate) p12_file: Option<PathBuf>,
}

impl CredentialsFile {
    pub(crate) fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read credentials file {}", path.display()))?;
        let mut de = serde_json::Deserializer::from_str(&text);
        let mut creds: Self = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            anyhow::anyhow!(
                "credentials file {}: at `{}`: {}",
                path.display(),
                e.path(),
                e.inner()
            )
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut creds.key_file,
            &mut creds.certificate_chain_file,
            &mut creds.p12_file,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        Ok(creds)
    }
}

/// Everything needed to build a client, after merging file and flags
/// (flags win).
#[derive(Debug)]
pub(crate) struct Identity {
    pub(crate) env: Environment,
    pub(crate) client_id: String,
    pub(crate) signer: Arc<dyn Signer>,
}

impl Identity {
    pub(crate) fn from_args(args: &IdentityArgs) -> anyhow::Result<Self> {
        let file = args
            .credentials
            .as_deref()
            .map(CredentialsFile::read)
            .transpose()?;

        let env = match (&args.env, &args.issuer) {
            (Some(EnvArg::Prod), _) => Environment::Prod,
            (Some(EnvArg::Test), _) => Environment::Test,
            (None, Some(issuer)) => Environment::custom(normalise_issuer(issuer)),
            (None, None) => match file.as_ref() {
                Some(f) => match (f.issuer.as_deref(), f.environment.as_deref()) {
                    (Some(issuer), _) => Environment::custom(normalise_issuer(issuer)),
                    (None, Some("prod" | "PROD")) => Environment::Prod,
                    (None, Some("test" | "TEST") | None) => Environment::Test,
                    (None, Some(other)) => bail!(
                        "credentials file: `environment` is {other:?}; expected \"prod\" or \"test\""
                    ),
                },
                None => bail!(
                    "no Maskinporten environment: pass --env prod|test, --issuer URL or --credentials FILE"
                ),
            },
        };

        let client_id = args
            .client_id
            .clone()
            .or_else(|| file.as_ref().map(|f| f.client_id.clone()))
            .context("no client id: pass --client-id (the integration id from Samarbeidsportalen) or --credentials FILE")?;
        let client_id = client_id.trim().to_owned();
        if client_id.is_empty() {
            bail!("--client-id is empty");
        }

        let alg = args.alg.map(maskinporten::Algorithm::from);
        let signer = build_signer(args, file.as_ref(), alg)?;
        Ok(Self {
            env,
            client_id,
            signer,
        })
    }

    pub(crate) fn client(&self) -> anyhow::Result<MaskinportenClient> {
        MaskinportenClient::builder(
            self.env.clone(),
            self.client_id.clone(),
            self.signer.clone(),
        )
        .build()
        .context("cannot build the Maskinporten client")
    }
}

/// The issuer must match exactly, trailing slash included; users often forget it.
fn normalise_issuer(issuer: &str) -> String {
    let issuer = issuer.trim();
    if issuer.ends_with('/') {
        issuer.to_owned()
    } else {
        format!("{issuer}/")
    }
}

fn build_signer(
    args: &IdentityArgs,
    file: Option<&CredentialsFile>,
    alg: Option<maskinporten::Algorithm>,
) -> anyhow::Result<Arc<dyn Signer>> {
    let p12 = args
        .p12
        .clone()
        .or_else(|| file.and_then(|f| f.p12_file.clone()));
    let key = args
        .key
        .clone()
        .or_else(|| file.and_then(|f| f.key_file.clone()));

    let mut signer = if let (Some(p12), None) = (&p12, &args.key) {
        let password = SecretString::from(args.p12_password.clone().context(
            "the .p12 file needs a password: pass --p12-password or set DIGITOLL_P12_PASSWORD",
        )?);
        RsaSigner::from_pkcs12_file(p12, &password)
            .with_context(|| format!("cannot load business certificate {}", p12.display()))?
    } else if let Some(key_path) = &key {
        let passphrase = args.key_passphrase.clone().map(SecretString::from);
        let text = std::fs::read(key_path)
            .with_context(|| format!("cannot read key file {}", key_path.display()))?;
        let looks_like_jwk = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let rsa_key = if looks_like_jwk {
            let json = String::from_utf8(text)
                .with_context(|| format!("{}: not UTF-8", key_path.display()))?;
            RsaKey::from_jwk(&json)
                .with_context(|| format!("cannot load JWK {}", key_path.display()))?
        } else {
            RsaKey::from_pem(&text, passphrase.as_ref())
                .with_context(|| format!("cannot load key {}", key_path.display()))?
        };
        // Use the certificate chain only when asked on the command line, or
        // when the file has no kid (a certificate client).
        let chain = args.cert_chain.clone().or_else(|| {
            file.filter(|f| f.kid.is_none() && args.kid.is_none())
                .and_then(|f| f.certificate_chain_file.clone())
        });
        if let Some(chain_path) = chain {
            let pem = std::fs::read(&chain_path).with_context(|| {
                format!("cannot read certificate chain {}", chain_path.display())
            })?;
            let chain = pem_certificates(&pem)
                .with_context(|| format!("certificate chain {}", chain_path.display()))?;
            RsaSigner::with_certificate_chain(rsa_key, &chain)
                .with_context(|| format!("certificate chain {}", chain_path.display()))?
        } else {
            let kid = args
                .kid
                .clone()
                .or_else(|| file.and_then(|f| f.kid.clone()))
                .unwrap_or_else(|| rsa_key.thumbprint());
            RsaSigner::with_kid(rsa_key, kid)
        }
    } else {
        bail!(
            "no key: pass --key FILE (with --kid for a registered key, or --cert-chain for a certificate), --p12 FILE, or --credentials FILE"
        );
    };
    if let Some(alg) = alg {
        signer = signer.with_algorithm(alg);
    }
    Ok(Arc::new(signer))
}

/// DER certificates from a PEM file, in file order.
pub(crate) fn pem_certificates(pem: &[u8]) -> anyhow::Result<Vec<Vec<u8>>> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject as _;
    let certs: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        bail!("no CERTIFICATE block found");
    }
    Ok(certs)
}

//! `digitoll keys generate`.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use secrecy::ExposeSecret as _;
use serde_json::json;

use crate::cli::KeysGenerateArgs;
use crate::output::{self, outln};

pub(crate) fn generate(args: KeysGenerateArgs) -> anyhow::Result<ExitCode> {
    if ![2048, 3072, 4096].contains(&args.bits) {
        bail!(
            "--bits {}: Maskinporten keys must be 2048, 3072 or 4096 bits",
            args.bits
        );
    }
    let pair = maskinporten::generate_key_pair(args.bits, args.alg.into())
        .context("cannot generate the key pair")?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create folder {}", args.out.display()))?;
    let key_path = args.out.join(format!("{}.key.pem", args.name));
    let jwk_path = args.out.join(format!("{}.jwk.json", args.name));
    let jwks_path = args.out.join(format!("{}.jwks.json", args.name));
    for p in [&key_path, &jwk_path, &jwks_path] {
        if p.exists() && !args.force {
            bail!("{} exists; pass --force to overwrite it", p.display());
        }
    }
    digitoll_fs::write_private(
        &key_path,
        pair.private_pem.expose_secret().as_bytes(),
        args.force,
    )?;
    let jwk_text = serde_json::to_string_pretty(&pair.public_jwk)?;
    std::fs::write(&jwk_path, format!("{jwk_text}\n"))
        .with_context(|| format!("cannot write {}", jwk_path.display()))?;
    let jwks_text = serde_json::to_string_pretty(&json!({ "keys": [pair.public_jwk] }))?;
    std::fs::write(&jwks_path, format!("{jwks_text}\n"))
        .with_context(|| format!("cannot write {}", jwks_path.display()))?;

    if args.json {
        output::json(&json!({
            "kid": pair.kid,
            "bits": args.bits,
            "private_key_file": key_path,
            "public_jwk_file": jwk_path,
            "public_jwks_file": jwks_path,
            "public_jwk": pair.public_jwk,
        }))?;
    } else {
        outln!("Generated an RSA-{} key pair, kid {}", args.bits, pair.kid);
        outln!(
            "  private key (keep secret, mode 0600): {}",
            key_path.display()
        );
        outln!(
            "  public JWK:                           {}",
            jwk_path.display()
        );
        outln!(
            "  public JWKS (for the self-service API): {}",
            jwks_path.display()
        );
        outln!();
        outln!("Next: in Samarbeidsportalen, open your Maskinporten client, choose");
        outln!("\"Egne offentlige nøkler\" (own public keys) and paste the public JWK.");
        outln!(
            "Then sign grants with --key {} --kid {}",
            key_path.display(),
            pair.kid
        );
        outln!("Maskinporten keys expire one year after upload: rotate before then.");
    }
    Ok(ExitCode::SUCCESS)
}

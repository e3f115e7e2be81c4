//! `digitoll cert inspect`.

use std::process::ExitCode;

use anyhow::Context as _;
use maskinporten::{CertEnvironmentHint, CertificateInfo};
use secrecy::SecretString;
use serde_json::json;

use crate::cli::CertInspectArgs;
use crate::output::{self, outln};

pub(crate) fn inspect(args: CertInspectArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let is_pem = bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ");
    let info = if is_pem {
        maskinporten::inspect_pem_certificates(&bytes)
            .with_context(|| format!("{}: not a readable PEM certificate", args.file.display()))?
    } else {
        let password = SecretString::from(args.password.clone().unwrap_or_default());
        maskinporten::inspect_pkcs12(&bytes, &password).with_context(|| {
            format!(
                "{}: cannot open as .p12/.pfx (wrong password? pass --password or set DIGITOLL_P12_PASSWORD)",
                args.file.display()
            )
        })?
    };
    let now = time::OffsetDateTime::now_utc();
    let valid = info.is_valid_at(now);
    if args.json {
        output::json(&to_json(&info, valid, now))?;
    } else {
        print_text(&info, valid, now);
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn env_name(hint: CertEnvironmentHint) -> &'static str {
    match hint {
        CertEnvironmentHint::Test => "test",
        CertEnvironmentHint::Prod => "production",
        _ => "unknown",
    }
}

fn to_json(info: &CertificateInfo, valid: bool, now: time::OffsetDateTime) -> serde_json::Value {
    json!({
        "subject": info.subject,
        "issuer": info.issuer,
        "organisation_number": info.org_number.as_ref().map(|o| o.to_string()),
        "serial": info.serial,
        "not_before": output::instant(info.not_before),
        "not_after": output::instant(info.not_after),
        "valid_now": valid,
        "days_left": (info.not_after - now).whole_days(),
        "sha256": info.sha256_thumbprint,
        "environment": env_name(info.environment_hint),
        "chain": info.chain.iter().map(|c| json!({
            "subject": c.subject, "issuer": c.issuer, "not_after": output::instant(c.not_after),
        })).collect::<Vec<_>>(),
    })
}

fn print_text(info: &CertificateInfo, valid: bool, now: time::OffsetDateTime) {
    outln!("subject:       {}", info.subject);
    outln!("issuer:        {}", info.issuer);
    match &info.org_number {
        Some(o) => outln!("organisation:  {o}"),
        None => outln!("organisation:  (none found in serialNumber or organizationIdentifier)"),
    }
    outln!("serial:        {}", info.serial);
    outln!(
        "valid:         {} to {}",
        output::instant(info.not_before),
        output::instant(info.not_after)
    );
    let days = (info.not_after - now).whole_days();
    if !valid {
        outln!("status:        NOT VALID NOW: Maskinporten will reject it (MP-124)");
    } else if days < 30 {
        outln!("status:        valid, but expires in {days} days: order a new certificate");
    } else {
        outln!("status:        valid ({days} days left)");
    }
    outln!(
        "looks like:    {} certificate{}",
        env_name(info.environment_hint),
        match info.environment_hint {
            CertEnvironmentHint::Test => " (use with Maskinporten TEST only; PROD answers MP-120)",
            CertEnvironmentHint::Prod => " (use with Maskinporten PROD only; TEST answers MP-120)",
            _ => "",
        }
    );
    outln!("sha256:        {}", info.sha256_thumbprint);
    outln!("chain ({}):", info.chain.len());
    for (i, c) in info.chain.iter().enumerate() {
        outln!("  [{i}] {}", c.subject);
        outln!(
            "      issued by {} (until {})",
            c.issuer,
            output::instant(c.not_after)
        );
    }
}

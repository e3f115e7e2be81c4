//! `digitoll token`: one Maskinporten token, with its claims explained.

use std::process::ExitCode;

use anyhow::Context as _;
use base64::Engine as _;
use maskinporten::{OrgNumber, TokenRequest};
use serde_json::json;

use crate::cli::TokenArgs;
use crate::identity::Identity;
use crate::output::{self, outln};

pub(crate) async fn run(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let identity = Identity::from_args(&args.identity)?;
    let client = identity.client()?;

    let scopes: Vec<String> = args
        .scopes
        .iter()
        .flat_map(|s| s.split_whitespace())
        .map(str::to_owned)
        .collect();
    let mut request = TokenRequest::builder().scopes(scopes);
    if let Some(resource) = &args.resource {
        request = request.resource(resource.clone());
    }
    if let Some(org) = &args.consumer_org {
        let org: OrgNumber = org
            .trim()
            .parse()
            .with_context(|| format!("--consumer-org {org:?}"))?;
        request = request.consumer_org(org);
    }
    let request = request.build().context("invalid token request")?;

    let token = match client.token(&request).await {
        Ok(t) => t,
        Err(e) => {
            // The error's text already carries the MP code and its fix hint.
            if args.json {
                let (code, hint) = match &e {
                    maskinporten::Error::Maskinporten(mp) => {
                        (mp.code.as_ref().map(|c| c.to_string()), mp.hint())
                    }
                    _ => (None, None),
                };
                output::json(&json!({ "error": e.to_string(), "mp_code": code, "hint": hint }))?;
            } else {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    if args.raw {
        outln!("{}", token.secret());
        return Ok(ExitCode::SUCCESS);
    }
    let claims = decode_claims(token.secret());
    let expires_in = (token.expires_at() - time::OffsetDateTime::now_utc()).whole_seconds();
    if args.json {
        output::json(&json!({
            "issuer": client.issuer(),
            "client_id": client.client_id(),
            "token_type": token.token_type(),
            "expires_in": expires_in,
            "expires_at": output::instant(token.expires_at()),
            "scopes": token.scopes(),
            "claims": claims,
        }))?;
    } else {
        outln!("Got a Maskinporten token from {}", client.issuer());
        outln!("  client id:   {}", client.client_id());
        outln!("  token type:  {}", token.token_type());
        outln!(
            "  expires in:  {expires_in} s (at {})",
            output::instant(token.expires_at())
        );
        outln!("  scopes:      {}", token.scopes().join(" "));
        if let Some(claims) = claims {
            outln!("  claims:");
            for line in serde_json::to_string_pretty(&claims)?.lines() {
                outln!("    {line}");
            }
        }
        outln!("(the token itself is not shown; pass --raw to print it)");
    }
    Ok(ExitCode::SUCCESS)
}

/// Maskinporten tokens are officially opaque, but today they are JWTs; showing
/// the payload helps diagnose scope and delegation problems. Not verified.
fn decode_claims(token: &str) -> Option<serde_json::Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

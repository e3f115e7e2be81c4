//! `digitoll spec`: our model's OpenAPI document per API (`show`), and its
//! differences with Toll's (`diff`), read from Toll's Swagger (springdoc,
//! probably `<base>/v3/api-docs` \[I\]) or a saved file.
//!
//! Our paths follow the global `--profile` (its `[endpoints]`), so a
//! profile that records Toll's real paths is compared as such.
//!
//! Exit codes of `diff`: 0 no difference, 1 differences, 2 could not run
//! (unreadable file, unreachable URL, an HTTP error, not an OpenAPI 3
//! document).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use digitoll_model::ContractProfile;
use digitoll_model::spec::{SpecApi, diff, openapi_document_for, parse_document};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use crate::output::{self, outln};

/// `digitoll spec …`.
#[derive(Debug, Subcommand)]
pub(crate) enum SpecCommand {
    /// Compare Toll's OpenAPI document of an API with our model's. Prints one
    /// line per difference ("Toll: X, model: Y") with its JSON path. Exit 0
    /// no difference, 1 differences, 2 could not run.
    Diff(DiffArgs),
    /// Print our model's OpenAPI document of an API (what `digitoll sim`
    /// serves at `<base>/v3/api-docs`).
    Show(ShowArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["url", "file"])))]
pub(crate) struct DiffArgs {
    /// Toll's document over HTTP(S), e.g.
    /// `https://api-test.toll.no/api/movement/road/v2/v3/api-docs`.
    #[arg(long)]
    url: Option<url::Url>,
    /// Toll's document saved as a JSON file.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Which API the document describes.
    #[arg(long, value_parser = parse_api)]
    api: SpecApi,
    /// A file holding a bearer token to send with `--url` (never printed).
    #[arg(long, requires = "url")]
    bearer_file: Option<PathBuf>,
    /// Print the differences as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// Which API.
    #[arg(long, value_parser = parse_api)]
    api: SpecApi,
}

fn parse_api(s: &str) -> Result<SpecApi, String> {
    s.parse()
        .map_err(|e: digitoll_model::spec::UnknownApi| e.to_string())
}

/// `profile` (the global `--profile`) moves our paths by its `[endpoints]`.
pub(crate) async fn run(
    command: SpecCommand,
    profile: &ContractProfile,
) -> anyhow::Result<ExitCode> {
    match command {
        SpecCommand::Show(args) => {
            output::json(&openapi_document_for(args.api, profile))?;
            Ok(ExitCode::SUCCESS)
        }
        SpecCommand::Diff(args) => diff_command(args, profile).await,
    }
}

async fn diff_command(args: DiffArgs, profile: &ContractProfile) -> anyhow::Result<ExitCode> {
    let (origin, text) = match (&args.url, &args.file) {
        (Some(url), _) => {
            let bearer = args.bearer_file.as_deref().map(read_bearer).transpose()?;
            (url.to_string(), fetch(url, bearer.as_ref()).await?)
        }
        (None, Some(file)) => (
            file.display().to_string(),
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
        ),
        (None, None) => bail!("give --url or --file"),
    };
    let theirs = parse_document(&text).with_context(|| origin.clone())?;
    let ours = openapi_document_for(args.api, profile);
    let differences = diff(&ours, &theirs);
    if args.json {
        let list: Vec<Value> = differences
            .iter()
            .map(|d| {
                let mut v = serde_json::to_value(d).unwrap_or(Value::Null);
                v["jsonPath"] = json!(d.json_path());
                v["text"] = json!(d.to_string());
                v
            })
            .collect();
        output::json(&json!({
            "api": args.api.name(),
            "toll": origin,
            "differences": list,
        }))?;
    } else if differences.is_empty() {
        outln!("{origin}: no difference with the model's {} API", args.api);
    } else {
        for d in &differences {
            outln!("{d}");
        }
        outln!(
            "{} difference{} between {origin} (Toll) and the model's {} API",
            differences.len(),
            if differences.len() == 1 { "" } else { "s" },
            args.api
        );
    }
    Ok(if differences.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn read_bearer(path: &Path) -> anyhow::Result<SecretString> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the bearer token file {}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        bail!("the bearer token file {} is empty", path.display());
    }
    Ok(SecretString::from(token.to_owned()))
}

async fn fetch(url: &url::Url, bearer: Option<&SecretString>) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    let mut request = http.get(url.clone()).header("accept", "application/json");
    if let Some(token) = bearer {
        request = request.bearer_auth(token.expose_secret());
    }
    // reqwest's error text names the URL, never the Authorization header.
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .with_context(|| format!("cannot read the answer from {url}"))?;
    if !status.is_success() {
        let excerpt: String = body.chars().take(200).collect();
        bail!("{url} answered {status}: {excerpt}");
    }
    Ok(body)
}

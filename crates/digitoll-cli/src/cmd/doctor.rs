//! `digitoll doctor`: runs digitoll-doctor's checks and renders them.
//!
//! Exit code: 0 when every check passes (or does not apply), 1 when the worst
//! result is a warning, 2 when a check fails.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use digitoll_doctor::{DoctorInput, Report, Status, Subject};
use maskinporten::{CertEnvironmentHint, Environment, OrgNumber};

use crate::cli::IdentityArgs;
use crate::identity::{CredentialsFile, Identity};
use crate::output::{self, outln};

/// Flags of `digitoll doctor`.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    #[command(flatten)]
    pub(crate) identity: IdentityArgs,
    /// Scope to test, one token each (repeatable). Default: the `scopes` of
    /// the credentials file.
    #[arg(long = "scope", short = 's')]
    pub(crate) scopes: Vec<String>,
    /// The organisation number the business certificate must belong to.
    /// Default: `org_no` of the credentials file.
    #[arg(long)]
    pub(crate) expect_org: Option<String>,
    /// The Toll API: `prod`, `test` or a base URL. Default: follows the
    /// Maskinporten environment (the simulator's issuer for a custom one).
    #[arg(long, env = "DIGITOLL_TOLL")]
    pub(crate) toll: Option<String>,
    /// Skip the Toll checks (token exchange and API probes).
    #[arg(long)]
    pub(crate) no_toll: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The parts of a credentials file the doctor uses beyond the identity.
#[derive(Debug, Default, serde::Deserialize)]
struct Extras {
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    org_no: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    key_expires_at: Option<time::OffsetDateTime>,
}

fn extras(path: &Path) -> Extras {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

pub(crate) async fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let report = diagnose(&args).await?;
    if args.json {
        output::json(&serde_json::json!({
            "status": report.worst(),
            "exit_code": report.exit_code(),
            "checks": report.checks,
        }))?;
    } else {
        render(&report);
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// Builds the input from flags and files and runs the checks (also used by `onboard`).
pub(crate) async fn diagnose(args: &DoctorArgs) -> anyhow::Result<Report> {
    let id = &args.identity;
    // 1. Configuration: the file must parse before anything else is tried.
    let (source, file_error, extra) = match &id.credentials {
        Some(path) => {
            let err = CredentialsFile::read(path).err().map(|e| format!("{e:#}"));
            (path.display().to_string(), err, extras(path))
        }
        None => ("command-line flags".to_owned(), None, Extras::default()),
    };
    let (subject, signer) = match file_error {
        Some(e) => (
            Err(e),
            Err("not loaded: the configuration is unreadable".to_owned()),
        ),
        None => match Identity::from_args(id) {
            Ok(identity) => (
                Ok(Subject {
                    source,
                    env: identity.env.clone(),
                    client_id: identity.client_id.clone(),
                }),
                Ok(identity.signer.clone()),
            ),
            Err(e) => {
                let text = format!("{e:#}");
                // Environment and client id are configuration; the rest is the key.
                if text.starts_with("no Maskinporten environment")
                    || text.starts_with("no client id")
                    || text.contains("client-id")
                    || text.contains("`environment`")
                {
                    (Err(text), Err("not loaded".to_owned()))
                } else {
                    match partial_subject(id, &source) {
                        Some(subject) => (Ok(subject), Err(text)),
                        None => (Err(text), Err("not loaded".to_owned())),
                    }
                }
            }
        },
    };
    let scopes: Vec<String> = if args.scopes.is_empty() {
        extra.scopes.clone()
    } else {
        args.scopes
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect()
    };
    let expect_org = match args.expect_org.as_deref().or(extra.org_no.as_deref()) {
        Some(o) => Some(
            o.trim()
                .parse::<OrgNumber>()
                .map_err(|e| anyhow::anyhow!("--expect-org {o:?}: {e}"))?,
        ),
        None => None,
    };
    let toll = match (&subject, args.no_toll) {
        (Ok(s), false) => Some(super::road::toll_environment(args.toll.as_deref(), &s.env)?),
        _ => None,
    };
    let cert_environment = match &subject {
        Ok(s) => Some(match s.env {
            Environment::Prod => CertEnvironmentHint::Prod,
            // A custom issuer is the simulator, which plays TEST.
            _ => CertEnvironmentHint::Test,
        }),
        Err(_) => None,
    };
    let mut input = DoctorInput::new(subject, signer);
    input.scopes = scopes;
    input.expect_org = expect_org;
    input.toll = toll;
    input.cert_environment = cert_environment;
    input.key_expires_at = extra.key_expires_at;
    Ok(digitoll_doctor::run(input).await)
}

/// Environment and client id when only the key failed to load.
fn partial_subject(id: &IdentityArgs, source: &str) -> Option<Subject> {
    let file = id
        .credentials
        .as_deref()
        .and_then(|p| CredentialsFile::read(p).ok());
    let env = match (&id.env, &id.issuer) {
        (Some(crate::cli::EnvArg::Prod), _) => Environment::Prod,
        (Some(crate::cli::EnvArg::Test), _) => Environment::Test,
        (None, Some(i)) => Environment::custom(with_slash(i)),
        (None, None) => match file.as_ref()?.issuer.as_deref() {
            Some(i) => Environment::custom(with_slash(i)),
            None => match file.as_ref()?.environment.as_deref() {
                Some("prod" | "PROD") => Environment::Prod,
                _ => Environment::Test,
            },
        },
    };
    let client_id = id.client_id.clone().or_else(|| file.map(|f| f.client_id))?;
    Some(Subject {
        source: source.to_owned(),
        env,
        client_id: client_id.trim().to_owned(),
    })
}

fn with_slash(s: &str) -> String {
    let s = s.trim();
    if s.ends_with('/') {
        s.to_owned()
    } else {
        format!("{s}/")
    }
}

fn mark(status: Status) -> &'static str {
    match status {
        Status::Pass => "✓",
        Status::Warn => "!",
        Status::Fail => "✗",
        Status::Skip => "-",
    }
}

/// Prints the report: one line per check, the fix indented below.
pub(crate) fn render(report: &Report) {
    for c in &report.checks {
        outln!("{} {:<46} {}", mark(c.status), c.title, c.detail);
        if let Some(fix) = &c.fix
            && c.status != Status::Pass
            && c.status != Status::Skip
        {
            outln!("    fix: {fix}");
        }
    }
    outln!();
    outln!(
        "{} passed, {} warning(s), {} failed, {} skipped: {}",
        report.count(Status::Pass),
        report.count(Status::Warn),
        report.count(Status::Fail),
        report.count(Status::Skip),
        match report.worst() {
            Status::Pass | Status::Skip => "all good",
            Status::Warn => "works, but see the warnings",
            Status::Fail => "fix the failures above",
        }
    );
}

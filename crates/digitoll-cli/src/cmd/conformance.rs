//! `digitoll conformance`: flags → `digitoll_conformance::Config`, then the
//! report printed and the transcript written.
//!
//! Exit code: 0 everything matched, 1 differences, 2 could not run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use digitoll_client::TollEnvironment;
use digitoll_conformance::{Config, Report, StepResult, Target};
use digitoll_model::ContractProfile;
use maskinporten::{Environment, OrgNumber};
use url::Url;

use crate::cli::IdentityArgs;
use crate::identity::Identity;
use crate::output::{self, outln};

/// Flags of `digitoll conformance`.
#[derive(Debug, Args)]
pub(crate) struct ConformanceArgs {
    #[command(flatten)]
    pub(crate) identity: IdentityArgs,
    /// The Toll environment: `test` (https://api-test.toll.no), `prod`, or a
    /// base URL. Default: follows the Maskinporten environment (test for
    /// TEST credentials; the issuer's server for the simulator).
    #[arg(long)]
    pub(crate) toll: Option<String>,
    /// A custom Toll base URL (overrides --toll).
    #[arg(long, value_name = "URL")]
    pub(crate) toll_url: Option<Url>,
    /// Where Maskinporten's token endpoint is, when not under the issuer
    /// (the grants' `aud` stays the issuer).
    #[arg(long, value_name = "URL")]
    pub(crate) maskinporten_url: Option<Url>,
    /// Required to run against production (api.toll.no / maskinporten.no).
    #[arg(long = "i-know-this-is-production")]
    pub(crate) i_know_this_is_production: bool,
    /// Scopes to exercise (repeatable). Default: every Toll scope the client is granted.
    #[arg(long = "scope", short = 's')]
    pub(crate) scopes: Vec<String>,
    /// The client's organisation number (default: `org_no` of the
    /// credentials file, else the token's `consumer` claim).
    #[arg(long)]
    pub(crate) org_no: Option<String>,
    /// The transcript (JSON lines). Default: `digitoll-conformance-<UTC time>.jsonl`
    /// in the current folder.
    #[arg(long, value_name = "FILE")]
    pub(crate) transcript: Option<PathBuf>,
    /// Also write the suggested profile (TOML) here.
    #[arg(long, value_name = "FILE")]
    pub(crate) suggest_profile: Option<PathBuf>,
    /// How long to wait for each validation result, in seconds.
    #[arg(long, default_value_t = 60)]
    pub(crate) wait_timeout: u64,
    /// The run's tag, used in its document numbers (default: the UTC time).
    /// Pass the tag of a recorded run to replay its transcript
    /// (`digitoll sim --replay`).
    #[arg(long)]
    pub(crate) run_tag: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Extras {
    #[serde(default)]
    org_no: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
}

/// `profile` is the global `--profile`: the client and the simulator follow it.
pub(crate) async fn run(
    args: ConformanceArgs,
    profile: std::sync::Arc<ContractProfile>,
) -> anyhow::Result<ExitCode> {
    let identity = Identity::from_args(&args.identity)?;
    let toll_env = super::road::toll_environment(args.toll.as_deref(), &identity.env)?;
    let toll_url = match &args.toll_url {
        Some(u) => u.clone(),
        None => toll_env.base_url(),
    };
    let production =
        matches!(toll_env, TollEnvironment::Prod) || matches!(identity.env, Environment::Prod);
    if production && !args.i_know_this_is_production {
        anyhow::bail!(
            "refusing to run against production: conformance creates and deletes messages; add --i-know-this-is-production if you mean it"
        );
    }
    let mut target = Target::from_parts(identity.env.clone(), toll_url);
    if let Some(u) = &args.maskinporten_url {
        target.maskinporten_url = u.clone();
    }
    let extras: Extras = args
        .identity
        .credentials
        .as_deref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let org_no = match args.org_no.as_deref().or(extras.org_no.as_deref()) {
        Some(o) => Some(
            o.trim()
                .parse::<OrgNumber>()
                .map_err(|e| anyhow::anyhow!("--org-no {o:?}: {e}"))?,
        ),
        None => None,
    };
    let mut config = Config::new(identity.client_id.clone(), identity.signer.clone());
    config.target = target;
    config.scopes = if args.scopes.is_empty() {
        extras.scopes
    } else {
        args.scopes
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect()
    };
    config.org_no = org_no;
    config.allow_production = args.i_know_this_is_production;
    config.wait_timeout = Duration::from_secs(args.wait_timeout);
    config.run_tag = args.run_tag.clone();
    config.profile = profile;

    let now = time::OffsetDateTime::now_utc();
    let transcript = args.transcript.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "digitoll-conformance-{:04}{:02}{:02}T{:02}{:02}{:02}Z.jsonl",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        ))
    });

    let report = digitoll_conformance::run(config).await?;
    std::fs::write(&transcript, report.transcript_jsonl())
        .with_context(|| format!("cannot write the transcript {}", transcript.display()))?;
    if let Some(path) = &args.suggest_profile
        && !report.suggested_profile.is_empty()
    {
        std::fs::write(path, &report.suggested_profile)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["exit_code"] = report.exit_code().into();
        value["transcript_file"] = transcript.display().to_string().into();
        output::json(&value)?;
    } else {
        render(&report, &transcript);
    }
    Ok(ExitCode::from(report.exit_code()))
}

fn mark(r: &StepResult) -> &'static str {
    match r {
        StepResult::Ok { .. } => "✓",
        StepResult::Error { .. } => "✗",
        StepResult::Skipped { .. } => "-",
    }
}

fn text(r: &StepResult) -> &str {
    match r {
        StepResult::Ok { detail } => detail,
        StepResult::Error { error } => error,
        StepResult::Skipped { reason } => reason,
    }
}

fn render(report: &Report, transcript: &std::path::Path) {
    outln!(
        "Conformance of {} (Maskinporten {}) against the digitoll simulator",
        report.toll_url,
        report.maskinporten_issuer
    );
    outln!("scopes: {}", report.scopes.join(" "));
    outln!("run tag: {} (in the document numbers)", report.run_tag);
    outln!();
    for s in &report.steps {
        let sim = report
            .simulator_steps
            .iter()
            .find(|x| x.id == s.id)
            .map(|x| mark(&x.result))
            .unwrap_or("?");
        outln!(
            "{:>2}. {} {:<30} {}   (simulator {sim})",
            s.number,
            mark(&s.result),
            s.id,
            text(&s.result)
        );
    }
    let mp = &report.maskinporten;
    outln!();
    outln!("Maskinporten:");
    outln!(
        "  token lifetime (expires_in): {}",
        mp.token_lifetimes
            .iter()
            .map(|l| format!("{l} s"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "accepted",
        Some(false) => "refused",
        None => "not probed",
    };
    outln!("  extra `nbf` claim:            {}", yes_no(mp.accepts_nbf));
    outln!("  extra `sub` claim:            {}", yes_no(mp.accepts_sub));
    outln!(
        "  the same jti twice:           {}{}",
        yes_no(mp.accepts_replayed_jti),
        mp.replay_answer
            .as_ref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default()
    );
    if !report.rules.is_empty() {
        outln!();
        outln!("Local rules checked against Toll's answers:");
        for r in &report.rules {
            let id = if r.rule.is_empty() {
                "(no rule id)"
            } else {
                r.rule.as_str()
            };
            outln!(
                "  {:<13} {id} in {}{}{}",
                r.verdict,
                r.step_id,
                r.toll
                    .as_ref()
                    .map(|t| format!(": Toll says {t:?}"))
                    .unwrap_or_default(),
                if r.sources.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", r.sources.join("; "))
                }
            );
        }
    }
    outln!();
    if let Some(why) = &report.aborted {
        outln!("Could not complete: {why}");
    } else if report.differences.is_empty() {
        outln!("No differences: Toll and the simulator answered alike.");
    } else {
        outln!("{} difference(s):", report.differences.len());
        for d in &report.differences {
            outln!("  {}", d.message);
        }
    }
    if !report.suggested_profile.is_empty() {
        outln!();
        outln!("Suggested profile (makes the simulator match):");
        for line in report.suggested_profile.lines() {
            outln!("  {line}");
        }
    }
    outln!();
    outln!(
        "Transcript: {} ({} exchanges, secrets redacted; replay it with `digitoll sim --replay {}`)",
        transcript.display(),
        report.transcript.len(),
        transcript.display()
    );
}

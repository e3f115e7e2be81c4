//! The contract profile on the command line: `--profile FILE` (or
//! `DIGITOLL_PROFILE`) for the commands that talk to Toll or validate,
//! `digitoll rules` and `digitoll profile default|check`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use digitoll_model::profile::source_tag;
use digitoll_model::{ContractProfile, rules};
use serde_json::json;

use crate::cli::{ProfileCommand, RulesArgs};
use crate::output::{self, outln};

/// Reads and checks the profile at `path`; the built-in one when `None`.
/// A bad profile is an error `file:line:column: message` (exit 2).
pub(crate) fn load(path: Option<&Path>) -> anyhow::Result<Arc<ContractProfile>> {
    let Some(path) = path else {
        return Ok(Arc::new(ContractProfile::default()));
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the profile {}", path.display()))?;
    let profile = ContractProfile::from_toml(&text, &path.display().to_string())?;
    Ok(Arc::new(profile))
}

/// `digitoll rules`: every rule with its effective severity and source.
pub(crate) fn rules(args: &RulesArgs, profile: &ContractProfile) -> anyhow::Result<ExitCode> {
    let rows: Vec<_> = rules::all()
        .iter()
        .map(|r| {
            let effective = profile.rules.severity(r.id);
            (r, effective)
        })
        .collect();
    if args.json {
        output::json(
            &rows
                .iter()
                .map(|(r, effective)| {
                    json!({
                        "id": r.id,
                        "summary": r.summary,
                        "default": r.default.as_str(),
                        "severity": effective.as_str(),
                        "overridden": *effective != r.default,
                        "text": profile.rule_text(r.id),
                        "sources": r.sources.iter().map(source_tag).collect::<Vec<_>>(),
                    })
                })
                .collect::<Vec<_>>(),
        )?;
    } else if rows.is_empty() {
        outln!("no rules in the catalogue");
    } else {
        for (r, effective) in &rows {
            let mark = if *effective == r.default {
                String::new()
            } else {
                format!(" (default {})", r.default)
            };
            outln!(
                "{:<48} {:<8}{mark}  {}",
                r.id,
                effective.as_str(),
                r.summary
            );
            for s in r.sources {
                outln!("{:<48}   [{}]", "", source_tag(s));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `digitoll profile default|check`.
pub(crate) fn profile(cmd: &ProfileCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProfileCommand::Default => {
            outln!(
                "{}",
                ContractProfile::default().to_toml_annotated().trim_end()
            );
            Ok(ExitCode::SUCCESS)
        }
        ProfileCommand::Check { file } => {
            let p = load(Some(file))?;
            let endpoints = p.endpoint_overrides().count();
            outln!(
                "{}: ok ({} rule override(s), {endpoints} endpoint override(s), {} rule text(s), {} response field rename(s); FAILURE answers {})",
                file.display(),
                p.rules.iter().count(),
                p.rule_texts().count(),
                p.response_fields.len(),
                p.simulator.failure_status,
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

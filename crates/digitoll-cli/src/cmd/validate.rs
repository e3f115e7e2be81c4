//! `digitoll validate`: Toll's rules, offline.

use std::path::Path;
use std::process::ExitCode;

use digitoll_model::{
    ContractProfile, MessageKind, Outcome, PlaygroundFixtures, TransportMode, ValidationContext,
    ValidationReport, validate_json_for,
};
use serde_json::json;

use crate::cli::ValidateArgs;
use crate::output::{self, outln};

/// The verdict on one file.
pub(crate) struct Checked {
    /// Whose rules were applied.
    pub(crate) mode: TransportMode,
    pub(crate) kind: Option<MessageKind>,
    /// `Err` when the file could not be read or is not a JSON object.
    pub(crate) report: Result<ValidationReport, String>,
}

impl Checked {
    pub(crate) fn is_valid(&self) -> bool {
        matches!(&self.report, Ok(r) if r.is_valid())
    }
}

pub(crate) fn context(update: bool, production: bool) -> ValidationContext {
    let ctx =
        ValidationContext::new(time::OffsetDateTime::now_utc()).with_first_submission(!update);
    if production {
        ctx
    } else {
        ctx.with_playground(PlaygroundFixtures::default())
    }
}

/// Reads, detects and validates one file.
pub(crate) fn check_file(
    path: &Path,
    mode: Option<TransportMode>,
    kind: Option<MessageKind>,
    ctx: &ValidationContext,
) -> Checked {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return Checked {
                mode: mode.unwrap_or(TransportMode::Road),
                kind,
                report: Err(format!("cannot read {}: {e}", path.display())),
            };
        }
    };
    check_text(&text, mode, kind, ctx)
}

pub(crate) fn check_text(
    text: &str,
    mode: Option<TransportMode>,
    kind: Option<MessageKind>,
    ctx: &ValidationContext,
) -> Checked {
    let parsed = serde_json::from_str::<serde_json::Value>(text).ok();
    let kind = kind.or_else(|| parsed.as_ref().and_then(MessageKind::detect));
    // A transport says which mode it is; masters and houses are the same in every mode.
    let mode = mode
        .or_else(|| {
            parsed
                .as_ref()?
                .pointer("/activeBorderTransportMeans/modeOfTransportCode")?
                .as_str()
                .and_then(TransportMode::from_cl018_code)
        })
        .unwrap_or(TransportMode::Road);
    let Some(kind) = kind else {
        let reason = match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => format!("not JSON: {e}"),
            Ok(_) => "cannot tell which message this is (transport, master, house, relation or delete): pass --kind".to_owned(),
        };
        return Checked {
            mode,
            kind: None,
            report: Err(reason),
        };
    };
    let report = validate_json_for(mode, kind, text, ctx)
        .map(|(_, report)| report)
        .map_err(|e| e.to_string());
    Checked {
        mode,
        kind: Some(kind),
        report,
    }
}

pub(crate) fn mode_name(mode: TransportMode) -> &'static str {
    match mode {
        TransportMode::Road => "road",
        TransportMode::Air => "air",
        TransportMode::Rail => "rail",
        TransportMode::Maritime => "maritime",
    }
}

pub(crate) fn kind_name(kind: Option<MessageKind>) -> &'static str {
    match kind {
        Some(MessageKind::Transport) => "transport",
        Some(MessageKind::MasterConsignment) => "master consignment",
        Some(MessageKind::HouseConsignment) => "house consignment",
        Some(MessageKind::Relation) => "relation",
        Some(MessageKind::Delete) => "delete",
        None => "unknown",
    }
}

/// Prints the report the way a user reads it: what Toll would answer, where, and why.
pub(crate) fn print_report(label: &str, checked: &Checked) {
    let report = match &checked.report {
        Ok(r) => r,
        Err(reason) => {
            outln!("✗ {label}: {reason}");
            return;
        }
    };
    let kind = format!("{} {}", mode_name(checked.mode), kind_name(checked.kind));
    match report.outcome() {
        Outcome::Accepted { incomplete } if incomplete.is_empty() => {
            outln!("✓ {label}: valid {kind}");
        }
        Outcome::Accepted { incomplete } => {
            outln!("✓ {label}: valid {kind}, but Toll will mark it INCOMPLETE:");
            for r in incomplete {
                outln!("    ! {r}");
            }
        }
        Outcome::Rejected(body) => {
            outln!(
                "✗ {label}: {kind} would be rejected at once (HTTP 400), {} error(s):",
                body.validation_errors.len()
            );
            for e in &body.validation_errors {
                outln!("    {}: {}", e.field, e.error);
            }
        }
        Outcome::Failed(errors) => {
            outln!(
                "✗ {label}: {kind} would be accepted, then fail validation (status FAILURE), {} error(s):",
                errors.len()
            );
            for e in &errors {
                outln!("    {}: {}", e.pointer.message_element_path, e.description);
            }
        }
    }
    // Findings of rules at severity `warning` (by default, e.g. a procedure a
    // mode's page omits, or by a profile): shown, never failing.
    for w in report.warnings() {
        let at = if w.path.is_empty() {
            String::new()
        } else {
            format!(" {}:", w.path)
        };
        outln!("    warning [{}]{at} {}", w.rule, w.message);
    }
}

pub(crate) fn report_json(label: &str, checked: &Checked) -> serde_json::Value {
    match &checked.report {
        Err(reason) => {
            json!({ "file": label, "kind": kind_name(checked.kind), "valid": false, "error": reason })
        }
        Ok(r) => json!({
            "file": label,
            "kind": kind_name(checked.kind),
            "valid": r.is_valid(),
            "validationErrors": r.sync_errors(),
            "validationErrorList": r.business_errors(),
            "incompleteDocumentationReasonList": r.incomplete_reasons(),
            "warnings": r.warnings(),
        }),
    }
}

pub(crate) fn run(args: &ValidateArgs, profile: &ContractProfile) -> anyhow::Result<ExitCode> {
    let ctx = context(args.update, args.production).with_rule_overrides(profile.rules.clone());
    let kind = args.kind.map(MessageKind::from);
    let mode = args.mode.map(TransportMode::from);
    let results: Vec<(String, Checked)> = args
        .files
        .iter()
        .map(|f| (f.display().to_string(), check_file(f, mode, kind, &ctx)))
        .collect();
    if args.json {
        output::json(
            &results
                .iter()
                .map(|(l, c)| report_json(l, c))
                .collect::<Vec<_>>(),
        )?;
    } else {
        for (label, checked) in &results {
            print_report(label, checked);
        }
    }
    let all_valid = results.iter().all(|(_, c)| c.is_valid());
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

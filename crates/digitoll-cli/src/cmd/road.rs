//! `digitoll road|air|rail|maritime …`: submit, update, delete and follow
//! movement messages. The four modes share one implementation; the client's
//! `TransportMode` holds what differs (base paths, scope, validation rules).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use digitoll_client::{
    Completed, Confirmation, DocumentKind, Error as TollError, MovementClient, PollConfig,
    Submission, TollEnvironment, TollTokenProvider, TransportMode,
};
use digitoll_model::responses::{StatusWithDescendants, ValidationStatus};
use digitoll_model::road::DeleteBody;
use digitoll_model::{ContractProfile, MessageKind, Mrn, RequestId, TollInstant};
use maskinporten::Environment;
use serde_json::{Value, json};

use crate::cli::{RoadCommand, TollArgs};
use crate::identity::Identity;
use crate::output::{self, outln};

/// Picks the Toll environment: the flag, else the one matching Maskinporten.
pub(crate) fn toll_environment(
    flag: Option<&str>,
    maskinporten: &Environment,
) -> anyhow::Result<TollEnvironment> {
    Ok(match flag.map(str::trim) {
        Some("prod" | "PROD") => TollEnvironment::Prod,
        Some("test" | "TEST") => TollEnvironment::Test,
        Some(url) => TollEnvironment::custom(url).with_context(|| format!("--toll {url:?}"))?,
        None => match maskinporten {
            Environment::Prod => TollEnvironment::Prod,
            Environment::Test => TollEnvironment::Test,
            // The simulator serves Maskinporten and Toll from one base URL.
            other => TollEnvironment::custom(other.issuer())
                .with_context(|| format!("Toll base URL from issuer {}", other.issuer()))?,
        },
    })
}

/// The Toll token provider for `args`, and whether the Toll environment is
/// a test one (playground fixture rules apply).
/// Every client built on it takes its paths and rule overrides from `profile`.
pub(crate) fn toll_tokens(
    args: &TollArgs,
    profile: &Arc<ContractProfile>,
) -> anyhow::Result<(TollTokenProvider, bool)> {
    let identity = Identity::from_args(&args.identity)?;
    let env = toll_environment(args.toll.as_deref(), &identity.env)?;
    let playground = !matches!(env, TollEnvironment::Prod);
    let maskinporten = Arc::new(identity.client()?);
    let tokens = TollTokenProvider::builder(maskinporten, env)
        .profile(profile.clone())
        .build();
    Ok((tokens, playground))
}

/// A movement client for `mode`, the identity and the Toll environment in `args`.
pub(crate) fn movement_client(
    mode: TransportMode,
    args: &TollArgs,
    profile: &Arc<ContractProfile>,
) -> anyhow::Result<MovementClient> {
    let (tokens, playground) = toll_tokens(args, profile)?;
    MovementClient::builder(mode, tokens)
        .validate_before_send(!args.no_local_validation)
        .playground_rules(playground)
        .poll(PollConfig {
            deadline: Duration::from_secs(args.wait_timeout),
            ..PollConfig::default()
        })
        .build()
        .with_context(|| format!("cannot build the {} client", mode.path_segment()))
}

pub(crate) async fn run(
    mode: TransportMode,
    cmd: RoadCommand,
    profile: Arc<ContractProfile>,
) -> anyhow::Result<ExitCode> {
    let client_for = |toll: &TollArgs| movement_client(mode, toll, &profile);
    match cmd {
        RoadCommand::Submit {
            toll,
            file,
            kind,
            no_wait,
        } => {
            let (kind, body) = read_message(&file, kind.map(Into::into))?;
            let client = client_for(&toll)?;
            if no_wait {
                return match client.submit_raw(kind, &body).await {
                    Ok(sub) => print_submission(kind, &sub, toll.json),
                    Err(e) => print_error(&e, toll.json),
                };
            }
            match client.submit_and_wait_raw(kind, &body).await {
                Ok(done) => print_completed(kind, &done, toll.json),
                Err(e) => print_error(&e, toll.json),
            }
        }
        RoadCommand::Update {
            toll,
            mrn,
            file,
            kind,
        } => {
            let mrn = parse_mrn(&mrn)?;
            let (kind, body) = read_message(&file, kind.map(Into::into))?;
            let client = client_for(&toll)?;
            let result = match client.update_raw(kind, &mrn, &body).await {
                Ok(rid) => client.wait_for_validation(kind, &rid).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(status) => print_status(kind, &status, toll.json),
                Err(e) => print_error(&e, toll.json),
            }
        }
        RoadCommand::Delete { toll, mrn, kind } => {
            let mrn = parse_mrn(&mrn)?;
            let kind = DocumentKind::from(kind);
            let client = client_for(&toll)?;
            let body = DeleteBody {
                document_issue_date: Some(TollInstant::from_offset_date_time(
                    time::OffsetDateTime::now_utc(),
                )),
                representative: None,
            };
            let result = match client.delete(kind, &mrn, &body).await {
                Ok(rid) => client.wait_for_validation(kind, &rid).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(status) => print_status(kind, &status, toll.json),
                Err(e) => print_error(&e, toll.json),
            }
        }
        RoadCommand::Status {
            toll,
            request_id,
            kind,
        } => {
            let rid: RequestId = request_id
                .trim()
                .parse()
                .with_context(|| format!("request id {request_id:?}"))?;
            let kind = DocumentKind::from(kind);
            let client = client_for(&toll)?;
            match client.validation_status(kind, &rid).await {
                Ok(Some(status)) => print_status(kind, &status, toll.json),
                Ok(None) => {
                    if toll.json {
                        output::json(
                            &json!({ "requestId": rid.to_string(), "status": "PENDING" }),
                        )?;
                    } else {
                        outln!("{rid}: still being processed by Toll; ask again in a moment");
                    }
                    Ok(ExitCode::from(3))
                }
                Err(e) => print_error(&e, toll.json),
            }
        }
        RoadCommand::Tree { toll, mrn, kind } => {
            let mrn = parse_mrn(&mrn)?;
            let client = client_for(&toll)?;
            let tree = match kind.into() {
                DocumentKind::MasterConsignment => {
                    client.master_status_with_descendants(&mrn).await
                }
                DocumentKind::Transport => client.transport_status_with_descendants(&mrn).await,
                DocumentKind::HouseConsignment => {
                    bail!("a house has no descendants: use --kind transport or master")
                }
            };
            match tree {
                Ok(tree) => {
                    if toll.json {
                        output::json(&tree)?;
                    } else {
                        print_tree(&mrn, &tree);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => print_error(&e, toll.json),
            }
        }
        RoadCommand::Entry { toll, mrn } => {
            let mrn = parse_mrn(&mrn)?;
            let client = client_for(&toll)?;
            match client.entry_status(&mrn).await {
                Ok(entry) => {
                    if toll.json {
                        output::json(&entry)?;
                    } else if entry.valid_entry {
                        outln!(
                            "{mrn}: entry granted at {} ({})",
                            entry.customs_office_of_entry.as_deref().unwrap_or("?"),
                            entry.time_of_entry.as_deref().unwrap_or("time not given")
                        );
                    } else {
                        outln!(
                            "{mrn}: no valid entry yet (not arrived, or contact Toll before unloading)"
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => print_error(&e, toll.json),
            }
        }
        RoadCommand::TestAuth { toll } => {
            let client = client_for(&toll)?;
            match client.test_auth().await {
                Ok(()) => {
                    if toll.json {
                        output::json(&json!({ "ok": true }))?;
                    } else {
                        outln!(
                            "test-auth OK: the credentials reach Toll's {} API",
                            mode.path_segment()
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => print_error(&e, toll.json),
            }
        }
    }
}

pub(crate) fn parse_mrn(s: &str) -> anyhow::Result<Mrn> {
    s.trim().parse().with_context(|| {
        format!("{s:?} is not an MRN (18 characters: 2-digit year, 2-letter country, 14 letters or digits)")
    })
}

/// Reads a message file and decides which document it is.
fn read_message(path: &Path, kind: Option<DocumentKind>) -> anyhow::Result<(DocumentKind, Value)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let body: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let kind = match kind {
        Some(k) => k,
        None => match MessageKind::detect(&body) {
            Some(MessageKind::Transport) => DocumentKind::Transport,
            Some(MessageKind::MasterConsignment) => DocumentKind::MasterConsignment,
            Some(MessageKind::HouseConsignment) => DocumentKind::HouseConsignment,
            Some(other) => bail!(
                "{} is a {other:?} body, not a transport, master or house message",
                path.display()
            ),
            None => bail!(
                "cannot tell which message {} is: pass --kind transport|master|house",
                path.display()
            ),
        },
    };
    Ok((kind, body))
}

pub(crate) fn kind_label(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Transport => "transport",
        DocumentKind::MasterConsignment => "master consignment",
        DocumentKind::HouseConsignment => "house consignment",
    }
}

pub(crate) fn completed_json(kind: DocumentKind, done: &Completed) -> Value {
    json!({
        "kind": kind.path_segment(),
        "mrn": done.mrn.to_string(),
        "requestId": done.request_id.as_ref().map(ToString::to_string),
        "confirmation": match done.confirmation {
            Confirmation::Validated => "validated",
            Confirmation::Reconciled => "reconciled",
        },
        "incompleteDocumentationReasonList": done.incomplete.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn print_completed(kind: DocumentKind, done: &Completed, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        output::json(&completed_json(kind, done))?;
    } else {
        outln!("✓ {} accepted: MRN {}", kind_label(kind), done.mrn);
        if done.confirmation == Confirmation::Reconciled {
            outln!(
                "  (the response was lost; Toll already had the message, so it was not sent again)"
            );
        }
        if done.is_incomplete() {
            outln!("  INCOMPLETE: complete the documentation before the border crossing:");
            for r in &done.incomplete {
                outln!("    ! {r}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_submission(kind: DocumentKind, sub: &Submission, json: bool) -> anyhow::Result<ExitCode> {
    match sub {
        Submission::Accepted { request_id, .. } => {
            if json {
                output::json(
                    &json!({ "kind": kind.path_segment(), "requestId": request_id.to_string() }),
                )?;
            } else {
                outln!("{} sent: requestId {request_id}", kind_label(kind));
                outln!(
                    "follow it with: digitoll road status --kind {} {request_id}",
                    match kind {
                        DocumentKind::Transport => "transport",
                        DocumentKind::MasterConsignment => "master",
                        DocumentKind::HouseConsignment => "house",
                    }
                );
            }
        }
        Submission::Reconciled(found) => {
            let mrn = found.mrn.as_ref().map(ToString::to_string);
            if json {
                output::json(
                    &json!({ "kind": kind.path_segment(), "mrn": mrn, "reconciled": true }),
                )?;
            } else {
                outln!(
                    "{}: the response was lost, but Toll already has it (MRN {}); not sent again",
                    kind_label(kind),
                    mrn.as_deref().unwrap_or("not reported")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status(
    kind: DocumentKind,
    status: &ValidationStatus,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let failed = !status.validation_error_list.is_empty() || status.mrn.is_none();
    // Toll answered with a body we could not read: show it as received,
    // with whatever could be salvaged; an unreadable status is exit 2.
    let unreadable = status.unparsed.is_some() && !status.status.is_known();
    if json {
        let mut v = serde_json::to_value(status)?;
        if let Some(u) = &status.unparsed {
            v["unparsed"] = json!({"httpStatus": u.http_status, "error": u.error, "body": u.body});
        }
        output::json(&v)?;
    } else if let Some(u) = status.unparsed.as_ref().filter(|_| unreadable) {
        outln!(
            "? Toll answered HTTP {} for the {}, but the body did not parse ({}):\n    {}",
            u.http_status,
            kind_label(kind),
            u.error,
            u.body
        );
    } else if failed {
        outln!("✗ {} failed Toll's validation:", kind_label(kind));
        for e in &status.validation_error_list {
            outln!("    {}: {}", e.pointer.message_element_path, e.description);
        }
    } else {
        outln!(
            "✓ {} accepted: MRN {}",
            kind_label(kind),
            status
                .mrn
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        );
        for r in &status.incomplete_documentation_reason_list {
            outln!("    ! INCOMPLETE: {r}");
        }
    }
    if let Some(u) = status.unparsed.as_ref().filter(|_| !json && !unreadable) {
        outln!(
            "    ! Toll's answer did not parse fully ({}); as received: {}",
            u.error,
            u.body
        );
    }
    Ok(if unreadable {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints a client error field by field. Exit 1 when Toll (or local
/// validation) said no; 2 for everything that is not the message's fault.
pub(crate) fn print_error(e: &TollError, json: bool) -> anyhow::Result<ExitCode> {
    let code = match e {
        TollError::Rejected { .. } | TollError::Failed { .. } => 1,
        _ => 2,
    };
    if json {
        output::json(&error_json(e))?;
        return Ok(ExitCode::from(code));
    }
    match e {
        TollError::Rejected {
            origin,
            kind,
            errors,
        } => {
            eprintln!(
                "✗ {kind:?} rejected by {origin} (HTTP 400), {} error(s):",
                errors.len()
            );
            for err in errors {
                eprintln!("    {}: {}", err.field, err.error);
            }
            if *origin == digitoll_client::Origin::Local {
                eprintln!(
                    "  nothing was sent; fix the fields above (or pass --no-local-validation to ask Toll)"
                );
            }
        }
        TollError::Failed {
            origin,
            kind,
            errors,
            request_id,
        } => {
            eprintln!(
                "✗ {kind:?} failed validation by {origin}, {} error(s):",
                errors.len()
            );
            for err in errors {
                eprintln!(
                    "    {}: {}",
                    err.pointer.message_element_path, err.description
                );
            }
            match (origin, request_id) {
                (digitoll_client::Origin::Local, _) => eprintln!("  nothing was sent"),
                (_, Some(rid)) => eprintln!("  requestId {rid}"),
                _ => {}
            }
        }
        other => {
            eprintln!("error: {other}");
            if let Some(code) = other.mp_code() {
                eprintln!("  (Maskinporten {code}; see the hint above)");
            }
        }
    }
    Ok(ExitCode::from(code))
}

pub(crate) fn error_json(e: &TollError) -> Value {
    match e {
        TollError::Rejected { origin, errors, .. } => json!({
            "error": "rejected", "origin": origin.to_string(), "validationErrors": errors,
        }),
        TollError::Failed {
            origin,
            errors,
            request_id,
            ..
        } => json!({
            "error": "failed", "origin": origin.to_string(),
            "requestId": request_id.as_ref().map(ToString::to_string), "validationErrorList": errors,
        }),
        other => json!({
            "error": other.label(), "message": other.to_string(),
            "mpCode": other.mp_code().map(ToString::to_string),
            "requestId": other.pending_request_id().map(ToString::to_string),
        }),
    }
}

/// A transport with its masters and houses, as a tree.
pub(crate) fn print_tree(mrn: &Mrn, tree: &StatusWithDescendants) {
    outln!("{mrn}");
    let masters = &tree.master_consignments;
    let direct = &tree.house_consignments;
    let total = masters.len() + direct.len();
    for (i, m) in masters.iter().enumerate() {
        let last = i + 1 == total;
        let (branch, indent) = if last {
            ("└─", "   ")
        } else {
            ("├─", "│  ")
        };
        outln!(
            "{branch} master {} {} {}",
            m.doc_type,
            m.document_number,
            node_state(m.mrn.as_deref(), m.received)
        );
        for (j, h) in m.house_consignments.iter().enumerate() {
            let b = if j + 1 == m.house_consignments.len() {
                "└─"
            } else {
                "├─"
            };
            outln!(
                "{indent}{b} house {} {} {}",
                h.doc_type,
                h.document_number,
                node_state(h.mrn.as_deref(), h.received)
            );
        }
    }
    for (i, h) in direct.iter().enumerate() {
        let branch = if masters.len() + i + 1 == total {
            "└─"
        } else {
            "├─"
        };
        outln!(
            "{branch} house (direct) {} {} {}",
            h.doc_type,
            h.document_number,
            node_state(h.mrn.as_deref(), h.received)
        );
    }
    if total == 0 {
        outln!("   (no masters or houses linked yet)");
    }
}

fn node_state(mrn: Option<&str>, received: Option<bool>) -> String {
    match (mrn, received) {
        (_, Some(false)) => "(not received yet)".to_owned(),
        (Some(m), _) => format!("MRN {m}"),
        (None, _) => String::new(),
    }
}

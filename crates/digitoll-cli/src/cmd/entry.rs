//! At the border: `digitoll present`, `routing follow`, `arrival`, and
//! `documents upload`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use digitoll_client::{
    ArrivalClient, DocumentClient, FileCursorStore, FollowError, PresentationClient, RoutingClient,
    RoutingFeed, RoutingFollower, TransportMode, UploadFile,
};
use digitoll_model::ContractProfile;
use digitoll_model::documents::DocumentType;
use digitoll_model::entry::{ArrivalRequest, Presentation, PresentationKind};
use digitoll_model::routing::RoutingSignal;
use serde_json::json;

use crate::cli::{
    ArrivalCommand, DocumentsCommand, FeedArg, PresentArgs, PresentKindArg, RoutingCommand,
};
use crate::cmd::road::{parse_mrn, print_error, toll_tokens};
use crate::output::{self, outln};

fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| anyhow!("{}: at `{}`: {}", path.display(), e.path(), e.inner()))
}

pub(crate) async fn present(
    args: PresentArgs,
    profile: Arc<ContractProfile>,
) -> anyhow::Result<ExitCode> {
    let mut body: Presentation = read_json(&args.file)?;
    if let Some(id) = args.request_id {
        body.request_id = Some(id);
    }
    if body.request_id.is_none() {
        // Fix the id before the first send, so a retry of this command (or of
        // the client after a lost response) is recognised as the same presentation.
        let id = PresentationClient::new_request_id().to_string();
        eprintln!("requestId {id} (re-run with --request-id {id} to retry safely)");
        body.request_id = Some(id);
    }
    let kind = match args.kind {
        PresentKindArg::House => PresentationKind::HouseConsignment,
        PresentKindArg::Master => PresentationKind::MasterConsignment,
        PresentKindArg::Container => PresentationKind::Container,
        PresentKindArg::Receptacle => PresentationKind::Receptacle,
        PresentKindArg::Ens => PresentationKind::EntrySummaryDeclaration,
    };
    let (tokens, playground) = toll_tokens(&args.toll, &profile)?;
    let client = PresentationClient::builder(tokens)
        .playground_rules(playground)
        .build()
        .context("presentation client")?;
    match client.present_and_wait(kind, &body).await {
        Ok(outcome) => {
            if args.toll.json {
                output::json(&json!({
                    "requestId": outcome.request_id.to_string(),
                    "attempts": outcome.attempts,
                    "alreadyPresented": outcome.already_presented,
                    "validation": outcome.validation,
                }))?;
            } else if outcome.already_presented {
                outln!(
                    "✓ already presented earlier with requestId {}",
                    outcome.request_id
                );
            } else {
                outln!("✓ presented: requestId {}", outcome.request_id);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => print_error(&e, args.toll.json),
    }
}

pub(crate) async fn routing(
    cmd: RoutingCommand,
    profile: Arc<ContractProfile>,
) -> anyhow::Result<ExitCode> {
    let RoutingCommand::Follow {
        toll,
        feed,
        cursor,
        once,
        interval,
    } = cmd;
    let feed = match feed {
        FeedArg::House => RoutingFeed::HouseConsignment,
        FeedArg::Transport => RoutingFeed::Transport,
    };
    let (tokens, _) = toll_tokens(&toll, &profile)?;
    let client = RoutingClient::new(tokens).context("routing client")?;
    let store = Arc::new(FileCursorStore::new(&cursor));
    let mut follower = RoutingFollower::new(client, feed, store)
        .interval(Duration::from_secs(interval.max(1)))
        .stop_on_empty(once);
    let json = toll.json;
    // The cursor is saved only after a whole page is printed, so a crash
    // repeats at most the page being printed and never skips one.
    let result = follower
        .run(|page: Vec<RoutingSignal>| async move {
            for signal in &page {
                if json {
                    outln!(
                        "{}",
                        serde_json::to_string(signal).map_err(|e| e.to_string())?
                    );
                } else {
                    outln!("{}", describe(signal));
                }
            }
            Ok::<(), String>(())
        })
        .await;
    match result {
        Ok(summary) => {
            if !json {
                eprintln!(
                    "caught up: {} signal(s) in {} page(s); cursor saved in {}",
                    summary.signals,
                    summary.pages,
                    cursor.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(FollowError::Client(e)) => print_error(&e, json),
        Err(e) => Err(anyhow!("routing follower: {e}")),
    }
}

/// One line per signal: what, which goods, which vehicle.
fn describe(s: &RoutingSignal) -> String {
    let what = match &s.transport_document_house_level {
        Some(d) => format!(
            "house {} {}",
            d.doc_type.as_deref().unwrap_or("?"),
            d.reference_number.as_deref().unwrap_or("?")
        ),
        None => match (
            &s.entry_summary_declaration_mrn,
            &s.receptacle_id,
            &s.transport_mrn,
        ) {
            (Some(ens), _, _) => format!("ENS {ens}"),
            (_, Some(r), _) => format!("receptacle {r}"),
            (_, _, Some(t)) => format!("transport {t}"),
            _ => "goods".to_owned(),
        },
    };
    let vehicle = s
        .active_border_transport_means
        .as_ref()
        .and_then(|m| m.identification_number.clone())
        .map(|v| format!(" on {v}"))
        .unwrap_or_default();
    let location = s
        .routing_result
        .routing_control_location
        .as_ref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default();
    format!(
        "{} {what}{vehicle}: {}{location}",
        s.routing_result.id, s.routing_result.routing
    )
}

pub(crate) async fn arrival(
    cmd: ArrivalCommand,
    profile: Arc<ContractProfile>,
) -> anyhow::Result<ExitCode> {
    match cmd {
        ArrivalCommand::Submit { toll, file } => {
            let body: ArrivalRequest = read_json(&file)?;
            let (tokens, playground) = toll_tokens(&toll, &profile)?;
            let client = ArrivalClient::builder(tokens)
                .playground_rules(playground)
                .build()
                .context("arrival client")?;
            match client.submit_and_wait(&body).await {
                Ok(status) => {
                    if toll.json {
                        output::json(&status)?;
                    } else {
                        outln!("✓ arrival registered (requestId {})", status.request_id);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => print_error(&e, toll.json),
            }
        }
        ArrivalCommand::Entry { toll, mrn, mode } => {
            let mrn = parse_mrn(&mrn)?;
            let mode = TransportMode::from(mode);
            let (tokens, _) = toll_tokens(&toll, &profile)?;
            let client = ArrivalClient::new(tokens).context("arrival client")?;
            match client.entry_status(mode, &mrn).await {
                Ok(entry) => {
                    if toll.json {
                        output::json(&entry)?;
                    } else if entry.valid_entry {
                        outln!(
                            "{mrn}: entry granted at {}",
                            entry.customs_office_of_entry.as_deref().unwrap_or("?")
                        );
                    } else {
                        outln!(
                            "{mrn}: no valid entry (not arrived yet, or contact Toll before unloading)"
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => print_error(&e, toll.json),
            }
        }
    }
}

pub(crate) async fn documents(
    cmd: DocumentsCommand,
    profile: Arc<ContractProfile>,
) -> anyhow::Result<ExitCode> {
    let DocumentsCommand::Upload {
        toll,
        declaration_id,
        file,
        document_type,
    } = cmd;
    let document_type: DocumentType = document_type.parse().map_err(|e| anyhow!("--type: {e}"))?;
    let upload = match UploadFile::from_path(&file).await {
        Ok(u) => u,
        Err(e) => return print_error(&e, toll.json),
    };
    // Checks (declaration id, type by content, size) run before anything
    // else, so a wrong file is reported even without credentials.
    if let Err(e) = DocumentClient::check(&declaration_id, &upload) {
        return print_error(&e, toll.json);
    }
    let (tokens, _) = toll_tokens(&toll, &profile)?;
    let client = DocumentClient::new(tokens).context("document client")?;
    let bar = if toll.json {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(upload.len());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    };
    let progress_bar = bar.clone();
    let result = client
        .upload_with_progress(&declaration_id, document_type, upload, move |p| {
            progress_bar.set_position(p.sent);
        })
        .await;
    bar.finish_and_clear();
    match result {
        Ok(doc) => {
            if toll.json {
                output::json(&json!({
                    "declarationId": doc.declaration_id.to_string(),
                    "documentType": doc.document_type,
                    "fileName": doc.file_name,
                    "size": doc.size,
                    "status": doc.status,
                    "receipt": doc.receipt,
                }))?;
            } else {
                outln!(
                    "✓ {} ({} bytes) uploaded to declaration {} as {}",
                    doc.file_name,
                    doc.size,
                    doc.declaration_id,
                    doc.document_type
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => print_error(&e, toll.json),
    }
}

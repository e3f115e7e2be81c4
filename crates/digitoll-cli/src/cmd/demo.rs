//! `digitoll demo`: the whole chain on the built-in simulator, with no
//! credentials and no network.
//!
//! It is what a real integration does, step by step, against an in-process
//! simulator: sign a JWT grant with a registered key, get a Maskinporten
//! token, exchange it for a Toll token, submit a transport with a master and a
//! house consignment (example messages from `examples/road/`, dated now), wait
//! for their MRNs, show the linked tree, let the truck arrive at the border,
//! read the routing signal (to entry or to control) and the entry status.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use digitoll_client::{
    DocumentKind, MovementClient, PollConfig, RoutingClient, RoutingFeed, Submission,
    TollEnvironment, TollTokenProvider, TransportMode,
};
use digitoll_model::responses::ValidationStatus;
use digitoll_model::{Mrn, TollInstant};
use digitoll_sim::{DEMO_CLIENT_ID, DEMO_KID, DEMO_ORG_NAME, DEMO_ORG_NO, Simulator};
use maskinporten::{Environment, MaskinportenClient, RsaKey, RsaSigner, TokenRequest};
use serde_json::{Value, json};

use crate::cli::DemoArgs;
use crate::cmd::road::{kind_label, print_tree};
use crate::output::{self, outln};

const TRANSPORT: &str = include_str!("../../../../examples/road/valid-transport.json");
const MASTER: &str = include_str!("../../../../examples/road/valid-master.json");
const HOUSE: &str = include_str!("../../../../examples/road/valid-house-import-cude.json");
const ROAD_SCOPE: &str = "toll:movement/road/v2";
/// Svinesund, where the example truck crosses.
const BORDER_OFFICE: &str = "NO371001";

/// Progress lines in text mode; collected steps for `--json`.
struct Progress {
    json: bool,
    started: Instant,
    steps: Vec<Value>,
}

impl Progress {
    fn step(&mut self, name: &str, text: String, detail: Value) {
        let ms = self.started.elapsed().as_millis();
        if !self.json {
            outln!("[{:>6} ms] {text}", ms);
        }
        self.steps
            .push(json!({ "step": name, "elapsed_ms": ms, "detail": detail }));
    }
}

pub(crate) async fn run(
    args: &DemoArgs,
    profile: std::sync::Arc<digitoll_model::ContractProfile>,
) -> anyhow::Result<ExitCode> {
    let mut p = Progress {
        json: args.json,
        started: Instant::now(),
        steps: Vec::new(),
    };
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;

    // 1. The simulator: Maskinporten and Toll on one loopback port.
    let sim = Simulator::builder()
        .processing_delay(Duration::from_millis(args.processing_ms))
        .write_demo_credentials(dir.path())
        .profile((*profile).clone())
        .start()
        .await
        .context("cannot start the simulator")?;
    p.step(
        "simulator",
        format!(
            "simulator started at {} (Maskinporten and Toll)",
            sim.base_url()
        ),
        json!({ "base_url": sim.base_url().as_str(), "issuer": sim.issuer() }),
    );

    // 2. A Maskinporten client for the demo organisation's registered key.
    let key = RsaKey::from_pem_file(dir.path().join("demo-key.pem"), None)
        .context("demo key written by the simulator")?;
    let signer = Arc::new(RsaSigner::with_kid(key, DEMO_KID));
    let maskinporten = Arc::new(
        MaskinportenClient::builder(Environment::custom(sim.issuer()), DEMO_CLIENT_ID, signer)
            .build()
            .context("Maskinporten client")?,
    );
    let request = TokenRequest::for_scopes([ROAD_SCOPE]).context("token request")?;
    let entry_tokens_for = maskinporten.clone();
    let token = maskinporten
        .token(&request)
        .await
        .context("Maskinporten token")?;
    p.step(
        "maskinporten_token",
        format!(
            "JWT grant signed (kid {DEMO_KID}) for {DEMO_ORG_NAME} ({DEMO_ORG_NO}); Maskinporten token for {} valid {} s",
            token.scopes().join(" "),
            token.lifetime().as_secs()
        ),
        json!({ "client_id": DEMO_CLIENT_ID, "org_no": DEMO_ORG_NO, "scopes": token.scopes(), "expires_in": token.lifetime().as_secs() }),
    );

    // 3. The Toll token exchange, through the road client.
    let toll_env = TollEnvironment::custom(sim.base_url().as_str()).context("Toll base URL")?;
    // The simulator and the clients read the same profile.
    let tokens = TollTokenProvider::builder(maskinporten.clone(), toll_env.clone())
        .profile(profile.clone())
        .build();
    let entry_tokens = TollTokenProvider::builder(entry_tokens_for, toll_env)
        .profile(profile.clone())
        .build();
    let toll_token = tokens
        .token(&request)
        .await
        .context("Toll token exchange")?;
    p.step(
        "toll_token",
        format!(
            "Maskinporten token exchanged for a Toll token valid {} s",
            toll_token.lifetime().as_secs()
        ),
        json!({ "expires_in": toll_token.lifetime().as_secs() }),
    );
    let road = MovementClient::builder(TransportMode::Road, tokens)
        .playground_rules(true)
        .poll(PollConfig {
            first_delay: Duration::from_millis(args.processing_ms.max(50)),
            interval: Duration::from_millis(200),
            ..PollConfig::default()
        })
        .build()
        .context("road client")?;
    road.test_auth().await.context("test-auth")?;
    p.step(
        "test_auth",
        "test-auth OK on the road API".to_owned(),
        json!({}),
    );

    // 4. Submit all three (Toll's advice: send everything, then poll).
    let now = time::OffsetDateTime::now_utc();
    let documents = [
        (DocumentKind::Transport, dated(TRANSPORT, now)?),
        (DocumentKind::MasterConsignment, dated(MASTER, now)?),
        (DocumentKind::HouseConsignment, dated(HOUSE, now)?),
    ];
    let mut request_ids = Vec::new();
    for (kind, body) in &documents {
        let sub = road
            .submit_raw(*kind, body)
            .await
            .map_err(|e| anyhow!("{} submission: {e}", kind_label(*kind)))?;
        let Submission::Accepted { request_id, .. } = sub else {
            return Err(anyhow!(
                "{}: unexpected reconciliation on a healthy simulator",
                kind_label(*kind)
            ));
        };
        p.step(
            "submitted",
            format!("{} sent, requestId {request_id}", kind_label(*kind)),
            json!({ "kind": kind.path_segment(), "requestId": request_id.to_string() }),
        );
        request_ids.push((*kind, request_id));
    }

    // 5. Poll validation status until each has its MRN.
    let mut mrns: Vec<(DocumentKind, Mrn)> = Vec::new();
    for (kind, rid) in &request_ids {
        let status = road
            .wait_for_validation(*kind, rid)
            .await
            .map_err(|e| anyhow!("{} validation: {e}", kind_label(*kind)))?;
        let mrn = accepted_mrn(*kind, &status)?;
        p.step(
            "mrn",
            format!("{} accepted: MRN {mrn}{}", kind_label(*kind), incomplete_note(&status)),
            json!({ "kind": kind.path_segment(), "mrn": mrn.to_string(),
                    "incompleteDocumentationReasonList": status.incomplete_documentation_reason_list }),
        );
        mrns.push((*kind, mrn));
    }
    let transport_mrn = mrns[0].1.clone();

    // 6. The linked tree, as Toll sees it.
    let tree = road
        .transport_status_with_descendants(&transport_mrn)
        .await
        .context("status-with-descendants")?;
    p.step(
        "tree",
        "transport linked to its master and house (documents not sent yet are listed as not received):".to_owned(),
        serde_json::to_value(&tree)?,
    );
    if !args.json {
        print_tree(&transport_mrn, &tree);
    }

    // 7. The truck reaches the border: Toll presents the goods and routes
    // each house to entry or to control; the routing feed says which.
    sim.control()
        .simulate_arrival(transport_mrn.as_ref(), BORDER_OFFICE);
    let routing = RoutingClient::new(entry_tokens.clone()).context("routing client")?;
    let signals = routing
        .page(RoutingFeed::HouseConsignment, None)
        .await
        .context("routing feed")?;
    for signal in &signals {
        let house = signal
            .transport_document_house_level
            .as_ref()
            .and_then(|d| d.reference_number.clone())
            .unwrap_or_default();
        let location = signal
            .routing_result
            .routing_control_location
            .as_ref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        p.step(
            "routing",
            format!(
                "routing signal for house {house}: {}{location}",
                signal.routing_result.routing
            ),
            serde_json::to_value(signal)?,
        );
    }
    let entry = road
        .entry_status(&transport_mrn)
        .await
        .context("entry status")?;
    p.step(
        "entry",
        format!(
            "truck arrived at {BORDER_OFFICE} (Svinesund): entry {}",
            if entry.valid_entry {
                "granted"
            } else {
                "NOT granted"
            }
        ),
        serde_json::to_value(&entry)?,
    );
    sim.shutdown().await;

    if args.json {
        output::json(&json!({
            "ok": entry.valid_entry,
            "mrns": {
                "transport": mrns[0].1.to_string(),
                "master": mrns[1].1.to_string(),
                "house": mrns[2].1.to_string(),
            },
            "tree": tree,
            "routing": signals,
            "entry": entry,
            "steps": p.steps,
        }))?;
    } else {
        outln!(
            "Done: three MRNs, linked, routed, and entry granted. Run `digitoll sim` to try your own messages."
        );
    }
    Ok(if entry.valid_entry {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The example messages carry fixed dates; the demo dates them now, with the
/// truck due in two hours (estimated = scheduled, as Toll requires on a first POST).
fn dated(text: &str, now: time::OffsetDateTime) -> anyhow::Result<Value> {
    let mut v: Value = serde_json::from_str(text).context("embedded example message")?;
    let issued = TollInstant::from_offset_date_time(now).to_string();
    let arrival = TollInstant::from_offset_date_time(now + time::Duration::hours(2)).to_string();
    if let Some(obj) = v.as_object_mut() {
        for (key, value) in obj.iter_mut() {
            match key.as_str() {
                "documentIssueDate" => *value = Value::String(issued.clone()),
                "scheduledDateAndTimeOfArrival" | "estimatedDateAndTimeOfArrival" => {
                    *value = Value::String(arrival.clone());
                }
                _ => {}
            }
        }
    }
    Ok(v)
}

fn accepted_mrn(kind: DocumentKind, status: &ValidationStatus) -> anyhow::Result<Mrn> {
    if !status.validation_error_list.is_empty() {
        let errors: Vec<String> = status
            .validation_error_list
            .iter()
            .map(|e| format!("{}: {}", e.pointer.message_element_path, e.description))
            .collect();
        return Err(anyhow!(
            "{} failed validation: {}",
            kind_label(kind),
            errors.join("; ")
        ));
    }
    status
        .mrn
        .clone()
        .ok_or_else(|| anyhow!("{} result has no MRN", kind_label(kind)))
}

fn incomplete_note(status: &ValidationStatus) -> String {
    if status.incomplete_documentation_reason_list.is_empty() {
        String::new()
    } else {
        let reasons: Vec<String> = status
            .incomplete_documentation_reason_list
            .iter()
            .map(ToString::to_string)
            .collect();
        format!(" (INCOMPLETE: {})", reasons.join(", "))
    }
}

//! Air, rail, maritime, presentation, arrival, routing and document upload
//! against the in-process digitoll simulator (Maskinporten and Toll on one
//! server, the real `MaskinportenClient`): the clients and the simulator
//! implement the same contract.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use digitoll_client::{
    ArrivalClient, DocumentClient, Error, FileCursorStore, FollowError, LatestSignals,
    MovementClient, Origin, PollConfig, PresentationClient, PresentationConfirmation,
    RoutingClient, RoutingFeed, RoutingFollower, TollEnvironment, TollTokenProvider, TransportMode,
    UploadFile,
};
use digitoll_model::documents::DocumentType;
use digitoll_model::entry::{ArrivalRequest, Presentation, PresentationKind};
use digitoll_model::road::{DocumentRef, HouseConsignment, MasterConsignment, Transport};
use digitoll_model::routing::{Routing, RoutingSignal};
use digitoll_model::{Mrn, TollInstant};
use digitoll_sim::{Fault, RoutingChoice, RunningSimulator, Simulator};
use sha2::Digest;
use uuid::Uuid;

const AIR: &str = include_str!("../../../examples/air/valid-transport.json");
const RAIL: &str = include_str!("../../../examples/rail/valid-transport.json");
const MARITIME: &str = include_str!("../../../examples/maritime/valid-transport.json");
const AIR_NO_FLIGHT: &str =
    include_str!("../../../examples/air/invalid-transport-no-flight-number.json");
const AIR_ROAD_CODES: &str =
    include_str!("../../../examples/air/invalid-transport-road-codes.json");
const RAIL_SHIP_ID: &str =
    include_str!("../../../examples/rail/invalid-transport-ship-identification.json");
const MARITIME_INLAND: &str =
    include_str!("../../../examples/maritime/invalid-transport-inland-waterway.json");

const OFFICE: &str = "NO371001";

async fn sim() -> RunningSimulator {
    Simulator::builder()
        .demo_key(demo_key().clone())
        .processing_delay(Duration::from_millis(100))
        .start()
        .await
        .unwrap()
}

fn tokens(sim: &RunningSimulator) -> TollTokenProvider {
    TollTokenProvider::builder(mp_client(sim), TollEnvironment::Custom(sim.base_url()))
        .retry(fast_retry())
        .build()
}

fn poll() -> PollConfig {
    PollConfig {
        first_delay: Duration::from_millis(120),
        interval: Duration::from_millis(50),
        max_interval: Duration::from_millis(200),
        deadline: Duration::from_secs(5),
    }
}

fn movement(sim: &RunningSimulator, mode: TransportMode) -> MovementClient {
    MovementClient::builder(mode, tokens(sim))
        .retry(fast_retry())
        .playground_rules(true)
        .poll(poll())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn build<C: digitoll_client::BuildClient>(b: digitoll_client::ApiClientBuilder<C>) -> C {
    b.retry(fast_retry())
        .poll(poll())
        .playground_rules(true)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Road transport, master and house submitted and linked; the transport MRN.
async fn road_chain(sim: &RunningSimulator) -> Mrn {
    let road = movement(sim, TransportMode::Road);
    let t: Transport = json(VALID_TRANSPORT);
    let m: MasterConsignment = json(VALID_MASTER);
    let h: HouseConsignment = json(VALID_HOUSE);
    let t = road.submit_and_wait_transport(&t).await.unwrap();
    road.submit_and_wait_master(&m).await.unwrap();
    road.submit_and_wait_house(&h).await.unwrap();
    t.mrn
}

fn doc(number: &str, t: &str) -> DocumentRef {
    serde_json::from_value(serde_json::json!({"documentNumber": number, "type": t})).unwrap()
}

#[tokio::test]
async fn air_rail_maritime_transports_get_mrns_and_entry() {
    let sim = sim().await;
    for (mode, text) in [
        (TransportMode::Air, AIR),
        (TransportMode::Rail, RAIL),
        (TransportMode::Maritime, MARITIME),
    ] {
        let client = movement(&sim, mode);
        client.test_auth().await.unwrap();
        let t: Transport = json(text);
        let done = client.submit_and_wait_transport(&t).await.unwrap();
        let stored = sim.control().toll_message(done.mrn.as_str()).unwrap();
        assert_eq!(stored.mrn, done.mrn.as_str(), "{mode}");
        sim.control().simulate_arrival(done.mrn.as_str(), OFFICE);
        let entry = client.entry_status(&done.mrn).await.unwrap();
        assert!(entry.valid_entry, "{mode}");
        // Entry status for any mode from the arrival client too.
        let arrival = build(ArrivalClient::builder(tokens(&sim)));
        assert!(
            arrival
                .entry_status(mode, &done.mrn)
                .await
                .unwrap()
                .valid_entry
        );
    }
    let posts: Vec<String> = sim
        .control()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/transport"))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        posts,
        vec![
            "/api/movement/air/v1/transport",
            "/api/movement/rail/v1/transport",
            "/api/movement/maritime/v1/transport"
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn local_mode_validation_matches_the_simulators_answers() {
    let sim = sim().await;
    for (mode, text) in [
        (TransportMode::Air, AIR_NO_FLIGHT),
        (TransportMode::Air, AIR_ROAD_CODES),
        (TransportMode::Rail, RAIL_SHIP_ID),
        (TransportMode::Maritime, MARITIME_INLAND),
    ] {
        let t: Transport = json(text);
        let local = movement(&sim, mode)
            .submit_and_wait_transport(&t)
            .await
            .unwrap_err();
        let remote = MovementClient::builder(mode, tokens(&sim))
            .retry(fast_retry())
            .poll(poll())
            .validate_before_send(false)
            .build()
            .unwrap()
            .submit_and_wait_transport(&t)
            .await
            .unwrap_err();
        match (local, remote) {
            (
                Error::Rejected {
                    origin: Origin::Local,
                    errors: a,
                    ..
                },
                Error::Rejected {
                    origin: Origin::Toll,
                    errors: b,
                    ..
                },
            ) => assert_eq!(a, b, "{mode}"),
            (
                Error::Failed {
                    origin: Origin::Local,
                    errors: a,
                    ..
                },
                Error::Failed {
                    origin: Origin::Toll,
                    errors: b,
                    ..
                },
            ) => assert_eq!(a, b, "{mode}"),
            (a, b) => panic!("{mode}: local {a:?} vs simulator {b:?}"),
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn presentation_is_idempotent_by_request_id() {
    let sim = sim().await;
    let transport = road_chain(&sim).await;
    let presentation = build(PresentationClient::builder(tokens(&sim)));

    let body = Presentation::house(
        &PresentationClient::new_request_id().to_string(),
        OFFICE,
        doc("HWB-2026-0001", "N703"),
    )
    .with_transport_mrn(transport.as_str());
    let first = presentation
        .present_and_wait(PresentationKind::HouseConsignment, &body)
        .await
        .unwrap();
    assert!(!first.already_presented);
    assert_eq!(
        first.request_id.to_string(),
        body.request_id.clone().unwrap()
    );

    // The same body again (e.g. after a crash): Toll refuses the id, the
    // client confirms the earlier presentation by its validation status.
    let again = presentation.present_house(&body).await.unwrap();
    match again.confirmation {
        PresentationConfirmation::AlreadyPresented(st) => {
            assert_eq!(st.request_id, first.request_id)
        }
        other => panic!("{other:?}"),
    }
    let api: Vec<_> = sim
        .control()
        .presentations()
        .into_iter()
        .filter(|p| p.request_id == first.request_id.to_string())
        .collect();
    assert_eq!(api.len(), 1, "one presentation");
    assert_eq!(api[0].identifier.as_deref(), Some("HWB-2026-0001"));

    // The master, and an unknown document.
    let master = Presentation::master(
        &PresentationClient::new_request_id().to_string(),
        OFFICE,
        doc("CMR-2026-120001", "N730"),
    );
    presentation
        .present_and_wait(PresentationKind::MasterConsignment, &master)
        .await
        .unwrap();
    let unknown = Presentation::house(
        &PresentationClient::new_request_id().to_string(),
        OFFICE,
        doc("HWB-NOPE-9", "N703"),
    );
    match presentation
        .present_and_wait(PresentationKind::HouseConsignment, &unknown)
        .await
        .unwrap_err()
    {
        Error::RequestFailed { errors, .. } => {
            assert!(
                errors.iter().any(|e| e.description == "Document not found"),
                "{errors:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // ENS presentation with a playground fixture MRN.
    let ens = Presentation::entry_summary_declaration(
        &PresentationClient::new_request_id().to_string(),
        OFFICE,
        "23NO00000000000001",
    );
    presentation
        .present(PresentationKind::EntrySummaryDeclaration, &ens)
        .await
        .unwrap();
    sim.shutdown().await;
}

#[tokio::test]
async fn arrival_gives_entry_and_routing_signals() {
    let sim = sim().await;
    let transport = road_chain(&sim).await;
    let t = tokens(&sim);
    let arrival = build(ArrivalClient::builder(t.clone()));
    let routing = build(RoutingClient::builder(t.clone()));

    assert!(
        routing
            .page(RoutingFeed::HouseConsignment, None)
            .await
            .unwrap()
            .is_empty(),
        "no signals before the crossing"
    );
    let body = ArrivalRequest {
        transport_mrn: Some(transport.to_string()),
        time_of_arrival: Some(TollInstant::from_offset_date_time(
            time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .unwrap(),
        )),
        customs_office_of_arrival: Some(OFFICE.into()),
    };
    arrival.submit_and_wait(&body).await.unwrap();
    let entry = arrival
        .wait_for_entry(TransportMode::Road, &transport)
        .await
        .unwrap();
    assert!(entry.valid_entry);

    let houses = routing
        .page(RoutingFeed::HouseConsignment, None)
        .await
        .unwrap();
    assert_eq!(houses.len(), 1, "{houses:?}");
    let h = &houses[0];
    assert_eq!(
        h.transport_document_house_level
            .as_ref()
            .unwrap()
            .reference_number
            .as_deref(),
        Some("HWB-2026-0001")
    );
    // Document number ends in an odd digit: TO_CONTROL (the simulator's rule).
    assert_eq!(h.routing_result.routing, Routing::ToControl);
    let after = routing
        .page(RoutingFeed::HouseConsignment, Some(h.routing_result.id))
        .await
        .unwrap();
    assert!(after.is_empty(), "caught up");
    let transports = routing.page(RoutingFeed::Transport, None).await.unwrap();
    assert_eq!(transports.len(), 1);
    assert_eq!(
        transports[0].transport_mrn.as_deref(),
        Some(transport.as_str())
    );

    // An unknown transport: FAILURE.
    let unknown = ArrivalRequest {
        transport_mrn: Some("26NOUNKNOWN0000001".into()),
        ..body
    };
    assert!(matches!(
        arrival.submit_and_wait(&unknown).await.unwrap_err(),
        Error::RequestFailed { .. }
    ));
    // An unknown marker.
    assert!(matches!(
        routing
            .page(RoutingFeed::HouseConsignment, Some(Uuid::new_v4()))
            .await
            .unwrap_err(),
        Error::RequestRejected {
            origin: Origin::Toll,
            ..
        }
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn routing_follower_restarts_from_its_file_without_losing_signals() {
    let sim = sim().await;
    let transport = road_chain(&sim).await;
    let ctl = sim.control();
    ctl.simulate_arrival(transport.as_str(), OFFICE);
    // More signals for the same house: the last one wins.
    for r in [
        Routing::EntryPending,
        Routing::ToEntry,
        Routing::ToControl,
        Routing::ToEntry,
    ] {
        ctl.send_routing_signal("HWB-2026-0001", RoutingChoice::new(r))
            .unwrap();
    }
    let expected: Vec<Uuid> = ctl
        .routing_signals()
        .into_iter()
        .filter(|s| s.feed == digitoll_sim::RoutingFeed::HouseConsignment)
        .map(|s| s.signal.routing_result.id)
        .collect();
    assert_eq!(expected.len(), 5);

    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("routing.json");
    let rows: Arc<Mutex<HashMap<Uuid, RoutingSignal>>> = Arc::default();
    let follower = |sim: &RunningSimulator| {
        RoutingFollower::new(
            build(RoutingClient::builder(tokens(sim))),
            RoutingFeed::HouseConsignment,
            Arc::new(FileCursorStore::new(&cursor)),
        )
        .stop_on_empty(true)
    };

    // Run 1: the handler stores 3 signals, then fails.
    let err = follower(&sim)
        .run(|page| {
            let rows = rows.clone();
            async move {
                for (i, s) in page.into_iter().enumerate() {
                    if i == 3 {
                        return Err("disk full");
                    }
                    rows.lock().unwrap().insert(s.routing_result.id, s);
                }
                Ok(())
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        FollowError::Handler {
            signals: 5,
            marker: None,
            ..
        }
    ));
    assert!(!cursor.exists(), "nothing committed");

    // Run 2 (a new process): everything, the idempotent upsert absorbs the repeats.
    let summary = follower(&sim)
        .run(|page| {
            let rows = rows.clone();
            async move {
                for s in page {
                    rows.lock().unwrap().insert(s.routing_result.id, s);
                }
                Ok::<(), &str>(())
            }
        })
        .await
        .unwrap();
    assert_eq!(summary.signals, 5);
    let mut got: Vec<Uuid> = rows.lock().unwrap().keys().copied().collect();
    let mut want = expected.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "the final set is exactly the feed");

    // A new signal later: run 3 delivers only it, from the saved marker.
    let newest = ctl
        .send_routing_signal("HWB-2026-0001", RoutingChoice::new(Routing::EntryDenied))
        .unwrap();
    let seen: Arc<Mutex<Vec<RoutingSignal>>> = Arc::default();
    let sink = seen.clone();
    let summary = follower(&sim)
        .run(move |page| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().extend(page);
                Ok::<(), &str>(())
            }
        })
        .await
        .unwrap();
    assert_eq!(summary.signals, 1);
    assert_eq!(seen.lock().unwrap()[0].routing_result.id, newest);

    // The last signal wins per document.
    let mut view = LatestSignals::new();
    let mut all: Vec<RoutingSignal> = build(RoutingClient::builder(tokens(&sim)))
        .page(RoutingFeed::HouseConsignment, None)
        .await
        .unwrap();
    view.apply_all(all.drain(..));
    assert_eq!(view.len(), 1);
    assert_eq!(
        view.for_house("HWB-2026-0001", "N703")
            .unwrap()
            .routing_result
            .routing,
        Routing::EntryDenied
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn every_document_type_uploads_to_the_simulator() {
    let sim = sim().await;
    let docs = build(DocumentClient::builder(tokens(&sim)));
    let decl = "123456789-10082022-1";
    for (ext, t) in SAMPLE_EXTENSIONS.iter().zip(DocumentType::ALL) {
        let bytes = sample_file(ext);
        let done = docs
            .upload(
                decl,
                t,
                UploadFile::from_bytes(format!("doc.{ext}"), bytes.clone()),
            )
            .await
            .unwrap();
        assert_eq!(done.status, 201);
        let receipt = done.receipt.expect("the simulator's receipt");
        assert_eq!(receipt.declaration_id, decl);
        assert_eq!(receipt.document_type, t.as_str());
        assert_eq!(receipt.size, bytes.len() as u64);
    }
    let stored = sim.control().uploaded_documents();
    assert_eq!(stored.len(), 6);
    for (d, ext) in stored.iter().zip(SAMPLE_EXTENSIONS) {
        assert_eq!(d.file_kind.extension(), ext);
        assert_eq!(d.file_name, format!("doc.{ext}"));
        let hash = hex::encode(sha2::Sha256::digest(sample_file(ext)));
        assert_eq!(d.sha256, hash, "{ext}: the bytes arrived intact");
        assert_eq!(d.org, digitoll_sim::DEMO_ORG_NO);
    }
    // A 10 MB file (the limit) passes the simulator too.
    let big = vec![b'x'; digitoll_model::documents::MAX_DOCUMENT_BYTES];
    let done = docs
        .upload(
            decl,
            DocumentType::Invoice,
            UploadFile::from_bytes("big.txt", big),
        )
        .await
        .unwrap();
    assert_eq!(done.size, 10 * 1024 * 1024);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_presentation_whose_response_is_dropped_is_resent_with_the_same_id() {
    let sim = sim().await;
    road_chain(&sim).await;
    let ctl = sim.control();
    let path = "/api/movement/presentation/v1/house-consignment";
    // The simulator processes the POST, then drops the connection.
    ctl.add_fault(Fault::drop_response(path).method("POST").times(1));
    let presentation = build(PresentationClient::builder(tokens(&sim)));
    let mut body = Presentation::house("", OFFICE, doc("HWB-2026-0001", "N703"));
    body.request_id = None;
    let outcome = presentation
        .present_and_wait(PresentationKind::HouseConsignment, &body)
        .await
        .unwrap();
    assert_eq!(outcome.attempts, 2);
    assert!(
        outcome.already_presented,
        "the re-send met 'requestId already used'"
    );
    let posts: Vec<_> = ctl
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .collect();
    assert_eq!(posts.len(), 2);
    let api: Vec<_> = ctl
        .presentations()
        .into_iter()
        .filter(|p| p.source == digitoll_sim::PresentationSource::Api)
        .collect();
    assert_eq!(api.len(), 1, "one presentation despite two POSTs");
    assert_eq!(api[0].request_id, outcome.request_id.to_string());

    // An upload whose response is dropped is not re-sent: one document stored.
    let upload = "/api/goodsdeclaration/document/v2/declaration-id/123456789-10082022-2/document";
    ctl.add_fault(Fault::drop_response(upload).method("POST").times(1));
    let docs = build(DocumentClient::builder(tokens(&sim)));
    let err = docs
        .upload(
            "123456789-10082022-2",
            DocumentType::Invoice,
            UploadFile::from_bytes("f.pdf", sample_file("pdf")),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    assert_eq!(ctl.uploaded_documents().len(), 1);
    sim.shutdown().await;
}

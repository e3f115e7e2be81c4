//! The whole chain against the in-process digitoll simulator (Maskinporten and
//! Toll on one server): Maskinporten token → Toll token → transport, master
//! and house submitted → MRNs → linked tree → entry status; and lost
//! responses to POSTs that must not create a second message.

mod common;

use std::time::Duration;

use common::*;
use digitoll_client::{
    Confirmation, DocumentKey, DocumentKind, Error, MovementClient, Origin, PollConfig,
    ReconcileConfig, Submission, TollEnvironment, TollTokenProvider, TransportMode,
};
use digitoll_model::road::{HouseConsignment, MasterConsignment, Transport};
use digitoll_model::{MessageKind, Mrn};
use digitoll_sim::{Fault, RunningSimulator, Simulator, TollMessageKind};

async fn sim() -> RunningSimulator {
    Simulator::builder()
        .demo_key(demo_key().clone())
        .processing_delay(Duration::from_millis(100))
        .start()
        .await
        .unwrap()
}

fn client(sim: &RunningSimulator) -> MovementClient {
    let tokens =
        TollTokenProvider::builder(mp_client(sim), TollEnvironment::Custom(sim.base_url()))
            .retry(fast_retry())
            .build();
    MovementClient::builder(TransportMode::Road, tokens)
        .retry(fast_retry())
        .playground_rules(true)
        .poll(PollConfig {
            first_delay: Duration::from_millis(120),
            interval: Duration::from_millis(50),
            max_interval: Duration::from_millis(200),
            deadline: Duration::from_secs(5),
        })
        .reconcile(ReconcileConfig {
            lookups: 2,
            delay: Duration::from_millis(150),
        })
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn masters_with(sim: &RunningSimulator, number: &str) -> usize {
    sim.control()
        .toll_messages()
        .into_iter()
        .filter(|m| {
            m.kind == TollMessageKind::MasterConsignment
                && m.document_number.as_deref() == Some(number)
        })
        .count()
}

fn houses_with(sim: &RunningSimulator, number: &str) -> usize {
    sim.control()
        .toll_messages()
        .into_iter()
        .filter(|m| {
            m.kind == TollMessageKind::HouseConsignment
                && m.document_number.as_deref() == Some(number)
        })
        .count()
}

fn posts_to(sim: &RunningSimulator, path: &str) -> usize {
    sim.control()
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count()
}

#[tokio::test]
async fn full_chain_transport_master_house_tree_and_entry() {
    let sim = sim().await;
    let road = client(&sim);
    road.test_auth().await.unwrap();

    let transport: Transport = json(VALID_TRANSPORT);
    let master: MasterConsignment = json(VALID_MASTER);
    let house: HouseConsignment = json(VALID_HOUSE);

    let t = road.submit_and_wait_transport(&transport).await.unwrap();
    let m = road.submit_and_wait_master(&master).await.unwrap();
    let h = road.submit_and_wait_house(&house).await.unwrap();
    for done in [&t, &m, &h] {
        assert_eq!(done.confirmation, Confirmation::Validated);
        assert!(done.request_id.is_some());
    }
    assert_ne!(t.mrn, m.mrn);
    assert_ne!(m.mrn, h.mrn);

    // The transport's tree shows the master (received) and its house.
    let tree = road
        .transport_status_with_descendants(&t.mrn)
        .await
        .unwrap();
    let cmr = tree
        .master_consignments
        .iter()
        .find(|mc| mc.document_number == "CMR-2026-120001")
        .expect("the master is linked to the transport");
    assert_eq!(cmr.received, Some(true));
    assert!(
        cmr.house_consignments
            .iter()
            .any(|hc| hc.document_number == "HWB-2026-0001"),
        "{tree:?}"
    );
    let masters = road.transport_master_documents(&t.mrn).await.unwrap();
    assert!(
        masters
            .iter()
            .any(|d| d.document_number == "CMR-2026-120001" && d.received == Some(true))
    );
    let sub = road.master_status_with_descendants(&m.mrn).await.unwrap();
    assert!(!sub.master_consignments.is_empty());
    let under_master = road.master_documents(&m.mrn).await.unwrap();
    assert!(
        under_master
            .iter()
            .any(|d| d.document_number == "HWB-2026-0001")
    );
    let hs = road.house_document_status(&h.mrn).await.unwrap();
    assert_eq!(hs.document_number, "HWB-2026-0001");

    // Lookups by key find the MRNs.
    let found = road
        .lookup_master(&DocumentKey {
            document_number: "CMR-2026-120001".into(),
            doc_type: "N730".into(),
            carrier_id: "912345688".into(),
        })
        .await
        .unwrap();
    assert_eq!(found.mrn.as_ref(), Some(&m.mrn));
    let found = road
        .lookup_house(&DocumentKey {
            document_number: "HWB-2026-0001".into(),
            doc_type: "N703".into(),
            carrier_id: "912345688".into(),
        })
        .await
        .unwrap();
    assert_eq!(found.mrn.as_ref(), Some(&h.mrn));

    // Entry: not yet, then after the simulated arrival at Svinesund.
    assert!(!road.entry_status(&t.mrn).await.unwrap().valid_entry);
    sim.control().simulate_arrival(t.mrn.as_str(), "NO371001");
    let entry = road.entry_status(&t.mrn).await.unwrap();
    assert!(entry.valid_entry);
    assert_eq!(entry.customs_office_of_entry.as_deref(), Some("NO371001"));
    assert_eq!(entry.mrn.as_deref(), Some(t.mrn.as_str()));

    // An unknown MRN is a typed 404.
    let unknown = Mrn::parse("26NO00000000000000").unwrap();
    assert!(matches!(
        road.entry_status(&unknown).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn toll_answers_the_same_as_local_validation() {
    let sim = sim().await;
    let tokens = TollTokenProvider::new(mp_client(&sim), TollEnvironment::Custom(sim.base_url()));
    let unchecked = MovementClient::builder(TransportMode::Road, tokens)
        .validate_before_send(false)
        .poll(PollConfig {
            first_delay: Duration::from_millis(120),
            ..PollConfig::default()
        })
        .build()
        .unwrap();
    let local = client(&sim);

    let bad: Transport = json(INVALID_TRANSPORT_SYNC);
    let from_toll = unchecked.submit_transport(&bad).await.unwrap_err();
    let from_local = local.submit_transport(&bad).await.unwrap_err();
    match (&from_toll, &from_local) {
        (
            Error::Rejected {
                origin: Origin::Toll,
                errors: a,
                ..
            },
            Error::Rejected {
                origin: Origin::Local,
                errors: b,
                ..
            },
        ) => assert_eq!(a, b),
        other => panic!("expected two Rejected, got {other:?}"),
    }

    let failing: Transport = json(INVALID_TRANSPORT_BUSINESS);
    let from_toll = unchecked
        .submit_and_wait_transport(&failing)
        .await
        .unwrap_err();
    let from_local = local.submit_and_wait_transport(&failing).await.unwrap_err();
    match (&from_toll, &from_local) {
        (
            Error::Failed {
                origin: Origin::Toll,
                errors: a,
                request_id: Some(_),
                kind: MessageKind::Transport,
            },
            Error::Failed {
                origin: Origin::Local,
                errors: b,
                request_id: None,
                ..
            },
        ) => assert_eq!(a, b),
        other => panic!("expected two Failed, got {other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn lost_post_response_creates_no_second_message() {
    let sim = sim().await;
    let road = client(&sim);
    let ctl = sim.control();

    // Master: the sim processes the POST, then drops the connection.
    let path = "/api/movement/road/v2/master-consignment";
    ctl.add_fault(Fault::drop_response(path).method("POST").times(1));
    let master: MasterConsignment = json(VALID_MASTER);
    let done = road.submit_and_wait_master(&master).await.unwrap();
    assert_eq!(done.confirmation, Confirmation::Reconciled);
    assert_eq!(posts_to(&sim, path), 1, "never re-posted");
    assert_eq!(masters_with(&sim, "CMR-2026-120001"), 1);
    let stored = ctl
        .toll_message(done.mrn.as_str())
        .expect("the MRN is the stored one");
    assert_eq!(stored.document_number.as_deref(), Some("CMR-2026-120001"));

    // House: the same.
    let path = "/api/movement/road/v2/house-consignment";
    ctl.add_fault(Fault::drop_response(path).method("POST").times(1));
    let house: HouseConsignment = json(VALID_HOUSE);
    let sub = road.submit_house(&house).await.unwrap();
    let Submission::Reconciled(found) = sub else {
        panic!("expected Reconciled, got {sub:?}");
    };
    assert!(found.mrn.is_some());
    assert_eq!(posts_to(&sim, path), 1);
    assert_eq!(houses_with(&sim, "HWB-2026-0001"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn dropped_connection_is_resent_once_after_a_404_lookup() {
    let sim = sim().await;
    let road = client(&sim);
    let path = "/api/movement/road/v2/master-consignment";
    // Not handled: the message never arrives.
    sim.control()
        .add_fault(Fault::drop_connection(path).method("POST").times(1));
    let master: MasterConsignment = json(VALID_MASTER);
    let sub = road.submit_master(&master).await.unwrap();
    let Submission::Accepted { request_id, resent } = sub else {
        panic!("expected Accepted, got {sub:?}");
    };
    assert!(resent);
    assert_eq!(posts_to(&sim, path), 2);
    let done = road
        .wait_for_validation(DocumentKind::MasterConsignment, &request_id)
        .await
        .unwrap();
    assert!(done.mrn.is_some());
    assert_eq!(masters_with(&sim, "CMR-2026-120001"), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn lost_transport_response_is_ambiguous_with_one_message() {
    let sim = sim().await;
    let road = client(&sim);
    let path = "/api/movement/road/v2/transport";
    sim.control()
        .add_fault(Fault::drop_response(path).method("POST").times(1));
    let transport: Transport = json(VALID_TRANSPORT);
    let err = road.submit_transport(&transport).await.unwrap_err();
    let Error::Ambiguous(ctx) = &err else {
        panic!("expected Ambiguous, got {err:?}");
    };
    assert_eq!(ctx.transport_means.as_deref(), Some("ABC123"));
    assert_eq!(posts_to(&sim, path), 1);
    // The sim handled the lost request; let its processing delay pass.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let transports = sim
        .control()
        .toll_messages()
        .into_iter()
        .filter(|m| m.kind == TollMessageKind::Transport)
        .count();
    assert_eq!(
        transports, 1,
        "one message, and the client did not send a second one"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn gets_survive_sim_outages() {
    let sim = sim().await;
    let road = client(&sim);
    road.test_auth().await.unwrap();
    sim.control().add_fault(
        Fault::outage("/api/movement/road/status/v2/entry")
            .method("GET")
            .times(2),
    );
    let transport: Transport = json(VALID_TRANSPORT);
    let t = road.submit_and_wait_transport(&transport).await.unwrap();
    let entry = road.entry_status(&t.mrn).await.unwrap();
    assert!(!entry.valid_entry);
    let gets = sim
        .control()
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/movement/road/status/v2/entry"))
        .count();
    assert_eq!(gets, 3);
    sim.shutdown().await;
}

//! Presentation, routing feeds, arrival and the simulated border crossing.

use crate::support;

use std::time::Duration;

use digitoll_model::routing::latest_per_document;
use digitoll_model::{Routing, RoutingControlLocation, RoutingSignal, TransportMode};
use digitoll_sim::{PresentationSource, RoutingChoice, RoutingFeed, Simulator, TollMessageKind};
use serde_json::{Value, json};
use support::toll::*;
use support::{ORG, OTHER_ORG};

const PRESENT: &str = "api/movement/presentation/v1";
const ROUTING: &str = "api/movement/routing/v1";
const ARRIVAL: &str = "api/movement/arrival/v1";

fn edit(body: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(body).unwrap();
    f(&mut v);
    v.to_string()
}

/// Submits the linked road examples as `api`; returns the transport MRN.
async fn road_chain(api: &Api<'_>) -> String {
    let transport = api.create("transport", &example("valid-transport")).await;
    for name in ["valid-master", "valid-master-postal"] {
        api.create("master-consignment", &example(name)).await;
    }
    for name in [
        "valid-house-import-cude",
        "valid-house-transit-n820",
        "valid-house-voec",
        "valid-house-postal-receptacle",
        "valid-house-direct-consignment",
    ] {
        api.create("house-consignment", &example(name)).await;
    }
    transport
}

async fn page(api: &Api<'_>, feed: &str, marker: Option<&str>) -> (u16, Value) {
    let path = match marker {
        Some(m) => format!("{ROUTING}/{feed}?marker={m}"),
        None => format!("{ROUTING}/{feed}"),
    };
    api.get(&path).await
}

fn signals(v: &Value) -> Vec<RoutingSignal> {
    serde_json::from_value(v.clone()).expect("routing signals")
}

fn house_presentation(id: &str, doc: &str, doc_type: &str) -> String {
    json!({
        "requestId": id,
        "customsOfficeOfPresentation": "NO371001",
        "consignmentHouseLevel": {"transportDocumentHouseLevel": {"documentNumber": doc, "type": doc_type}}
    })
    .to_string()
}

#[tokio::test]
async fn presentation_is_idempotent_by_client_request_id() {
    let s = start_all_apis().await;
    let a = api_all(&s, ALL_A).await;
    let b = api_all(&s, ALL_B).await;
    a.create("house-consignment", &example("valid-house-import-cude"))
        .await;
    let id = "6f1d3f0e-8b7a-4c53-9d2e-0c1b2a3d4e5f";
    let body = house_presentation(id, "HWB-2026-0001", "N703");
    let (status, echo) = b
        .post_to(&format!("{PRESENT}/house-consignment"), &body)
        .await;
    assert_eq!(status, 202, "{echo}");
    assert_eq!(echo, json!({"requestId": id}));
    // The same requestId again (the client lost the answer): 400.
    let (status, again) = b
        .post_to(&format!("{PRESENT}/house-consignment"), &body)
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        again,
        json!({"validationErrors": [{"field": "requestId", "error": "requestId already used"}]})
    );
    let (status, result) = b.get(&format!("{PRESENT}/validation-status/{id}")).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "SUCCESS");
    assert_eq!(result["requestId"], id);
    assert!(result.get("mrn").is_none());
    // Another organisation does not see B's request.
    let (status, _) = a.get(&format!("{PRESENT}/validation-status/{id}")).await;
    assert_eq!(status, 404);
    let listed = s.ctl.presentations();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].org, OTHER_ORG);
    assert_eq!(listed[0].source, PresentationSource::Api);
    assert_eq!(listed[0].matched_mrns.len(), 1);
}

#[tokio::test]
async fn presentation_results_per_kind() {
    let s = start_all_apis().await;
    let a = api_all(&s, ALL_A).await;
    road_chain(&a).await;
    let status_of = |id: &str| format!("{PRESENT}/validation-status/{id}");
    let cases = [
        ("house-consignment", house_presentation(&uuid(1), "HWB-2026-0002", "N703"), "SUCCESS"),
        ("house-consignment", house_presentation(&uuid(2), "HWB-NOPE", "N703"), "FAILURE"),
        (
            "master-consignment",
            json!({"requestId": uuid(3), "customsOfficeOfPresentation": "NO371001",
                   "consignmentMasterLevel": {"transportDocumentMasterLevel": {"documentNumber": "CMR-2026-120001", "type": "N730"}}}).to_string(),
            "SUCCESS",
        ),
        (
            "entry-summary-declaration",
            json!({"requestId": uuid(4), "customsOfficeOfPresentation": "NO351001", "mrn": "23NO00000000000003"}).to_string(),
            "SUCCESS",
        ),
        (
            "entry-summary-declaration",
            json!({"requestId": uuid(5), "customsOfficeOfPresentation": "NO351001", "mrn": "23NO00000000000009"}).to_string(),
            "FAILURE",
        ),
        (
            "container",
            json!({"requestId": uuid(6), "customsOfficeOfPresentation": "NO364002", "containerIdentificationNumber": "NOPE1234567"}).to_string(),
            "FAILURE",
        ),
        (
            "receptacle",
            json!({"requestId": uuid(7), "customsOfficeOfPresentation": "NO351001", "receptacleIdentificationNumber": "NOPE"}).to_string(),
            "FAILURE",
        ),
        (
            "house-consignment",
            edit(&house_presentation(&uuid(8), "HWB-2026-0002", "N703"), |v| {
                v["transportMRN"] = json!("26NOZZZZZZZZZZZZZZ");
            }),
            "FAILURE",
        ),
        (
            "container",
            json!({"requestId": uuid(9), "customsOfficeOfPresentation": "NO999999", "containerIdentificationNumber": "X"}).to_string(),
            "FAILURE",
        ),
    ];
    for (kind, body, expected) in cases {
        let id = serde_json::from_str::<Value>(&body).unwrap()["requestId"]
            .as_str()
            .unwrap()
            .to_owned();
        let result = a
            .submit_at(
                &format!("{PRESENT}/{kind}"),
                &format!("{PRESENT}/validation-status"),
                &body,
            )
            .await;
        assert_eq!(result["status"], expected, "{kind} {body}: {result}");
        if expected == "FAILURE" {
            let e = &result["validationErrorList"][0];
            assert!(
                e["description"] == "Document not found"
                    || e["description"] == "Must be a valid customs office",
                "{result}"
            );
        }
        // A ready FAILURE answers 202, as Toll documents
        // (asynkrone-valideringsfeil-EN.html); SUCCESS 200.
        let (status, _) = a.get(&status_of(&id)).await;
        assert_eq!(status, if expected == "FAILURE" { 202 } else { 200 });
    }
    // Sync errors: 400 and nothing stored.
    let (status, body) = a
        .post_to(
            &format!("{PRESENT}/container"),
            r#"{"requestId":"nope","customsOfficeOfPresentation":"NO364002","containerIdentificationNumber":"C"}"#,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["validationErrors"][0]["field"], "requestId");
    // Unknown request and missing scope.
    let (status, _) = a.get(&status_of(&uuid(99))).await;
    assert_eq!(status, 404);
    let road_only = api(&s, ROAD_A).await;
    let (status, _) = road_only
        .post_to(&format!("{PRESENT}/container"), "{}")
        .await;
    assert_eq!(status, 403);
}

fn uuid(n: u128) -> String {
    uuid::Uuid::from_u128(n).hyphenated().to_string()
}

#[tokio::test]
async fn presentation_waits_for_processing_on_the_sim_clock() {
    let s = start_all_apis().await;
    s.ctl.set_processing_delay(Duration::from_secs(2));
    let a = api_all(&s, ALL_A).await;
    let id = uuid(42);
    let body = json!({"requestId": id, "customsOfficeOfPresentation": "NO351001", "mrn": "23NO00000000000001"});
    let (status, _) = a
        .post_to(
            &format!("{PRESENT}/entry-summary-declaration"),
            &body.to_string(),
        )
        .await;
    assert_eq!(status, 202);
    let (status, _) = a.get(&format!("{PRESENT}/validation-status/{id}")).await;
    assert_eq!(status, 404);
    s.ctl.advance_clock(time::Duration::seconds(3));
    let (status, result) = a.get(&format!("{PRESENT}/validation-status/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(result["status"], "SUCCESS");
}

#[tokio::test]
async fn border_crossing_presents_routes_and_grants_entry() {
    let s = start_all_apis().await;
    let a = api_all(&s, ALL_A).await;
    let rep = api_all(&s, ALL_REP).await;
    let b = api_all(&s, ALL_B).await;
    let transport = road_chain(&a).await;
    // Empty feeds before anything happened.
    for feed in ["house-consignment", "transport"] {
        let (status, body) = page(&a, feed, None).await;
        assert_eq!((status, body), (200, json!([])));
    }
    s.ctl.set_routing(
        "HWB-2026-0002",
        RoutingChoice {
            routing: Routing::ToControl,
            routing_control_location: Some(RoutingControlLocation::AfterEntry),
        },
    );
    let crossing = s.ctl.simulate_arrival(&transport, "NO371001");
    assert_eq!(crossing.house_signals.len(), 5, "{crossing:?}");
    // Toll presented both masters and all five houses.
    let presented = s.ctl.presentations();
    assert_eq!(presented.len(), 7);
    assert!(
        presented
            .iter()
            .all(|p| p.source == PresentationSource::Simulated)
    );
    // Entry.
    let (_, entry) = a.get(&format!("{QUERY}/entry/status/{transport}")).await;
    assert_eq!(entry["validEntry"], true);
    // House feed: one signal per house, deterministic routing, the override.
    let (status, body) = page(&a, "house-consignment", None).await;
    assert_eq!(status, 200);
    let list = signals(&body);
    assert_eq!(list.len(), 5);
    for sgl in &list {
        let doc = sgl
            .transport_document_house_level
            .as_ref()
            .and_then(|d| d.reference_number.clone())
            .unwrap();
        let expected = match doc.as_str() {
            "HWB-2026-0002" => Routing::ToControl,
            d if d.ends_with(['1', '3', '5', '7', '9']) => Routing::ToControl,
            _ => Routing::ToEntry,
        };
        assert_eq!(sgl.routing_result.routing, expected, "{doc}");
        if doc == "HWB-2026-0002" {
            assert_eq!(
                sgl.routing_result.routing_control_location,
                Some(RoutingControlLocation::AfterEntry)
            );
        }
        assert_eq!(sgl.transport_mrn.as_deref(), Some(transport.as_str()));
        let means = sgl.active_border_transport_means.as_ref().unwrap();
        assert_eq!(means.identification_number.as_deref(), Some("ABC123"));
        assert_eq!(
            sgl.scheduled_time_of_arrival.as_deref(),
            Some("2026-12-02T06:30:00Z")
        );
        assert!(sgl.house_mrn.is_some());
    }
    let raw = &body[0];
    assert!(raw["routingResult"]["id"].is_string());
    assert!(raw["transportDocumentHouseLevel"]["referenceNumber"].is_string());
    // Marker after the last item: caught up.
    let last = list.last().unwrap().routing_result.id.to_string();
    let (status, body) = page(&a, "house-consignment", Some(&last)).await;
    assert_eq!((status, body), (200, json!([])));
    // Marker in the middle: the rest.
    let (_, body) = page(
        &a,
        "house-consignment",
        Some(&list[1].routing_result.id.to_string()),
    )
    .await;
    assert_eq!(signals(&body), list[2..].to_vec());
    // Unknown marker, or a marker of the other feed: 400.
    for marker in [uuid(7), "not-a-uuid".to_owned()] {
        let (status, body) = page(&a, "house-consignment", Some(&marker)).await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"validationErrors": [{"field": "marker", "error": "unknown marker"}]})
        );
    }
    // Transport feed.
    let (_, body) = page(&a, "transport", None).await;
    let t = signals(&body);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].transport_mrn.as_deref(), Some(transport.as_str()));
    assert_eq!(t[0].routing_result.routing, Routing::ToControl);
    let (status, _) = page(
        &a,
        "house-consignment",
        Some(&t[0].routing_result.id.to_string()),
    )
    .await;
    assert_eq!(status, 400);
    // Visibility: the representative sees everything, another org nothing.
    let (_, body) = page(&rep, "house-consignment", None).await;
    assert_eq!(signals(&body).len(), 5);
    for feed in ["house-consignment", "transport"] {
        let (status, body) = page(&b, feed, None).await;
        assert_eq!((status, body), (200, json!([])), "{feed}");
    }
    // ... and a marker it cannot see is unknown to it.
    let (status, _) = page(&b, "house-consignment", Some(&last)).await;
    assert_eq!(status, 400);
    // Presenting the goods makes the signal visible to the presenter.
    let result = b
        .submit_at(
            &format!("{PRESENT}/house-consignment"),
            &format!("{PRESENT}/validation-status"),
            &house_presentation(&uuid(77), "HWB-2026-0001", "N703"),
        )
        .await;
    assert_eq!(result["status"], "SUCCESS");
    let (_, body) = page(&b, "house-consignment", None).await;
    let seen = signals(&body);
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0]
            .transport_document_house_level
            .as_ref()
            .unwrap()
            .reference_number
            .as_deref(),
        Some("HWB-2026-0001")
    );
    // Admin views.
    let http = reqwest::Client::new();
    let all: Value = http
        .get(s.sim.url("sim/toll/routing-signals"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 6);
    let pres: Value = http
        .get(s.sim.url("sim/toll/presentations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pres.as_array().unwrap().len(), 8);
    assert_eq!(
        s.ctl
            .routing_signals()
            .iter()
            .filter(|x| x.feed == RoutingFeed::Transport)
            .count(),
        1
    );
}

#[tokio::test]
async fn the_last_signal_for_a_document_wins() {
    let s = start_all_apis().await;
    let a = api_all(&s, ALL_A).await;
    let transport = road_chain(&a).await;
    s.ctl.simulate_arrival(&transport, "NO371001");
    let (_, body) = page(&a, "house-consignment", None).await;
    let first = signals(&body);
    let before = first
        .iter()
        .find(|x| {
            x.transport_document_house_level
                .as_ref()
                .unwrap()
                .reference_number
                .as_deref()
                == Some("HWB-2026-0001")
        })
        .unwrap();
    assert_eq!(before.routing_result.routing, Routing::ToControl);
    let id = s
        .ctl
        .send_routing_signal("HWB-2026-0001", RoutingChoice::new(Routing::ToEntry))
        .unwrap();
    assert!(
        s.ctl
            .send_routing_signal("NOPE", RoutingChoice::new(Routing::ToEntry))
            .is_err()
    );
    // Reading on from the last marker gives just the new signal.
    let marker = first.last().unwrap().routing_result.id.to_string();
    let (_, body) = page(&a, "house-consignment", Some(&marker)).await;
    let next = signals(&body);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].routing_result.id, id);
    assert_eq!(next[0].routing_result.routing, Routing::ToEntry);
    assert_eq!(next[0].house_mrn, before.house_mrn);
    // A client keeping the newest per document ends with TO_ENTRY.
    let all: Vec<RoutingSignal> = first.into_iter().chain(next).collect();
    let latest = latest_per_document(&all);
    assert_eq!(latest.len(), 5);
    let hwb1 = latest
        .iter()
        .find(|x| {
            x.transport_document_house_level
                .as_ref()
                .unwrap()
                .reference_number
                .as_deref()
                == Some("HWB-2026-0001")
        })
        .unwrap();
    assert_eq!(hwb1.routing_result.routing, Routing::ToEntry);
}

#[tokio::test]
async fn routing_feed_pages_over_a_thousand_signals() {
    let s = start_all_apis().await;
    let air = TransportMode::Air;
    let transport = s
        .ctl
        .insert_toll_message(
            air,
            TollMessageKind::Transport,
            ORG,
            &example_in("air", "valid-transport"),
        )
        .unwrap();
    let master = edit(&example("valid-master"), |v| {
        v["consignmentMasterLevel"]["transportDocumentMasterLevel"] =
            json!({"documentNumber": "MAWB-117-12345675", "type": "N741"});
    });
    s.ctl
        .insert_toll_message(air, TollMessageKind::MasterConsignment, ORG, &master)
        .unwrap();
    let house = example("valid-house-import-cude");
    for i in 0..1001 {
        let body = edit(&house, |v| {
            let h = &mut v["consignmentHouseLevel"];
            h["transportDocumentHouseLevel"]["documentNumber"] = json!(format!("HWB-BULK-{i:05}"));
            h["consignmentMasterLevel"]["transportDocumentMasterLevel"] =
                json!({"documentNumber": "MAWB-117-12345675", "type": "N741"});
        });
        s.ctl
            .insert_toll_message(air, TollMessageKind::HouseConsignment, ORG, &body)
            .unwrap();
    }
    let crossing = s.ctl.simulate_arrival(&transport, "NO351001");
    assert_eq!(crossing.house_signals.len(), 1001);
    let a = api_all(&s, ALL_A).await;
    let (status, body) = page(&a, "house-consignment", None).await;
    assert_eq!(status, 200);
    let p1 = signals(&body);
    assert_eq!(p1.len(), 1000);
    assert_eq!(
        p1[0]
            .transport_document_house_level
            .as_ref()
            .unwrap()
            .reference_number
            .as_deref(),
        Some("HWB-BULK-00000")
    );
    let (_, body) = page(
        &a,
        "house-consignment",
        Some(&p1[999].routing_result.id.to_string()),
    )
    .await;
    let p2 = signals(&body);
    assert_eq!(p2.len(), 1);
    assert_eq!(
        p2[0]
            .transport_document_house_level
            .as_ref()
            .unwrap()
            .reference_number
            .as_deref(),
        Some("HWB-BULK-01000")
    );
    let (_, body) = page(
        &a,
        "house-consignment",
        Some(&p2[0].routing_result.id.to_string()),
    )
    .await;
    assert_eq!(body, json!([]));
    // The air identification is carried in the signal.
    assert_eq!(
        p1[0]
            .active_border_transport_means
            .as_ref()
            .unwrap()
            .type_of_identification
            .as_deref(),
        Some("41")
    );
    // Another org sees none of them.
    let b = api_all(&s, ALL_B).await;
    let (_, body) = page(&b, "house-consignment", None).await;
    assert_eq!(body, json!([]));
}

#[tokio::test]
async fn arrival_api_grants_entry_and_routes() {
    let s = start_all_apis().await;
    let a = api_all(&s, ALL_A).await;
    let b = api_all(&s, ALL_B).await;
    let transport = road_chain(&a).await;
    let body = json!({"transportMRN": transport, "timeOfArrival": "2026-12-02T06:41:00Z",
                      "customsOfficeOfArrival": "NO371001"})
    .to_string();
    // Another org cannot report the arrival of a transport it cannot see.
    let result = b
        .submit_at(
            &format!("{ARRIVAL}/arrival"),
            &format!("{ARRIVAL}/validation-status"),
            &body,
        )
        .await;
    assert_eq!(result["status"], "FAILURE");
    assert_eq!(
        result["validationErrorList"][0]["description"],
        "Document not found"
    );
    let (_, entry) = a.get(&format!("{QUERY}/entry/status/{transport}")).await;
    assert_eq!(entry["validEntry"], false);
    let result = a
        .submit_at(
            &format!("{ARRIVAL}/arrival"),
            &format!("{ARRIVAL}/validation-status"),
            &body,
        )
        .await;
    assert_eq!(result["status"], "SUCCESS", "{result}");
    let (_, entry) = a.get(&format!("{QUERY}/entry/status/{transport}")).await;
    assert_eq!(entry["validEntry"], true);
    assert_eq!(entry["timeOfEntry"], "2026-12-02T06:41:00Z");
    assert_eq!(entry["customsOfficeOfEntry"], "NO371001");
    let (_, houses) = page(&a, "house-consignment", None).await;
    assert_eq!(signals(&houses).len(), 5);
    // Unknown transport, sync errors, scope.
    let unknown =
        json!({"transportMRN": "26NOZZZZZZZZZZZZZZ", "timeOfArrival": "2026-12-02T06:41:00Z",
                         "customsOfficeOfArrival": "NO371001"})
        .to_string();
    let result = a
        .submit_at(
            &format!("{ARRIVAL}/arrival"),
            &format!("{ARRIVAL}/validation-status"),
            &unknown,
        )
        .await;
    assert_eq!(result["status"], "FAILURE");
    let (status, body) = a
        .post_to(
            &format!("{ARRIVAL}/arrival"),
            r#"{"transportMRN":"26NOZZZZZZZZZZZZZZ"}"#,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["validationErrors"].as_array().unwrap().len(), 2);
    let entry_only = api_with(&s, ALL_A, "toll:movement/entry").await;
    let (status, _) = entry_only
        .post_to(&format!("{ARRIVAL}/arrival"), &body.to_string())
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn routing_overrides_through_the_admin_api() {
    let s = start_toll_with(Simulator::builder().processing_delay(Duration::ZERO)).await;
    let http = reqwest::Client::new();
    let response = http
        .put(s.sim.url("sim/toll/routing-overrides"))
        .body(r#"{"document_number":"HWB-2026-0001","routing":"ENTRY_DENIED"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let list: Value = http
        .get(s.sim.url("sim/toll/routing-overrides"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["routing"], "ENTRY_DENIED");
    let (doc, choice) = &s.ctl.routing_overrides()[0];
    assert_eq!(doc, "HWB-2026-0001");
    assert_eq!(choice.routing, Routing::EntryDenied);
    let response = http
        .put(s.sim.url("sim/toll/routing-overrides"))
        .body(r#"{"document_number":"X","routing":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = http
        .delete(s.sim.url("sim/toll/routing-overrides"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(s.ctl.routing_overrides().is_empty());
    let response = http
        .post(s.sim.url("sim/toll/routing-signals"))
        .body(r#"{"document_number":"HWB-2026-0001","routing":"TO_ENTRY"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

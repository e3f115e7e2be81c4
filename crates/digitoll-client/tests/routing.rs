//! Routing client and follower against a wiremock feed: paths and markers,
//! errors, the follower's at-least-once contract across handler failures and
//! abrupt stops with a file cursor, the cursor stores, and the latest-signal view.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use digitoll_client::{
    CursorStore, Error, FileCursorStore, FollowError, LatestSignals, MemoryCursorStore, Operation,
    Origin, RoutingClient, RoutingFeed, RoutingFollower,
};
use digitoll_model::routing::{Routing, RoutingSignal};
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

const BASE: &str = "/api/movement/routing/v1";

fn id(i: usize) -> Uuid {
    Uuid::parse_str(&format!("00000000-0000-4000-8000-{i:012}")).unwrap()
}

fn signal(i: usize, doc: &str, routing: &str) -> Value {
    json!({
        "routingResult": {"id": id(i), "routing": routing, "documentIssueDate": "2026-12-02T06:41:00Z"},
        "transportDocumentHouseLevel": {"referenceNumber": doc, "type": "N730"},
        "activeBorderTransportMeans": {"identificationNumber": "AB12345", "typeOfIdentification": "30"},
        "estimatedTimeOfArrival": "2026-12-02T06:30:00Z",
        "scheduledTimeOfArrival": "2026-12-02T06:30:00Z",
        "transportMRN": MRN_T
    })
}

/// `n` signals for `n` different houses.
fn feed_items(n: usize) -> Vec<Value> {
    (1..=n)
        .map(|i| {
            signal(
                i,
                &format!("HWB-{i}"),
                if i % 2 == 1 { "TO_CONTROL" } else { "TO_ENTRY" },
            )
        })
        .collect()
}

/// A routing feed with Toll's semantics: items after the marker, `page` at
/// a time, oldest first; 400 for an unknown marker.
#[derive(Clone)]
struct Feed {
    items: Arc<Mutex<Vec<Value>>>,
    page: usize,
}

impl Feed {
    fn new(items: Vec<Value>, page: usize) -> Self {
        Self {
            items: Arc::new(Mutex::new(items)),
            page,
        }
    }
    fn push(&self, v: Value) {
        self.items.lock().unwrap().push(v);
    }
}

impl wiremock::Respond for Feed {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let items = self.items.lock().unwrap();
        let marker = r
            .url
            .query_pairs()
            .find(|(k, _)| k == "marker")
            .map(|(_, v)| v.into_owned());
        let start = match marker {
            None => 0,
            Some(m) => match items
                .iter()
                .position(|v| v["routingResult"]["id"].as_str() == Some(m.as_str()))
            {
                Some(p) => p + 1,
                None => {
                    return ResponseTemplate::new(400).set_body_json(json!({
                        "validationErrors": [{"field": "marker", "error": "unknown marker"}]
                    }));
                }
            },
        };
        let end = (start + self.page).min(items.len());
        ResponseTemplate::new(200).set_body_json(Value::Array(items[start..end].to_vec()))
    }
}

async fn mount_feed(s: &Setup, feed: RoutingFeed, f: Feed) {
    Mock::given(method("GET"))
        .and(path(format!("{BASE}/{}", feed.path_segment())))
        .respond_with(f)
        .mount(&s.toll)
        .await;
}

fn routing(s: &Setup) -> RoutingClient {
    api_client(RoutingClient::builder(s.tokens.clone()))
}

fn ids(signals: &[RoutingSignal]) -> Vec<Uuid> {
    signals.iter().map(|s| s.routing_result.id).collect()
}

#[tokio::test]
async fn page_reads_after_the_marker_on_both_feeds() {
    let s = setup().await;
    mount_feed(
        &s,
        RoutingFeed::HouseConsignment,
        Feed::new(feed_items(5), 2),
    )
    .await;
    mount_feed(&s, RoutingFeed::Transport, Feed::new(feed_items(1), 1000)).await;
    let c = routing(&s);

    let first = c.page(RoutingFeed::HouseConsignment, None).await.unwrap();
    assert_eq!(ids(&first), vec![id(1), id(2)]);
    assert_eq!(first[0].routing_result.routing, Routing::ToControl);
    assert_eq!(
        first[0]
            .transport_document_house_level
            .as_ref()
            .unwrap()
            .reference_number
            .as_deref(),
        Some("HWB-1")
    );
    let next = c
        .page(RoutingFeed::HouseConsignment, Some(id(2)))
        .await
        .unwrap();
    assert_eq!(ids(&next), vec![id(3), id(4)]);
    let caught_up = c
        .page(RoutingFeed::HouseConsignment, Some(id(5)))
        .await
        .unwrap();
    assert!(caught_up.is_empty());
    let transport = c.page(RoutingFeed::Transport, None).await.unwrap();
    assert_eq!(ids(&transport), vec![id(1)]);

    let gets = received(&s.toll, "GET", &format!("{BASE}/house-consignment")).await;
    assert_eq!(gets[0].url.query(), None, "first call without a marker");
    assert_eq!(
        gets[1].url.query(),
        Some("marker=00000000-0000-4000-8000-000000000002")
    );
    assert_eq!(auth_header(&gets[0]), "Bearer toll-1");
    assert_eq!(exchanged_scopes(&s.toll).await, vec!["toll:movement/entry"]);
    s.sim.shutdown().await;
}

#[tokio::test]
async fn unknown_marker_and_oversized_pages_are_typed_errors() {
    let s = setup().await;
    mount_feed(
        &s,
        RoutingFeed::HouseConsignment,
        Feed::new(feed_items(2), 10),
    )
    .await;
    mount_feed(
        &s,
        RoutingFeed::Transport,
        Feed::new(feed_items(1001), 2000),
    )
    .await;
    let c = routing(&s);
    match c
        .page(RoutingFeed::HouseConsignment, Some(id(999)))
        .await
        .unwrap_err()
    {
        Error::RequestRejected {
            origin: Origin::Toll,
            operation: Operation::Routing(RoutingFeed::HouseConsignment),
            errors,
        } => {
            assert_eq!(errors[0].field, "marker");
            assert_eq!(errors[0].error, "unknown marker");
        }
        other => panic!("{other:?}"),
    }
    match c.page(RoutingFeed::Transport, None).await.unwrap_err() {
        Error::InvalidResponse { reason, .. } => assert!(reason.contains("1001"), "{reason}"),
        other => panic!("{other:?}"),
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn follower_commits_after_each_page_and_resumes() {
    let s = setup().await;
    let feed = Feed::new(feed_items(7), 3);
    mount_feed(&s, RoutingFeed::HouseConsignment, feed.clone()).await;
    let store = Arc::new(MemoryCursorStore::new());
    let mut f = RoutingFollower::new(routing(&s), RoutingFeed::HouseConsignment, store.clone())
        .stop_on_empty(true);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let st = store.clone();
    let summary = f
        .run(|page| {
            let sink = sink.clone();
            let st = st.clone();
            async move {
                // The cursor is still before this page while it is handled.
                let before = st.get(RoutingFeed::HouseConsignment);
                assert_ne!(before, page.last().map(|p| p.routing_result.id));
                sink.lock().unwrap().extend(ids(&page));
                Ok::<(), std::convert::Infallible>(())
            }
        })
        .await
        .unwrap();
    assert_eq!(summary.pages, 3, "3 + 3 + 1");
    assert_eq!(summary.signals, 7);
    assert_eq!(summary.marker, Some(id(7)));
    assert_eq!(store.saves(), 3, "one save per page");
    assert_eq!(*seen.lock().unwrap(), (1..=7).map(id).collect::<Vec<_>>());

    // New signals arrive; the next run delivers only those.
    feed.push(signal(8, "HWB-1", "TO_ENTRY"));
    let summary = f
        .run(|page| {
            let sink = seen.clone();
            async move {
                sink.lock().unwrap().extend(ids(&page));
                Ok::<(), std::convert::Infallible>(())
            }
        })
        .await
        .unwrap();
    assert_eq!(summary.signals, 1);
    assert_eq!(seen.lock().unwrap().last(), Some(&id(8)));
    assert_eq!(seen.lock().unwrap().len(), 8);
    s.sim.shutdown().await;
}

/// An idempotent handler: an upsert by signal id, counting deliveries.
#[derive(Default)]
struct Upserts {
    rows: HashMap<Uuid, RoutingSignal>,
    deliveries: HashMap<Uuid, u32>,
}

#[tokio::test]
async fn handler_failure_mid_page_redelivers_only_that_page_from_the_file_cursor() {
    let s = setup().await;
    let total = 10;
    mount_feed(
        &s,
        RoutingFeed::HouseConsignment,
        Feed::new(feed_items(total), 4),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("routing-cursor.json");
    let db = Arc::new(Mutex::new(Upserts::default()));

    // Run 1: the handler fails at the 6th signal (the 2nd of page 2).
    let mut f = RoutingFollower::new(
        routing(&s),
        RoutingFeed::HouseConsignment,
        Arc::new(FileCursorStore::new(&cursor)),
    )
    .stop_on_empty(true);
    let handled = Arc::new(Mutex::new(0usize));
    let err = f
        .run(|page| {
            let db = db.clone();
            let handled = handled.clone();
            async move {
                for sig in page {
                    let mut n = handled.lock().unwrap();
                    if *n == 5 {
                        return Err("database went away");
                    }
                    *n += 1;
                    let mut db = db.lock().unwrap();
                    *db.deliveries.entry(sig.routing_result.id).or_default() += 1;
                    db.rows.insert(sig.routing_result.id, sig);
                }
                Ok(())
            }
        })
        .await
        .unwrap_err();
    match err {
        FollowError::Handler {
            error,
            signals,
            marker,
        } => {
            assert_eq!(error, "database went away");
            assert_eq!(signals, 4);
            assert_eq!(marker, Some(id(4)), "page 2 was read after page 1's marker");
        }
        other => panic!("{other:?}"),
    }
    // The file holds page 1's marker: page 2 was not committed.
    let saved: Value = serde_json::from_slice(&std::fs::read(&cursor).unwrap()).unwrap();
    assert_eq!(saved, json!({"house-consignment": id(4).to_string()}));

    // Run 2: a new process (new follower, same file) resumes from the marker.
    let mut f = RoutingFollower::new(
        routing(&s),
        RoutingFeed::HouseConsignment,
        Arc::new(FileCursorStore::new(&cursor)),
    )
    .stop_on_empty(true);
    assert_eq!(f.marker().await.unwrap(), Some(id(4)));
    let summary = f
        .run(|page| {
            let db = db.clone();
            async move {
                let mut db = db.lock().unwrap();
                for sig in page {
                    *db.deliveries.entry(sig.routing_result.id).or_default() += 1;
                    db.rows.insert(sig.routing_result.id, sig);
                }
                Ok::<(), &str>(())
            }
        })
        .await
        .unwrap();
    assert_eq!(summary.signals, 6, "pages 2 and 3 (4 + 2)");

    let db = std::mem::take(&mut *db.lock().unwrap());
    // Nothing lost: the final set is exactly the feed.
    let mut got: Vec<Uuid> = db.rows.keys().copied().collect();
    got.sort();
    assert_eq!(got, (1..=total).map(id).collect::<Vec<_>>());
    // Nothing repeated beyond the failed page: id 5 (handled before the
    // failure) came twice, every other signal once.
    for i in 1..=total {
        let expected = if i == 5 { 2 } else { 1 };
        assert_eq!(db.deliveries[&id(i)], expected, "signal {i}");
    }
    let saved: Value = serde_json::from_slice(&std::fs::read(&cursor).unwrap()).unwrap();
    assert_eq!(saved["house-consignment"], id(total).to_string());
    s.sim.shutdown().await;
}

#[tokio::test]
async fn a_process_stopped_mid_handler_loses_nothing() {
    let s = setup().await;
    let total = 9;
    mount_feed(&s, RoutingFeed::Transport, Feed::new(feed_items(total), 3)).await;
    let dir = tempfile::tempdir().unwrap();
    let cursor = dir.path().join("cursor.json");
    let db = Arc::new(Mutex::new(Upserts::default()));

    // Run 1 hangs in the handler at the 5th signal and is killed (the future
    // is dropped), as a process would be.
    let handled = Arc::new(Mutex::new(0usize));
    let mut f = RoutingFollower::new(
        routing(&s),
        RoutingFeed::Transport,
        Arc::new(FileCursorStore::new(&cursor)),
    )
    .stop_on_empty(true);
    let run = f.run(|page| {
        let db = db.clone();
        let handled = handled.clone();
        async move {
            for sig in page {
                let stop = {
                    let mut n = handled.lock().unwrap();
                    *n += 1;
                    *n == 5
                };
                if stop {
                    std::future::pending::<()>().await;
                }
                let mut db = db.lock().unwrap();
                *db.deliveries.entry(sig.routing_result.id).or_default() += 1;
                db.rows.insert(sig.routing_result.id, sig);
            }
            Ok::<(), &str>(())
        }
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(500), run)
            .await
            .is_err(),
        "the run was stopped"
    );
    assert_eq!(db.lock().unwrap().rows.len(), 4);

    // Run 2 from the file: page 2 again, then page 3.
    let store = Arc::new(FileCursorStore::new(&cursor));
    assert_eq!(
        store.load(RoutingFeed::Transport).await.unwrap(),
        Some(id(3))
    );
    let mut f =
        RoutingFollower::new(routing(&s), RoutingFeed::Transport, store).stop_on_empty(true);
    f.run(|page| {
        let db = db.clone();
        async move {
            let mut db = db.lock().unwrap();
            for sig in page {
                *db.deliveries.entry(sig.routing_result.id).or_default() += 1;
                db.rows.insert(sig.routing_result.id, sig);
            }
            Ok::<(), &str>(())
        }
    })
    .await
    .unwrap();
    let db = std::mem::take(&mut *db.lock().unwrap());
    let mut got: Vec<Uuid> = db.rows.keys().copied().collect();
    got.sort();
    assert_eq!(got, (1..=total).map(id).collect::<Vec<_>>());
    for i in 1..=total {
        assert_eq!(
            db.deliveries[&id(i)],
            if i == 4 { 2 } else { 1 },
            "signal {i}"
        );
    }
    s.sim.shutdown().await;
}

#[tokio::test]
async fn a_following_follower_picks_up_new_signals_after_its_interval() {
    let s = setup().await;
    let feed = Feed::new(feed_items(2), 1000);
    mount_feed(&s, RoutingFeed::HouseConsignment, feed.clone()).await;
    let store = Arc::new(MemoryCursorStore::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut f = RoutingFollower::new(routing(&s), RoutingFeed::HouseConsignment, store.clone())
        .interval(Duration::from_millis(20));
    let sink = seen.clone();
    let follow = f.run(move |page| {
        let sink = sink.clone();
        async move {
            sink.lock().unwrap().extend(ids(&page));
            Ok::<(), &str>(())
        }
    });
    let feeder = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        feed.push(signal(3, "HWB-3", "TO_ENTRY"));
        for _ in 0..100 {
            if seen.lock().unwrap().len() == 3 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        r = follow => panic!("a following follower does not return: {r:?}"),
        () = feeder => {}
    }
    assert_eq!(*seen.lock().unwrap(), vec![id(1), id(2), id(3)]);
    assert_eq!(store.get(RoutingFeed::HouseConsignment), Some(id(3)));
    let polls = received(&s.toll, "GET", &format!("{BASE}/house-consignment")).await;
    assert!(
        polls.len() >= 3,
        "empty pages were polled again: {}",
        polls.len()
    );
    s.sim.shutdown().await;
}

#[tokio::test]
async fn file_cursor_store_is_atomic_and_keeps_both_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cursor.json");
    let store = FileCursorStore::new(&path);
    assert_eq!(
        store.load(RoutingFeed::HouseConsignment).await.unwrap(),
        None
    );
    store
        .save(RoutingFeed::HouseConsignment, id(1))
        .await
        .unwrap();
    store.save(RoutingFeed::Transport, id(2)).await.unwrap();
    store
        .save(RoutingFeed::HouseConsignment, id(3))
        .await
        .unwrap();
    let other = FileCursorStore::new(&path);
    assert_eq!(
        other.load(RoutingFeed::HouseConsignment).await.unwrap(),
        Some(id(3))
    );
    assert_eq!(
        other.load(RoutingFeed::Transport).await.unwrap(),
        Some(id(2))
    );
    // Only the target file is left: the temporary files were renamed.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["cursor.json"]);

    // Concurrent saves from one store never interleave into a broken file.
    let store = Arc::new(FileCursorStore::new(&path));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let st = store.clone();
        let feed = if i % 2 == 0 {
            RoutingFeed::HouseConsignment
        } else {
            RoutingFeed::Transport
        };
        tasks.push(tokio::spawn(
            async move { st.save(feed, id(100 + i)).await },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 2);

    std::fs::write(&path, b"{not json").unwrap();
    match store.load(RoutingFeed::Transport).await.unwrap_err() {
        Error::CursorStore { store, message } => {
            assert!(store.ends_with("cursor.json"), "{store}");
            assert!(message.contains("JSON"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn cursor_store_is_object_safe_and_commit_is_manual() {
    let s = setup().await;
    mount_feed(
        &s,
        RoutingFeed::HouseConsignment,
        Feed::new(feed_items(3), 2),
    )
    .await;
    let store: Arc<dyn CursorStore> = Arc::new(MemoryCursorStore::new());
    let mut f = RoutingFollower::new(routing(&s), RoutingFeed::HouseConsignment, store.clone());
    let page = f.next_page().await.unwrap();
    assert_eq!(ids(&page), vec![id(1), id(2)]);
    // Not committed: the same page again.
    assert_eq!(ids(&f.next_page().await.unwrap()), vec![id(1), id(2)]);
    f.commit(&page).await.unwrap();
    assert_eq!(
        store.load(RoutingFeed::HouseConsignment).await.unwrap(),
        Some(id(2))
    );
    assert_eq!(ids(&f.next_page().await.unwrap()), vec![id(3)]);
    s.sim.shutdown().await;
}

#[test]
fn latest_signal_per_document_wins_and_replays_change_nothing() {
    let parse = |v: Value| -> RoutingSignal { serde_json::from_value(v).unwrap() };
    let feed = vec![
        parse(signal(1, "HWB-1", "ENTRY_PENDING")),
        parse(signal(2, "HWB-2", "TO_ENTRY")),
        parse(signal(3, "HWB-1", "TO_CONTROL")),
    ];
    let mut view = LatestSignals::new();
    view.apply_all(feed.clone());
    assert_eq!(view.len(), 2);
    assert_eq!(
        view.for_house("HWB-1", "N730")
            .unwrap()
            .routing_result
            .routing,
        Routing::ToControl
    );
    assert_eq!(view.get("HWB-2/N730").unwrap().routing_result.id, id(2));
    // At-least-once re-delivery of the last page.
    assert!(!view.apply(feed[2].clone()));
    assert_eq!(
        view.for_house("HWB-1", "N730").unwrap().routing_result.id,
        id(3)
    );
    // A keyless signal is kept under its id.
    let mut keyless = signal(9, "x", "TO_ENTRY");
    keyless
        .as_object_mut()
        .unwrap()
        .remove("transportDocumentHouseLevel");
    keyless.as_object_mut().unwrap().remove("transportMRN");
    assert!(view.apply(parse(keyless)));
    assert_eq!(view.len(), 3);
}

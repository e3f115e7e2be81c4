//! Integration tests of `/v1/presentations`, `/v1/arrivals` and
//! `/v1/entry-status`: the gateway over SQLite in a temp dir, served on
//! 127.0.0.1:0 with its workers, against the in-process simulator for
//! Maskinporten and Toll. The harness is a trimmed copy of `tests/gateway.rs`.

use std::time::Duration;

use digitoll_client::{ReconcileConfig, RetryConfig};
use digitoll_gateway::{
    GatewayConfig, GatewayState, RuntimeOptions, WorkerConfig, app, run_workers,
};
use digitoll_sim::{ClientRegistration, RunningSimulator, Simulator};
use digitoll_store::{MasterKey, RetryPolicy, Store, StoreOptions};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const ROAD: &str = "toll:movement/road/v2";
const ENTRY: &str = "toll:movement/entry";
const TRANSPORT: &str = include_str!("../../../examples/road/valid-transport.json");
const ENS: &str = include_str!("../../../examples/presentation/entry-summary-declaration.json");
const HOUSE_PRESENTATION: &str =
    include_str!("../../../examples/presentation/house-consignment.json");

// ------------------------------------------------------------------ harness

struct Env {
    store: Store,
    sim: RunningSimulator,
    base: String,
    http: reqwest::Client,
    admin_key: String,
    stop: watch::Sender<bool>,
    workers: Option<JoinHandle<()>>,
    _server: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

struct Tenant {
    key: String,
}

fn config(sim: &RunningSimulator) -> GatewayConfig {
    GatewayConfig {
        runtime: RuntimeOptions {
            sim_base_url: Some(sim.base_url()),
            toll_timeout: Duration::from_secs(5),
            reconcile: ReconcileConfig {
                lookups: 2,
                delay: Duration::from_millis(100),
            },
            retry: RetryConfig::default(),
            maskinporten_retry: Some(maskinporten::RetryPolicy::none()),
            ttl: Duration::from_secs(600),
        },
        workers: WorkerConfig {
            workers: 2,
            name: "test".into(),
            lease: Duration::from_secs(30),
            batch: 4,
            idle_wait: Duration::from_millis(100),
            poll_first_delay: Duration::from_millis(50),
            poll_max_interval: Duration::from_millis(300),
            max_polls: 200,
            webhook_timeout: Duration::from_secs(5),
        },
        ..GatewayConfig::default()
    }
}

impl Env {
    async fn start() -> Self {
        let sim = Simulator::builder()
            .processing_delay(Duration::ZERO)
            .start()
            .await
            .expect("start simulator");
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("gw.db").display());
        let options = StoreOptions::new(MasterKey::from_bytes([9u8; 32])).retry(RetryPolicy {
            base_delay: Duration::from_millis(50),
            factor: 2.0,
            max_delay: Duration::from_millis(800),
            max_attempts: 40,
        });
        let store = Store::connect(&url, options).await.expect("sqlite store");
        let (_, admin) = store
            .create_api_key(digitoll_store::ApiKeyScope::Admin, "tests")
            .await
            .expect("admin key");
        let state = GatewayState::new(store.clone(), config(&sim), None);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = app(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("serve");
        });
        let (stop, stopped) = watch::channel(false);
        let workers = tokio::spawn(run_workers(state, stopped));
        Self {
            store,
            sim,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            admin_key: admin.expose().to_owned(),
            stop,
            workers: Some(workers),
            _server: server,
            _dir: dir,
        }
    }

    /// A tenant with these scopes at the gateway and the simulator (its
    /// gateway-generated public JWK registered as the customer would).
    async fn tenant(&self, org: &str, client_id: &str, scopes: &[&str]) -> Tenant {
        let ctl = self.sim.control();
        if !ctl.organisations().iter().any(|o| o.org_no == org) {
            ctl.register_organisation(org, &format!("Org {org}"));
        }
        let (status, body) = self
            .call(
                &self.admin_key.clone(),
                "POST",
                "/v1/admin/tenants",
                Some(json!({
                    "org_number": org, "name": format!("Tenant {org}"), "environment": "sim",
                    "client_id": client_id, "scopes": scopes,
                    "key": {"type": "generate"}
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        ctl.register_client(ClientRegistration::with_keys(
            client_id,
            org,
            scopes.iter().copied(),
            vec![body["public_jwk"].clone()],
        ));
        for scope in scopes {
            ctl.grant_scope(org, scope);
        }
        let id = body["tenant"]["id"].as_str().expect("tenant id").to_owned();
        let (status, key) = self
            .call(
                &self.admin_key.clone(),
                "POST",
                &format!("/v1/admin/tenants/{id}/api-keys"),
                Some(json!({"label": "erp"})),
            )
            .await;
        assert_eq!(status, 201, "{key}");
        Tenant {
            key: key["key"].as_str().expect("api key").to_owned(),
        }
    }

    async fn call(&self, key: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, _, value) = self.raw(key, method, path, body, &[]).await;
        (status, value)
    }

    async fn raw(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.base),
            )
            .bearer_auth(key);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let h = resp.headers().clone();
        let text = resp.text().await.expect("body");
        (
            status,
            h,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Polls a validation-status route until it answers 200.
    async fn processed(&self, t: &Tenant, path: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = self.call(&t.key, "GET", path, None).await;
            if status == 200 {
                return body;
            }
            assert_eq!(status, 404, "{body}");
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path} still unprocessed: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Submits a road transport dated now and waits for its MRN.
    async fn accepted_transport(&self, t: &Tenant) -> String {
        let (status, m) = self
            .call(
                &t.key,
                "POST",
                "/v1/messages",
                Some(json!({"mode": "road", "kind": "transport", "body": dated(TRANSPORT)})),
            )
            .await;
        assert_eq!(status, 202, "{m}");
        let id = m["id"].as_str().expect("id").to_owned();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let (status, m) = self
                .call(&t.key, "GET", &format!("/v1/messages/{id}"), None)
                .await;
            assert_eq!(status, 200, "{m}");
            if m["state"] == "accepted" {
                return m["mrn"].as_str().expect("mrn").to_owned();
            }
            assert!(
                !matches!(
                    m["state"].as_str(),
                    Some("rejected" | "failed" | "dead" | "incomplete")
                ),
                "{m}"
            );
            assert!(tokio::time::Instant::now() < deadline, "{m}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(w) = self.workers.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), w).await;
        }
        self.store.close().await;
        self.sim.shutdown().await;
    }
}

fn now_text(offset: time::Duration) -> String {
    (time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("ns")
        + offset)
        .format(&time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("format")
}

/// The example transport dated now (the example carries fixed dates).
fn dated(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).expect("example");
    if let Some(obj) = v.as_object_mut() {
        for (k, val) in obj.iter_mut() {
            match k.as_str() {
                "documentIssueDate" => *val = Value::String(now_text(time::Duration::ZERO)),
                "scheduledDateAndTimeOfArrival" | "estimatedDateAndTimeOfArrival" => {
                    *val = Value::String(now_text(time::Duration::hours(2)));
                }
                _ => {}
            }
        }
    }
    v
}

/// An example presentation without its fixed requestId (the gateway sets one).
fn without_request_id(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).expect("example");
    v.as_object_mut().expect("object").remove("requestId");
    v
}

fn fields(list: &Value, member: &str) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.pointer(member).and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

// -------------------------------------------------------------------- cases

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presentation_is_sent_and_its_status_read_back_by_its_tenant_only() {
    let env = Env::start().await;
    let a = env
        .tenant("310000000", "client-entry-a", &[ROAD, ENTRY])
        .await;
    let b = env
        .tenant("311000004", "client-entry-b", &[ROAD, ENTRY])
        .await;

    // An ENS presentation of a playground fixture: 202, then SUCCESS.
    let (status, headers, body) = env
        .raw(
            &a.key,
            "POST",
            "/v1/presentations/entry-summary-declaration",
            Some(without_request_id(ENS)),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "PENDING");
    assert_eq!(body["kind"], "entry-summary-declaration");
    assert_eq!(body["already_presented"], false);
    let rid = body["request_id"].as_str().expect("request_id").to_owned();
    let location = format!("/v1/presentations/validation-status/{rid}");
    assert_eq!(
        headers.get("location").and_then(|v| v.to_str().ok()),
        Some(location.as_str())
    );
    let done = env.processed(&a, &location).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");
    assert_eq!(done["request_id"], rid);
    assert_eq!(done["validation"]["requestId"], rid);

    // Toll (the sim) has exactly this presentation, from the tenant's organisation.
    let sent = env.sim.control().presentations();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].request_id, rid);
    assert_eq!(sent[0].org, "310000000");
    assert_eq!(sent[0].identifier.as_deref(), Some("23NO00000000000001"));

    // Another tenant (another organisation) cannot read it: Toll scopes
    // validation status by organisation, and the gateway answers 404.
    let (status, body) = env.call(&b.key, "GET", &location, None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    // A malformed id is answered like a missing one.
    let (status, _) = env
        .call(
            &a.key,
            "GET",
            "/v1/presentations/validation-status/nope",
            None,
        )
        .await;
    assert_eq!(status, 404);

    // ?wait=true on a house nobody declared: 200 with Toll's FAILURE.
    let (status, body) = env
        .call(
            &a.key,
            "POST",
            "/v1/presentations/house?wait=true",
            Some(json!({
                "customsOfficeOfPresentation": "NO371001",
                "consignmentHouseLevel": {"transportDocumentHouseLevel": {
                    "documentNumber": "HWB-NOT-DECLARED", "type": "N703"}}
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "FAILURE", "{body}");
    assert_eq!(body["kind"], "house");
    let errors = &body["validation"]["validationErrorList"];
    assert!(
        !fields(errors, "/pointer/messageElementPath").is_empty(),
        "{body}"
    );
    assert_eq!(env.sim.control().presentations().len(), 2);

    // Idempotency-Key: the same key sends the same requestId; the second
    // POST is recognised by Toll and answered with the first one's result.
    let key = [("idempotency-key", "gate-7-pallet-12")];
    let ens = without_request_id(ENS);
    let (status, _, first) = env
        .raw(
            &a.key,
            "POST",
            "/v1/presentations/ens",
            Some(ens.clone()),
            &key,
        )
        .await;
    assert_eq!(status, 202, "{first}");
    let (status, _, again) = env
        .raw(&a.key, "POST", "/v1/presentations/ens", Some(ens), &key)
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["request_id"], first["request_id"]);
    assert_eq!(again["already_presented"], true);
    assert_eq!(again["status"], "SUCCESS");
    assert_eq!(env.sim.control().presentations().len(), 3);
    // A requestId in the body and a key at once is ambiguous: 400.
    let (status, _, body) = env
        .raw(
            &a.key,
            "POST",
            "/v1/presentations/ens",
            Some(serde_json::from_str(ENS).expect("example")),
            &key,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "Idempotency-Key");
    // An unknown kind: 404.
    let (status, body) = env
        .call(
            &a.key,
            "POST",
            "/v1/presentations/pallet",
            Some(without_request_id(ENS)),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(env.sim.control().presentations().len(), 3);
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_presentation_is_refused_locally_and_nothing_sent() {
    let env = Env::start().await;
    let a = env
        .tenant("310000000", "client-entry-a", &[ROAD, ENTRY])
        .await;

    // Sync errors: office missing, the house document without a type, a
    // transport MRN of the wrong size; each named by its path.
    let (status, body) = env
        .call(
            &a.key,
            "POST",
            "/v1/presentations/house",
            Some(json!({
                "transportMRN": "26NO123",
                "consignmentHouseLevel": {"transportDocumentHouseLevel": {"documentNumber": "HWB-1"}}
            })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    let sync = fields(&body["validationErrors"], "/field");
    for path in [
        "customsOfficeOfPresentation",
        "transportMRN",
        "consignmentHouseLevel.transportDocumentHouseLevel.type",
    ] {
        assert!(sync.iter().any(|f| f == path), "{path} in {sync:?}");
    }

    // A business error: an office not in CL141, in validationErrorList.
    let mut house: Value = without_request_id(HOUSE_PRESENTATION);
    house["customsOfficeOfPresentation"] = json!("NO999999");
    let (status, body) = env
        .call(&a.key, "POST", "/v1/presentations/house", Some(house))
        .await;
    assert_eq!(status, 422, "{body}");
    let business = fields(&body["validationErrorList"], "/pointer/messageElementPath");
    assert_eq!(business, ["customsOfficeOfPresentation"], "{body}");

    // A requestId that is not a UUID.
    let mut ens: Value = serde_json::from_str(ENS).expect("example");
    ens["requestId"] = json!("order-4711");
    let (status, body) = env
        .call(&a.key, "POST", "/v1/presentations/ens", Some(ens))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(fields(&body["validationErrors"], "/field"), ["requestId"]);

    // Malformed JSON and a non-object body: 400.
    let (status, body) = env
        .call(&a.key, "POST", "/v1/presentations/ens", Some(json!([1, 2])))
        .await;
    assert_eq!(status, 400, "{body}");

    // Nothing reached Toll.
    assert!(env.sim.control().presentations().is_empty());
    assert!(
        !env.sim
            .control()
            .requests()
            .iter()
            .any(|r| r.path.contains("/presentation/")),
        "no request to the presentation API"
    );
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_without_the_entry_scope_is_refused() {
    let env = Env::start().await;
    let road_only = env.tenant("310000000", "client-road-only", &[ROAD]).await;
    let entry_only = env.tenant("311000004", "client-entry-only", &[ENTRY]).await;

    let (status, body) = env
        .call(
            &road_only.key,
            "POST",
            "/v1/presentations/ens",
            Some(without_request_id(ENS)),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("toll:movement/entry")),
        "{body}"
    );
    let (status, _) = env
        .call(
            &road_only.key,
            "GET",
            &format!(
                "/v1/presentations/validation-status/{}",
                uuid::Uuid::new_v4()
            ),
            None,
        )
        .await;
    assert_eq!(status, 403);

    // Arrival needs the road scope (the scope the client uses for it).
    let (status, body) = env
        .call(
            &entry_only.key,
            "POST",
            "/v1/arrivals",
            Some(json!({
                "transportMRN": "26NOABCDEFGHIJ1234",
                "timeOfArrival": now_text(time::Duration::ZERO),
                "customsOfficeOfArrival": "NO371001"
            })),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(ROAD)),
        "{body}"
    );
    // No key: 401.
    let (status, _) = env
        .call(
            "dtk_nope",
            "POST",
            "/v1/presentations/ens",
            Some(without_request_id(ENS)),
        )
        .await;
    assert_eq!(status, 401);
    assert!(env.sim.control().presentations().is_empty());
    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrival_is_sent_and_grants_entry() {
    let env = Env::start().await;
    let a = env
        .tenant("310000000", "client-arrival-a", &[ROAD, ENTRY])
        .await;
    let b = env.tenant("311000004", "client-arrival-b", &[ROAD]).await;
    let mrn = env.accepted_transport(&a).await;

    // Before the arrival: no valid entry yet (or not known).
    let (status, before) = env
        .call(&a.key, "GET", &format!("/v1/entry-status/{mrn}"), None)
        .await;
    assert!(
        status == 404 || (status == 200 && before["validEntry"] == false),
        "{status} {before}"
    );

    // Invalid: office missing, MRN malformed: 422 with paths, nothing sent.
    let (status, body) = env
        .call(
            &a.key,
            "POST",
            "/v1/arrivals",
            Some(json!({"transportMRN": "26NO", "timeOfArrival": now_text(time::Duration::ZERO)})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let sync = fields(&body["validationErrors"], "/field");
    assert!(
        sync.iter().any(|f| f == "customsOfficeOfArrival"),
        "{sync:?}"
    );
    assert!(sync.iter().any(|f| f == "transportMRN"), "{sync:?}");
    assert!(
        !env.sim
            .control()
            .requests()
            .iter()
            // Entry status is read on the arrival API too (S7): only a POST sends.
            .any(|r| r.method == "POST" && r.path.contains("/arrival/")),
        "no request to the arrival API"
    );

    // Valid: 202, then SUCCESS at the validation-status route.
    let arrival = json!({
        "transportMRN": mrn,
        "timeOfArrival": now_text(time::Duration::ZERO),
        "customsOfficeOfArrival": "NO371001"
    });
    let (status, headers, body) = env
        .raw(&a.key, "POST", "/v1/arrivals", Some(arrival), &[])
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "PENDING");
    let rid = body["request_id"].as_str().expect("request_id").to_owned();
    let location = format!("/v1/arrivals/validation-status/{rid}");
    assert_eq!(
        headers.get("location").and_then(|v| v.to_str().ok()),
        Some(location.as_str())
    );
    let done = env.processed(&a, &location).await;
    assert_eq!(done["status"], "SUCCESS", "{done}");

    // Entry granted at the office of arrival.
    let (status, entry) = env
        .call(
            &a.key,
            "GET",
            &format!("/v1/entry-status/{mrn}?mode=road"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(entry["validEntry"], true, "{entry}");
    assert_eq!(entry["customsOfficeOfEntry"], "NO371001");
    let (status, body) = env
        .call(
            &a.key,
            "GET",
            &format!("/v1/entry-status/{mrn}?mode=boat"),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "mode");

    // Another organisation: its arrival for this transport fails at Toll
    // (not visible to it), with ?wait=true as a 200 FAILURE; and it cannot
    // read the first arrival's result.
    let (status, body) = env
        .call(
            &b.key,
            "POST",
            "/v1/arrivals?wait=true",
            Some(json!({
                "transportMRN": mrn,
                "timeOfArrival": now_text(time::Duration::ZERO),
                "customsOfficeOfArrival": "NO371001"
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "FAILURE", "{body}");
    assert_eq!(
        fields(
            &body["validation"]["validationErrorList"],
            "/pointer/messageElementPath"
        ),
        ["transportMRN"]
    );
    let (status, body) = env.call(&b.key, "GET", &location, None).await;
    assert_eq!(status, 404, "{body}");
    env.shutdown().await;
}

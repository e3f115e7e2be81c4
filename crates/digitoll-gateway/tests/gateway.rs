//! Integration tests: the gateway over a real store (SQLite in a temp dir and
//! PostgreSQL from `DIGITOLL_TEST_POSTGRES_URL`, a fresh database per test),
//! served on 127.0.0.1:0, with its workers, against the in-process simulator
//! for Maskinporten and Toll, and a local axum webhook receiver.
//!
//! Every case is a plain async function; `on_both_backends!` at the end
//! generates `sqlite::<case>` and `postgres::<case>` for each. All log output
//! of the test binary goes to one buffer (`LOGS`), which the secrets test scans.

use std::time::Duration;

use digitoll_gateway::{GatewayConfig, GatewayState, run_workers};
use digitoll_sim::Fault;
use serde_json::{Value, json};
use tokio::sync::watch;

const TRANSPORT: &str = include_str!("../../../examples/road/valid-transport.json");
const MASTER: &str = include_str!("../../../examples/road/valid-master.json");
const HOUSE: &str = include_str!("../../../examples/road/valid-house-import-cude.json");

mod common;

use common::*;

// -------------------------------------------------------------------- cases

async fn full_path_to_mrn_and_signed_webhook(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-full").await;
    let (hook_url, got) = receiver().await;
    let (status, hook) = env
        .call(
            &t.key,
            "POST",
            "/v1/webhooks",
            Some(json!({"url": hook_url, "events": ["message.accepted"]})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().expect("secret").to_owned();

    let mut ids = Vec::new();
    for (kind, text) in [
        ("transport", TRANSPORT),
        ("master", MASTER),
        ("house", HOUSE),
    ] {
        let m = env.submit(&t, kind, &dated(text, "")).await;
        assert_eq!(m["state"], "queued");
        ids.push(m["id"].as_str().expect("id").to_owned());
    }
    let mut mrns = Vec::new();
    for id in &ids {
        let m = env.settled(&t, id, Duration::from_secs(30)).await;
        assert_eq!(m["state"], "accepted", "{m}");
        let mrn = m["mrn"].as_str().expect("mrn").to_owned();
        assert!(
            env.sim.control().toll_message(&mrn).is_some(),
            "the sim has {mrn}"
        );
        assert!(!m["history"].as_array().expect("history").is_empty());
        assert_eq!(m["attempts"].as_array().expect("attempts").len(), 1, "{m}");
        mrns.push(mrn);
    }
    // The transport tree from Toll, through the gateway.
    let (status, tree) = env
        .call(
            &t.key,
            "GET",
            &format!("/v1/messages/{}/tree", ids[0]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{tree}");
    assert!(
        tree.to_string().contains(&mrns[1]),
        "the transport's tree shows the master: {tree}"
    );

    // Three signed webhooks.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.lock().expect("lock").len() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "webhooks not delivered: {}",
            got.lock().expect("lock").len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (headers, body) in got.lock().expect("lock").iter() {
        let sig = headers
            .get("digitoll-signature")
            .expect("signature")
            .to_str()
            .expect("ascii");
        assert!(
            digitoll_gateway::webhook::verify(&secret, sig, body.as_bytes(), now, 300),
            "bad signature {sig}"
        );
        assert!(!digitoll_gateway::webhook::verify(
            "whsec_wrong",
            sig,
            body.as_bytes(),
            now,
            300
        ));
        let v: Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["event"], "message.accepted");
        assert!(mrns.iter().any(|m| v["data"]["mrn"] == *m), "{v}");
    }
    // The delivery log shows them delivered.
    let hid = hook["webhook"]["id"].as_str().expect("hook id");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, log) = env
            .call(
                &t.key,
                "GET",
                &format!("/v1/webhooks/{hid}/deliveries"),
                None,
            )
            .await;
        let delivered = log
            .as_array()
            .expect("list")
            .iter()
            .filter(|d| d["status"] == "delivered")
            .count();
        if delivered == 3 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Metrics are rendered.
    let text = env
        .http
        .get(env.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(text.contains("digitoll_gateway_attempts_total"), "{text}");
    assert!(text.contains("digitoll_gateway_queue_jobs"), "{text}");
    env.shutdown().await;
}

async fn tenant_isolation(b: Backend) {
    let env = Env::start(b).await;
    let a = env.tenant("310000000", "client-a").await;
    let other = env.tenant("311000004", "client-b").await;
    let m = env.submit(&a, "master", &dated(MASTER, "-iso")).await;
    let id = m["id"].as_str().expect("id").to_owned();
    let accepted = env.settled(&a, &id, Duration::from_secs(30)).await;
    let mrn = accepted["mrn"].as_str().expect("mrn").to_owned();
    let (_, hook) = env
        .call(
            &a.key,
            "POST",
            "/v1/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/x"})),
        )
        .await;
    let hid = hook["webhook"]["id"].as_str().expect("hook").to_owned();
    let upd = json!({"mode": "road"});
    for (method, path, body) in [
        ("GET", format!("/v1/messages/{id}"), None),
        ("GET", format!("/v1/messages/{id}/tree"), None),
        ("GET", format!("/v1/messages/by-mrn/{mrn}"), None),
        (
            "PUT",
            format!("/v1/messages/{id}"),
            Some(dated(MASTER, "-iso")),
        ),
        (
            "DELETE",
            format!("/v1/messages/{id}"),
            Some(json!({"documentIssueDate": "2026-12-01T08:00:00Z"})),
        ),
        ("GET", format!("/v1/webhooks/{hid}"), None),
        ("DELETE", format!("/v1/webhooks/{hid}"), None),
        ("GET", format!("/v1/webhooks/{hid}/deliveries"), None),
    ] {
        let _ = &upd;
        let (status, body) = env.call(&other.key, method, &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        let text = body.to_string();
        for secret in [&id, &mrn, &hid, &a.id] {
            assert!(
                !text.contains(secret.as_str()),
                "{method} {path} leaks {secret}: {text}"
            );
        }
    }
    // Lists show nothing of the other tenant.
    for path in ["/v1/messages", "/v1/webhooks", "/v1/routing-signals"] {
        let (status, body) = env.call(&other.key, "GET", path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        let text = body.to_string();
        assert!(
            !text.contains(&id) && !text.contains(&hid),
            "{path} leaks: {text}"
        );
    }
    // A tenant key on the admin API is refused; no key at all is 401.
    let (status, _) = env.call(&other.key, "GET", "/v1/admin/tenants", None).await;
    assert_eq!(status, 403);
    let (status, body) = env.call("dtk_nope", "GET", "/v1/messages", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    // The owner still sees it.
    assert_eq!(env.message(&a, &id).await["mrn"], mrn.as_str());
    // Also by its MRN; an unknown MRN is 404.
    let (status, by_mrn) = env
        .call(&a.key, "GET", &format!("/v1/messages/by-mrn/{mrn}"), None)
        .await;
    assert_eq!(status, 200, "{by_mrn}");
    assert_eq!(by_mrn["id"], id.as_str());
    assert_eq!(by_mrn["mrn"], mrn.as_str());
    assert!(by_mrn["history"].is_array(), "{by_mrn}");
    let (status, _) = env
        .call(&a.key, "GET", "/v1/messages/by-mrn/26NO0000000000000", None)
        .await;
    assert_eq!(status, 404);
    // A revoked key stops working at once.
    let (_, keys) = env
        .call_admin(
            "GET",
            &format!("/v1/admin/tenants/{}/api-keys", other.id),
            None,
        )
        .await;
    let kid = keys[0]["id"].as_str().expect("key id");
    let (status, _) = env
        .call_admin(
            "DELETE",
            &format!("/v1/admin/tenants/{}/api-keys/{kid}", other.id),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = env.call(&other.key, "GET", "/v1/messages", None).await;
    assert_eq!(status, 401);
    env.shutdown().await;
}

async fn bad_input_is_refused_and_nothing_stored(b: Backend) {
    let env = Env::start_with(b, |mut c| {
        c.max_body_bytes = 64 * 1024;
        c
    })
    .await;
    let t = env.tenant("310000000", "client-bad").await;
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("{\"mode\":\"road\",".into(), 400, "invalid_json", None),
        (
            json!({"mode": "road", "kind": 5, "body": {}}).to_string(),
            400,
            "invalid_value",
            Some("kind"),
        ),
        (
            json!({"mode": "boat", "kind": "master", "body": {}}).to_string(),
            400,
            "invalid_value",
            Some("mode"),
        ),
        (
            json!({"mode": "road", "kind": "master", "body": [1]}).to_string(),
            400,
            "invalid_value",
            Some("body"),
        ),
        (
            json!({"mode": "road", "kind": "master", "body": {}, "extra": 1}).to_string(),
            400,
            "invalid_value",
            None,
        ),
        (
            json!({"mode": "road", "kind": "master", "body": {"x": "y".repeat(70_000)}})
                .to_string(),
            413,
            "payload_too_large",
            None,
        ),
    ];
    for (body, status, code, field) in cases {
        let (s, _, text) = env
            .raw(&t.key, "POST", "/v1/messages", Some(body.clone()), &[])
            .await;
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        assert_eq!(s, status, "{}: {text}", &body[..body.len().min(80)]);
        assert_eq!(v["error"]["code"], code, "{text}");
        if let Some(f) = field {
            assert_eq!(v["error"]["field"], f, "{text}");
        }
    }
    // Wrong content type.
    let resp = env
        .http
        .post(env.url("/v1/messages"))
        .bearer_auth(&t.key)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 415);
    // A message Toll would reject: 422 with Toll's own error list.
    let mut invalid = dated(MASTER, "-bad");
    invalid["consignmentMasterLevel"]["consignee"]["address"] =
        json!({"city": "Oslo", "country": "NO"});
    invalid["consignmentMasterLevel"]["transportDocumentMasterLevel"]["type"] = json!(42);
    let (s, v) = env
        .call(
            &t.key,
            "POST",
            "/v1/messages",
            Some(json!({"mode": "road", "kind": "master", "body": invalid})),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["error"]["code"], "validation_failed");
    let errors = v["validationErrors"].as_array().expect("validationErrors");
    assert!(
        errors.iter().any(|e| e["field"]
            .as_str()
            .is_some_and(|f| f.contains("transportDocumentMasterLevel.type"))),
        "{v}"
    );
    // A business-rule failure comes as validationErrorList.
    let mut business = dated(MASTER, "-bad2");
    business["consignmentMasterLevel"]["consignor"]["address"]["country"] = json!("XX");
    let (s, v) = env
        .call(
            &t.key,
            "POST",
            "/v1/messages",
            Some(json!({"mode": "road", "kind": "master", "body": business})),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert!(
        v["validationErrorList"]
            .as_array()
            .is_some_and(|l| !l.is_empty()),
        "{v}"
    );
    // Nothing was stored, and nothing reached Toll.
    let tid: digitoll_store::TenantId = t.id.parse().expect("tenant id");
    assert!(
        env.store
            .messages(tid, Default::default())
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(env.sim.control().toll_submission_count(), 0);
    // Unknown routes and ids answer with the JSON error body.
    let (s, v) = env
        .call(&t.key, "GET", "/v1/messages/not-a-uuid", None)
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));
    let (s, v) = env
        .call(&t.key, "GET", "/v1/messages?state=bogus", None)
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (400, Some("state")));
    env.shutdown().await;
}

async fn idempotency(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-idem").await;
    let body =
        json!({"mode": "road", "kind": "master", "body": dated(MASTER, "-idem")}).to_string();
    let (s1, h1, first) = env
        .raw(
            &t.key,
            "POST",
            "/v1/messages",
            Some(body.clone()),
            &[("Idempotency-Key", "order-42")],
        )
        .await;
    assert_eq!(s1, 202, "{first}");
    assert!(h1.get("idempotent-replayed").is_none());
    let (s2, h2, second) = env
        .raw(
            &t.key,
            "POST",
            "/v1/messages",
            Some(body),
            &[("Idempotency-Key", "order-42")],
        )
        .await;
    assert_eq!(s2, 202, "{second}");
    assert_eq!(
        h2.get("idempotent-replayed").map(|v| v.to_str().ok()),
        Some(Some("true"))
    );
    let (a, b2): (Value, Value) = (
        serde_json::from_str(&first).expect("json"),
        serde_json::from_str(&second).expect("json"),
    );
    assert_eq!(a["id"], b2["id"]);
    let other =
        json!({"mode": "road", "kind": "master", "body": dated(MASTER, "-idem-other")}).to_string();
    let (s3, _, conflict) = env
        .raw(
            &t.key,
            "POST",
            "/v1/messages",
            Some(other),
            &[("Idempotency-Key", "order-42")],
        )
        .await;
    assert_eq!(s3, 409, "{conflict}");
    let id = a["id"].as_str().expect("id");
    let m = env.settled(&t, id, Duration::from_secs(30)).await;
    assert_eq!(m["state"], "accepted");
    let tid: digitoll_store::TenantId = t.id.parse().expect("tenant id");
    assert_eq!(
        env.store
            .messages(tid, Default::default())
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(env.sim.control().toll_messages().len(), 1);
    env.shutdown().await;
}

async fn token_broker_uses_the_cache(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-tok").await;
    let count = |path: &str| {
        env.sim
            .control()
            .requests()
            .iter()
            .filter(|r| r.path == path)
            .count()
    };
    let (s, tok) = env
        .call(&t.key, "POST", "/v1/tokens", Some(json!({"scope": ROAD})))
        .await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["kind"], "toll");
    assert!(tok["expires_in"].as_u64().is_some_and(|e| e > 0));
    let (mp, ex) = (count("/token"), count("/api/access/external/oauth/token"));
    assert_eq!((mp, ex), (1, 1));
    let (s, again) = env
        .call(&t.key, "POST", "/v1/tokens", Some(json!({"scope": ROAD})))
        .await;
    assert_eq!(s, 200);
    assert_eq!(again["access_token"], tok["access_token"]);
    let (s, mpt) = env
        .call(
            &t.key,
            "POST",
            "/v1/tokens",
            Some(json!({"scope": ROAD, "kind": "maskinporten"})),
        )
        .await;
    assert_eq!(s, 200, "{mpt}");
    assert_eq!(
        (count("/token"), count("/api/access/external/oauth/token")),
        (1, 1),
        "served from the cache"
    );
    let (s, denied) = env
        .call(
            &t.key,
            "POST",
            "/v1/tokens",
            Some(json!({"scope": "toll:movement/air"})),
        )
        .await;
    assert_eq!(s, 403, "{denied}");
    env.shutdown().await;
}

async fn toll_faults_still_one_mrn_each(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-faults").await;
    let ctl = env.sim.control();
    ctl.seed_faults(7);
    let prefix = "/api/movement/road/v2/master-consignment";
    ctl.add_fault(Fault::status(prefix, 503).method("POST").probability(0.12));
    ctl.add_fault(
        Fault::rate_limited(prefix, 1)
            .method("POST")
            .probability(0.12),
    );
    ctl.add_fault(
        Fault::drop_connection(prefix)
            .method("POST")
            .probability(0.12),
    );
    let mut ids = Vec::new();
    for i in 0..12 {
        let m = env
            .submit(&t, "master", &dated(MASTER, &format!("-f{i}")))
            .await;
        ids.push(m["id"].as_str().expect("id").to_owned());
    }
    let mut accepted = Vec::new();
    for id in &ids {
        let m = env.settled(&t, id, Duration::from_secs(90)).await;
        assert_eq!(m["state"], "accepted", "{m}");
        accepted.push(m["mrn"].as_str().expect("mrn").to_owned());
    }
    let sim_msgs = ctl.toll_messages();
    for mrn in &accepted {
        assert_eq!(
            sim_msgs.iter().filter(|m| &m.mrn == mrn).count(),
            1,
            "{mrn}"
        );
    }
    assert_eq!(
        sim_msgs.len(),
        ids.len(),
        "one Toll message per accepted message, no duplicates"
    );
    let faulted = ctl
        .requests()
        .iter()
        .filter(|r| r.path == prefix && r.method == "POST")
        .count();
    assert!(
        faulted > ids.len(),
        "faults fired ({faulted} POSTs for {} messages)",
        ids.len()
    );
    env.shutdown().await;
}

async fn maskinporten_outage_then_recovery(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-outage").await;
    let ctl = env.sim.control();
    ctl.add_fault(
        Fault::outage("/token")
            .until_wall(time::OffsetDateTime::now_utc() + time::Duration::seconds(2)),
    );
    let m = env.submit(&t, "master", &dated(MASTER, "-mp")).await;
    let id = m["id"].as_str().expect("id").to_owned();
    let m = env.settled(&t, &id, Duration::from_secs(60)).await;
    assert_eq!(m["state"], "accepted", "{m}");
    let attempts = m["attempts"].as_array().expect("attempts");
    assert!(attempts.len() >= 2, "retried through the outage: {m}");
    assert!(
        attempts.iter().any(|a| a["error_class"] == "maskinporten"),
        "{m}"
    );
    env.shutdown().await;
}

async fn no_secrets_in_logs_or_responses(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-secret").await;
    let (_, hook) = env
        .call(
            &t.key,
            "POST",
            "/v1/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/none"})),
        )
        .await;
    let hook_secret = hook["secret"].as_str().expect("secret").to_owned();
    let (_, tok) = env
        .call(&t.key, "POST", "/v1/tokens", Some(json!({"scope": ROAD})))
        .await;
    let toll_token = tok["access_token"].as_str().expect("token").to_owned();
    let (_, mpt) = env
        .call(
            &t.key,
            "POST",
            "/v1/tokens",
            Some(json!({"scope": ROAD, "kind": "maskinporten"})),
        )
        .await;
    let mp_token = mpt["access_token"].as_str().expect("token").to_owned();
    let m = env.submit(&t, "master", &dated(MASTER, "-sec")).await;
    env.settled(&t, m["id"].as_str().expect("id"), Duration::from_secs(30))
        .await;
    // The sealed key, opened only here to know what to look for.
    let tid: digitoll_store::TenantId = t.id.parse().expect("tenant id");
    let pem = match env.store.tenant_key(tid).await.expect("key") {
        digitoll_store::TenantKeyMaterial::KeyPair { private_key, .. } => {
            String::from_utf8(secrecy::ExposeSecret::expose_secret(&private_key).to_vec())
                .expect("pem")
        }
        other => panic!("unexpected {other:?}"),
    };
    let key_body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    // Every admin and tenant read.
    let mut responses = String::new();
    for (key, path) in [
        (env.admin_key.as_str(), "/v1/admin/tenants".to_owned()),
        (
            env.admin_key.as_str(),
            format!("/v1/admin/tenants/{}", t.id),
        ),
        (
            env.admin_key.as_str(),
            format!("/v1/admin/tenants/{}/api-keys", t.id),
        ),
        (env.admin_key.as_str(), "/v1/admin/audit".to_owned()),
        (t.key.as_str(), "/v1/messages".to_owned()),
        (t.key.as_str(), "/v1/webhooks".to_owned()),
    ] {
        let (s, v) = env.call(key, "GET", &path, None).await;
        assert_eq!(s, 200, "{path}: {v}");
        responses.push_str(&v.to_string());
    }
    let logs = logs();
    assert!(
        logs.contains("tenant clients built"),
        "the log capture works"
    );
    for (what, secret) in [
        ("private key", key_body[..60].to_owned()),
        ("tenant API key", t.key.clone()),
        ("admin API key", env.admin_key.clone()),
        ("webhook secret", hook_secret),
        ("Toll token", toll_token),
        ("Maskinporten token", mp_token),
    ] {
        assert!(!logs.contains(&secret), "{what} appears in the logs");
        assert!(
            !responses.contains(&secret),
            "{what} appears in an API response"
        );
    }
    env.shutdown().await;
}

async fn graceful_shutdown_finishes_in_flight_job(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-stop").await;
    env.sim.control().add_fault(
        Fault::latency(
            "/api/movement/road/v2/master-consignment",
            Duration::from_millis(1500),
        )
        .method("POST"),
    );
    let m = env.submit(&t, "master", &dated(MASTER, "-stop")).await;
    let id = m["id"].as_str().expect("id").to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while env.message(&t, &id).await["state"] != "sending" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never started sending"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ready = env
        .http
        .get(env.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);
    env.state.start_draining();
    let ready = env
        .http
        .get(env.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        ready.status().as_u16(),
        503,
        "draining instances leave the load balancer"
    );
    let _ = env.stop.send(true);
    let started = tokio::time::Instant::now();
    let workers = {
        let mut e = env;
        let w = e.workers.take().expect("workers");
        (e, w)
    };
    let (env, handle) = workers;
    tokio::time::timeout(Duration::from_secs(20), handle)
        .await
        .expect("workers stop")
        .expect("no panic");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "waited for the in-flight send"
    );
    let m = env.message(&t, &id).await;
    assert_eq!(
        m["state"], "submitted",
        "the in-flight send was finished and recorded: {m}"
    );
    assert_eq!(m["attempts"][0]["outcome"], "ok", "{m}");
    env.shutdown().await;
}

async fn lost_transport_response_needs_attention(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-lost").await;
    let (hook_url, got) = receiver().await;
    env.call(
        &t.key,
        "POST",
        "/v1/webhooks",
        Some(json!({"url": hook_url, "events": ["message.needs_attention"]})),
    )
    .await;
    let ctl = env.sim.control();
    ctl.add_fault(
        Fault::drop_response("/api/movement/road/v2/transport")
            .method("POST")
            .times(1),
    );
    let m = env.submit(&t, "transport", &dated(TRANSPORT, "")).await;
    let id = m["id"].as_str().expect("id").to_owned();
    let m = env.settled(&t, &id, Duration::from_secs(30)).await;
    assert_eq!(m["state"], "dead", "{m}");
    assert_eq!(m["needs_attention"], true, "{m}");
    assert_eq!(m["attempts"][0]["outcome"], "ambiguous", "{m}");
    // Toll got it exactly once: the gateway did not post it again.
    let posts = ctl
        .requests()
        .iter()
        .filter(|r| r.path == "/api/movement/road/v2/transport" && r.method == "POST")
        .count();
    assert_eq!(posts, 1);
    assert_eq!(ctl.toll_messages().len(), 1);
    // The operator sees it among the dead jobs, and the tenant got the event.
    let (_, dead) = env.call_admin("GET", "/v1/admin/dead-jobs", None).await;
    assert!(
        dead.as_array()
            .is_some_and(|d| d.iter().any(|j| j["message_id"] == id.as_str())),
        "{dead}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.lock().expect("lock").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no needs_attention webhook"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    env.shutdown().await;
}

// ------------------------------------------------------------------ OpenAPI

#[test]
fn openapi_file_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let generated = digitoll_gateway::openapi_json();
    let doc: Value = serde_json::from_str(&generated).expect("valid JSON");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    if std::env::var_os("DIGITOLL_UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).expect("write openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "crates/digitoll-gateway/openapi.json is out of date with the code. Regenerate it with\n\n    \
         DIGITOLL_UPDATE_OPENAPI=1 cargo test -p digitoll-gateway --test gateway openapi_file_is_current\n\n\
         and commit the file."
    );
}

/// Waits until the tenant's routing signals (through the API) satisfy `ok`.
async fn signals_until(
    env: &Env,
    t: &Tenant,
    ok: impl Fn(&[Value]) -> bool,
    within: Duration,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (status, list) = env
            .call(&t.key, "GET", "/v1/routing-signals?limit=1000", None)
            .await;
        assert_eq!(status, 200, "{list}");
        let list = list.as_array().expect("list").clone();
        if ok(&list) {
            return list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "routing signals not as expected: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn routing_follower_stores_signals_once_and_signs_webhooks(b: Backend) {
    let mut env = Env::start_with(b, |c| GatewayConfig {
        routing_interval: Some(Duration::from_millis(100)),
        ..c
    })
    .await;
    let t = env.tenant("310000000", "client-routing").await;
    let other = env.tenant("311000004", "client-routing-b").await;
    let (hook_url, got) = receiver().await;
    let (status, hook) = env
        .call(
            &t.key,
            "POST",
            "/v1/webhooks",
            Some(json!({"url": hook_url, "events": ["routing_signal"]})),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().expect("secret").to_owned();

    let mut ids = Vec::new();
    for (kind, text) in [
        ("transport", TRANSPORT),
        ("master", MASTER),
        ("house", HOUSE),
    ] {
        let m = env.submit(&t, kind, &dated(text, "-rt")).await;
        ids.push(m["id"].as_str().expect("id").to_owned());
    }
    let mut mrns = Vec::new();
    for id in &ids {
        let m = env.settled(&t, id, Duration::from_secs(30)).await;
        assert_eq!(m["state"], "accepted", "{m}");
        mrns.push(m["mrn"].as_str().expect("mrn").to_owned());
    }
    let house = env.message(&t, &ids[2]).await;
    let house_number = house["document_number"]
        .as_str()
        .expect("number")
        .to_owned();

    let crossing = env.sim.control().simulate_arrival(&mrns[0], "NO371001");
    let expected = crossing.house_signals.len() + 1;
    assert!(!crossing.house_signals.is_empty(), "{crossing:?}");
    let list = signals_until(&env, &t, |l| l.len() >= expected, Duration::from_secs(30)).await;
    assert_eq!(list.len(), expected, "{list:?}");
    assert!(
        list.iter()
            .any(|s| s["feed"] == "transport" && s["reference"] == mrns[0].as_str()),
        "transport signal: {list:?}"
    );
    assert!(
        list.iter().any(|s| s["feed"] == "house-consignment"
            && s["reference"]
                .as_str()
                .is_some_and(|r| r.starts_with(&house_number))),
        "house signal: {list:?}"
    );
    // Another tenant sees none of them.
    let (_, theirs) = env
        .call(&other.key, "GET", "/v1/routing-signals", None)
        .await;
    assert_eq!(theirs, json!([]));

    // One signed `routing_signal` webhook per signal; the house one names the message.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.lock().expect("lock").len() < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "routing webhooks not delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut attached = false;
    for (headers, body) in got.lock().expect("lock").iter() {
        let sig = headers
            .get("digitoll-signature")
            .expect("signature")
            .to_str()
            .expect("ascii");
        assert!(
            digitoll_gateway::webhook::verify(&secret, sig, body.as_bytes(), now, 300),
            "bad signature {sig}"
        );
        assert_eq!(
            headers.get("digitoll-event").expect("event"),
            "routing_signal"
        );
        let v: Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["event"], "routing_signal");
        if v["data"]["message_ids"]
            .as_array()
            .is_some_and(|a| a.iter().any(|m| m == ids[2].as_str()))
        {
            attached = true;
        }
    }
    assert!(attached, "the house signal names the house message");

    // Restart the follower (a new worker set over the same store): nothing twice.
    let _ = env.stop.send(true);
    if let Some(w) = env.workers.take() {
        tokio::time::timeout(Duration::from_secs(20), w)
            .await
            .expect("workers stop")
            .expect("workers join");
    }
    let (stop2, stopped2) = watch::channel(false);
    let restarted = GatewayState::new(
        env.store.clone(),
        GatewayConfig {
            routing_interval: Some(Duration::from_millis(50)),
            ..config(&env.sim)
        },
        None,
    );
    let workers2 = tokio::spawn(run_workers(restarted, stopped2));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let tid: digitoll_store::TenantId = t.id.parse().expect("tenant id");
    let stored = env
        .store
        .routing_signals(tid, None, 1000)
        .await
        .expect("signals");
    assert_eq!(
        stored.len(),
        expected,
        "stored twice after restart: {stored:?}"
    );
    let mut result_ids: Vec<_> = stored
        .iter()
        .map(|s| s.raw["routingResult"]["id"].to_string())
        .collect();
    result_ids.sort();
    result_ids.dedup();
    assert_eq!(result_ids.len(), expected);

    // A second crossing after the restart is picked up from the stored marker.
    env.sim.control().simulate_arrival(&mrns[0], "NO371001");
    let again = signals_until(
        &env,
        &t,
        |l| l.len() >= 2 * expected,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(again.len(), 2 * expected, "{again:?}");
    let _ = stop2.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(20), workers2).await;
    env.shutdown().await;
}

const DOCUMENT_SCOPE: &str = "toll:goodsdeclaration/document.write";

/// Posts a multipart upload (`metadata` then `file`) with a tenant key.
async fn upload_document(
    env: &Env,
    key: &str,
    declaration: &str,
    document_type: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .part(
            "metadata",
            reqwest::multipart::Part::text(json!({"documentType": document_type}).to_string())
                .mime_str("application/json")
                .expect("mime"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        );
    let resp = env
        .http
        .post(env.url(&format!("/v1/documents/{declaration}")))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn document_upload_checks_and_passes_through(b: Backend) {
    let env = Env::start(b).await;
    let t = env
        .tenant_with_scopes("310000000", "client-docs", &[ROAD, DOCUMENT_SCOPE])
        .await;
    let no_scope = env.tenant("311000004", "client-docs-b").await;
    let decl = "123456789-01092023-1";
    let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n".to_vec();

    // Valid: 201 with Toll's receipt; the sim has exactly this file.
    let (status, body) =
        upload_document(&env, &t.key, decl, "invoice", "faktura.pdf", pdf.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["declaration_id"], decl);
    assert_eq!(body["document_type"], "faktura");
    assert_eq!(body["file_kind"], "pdf");
    assert_eq!(body["size"], pdf.len());
    assert!(body["receipt"]["documentId"].is_string(), "{body}");
    let docs = env.sim.control().uploaded_documents();
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0].org, "310000000");
    assert_eq!(docs[0].file_name, "faktura.pdf");

    // Larger than the gateway's 2 MiB JSON body limit but within 10 MB: the
    // route's own limit applies.
    let mut mid = pdf.clone();
    mid.resize(3 * 1024 * 1024, b' ');
    let (status, body) = upload_document(&env, &t.key, decl, "faktura", "stor.pdf", mid).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["size"], 3 * 1024 * 1024);
    // A PNG named .pdf: 415 naming the mismatch; nothing sent.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    let (status, body) = upload_document(&env, &t.key, decl, "faktura", "scan.pdf", png).await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(body["error"]["code"], "unsupported_media_type");
    assert_eq!(body["error"]["field"], "file");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("scan.pdf"),
        "{body}"
    );

    // Empty: 400.
    let (status, body) =
        upload_document(&env, &t.key, decl, "faktura", "tom.pdf", Vec::new()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "file");

    // Over 10 MB: 413.
    let mut big = pdf.clone();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let (status, body) = upload_document(&env, &t.key, decl, "faktura", "stor.pdf", big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");

    // A bad declaration id and an unknown document type: 400 naming the part.
    let (status, body) =
        upload_document(&env, &t.key, "12-x", "faktura", "faktura.pdf", pdf.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "declarationId");
    let (status, body) = upload_document(
        &env,
        &t.key,
        decl,
        "kvittering?",
        "faktura.pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "metadata");

    // Not multipart: 415.
    let (status, _, text) = env
        .raw(
            &t.key,
            "POST",
            &format!("/v1/documents/{decl}"),
            Some("{}".into()),
            &[],
        )
        .await;
    assert_eq!(status, 415, "{text}");

    // A tenant without the document scope: 403, nothing sent; no key: 401.
    let (status, body) = upload_document(
        &env,
        &no_scope.key,
        decl,
        "faktura",
        "faktura.pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = upload_document(&env, "dtk_nope", decl, "faktura", "faktura.pdf", pdf).await;
    assert_eq!(status, 401);
    assert_eq!(env.sim.control().uploaded_documents().len(), 2);
    env.shutdown().await;
}

macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Backend::Postgres).await;
                }
            )+
        }
    };
}

on_both_backends!(
    full_path_to_mrn_and_signed_webhook,
    tenant_isolation,
    bad_input_is_refused_and_nothing_stored,
    idempotency,
    token_broker_uses_the_cache,
    toll_faults_still_one_mrn_each,
    maskinporten_outage_then_recovery,
    no_secrets_in_logs_or_responses,
    graceful_shutdown_finishes_in_flight_job,
    lost_transport_response_needs_attention,
    routing_follower_stores_signals_once_and_signs_webhooks,
    document_upload_checks_and_passes_through,
);

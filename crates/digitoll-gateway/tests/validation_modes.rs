//! Per-tenant validation modes (strict / advisory / off) and contract
//! profiles, against the in-process simulator as Toll, on SQLite and
//! PostgreSQL (`on_both_backends!` at the end, as in `tests/gateway.rs`).
//!
//! * advisory: a message our rules reject is stored and sent; Toll (the
//!   simulator, which applies the same rules) answers FAILURE/400, and the
//!   local findings stay next to Toll's answer in the REST API and in the
//!   webhook payload;
//! * advisory, a rule the simulator does not enforce (the playground NCTS
//!   reference rule, with the simulator's playground checks off): the message
//!   gets its MRN and keeps the local warning;
//! * strict: 422, nothing stored, nothing sent (as before);
//! * off: sent without findings; a body that is not its kind is still refused;
//! * a bad tenant profile is refused with its line and column.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use digitoll_gateway::GatewayConfig;
use digitoll_model::{ContractProfile, rules};
use serde_json::{Value, json};

const MASTER: &str = include_str!("../../../examples/road/valid-master.json");
/// FAILURE at Toll: two places with malformed UN/LOCODEs, rule
/// `place.unlocode.format` (its catalogue entry is partly inferred).
const BAD_MASTER: &str = include_str!("../../../examples/road/invalid-master-unlocode-format.json");
const UNLOCODE_RULE: &str = "place.unlocode.format";
const N820_RULE: &str = "playground.n820-state";
/// FAILURE on Toll's playground only: an N820 reference containing `INVALID`.
const N820_HOUSE: &str = include_str!("../../../examples/road/invalid-house-n820-wrong-state.json");

mod common;

use common::*;

// -------------------------------------------------------------------- cases

impl Env {
    /// Sets the tenant's validation mode (and profile) over the admin API.
    async fn set_validation(&self, t: &Tenant, patch: Value) -> Value {
        let (status, body) = self
            .call_admin("PATCH", &format!("/v1/admin/tenants/{}", t.id), Some(patch))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Subscribes a webhook receiver to every event.
    async fn hook(&self, t: &Tenant) -> Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> {
        let (url, got) = receiver().await;
        let (status, hook) = self
            .call(
                &t.key,
                "POST",
                "/v1/webhooks",
                Some(json!({"url": url, "events": ["*"]})),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
        got
    }

    /// POSTs of `segment` (`master-consignment`, …) that reached the simulator.
    fn posts_at_sim(&self, segment: &str) -> usize {
        self.sim
            .control()
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with(&format!("/{segment}")))
            .count()
    }
}

/// The webhook payload of `event` for message `id`, waiting for it.
async fn event_for(
    got: &Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>,
    event: &str,
    id: &str,
) -> Value {
    for _ in 0..200 {
        let found = got
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(_, b)| serde_json::from_str::<Value>(b).ok())
            .find(|p| p["event"] == event && p["data"]["message_id"] == id);
        if let Some(p) = found {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {event} webhook for {id}");
}

fn rules_of(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .expect("findings are a list")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule").to_owned())
        .collect()
}

fn paths(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .expect("findings are a list")
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_owned())
        .collect()
}

async fn advisory_sends_what_local_validation_rejects_and_toll_agrees(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-adv").await;
    let tenant = env
        .set_validation(&t, json!({"validation_mode": "advisory"}))
        .await;
    assert_eq!(tenant["validation_mode"], "advisory");
    let got = env.hook(&t).await;

    let rule = rules::find(UNLOCODE_RULE).expect("in the catalogue");
    assert!(
        rule.sources
            .iter()
            .any(|s| matches!(s, rules::Source::Inferred(_))),
        "a rule with an inferred part"
    );
    let accepted = env.submit(&t, "master", &dated(BAD_MASTER, "-ADV")).await;
    assert_eq!(accepted["validation_mode"], "advisory");
    let local = accepted["local_findings"].clone();
    assert!(
        rules_of(&local).iter().all(|r| r == UNLOCODE_RULE) && !rules_of(&local).is_empty(),
        "only our UN/LOCODE rule fired: {local}"
    );
    assert!(
        local
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "error"
                && f["channel"] == "business"
                && f["message"].as_str().is_some_and(|m| !m.is_empty())),
        "{local}"
    );
    let local_paths = paths(&local);
    assert_eq!(accepted["local_finding_count"], local_paths.len());

    let id = accepted["id"].as_str().unwrap().to_owned();
    let m = env.settled(&t, &id, Duration::from_secs(30)).await;
    // Toll (the simulator) judged and agreed: FAILURE with its own list.
    assert_eq!(m["state"], "rejected", "{m}");
    assert_eq!(env.posts_at_sim("master-consignment"), 1, "sent once");
    assert!(
        m["validation_errors"]["validationErrorList"].is_array(),
        "{m}"
    );
    let toll = m["validation_errors"].to_string();
    for p in &local_paths {
        assert!(toll.contains(p.as_str()), "Toll also names {p}: {toll}");
    }
    assert_eq!(m["local_findings"], local, "kept next to Toll's answer");
    assert_eq!(m["mrn"], Value::Null);

    // The list shows them briefly (a count), the webhook in full.
    let (status, page) = env.call(&t.key, "GET", "/v1/messages", None).await;
    assert_eq!(status, 200, "{page}");
    let row = &page["messages"][0];
    assert_eq!(row["id"], id.as_str());
    assert_eq!(row["local_finding_count"], local_paths.len());
    assert!(row.get("local_findings").is_none(), "{row}");
    let event = event_for(&got, "message.rejected", &id).await;
    assert_eq!(event["data"]["local_findings"], local, "{event}");
    assert_eq!(event["data"]["validation_errors"], m["validation_errors"]);
    assert_eq!(event["data"]["validation_mode"], "advisory");
    env.shutdown().await;
}

async fn advisory_message_gets_its_mrn_with_the_local_warning_kept(b: Backend) {
    // The simulator does not apply the playground fixture rules here; the
    // gateway's sim tenant does, so our rule fires and Toll does not.
    let env = Env::start_custom(b, |s| s.playground(false), |c| c).await;
    let t = env.tenant("310000000", "client-mrn").await;
    env.set_validation(&t, json!({"validation_mode": "advisory"}))
        .await;
    let got = env.hook(&t).await;
    let master = env.submit(&t, "master", &dated(MASTER, "")).await;
    let house = env.submit(&t, "house", &dated(N820_HOUSE, "")).await;
    let local = house["local_findings"].clone();
    assert_eq!(
        rules_of(&local),
        [N820_RULE],
        "our playground N820 rule fired: {local}"
    );
    assert!(paths(&local)[0].ends_with("referenceNumber"), "{local}");
    for id in [&master["id"], &house["id"]] {
        let id = id.as_str().unwrap();
        let m = env.settled(&t, id, Duration::from_secs(30)).await;
        assert_eq!(m["state"], "accepted", "{m}");
    }
    let id = house["id"].as_str().unwrap();
    let m = env.message(&t, id).await;
    let mrn = m["mrn"].as_str().expect("an MRN").to_owned();
    assert!(env.sim.control().toll_message(&mrn).is_some());
    assert_eq!(
        m["local_findings"], local,
        "the warning is kept with the MRN"
    );
    let event = event_for(&got, "message.accepted", id).await;
    assert_eq!(event["data"]["mrn"], mrn.as_str());
    assert_eq!(event["data"]["local_findings"], local);
    // A valid message has no findings.
    let m = env.message(&t, master["id"].as_str().unwrap()).await;
    assert_eq!(m["local_findings"], json!([]));
    assert_eq!(m["local_finding_count"], 0);
    env.shutdown().await;
}

async fn strict_refuses_and_stores_nothing(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-strict").await;
    let (status, tenant) = env
        .call_admin("GET", &format!("/v1/admin/tenants/{}", t.id), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(tenant["validation_mode"], "strict", "the default");
    let (status, body) = env
        .call(
            &t.key,
            "POST",
            "/v1/messages",
            Some(json!({"mode": "road", "kind": "master", "body": dated(BAD_MASTER, "")})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    let (_, page) = env.call(&t.key, "GET", "/v1/messages", None).await;
    assert_eq!(page["messages"], json!([]), "nothing stored");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(env.posts_at_sim("master-consignment"), 0, "nothing sent");
    // A valid one is stored without findings.
    let m = env.submit(&t, "master", &dated(MASTER, "")).await;
    assert_eq!(m["local_findings"], json!([]));
    let m = env
        .settled(&t, m["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(m["state"], "accepted", "{m}");
    env.shutdown().await;
}

async fn off_sends_without_findings(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-off").await;
    env.set_validation(&t, json!({"validation_mode": "off"}))
        .await;
    let m = env.submit(&t, "master", &dated(BAD_MASTER, "-OFF")).await;
    assert_eq!(m["local_findings"], json!([]));
    assert_eq!(m["validation_mode"], "off");
    let m = env
        .settled(&t, m["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(m["state"], "rejected", "Toll judged: {m}");
    assert_eq!(m["local_findings"], json!([]));
    assert_eq!(env.posts_at_sim("master-consignment"), 1);
    // Nothing to send: a house body claimed as a transport, or no object.
    for (kind, body, needle) in [
        (
            "transport",
            dated(N820_HOUSE, ""),
            "not a transport message",
        ),
        ("master", json!([1, 2]), "must be a JSON object"),
    ] {
        let (status, e) = env
            .call(
                &t.key,
                "POST",
                "/v1/messages",
                Some(json!({"mode": "road", "kind": kind, "body": body})),
            )
            .await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(e["error"]["field"], "body", "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(needle),
            "{e}"
        );
    }
    env.shutdown().await;
}

async fn tenant_profiles_are_checked_when_set(b: Backend) {
    let env = Env::start(b).await;
    let t = env.tenant("310000000", "client-prof").await;
    let good = "name = \"our reading of toll-test\"\n\n[rules]\n";
    let tenant = env
        .set_validation(&t, json!({"contract_profile": good}))
        .await;
    assert_eq!(tenant["contract_profile"], good);
    assert_eq!(tenant["validation_mode"], "strict", "left as it was");
    for (bad, line, column) in [
        (
            "name = \"x\"\n\n[rules]\n\"no.such.rule\" = \"warning\"\n",
            4,
            1,
        ),
        ("name = \"x\"\nstrictness = 3\n", 2, 1),
        ("[rules\n", 1, 7),
    ] {
        let (status, e) = env
            .call_admin(
                "PATCH",
                &format!("/v1/admin/tenants/{}", t.id),
                Some(json!({"contract_profile": bad, "validation_mode": "advisory"})),
            )
            .await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(e["error"]["code"], "invalid_profile", "{e}");
        assert_eq!(e["error"]["field"], "contract_profile", "{e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!("contract_profile:{line}:{column}: ")),
            "{bad:?} → {msg}"
        );
    }
    // Refused as a whole: neither the profile nor the mode changed.
    let (_, tenant) = env
        .call_admin("GET", &format!("/v1/admin/tenants/{}", t.id), None)
        .await;
    assert_eq!(tenant["contract_profile"], good);
    assert_eq!(tenant["validation_mode"], "strict");
    // An unknown mode is refused too; null removes the profile.
    let (status, e) = env
        .call_admin(
            "PATCH",
            &format!("/v1/admin/tenants/{}", t.id),
            Some(json!({"validation_mode": "lenient"})),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    let tenant = env
        .set_validation(&t, json!({"contract_profile": null}))
        .await;
    assert_eq!(tenant["contract_profile"], Value::Null);
    env.shutdown().await;
}

async fn a_rule_at_warning_passes_in_strict_mode(b: Backend) {
    // The instance's profile lowers the N820 rule to a warning for everyone;
    // a tenant's profile raises it back to an error for that tenant alone.
    let instance = ContractProfile::from_toml(
        &format!("[rules]\n\"{N820_RULE}\" = \"warning\"\n"),
        "instance.toml",
    )
    .expect("instance profile");
    let env = Env::start_custom(
        b,
        |s| s.playground(false),
        move |c| GatewayConfig {
            profile: instance,
            ..c
        },
    )
    .await;
    let t = env.tenant("310000000", "client-warn").await;
    let house = env.submit(&t, "house", &dated(N820_HOUSE, "")).await;
    assert_eq!(house["validation_mode"], "strict");
    let local = house["local_findings"].clone();
    assert_eq!(rules_of(&local), [N820_RULE], "{local}");
    assert_eq!(local[0]["severity"], "warning");
    let id = house["id"].as_str().unwrap();
    let m = env.settled(&t, id, Duration::from_secs(30)).await;
    // The worker's client checked with the same severities, so it was sent.
    assert_eq!(m["state"], "accepted", "{m}");
    assert!(m["mrn"].is_string());
    assert_eq!(m["local_findings"], local);

    // The tenant's own entry overrides the instance's: an error again → 422.
    let strictest = format!("[rules]\n\"{N820_RULE}\" = \"error\"\n");
    env.set_validation(&t, json!({"contract_profile": strictest}))
        .await;
    let (status, e) = env
        .call(
            &t.key,
            "POST",
            "/v1/messages",
            Some(json!({"mode": "road", "kind": "house", "body": dated(N820_HOUSE, "-2")})),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    assert!(e.to_string().contains("referenceNumber"), "{e}");
    // And a tenant profile can lower a rule on its own (here the UN/LOCODE
    // one, which Toll enforces: the message passes locally and Toll refuses it).
    let lenient = format!("[rules]\n\"{UNLOCODE_RULE}\" = \"off\"\n");
    env.set_validation(&t, json!({"contract_profile": lenient}))
        .await;
    let m = env.submit(&t, "master", &dated(BAD_MASTER, "-LEN")).await;
    assert_eq!(
        m["local_findings"],
        json!([]),
        "an `off` rule leaves no finding"
    );
    let m = env
        .settled(&t, m["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(m["state"], "rejected", "{m}");
    assert_eq!(
        env.posts_at_sim("master-consignment"),
        1,
        "the client let it through"
    );
    env.shutdown().await;
}

async fn a_profile_changed_elsewhere_reaches_the_workers_client(b: Backend) {
    // Another process changes the tenant's profile in the database: this
    // process's caches are not told. Within the API's cache TTL (100 ms
    // here) the API and the worker's client both use the new severities.
    let env = Env::start_custom(
        b,
        |s| s.playground(false),
        |c| GatewayConfig {
            auth_cache_ttl: Duration::from_millis(100),
            ..c
        },
    )
    .await;
    let t = env.tenant("310000000", "client-elsewhere").await;
    let master = env.submit(&t, "master", &dated(MASTER, "")).await;
    let m = env
        .settled(&t, master["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(
        m["state"], "accepted",
        "the tenant's clients are built: {m}"
    );
    env.store
        .update_tenant(
            t.id.parse().expect("tenant id"),
            digitoll_store::TenantUpdate {
                contract_profile: Some(Some(format!("[rules]\n\"{N820_RULE}\" = \"warning\"\n"))),
                ..digitoll_store::TenantUpdate::default()
            },
        )
        .await
        .expect("update elsewhere");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let house = env.submit(&t, "house", &dated(N820_HOUSE, "")).await;
    assert_eq!(house["local_findings"][0]["severity"], "warning", "{house}");
    let m = env
        .settled(&t, house["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(
        m["state"], "accepted",
        "the worker's client was rebuilt: {m}"
    );
    env.shutdown().await;
}

/// Toll answers a validation status whose `status` cannot be read (the
/// simulator plays a Toll that names the field `processingStatus`): the poll
/// loop neither stops at once nor polls forever; after the poll budget the
/// message fails, with Toll's raw answer and the parse error kept for the
/// operator.
async fn an_unreadable_validation_status_keeps_tolls_answer(b: Backend) {
    let mut profile = ContractProfile::default();
    profile
        .response_fields
        .insert("status".into(), "processingStatus".into());
    let env = Env::start_custom(
        b,
        |s| s.profile(profile),
        |mut c| {
            c.workers.max_polls = 3;
            c
        },
    )
    .await;
    let t = env.tenant("310000000", "client-unparsed").await;
    let m = env.submit(&t, "master", &dated(MASTER, "-UNPARSED")).await;
    let m = env
        .settled(&t, m["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(m["state"], "failed", "{m}");
    let text = m.to_string();
    assert!(text.contains("could not be read"), "{m}");
    assert!(text.contains("unparsedTollResponse"), "{m}");
    assert!(
        text.contains("processingStatus"),
        "Toll's raw body is kept: {m}"
    );
    assert_eq!(env.posts_at_sim("master-consignment"), 1, "sent once");
    env.shutdown().await;
}

/// The instance's and a tenant's `[endpoints]` reach the tenant's Toll
/// clients: Toll (the simulator) takes masters at another path; a gateway
/// whose instance profile says so, and one whose tenant profile says so,
/// both send there and get the MRN.
async fn profile_endpoints_reach_the_tenants_clients(b: Backend) {
    const MOVED: &str = "/api/movement/road/v2/masters";
    let mut moved = ContractProfile::default();
    moved
        .set_endpoint("road.master.create", MOVED)
        .expect("a valid override");
    // The instance's profile.
    let sim_profile = moved.clone();
    let instance = moved.clone();
    let env = Env::start_custom(
        b,
        |s| s.profile(sim_profile),
        |mut c| {
            c.profile = instance;
            c
        },
    )
    .await;
    let t = env.tenant("310000000", "client-moved-instance").await;
    let m = env.submit(&t, "master", &dated(MASTER, "-MOVED1")).await;
    let m = env
        .settled(&t, m["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(m["state"], "accepted", "{m}");
    assert!(m["mrn"].is_string(), "{m}");
    assert_eq!(env.posts_at_sim("masters"), 1);
    env.shutdown().await;
    // The tenant's profile, over a default instance profile.
    let sim_profile = moved.clone();
    let env = Env::start_custom(b, |s| s.profile(sim_profile), |c| c).await;
    let t = env.tenant("310000000", "client-moved-tenant").await;
    let text = format!("[endpoints]\n\"road.master.create\" = \"{MOVED}\"\n");
    env.set_validation(&t, json!({"contract_profile": text}))
        .await;
    let m = env.submit(&t, "master", &dated(MASTER, "-MOVED2")).await;
    let m = env
        .settled(&t, m["id"].as_str().unwrap(), Duration::from_secs(30))
        .await;
    assert_eq!(m["state"], "accepted", "{m}");
    assert_eq!(env.posts_at_sim("masters"), 1);
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
    advisory_sends_what_local_validation_rejects_and_toll_agrees,
    advisory_message_gets_its_mrn_with_the_local_warning_kept,
    strict_refuses_and_stores_nothing,
    off_sends_without_findings,
    tenant_profiles_are_checked_when_set,
    a_rule_at_warning_passes_in_strict_mode,
    a_profile_changed_elsewhere_reaches_the_workers_client,
    an_unreadable_validation_status_keeps_tolls_answer,
    profile_endpoints_reach_the_tenants_clients,
);

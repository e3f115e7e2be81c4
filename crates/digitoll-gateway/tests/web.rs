//! Router-level tests of the dashboard (`/ui`): every page and form through
//! `tower::ServiceExt::oneshot`, with a cookie jar, over a SQLite store in a
//! temp dir and the in-process simulator (workers running where a test needs
//! Toll's answers). Covers sign-in, sessions (expiry, sign-out, revoked key),
//! CSRF refusal, escaping, tenant isolation by URL, the transport form with
//! live checks, MRN and routing signal, ETA update, problems with retry and
//! cancel, tenant health, key rotation and API keys, the system page.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use digitoll_client::{ReconcileConfig, RetryConfig};
use digitoll_gateway::{
    GatewayConfig, GatewayState, RuntimeOptions, WorkerConfig, app, run_workers,
};
use digitoll_sim::{ClientRegistration, RunningSimulator, Simulator};
use digitoll_store::{
    ApiKeyScope, Environment, Failure, JobKind, MasterKey, MessageState, NewJob, NewMessage,
    NewTenant, Operation, Store, StoreOptions, Transition, ValidationMode,
};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tokio::sync::watch;
use tower::ServiceExt as _;

const ROAD: &str = "toll:movement/road/v2";
const ENTRY: &str = "toll:movement/entry";

struct Env {
    store: Store,
    sim: RunningSimulator,
    state: GatewayState,
    router: Router,
    admin_key: String,
    _stop: Option<watch::Sender<bool>>,
    _dir: tempfile::TempDir,
}

struct TenantInfo {
    id: String,
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
            name: "web-test".into(),
            lease: Duration::from_secs(30),
            batch: 4,
            idle_wait: Duration::from_millis(50),
            poll_first_delay: Duration::from_millis(50),
            poll_max_interval: Duration::from_millis(200),
            max_polls: 200,
            webhook_timeout: Duration::from_secs(5),
        },
        ..GatewayConfig::default()
    }
}

impl Env {
    async fn start(workers: bool) -> Self {
        let sim = Simulator::builder()
            .processing_delay(Duration::ZERO)
            .start()
            .await
            .expect("start simulator");
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("web.db").display());
        let store = Store::connect(&url, StoreOptions::new(MasterKey::from_bytes([7u8; 32])))
            .await
            .expect("store");
        let (_, admin) = store
            .create_api_key(ApiKeyScope::Admin, "web-tests")
            .await
            .expect("admin key");
        let state = GatewayState::new(
            store.clone(),
            config(&sim),
            Some(digitoll_gateway::prometheus()),
        );
        let stop = if workers {
            let (tx, rx) = watch::channel(false);
            tokio::spawn(run_workers(state.clone(), rx));
            Some(tx)
        } else {
            None
        };
        Self {
            router: app(state.clone()),
            store,
            sim,
            state,
            admin_key: admin.expose().to_owned(),
            _stop: stop,
            _dir: dir,
        }
    }

    /// A sim tenant with a generated key registered at the simulator.
    async fn tenant(&self, org: &str, name: &str) -> TenantInfo {
        let ctl = self.sim.control();
        ctl.register_organisation(org, name);
        let prepared = digitoll_gateway::keys::generate_key_pair().expect("key pair");
        let jwk = prepared.public_jwk.clone().expect("jwk");
        let client_id = format!("client-{org}");
        let t = self
            .store
            .create_tenant(NewTenant {
                org_number: org.into(),
                name: name.into(),
                environment: Environment::Sim,
                issuer_url: Some(self.sim.base_url().to_string()),
                client_id: client_id.clone(),
                key: prepared.key,
                scopes: vec![ROAD.into(), ENTRY.into()],
            })
            .await
            .expect("tenant");
        ctl.register_client(ClientRegistration::with_keys(
            client_id,
            org,
            [ROAD, ENTRY],
            vec![jwk],
        ));
        ctl.grant_scope(org, ROAD);
        ctl.grant_scope(org, ENTRY);
        let (_, key) = self
            .store
            .create_api_key(ApiKeyScope::Tenant(t.id), "web")
            .await
            .expect("api key");
        TenantInfo {
            id: t.id.to_string(),
            key: key.expose().to_owned(),
        }
    }

    fn browser(&self) -> Browser {
        Browser {
            router: self.router.clone(),
            cookies: HashMap::new(),
            csrf: String::new(),
        }
    }

    async fn signed_in(&self, key: &str) -> Browser {
        let mut b = self.browser();
        b.sign_in(key).await;
        b
    }

    /// A transport stored directly (no validation), for pages that show data.
    async fn stored_transport(&self, tenant: &str, body: Value) -> String {
        let sub = self
            .store
            .submit_message(NewMessage {
                tenant_id: tenant.parse().expect("tenant id"),
                api: "road".into(),
                kind: "transport".into(),
                operation: Operation::Create,
                document_number: body
                    .pointer("/activeBorderTransportMeans/identificationNumber")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                body,
                document_type: None,
                carrier_id: None,
                idempotency_key: None,
                local_findings: None,
                validation_mode: ValidationMode::Strict,
            })
            .await
            .expect("stored");
        sub.message.id.to_string()
    }
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Resp {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A cookie jar over the router.
struct Browser {
    router: Router,
    cookies: HashMap<String, String>,
    csrf: String,
}

fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    body.split(&marker)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Browser {
    async fn send(&mut self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.expect("router");
        for v in resp.headers().get_all(header::SET_COOKIE) {
            let line = v.to_str().expect("cookie").to_owned();
            let pair = line.split(';').next().expect("pair");
            let (k, val) = pair.split_once('=').expect("k=v");
            if val.is_empty() || line.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(t) = hidden(&body, "csrf") {
            self.csrf = t;
        }
        Resp {
            status,
            headers,
            body,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> Resp {
        let req = Request::get(path)
            .header(header::HOST, "gw.test")
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .expect("request");
        self.send(req).await
    }

    async fn post_raw(&mut self, path: &str, body: String, extra: &[(&str, &str)]) -> Resp {
        let mut req = Request::post(path)
            .header(header::HOST, "gw.test")
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::from(body)).expect("request"))
            .await
    }

    /// Posts `fields` with the page's CSRF token added.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut body = format!("csrf={}", enc(&self.csrf));
        for (k, v) in fields {
            body.push_str(&format!("&{}={}", enc(k), enc(v)));
        }
        self.post_raw(path, body, &[]).await
    }

    async fn sign_in(&mut self, key: &str) {
        let page = self.get("/ui/login").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let r = self
            .post("/ui/login", &[("api_key", key), ("next", "/ui/transports")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/ui/transports");
        let list = self.get("/ui/transports").await;
        assert_eq!(list.status, 200, "{}", list.body);
    }
}

fn transport_fields<'a>(
    plate: &'a str,
    driver: &'a str,
    office: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("form_id", "test-form"),
        ("plate", plate),
        ("nationality", "SE"),
        ("means", "31"),
        ("driver", driver),
        ("phone", "+46701234567"),
        ("carrier_name", "Nordic Road Freight AS"),
        ("carrier_id", "912345688"),
        ("street", ""),
        ("postcode", ""),
        ("city", ""),
        ("country", ""),
        ("email", ""),
        ("office", office),
        ("scheduled", "2030-12-02T07:30"),
        ("ref_level", "master"),
        ("ref_number", "CMR-WEB-1"),
        ("ref_type", "N730"),
    ]
}

async fn wait_for<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

// ------------------------------------------------------------------- tests

#[tokio::test]
async fn sign_in_sessions_and_sign_out() {
    let env = Env::start(false).await;
    let a = env.tenant("310000019", "Alfa Transport AS").await;
    let mut b = env.browser();

    // Unauthenticated pages redirect to the sign-in page with `next`.
    for path in [
        "/ui/transports",
        "/ui/transports/new",
        "/ui/problems",
        "/ui/tenants",
        "/ui/system",
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            r.location().starts_with("/ui/login?next="),
            "{path}: {}",
            r.location()
        );
    }
    assert_eq!(b.get("/").await.location(), "/ui");

    // The sign-in form: CSRF required, a wrong key is refused without echo.
    let page = b.get("/ui/login").await;
    assert!(page.body.contains("name=\"api_key\"") && page.body.contains("<label for=\"api_key\""));
    let no_token = b
        .post_raw("/ui/login", format!("api_key={}", enc(&a.key)), &[])
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let wrong = b.post("/ui/login", &[("api_key", "dtk_not_a_key")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("id=\"login-error\""));
    assert!(!wrong.body.contains("dtk_not_a_key"));

    // Success: the cookie is Secure, HttpOnly, SameSite and holds no key.
    b.get("/ui/login").await;
    let ok = b.post("/ui/login", &[("api_key", &a.key)]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let set = ok
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .find(|c| c.starts_with("dt_session="))
        .expect("session cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains(&a.key) && !set.contains("dtk_"));
    let list = b.get("/ui/transports").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Alfa Transport AS"));
    // Pages carry a strict CSP and are not cached.
    let csp = list.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap_or("");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(list.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(list.headers[header::X_FRAME_OPTIONS], "DENY");

    // Sign-out needs the token, then ends the session for good.
    let stale_cookie = b.cookies.get("dt_session").cloned().expect("cookie");
    let refused = b.post_raw("/ui/logout", String::new(), &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let out = b.post("/ui/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key("dt_session"));
    b.cookies.insert("dt_session".into(), stale_cookie);
    let after = b.get("/ui/transports").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location().contains("expired=1"));

    // Idle expiry.
    let mut c = env.signed_in(&a.key).await;
    env.state
        .web()
        .set_session_timeouts(Duration::ZERO, Duration::from_secs(3600));
    let expired = c.get("/ui/transports").await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert!(expired.location().contains("expired=1"));
    let login = c.get(expired.location()).await;
    assert!(login.body.contains("Økten er utløpt") || login.body.contains("session has ended"));
    env.state
        .web()
        .set_session_timeouts(Duration::from_secs(1800), Duration::from_secs(3600));

    // htmx requests get HX-Redirect instead of a page.
    let req = Request::get("/ui/transports")
        .header("hx-request", "true")
        .body(Body::empty())
        .expect("req");
    let r = c.send(req).await;
    assert!(r.headers.contains_key("hx-redirect"));

    // A revoked key ends its sessions at once.
    let mut d = env.signed_in(&a.key).await;
    let tenant_id = a.id.parse().expect("id");
    let key_id = env
        .store
        .api_keys(ApiKeyScope::Tenant(tenant_id))
        .await
        .expect("keys")[0]
        .id;
    env.store
        .revoke_api_key(ApiKeyScope::Tenant(tenant_id), key_id)
        .await
        .expect("revoke");
    env.state.auth().clear();
    assert_eq!(d.get("/ui/transports").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn language_switch_and_assets() {
    let env = Env::start(false).await;
    let a = env.tenant("310000027", "Beta AS").await;
    let mut b = env.signed_in(&a.key).await;
    let nb = b.get("/ui/transports").await;
    assert!(nb.body.contains("lang=\"nb\"") && nb.body.contains("Transporter"));
    let r = b.get("/ui/lang/en?back=%2Fui%2Fproblems").await;
    assert_eq!(r.location(), "/ui/problems");
    let en = b.get("/ui/transports").await;
    assert!(en.body.contains("lang=\"en\"") && en.body.contains("New transport"));
    // No open redirect through `back`.
    let evil = b
        .get("/ui/lang/nb?back=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(evil.location(), "/ui/transports");
    assert_eq!(b.get("/ui/lang/xx").await.status, StatusCode::NOT_FOUND);

    let js = b.get("/ui/assets/htmx.min.js").await;
    assert_eq!(js.status, 200);
    assert!(
        js.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/javascript")
    );
    assert!(js.body.contains("htmx"));
    let css = b.get("/ui/assets/app.css").await;
    assert!(
        css.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/css")
    );
    assert_eq!(
        b.get("/ui/assets/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/ui/assets/nothing.js").await.status,
        StatusCode::NOT_FOUND
    );
    // Nothing is loaded from another origin.
    for page in [nb.body, en.body] {
        assert!(
            !page.contains("https://") && !page.contains("//cdn"),
            "external reference"
        );
    }
}

#[tokio::test]
async fn every_post_refuses_a_missing_or_wrong_token_and_cross_site_origin() {
    let env = Env::start(false).await;
    let a = env.tenant("310000035", "Gamma AS").await;
    let id = env
        .stored_transport(
            &a.id,
            json!({"activeBorderTransportMeans": {"identificationNumber": "CSRF1"}}),
        )
        .await;
    let mut admin = env.signed_in(&env.admin_key).await;
    let posts = [
        "/ui/logout".to_owned(),
        "/ui/transports".to_owned(),
        "/ui/transports/check".to_owned(),
        format!("/ui/transports/{id}/eta"),
        format!("/ui/messages/{id}/update"),
        format!("/ui/messages/{id}/delete"),
        "/ui/jobs/1/retry".to_owned(),
        "/ui/jobs/1/cancel".to_owned(),
        format!("/ui/tenants/{}/check", a.id),
        format!("/ui/tenants/{}/rotate-key", a.id),
        format!("/ui/tenants/{}/api-keys", a.id),
        format!(
            "/ui/tenants/{}/api-keys/{}/revoke",
            a.id,
            uuid::Uuid::new_v4()
        ),
    ];
    let good = admin.csrf.clone();
    for path in &posts {
        let none = admin.post_raw(path, "plate=X".into(), &[]).await;
        assert_eq!(none.status, StatusCode::FORBIDDEN, "{path} without token");
        assert!(none.body.contains("annet nettsted") || none.body.contains("another site"));
        let wrong = admin
            .post_raw(
                path,
                "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
                &[],
            )
            .await;
        assert_eq!(
            wrong.status,
            StatusCode::FORBIDDEN,
            "{path} with a wrong token"
        );
        let cross = admin
            .post_raw(
                path,
                format!("csrf={}", enc(&good)),
                &[("origin", "https://evil.example")],
            )
            .await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN, "{path} cross-site");
        admin.csrf = good.clone();
    }
    // Nothing was changed: the tenant still has its one key and no new message.
    let keys = env
        .store
        .api_keys(ApiKeyScope::Tenant(a.id.parse().expect("id")))
        .await
        .expect("keys");
    assert_eq!(keys.len(), 1);
    assert!(keys[0].revoked_at.is_none());
    // The header form (htmx) is accepted.
    let ok = admin
        .post_raw(
            "/ui/transports/check",
            format!("tenant={}", a.id),
            &[("x-csrf-token", good.as_str())],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.body.contains("hx-swap-oob"));
}

#[tokio::test]
async fn shown_text_is_escaped() {
    let env = Env::start(false).await;
    let a = env.tenant("310000043", "Delta <b>AS</b>").await;
    let evil = "<script>alert('x')</script>";
    let id = env
        .stored_transport(
            &a.id,
            json!({
                "activeBorderTransportMeans": {"identificationNumber": evil, "operator": {"name": evil}},
                "customsOfficeOfFirstEntry": {"referenceNumber": evil},
                "consignmentMasterLevel": [{"transportDocumentMasterLevel": {"documentNumber": evil, "type": "N730"}}]
            }),
        )
        .await;
    let mid: digitoll_store::MessageId = id.parse().expect("id");
    env.store
        .transition(
            a.id.parse().expect("tenant"),
            mid,
            Transition::to(MessageState::Rejected)
                .validation_errors(json!({"validationErrors": [{"field": evil, "error": evil}]}))
                .detail(evil),
        )
        .await
        .expect("reject");
    let mut b = env.signed_in(&a.key).await;
    for path in [
        "/ui/transports".to_owned(),
        format!("/ui/transports/{id}"),
        format!("/ui/messages/{id}"),
        "/ui/problems".to_owned(),
    ] {
        let r = b.get(&path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(!r.body.contains("<script>alert"), "{path} shows raw script");
        assert!(
            !r.body.contains("<b>AS</b>"),
            "{path} shows raw tenant name"
        );
        assert!(
            r.body
                .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
                || r.body.contains("&#60;script&#62;"),
            "{path} does not show the text escaped"
        );
    }
    // Form values are echoed escaped too.
    b.get("/ui/transports/new").await;
    let mut fields = transport_fields(evil, evil, "NO371001");
    fields.push(("op", "add_ref"));
    let r = b.post("/ui/transports", &fields).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<script>alert"));
    assert!(
        r.body.contains("value=\"&#60;script&#62;") || r.body.contains("value=\"&lt;script&gt;"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn tenant_isolation_by_url() {
    let env = Env::start(false).await;
    let a = env.tenant("310000051", "Epsilon AS").await;
    let b_t = env.tenant("310000078", "Zeta AS").await;
    let id = env
        .stored_transport(
            &a.id,
            json!({"activeBorderTransportMeans": {"identificationNumber": "SECRETPLATE"}}),
        )
        .await;
    let mut a_b = env.signed_in(&a.key).await;
    assert_eq!(a_b.get(&format!("/ui/messages/{id}")).await.status, 200);
    assert_eq!(a_b.get(&format!("/ui/transports/{id}")).await.status, 200);

    let mut other = env.signed_in(&b_t.key).await;
    for path in [
        format!("/ui/messages/{id}"),
        format!("/ui/transports/{id}"),
        format!("/ui/transports/{id}/live"),
        "/ui/messages/not-a-uuid".to_owned(),
    ] {
        let r = other.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            !r.body.contains("SECRETPLATE") && !r.body.contains("Epsilon"),
            "{path} leaks"
        );
    }
    for path in [
        format!("/ui/messages/{id}/update"),
        format!("/ui/messages/{id}/delete"),
        format!("/ui/transports/{id}/eta"),
    ] {
        let r = other
            .post(
                &path,
                &[
                    ("body", "{}"),
                    ("confirm", "yes"),
                    ("eta", "2030-01-01T10:00"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let list = other.get("/ui/transports").await;
    assert!(!list.body.contains("SECRETPLATE"));
    let filtered = other.get(&format!("/ui/transports?tenant={}", a.id)).await;
    assert!(!filtered.body.contains("SECRETPLATE"));
    // Operator pages are closed to tenants.
    for path in [
        "/ui/tenants".to_owned(),
        format!("/ui/tenants/{}", a.id),
        "/ui/system".to_owned(),
        "/ui/system/live".to_owned(),
    ] {
        assert_eq!(
            other.get(&path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        other
            .post(&format!("/ui/tenants/{}/api-keys", a.id), &[("label", "x")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // A job of tenant A cannot be retried by B.
    let job = env
        .store
        .enqueue(NewJob {
            tenant_id: a.id.parse().expect("id"),
            message_id: None,
            kind: JobKind::Reconcile,
            payload: None,
            delay: None,
            max_attempts: Some(1),
        })
        .await
        .expect("job");
    let claimed = env
        .store
        .claim("t", 10, Duration::from_secs(30))
        .await
        .expect("claim");
    let j = claimed.into_iter().find(|j| j.id == job).expect("claimed");
    env.store
        .fail(
            &j,
            Failure::Fatal {
                error: "boom".into(),
            },
        )
        .await
        .expect("fail");
    let r = other.post(&format!("/ui/jobs/{job}/retry"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!other.get("/ui/problems").await.body.contains("boom"));
    // The operator sees both tenants' data.
    let mut admin = env.signed_in(&env.admin_key).await;
    let all = admin.get("/ui/transports").await;
    assert!(all.body.contains("SECRETPLATE") && all.body.contains("Epsilon AS"));
    assert_eq!(admin.get(&format!("/ui/messages/{id}")).await.status, 200);
}

#[tokio::test]
async fn transport_form_checks_live_then_submits_and_follows_mrn_routing_and_eta() {
    let env = Env::start(true).await;
    let a = env.tenant("310000086", "Eta Frakt AS").await;
    let mut b = env.signed_in(&a.key).await;

    // The empty form: labelled fields, code lists, carrier from the tenant.
    let form = b.get("/ui/transports/new").await;
    assert_eq!(form.status, 200);
    for id in [
        "plate",
        "nationality",
        "driver",
        "phone",
        "office",
        "scheduled",
        "carrier_name",
    ] {
        assert!(
            form.body.contains(&format!("<label for=\"{id}\"")),
            "label for {id}"
        );
        assert!(
            form.body.contains(&format!("id=\"err-{id}\"")),
            "error slot for {id}"
        );
    }
    assert!(
        form.body
            .contains("<option value=\"NO371001\">NO371001</option>"),
        "CL141 offices"
    );
    assert!(
        form.body.contains("value=\"310000086\""),
        "carrier id prefilled"
    );
    let form_id = hidden(&form.body, "form_id").expect("form id");

    // Add and remove rows without JavaScript.
    let mut fields = transport_fields("AB12345", "Lars Andersson", "NO371001");
    fields.push(("op", "add_ref"));
    let added = b.post("/ui/transports", &fields).await;
    assert_eq!(added.status, 200);
    assert!(added.body.contains("id=\"ref_number_1\""));
    fields.pop();

    // Live check: errors come back as out-of-band fragments at their fields.
    let mut bad = transport_fields("", "Lars Andersson", "NO000000");
    bad.push(("ref_level", "house"));
    bad.push(("ref_number", "H-1"));
    bad.push(("ref_type", "XXXX"));
    let check = b.post("/ui/transports/check", &bad).await;
    assert_eq!(check.status, 200);
    let plate_err = check
        .body
        .split("id=\"err-plate\"")
        .nth(1)
        .expect("plate slot");
    assert!(
        plate_err
            .split("</div>")
            .next()
            .unwrap_or("")
            .contains("Feltet må fylles ut"),
        "{}",
        check.body
    );
    let office_err = check
        .body
        .split("id=\"err-office\"")
        .nth(1)
        .expect("office slot");
    assert!(
        office_err
            .split("</div>")
            .next()
            .unwrap_or("")
            .contains("CL141"),
        "{}",
        check.body
    );
    let row_err = check
        .body
        .split("id=\"err-ref-1\"")
        .nth(1)
        .expect("row slot");
    assert!(
        row_err
            .split("</div>")
            .next()
            .unwrap_or("")
            .contains("consignmentMasterLevel[1]"),
        "{}",
        check.body
    );
    let good = b.post("/ui/transports/check", &fields).await;
    assert!(good.body.contains("id=\"form-ok\""), "{}", good.body);

    // Submitting an invalid form stores nothing and shows the errors.
    let refused = b.post("/ui/transports", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let tenant_id = a.id.parse().expect("id");
    assert!(
        env.store
            .messages(tenant_id, Default::default())
            .await
            .expect("list")
            .is_empty()
    );

    // A valid form is stored and queued; the page follows it to an MRN.
    let mut fields = transport_fields("AB12345", "Lars Andersson", "NO371001");
    fields[0] = ("form_id", form_id.as_str());
    let created = b.post("/ui/transports", &fields).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page_path = created.location().to_owned();
    assert!(page_path.starts_with("/ui/transports/"));
    // A double submit (same form id) is the same message.
    let again = b.post("/ui/transports", &fields).await;
    assert_eq!(again.location(), page_path);
    let page = b.get(&page_path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("AB12345") && page.body.contains("CMR-WEB-1"));
    assert!(page.body.contains("hx-get=\"/ui/transports/") && page.body.contains("every 2s"));
    let live_path = format!("{page_path}/live");
    let mut mrn = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while mrn.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for the MRN"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let live = b.get(&live_path).await;
        mrn = live
            .body
            .split("id=\"mrn\">")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap_or("")
            .to_owned();
    }
    let id = page_path.trim_start_matches("/ui/transports/").to_owned();
    let stored = env
        .store
        .message(tenant_id, id.parse().expect("id"))
        .await
        .expect("message");
    assert_eq!(stored.state, MessageState::Accepted);
    assert_eq!(stored.mrn.as_deref(), Some(mrn.as_str()));
    let live = b.get(&live_path).await;
    assert!(
        live.body.contains("id=\"tree\"") && live.body.contains("CMR-WEB-1"),
        "{}",
        live.body
    );
    assert!(
        live.body.contains("Ikke mottatt av Tollen"),
        "missing master shown: {}",
        live.body
    );
    assert!(live.body.contains("id=\"routing-none\""));

    // The border crossing: routing signal and entry status appear.
    env.sim.control().simulate_arrival(&mrn, "NO371001");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for the routing signal"
        );
        if b.get(&live_path).await.body.contains("data-signal=\"TO_") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let live = b.get(&live_path).await;
    assert!(live.body.contains("id=\"entry\""), "{}", live.body);
    let signals = env
        .store
        .routing_signals(tenant_id, Some(&mrn), 10)
        .await
        .expect("signals");
    assert!(!signals.is_empty(), "routing signal stored");

    // Update the estimated arrival (PUT by MRN), followed to accepted.
    let page = b.get(&page_path).await;
    assert!(page.body.contains("id=\"eta\""));
    let r = b
        .post(&format!("{page_path}/eta"), &[("eta", "2030-12-02T09:15")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    wait_for("the update accepted", || {
        let s = env.store.clone();
        async move {
            s.messages(tenant_id, Default::default())
                .await
                .expect("list")
                .iter()
                .any(|m| m.operation == Operation::Update && m.state == MessageState::Accepted)
        }
    })
    .await;
    let page = b.get(&page_path).await;
    assert!(page.body.contains("2030-12-02 09:15"), "new ETA shown");
    assert!(page.body.contains("id=\"changes\""));

    // The message page: history, attempts, raw request with the token redacted.
    let msg = b.get(&format!("/ui/messages/{id}")).await;
    assert_eq!(msg.status, 200);
    for part in [
        "id=\"history\"",
        "id=\"attempts\"",
        "Authorization: Bearer [redacted]",
        "AB12345",
        "update-body",
        "delete-body",
    ] {
        assert!(msg.body.contains(part), "{part}");
    }
    // Delete needs the confirmation, then queues a cancellation.
    let no = b
        .post(
            &format!("/ui/messages/{id}/delete"),
            &[("body", &hidden_text(&msg.body, "delete-body"))],
        )
        .await;
    assert_eq!(no.status, StatusCode::BAD_REQUEST);
    let del = b
        .post(
            &format!("/ui/messages/{id}/delete"),
            &[
                ("body", &hidden_text(&msg.body, "delete-body")),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(del.status, StatusCode::SEE_OTHER, "{}", del.body);
    assert!(del.location().contains("queued=1"));
    let queued = b.get(del.location()).await;
    assert!(queued.body.contains("delete") && queued.body.contains("role=\"status\""));
    // Update with invalid JSON is a 400 naming the problem.
    let bad_json = b
        .post(&format!("/ui/messages/{id}/update"), &[("body", "{nope")])
        .await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    assert!(bad_json.body.contains("not valid JSON"));

    // Filters.
    let hit = b
        .get("/ui/transports?plate=ab123&office=NO371001&state=accepted&date=2030-12-02")
        .await;
    assert!(hit.body.contains("AB12345"), "{}", hit.body);
    let miss = b.get("/ui/transports?office=NO321002").await;
    assert!(!miss.body.contains("AB12345"));
    let miss = b.get("/ui/transports?date=2031-01-01").await;
    assert!(!miss.body.contains("AB12345"));
}

/// The text of a textarea by id (unescaped enough for JSON bodies).
fn hidden_text(body: &str, id: &str) -> String {
    let start = body
        .split(&format!("id=\"{id}\""))
        .nth(1)
        .expect("textarea");
    let text = start.split_once('>').expect("tag end").1;
    let text = text.split("</textarea>").next().expect("textarea end");
    text.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn problems_tenants_and_system_pages() {
    let env = Env::start(false).await;
    let a = env.tenant("310000094", "Theta AS").await;
    let tenant_id: digitoll_store::TenantId = a.id.parse().expect("id");
    // A rejected message with Toll's errors.
    let id = env
        .stored_transport(
            &a.id,
            json!({"activeBorderTransportMeans": {"identificationNumber": "REJ1"}}),
        )
        .await;
    env.store
        .transition(
            tenant_id,
            id.parse().expect("id"),
            Transition::to(MessageState::Rejected).validation_errors(json!({
                "validationErrorList": [{"description": "Must be a valid customs office",
                    "pointer": {"messageElementPath": "customsOfficeOfFirstEntry.referenceNumber"}}]
            })),
        )
        .await
        .expect("reject");
    // Two dead jobs.
    for _ in 0..2 {
        env.store
            .enqueue(NewJob {
                tenant_id,
                message_id: None,
                kind: JobKind::Reconcile,
                payload: None,
                delay: None,
                max_attempts: Some(1),
            })
            .await
            .expect("job");
    }
    for j in env
        .store
        .claim("t", 10, Duration::from_secs(30))
        .await
        .expect("claim")
    {
        env.store
            .fail(
                &j,
                Failure::Fatal {
                    error: "Toll said no".into(),
                },
            )
            .await
            .expect("fail");
    }
    let mut b = env.signed_in(&a.key).await;
    let p = b.get("/ui/problems").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("REJ1") && p.body.contains("Toll said no"));
    let msg = b.get(&format!("/ui/messages/{id}")).await;
    assert!(msg.body.contains("id=\"errors\""));
    assert!(
        msg.body
            .contains("customsOfficeOfFirstEntry.referenceNumber")
    );
    assert!(
        msg.body.contains("Ikke et tollsted i Tollens liste"),
        "plain explanation"
    );
    let dead: Vec<_> = env
        .store
        .dead_jobs(Some(tenant_id), 10)
        .await
        .expect("dead")
        .into_iter()
        .filter(|j| j.kind == JobKind::Reconcile)
        .collect();
    assert_eq!(dead.len(), 2);
    let r = b.post(&format!("/ui/jobs/{}/retry", dead[0].id), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    b.get("/ui/problems").await;
    let r = b
        .post(&format!("/ui/jobs/{}/cancel", dead[1].id), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        !env.store
            .dead_jobs(Some(tenant_id), 10)
            .await
            .expect("dead")
            .iter()
            .any(|j| j.kind == JobKind::Reconcile),
        "retried and cancelled jobs are no longer dead"
    );

    // Operator: tenants, health checks (the doctor against the simulator).
    let mut admin = env.signed_in(&env.admin_key).await;
    let list = admin.get("/ui/tenants").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Theta AS") && list.body.contains("Ikke sjekket"));
    let page = admin.get(&format!("/ui/tenants/{}", a.id)).await;
    assert_eq!(page.status, 200);
    let r = admin
        .post(&format!("/ui/tenants/{}/check", a.id), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = admin.get(&format!("/ui/tenants/{}", a.id)).await;
    assert!(page.body.contains("id=\"checks\""), "{}", page.body);
    assert!(
        page.body.contains("s-pass"),
        "some checks pass: {}",
        page.body
    );
    let last_token = page
        .body
        .split("id=\"last-token\">")
        .nth(1)
        .expect("last token");
    assert!(!last_token.starts_with('–'), "a token was fetched");
    // A new API key is shown once and works for sign-in; revoking it works.
    let created = admin
        .post(
            &format!("/ui/tenants/{}/api-keys", a.id),
            &[("label", "driver-phone")],
        )
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
    let key = created
        .body
        .split("id=\"new-key\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("new key")
        .to_owned();
    assert!(key.starts_with("dtk_"));
    env.signed_in(&key).await;
    let again = admin.get(&format!("/ui/tenants/{}", a.id)).await;
    assert!(!again.body.contains(&key), "the key is shown only once");
    let keys = env
        .store
        .api_keys(ApiKeyScope::Tenant(tenant_id))
        .await
        .expect("keys");
    let new_id = keys
        .iter()
        .find(|k| k.label == "driver-phone")
        .expect("key")
        .id;
    let r = admin
        .post(
            &format!("/ui/tenants/{}/api-keys/{new_id}/revoke", a.id),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut revoked = env.browser();
    revoked.get("/ui/login").await;
    assert_eq!(
        revoked.post("/ui/login", &[("api_key", &key)]).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Key rotation shows the public JWK (no private parts).
    let rotated = admin
        .post(&format!("/ui/tenants/{}/rotate-key", a.id), &[])
        .await;
    assert_eq!(rotated.status, 200);
    let jwk = rotated.body.split("id=\"new-jwk\">").nth(1).expect("jwk");
    assert!(
        jwk.contains("&#34;kty&#34;") || jwk.contains("\"kty\""),
        "{jwk}"
    );
    assert!(
        !jwk.split("</pre>")
            .next()
            .unwrap_or("")
            .contains("&#34;d&#34;")
    );
    let audit = env
        .store
        .audit_log(Some(tenant_id), 20)
        .await
        .expect("audit");
    for action in [
        "api_key.create",
        "api_key.revoke",
        "tenant.rotate_key",
        "job.retry",
        "job.cancel",
    ] {
        assert!(audit.iter().any(|e| e.action == action), "audit {action}");
    }

    // System: charts of the same figures as /metrics.
    let sys = admin.get("/ui/system").await;
    assert_eq!(sys.status, 200);
    assert!(
        sys.body.contains("class=\"charts\"") && sys.body.contains("hx-get=\"/ui/system/live\"")
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let live = admin.get("/ui/system/live").await;
    assert_eq!(live.status, 200);
    assert!(live.body.contains("<polyline"), "{}", live.body);
    // The operator's transport form asks for the tenant.
    let f = admin.get("/ui/transports/new").await;
    assert!(f.body.contains("id=\"tenant\"") && f.body.contains("Theta AS"));
    let mut fields = transport_fields("OP12345", "Driver", "NO371001");
    fields.push(("tenant", a.id.as_str()));
    let r = admin.post("/ui/transports", &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mine = b.get("/ui/transports").await;
    assert!(
        mine.body.contains("OP12345"),
        "the operator sent it for the tenant"
    );
}

#[tokio::test]
async fn tenant_validation_form_and_local_findings_beside_tolls_answer() {
    let env = Env::start(false).await;
    let a = env.tenant("310000094", "Iota AS").await;
    let tenant_id: digitoll_store::TenantId = a.id.parse().expect("id");
    let mut admin = env.signed_in(&env.admin_key).await;
    let page = admin.get(&format!("/ui/tenants/{}", a.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("id=\"validation-now\">strict<"),
        "{}",
        page.body
    );

    // A bad profile is refused with its line and column; nothing changes.
    let r = admin
        .post(
            &format!("/ui/tenants/{}/validation", a.id),
            &[
                ("mode", "advisory"),
                ("profile", "[rules]\n\"no.such.rule\" = \"off\""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"profile-error\""), "{}", r.body);
    assert!(r.body.contains("contract_profile:2:1: "), "{}", r.body);
    let t = env.store.tenant(tenant_id).await.expect("tenant");
    assert_eq!(t.validation_mode, ValidationMode::Strict);
    assert_eq!(t.contract_profile, None);

    let profile = "[rules]\n\"place.unlocode.format\" = \"warning\"";
    let r = admin
        .post(
            &format!("/ui/tenants/{}/validation", a.id),
            &[("mode", "advisory"), ("profile", profile)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let t = env.store.tenant(tenant_id).await.expect("tenant");
    assert_eq!(t.validation_mode, ValidationMode::Advisory);
    assert_eq!(t.contract_profile.as_deref().map(str::trim), Some(profile));
    let page = admin.get(&format!("/ui/tenants/{}", a.id)).await;
    assert!(page.body.contains("id=\"validation-now\">advisory<"));
    assert!(
        page.body.contains("place.unlocode.format"),
        "the profile is shown"
    );

    // A message our rule flagged, then refused by Toll at the same field.
    let path = "customsOfficeOfFirstEntry.referenceNumber";
    let sub = env
        .store
        .submit_message(NewMessage {
            tenant_id,
            api: "road".into(),
            kind: "transport".into(),
            operation: Operation::Create,
            document_number: Some("ADV1".into()),
            body: json!({"activeBorderTransportMeans": {"identificationNumber": "ADV1"}}),
            document_type: None,
            carrier_id: None,
            idempotency_key: None,
            local_findings: Some(json!([{"rule": "codelist.cl141", "path": path,
                "message": "Must be a valid customs office", "severity": "error", "channel": "business"}])),
            validation_mode: ValidationMode::Advisory,
        })
        .await
        .expect("stored");
    env.store
        .transition(
            tenant_id,
            sub.message.id,
            Transition::to(MessageState::Rejected).validation_errors(json!({
                "validationErrorList": [{"description": "Ugyldig tollsted",
                    "pointer": {"messageElementPath": path}}]
            })),
        )
        .await
        .expect("reject");
    let mut b = env.signed_in(&a.key).await;
    let msg = b.get(&format!("/ui/messages/{}", sub.message.id)).await;
    assert_eq!(msg.status, 200, "{}", msg.body);
    assert!(msg.body.contains("id=\"local-findings\""), "{}", msg.body);
    assert!(
        msg.body.contains(
            "Vår regel codelist.cl141 sa: Must be a valid customs office. Tollen svarte: avvist, i samme felt: Ugyldig tollsted."
        ),
        "{}",
        msg.body
    );
    assert!(
        msg.body.contains("id=\"errors\""),
        "Toll's answer beside it"
    );
}
